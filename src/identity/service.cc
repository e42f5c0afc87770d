// The identity service's core: the snapshot, token issue and validation, revocation, the audit
// writer, bootstrap, the catalog registry and key rotation.
#include <algorithm>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <filesystem>
#include <fstream>

#include "store/lease.h"
#include "core/blocking.h"
#include "core/crypto/crypto.h"
#include "core/http/router.h"
#include "core/log/log.h"
#include "core/metrics/metrics.h"
#include "identity/service_impl.h"

namespace ciel::identity {

std::string new_id() { return crypto::random_hex(16); }

bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > 255) { return false; }
  if (name.find_first_not_of(" \t") == std::string_view::npos) { return false; }
  for (char c : name) {
    if (static_cast<unsigned char>(c) < 0x20) { return false; }
  }
  return true;
}

std::string json_string_list(const std::vector<std::string>& v) {
  std::string out = "[";
  for (std::size_t i = 0; i < v.size(); ++i) { out += (i ? ", \"" : "\"") + http::json_escape(v[i]) + "\""; }
  return out + "]";
}

Status insert_audit(store::Tx& tx, const AuditRecord& r) {
  auto rc = tx.exec("INSERT INTO identity_audit (at_ms, principal, action, target, outcome, source, request_id, detail) "
                    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    {r.at_ms, r.principal, r.action, r.target, r.outcome, r.source, r.request_id, r.detail});
  if (!rc) { return rc.error(); }
  return {};
}

namespace {

constexpr std::size_t kMaxQueuedAudit = 100'000;

Error unauthenticated(std::string detail = {}) {
  return make_error(Errc::unauthenticated, "The request you have made requires authentication.", std::move(detail));
}

std::vector<std::string> method_names(std::uint8_t bits) {
  std::vector<std::string> out;
  if (bits & token::kPassword) { out.emplace_back("password"); }
  if (bits & token::kToken) { out.emplace_back("token"); }
  if (bits & token::kAppCredential) { out.emplace_back("application_credential"); }
  return out;
}

std::string replace_all(std::string s, std::string_view from, std::string_view to) {
  for (std::size_t pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size())) {
    s.replace(pos, from.size(), to);
  }
  return s;
}

void append_kv(std::string& out, std::string_view key, std::string_view value) {
  out += '"';
  out += key;
  out += "\": \"";
  out += http::json_escape(value);
  out += '"';
}

}  // namespace

ServiceImpl::ServiceImpl(store::MetaStore& store, IdentityConfig config, const Clock& clock, std::unique_ptr<token::KeyRing> keys,
                         std::string credential_key)
    : store_(store),
      config_(std::move(config)),
      clock_(clock),
      keys_(std::move(keys)),
      credential_key_(std::move(credential_key)),
      hasher_({config_.argon2_memory_kib, config_.argon2_iterations, config_.argon2_parallelism}, config_.hash_threads),
      backoff_({config_.backoff_user_threshold, config_.backoff_address_threshold, config_.backoff_base, config_.backoff_max}, clock) {}

ServiceImpl::~ServiceImpl() {
  {
    std::lock_guard lock(audit_mu_);
    audit_stop_ = true;
  }
  audit_cv_.notify_all();
  if (audit_thread_.joinable()) { audit_thread_.join(); }
}

Status ServiceImpl::load_revocations() {
  return store_.read_sync([&](store::Tx& tx) -> Status {
    auto rows = tx.query("SELECT kind, value, revoked_at_ms, expires_at FROM identity_revocations WHERE expires_at >= $1", {now_s()});
    if (!rows) { return rows.error(); }
    for (auto& r : rows->rows) { remember_revocation(r.text(0), r.text(1), r.integer(2), r.integer(3)); }
    return {};
  });
}

// Every committed identity mutation writes its audit record in the same transaction, so the
// newest non-authentication record marks the state of the identity tables.
Result<std::int64_t> ServiceImpl::mutation_marker() {
  std::int64_t marker = 0;
  auto st = store_.read_sync([&](store::Tx& tx) -> Status {
    auto row = tx.one("SELECT seq FROM identity_audit WHERE outcome = 'success' AND action NOT LIKE 'auth.%' ORDER BY seq DESC LIMIT 1");
    if (!row) { return row.error(); }
    if (*row) { marker = (*row)->integer(0); }
    return {};
  });
  if (!st) { return st.error(); }
  return marker;
}

Result<bool> ServiceImpl::refresh() {
  if (auto k = keys_->reload(); !k) { return k.error(); }
  std::lock_guard lock(write_mu_);
  auto marker = mutation_marker();
  if (!marker) { return marker.error(); }
  if (*marker == loaded_marker_) { return false; }
  if (auto st = reload(); !st) { return st.error(); }
  if (auto st = load_revocations(); !st) { return st.error(); }
  loaded_marker_ = *marker;
  return true;
}

