// identity/keystone/keystone.h: the Keystone v3 front-end. It translates Keystone's paths and
// JSON shapes into IdentityService calls and back; it holds no state and no rules (the service
// asks the Policy). `ciel serve` registers it under the "/v3" route group with error_renderer().
#pragma once
#include <string>

#include "core/http/router.h"
#include "identity/identity.h"

namespace ciel::identity::keystone {

struct Options {
  std::string public_url;               // base URL of the public listener, no trailing slash
  std::uint64_t max_body_bytes = 114688;  // Keystone's max_request_body_size; larger bodies get 413
};

// Registers every /v3 route. `identity` must outlive the router.
void add_routes(http::Router& router, IdentityService& identity, const Options& options);
// {"error": {"code", "title", "message"}}, with WWW-Authenticate on 401.
http::ErrorRenderer error_renderer(std::string public_url);
// The multiple-choice versions document Keystone serves at "/" (300).
http::Response root_versions(const http::Request& request, const std::string& public_url);

}  // namespace ciel::identity::keystone
