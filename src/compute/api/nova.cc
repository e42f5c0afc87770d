// Nova v2.1 under /compute/v2.1: version discovery and microversion negotiation, flavors (with
// extra specs and access lists), keypairs, limits, quota sets and servers, which run on the
// QEMU driver; long work (building, stopping, rebooting, deleting) continues after the answer.
//
// Microversions: the request's "OpenStack-API-Version: compute X.Y" (or the older
// "X-OpenStack-Nova-API-Version: X.Y") picks the response shapes, from 2.1 to kMaxVersion;
// "latest" is kMaxVersion; anything else is 406. Answers echo the version in both headers.
#include <charconv>
#include <cstdio>

#include "compute/api/common.h"
#include "core/crypto/crypto.h"

namespace ciel::compute::api {
namespace {

using boost::asio::awaitable;

struct Version {
  int major = 2, minor = 1;
  bool at_least(int mi) const { return minor >= mi; }
};
constexpr int kMaxMinor = 79;

http::Response err(const Error& e, const http::Request& req) { return error_response(Dialect::nova, e, req); }
http::Response err(http::Status s, std::string_view m, const http::Request& req) { return error_response(Dialect::nova, s, m, req); }

Result<Version> negotiate(const http::Request& req) {
  std::string_view v;
  if (auto h = req.headers.get("OpenStack-API-Version")) {
    auto s = *h;
    if (s.starts_with("compute ")) { v = s.substr(8); }
  }
  if (v.empty()) {
    if (auto h = req.headers.get("X-OpenStack-Nova-API-Version")) { v = *h; }
  }
  while (!v.empty() && v.front() == ' ') { v.remove_prefix(1); }
  if (v.empty()) { return Version{}; }
  if (v == "latest") { return Version{2, kMaxMinor}; }
  auto dot = v.find('.');
  int major = 0, minor = 0;
  if (dot == std::string_view::npos || std::from_chars(v.data(), v.data() + dot, major).ec != std::errc{} ||
      std::from_chars(v.data() + dot + 1, v.data() + v.size(), minor).ec != std::errc{}) {
    return make_error(Errc::invalid_argument, "Invalid API version request: " + std::string(v));
  }
  if (major != 2 || minor < 1 || minor > kMaxMinor) {
    return make_error(Errc::not_found, "Version " + std::string(v) + " is not supported by the API. Minimum is 2.1 and maximum is 2." +
                                           std::to_string(kMaxMinor) + ".");
  }
  return Version{major, minor};
}

void version_headers(http::Response& res, const Version& v) {
  std::string s = std::to_string(v.major) + "." + std::to_string(v.minor);
  res.set_header("OpenStack-API-Version", "compute " + s);
  res.set_header("X-OpenStack-Nova-API-Version", s);
  res.set_header("Vary", "OpenStack-API-Version, X-OpenStack-Nova-API-Version");
}

// Every Nova handler: version negotiation, the caller, and the version headers on the answer.
using Inner = std::function<awaitable<http::Response>(http::RequestContext&, const Deps&, const Caller&, const Version&)>;

awaitable<http::Response> with_caller(http::RequestContext& ctx, const Deps& deps, const Inner& inner) {
  const auto& req = ctx.request();
  auto v = negotiate(req);
  if (!v) {
    co_return err(v.error().code == Errc::not_found ? http::Status::not_acceptable : http::Status::bad_request, v.error().message, req);
  }
  auto p = authenticate(req, deps);
  if (!p) {
    auto res = err(p.error(), req);
    version_headers(res, *v);
    co_return res;
  }
  Caller c{&*p, req.request_id};
  auto res = co_await inner(ctx, deps, c, *v);
  version_headers(res, *v);
  res.set_header("X-Compute-Request-Id", req.request_id);
  res.set_header("X-Openstack-Request-Id", req.request_id);
  co_return res;
}

http::Handler route(const Deps& deps, Inner inner) {
  return [&deps, inner = std::move(inner)](http::RequestContext& ctx) { return with_caller(ctx, deps, inner); };
}

std::string base(const Deps& deps) { return deps.options.public_url + "/compute/v2.1"; }

json::array links(const Deps& deps, const std::string& path) {
  return json::array{json::object{{"rel", "self"}, {"href", base(deps) + path}},
                     json::object{{"rel", "bookmark"}, {"href", deps.options.public_url + "/compute" + path}}};
}

// --- versions -------------------------------------------------------------------------------------
json::object version_doc(const Deps& deps) {
  return json::object{{"id", "v2.1"},
                      {"status", "CURRENT"},
                      {"version", "2." + std::to_string(kMaxMinor)},
                      {"min_version", "2.1"},
                      {"updated", "2013-07-23T11:33:21Z"},
                      {"links", json::array{json::object{{"rel", "self"}, {"href", base(deps) + "/"}}}},
                      {"media-types", json::array{json::object{{"base", "application/json"},
                                                               {"type", "application/vnd.openstack.compute+json;version=2.1"}}}}};
}

awaitable<http::Response> handle_version(http::RequestContext& ctx, const Deps& deps) {
  bool root = ctx.request().path == "/compute" || ctx.request().path == "/compute/";
  if (root) { co_return json_response(http::Status::ok, json::object{{"versions", json::array{version_doc(deps)}}}); }
  co_return json_response(http::Status::ok, json::object{{"version", version_doc(deps)}});
}

// --- flavors --------------------------------------------------------------------------------------
json::object flavor_json(const Deps& deps, const Flavor& f, const Version& v, bool detail) {
  json::object o{{"id", f.id}, {"name", f.name}, {"links", links(deps, "/flavors/" + f.id)}};
  if (!detail) { return o; }
  o["ram"] = f.ram_mib;
  o["vcpus"] = f.vcpus;
  o["disk"] = f.disk_gib;
  o["OS-FLV-EXT-DATA:ephemeral"] = f.ephemeral_gib;
  o["swap"] = f.swap_mib == 0 && !v.at_least(75) ? json::value("") : json::value(f.swap_mib);
  o["rxtx_factor"] = f.rxtx_factor;
  o["os-flavor-access:is_public"] = f.is_public;
  o["OS-FLV-DISABLED:disabled"] = f.disabled;
  if (v.at_least(55)) { o["description"] = f.description.empty() ? json::value(nullptr) : json::value(f.description); }
  if (v.at_least(61)) {
    json::object specs;
    for (const auto& [k, val] : f.extra_specs) { specs[k] = val; }
    o["extra_specs"] = std::move(specs);
  }
  return o;
}

std::optional<bool> is_public_filter(const http::Request& req, bool admin) {
  auto q = req.query_param("is_public");
  if (!q) { return admin ? std::optional<bool>{} : std::optional<bool>{true}; }
  std::string v(*q);
  for (auto& ch : v) { ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch))); }
  if (v == "none") { return std::nullopt; }
  return !(v == "false" || v == "0" || v == "f" || v == "no");
}

