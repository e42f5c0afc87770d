// /v3/users/{id}/application_credentials and /v3/users/{id}/credentials/OS-EC2
#include "identity/keystone/common.h"

namespace ciel::identity::keystone {
namespace {

json::object app_cred_json(const Deps& d, const AppCredential& x) {
  json::array roles;
  for (const auto& rid : x.role_ids) {
    roles.push_back(json::object{{"id", rid}, {"name", d.identity.role_name(rid)}, {"domain_id", nullptr}});
  }
  json::object o{{"id", x.id},
                 {"name", x.name},
                 {"description", x.description},
                 {"user_id", x.user_id},
                 {"project_id", x.project_id},
                 {"system", nullptr},
                 {"unrestricted", x.unrestricted},
                 {"roles", std::move(roles)},
                 {"access_rules", json::array{}},
                 {"links", json::object{{"self", link(d, "/v3/users/" + x.user_id + "/application_credentials/" + x.id)}}}};
  if (x.expires_at) {
    o["expires_at"] = iso8601(SystemTime(std::chrono::seconds(*x.expires_at)), 6);
  } else {
    o["expires_at"] = nullptr;
  }
  return o;
}

json::object ec2_json(const Deps& d, const Ec2Credential& x) {
  return json::object{{"user_id", x.user_id},
                      {"tenant_id", x.project_id},
                      {"access", x.access},
                      {"secret", x.secret},
                      {"trust_id", nullptr},
                      {"links", json::object{{"self", link(d, "/v3/users/" + x.user_id + "/credentials/OS-EC2/" + x.access)}}}};
}

Awaitable handle_list_app(http::RequestContext& ctx, Deps& d) {
  KS_TRY(caller, caller_of(ctx, d));
  KS_TRY(items, d.identity.list_app_credentials(*caller, ctx.param("user"), query(ctx.request(), "name")));
  json::array out;
  for (const auto& x : *items) { out.push_back(app_cred_json(d, x)); }
  co_return json_response(http::Status::ok,
                          json::object{{"application_credentials", std::move(out)}, {"links", collection_links(d, ctx.request())}});
}

Awaitable handle_get_app(http::RequestContext& ctx, Deps& d) {
  KS_TRY(caller, caller_of(ctx, d));
  KS_TRY(x, d.identity.get_app_credential(*caller, ctx.param("user"), ctx.param("id")));
  co_return json_response(http::Status::ok, json::object{{"application_credential", app_cred_json(d, *x)}});
}

Awaitable handle_create_app(http::RequestContext& ctx, Deps& d) {
  KS_TRY(caller, caller_of(ctx, d));
  KS_TRY_AWAIT(body, read_json(ctx, d));
  KS_TRY(in, parse_app_cred(*body, caller->principal));
  std::string uid(ctx.param("user"));
  auto x = co_await run_blocking([&] { return d.identity.create_app_credential(*caller, uid, *in); });
  if (!x) { co_return error_response(x.error(), ctx.request()); }
  json::object o = app_cred_json(d, x->first);
  o["secret"] = x->second;
  co_return json_response(http::Status::created, json::object{{"application_credential", std::move(o)}});
}

Awaitable handle_delete_app(http::RequestContext& ctx, Deps& d) {
  KS_TRY(caller, caller_of(ctx, d));
  std::string uid(ctx.param("user")), id(ctx.param("id"));
  auto st = co_await run_blocking([&] { return d.identity.delete_app_credential(*caller, uid, id); });
  if (!st) { co_return error_response(st.error(), ctx.request()); }
  co_return no_content();
}

Awaitable handle_list_ec2(http::RequestContext& ctx, Deps& d) {
  KS_TRY(caller, caller_of(ctx, d));
  KS_TRY(items, d.identity.list_ec2(*caller, ctx.param("user")));
  json::array out;
  for (const auto& x : *items) { out.push_back(ec2_json(d, x)); }
  co_return json_response(http::Status::ok, json::object{{"credentials", std::move(out)}, {"links", collection_links(d, ctx.request())}});
}

Awaitable handle_get_ec2(http::RequestContext& ctx, Deps& d) {
  KS_TRY(caller, caller_of(ctx, d));
  KS_TRY(x, d.identity.get_ec2(*caller, ctx.param("user"), ctx.param("access")));
  co_return json_response(http::Status::ok, json::object{{"credential", ec2_json(d, *x)}});
}

Awaitable handle_create_ec2(http::RequestContext& ctx, Deps& d) {
  KS_TRY(caller, caller_of(ctx, d));
  KS_TRY_AWAIT(body, read_json(ctx, d));
  KS_TRY(tenant, opt_string(*body, "tenant_id"));
  KS_TRY(project, opt_string(*body, "project_id"));
  std::string pid = tenant->value_or(project->value_or(""));
  if (pid.empty()) { co_return error_response(make_error(Errc::invalid_argument, "'tenant_id' is a required property"), ctx.request()); }
  std::string uid(ctx.param("user"));
  auto x = co_await run_blocking([&] { return d.identity.create_ec2(*caller, uid, pid); });
  if (!x) { co_return error_response(x.error(), ctx.request()); }
  co_return json_response(http::Status::created, json::object{{"credential", ec2_json(d, *x)}});
}

Awaitable handle_delete_ec2(http::RequestContext& ctx, Deps& d) {
  KS_TRY(caller, caller_of(ctx, d));
  std::string uid(ctx.param("user")), access(ctx.param("access"));
  auto st = co_await run_blocking([&] { return d.identity.delete_ec2(*caller, uid, access); });
  if (!st) { co_return error_response(st.error(), ctx.request()); }
  co_return no_content();
}

}  // namespace

void add_credential_routes(http::Router& r, Deps& d) {
  route(r, d, http::Method::get, "/v3/users/{user}/application_credentials", handle_list_app);
  route(r, d, http::Method::post, "/v3/users/{user}/application_credentials", handle_create_app);
  route(r, d, http::Method::get, "/v3/users/{user}/application_credentials/{id}", handle_get_app);
  route(r, d, http::Method::delete_, "/v3/users/{user}/application_credentials/{id}", handle_delete_app);
  route(r, d, http::Method::get, "/v3/users/{user}/credentials/OS-EC2", handle_list_ec2);
  route(r, d, http::Method::post, "/v3/users/{user}/credentials/OS-EC2", handle_create_ec2);
  route(r, d, http::Method::get, "/v3/users/{user}/credentials/OS-EC2/{access}", handle_get_ec2);
  route(r, d, http::Method::delete_, "/v3/users/{user}/credentials/OS-EC2/{access}", handle_delete_ec2);
}

}  // namespace ciel::identity::keystone
