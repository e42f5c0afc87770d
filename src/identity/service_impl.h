// identity/service_impl.h: the IdentityService implementation, shared by service.cc (snapshot,
// tokens, authentication, revocation, audit, bootstrap), resources.cc (domains, projects,
// users, groups, roles, assignments, catalog) and credentials.cc (application and EC2
// credentials). Private to the module.
#pragma once
#include <condition_variable>
#include <functional>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <unordered_map>

#include "identity/identity.h"
#include "identity/model/snapshot.h"
#include "identity/password/password.h"
#include "identity/token/token.h"
#include "store/meta_store.h"
#include "store/meta_store.h"

namespace ciel::identity {

class ServiceImpl final : public IdentityService {
 public:
  ServiceImpl(store::MetaStore& store, IdentityConfig config, const Clock& clock, std::unique_ptr<token::KeyRing> keys,
              std::string credential_key);
  ~ServiceImpl() override;
  Status start();  // loads the snapshot and the revocations, starts the audit writer

  Result<Principal> authenticate_token(std::string_view token) const override;
  std::string render_token(const Principal& p, bool catalog) const override;
  std::string render_catalog(const Principal& p) const override;
  const Policy& policy() const override { return policy_; }
  boost::asio::awaitable<Result<IssuedToken>> authenticate(AuthRequest request, std::string source, std::string request_id) override;
  Status revoke_token(const Caller& caller, std::string_view token) override;
  Result<Ec2Credential> find_ec2_credential(std::string_view access) const override;
  Result<Principal> principal_for_ec2(const Ec2Credential& cred) const override;
  Result<Principal> check_ec2_signature(std::string_view access, std::string_view string_to_sign,
                                        std::string_view signature) const override;

  Result<Domain> get_domain(const Caller& c, std::string_view id) const override;
  Result<std::vector<Domain>> list_domains(const Caller& c, std::string_view name) const override;
  Result<Project> get_project(const Caller& c, std::string_view id) const override;
  Result<std::vector<Project>> list_projects(const Caller& c, std::string_view name, std::string_view domain_id,
                                             std::string_view parent_id) const override;
  std::vector<Project> projects_for_user(const Principal& p) const override;
  std::vector<Domain> domains_for_user(const Principal& p) const override;
  Result<User> get_user(const Caller& c, std::string_view id) const override;
  Result<std::vector<User>> list_users(const Caller& c, std::string_view name, std::string_view domain_id) const override;
  Result<std::vector<Project>> list_user_projects(const Caller& c, std::string_view user_id) const override;
  Result<std::vector<Group>> list_user_groups(const Caller& c, std::string_view user_id) const override;
  Result<Group> get_group(const Caller& c, std::string_view id) const override;
  Result<std::vector<Group>> list_groups(const Caller& c, std::string_view name, std::string_view domain_id) const override;
  Result<std::vector<User>> list_group_users(const Caller& c, std::string_view group_id) const override;
  Status check_group_user(const Caller& c, std::string_view group_id, std::string_view user_id) const override;
  Result<Role> get_role(const Caller& c, std::string_view id) const override;
  Result<std::vector<Role>> list_roles(const Caller& c, std::string_view name) const override;
  Result<std::vector<Assignment>> list_assignments(const Caller& c, const AssignmentFilter& f) const override;
  Status check_grant(const Caller& c, const Assignment& a) const override;
  Result<std::vector<Role>> list_grants(const Caller& c, ActorType at, std::string_view actor, TargetType tt,
                                        std::string_view target) const override;
  Result<AppCredential> get_app_credential(const Caller& c, std::string_view user_id, std::string_view id) const override;
  Result<std::vector<AppCredential>> list_app_credentials(const Caller& c, std::string_view user_id,
                                                          std::string_view name) const override;
  Result<Ec2Credential> get_ec2(const Caller& c, std::string_view user_id, std::string_view access) const override;
  Result<std::vector<Ec2Credential>> list_ec2(const Caller& c, std::string_view user_id) const override;
  Result<Region> get_region(const Caller& c, std::string_view id) const override;
  Result<std::vector<Region>> list_regions(const Caller& c) const override;
  Result<Service> get_service(const Caller& c, std::string_view id) const override;
  Result<std::vector<Service>> list_services(const Caller& c, std::string_view type, std::string_view name) const override;
  Result<Endpoint> get_endpoint(const Caller& c, std::string_view id) const override;
  Result<std::vector<Endpoint>> list_endpoints(const Caller& c, std::string_view service_id, std::string_view interface,
                                               std::string_view region_id) const override;
  std::string domain_name(std::string_view id) const override;
  std::string project_name(std::string_view id) const override;
  std::string project_domain(std::string_view id) const override;
  std::string user_name(std::string_view id) const override;
  std::string user_domain(std::string_view id) const override;
  std::string group_name(std::string_view id) const override;
  std::string group_domain(std::string_view id) const override;
  std::string role_name(std::string_view id) const override;
  std::optional<User> user_named(std::string_view domain_id, std::string_view name) const override;
  std::optional<Group> group_named(std::string_view domain_id, std::string_view name) const override;
  std::vector<User> coworkers(std::string_view user_id) const override;
  std::vector<Group> groups_of(std::string_view user_id) const override;

