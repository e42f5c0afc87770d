#include "object/swift/tar.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstring>
#include <optional>

#include "core/crypto/crypto.h"
#include "support/test_support.h"
#include "unit/object/byte_sources.h"

namespace ciel::object::swift {
namespace {

using test::ChunkedSource;
using test::GeneratedSource;
using test::run_coro;

// `tar --format=gnu -czf` of dir/ (a.txt "hello\n", a 128-byte name holding "long file body",
// empty/ and a symlink), and Python's tarfile PAX_FORMAT of c/café.txt (with a
// SCHILY.xattr.user.mime_type record) and a 154-byte path, gzip-compressed.
constexpr std::string_view kGnuTarGz =
    "H4sIAAAAAAAAA+3XSw6CMBgEYNaeoieA/n3QrQfgEhpQidUaxERvb8sOEyUuWqLMt4EACU2HKWnddkUWGfeM1sPRez0O56S0UMZwFa4Tl1JnTMceWHC79puOsaxz"
    "rv/03NT9H5UXebGu3HlftedjpHeEgEul3uYvOI2+BU6kjcpYFWk8IwvPv/b9r2aS9/d/nNKfkiL/qf5zKsfrvyi19P3nKSZg4f23fulnu9Y2bOvqx9yjgdRC/zeR"
    "F+LJ/vOX/hNJEuh/CofGWreaexQwl9D/5nTpHxF3gd/v/0gZif1fCiF/G2/rNxjyN+aL/AWF/EXsH1Ow8PwBAAAAAAAAAAAA4D89AVWGVD0AKAAA";
constexpr std::string_view kPaxTarGz =
    "H4sIAAAAAAACA+3WQWoCMRQG4Kw9RU6QvGQymZVY6MZCF4WuuipRIwraDuMTMr1Rz+HF7FhacSFdZbD6f5uEbLJ4/PmjtNJ3TyGNY5jFRmRB386tRJU/7rtzQ9aS"
    "kEn0YLvh0HxdL26Ts/L5fvzw+KJSYG7UdhMbtV6u4yu3dRxyTKzrVVi+DSzJOvBiONXTMN99Kk48EPDPHaY56oaZ744u1N658/k3VhhXWldV5A7nlTeFkIT8559/"
    "l2U5eZ+1yMItUhfQ//b4Nvz2vynR/30w3v3Uen2RdMIvI2v/5x/hn/1PxWn/F0XpHfq/D6n9QAgAAAAAAAAAAAAAAACuyB7VqXhWACgAAA==";

std::string unbase64(std::string_view s) { return *crypto::unbase64(s); }

std::string gzip(std::string_view data) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&zs, data.size()) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

// A 512-byte header with a valid checksum.
std::string header(std::string_view name, std::uint64_t size, char type = '0', std::string_view prefix = "",
                   bool posix = true) {
  std::string h(512, '\0');
  std::memcpy(h.data(), name.data(), std::min<std::size_t>(name.size(), 100));
  std::memcpy(h.data() + 100, "0000644", 7);
  std::memcpy(h.data() + 108, "0000000", 7);
  std::memcpy(h.data() + 116, "0000000", 7);
  if (size < (std::uint64_t{1} << 33)) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%011llo", static_cast<unsigned long long>(size));
    std::memcpy(h.data() + 124, buf, 11);
  } else {  // base-256
    h[124] = static_cast<char>(0x80);
    for (int i = 0; i < 8; ++i) { h[124 + 11 - i] = static_cast<char>((size >> (8 * i)) & 0xff); }
  }
  std::memcpy(h.data() + 136, "14524722000", 11);  // 1700000000
  h[156] = type;
  if (posix) {
    std::memcpy(h.data() + 257, "ustar\0" "00", 8);
  } else {
    std::memcpy(h.data() + 257, "ustar  \0", 8);
  }
  std::memcpy(h.data() + 345, prefix.data(), std::min<std::size_t>(prefix.size(), 155));
  std::memset(h.data() + 148, ' ', 8);
  unsigned sum = 0;
  for (unsigned char c : h) { sum += c; }
  char chk[8];
  std::snprintf(chk, sizeof chk, "%06o", sum);
  std::memcpy(h.data() + 148, chk, 7);  // six digits, NUL, then the space already there
  return h;
}

std::string padded(std::string_view data) {
  std::string out(data);
  out.append((512 - data.size() % 512) % 512, '\0');
  return out;
}

