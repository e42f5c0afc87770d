// identity/principal.h: who a request acts as, after its token (or EC2 credential) has been
// checked: the user, the scope and the effective roles (implied roles expanded). Value type.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/time.h"

namespace ciel::identity {

struct RoleRef {
  std::string id;
  std::string name;
};

enum class ScopeType { none, project, domain };

struct Principal {
  std::string user_id, user_name, user_domain_id, user_domain_name;
  ScopeType scope = ScopeType::none;
  std::string project_id, project_name;     // project scope
  std::string domain_id, domain_name;       // domain scope, or the project's domain for project scope
  std::vector<RoleRef> roles;               // effective on the scope, implied roles included
  std::vector<std::string> methods;         // "password", "token", "application_credential"
  std::string audit_id;                     // base64url, 22 chars
  std::string audit_chain_id;               // the original token's audit id when rescoped
  std::string app_cred_id, app_cred_name;   // set for application-credential tokens
  SystemTime issued_at{};
  SystemTime expires_at{};
  bool authenticated() const { return !user_id.empty(); }
};

}  // namespace ciel::identity