awaitable<http::Response> list_flavors(http::RequestContext& ctx, const Deps& deps, const Caller& c, const Version& v, bool detail) {
  const auto& req = ctx.request();
  bool admin = deps.identity.policy().is_cloud_admin(*c.principal);
  auto list = co_await deps.compute.list_flavors(c, is_public_filter(req, admin));
  if (!list) { co_return err(list.error(), req); }
  json::array out;
  for (const auto& f : *list) { out.push_back(flavor_json(deps, f, v, detail)); }
  co_return json_response(http::Status::ok, json::object{{"flavors", std::move(out)}});
}

awaitable<http::Response> create_flavor(http::RequestContext& ctx, const Deps& deps, const Caller& c, const Version& v) {
  const auto& req = ctx.request();
  auto body = co_await read_object(ctx);
  if (!body) { co_return err(body.error(), req); }
  auto fv = body->if_contains("flavor");
  if (!fv || !fv->is_object()) { co_return err(http::Status::bad_request, "Invalid input for field/attribute flavor.", req); }
  const auto& o = fv->as_object();
  Flavor f;
  auto num = [&](std::string_view key, std::uint64_t& out, bool required) -> bool {
    auto x = o.if_contains(key);
    if (!x || x->is_null() || (x->is_string() && x->as_string().empty())) { return !required; }
    if (x->is_int64() && x->as_int64() >= 0) { out = static_cast<std::uint64_t>(x->as_int64()); return true; }
    if (x->is_uint64()) { out = x->as_uint64(); return true; }
    if (x->is_string()) {
      std::string_view s = x->as_string();
      return std::from_chars(s.data(), s.data() + s.size(), out).ec == std::errc{};
    }
    return false;
  };
  auto name = o.if_contains("name");
  if (!name || !name->is_string()) { co_return err(http::Status::bad_request, "Invalid input for field/attribute name.", req); }
  f.name = std::string(name->as_string());
  std::uint64_t vcpus = 0;
  if (!num("vcpus", vcpus, true) || !num("ram", f.ram_mib, true) || !num("disk", f.disk_gib, true) ||
      !num("OS-FLV-EXT-DATA:ephemeral", f.ephemeral_gib, false) || !num("swap", f.swap_mib, false)) {
    co_return err(http::Status::bad_request, "Invalid input for field/attribute vcpus, ram, disk, ephemeral or swap.", req);
  }
  f.vcpus = static_cast<std::uint32_t>(vcpus);
  if (auto id = o.if_contains("id"); id && id->is_string()) { f.id = std::string(id->as_string()); }
  if (auto pub = o.if_contains("os-flavor-access:is_public"); pub && pub->is_bool()) { f.is_public = pub->as_bool(); }
  if (auto r = o.if_contains("rxtx_factor"); r && r->is_number()) { f.rxtx_factor = r->to_number<double>(); }
  if (auto d = o.if_contains("description"); d && d->is_string()) { f.description = std::string(d->as_string()); }
  auto made = co_await deps.compute.create_flavor(c, std::move(f));
  if (!made) { co_return err(made.error(), req); }
  co_return json_response(http::Status::ok, json::object{{"flavor", flavor_json(deps, *made, v, true)}});
}