std::string entry(std::string_view name, std::string_view data, char type = '0') { return header(name, data.size(), type) + padded(data); }

std::string pax(std::initializer_list<std::pair<std::string, std::string>> records) {
  std::string body;
  for (const auto& [k, v] : records) {
    std::string rec = " " + k + "=" + v + "\n";
    std::size_t len = rec.size() + 1;
    while (std::to_string(len).size() + rec.size() != len) { ++len; }
    body += std::to_string(len) + rec;
  }
  return header("PaxHeader", body.size(), 'x') + padded(body);
}

const std::string kEnd(1024, '\0');

struct ReadEntry {
  TarEntry entry;
  std::string body;
};

// Reads all entries (bodies with `read_size`-byte reads); the error, if any, lands in `error`.
std::vector<ReadEntry> read_tar(ByteSource& src, std::size_t read_size, Error* error) {
  std::vector<ReadEntry> out;
  TarReader reader(src);
  run_coro([&]() -> boost::asio::awaitable<void> {
    std::vector<char> buf(read_size);
    for (;;) {
      auto e = co_await reader.next();
      if (!e) {
        *error = e.error();
        co_return;
      }
      if (!*e) { co_return; }
      ReadEntry r{std::move(**e), {}};
      for (;;) {
        auto n = co_await reader.entry_body().read(std::span<char>(buf.data(), buf.size()));
        if (!n) {
          *error = n.error();
          out.push_back(std::move(r));
          co_return;
        }
        if (*n == 0) { break; }
        r.body.append(buf.data(), *n);
      }
      out.push_back(std::move(r));
    }
  });
  return out;
}

std::vector<ReadEntry> read_ok(std::string data, std::size_t chunk = 100000, std::size_t read_size = 4096) {
  ChunkedSource src(std::move(data), chunk);
  Error error;
  auto entries = read_tar(src, read_size, &error);
  EXPECT_TRUE(error.message.empty()) << error.message;
  return entries;
}

std::string read_error(std::string data) {
  ChunkedSource src(std::move(data), 7);
  Error error;
  read_tar(src, 5, &error);
  EXPECT_FALSE(error.message.empty());
  return error.message;
}

TEST(SwiftTar, ReadsAGnuTarGz) {
  for (std::size_t chunk : {1, 13, 100000}) {
    ChunkedSource compressed(unbase64(kGnuTarGz), chunk);
    auto gunzip = make_gunzip_source(compressed);
    Error error;
    auto entries = read_tar(*gunzip, 3, &error);
    ASSERT_TRUE(error.message.empty()) << error.message;
    ASSERT_EQ(entries.size(), 4u);  // the symlink is skipped
    EXPECT_EQ(entries[0].entry.path, "dir");
    EXPECT_TRUE(entries[0].entry.is_directory);
    EXPECT_EQ(entries[0].entry.size, 0u);
    EXPECT_EQ(entries[1].entry.path, "dir/" + std::string(120, 'L') + ".txt");
    EXPECT_FALSE(entries[1].entry.is_directory);
    EXPECT_EQ(entries[1].body, "long file body");
    EXPECT_EQ(entries[1].entry.size, 14u);
    EXPECT_EQ(entries[1].entry.mode, 0644u);
    EXPECT_EQ(entries[1].entry.mtime, 1700000000);
    EXPECT_EQ(entries[2].entry.path, "dir/a.txt");
    EXPECT_EQ(entries[2].body, "hello\n");
    EXPECT_EQ(entries[3].entry.path, "dir/empty");
    EXPECT_TRUE(entries[3].entry.is_directory);
  }
}

TEST(SwiftTar, ReadsAPaxTarGz) {
  ChunkedSource compressed(unbase64(kPaxTarGz), 50);
  auto gunzip = make_gunzip_source(compressed);
  Error error;
  auto entries = read_tar(*gunzip, 4096, &error);
  ASSERT_TRUE(error.message.empty()) << error.message;
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].entry.path, "c/caf\xC3\xA9.txt");
  EXPECT_EQ(entries[0].body, "caf\xC3\xA9 body");
  bool mime = false;
  for (const auto& [k, v] : entries[0].entry.pax) { mime = mime || (k == "SCHILY.xattr.user.mime_type" && v == "text/plain"); }
  EXPECT_TRUE(mime);
  EXPECT_EQ(entries[1].entry.path, "c/" + std::string(150, 'p') + "/x");
  EXPECT_EQ(entries[1].body, "xyz");
}

