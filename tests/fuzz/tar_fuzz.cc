// Fuzzes the archive readers (object/swift/tar.h): the input is read as a tar archive, as the same
// archive with every header's checksum made right (so mutations reach past the checksum), and as
// a gzip-compressed one. Entries come out with exactly their declared size (directories empty) or
// the reader stops with an error; a plain archive never yields more bytes than the input holds,
// and decompressed output is capped so a small bomb cannot stall the run.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "fuzz_coro.h"
#include "object/swift/tar.h"

namespace {

namespace sw = ciel::object::swift;
using ciel::Errc;

constexpr std::uint64_t kMaxOutput = 1 << 20;

// The input with the checksum field of every 512-byte block rewritten to match the block.
std::string with_checksums(std::string_view in) {
  std::string out(in);
  for (std::size_t off = 0; off + 512 <= out.size(); off += 512) {
    char* b = out.data() + off;
    std::memset(b + 148, ' ', 8);
    unsigned sum = 0;
    for (std::size_t i = 0; i < 512; ++i) { sum += static_cast<unsigned char>(b[i]); }
    std::snprintf(b + 148, 8, "%06o", sum & 0777777);
  }
  return out;
}

// Reads every entry; returns the body bytes seen.
boost::asio::awaitable<std::uint64_t> read_archive(ciel::ByteSource& in, std::size_t read_size) {
  sw::TarReader reader(in);
  std::vector<char> buf(read_size);
  std::uint64_t total = 0;
  for (int entries = 0;; ++entries) {
    auto entry = co_await reader.next();
    if (!entry) {
      FUZZ_CHECK(!entry.error().message.empty());
      FUZZ_CHECK(entry.error().code == Errc::invalid_argument);
      auto again = co_await reader.next();
      FUZZ_CHECK(!again);
      co_return total;
    }
    if (!*entry) {
      auto again = co_await reader.next();
      FUZZ_CHECK(again && !*again);
      co_return total;
    }
    const sw::TarEntry& e = **entry;
    if (e.is_directory) { FUZZ_CHECK(e.size == 0); }
    if (entries % 2 == 1) { continue; }  // next() skips the body
    std::uint64_t got = 0;
    for (;;) {
      auto n = co_await reader.entry_body().read(std::span<char>(buf.data(), buf.size()));
      if (!n) {
        FUZZ_CHECK(n.error().code == Errc::invalid_argument);
        break;
      }
      if (*n == 0) {
        FUZZ_CHECK(got == e.size);
        break;
      }
      got += *n;
      FUZZ_CHECK(got <= e.size);
      total += *n;
      if (total > kMaxOutput) { co_return total; }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::size_t chunk = size > 0 ? 1 + static_cast<unsigned char>(text[0]) * 5 : 1;
  std::size_t read_size = size > 1 ? 1 + static_cast<unsigned char>(text[1]) * 3 : 1;
  ciel::fuzz::run_to_completion([&]() -> boost::asio::awaitable<void> {
    ciel::fuzz::InputSource plain(text, chunk);
    std::uint64_t got = co_await read_archive(plain, read_size);
    FUZZ_CHECK(got <= size);
    FUZZ_CHECK(plain.consumed() <= size);

    std::string fixed = with_checksums(text);
    ciel::fuzz::InputSource repaired(fixed, chunk);
    FUZZ_CHECK(co_await read_archive(repaired, read_size) <= size);

    ciel::fuzz::InputSource compressed(text, chunk);
    auto gunzip = sw::make_gunzip_source(compressed);
    co_await read_archive(*gunzip, read_size);

    // The decompressed stream on its own: bytes or a client error, then the same error again.
    ciel::fuzz::InputSource again(text, chunk);
    auto raw = sw::make_gunzip_source(again);
    std::vector<char> buf(read_size);
    std::uint64_t out = 0;
    for (;;) {
      auto n = co_await raw->read(std::span<char>(buf.data(), buf.size()));
      if (!n) {
        FUZZ_CHECK(n.error().code == Errc::invalid_argument);
        auto twice = co_await raw->read(std::span<char>(buf.data(), buf.size()));
        FUZZ_CHECK(!twice && twice.error().message == n.error().message);
        break;
      }
      FUZZ_CHECK(*n <= buf.size());
      if (*n == 0) { break; }
      out += *n;
      if (out > kMaxOutput) { break; }
    }
  });
  return 0;
}
