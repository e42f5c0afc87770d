// Nova v2.1 under /compute/v2.1: version discovery and microversion negotiation, flavors (with
// extra specs and access lists), keypairs, limits and quota sets. Servers come with the
// hypervisor driver: until then a project has none (listings are empty, creating one is 501).
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

// --- servers (until the hypervisor driver) --------------------------------------------------------
awaitable<http::Response> servers(http::RequestContext& ctx, const Deps&, const Caller&, const Version&) {
  const auto& req = ctx.request();
  if (req.method == http::Method::post) {
    co_return err(http::Status::not_implemented, "Virtual machines are not available on this cloud yet: images, flavors and keypairs are.", req);
  }
  co_return json_response(http::Status::ok, json::object{{"servers", json::array{}}});
}

awaitable<http::Response> server_item(http::RequestContext& ctx, const Deps&, const Caller&, const Version&) {
  co_return err(http::Status::not_found, "Instance " + std::string(ctx.param("id")) + " could not be found.", ctx.request());
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
  router.add(http::Method::get, b + "/servers", route(deps, servers));
  router.add(http::Method::get, b + "/servers/detail", route(deps, servers));
  router.add(http::Method::post, b + "/servers", route(deps, servers));
  router.add(http::Method::get, b + "/servers/{id}", route(deps, server_item));
}

}  // namespace ciel::compute::api
