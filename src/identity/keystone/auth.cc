// /v3/auth/*: issue, validate, check and revoke tokens; the token's catalog, projects and
// domains; /v3/s3tokens for the S3 front-end's signature checks.
#include "core/crypto/crypto.h"
#include "identity/keystone/common.h"

namespace ciel::identity::keystone {
namespace {

// A request that never reaches a method is still a failed authentication for the audit log.
void audit_malformed(const Deps& d, const http::Request& r, const Error& e) {
  AuditRecord rec;
  rec.at_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  rec.principal = "-";
  rec.action = "auth";
  rec.target = "token";
  rec.outcome = "failure";
  rec.source = r.remote_address;
  rec.request_id = r.request_id;
  rec.detail = e.message;
  d.identity.audit(std::move(rec));
}

Awaitable handle_post_tokens(http::RequestContext& ctx, Deps& d) {
  const auto& r = ctx.request();
  auto body = co_await read_json(ctx, d);
  if (!body) {
    audit_malformed(d, r, body.error());
    co_return error_response(body.error(), r);
  }
  auto req = parse_auth(*body);
  if (!req) {
    audit_malformed(d, r, req.error());
    co_return error_response(req.error(), r);
  }
  KS_TRY_AWAIT(issued, d.identity.authenticate(std::move(*req), r.remote_address, r.request_id));
  http::Response res(http::Status::created, d.identity.render_token(issued->principal, !r.has_query_param("nocatalog")), "application/json");
  res.set_header("X-Subject-Token", issued->token);
  co_return res;
}

// X-Auth-Token is the caller; X-Subject-Token the token asked about (404 when invalid).
Result<std::pair<Caller, Principal>> caller_and_subject(http::RequestContext& ctx, const Deps& d, Action action) {
  auto caller = caller_of(ctx, d);
  if (!caller) { return caller.error(); }
  std::string_view subject = ctx.request().header("X-Subject-Token");
  if (subject.empty()) { return make_error(Errc::invalid_argument, "X-Subject-Token is required."); }
  // A client checking its own token sends it twice: validate it once.
  auto p = subject == ctx.request().header("X-Auth-Token") ? Result<Principal>(caller->principal) : d.identity.authenticate_token(subject);
  if (!p) { return make_error(Errc::not_found, "Could not find token: " + std::string(subject.substr(0, 16)) + "..."); }
  if (!d.identity.policy().may(caller->principal, action, Target{"", "", p->user_id, ""})) {
    return make_error(Errc::forbidden, "You are not authorized to perform the requested action: identity:validate_token.");
  }
  return std::pair{std::move(*caller), std::move(*p)};
}

Awaitable handle_get_tokens(http::RequestContext& ctx, Deps& d) {
  KS_TRY(cs, caller_and_subject(ctx, d, Action::validate_token));
  const auto& r = ctx.request();
  http::Response res(http::Status::ok, d.identity.render_token(cs->second, !r.has_query_param("nocatalog")), "application/json");
  res.set_header("X-Subject-Token", r.header("X-Subject-Token"));
  co_return res;
}

Awaitable handle_head_tokens(http::RequestContext& ctx, Deps& d) {
  KS_TRY(cs, caller_and_subject(ctx, d, Action::validate_token));
  http::Response res(http::Status::ok);
  res.set_header("X-Subject-Token", ctx.request().header("X-Subject-Token"));
  co_return res;
}

Awaitable handle_delete_tokens(http::RequestContext& ctx, Deps& d) {
  KS_TRY(caller, caller_of(ctx, d));
  std::string subject(ctx.request().header("X-Subject-Token"));
  if (subject.empty()) { co_return error_response(make_error(Errc::invalid_argument, "X-Subject-Token is required."), ctx.request()); }
  auto st = co_await run_blocking([&] { return d.identity.revoke_token(*caller, subject); });
  if (!st) { co_return error_response(st.error(), ctx.request()); }
  co_return no_content();
}

Awaitable handle_auth_catalog(http::RequestContext& ctx, Deps& d) {
  KS_TRY(caller, caller_of(ctx, d));
  if (caller->principal.scope == ScopeType::none) {
    co_return error_response(make_error(Errc::forbidden, "A scoped token is required to read the catalog."), ctx.request());
  }
  std::string body = "{\"catalog\": " + d.identity.render_catalog(caller->principal) + ", \"links\": {\"self\": \"" +
                     http::json_escape(link(d, "/v3/auth/catalog")) + "\", \"previous\": null, \"next\": null}}";
  co_return http::Response(http::Status::ok, std::move(body), "application/json");
}

Awaitable handle_auth_projects(http::RequestContext& ctx, Deps& d) {
  KS_TRY(caller, caller_of(ctx, d));
  json::array items;
  for (const auto& p : d.identity.projects_for_user(caller->principal)) { items.push_back(project_json(d, p)); }
  co_return json_response(http::Status::ok, json::object{{"projects", std::move(items)}, {"links", collection_links(d, ctx.request())}});
}

Awaitable handle_auth_domains(http::RequestContext& ctx, Deps& d) {
  KS_TRY(caller, caller_of(ctx, d));
  json::array items;
  for (const auto& x : d.identity.domains_for_user(caller->principal)) { items.push_back(domain_json(d, x)); }
  co_return json_response(http::Status::ok, json::object{{"domains", std::move(items)}, {"links", collection_links(d, ctx.request())}});
}

Awaitable handle_s3tokens(http::RequestContext& ctx, Deps& d) {
  KS_TRY(caller, caller_of(ctx, d));
  if (!d.identity.policy().may(caller->principal, Action::validate_s3_signature)) {
    co_return error_response(make_error(Errc::forbidden, "You are not authorized to perform the requested action: identity:s3tokens_validate."),
                             ctx.request());
  }
  KS_TRY_AWAIT(body, read_json(ctx, d));
  KS_TRY(creds, member_object(*body, "credentials"));
  KS_TRY(access, opt_string(*creds, "access"));
  KS_TRY(token, opt_string(*creds, "token"));
  KS_TRY(signature, opt_string(*creds, "signature"));
  if (!*access || !*token || !*signature) {
    co_return error_response(make_error(Errc::invalid_argument, "credentials need access, token and signature."), ctx.request());
  }
  auto sts = crypto::unbase64url(**token);
  if (!sts) { sts = crypto::unbase64(**token); }
  if (!sts) { co_return error_response(make_error(Errc::invalid_argument, "credentials.token is not base64."), ctx.request()); }
  KS_TRY(principal, d.identity.check_ec2_signature(**access, *sts, **signature));
  co_return http::Response(http::Status::ok, d.identity.render_token(*principal, false), "application/json");
}

}  // namespace

void add_auth_routes(http::Router& r, Deps& d) {
  route(r, d, http::Method::post, "/v3/auth/tokens", handle_post_tokens);
  route(r, d, http::Method::get, "/v3/auth/tokens", handle_get_tokens);
  route(r, d, http::Method::head, "/v3/auth/tokens", handle_head_tokens);
  route(r, d, http::Method::delete_, "/v3/auth/tokens", handle_delete_tokens);
  route(r, d, http::Method::get, "/v3/auth/catalog", handle_auth_catalog);
  route(r, d, http::Method::get, "/v3/auth/projects", handle_auth_projects);
  route(r, d, http::Method::get, "/v3/auth/domains", handle_auth_domains);
  route(r, d, http::Method::post, "/v3/s3tokens", handle_s3tokens);
}

}  // namespace ciel::identity::keystone
