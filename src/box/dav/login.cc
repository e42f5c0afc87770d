// Login Flow v2, how Nextcloud desktop and mobile clients get an app password without ever
// seeing the user's password:
//   POST /index.php/login/v2            the client starts a flow: a poll token and a login URL
//   GET  /index.php/login/v2/flow/<t>   the URL the user opens: a redirect to the console's
//                                       approval page (/#/connect/<t>, web/src/connect.tsx)
//   POST /index.php/login/v2/poll       the client polls (form: token) until it gets
//                                       {server, loginName, appPassword}, once
// The console's page answers the flow for the signed-in user (an identity token, which the
// console's cookie becomes; never Basic credentials, so an app password cannot make another):
//   GET    /box/v1/login-flows/<t>      {"client": name} while the flow waits
//   POST   /box/v1/login-flows/<t>      grant: the client's next poll gets an app password
//   DELETE /box/v1/login-flows/<t>      refuse: the flow is gone, the poll stays 404
// and the user's own app passwords, for the console and scripts (Basic auth or X-Auth-Token):
//   GET /box/v1/app-passwords, POST /box/v1/app-passwords {"name"}, DELETE /box/v1/app-passwords/<id>
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

http::Response json(http::Status status, std::string body) {
  http::Response res(status, std::move(body), "application/json; charset=utf-8");
  res.set_header("Cache-Control", "no-store");
  return res;
}

// The client's name, from its User-Agent: UTF-8 as sent, else read as ISO-8859-1 (what HTTP
// made of bytes above 127 in a header, and what Python's requests sends for "é").
std::string client_name(std::string_view agent) {
  if (http::valid_utf8(agent)) { return std::string(agent); }
  std::string out;
  for (char c : agent) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x80) {
      out.push_back(c);
    } else {
      out.push_back(static_cast<char>(0xC0 | (u >> 6)));
      out.push_back(static_cast<char>(0x80 | (u & 0x3F)));
    }
  }
  return out;
}

awaitable<http::Response> handle_start(http::RequestContext& ctx, const Deps& deps) {
  const auto& req = ctx.request();
  auto flow = co_await deps.box.start_login_flow(client_name(req.header("User-Agent")));
  if (!flow) { co_return json(http::Status::service_unavailable, "{\"message\":\"" + http::json_escape(flow.error().message) + "\"}"); }
  const std::string& base = deps.options.public_url;
  co_return json(http::Status::ok, "{\"poll\":{\"token\":\"" + flow->poll_token + "\",\"endpoint\":\"" + http::json_escape(base) +
                                       "/index.php/login/v2/poll\"},\"login\":\"" + http::json_escape(base) + "/index.php/login/v2/flow/" +
                                       flow->flow_token + "\"}");
}

// The console shows the client's name and asks; it signs the user in first when needed.
awaitable<http::Response> handle_flow_page(http::RequestContext& ctx, const Deps&) {
  http::Response res(http::Status::see_other);
  res.set_header("Location", "/#/connect/" + http::percent_encode(ctx.param("token")));
  res.set_header("Cache-Control", "no-store");
  res.set_header("Referrer-Policy", "no-referrer");
  co_return res;
}

awaitable<http::Response> handle_login_flow(http::RequestContext& ctx, const Deps& deps) {
  const auto& req = ctx.request();
  if (auto token = req.headers.get("X-Auth-Token"); !token || token->empty()) {
    co_return http::json_error(http::Status::unauthorized, "Sign in to the console to answer a login request", req);
  }
  auto user = co_await authenticate(req, deps);
  if (!user) { co_return http::json_error(http::Status::unauthorized, user.error().message, req); }
  std::string flow(ctx.param("token"));
  if (req.method == http::Method::get) {
    auto client = co_await deps.box.login_flow_client(flow);
    if (!client) { co_return http::json_error(status_for(client.error()), client.error().message, req); }
    co_return json(http::Status::ok, "{\"client\":\"" + http::json_escape(*client) + "\"}");
  }
  Status st;
  if (req.method == http::Method::post) {
    st = co_await deps.box.grant_login_flow(flow, user->id, user->name);
  } else {
    st = co_await deps.box.refuse_login_flow(flow);
  }
  if (!st) { co_return http::json_error(status_for(st.error()), st.error().message, req); }
  co_return http::Response(http::Status::no_content);
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
  router.add(http::Method::post, "/index.php/login/v2/poll", [&deps](http::RequestContext& ctx) { return handle_poll(ctx, deps); });
  auto flows = [&deps](http::RequestContext& ctx) { return handle_login_flow(ctx, deps); };
  router.add(http::Method::get, "/box/v1/login-flows/{token}", flows);
  router.add(http::Method::post, "/box/v1/login-flows/{token}", flows);
  router.add(http::Method::delete_, "/box/v1/login-flows/{token}", flows);
  auto apps = [&deps](http::RequestContext& ctx) { return handle_app_passwords(ctx, deps); };
  router.add(http::Method::get, "/box/v1/app-passwords", apps);
  router.add(http::Method::post, "/box/v1/app-passwords", apps);
  router.add(http::Method::delete_, "/box/v1/app-passwords/{id}", apps);
}

}  // namespace ciel::box::dav
