// The few Neutron v2.0 calls the CLI makes under /network: each project has one network,
// "private" (QEMU user-mode networking: every server gets 10.0.2.15 behind NAT, and its SSH
// port forwarded on the host), so `--network private`, `network list` and `quota show` work.
// Tenant networks (bridges, DHCP, security groups, floating IPs) come later.
#include "compute/api/common.h"
#include "core/crypto/crypto.h"

namespace ciel::compute::api {
namespace {

using boost::asio::awaitable;

http::Response err(const Error& e, const http::Request& req) { return error_response(Dialect::neutron, e, req); }

// A stable id per project (a name-based UUID).
std::string network_id(const std::string& project) {
  std::string h = crypto::hex(crypto::sha256("ciel-network:" + project)).substr(0, 32);
  h[12] = '5';
  h[16] = "89ab"[std::stoi(h.substr(16, 1), nullptr, 16) & 3];
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" + h.substr(20, 12);
}

json::object network_json(const std::string& project) {
  return json::object{{"id", network_id(project)},
                      {"name", "private"},
                      {"subnets", json::array{}},
                      {"status", "ACTIVE"},
                      {"admin_state_up", true},
                      {"shared", false},
                      {"router:external", false},
                      {"tenant_id", project},
                      {"project_id", project},
                      {"mtu", 1500},
                      {"availability_zones", json::array{"nova"}},
                      {"description", "QEMU user-mode networking: outbound NAT, SSH forwarded from the host"},
                      {"port_security_enabled", false},
                      {"tags", json::array{}}};
}

awaitable<http::Response> networks(http::RequestContext& ctx, const Deps& deps) {
  const auto& req = ctx.request();
  auto p = authenticate(req, deps);
  if (!p) { co_return err(p.error(), req); }
  std::string id(ctx.param("id"));
  auto net = network_json(p->project_id);
  if (!id.empty()) {
    if (id != network_id(p->project_id)) {
      co_return error_response(Dialect::neutron, http::Status::not_found, "Network " + id + " could not be found.", req);
    }
    co_return json_response(http::Status::ok, json::object{{"network", std::move(net)}});
  }
  json::array out;
  bool match = true;
  for (const auto& [k, v] : req.query_params) {
    if (k == "name" && v != "private") { match = false; }
    if (k == "id" && v != network_id(p->project_id)) { match = false; }
    if ((k == "project_id" || k == "tenant_id") && v != p->project_id) { match = false; }
    if (k == "shared" && v == "true") { match = false; }
    if (k == "router:external" && v == "true") { match = false; }
  }
  if (match) { out.push_back(std::move(net)); }
  co_return json_response(http::Status::ok, json::object{{"networks", std::move(out)}});
}

awaitable<http::Response> quotas(http::RequestContext& ctx, const Deps& deps) {
  const auto& req = ctx.request();
  auto p = authenticate(req, deps);
  if (!p) { co_return err(p.error(), req); }
  json::object q{{"network", 1}, {"subnet", 0}, {"port", -1}, {"router", 0}, {"floatingip", 0},
                 {"security_group", 0}, {"security_group_rule", 0}, {"rbac_policy", 0}, {"subnetpool", 0}};
  co_return json_response(http::Status::ok, json::object{{"quota", std::move(q)}});
}

awaitable<http::Response> versions(http::RequestContext&, const Deps& deps) {
  json::array links{json::object{{"rel", "self"}, {"href", deps.options.public_url + "/network/v2.0/"}}};
  co_return json_response(http::Status::ok,
                          json::object{{"versions", json::array{json::object{{"id", "v2.0"}, {"status", "CURRENT"}, {"links", std::move(links)}}}}});
}

}  // namespace

void add_neutron_routes(http::Router& router, const Deps& deps) {
  auto v = [&deps](http::RequestContext& ctx) { return versions(ctx, deps); };
  router.add(http::Method::get, "/network", v);
  router.add(http::Method::get, "/network/", v);
  auto n = [&deps](http::RequestContext& ctx) { return networks(ctx, deps); };
  router.add(http::Method::get, "/network/v2.0/networks", n);
  router.add(http::Method::get, "/network/v2.0/networks/{id}", n);
  router.add(http::Method::get, "/network/v2.0/quotas/{project}", [&deps](http::RequestContext& ctx) { return quotas(ctx, deps); });
}

}  // namespace ciel::compute::api
