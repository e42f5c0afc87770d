#include "object/swift/tar.h"

#include <zlib.h>

#include <algorithm>
#include <climits>
#include <cstring>

namespace ciel::object::swift {
namespace {

constexpr std::size_t kBlock = 512;
constexpr std::size_t kSkipChunk = 16 * 1024;
constexpr std::size_t kGzipInput = 16 * 1024;
constexpr std::uint64_t kMaxEntryBytes = std::uint64_t{1} << 62;  // keeps size + padding from overflowing

Error malformed(std::string what) { return make_error(Errc::invalid_argument, std::move(what)); }
Error truncated() { return malformed("truncated tar archive"); }

std::uint64_t padding_for(std::uint64_t size) { return (kBlock - size % kBlock) % kBlock; }

// A NUL-terminated header field.
std::string_view text_field(const char* block, std::size_t offset, std::size_t len) {
  std::string_view f(block + offset, len);
  return f.substr(0, f.find('\0'));
}

// tarfile.nti: base-256 (first byte 0x80; 0xff, negative, is refused) or octal text, NUL- or
// space-terminated, possibly space-padded; an empty field is 0.
std::optional<std::uint64_t> number_field(const char* block, std::size_t offset, std::size_t len) {
  auto first = static_cast<unsigned char>(block[offset]);
  if (first == 0x80 || first == 0xff) {
    if (first == 0xff) { return std::nullopt; }
    std::uint64_t n = 0;
    for (std::size_t i = 1; i < len; ++i) {
      if ((n >> 56) != 0) { return std::nullopt; }
      n = (n << 8) | static_cast<unsigned char>(block[offset + i]);
    }
    return n;
  }
  std::string_view s = text_field(block, offset, len);
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) { s.remove_prefix(1); }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) { s.remove_suffix(1); }
  std::uint64_t n = 0;
  for (char c : s) {
    if (c < '0' || c > '7' || (n >> 61) != 0) { return std::nullopt; }
    n = n * 8 + static_cast<std::uint64_t>(c - '0');
  }
  return n;
}

// The stored checksum must equal the sum of the header's bytes with the checksum field read as
// spaces, taken unsigned or (as some old tars wrote it) signed.
bool checksum_ok(const char* block) {
  auto stored = number_field(block, 148, 8);
  if (!stored) { return false; }
  std::uint64_t unsigned_sum = 8 * ' ';
  std::int64_t signed_sum = 8 * ' ';
  for (std::size_t i = 0; i < kBlock; ++i) {
    if (i >= 148 && i < 156) { continue; }
    unsigned_sum += static_cast<unsigned char>(block[i]);
    signed_sum += static_cast<signed char>(block[i]);
  }
  return *stored == unsigned_sum || static_cast<std::int64_t>(*stored) == signed_sum;
}

bool all_zero(const char* block) {
  return std::all_of(block, block + kBlock, [](char c) { return c == '\0'; });
}

std::optional<std::uint64_t> decimal(std::string_view s) {
  if (s.empty() || s.size() > 19) { return std::nullopt; }
  std::uint64_t n = 0;
  for (char c : s) {
    if (c < '0' || c > '9') { return std::nullopt; }
    n = n * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return n;
}

struct PaxHeader {
  std::optional<std::string> path;
  std::optional<std::uint64_t> size;
  std::vector<std::pair<std::string, std::string>> other;
};

// Records "<length> <key>=<value>\n", the length counting the whole record.
Status parse_pax(std::string_view data, PaxHeader& out) {
  std::size_t pos = 0;
  while (pos < data.size() && data[pos] != '\0') {
    std::size_t space = data.find(' ', pos);
    if (space == std::string_view::npos) { return malformed("bad pax header"); }
    auto len = decimal(data.substr(pos, space - pos));
    if (!len || *len <= space - pos + 1 || *len > data.size() - pos) { return malformed("bad pax header"); }
    std::string_view record = data.substr(pos, static_cast<std::size_t>(*len));
    if (record.back() != '\n') { return malformed("bad pax header"); }
    std::string_view kv = record.substr(space - pos + 1, record.size() - (space - pos + 1) - 1);
    std::size_t eq = kv.find('=');
    if (eq == std::string_view::npos || eq == 0) { return malformed("bad pax header"); }
    std::string_view key = kv.substr(0, eq);
    std::string_view value = kv.substr(eq + 1);
    if (key == "path") {
      if (value.empty()) {
        out.path.reset();
      } else {
        out.path = std::string(value);
      }
    } else if (key == "size") {
      out.size = decimal(value);
      if (!out.size) { return malformed("bad pax header"); }
    } else if (key != "linkpath") {
      out.other.emplace_back(std::string(key), std::string(value));
    }
    pos += record.size();
  }
  return {};
}

}  // namespace

