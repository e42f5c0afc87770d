// object/swift/formpost.h: browser form uploads (swift/common/middleware/formpost.py). The form's
// fields (redirect, max_file_size, max_file_count, expires, signature) come before its files; the
// signature is an HMAC, under an account Temp-URL key, of
//   "PATH\nREDIRECT\nMAX_FILE_SIZE\nMAX_FILE_COUNT\nEXPIRES"
// with the fields exactly as sent, in one of the forms parse_signature (tempurl.h) reads: hex
// (HMAC-SHA1, -SHA256 or -SHA512 by length) or "sha256:<base64>" / "sha512:<base64>".
// The parts themselves come from MultipartReader (multipart.h).
#pragma once
#include <boost/asio/awaitable.hpp>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/bytes.h"
#include "core/result.h"

namespace ciel::object::swift {

inline constexpr std::size_t kMaxFormFieldBytes = 4096;  // formpost.py's MAX_VALUE_LENGTH

struct FormPostAttrs {
  std::string redirect;
  std::uint64_t max_file_size = 0;
  std::uint64_t max_file_count = 0;
  std::int64_t expires = 0;
  std::string signature;
  // The numeric fields as sent ("0" when absent or empty): what the signature covers.
  std::string max_file_size_text = "0";
  std::string max_file_count_text = "0";
  std::string expires_text = "0";
};

// From the plain (non-file) fields read so far, as (name lowercased, value) pairs; as in formpost.py
// the last of a repeated name counts and other names are ignored. Negative sizes and counts become 0.
// Errc::invalid_argument with Swift's FormInvalid text: "max_file_size not an integer",
// "max_file_count not an integer", "expired not an integer".
Result<FormPostAttrs> parse_formpost_attrs(const std::vector<std::pair<std::string, std::string>>& fields);

// "path\nredirect\nmax_file_size\nmax_file_count\nexpires". `path` is the decoded request path,
// "/v1/AUTH_x/container[/object_prefix]".
std::string formpost_hmac_body(std::string_view path, std::string_view redirect, std::uint64_t max_file_size,
                               std::uint64_t max_file_count, std::int64_t expires);
std::string formpost_hmac_body(std::string_view path, const FormPostAttrs& attrs);  // the fields as sent

// Whether attrs.signature is the HMAC of formpost_hmac_body(path, attrs) under one of `keys`
// (compared in constant time). False with no keys or a malformed signature.
bool formpost_signature_valid(const FormPostAttrs& attrs, std::span<const std::string> keys, std::string_view path);

// Whether the form has expired at unix time `now` (expires < now; Swift answers 401 "form expired").
bool formpost_expired(const FormPostAttrs& attrs, std::int64_t now);

// A plain field's value as formpost.py keeps it: the first kMaxFormFieldBytes bytes of the part
// (the rest is read and dropped), with trailing '\r', '\n' and '-' characters removed.
boost::asio::awaitable<Result<std::string>> read_formpost_field(ByteSource& part);

}  // namespace ciel::object::swift