Status ServiceImpl::start() {
  {
    std::lock_guard lock(write_mu_);
    auto marker = mutation_marker();
    if (!marker) { return marker.error(); }
    loaded_marker_ = *marker;
  }
  if (auto st = reload(); !st) { return st; }
  if (auto st = load_revocations(); !st) { return st; }
  audit_thread_ = std::thread([this] {
    std::unique_lock lock(audit_mu_);
    for (;;) {
      audit_cv_.wait(lock, [&] { return audit_stop_ || !audit_queue_.empty(); });
      if (audit_queue_.empty() && audit_stop_) { return; }
      std::vector<AuditRecord> batch;
      batch.swap(audit_queue_);
      lock.unlock();
      auto written = store_.transact_sync([&](store::Tx& tx) -> Status {
        for (const auto& r : batch) {
          if (auto s = insert_audit(tx, r); !s) { return s; }
        }
        return {};
      });
      lock.lock();
      if (!written) {
        // Keep the records and retry: an audit log with holes is worse than a slow one.
        log::error("audit: {} records could not be written, retrying: {}", batch.size(), written.error().detail);
        audit_queue_.insert(audit_queue_.begin(), std::make_move_iterator(batch.begin()), std::make_move_iterator(batch.end()));
        if (audit_stop_) { return; }
        audit_cv_.wait_for(lock, std::chrono::milliseconds(500), [&] { return audit_stop_; });
        continue;
      }
      audit_written_ += batch.size();
      audit_done_cv_.notify_all();
    }
  });
  return {};
}

std::int64_t ServiceImpl::now_ms() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_.now().time_since_epoch()).count();
}

std::shared_ptr<const model::Snapshot> ServiceImpl::snapshot() const {
  std::lock_guard lock(snap_mu_);
  return snap_;
}

Status ServiceImpl::reload() {
  std::shared_ptr<model::Snapshot> fresh;
  auto st = store_.read_sync([&](store::Tx& tx) -> Status {
    auto s = model::load_snapshot(tx, [this](std::string_view sealed) { return unseal_secret(sealed); });
    if (!s) { return s.error(); }
    fresh = std::move(*s);
    return {};
  });
  if (!st) { return st; }
  // The admin project is fixed once known (by id), so a rename keeps it and validators never
  // race with a change of it.
  if (policy_.admin_project().empty()) { policy_.set_admin_project(admin_project_id(*fresh)); }
  std::lock_guard lock(snap_mu_);
  snap_ = std::move(fresh);
  return {};
}

std::string ServiceImpl::admin_project_id(const model::Snapshot& s) const {
  auto it = s.project_by_name.find(std::string(kDefaultDomainId) + "\n" + config_.admin_project);
  return it == s.project_by_name.end() ? std::string() : it->second;
}

AuditRecord ServiceImpl::record(const Caller& c, std::string action, std::string target, std::string outcome) const {
  AuditRecord r;
  r.at_ms = now_ms();
  r.principal = c.principal.user_id.empty() ? "-" : c.principal.user_id;
  r.action = std::move(action);
  r.target = std::move(target);
  r.outcome = std::move(outcome);
  r.source = c.source;
  r.request_id = c.request_id;
  return r;
}

Status ServiceImpl::apply(const Caller& c, std::string action, std::string target, const std::function<Status(store::Tx&)>& fn,
                          std::string_view what) {
  std::lock_guard lock(write_mu_);
  AuditRecord rec = record(c, std::move(action), std::move(target), "success");
  auto st = store_.transact_sync([&](store::Tx& tx) -> Status {
    if (auto s = fn(tx); !s) { return s; }
    return insert_audit(tx, rec);
  });
  if (!st) {
    Error e = st.error();
    if (e.code == Errc::already_exists && !what.empty()) {
      e.message = "Conflict occurred attempting to store " + std::string(what) + " - Duplicate entry.";
    }
    rec.outcome = "failure";
    rec.detail = e.message;
    audit(std::move(rec));
    return e;
  }
  return reload();
}

Error ServiceImpl::deny(const Caller& c, std::string_view action, std::string_view target) {
  audit(record(c, std::string(action), std::string(target), "denied"));
  return make_error(Errc::forbidden, "You are not authorized to perform the requested action: identity:" + std::string(action) + ".");
}

void ServiceImpl::audit(AuditRecord r) {
  {
    std::unique_lock lock(audit_mu_);
    // Bounded: when the store cannot keep up (or is down), callers wait rather than records
    // piling up without limit or being dropped.
    audit_done_cv_.wait(lock, [&] { return audit_queue_.size() < kMaxQueuedAudit || audit_stop_ || !audit_thread_.joinable(); });
    audit_queue_.push_back(std::move(r));
    ++audit_enqueued_;
  }
  audit_cv_.notify_one();
}

void ServiceImpl::flush_audit() {
  std::unique_lock lock(audit_mu_);
  if (!audit_thread_.joinable()) { return; }
  std::uint64_t target = audit_enqueued_;
  // Bounded, so a store that is down cannot hang a shutdown.
  if (!audit_done_cv_.wait_for(lock, std::chrono::seconds(10), [&] { return audit_written_ >= target; })) {
    log::error("audit: {} records still unwritten", target - audit_written_);
  }
}

Result<std::vector<AuditRecord>> ServiceImpl::read_audit(const Caller& c, const AuditQuery& q) {
  if (!policy_.may(c.principal, Action::read_audit)) { return deny(c, "read_audit", "audit"); }
  flush_audit();
  std::vector<AuditRecord> out;
  auto st = store_.read_sync([&](store::Tx& tx) -> Status {
    auto rows = tx.query(
        "SELECT seq, at_ms, principal, action, target, outcome, source, request_id, detail FROM identity_audit "
        "WHERE seq > $1 AND ($2 = '' OR action LIKE $2 || '%') AND ($3 = '' OR principal = $3) ORDER BY seq LIMIT $4",
        {q.after_seq, q.action_prefix, q.principal, static_cast<std::int64_t>(std::min<std::size_t>(q.limit, 1000))});
    if (!rows) { return rows.error(); }
    for (auto& r : rows->rows) {
      out.push_back(AuditRecord{r.integer(0), r.integer(1), r.text(2), r.text(3), r.text(4), r.text(5), r.text(6), r.text(7), r.text(8)});
    }
    return {};
  });
  if (!st) { return st.error(); }
  return out;
}

