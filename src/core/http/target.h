// core/http/target.h: the request-target parser and path normaliser. Every request passes
// through parse_target before routing, so no handler ever sees "..", "%2e%2e", a NUL byte,
// invalid UTF-8 or an overlong path. Pure functions; fuzzed by tests/fuzz/path_fuzz.cc.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

namespace ciel::http {

struct Target {
  std::string path;      // percent-decoded, starts with '/', repeated slashes kept (object names may hold them)
  std::string raw_path;  // as sent, still encoded
  std::string query;     // raw, without '?'
};

inline constexpr std::size_t kMaxPathBytes = 8192;

// Errc::invalid_argument for a malformed target (bad escape, NUL, dot segment, bad UTF-8);
// Errc::too_large when the path is longer than max_path_bytes.
Result<Target> parse_target(std::string_view raw, std::size_t max_path_bytes = kMaxPathBytes);

// Decodes %XX escapes (and '+' as space when asked). Errc::invalid_argument on a bad escape.
Result<std::string> percent_decode(std::string_view text, bool plus_as_space = false);
// Encodes everything but unreserved characters and those in `keep` (never NUL or '%'), so
// percent_decode(percent_encode(x, keep)) == x for any x and keep.
std::string percent_encode(std::string_view text, std::string_view keep = "");
// Splits a query string into decoded name/value pairs; malformed escapes are kept verbatim.
std::vector<std::pair<std::string, std::string>> parse_query(std::string_view query);
bool valid_utf8(std::string_view text);

// The code point of the UTF-8 sequence starting at text[i] and its length in bytes; nullopt when
// it is not a valid one (truncated, overlong, a surrogate, or past U+10FFFF).
struct CodePoint {
  std::uint32_t value = 0;
  std::size_t length = 0;
};
std::optional<CodePoint> decode_utf8(std::string_view text, std::size_t i);

}  // namespace ciel::http
