// object/swift/slo.h: Static Large Object manifests (swift/common/middleware/slo.py). The manifest a
// client PUTs with ?multipart-manifest=put, the stored form ?multipart-manifest=get returns, and the
// large object's ETag. Pure functions; the handler HEADs the segments and writes the manifest.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

namespace ciel::object::swift {

inline constexpr std::size_t kMaxSloSegments = 1000;

// A segment's "range" as sent: "first-last", "first-" or "-suffix" (swob.Range syntax, one range).
// It is resolved against the segment object's size once the handler has HEADed it.
struct SloRange {
  std::optional<std::uint64_t> first;
  std::optional<std::uint64_t> last;  // inclusive; without `first`, the length of the suffix
  std::string raw;                    // as sent, spaces removed
  bool operator==(const SloRange&) const = default;
};

struct SloSegmentSpec {
  std::string path;                       // "/container/object": one leading '/', as slo.py stores it
  std::optional<std::string> etag;        // to verify, when given (null counts as absent)
  std::optional<std::uint64_t> size_bytes;  // to verify, when given; an integer or a decimal string
  std::optional<SloRange> range;          // absent for an empty or null "range"
  bool operator==(const SloSegmentSpec&) const = default;
};

// The inclusive byte range `range` selects from an object of `object_size` bytes, as swob's
// ranges_for_length clamps it ("-N" past the size is the whole object; "N-M" past the end is cut);
// std::nullopt when no byte is selected (Swift: "Unsatisfiable Range").
std::optional<std::pair<std::uint64_t, std::uint64_t>> resolve_slo_range(const SloRange& range, std::uint64_t object_size);

// Parses and validates a manifest PUT body. Every segment is checked and all problems are reported
// together, as slo.py's parse_and_validate_input does, in one Errc::invalid_argument whose message
// is Swift's 400 body, each line ending in "\n":
//   "Manifest must be valid JSON.\n", "Manifest must be a list.\n",
//   "Index 0: not a JSON object\n", "Index 0: expected keys to include one of 'data' or 'path'\n",
//   "Index 0: extraneous keys \"foo\"\n", "Index 0: \"path\" must be a string\n",
//   "Index 0: \"etag\" must be a string or null (if provided)\n",
//   "Index 0: path does not refer to an object. Path must be of the form /container/object.\n",
//   "Index 0: invalid size_bytes\n", "Index 0: too small; each segment must be at least 1 byte.\n",
//   "Index 0: manifest must not include itself as a segment\n" (when `manifest_path`, "/c/o", is given),
//   "Index 0: invalid range\n", "Index 0: multiple ranges (only one allowed)\n",
//   "Index 0: unsatisfiable range\n" (when size_bytes is given),
//   "Index 0: inline data segments are not supported\n" (Swift's {"data": ...} segments).
// Then Errc::too_large "Number of object-backed segments must be <= 1000" past `max_segments`.
// The handler limits the body size (Swift: 8 MiB) before calling this.
Result<std::vector<SloSegmentSpec>> parse_slo_put_manifest(std::string_view json, std::size_t max_segments = kMaxSloSegments,
                                                           std::string_view manifest_path = {});

// A segment as stored, after the handler has HEADed it.
struct SloSegment {
  std::string name;                  // "/container/object"
  std::string etag;                  // the segment object's ETag ("hash" in JSON)
  std::uint64_t bytes = 0;           // the segment object's whole size
  std::string content_type;
  std::string last_modified;         // "2026-11-29T20:00:00.000000" (UTC, no zone, as slo.py writes it)
  std::optional<std::string> range;  // "first-last", inclusive, when only part of the object is used
  bool sub_slo = false;              // the segment is itself an SLO manifest
  bool operator==(const SloSegment&) const = default;
};

// The stored manifest, which ?multipart-manifest=get returns as is: Python's json.dumps of
// [{"name", "bytes", "hash", "content_type", "last_modified", "range"?, "sub_slo"?}], with its
// ", " and ": " separators and non-ASCII escaped.
std::string render_slo_manifest(const std::vector<SloSegment>& segments);

// Reads a stored manifest back (any key order; unknown keys ignored). Errc::internal with
// "Unable to parse the SLO manifest" when it is not one: stored manifests are Ciel's own writing.
Result<std::vector<SloSegment>> parse_slo_stored_manifest(std::string_view json);

// Bytes a segment contributes: the range's length, or the whole object.
std::uint64_t slo_segment_length(const SloSegment& segment);
std::uint64_t slo_total_size(const std::vector<SloSegment>& segments);

// The large object's ETag (hex, unquoted): md5 of the segments' etags concatenated, a ranged
// segment contributing "etag:first-last;".
std::string slo_etag(const std::vector<SloSegment>& segments);

}  // namespace ciel::object::swift
