// /v3/users, /v3/users/{id}/password, /v3/users/{id}/groups, /v3/users/{id}/projects
#include "identity/keystone/common.h"

namespace ciel::identity::keystone {
namespace {

Awaitable handle_list(http::RequestContext& ctx, Deps& d) {
  KS_TRY(caller, caller_of(ctx, d));
  const auto& r = ctx.request();
  KS_TRY(items, d.identity.list_users(*caller, query(r, "name"), query(r, "domain_id")));
  json::array out;
  for (const auto& x : *items) { out.push_back(user_json(d, x)); }
  co_return json_response(http::Status::ok, json::object{{"users", std::move(out)}, {"links", collection_links(d, r)}});
}

Awaitable handle_get(http::RequestContext& ctx, Deps& d) {
  KS_TRY(caller, caller_of(ctx, d));
  KS_TRY(x, d.identity.get_user(*caller, ctx.param("id")));
  co_return json_response(http::Status::ok, json::object{{"user", user_json(d, *x)}});
}

Awaitable handle_create(http::RequestContext& ctx, Deps& d) {
  KS_TRY(caller, caller_of(ctx, d));
  KS_TRY_AWAIT(body, read_json(ctx, d));
  KS_TRY(in, parse_user(*body));
  auto x = co_await run_blocking([&] { return d.identity.create_user(*caller, *in); });
  if (!x) { co_return error_response(x.error(), ctx.request()); }
  co_return json_response(http::Status::created, json::object{{"user", user_json(d, *x)}});
}

Awaitable handle_update(http::RequestContext& ctx, Deps& d) {
  KS_TRY(caller, caller_of(ctx, d));
  KS_TRY_AWAIT(body, read_json(ctx, d));
  KS_TRY(in, parse_user(*body));
  std::string id(ctx.param("id"));
  auto x = co_await run_blocking([&] { return d.identity.update_user(*caller, id, *in); });
  if (!x) { co_return error_response(x.error(), ctx.request()); }
  co_return json_response(http::Status::ok, json::object{{"user", user_json(d, *x)}});
}

Awaitable handle_delete(http::RequestContext& ctx, Deps& d) {
  KS_TRY(caller, caller_of(ctx, d));
  std::string id(ctx.param("id"));
  auto st = co_await run_blocking([&] { return d.identity.delete_user(*caller, id); });
  if (!st) { co_return error_response(st.error(), ctx.request()); }
  co_return no_content();
}

Awaitable handle_change_password(http::RequestContext& ctx, Deps& d) {
  KS_TRY(caller, caller_of(ctx, d));
  KS_TRY_AWAIT(body, read_json(ctx, d));
  KS_TRY(o, member_object(*body, "user"));
  KS_TRY(original, opt_string(*o, "original_password"));
  KS_TRY(password, opt_string(*o, "password"));
  if (!*original || !*password) {
    co_return error_response(make_error(Errc::invalid_argument, "'original_password' and 'password' are required properties"), ctx.request());
  }
  std::string id(ctx.param("id"));
  auto st = co_await run_blocking([&] { return d.identity.change_password(*caller, id, **original, **password); });
  if (!st) { co_return error_response(st.error(), ctx.request()); }
  co_return no_content();
}

Awaitable handle_user_groups(http::RequestContext& ctx, Deps& d) {
  KS_TRY(caller, caller_of(ctx, d));
  KS_TRY(items, d.identity.list_user_groups(*caller, ctx.param("id")));
  json::array out;
  for (const auto& x : *items) { out.push_back(group_json(d, x)); }
  co_return json_response(http::Status::ok, json::object{{"groups", std::move(out)}, {"links", collection_links(d, ctx.request())}});
}

Awaitable handle_user_projects(http::RequestContext& ctx, Deps& d) {
  KS_TRY(caller, caller_of(ctx, d));
  KS_TRY(items, d.identity.list_user_projects(*caller, ctx.param("id")));
  json::array out;
  for (const auto& x : *items) { out.push_back(project_json(d, x)); }
  co_return json_response(http::Status::ok, json::object{{"projects", std::move(out)}, {"links", collection_links(d, ctx.request())}});
}

}  // namespace

void add_user_routes(http::Router& r, Deps& d) {
  route(r, d, http::Method::get, "/v3/users", handle_list);
  route(r, d, http::Method::post, "/v3/users", handle_create);
  route(r, d, http::Method::get, "/v3/users/{id}", handle_get);
  route(r, d, http::Method::patch, "/v3/users/{id}", handle_update);
  route(r, d, http::Method::delete_, "/v3/users/{id}", handle_delete);
  route(r, d, http::Method::post, "/v3/users/{id}/password", handle_change_password);
  route(r, d, http::Method::get, "/v3/users/{id}/groups", handle_user_groups);
  route(r, d, http::Method::get, "/v3/users/{id}/projects", handle_user_projects);
}

}  // namespace ciel::identity::keystone
