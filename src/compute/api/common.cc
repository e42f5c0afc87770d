#include "compute/api/common.h"

#include "core/time.h"

namespace ciel::compute::api {

http::Status status_for(const Error& e) {
  switch (e.code) {
    case Errc::invalid_argument: return http::Status::bad_request;
    case Errc::not_found: return http::Status::not_found;
    case Errc::already_exists:
    case Errc::conflict: return http::Status::conflict;
    case Errc::precondition_failed: return http::Status::precondition_failed;
    case Errc::unauthenticated: return http::Status::unauthorized;
    case Errc::forbidden: return http::Status::forbidden;
    case Errc::quota_exceeded: return http::Status::forbidden;  // Nova's OverQuota is 403
    case Errc::too_large: return http::Status::payload_too_large;
    case Errc::unavailable: return http::Status::service_unavailable;
    case Errc::internal: return http::Status::internal_server_error;
  }
  return http::Status::internal_server_error;
}

namespace {

std::string_view nova_key(http::Status s) {
  switch (s) {
    case http::Status::bad_request: return "badRequest";
    case http::Status::unauthorized: return "unauthorized";
    case http::Status::forbidden: return "forbidden";
    case http::Status::not_found: return "itemNotFound";
    case http::Status::method_not_allowed: return "badMethod";
    case http::Status::not_acceptable: return "notAcceptable";
    case http::Status::conflict: return "conflictingRequest";
    case http::Status::payload_too_large: return "overLimit";
    case http::Status::not_implemented: return "notImplemented";
    default: return "computeFault";
  }
}

}  // namespace

http::Response error_response(Dialect d, http::Status status, std::string_view message, const http::Request& req) {
  json::object body;
  std::string code = std::to_string(http::code(status));
  switch (d) {
    case Dialect::glance:
      body["message"] = message;
      body["code"] = code + " " + std::string(http::reason_phrase(status));
      body["title"] = http::reason_phrase(status);
      break;
    case Dialect::nova: {
      json::object inner;
      inner["code"] = http::code(status);
      inner["message"] = message;
      body[nova_key(status)] = std::move(inner);
      break;
    }
    case Dialect::neutron: {
      json::object inner;
      inner["type"] = status == http::Status::not_found ? "NetworkNotFound" : std::string(http::reason_phrase(status));
      inner["message"] = message;
      inner["detail"] = "";
      body["NeutronError"] = std::move(inner);
      break;
    }
  }
  auto res = json_response(status, body);
  res.set_header("X-Openstack-Request-Id", req.request_id);
  if (status == http::Status::unauthorized) { res.set_header("WWW-Authenticate", "Keystone uri=\"/v3\""); }
  return res;
}

http::Response error_response(Dialect d, const Error& e, const http::Request& req) {
  auto status = status_for(e);
  return error_response(d, status, status == http::Status::internal_server_error ? "Internal error" : std::string_view(e.message), req);
}

http::Response json_response(http::Status status, const json::value& body) {
  return http::Response(status, json::serialize(body), "application/json");
}

Result<identity::Principal> authenticate(const http::Request& req, const Deps& deps) {
  auto token = req.headers.get("X-Auth-Token");
  if (!token || token->empty()) { return make_error(Errc::unauthenticated, "The request you have made requires authentication."); }
  return deps.identity.authenticate_token(*token);
}

boost::asio::awaitable<Result<json::object>> read_object(http::RequestContext& ctx, std::size_t limit) {
  auto body = co_await ctx.read_body(limit);
  if (!body) { co_return body.error(); }
  boost::system::error_code ec;
  auto v = json::parse(*body, ec);
  if (ec || !v.is_object()) { co_return make_error(Errc::invalid_argument, "The request body must be a JSON object"); }
  co_return std::move(v.as_object());
}

std::string iso_time(std::int64_t s) { return iso8601(SystemTime(std::chrono::seconds(s))); }

http::Response glance_error_renderer(http::Status status, std::string_view message, const http::Request& request) {
  return error_response(Dialect::glance, status, message, request);
}
http::Response nova_error_renderer(http::Status status, std::string_view message, const http::Request& request) {
  return error_response(Dialect::nova, status, message, request);
}
http::Response neutron_error_renderer(http::Status status, std::string_view message, const http::Request& request) {
  return error_response(Dialect::neutron, status, message, request);
}

void add_routes(http::Router& router, ComputeService& compute, identity::IdentityService& identity, Options options) {
  static std::vector<std::unique_ptr<Deps>> kept;  // route handlers hold a reference for the life of the process
  kept.push_back(std::make_unique<Deps>(Deps{compute, identity, std::move(options)}));
  const Deps& deps = *kept.back();
  add_glance_routes(router, deps);
  add_nova_routes(router, deps);
  add_neutron_routes(router, deps);
}

}  // namespace ciel::compute::api
