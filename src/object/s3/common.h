// object/s3/common.h: what the S3 handler files share: dependencies, the authenticated caller,
// the addressed bucket and key, S3 errors, and small formatting helpers.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <string>
#include <string_view>

#include "core/http/request.h"
#include "core/http/response.h"
#include "core/http/router.h"
#include "identity/identity.h"
#include "object/engine/object_service.h"
#include "object/s3/s3.h"
#include "object/s3/sigv4.h"

namespace ciel::object::s3 {

// Remembers for a few seconds that a project has a bucket of some name, so a caller working in
// its own bucket costs no lookup per request (bucket_project). Only "the caller's own project
// has it" is remembered: if the bucket goes meanwhile, the engine answers NoSuchBucket, which is
// the answer anyway. Thread-safe.
class OwnBucketCache {
 public:
  bool fresh(const std::string& project, const std::string& bucket) const;
  void remember(const std::string& project, const std::string& bucket);
  void forget(const std::string& project, const std::string& bucket);

 private:
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::int64_t> until_ms_;  // "project/bucket" -> expiry
};

struct Deps {
  ObjectService& objects;
  identity::IdentityService& identity;
  Options options;
  std::unique_ptr<OwnBucketCache> own_buckets = std::make_unique<OwnBucketCache>();
};

// An S3 error: the status, the Code clients switch on, and the message.
struct S3Error {
  http::Status status = http::Status::internal_server_error;
  std::string code = "InternalError";
  std::string message = "We encountered an internal error. Please try again.";
};
S3Error s3_error(http::Status status, std::string_view code, std::string_view message);

// What a request addresses: the bucket and key (either may be empty) from the path or the
// virtual host name.
struct Target {
  std::string bucket, key;
  bool virtual_host = false;
};
Result<Target> target_of(const http::Request& req, const Options& options);

// The caller: a principal from a verified signature, or anonymous; plus how the body must be
// read (aws-chunked or checked against x-amz-content-sha256) once authenticated.
struct Caller {
  std::optional<identity::Principal> principal;
  mutable Access base;
  std::string project;         // the caller's project ("" when anonymous)
  std::string user_id, user_name;
  // SigV4 body handling.
  std::optional<SigV4> sigv4;
  std::string signing_key;     // for aws-chunked chunk signatures
  std::string payload_hash;    // x-amz-content-sha256 as sent
  const Access& access() const {
    base.principal = principal ? &*principal : nullptr;
    return base;
  }
};
// Verifies the request's signature (header or query, V4 or V2). An unsigned request is an
// anonymous caller. Errors are S3's: InvalidAccessKeyId, SignatureDoesNotMatch,
// AuthorizationHeaderMalformed, RequestTimeTooSkewed, AccessDenied (expired presigned URL)...
boost::asio::awaitable<std::variant<Caller, S3Error>> authenticate(const http::Request& req, const Deps& deps);

// The request body as the engine must read it: the aws-chunked decoder, a SHA-256 check, or
// the raw body. `holder` keeps the wrapper alive.
ByteSource& payload(http::RequestContext& ctx, const Caller& caller, std::unique_ptr<ByteSource>& holder);
// The payload's length when known (x-amz-decoded-content-length for aws-chunked).
std::optional<std::uint64_t> payload_length(const http::Request& req);

// The project that owns `bucket` for this caller: the caller's own when it has such a bucket,
// else the one project that has it (grants across projects, anonymous access), else the
// caller's (so the engine answers NoSuchBucket). Empty when nobody has it.
boost::asio::awaitable<Result<std::string>> bucket_project(const Deps& deps, const Caller& caller, const std::string& bucket);

// Engine errors -> S3 errors. `what` says what a bare not_found means: "bucket", "key",
// "upload" or "version".
S3Error from_engine(const Error& e, std::string_view what);
http::Response error_response(const S3Error& e, const http::Request& req, std::string_view resource);
http::Response engine_error(const Error& e, const http::Request& req, std::string_view what);
http::Response xml_response(http::Status status, std::string body, const http::Request& req);
http::Response empty_response(http::Status status, const http::Request& req);

// "2024-01-31T12:00:00.000Z" (listings) and the RFC 1123 form (Last-Modified).
std::string iso8601(std::int64_t us);
std::string http_date(std::int64_t us);
std::string quoted(std::string_view etag);   // "\"<etag>\""
std::string_view unquote(std::string_view s);

// x-amz-meta-* headers (names lowercased without the prefix) and the headers S3 keeps.
Metadata user_metadata(const http::Request& req);
Metadata kept_headers(const http::Request& req);
// Renders an object's metadata and kept headers onto a response.
void render_object_headers(http::Response& res, const ObjectInfo& info);
// x-amz-copy-source (CopyObject, UploadPartCopy): "[/]bucket/key[?versionId=v]", URL-encoded;
// nullopt when it does not name a bucket and a key.
struct CopySource {
  std::string bucket, key;
  std::optional<std::string> version;
};
std::optional<CopySource> parse_copy_source(std::string_view header);
// S3's version id for a record: "null" for a null version.
std::string version_id_of(const ObjectInfo& info);

// The container system metadata a canned ACL and a bucket policy (JSON, "" for none) come to:
// the engine's read and write ACLs and the settings GetBucketAcl/GetBucketPolicy return.
// Errc::invalid_argument for an unknown canned ACL or a policy outside the supported subset.
Result<MetadataUpdate> access_update(std::string_view canned, const std::string& policy_json, std::string_view bucket);

// Handlers (one file per resource).
using Handler = boost::asio::awaitable<http::Response> (*)(http::RequestContext&, const Deps&, const Caller&, const Target&);
boost::asio::awaitable<http::Response> handle_list_buckets(http::RequestContext&, const Deps&, const Caller&, const Target&);
boost::asio::awaitable<http::Response> handle_bucket(http::RequestContext&, const Deps&, const Caller&, const Target&);
boost::asio::awaitable<http::Response> handle_bucket_config(http::RequestContext&, const Deps&, const Caller&, const Target&);
boost::asio::awaitable<http::Response> handle_object(http::RequestContext&, const Deps&, const Caller&, const Target&);
boost::asio::awaitable<http::Response> handle_multipart(http::RequestContext&, const Deps&, const Caller&, const Target&);
boost::asio::awaitable<http::Response> handle_delete_objects(http::RequestContext&, const Deps&, const Caller&, const Target&);
// True when the request names one of the bucket sub-resources bucket_config.cc serves.
bool is_bucket_config(const http::Request& req);
// CORS preflight and response headers from the bucket's CORS rules.
boost::asio::awaitable<http::Response> handle_preflight(http::RequestContext&, const Deps&, const Target&);
boost::asio::awaitable<void> add_cors_headers(const Deps& deps, const http::Request& req, const Target& t, const std::string& project,
                                             http::Response& res);

}  // namespace ciel::object::s3
