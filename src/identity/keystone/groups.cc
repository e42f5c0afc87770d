// /v3/groups and /v3/groups/{id}/users
#include "identity/keystone/common.h"

namespace ciel::identity::keystone {
namespace {

Awaitable handle_list(http::RequestContext& ctx, Deps& d) {
  KS_TRY(caller, caller_of(ctx, d));
  const auto& r = ctx.request();
  KS_TRY(items, d.identity.list_groups(*caller, query(r, "name"), query(r, "domain_id")));
  json::array out;
  for (const auto& x : *items) { out.push_back(group_json(d, x)); }
  co_return json_response(http::Status::ok, json::object{{"groups", std::move(out)}, {"links", collection_links(d, r)}});
}

Awaitable handle_get(http::RequestContext& ctx, Deps& d) {
  KS_TRY(caller, caller_of(ctx, d));
  KS_TRY(x, d.identity.get_group(*caller, ctx.param("id")));
  co_return json_response(http::Status::ok, json::object{{"group", group_json(d, *x)}});
}

Awaitable handle_create(http::RequestContext& ctx, Deps& d) {
  KS_TRY(caller, caller_of(ctx, d));
  KS_TRY_AWAIT(body, read_json(ctx, d));
  KS_TRY(in, parse_group(*body));
  auto x = co_await run_blocking([&] { return d.identity.create_group(*caller, *in); });
  if (!x) { co_return error_response(x.error(), ctx.request()); }
  co_return json_response(http::Status::created, json::object{{"group", group_json(d, *x)}});
}

Awaitable handle_update(http::RequestContext& ctx, Deps& d) {
  KS_TRY(caller, caller_of(ctx, d));
  KS_TRY_AWAIT(body, read_json(ctx, d));
  KS_TRY(in, parse_group(*body));
  std::string id(ctx.param("id"));
  auto x = co_await run_blocking([&] { return d.identity.update_group(*caller, id, *in); });
  if (!x) { co_return error_response(x.error(), ctx.request()); }
  co_return json_response(http::Status::ok, json::object{{"group", group_json(d, *x)}});
}

Awaitable handle_delete(http::RequestContext& ctx, Deps& d) {
  KS_TRY(caller, caller_of(ctx, d));
  std::string id(ctx.param("id"));
  auto st = co_await run_blocking([&] { return d.identity.delete_group(*caller, id); });
  if (!st) { co_return error_response(st.error(), ctx.request()); }
  co_return no_content();
}

Awaitable handle_list_users(http::RequestContext& ctx, Deps& d) {
  KS_TRY(caller, caller_of(ctx, d));
  KS_TRY(items, d.identity.list_group_users(*caller, ctx.param("id")));
  json::array out;
  for (const auto& x : *items) { out.push_back(user_json(d, x)); }
  co_return json_response(http::Status::ok, json::object{{"users", std::move(out)}, {"links", collection_links(d, ctx.request())}});
}

Awaitable handle_check_user(http::RequestContext& ctx, Deps& d) {
  KS_TRY(caller, caller_of(ctx, d));
  auto st = d.identity.check_group_user(*caller, ctx.param("id"), ctx.param("user_id"));
  if (!st) { co_return error_response(st.error(), ctx.request()); }
  co_return no_content();
}

Awaitable handle_add_user(http::RequestContext& ctx, Deps& d) {
  KS_TRY(caller, caller_of(ctx, d));
  std::string gid(ctx.param("id")), uid(ctx.param("user_id"));
  auto st = co_await run_blocking([&] { return d.identity.add_group_user(*caller, gid, uid); });
  if (!st) { co_return error_response(st.error(), ctx.request()); }
  co_return no_content();
}

Awaitable handle_remove_user(http::RequestContext& ctx, Deps& d) {
  KS_TRY(caller, caller_of(ctx, d));
  std::string gid(ctx.param("id")), uid(ctx.param("user_id"));
  auto st = co_await run_blocking([&] { return d.identity.remove_group_user(*caller, gid, uid); });
  if (!st) { co_return error_response(st.error(), ctx.request()); }
  co_return no_content();
}

}  // namespace

void add_group_routes(http::Router& r, Deps& d) {
  route(r, d, http::Method::get, "/v3/groups", handle_list);
  route(r, d, http::Method::post, "/v3/groups", handle_create);
  route(r, d, http::Method::get, "/v3/groups/{id}", handle_get);
  route(r, d, http::Method::patch, "/v3/groups/{id}", handle_update);
  route(r, d, http::Method::delete_, "/v3/groups/{id}", handle_delete);
  route(r, d, http::Method::get, "/v3/groups/{id}/users", handle_list_users);
  route(r, d, http::Method::head, "/v3/groups/{id}/users/{user_id}", handle_check_user);
  route(r, d, http::Method::get, "/v3/groups/{id}/users/{user_id}", handle_check_user);
  route(r, d, http::Method::put, "/v3/groups/{id}/users/{user_id}", handle_add_user);
  route(r, d, http::Method::delete_, "/v3/groups/{id}/users/{user_id}", handle_remove_user);
}

}  // namespace ciel::identity::keystone
