// /v3/projects
#include "identity/keystone/common.h"

namespace ciel::identity::keystone {
namespace {

Awaitable handle_list(http::RequestContext& ctx, Deps& d) {
  KS_TRY(caller, caller_of(ctx, d));
  const auto& r = ctx.request();
  KS_TRY(items, d.identity.list_projects(*caller, query(r, "name"), query(r, "domain_id"), query(r, "parent_id")));
  std::string enabled = query(r, "enabled");
  json::array out;
  for (const auto& x : *items) {
    if (!enabled.empty() && x.enabled != (enabled != "false" && enabled != "0" && enabled != "False")) { continue; }
    out.push_back(project_json(d, x));
  }
  co_return json_response(http::Status::ok, json::object{{"projects", std::move(out)}, {"links", collection_links(d, r)}});
}

Awaitable handle_get(http::RequestContext& ctx, Deps& d) {
  KS_TRY(caller, caller_of(ctx, d));
  KS_TRY(x, d.identity.get_project(*caller, ctx.param("id")));
  co_return json_response(http::Status::ok, json::object{{"project", project_json(d, *x)}});
}

Awaitable handle_create(http::RequestContext& ctx, Deps& d) {
  KS_TRY(caller, caller_of(ctx, d));
  KS_TRY_AWAIT(body, read_json(ctx, d));
  KS_TRY(in, parse_project(*body));
  auto x = co_await run_blocking([&] { return d.identity.create_project(*caller, *in); });
  if (!x) { co_return error_response(x.error(), ctx.request()); }
  co_return json_response(http::Status::created, json::object{{"project", project_json(d, *x)}});
}

Awaitable handle_update(http::RequestContext& ctx, Deps& d) {
  KS_TRY(caller, caller_of(ctx, d));
  KS_TRY_AWAIT(body, read_json(ctx, d));
  KS_TRY(in, parse_project(*body));
  std::string id(ctx.param("id"));
  auto x = co_await run_blocking([&] { return d.identity.update_project(*caller, id, *in); });
  if (!x) { co_return error_response(x.error(), ctx.request()); }
  co_return json_response(http::Status::ok, json::object{{"project", project_json(d, *x)}});
}

Awaitable handle_delete(http::RequestContext& ctx, Deps& d) {
  KS_TRY(caller, caller_of(ctx, d));
  std::string id(ctx.param("id"));
  auto st = co_await run_blocking([&] { return d.identity.delete_project(*caller, id); });
  if (!st) { co_return error_response(st.error(), ctx.request()); }
  co_return no_content();
}

}  // namespace

void add_project_routes(http::Router& r, Deps& d) {
  route(r, d, http::Method::get, "/v3/projects", handle_list);
  route(r, d, http::Method::post, "/v3/projects", handle_create);
  route(r, d, http::Method::get, "/v3/projects/{id}", handle_get);
  route(r, d, http::Method::patch, "/v3/projects/{id}", handle_update);
  route(r, d, http::Method::delete_, "/v3/projects/{id}", handle_delete);
}

}  // namespace ciel::identity::keystone
