// ACL headers as Swift clients send them, validated and normalised before the engine stores them.
#include "object/engine/acl.h"
#include "object/swift/common.h"

namespace ciel::object::swift {

Result<std::string> normalize_account_acl(std::string_view json) {
  auto acl = parse_account_acl(json);
  if (!acl) { return acl.error(); }
  return format_account_acl(*acl);
}

Result<std::string> normalize_container_acl(std::string_view header, bool write_acl) {
  auto acl = parse_container_acl(header, write_acl);
  if (!acl) { return acl.error(); }
  return format_container_acl(*acl);
}

}  // namespace ciel::object::swift