class TarReader::EntryBody final : public ByteSource {
 public:
  explicit EntryBody(TarReader& reader) : reader_(reader) {}
  boost::asio::awaitable<Result<std::size_t>> read(std::span<char> buf) override {
    co_return co_await reader_.body_read(buf);
  }

 private:
  TarReader& reader_;
};

TarReader::TarReader(ByteSource& in) : in_(in), body_(std::make_unique<EntryBody>(*this)) {}
TarReader::~TarReader() = default;

ByteSource& TarReader::entry_body() { return *body_; }

Error TarReader::fail(Error e) {
  failed_ = true;
  error_ = e;
  return e;
}

boost::asio::awaitable<Status> TarReader::read_block(char* block, bool& clean_eof) {
  clean_eof = false;
  std::size_t have = 0;
  while (have < kBlock) {
    auto n = co_await in_.read(std::span<char>(block + have, kBlock - have));
    if (!n) { co_return n.error(); }
    if (*n > kBlock - have) { co_return make_error(Errc::internal, "byte source overfilled the buffer"); }
    if (*n == 0) {
      if (have == 0) {
        clean_eof = true;
        co_return Status{};
      }
      co_return truncated();
    }
    have += *n;
  }
  co_return Status{};
}

boost::asio::awaitable<Status> TarReader::skip(std::uint64_t bytes) {
  if (bytes == 0) { co_return Status{}; }
  auto scratch = std::make_unique<char[]>(kSkipChunk);
  while (bytes > 0) {
    std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(bytes, kSkipChunk));
    auto n = co_await in_.read(std::span<char>(scratch.get(), want));
    if (!n) { co_return n.error(); }
    if (*n > want) { co_return make_error(Errc::internal, "byte source overfilled the buffer"); }
    if (*n == 0) { co_return truncated(); }
    bytes -= *n;
  }
  co_return Status{};
}

boost::asio::awaitable<Result<std::string>> TarReader::read_extended(std::uint64_t size) {
  if (size > kMaxTarExtendedHeaderBytes) { co_return malformed("tar extended header too large"); }
  std::string data(static_cast<std::size_t>(size), '\0');
  std::size_t have = 0;
  while (have < data.size()) {
    auto n = co_await in_.read(std::span<char>(data.data() + have, data.size() - have));
    if (!n) { co_return n.error(); }
    if (*n > data.size() - have) { co_return make_error(Errc::internal, "byte source overfilled the buffer"); }
    if (*n == 0) { co_return truncated(); }
    have += *n;
  }
  if (auto st = co_await skip(padding_for(size)); !st) { co_return st.error(); }
  co_return data;
}

boost::asio::awaitable<Result<std::size_t>> TarReader::body_read(std::span<char> buf) {
  if (failed_) { co_return error_; }
  if (remaining_ == 0 || buf.empty()) { co_return std::size_t{0}; }
  std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, buf.size()));
  auto n = co_await in_.read(buf.first(want));
  if (!n) { co_return fail(n.error()); }
  if (*n > want) { co_return fail(make_error(Errc::internal, "byte source overfilled the buffer")); }
  if (*n == 0) { co_return fail(truncated()); }
  remaining_ -= *n;
  co_return *n;
}

