// Authentication of S3 requests: Signature Version 4 (header or presigned query) and Version 2,
// checked against identity's EC2 credentials. The signature covers the request as received (raw
// path, query, the signed headers); the body is checked as it streams (payload() in common.cc).
#include <cctype>

#include "core/crypto/crypto.h"
#include "core/log/log.h"
#include "core/time.h"
#include "object/s3/common.h"

namespace ciel::object::s3 {
namespace {

using http::Status;

SignedRequest signed_request(const http::Request& req) {
  SignedRequest s;
  s.method = req.method_text;
  s.raw_path = req.raw_path;
  s.query = req.query_params;
  s.headers = req.headers.items();
  return s;
}

bool has_param(const http::Request& req, std::string_view name) { return req.query_param(name).has_value(); }

S3Error denied(std::string_view message) { return s3_error(Status::forbidden, "AccessDenied", message); }
S3Error no_such_key() {
  return s3_error(Status::forbidden, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.");
}
S3Error mismatch() {
  return s3_error(Status::forbidden, "SignatureDoesNotMatch",
                  "The request signature we calculated does not match the signature you provided. Check your key and signing method.");
}

void fill_principal(Caller& c, identity::Principal p) {
  c.project = p.project_id;
  c.user_id = p.user_id;
  c.user_name = p.user_name;
  c.principal = std::move(p);
}

std::variant<Caller, S3Error> check_v4(const http::Request& req, const Deps& deps, Caller caller) {
  const bool presigned = !req.headers.has("Authorization");
  Result<SigV4> sig = presigned ? parse_sigv4_query(req.query_params)
                                : parse_sigv4_header(req.header("Authorization"),
                                                     req.headers.has("x-amz-date") ? req.header("x-amz-date") : req.header("Date"));
  const std::string_view malformed_code = presigned ? "AuthorizationQueryParametersError" : "AuthorizationHeaderMalformed";
  if (!sig) { return s3_error(Status::bad_request, malformed_code, sig.error().message); }
  if (sig->region != deps.options.region) {
    return s3_error(Status::bad_request, malformed_code,
                    "The authorization header is malformed; the region '" + sig->region + "' is wrong; expecting '" + deps.options.region + "'");
  }
  if (sig->service != "s3") {
    return s3_error(Status::bad_request, malformed_code, "The authorization header is malformed; incorrect service '" + sig->service + "'. This endpoint belongs to 's3'.");
  }
  auto t = parse_amz_date(sig->amz_date);
  if (!t) { return s3_error(Status::forbidden, "AccessDenied", "AWS authentication requires a valid Date or x-amz-date header"); }
  if (sig->amz_date.substr(0, 8) != sig->date) {
    return s3_error(Status::bad_request, malformed_code, "The credential scope's date " + sig->date + " is not the request's date " + sig->amz_date);
  }
  const std::int64_t now = unix_seconds(system_clock().now());
  if (presigned) {
    if (*t > now + deps.options.max_clock_skew_s) { return denied("Request is not valid yet"); }
    if (now > *t + sig->expires_s) { return denied("Request has expired"); }
  } else if (*t < now - deps.options.max_clock_skew_s || *t > now + deps.options.max_clock_skew_s) {
    return s3_error(Status::forbidden, "RequestTimeTooSkewed", "The difference between the request time and the current time is too large.");
  }
  auto cred = deps.identity.find_ec2_credential(sig->access_key);
  if (!cred) { return no_such_key(); }

  std::string payload_hash;
  if (presigned) {
    payload_hash = std::string(req.query_param("X-Amz-Content-Sha256").value_or(kUnsignedPayload));
  } else {
    auto h = req.headers.get("x-amz-content-sha256");
    if (!h) { return s3_error(Status::bad_request, "InvalidRequest", "Missing required header for this request: x-amz-content-sha256"); }
    payload_hash = std::string(*h);
    bool hex64 = payload_hash.size() == 64;
    for (char ch : payload_hash) { hex64 = hex64 && std::isxdigit(static_cast<unsigned char>(ch)); }
    if (!hex64 && payload_hash != kUnsignedPayload && payload_hash != kStreamingPayload) {
      return s3_error(Status::bad_request, "InvalidArgument", "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, or a valid sha256 value.");
    }
    if (hex64) {
      for (auto& ch : payload_hash) { ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch))); }
    }
    if (hex64 && !req.has_body() && payload_hash != kEmptySha256) {
      return s3_error(Status::bad_request, "XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed.");
    }
  }
  auto canonical = canonical_request(signed_request(req), *sig, payload_hash);
  if (!canonical) { return s3_error(Status::bad_request, malformed_code, canonical.error().message); }
  std::string key = signing_key(cred->secret, sig->date, sig->region, sig->service);
  std::string expected = sign(key, string_to_sign(*sig, *canonical));
  if (!crypto::constant_time_equals(expected, sig->signature)) {
    log::debug("s3: signature mismatch for {}; canonical request:\n{}", sig->access_key, *canonical);
    return mismatch();
  }
  auto principal = deps.identity.principal_for_ec2(*cred);
  if (!principal) { return denied("Access Denied"); }
  fill_principal(caller, std::move(*principal));
  caller.payload_hash = std::move(payload_hash);
  caller.signing_key = std::move(key);
  caller.sigv4 = std::move(*sig);
  return caller;
}