// --- secrets at rest --------------------------------------------------------------------------

std::string ServiceImpl::seal_secret(std::string_view secret) const {
  return crypto::base64(crypto::aes256gcm_seal(credential_key_, secret, "ec2"));
}

std::string ServiceImpl::unseal_secret(std::string_view sealed) const {
  auto raw = crypto::unbase64(sealed);
  if (!raw) { return {}; }
  auto plain = crypto::aes256gcm_open(credential_key_, *raw, "ec2");
  return plain ? *plain : std::string();
}

Status ServiceImpl::check_password_policy(std::string_view password) const {
  if (password.size() < config_.min_password_length) {
    return make_error(Errc::invalid_argument, "Password should be at least " + std::to_string(config_.min_password_length) +
                                                  " characters long.");
  }
  if (password.size() > 4096) { return make_error(Errc::invalid_argument, "Password is longer than 4096 characters."); }
  return {};
}

// --- revocation -------------------------------------------------------------------------------

void ServiceImpl::remember_revocation(const std::string& kind, const std::string& value, std::int64_t at_ms, std::int64_t expires_at) {
  std::unique_lock lock(rev_mu_);
  if (kind == "token") {
    rev_audit_[value] = expires_at;
  } else if (kind == "user") {
    auto& v = rev_user_[value];
    v = std::max(v, at_ms);
  } else if (kind == "project") {
    auto& v = rev_project_[value];
    v = std::max(v, at_ms);
  }
}

Status ServiceImpl::revoke_subject(store::Tx& tx, std::string_view kind, std::string_view value) {
  std::int64_t at = now_ms();
  std::int64_t expires = now_s() + config_.token_lifetime.count() + 60;
  auto rc = tx.exec("INSERT INTO identity_revocations (kind, value, revoked_at_ms, expires_at) VALUES ($1, $2, $3, $4) "
                    "ON CONFLICT (kind, value) DO UPDATE SET revoked_at_ms = $3, expires_at = $4",
                    {std::string(kind), std::string(value), at, expires});
  if (!rc) { return rc.error(); }
  // In memory at once: a transaction that later fails only revokes a little early.
  remember_revocation(std::string(kind), std::string(value), at, expires);
  return {};
}

Status ServiceImpl::revoke_token(const Caller& caller, std::string_view token) {
  auto payload = keys_->unseal(token);
  if (!payload) { return make_error(Errc::not_found, "Could not find token."); }
  auto p = principal_from(*payload, *snapshot());
  if (!p) { return make_error(Errc::not_found, "Could not find token."); }
  if (!policy_.may(caller.principal, Action::revoke_token, Target{"", "", p->user_id, ""})) {
    return deny(caller, "revoke_token", p->user_id);
  }
  std::string chain = p->audit_chain_id.empty() ? p->audit_id : p->audit_chain_id;
  return apply(caller, "token.revoke", "user:" + p->user_id + " audit:" + chain, [&](store::Tx& tx) -> Status {
    std::int64_t at = now_ms();
    auto rc = tx.exec("INSERT INTO identity_revocations (kind, value, revoked_at_ms, expires_at) VALUES ('token', $1, $2, $3) "
                      "ON CONFLICT (kind, value) DO NOTHING",
                      {chain, at, payload->expires_at});
    if (!rc) { return rc.error(); }
    remember_revocation("token", chain, at, payload->expires_at);
    return {};
  });
}

Status ServiceImpl::purge_expired_revocations() {
  std::int64_t now = now_s();
  auto st = store_.transact_sync([&](store::Tx& tx) -> Status {
    auto rc = tx.exec("DELETE FROM identity_revocations WHERE expires_at < $1", {now});
    if (!rc) { return rc.error(); }
    return {};
  });
  if (!st) { return st; }
  std::unique_lock lock(rev_mu_);
  std::erase_if(rev_audit_, [&](const auto& kv) { return kv.second < now; });
  std::int64_t horizon_ms = (now - config_.token_lifetime.count() - 60) * 1000;
  std::erase_if(rev_user_, [&](const auto& kv) { return kv.second < horizon_ms; });
  std::erase_if(rev_project_, [&](const auto& kv) { return kv.second < horizon_ms; });
  return {};
}

// --- tokens -----------------------------------------------------------------------------------

