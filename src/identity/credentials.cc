// Application credentials (hashed secrets, a subset of the owner's roles on one project) and
// EC2 credentials (access key + secret, the secret sealed at rest under the credential key).
#include "core/crypto/crypto.h"
#include "identity/service_impl.h"

namespace ciel::identity {
namespace {

// The signature an S3 client computed over `string_to_sign` with `secret`: SigV4 when the string
// starts with AWS4-HMAC-SHA256 (the scope is on its third line), SigV2 (HMAC-SHA1) otherwise.
std::string expected_signature(const std::string& secret, std::string_view sts_view) {
  std::string sts(sts_view);
  if (sts.starts_with("AWS4-HMAC-SHA256\n")) {
    std::vector<std::string> lines;
    std::size_t start = 0;
    for (;;) {
      auto nl = sts.find('\n', start);
      lines.push_back(sts.substr(start, nl == std::string::npos ? std::string::npos : nl - start));
      if (nl == std::string::npos) { break; }
      start = nl + 1;
    }
    if (lines.size() < 4) { return {}; }
    std::vector<std::string> scope;
    start = 0;
    const std::string& sc = lines[2];
    for (;;) {
      auto sl = sc.find('/', start);
      scope.push_back(sc.substr(start, sl == std::string::npos ? std::string::npos : sl - start));
      if (sl == std::string::npos) { break; }
      start = sl + 1;
    }
    if (scope.size() != 4 || (scope[2] != "s3" && scope[2] != "iam" && scope[2] != "sts")) { return {}; }
    std::string k = crypto::hmac_sha256("AWS4" + secret, scope[0]);
    k = crypto::hmac_sha256(k, scope[1]);
    k = crypto::hmac_sha256(k, scope[2]);
    k = crypto::hmac_sha256(k, scope[3]);
    return crypto::hex(crypto::hmac_sha256(k, sts));
  }
  return crypto::base64(crypto::hmac_sha1(secret, sts));
}

Error forbidden(std::string_view what) {
  return make_error(Errc::forbidden, "You are not authorized to perform the requested action: identity:" + std::string(what) + ".");
}

}  // namespace

Result<Principal> ServiceImpl::check_ec2_signature(std::string_view access, std::string_view string_to_sign,
                                                   std::string_view signature) const {
  auto unauthorized = make_error(Errc::unauthenticated, "The request you have made requires authentication.");
  auto cred = find_ec2_credential(access);
  if (!cred) { return unauthorized; }
  std::string want = expected_signature(cred->secret, string_to_sign);
  if (want.empty() || !crypto::constant_time_equals(want, signature)) { return unauthorized; }
  return principal_for_ec2(*cred);
}

Result<AppCredential> ServiceImpl::get_app_credential(const Caller& c, std::string_view user_id, std::string_view id) const {
  auto s = snapshot();
  const User* u = s->user(user_id);
  if (u == nullptr) { return make_error(Errc::not_found, "Could not find user: " + std::string(user_id) + "."); }
  if (!policy_.may(c.principal, Action::read_own_credentials, Target{u->domain_id, "", u->id, ""})) {
    return forbidden("get_application_credential");
  }
  auto it = s->app_creds.find(std::string(id));
  if (it == s->app_creds.end() || it->second.user_id != user_id) {
    return make_error(Errc::not_found, "Could not find Application Credential: " + std::string(id) + ".");
  }
  return it->second;
}

Result<std::vector<AppCredential>> ServiceImpl::list_app_credentials(const Caller& c, std::string_view user_id,
                                                                     std::string_view name) const {
  auto s = snapshot();
  const User* u = s->user(user_id);
  if (u == nullptr) { return make_error(Errc::not_found, "Could not find user: " + std::string(user_id) + "."); }
  if (!policy_.may(c.principal, Action::read_own_credentials, Target{u->domain_id, "", u->id, ""})) {
    return forbidden("list_application_credentials");
  }
  std::vector<AppCredential> out;
  for (const auto& [id, ac] : s->app_creds) {
    if (ac.user_id == user_id && (name.empty() || ac.name == name)) { out.push_back(ac); }
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

Result<std::pair<AppCredential, std::string>> ServiceImpl::create_app_credential(const Caller& c, std::string_view user_id,
                                                                                 const AppCredentialInput& in) {
  auto s = snapshot();
  const User* u = s->user(user_id);
  if (u == nullptr) { return make_error(Errc::not_found, "Could not find user: " + std::string(user_id) + "."); }
  // Application credentials belong to their owner only, even for administrators.
  if (c.principal.user_id != user_id ||
      !policy_.may(c.principal, Action::manage_own_credentials, Target{u->domain_id, c.principal.project_id, u->id, ""})) {
    return deny(c, "create_application_credential", "user:" + std::string(user_id));
  }
  if (c.principal.scope != ScopeType::project) {
    return make_error(Errc::invalid_argument, "An application credential must be created with a project-scoped token.");
  }
  if (!valid_name(in.name)) { return make_error(Errc::invalid_argument, "Invalid input for field 'name'."); }
  if (in.expires_at && *in.expires_at <= now_s()) {
    return make_error(Errc::invalid_argument, "Invalid input for field 'expires_at': the date is in the past.");
  }
  AppCredential ac;
  ac.id = new_id();
  ac.name = in.name;
  ac.description = in.description;
  ac.user_id = u->id;
  ac.project_id = c.principal.project_id;
  ac.unrestricted = in.unrestricted;
  ac.expires_at = in.expires_at;
  if (in.role_ids) {
    for (const auto& rid : *in.role_ids) {
      bool held = false;
      for (const auto& r : c.principal.roles) {
        if (r.id == rid) { held = true; }
      }
      if (!held) { return make_error(Errc::forbidden, "Cannot grant a role the user does not hold on the project: " + rid + "."); }
      ac.role_ids.push_back(rid);
    }
  } else {
    for (const auto& r : c.principal.roles) { ac.role_ids.push_back(r.id); }
  }
  if (ac.role_ids.empty()) { return make_error(Errc::invalid_argument, "An application credential needs at least one role."); }
  std::string secret = in.secret.empty() ? crypto::random_token(48) : in.secret;
  ac.secret_hash = hasher_.hash(secret);
  auto st = apply(c, "application_credential.create", "application_credential:" + ac.id, [&](store::Tx& tx) -> Status {
    auto r = tx.exec("INSERT INTO identity_app_creds (id, user_id, project_id, name, description, secret_hash, roles, unrestricted, "
                     "expires_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                     {ac.id, ac.user_id, ac.project_id, ac.name, ac.description, ac.secret_hash, json_string_list(ac.role_ids),
                      std::int64_t{ac.unrestricted}, ac.expires_at ? store::Value{*ac.expires_at} : store::null_value(), now_s()});
    if (!r) { return r.error(); }
    return {};
  }, "application credential");
  if (!st) { return st.error(); }
  return std::pair{ac, secret};
}

Status ServiceImpl::delete_app_credential(const Caller& c, std::string_view user_id, std::string_view id) {
  auto s = snapshot();
  const User* u = s->user(user_id);
  if (u == nullptr) { return make_error(Errc::not_found, "Could not find user: " + std::string(user_id) + "."); }
  if (!policy_.may(c.principal, Action::manage_own_credentials, Target{u->domain_id, c.principal.project_id, u->id, ""})) {
    return deny(c, "delete_application_credential", "application_credential:" + std::string(id));
  }
  auto it = s->app_creds.find(std::string(id));
  if (it == s->app_creds.end() || it->second.user_id != user_id) {
    return make_error(Errc::not_found, "Could not find Application Credential: " + std::string(id) + ".");
  }
  std::string aid(id);
  return apply(c, "application_credential.delete", "application_credential:" + aid, [&](store::Tx& tx) -> Status {
    auto r = tx.exec("DELETE FROM identity_app_creds WHERE id = $1", {aid});
    if (!r) { return r.error(); }
    return {};
  });
}

Result<Ec2Credential> ServiceImpl::get_ec2(const Caller& c, std::string_view user_id, std::string_view access) const {
  auto s = snapshot();
  const User* u = s->user(user_id);
  if (u == nullptr) { return make_error(Errc::not_found, "Could not find user: " + std::string(user_id) + "."); }
  if (!policy_.may(c.principal, Action::read_own_credentials, Target{u->domain_id, "", u->id, ""})) { return forbidden("ec2_get_credential"); }
  auto it = s->ec2.find(std::string(access));
  if (it == s->ec2.end() || it->second.user_id != user_id) { return make_error(Errc::not_found, "Could not find credential: " + std::string(access) + "."); }
  return it->second;
}

Result<std::vector<Ec2Credential>> ServiceImpl::list_ec2(const Caller& c, std::string_view user_id) const {
  auto s = snapshot();
  const User* u = s->user(user_id);
  if (u == nullptr) { return make_error(Errc::not_found, "Could not find user: " + std::string(user_id) + "."); }
  if (!policy_.may(c.principal, Action::read_own_credentials, Target{u->domain_id, "", u->id, ""})) { return forbidden("ec2_list_credentials"); }
  std::vector<Ec2Credential> out;
  for (const auto& [access, cred] : s->ec2) {
    if (cred.user_id == user_id) { out.push_back(cred); }
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.access < b.access; });
  return out;
}

Result<Ec2Credential> ServiceImpl::create_ec2(const Caller& c, std::string_view user_id, std::string_view project_id) {
  auto s = snapshot();
  const User* u = s->user(user_id);
  if (u == nullptr) { return make_error(Errc::not_found, "Could not find user: " + std::string(user_id) + "."); }
  if (!policy_.may(c.principal, Action::manage_own_credentials, Target{u->domain_id, c.principal.project_id, u->id, ""})) {
    return deny(c, "ec2_create_credential", "user:" + std::string(user_id));
  }
  std::string pid = project_id.empty() ? c.principal.project_id : std::string(project_id);
  if (pid.empty() || s->project(pid) == nullptr) { return make_error(Errc::invalid_argument, "Could not find project: " + pid + "."); }
  // The credential acts with the user's roles on the project, so it must have some.
  const auto* roles = s->roles_of(u->id, TargetType::project, pid);
  if (roles == nullptr || roles->empty()) {
    return make_error(Errc::forbidden, "The user has no role on project " + pid + ".");
  }
  Ec2Credential cred{crypto::random_hex(16), crypto::random_hex(16), u->id, pid};
  std::string sealed = seal_secret(cred.secret);
  auto st = apply(c, "ec2_credential.create", "ec2_credential:" + cred.access, [&](store::Tx& tx) -> Status {
    auto r = tx.exec("INSERT INTO identity_ec2_creds (access, user_id, project_id, secret_sealed, created_at) VALUES ($1, $2, $3, $4, $5)",
                     {cred.access, cred.user_id, cred.project_id, sealed, now_s()});
    if (!r) { return r.error(); }
    return {};
  });
  if (!st) { return st.error(); }
  return cred;
}

Status ServiceImpl::delete_ec2(const Caller& c, std::string_view user_id, std::string_view access) {
  auto s = snapshot();
  const User* u = s->user(user_id);
  if (u == nullptr) { return make_error(Errc::not_found, "Could not find user: " + std::string(user_id) + "."); }
  if (!policy_.may(c.principal, Action::manage_own_credentials, Target{u->domain_id, c.principal.project_id, u->id, ""})) {
    return deny(c, "ec2_delete_credential", "ec2_credential:" + std::string(access));
  }
  auto it = s->ec2.find(std::string(access));
  if (it == s->ec2.end() || it->second.user_id != user_id) { return make_error(Errc::not_found, "Could not find credential: " + std::string(access) + "."); }
  std::string key(access);
  return apply(c, "ec2_credential.delete", "ec2_credential:" + key, [&](store::Tx& tx) -> Status {
    auto r = tx.exec("DELETE FROM identity_ec2_creds WHERE access = $1", {key});
    if (!r) { return r.error(); }
    return {};
  });
}

}  // namespace ciel::identity
