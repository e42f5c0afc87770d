// The zip writer (box/dav/zip.h), read back by a parser written from APPNOTE here: the records,
// the flags (data descriptor, UTF-8), stored entries and their CRC-32 (a bitwise CRC, independent
// of zlib's), DOS time, the exact length announced in advance; ZIP64 for an entry over 4 GiB and
// for the offsets behind it (a generated 4 GiB entry streams through, only the archive's head and
// tail are kept), ZIP64 end records for more than 65,535 entries; a content that ends early.
#include <gtest/gtest.h>

#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "box/dav/zip.h"
#include "support/test_support.h"

namespace ciel::box::dav {
namespace {

using boost::asio::awaitable;

std::uint64_t le(std::string_view s, std::size_t at, int bytes) {
  std::uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) { v = v << 8 | static_cast<unsigned char>(s.at(at + i)); }
  return v;
}

// CRC-32 (ISO-HDLC, reflected 0xEDB88320), bit by bit: small inputs only.
std::uint32_t bitwise_crc32(std::string_view data) {
  std::uint32_t crc = 0xFFFFFFFF;
  for (unsigned char c : data) {
    crc ^= c;
    for (int k = 0; k < 8; ++k) { crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u))); }
  }
  return ~crc;
}

// Reads `source` to its end in reads of `chunk` bytes, handing each piece and its offset to `sink`.
Result<std::uint64_t> drain(ByteSource& source, const std::function<void(std::uint64_t, std::string_view)>& sink,
                            std::size_t chunk = 256 * 1024) {
  Result<std::uint64_t> out = std::uint64_t{0};
  test::run_coro([&]() -> awaitable<void> {
    std::vector<char> buf(chunk);
    std::uint64_t pos = 0;
    for (;;) {
      auto n = co_await source.read(std::span<char>(buf.data(), buf.size()));
      if (!n) {
        out = n.error();
        co_return;
      }
      if (*n == 0) { break; }
      sink(pos, std::string_view(buf.data(), *n));
      pos += *n;
    }
    out = pos;
  });
  return out;
}

// A ZipOpener over contents kept in memory.
ZipOpener from_strings(std::map<std::size_t, std::string> contents) {
  return [contents = std::move(contents)](std::size_t i) -> awaitable<Result<std::unique_ptr<ByteSource>>> {
    std::unique_ptr<ByteSource> s = std::make_unique<StringSource>(contents.at(i));
    co_return s;
  };
}

struct Parsed {
  std::string name;
  std::uint16_t flags = 0, method = 0, time = 0, date = 0;
  std::uint32_t crc = 0, external = 0;
  std::uint64_t size = 0, offset = 0;
  std::string data;
  std::int64_t timestamp = -1;  // the 0x5455 field's mtime, -1 when absent
};

