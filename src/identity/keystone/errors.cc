// Keystone's status codes and error bodies: {"error": {"code", "title", "message"}}.
#include "identity/keystone/common.h"

namespace ciel::identity::keystone {
namespace {

std::string_view title(http::Status s) {
  switch (s) {
    case http::Status::bad_request: return "Bad Request";
    case http::Status::unauthorized: return "Unauthorized";
    case http::Status::forbidden: return "Forbidden";
    case http::Status::not_found: return "Not Found";
    case http::Status::method_not_allowed: return "Method Not Allowed";
    case http::Status::conflict: return "Conflict";
    case http::Status::payload_too_large: return "Request Entity Too Large";
    case http::Status::internal_server_error: return "Internal Server Error";
    case http::Status::service_unavailable: return "Service Unavailable";
    default: return http::reason_phrase(s);
  }
}

http::Status status_for(Errc code) {
  switch (code) {
    case Errc::invalid_argument: return http::Status::bad_request;
    case Errc::not_found: return http::Status::not_found;
    case Errc::already_exists:
    case Errc::conflict: return http::Status::conflict;
    case Errc::precondition_failed: return http::Status::precondition_failed;
    case Errc::unauthenticated: return http::Status::unauthorized;
    case Errc::forbidden: return http::Status::forbidden;
    case Errc::quota_exceeded: return http::Status::payload_too_large;
    case Errc::too_large: return http::Status::payload_too_large;
    case Errc::unavailable: return http::Status::service_unavailable;
    case Errc::internal: return http::Status::internal_server_error;
  }
  return http::Status::internal_server_error;
}

std::string g_public_url;  // set once by error_renderer(), read by error_response()

http::Response render(http::Status status, std::string_view message) {
  std::string body = "{\"error\": {\"code\": " + std::to_string(http::code(status)) + ", \"title\": \"" + std::string(title(status)) +
                     "\", \"message\": \"" + http::json_escape(message) + "\"}}";
  http::Response res(status, std::move(body), "application/json");
  if (status == http::Status::unauthorized) {
    res.set_header("WWW-Authenticate", "Keystone uri=\"" + g_public_url + "/v3\"");
  }
  return res;
}

}  // namespace

http::ErrorRenderer error_renderer(std::string public_url) {
  g_public_url = std::move(public_url);
  return [](http::Status status, std::string_view message, const http::Request&) {
    std::string_view m = message;
    if (status == http::Status::not_found && message == "no such resource") { m = "The resource could not be found."; }
    return render(status, m);
  };
}

http::Response error_response(const Error& e, const http::Request&) {
  std::string_view message = e.message;
  if (e.code == Errc::internal || (e.code == Errc::unavailable && message.empty())) {
    message = "An unexpected error prevented the server from fulfilling your request.";
  }
  return render(status_for(e.code), message);
}

}  // namespace ciel::identity::keystone