awaitable<http::Response> flavor_item(http::RequestContext& ctx, const Deps& deps, const Caller& c, const Version& v) {
  const auto& req = ctx.request();
  std::string id(ctx.param("id"));
  if (req.method == http::Method::delete_) {
    auto st = co_await deps.compute.delete_flavor(c, id);
    if (!st) { co_return err(st.error(), req); }
    co_return http::Response(http::Status::accepted);
  }
  auto f = co_await deps.compute.get_flavor(c, id);
  if (!f) { co_return err(f.error(), req); }
  co_return json_response(http::Status::ok, json::object{{"flavor", flavor_json(deps, *f, v, true)}});
}

awaitable<http::Response> extra_specs(http::RequestContext& ctx, const Deps& deps, const Caller& c, const Version&) {
  const auto& req = ctx.request();
  std::string id(ctx.param("id"));
  std::string key(ctx.param("key"));
  std::map<std::string, std::optional<std::string>> change;
  if (req.method == http::Method::post || req.method == http::Method::put) {
    auto body = co_await read_object(ctx);
    if (!body) { co_return err(body.error(), req); }
    const json::object* specs = body->if_contains("extra_specs") ? body->at("extra_specs").if_object() : &*body;
    if (!specs) { co_return err(http::Status::bad_request, "Invalid input for field/attribute extra_specs.", req); }
    for (const auto& [k, val] : *specs) {
      if (!val.is_string()) { co_return err(http::Status::bad_request, "Extra spec values must be strings", req); }
      change[std::string(k)] = std::string(val.as_string());
    }
  } else if (req.method == http::Method::delete_) {
    change[key] = std::nullopt;
  }
  Result<Flavor> f = make_error(Errc::internal, "unreached");
  if (change.empty()) {
    f = co_await deps.compute.get_flavor(c, id);
  } else {
    f = co_await deps.compute.update_extra_specs(c, id, std::move(change));
  }
  if (!f) { co_return err(f.error(), req); }
  if (req.method == http::Method::delete_) { co_return http::Response(http::Status::ok); }
  json::object specs;
  for (const auto& [k, val] : f->extra_specs) {
    if (key.empty() || k == key) { specs[k] = val; }
  }
  if (!key.empty()) {
    if (specs.empty()) { co_return err(http::Status::not_found, "Flavor " + id + " has no extra specs with key " + key + ".", req); }
    co_return json_response(http::Status::ok, specs);
  }
  co_return json_response(http::Status::ok, json::object{{"extra_specs", std::move(specs)}});
}

awaitable<http::Response> flavor_access(http::RequestContext& ctx, const Deps& deps, const Caller& c, const Version&) {
  const auto& req = ctx.request();
  std::string id(ctx.param("id"));
  Result<Flavor> f = make_error(Errc::internal, "unreached");
  if (req.method == http::Method::post) {
    auto body = co_await read_object(ctx);
    if (!body) { co_return err(body.error(), req); }
    bool add = body->contains("addTenantAccess");
    const json::value* a = add ? body->if_contains("addTenantAccess") : body->if_contains("removeTenantAccess");
    const json::value* tenant = a && a->is_object() ? a->as_object().if_contains("tenant") : nullptr;
    if (!tenant || !tenant->is_string()) { co_return err(http::Status::bad_request, "Expected addTenantAccess or removeTenantAccess with a tenant", req); }
    f = co_await deps.compute.set_flavor_access(c, id, std::string(tenant->as_string()), add);
  } else {
    if (!deps.identity.policy().is_cloud_admin(*c.principal)) { co_return err(http::Status::forbidden, "Policy doesn't allow this operation.", req); }
    f = co_await deps.compute.get_flavor(c, id);
  }
  if (!f) { co_return err(f.error(), req); }
  json::array access;
  for (const auto& p : f->projects) { access.push_back(json::object{{"flavor_id", id}, {"tenant_id", p}}); }
  co_return json_response(http::Status::ok, json::object{{"flavor_access", std::move(access)}});
}

