// GET /auth/v1.0 (Swift's v1 auth, for old clients: X-Auth-User "project:user" in the default
// domain, X-Auth-Key the password) and GET /info (the capabilities that work).
#include "object/swift/common.h"

namespace ciel::object::swift {
namespace {

using boost::asio::awaitable;

awaitable<http::Response> handle_auth_v1(http::RequestContext& ctx, const Deps& deps) {
  const auto& req = ctx.request();
  std::string_view user = req.header("X-Auth-User");
  if (user.empty()) { user = req.header("X-Storage-User"); }
  std::string_view key = req.header("X-Auth-Key");
  if (key.empty()) { key = req.header("X-Storage-Pass"); }
  auto colon = user.find(':');
  if (user.empty() || key.empty() || colon == std::string_view::npos || colon == 0 || colon + 1 == user.size()) {
    co_return error_response(make_error(Errc::unauthenticated, "Unauthorized"), req);
  }
  identity::AuthRequest auth;
  auth.methods = {"password"};
  auth.user_name = std::string(user.substr(colon + 1));
  auth.user_domain_id = std::string(identity::kDefaultDomainId);
  auth.password = std::string(key);
  auth.scope = identity::AuthRequest::Scope::project;
  auth.project_name = std::string(user.substr(0, colon));
  auth.project_domain_id = std::string(identity::kDefaultDomainId);
  auto issued = co_await deps.identity.authenticate(std::move(auth), req.remote_address, req.request_id);
  if (!issued) { co_return error_response(make_error(Errc::unauthenticated, "Unauthorized"), req); }
  http::Response res = status_response(http::Status::ok, req);
  std::string url = deps.options.public_url + "/v1/AUTH_" + issued->principal.project_id;
  res.set_header("X-Storage-Url", url);
  res.set_header("X-Auth-Token", issued->token);
  res.set_header("X-Storage-Token", issued->token);
  auto ttl = std::chrono::duration_cast<std::chrono::seconds>(issued->principal.expires_at - system_clock().now()).count();
  res.set_header("X-Auth-Token-Expires", std::to_string(std::max<std::int64_t>(ttl, 0)));
  res.set_body("", "text/plain; charset=utf-8");
  co_return res;
}

awaitable<http::Response> handle_info(http::RequestContext& ctx, const Deps& deps) {
  const auto& cfg = deps.objects.config();
  std::string body = "{\"swift\":{\"version\":\"ciel\",\"max_file_size\":" + std::to_string(cfg.max_object_size) +
                     ",\"container_listing_limit\":" + std::to_string(cfg.max_listing) +
                     ",\"account_listing_limit\":" + std::to_string(cfg.max_listing) +
                     ",\"max_object_name_length\":1024,\"max_container_name_length\":256,\"max_meta_name_length\":128,"
                     "\"max_meta_value_length\":256,\"max_meta_count\":90,\"max_meta_overall_size\":4096,\"max_header_size\":8192,"
                     "\"extra_header_count\":0,\"allow_account_management\":false,\"account_autocreate\":true,"
                     "\"strict_cors_mode\":true,\"policies\":[{\"name\":\"Policy-0\",\"aliases\":\"Policy-0\",\"default\":true}]},"
                     "\"tempauth\":{\"account_acls\":true},"
                     "\"container_quotas\":{},\"dlo\":{\"max_get_time\":86400},"
                     "\"versioned_writes\":{\"allowed_flags\":[\"x-versions-location\",\"x-history-location\"]},"
                     "\"slo\":{\"max_manifest_segments\":1000,\"max_manifest_size\":8388608,\"min_segment_size\":1,\"yield_frequency\":10},"
                     "\"tempurl\":{\"methods\":[\"GET\",\"HEAD\",\"PUT\",\"POST\",\"DELETE\"],\"incoming_remove_headers\":[],"
                     "\"allowed_digests\":[\"sha1\",\"sha256\",\"sha512\"]},"
                     "\"formpost\":{},"
                     "\"bulk_delete\":{\"max_deletes_per_request\":10000,\"max_failed_deletes\":10000},"
                     "\"bulk_upload\":{\"max_containers_per_extraction\":10000,\"max_failed_extractions\":10000}}";
  http::Response res(http::Status::ok, std::move(body), "application/json; charset=utf-8");
  res.set_header("X-Trans-Id", ctx.request().request_id);
  co_return res;
}

}  // namespace

void add_auth_routes(http::Router& router, const Deps& deps) {
  for (const char* pattern : {"/auth/v1.0", "/auth/v1.0/"}) {
    router.add(http::Method::get, pattern, with_trans_id([&deps](http::RequestContext& ctx) { return handle_auth_v1(ctx, deps); }));
  }
  router.add(http::Method::get, "/info", with_trans_id([&deps](http::RequestContext& ctx) { return handle_info(ctx, deps); }));
}

}  // namespace ciel::object::swift
