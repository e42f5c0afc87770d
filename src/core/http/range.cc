#include "core/http/range.h"

#include <charconv>

namespace ciel::http {
namespace {
std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) { s.remove_prefix(1); }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) { s.remove_suffix(1); }
  return s;
}
bool parse_u64(std::string_view s, std::uint64_t& out) {
  if (s.empty()) { return false; }
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && p == s.data() + s.size();
}
std::string_view unquote(std::string_view s) {
  s = trim(s);
  if (s.starts_with("W/")) { s.remove_prefix(2); }
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') { s = s.substr(1, s.size() - 2); }
  return s;
}
}  // namespace

std::string ByteRange::content_range(std::uint64_t total) const {
  return "bytes " + std::to_string(first) + "-" + std::to_string(first + length - 1) + "/" + std::to_string(total);
}

Result<std::optional<ByteRange>> parse_range(std::string_view header, std::uint64_t size) {
  header = trim(header);
  if (header.empty() || !header.starts_with("bytes=")) { return std::optional<ByteRange>{}; }
  std::string_view spec = trim(header.substr(6));
  if (spec.find(',') != std::string_view::npos) { return std::optional<ByteRange>{}; }
  std::size_t dash = spec.find('-');
  if (dash == std::string_view::npos) { return std::optional<ByteRange>{}; }
  std::string_view a = trim(spec.substr(0, dash));
  std::string_view b = trim(spec.substr(dash + 1));
  std::uint64_t first = 0;
  std::uint64_t last = 0;
  if (a.empty()) {  // suffix range: the last N bytes
    std::uint64_t n = 0;
    if (!parse_u64(b, n)) { return std::optional<ByteRange>{}; }
    if (n == 0 || size == 0) { return make_error(Errc::precondition_failed, "range not satisfiable"); }
    n = std::min(n, size);
    return std::optional<ByteRange>{ByteRange{size - n, n}};
  }
  if (!parse_u64(a, first)) { return std::optional<ByteRange>{}; }
  if (b.empty()) {
    last = size == 0 ? 0 : size - 1;
  } else if (!parse_u64(b, last) || last < first) {
    return std::optional<ByteRange>{};
  }
  if (first >= size) { return make_error(Errc::precondition_failed, "range not satisfiable"); }
  last = std::min(last, size - 1);
  return std::optional<ByteRange>{ByteRange{first, last - first + 1}};
}

Result<std::vector<ByteRange>> parse_ranges(std::string_view header, std::uint64_t size) {
  header = trim(header);
  std::vector<ByteRange> out;
  if (!header.starts_with("bytes=")) { return out; }
  std::string_view specs = header.substr(6);
  bool any_unsatisfiable = false;
  while (true) {
    std::size_t comma = specs.find(',');
    std::string_view spec = trim(specs.substr(0, comma));
    if (spec.empty() || spec.find('-') == std::string_view::npos) { return std::vector<ByteRange>{}; }
    auto r = parse_range("bytes=" + std::string(spec), size);
    if (!r) {
      any_unsatisfiable = true;
    } else if (!*r) {
      return std::vector<ByteRange>{};  // malformed: ignore the whole header
    } else {
      out.push_back(**r);
    }
    if (comma == std::string_view::npos) { break; }
    specs.remove_prefix(comma + 1);
    if (out.size() > 100) { return std::vector<ByteRange>{}; }  // a hostile list: serve the whole body
  }
  if (out.empty() && any_unsatisfiable) { return make_error(Errc::precondition_failed, "range not satisfiable"); }
  return out;
}

bool etag_matches(std::string_view list, std::string_view etag) {
  std::string_view want = unquote(etag);
  while (!list.empty()) {
    std::size_t comma = list.find(',');
    std::string_view item = trim(list.substr(0, comma));
    if (item == "*") { return true; }
    if (unquote(item) == want) { return true; }
    if (comma == std::string_view::npos) { break; }
    list.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace ciel::http