// --- keypairs -------------------------------------------------------------------------------------
json::object keypair_json(const Keypair& k, const Version& v, bool with_user) {
  json::object o{{"name", k.name}, {"public_key", k.public_key}, {"fingerprint", k.fingerprint}};
  if (v.at_least(2)) { o["type"] = k.type; }
  if (with_user) {
    o["user_id"] = k.user_id;
    o["created_at"] = iso_time(k.created_s);
    o["deleted"] = false;
    o["id"] = 0;
  }
  return o;
}

awaitable<http::Response> keypairs(http::RequestContext& ctx, const Deps& deps, const Caller& c, const Version& v) {
  const auto& req = ctx.request();
  if (req.method == http::Method::post) {
    auto body = co_await read_object(ctx);
    if (!body) { co_return err(body.error(), req); }
    auto kv = body->if_contains("keypair");
    const json::object* k = kv ? kv->if_object() : nullptr;
    const json::value* name = k ? k->if_contains("name") : nullptr;
    if (!name || !name->is_string()) { co_return err(http::Status::bad_request, "Invalid input for field/attribute keypair.", req); }
    std::string pub, type;
    if (auto p = k->if_contains("public_key"); p && p->is_string()) { pub = std::string(p->as_string()); }
    if (auto t = k->if_contains("type"); t && t->is_string()) { type = std::string(t->as_string()); }
    auto made = co_await deps.compute.create_keypair(c, std::string(name->as_string()), pub, type);
    if (!made) { co_return err(made.error(), req); }
    auto o = keypair_json(made->first, v, true);
    if (!made->second.empty()) { o["private_key"] = made->second; }
    co_return json_response(v.at_least(2) ? http::Status::created : http::Status::ok, json::object{{"keypair", std::move(o)}});
  }
  auto list = co_await deps.compute.list_keypairs(c);
  if (!list) { co_return err(list.error(), req); }
  json::array out;
  for (const auto& k : *list) { out.push_back(json::object{{"keypair", keypair_json(k, v, false)}}); }
  co_return json_response(http::Status::ok, json::object{{"keypairs", std::move(out)}});
}

awaitable<http::Response> keypair_item(http::RequestContext& ctx, const Deps& deps, const Caller& c, const Version& v) {
  const auto& req = ctx.request();
  std::string name(ctx.param("name"));
  if (req.method == http::Method::delete_) {
    auto st = co_await deps.compute.delete_keypair(c, name);
    if (!st) { co_return err(st.error(), req); }
    co_return http::Response(v.at_least(2) ? http::Status::no_content : http::Status::accepted);
  }
  auto k = co_await deps.compute.get_keypair(c, name);
  if (!k) { co_return err(k.error(), req); }
  co_return json_response(http::Status::ok, json::object{{"keypair", keypair_json(*k, v, true)}});
}

// --- limits and quotas ----------------------------------------------------------------------------
awaitable<http::Response> limits(http::RequestContext& ctx, const Deps& deps, const Caller& c, const Version&) {
  const auto& req = ctx.request();
  std::string project = c.principal->project_id;
  if (auto t = req.query_param("tenant_id"); t && !t->empty()) { project = std::string(*t); }
  auto q = co_await deps.compute.quotas(c, project);
  if (!q) { co_return err(q.error(), req); }
  auto u = co_await deps.compute.usage(c, project);
  if (!u) { co_return err(u.error(), req); }
  auto keypairs = co_await deps.compute.list_keypairs(c);
  json::object absolute{{"maxTotalCores", q->cores},          {"maxTotalInstances", q->instances}, {"maxTotalRAMSize", q->ram_mib},
                        {"maxTotalKeypairs", q->key_pairs},   {"maxServerMeta", 128},              {"maxImageMeta", 128},
                        {"maxPersonality", 5},                {"maxPersonalitySize", 10240},       {"maxSecurityGroups", -1},
                        {"maxSecurityGroupRules", -1},        {"maxTotalFloatingIps", -1},         {"maxServerGroups", 10},
                        {"maxServerGroupMembers", 10},        {"totalCoresUsed", u->cores},        {"totalRAMUsed", u->ram_mib},
                        {"totalInstancesUsed", u->instances}, {"totalFloatingIpsUsed", 0},         {"totalSecurityGroupsUsed", 0},
                        {"totalServerGroupsUsed", 0}};
  (void)keypairs;
  co_return json_response(http::Status::ok, json::object{{"limits", json::object{{"rate", json::array{}}, {"absolute", std::move(absolute)}}}});
}

json::object quota_json(const std::string& project, const QuotaSet& q, const Version& v) {
  json::object o{{"id", project}, {"cores", q.cores}, {"instances", q.instances}, {"ram", q.ram_mib}, {"key_pairs", q.key_pairs},
                 {"metadata_items", 128}, {"server_groups", 10}, {"server_group_members", 10}};
  if (!v.at_least(57)) {
    o["injected_files"] = 5;
    o["injected_file_content_bytes"] = 10240;
    o["injected_file_path_bytes"] = 255;
  }
  if (!v.at_least(36)) {
    o["fixed_ips"] = -1;
    o["floating_ips"] = -1;
    o["security_groups"] = -1;
    o["security_group_rules"] = -1;
  }
  return o;
}

