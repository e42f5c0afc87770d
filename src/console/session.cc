// The console's session routes and the cookie-to-token request filter (see console.h).
#include <boost/json.hpp>
#include <memory>

#include "console/console.h"
#include "core/blocking.h"
#include "core/crypto/crypto.h"
#include "core/http/router.h"
#include "identity/identity.h"

namespace ciel::console {
namespace {

namespace json = boost::json;
using boost::asio::awaitable;

std::string session_of(const http::Request& req) {
  for (const auto& [k, v] : req.headers.items()) {
    if (http::iequals(k, "Cookie")) {
      if (auto value = http::cookie_value(v, kSessionCookie); !value.empty()) { return std::string(value); }
    }
  }
  return {};
}

std::string cookie(const http::Request& req, std::string_view value, std::int64_t max_age) {
  std::string c = std::string(kSessionCookie) + "=" + std::string(value) + "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" +
                  std::to_string(max_age);
  if (req.tls) { c += "; Secure"; }
  return c;
}

http::Response json_response(http::Status status, const json::value& v) {
  http::Response res(status, json::serialize(v), "application/json; charset=utf-8");
  res.set_header("Cache-Control", "no-store");
  return res;
}

json::object session_json(identity::IdentityService& identity, const ConsoleOptions& options, const identity::Principal& p,
                          std::string_view token) {
  json::array projects;
  for (const auto& project : identity.projects_for_user(p)) { projects.push_back(json::object{{"id", project.id}, {"name", project.name}}); }
  json::value project = nullptr;
  if (p.scope == identity::ScopeType::project) { project = json::object{{"id", p.project_id}, {"name", p.project_name}}; }
  json::array roles;
  for (const auto& r : p.roles) { roles.push_back(json::value(r.name)); }
  auto expires = std::chrono::duration_cast<std::chrono::seconds>(p.expires_at.time_since_epoch()).count();
  return json::object{{"user", json::object{{"id", p.user_id}, {"name", p.user_name}, {"domain", p.user_domain_name}}},
                      {"project", project},
                      {"roles", roles},
                      {"projects", projects},
                      {"csrf", csrf_token(token)},
                      {"expires_at", expires},
                      {"s3_endpoint", options.s3_endpoint},
                      {"s3_region", options.s3_region}};
}

std::string text_field(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

awaitable<http::Response> create_session(http::RequestContext& ctx, identity::IdentityService& identity, const ConsoleOptions& options) {
  const auto& req = ctx.request();
  auto body = co_await ctx.read_body(16 * 1024);
  if (!body) { co_return http::json_error(http::Status::payload_too_large, body.error().message, req); }
  boost::system::error_code ec;
  auto v = json::parse(*body, ec);
  const json::object* o = ec ? nullptr : v.if_object();
  if (o == nullptr) { co_return http::json_error(http::Status::bad_request, "Expected a JSON object {\"username\", \"password\"}", req); }
  identity::AuthRequest auth;
  auth.methods = {"password"};
  auth.user_name = text_field(*o, "username");
  auth.password = text_field(*o, "password");
  auth.user_domain_name = text_field(*o, "domain");
  if (auth.user_domain_name.empty()) { auth.user_domain_name = "Default"; }
  if (auth.user_name.empty() || auth.password.empty()) {
    co_return http::json_error(http::Status::bad_request, "A user name and a password are required", req);
  }
  std::string project = text_field(*o, "project");
  if (!project.empty()) {
    auth.scope = identity::AuthRequest::Scope::project;
    auth.project_id = project;
  }
  auto issued = co_await identity.authenticate(auth, req.remote_address, req.request_id);
  if (!issued) {
    auto status = issued.error().code == Errc::invalid_argument ? http::Status::bad_request : http::Status::unauthorized;
    co_return http::json_error(status, status == http::Status::unauthorized ? "The user name or the password is wrong" : issued.error().message, req);
  }
  // Without a project asked for, the session takes the user's first project, so the console can
  // reach the project's storage and servers at once; the switcher rescopes later.
  if (project.empty()) {
    auto projects = identity.projects_for_user(issued->principal);
    if (!projects.empty()) {
      identity::AuthRequest rescope;
      rescope.methods = {"token"};
      rescope.token = issued->token;
      rescope.scope = identity::AuthRequest::Scope::project;
      rescope.project_id = projects.front().id;
      auto scoped = co_await identity.authenticate(rescope, req.remote_address, req.request_id);
      // (The unscoped token is never handed out; logging out revokes the scoped one and the
      // chain it was rescoped from.)
      if (scoped) { issued = std::move(scoped); }
    }
  }
  auto max_age = std::chrono::duration_cast<std::chrono::seconds>(issued->principal.expires_at - std::chrono::system_clock::now()).count();
  auto res = json_response(http::Status::created, session_json(identity, options, issued->principal, issued->token));
  res.headers().add("Set-Cookie", cookie(req, issued->token, std::max<std::int64_t>(max_age, 0)));
  co_return res;
}

awaitable<http::Response> show_session(http::RequestContext& ctx, identity::IdentityService& identity, const ConsoleOptions& options) {
  const auto& req = ctx.request();
  std::string token = session_of(req);
  if (token.empty()) { co_return http::json_error(http::Status::unauthorized, "No session", req); }
  auto p = identity.authenticate_token(token);
  if (!p) {
    auto res = http::json_error(http::Status::unauthorized, "The session has ended", req);
    res.headers().add("Set-Cookie", cookie(req, "", 0));
    co_return res;
  }
  co_return json_response(http::Status::ok, session_json(identity, options, *p, token));
}

// Switching project rescopes the session's token: the new token is of the same chain, so signing
// out still revokes both.
awaitable<http::Response> switch_project(http::RequestContext& ctx, identity::IdentityService& identity, const ConsoleOptions& options) {
  const auto& req = ctx.request();
  std::string token = session_of(req);
  if (token.empty()) { co_return http::json_error(http::Status::unauthorized, "No session", req); }
  if (!crypto::constant_time_equals(req.header("X-CSRF-Token"), csrf_token(token))) {
    co_return http::json_error(http::Status::forbidden, "The X-CSRF-Token header is missing or wrong", req);
  }
  auto body = co_await ctx.read_body(4096);
  if (!body) { co_return http::json_error(http::Status::payload_too_large, body.error().message, req); }
  boost::system::error_code ec;
  auto v = json::parse(*body, ec);
  const json::object* o = ec ? nullptr : v.if_object();
  std::string project = o != nullptr ? text_field(*o, "project") : std::string();
  if (project.empty()) { co_return http::json_error(http::Status::bad_request, "Expected {\"project\": a project id}", req); }
  identity::AuthRequest rescope;
  rescope.methods = {"token"};
  rescope.token = token;
  rescope.scope = identity::AuthRequest::Scope::project;
  rescope.project_id = project;
  auto scoped = co_await identity.authenticate(rescope, req.remote_address, req.request_id);
  if (!scoped) {
    co_return http::json_error(scoped.error().code == Errc::invalid_argument ? http::Status::bad_request : http::Status::forbidden,
                               "You have no role on that project", req);
  }
  auto max_age = std::chrono::duration_cast<std::chrono::seconds>(scoped->principal.expires_at - std::chrono::system_clock::now()).count();
  auto res = json_response(http::Status::ok, session_json(identity, options, scoped->principal, scoped->token));
  res.headers().add("Set-Cookie", cookie(req, scoped->token, std::max<std::int64_t>(max_age, 0)));
  co_return res;
}

awaitable<http::Response> end_session(http::RequestContext& ctx, identity::IdentityService& identity) {
  const auto& req = ctx.request();
  std::string token = session_of(req);
  if (token.empty()) { co_return http::json_error(http::Status::unauthorized, "No session", req); }
  if (!crypto::constant_time_equals(req.header("X-CSRF-Token"), csrf_token(token))) {
    co_return http::json_error(http::Status::forbidden, "The X-CSRF-Token header is missing or wrong", req);
  }
  auto p = identity.authenticate_token(token);
  if (p) {
    identity::Caller caller{*p, req.remote_address, req.request_id};
    (void)co_await run_blocking([&] { return identity.revoke_token(caller, token); });
  }
  http::Response res(http::Status::no_content);
  res.headers().add("Set-Cookie", cookie(req, "", 0));
  co_return res;
}

}  // namespace

std::string csrf_token(std::string_view session_token) {
  return crypto::base64url(crypto::sha256("ciel-console-csrf:" + std::string(session_token))).substr(0, 32);
}

void session_filter(http::Request& req) {
  if (req.headers.has("X-Auth-Token") || req.headers.has("Authorization")) { return; }
  std::string token = session_of(req);
  if (token.empty()) { return; }
  bool safe = req.method == http::Method::get || req.method == http::Method::head;
  if (!safe && !crypto::constant_time_equals(req.header("X-CSRF-Token"), csrf_token(token))) { return; }
  req.headers.set("X-Auth-Token", token);
}

void add_console_routes(http::Router& router, identity::IdentityService& identity, ConsoleOptions options) {
  auto o = std::make_shared<const ConsoleOptions>(std::move(options));
  router.add(http::Method::post, "/console/v1/session", [&identity, o](http::RequestContext& ctx) { return create_session(ctx, identity, *o); });
  router.add(http::Method::get, "/console/v1/session", [&identity, o](http::RequestContext& ctx) { return show_session(ctx, identity, *o); });
  router.add(http::Method::put, "/console/v1/session", [&identity, o](http::RequestContext& ctx) { return switch_project(ctx, identity, *o); });
  router.add(http::Method::delete_, "/console/v1/session", [&identity](http::RequestContext& ctx) { return end_session(ctx, identity); });
}

}  // namespace ciel::console
