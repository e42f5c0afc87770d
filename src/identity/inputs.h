// identity/inputs.h: what a caller asks the identity service for: an authentication request and
// the create/update inputs of each resource.
// Plain value types, shared by IdentityService and the Keystone body parsers
// (identity/keystone/parse.h), which build them without depending on the service.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ciel::identity {

// What a password/token/application-credential authentication asks for.
struct AuthRequest {
  std::vector<std::string> methods;
  // password
  std::string user_id, user_name, user_domain_id, user_domain_name, password;
  // token
  std::string token;
  // application credential
  std::string app_cred_id, app_cred_name, app_cred_secret;
  // scope
  enum class Scope { none, project, domain, system } scope = Scope::none;
  std::string project_id, project_name, project_domain_id, project_domain_name;
  std::string domain_id, domain_name;
  bool unscoped = false;  // "scope": "unscoped" was given explicitly
};

struct UserInput {
  std::optional<std::string> name, domain_id, default_project_id, description, email, password;
  std::optional<bool> enabled;
};
struct ProjectInput {
  std::optional<std::string> name, domain_id, description, parent_id;
  std::optional<bool> enabled;
  std::optional<std::vector<std::string>> tags;
};
struct NamedInput {  // domains, groups, roles, regions, services
  std::optional<std::string> id, name, domain_id, description, type, parent_region_id;
  std::optional<bool> enabled;
};
struct EndpointInput {
  std::optional<std::string> service_id, interface, region_id, url;
  std::optional<bool> enabled;
};
struct AppCredentialInput {
  std::string name, description, secret;
  std::optional<std::vector<std::string>> role_ids;  // default: the caller's current roles
  std::optional<std::int64_t> expires_at;
  bool unrestricted = false;
};

}  // namespace ciel::identity
