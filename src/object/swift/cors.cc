// CORS for browsers talking to Swift directly: a container opts in with
// X-Container-Meta-Access-Control-Allow-Origin (space-separated origins, or *), and optionally
// -Max-Age and -Expose-Headers. Preflight OPTIONS needs no token; actual requests from an
// allowed origin get Access-Control-Allow-Origin and the headers a script may read.
#include <sstream>

#include "object/swift/common.h"

namespace ciel::object::swift {
namespace {

using boost::asio::awaitable;

constexpr std::string_view kMethods = "HEAD, GET, PUT, POST, COPY, OPTIONS, DELETE";
constexpr std::string_view kExposed =
    "cache-control, content-language, content-type, expires, last-modified, pragma, etag, x-timestamp, x-trans-id, "
    "x-openstack-request-id";

bool origin_allowed(const Metadata& cors, std::string_view origin) {
  auto it = cors.find("access-control-allow-origin");
  if (it == cors.end()) { return false; }
  std::istringstream in(it->second);
  std::string o;
  while (in >> o) {
    if (o == "*" || o == origin) { return true; }
  }
  return false;
}

std::string meta_value(const Metadata& m, const std::string& key) {
  auto it = m.find(key);
  return it == m.end() ? std::string() : it->second;
}

}  // namespace

http::Handler with_trans_id(http::Handler inner) {
  return [inner = std::move(inner)](http::RequestContext& ctx) -> awaitable<http::Response> {
    http::Response res = co_await inner(ctx);
    if (!res.headers().has("X-Trans-Id")) { res.set_header("X-Trans-Id", ctx.request().request_id); }
    if (!res.headers().has("X-Openstack-Request-Id")) { res.set_header("X-Openstack-Request-Id", ctx.request().request_id); }
    co_return res;
  };
}

http::Handler with_cors(const Deps& deps, http::Handler inner) {
  return [&deps, inner = with_trans_id(std::move(inner))](http::RequestContext& ctx) -> awaitable<http::Response> {
    http::Response res = co_await inner(ctx);
    std::string origin(ctx.request().header("Origin"));
    if (origin.empty()) { co_return res; }
    auto project = project_of(ctx.param("account"));
    if (!project) { co_return res; }
    auto cors = co_await deps.objects.container_cors(*project, std::string(ctx.param("container")));
    if (!cors || !origin_allowed(*cors, origin)) { co_return res; }
    res.set_header("Access-Control-Allow-Origin", origin);
    std::string expose(kExposed);
    for (const auto& [name, value] : res.headers().items()) {
      if (name.size() > 14 && http::iequals(std::string_view(name).substr(0, 14), "x-object-meta-")) { expose += ", " + name; }
    }
    if (auto extra = meta_value(*cors, "access-control-expose-headers"); !extra.empty()) { expose += ", " + extra; }
    res.set_header("Access-Control-Expose-Headers", expose);
    co_return res;
  };
}

awaitable<http::Response> handle_options(http::RequestContext& ctx, const Deps& deps) {
  const auto& req = ctx.request();
  std::string origin(req.header("Origin"));
  if (origin.empty()) {
    http::Response res = status_response(http::Status::ok, req);
    res.set_header("Allow", kMethods);
    co_return res;
  }
  auto method = req.header("Access-Control-Request-Method");
  auto project = project_of(ctx.param("account"));
  const bool known_method = method == "GET" || method == "HEAD" || method == "PUT" || method == "POST" || method == "COPY" ||
                            method == "OPTIONS" || method == "DELETE";
  if (!known_method || !project) { co_return error_response(make_error(Errc::unauthenticated, "Unauthorized"), req); }
  auto cors = co_await deps.objects.container_cors(*project, std::string(ctx.param("container")));
  if (!cors || !origin_allowed(*cors, origin)) { co_return error_response(make_error(Errc::unauthenticated, "Unauthorized"), req); }
  http::Response res = status_response(http::Status::ok, req);
  res.set_header("Access-Control-Allow-Origin", origin);
  res.set_header("Access-Control-Allow-Methods", kMethods);
  if (auto h = req.header("Access-Control-Request-Headers"); !h.empty()) { res.set_header("Access-Control-Allow-Headers", h); }
  if (auto age = meta_value(*cors, "access-control-max-age"); !age.empty()) { res.set_header("Access-Control-Max-Age", age); }
  res.set_header("Allow", kMethods);
  co_return res;
}

}  // namespace ciel::object::swift
