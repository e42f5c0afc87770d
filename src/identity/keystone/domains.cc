// /v3/domains
#include "identity/keystone/common.h"

namespace ciel::identity::keystone {
namespace {

Awaitable handle_list(http::RequestContext& ctx, Deps& d) {
  KS_TRY(caller, caller_of(ctx, d));
  KS_TRY(items, d.identity.list_domains(*caller, query(ctx.request(), "name")));
  json::array out;
  for (const auto& x : *items) { out.push_back(domain_json(d, x)); }
  co_return json_response(http::Status::ok, json::object{{"domains", std::move(out)}, {"links", collection_links(d, ctx.request())}});
}

Awaitable handle_get(http::RequestContext& ctx, Deps& d) {
  KS_TRY(caller, caller_of(ctx, d));
  KS_TRY(x, d.identity.get_domain(*caller, ctx.param("id")));
  co_return json_response(http::Status::ok, json::object{{"domain", domain_json(d, *x)}});
}

Awaitable handle_create(http::RequestContext& ctx, Deps& d) {
  KS_TRY(caller, caller_of(ctx, d));
  KS_TRY_AWAIT(body, read_json(ctx, d));
  KS_TRY(in, parse_domain(*body));
  auto x = co_await run_blocking([&] { return d.identity.create_domain(*caller, *in); });
  if (!x) { co_return error_response(x.error(), ctx.request()); }
  co_return json_response(http::Status::created, json::object{{"domain", domain_json(d, *x)}});
}

Awaitable handle_update(http::RequestContext& ctx, Deps& d) {
  KS_TRY(caller, caller_of(ctx, d));
  KS_TRY_AWAIT(body, read_json(ctx, d));
  KS_TRY(in, parse_domain(*body));
  std::string id(ctx.param("id"));
  auto x = co_await run_blocking([&] { return d.identity.update_domain(*caller, id, *in); });
  if (!x) { co_return error_response(x.error(), ctx.request()); }
  co_return json_response(http::Status::ok, json::object{{"domain", domain_json(d, *x)}});
}

Awaitable handle_delete(http::RequestContext& ctx, Deps& d) {
  KS_TRY(caller, caller_of(ctx, d));
  std::string id(ctx.param("id"));
  auto st = co_await run_blocking([&] { return d.identity.delete_domain(*caller, id); });
  if (!st) { co_return error_response(st.error(), ctx.request()); }
  co_return no_content();
}

}  // namespace

void add_domain_routes(http::Router& r, Deps& d) {
  route(r, d, http::Method::get, "/v3/domains", handle_list);
  route(r, d, http::Method::post, "/v3/domains", handle_create);
  route(r, d, http::Method::get, "/v3/domains/{id}", handle_get);
  route(r, d, http::Method::patch, "/v3/domains/{id}", handle_update);
  route(r, d, http::Method::delete_, "/v3/domains/{id}", handle_delete);
}

}  // namespace ciel::identity::keystone
