// compute/api/common.h: what the compute route files share: dependencies, the caller from
// X-Auth-Token, JSON bodies, each API's error rendering, and Errc -> status in one place.
#pragma once
#include <boost/json.hpp>
#include <optional>
#include <string>

#include "compute/api/api.h"
#include "compute/compute.h"
#include "core/http/request.h"
#include "core/http/response.h"
#include "identity/identity.h"

namespace ciel::compute::api {

namespace json = boost::json;

struct Deps {
  ComputeService& compute;
  identity::IdentityService& identity;
  Options options;
};

enum class Dialect { glance, nova, neutron };

http::Status status_for(const Error& e);
http::Response error_response(Dialect d, const Error& e, const http::Request& req);
http::Response error_response(Dialect d, http::Status status, std::string_view message, const http::Request& req);
http::Response json_response(http::Status status, const json::value& body);

// The principal of X-Auth-Token; Errc::unauthenticated when missing or invalid.
Result<identity::Principal> authenticate(const http::Request& req, const Deps& deps);
// A JSON object body; Errc::invalid_argument for malformed JSON or another type, too_large past `limit`.
boost::asio::awaitable<Result<json::object>> read_object(http::RequestContext& ctx, std::size_t limit = 256 * 1024);

std::string iso_time(std::int64_t unix_seconds);  // 2026-11-29T13:17:33Z

void add_glance_routes(http::Router& router, const Deps& deps);
void add_nova_routes(http::Router& router, const Deps& deps);
void add_neutron_routes(http::Router& router, const Deps& deps);

}  // namespace ciel::compute::api
