// Request bodies and resource renderers shared by the Keystone route files (the body parsers
// themselves are in parse.cc).
#include "core/http/target.h"
#include "identity/keystone/common.h"

namespace ciel::identity::keystone {

http::Response json_response(http::Status status, const json::value& body) {
  return http::Response(status, json::serialize(body), "application/json");
}

http::Response no_content() { return http::Response(http::Status::no_content); }

boost::asio::awaitable<Result<json::object>> read_json(http::RequestContext& ctx, const Deps& deps) {
  auto body = co_await ctx.read_body(deps.options.max_body_bytes);
  if (!body) {
    if (body.error().code == Errc::too_large) {
      co_return make_error(Errc::too_large, "Request Entity Too Large: the request body is larger than the limit.");
    }
    co_return make_error(Errc::invalid_argument, "The request body could not be read.");
  }
  co_return parse_json_body(*body);
}

Result<Caller> caller_of(http::RequestContext& ctx, const Deps& deps) {
  const auto& req = ctx.request();
  std::string_view token = req.header("X-Auth-Token");
  if (token.empty()) { return make_error(Errc::unauthenticated, "The request you have made requires authentication."); }
  auto p = deps.identity.authenticate_token(token);
  if (!p) { return p.error(); }
  return Caller{std::move(*p), req.remote_address, req.request_id};
}

std::string query(const http::Request& req, std::string_view name) {
  auto v = req.query_param(name);
  return v ? std::string(*v) : std::string();
}

bool query_flag(const http::Request& req, std::string_view name) {
  auto v = req.query_param(name);
  if (!v) { return false; }
  return !(*v == "false" || *v == "False" || *v == "0" || *v == "no");
}

std::string link(const Deps& deps, std::string_view path) { return deps.options.public_url + std::string(path); }

json::object collection_links(const Deps& deps, const http::Request& req) {
  std::string self = deps.options.public_url + req.raw_path + (req.query.empty() ? "" : "?" + req.query);
  return json::object{{"self", self}, {"previous", nullptr}, {"next", nullptr}};
}

json::object domain_json(const Deps& d, const Domain& x) {
  return json::object{{"id", x.id},       {"name", x.name},          {"description", x.description},
                      {"enabled", x.enabled}, {"tags", json::array{}}, {"options", json::object{}},
                      {"links", json::object{{"self", link(d, "/v3/domains/" + x.id)}}}};
}

json::object project_json(const Deps& d, const Project& x) {
  json::array tags;
  for (const auto& t : x.tags) { tags.emplace_back(t); }
  return json::object{{"id", x.id},
                      {"name", x.name},
                      {"domain_id", x.domain_id},
                      {"description", x.description},
                      {"enabled", x.enabled},
                      {"parent_id", x.parent_id.empty() ? x.domain_id : x.parent_id},
                      {"is_domain", false},
                      {"tags", std::move(tags)},
                      {"options", json::object{}},
                      {"links", json::object{{"self", link(d, "/v3/projects/" + x.id)}}}};
}

json::object user_json(const Deps& d, const User& x) {
  json::object o{{"id", x.id},
                 {"name", x.name},
                 {"domain_id", x.domain_id},
                 {"enabled", x.enabled},
                 {"password_expires_at", nullptr},
                 {"options", json::object{}},
                 {"links", json::object{{"self", link(d, "/v3/users/" + x.id)}}}};
  if (!x.default_project_id.empty()) { o["default_project_id"] = x.default_project_id; }
  if (!x.description.empty()) { o["description"] = x.description; }
  if (!x.email.empty()) { o["email"] = x.email; }
  return o;
}

json::object group_json(const Deps& d, const Group& x) {
  return json::object{{"id", x.id}, {"name", x.name}, {"domain_id", x.domain_id}, {"description", x.description},
                      {"links", json::object{{"self", link(d, "/v3/groups/" + x.id)}}}};
}

json::object role_json(const Deps& d, const Role& x) {
  return json::object{{"id", x.id}, {"name", x.name}, {"domain_id", nullptr}, {"description", x.description},
                      {"options", json::object{}}, {"links", json::object{{"self", link(d, "/v3/roles/" + x.id)}}}};
}

json::object region_json(const Deps& d, const Region& x) {
  json::object o{{"id", x.id}, {"description", x.description}, {"links", json::object{{"self", link(d, "/v3/regions/" + x.id)}}}};
  if (x.parent_region_id.empty()) {
    o["parent_region_id"] = nullptr;
  } else {
    o["parent_region_id"] = x.parent_region_id;
  }
  return o;
}

json::object service_json(const Deps& d, const Service& x) {
  return json::object{{"id", x.id}, {"type", x.type}, {"name", x.name}, {"description", x.description}, {"enabled", x.enabled},
                      {"links", json::object{{"self", link(d, "/v3/services/" + x.id)}}}};
}

json::object endpoint_json(const Deps& d, const Endpoint& x) {
  return json::object{{"id", x.id},
                      {"interface", x.interface},
                      {"region_id", x.region_id},
                      {"region", x.region_id},
                      {"url", x.url},
                      {"service_id", x.service_id},
                      {"enabled", x.enabled},
                      {"links", json::object{{"self", link(d, "/v3/endpoints/" + x.id)}}}};
}

}  // namespace ciel::identity::keystone
