// /v3/regions, /v3/services, /v3/endpoints
#include "identity/keystone/common.h"

namespace ciel::identity::keystone {
namespace {

Awaitable handle_list_regions(http::RequestContext& ctx, Deps& d) {
  KS_TRY(caller, caller_of(ctx, d));
  KS_TRY(items, d.identity.list_regions(*caller));
  json::array out;
  for (const auto& x : *items) { out.push_back(region_json(d, x)); }
  co_return json_response(http::Status::ok, json::object{{"regions", std::move(out)}, {"links", collection_links(d, ctx.request())}});
}

Awaitable handle_get_region(http::RequestContext& ctx, Deps& d) {
  KS_TRY(caller, caller_of(ctx, d));
  KS_TRY(x, d.identity.get_region(*caller, ctx.param("id")));
  co_return json_response(http::Status::ok, json::object{{"region", region_json(d, *x)}});
}

Awaitable handle_create_region(http::RequestContext& ctx, Deps& d) {
  KS_TRY(caller, caller_of(ctx, d));
  KS_TRY_AWAIT(body, read_json(ctx, d));
  KS_TRY(o, member_object(*body, "region"));
  NamedInput in;
  KS_TRY(id, opt_string(*o, "id"));
  KS_TRY(desc, opt_string(*o, "description", true));
  KS_TRY(parent, opt_string(*o, "parent_region_id", true));
  in.id = *id;
  in.description = *desc;
  in.parent_region_id = *parent;
  auto x = co_await run_blocking([&] { return d.identity.create_region(*caller, in); });
  if (!x) { co_return error_response(x.error(), ctx.request()); }
  co_return json_response(http::Status::created, json::object{{"region", region_json(d, *x)}});
}

Awaitable handle_delete_region(http::RequestContext& ctx, Deps& d) {
  KS_TRY(caller, caller_of(ctx, d));
  std::string id(ctx.param("id"));
  auto st = co_await run_blocking([&] { return d.identity.delete_region(*caller, id); });
  if (!st) { co_return error_response(st.error(), ctx.request()); }
  co_return no_content();
}

Awaitable handle_list_services(http::RequestContext& ctx, Deps& d) {
  KS_TRY(caller, caller_of(ctx, d));
  KS_TRY(items, d.identity.list_services(*caller, query(ctx.request(), "type"), query(ctx.request(), "name")));
  json::array out;
  for (const auto& x : *items) { out.push_back(service_json(d, x)); }
  co_return json_response(http::Status::ok, json::object{{"services", std::move(out)}, {"links", collection_links(d, ctx.request())}});
}

Awaitable handle_get_service(http::RequestContext& ctx, Deps& d) {
  KS_TRY(caller, caller_of(ctx, d));
  KS_TRY(x, d.identity.get_service(*caller, ctx.param("id")));
  co_return json_response(http::Status::ok, json::object{{"service", service_json(d, *x)}});
}

Awaitable handle_create_service(http::RequestContext& ctx, Deps& d) {
  KS_TRY(caller, caller_of(ctx, d));
  KS_TRY_AWAIT(body, read_json(ctx, d));
  KS_TRY(in, parse_service(*body));
  auto x = co_await run_blocking([&] { return d.identity.create_service(*caller, *in); });
  if (!x) { co_return error_response(x.error(), ctx.request()); }
  co_return json_response(http::Status::created, json::object{{"service", service_json(d, *x)}});
}

Awaitable handle_update_service(http::RequestContext& ctx, Deps& d) {
  KS_TRY(caller, caller_of(ctx, d));
  KS_TRY_AWAIT(body, read_json(ctx, d));
  KS_TRY(in, parse_service(*body));
  std::string id(ctx.param("id"));
  auto x = co_await run_blocking([&] { return d.identity.update_service(*caller, id, *in); });
  if (!x) { co_return error_response(x.error(), ctx.request()); }
  co_return json_response(http::Status::ok, json::object{{"service", service_json(d, *x)}});
}

Awaitable handle_delete_service(http::RequestContext& ctx, Deps& d) {
  KS_TRY(caller, caller_of(ctx, d));
  std::string id(ctx.param("id"));
  auto st = co_await run_blocking([&] { return d.identity.delete_service(*caller, id); });
  if (!st) { co_return error_response(st.error(), ctx.request()); }
  co_return no_content();
}

Awaitable handle_list_endpoints(http::RequestContext& ctx, Deps& d) {
  KS_TRY(caller, caller_of(ctx, d));
  const auto& r = ctx.request();
  KS_TRY(items, d.identity.list_endpoints(*caller, query(r, "service_id"), query(r, "interface"), query(r, "region_id")));
  json::array out;
  for (const auto& x : *items) { out.push_back(endpoint_json(d, x)); }
  co_return json_response(http::Status::ok, json::object{{"endpoints", std::move(out)}, {"links", collection_links(d, r)}});
}

Awaitable handle_get_endpoint(http::RequestContext& ctx, Deps& d) {
  KS_TRY(caller, caller_of(ctx, d));
  KS_TRY(x, d.identity.get_endpoint(*caller, ctx.param("id")));
  co_return json_response(http::Status::ok, json::object{{"endpoint", endpoint_json(d, *x)}});
}

Awaitable handle_create_endpoint(http::RequestContext& ctx, Deps& d) {
  KS_TRY(caller, caller_of(ctx, d));
  KS_TRY_AWAIT(body, read_json(ctx, d));
  KS_TRY(in, parse_endpoint(*body));
  auto x = co_await run_blocking([&] { return d.identity.create_endpoint(*caller, *in); });
  if (!x) { co_return error_response(x.error(), ctx.request()); }
  co_return json_response(http::Status::created, json::object{{"endpoint", endpoint_json(d, *x)}});
}

Awaitable handle_update_endpoint(http::RequestContext& ctx, Deps& d) {
  KS_TRY(caller, caller_of(ctx, d));
  KS_TRY_AWAIT(body, read_json(ctx, d));
  KS_TRY(in, parse_endpoint(*body));
  std::string id(ctx.param("id"));
  auto x = co_await run_blocking([&] { return d.identity.update_endpoint(*caller, id, *in); });
  if (!x) { co_return error_response(x.error(), ctx.request()); }
  co_return json_response(http::Status::ok, json::object{{"endpoint", endpoint_json(d, *x)}});
}

Awaitable handle_delete_endpoint(http::RequestContext& ctx, Deps& d) {
  KS_TRY(caller, caller_of(ctx, d));
  std::string id(ctx.param("id"));
  auto st = co_await run_blocking([&] { return d.identity.delete_endpoint(*caller, id); });
  if (!st) { co_return error_response(st.error(), ctx.request()); }
  co_return no_content();
}

}  // namespace

void add_catalog_routes(http::Router& r, Deps& d) {
  route(r, d, http::Method::get, "/v3/regions", handle_list_regions);
  route(r, d, http::Method::post, "/v3/regions", handle_create_region);
  route(r, d, http::Method::get, "/v3/regions/{id}", handle_get_region);
  route(r, d, http::Method::delete_, "/v3/regions/{id}", handle_delete_region);
  route(r, d, http::Method::get, "/v3/services", handle_list_services);
  route(r, d, http::Method::post, "/v3/services", handle_create_service);
  route(r, d, http::Method::get, "/v3/services/{id}", handle_get_service);
  route(r, d, http::Method::patch, "/v3/services/{id}", handle_update_service);
  route(r, d, http::Method::delete_, "/v3/services/{id}", handle_delete_service);
  route(r, d, http::Method::get, "/v3/endpoints", handle_list_endpoints);
  route(r, d, http::Method::post, "/v3/endpoints", handle_create_endpoint);
  route(r, d, http::Method::get, "/v3/endpoints/{id}", handle_get_endpoint);
  route(r, d, http::Method::patch, "/v3/endpoints/{id}", handle_update_endpoint);
  route(r, d, http::Method::delete_, "/v3/endpoints/{id}", handle_delete_endpoint);
}

}  // namespace ciel::identity::keystone