Result<Principal> ServiceImpl::principal_from(const token::Payload& t, const model::Snapshot& s) const {
  if (t.expires_at <= now_s()) { return unauthenticated("token expired"); }
  const User* user = s.user(t.user_id);
  if (user == nullptr || !user->enabled) { return unauthenticated("user missing or disabled"); }
  const Domain* udom = s.domain(user->domain_id);
  if (udom == nullptr || !udom->enabled) { return unauthenticated("user domain missing or disabled"); }
  Principal p;
  p.audit_id = crypto::base64url(t.audit_id);
  if (!t.audit_chain_id.empty()) { p.audit_chain_id = crypto::base64url(t.audit_chain_id); }
  {
    std::shared_lock lock(rev_mu_);
    if (rev_audit_.count(p.audit_id) != 0 || (!p.audit_chain_id.empty() && rev_audit_.count(p.audit_chain_id) != 0)) {
      return unauthenticated("token revoked");
    }
    if (auto it = rev_user_.find(t.user_id); it != rev_user_.end() && t.issued_at_ms <= it->second) {
      return unauthenticated("user tokens revoked");
    }
    if (t.scope == ScopeType::project) {
      if (auto it = rev_project_.find(t.scope_id); it != rev_project_.end() && t.issued_at_ms <= it->second) {
        return unauthenticated("project tokens revoked");
      }
    }
  }
  p.user_id = user->id;
  p.user_name = user->name;
  p.user_domain_id = udom->id;
  p.user_domain_name = udom->name;
  p.scope = t.scope;
  p.methods = method_names(t.methods);
  p.issued_at = SystemTime(std::chrono::milliseconds(t.issued_at_ms));
  p.expires_at = SystemTime(std::chrono::seconds(t.expires_at));
  const std::vector<std::string>* roles = nullptr;
  if (t.scope == ScopeType::project) {
    const Project* proj = s.project(t.scope_id);
    if (proj == nullptr || !proj->enabled) { return unauthenticated("project missing or disabled"); }
    const Domain* pdom = s.domain(proj->domain_id);
    if (pdom == nullptr || !pdom->enabled) { return unauthenticated("project domain missing or disabled"); }
    p.project_id = proj->id;
    p.project_name = proj->name;
    p.domain_id = pdom->id;
    p.domain_name = pdom->name;
    roles = s.roles_of(user->id, TargetType::project, proj->id);
  } else if (t.scope == ScopeType::domain) {
    const Domain* dom = s.domain(t.scope_id);
    if (dom == nullptr || !dom->enabled) { return unauthenticated("domain missing or disabled"); }
    p.domain_id = dom->id;
    p.domain_name = dom->name;
    roles = s.roles_of(user->id, TargetType::domain, dom->id);
  }
  if (t.scope != ScopeType::none && (roles == nullptr || roles->empty())) { return unauthenticated("no role on the scope"); }
  if (!t.app_cred_id.empty()) {
    auto it = s.app_creds.find(t.app_cred_id);
    if (it == s.app_creds.end() || it->second.user_id != user->id || t.scope != ScopeType::project ||
        it->second.project_id != t.scope_id) {
      return unauthenticated("application credential missing");
    }
    const AppCredential& ac = it->second;
    if (ac.expires_at && *ac.expires_at <= now_s()) { return unauthenticated("application credential expired"); }
    std::set<std::string> allowed;
    for (const auto& rid : ac.role_ids) {
      if (auto cl = s.implied_closure.find(rid); cl != s.implied_closure.end()) { allowed.insert(cl->second.begin(), cl->second.end()); }
    }
    for (const auto& rid : *roles) {
      if (allowed.count(rid) != 0) {
        if (const Role* r = s.role(rid)) { p.roles.push_back(RoleRef{r->id, r->name}); }
      }
    }
    if (p.roles.empty()) { return unauthenticated("application credential roles no longer held"); }
    p.app_cred_id = ac.id;
    p.app_cred_name = ac.name;
  } else if (roles != nullptr) {
    p.roles.reserve(roles->size());
    for (const auto& rid : *roles) {
      if (const Role* r = s.role(rid)) { p.roles.push_back(RoleRef{r->id, r->name}); }
    }
  }
  return p;
}

Result<Principal> ServiceImpl::authenticate_token(std::string_view token) const {
  auto payload = keys_->unseal(token);
  if (!payload) { return payload.error(); }
  auto s = snapshot();
  return principal_from(*payload, *s);
}

std::string ServiceImpl::render_catalog(const Principal& p) const {
  if (p.scope == ScopeType::none) { return "[]"; }
  auto s = snapshot();
  if (p.scope != ScopeType::project) { return s->catalog_json_no_project; }
  std::string out = s->catalog_json;
  if (out.find("%(") != std::string::npos) {
    out = replace_all(std::move(out), "%(project_id)s", p.project_id);
    out = replace_all(std::move(out), "%(tenant_id)s", p.project_id);
  }
  return out;
}

std::string ServiceImpl::render_token(const Principal& p, bool catalog) const {
  std::string out;
  out.reserve(catalog ? 4096 : 768);
  out += "{\"token\": {\"methods\": ";
  out += json_string_list(p.methods);
  out += ", \"user\": {\"domain\": {";
  append_kv(out, "id", p.user_domain_id);
  out += ", ";
  append_kv(out, "name", p.user_domain_name);
  out += "}, ";
  append_kv(out, "id", p.user_id);
  out += ", ";
  append_kv(out, "name", p.user_name);
  out += ", \"password_expires_at\": null}, \"audit_ids\": [\"" + p.audit_id + "\"";
  if (!p.audit_chain_id.empty()) { out += ", \"" + p.audit_chain_id + "\""; }
  out += "], \"expires_at\": \"" + iso8601(p.expires_at, 6) + "\", \"issued_at\": \"" + iso8601(p.issued_at, 6) + "\"";
  if (p.scope == ScopeType::project) {
    out += ", \"project\": {\"domain\": {";
    append_kv(out, "id", p.domain_id);
    out += ", ";
    append_kv(out, "name", p.domain_name);
    out += "}, ";
    append_kv(out, "id", p.project_id);
    out += ", ";
    append_kv(out, "name", p.project_name);
    out += "}, \"is_domain\": false";
  } else if (p.scope == ScopeType::domain) {
    out += ", \"domain\": {";
    append_kv(out, "id", p.domain_id);
    out += ", ";
    append_kv(out, "name", p.domain_name);
    out += "}";
  }
  if (p.scope != ScopeType::none) {
    out += ", \"roles\": [";
    for (std::size_t i = 0; i < p.roles.size(); ++i) {
      out += i ? ", {" : "{";
      append_kv(out, "id", p.roles[i].id);
      out += ", ";
      append_kv(out, "name", p.roles[i].name);
      out += "}";
    }
    out += "]";
    if (catalog) {
      out += ", \"catalog\": ";
      out += render_catalog(p);
    }
  }
  if (!p.app_cred_id.empty()) {
    out += ", \"application_credential\": {";
    append_kv(out, "id", p.app_cred_id);
    out += ", ";
    append_kv(out, "name", p.app_cred_name);
    out += ", \"restricted\": true}";
  }
  out += "}}";
  return out;
}

