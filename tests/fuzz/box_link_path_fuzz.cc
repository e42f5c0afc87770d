// Fuzzes the path check of public links (box/tree/names.cc, normalize_link_path): an accepted path
// has no dot segment, separator or NUL hidden in any of its names, even after one more round of
// percent-decoding, never starts with '/', and checking it again gives it back unchanged; a refused
// one is a client error. Also: link tokens are 22 characters of [0-9A-Za-z].
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "box/box.h"
#include "fuzz_check.h"

namespace {

int hex(char c) {
  if (c >= '0' && c <= '9') { return c - '0'; }
  if (c >= 'a' && c <= 'f') { return c - 'a' + 10; }
  if (c >= 'A' && c <= 'F') { return c - 'A' + 10; }
  return -1;
}

// One more percent-decoding of `s` (well-formed escapes only), written independently of names.cc.
std::string decoded(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto p = ciel::box::normalize_link_path(text);
  if (!p) {
    FUZZ_CHECK(p.error().code == ciel::Errc::invalid_argument);
    FUZZ_CHECK(!p.error().message.empty());
  } else {
    const std::string& out = *p;
    FUZZ_CHECK(!out.starts_with('/'));
    FUZZ_CHECK(out.find('\0') == std::string::npos && out.find('\\') == std::string::npos);
    std::size_t start = 0;
    for (;;) {
      std::size_t end = out.find('/', start);
      std::string_view seg = std::string_view(out).substr(start, end == std::string::npos ? std::string::npos : end - start);
      if (!out.empty()) {
        FUZZ_CHECK(!seg.empty() && seg != "." && seg != "..");
        std::string again = decoded(seg);
        FUZZ_CHECK(again != "." && again != ".." && again.find('/') == std::string::npos && again.find('\\') == std::string::npos &&
                   again.find('\0') == std::string::npos);
      }
      if (end == std::string::npos) { break; }
      start = end + 1;
    }
    auto twice = ciel::box::normalize_link_path(out);
    FUZZ_CHECK(twice && *twice == out);
  }
  if (size > 0 && data[0] == 0) {
    std::string token = ciel::box::new_link_token();
    FUZZ_CHECK(token.size() == 22);
    for (char c : token) { FUZZ_CHECK((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')); }
  }
  return 0;
}
