// object/swift/tar.h: streaming readers for bulk archive auto-extract (?extract-archive=tar and
// tar.gz): a tar reader that yields entries one at a time with their bytes as a ByteSource, and a
// gunzip source to put in front of it. Both borrow their input, hold a bounded amount of memory
// whatever the archive's size, and are used from one coroutine at a time.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/bytes.h"
#include "core/result.h"

namespace ciel::object::swift {

inline constexpr std::size_t kMaxTarExtendedHeaderBytes = 64 * 1024;  // a GNU long name or a pax header

struct TarEntry {
  std::string path;  // pax "path", else the GNU long name, else ustar prefix + "/" + name; directories
                     // without their trailing '/'. Raw bytes, as stored (not checked as UTF-8).
  std::uint64_t size = 0;     // bytes entry_body() yields (0 for a directory)
  bool is_directory = false;  // type '5', or a V7 regular entry whose name ends in '/': skip it
  char type = '0';            // the header's typeflag: '0', '\0' or '7' for files, '5' for directories
  std::uint32_t mode = 0;
  std::int64_t mtime = 0;
  // Other records of the entry's pax header, e.g. ("SCHILY.xattr.user.mime_type", "text/plain"),
  // which Swift turns into Content-Type and X-Object-Meta-* headers.
  std::vector<std::pair<std::string, std::string>> pax;
};

class TarReader {
 public:
  explicit TarReader(ByteSource& in);
  ~TarReader();
  TarReader(const TarReader&) = delete;
  TarReader& operator=(const TarReader&) = delete;

  // The next regular file or directory; std::nullopt at the end of the archive (a zero block, or
  // the end of input on a block boundary). Skips what the caller left unread of the previous entry
  // and every entry of another type (links, devices, FIFOs, sparse files, pax global headers).
  // Reads ustar and GNU archives: GNU long names ('L'), pax extended headers ('x': path, size),
  // base-256 sizes. Errors: Errc::invalid_argument for a header whose checksum does not match,
  // a malformed number or pax record, an extended header over kMaxTarExtendedHeaderBytes, or input
  // that ends inside a header or an entry ("truncated tar archive"); the input's own errors as
  // they come (e.g. a corrupt gzip stream). Messages are short ("bad tar header checksum"); Swift
  // shows them as "Invalid Tar File: <message>". An error is final: later calls repeat it.
  boost::asio::awaitable<Result<std::optional<TarEntry>>> next();

  // The bytes of the entry next() returned last, exactly `size` of them; read() returns 0 after,
  // and before the first next().
  ByteSource& entry_body();

 private:
  class EntryBody;
  boost::asio::awaitable<Status> read_block(char* block, bool& clean_eof);
  boost::asio::awaitable<Status> skip(std::uint64_t bytes);
  boost::asio::awaitable<Result<std::string>> read_extended(std::uint64_t size);
  boost::asio::awaitable<Result<std::size_t>> body_read(std::span<char> buf);
  Error fail(Error e);

  ByteSource& in_;
  std::unique_ptr<EntryBody> body_;
  std::uint64_t remaining_ = 0;  // bytes of the current entry not yet read
  std::uint64_t padding_ = 0;    // zero bytes after it, up to the next 512-byte block
  bool done_ = false;
  bool failed_ = false;
  Error error_;
};

// A source of the bytes gzip-compressed in `in` (RFC 1952 members, one after another; whatever
// follows the last member that does not start like one is ignored). read() fails with
// Errc::invalid_argument "corrupt gzip stream" (detail: zlib's message) on bad data and
// "truncated gzip stream" when the input ends inside a member. Holds 16 KiB of input and zlib's
// inflate state (about 44 KiB).
std::unique_ptr<ByteSource> make_gunzip_source(ByteSource& in);

}  // namespace ciel::object::swift