// The archive's entries from its central directory, each checked against its local header, its
// data and its data descriptor; 32-bit end records only (the ZIP64 ones are checked apart).
std::vector<Parsed> parse(const std::string& z) {
  std::vector<Parsed> out;
  std::size_t end = z.size() - 22;
  EXPECT_EQ(le(z, end, 4), 0x06054b50u);
  std::uint64_t count = le(z, end + 10, 2);
  std::uint64_t cd_size = le(z, end + 12, 4);
  std::uint64_t cd = le(z, end + 16, 4);
  EXPECT_EQ(cd + cd_size, end);
  for (std::uint64_t i = 0; i < count; ++i) {
    EXPECT_EQ(le(z, cd, 4), 0x02014b50u);
    Parsed p;
    p.flags = static_cast<std::uint16_t>(le(z, cd + 8, 2));
    p.method = static_cast<std::uint16_t>(le(z, cd + 10, 2));
    p.time = static_cast<std::uint16_t>(le(z, cd + 12, 2));
    p.date = static_cast<std::uint16_t>(le(z, cd + 14, 2));
    p.crc = static_cast<std::uint32_t>(le(z, cd + 16, 4));
    p.size = le(z, cd + 24, 4);
    EXPECT_EQ(le(z, cd + 20, 4), p.size);  // stored: compressed size = size
    std::size_t name_len = le(z, cd + 28, 2), extra_len = le(z, cd + 30, 2), comment_len = le(z, cd + 32, 2);
    p.external = static_cast<std::uint32_t>(le(z, cd + 38, 4));
    p.offset = le(z, cd + 42, 4);
    p.name = z.substr(cd + 46, name_len);
    std::string extra = z.substr(cd + 46 + name_len, extra_len);
    for (std::size_t at = 0; at + 4 <= extra.size(); at += 4 + le(extra, at + 2, 2)) {
      if (le(extra, at, 2) == 0x5455) { p.timestamp = static_cast<std::int64_t>(le(extra, at + 5, 4)); }
    }
    cd += 46 + name_len + extra_len + comment_len;
    // The local header: same name and flags, CRC and sizes left to the data descriptor.
    std::size_t h = p.offset;
    EXPECT_EQ(le(z, h, 4), 0x04034b50u);
    EXPECT_EQ(le(z, h + 6, 2), p.flags);
    EXPECT_EQ(le(z, h + 8, 2), p.method);
    EXPECT_EQ(le(z, h + 10, 2), p.time);
    EXPECT_EQ(le(z, h + 12, 2), p.date);
    EXPECT_EQ(le(z, h + 14, 4), 0u);
    EXPECT_EQ(le(z, h + 18, 4), 0u);
    EXPECT_EQ(le(z, h + 22, 4), 0u);
    EXPECT_EQ(z.substr(h + 30, le(z, h + 26, 2)), p.name);
    std::size_t data = h + 30 + le(z, h + 26, 2) + le(z, h + 28, 2);
    p.data = z.substr(data, p.size);
    std::size_t dd = data + p.size;
    EXPECT_EQ(le(z, dd, 4), 0x08074b50u);
    EXPECT_EQ(le(z, dd + 4, 4), p.crc);
    EXPECT_EQ(le(z, dd + 8, 4), p.size);
    EXPECT_EQ(le(z, dd + 12, 4), p.size);
    out.push_back(std::move(p));
  }
  EXPECT_EQ(cd, end);
  return out;
}

std::string read_whole(ByteSource& source) {
  std::string z;
  auto n = drain(source, [&](std::uint64_t, std::string_view piece) { z += piece; }, 1000);  // reads end mid-record
  EXPECT_TRUE(n);
  return z;
}

TEST(BoxZip, StoredEntriesWithDescriptorsUtf8NamesAndDosTime) {
  const std::int64_t t = 1709214310;  // 2024-02-29 13:45:10 UTC
  std::string text = "Le compte rendu, à partager.\n";
  std::string bin;
  for (std::uint32_t i = 0; i < 300000; ++i) { bin += static_cast<char>((i * 7919u) >> 3); }
  std::vector<ZipEntry> entries = {
      {"Été/", 0, t}, {"Été/notes.txt", text.size(), t}, {"Été/vide/", 0, t}, {"Été/vide.txt", 0, t}, {"Été/data/b.bin", bin.size(), 0}};
  std::uint64_t length = zip_length(entries);
  auto source = make_zip_source(entries, from_strings({{1, text}, {4, bin}}));
  EXPECT_EQ(source->size(), length);
  std::string z = read_whole(*source);
  ASSERT_EQ(z.size(), length);

  auto parsed = parse(z);
  ASSERT_EQ(parsed.size(), entries.size());
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const auto& p = parsed[i];
    SCOPED_TRACE(p.name);
    EXPECT_EQ(p.name, entries[i].name);
    EXPECT_EQ(p.flags, 0x0808);  // bit 3 (data descriptor) and bit 11 (UTF-8)
    EXPECT_EQ(p.method, 0);      // stored
    EXPECT_EQ(p.size, entries[i].size);
    EXPECT_EQ(p.crc, bitwise_crc32(p.data));
    bool folder = p.name.back() == '/';
    EXPECT_EQ(p.external >> 16, folder ? 040755u : 0100644u);
    EXPECT_EQ(p.external & 0x10, folder ? 0x10u : 0u);
  }
  EXPECT_EQ(parsed[1].data, text);
  EXPECT_EQ(parsed[4].data, bin);
  EXPECT_EQ(parsed[3].crc, 0u);
  // 2024-02-29 13:45:10: date (44 << 9 | 2 << 5 | 29), time (13 << 11 | 45 << 5 | 5).
  EXPECT_EQ(parsed[1].date, 44 << 9 | 2 << 5 | 29);
  EXPECT_EQ(parsed[1].time, 13 << 11 | 45 << 5 | 5);
  EXPECT_EQ(parsed[1].timestamp, t);
  // Before 1980, DOS time stops at its first day; the extended timestamp keeps the truth.
  EXPECT_EQ(parsed[4].date, 0 << 9 | 1 << 5 | 1);
  EXPECT_EQ(parsed[4].time, 0);
  EXPECT_EQ(parsed[4].timestamp, 0);
}

