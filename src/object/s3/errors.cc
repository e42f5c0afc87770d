// S3's error codes and statuses, in one place. An engine error becomes the Code an AWS client
// switches on (botocore raises NoSuchKey, BucketNotEmpty ... by that name), and every error is
// the XML document S3 sends: Code, Message, Resource, RequestId.
#include "object/s3/chunked.h"
#include "object/s3/common.h"
#include "object/s3/xml.h"

namespace ciel::object::s3 {

S3Error s3_error(http::Status status, std::string_view code, std::string_view message) {
  return S3Error{status, std::string(code), std::string(message)};
}

S3Error from_engine(const Error& e, std::string_view what) {
  using http::Status;
  const std::string& m = e.message;
  switch (e.code) {
    case Errc::invalid_argument:
      if (m == kEtagMismatch) { return s3_error(Status::bad_request, "BadDigest", "The Content-MD5 you specified did not match what we received."); }
      if (m == kInvalidPart) { return s3_error(Status::bad_request, "InvalidPart", m); }
      if (m == kInvalidPartOrder) { return s3_error(Status::bad_request, "InvalidPartOrder", m); }
      if (m == kEntityTooSmall) { return s3_error(Status::bad_request, "EntityTooSmall", m); }
      if (m == kMalformedXml) { return s3_error(Status::bad_request, "MalformedXML", m); }
      if (m == kContentSha256Mismatch) { return s3_error(Status::bad_request, "XAmzContentSHA256Mismatch", m); }
      if (m == kInvalidTagKey || m == kInvalidTagValue || m == kSystemTagKey || m == kDuplicateTagKey || m == kTooManyObjectTags ||
          m == kTooManyBucketTags) {
        return s3_error(Status::bad_request, "InvalidTag", m);
      }
      if (m == kNoSuchVersion) { return s3_error(Status::bad_request, "InvalidArgument", "Invalid version id specified"); }
      if (m.find("Part number") != std::string::npos) { return s3_error(Status::bad_request, "InvalidArgument", m); }
      if (m.starts_with("Object name") || m.find("name") != std::string::npos) {
        if (m.find("long") != std::string::npos) { return s3_error(Status::bad_request, "KeyTooLongError", "Your key is too long"); }
      }
      return s3_error(Status::bad_request, "InvalidArgument", m);
    case Errc::not_found:
      if (m == kNoSuchContainer || what == "bucket") { return s3_error(Status::not_found, "NoSuchBucket", "The specified bucket does not exist"); }
      if (m == kNoSuchUpload || what == "upload") {
        return s3_error(Status::not_found, "NoSuchUpload",
                        "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.");
      }
      if (m == kNoSuchVersion || what == "version") { return s3_error(Status::not_found, "NoSuchVersion", std::string(kNoSuchVersion)); }
      return s3_error(Status::not_found, "NoSuchKey", "The specified key does not exist.");
    case Errc::already_exists:
      return s3_error(Status::conflict, "BucketAlreadyOwnedByYou",
                      "Your previous request to create the named bucket succeeded and you already own it.");
    case Errc::conflict:
      if (m == kContainerNotEmpty) { return s3_error(Status::conflict, "BucketNotEmpty", "The bucket you tried to delete is not empty"); }
      if (m == kVersioningConflict) { return s3_error(Status::conflict, "InvalidBucketState", m); }
      if (m.starts_with("The specified method")) { return s3_error(Status::method_not_allowed, "MethodNotAllowed", m); }
      return s3_error(Status::conflict, "OperationAborted", "A conflicting conditional operation is currently in progress against this resource. Please try again.");
    case Errc::precondition_failed:
      return s3_error(Status::precondition_failed, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold");
    case Errc::unauthenticated:
      if (m == kChunkSignatureMismatch) {
        return s3_error(Status::forbidden, "SignatureDoesNotMatch",
                        "The request signature we calculated does not match the signature you provided. Check your key and signing method.");
      }
      return s3_error(Status::forbidden, "AccessDenied", "Access Denied");
    case Errc::forbidden: return s3_error(Status::forbidden, "AccessDenied", "Access Denied");
    case Errc::quota_exceeded: return s3_error(Status::forbidden, "QuotaExceeded", m);
    case Errc::too_large:
      return s3_error(Status::bad_request, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed object size.");
    case Errc::unavailable: return s3_error(Status::service_unavailable, "ServiceUnavailable", "Please reduce your request rate.");
    case Errc::internal: break;
  }
  return S3Error{};
}

http::Response error_response(const S3Error& e, const http::Request& req, std::string_view resource) {
  http::Response res(e.status);
  res.set_header("x-amz-request-id", req.request_id);
  if (req.method == http::Method::head) {
    res.set_body("", "application/xml");  // HEAD answers carry no body; the status says it all
    return res;
  }
  XmlWriter w("Error", /*with_namespace=*/false);
  w.leaf("Code", e.code);
  w.leaf("Message", e.message);
  w.leaf("Resource", resource.empty() ? std::string_view(req.path) : resource);
  w.leaf("RequestId", req.request_id);
  res.set_body(w.finish(), "application/xml");
  return res;
}

http::Response engine_error(const Error& e, const http::Request& req, std::string_view what) {
  return error_response(from_engine(e, what), req, {});
}

http::Response error_renderer(http::Status status, std::string_view message, const http::Request& request) {
  using http::Status;
  std::string_view code = "InvalidRequest";
  switch (status) {
    case Status::not_found: code = "NoSuchKey"; break;
    case Status::method_not_allowed: code = "MethodNotAllowed"; break;
    case Status::length_required: code = "MissingContentLength"; break;
    case Status::payload_too_large: code = "EntityTooLarge"; break;
    case Status::request_timeout: code = "RequestTimeout"; break;
    case Status::request_header_fields_too_large: code = "RequestHeaderSectionTooLarge"; break;
    case Status::uri_too_long: code = "KeyTooLongError"; break;
    case Status::not_implemented: code = "NotImplemented"; break;
    case Status::service_unavailable: code = "ServiceUnavailable"; break;
    case Status::internal_server_error: code = "InternalError"; break;
    default:
      if (http::code(status) == 400 && (message.find("path") != std::string_view::npos || message.find("target") != std::string_view::npos)) {
        code = "InvalidURI";
      }
      break;
  }
  return error_response(s3_error(status, code, message.empty() ? http::reason_phrase(status) : message), request, {});
}

http::Response xml_response(http::Status status, std::string body, const http::Request& req) {
  http::Response res(status, std::move(body), "application/xml");
  res.set_header("x-amz-request-id", req.request_id);
  return res;
}

http::Response empty_response(http::Status status, const http::Request& req) {
  http::Response res(status);
  res.set_header("x-amz-request-id", req.request_id);
  return res;
}

}  // namespace ciel::object::s3
