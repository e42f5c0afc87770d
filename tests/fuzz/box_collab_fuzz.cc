// Fuzzes the request parsers of the box's collaboration calls: the REPORT bodies oc:filter-files
// and oc:filter-comments (box/dav/xml.h), the comment and tag JSON bodies and the unified search
// query (box/dav/collab_parse.h). The first byte picks the parser, the rest is the input (for the
// search query: term, limit and cursor separated by newlines). Each parser either refuses with
// invalid_argument and a message, or returns what it documents:
//   - a filter-files request has at least one rule and at most 32 tags;
//   - a filter-comments page asks for at most 500 comments;
//   - a tag has a name that is not blank;
//   - a search has a term of 1 to 255 bytes without NUL, a limit of 1 to 100, a cursor >= 0.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "box/dav/collab_parse.h"
#include "box/dav/xml.h"
#include "fuzz_check.h"

namespace {

namespace dav = ciel::box::dav;
using ciel::Errc;

template <class T>
bool refused(const ciel::Result<T>& r) {
  if (r) { return false; }
  FUZZ_CHECK(r.error().code == Errc::invalid_argument);
  FUZZ_CHECK(!r.error().message.empty());
  return true;
}

std::optional<std::string_view> next_line(std::string_view& rest, bool& more) {
  if (!more) { return std::nullopt; }
  auto nl = rest.find('\n');
  std::string_view line = rest.substr(0, nl);
  if (nl == std::string_view::npos) {
    more = false;
    rest = {};
  } else {
    rest.remove_prefix(nl + 1);
  }
  return line;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) { return 0; }
  std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] % 5) {
    case 0: {
      auto r = dav::parse_filter_files(input);
      if (refused(r)) { break; }
      FUZZ_CHECK(r->favorite || !r->systemtags.empty());
      FUZZ_CHECK(r->systemtags.size() <= 32);
      for (auto id : r->systemtags) { FUZZ_CHECK(id >= 0); }
      break;
    }
    case 1: {
      auto r = dav::parse_filter_comments(input);
      if (refused(r)) { break; }
      FUZZ_CHECK(r->limit <= 500);
      break;
    }
    case 2: {
      auto r = dav::parse_comment_json(input);
      refused(r);
      break;
    }
    case 3: {
      auto r = dav::parse_tag_json(input);
      if (refused(r)) { break; }
      FUZZ_CHECK(r->name.find_first_not_of(" \t") != std::string::npos);
      break;
    }
    default: {
      std::string_view rest = input;
      bool more = true;
      auto term = next_line(rest, more);
      auto limit = next_line(rest, more);
      auto cursor = next_line(rest, more);
      auto r = dav::parse_search_query(term, limit, cursor);
      if (refused(r)) { break; }
      FUZZ_CHECK(!r->term.empty() && r->term.size() <= 255);
      FUZZ_CHECK(r->term.find('\0') == std::string::npos);
      FUZZ_CHECK(r->limit >= 1 && r->limit <= 100);
      FUZZ_CHECK(!r->cursor || *r->cursor >= 0);
    }
  }
  return 0;
}