  Result<Domain> create_domain(const Caller& c, const NamedInput& in) override;
  Result<Domain> update_domain(const Caller& c, std::string_view id, const NamedInput& in) override;
  Status delete_domain(const Caller& c, std::string_view id) override;
  Result<Project> create_project(const Caller& c, const ProjectInput& in) override;
  Result<Project> update_project(const Caller& c, std::string_view id, const ProjectInput& in) override;
  Status delete_project(const Caller& c, std::string_view id) override;
  Result<User> create_user(const Caller& c, const UserInput& in) override;
  Result<User> update_user(const Caller& c, std::string_view id, const UserInput& in) override;
  Status change_password(const Caller& c, std::string_view user_id, std::string_view original, std::string_view password) override;
  Status delete_user(const Caller& c, std::string_view id) override;
  Result<Group> create_group(const Caller& c, const NamedInput& in) override;
  Result<Group> update_group(const Caller& c, std::string_view id, const NamedInput& in) override;
  Status delete_group(const Caller& c, std::string_view id) override;
  Status add_group_user(const Caller& c, std::string_view group_id, std::string_view user_id) override;
  Status remove_group_user(const Caller& c, std::string_view group_id, std::string_view user_id) override;
  Result<Role> create_role(const Caller& c, const NamedInput& in) override;
  Result<Role> update_role(const Caller& c, std::string_view id, const NamedInput& in) override;
  Status delete_role(const Caller& c, std::string_view id) override;
  Status grant(const Caller& c, const Assignment& a) override;
  Status revoke_grant(const Caller& c, const Assignment& a) override;
  Result<std::pair<AppCredential, std::string>> create_app_credential(const Caller& c, std::string_view user_id,
                                                                      const AppCredentialInput& in) override;
  Status delete_app_credential(const Caller& c, std::string_view user_id, std::string_view id) override;
  Result<Ec2Credential> create_ec2(const Caller& c, std::string_view user_id, std::string_view project_id) override;
  Status delete_ec2(const Caller& c, std::string_view user_id, std::string_view access) override;
  Result<Region> create_region(const Caller& c, const NamedInput& in) override;
  Status delete_region(const Caller& c, std::string_view id) override;
  Result<Service> create_service(const Caller& c, const NamedInput& in) override;
  Result<Service> update_service(const Caller& c, std::string_view id, const NamedInput& in) override;
  Status delete_service(const Caller& c, std::string_view id) override;
  Result<Endpoint> create_endpoint(const Caller& c, const EndpointInput& in) override;
  Result<Endpoint> update_endpoint(const Caller& c, std::string_view id, const EndpointInput& in) override;
  Status delete_endpoint(const Caller& c, std::string_view id) override;