awaitable<http::Response> quota_sets(http::RequestContext& ctx, const Deps& deps, const Caller& c, const Version& v) {
  const auto& req = ctx.request();
  std::string project(ctx.param("project"));
  if (req.method == http::Method::put) {
    auto body = co_await read_object(ctx);
    if (!body) { co_return err(body.error(), req); }
    auto qs = body->if_contains("quota_set");
    if (!qs || !qs->is_object()) { co_return err(http::Status::bad_request, "Invalid input for field/attribute quota_set.", req); }
    std::map<std::string, std::int64_t> values;
    for (const auto& [k, val] : qs->as_object()) {
      if (k == "force") { continue; }
      if (!val.is_int64()) { co_return err(http::Status::bad_request, "Quota values must be integers", req); }
      values[std::string(k)] = val.as_int64();
    }
    auto q = co_await deps.compute.set_quotas(c, project, std::move(values));
    if (!q) { co_return err(q.error(), req); }
    auto o = quota_json(project, *q, v);
    o.erase("id");
    co_return json_response(http::Status::ok, json::object{{"quota_set", std::move(o)}});
  }
  auto q = co_await deps.compute.quotas(c, project);
  if (!q) { co_return err(q.error(), req); }
  co_return json_response(http::Status::ok, json::object{{"quota_set", quota_json(project, *q, v)}});
}

// --- servers --------------------------------------------------------------------------------------

json::object server_json(const Deps& deps, const Server& s, const Version& v, bool detail, bool admin) {
  json::object o{{"id", s.id}, {"name", s.name}, {"links", links(deps, "/servers/" + s.id)}};
  if (!detail) { return o; }
  o["status"] = s.status;
  o["tenant_id"] = s.project_id;
  o["user_id"] = s.user_id;
  json::object md;
  for (const auto& [k, val] : s.metadata) { md[k] = val; }
  o["metadata"] = std::move(md);
  o["hostId"] = crypto::hex(crypto::sha256(s.project_id + "ciel")).substr(0, 56);
  o["image"] = json::object{{"id", s.image_id}, {"links", json::array{json::object{{"rel", "bookmark"}, {"href", deps.options.public_url + "/image/v2/images/" + s.image_id}}}}};
  if (v.at_least(47)) {
    json::object specs;
    for (const auto& [k, val] : s.flavor.extra_specs) { specs[k] = val; }
    o["flavor"] = json::object{{"vcpus", s.flavor.vcpus}, {"ram", s.flavor.ram_mib}, {"disk", s.flavor.disk_gib},
                               {"ephemeral", s.flavor.ephemeral_gib}, {"swap", s.flavor.swap_mib}, {"original_name", s.flavor.name},
                               {"extra_specs", std::move(specs)}};
  } else {
    o["flavor"] = json::object{{"id", s.flavor.id}, {"links", links(deps, "/flavors/" + s.flavor.id)}};
  }
  o["created"] = iso_time(s.created_s);
  o["updated"] = iso_time(s.updated_s);
  json::array addrs;
  if (s.vm_state != "building" && s.vm_state != "error") {
    addrs.push_back(json::object{{"version", 4}, {"addr", "10.0.2.15"}, {"OS-EXT-IPS:type", "fixed"}, {"OS-EXT-IPS-MAC:mac_addr", "52:54:00:12:34:56"}});
  }
  o["addresses"] = json::object{{"private", std::move(addrs)}};
  // The guest's SSH port, forwarded on the host's loopback.
  o["accessIPv4"] = s.ssh_port && s.vm_state == "active" ? "127.0.0.1" : "";
  o["accessIPv6"] = "";
  o["OS-DCF:diskConfig"] = "MANUAL";
  o["progress"] = s.status == "BUILD" ? 50 : 100;
  o["OS-EXT-AZ:availability_zone"] = "nova";
  o["config_drive"] = s.config_drive ? "True" : "";
  o["key_name"] = s.key_name.empty() ? json::value(nullptr) : json::value(s.key_name);
  o["OS-SRV-USG:launched_at"] = s.launched_s ? json::value(iso_time(s.launched_s)) : json::value(nullptr);
  o["OS-SRV-USG:terminated_at"] = nullptr;
  o["OS-EXT-STS:task_state"] = s.task_state.empty() ? json::value(nullptr) : json::value(s.task_state);
  o["OS-EXT-STS:vm_state"] = s.vm_state;
  o["OS-EXT-STS:power_state"] = s.power_state;
  o["os-extended-volumes:volumes_attached"] = json::array{};
  o["security_groups"] = json::array{json::object{{"name", "default"}}};
  if (v.at_least(9)) { o["locked"] = false; }
  if (v.at_least(19)) { o["description"] = nullptr; }
  if (v.at_least(26)) { o["tags"] = json::array{}; }
  if (v.at_least(73)) { o["locked_reason"] = nullptr; }
  if (admin) {
    // The compute host the scheduler placed it on (null when none could take it, as in Nova).
    o["OS-EXT-SRV-ATTR:host"] = s.host.empty() ? json::value(nullptr) : json::value(s.host);
    o["OS-EXT-SRV-ATTR:hypervisor_hostname"] = s.host.empty() ? json::value(nullptr) : json::value(s.host);
    o["OS-EXT-SRV-ATTR:instance_name"] = "instance-" + s.id.substr(0, 8);
    // 2.16: UP, or UNKNOWN when the host's agent stopped reporting; "" without a host.
    if (v.at_least(16)) { o["host_status"] = s.host.empty() ? "" : s.host_up ? "UP" : "UNKNOWN"; }
  }
  if (s.status == "ERROR" && !s.fault_message.empty()) {
    o["fault"] = json::object{{"code", s.fault_code ? s.fault_code : 500}, {"message", s.fault_message}, {"created", iso_time(s.fault_s)}};
  }
  // Where to SSH: 127.0.0.1 and this port (QEMU user-mode networking forwards it to the guest's 22).
  o["metadata"].as_object()["ciel:ssh"] = s.ssh_port ? "127.0.0.1:" + std::to_string(s.ssh_port) : "";
  return o;
}

