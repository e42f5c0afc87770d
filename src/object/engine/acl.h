// object/engine/acl.h: Swift's access control lists, parsed, normalised and evaluated.
// Container ACLs are the X-Container-Read / X-Container-Write headers (swift/common/middleware/acl.py:
// clean_acl, parse_acl, referrer_allowed); account ACLs are the JSON X-Account-Access-Control header
// (tempauth's v2 ACLs). Who a user is comes from identity: project and user ids and names.
// Pure functions; parse failures are Errc::invalid_argument with Swift's message (Swift answers 400).
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace ciel::object {

// One ".r:" item. `host` is "*" (any referrer), "www.example.com" (that host) or ".example.com"
// (any host ending so; written ".r:.example.com" or ".r:*.example.com").
struct ReferrerRule {
  bool allow = true;  // false for ".r:-host"
  std::string host;
  bool operator==(const ReferrerRule&) const = default;
};

struct ContainerAcl {
  std::vector<ReferrerRule> referrers;  // in the order given: the last matching rule wins
  bool listings = false;                // ".rlistings": referrer access may also list the container
  std::vector<std::string> grants;      // "project:user", "project:*", "*:user", "*:*" or a bare "project"; ids or names
  bool operator==(const ContainerAcl&) const = default;
};

// Swift's clean_acl: comma-separated items, whitespace trimmed, empty items dropped; ".r:", ".ref:",
// ".referer:" and ".referrer:" all mean ".r:"; ".r:*.example.com" becomes ".r:.example.com".
// Errors, with Python's repr() of the item:
//   "No host/domain value after referrer designation in ACL: '.r:'"
//   "Referrers not allowed in write ACL: '.r:*'"            (when `write_acl`)
//   "Unknown designator '.x' in ACL: '.x:y'"                 (any other item starting with '.'
//                                                              but ".rlistings"; Swift would keep
//                                                              a colon-less ".x" as a group name)
Result<ContainerAcl> parse_container_acl(std::string_view header, bool write_acl = false);

// The normalised header value Swift stores and echoes: referrer rules, then ".rlistings", then the
// grants, joined by ','. (Swift keeps the client's item order; the referrer order, which is the one
// that matters, is kept.) parse_container_acl(format_container_acl(a)) == a for any parsed `a`.
std::string format_container_acl(const ContainerAcl& acl);

// Swift's referrer_allowed: the host of the Referer URL ("unknown" when there is none) against each
// rule in order, the last match deciding; false when nothing matches or there are no rules. Hosts
// compare case-insensitively.
bool referrer_allowed(const ContainerAcl& acl, std::string_view referer_header);

// Whether one of the grants names this user: "project:user" with either part an id, a name or "*",
// or a bare project id or name (any user of that project). Empty ids or names never match.
bool grants_user(const ContainerAcl& acl, std::string_view project_id, std::string_view project_name,
                 std::string_view user_id, std::string_view user_name);

struct AccountAcl {
  std::vector<std::string> admin;
  std::vector<std::string> read_write;
  std::vector<std::string> read_only;
  bool operator==(const AccountAcl&) const = default;
};

// X-Account-Access-Control: {"admin":[...],"read-write":[...],"read-only":[...]}, every key optional;
// an empty header is an empty ACL. Errors (tempauth's messages):
//   "Syntax error in input ('<header>')"         not JSON, or not a JSON object
//   "Key \"x\" not recognized"
//   "Value for key \"admin\" must be a list"
//   "Elements of \"admin\" list must be strings"
Result<AccountAcl> parse_account_acl(std::string_view header);

// The stored form: JSON with sorted keys, no spaces, non-ASCII escaped; empty lists are left out
// ("{}" for an empty ACL). parse_account_acl(format_account_acl(a)) == a.
std::string format_account_acl(const AccountAcl& acl);

enum class AccountAccess { none, read_only, read_write, admin };

// The strongest level whose list names the user (entries match as in grants_user).
AccountAccess account_access(const AccountAcl& acl, std::string_view project_id, std::string_view project_name,
                             std::string_view user_id, std::string_view user_name);

}  // namespace ciel::object