boost::asio::awaitable<Result<std::optional<TarEntry>>> TarReader::next() {
  if (failed_) { co_return error_; }
  if (done_) { co_return std::optional<TarEntry>{}; }
  if (auto st = co_await skip(remaining_ + padding_); !st) { co_return fail(st.error()); }
  remaining_ = 0;
  padding_ = 0;

  std::optional<std::string> long_name;
  PaxHeader pax;
  bool pending = false;  // an extended header waits for its entry
  char block[kBlock];
  for (;;) {
    bool clean_eof = false;
    if (auto st = co_await read_block(block, clean_eof); !st) { co_return fail(st.error()); }
    if (clean_eof || all_zero(block)) {
      if (pending) { co_return fail(truncated()); }
      done_ = true;
      co_return std::optional<TarEntry>{};
    }
    if (!checksum_ok(block)) { co_return fail(malformed("bad tar header checksum")); }
    auto size = number_field(block, 124, 12);
    auto mode = number_field(block, 100, 8);
    auto mtime = number_field(block, 136, 12);
    if (!size || !mode || !mtime || *size > kMaxEntryBytes) { co_return fail(malformed("bad number in tar header")); }
    char type = block[156];
    if (type == 'L' || type == 'x' || type == 'g') {
      auto data = co_await read_extended(*size);
      if (!data) { co_return fail(data.error()); }
      if (type == 'L') {
        long_name = std::string(std::string_view(*data).substr(0, data->find('\0')));
        pending = true;
      } else if (type == 'x') {
        if (auto st = parse_pax(*data, pax); !st) { co_return fail(st.error()); }
        pending = true;
      }
      continue;
    }
    std::uint64_t data_size = pax.size ? *pax.size : *size;
    if (data_size > kMaxEntryBytes) { co_return fail(malformed("bad pax header")); }
    bool regular = type == '0' || type == '\0' || type == '7';
    if (!regular && type != '5') {
      // Links, devices, FIFOs, sparse files, GNU long link names ('K') and unknown types.
      if (auto st = co_await skip(data_size + padding_for(data_size)); !st) { co_return fail(st.error()); }
      if (type != 'K') {
        long_name.reset();
        pax = PaxHeader{};
        pending = false;
      }
      continue;
    }
    TarEntry entry;
    if (pax.path) {
      entry.path = std::move(*pax.path);
    } else if (long_name) {
      entry.path = std::move(*long_name);
    } else {
      std::string_view name = text_field(block, 0, 100);
      std::string_view prefix = text_field(block, 345, 155);
      bool posix = std::memcmp(block + 257, "ustar\0", 6) == 0;
      entry.path = posix && !prefix.empty() ? std::string(prefix) + "/" + std::string(name) : std::string(name);
    }
    entry.type = type;
    entry.mode = static_cast<std::uint32_t>(*mode & 07777);
    entry.mtime = static_cast<std::int64_t>(std::min<std::uint64_t>(*mtime, INT64_MAX));
    entry.pax = std::move(pax.other);
    entry.is_directory = type == '5' || (type == '\0' && entry.path.ends_with('/'));
    if (entry.is_directory) {
      while (entry.path.size() > 1 && entry.path.ends_with('/')) { entry.path.pop_back(); }
      if (auto st = co_await skip(data_size + padding_for(data_size)); !st) { co_return fail(st.error()); }
      entry.size = 0;
    } else {
      entry.size = data_size;
      remaining_ = data_size;
      padding_ = padding_for(data_size);
    }
    co_return std::optional<TarEntry>{std::move(entry)};
  }
}

