#include "identity/policy.h"

namespace ciel::identity {

std::string_view action_name(Action a) {
  switch (a) {
    case Action::read_domain: return "read_domain";
    case Action::list_domains: return "list_domains";
    case Action::manage_domains: return "manage_domains";
    case Action::read_project: return "read_project";
    case Action::list_projects: return "list_projects";
    case Action::manage_projects: return "manage_projects";
    case Action::read_user: return "read_user";
    case Action::list_users: return "list_users";
    case Action::manage_users: return "manage_users";
    case Action::read_group: return "read_group";
    case Action::list_groups: return "list_groups";
    case Action::manage_groups: return "manage_groups";
    case Action::read_role: return "read_role";
    case Action::manage_roles: return "manage_roles";
    case Action::list_assignments: return "list_assignments";
    case Action::manage_assignments: return "manage_assignments";
    case Action::read_catalog: return "read_catalog";
    case Action::manage_catalog: return "manage_catalog";
    case Action::read_own_credentials: return "read_own_credentials";
    case Action::manage_own_credentials: return "manage_own_credentials";
    case Action::change_own_password: return "change_own_password";
    case Action::validate_token: return "validate_token";
    case Action::revoke_token: return "revoke_token";
    case Action::validate_s3_signature: return "validate_s3_signature";
    case Action::read_audit: return "read_audit";
    case Action::read_project_resources: return "read_project_resources";
    case Action::write_project_resources: return "write_project_resources";
  }
  return "unknown";
}

bool Policy::has_role(const Principal& p, std::string_view name) {
  for (const auto& r : p.roles) {
    if (r.name == name) { return true; }
  }
  return false;
}

bool Policy::is_cloud_admin(const Principal& p) const {
  return p.scope == ScopeType::project && !admin_project_id_.empty() && p.project_id == admin_project_id_ && has_role(p, "admin");
}

bool Policy::is_domain_admin(const Principal& p, std::string_view domain_id) const {
  return p.scope == ScopeType::domain && !domain_id.empty() && p.domain_id == domain_id && has_role(p, "admin");
}

bool Policy::is_domain_reader(const Principal& p, std::string_view domain_id) const {
  return p.scope == ScopeType::domain && !domain_id.empty() && p.domain_id == domain_id &&
         (has_role(p, "reader") || has_role(p, "member") || has_role(p, "admin"));
}

bool Policy::is_service(const Principal& p) const { return has_role(p, "service"); }

bool Policy::may(const Principal& p, Action action, const Target& t) const {
  if (!p.authenticated()) { return false; }
  if (is_cloud_admin(p)) { return true; }
  const bool self = !t.user_id.empty() && t.user_id == p.user_id;
  const bool on_project = p.scope == ScopeType::project && !t.project_id.empty() && p.project_id == t.project_id;
  const bool reader = has_role(p, "reader") || has_role(p, "member") || has_role(p, "admin");
  const bool member = has_role(p, "member") || has_role(p, "admin");
  switch (action) {
    case Action::read_domain:
      return !t.domain_id.empty() && (p.domain_id == t.domain_id || p.user_domain_id == t.domain_id);
    case Action::list_domains:
      return true;  // the service lists only the caller's own domains
    case Action::manage_domains:
    case Action::manage_roles:
    case Action::manage_catalog:
    case Action::read_audit:
      return false;
    case Action::read_project:
      return is_domain_reader(p, t.domain_id) || on_project;
    case Action::list_projects:
    case Action::list_users:
    case Action::list_groups:
    case Action::read_group:
      return is_domain_reader(p, t.domain_id);
    case Action::manage_projects:
    case Action::manage_users:
    case Action::manage_groups:
      return is_domain_admin(p, t.domain_id);
    case Action::read_user:
      return self || is_domain_reader(p, t.domain_id);
    case Action::read_role:
    case Action::read_catalog:
      return true;
    case Action::list_assignments:
      return self || is_domain_reader(p, t.domain_id) || (on_project && has_role(p, "admin"));
    case Action::manage_assignments:
      // A domain admin cannot grant on the admin project: that would make a cloud admin.
      return is_domain_admin(p, t.domain_id) && (t.project_id.empty() || t.project_id != admin_project_id_);
    case Action::read_own_credentials:
      return self || is_service(p);  // swift's s3token caches EC2 secrets with its service token
    case Action::manage_own_credentials:
      return self && member && p.app_cred_id.empty();
    case Action::change_own_password:
      return self && p.app_cred_id.empty();
    case Action::validate_token:
    case Action::revoke_token:
      return self || is_service(p);
    case Action::validate_s3_signature:
      return is_service(p);
    case Action::read_project_resources:
      return on_project && reader;
    case Action::write_project_resources:
      return on_project && member;
  }
  return false;
}

}  // namespace ciel::identity