awaitable<http::Response> list_servers(http::RequestContext& ctx, const Deps& deps, const Caller& c, const Version& v, bool detail) {
  const auto& req = ctx.request();
  ServerQuery q;
  if (auto n = req.query_param("name")) { q.name = std::string(*n); }
  if (auto st = req.query_param("status")) { q.status = std::string(*st); }
  if (auto all = req.query_param("all_tenants"); all && *all != "0" && *all != "false") { q.all_projects = true; }
  auto list = co_await deps.compute.list_servers(c, q);
  if (!list) { co_return err(list.error(), req); }
  bool admin = deps.identity.policy().is_cloud_admin(*c.principal);
  json::array out;
  for (const auto& srv : *list) { out.push_back(server_json(deps, srv, v, detail, admin)); }
  co_return json_response(http::Status::ok, json::object{{"servers", std::move(out)}});
}

awaitable<http::Response> create_server(http::RequestContext& ctx, const Deps& deps, const Caller& c, const Version& v) {
  const auto& req = ctx.request();
  auto body = co_await read_object(ctx, 1024 * 1024);
  if (!body) { co_return err(body.error(), req); }
  auto sv = body->if_contains("server");
  if (!sv || !sv->is_object()) { co_return err(http::Status::bad_request, "Invalid input for field/attribute server.", req); }
  const auto& o = sv->as_object();
  ServerRequest r;
  auto str = [&](const char* k) -> std::optional<std::string> {
    auto x = o.if_contains(k);
    if (!x || x->is_null()) { return std::string(); }
    if (!x->is_string()) { return std::nullopt; }
    return std::string(x->as_string());
  };
  auto name = str("name"), image = str("imageRef"), flavor = str("flavorRef"), key = str("key_name"), user_data = str("user_data");
  if (!name || !image || !flavor || !key || !user_data) { co_return err(http::Status::bad_request, "Invalid input: name, imageRef, flavorRef, key_name and user_data are strings", req); }
  if (name->empty()) { co_return err(http::Status::bad_request, "Invalid input for field/attribute name.", req); }
  if (image->empty()) { co_return err(http::Status::bad_request, "Booting from a volume is not supported: give imageRef", req); }
  r.name = *name;
  r.image_id = *image;
  r.flavor_id = flavor->substr(flavor->rfind('/') == std::string::npos ? 0 : flavor->rfind('/') + 1);
  r.key_name = *key;
  if (!user_data->empty()) {
    auto decoded = crypto::unbase64(*user_data);
    if (!decoded) { co_return err(http::Status::bad_request, "User data needs to be valid base 64.", req); }
    r.user_data = std::move(*decoded);
  }
  if (auto md = o.if_contains("metadata"); md && md->is_object()) {
    for (const auto& [k, val] : md->as_object()) {
      if (!val.is_string()) { co_return err(http::Status::bad_request, "Metadata values must be strings", req); }
      r.metadata[std::string(k)] = std::string(val.as_string());
    }
  }
  if (auto nets = o.if_contains("networks")) {
    if (nets->is_array()) {
      for (const auto& n : nets->as_array()) {
        auto uuid = n.is_object() ? n.as_object().if_contains("uuid") : nullptr;
        if (!uuid || !uuid->is_string()) { co_return err(http::Status::bad_request, "Only networks given by uuid are supported", req); }
      }
    } else if (!(nets->is_string() && (nets->as_string() == "auto" || nets->as_string() == "none"))) {
      co_return err(http::Status::bad_request, "networks must be \"auto\", \"none\" or a list", req);
    }
  } else if (v.at_least(37)) {
    co_return err(http::Status::bad_request, "Invalid input for field/attribute networks: required from microversion 2.37", req);
  }
  auto made = co_await deps.compute.create_server(c, std::move(r));
  if (!made) { co_return err(made.error(), req); }
  json::object out{{"id", made->id}, {"links", links(deps, "/servers/" + made->id)}, {"OS-DCF:diskConfig", "MANUAL"},
                   {"security_groups", json::array{json::object{{"name", "default"}}}}, {"adminPass", crypto::random_token(9)}};
  auto res = json_response(http::Status::accepted, json::object{{"server", std::move(out)}});
  res.set_header("Location", base(deps) + "/servers/" + made->id);
  co_return res;
}

