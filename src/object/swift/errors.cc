// Swift's status codes and error bodies. Real Swift answers most errors with a tiny HTML page
// and validation failures with the plain message; clients show either verbatim.
#include "object/swift/common.h"

namespace ciel::object::swift {
namespace {

std::string_view html_text(http::Status s) {
  switch (s) {
    case http::Status::unauthorized: return "This server could not verify that you are authorized to access the document you requested.";
    case http::Status::forbidden: return "Access was denied to this resource.";
    case http::Status::not_found: return "The resource could not be found.";
    case http::Status::conflict: return "There was a conflict when trying to complete your request.";
    case http::Status::payload_too_large: return "The body of your request was too large for this server.";
    case http::Status::range_not_satisfiable: return "The Range requested is not available.";
    case http::Status::unprocessable_entity: return "Unable to process the contained instructions";
    case http::Status::method_not_allowed: return "The method is not allowed for this resource.";
    case http::Status::length_required: return "Length Required";
    case http::Status::service_unavailable: return "The server is currently unavailable. Please try again at a later time.";
    case http::Status::internal_server_error: return "The server has either erred or is incapable of performing the requested operation.";
    default: return {};
  }
}

http::Status status_for(const Error& e) {
  switch (e.code) {
    case Errc::invalid_argument: return e.message == kEtagMismatch ? http::Status::unprocessable_entity : http::Status::bad_request;
    case Errc::not_found: return http::Status::not_found;
    case Errc::already_exists:
    case Errc::conflict: return http::Status::conflict;
    case Errc::precondition_failed: return http::Status::precondition_failed;
    case Errc::unauthenticated: return http::Status::unauthorized;
    case Errc::forbidden: return http::Status::forbidden;
    case Errc::quota_exceeded:
    case Errc::too_large: return http::Status::payload_too_large;
    case Errc::unavailable: return http::Status::service_unavailable;
    case Errc::internal: return http::Status::internal_server_error;
  }
  return http::Status::internal_server_error;
}

http::Response render(http::Status status, std::string_view message, const http::Request& req) {
  std::string_view html = html_text(status);
  http::Response res;
  res.set_status(status);
  // Validation errors (400, 412, quota 413) carry their own message as plain text.
  bool plain = !message.empty() && (status == http::Status::bad_request || status == http::Status::precondition_failed ||
                                    (status == http::Status::payload_too_large && message == kQuotaExceeded));
  if (plain || html.empty()) {
    res.set_body(std::string(message.empty() ? http::reason_phrase(status) : message), "text/plain; charset=utf-8");
  } else {
    res.set_body("<html><h1>" + std::string(http::reason_phrase(status)) + "</h1><p>" + std::string(html) + "</p></html>",
                 "text/html; charset=UTF-8");
  }
  res.set_header("X-Trans-Id", req.request_id);
  res.set_header("X-Openstack-Request-Id", req.request_id);
  return res;
}

}  // namespace

http::Response error_renderer(http::Status status, std::string_view message, const http::Request& request) {
  // Swift answers a name that is not UTF-8 (or holds NUL) with 412; the HTTP core refuses such
  // paths before routing, as a 400.
  if (status == http::Status::bad_request && (message == "path is not valid UTF-8" || message == "NUL byte in path")) {
    return render(http::Status::precondition_failed, "Invalid UTF8 or contains NULL", request);
  }
  return render(status, message, request);
}

http::Response error_response(const Error& e, const http::Request& req) {
  auto status = status_for(e);
  return render(status, status == http::Status::internal_server_error ? std::string_view{} : std::string_view(e.message), req);
}

http::Response status_response(http::Status status, const http::Request& req) {
  http::Response res(status);
  res.set_header("X-Trans-Id", req.request_id);
  res.set_header("X-Openstack-Request-Id", req.request_id);
  if (status != http::Status::no_content && status != http::Status::not_modified) { res.set_body("", "text/html; charset=UTF-8"); }
  return res;
}

}  // namespace ciel::object::swift