  Result<std::vector<AuditRecord>> read_audit(const Caller& c, const AuditQuery& q) override;
  void audit(AuditRecord record) override;
  void flush_audit() override;

  Result<BootstrapResult> bootstrap() override;
  Status register_catalog_entry(const CatalogEntry& entry) override;
  Result<bool> maybe_rotate_keys(bool force) override;
  Status purge_expired_revocations() override;
  Result<bool> refresh() override;
  Result<std::int64_t> mutation_marker();
  Status load_revocations();
  Caller operator_caller() const override;
  const IdentityConfig& config() const override { return config_; }

  // --- shared helpers ---------------------------------------------------------------------
  std::shared_ptr<const model::Snapshot> snapshot() const;
  Status reload();
  // Runs `fn` and the audit record in one transaction, then reloads the snapshot. On failure the
  // record is queued with outcome "failure". `what` names the entity for duplicate-name errors.
  Status apply(const Caller& c, std::string action, std::string target, const std::function<Status(store::Tx&)>& fn,
               std::string_view what = {});
  Error deny(const Caller& c, std::string_view action, std::string_view target);
  AuditRecord record(const Caller& c, std::string action, std::string target, std::string outcome) const;
  std::int64_t now_s() const { return unix_seconds(clock_.now()); }
  std::int64_t now_ms() const;
  Result<Principal> principal_from(const token::Payload& p, const model::Snapshot& s) const;
  // Revokes every token of a user (or project) issued up to now; persisted, then in memory.
  Status revoke_subject(store::Tx& tx, std::string_view kind, std::string_view value);
  void remember_revocation(const std::string& kind, const std::string& value, std::int64_t at_ms, std::int64_t expires_at);
  std::string seal_secret(std::string_view secret) const;
  std::string unseal_secret(std::string_view sealed) const;
  Status check_password_policy(std::string_view password) const;
  std::string admin_project_id(const model::Snapshot& s) const;

  store::MetaStore& store_;
  IdentityConfig config_;
  const Clock& clock_;
  std::unique_ptr<token::KeyRing> keys_;
  static constexpr std::string_view kChangeChannel = "ciel_identity";
  // Notices of other nodes' changes (PostgreSQL); reset first in ~ServiceImpl, as its thread
  // calls refresh().
  std::unique_ptr<store::MetaStore::Subscription> changes_;
  std::string credential_key_;
  password::Hasher hasher_;
  password::Backoff backoff_;
  Policy policy_;

  mutable std::mutex snap_mu_;
  std::shared_ptr<const model::Snapshot> snap_;
  std::mutex write_mu_;  // one identity mutation at a time (snapshot reloads stay ordered)
  std::int64_t loaded_marker_ = 0;  // the last mutation's audit seq when the snapshot was loaded (under write_mu_)

  mutable std::shared_mutex rev_mu_;
  std::unordered_map<std::string, std::int64_t> rev_audit_;    // audit id -> expires_at
  std::unordered_map<std::string, std::int64_t> rev_user_;     // user id -> revoked_at_ms
  std::unordered_map<std::string, std::int64_t> rev_project_;  // project id -> revoked_at_ms

  std::mutex audit_mu_;
  std::condition_variable audit_cv_;
  std::vector<AuditRecord> audit_queue_;
  bool audit_stop_ = false;
  std::uint64_t audit_enqueued_ = 0, audit_written_ = 0;
  std::condition_variable audit_done_cv_;
  std::thread audit_thread_;
};

// Helpers shared by the implementation files.
std::string new_id();
bool valid_name(std::string_view name);
Status insert_audit(store::Tx& tx, const AuditRecord& r);
std::string json_string_list(const std::vector<std::string>& v);

}  // namespace ciel::identity