TEST(BoxZip, AnEmptyArchiveIsJustItsEndRecord) {
  auto source = make_zip_source({}, from_strings({}));
  std::string z = read_whole(*source);
  EXPECT_EQ(z, std::string("PK\x05\x06", 4) + std::string(18, '\0'));
  EXPECT_EQ(zip_length({}), 22u);
}

// Byte i of a generated content: a pattern of period 256.
char pattern(std::uint64_t i) { return static_cast<char>((i * 31) & 0xFF); }

// `size` generated bytes, copied from a block of the pattern (cheap enough for 4 GiB).
class Generated final : public ByteSource {
 public:
  explicit Generated(std::uint64_t size) : left_(size), block_(kBlock + 256) {
    for (std::size_t i = 0; i < block_.size(); ++i) { block_[i] = pattern(i); }
  }
  awaitable<Result<std::size_t>> read(std::span<char> buf) override {
    std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>({buf.size(), left_, kBlock}));
    std::memcpy(buf.data(), block_.data() + pos_ % 256, n);
    pos_ += n;
    left_ -= n;
    co_return n;
  }

 private:
  static constexpr std::size_t kBlock = 256 * 1024;
  std::uint64_t left_, pos_ = 0;
  std::vector<char> block_;
};

// zlib's CRC-32 of `size` generated bytes, from the CRC of one 64 KiB period-aligned block.
std::uint32_t generated_crc(std::uint64_t size) {
  std::string block(65536, '\0');
  for (std::size_t i = 0; i < block.size(); ++i) { block[i] = pattern(i); }
  auto crc_of = [](std::string_view s) { return crc32_z(0, reinterpret_cast<const Bytef*>(s.data()), s.size()); };
  const unsigned long whole = crc_of(block);
  unsigned long crc = crc32_z(0, nullptr, 0);
  for (std::uint64_t i = 0; i < size / block.size(); ++i) { crc = crc32_combine(crc, whole, static_cast<z_off_t>(block.size())); }
  std::size_t rest = size % block.size();
  crc = crc32_combine(crc, crc_of(std::string_view(block).substr(0, rest)), static_cast<z_off_t>(rest));
  return static_cast<std::uint32_t>(crc);
}

