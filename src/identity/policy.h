// identity/policy.h: the one place that decides "may this principal do this action on
// this target". Handlers and engines ask it; nobody else looks at role names.
//
// Semantics (Keystone's defaults, with Ciel's single-node reading of "system"):
//  * roles nest: admin implies member, member implies reader (the token carries them expanded);
//  * a cloud admin holds `admin` on the admin project (identity.admin_project): everything;
//  * a domain admin holds `admin` in a domain-scoped token: manages projects, users, groups and
//    role assignments inside that domain, nothing outside it; domain readers read there;
//  * a project-scoped principal reads its own project; members may write the project's
//    resources (objects, servers), readers only read them;
//  * everyone manages their own credentials and password (creating credentials needs member);
//  * the `service` role (service tokens) may validate tokens and S3 signatures, and read EC2
//    credentials (swift's s3token caches their secrets).
// Immutable after construction; thread-safe.
#pragma once
#include <string>
#include <string_view>

#include "identity/principal.h"

namespace ciel::identity {

enum class Action {
  // identity administration
  read_domain, list_domains, manage_domains,
  read_project, list_projects, manage_projects,
  read_user, list_users, manage_users,
  read_group, list_groups, manage_groups,
  read_role, manage_roles,
  list_assignments, manage_assignments,
  read_catalog, manage_catalog,
  // self-service
  read_own_credentials, manage_own_credentials, change_own_password,
  validate_token, revoke_token, validate_s3_signature, read_audit,
  // project resources of other services (objects, servers, volumes...)
  read_project_resources, write_project_resources,
};

std::string_view action_name(Action a);

// What is acted on. Empty fields are "not applicable".
struct Target {
  std::string domain_id;   // the domain the target lives in (a project's, user's, group's domain)
  std::string project_id;  // the project it lives in, or the project itself
  std::string user_id;     // the owner, for self-service actions
  std::string role_name;   // for assignments: the role being granted
};

class Policy {
 public:
  explicit Policy(std::string admin_project_id = {}) : admin_project_id_(std::move(admin_project_id)) {}
  // Set once at startup (after bootstrap), before any request is served.
  void set_admin_project(std::string id) { admin_project_id_ = std::move(id); }
  const std::string& admin_project() const { return admin_project_id_; }

  bool may(const Principal& p, Action action, const Target& target = {}) const;

  // Building blocks, exposed for listings that filter rather than refuse.
  bool is_cloud_admin(const Principal& p) const;
  bool is_domain_admin(const Principal& p, std::string_view domain_id) const;
  bool is_domain_reader(const Principal& p, std::string_view domain_id) const;
  bool is_service(const Principal& p) const;
  static bool has_role(const Principal& p, std::string_view name);

 private:
  std::string admin_project_id_;
};

}  // namespace ciel::identity