namespace {

// Resolves the requested scope into the payload. Errc::unauthenticated when the target does not
// exist or the user holds no role there (the same answer either way).
Status resolve_scope(const AuthRequest& req, const model::Snapshot& s, const std::string& user_id, token::Payload& out) {
  using S = AuthRequest::Scope;
  if (req.scope == S::system) { return make_error(Errc::unauthenticated, "System scope is not supported."); }
  if (req.scope == S::project) {
    std::string pid = req.project_id;
    if (pid.empty()) {
      std::string dom = req.project_domain_id;
      if (dom.empty()) {
        auto it = s.domain_by_name.find(req.project_domain_name);
        if (it == s.domain_by_name.end()) { return unauthenticated("scope domain not found"); }
        dom = it->second;
      }
      auto it = s.project_by_name.find(dom + "\n" + req.project_name);
      if (it == s.project_by_name.end()) { return unauthenticated("scope project not found"); }
      pid = it->second;
    }
    const auto* roles = s.roles_of(user_id, TargetType::project, pid);
    if (roles == nullptr || roles->empty()) { return unauthenticated("no role on the project"); }
    out.scope = ScopeType::project;
    out.scope_id = pid;
    return {};
  }
  if (req.scope == S::domain) {
    std::string did = req.domain_id;
    if (did.empty()) {
      auto it = s.domain_by_name.find(req.domain_name);
      if (it == s.domain_by_name.end()) { return unauthenticated("scope domain not found"); }
      did = it->second;
    }
    const auto* roles = s.roles_of(user_id, TargetType::domain, did);
    if (roles == nullptr || roles->empty()) { return unauthenticated("no role on the domain"); }
    out.scope = ScopeType::domain;
    out.scope_id = did;
    return {};
  }
  // No scope: the user's default project when it is usable, otherwise unscoped.
  const User* u = s.user(user_id);
  if (!req.unscoped && u != nullptr && !u->default_project_id.empty()) {
    const Project* p = s.project(u->default_project_id);
    const auto* roles = s.roles_of(user_id, TargetType::project, u->default_project_id);
    if (p != nullptr && p->enabled && roles != nullptr && !roles->empty()) {
      out.scope = ScopeType::project;
      out.scope_id = p->id;
    }
  }
  return {};
}

}  // namespace