TEST(BoxZip, Zip64ForAnEntryOver4GiBAndTheOffsetsBehindIt) {
  const std::uint64_t big = (4ULL << 30) + 12345;  // past 0xFFFFFFFF
  std::vector<ZipEntry> entries = {{"big.bin", big, 1700000000}, {"after.txt", 5, 1700000000}, {"z/", 0, 1700000000}};
  const std::uint64_t length = zip_length(entries);
  ZipOpener open = [](std::size_t i) -> awaitable<Result<std::unique_ptr<ByteSource>>> {
    std::unique_ptr<ByteSource> s;
    if (i == 0) {
      s = std::make_unique<Generated>((4ULL << 30) + 12345);
    } else {
      s = std::make_unique<StringSource>("after");
    }
    co_return s;
  };
  auto source = make_zip_source(entries, std::move(open));
  // Keep the head and the tail; the 4 GiB between only streams through.
  std::string head, tail;
  const std::uint64_t tail_from = length - 4096;
  const std::uint32_t big_crc = generated_crc(big);
  auto n = drain(*source, [&](std::uint64_t pos, std::string_view piece) {
    if (pos < 4096) { head += piece.substr(0, std::min<std::uint64_t>(piece.size(), 4096 - pos)); }
    if (pos + piece.size() > tail_from) { tail += piece.substr(pos >= tail_from ? 0 : tail_from - pos); }
  });
  ASSERT_TRUE(n);
  ASSERT_EQ(*n, length);
  ASSERT_EQ(tail.size(), 4096u);
  auto at = [&](std::uint64_t abs, int bytes) { return le(tail, abs - tail_from, bytes); };

  // Local header of big.bin: version 4.5, both sizes 0xFFFFFFFF, a ZIP64 field with zero sizes.
  EXPECT_EQ(le(head, 0, 4), 0x04034b50u);
  EXPECT_EQ(le(head, 4, 2), 45u);
  EXPECT_EQ(le(head, 18, 4), 0xFFFFFFFFu);
  EXPECT_EQ(le(head, 22, 4), 0xFFFFFFFFu);
  std::size_t name_len = le(head, 26, 2), extra_len = le(head, 28, 2);
  EXPECT_EQ(head.substr(30, name_len), "big.bin");
  EXPECT_EQ(le(head, 30 + name_len, 2), 1u);
  EXPECT_EQ(le(head, 32 + name_len, 2), 16u);
  EXPECT_EQ(le(head, 34 + name_len, 8), 0u);
  EXPECT_EQ(le(head, 42 + name_len, 8), 0u);
  const std::uint64_t data = 30 + name_len + extra_len;
  for (std::uint64_t i = 0; i < 64; ++i) { EXPECT_EQ(head[data + i], pattern(i)); }

  // Its data descriptor: 8-byte sizes.
  const std::uint64_t dd = data + big;
  EXPECT_EQ(at(dd, 4), 0x08074b50u);
  EXPECT_EQ(at(dd + 4, 4), big_crc);
  EXPECT_EQ(at(dd + 8, 8), big);
  EXPECT_EQ(at(dd + 16, 8), big);
  const std::uint64_t after = dd + 24;  // past 4 GiB
  EXPECT_EQ(at(after, 4), 0x04034b50u);
  EXPECT_EQ(at(after + 4, 2), 20u);  // a small entry needs no ZIP64 field of its own

  // The end: ZIP64 end record, its locator, then the classic record pointing at them.
  const std::uint64_t end = length - 22;
  EXPECT_EQ(at(end, 4), 0x06054b50u);
  EXPECT_EQ(at(end + 10, 2), 3u);
  EXPECT_EQ(at(end + 16, 4), 0xFFFFFFFFu);  // the central directory starts past 4 GiB
  const std::uint64_t locator = end - 20;
  EXPECT_EQ(at(locator, 4), 0x07064b50u);
  const std::uint64_t end64 = at(locator + 8, 8);
  EXPECT_EQ(end64, locator - 56);
  EXPECT_EQ(at(end64, 4), 0x06064b50u);
  EXPECT_EQ(at(end64 + 4, 8), 44u);
  EXPECT_EQ(at(end64 + 24, 8), 3u);
  EXPECT_EQ(at(end64 + 32, 8), 3u);
  const std::uint64_t cd_size = at(end64 + 40, 8), cd = at(end64 + 48, 8);
  EXPECT_EQ(cd + cd_size, end64);

  // Central entries: big.bin's sizes in its ZIP64 field, after.txt's offset in its own.
  std::uint64_t pos = cd;
  std::vector<std::string> names;
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(at(pos, 4), 0x02014b50u);
    std::uint64_t nlen = at(pos + 28, 2), xlen = at(pos + 30, 2);
    std::string name = tail.substr(pos + 46 - tail_from, nlen);
    names.push_back(name);
    std::uint64_t x = pos + 46 + nlen;
    ASSERT_EQ(at(x, 2), 1u) << name;  // the ZIP64 field comes first
    if (name == "big.bin") {
      EXPECT_EQ(at(pos + 16, 4), big_crc);
      EXPECT_EQ(at(pos + 20, 4), 0xFFFFFFFFu);
      EXPECT_EQ(at(pos + 24, 4), 0xFFFFFFFFu);
      EXPECT_EQ(at(pos + 42, 4), 0u);
      EXPECT_EQ(at(x + 2, 2), 16u);
      EXPECT_EQ(at(x + 4, 8), big);
      EXPECT_EQ(at(x + 12, 8), big);
    } else {
      EXPECT_EQ(at(pos + 6, 2), 45u);
      EXPECT_EQ(at(pos + 24, 4), name == "after.txt" ? 5u : 0u);
      EXPECT_EQ(at(pos + 42, 4), 0xFFFFFFFFu);
      EXPECT_EQ(at(x + 2, 2), 8u);
      EXPECT_EQ(at(x + 4, 8), name == "after.txt" ? after : after + 30 + 9 + 9 + 5 + 16);
    }
    if (name == "after.txt") { EXPECT_EQ(at(pos + 16, 4), bitwise_crc32("after")); }
    pos += 46 + nlen + xlen;
  }
  EXPECT_EQ(names, (std::vector<std::string>{"big.bin", "after.txt", "z/"}));
  EXPECT_EQ(pos, end64);
}

