#include "object/engine/authorize.h"

#include "identity/policy.h"
#include "identity/principal.h"

namespace ciel::object {
namespace {

bool is_read(Op op) {
  return op == Op::account_read || op == Op::container_read || op == Op::container_list || op == Op::object_read;
}

}  // namespace

bool owner_may(const identity::Policy& policy, const Access& a, Op op, std::string_view project_id) {
  if (!a.signed_for_project.empty() && a.signed_for_project == project_id && (op == Op::object_read || op == Op::object_write)) {
    return true;
  }
  if (a.principal == nullptr) { return false; }
  identity::Target t;
  t.project_id = std::string(project_id);
  return policy.may(*a.principal, is_read(op) ? identity::Action::read_project_resources : identity::Action::write_project_resources, t);
}

Status authorize(const identity::Policy& policy, const Access& a, Op op, std::string_view project_id, const AccountInfo* account,
                 const ContainerInfo* container) {
  if (owner_may(policy, a, op, project_id)) { return {}; }
  (void)account;
  (void)container;
  if (a.principal == nullptr) { return make_error(Errc::unauthenticated, "Unauthorized"); }
  return make_error(Errc::forbidden, "Forbidden");
}

}  // namespace ciel::object
