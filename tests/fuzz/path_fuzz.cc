// Fuzzes the request-target parser every request goes through before routing (core/http/target.h).
// Invariants on success: the path starts with '/', holds no NUL, CR or LF, no "." or ".." segment,
// is valid UTF-8 and is no longer than the limit. Also: percent_encode/percent_decode round-trip.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/http/target.h"
#include "fuzz_check.h"

namespace {

bool has_dot_segment(std::string_view p) {
  std::size_t start = 0;
  for (;;) {
    std::size_t end = p.find('/', start);
    std::string_view seg = p.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    if (seg == "." || seg == "..") { return true; }
    if (end == std::string_view::npos) { return false; }
    start = end + 1;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  constexpr std::size_t kLimit = 512;  // small, so the too-long branch is reachable
  auto t = ciel::http::parse_target(input, kLimit);
  if (t) {
    const std::string& p = t->path;
    FUZZ_CHECK(!p.empty() && p.front() == '/');
    FUZZ_CHECK(p.find('\0') == std::string::npos);
    FUZZ_CHECK(p.find('\r') == std::string::npos && p.find('\n') == std::string::npos);
    FUZZ_CHECK(!has_dot_segment(p));
    FUZZ_CHECK(ciel::http::valid_utf8(p));
    FUZZ_CHECK(p.size() <= kLimit);
    FUZZ_CHECK(t->query.find('#') == std::string::npos);
    // The decoded path is exactly what the raw path says.
    auto again = ciel::http::percent_decode(t->raw_path);
    FUZZ_CHECK(again && *again == p);
  } else {
    FUZZ_CHECK(t.error().code == ciel::Errc::invalid_argument || t.error().code == ciel::Errc::too_large);
  }
  // Encoding then decoding gives back any byte string, whatever `keep` holds.
  std::string_view keep = input.substr(0, std::min<std::size_t>(input.size(), 4));
  auto back = ciel::http::percent_decode(ciel::http::percent_encode(input, keep));
  FUZZ_CHECK(back && *back == input);
  (void)ciel::http::parse_query(input);
  return 0;
}