namespace {

class GunzipSource final : public ByteSource {
 public:
  explicit GunzipSource(ByteSource& in) : in_(in), input_(std::make_unique<char[]>(kGzipInput)) {
    ready_ = inflateInit2(&zs_, 16 + MAX_WBITS) == Z_OK;
  }
  ~GunzipSource() override {
    if (ready_) { inflateEnd(&zs_); }
  }
  GunzipSource(const GunzipSource&) = delete;
  GunzipSource& operator=(const GunzipSource&) = delete;

  boost::asio::awaitable<Result<std::size_t>> read(std::span<char> out) override {
    if (error_) { co_return *error_; }
    if (!ready_) { co_return set_error(make_error(Errc::internal, "could not start zlib")); }
    if (finished_ || out.empty()) { co_return std::size_t{0}; }
    std::size_t room = std::min<std::size_t>(out.size(), UINT_MAX);
    for (;;) {
      if (member_done_) {
        // Another member follows only if it starts with the gzip magic; anything else ends the stream.
        while (zs_.avail_in < 2 && !in_eof_) {
          if (auto st = co_await refill(); !st) { co_return set_error(st.error()); }
        }
        if (zs_.avail_in < 2 || zs_.next_in[0] != 0x1f || zs_.next_in[1] != 0x8b) {
          finished_ = true;
          co_return std::size_t{0};
        }
        if (inflateReset(&zs_) != Z_OK) { co_return set_error(make_error(Errc::internal, "could not reset zlib")); }
        member_done_ = false;
      }
      if (zs_.avail_in == 0 && !in_eof_) {
        if (auto st = co_await refill(); !st) { co_return set_error(st.error()); }
      }
      uInt before = zs_.avail_in;
      zs_.next_out = reinterpret_cast<Bytef*>(out.data());
      zs_.avail_out = static_cast<uInt>(room);
      int rc = inflate(&zs_, Z_NO_FLUSH);
      std::size_t produced = room - zs_.avail_out;
      if (rc == Z_STREAM_END) {
        member_done_ = true;
        if (produced > 0) { co_return produced; }
        continue;
      }
      if (rc != Z_OK && rc != Z_BUF_ERROR) {
        co_return set_error(make_error(Errc::invalid_argument, "corrupt gzip stream", zs_.msg != nullptr ? zs_.msg : "inflate failed"));
      }
      if (produced > 0) { co_return produced; }
      if (zs_.avail_in == 0) {
        if (in_eof_) { co_return set_error(make_error(Errc::invalid_argument, "truncated gzip stream")); }
        continue;
      }
      if (zs_.avail_in == before) {
        co_return set_error(make_error(Errc::invalid_argument, "corrupt gzip stream", "inflate made no progress"));
      }
    }
  }

 private:
  Error set_error(Error e) {
    error_ = e;
    return e;
  }

  boost::asio::awaitable<Status> refill() {
    std::size_t kept = zs_.avail_in;
    if (kept > 0 && zs_.next_in != reinterpret_cast<Bytef*>(input_.get())) { std::memmove(input_.get(), zs_.next_in, kept); }
    auto n = co_await in_.read(std::span<char>(input_.get() + kept, kGzipInput - kept));
    if (!n) { co_return n.error(); }
    if (*n > kGzipInput - kept) { co_return make_error(Errc::internal, "byte source overfilled the buffer"); }
    if (*n == 0) { in_eof_ = true; }
    zs_.next_in = reinterpret_cast<Bytef*>(input_.get());
    zs_.avail_in = static_cast<uInt>(kept + *n);
    co_return Status{};
  }

  ByteSource& in_;
  std::unique_ptr<char[]> input_;
  z_stream zs_{};
  bool ready_ = false;
  bool in_eof_ = false;
  bool member_done_ = false;
  bool finished_ = false;
  std::optional<Error> error_;
};

}  // namespace

std::unique_ptr<ByteSource> make_gunzip_source(ByteSource& in) { return std::make_unique<GunzipSource>(in); }

}  // namespace ciel::object::swift
