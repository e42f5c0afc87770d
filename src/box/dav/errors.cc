// The box's status codes and error bodies: Sabre's XML error document, which Nextcloud clients
// show to their users, with the status RFC 4918 gives each case.
#include "box/dav/common.h"

namespace ciel::box::dav {
namespace {

std::string_view exception_name(http::Status s) {
  switch (s) {
    case http::Status::unauthorized: return "Sabre\\DAV\\Exception\\NotAuthenticated";
    case http::Status::forbidden: return "Sabre\\DAV\\Exception\\Forbidden";
    case http::Status::not_found: return "Sabre\\DAV\\Exception\\NotFound";
    case http::Status::method_not_allowed: return "Sabre\\DAV\\Exception\\MethodNotAllowed";
    case http::Status::conflict: return "Sabre\\DAV\\Exception\\Conflict";
    case http::Status::precondition_failed: return "Sabre\\DAV\\Exception\\PreconditionFailed";
    case http::Status::locked: return "Sabre\\DAV\\Exception\\Locked";
    case http::Status::insufficient_storage: return "Sabre\\DAV\\Exception\\InsufficientStorage";
    case http::Status::bad_request: return "Sabre\\DAV\\Exception\\BadRequest";
    case http::Status::payload_too_large: return "Sabre\\DAV\\Exception\\RequestEntityTooLarge";
    case http::Status::unsupported_media_type: return "Sabre\\DAV\\Exception\\UnsupportedMediaType";
    case http::Status::service_unavailable: return "Sabre\\DAV\\Exception\\ServiceUnavailable";
    default: return "Sabre\\DAV\\Exception";
  }
}

std::string error_body(http::Status status, std::string_view message, std::string_view extra) {
  return "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<d:error xmlns:d=\"DAV:\" xmlns:s=\"http://sabredav.org/ns\">\n  " + std::string(extra) +
         "<s:exception>" + escape(exception_name(status)) + "</s:exception>\n  <s:message>" + escape(message) + "</s:message>\n</d:error>\n";
}

}  // namespace

http::Status status_for(const Error& e) {
  switch (e.code) {
    case Errc::invalid_argument: return http::Status::bad_request;
    case Errc::not_found: return e.message == kParentMissing ? http::Status::conflict : http::Status::not_found;
    case Errc::already_exists: return http::Status::method_not_allowed;
    case Errc::conflict: return e.message == "The resource is locked" ? http::Status::locked : http::Status::conflict;
    case Errc::precondition_failed: return http::Status::precondition_failed;
    case Errc::unauthenticated: return http::Status::unauthorized;
    case Errc::forbidden: return http::Status::forbidden;
    case Errc::quota_exceeded: return http::Status::insufficient_storage;
    case Errc::too_large: return http::Status::payload_too_large;
    case Errc::unavailable: return http::Status::service_unavailable;
    case Errc::internal: return http::Status::internal_server_error;
  }
  return http::Status::internal_server_error;
}

http::Response status_response(http::Status status, std::string_view message, const http::Request& req) {
  (void)req;
  http::Response res(status, error_body(status, message, ""), "application/xml; charset=utf-8");
  if (status == http::Status::unauthorized) { res.set_header("WWW-Authenticate", "Basic realm=\"Ciel\", charset=\"UTF-8\""); }
  return res;
}

http::Response error_response(const Error& e, const http::Request& req) {
  auto status = status_for(e);
  std::string_view message = e.message;
  if (status == http::Status::internal_server_error) { message = "Internal error"; }
  return status_response(status, message, req);
}

http::Response locked_response(const std::string& lock_root_href, const http::Request& req) {
  (void)req;
  return http::Response(http::Status::locked,
                        error_body(http::Status::locked, "The resource is locked",
                                   "<d:lock-token-submitted><d:href>" + escape(lock_root_href) + "</d:href></d:lock-token-submitted>\n  "),
                        "application/xml; charset=utf-8");
}

http::Response error_renderer(http::Status status, std::string_view message, const http::Request& request) {
  return status_response(status, message, request);
}

}  // namespace ciel::box::dav
