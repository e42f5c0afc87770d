#include "object/swift/common.h"

namespace ciel::object::swift {

void add_routes(http::Router& router, ObjectService& objects, identity::IdentityService& identity, const Options& options) {
  // The route handlers hold a reference to one Deps for the life of the process.
  static std::vector<std::unique_ptr<Deps>> all_deps;
  all_deps.push_back(std::make_unique<Deps>(Deps{objects, identity, options}));
  const Deps& deps = *all_deps.back();
  add_auth_routes(router, deps);
  add_account_routes(router, deps);
  add_container_routes(router, deps);
  add_object_routes(router, deps);
}

}  // namespace ciel::object::swift
