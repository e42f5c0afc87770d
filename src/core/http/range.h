// core/http/range.h: RFC 9110 Range and conditional-request helpers shared by every API that
// serves bytes (Swift, S3, WebDAV, Glance).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace ciel::http {

struct ByteRange {
  std::uint64_t first = 0;
  std::uint64_t length = 0;
  std::string content_range(std::uint64_t total) const;  // "bytes 0-99/1000"
};

// nullopt: no Range header or one to ignore (multiple ranges, unknown unit) -> send the whole body.
// Errc::precondition_failed: unsatisfiable -> 416 with "Content-Range: bytes */size".
Result<std::optional<ByteRange>> parse_range(std::string_view header, std::uint64_t size);

// Several ranges ("bytes=0-9,20-29,-5"), for multipart/byteranges answers (Swift). Empty: no
// Range header or a malformed one (send the whole body). Unsatisfiable ranges are dropped;
// Errc::precondition_failed when none is left.
Result<std::vector<ByteRange>> parse_ranges(std::string_view header, std::uint64_t size);

// ETag comparison for If-Match / If-None-Match lists ("*", weak tags, quoted or not).
bool etag_matches(std::string_view header_list, std::string_view etag);

}  // namespace ciel::http
