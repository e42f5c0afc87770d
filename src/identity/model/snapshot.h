// identity/model/snapshot.h: the identity model held in memory. One immutable Snapshot is built
// from SQL at start and after every identity mutation; readers take a shared_ptr to the current
// one, so token validation and every read work without a database round trip. Derived indexes
// (names, group members, effective roles with implied roles expanded, the catalog) are computed
// once per snapshot.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/result.h"
#include "identity/identity.h"

namespace ciel::store {
class Tx;
}

namespace ciel::identity::model {

struct Snapshot {
  std::unordered_map<std::string, Domain> domains;
  std::unordered_map<std::string, Project> projects;
  std::unordered_map<std::string, User> users;
  std::unordered_map<std::string, Group> groups;
  std::unordered_map<std::string, Role> roles;
  std::vector<std::pair<std::string, std::string>> implications;  // prior role id -> implied role id
  std::vector<Assignment> assignments;
  std::unordered_map<std::string, std::set<std::string>> group_users;  // group -> users
  std::unordered_map<std::string, std::set<std::string>> user_groups;  // user -> groups
  std::unordered_map<std::string, AppCredential> app_creds;
  std::unordered_map<std::string, Ec2Credential> ec2;  // by access key
  std::map<std::string, Region> regions;
  std::map<std::string, Service> services;
  std::map<std::string, Endpoint> endpoints;

  // derived
  std::unordered_map<std::string, std::string> domain_by_name;   // name -> id
  std::unordered_map<std::string, std::string> role_by_name;     // name -> id
  std::unordered_map<std::string, std::string> user_by_name;     // domain_id + '\n' + name -> id
  std::unordered_map<std::string, std::string> project_by_name;  // domain_id + '\n' + name -> id
  // (user, 'p'|'d', target) -> effective role ids, implied roles included, sorted.
  std::unordered_map<std::string, std::vector<std::string>> effective;
  std::unordered_map<std::string, std::set<std::string>> implied_closure;  // role id -> itself and all it implies
  std::string catalog_json;             // rendered, with %(project_id)s left in endpoint URLs
  std::string catalog_json_no_project;  // without the endpoints that need a project id

  static std::string effective_key(std::string_view user, TargetType t, std::string_view target) {
    std::string k;
    k.reserve(user.size() + target.size() + 3);
    k.append(user).push_back('|');
    k.push_back(t == TargetType::project ? 'p' : 'd');
    k.push_back('|');
    k.append(target);
    return k;
  }
  const std::vector<std::string>* roles_of(std::string_view user, TargetType t, std::string_view target) const {
    auto it = effective.find(effective_key(user, t, target));
    return it == effective.end() ? nullptr : &it->second;
  }
  const Domain* domain(std::string_view id) const;
  const Project* project(std::string_view id) const;
  const User* user(std::string_view id) const;
  const Group* group(std::string_view id) const;
  const Role* role(std::string_view id) const;
};

// Secret decryption for EC2 credentials (sealed at rest under the credential key).
using Unsealer = std::function<std::string(std::string_view sealed)>;

Result<std::shared_ptr<Snapshot>> load_snapshot(store::Tx& tx, const Unsealer& unseal);

}  // namespace ciel::identity::model
