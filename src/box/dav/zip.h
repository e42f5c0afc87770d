// box/dav/zip.h: a zip archive of files and folders, written while it is read, for downloading a
// folder in one go (the owner's WebDAV, public WebDAV and the link page all use it).
//
// The archive is a ByteSource over a list of entries known in advance; each file's bytes are
// opened when the archive reaches it and pass through the caller's buffer once, so memory stays
// at a few hundred bytes per entry (what the central directory needs) whatever the sizes. Entries
// are stored (method 0, no compression), with their CRC-32 computed while they stream and written
// after them in a data descriptor (general purpose flag bit 3), names in UTF-8 (flag bit 11), the
// modification time as DOS time (UTC) and as an extended timestamp (0x5455), and ZIP64 extra
// fields and end records wherever a size, an offset or the number of entries passes what the
// 32-bit (16-bit for counts) fields hold. Since every size is known, so is the archive's length.
// One coroutine reads the source at a time.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/result.h"

namespace ciel::box::dav {

struct ZipEntry {
  std::string name;        // UTF-8, '/' between segments, no leading '/'; a folder's ends with '/'
  std::uint64_t size = 0;  // bytes of the file's content (0 for a folder)
  std::int64_t mtime = 0;  // unix seconds
};

// The content of file entry `index`, opened when the archive reaches it; it must yield exactly the
// entry's `size` bytes (fewer fails the read with Errc::unavailable; more are not read).
using ZipOpener = std::function<boost::asio::awaitable<Result<std::unique_ptr<ByteSource>>>(std::size_t index)>;

// The archive's exact length in bytes.
std::uint64_t zip_length(const std::vector<ZipEntry>& entries);

// The archive, as a source of zip_length(entries) bytes. A read fails with the opener's error, or
// Errc::unavailable when a content ends early; the caller then cuts the download.
std::unique_ptr<ByteSource> make_zip_source(std::vector<ZipEntry> entries, ZipOpener open);

}  // namespace ciel::box::dav
