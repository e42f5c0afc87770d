// Fuzzes the Range and ETag helpers (core/http/range.h). The first 8 bytes pick the resource
// size; the rest is the header. A range that comes back must lie inside the resource.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "core/http/range.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::uint64_t total = 0;
  if (size >= 8) {
    std::memcpy(&total, data, 8);
    data += 8;
    size -= 8;
    if (total & 1) { total %= 100'000; }  // small sizes half of the time, so ranges often overlap them
  }
  std::string_view header(reinterpret_cast<const char*>(data), size);
  auto r = ciel::http::parse_range(header, total);
  if (r && *r) {
    const auto& range = **r;
    FUZZ_CHECK(range.length > 0);
    FUZZ_CHECK(range.first < total);
    FUZZ_CHECK(range.length <= total - range.first);
    std::string cr = range.content_range(total);
    FUZZ_CHECK(cr.starts_with("bytes "));
  } else if (!r) {
    FUZZ_CHECK(r.error().code == ciel::Errc::precondition_failed);
  }
  std::size_t split = header.find('|');
  if (split != std::string_view::npos) {
    (void)ciel::http::etag_matches(header.substr(0, split), header.substr(split + 1));
  } else {
    FUZZ_CHECK(ciel::http::etag_matches("*", header));  // "*" matches any current representation
    (void)ciel::http::etag_matches(header, "\"abc\"");
  }
  return 0;
}