std::variant<Caller, S3Error> check_v2(const http::Request& req, const Deps& deps, Caller caller) {
  const bool presigned = !req.headers.has("Authorization");
  auto sig = presigned ? parse_sigv2_query(req.query_params) : parse_sigv2_header(req.header("Authorization"));
  if (!sig) { return s3_error(Status::bad_request, "InvalidArgument", sig.error().message); }
  const std::int64_t now = unix_seconds(system_clock().now());
  if (presigned) {
    if (now > sig->expires_s) { return denied("Request has expired"); }
  } else {
    std::string_view date = req.headers.has("x-amz-date") ? req.header("x-amz-date") : req.header("Date");
    auto t = parse_http_date(date);
    if (!t) { return denied("AWS authentication requires a valid Date or x-amz-date header"); }
    if (*t < now - deps.options.max_clock_skew_s || *t > now + deps.options.max_clock_skew_s) {
      return s3_error(Status::forbidden, "RequestTimeTooSkewed", "The difference between the request time and the current time is too large.");
    }
  }
  auto cred = deps.identity.find_ec2_credential(sig->access_key);
  if (!cred) { return no_such_key(); }
  std::string expected = sigv2_sign(cred->secret, sigv2_string_to_sign(signed_request(req), *sig));
  if (!crypto::constant_time_equals(expected, sig->signature)) { return mismatch(); }
  auto principal = deps.identity.principal_for_ec2(*cred);
  if (!principal) { return denied("Access Denied"); }
  fill_principal(caller, std::move(*principal));
  return caller;
}

}  // namespace

boost::asio::awaitable<std::variant<Caller, S3Error>> authenticate(const http::Request& req, const Deps& deps) {
  Caller caller;
  caller.base.referer = std::string(req.header("Referer"));
  caller.base.source = req.remote_address;
  std::string_view auth = req.header("Authorization");
  if (auth.starts_with("AWS4-HMAC-SHA256")) { co_return check_v4(req, deps, std::move(caller)); }
  if (auth.starts_with("AWS ")) { co_return check_v2(req, deps, std::move(caller)); }
  if (!auth.empty()) { co_return s3_error(Status::bad_request, "InvalidArgument", "Unsupported Authorization Type"); }
  if (has_param(req, "X-Amz-Algorithm") || has_param(req, "X-Amz-Signature") || has_param(req, "X-Amz-Credential")) {
    co_return check_v4(req, deps, std::move(caller));
  }
  if (has_param(req, "AWSAccessKeyId") || has_param(req, "Signature")) { co_return check_v2(req, deps, std::move(caller)); }
  co_return caller;  // anonymous: the engine decides what ACLs and policies allow
}

}  // namespace ciel::object::s3
