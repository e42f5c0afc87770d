// Fuzzes the Swift name and metadata limits (object/engine/names.h) and the Python-compatible text
// writers (object/engine/json_text.h). An accepted name satisfies every limit; a refused one is a
// client error; json_ascii writes printable ASCII that a JSON parser reads back as the input.
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/http/target.h"
#include "fuzz_check.h"
#include "object/engine/json_text.h"
#include "object/engine/names.h"

namespace {

namespace obj = ciel::object;

void check_rejection(const ciel::Status& st) {
  if (st) { return; }
  FUZZ_CHECK(st.error().code == ciel::Errc::invalid_argument);
  FUZZ_CHECK(!st.error().message.empty());
}

bool has_dot_segment(std::string_view s) {
  std::size_t start = 0;
  for (;;) {
    std::size_t end = s.find('/', start);
    std::string_view seg = s.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    if (seg == "." || seg == "..") { return true; }
    if (end == std::string_view::npos) { return false; }
    start = end + 1;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  bool utf8 = ciel::http::valid_utf8(text) && text.find('\0') == std::string_view::npos;

  auto container = obj::check_container_name(text);
  check_rejection(container);
  FUZZ_CHECK(bool(container) == (utf8 && !text.empty() && text.size() <= obj::kMaxContainerNameBytes &&
                                 text.find('/') == std::string_view::npos && text != "." && text != ".."));
  auto object = obj::check_object_name(text);
  check_rejection(object);
  FUZZ_CHECK(bool(object) == (utf8 && !text.empty() && text.size() <= obj::kMaxObjectNameBytes && !has_dot_segment(text)));

  // Metadata: the input split into name=value lines.
  std::vector<std::pair<std::string, std::string>> meta;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    std::string_view line = text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    std::size_t eq = line.find('=');
    meta.emplace_back(std::string(line.substr(0, eq)), eq == std::string_view::npos ? std::string() : std::string(line.substr(eq + 1)));
    if (end == std::string_view::npos) { break; }
    start = end + 1;
  }
  for (auto target : {obj::MetadataTarget::account, obj::MetadataTarget::container, obj::MetadataTarget::object}) {
    auto st = obj::check_metadata(target, meta);
    check_rejection(st);
    if (st) {
      std::size_t total = 0;
      for (const auto& [k, v] : meta) {
        FUZZ_CHECK(!k.empty() && k.size() <= obj::kMaxMetaNameBytes && v.size() <= obj::kMaxMetaValueBytes);
        total += k.size() + v.size();
      }
      FUZZ_CHECK(meta.size() <= obj::kMaxMetaCount && total <= obj::kMaxMetaOverallBytes);
    }
  }

  std::string quoted = obj::json_ascii(text);
  for (char c : quoted) { FUZZ_CHECK(c >= 0x20 && c < 0x7f); }
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(quoted, ec);
  FUZZ_CHECK(!ec && v.is_string());
  if (ciel::http::valid_utf8(text)) { FUZZ_CHECK(std::string_view(v.as_string()) == text); }
  std::string repr = obj::py_repr(text);
  FUZZ_CHECK(repr.size() >= 2 && (repr.front() == '\'' || repr.front() == '"') && repr.back() == repr.front());
  return 0;
}
