// GET /v3: the version document keystoneauth reads before authenticating; "/" has the
// multiple-choice list (registered by `ciel serve`, which shares "/" with the console).
#include "identity/keystone/common.h"

namespace ciel::identity::keystone {
namespace {

json::object version_object(const std::string& public_url) {
  return json::object{
      {"id", "v3.14"},
      {"status", "stable"},
      {"updated", "2020-04-07T00:00:00Z"},
      {"links", json::array{json::object{{"rel", "self"}, {"href", public_url + "/v3/"}}}},
      {"media-types", json::array{json::object{{"base", "application/json"}, {"type", "application/vnd.openstack.identity-v3+json"}}}}};
}

}  // namespace

http::Response root_versions(const http::Request&, const std::string& public_url) {
  json::object doc{{"versions", json::object{{"values", json::array{version_object(public_url)}}}}};
  return json_response(http::Status{300}, doc);
}

void add_version_routes(http::Router& r, Deps& d) {
  auto handler = [](http::RequestContext&, Deps& deps) -> Awaitable {
    co_return json_response(http::Status::ok, json::object{{"version", version_object(deps.options.public_url)}});
  };
  route(r, d, http::Method::get, "/v3", handler);
}

}  // namespace ciel::identity::keystone