awaitable<http::Response> server_item(http::RequestContext& ctx, const Deps& deps, const Caller& c, const Version& v) {
  const auto& req = ctx.request();
  std::string id(ctx.param("id"));
  if (req.method == http::Method::delete_) {
    auto st = co_await deps.compute.delete_server(c, id);
    if (!st) { co_return err(st.error(), req); }
    co_return http::Response(http::Status::no_content);
  }
  auto s = co_await deps.compute.get_server(c, id);
  if (!s) { co_return err(s.error(), req); }
  co_return json_response(http::Status::ok, json::object{{"server", server_json(deps, *s, v, true, deps.identity.policy().is_cloud_admin(*c.principal))}});
}

awaitable<http::Response> server_action(http::RequestContext& ctx, const Deps& deps, const Caller& c, const Version&) {
  const auto& req = ctx.request();
  std::string id(ctx.param("id"));
  auto body = co_await read_object(ctx);
  if (!body) { co_return err(body.error(), req); }
  if (body->size() != 1) { co_return err(http::Status::bad_request, "An action body names exactly one action", req); }
  const auto& [name, arg] = *body->begin();
  std::optional<ServerAction> action;
  if (name == "os-start") { action = ServerAction::start; }
  if (name == "os-stop") { action = ServerAction::stop; }
  if (name == "reboot") {
    const json::value* type = arg.is_object() ? arg.as_object().if_contains("type") : nullptr;
    if (!type || !type->is_string() || (type->as_string() != "SOFT" && type->as_string() != "HARD")) {
      co_return err(http::Status::bad_request, "Invalid input for field/attribute type: SOFT or HARD", req);
    }
    action = type->as_string() == "HARD" ? ServerAction::reboot_hard : ServerAction::reboot_soft;
  }
  if (name == "os-getConsoleOutput") {
    std::optional<std::size_t> lines;
    if (arg.is_object()) {
      if (auto l = arg.as_object().if_contains("length"); l && !l->is_null()) {
        if (l->is_int64() && l->as_int64() >= 0) {
          lines = static_cast<std::size_t>(l->as_int64());
        } else if (l->is_string()) {
          try { lines = std::stoul(std::string(l->as_string())); } catch (const std::exception&) {
            co_return err(http::Status::bad_request, "length must be a number of lines", req);
          }
        } else {
          co_return err(http::Status::bad_request, "length must be a number of lines", req);
        }
      }
    }
    auto out = co_await deps.compute.console_output(c, id, lines);
    if (!out) { co_return err(out.error(), req); }
    co_return json_response(http::Status::ok, json::object{{"output", *out}});
  }
  if (!action) { co_return err(http::Status::bad_request, "Unsupported server action " + std::string(name), req); }
  auto st = co_await deps.compute.act(c, id, *action);
  if (!st) { co_return err(st.error(), req); }
  co_return http::Response(http::Status::accepted);
}

