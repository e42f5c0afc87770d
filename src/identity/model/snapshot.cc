#include "identity/model/snapshot.h"

#include <algorithm>
#include <boost/json.hpp>

#include "core/http/router.h"
#include "store/meta_store.h"

namespace ciel::identity::model {
namespace {

template <class M>
const typename M::mapped_type* find_in(const M& m, std::string_view id) {
  auto it = m.find(std::string(id));
  return it == m.end() ? nullptr : &it->second;
}

std::vector<std::string> json_list(const std::string& text) {
  std::vector<std::string> out;
  boost::system::error_code ec;
  auto v = boost::json::parse(text, ec);
  if (ec || !v.is_array()) { return out; }
  for (const auto& e : v.as_array()) {
    if (e.is_string()) { out.emplace_back(e.as_string().c_str()); }
  }
  return out;
}

#define CIEL_TRY_ROWS(var, expr) \
  auto var = (expr);             \
  if (!var) { return var.error(); }

// `with_templates` false leaves out endpoints whose URL needs a project id (for domain-scoped
// tokens), as Keystone does, and services left without endpoints.
std::string render_catalog(const Snapshot& s, bool with_templates) {
  std::string out = "[";
  bool first_service = true;
  for (const auto& [sid, svc] : s.services) {
    if (!svc.enabled) { continue; }
    std::string eps;
    for (const auto& [eid, ep] : s.endpoints) {
      if (ep.service_id != sid || !ep.enabled) { continue; }
      if (!with_templates && ep.url.find("%(") != std::string::npos) { continue; }
      if (!eps.empty()) { eps += ", "; }
      eps += "{\"id\": \"" + http::json_escape(ep.id) + "\", \"interface\": \"" + http::json_escape(ep.interface) +
             "\", \"region_id\": \"" + http::json_escape(ep.region_id) + "\", \"region\": \"" + http::json_escape(ep.region_id) +
             "\", \"url\": \"" + http::json_escape(ep.url) + "\"}";
    }
    if (eps.empty() && !with_templates) { continue; }
    if (!first_service) { out += ", "; }
    first_service = false;
    out += "{\"id\": \"" + http::json_escape(svc.id) + "\", \"type\": \"" + http::json_escape(svc.type) + "\", \"name\": \"" +
           http::json_escape(svc.name) + "\", \"endpoints\": [" + eps + "]}";
  }
  out += "]";
  return out;
}

}  // namespace

const Domain* Snapshot::domain(std::string_view id) const { return find_in(domains, id); }
const Project* Snapshot::project(std::string_view id) const { return find_in(projects, id); }
const User* Snapshot::user(std::string_view id) const { return find_in(users, id); }
const Group* Snapshot::group(std::string_view id) const { return find_in(groups, id); }
const Role* Snapshot::role(std::string_view id) const { return find_in(roles, id); }

Result<std::shared_ptr<Snapshot>> load_snapshot(store::Tx& tx, const Unsealer& unseal) {
  auto s = std::make_shared<Snapshot>();
  {
    CIEL_TRY_ROWS(r, tx.query("SELECT id, name, description, enabled FROM identity_domains"));
    for (auto& row : r->rows) {
      Domain d{row.text(0), row.text(1), row.text(2), row.boolean(3)};
      s->domain_by_name[d.name] = d.id;
      s->domains.emplace(d.id, std::move(d));
    }
  }
  {
    CIEL_TRY_ROWS(r, tx.query("SELECT id, name, domain_id, description, parent_id, enabled, tags FROM identity_projects"));
    for (auto& row : r->rows) {
      Project p{row.text(0), row.text(1), row.text(2), row.text(3), row.text(4), row.boolean(5), json_list(row.text(6))};
      s->project_by_name[p.domain_id + "\n" + p.name] = p.id;
      s->projects.emplace(p.id, std::move(p));
    }
  }
  {
    CIEL_TRY_ROWS(r, tx.query("SELECT id, name, domain_id, default_project_id, description, email, enabled, password_hash "
                              "FROM identity_users"));
    for (auto& row : r->rows) {
      User u;
      u.id = row.text(0);
      u.name = row.text(1);
      u.domain_id = row.text(2);
      u.default_project_id = row.text(3);
      u.description = row.text(4);
      u.email = row.text(5);
      u.enabled = row.boolean(6);
      u.password_hash = row.text(7);
      s->user_by_name[u.domain_id + "\n" + u.name] = u.id;
      s->users.emplace(u.id, std::move(u));
    }
  }
  {
    CIEL_TRY_ROWS(r, tx.query("SELECT id, name, domain_id, description FROM identity_groups"));
    for (auto& row : r->rows) {
      Group g{row.text(0), row.text(1), row.text(2), row.text(3)};
      s->groups.emplace(g.id, std::move(g));
    }
  }
  {
    CIEL_TRY_ROWS(r, tx.query("SELECT group_id, user_id FROM identity_group_members"));
    for (auto& row : r->rows) {
      s->group_users[row.text(0)].insert(row.text(1));
      s->user_groups[row.text(1)].insert(row.text(0));
    }
  }
  {
    CIEL_TRY_ROWS(r, tx.query("SELECT id, name, description FROM identity_roles"));
    for (auto& row : r->rows) {
      Role role{row.text(0), row.text(1), "", row.text(2)};
      s->role_by_name[role.name] = role.id;
      s->roles.emplace(role.id, std::move(role));
    }
  }
  {
    CIEL_TRY_ROWS(r, tx.query("SELECT prior_role_id, implied_role_id FROM identity_role_implications"));
    for (auto& row : r->rows) { s->implications.emplace_back(row.text(0), row.text(1)); }
  }
  {
    CIEL_TRY_ROWS(r, tx.query("SELECT actor_type, actor_id, target_type, target_id, role_id FROM identity_assignments"));
    for (auto& row : r->rows) {
      Assignment a;
      a.actor_type = row.text(0) == "group" ? ActorType::group : ActorType::user;
      a.actor_id = row.text(1);
      a.target_type = row.text(2) == "domain" ? TargetType::domain : TargetType::project;
      a.target_id = row.text(3);
      a.role_id = row.text(4);
      s->assignments.push_back(std::move(a));
    }
  }
  {
    CIEL_TRY_ROWS(r, tx.query("SELECT id, name, description, user_id, project_id, secret_hash, roles, unrestricted, expires_at "
                              "FROM identity_app_creds"));
    for (auto& row : r->rows) {
      AppCredential c;
      c.id = row.text(0);
      c.name = row.text(1);
      c.description = row.text(2);
      c.user_id = row.text(3);
      c.project_id = row.text(4);
      c.secret_hash = row.text(5);
      c.role_ids = json_list(row.text(6));
      c.unrestricted = row.boolean(7);
      if (!row.is_null(8)) { c.expires_at = row.integer(8); }
      s->app_creds.emplace(c.id, std::move(c));
    }
  }
  {
    CIEL_TRY_ROWS(r, tx.query("SELECT access, user_id, project_id, secret_sealed FROM identity_ec2_creds"));
    for (auto& row : r->rows) {
      Ec2Credential c{row.text(0), unseal(row.text(3)), row.text(1), row.text(2)};
      s->ec2.emplace(c.access, std::move(c));
    }
  }
  {
    CIEL_TRY_ROWS(r, tx.query("SELECT id, description, parent_region_id FROM identity_regions"));
    for (auto& row : r->rows) { s->regions.emplace(row.text(0), Region{row.text(0), row.text(1), row.text(2)}); }
  }
  {
    CIEL_TRY_ROWS(r, tx.query("SELECT id, type, name, description, enabled FROM identity_services"));
    for (auto& row : r->rows) {
      s->services.emplace(row.text(0), Service{row.text(0), row.text(1), row.text(2), row.text(3), row.boolean(4)});
    }
  }
  {
    CIEL_TRY_ROWS(r, tx.query("SELECT id, service_id, interface, region_id, url, enabled FROM identity_endpoints"));
    for (auto& row : r->rows) {
      s->endpoints.emplace(row.text(0), Endpoint{row.text(0), row.text(1), row.text(2), row.text(3), row.text(4), row.boolean(5)});
    }
  }

  // Implied roles, transitively (a cycle just stops growing).
  for (const auto& [id, role] : s->roles) {
    auto& closure = s->implied_closure[id];
    closure.insert(id);
    for (bool grew = true; grew;) {
      grew = false;
      for (const auto& [prior, implied] : s->implications) {
        if (closure.count(prior) != 0 && closure.insert(implied).second) { grew = true; }
      }
    }
  }
  // Effective roles per (user, target): direct and through groups.
  std::unordered_map<std::string, std::set<std::string>> eff;
  for (const auto& a : s->assignments) {
    auto cl = s->implied_closure.find(a.role_id);
    if (cl == s->implied_closure.end()) { continue; }
    auto add = [&](const std::string& user) {
      auto& set = eff[Snapshot::effective_key(user, a.target_type, a.target_id)];
      set.insert(cl->second.begin(), cl->second.end());
    };
    if (a.actor_type == ActorType::user) {
      add(a.actor_id);
    } else if (auto g = s->group_users.find(a.actor_id); g != s->group_users.end()) {
      for (const auto& u : g->second) { add(u); }
    }
  }
  for (auto& [k, set] : eff) { s->effective.emplace(k, std::vector<std::string>(set.begin(), set.end())); }
  s->catalog_json = render_catalog(*s, true);
  s->catalog_json_no_project = render_catalog(*s, false);
  return s;
}

}  // namespace ciel::identity::model
