// Role grants (/v3/{projects|domains}/{id}/{users|groups}/{id}/roles[/{role}]) and
// GET /v3/role_assignments, with ?effective and ?include_names.
#include "identity/keystone/common.h"

namespace ciel::identity::keystone {
namespace {

Assignment assignment_of(http::RequestContext& ctx, TargetType tt, ActorType at) {
  Assignment a;
  a.target_type = tt;
  a.target_id = std::string(ctx.param("target"));
  a.actor_type = at;
  a.actor_id = std::string(ctx.param("actor"));
  a.role_id = std::string(ctx.param("role"));
  return a;
}

template <TargetType TT, ActorType AT>
Awaitable handle_put(http::RequestContext& ctx, Deps& d) {
  KS_TRY(caller, caller_of(ctx, d));
  Assignment a = assignment_of(ctx, TT, AT);
  auto st = co_await run_blocking([&] { return d.identity.grant(*caller, a); });
  if (!st) { co_return error_response(st.error(), ctx.request()); }
  co_return no_content();
}

template <TargetType TT, ActorType AT>
Awaitable handle_delete(http::RequestContext& ctx, Deps& d) {
  KS_TRY(caller, caller_of(ctx, d));
  Assignment a = assignment_of(ctx, TT, AT);
  auto st = co_await run_blocking([&] { return d.identity.revoke_grant(*caller, a); });
  if (!st) { co_return error_response(st.error(), ctx.request()); }
  co_return no_content();
}

template <TargetType TT, ActorType AT>
Awaitable handle_check(http::RequestContext& ctx, Deps& d) {
  KS_TRY(caller, caller_of(ctx, d));
  auto st = d.identity.check_grant(*caller, assignment_of(ctx, TT, AT));
  if (!st) { co_return error_response(st.error(), ctx.request()); }
  co_return no_content();
}

template <TargetType TT, ActorType AT>
Awaitable handle_list(http::RequestContext& ctx, Deps& d) {
  KS_TRY(caller, caller_of(ctx, d));
  KS_TRY(roles, d.identity.list_grants(*caller, AT, ctx.param("actor"), TT, ctx.param("target")));
  json::array out;
  for (const auto& x : *roles) { out.push_back(role_json(d, x)); }
  co_return json_response(http::Status::ok, json::object{{"roles", std::move(out)}, {"links", collection_links(d, ctx.request())}});
}

json::object named(const std::string& id, const std::string& name, const std::string& domain_id, const std::string& domain_name,
                   bool names) {
  json::object o{{"id", id}};
  if (names) {
    o["name"] = name;
    if (!domain_id.empty()) { o["domain"] = json::object{{"id", domain_id}, {"name", domain_name}}; }
  }
  return o;
}

Awaitable handle_role_assignments(http::RequestContext& ctx, Deps& d) {
  KS_TRY(caller, caller_of(ctx, d));
  const auto& r = ctx.request();
  AssignmentFilter f;
  f.user_id = query(r, "user.id");
  f.group_id = query(r, "group.id");
  f.role_id = query(r, "role.id");
  f.project_id = query(r, "scope.project.id");
  f.domain_id = query(r, "scope.domain.id");
  f.effective = r.has_query_param("effective") && query(r, "effective") != "false";
  bool names = query_flag(r, "include_names");
  if (r.has_query_param("scope.OS-INHERIT:inherited_to")) {
    co_return json_response(http::Status::ok, json::object{{"role_assignments", json::array{}}, {"links", collection_links(d, r)}});
  }
  KS_TRY(items, d.identity.list_assignments(*caller, f));
  auto& id = d.identity;
  json::array out;
  for (const auto& a : *items) {
    json::object o;
    std::string link_path;
    if (a.target_type == TargetType::project) {
      std::string dom = id.project_domain(a.target_id);
      o["scope"] = json::object{{"project", named(a.target_id, id.project_name(a.target_id), dom, id.domain_name(dom), names)}};
      link_path = "/v3/projects/" + a.target_id;
    } else {
      o["scope"] = json::object{{"domain", named(a.target_id, id.domain_name(a.target_id), "", "", names)}};
      link_path = "/v3/domains/" + a.target_id;
    }
    if (a.actor_type == ActorType::user) {
      std::string dom = id.user_domain(a.actor_id);
      o["user"] = named(a.actor_id, id.user_name(a.actor_id), dom, id.domain_name(dom), names);
      link_path += "/users/" + a.actor_id;
    } else {
      std::string dom = id.group_domain(a.actor_id);
      o["group"] = named(a.actor_id, id.group_name(a.actor_id), dom, id.domain_name(dom), names);
      link_path += "/groups/" + a.actor_id;
    }
    o["role"] = named(a.role_id, id.role_name(a.role_id), "", "", names);
    json::object links{{"assignment", link(d, link_path + "/roles/" + a.role_id)}};
    if (!a.via_group_id.empty()) { links["membership"] = link(d, "/v3/groups/" + a.via_group_id + "/users/" + a.actor_id); }
    o["links"] = std::move(links);
    out.push_back(std::move(o));
  }
  co_return json_response(http::Status::ok, json::object{{"role_assignments", std::move(out)}, {"links", collection_links(d, r)}});
}

template <TargetType TT, ActorType AT>
void add_grant_routes(http::Router& r, Deps& d, const std::string& base) {
  route(r, d, http::Method::get, base + "/roles", handle_list<TT, AT>);
  route(r, d, http::Method::put, base + "/roles/{role}", handle_put<TT, AT>);
  route(r, d, http::Method::delete_, base + "/roles/{role}", handle_delete<TT, AT>);
  route(r, d, http::Method::head, base + "/roles/{role}", handle_check<TT, AT>);
  route(r, d, http::Method::get, base + "/roles/{role}", handle_check<TT, AT>);
}

}  // namespace

void add_assignment_routes(http::Router& r, Deps& d) {
  add_grant_routes<TargetType::project, ActorType::user>(r, d, "/v3/projects/{target}/users/{actor}");
  add_grant_routes<TargetType::project, ActorType::group>(r, d, "/v3/projects/{target}/groups/{actor}");
  add_grant_routes<TargetType::domain, ActorType::user>(r, d, "/v3/domains/{target}/users/{actor}");
  add_grant_routes<TargetType::domain, ActorType::group>(r, d, "/v3/domains/{target}/groups/{actor}");
  route(r, d, http::Method::get, "/v3/role_assignments", handle_role_assignments);
}

}  // namespace ciel::identity::keystone