awaitable<http::Response> server_metadata(http::RequestContext& ctx, const Deps& deps, const Caller& c, const Version&) {
  const auto& req = ctx.request();
  std::string id(ctx.param("id"));
  std::string key(ctx.param("key"));
  std::map<std::string, std::optional<std::string>> change;
  bool replace = false;
  if (req.method == http::Method::put || req.method == http::Method::post) {
    auto body = co_await read_object(ctx);
    if (!body) { co_return err(body.error(), req); }
    const json::value* m = body->if_contains(key.empty() ? "metadata" : "meta");
    if (!m || !m->is_object()) { co_return err(http::Status::bad_request, "Malformed request body", req); }
    for (const auto& [k, val] : m->as_object()) {
      if (!val.is_string()) { co_return err(http::Status::bad_request, "Metadata values must be strings", req); }
      if (!key.empty() && k != key) { co_return err(http::Status::bad_request, "Request body and URI mismatch", req); }
      change[std::string(k)] = std::string(val.as_string());
    }
    replace = req.method == http::Method::put && key.empty();
  } else if (req.method == http::Method::delete_) {
    change[key] = std::nullopt;
  }
  Result<Server> s = make_error(Errc::internal, "unreached");
  if (change.empty() && !replace) {
    s = co_await deps.compute.get_server(c, id);
  } else {
    s = co_await deps.compute.update_server_metadata(c, id, std::move(change), replace);
  }
  if (!s) { co_return err(s.error(), req); }
  if (req.method == http::Method::delete_) { co_return http::Response(http::Status::no_content); }
  json::object md;
  for (const auto& [k, val] : s->metadata) {
    if (key.empty() || k == key) { md[k] = val; }
  }
  if (!key.empty()) {
    if (md.empty()) { co_return err(http::Status::not_found, "Metadata item was not found", req); }
    co_return json_response(http::Status::ok, json::object{{"meta", std::move(md)}});
  }
  co_return json_response(http::Status::ok, json::object{{"metadata", std::move(md)}});
}

}  // namespace

void add_nova_routes(http::Router& router, const Deps& deps) {
  auto version = [&deps](http::RequestContext& ctx) { return handle_version(ctx, deps); };
  for (const char* p : {"/compute", "/compute/", "/compute/v2.1", "/compute/v2.1/"}) { router.add(http::Method::get, p, version); }
  const std::string b = "/compute/v2.1";
  router.add(http::Method::get, b + "/flavors", route(deps, [](auto& ctx, auto& d, auto& c, auto& v) { return list_flavors(ctx, d, c, v, false); }));
  router.add(http::Method::get, b + "/flavors/detail", route(deps, [](auto& ctx, auto& d, auto& c, auto& v) { return list_flavors(ctx, d, c, v, true); }));
  router.add(http::Method::post, b + "/flavors", route(deps, create_flavor));
  router.add(http::Method::get, b + "/flavors/{id}", route(deps, flavor_item));
  router.add(http::Method::delete_, b + "/flavors/{id}", route(deps, flavor_item));
  router.add(http::Method::get, b + "/flavors/{id}/os-extra_specs", route(deps, extra_specs));
  router.add(http::Method::post, b + "/flavors/{id}/os-extra_specs", route(deps, extra_specs));
  for (auto m : {http::Method::get, http::Method::put, http::Method::delete_}) {
    router.add(m, b + "/flavors/{id}/os-extra_specs/{key}", route(deps, extra_specs));
  }
  router.add(http::Method::get, b + "/flavors/{id}/os-flavor-access", route(deps, flavor_access));
  router.add(http::Method::post, b + "/flavors/{id}/action", route(deps, flavor_access));
  router.add(http::Method::get, b + "/os-keypairs", route(deps, keypairs));
  router.add(http::Method::post, b + "/os-keypairs", route(deps, keypairs));
  router.add(http::Method::get, b + "/os-keypairs/{name}", route(deps, keypair_item));
  router.add(http::Method::delete_, b + "/os-keypairs/{name}", route(deps, keypair_item));
  router.add(http::Method::get, b + "/limits", route(deps, limits));
  router.add(http::Method::get, b + "/os-quota-sets/{project}", route(deps, quota_sets));
  router.add(http::Method::put, b + "/os-quota-sets/{project}", route(deps, quota_sets));
  router.add(http::Method::get, b + "/os-quota-sets/{project}/defaults", route(deps, quota_sets));
  router.add(http::Method::get, b + "/servers", route(deps, [](auto& ctx, auto& d, auto& c, auto& v) { return list_servers(ctx, d, c, v, false); }));
  router.add(http::Method::get, b + "/servers/detail", route(deps, [](auto& ctx, auto& d, auto& c, auto& v) { return list_servers(ctx, d, c, v, true); }));
  router.add(http::Method::post, b + "/servers", route(deps, create_server));
  router.add(http::Method::get, b + "/servers/{id}", route(deps, server_item));
  router.add(http::Method::delete_, b + "/servers/{id}", route(deps, server_item));
  router.add(http::Method::post, b + "/servers/{id}/action", route(deps, server_action));
  for (auto m : {http::Method::get, http::Method::put, http::Method::post}) { router.add(m, b + "/servers/{id}/metadata", route(deps, server_metadata)); }
  for (auto m : {http::Method::get, http::Method::put, http::Method::delete_}) { router.add(m, b + "/servers/{id}/metadata/{key}", route(deps, server_metadata)); }
}

}  // namespace ciel::compute::api
