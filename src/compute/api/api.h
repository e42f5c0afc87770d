// compute/api/api.h: the compute front-ends: Glance v2 under /image, Nova v2.1 under
// /compute/v2.1, and the few Neutron v2.0 calls the CLI makes under /network. Each renders its
// own error format (Glance {"message","code","title"}, Nova {"itemNotFound": {...}}, Neutron
// {"NeutronError": {...}}).
#pragma once
#include <string>

#include "core/http/router.h"

namespace ciel::identity {
class IdentityService;
}
namespace ciel::compute {
class ComputeService;
}

namespace ciel::compute::api {

struct Options {
  std::string public_url;
};

void add_routes(http::Router& router, ComputeService& compute, identity::IdentityService& identity, Options options);
http::Response glance_error_renderer(http::Status status, std::string_view message, const http::Request& request);
http::Response nova_error_renderer(http::Status status, std::string_view message, const http::Request& request);
http::Response neutron_error_renderer(http::Status status, std::string_view message, const http::Request& request);

}  // namespace ciel::compute::api
