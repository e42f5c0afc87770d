// object/engine/authorize.h: who may do what in the object store. The one place that reads
// account and container ACLs; identity::Policy decides what the account owner's roles allow.
// Used by the engine only (front-ends never decide access).
#pragma once
#include <string_view>

#include "core/result.h"
#include "object/engine/object_service.h"

namespace ciel::identity {
class Policy;
}

namespace ciel::object {

enum class Op {
  account_read,      // HEAD/GET account, list containers
  account_write,     // account metadata
  account_admin,     // account ACLs and other system metadata
  container_create,
  container_read,    // HEAD container
  container_list,    // GET container
  container_write,   // container metadata, ACLs, DELETE
  object_read,
  object_write,      // PUT, POST, DELETE, COPY destination
};

// The account's owner (a project member, readers for reads) or a cloud admin; or a signature
// checked for this project by the front-end, for object reads and writes.
bool owner_may(const identity::Policy& policy, const Access& a, Op op, std::string_view project_id);

// The whole decision: owner, then account ACL (`account`), then container ACLs (`container`,
// null for account-level operations or a container that does not exist). Errc::unauthenticated
// for an anonymous caller that gets nothing, Errc::forbidden otherwise.
Status authorize(const identity::Policy& policy, const Access& a, Op op, std::string_view project_id, const AccountInfo* account,
                 const ContainerInfo* container);

}  // namespace ciel::object
