// Login Flow v2, how Nextcloud desktop and mobile clients get an app password without ever
// seeing the user's password:
//   POST /index.php/login/v2            the client starts a flow: a poll token and a login URL
//   GET  /index.php/login/v2/flow/<t>   the page the user opens: approve with their password
//   POST /index.php/login/v2/grant      the approval (form: token, user, password)
//   POST /index.php/login/v2/poll       the client polls (form: token) until it gets
//                                       {server, loginName, appPassword}, once
// and the user's own app passwords, for the console and scripts (Basic auth or X-Auth-Token):
//   GET /box/v1/app-passwords, POST /box/v1/app-passwords {"name"}, DELETE /box/v1/app-passwords/<id>
// The pages are plain server-rendered HTML with no script, under a Content-Security-Policy that
// allows none, and may not be framed.
#include <boost/json.hpp>

#include "box/dav/common.h"
#include "core/http/target.h"

namespace ciel::box::dav {
namespace {

using boost::asio::awaitable;

std::string form_value(std::string_view body, std::string_view name) {
  for (auto& [k, v] : http::parse_query(body)) {
    if (k == name) { return v; }
  }
  return {};
}

http::Response page(http::Status status, std::string_view title, const std::string& body_html) {
  std::string html = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">"
                     "<title>" + escape(title) + " - Ciel</title></head><body><main><h1>" + escape(title) + "</h1>" + body_html +
                     "</main></body></html>\n";
  http::Response res(status, std::move(html), "text/html; charset=utf-8");
  res.set_header("Content-Security-Policy", "default-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
  res.set_header("X-Frame-Options", "DENY");
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("Referrer-Policy", "no-referrer");
  res.set_header("Cache-Control", "no-store");
  return res;
}

http::Response json(http::Status status, std::string body) {
  http::Response res(status, std::move(body), "application/json; charset=utf-8");
  res.set_header("Cache-Control", "no-store");
  return res;
}

awaitable<http::Response> handle_start(http::RequestContext& ctx, const Deps& deps) {
  const auto& req = ctx.request();
  auto flow = co_await deps.box.start_login_flow(std::string(req.header("User-Agent")));
  if (!flow) { co_return json(http::Status::service_unavailable, "{\"message\":\"" + http::json_escape(flow.error().message) + "\"}"); }
  const std::string& base = deps.options.public_url;
  co_return json(http::Status::ok, "{\"poll\":{\"token\":\"" + flow->poll_token + "\",\"endpoint\":\"" + http::json_escape(base) +
                                       "/index.php/login/v2/poll\"},\"login\":\"" + http::json_escape(base) + "/index.php/login/v2/flow/" +
                                       flow->flow_token + "\"}");
}

std::string grant_form(std::string_view token, std::string_view client, std::string_view error) {
  std::string html = "<p>" + escape(client) + " asks for access to your Ciel box. Sign in to grant it an app password of its own; "
                     "you can revoke it at any time.</p>";
  if (!error.empty()) { html += "<p role=\"alert\"><strong>" + escape(error) + "</strong></p>"; }
  html += "<form method=\"post\" action=\"/index.php/login/v2/grant\"><input type=\"hidden\" name=\"token\" value=\"" + escape(token) +
          "\"><p><label for=\"user\">User name</label><br><input id=\"user\" name=\"user\" autocomplete=\"username\" required></p>"
          "<p><label for=\"password\">Password</label><br><input id=\"password\" name=\"password\" type=\"password\" "
          "autocomplete=\"current-password\" required></p><p><button type=\"submit\">Grant access</button></p></form>";
  return html;
}

awaitable<http::Response> handle_flow_page(http::RequestContext& ctx, const Deps& deps) {
  std::string token(ctx.param("token"));
  auto client = co_await deps.box.login_flow_client(token);
  if (!client) { co_return page(http::Status::not_found, "Link expired", "<p>This login link is unknown or has expired. Start again from your client.</p>"); }
  co_return page(http::Status::ok, "Connect a client", grant_form(token, *client, ""));
}

awaitable<http::Response> handle_grant(http::RequestContext& ctx, const Deps& deps) {
  const auto& req = ctx.request();
  auto body = co_await ctx.read_body(16 * 1024);
  if (!body) { co_return page(http::Status::bad_request, "Bad request", "<p>The form could not be read.</p>"); }
  std::string token = form_value(*body, "token");
  auto client = co_await deps.box.login_flow_client(token);
  if (!client) { co_return page(http::Status::not_found, "Link expired", "<p>This login link is unknown or has expired. Start again from your client.</p>"); }
  identity::AuthRequest a;
  a.methods = {"password"};
  a.user_name = form_value(*body, "user");
  a.user_domain_id = std::string(identity::kDefaultDomainId);
  a.password = form_value(*body, "password");
  a.unscoped = true;
  auto issued = co_await deps.identity.authenticate(std::move(a), req.remote_address, req.request_id);
  if (!issued) { co_return page(http::Status::unauthorized, "Connect a client", grant_form(token, *client, "Wrong user name or password.")); }
  auto st = co_await deps.box.grant_login_flow(token, issued->principal.user_id, issued->principal.user_name);
  if (!st) { co_return page(http::Status::not_found, "Link expired", "<p>This login link is unknown or has expired. Start again from your client.</p>"); }
  co_return page(http::Status::ok, "Access granted", "<p>" + escape(*client) + " is now connected. You can close this window.</p>");
}

awaitable<http::Response> handle_poll(http::RequestContext& ctx, const Deps& deps) {
  auto body = co_await ctx.read_body(16 * 1024);
  if (!body) { co_return json(http::Status::bad_request, "[]"); }
  auto granted = co_await deps.box.poll_login_flow(form_value(*body, "token"));
  if (!granted) { co_return json(http::Status::not_found, "[]"); }
  co_return json(http::Status::ok, "{\"server\":\"" + http::json_escape(deps.options.public_url) + "\",\"loginName\":\"" +
                                       http::json_escape(granted->login_name) + "\",\"appPassword\":\"" + granted->app_password + "\"}");
}

// --- the user's app passwords -------------------------------------------------------------------
std::string app_json(const AppPassword& a) {
  return "{\"id\":\"" + a.id + "\",\"name\":\"" + http::json_escape(a.name) + "\",\"created\":" + std::to_string(a.created_s) + "}";
}

awaitable<http::Response> handle_app_passwords(http::RequestContext& ctx, const Deps& deps) {
  const auto& req = ctx.request();
  auto user = co_await authenticate(req, deps);
  if (!user) {
    auto res = http::json_error(http::Status::unauthorized, user.error().message, req);
    res.set_header("WWW-Authenticate", "Basic realm=\"Ciel\", charset=\"UTF-8\"");
    co_return res;
  }
  if (req.method == http::Method::get) {
    auto list = co_await deps.box.app_passwords(user->id);
    if (!list) { co_return http::json_error(status_for(list.error()), list.error().message, req); }
    std::string out = "{\"app_passwords\":[";
    for (std::size_t i = 0; i < list->size(); ++i) { out += (i ? "," : "") + app_json((*list)[i]); }
    co_return json(http::Status::ok, out + "]}");
  }
  if (req.method == http::Method::post) {
    auto body = co_await ctx.read_body(16 * 1024);
    if (!body) { co_return http::json_error(http::Status::payload_too_large, body.error().message, req); }
    boost::system::error_code ec;
    auto v = boost::json::parse(*body, ec);
    const boost::json::object* obj = ec ? nullptr : v.if_object();
    const boost::json::value* name = obj ? obj->if_contains("name") : nullptr;
    if (!name || !name->is_string()) { co_return http::json_error(http::Status::bad_request, "Expected {\"name\": \"...\"}", req); }
    auto created = co_await deps.box.create_app_password(user->id, std::string(name->as_string()));
    if (!created) { co_return http::json_error(status_for(created.error()), created.error().message, req); }
    std::string out = app_json(created->first);
    out.insert(out.size() - 1, ",\"password\":\"" + created->second + "\",\"login_name\":\"" + http::json_escape(user->name) + "\"");
    co_return json(http::Status::created, out);
  }
  auto st = co_await deps.box.delete_app_password(user->id, std::string(ctx.param("id")));
  if (!st) { co_return http::json_error(status_for(st.error()), st.error().message, req); }
  deps.auth_cache->clear();
  co_return http::Response(http::Status::no_content);
}

}  // namespace

void add_login_routes(http::Router& router, const Deps& deps) {
  router.add(http::Method::post, "/index.php/login/v2", [&deps](http::RequestContext& ctx) { return handle_start(ctx, deps); });
  router.add(http::Method::get, "/index.php/login/v2/flow/{token}", [&deps](http::RequestContext& ctx) { return handle_flow_page(ctx, deps); });
  router.add(http::Method::post, "/index.php/login/v2/grant", [&deps](http::RequestContext& ctx) { return handle_grant(ctx, deps); });
  router.add(http::Method::post, "/index.php/login/v2/poll", [&deps](http::RequestContext& ctx) { return handle_poll(ctx, deps); });
  auto apps = [&deps](http::RequestContext& ctx) { return handle_app_passwords(ctx, deps); };
  router.add(http::Method::get, "/box/v1/app-passwords", apps);
  router.add(http::Method::post, "/box/v1/app-passwords", apps);
  router.add(http::Method::delete_, "/box/v1/app-passwords/{id}", apps);
}

}  // namespace ciel::box::dav
