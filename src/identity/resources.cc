// Domains, projects, users, groups, roles, role assignments and the catalog: reads from the
// snapshot, audited mutations in SQL. Every entry point asks the Policy first.
#include <algorithm>
#include <set>

#include "identity/service_impl.h"

namespace ciel::identity {
namespace {

Error not_found(std::string_view kind, std::string_view id) {
  return make_error(Errc::not_found, "Could not find " + std::string(kind) + ": " + std::string(id) + ".");
}
Error bad(std::string message) { return make_error(Errc::invalid_argument, std::move(message)); }

Status ok_or(const Result<std::int64_t>& r) {
  if (!r) { return r.error(); }
  return {};
}

template <class T>
void sort_by_name(std::vector<T>& v) {
  std::sort(v.begin(), v.end(), [](const T& a, const T& b) { return a.name != b.name ? a.name < b.name : a.id < b.id; });
}

std::string target_domain(const model::Snapshot& s, TargetType t, std::string_view id) {
  if (t == TargetType::domain) { return std::string(id); }
  const Project* p = s.project(id);
  return p != nullptr ? p->domain_id : std::string();
}

std::string actor_domain(const model::Snapshot& s, ActorType t, std::string_view id) {
  if (t == ActorType::user) {
    const User* u = s.user(id);
    return u != nullptr ? u->domain_id : std::string();
  }
  const Group* g = s.group(id);
  return g != nullptr ? g->domain_id : std::string();
}

}  // namespace

// Which domain a listing is limited to: "" for all (cloud admin), or the caller's domain.
static Result<std::string> listing_scope(const ServiceImpl& svc, const Caller& c, Action action, std::string_view requested) {
  const Policy& pol = svc.policy();
  if (pol.is_cloud_admin(c.principal)) { return std::string(requested); }
  std::string dom = requested.empty() ? c.principal.domain_id : std::string(requested);
  if (!pol.may(c.principal, action, Target{dom, "", "", ""})) {
    return make_error(Errc::forbidden, "You are not authorized to perform the requested action: identity:" +
                                           std::string(action_name(action)) + ".");
  }
  return dom;
}

// --- names ------------------------------------------------------------------------------------

std::string ServiceImpl::domain_name(std::string_view id) const {
  auto s = snapshot();
  const Domain* d = s->domain(id);
  return d ? d->name : std::string();
}
std::string ServiceImpl::project_name(std::string_view id) const {
  auto s = snapshot();
  const Project* p = s->project(id);
  return p ? p->name : std::string();
}
std::string ServiceImpl::project_domain(std::string_view id) const {
  auto s = snapshot();
  const Project* p = s->project(id);
  return p ? p->domain_id : std::string();
}
std::string ServiceImpl::user_name(std::string_view id) const {
  auto s = snapshot();
  const User* u = s->user(id);
  return u ? u->name : std::string();
}
std::string ServiceImpl::user_domain(std::string_view id) const {
  auto s = snapshot();
  const User* u = s->user(id);
  return u ? u->domain_id : std::string();
}
std::string ServiceImpl::group_name(std::string_view id) const {
  auto s = snapshot();
  const Group* g = s->group(id);
  return g ? g->name : std::string();
}
std::string ServiceImpl::group_domain(std::string_view id) const {
  auto s = snapshot();
  const Group* g = s->group(id);
  return g ? g->domain_id : std::string();
}
std::string ServiceImpl::role_name(std::string_view id) const {
  auto s = snapshot();
  const Role* r = s->role(id);
  return r ? r->name : std::string();
}

// --- domains ----------------------------------------------------------------------------------

Result<Domain> ServiceImpl::get_domain(const Caller& c, std::string_view id) const {
  auto s = snapshot();
  const Domain* d = s->domain(id);
  if (d == nullptr) { return not_found("domain", id); }
  if (!policy_.may(c.principal, Action::read_domain, Target{d->id, "", "", ""})) {
    return make_error(Errc::forbidden, "You are not authorized to perform the requested action: identity:get_domain.");
  }
  return *d;
}

Result<std::vector<Domain>> ServiceImpl::list_domains(const Caller& c, std::string_view name) const {
  auto s = snapshot();
  std::vector<Domain> out;
  for (const auto& [id, d] : s->domains) {
    if (!name.empty() && d.name != name) { continue; }
    if (policy_.may(c.principal, Action::read_domain, Target{d.id, "", "", ""})) { out.push_back(d); }
  }
  sort_by_name(out);
  return out;
}

std::vector<Domain> ServiceImpl::domains_for_user(const Principal& p) const {
  auto s = snapshot();
  std::vector<Domain> out;
  for (const auto& [id, d] : s->domains) {
    const auto* roles = s->roles_of(p.user_id, TargetType::domain, id);
    if (d.enabled && roles != nullptr && !roles->empty()) { out.push_back(d); }
  }
  sort_by_name(out);
  return out;
}

Result<Domain> ServiceImpl::create_domain(const Caller& c, const NamedInput& in) {
  if (!policy_.may(c.principal, Action::manage_domains)) { return deny(c, "create_domain", in.name.value_or("")); }
  if (!in.name || !valid_name(*in.name)) { return bad("Invalid input for field 'name': a domain needs a name of 1 to 255 characters."); }
  Domain d{new_id(), *in.name, in.description.value_or(""), in.enabled.value_or(true)};
  auto st = apply(c, "domain.create", "domain:" + d.id, [&](store::Tx& tx) {
    return ok_or(tx.exec("INSERT INTO identity_domains (id, name, description, enabled, created_at) VALUES ($1, $2, $3, $4, $5)",
                         {d.id, d.name, d.description, std::int64_t{d.enabled}, now_s()}));
  }, "domain");
  if (!st) { return st.error(); }
  return d;
}

Result<Domain> ServiceImpl::update_domain(const Caller& c, std::string_view id, const NamedInput& in) {
  auto s = snapshot();
  const Domain* cur = s->domain(id);
  if (cur == nullptr) { return not_found("domain", id); }
  if (!policy_.may(c.principal, Action::manage_domains)) { return deny(c, "update_domain", "domain:" + std::string(id)); }
  Domain d = *cur;
  if (in.name) {
    if (!valid_name(*in.name)) { return bad("Invalid input for field 'name'."); }
    d.name = *in.name;
  }
  if (in.description) { d.description = *in.description; }
  if (in.enabled) {
    if (!*in.enabled && d.id == kDefaultDomainId) { return make_error(Errc::forbidden, "The default domain cannot be disabled."); }
    d.enabled = *in.enabled;
  }
  auto st = apply(c, "domain.update", "domain:" + d.id, [&](store::Tx& tx) {
    return ok_or(tx.exec("UPDATE identity_domains SET name = $2, description = $3, enabled = $4 WHERE id = $1",
                         {d.id, d.name, d.description, std::int64_t{d.enabled}}));
  }, "domain");
  if (!st) { return st.error(); }
  return d;
}

Status ServiceImpl::delete_domain(const Caller& c, std::string_view id) {
  auto s = snapshot();
  const Domain* d = s->domain(id);
  if (d == nullptr) { return not_found("domain", id); }
  if (!policy_.may(c.principal, Action::manage_domains)) { return deny(c, "delete_domain", "domain:" + std::string(id)); }
  if (d->id == kDefaultDomainId) { return make_error(Errc::forbidden, "The default domain cannot be deleted."); }
  if (d->enabled) { return make_error(Errc::forbidden, "Cannot delete a domain that is enabled, please disable it first."); }
  std::string did(id);
  return apply(c, "domain.delete", "domain:" + did, [&](store::Tx& tx) -> Status {
    for (const char* sql : {
             "DELETE FROM identity_assignments WHERE target_type = 'project' AND target_id IN (SELECT id FROM identity_projects WHERE domain_id = $1)",
             "DELETE FROM identity_assignments WHERE target_type = 'domain' AND target_id = $1",
             "DELETE FROM identity_assignments WHERE actor_type = 'user' AND actor_id IN (SELECT id FROM identity_users WHERE domain_id = $1)",
             "DELETE FROM identity_assignments WHERE actor_type = 'group' AND actor_id IN (SELECT id FROM identity_groups WHERE domain_id = $1)",
             "DELETE FROM identity_group_members WHERE group_id IN (SELECT id FROM identity_groups WHERE domain_id = $1)",
             "DELETE FROM identity_group_members WHERE user_id IN (SELECT id FROM identity_users WHERE domain_id = $1)",
             "DELETE FROM identity_app_creds WHERE user_id IN (SELECT id FROM identity_users WHERE domain_id = $1)",
             "DELETE FROM identity_ec2_creds WHERE user_id IN (SELECT id FROM identity_users WHERE domain_id = $1)",
             "DELETE FROM identity_projects WHERE domain_id = $1", "DELETE FROM identity_users WHERE domain_id = $1",
             "DELETE FROM identity_groups WHERE domain_id = $1", "DELETE FROM identity_domains WHERE id = $1"}) {
      if (auto st = ok_or(tx.exec(sql, {did})); !st) { return st; }
    }
    return {};
  });
}

// --- projects ---------------------------------------------------------------------------------

Result<Project> ServiceImpl::get_project(const Caller& c, std::string_view id) const {
  auto s = snapshot();
  const Project* p = s->project(id);
  if (p == nullptr) { return not_found("project", id); }
  if (!policy_.may(c.principal, Action::read_project, Target{p->domain_id, p->id, "", ""})) {
    return make_error(Errc::forbidden, "You are not authorized to perform the requested action: identity:get_project.");
  }
  return *p;
}

Result<std::vector<Project>> ServiceImpl::list_projects(const Caller& c, std::string_view name, std::string_view domain_id,
                                                        std::string_view parent_id) const {
  auto scope = listing_scope(*this, c, Action::list_projects, domain_id);
  if (!scope) { return scope.error(); }
  auto s = snapshot();
  std::vector<Project> out;
  for (const auto& [id, p] : s->projects) {
    if (!scope->empty() && p.domain_id != *scope) { continue; }
    if (!name.empty() && p.name != name) { continue; }
    if (!parent_id.empty() && p.parent_id != parent_id) { continue; }
    out.push_back(p);
  }
  sort_by_name(out);
  return out;
}

std::vector<Project> ServiceImpl::projects_for_user(const Principal& p) const {
  auto s = snapshot();
  std::vector<Project> out;
  for (const auto& [id, proj] : s->projects) {
    const auto* roles = s->roles_of(p.user_id, TargetType::project, id);
    if (proj.enabled && roles != nullptr && !roles->empty()) { out.push_back(proj); }
  }
  sort_by_name(out);
  return out;
}

Result<Project> ServiceImpl::create_project(const Caller& c, const ProjectInput& in) {
  auto s = snapshot();
  Project p;
  p.id = new_id();
  p.domain_id = in.domain_id.value_or(c.principal.scope == ScopeType::domain ? c.principal.domain_id : std::string(kDefaultDomainId));
  if (!policy_.may(c.principal, Action::manage_projects, Target{p.domain_id, "", "", ""})) {
    return deny(c, "create_project", in.name.value_or(""));
  }
  if (!in.name || !valid_name(*in.name)) { return bad("Invalid input for field 'name': a project needs a name of 1 to 64 characters."); }
  if (in.name->size() > 64) { return bad("Invalid input for field 'name': longer than 64 characters."); }
  if (s->domain(p.domain_id) == nullptr) { return bad("Could not find domain: " + p.domain_id + "."); }
  p.name = *in.name;
  p.description = in.description.value_or("");
  p.enabled = in.enabled.value_or(true);
  p.tags = in.tags.value_or(std::vector<std::string>{});
  if (in.parent_id && !in.parent_id->empty()) {
    const Project* parent = s->project(*in.parent_id);
    if (parent == nullptr || parent->domain_id != p.domain_id) { return bad("Invalid parent_id: no such project in the domain."); }
    p.parent_id = *in.parent_id;
  }
  auto st = apply(c, "project.create", "project:" + p.id, [&](store::Tx& tx) {
    return ok_or(tx.exec("INSERT INTO identity_projects (id, domain_id, name, description, enabled, parent_id, tags, created_at) "
                         "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                         {p.id, p.domain_id, p.name, p.description, std::int64_t{p.enabled}, p.parent_id, json_string_list(p.tags), now_s()}));
  }, "project");
  if (!st) { return st.error(); }
  return p;
}

Result<Project> ServiceImpl::update_project(const Caller& c, std::string_view id, const ProjectInput& in) {
  auto s = snapshot();
  const Project* cur = s->project(id);
  if (cur == nullptr) { return not_found("project", id); }
  if (!policy_.may(c.principal, Action::manage_projects, Target{cur->domain_id, cur->id, "", ""})) {
    return deny(c, "update_project", "project:" + std::string(id));
  }
  Project p = *cur;
  if (in.domain_id && *in.domain_id != p.domain_id) { return bad("Update of `domain_id` is not allowed."); }
  if (in.name) {
    if (!valid_name(*in.name) || in.name->size() > 64) { return bad("Invalid input for field 'name'."); }
    // identity.admin_project names it: a rename would silently end cloud-admin rights at restart.
    if (p.id == policy_.admin_project() && *in.name != p.name) { return make_error(Errc::forbidden, "The admin project cannot be renamed."); }
    p.name = *in.name;
  }
  if (in.description) { p.description = *in.description; }
  if (in.enabled) { p.enabled = *in.enabled; }
  if (in.tags) { p.tags = *in.tags; }
  auto st = apply(c, "project.update", "project:" + p.id, [&](store::Tx& tx) {
    return ok_or(tx.exec("UPDATE identity_projects SET name = $2, description = $3, enabled = $4, tags = $5 WHERE id = $1",
                         {p.id, p.name, p.description, std::int64_t{p.enabled}, json_string_list(p.tags)}));
  }, "project");
  if (!st) { return st.error(); }
  return p;
}

Status ServiceImpl::delete_project(const Caller& c, std::string_view id) {
  auto s = snapshot();
  const Project* p = s->project(id);
  if (p == nullptr) { return not_found("project", id); }
  if (!policy_.may(c.principal, Action::manage_projects, Target{p->domain_id, p->id, "", ""})) {
    return deny(c, "delete_project", "project:" + std::string(id));
  }
  if (p->id == policy_.admin_project()) { return make_error(Errc::forbidden, "The admin project cannot be deleted."); }
  for (const auto& [pid, other] : s->projects) {
    if (other.parent_id == p->id) { return make_error(Errc::forbidden, "Cannot delete a project that has child projects."); }
  }
  std::string pid(id);
  return apply(c, "project.delete", "project:" + pid, [&](store::Tx& tx) -> Status {
    for (const char* sql : {"DELETE FROM identity_assignments WHERE target_type = 'project' AND target_id = $1",
                            "DELETE FROM identity_app_creds WHERE project_id = $1", "DELETE FROM identity_ec2_creds WHERE project_id = $1",
                            "UPDATE identity_users SET default_project_id = '' WHERE default_project_id = $1",
                            "DELETE FROM identity_projects WHERE id = $1"}) {
      if (auto st = ok_or(tx.exec(sql, {pid})); !st) { return st; }
    }
    return revoke_subject(tx, "project", pid);
  });
}

// --- users ------------------------------------------------------------------------------------

Result<User> ServiceImpl::get_user(const Caller& c, std::string_view id) const {
  auto s = snapshot();
  const User* u = s->user(id);
  if (u == nullptr) { return not_found("user", id); }
  if (!policy_.may(c.principal, Action::read_user, Target{u->domain_id, "", u->id, ""})) {
    return make_error(Errc::forbidden, "You are not authorized to perform the requested action: identity:get_user.");
  }
  return *u;
}

Result<std::vector<User>> ServiceImpl::list_users(const Caller& c, std::string_view name, std::string_view domain_id) const {
  auto scope = listing_scope(*this, c, Action::list_users, domain_id);
  if (!scope) { return scope.error(); }
  auto s = snapshot();
  std::vector<User> out;
  for (const auto& [id, u] : s->users) {
    if (!scope->empty() && u.domain_id != *scope) { continue; }
    if (!name.empty() && u.name != name) { continue; }
    out.push_back(u);
  }
  sort_by_name(out);
  return out;
}

Result<std::vector<Project>> ServiceImpl::list_user_projects(const Caller& c, std::string_view user_id) const {
  auto u = get_user(c, user_id);
  if (!u) { return u.error(); }
  Principal p;
  p.user_id = u->id;
  return projects_for_user(p);
}

std::optional<User> ServiceImpl::user_named(std::string_view domain_id, std::string_view name) const {
  auto s = snapshot();
  auto it = s->user_by_name.find(std::string(domain_id) + '\n' + std::string(name));
  if (it == s->user_by_name.end()) { return std::nullopt; }
  const User* u = s->user(it->second);
  if (u == nullptr || !u->enabled) { return std::nullopt; }
  return *u;
}

std::optional<Group> ServiceImpl::group_named(std::string_view domain_id, std::string_view name) const {
  auto s = snapshot();
  for (const auto& [id, g] : s->groups) {
    if (g.domain_id == domain_id && g.name == name) { return g; }
  }
  return std::nullopt;
}

std::vector<User> ServiceImpl::coworkers(std::string_view user_id) const {
  auto s = snapshot();
  std::set<std::string> projects;
  for (const auto& [id, proj] : s->projects) {
    const auto* roles = s->roles_of(user_id, TargetType::project, id);
    if (proj.enabled && roles != nullptr && !roles->empty()) { projects.insert(id); }
  }
  std::vector<User> out;
  for (const auto& [id, u] : s->users) {
    if (!u.enabled) { continue; }
    for (const auto& p : projects) {
      const auto* roles = s->roles_of(id, TargetType::project, p);
      if (roles != nullptr && !roles->empty()) {
        out.push_back(u);
        break;
      }
    }
  }
  sort_by_name(out);
  return out;
}

std::vector<Group> ServiceImpl::groups_of(std::string_view user_id) const {
  auto s = snapshot();
  std::vector<Group> out;
  if (auto it = s->user_groups.find(std::string(user_id)); it != s->user_groups.end()) {
    for (const auto& gid : it->second) {
      if (const Group* g = s->group(gid)) { out.push_back(*g); }
    }
  }
  sort_by_name(out);
  return out;
}

Result<std::vector<Group>> ServiceImpl::list_user_groups(const Caller& c, std::string_view user_id) const {
  auto u = get_user(c, user_id);
  if (!u) { return u.error(); }
  auto s = snapshot();
  std::vector<Group> out;
  if (auto it = s->user_groups.find(u->id); it != s->user_groups.end()) {
    for (const auto& gid : it->second) {
      if (const Group* g = s->group(gid)) { out.push_back(*g); }
    }
  }
  sort_by_name(out);
  return out;
}

Result<User> ServiceImpl::create_user(const Caller& c, const UserInput& in) {
  auto s = snapshot();
  User u;
  u.id = new_id();
  u.domain_id = in.domain_id.value_or(c.principal.scope == ScopeType::domain ? c.principal.domain_id : std::string(kDefaultDomainId));
  if (!policy_.may(c.principal, Action::manage_users, Target{u.domain_id, "", "", ""})) {
    return deny(c, "create_user", in.name.value_or(""));
  }
  if (!in.name || !valid_name(*in.name)) { return bad("Invalid input for field 'name': a user needs a name of 1 to 255 characters."); }
  if (s->domain(u.domain_id) == nullptr) { return bad("Could not find domain: " + u.domain_id + "."); }
  if (s->user_by_name.count(u.domain_id + "\n" + *in.name) != 0) {
    return make_error(Errc::already_exists, "Conflict occurred attempting to store user - Duplicate entry found with name " + *in.name + ".");
  }
  u.name = *in.name;
  u.description = in.description.value_or("");
  u.email = in.email.value_or("");
  u.enabled = in.enabled.value_or(true);
  if (in.default_project_id && !in.default_project_id->empty()) {
    if (s->project(*in.default_project_id) == nullptr) { return bad("Could not find project: " + *in.default_project_id + "."); }
    u.default_project_id = *in.default_project_id;
  }
  if (in.password) {
    if (auto st = check_password_policy(*in.password); !st) { return st.error(); }
    u.password_hash = hasher_.hash(*in.password);
  }
  auto st = apply(c, "user.create", "user:" + u.id, [&](store::Tx& tx) {
    return ok_or(tx.exec("INSERT INTO identity_users (id, domain_id, name, enabled, password_hash, default_project_id, description, "
                         "email, password_changed_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
                         {u.id, u.domain_id, u.name, std::int64_t{u.enabled}, u.password_hash, u.default_project_id, u.description,
                          u.email, now_s()}));
  }, "user");
  if (!st) { return st.error(); }
  return u;
}

Result<User> ServiceImpl::update_user(const Caller& c, std::string_view id, const UserInput& in) {
  auto s = snapshot();
  const User* cur = s->user(id);
  if (cur == nullptr) { return not_found("user", id); }
  if (!policy_.may(c.principal, Action::manage_users, Target{cur->domain_id, "", cur->id, ""})) {
    return deny(c, "update_user", "user:" + std::string(id));
  }
  User u = *cur;
  if (in.domain_id && *in.domain_id != u.domain_id) { return bad("Update of `domain_id` is not allowed."); }
  if (in.name) {
    if (!valid_name(*in.name)) { return bad("Invalid input for field 'name'."); }
    u.name = *in.name;
  }
  if (in.description) { u.description = *in.description; }
  if (in.email) { u.email = *in.email; }
  if (in.default_project_id) {
    if (!in.default_project_id->empty() && s->project(*in.default_project_id) == nullptr) {
      return bad("Could not find project: " + *in.default_project_id + ".");
    }
    u.default_project_id = *in.default_project_id;
  }
  bool revoke = false;
  if (in.enabled) {
    revoke = cur->enabled && !*in.enabled;
    u.enabled = *in.enabled;
  }
  if (in.password) {
    if (auto st = check_password_policy(*in.password); !st) { return st.error(); }
    u.password_hash = hasher_.hash(*in.password);
    revoke = true;
  }
  auto st = apply(c, in.password ? "user.update_password" : "user.update", "user:" + u.id, [&](store::Tx& tx) -> Status {
    auto r = tx.exec("UPDATE identity_users SET name = $2, enabled = $3, password_hash = $4, default_project_id = $5, "
                     "description = $6, email = $7, password_changed_at = $8 WHERE id = $1",
                     {u.id, u.name, std::int64_t{u.enabled}, u.password_hash, u.default_project_id, u.description, u.email, now_s()});
    if (!r) { return r.error(); }
    if (revoke) { return revoke_subject(tx, "user", u.id); }
    return {};
  }, "user");
  if (!st) { return st.error(); }
  return u;
}

Status ServiceImpl::change_password(const Caller& c, std::string_view user_id, std::string_view original, std::string_view password) {
  auto s = snapshot();
  const User* cur = s->user(user_id);
  if (cur == nullptr) { return not_found("user", user_id); }
  if (!policy_.may(c.principal, Action::change_own_password, Target{cur->domain_id, "", cur->id, ""})) {
    return deny(c, "change_password", "user:" + std::string(user_id));
  }
  if (!hasher_.verify(cur->password_hash, original)) {
    audit(record(c, "user.change_password", "user:" + cur->id, "failure"));
    return make_error(Errc::unauthenticated, "The request you have made requires authentication.", "wrong original password");
  }
  if (auto st = check_password_policy(password); !st) { return st; }
  std::string hash = hasher_.hash(password);
  std::string uid = cur->id;
  return apply(c, "user.change_password", "user:" + uid, [&](store::Tx& tx) -> Status {
    auto r = tx.exec("UPDATE identity_users SET password_hash = $2, password_changed_at = $3 WHERE id = $1", {uid, hash, now_s()});
    if (!r) { return r.error(); }
    return revoke_subject(tx, "user", uid);
  });
}

Status ServiceImpl::delete_user(const Caller& c, std::string_view id) {
  auto s = snapshot();
  const User* u = s->user(id);
  if (u == nullptr) { return not_found("user", id); }
  if (!policy_.may(c.principal, Action::manage_users, Target{u->domain_id, "", u->id, ""})) {
    return deny(c, "delete_user", "user:" + std::string(id));
  }
  std::string uid(id);
  return apply(c, "user.delete", "user:" + uid, [&](store::Tx& tx) -> Status {
    for (const char* sql : {"DELETE FROM identity_assignments WHERE actor_type = 'user' AND actor_id = $1",
                            "DELETE FROM identity_group_members WHERE user_id = $1", "DELETE FROM identity_app_creds WHERE user_id = $1",
                            "DELETE FROM identity_ec2_creds WHERE user_id = $1", "DELETE FROM identity_users WHERE id = $1"}) {
      if (auto st = ok_or(tx.exec(sql, {uid})); !st) { return st; }
    }
    return revoke_subject(tx, "user", uid);
  });
}

// --- groups -----------------------------------------------------------------------------------

Result<Group> ServiceImpl::get_group(const Caller& c, std::string_view id) const {
  auto s = snapshot();
  const Group* g = s->group(id);
  if (g == nullptr) { return not_found("group", id); }
  if (!policy_.may(c.principal, Action::read_group, Target{g->domain_id, "", "", ""})) {
    return make_error(Errc::forbidden, "You are not authorized to perform the requested action: identity:get_group.");
  }
  return *g;
}

Result<std::vector<Group>> ServiceImpl::list_groups(const Caller& c, std::string_view name, std::string_view domain_id) const {
  auto scope = listing_scope(*this, c, Action::list_groups, domain_id);
  if (!scope) { return scope.error(); }
  auto s = snapshot();
  std::vector<Group> out;
  for (const auto& [id, g] : s->groups) {
    if (!scope->empty() && g.domain_id != *scope) { continue; }
    if (!name.empty() && g.name != name) { continue; }
    out.push_back(g);
  }
  sort_by_name(out);
  return out;
}

Result<std::vector<User>> ServiceImpl::list_group_users(const Caller& c, std::string_view group_id) const {
  auto g = get_group(c, group_id);
  if (!g) { return g.error(); }
  auto s = snapshot();
  std::vector<User> out;
  if (auto it = s->group_users.find(g->id); it != s->group_users.end()) {
    for (const auto& uid : it->second) {
      if (const User* u = s->user(uid)) { out.push_back(*u); }
    }
  }
  sort_by_name(out);
  return out;
}

Status ServiceImpl::check_group_user(const Caller& c, std::string_view group_id, std::string_view user_id) const {
  auto g = get_group(c, group_id);
  if (!g) { return g.error(); }
  auto s = snapshot();
  auto it = s->group_users.find(g->id);
  if (it == s->group_users.end() || it->second.count(std::string(user_id)) == 0) {
    return make_error(Errc::not_found, "User " + std::string(user_id) + " is not a member of group " + g->id + ".");
  }
  return {};
}

Result<Group> ServiceImpl::create_group(const Caller& c, const NamedInput& in) {
  auto s = snapshot();
  Group g;
  g.id = new_id();
  g.domain_id = in.domain_id.value_or(c.principal.scope == ScopeType::domain ? c.principal.domain_id : std::string(kDefaultDomainId));
  if (!policy_.may(c.principal, Action::manage_groups, Target{g.domain_id, "", "", ""})) {
    return deny(c, "create_group", in.name.value_or(""));
  }
  if (!in.name || !valid_name(*in.name)) { return bad("Invalid input for field 'name': a group needs a name of 1 to 255 characters."); }
  if (s->domain(g.domain_id) == nullptr) { return bad("Could not find domain: " + g.domain_id + "."); }
  g.name = *in.name;
  g.description = in.description.value_or("");
  auto st = apply(c, "group.create", "group:" + g.id, [&](store::Tx& tx) {
    return ok_or(tx.exec("INSERT INTO identity_groups (id, domain_id, name, description, created_at) VALUES ($1, $2, $3, $4, $5)",
                         {g.id, g.domain_id, g.name, g.description, now_s()}));
  }, "group");
  if (!st) { return st.error(); }
  return g;
}

Result<Group> ServiceImpl::update_group(const Caller& c, std::string_view id, const NamedInput& in) {
  auto s = snapshot();
  const Group* cur = s->group(id);
  if (cur == nullptr) { return not_found("group", id); }
  if (!policy_.may(c.principal, Action::manage_groups, Target{cur->domain_id, "", "", ""})) {
    return deny(c, "update_group", "group:" + std::string(id));
  }
  Group g = *cur;
  if (in.domain_id && *in.domain_id != g.domain_id) { return bad("Update of `domain_id` is not allowed."); }
  if (in.name) {
    if (!valid_name(*in.name)) { return bad("Invalid input for field 'name'."); }
    g.name = *in.name;
  }
  if (in.description) { g.description = *in.description; }
  auto st = apply(c, "group.update", "group:" + g.id, [&](store::Tx& tx) {
    return ok_or(tx.exec("UPDATE identity_groups SET name = $2, description = $3 WHERE id = $1", {g.id, g.name, g.description}));
  }, "group");
  if (!st) { return st.error(); }
  return g;
}

Status ServiceImpl::delete_group(const Caller& c, std::string_view id) {
  auto s = snapshot();
  const Group* g = s->group(id);
  if (g == nullptr) { return not_found("group", id); }
  if (!policy_.may(c.principal, Action::manage_groups, Target{g->domain_id, "", "", ""})) {
    return deny(c, "delete_group", "group:" + std::string(id));
  }
  std::string gid(id);
  return apply(c, "group.delete", "group:" + gid, [&](store::Tx& tx) -> Status {
    for (const char* sql : {"DELETE FROM identity_assignments WHERE actor_type = 'group' AND actor_id = $1",
                            "DELETE FROM identity_group_members WHERE group_id = $1", "DELETE FROM identity_groups WHERE id = $1"}) {
      if (auto st = ok_or(tx.exec(sql, {gid})); !st) { return st; }
    }
    return {};
  });
}

Status ServiceImpl::add_group_user(const Caller& c, std::string_view group_id, std::string_view user_id) {
  auto s = snapshot();
  const Group* g = s->group(group_id);
  if (g == nullptr) { return not_found("group", group_id); }
  const User* u = s->user(user_id);
  if (u == nullptr) { return not_found("user", user_id); }
  if (!policy_.may(c.principal, Action::manage_groups, Target{g->domain_id, "", "", ""}) ||
      !policy_.may(c.principal, Action::manage_users, Target{u->domain_id, "", u->id, ""})) {
    return deny(c, "add_user_to_group", "group:" + g->id + " user:" + u->id);
  }
  std::string gid = g->id, uid = u->id;
  return apply(c, "group.add_user", "group:" + gid + " user:" + uid, [&](store::Tx& tx) {
    return ok_or(tx.exec("INSERT INTO identity_group_members (group_id, user_id) VALUES ($1, $2) ON CONFLICT (group_id, user_id) DO NOTHING",
                         {gid, uid}));
  });
}

Status ServiceImpl::remove_group_user(const Caller& c, std::string_view group_id, std::string_view user_id) {
  auto s = snapshot();
  const Group* g = s->group(group_id);
  if (g == nullptr) { return not_found("group", group_id); }
  if (!policy_.may(c.principal, Action::manage_groups, Target{g->domain_id, "", "", ""})) {
    return deny(c, "remove_user_from_group", "group:" + g->id + " user:" + std::string(user_id));
  }
  auto it = s->group_users.find(g->id);
  if (it == s->group_users.end() || it->second.count(std::string(user_id)) == 0) {
    return make_error(Errc::not_found, "User " + std::string(user_id) + " is not a member of group " + g->id + ".");
  }
  std::string gid = g->id, uid(user_id);
  return apply(c, "group.remove_user", "group:" + gid + " user:" + uid, [&](store::Tx& tx) {
    return ok_or(tx.exec("DELETE FROM identity_group_members WHERE group_id = $1 AND user_id = $2", {gid, uid}));
  });
}

// --- roles ------------------------------------------------------------------------------------

Result<Role> ServiceImpl::get_role(const Caller& c, std::string_view id) const {
  auto s = snapshot();
  const Role* r = s->role(id);
  if (r == nullptr) { return not_found("role", id); }
  if (!policy_.may(c.principal, Action::read_role)) { return make_error(Errc::forbidden, "You are not authorized to perform the requested action: identity:get_role."); }
  return *r;
}

Result<std::vector<Role>> ServiceImpl::list_roles(const Caller& c, std::string_view name) const {
  if (!policy_.may(c.principal, Action::read_role)) { return make_error(Errc::forbidden, "You are not authorized to perform the requested action: identity:list_roles."); }
  auto s = snapshot();
  std::vector<Role> out;
  for (const auto& [id, r] : s->roles) {
    if (name.empty() || r.name == name) { out.push_back(r); }
  }
  sort_by_name(out);
  return out;
}

Result<Role> ServiceImpl::create_role(const Caller& c, const NamedInput& in) {
  if (!policy_.may(c.principal, Action::manage_roles)) { return deny(c, "create_role", in.name.value_or("")); }
  if (!in.name || !valid_name(*in.name)) { return bad("Invalid input for field 'name': a role needs a name of 1 to 255 characters."); }
  Role r{new_id(), *in.name, "", in.description.value_or("")};
  auto st = apply(c, "role.create", "role:" + r.id, [&](store::Tx& tx) {
    return ok_or(tx.exec("INSERT INTO identity_roles (id, name, description, created_at) VALUES ($1, $2, $3, $4)",
                         {r.id, r.name, r.description, now_s()}));
  }, "role");
  if (!st) { return st.error(); }
  return r;
}

Result<Role> ServiceImpl::update_role(const Caller& c, std::string_view id, const NamedInput& in) {
  auto s = snapshot();
  const Role* cur = s->role(id);
  if (cur == nullptr) { return not_found("role", id); }
  if (!policy_.may(c.principal, Action::manage_roles)) { return deny(c, "update_role", "role:" + std::string(id)); }
  Role r = *cur;
  bool builtin = r.name == "admin" || r.name == "member" || r.name == "reader";
  if (in.name) {
    if (!valid_name(*in.name)) { return bad("Invalid input for field 'name'."); }
    if (builtin && *in.name != r.name) { return make_error(Errc::forbidden, "Built-in roles cannot be renamed."); }
    r.name = *in.name;
  }
  if (in.description) { r.description = *in.description; }
  auto st = apply(c, "role.update", "role:" + r.id, [&](store::Tx& tx) {
    return ok_or(tx.exec("UPDATE identity_roles SET name = $2, description = $3 WHERE id = $1", {r.id, r.name, r.description}));
  }, "role");
  if (!st) { return st.error(); }
  return r;
}

Status ServiceImpl::delete_role(const Caller& c, std::string_view id) {
  auto s = snapshot();
  const Role* r = s->role(id);
  if (r == nullptr) { return not_found("role", id); }
  if (!policy_.may(c.principal, Action::manage_roles)) { return deny(c, "delete_role", "role:" + std::string(id)); }
  if (r->name == "admin" || r->name == "member" || r->name == "reader") {
    return make_error(Errc::forbidden, "Built-in roles cannot be deleted.");
  }
  std::string rid(id);
  return apply(c, "role.delete", "role:" + rid, [&](store::Tx& tx) -> Status {
    for (const char* sql : {"DELETE FROM identity_assignments WHERE role_id = $1",
                            "DELETE FROM identity_role_implications WHERE prior_role_id = $1 OR implied_role_id = $1",
                            "DELETE FROM identity_roles WHERE id = $1"}) {
      if (auto st = ok_or(tx.exec(sql, {rid})); !st) { return st; }
    }
    return {};
  });
}

// --- assignments ------------------------------------------------------------------------------

Result<std::vector<Assignment>> ServiceImpl::list_assignments(const Caller& c, const AssignmentFilter& f) const {
  auto s = snapshot();
  const Principal& me = c.principal;
  bool admin = policy_.is_cloud_admin(me);
  bool domain_reader = me.scope == ScopeType::domain && policy_.may(me, Action::list_assignments, Target{me.domain_id, "", "", ""});
  bool project_admin = me.scope == ScopeType::project && policy_.may(me, Action::list_assignments, Target{me.domain_id, me.project_id, "", ""});
  bool self_only = !f.user_id.empty() && f.user_id == me.user_id;
  if (!admin && !domain_reader && !project_admin && !self_only) {
    return make_error(Errc::forbidden, "You are not authorized to perform the requested action: identity:list_role_assignments.");
  }
  std::vector<Assignment> rows;
  for (const auto& a : s->assignments) {
    if (f.effective && a.actor_type == ActorType::group) {
      auto it = s->group_users.find(a.actor_id);
      if (it == s->group_users.end()) { continue; }
      for (const auto& uid : it->second) {
        Assignment e = a;
        e.actor_type = ActorType::user;
        e.actor_id = uid;
        e.via_group_id = a.actor_id;
        rows.push_back(std::move(e));
      }
    } else {
      rows.push_back(a);
    }
  }
  if (f.effective) {  // implied roles, as Keystone's effective listing shows them
    std::vector<Assignment> expanded;
    std::set<std::string> seen;
    for (const auto& a : rows) {
      auto cl = s->implied_closure.find(a.role_id);
      std::vector<std::string> ids = cl == s->implied_closure.end() ? std::vector<std::string>{a.role_id}
                                                                     : std::vector<std::string>(cl->second.begin(), cl->second.end());
      for (const auto& rid : ids) {
        Assignment e = a;
        e.role_id = rid;
        std::string key = e.actor_id + "|" + (e.target_type == TargetType::project ? "p" : "d") + e.target_id + "|" + rid + "|" + e.via_group_id;
        if (seen.insert(key).second) { expanded.push_back(std::move(e)); }
      }
    }
    rows = std::move(expanded);
  }
  std::vector<Assignment> out;
  for (auto& a : rows) {
    if (!f.user_id.empty() && !(a.actor_type == ActorType::user && a.actor_id == f.user_id)) { continue; }
    if (!f.group_id.empty() && !(a.actor_type == ActorType::group && a.actor_id == f.group_id)) { continue; }
    if (!f.role_id.empty() && a.role_id != f.role_id) { continue; }
    if (!f.project_id.empty() && !(a.target_type == TargetType::project && a.target_id == f.project_id)) { continue; }
    if (!f.domain_id.empty() && !(a.target_type == TargetType::domain && a.target_id == f.domain_id)) { continue; }
    if (!admin) {
      bool mine = a.actor_type == ActorType::user && a.actor_id == me.user_id;
      std::string tdom = target_domain(*s, a.target_type, a.target_id);
      bool in_domain = domain_reader && tdom == me.domain_id;
      bool in_project = project_admin && a.target_type == TargetType::project && a.target_id == me.project_id;
      if (!mine && !in_domain && !in_project) { continue; }
    }
    out.push_back(std::move(a));
  }
  return out;
}

static Status check_assignment_parts(const model::Snapshot& s, const Assignment& a) {
  if (s.role(a.role_id) == nullptr) { return not_found("role", a.role_id); }
  if (a.actor_type == ActorType::user ? s.user(a.actor_id) == nullptr : s.group(a.actor_id) == nullptr) {
    return not_found(a.actor_type == ActorType::user ? "user" : "group", a.actor_id);
  }
  if (a.target_type == TargetType::project ? s.project(a.target_id) == nullptr : s.domain(a.target_id) == nullptr) {
    return not_found(a.target_type == TargetType::project ? "project" : "domain", a.target_id);
  }
  return {};
}

Status ServiceImpl::check_grant(const Caller& c, const Assignment& a) const {
  auto s = snapshot();
  if (auto st = check_assignment_parts(*s, a); !st) { return st; }
  std::string tdom = target_domain(*s, a.target_type, a.target_id);
  if (!policy_.may(c.principal, Action::list_assignments,
                   Target{tdom, a.target_type == TargetType::project ? a.target_id : "", a.actor_type == ActorType::user ? a.actor_id : "", ""})) {
    return make_error(Errc::forbidden, "You are not authorized to perform the requested action: identity:check_grant.");
  }
  for (const auto& x : s->assignments) {
    if (x.actor_type == a.actor_type && x.actor_id == a.actor_id && x.target_type == a.target_type && x.target_id == a.target_id &&
        x.role_id == a.role_id) {
      return {};
    }
  }
  return make_error(Errc::not_found, "Could not find role assignment.");
}

Result<std::vector<Role>> ServiceImpl::list_grants(const Caller& c, ActorType at, std::string_view actor, TargetType tt,
                                                   std::string_view target) const {
  auto s = snapshot();
  Assignment probe{at, std::string(actor), tt, std::string(target), "", ""};
  if (at == ActorType::user ? s->user(actor) == nullptr : s->group(actor) == nullptr) {
    return not_found(at == ActorType::user ? "user" : "group", actor);
  }
  if (tt == TargetType::project ? s->project(target) == nullptr : s->domain(target) == nullptr) {
    return not_found(tt == TargetType::project ? "project" : "domain", target);
  }
  std::string tdom = target_domain(*s, tt, target);
  if (!policy_.may(c.principal, Action::list_assignments,
                   Target{tdom, tt == TargetType::project ? std::string(target) : "", at == ActorType::user ? std::string(actor) : "", ""})) {
    return make_error(Errc::forbidden, "You are not authorized to perform the requested action: identity:list_grants.");
  }
  std::vector<Role> out;
  for (const auto& x : s->assignments) {
    if (x.actor_type == at && x.actor_id == actor && x.target_type == tt && x.target_id == target) {
      if (const Role* r = s->role(x.role_id)) { out.push_back(*r); }
    }
  }
  return out;
}

static const char* actor_text(ActorType t) { return t == ActorType::user ? "user" : "group"; }
static const char* target_text(TargetType t) { return t == TargetType::project ? "project" : "domain"; }

Status ServiceImpl::grant(const Caller& c, const Assignment& a) {
  auto s = snapshot();
  if (auto st = check_assignment_parts(*s, a); !st) { return st; }
  std::string tdom = target_domain(*s, a.target_type, a.target_id);
  std::string adom = actor_domain(*s, a.actor_type, a.actor_id);
  const Role* role = s->role(a.role_id);
  std::string what = std::string(actor_text(a.actor_type)) + ":" + a.actor_id + " role:" + role->name + " " + target_text(a.target_type) +
                     ":" + a.target_id;
  Target t{tdom, a.target_type == TargetType::project ? a.target_id : "", "", role->name};
  if (!policy_.may(c.principal, Action::manage_assignments, t) ||
      !policy_.may(c.principal, Action::manage_assignments, Target{adom, "", "", role->name})) {
    return deny(c, "create_grant", what);
  }
  return apply(c, "assignment.grant", what, [&](store::Tx& tx) {
    return ok_or(tx.exec("INSERT INTO identity_assignments (actor_type, actor_id, target_type, target_id, role_id) VALUES ($1, $2, $3, $4, $5) "
                         "ON CONFLICT (actor_type, actor_id, target_type, target_id, role_id) DO NOTHING",
                         {std::string(actor_text(a.actor_type)), a.actor_id, std::string(target_text(a.target_type)), a.target_id, a.role_id}));
  });
}

Status ServiceImpl::revoke_grant(const Caller& c, const Assignment& a) {
  auto s = snapshot();
  if (auto st = check_assignment_parts(*s, a); !st) { return st; }
  std::string tdom = target_domain(*s, a.target_type, a.target_id);
  std::string adom = actor_domain(*s, a.actor_type, a.actor_id);
  const Role* role = s->role(a.role_id);
  std::string what = std::string(actor_text(a.actor_type)) + ":" + a.actor_id + " role:" + role->name + " " + target_text(a.target_type) +
                     ":" + a.target_id;
  Target t{tdom, a.target_type == TargetType::project ? a.target_id : "", "", role->name};
  if (!policy_.may(c.principal, Action::manage_assignments, t) ||
      !policy_.may(c.principal, Action::manage_assignments, Target{adom, "", "", role->name})) {
    return deny(c, "revoke_grant", what);
  }
  bool found = false;
  for (const auto& x : s->assignments) {
    if (x.actor_type == a.actor_type && x.actor_id == a.actor_id && x.target_type == a.target_type && x.target_id == a.target_id &&
        x.role_id == a.role_id) {
      found = true;
    }
  }
  if (!found) { return make_error(Errc::not_found, "Could not find role assignment."); }
  return apply(c, "assignment.revoke", what, [&](store::Tx& tx) {
    return ok_or(tx.exec("DELETE FROM identity_assignments WHERE actor_type = $1 AND actor_id = $2 AND target_type = $3 AND target_id = $4 "
                         "AND role_id = $5",
                         {std::string(actor_text(a.actor_type)), a.actor_id, std::string(target_text(a.target_type)), a.target_id, a.role_id}));
  });
}

// --- catalog ----------------------------------------------------------------------------------

Result<Region> ServiceImpl::get_region(const Caller& c, std::string_view id) const {
  if (!policy_.may(c.principal, Action::read_catalog)) { return make_error(Errc::forbidden, "You are not authorized to perform the requested action."); }
  auto s = snapshot();
  auto it = s->regions.find(std::string(id));
  if (it == s->regions.end()) { return not_found("region", id); }
  return it->second;
}

Result<std::vector<Region>> ServiceImpl::list_regions(const Caller& c) const {
  if (!policy_.may(c.principal, Action::read_catalog)) { return make_error(Errc::forbidden, "You are not authorized to perform the requested action."); }
  auto s = snapshot();
  std::vector<Region> out;
  for (const auto& [id, r] : s->regions) { out.push_back(r); }
  return out;
}

Result<Service> ServiceImpl::get_service(const Caller& c, std::string_view id) const {
  if (!policy_.may(c.principal, Action::read_catalog)) { return make_error(Errc::forbidden, "You are not authorized to perform the requested action."); }
  auto s = snapshot();
  auto it = s->services.find(std::string(id));
  if (it == s->services.end()) { return not_found("service", id); }
  return it->second;
}

Result<std::vector<Service>> ServiceImpl::list_services(const Caller& c, std::string_view type, std::string_view name) const {
  if (!policy_.may(c.principal, Action::read_catalog)) { return make_error(Errc::forbidden, "You are not authorized to perform the requested action."); }
  auto s = snapshot();
  std::vector<Service> out;
  for (const auto& [id, svc] : s->services) {
    if ((type.empty() || svc.type == type) && (name.empty() || svc.name == name)) { out.push_back(svc); }
  }
  return out;
}

Result<Endpoint> ServiceImpl::get_endpoint(const Caller& c, std::string_view id) const {
  if (!policy_.may(c.principal, Action::read_catalog)) { return make_error(Errc::forbidden, "You are not authorized to perform the requested action."); }
  auto s = snapshot();
  auto it = s->endpoints.find(std::string(id));
  if (it == s->endpoints.end()) { return not_found("endpoint", id); }
  return it->second;
}

Result<std::vector<Endpoint>> ServiceImpl::list_endpoints(const Caller& c, std::string_view service_id, std::string_view interface,
                                                          std::string_view region_id) const {
  if (!policy_.may(c.principal, Action::read_catalog)) { return make_error(Errc::forbidden, "You are not authorized to perform the requested action."); }
  auto s = snapshot();
  std::vector<Endpoint> out;
  for (const auto& [id, e] : s->endpoints) {
    if ((service_id.empty() || e.service_id == service_id) && (interface.empty() || e.interface == interface) &&
        (region_id.empty() || e.region_id == region_id)) {
      out.push_back(e);
    }
  }
  return out;
}

Result<Region> ServiceImpl::create_region(const Caller& c, const NamedInput& in) {
  if (!policy_.may(c.principal, Action::manage_catalog)) { return deny(c, "create_region", in.id.value_or("")); }
  Region r{in.id.value_or(new_id()), in.description.value_or(""), in.parent_region_id.value_or("")};
  if (!valid_name(r.id)) { return bad("Invalid input for field 'id'."); }
  auto st = apply(c, "region.create", "region:" + r.id, [&](store::Tx& tx) {
    return ok_or(tx.exec("INSERT INTO identity_regions (id, description, parent_region_id) VALUES ($1, $2, $3)", {r.id, r.description, r.parent_region_id}));
  }, "region");
  if (!st) { return st.error(); }
  return r;
}

Status ServiceImpl::delete_region(const Caller& c, std::string_view id) {
  auto s = snapshot();
  if (s->regions.count(std::string(id)) == 0) { return not_found("region", id); }
  if (!policy_.may(c.principal, Action::manage_catalog)) { return deny(c, "delete_region", "region:" + std::string(id)); }
  for (const auto& [eid, e] : s->endpoints) {
    if (e.region_id == id) { return make_error(Errc::conflict, "The region is still used by endpoints."); }
  }
  std::string rid(id);
  return apply(c, "region.delete", "region:" + rid, [&](store::Tx& tx) { return ok_or(tx.exec("DELETE FROM identity_regions WHERE id = $1", {rid})); });
}

Result<Service> ServiceImpl::create_service(const Caller& c, const NamedInput& in) {
  if (!policy_.may(c.principal, Action::manage_catalog)) { return deny(c, "create_service", in.type.value_or("")); }
  if (!in.type || !valid_name(*in.type)) { return bad("Invalid input for field 'type'."); }
  Service svc{new_id(), *in.type, in.name.value_or(""), in.description.value_or(""), in.enabled.value_or(true)};
  auto st = apply(c, "service.create", "service:" + svc.id, [&](store::Tx& tx) {
    return ok_or(tx.exec("INSERT INTO identity_services (id, type, name, description, enabled) VALUES ($1, $2, $3, $4, $5)",
                         {svc.id, svc.type, svc.name, svc.description, std::int64_t{svc.enabled}}));
  });
  if (!st) { return st.error(); }
  return svc;
}

Result<Service> ServiceImpl::update_service(const Caller& c, std::string_view id, const NamedInput& in) {
  auto s = snapshot();
  auto it = s->services.find(std::string(id));
  if (it == s->services.end()) { return not_found("service", id); }
  if (!policy_.may(c.principal, Action::manage_catalog)) { return deny(c, "update_service", "service:" + std::string(id)); }
  Service svc = it->second;
  if (in.type) { svc.type = *in.type; }
  if (in.name) { svc.name = *in.name; }
  if (in.description) { svc.description = *in.description; }
  if (in.enabled) { svc.enabled = *in.enabled; }
  auto st = apply(c, "service.update", "service:" + svc.id, [&](store::Tx& tx) {
    return ok_or(tx.exec("UPDATE identity_services SET type = $2, name = $3, description = $4, enabled = $5 WHERE id = $1",
                         {svc.id, svc.type, svc.name, svc.description, std::int64_t{svc.enabled}}));
  });
  if (!st) { return st.error(); }
  return svc;
}

Status ServiceImpl::delete_service(const Caller& c, std::string_view id) {
  auto s = snapshot();
  if (s->services.count(std::string(id)) == 0) { return not_found("service", id); }
  if (!policy_.may(c.principal, Action::manage_catalog)) { return deny(c, "delete_service", "service:" + std::string(id)); }
  std::string sid(id);
  return apply(c, "service.delete", "service:" + sid, [&](store::Tx& tx) -> Status {
    if (auto st = ok_or(tx.exec("DELETE FROM identity_endpoints WHERE service_id = $1", {sid})); !st) { return st; }
    return ok_or(tx.exec("DELETE FROM identity_services WHERE id = $1", {sid}));
  });
}

static Status check_endpoint(const model::Snapshot& s, const Endpoint& e) {
  if (e.interface != "public" && e.interface != "internal" && e.interface != "admin") {
    return bad("Invalid input for field 'interface': expected public, internal or admin.");
  }
  if (s.services.count(e.service_id) == 0) { return bad("Could not find service: " + e.service_id + "."); }
  if (!e.region_id.empty() && s.regions.count(e.region_id) == 0) { return bad("Could not find region: " + e.region_id + "."); }
  if (!(e.url.starts_with("http://") || e.url.starts_with("https://"))) { return bad("Invalid input for field 'url'."); }
  return {};
}

Result<Endpoint> ServiceImpl::create_endpoint(const Caller& c, const EndpointInput& in) {
  if (!policy_.may(c.principal, Action::manage_catalog)) { return deny(c, "create_endpoint", in.url.value_or("")); }
  if (!in.service_id || !in.interface || !in.url) { return bad("An endpoint needs service_id, interface and url."); }
  Endpoint e{new_id(), *in.service_id, *in.interface, in.region_id.value_or(""), *in.url, in.enabled.value_or(true)};
  if (auto st = check_endpoint(*snapshot(), e); !st) { return st.error(); }
  auto st = apply(c, "endpoint.create", "endpoint:" + e.id, [&](store::Tx& tx) {
    return ok_or(tx.exec("INSERT INTO identity_endpoints (id, service_id, interface, region_id, url, enabled) VALUES ($1, $2, $3, $4, $5, $6)",
                         {e.id, e.service_id, e.interface, e.region_id, e.url, std::int64_t{e.enabled}}));
  });
  if (!st) { return st.error(); }
  return e;
}

Result<Endpoint> ServiceImpl::update_endpoint(const Caller& c, std::string_view id, const EndpointInput& in) {
  auto s = snapshot();
  auto it = s->endpoints.find(std::string(id));
  if (it == s->endpoints.end()) { return not_found("endpoint", id); }
  if (!policy_.may(c.principal, Action::manage_catalog)) { return deny(c, "update_endpoint", "endpoint:" + std::string(id)); }
  Endpoint e = it->second;
  if (in.service_id) { e.service_id = *in.service_id; }
  if (in.interface) { e.interface = *in.interface; }
  if (in.region_id) { e.region_id = *in.region_id; }
  if (in.url) { e.url = *in.url; }
  if (in.enabled) { e.enabled = *in.enabled; }
  if (auto st = check_endpoint(*s, e); !st) { return st.error(); }
  auto st = apply(c, "endpoint.update", "endpoint:" + e.id, [&](store::Tx& tx) {
    return ok_or(tx.exec("UPDATE identity_endpoints SET service_id = $2, interface = $3, region_id = $4, url = $5, enabled = $6 WHERE id = $1",
                         {e.id, e.service_id, e.interface, e.region_id, e.url, std::int64_t{e.enabled}}));
  });
  if (!st) { return st.error(); }
  return e;
}

Status ServiceImpl::delete_endpoint(const Caller& c, std::string_view id) {
  auto s = snapshot();
  if (s->endpoints.count(std::string(id)) == 0) { return not_found("endpoint", id); }
  if (!policy_.may(c.principal, Action::manage_catalog)) { return deny(c, "delete_endpoint", "endpoint:" + std::string(id)); }
  std::string eid(id);
  return apply(c, "endpoint.delete", "endpoint:" + eid, [&](store::Tx& tx) { return ok_or(tx.exec("DELETE FROM identity_endpoints WHERE id = $1", {eid})); });
}

}  // namespace ciel::identity