TEST(SwiftTar, UstarPrefixAndTypes) {
  std::string tar = header("name.txt", 2, '0', "some/prefix") + padded("hi") +  // prefix + "/" + name
                    header("gnu-ignores-prefix", 0, '0', "junk", false) +     // GNU: no prefix field
                    header("v7dir/", 0, '\0') +                                // V7 directory
                    header("lnk", 0, '2') + header("fifo", 0, '6') +           // skipped
                    header("hard", 0, '1') + entry("contig", "c", '7') + entry("areg", "a", '\0') + kEnd;
  for (std::size_t chunk : {1, 511, 512, 513}) {
    auto entries = read_ok(tar, chunk, 1);
    ASSERT_EQ(entries.size(), 5u);
    EXPECT_EQ(entries[0].entry.path, "some/prefix/name.txt");
    EXPECT_EQ(entries[0].body, "hi");
    EXPECT_EQ(entries[1].entry.path, "gnu-ignores-prefix");
    EXPECT_EQ(entries[2].entry.path, "v7dir");
    EXPECT_TRUE(entries[2].entry.is_directory);
    EXPECT_EQ(entries[3].entry.path, "contig");
    EXPECT_EQ(entries[3].entry.type, '7');
    EXPECT_EQ(entries[3].body, "c");
    EXPECT_EQ(entries[4].entry.path, "areg");
    EXPECT_EQ(entries[4].body, "a");
  }
}

TEST(SwiftTar, PaxAndLongNames) {
  std::string long_name(300, 'n');
  std::string tar = header("././@LongLink", long_name.size() + 1, 'L') + padded(long_name + std::string(1, '\0')) +
                    entry("short", "body1") +
                    pax({{"path", "from/pax"}, {"mtime", "1700000000.5"}, {"LIBARCHIVE.xattr.user.meta.color", "blue"}}) +
                    entry("ignored-name", "body2") + entry("plain", "body3") +
                    header("g", 17, 'g') + padded("17 comment=hello\n") + entry("after-global", "4") + kEnd;
  auto entries = read_ok(tar, 9, 2);
  ASSERT_EQ(entries.size(), 4u);
  EXPECT_EQ(entries[0].entry.path, long_name);
  EXPECT_EQ(entries[0].body, "body1");
  EXPECT_EQ(entries[1].entry.path, "from/pax");
  EXPECT_EQ(entries[1].body, "body2");
  EXPECT_EQ(entries[1].entry.pax,
            (std::vector<std::pair<std::string, std::string>>{{"mtime", "1700000000.5"}, {"LIBARCHIVE.xattr.user.meta.color", "blue"}}));
  EXPECT_EQ(entries[2].entry.path, "plain");  // pax records apply to one entry only
  EXPECT_TRUE(entries[2].entry.pax.empty());
  EXPECT_EQ(entries[3].entry.path, "after-global");
}

TEST(SwiftTar, PaxSizeOverridesTheHeader) {
  std::string data(700, 'z');
  std::string tar = pax({{"size", "700"}}) + header("big", 0) + padded(data) + kEnd;
  auto entries = read_ok(tar);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].entry.size, 700u);
  EXPECT_EQ(entries[0].body, data);
}

TEST(SwiftTar, Base256Size) {
  // A header saying 8 GiB, read only for its size: the body is never read.
  std::string tar = header("huge", std::uint64_t{8} << 30);
  ChunkedSource src(tar, 512);
  TarReader reader(src);
  run_coro([&]() -> boost::asio::awaitable<void> {
    auto e = co_await reader.next();
    EXPECT_TRUE(e && *e);
    if (e && *e) { EXPECT_EQ((*e)->size, std::uint64_t{8} << 30); }
    auto next = co_await reader.next();  // skipping the body hits the end of input
    EXPECT_FALSE(next);
    if (!next) { EXPECT_EQ(next.error().message, "truncated tar archive"); }
  });
}

TEST(SwiftTar, EndOfArchive) {
  // The end of input on a block boundary ends the archive as a zero block does; what follows a zero
  // block is never read.
  EXPECT_EQ(read_ok(entry("a", "1")).size(), 1u);
  EXPECT_EQ(read_ok(entry("a", "1") + std::string(512, '\0') + "garbage after the end").size(), 1u);
  EXPECT_TRUE(read_ok("").empty());
  EXPECT_TRUE(read_ok(kEnd).empty());
}