boost::asio::awaitable<Result<IssuedToken>> ServiceImpl::authenticate(AuthRequest req, std::string source, std::string request_id) {
  Caller caller{{}, source, request_id};
  auto fail = [&](std::string action, std::string who, const Error& e) -> Error {
    AuditRecord r = record(caller, std::move(action), "token", "failure");
    r.principal = who.empty() ? "-" : who;
    r.detail = e.detail.empty() ? e.message : e.detail;
    audit(std::move(r));
    metrics::add("ciel_identity_auth_failures_total", "Failed authentications");
    return e;
  };
  if (req.methods.size() != 1) {
    co_return fail("auth", "", make_error(Errc::invalid_argument, "Exactly one authentication method is supported per request."));
  }
  const std::string method = req.methods.front();
  token::Payload t;
  t.audit_id = crypto::random_bytes(16);
  std::string who;
  std::string account;
  std::int64_t expires_cap = 0;

  if (method == "password") {
    auto s = snapshot();
    const User* user = nullptr;
    if (!req.user_id.empty()) {
      who = req.user_id;
      account = "id:" + req.user_id;
      user = s->user(req.user_id);
    } else {
      std::string dom = req.user_domain_id;
      if (dom.empty()) {
        auto it = s->domain_by_name.find(req.user_domain_name);
        dom = it == s->domain_by_name.end() ? "?" + req.user_domain_name : it->second;
      }
      who = req.user_name + "@" + dom;
      account = "name:" + dom + "\n" + req.user_name;
      if (auto it = s->user_by_name.find(dom + "\n" + req.user_name); it != s->user_by_name.end()) { user = s->user(it->second); }
    }
    if (user != nullptr) { who = user->id; }
    if (backoff_.blocked(account, source)) { co_return fail("auth.password", who, unauthenticated("back-off in force")); }
    std::string hash = user != nullptr ? user->password_hash : std::string();
    std::string user_id = user != nullptr ? user->id : std::string();
    bool ok = co_await hasher_.async_verify(std::move(hash), std::move(req.password));
    s = snapshot();
    user = s->user(user_id);
    const Domain* udom = user != nullptr ? s->domain(user->domain_id) : nullptr;
    if (!ok || user == nullptr || !user->enabled || udom == nullptr || !udom->enabled) {
      backoff_.failure(account, source);
      co_return fail("auth.password", who, unauthenticated(!ok ? "wrong password or unknown user" : "user or domain disabled"));
    }
    backoff_.success(account);
    t.user_id = user->id;
    t.methods = token::kPassword;
    if (auto st = resolve_scope(req, *s, user->id, t); !st) { co_return fail("auth.password", who, st.error()); }
  } else if (method == "token") {
    auto parent = keys_->unseal(req.token);
    if (!parent) { co_return fail("auth.token", "", parent.error()); }
    auto s = snapshot();
    auto pp = principal_from(*parent, *s);
    if (!pp) { co_return fail("auth.token", parent->user_id, pp.error()); }
    who = parent->user_id;
    if (!parent->app_cred_id.empty()) {
      co_return fail("auth.token", who, make_error(Errc::forbidden, "Application credential tokens cannot be rescoped."));
    }
    t.user_id = parent->user_id;
    t.methods = static_cast<std::uint8_t>(parent->methods | token::kToken);
    t.audit_chain_id = parent->audit_chain_id.empty() ? parent->audit_id : parent->audit_chain_id;
    expires_cap = parent->expires_at;
    AuthRequest scoped = req;
    if (scoped.scope == AuthRequest::Scope::none) { scoped.unscoped = true; }
    if (auto st = resolve_scope(scoped, *s, t.user_id, t); !st) { co_return fail("auth.token", who, st.error()); }
  } else if (method == "application_credential") {
    auto s = snapshot();
    const AppCredential* ac = nullptr;
    if (!req.app_cred_id.empty()) {
      if (auto it = s->app_creds.find(req.app_cred_id); it != s->app_creds.end()) { ac = &it->second; }
      who = "app_cred:" + req.app_cred_id;
    } else {
      std::string uid = req.user_id;
      if (uid.empty()) {
        std::string dom = req.user_domain_id;
        if (dom.empty()) {
          auto it = s->domain_by_name.find(req.user_domain_name);
          dom = it == s->domain_by_name.end() ? "" : it->second;
        }
        if (auto it = s->user_by_name.find(dom + "\n" + req.user_name); it != s->user_by_name.end()) { uid = it->second; }
      }
      for (const auto& [id, c] : s->app_creds) {
        if (c.user_id == uid && c.name == req.app_cred_name) { ac = &c; }
      }
      who = "app_cred:" + req.app_cred_name;
    }
    account = "appcred:" + (ac != nullptr ? ac->id : who);
    if (backoff_.blocked(account, source)) { co_return fail("auth.application_credential", who, unauthenticated("back-off in force")); }
    std::string hash = ac != nullptr ? ac->secret_hash : std::string();
    std::string ac_id = ac != nullptr ? ac->id : std::string();
    bool ok = co_await hasher_.async_verify(std::move(hash), std::move(req.app_cred_secret));
    s = snapshot();
    auto it = s->app_creds.find(ac_id);
    if (!ok || it == s->app_creds.end()) {
      backoff_.failure(account, source);
      co_return fail("auth.application_credential", who, unauthenticated("wrong application credential secret"));
    }
    backoff_.success(account);
    ac = &it->second;
    who = ac->user_id;
    if (ac->expires_at) { expires_cap = *ac->expires_at; }
    if (req.scope == AuthRequest::Scope::project && !req.project_id.empty() && req.project_id != ac->project_id) {
      co_return fail("auth.application_credential", who, unauthenticated("application credential bound to another project"));
    }
    t.user_id = ac->user_id;
    t.methods = token::kAppCredential;
    t.scope = ScopeType::project;
    t.scope_id = ac->project_id;
    t.app_cred_id = ac->id;
  } else {
    co_return fail("auth", "", make_error(Errc::invalid_argument, "Attempted to authenticate with an unsupported method: " + method + "."));
  }

  t.issued_at_ms = now_ms();
  t.expires_at = t.issued_at_ms / 1000 + config_.token_lifetime.count();
  if (expires_cap > 0) { t.expires_at = std::min(t.expires_at, expires_cap); }
  auto s = snapshot();
  auto principal = principal_from(t, *s);
  if (!principal) { co_return fail("auth." + method, who, principal.error()); }
  IssuedToken issued{keys_->seal(t), std::move(*principal)};
  AuditRecord r = record(caller, "auth." + method, issued.principal.project_id.empty() ? issued.principal.domain_id : issued.principal.project_id,
                         "success");
  r.principal = issued.principal.user_id;
  r.detail = "audit_id=" + issued.principal.audit_id;
  audit(std::move(r));
  metrics::add("ciel_identity_tokens_issued_total", "Tokens issued");
  co_return issued;
}

// --- EC2 --------------------------------------------------------------------------------------

Result<Ec2Credential> ServiceImpl::find_ec2_credential(std::string_view access) const {
  auto s = snapshot();
  auto it = s->ec2.find(std::string(access));
  if (it == s->ec2.end()) { return make_error(Errc::not_found, "Could not find credential."); }
  return it->second;
}

Result<Principal> ServiceImpl::principal_for_ec2(const Ec2Credential& cred) const {
  token::Payload t;
  t.user_id = cred.user_id;
  t.scope = ScopeType::project;
  t.scope_id = cred.project_id;
  t.issued_at_ms = now_ms();
  t.expires_at = t.issued_at_ms / 1000 + config_.token_lifetime.count();
  t.audit_id = crypto::random_bytes(16);
  auto p = principal_from(t, *snapshot());
  if (!p) { return p.error(); }
  p->methods = {"ec2credential"};
  return p;
}

