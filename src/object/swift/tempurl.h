// object/swift/tempurl.h: temporary URLs (swift/common/middleware/tempurl.py) and the signature
// forms Swift shares with FormPost (swift/common/digest.py). A temp URL grants one method on one
// object (or every object under a prefix) until it expires, signed with an account or container
// Temp-URL key. Pure functions.
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

namespace ciel::object::swift {

// A signature as a client writes it: 40, 64 or 128 hex digits (HMAC-SHA1, -SHA256, -SHA512), or
// "<digest>:<base64>" with digest sha1, sha256 or sha512 and the standard or URL-safe alphabet,
// padding optional. `hex` is the signature in lowercase hex. std::nullopt when malformed, of an
// unknown digest or of the wrong length for its digest.
struct Signature {
  std::string digest;  // "sha1", "sha256" or "sha512"
  std::string hex;
};
std::optional<Signature> parse_signature(std::string_view text);

// Lowercase hex HMAC of `message` under `key`; std::nullopt for a digest other than sha1, sha256, sha512.
std::optional<std::string> hmac_hex(std::string_view digest, std::string_view key, std::string_view message);

struct TempUrlParams {
  std::string sig;     // lowercase hex, whichever form the client sent
  std::string digest;  // "sha1", "sha256" or "sha512"
  std::int64_t expires = 0;               // unix seconds
  std::optional<std::string> prefix;      // temp_url_prefix: the URL covers every object starting so
  std::optional<std::string> filename;    // filename: for Content-Disposition
  bool inline_ = false;                   // inline: Content-Disposition: inline
};

// Whether the query asks for temp URL access at all (temp_url_sig or temp_url_expires is present);
// a request without either goes through normal authentication.
bool is_tempurl_request(const std::vector<std::pair<std::string, std::string>>& decoded_params);

// From the decoded query parameters (the first of each name counts): temp_url_sig (see
// parse_signature), temp_url_expires (unix seconds, or ISO 8601 UTC "2026-11-29T20:00:00Z"),
// temp_url_prefix, filename, inline. Errc::unauthenticated "Temp URL invalid" (Swift answers 401)
// when the signature or expiry is missing or malformed; `detail` says which.
// temp_url_ip_range is not supported: a signature covering an IP range never validates.
Result<TempUrlParams> parse_tempurl_query(const std::vector<std::pair<std::string, std::string>>& decoded_params);

// Whether `params` authorise `method` on `path`, the decoded request path "/v1/AUTH_x/c/o", at unix
// time `now` with one of `keys`: the URL has not expired (now <= expires), the method is GET, HEAD,
// PUT, POST or DELETE, the path names an object, the object starts with the prefix of a prefix
// URL, and the HMAC of "METHOD\nEXPIRES\n/v1/AUTH_x/c/o" (prefix URLs: "METHOD\nEXPIRES\n
// prefix:/v1/AUTH_x/c/PREFIX") under one key equals the signature (compared in constant time).
// A HEAD is also allowed by a GET, POST or PUT signature.
bool tempurl_valid(const TempUrlParams& params, std::span<const std::string> keys, std::string_view method,
                   std::string_view path, std::int64_t now);

// The hex signature a client computes; `path` is "/v1/AUTH_x/c/o" or "prefix:/v1/AUTH_x/c/PREFIX".
// Empty for an unknown digest. For tests and tools.
std::string tempurl_signature(std::string_view digest, std::string_view key, std::string_view method, std::int64_t expires,
                              std::string_view path);

}  // namespace ciel::object::swift
