// /v3/roles
#include "identity/keystone/common.h"

namespace ciel::identity::keystone {
namespace {

Awaitable handle_list(http::RequestContext& ctx, Deps& d) {
  KS_TRY(caller, caller_of(ctx, d));
  KS_TRY(items, d.identity.list_roles(*caller, query(ctx.request(), "name")));
  json::array out;
  for (const auto& x : *items) { out.push_back(role_json(d, x)); }
  co_return json_response(http::Status::ok, json::object{{"roles", std::move(out)}, {"links", collection_links(d, ctx.request())}});
}

Awaitable handle_get(http::RequestContext& ctx, Deps& d) {
  KS_TRY(caller, caller_of(ctx, d));
  KS_TRY(x, d.identity.get_role(*caller, ctx.param("id")));
  co_return json_response(http::Status::ok, json::object{{"role", role_json(d, *x)}});
}

Awaitable handle_create(http::RequestContext& ctx, Deps& d) {
  KS_TRY(caller, caller_of(ctx, d));
  KS_TRY_AWAIT(body, read_json(ctx, d));
  KS_TRY(in, parse_role(*body));
  auto x = co_await run_blocking([&] { return d.identity.create_role(*caller, *in); });
  if (!x) { co_return error_response(x.error(), ctx.request()); }
  co_return json_response(http::Status::created, json::object{{"role", role_json(d, *x)}});
}

Awaitable handle_update(http::RequestContext& ctx, Deps& d) {
  KS_TRY(caller, caller_of(ctx, d));
  KS_TRY_AWAIT(body, read_json(ctx, d));
  KS_TRY(in, parse_role(*body));
  std::string id(ctx.param("id"));
  auto x = co_await run_blocking([&] { return d.identity.update_role(*caller, id, *in); });
  if (!x) { co_return error_response(x.error(), ctx.request()); }
  co_return json_response(http::Status::ok, json::object{{"role", role_json(d, *x)}});
}

Awaitable handle_delete(http::RequestContext& ctx, Deps& d) {
  KS_TRY(caller, caller_of(ctx, d));
  std::string id(ctx.param("id"));
  auto st = co_await run_blocking([&] { return d.identity.delete_role(*caller, id); });
  if (!st) { co_return error_response(st.error(), ctx.request()); }
  co_return no_content();
}

}  // namespace

void add_role_routes(http::Router& r, Deps& d) {
  route(r, d, http::Method::get, "/v3/roles", handle_list);
  route(r, d, http::Method::post, "/v3/roles", handle_create);
  route(r, d, http::Method::get, "/v3/roles/{id}", handle_get);
  route(r, d, http::Method::patch, "/v3/roles/{id}", handle_update);
  route(r, d, http::Method::delete_, "/v3/roles/{id}", handle_delete);
}

}  // namespace ciel::identity::keystone
