// Per-user quotas (the default is box.default_quota):
//   GET /box/v1/users/<user_id>/quota   {"user_id", "used_bytes", "quota_bytes"} (null: the default)
//   PUT /box/v1/users/<user_id>/quota   {"quota_bytes": N} sets it, {"quota_bytes": null} returns to the default
// Authenticated by an identity token (X-Auth-Token); reading needs read_user on the user (or being
// them), setting needs manage_users: the identity policy decides.
#include <boost/json.hpp>

#include "box/dav/common.h"

namespace ciel::box::dav {
namespace {

using boost::asio::awaitable;

awaitable<http::Response> handle_quota(http::RequestContext& ctx, const Deps& deps) {
  const auto& req = ctx.request();
  auto token = req.headers.get("X-Auth-Token");
  if (!token) { co_return http::json_error(http::Status::unauthorized, "An identity token (X-Auth-Token) is required", req); }
  auto p = deps.identity.authenticate_token(*token);
  if (!p) { co_return http::json_error(http::Status::unauthorized, p.error().message, req); }
  std::string user_id(ctx.param("user_id"));
  identity::Target target;
  target.user_id = user_id;
  target.domain_id = deps.identity.user_domain(user_id);
  if (target.domain_id.empty()) { co_return http::json_error(http::Status::not_found, "No such user", req); }
  bool write = req.method == http::Method::put;
  const auto& policy = deps.identity.policy();
  bool allowed = write ? policy.may(*p, identity::Action::manage_users, target)
                       : (p->user_id == user_id || policy.may(*p, identity::Action::read_user, target));
  if (!allowed) { co_return http::json_error(http::Status::forbidden, "You are not allowed to " + std::string(write ? "set" : "read") + " this quota", req); }
  if (write) {
    auto body = co_await ctx.read_body(4096);
    if (!body) { co_return http::json_error(http::Status::payload_too_large, body.error().message, req); }
    boost::system::error_code ec;
    auto v = boost::json::parse(*body, ec);
    const boost::json::object* obj = ec ? nullptr : v.if_object();
    const boost::json::value* q = obj ? obj->if_contains("quota_bytes") : nullptr;
    std::optional<std::uint64_t> bytes;
    if (!q || !(q->is_null() || (q->is_int64() && q->as_int64() >= 0) || q->is_uint64())) {
      co_return http::json_error(http::Status::bad_request, "Expected {\"quota_bytes\": a number of bytes, 0 for unlimited, or null for the default}", req);
    }
    if (!q->is_null()) { bytes = q->is_uint64() ? q->as_uint64() : static_cast<std::uint64_t>(q->as_int64()); }
    auto st = co_await deps.box.set_quota(user_id, bytes);
    if (!st) { co_return http::json_error(status_for(st.error()), st.error().message, req); }
    deps.identity.audit(identity::AuditRecord{0, 0, p->user_id, "box.quota.set", user_id, "success", req.remote_address, req.request_id,
                                              bytes ? std::to_string(*bytes) : "default"});
  }
  auto q = co_await deps.box.quota(user_id);
  if (!q) { co_return http::json_error(status_for(q.error()), q.error().message, req); }
  std::string body = "{\"user_id\":\"" + http::json_escape(user_id) + "\",\"used_bytes\":" + std::to_string(q->used) +
                     ",\"quota_bytes\":" + std::to_string(q->total) + "}";
  co_return http::Response(http::Status::ok, std::move(body), "application/json; charset=utf-8");
}

}  // namespace

void add_quota_routes(http::Router& router, const Deps& deps) {
  auto h = [&deps](http::RequestContext& ctx) { return handle_quota(ctx, deps); };
  router.add(http::Method::get, "/box/v1/users/{user_id}/quota", h);
  router.add(http::Method::put, "/box/v1/users/{user_id}/quota", h);
}

}  // namespace ciel::box::dav
