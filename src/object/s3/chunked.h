// object/s3/chunked.h: the aws-chunked body encoding (STREAMING-AWS4-HMAC-SHA256-PAYLOAD). A
// body is a series of "<hex size>;chunk-signature=<sig>\r\n<data>\r\n" ending with a zero-size
// chunk. Each chunk's signature chains from the previous one (the first from the request's
// seed signature) and is checked before its bytes are handed on, so a tampered or truncated
// body fails before the object is committed. Also the plain payload-hash check
// (x-amz-content-sha256 with a hex digest).
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "core/bytes.h"
#include "object/s3/sigv4.h"

namespace ciel::object::s3 {

// Wraps `inner` (the raw request body) and yields the decoded payload. Errors from read():
// Errc::invalid_argument (malformed framing: "IncompleteBody"-like message), Errc::unauthenticated
// with message kChunkSignatureMismatch when a chunk's signature is wrong, and Errc::invalid_argument
// when the decoded length differs from `decoded_length` (x-amz-decoded-content-length) when given.
// Chunk headers longer than 4 KiB are refused. `signing_key` is signing_key(secret, ...) for the
// request's scope; `sig` gives the scope and the seed signature.
inline constexpr std::string_view kChunkSignatureMismatch = "The chunk signature does not match";
std::unique_ptr<ByteSource> make_aws_chunked_source(ByteSource& inner, SigV4 sig, std::string signing_key,
                                                    std::optional<std::uint64_t> decoded_length);

// Passes `inner` through and, at its end, compares the SHA-256 of what went by with
// `expected_hex`; a mismatch is Errc::invalid_argument with message kContentSha256Mismatch,
// reported instead of the end of the stream (so the engine commits nothing).
inline constexpr std::string_view kContentSha256Mismatch = "The provided 'x-amz-content-sha256' header does not match what was computed";
std::unique_ptr<ByteSource> make_sha256_checked_source(ByteSource& inner, std::string expected_hex);

}  // namespace ciel::object::s3
