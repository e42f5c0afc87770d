// identity/keystone/common.h: what the route files share: reading JSON bodies (the parsers with
// Keystone's validation messages are in parse.h), rendering of each resource, the caller's
// identity from X-Auth-Token.
#pragma once
#include <boost/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/blocking.h"
#include "core/http/request.h"
#include "core/http/response.h"
#include "core/http/router.h"
#include "identity/identity.h"
#include "identity/keystone/keystone.h"
#include "identity/keystone/parse.h"

namespace ciel::identity::keystone {

struct Deps {
  IdentityService& identity;
  Options options;
};

using Awaitable = boost::asio::awaitable<http::Response>;

http::Response error_response(const Error& e, const http::Request& req);
http::Response json_response(http::Status status, const json::value& body);
http::Response no_content();

// The whole body as a JSON object (parse_json_body); 400 for malformed JSON or a non-object, 413 past the limit.
boost::asio::awaitable<Result<json::object>> read_json(http::RequestContext& ctx, const Deps& deps);

// The caller, from X-Auth-Token; Errc::unauthenticated when missing or invalid.
Result<Caller> caller_of(http::RequestContext& ctx, const Deps& deps);
std::string query(const http::Request& req, std::string_view name);
bool query_flag(const http::Request& req, std::string_view name);  // present and not "false"/"0"

std::string link(const Deps& deps, std::string_view path);
json::object collection_links(const Deps& deps, const http::Request& req);

json::object domain_json(const Deps& d, const Domain& x);
json::object project_json(const Deps& d, const Project& x);
json::object user_json(const Deps& d, const User& x);
json::object group_json(const Deps& d, const Group& x);
json::object role_json(const Deps& d, const Role& x);
json::object region_json(const Deps& d, const Region& x);
json::object service_json(const Deps& d, const Service& x);
json::object endpoint_json(const Deps& d, const Endpoint& x);

void add_version_routes(http::Router& r, Deps& d);
void add_auth_routes(http::Router& r, Deps& d);
void add_domain_routes(http::Router& r, Deps& d);
void add_project_routes(http::Router& r, Deps& d);
void add_user_routes(http::Router& r, Deps& d);
void add_group_routes(http::Router& r, Deps& d);
void add_role_routes(http::Router& r, Deps& d);
void add_assignment_routes(http::Router& r, Deps& d);
void add_credential_routes(http::Router& r, Deps& d);
void add_catalog_routes(http::Router& r, Deps& d);
void add_audit_routes(http::Router& r, Deps& d);

}  // namespace ciel::identity::keystone

// Early return from a route coroutine on a failed Result.
#define KS_TRY(var, expr)                                                      \
  auto var = (expr);                                                           \
  if (!var) { co_return ::ciel::identity::keystone::error_response(var.error(), ctx.request()); }
#define KS_TRY_AWAIT(var, expr)                                                \
  auto var = co_await (expr);                                                  \
  if (!var) { co_return ::ciel::identity::keystone::error_response(var.error(), ctx.request()); }

namespace ciel::identity::keystone {
// Registers `fn(ctx, deps)` with the identity body limit.
template <class F>
void route(http::Router& r, Deps& d, http::Method m, std::string_view pattern, F fn) {
  r.add(m, pattern, [&d, fn](http::RequestContext& ctx) { return fn(ctx, d); }, http::RouteOptions{d.options.max_body_bytes});
}
}  // namespace ciel::identity::keystone
