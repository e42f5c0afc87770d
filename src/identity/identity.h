// identity/identity.h: the identity service's public API, used by the Keystone front-end
// (identity/keystone), by `ciel admin`, and by the other services (Swift, S3, Nova), which
// authenticate tokens and EC2 credentials through it and ask identity::Policy what a principal
// may do.
//
// Ownership and threads: one IdentityService per process, built by `ciel serve` (or `ciel admin`)
// over the MetaStore. It keeps an immutable in-memory snapshot of the identity model (domains,
// projects, users, groups, roles, assignments, credentials, catalog) and the revocation set, so
// token validation and every read run on the calling thread without touching the database.
// Methods marked "blocking" write SQL (and may hash passwords): call them on the blocking pool
// (core/blocking.h) or from the CLI, never on an I/O thread. Everything else is thread-safe and
// non-blocking, except the awaitable password authentication, which hashes on a bounded pool.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/time.h"
#include "identity/inputs.h"
#include "identity/policy.h"
#include "identity/principal.h"

namespace ciel::store {
class MetaStore;
class Lease;
struct Migration;
}  // namespace ciel::store

namespace ciel::identity {

inline constexpr std::string_view kDefaultDomainId = "default";

// Every default below is what `ciel serve` declares in its settings (identity.*).
struct IdentityConfig {
  std::string key_dir;                                  // DATA_DIR/keys: the master key (and the token/ ring of earlier versions)
  std::string master_key_file;                          // identity.master_key_file, default KEY_DIR/credential.key
  std::chrono::seconds token_lifetime{3600};            // identity.token_lifetime = 1h
  std::chrono::seconds key_rotation{24 * 3600};         // identity.token_key_rotation = 24h; 0 disables rotation
  std::uint32_t argon2_memory_kib = 19456;              // identity.argon2_memory_kib (OWASP: 19 MiB, t=2, p=1)
  std::uint32_t argon2_iterations = 2;                  // identity.argon2_iterations
  std::uint32_t argon2_parallelism = 1;                 // identity.argon2_parallelism
  std::uint32_t hash_threads = 0;                       // identity.hash_threads; 0: one per core
  std::size_t min_password_length = 8;                  // identity.min_password_length
  std::uint32_t backoff_user_threshold = 5;             // identity.backoff_user_threshold: failures before back-off
  std::uint32_t backoff_address_threshold = 30;         // identity.backoff_address_threshold
  std::chrono::milliseconds backoff_base{1000};         // identity.backoff_base: first delay, doubled per failure
  std::chrono::milliseconds backoff_max{300'000};       // identity.backoff_max
  std::chrono::milliseconds refresh_interval{10'000};   // identity.refresh_interval: pick up other nodes' changes; 0 disables
  std::string region = "RegionOne";                     // identity.region
  std::string admin_project = "admin";                  // identity.admin_project: admin role here means cloud admin
};

// Plain records of the identity model, as the snapshot holds them.
struct Domain { std::string id, name, description; bool enabled = true; };
struct Project {
  std::string id, name, domain_id, description, parent_id;
  bool enabled = true;
  std::vector<std::string> tags;
};
struct User {
  std::string id, name, domain_id, default_project_id, description, email;
  bool enabled = true;
  std::string password_hash;  // never rendered
  std::optional<std::int64_t> password_expires_at;
};
struct Group { std::string id, name, domain_id, description; };
struct Role { std::string id, name, domain_id, description; };
enum class ActorType { user, group };
enum class TargetType { project, domain };
struct Assignment {
  ActorType actor_type = ActorType::user;
  std::string actor_id;
  TargetType target_type = TargetType::project;
  std::string target_id;
  std::string role_id;
  std::string via_group_id;  // in effective listings: the group the user got it from
};
struct AppCredential {
  std::string id, name, description, user_id, project_id, secret_hash;
  std::vector<std::string> role_ids;
  bool unrestricted = false;
  std::optional<std::int64_t> expires_at;  // unix seconds
};
struct Ec2Credential { std::string access, secret, user_id, project_id; };
struct Region { std::string id, description, parent_region_id; };
struct Service { std::string id, type, name, description; bool enabled = true; };
struct Endpoint { std::string id, service_id, interface, region_id, url; bool enabled = true; };

struct AuditRecord {
  std::int64_t seq = 0;
  std::int64_t at_ms = 0;
  std::string principal;  // user id (or "-" / the name tried for failed authentications)
  std::string action;     // "auth.password", "project.create", ...
  std::string target;
  std::string outcome;    // "success", "failure", "denied"
  std::string source;     // client address
  std::string request_id;
  std::string detail;
};

// Who is calling, for policy and audit.
struct Caller {
  Principal principal;
  std::string source;
  std::string request_id;
};

struct IssuedToken {
  std::string token;
  Principal principal;
};

// A catalog entry a service registers at startup; endpoints are created for the public,
// internal and admin interfaces in the configured region. `url` may contain %(project_id)s.
struct CatalogEntry {
  std::string type, name, url, description;
};

struct BootstrapResult {
  bool created = false;
  std::string admin_password;  // only when created
};

// The tables identity owns.
std::vector<store::Migration> migrations();

struct AssignmentFilter {
  std::string user_id, group_id, role_id, project_id, domain_id;
  bool effective = false;
};
struct AuditQuery {
  std::int64_t after_seq = 0;
  std::size_t limit = 100;
  std::string action_prefix, principal;
};

class IdentityService {
 public:
  virtual ~IdentityService() = default;

  // --- tokens (non-blocking, no database read) ---------------------------------------------
  // Errc::unauthenticated for a malformed, tampered, wrong-key, expired or revoked token, or when
  // its user, project or roles no longer exist or are disabled.
  virtual Result<Principal> authenticate_token(std::string_view token) const = 0;
  // Token body JSON ({"token": {...}}) as Keystone renders it; `catalog` false for ?nocatalog.
  virtual std::string render_token(const Principal& p, bool catalog) const = 0;
  virtual std::string render_catalog(const Principal& p) const = 0;  // the JSON array
  virtual const Policy& policy() const = 0;

  // --- authentication (awaitable: hashing runs on a bounded pool; no database read) ---------
  // Errc::unauthenticated for any failure (unknown user and wrong password look the same),
  // Errc::invalid_argument for a malformed request. Appends an audit record either way.
  virtual boost::asio::awaitable<Result<IssuedToken>> authenticate(AuthRequest request, std::string source,
                                                                   std::string request_id) = 0;
  // Revokes one token (and the chain it was rescoped from). Errc::not_found if invalid.
  virtual Status revoke_token(const Caller& caller, std::string_view token) = 0;  // blocking

  // --- EC2 / S3 credentials (non-blocking) --------------------------------------------------
  // The credential for an access key, with its secret, or Errc::not_found.
  virtual Result<Ec2Credential> find_ec2_credential(std::string_view access) const = 0;
  // Principal for an EC2 credential (project-scoped, with the user's roles on the project).
  virtual Result<Principal> principal_for_ec2(const Ec2Credential& cred) const = 0;
  // Checks an S3 signature (POST /v3/s3tokens) over `string_to_sign` made with the secret of `access` (SigV4 when
  // the string starts with AWS4-HMAC-SHA256, the scope's service being s3, iam or sts; SigV2
  // HMAC-SHA1 otherwise) and returns the credential's principal. Errc::unauthenticated for an
  // unknown access key or a wrong signature (the same answer).
  virtual Result<Principal> check_ec2_signature(std::string_view access, std::string_view string_to_sign,
                                                std::string_view signature) const = 0;

  // --- reads (non-blocking, snapshot; Errc::forbidden / not_found) --------------------------
  virtual Result<Domain> get_domain(const Caller& c, std::string_view id) const = 0;
  virtual Result<std::vector<Domain>> list_domains(const Caller& c, std::string_view name) const = 0;
  virtual Result<Project> get_project(const Caller& c, std::string_view id) const = 0;
  virtual Result<std::vector<Project>> list_projects(const Caller& c, std::string_view name, std::string_view domain_id,
                                                     std::string_view parent_id) const = 0;
  virtual std::vector<Project> projects_for_user(const Principal& p) const = 0;  // /v3/auth/projects
  virtual std::vector<Domain> domains_for_user(const Principal& p) const = 0;    // /v3/auth/domains
  virtual Result<User> get_user(const Caller& c, std::string_view id) const = 0;
  virtual Result<std::vector<User>> list_users(const Caller& c, std::string_view name, std::string_view domain_id) const = 0;
  virtual Result<std::vector<Project>> list_user_projects(const Caller& c, std::string_view user_id) const = 0;
  virtual Result<std::vector<Group>> list_user_groups(const Caller& c, std::string_view user_id) const = 0;
  virtual Result<Group> get_group(const Caller& c, std::string_view id) const = 0;
  virtual Result<std::vector<Group>> list_groups(const Caller& c, std::string_view name, std::string_view domain_id) const = 0;
  virtual Result<std::vector<User>> list_group_users(const Caller& c, std::string_view group_id) const = 0;
  virtual Status check_group_user(const Caller& c, std::string_view group_id, std::string_view user_id) const = 0;
  virtual Result<Role> get_role(const Caller& c, std::string_view id) const = 0;
  virtual Result<std::vector<Role>> list_roles(const Caller& c, std::string_view name) const = 0;
  virtual Result<std::vector<Assignment>> list_assignments(const Caller& c, const AssignmentFilter& f) const = 0;
  virtual Status check_grant(const Caller& c, const Assignment& a) const = 0;
  virtual Result<std::vector<Role>> list_grants(const Caller& c, ActorType at, std::string_view actor, TargetType tt,
                                                std::string_view target) const = 0;
  virtual Result<AppCredential> get_app_credential(const Caller& c, std::string_view user_id, std::string_view id) const = 0;
  virtual Result<std::vector<AppCredential>> list_app_credentials(const Caller& c, std::string_view user_id,
                                                                  std::string_view name) const = 0;
  virtual Result<Ec2Credential> get_ec2(const Caller& c, std::string_view user_id, std::string_view access) const = 0;
  virtual Result<std::vector<Ec2Credential>> list_ec2(const Caller& c, std::string_view user_id) const = 0;
  virtual Result<Region> get_region(const Caller& c, std::string_view id) const = 0;
  virtual Result<std::vector<Region>> list_regions(const Caller& c) const = 0;
  virtual Result<Service> get_service(const Caller& c, std::string_view id) const = 0;
  virtual Result<std::vector<Service>> list_services(const Caller& c, std::string_view type, std::string_view name) const = 0;
  virtual Result<Endpoint> get_endpoint(const Caller& c, std::string_view id) const = 0;
  virtual Result<std::vector<Endpoint>> list_endpoints(const Caller& c, std::string_view service_id,
                                                       std::string_view interface, std::string_view region_id) const = 0;
  // Names for rendering (empty when unknown).
  virtual std::string domain_name(std::string_view id) const = 0;
  virtual std::string project_name(std::string_view id) const = 0;
  virtual std::string project_domain(std::string_view id) const = 0;
  virtual std::string user_name(std::string_view id) const = 0;
  virtual std::string user_domain(std::string_view id) const = 0;
  virtual std::string group_name(std::string_view id) const = 0;
  virtual std::string group_domain(std::string_view id) const = 0;
  virtual std::string role_name(std::string_view id) const = 0;

  // --- lookups for other services (no policy check: the calling service decides what it shows) --
  // The enabled user, or the group, named `name` in `domain_id`; nullopt when there is none.
  virtual std::optional<User> user_named(std::string_view domain_id, std::string_view name) const = 0;
  virtual std::optional<Group> group_named(std::string_view domain_id, std::string_view name) const = 0;
  // Enabled users with a role on an enabled project `user_id` has a role on (`user_id` included), by name.
  virtual std::vector<User> coworkers(std::string_view user_id) const = 0;
  // The groups `user_id` belongs to, by name.
  virtual std::vector<Group> groups_of(std::string_view user_id) const = 0;

  // --- mutations (blocking; audited; Errc::forbidden, invalid_argument, not_found, already_exists)
  virtual Result<Domain> create_domain(const Caller& c, const NamedInput& in) = 0;
  virtual Result<Domain> update_domain(const Caller& c, std::string_view id, const NamedInput& in) = 0;
  virtual Status delete_domain(const Caller& c, std::string_view id) = 0;
  virtual Result<Project> create_project(const Caller& c, const ProjectInput& in) = 0;
  virtual Result<Project> update_project(const Caller& c, std::string_view id, const ProjectInput& in) = 0;
  virtual Status delete_project(const Caller& c, std::string_view id) = 0;
  virtual Result<User> create_user(const Caller& c, const UserInput& in) = 0;
  virtual Result<User> update_user(const Caller& c, std::string_view id, const UserInput& in) = 0;
  virtual Status change_password(const Caller& c, std::string_view user_id, std::string_view original, std::string_view password) = 0;
  virtual Status delete_user(const Caller& c, std::string_view id) = 0;
  virtual Result<Group> create_group(const Caller& c, const NamedInput& in) = 0;
  virtual Result<Group> update_group(const Caller& c, std::string_view id, const NamedInput& in) = 0;
  virtual Status delete_group(const Caller& c, std::string_view id) = 0;
  virtual Status add_group_user(const Caller& c, std::string_view group_id, std::string_view user_id) = 0;
  virtual Status remove_group_user(const Caller& c, std::string_view group_id, std::string_view user_id) = 0;
  virtual Result<Role> create_role(const Caller& c, const NamedInput& in) = 0;
  virtual Result<Role> update_role(const Caller& c, std::string_view id, const NamedInput& in) = 0;
  virtual Status delete_role(const Caller& c, std::string_view id) = 0;
  virtual Status grant(const Caller& c, const Assignment& a) = 0;
  virtual Status revoke_grant(const Caller& c, const Assignment& a) = 0;
  // Returns the credential and its secret (shown once).
  virtual Result<std::pair<AppCredential, std::string>> create_app_credential(const Caller& c, std::string_view user_id,
                                                                              const AppCredentialInput& in) = 0;
  virtual Status delete_app_credential(const Caller& c, std::string_view user_id, std::string_view id) = 0;
  virtual Result<Ec2Credential> create_ec2(const Caller& c, std::string_view user_id, std::string_view project_id) = 0;
  virtual Status delete_ec2(const Caller& c, std::string_view user_id, std::string_view access) = 0;
  virtual Result<Region> create_region(const Caller& c, const NamedInput& in) = 0;
  virtual Status delete_region(const Caller& c, std::string_view id) = 0;
  virtual Result<Service> create_service(const Caller& c, const NamedInput& in) = 0;
  virtual Result<Service> update_service(const Caller& c, std::string_view id, const NamedInput& in) = 0;
  virtual Status delete_service(const Caller& c, std::string_view id) = 0;
  virtual Result<Endpoint> create_endpoint(const Caller& c, const EndpointInput& in) = 0;
  virtual Result<Endpoint> update_endpoint(const Caller& c, std::string_view id, const EndpointInput& in) = 0;
  virtual Status delete_endpoint(const Caller& c, std::string_view id) = 0;

  // --- audit (blocking) ---------------------------------------------------------------------
  virtual Result<std::vector<AuditRecord>> read_audit(const Caller& c, const AuditQuery& q) = 0;
  // Appends one record (e.g. from another service); queued and written in batches by a
  // background thread, retried while the store fails. Waits only when 100,000 records are queued.
  virtual void audit(AuditRecord record) = 0;
  virtual void flush_audit() = 0;  // blocking: until queued records are written (10 s at most)

  // --- operators (blocking; startup and `ciel admin`) ---------------------------------------
  // On an empty identity store: default domain, admin/member/reader roles, the admin user with a
  // random password, the admin project and its admin assignment, the region.
  virtual Result<BootstrapResult> bootstrap() = 0;
  // Creates or updates (by type and name) a service and its endpoints.
  virtual Status register_catalog_entry(const CatalogEntry& entry) = 0;
  // Rotates the token key ring when the primary is older than key_rotation; prunes keys whose
  // tokens have all expired. Returns whether it rotated.
  virtual Result<bool> maybe_rotate_keys(bool force) = 0;
  // Drops expired revocation records (memory and SQL).
  virtual Status purge_expired_revocations() = 0;
  // Picks up identity changes other processes committed (other API nodes, `ciel admin`): when
  // the store holds a mutation this process has not loaded, reloads the snapshot and the
  // revocations. One small query otherwise. Returns whether it reloaded.
  virtual Result<bool> refresh() = 0;
  // A Caller with cloud-admin rights, for `ciel admin` and bootstrap.
  virtual Caller operator_caller() const = 0;
  virtual const IdentityConfig& config() const = 0;
};

// The periodic work `ciel serve` runs on its I/O threads (blocking parts on the blocking pool):
// refresh() every refresh_interval, and every 5 minutes maybe_rotate_keys() and
// purge_expired_revocations(). Runs until cancelled.
boost::asio::awaitable<void> run_maintenance(IdentityService& identity, store::Lease* housekeeping = nullptr);

// Loads the model and revocations, opens or creates the key ring. The store must be migrated.
// Errc::unavailable on a store failure, Errc::internal on an unreadable key ring.
Result<std::unique_ptr<IdentityService>> open_identity_service(store::MetaStore& store, IdentityConfig config,
                                                                const Clock& clock = system_clock());

}  // namespace ciel::identity
