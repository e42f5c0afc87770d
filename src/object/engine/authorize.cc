#include "object/engine/authorize.h"

#include "identity/policy.h"
#include "identity/principal.h"
#include "object/engine/acl.h"

namespace ciel::object {
namespace {

bool is_read(Op op) {
  return op == Op::account_read || op == Op::container_read || op == Op::container_list || op == Op::object_read;
}

const std::string* sys_value(const Metadata& m, std::string_view key) {
  auto it = m.find(std::string(key));
  return it == m.end() || it->second.empty() ? nullptr : &it->second;
}

// What the account ACL gives this principal.
AccountAccess account_level(const identity::Principal& p, const AccountInfo* account) {
  if (account == nullptr) { return AccountAccess::none; }
  const std::string* text = sys_value(account->sys, "access-control");
  if (text == nullptr) { return AccountAccess::none; }
  auto acl = parse_account_acl(*text);
  if (!acl) { return AccountAccess::none; }
  return account_access(*acl, p.project_id, p.project_name, p.user_id, p.user_name);
}

bool account_grants(AccountAccess level, Op op) {
  switch (level) {
    case AccountAccess::admin: return true;
    case AccountAccess::read_write: return op != Op::account_write && op != Op::account_admin && op != Op::container_admin;
    case AccountAccess::read_only: return is_read(op);
    case AccountAccess::none: return false;
  }
  return false;
}

// What the container's read and write ACLs give: users named in them, and referrers; and S3's
// anonymous write flag.
bool container_grants(const Access& a, Op op, const ContainerInfo& c) {
  const bool read_op = op == Op::object_read || op == Op::container_read || op == Op::container_list;
  if (read_op) {
    if (const std::string* text = sys_value(c.sys, kSysReadAcl)) {
      if (auto acl = parse_container_acl(*text, false)) {
        const identity::Principal* p = a.principal;
        if (p != nullptr && grants_user(*acl, p->project_id, p->project_name, p->user_id, p->user_name)) { return true; }
        // Referrer rules open objects to anyone; listings only with ".rlistings".
        if ((op == Op::object_read || acl->listings) && referrer_allowed(*acl, a.referer)) { return true; }
      }
    }
  }
  // S3's public-read-write: writes by anyone, as a referrer rule opens reads to anyone.
  if (op == Op::object_write) {
    if (const std::string* v = sys_value(c.sys, kSysS3AnonymousWrite); v != nullptr && *v == "1") { return true; }
  }
  if (op == Op::object_write && a.principal != nullptr) {
    if (const std::string* text = sys_value(c.sys, kSysWriteAcl)) {
      if (auto acl = parse_container_acl(*text, true)) {
        const identity::Principal* p = a.principal;
        if (grants_user(*acl, p->project_id, p->project_name, p->user_id, p->user_name)) { return true; }
      }
    }
  }
  return false;
}

}  // namespace

bool owner_may(const identity::Policy& policy, const Access& a, Op op, std::string_view project_id) {
  // A signature covers one object call; a large object's segments (and a DLO's listing) are
  // read as part of it.
  if (!a.signed_for_project.empty() && a.signed_for_project == project_id &&
      (op == Op::object_read || op == Op::object_write || (op == Op::container_list && a.large_object_read))) {
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
  if (a.principal != nullptr && a.principal->authenticated() && account_grants(account_level(*a.principal, account), op)) { return {}; }
  if (container != nullptr && container_grants(a, op, *container)) { return {}; }
  if (a.principal == nullptr) { return make_error(Errc::unauthenticated, "Unauthorized"); }
  return make_error(Errc::forbidden, "Forbidden");
}

}  // namespace ciel::object