TEST(BoxZip, MoreThan65535EntriesGetZip64EndRecords) {
  std::vector<ZipEntry> entries;
  char name[16];
  for (int i = 0; i < 70000; ++i) {
    std::snprintf(name, sizeof name, "d%05d/", i);
    entries.push_back(ZipEntry{name, 0, 1700000000});
  }
  auto source = make_zip_source(entries, from_strings({}));
  std::string z;
  ASSERT_TRUE(drain(*source, [&](std::uint64_t, std::string_view piece) { z += piece; }));
  ASSERT_EQ(z.size(), zip_length(entries));
  std::size_t end = z.size() - 22;
  EXPECT_EQ(le(z, end + 8, 2), 0xFFFFu);
  EXPECT_EQ(le(z, end + 10, 2), 0xFFFFu);
  std::size_t end64 = le(z, end - 20 + 8, 8);
  EXPECT_EQ(le(z, end64, 4), 0x06064b50u);
  EXPECT_EQ(le(z, end64 + 32, 8), 70000u);
  std::uint64_t cd = le(z, end64 + 48, 8);
  // The last central entry names the last folder.
  std::uint64_t pos = cd;
  std::string last;
  for (int i = 0; i < 70000; ++i) {
    std::uint64_t nlen = le(z, pos + 28, 2), xlen = le(z, pos + 30, 2);
    last = z.substr(pos + 46, nlen);
    pos += 46 + nlen + xlen;
  }
  EXPECT_EQ(last, "d69999/");
  EXPECT_EQ(pos, end64);
}

TEST(BoxZip, AContentThatEndsEarlyFailsTheRead) {
  std::vector<ZipEntry> entries = {{"short.txt", 100, 0}};
  auto source = make_zip_source(entries, from_strings({{0, "only 19 bytes here."}}));
  auto n = drain(*source, [](std::uint64_t, std::string_view) {});
  ASSERT_FALSE(n);
  EXPECT_EQ(n.error().code, Errc::unavailable);
}

TEST(BoxZip, TheOpenersErrorFailsTheRead) {
  std::vector<ZipEntry> entries = {{"gone.txt", 10, 0}};
  ZipOpener open = [](std::size_t) -> awaitable<Result<std::unique_ptr<ByteSource>>> {
    co_return make_error(Errc::not_found, "content is gone");
  };
  auto source = make_zip_source(entries, std::move(open));
  auto n = drain(*source, [](std::uint64_t, std::string_view) {});
  ASSERT_FALSE(n);
  EXPECT_EQ(n.error().code, Errc::not_found);
}

}  // namespace
}  // namespace ciel::box::dav
