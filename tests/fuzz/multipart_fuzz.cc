// Fuzzes the streaming multipart/form-data reader (object/swift/multipart.h) as FormPost drives it.
// The input's first line is the boundary, the rest the body; the next two bytes after the first
// line pick how the body is split into reads and how large the caller's reads are. Whatever the
// bytes, the reader ends with the closing boundary or a client error, never yields more body bytes
// than the input holds, and stays ended once it has.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "fuzz_coro.h"
#include "object/swift/formpost.h"
#include "object/swift/multipart.h"

namespace {

namespace sw = ciel::object::swift;
using ciel::Errc;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::size_t nl = text.find('\n');
  if (nl == std::string_view::npos) { return 0; }
  std::string boundary(text.substr(0, nl));
  if (!boundary.empty() && boundary.back() == '\r') { boundary.pop_back(); }
  std::string_view body = text.substr(nl + 1);
  std::size_t chunk = 1;
  std::size_t read_size = 1;
  if (body.size() >= 2) {
    chunk = 1 + static_cast<unsigned char>(body[0]) * 37;
    read_size = 1 + static_cast<unsigned char>(body[1]) % 64;
    body.remove_prefix(2);
  }
  (void)sw::multipart_boundary("multipart/form-data; boundary=" + boundary);

  ciel::fuzz::InputSource src(body, chunk);
  sw::MultipartReader reader(src, boundary);
  ciel::fuzz::run_to_completion([&]() -> boost::asio::awaitable<void> {
    std::uint64_t body_bytes = 0;
    std::vector<std::pair<std::string, std::string>> fields;
    std::vector<char> buf(read_size);
    bool ended = false;
    for (int parts = 0;; ++parts) {
      auto part = co_await reader.next();
      if (!part) {
        FUZZ_CHECK(part.error().code == Errc::invalid_argument);
        FUZZ_CHECK(!part.error().message.empty());
        auto again = co_await reader.next();  // errors are final
        FUZZ_CHECK(!again && again.error().message == part.error().message);
        break;
      }
      if (!*part) {
        ended = true;
        break;
      }
      FUZZ_CHECK(parts < 10000);
      if (parts % 3 == 2) { continue; }  // leave this part's body for next() to skip
      if (parts % 3 == 1) {
        auto value = co_await sw::read_formpost_field(reader.part_body());
        if (value) {
          FUZZ_CHECK(value->size() <= sw::kMaxFormFieldBytes);
          fields.emplace_back((*part)->name, std::move(*value));
        }
        continue;
      }
      for (;;) {
        auto n = co_await reader.part_body().read(std::span<char>(buf.data(), buf.size()));
        if (!n) { break; }
        FUZZ_CHECK(*n <= buf.size());
        if (*n == 0) { break; }
        body_bytes += *n;
        FUZZ_CHECK(body_bytes <= body.size());
      }
    }
    if (ended) {
      auto again = co_await reader.next();
      FUZZ_CHECK(again && !*again);
    }
    FUZZ_CHECK(src.consumed() <= body.size());
    if (auto attrs = sw::parse_formpost_attrs(fields)) {
      (void)sw::formpost_signature_valid(*attrs, std::vector<std::string>{"key"}, "/v1/AUTH_f/c/");
    } else {
      FUZZ_CHECK(attrs.error().code == Errc::invalid_argument);
    }
  });
  return 0;
}
