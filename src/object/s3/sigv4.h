// object/s3/sigv4.h: AWS request signatures, as pure functions over the parts of a request:
// Signature Version 4 (Authorization header and presigned query strings) and Signature
// Version 2 (the header "AWS access:signature" and the query form). No I/O and no secrets
// lookup here: auth.cc finds the secret (identity's EC2 credentials) and calls these. Every
// parser is fuzzed (tests/fuzz/s3_sigv4_fuzz.cc).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

namespace ciel::object::s3 {

// What a signature is computed over, taken from the request as received.
struct SignedRequest {
  std::string method;                                      // "GET", "PUT", ...
  std::string raw_path;                                    // the path as sent, still percent-encoded
  std::vector<std::pair<std::string, std::string>> query;  // decoded name/value pairs, in the order sent
  std::vector<std::pair<std::string, std::string>> headers;  // names as sent (any case), values as sent
};

inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";
inline constexpr std::string_view kStreamingPayload = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
inline constexpr std::string_view kEmptySha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// The credential scope and signature of a SigV4 request, from either the Authorization header
// ("AWS4-HMAC-SHA256 Credential=AK/20240101/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=hex")
// or the presigned query (X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date, X-Amz-Expires,
// X-Amz-SignedHeaders, X-Amz-Signature).
struct SigV4 {
  std::string access_key;
  std::string date;      // yyyymmdd, from the scope
  std::string region;
  std::string service;   // "s3"
  std::vector<std::string> signed_headers;  // lowercase, sorted as sent
  std::string signature;  // lowercase hex
  std::string amz_date;   // yyyymmddThhmmssZ (X-Amz-Date header or query)
  bool presigned = false;
  std::int64_t expires_s = 0;  // presigned: X-Amz-Expires (1..604800)
};

// Errc::invalid_argument with a message naming what is wrong (S3's
// AuthorizationHeaderMalformed / AuthorizationQueryParametersError). `amz_date` is the
// X-Amz-Date (or Date) header's value for the header form.
Result<SigV4> parse_sigv4_header(std::string_view authorization, std::string_view amz_date);
Result<SigV4> parse_sigv4_query(const std::vector<std::pair<std::string, std::string>>& query);

// URI-encodes as SigV4 wants: unreserved characters (A-Z a-z 0-9 - _ . ~) kept, everything
// else %XX with uppercase hex; '/' kept when `keep_slash`.
std::string uri_encode(std::string_view s, bool keep_slash);

// The canonical request: method, canonical URI (S3 does not normalise the path: the raw
// path's segments are decoded then encoded again), canonical query (sorted by encoded name
// then value; X-Amz-Signature left out for presigned requests), canonical headers (the signed
// ones, lowercased, values trimmed and inner spaces collapsed, multiple values joined by ','),
// the signed header list and the payload hash. Errc::invalid_argument when a signed header is
// absent (except "host", which the caller puts in `headers`).
Result<std::string> canonical_request(const SignedRequest& req, const SigV4& sig, std::string_view payload_hash);
// "AWS4-HMAC-SHA256\n<amz_date>\n<date>/<region>/<service>/aws4_request\n<hex sha256 of canonical request>"
std::string string_to_sign(const SigV4& sig, std::string_view canonical);
// HMAC chain: "AWS4"+secret, date, region, service, "aws4_request". Raw 32 bytes.
std::string signing_key(std::string_view secret, std::string_view date, std::string_view region, std::string_view service);
// Lowercase hex HMAC-SHA256 of `string_to_sign` under `key`.
std::string sign(std::string_view key, std::string_view string_to_sign);

// aws-chunked: the string each chunk's signature is over.
// "AWS4-HMAC-SHA256-PAYLOAD\n<amz_date>\n<scope>\n<previous signature>\n<sha256 of ''>\n<hex sha256 of chunk>"
std::string chunk_string_to_sign(const SigV4& sig, std::string_view previous_signature, std::string_view chunk_sha256_hex);

// "yyyymmddThhmmssZ" -> unix seconds; nullopt when malformed.
std::optional<std::int64_t> parse_amz_date(std::string_view s);
// An RFC 1123 date ("Sun, 06 Nov 1994 08:49:37 GMT") -> unix seconds (the Date header, V2).
std::optional<std::int64_t> parse_http_date(std::string_view s);

// --- Signature Version 2 ----------------------------------------------------------------------
struct SigV2 {
  std::string access_key;
  std::string signature;  // base64
  bool presigned = false;
  std::int64_t expires_s = 0;  // presigned: the Expires query parameter (unix seconds)
};
// "AWS AK:sig" -> SigV2; Errc::invalid_argument when malformed.
Result<SigV2> parse_sigv2_header(std::string_view authorization);
// AWSAccessKeyId, Signature, Expires in the query.
Result<SigV2> parse_sigv2_query(const std::vector<std::pair<std::string, std::string>>& query);
// The V2 string to sign: method, Content-MD5, Content-Type, Date (or Expires for presigned;
// empty when x-amz-date is sent), the canonicalised x-amz-* headers, then the canonical
// resource: the raw path plus the sub-resources S3 signs (acl, cors, delete, lifecycle, location,
// partNumber, policy, tagging, uploadId, uploads, versionId, versioning, versions, website and
// the response-* overrides), sorted.
std::string sigv2_string_to_sign(const SignedRequest& req, const SigV2& sig);
// base64(HMAC-SHA1(secret, string_to_sign))
std::string sigv2_sign(std::string_view secret, std::string_view string_to_sign);

}  // namespace ciel::object::s3
