// Fuzzes the Keystone v3 request-body parsers (identity/keystone/parse.h): the input is a request
// body, read as the handlers read it (parse_json_body), and every parser runs on the object.
// Whatever the input, a parser either fails with a client error carrying a message, or returns
// an input that satisfies what the identity service relies on (an authentication names at least
// one supported method and whom it is for, a scope names its target, ...).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "identity/keystone/parse.h"
#include "fuzz_check.h"

namespace {

namespace ks = ciel::identity::keystone;
using ciel::Errc;
using ciel::identity::AuthRequest;

template <class R>
void check_rejection(const R& r) {
  if (r) { return; }
  FUZZ_CHECK(r.error().code == Errc::invalid_argument);
  FUZZ_CHECK(!r.error().message.empty());
}

bool has_user(const AuthRequest& a) {
  return !a.user_id.empty() || (!a.user_name.empty() && (!a.user_domain_id.empty() || !a.user_domain_name.empty()));
}

void check_auth(const ks::json::object& body) {
  auto r = ks::parse_auth(body);
  check_rejection(r);
  if (!r) { return; }
  const AuthRequest& a = *r;
  FUZZ_CHECK(!a.methods.empty());
  for (const auto& m : a.methods) {
    if (m == "password") {
      FUZZ_CHECK(has_user(a));
    } else if (m == "application_credential") {
      FUZZ_CHECK(!a.app_cred_id.empty() || (!a.app_cred_name.empty() && has_user(a)));
    } else {
      FUZZ_CHECK(m == "token");
    }
  }
  switch (a.scope) {
    case AuthRequest::Scope::none:
      break;
    case AuthRequest::Scope::project:
      FUZZ_CHECK(!a.project_id.empty() || (!a.project_name.empty() && (!a.project_domain_id.empty() || !a.project_domain_name.empty())));
      break;
    case AuthRequest::Scope::domain:
      FUZZ_CHECK(!a.domain_id.empty() || !a.domain_name.empty());
      break;
    case AuthRequest::Scope::system:
      break;
  }
  if (a.unscoped) { FUZZ_CHECK(a.scope == AuthRequest::Scope::none); }
}

void check_app_cred(const ks::json::object& body) {
  ciel::identity::Principal me;
  me.user_id = "u1";
  me.scope = ciel::identity::ScopeType::project;
  me.project_id = "p1";
  me.roles = {{"r-member", "member"}, {"r-reader", "reader"}};
  auto r = ks::parse_app_cred(body, me);
  if (!r) {
    // A role named but not held is refused as forbidden; everything else is a malformed body.
    FUZZ_CHECK(r.error().code == Errc::invalid_argument || r.error().code == Errc::forbidden);
    FUZZ_CHECK(!r.error().message.empty());
    return;
  }
  if (r->role_ids) {
    for (const auto& id : *r->role_ids) { FUZZ_CHECK(!id.empty()); }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto body = ks::parse_json_body(text);
  check_rejection(body);
  if (!body) { return 0; }
  const ks::json::object& o = *body;

  check_auth(o);
  check_rejection(ks::parse_user(o));
  if (auto p = ks::parse_project(o)) {
    // A parent equal to the domain is a top-level project: the parent is dropped.
    FUZZ_CHECK(!(p->parent_id && p->domain_id && *p->parent_id == *p->domain_id));
  } else {
    check_rejection(p);
  }
  check_rejection(ks::parse_domain(o));
  check_rejection(ks::parse_group(o));
  if (auto r = ks::parse_role(o)) {
    FUZZ_CHECK(!r->domain_id);  // domain-specific roles are refused
  } else {
    check_rejection(r);
  }
  check_rejection(ks::parse_service(o));
  check_rejection(ks::parse_endpoint(o));
  check_app_cred(o);
  return 0;
}
