#include "identity/keystone/common.h"

namespace ciel::identity::keystone {

void add_routes(http::Router& router, IdentityService& identity, const Options& options) {
  // The routes keep a reference to one Deps for the router's lifetime (the whole process).
  static std::vector<std::unique_ptr<Deps>> all;
  all.push_back(std::make_unique<Deps>(Deps{identity, options}));
  Deps& d = *all.back();
  add_version_routes(router, d);
  add_auth_routes(router, d);
  add_domain_routes(router, d);
  add_project_routes(router, d);
  add_user_routes(router, d);
  add_group_routes(router, d);
  add_role_routes(router, d);
  add_assignment_routes(router, d);
  add_credential_routes(router, d);
  add_catalog_routes(router, d);
  add_audit_routes(router, d);
}

}  // namespace ciel::identity::keystone