TEST(SwiftTar, UnreadBodiesAreSkipped) {
  std::string tar = entry("a", std::string(5000, 'a')) + entry("b", "bee") + kEnd;
  ChunkedSource src(tar, 700);
  TarReader reader(src);
  run_coro([&]() -> boost::asio::awaitable<void> {
    auto a = co_await reader.next();
    EXPECT_TRUE(a && *a);
    char buf[10];
    auto n = co_await reader.entry_body().read(std::span<char>(buf, sizeof buf));
    EXPECT_TRUE(n && *n == 10);
    auto b = co_await reader.next();
    EXPECT_TRUE(b && *b);
    if (b && *b) { EXPECT_EQ((*b)->path, "b"); }
    auto end = co_await reader.next();
    EXPECT_TRUE(end && !*end);
  });
}

TEST(SwiftTar, MalformedArchives) {
  std::string good = entry("a", "data");
  std::string bad_sum = good;
  bad_sum[0] = 'b';
  EXPECT_EQ(read_error(bad_sum + kEnd), "bad tar header checksum");
  EXPECT_EQ(read_error(good.substr(0, 300)), "truncated tar archive");          // inside a header
  EXPECT_EQ(read_error(good.substr(0, 514)), "truncated tar archive");          // inside a body
  EXPECT_EQ(read_error(good.substr(0, 600)), "truncated tar archive");          // inside the padding
  EXPECT_EQ(read_error(header("././@LongLink", 10, 'L') + padded("0123456789")), "truncated tar archive");
  EXPECT_EQ(read_error(header("././@LongLink", 70000, 'L')), "tar extended header too large");
  EXPECT_EQ(read_error(header("PaxHeader", 9, 'x') + padded("5 path=x\n") + entry("a", "") + kEnd), "bad pax header");
  std::string bad_size = header("a", 0);
  std::memcpy(bad_size.data() + 124, "00000000009", 11);  // '9' is not octal
  std::memset(bad_size.data() + 148, ' ', 8);
  unsigned sum = 0;
  for (unsigned char c : bad_size) { sum += c; }
  char chk[8];
  std::snprintf(chk, sizeof chk, "%06o", sum);
  std::memcpy(bad_size.data() + 148, chk, 7);
  EXPECT_EQ(read_error(bad_size + kEnd), "bad number in tar header");
}

TEST(SwiftTar, ErrorsAreFinal) {
  std::string tar = entry("a", "data");
  tar[0] = 'x';  // bad checksum
  ChunkedSource src(tar, 512);
  TarReader reader(src);
  run_coro([&]() -> boost::asio::awaitable<void> {
    auto first = co_await reader.next();
    EXPECT_FALSE(first);
    auto second = co_await reader.next();
    EXPECT_FALSE(second);
    if (!second) { EXPECT_EQ(second.error().code, Errc::invalid_argument); }
  });
}

TEST(SwiftTar, StreamsAThreeMebibyteEntryWithoutBuffering) {
  constexpr std::uint64_t kSize = 3 * 1024 * 1024 + 5;
  std::string head = header("big/file.bin", kSize);
  GeneratedSource src(head, kSize, std::string(512 - kSize % 512, '\0') + entry("after", "x") + kEnd);
  TarReader reader(src);
  run_coro([&]() -> boost::asio::awaitable<void> {
    auto e = co_await reader.next();
    EXPECT_TRUE(e && *e);
    if (!e || !*e) { co_return; }
    EXPECT_EQ((*e)->size, kSize);
    std::uint64_t got = 0;
    std::uint64_t max_ahead = 0;
    bool pattern_ok = true;
    char buf[1000];
    for (;;) {
      auto n = co_await reader.entry_body().read(std::span<char>(buf, sizeof buf));
      EXPECT_TRUE(n);
      if (!n || *n == 0) { break; }
      for (std::size_t i = 0; i < *n; ++i) { pattern_ok = pattern_ok && buf[i] == GeneratedSource::pattern_byte(got + i); }
      got += *n;
      max_ahead = std::max(max_ahead, src.produced() - (head.size() + got));
    }
    EXPECT_EQ(got, kSize);
    EXPECT_TRUE(pattern_ok);
    EXPECT_EQ(max_ahead, 0u);  // bytes go straight from the source to the caller's buffer
    auto after = co_await reader.next();
    EXPECT_TRUE(after && *after);
    if (after && *after) { EXPECT_EQ((*after)->path, "after"); }
  });
}