// --- bootstrap, catalog, keys -----------------------------------------------------------------

Caller ServiceImpl::operator_caller() const {
  Caller c;
  auto s = snapshot();
  c.principal.user_id = "operator";
  c.principal.user_name = "operator";
  c.principal.scope = ScopeType::project;
  c.principal.project_id = policy_.admin_project().empty() ? admin_project_id(*s) : policy_.admin_project();
  c.principal.roles = {RoleRef{"", "admin"}, RoleRef{"", "member"}, RoleRef{"", "reader"}};
  c.source = "local";
  c.request_id = "cli";
  return c;
}

Result<BootstrapResult> ServiceImpl::bootstrap() {
  BootstrapResult out;
  if (snapshot()->domain(kDefaultDomainId) != nullptr) { return out; }
  out.created = true;
  out.admin_password = crypto::random_token(18);
  std::string hash = hasher_.hash(out.admin_password);
  std::int64_t now = now_s();
  Caller c;
  c.source = "local";
  c.request_id = "bootstrap";
  auto st = apply(c, "bootstrap", "default", [&](store::Tx& tx) -> Status {
    auto exec = [&](std::string_view sql, std::initializer_list<store::Value> params) -> Status {
      auto r = tx.query(sql, std::span<const store::Value>(params.begin(), params.size()));
      if (!r) { return r.error(); }
      return {};
    };
    if (auto s = exec("INSERT INTO identity_domains (id, name, description, enabled, created_at) VALUES ($1, 'Default', "
                      "'The default domain', 1, $2)",
                      {std::string(kDefaultDomainId), now});
        !s) {
      return s;
    }
    std::map<std::string, std::string> role_ids;
    for (const char* name : {"admin", "member", "reader", "service"}) {
      role_ids[name] = new_id();
      if (auto s = exec("INSERT INTO identity_roles (id, name, created_at) VALUES ($1, $2, $3)", {role_ids[name], std::string(name), now});
          !s) {
        return s;
      }
    }
    for (auto [prior, implied] : {std::pair{"admin", "member"}, std::pair{"member", "reader"}}) {
      if (auto s = exec("INSERT INTO identity_role_implications (prior_role_id, implied_role_id) VALUES ($1, $2)",
                        {role_ids[prior], role_ids[implied]});
          !s) {
        return s;
      }
    }
    std::string project_id = new_id();
    std::string user_id = new_id();
    if (auto s = exec("INSERT INTO identity_projects (id, domain_id, name, description, created_at) VALUES ($1, 'default', $2, "
                      "'Bootstrap project for initializing the cloud.', $3)",
                      {project_id, config_.admin_project, now});
        !s) {
      return s;
    }
    if (auto s = exec("INSERT INTO identity_users (id, domain_id, name, password_hash, default_project_id, password_changed_at, "
                      "created_at) VALUES ($1, 'default', 'admin', $2, $3, $4, $4)",
                      {user_id, hash, project_id, now});
        !s) {
      return s;
    }
    if (auto s = exec("INSERT INTO identity_assignments (actor_type, actor_id, target_type, target_id, role_id) "
                      "VALUES ('user', $1, 'project', $2, $3)",
                      {user_id, project_id, role_ids["admin"]});
        !s) {
      return s;
    }
    return exec("INSERT INTO identity_regions (id, description) VALUES ($1, '') ON CONFLICT (id) DO NOTHING", {config_.region});
  });
  if (!st) { return st.error(); }
  return out;
}

Status ServiceImpl::register_catalog_entry(const CatalogEntry& entry) {
  auto s = snapshot();
  const Service* found = nullptr;
  for (const auto& [id, svc] : s->services) {
    if (svc.type == entry.type && svc.name == entry.name) { found = &svc; }
  }
  bool needs = found == nullptr || s->regions.count(config_.region) == 0;
  if (found != nullptr) {
    for (const char* iface : {"public", "internal", "admin"}) {
      bool ok = false;
      for (const auto& [eid, ep] : s->endpoints) {
        if (ep.service_id == found->id && ep.interface == iface && ep.region_id == config_.region && ep.url == entry.url) { ok = true; }
      }
      if (!ok) { needs = true; }
    }
  }
  if (!needs) { return {}; }
  std::string service_id = found != nullptr ? found->id : new_id();
  bool create = found == nullptr;
  return apply(operator_caller(), "catalog.register", entry.type + " " + entry.url, [&](store::Tx& tx) -> Status {
    auto r = tx.exec("INSERT INTO identity_regions (id, description) VALUES ($1, '') ON CONFLICT (id) DO NOTHING", {config_.region});
    if (!r) { return r.error(); }
    if (create) {
      r = tx.exec("INSERT INTO identity_services (id, type, name, description, enabled) VALUES ($1, $2, $3, $4, 1)",
                  {service_id, entry.type, entry.name, entry.description});
      if (!r) { return r.error(); }
    }
    for (const char* iface : {"public", "internal", "admin"}) {
      r = tx.exec("UPDATE identity_endpoints SET url = $1 WHERE service_id = $2 AND interface = $3 AND region_id = $4",
                  {entry.url, service_id, std::string(iface), config_.region});
      if (!r) { return r.error(); }
      if (*r == 0) {
        r = tx.exec("INSERT INTO identity_endpoints (id, service_id, interface, region_id, url, enabled) VALUES ($1, $2, $3, $4, $5, 1)",
                    {new_id(), service_id, std::string(iface), config_.region, entry.url});
        if (!r) { return r.error(); }
      }
    }
    return {};
  });
}

