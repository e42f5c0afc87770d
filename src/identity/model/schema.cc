// The identity tables. Booleans are BIGINT 0/1; times are unix seconds (or milliseconds where
// the column says _ms); lists are JSON text.
#include "identity/identity.h"
#include "store/meta_store.h"

namespace ciel::identity {

std::vector<store::Migration> migrations() {
  std::vector<store::Migration> m;
  m.push_back({"identity", 1, R"SQL(
CREATE TABLE identity_domains (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, description TEXT NOT NULL DEFAULT '',
  enabled BIGINT NOT NULL DEFAULT 1, created_at BIGINT NOT NULL);
CREATE TABLE identity_projects (id TEXT PRIMARY KEY, domain_id TEXT NOT NULL, name TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '', enabled BIGINT NOT NULL DEFAULT 1, parent_id TEXT NOT NULL DEFAULT '',
  tags TEXT NOT NULL DEFAULT '[]', created_at BIGINT NOT NULL, UNIQUE (domain_id, name));
CREATE TABLE identity_users (id TEXT PRIMARY KEY, domain_id TEXT NOT NULL, name TEXT NOT NULL,
  enabled BIGINT NOT NULL DEFAULT 1, password_hash TEXT NOT NULL DEFAULT '', default_project_id TEXT NOT NULL DEFAULT '',
  description TEXT NOT NULL DEFAULT '', email TEXT NOT NULL DEFAULT '', password_changed_at BIGINT NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL, UNIQUE (domain_id, name));
CREATE TABLE identity_groups (id TEXT PRIMARY KEY, domain_id TEXT NOT NULL, name TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '', created_at BIGINT NOT NULL, UNIQUE (domain_id, name));
CREATE TABLE identity_group_members (group_id TEXT NOT NULL, user_id TEXT NOT NULL, PRIMARY KEY (group_id, user_id));
CREATE INDEX identity_group_members_user ON identity_group_members (user_id);
CREATE TABLE identity_roles (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, description TEXT NOT NULL DEFAULT '',
  created_at BIGINT NOT NULL);
CREATE TABLE identity_role_implications (prior_role_id TEXT NOT NULL, implied_role_id TEXT NOT NULL,
  PRIMARY KEY (prior_role_id, implied_role_id));
CREATE TABLE identity_assignments (actor_type TEXT NOT NULL, actor_id TEXT NOT NULL, target_type TEXT NOT NULL,
  target_id TEXT NOT NULL, role_id TEXT NOT NULL, PRIMARY KEY (actor_type, actor_id, target_type, target_id, role_id));
CREATE INDEX identity_assignments_target ON identity_assignments (target_type, target_id);
CREATE TABLE identity_app_creds (id TEXT PRIMARY KEY, user_id TEXT NOT NULL, project_id TEXT NOT NULL, name TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '', secret_hash TEXT NOT NULL, roles TEXT NOT NULL DEFAULT '[]',
  unrestricted BIGINT NOT NULL DEFAULT 0, expires_at BIGINT, created_at BIGINT NOT NULL, UNIQUE (user_id, name));
CREATE TABLE identity_ec2_creds (access TEXT PRIMARY KEY, user_id TEXT NOT NULL, project_id TEXT NOT NULL,
  secret_sealed TEXT NOT NULL, created_at BIGINT NOT NULL);
CREATE INDEX identity_ec2_creds_user ON identity_ec2_creds (user_id);
CREATE TABLE identity_regions (id TEXT PRIMARY KEY, description TEXT NOT NULL DEFAULT '', parent_region_id TEXT NOT NULL DEFAULT '');
CREATE TABLE identity_services (id TEXT PRIMARY KEY, type TEXT NOT NULL, name TEXT NOT NULL DEFAULT '',
  description TEXT NOT NULL DEFAULT '', enabled BIGINT NOT NULL DEFAULT 1);
CREATE TABLE identity_endpoints (id TEXT PRIMARY KEY, service_id TEXT NOT NULL, interface TEXT NOT NULL,
  region_id TEXT NOT NULL DEFAULT '', url TEXT NOT NULL, enabled BIGINT NOT NULL DEFAULT 1);
CREATE TABLE identity_revocations (kind TEXT NOT NULL, value TEXT NOT NULL, revoked_at_ms BIGINT NOT NULL,
  expires_at BIGINT NOT NULL, PRIMARY KEY (kind, value));
CREATE TABLE identity_audit (seq INTEGER PRIMARY KEY AUTOINCREMENT, at_ms BIGINT NOT NULL, principal TEXT NOT NULL,
  action TEXT NOT NULL, target TEXT NOT NULL, outcome TEXT NOT NULL, source TEXT NOT NULL, request_id TEXT NOT NULL,
  detail TEXT NOT NULL DEFAULT '')
)SQL"});
  // PostgreSQL: the same, with an identity column for the audit sequence.
  std::string pg = m[0].sql;
  auto pos = pg.find("seq INTEGER PRIMARY KEY AUTOINCREMENT");
  pg.replace(pos, std::string("seq INTEGER PRIMARY KEY AUTOINCREMENT").size(), "seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY");
  m[0].postgres_sql = pg;
  // The token key ring, shared by every node through the store (identity/token/meta_keys.cc).
  m.push_back({"identity", 2, R"SQL(
CREATE TABLE identity_token_keys (idx BIGINT PRIMARY KEY, created BIGINT NOT NULL, sealed TEXT NOT NULL)
)SQL"});
  // Every node polls the newest identity change every refresh interval (mutation_marker): an
  // index of changes alone, so logins (most of the audit log) are never walked through.
  m.push_back({"identity", 3, R"SQL(
CREATE INDEX identity_audit_changes ON identity_audit (seq) WHERE outcome = 'success' AND action NOT LIKE 'auth.%'
)SQL"});
  return m;
}

}  // namespace ciel::identity