std::string gunzip_all(std::string compressed, std::size_t chunk, Error* error) {
  ChunkedSource src(std::move(compressed), chunk);
  auto gz = make_gunzip_source(src);
  std::string out;
  run_coro([&]() -> boost::asio::awaitable<void> {
    char buf[777];
    for (;;) {
      auto n = co_await gz->read(std::span<char>(buf, sizeof buf));
      if (!n) {
        *error = n.error();
        co_return;
      }
      if (*n == 0) { co_return; }
      out.append(buf, *n);
    }
  });
  return out;
}

std::string sample_text() {
  std::string data;
  for (int i = 0; i < 20000; ++i) { data += std::to_string(i * 7919 % 10007) + ","; }
  return data;
}

TEST(SwiftTar, Gunzip) {
  std::string data = sample_text();
  std::string gz = gzip(data);
  for (std::size_t chunk : {1, 100, 1 << 20}) {
    Error error;
    EXPECT_EQ(gunzip_all(gz, chunk, &error), data);
    EXPECT_TRUE(error.message.empty()) << error.message;
  }
  Error error;
  EXPECT_EQ(gunzip_all(gz + gzip("second member"), 64, &error), data + "second member");
  EXPECT_TRUE(error.message.empty());
  EXPECT_EQ(gunzip_all(gz + std::string(100, '\0'), 64, &error), data);  // trailing zeros ignored
  EXPECT_TRUE(error.message.empty());
}

TEST(SwiftTar, GunzipErrors) {
  std::string gz = gzip(std::string(100000, 'q') + "tail");
  Error truncated;
  gunzip_all(gz.substr(0, gz.size() - 5), 50, &truncated);
  EXPECT_EQ(truncated.code, Errc::invalid_argument);
  EXPECT_EQ(truncated.message, "truncated gzip stream");

  Error empty;
  gunzip_all("", 50, &empty);
  EXPECT_EQ(empty.message, "truncated gzip stream");

  Error not_gzip;
  gunzip_all("this is plain text, not gzip", 50, &not_gzip);
  EXPECT_EQ(not_gzip.code, Errc::invalid_argument);
  EXPECT_EQ(not_gzip.message, "corrupt gzip stream");

  std::string corrupt = gz;
  corrupt[gz.size() - 3] ^= 0x55;  // the length in the trailer
  Error bad_trailer;
  gunzip_all(corrupt, 50, &bad_trailer);
  EXPECT_EQ(bad_trailer.message, "corrupt gzip stream");

  std::string body = gzip(sample_text());
  body[30] ^= 0xff;
  Error bad_data;
  gunzip_all(body, 50, &bad_data);
  EXPECT_EQ(bad_data.message, "corrupt gzip stream");
}

TEST(SwiftTar, GunzipStreamsWithBoundedInput) {
  constexpr std::size_t kSize = 3 * 1024 * 1024;
  std::string plain(kSize, '\0');
  std::uint32_t x = 12345;
  for (auto& c : plain) {
    x = x * 1103515245u + 12345u;
    c = static_cast<char>('a' + (x >> 16) % 16);
  }
  std::string gz = gzip(plain);
  ChunkedSource src(gz, 1 << 20);
  auto source = make_gunzip_source(src);
  run_coro([&]() -> boost::asio::awaitable<void> {
    std::size_t got = 0;
    bool ok = true;
    char buf[1000];
    for (;;) {
      auto n = co_await source->read(std::span<char>(buf, sizeof buf));
      EXPECT_TRUE(n);
      if (!n || *n == 0) { break; }
      ok = ok && got + *n <= kSize && std::memcmp(buf, plain.data() + got, *n) == 0;
      got += *n;
    }
    EXPECT_EQ(got, kSize);
    EXPECT_TRUE(ok);
  });
  EXPECT_GT(gz.size(), 16u * 1024u);
  EXPECT_LE(src.max_request(), 16u * 1024u);  // compressed input is read 16 KiB at a time
}

}  // namespace
}  // namespace ciel::object::swift