Result<bool> ServiceImpl::maybe_rotate_keys(bool force) {
  auto r = keys_->rotate(config_.key_rotation, config_.token_lifetime, force);
  if (r && *r) {
    audit(record(operator_caller(), "token.rotate_keys", "key " + std::to_string(keys_->primary_index()), "success"));
  }
  return r;
}

boost::asio::awaitable<void> run_maintenance(IdentityService& identity, store::Lease* housekeeping_lease) {
  using namespace std::chrono_literals;
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
  const auto refresh = identity.config().refresh_interval;
  const std::chrono::milliseconds housekeeping = 5min;
  const auto tick = refresh.count() > 0 ? std::min(refresh, housekeeping) : housekeeping;
  auto since_housekeeping = std::chrono::milliseconds(0);
  for (;;) {
    timer.expires_after(tick);
    co_await timer.async_wait(boost::asio::use_awaitable);
    since_housekeeping += tick;
    bool housekeep = since_housekeeping >= housekeeping;
    if (housekeep) { since_housekeeping = 0ms; }
    // Every node picks up changes; one rotates keys and purges revocations.
    if (housekeep && housekeeping_lease != nullptr) { housekeep = co_await housekeeping_lease->hold(); }
    co_await run_blocking([&] {
      if (refresh.count() > 0) {
        if (auto r = identity.refresh(); !r) { log::warn("identity: refresh failed: {} {}", r.error().message, r.error().detail); }
      }
      if (housekeep) {
        if (auto r = identity.maybe_rotate_keys(false); !r) { log::error("identity: key rotation failed: {}", r.error().message); }
        if (auto st = identity.purge_expired_revocations(); !st) { log::warn("identity: revocation purge failed: {}", st.error().detail); }
      }
    });
  }
}

// --- opening ----------------------------------------------------------------------------------

namespace {
Result<std::string> load_credential_key(const std::string& path) {
  std::string dir = std::filesystem::path(path).parent_path().string();
  std::error_code ec;
  // A directory made here is private; an operator's own (say /etc/ciel) is left as it is.
  if (std::filesystem::create_directories(dir, ec)) { std::filesystem::permissions(dir, std::filesystem::perms::owner_all, ec); }
  if (std::filesystem::exists(path)) {
    std::ifstream in(path);
    std::string hexkey;
    in >> hexkey;
    auto key = crypto::unhex(hexkey);
    if (!key || key->size() != 32) { return make_error(Errc::internal, "unreadable credential key " + path); }
    return *key;
  }
  std::string key = crypto::random_bytes(32);
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    std::filesystem::permissions(tmp, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write, ec);
    out << crypto::hex(key) << "\n";
    if (!out) { return make_error(Errc::internal, "cannot write credential key " + path); }
  }
  std::filesystem::rename(tmp, path, ec);
  if (ec) { return make_error(Errc::internal, "cannot write credential key " + path, ec.message()); }
  log::info("identity: new master key in {} (every node of this deployment needs a copy)", path);
  return key;
}

// Earlier versions kept the ring in DATA_DIR/keys/token, one file per key. The first start on a
// store with no keys takes those, so tokens issued before the upgrade stay valid.
Status import_file_keys(const std::string& key_dir, token::KeyStore& into) {
  if (!std::filesystem::exists(key_dir + "/token")) { return {}; }
  auto existing = into.load();
  if (!existing) { return existing.error(); }
  if (!existing->empty()) { return {}; }
  auto files = token::open_file_key_store(key_dir);
  if (!files) { return files.error(); }
  auto keys = (*files)->load();
  if (!keys) { return keys.error(); }
  for (const auto& [index, key] : *keys) {
    if (auto added = into.add(index, key); !added) { return added.error(); }
  }
  // The store rotates and prunes them from now on: the files would only linger as secrets.
  for (const auto& [index, key] : *keys) { (void)(*files)->remove(index); }
  if (!keys->empty()) { log::info("identity: {} token keys moved from {}/token into the metadata store", keys->size(), key_dir); }
  return {};
}
}  // namespace

Result<std::unique_ptr<IdentityService>> open_identity_service(store::MetaStore& store, IdentityConfig config, const Clock& clock) {
  // New keys wait two refresh intervals before sealing, so every node has read them by then.
  auto stage = std::chrono::duration_cast<std::chrono::seconds>(config.refresh_interval * 2);
  auto cred = load_credential_key(config.master_key_file.empty() ? config.key_dir + "/credential.key" : config.master_key_file);
  if (!cred) { return cred.error(); }
  auto key_store = token::make_meta_key_store(store, *cred);
  if (auto st = import_file_keys(config.key_dir, *key_store); !st) { return st.error(); }
  auto keys = token::KeyRing::open(std::move(key_store), clock, stage);
  if (!keys) { return keys.error(); }
  auto svc = std::make_unique<ServiceImpl>(store, std::move(config), clock, std::move(*keys), std::move(*cred));
  if (auto st = svc->start(); !st) { return st.error(); }
  return std::unique_ptr<IdentityService>(std::move(svc));
}

}  // namespace ciel::identity
