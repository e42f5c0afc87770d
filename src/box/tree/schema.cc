// The box's tables. A file's digests are copied from its (immutable) content into its node row,
// so listings and lookups read one table. Node ids are the file ids clients see (oc:fileid), so they are integers
// drawn by the database. A root (parent NULL, not trashed) exists per user; the top node of a
// trashed subtree also has parent NULL and keeps its subtree beneath it until purged. Names
// compare bytewise (PostgreSQL's "C" collation, SQLite's BINARY). Times are unix seconds.
#include "box/activity.h"
#include "box/box.h"
#include "store/meta_store.h"

namespace ciel::box {
namespace {

std::string dialect(std::string sql, std::string_view id_type, std::string_view name_type) {
  for (std::size_t pos; (pos = sql.find("%ID%")) != std::string::npos;) { sql.replace(pos, 4, id_type); }
  for (std::size_t pos; (pos = sql.find("%NAME%")) != std::string::npos;) { sql.replace(pos, 6, name_type); }
  return sql;
}

constexpr std::string_view kV1 = R"SQL(
CREATE TABLE box_contents (id %ID%, size BIGINT NOT NULL, md5 TEXT NOT NULL DEFAULT '', sha1 TEXT NOT NULL DEFAULT '',
  adler32 TEXT NOT NULL DEFAULT '', refs BIGINT NOT NULL DEFAULT 1, inline_data TEXT);
CREATE TABLE box_content_parts (content_id BIGINT NOT NULL, seq BIGINT NOT NULL, blob_key TEXT NOT NULL, size BIGINT NOT NULL,
  PRIMARY KEY (content_id, seq));
CREATE INDEX box_content_parts_blob ON box_content_parts (blob_key);
CREATE TABLE box_nodes (id %ID%, owner TEXT NOT NULL, parent BIGINT, name %NAME% NOT NULL, folder BIGINT NOT NULL,
  size BIGINT NOT NULL DEFAULT 0, mtime BIGINT NOT NULL, etag TEXT NOT NULL, content_id BIGINT,
  content_type TEXT NOT NULL DEFAULT '', created_s BIGINT NOT NULL, trashed_s BIGINT, trash_path TEXT,
  md5 TEXT NOT NULL DEFAULT '', sha1 TEXT NOT NULL DEFAULT '', adler32 TEXT NOT NULL DEFAULT '');
CREATE UNIQUE INDEX box_nodes_child ON box_nodes (parent, name);
CREATE UNIQUE INDEX box_nodes_root ON box_nodes (owner) WHERE parent IS NULL AND trashed_s IS NULL;
CREATE INDEX box_nodes_trash ON box_nodes (owner, trashed_s) WHERE trashed_s IS NOT NULL;
CREATE INDEX box_nodes_content ON box_nodes (content_id);
CREATE TABLE box_versions (id %ID%, node_id BIGINT NOT NULL, owner TEXT NOT NULL, content_id BIGINT NOT NULL,
  size BIGINT NOT NULL, mtime BIGINT NOT NULL, etag TEXT NOT NULL, content_type TEXT NOT NULL DEFAULT '', created_s BIGINT NOT NULL);
CREATE INDEX box_versions_node ON box_versions (node_id, id);
CREATE INDEX box_versions_created ON box_versions (created_s);
CREATE TABLE box_props (node_id BIGINT NOT NULL, ns TEXT NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL,
  PRIMARY KEY (node_id, ns, name));
CREATE TABLE box_locks (token TEXT PRIMARY KEY, owner TEXT NOT NULL, path TEXT NOT NULL, exclusive BIGINT NOT NULL,
  infinite BIGINT NOT NULL, owner_xml TEXT NOT NULL, timeout_s BIGINT NOT NULL, expires_s BIGINT NOT NULL, user_id TEXT NOT NULL);
CREATE INDEX box_locks_owner ON box_locks (owner);
CREATE TABLE box_uploads (owner TEXT NOT NULL, transfer TEXT NOT NULL, total BIGINT, created_s BIGINT NOT NULL,
  PRIMARY KEY (owner, transfer));
CREATE INDEX box_uploads_created ON box_uploads (created_s);
CREATE TABLE box_upload_chunks (owner TEXT NOT NULL, transfer TEXT NOT NULL, name TEXT NOT NULL, chunk_offset BIGINT,
  size BIGINT NOT NULL, blob_key TEXT NOT NULL, mtime BIGINT NOT NULL, PRIMARY KEY (owner, transfer, name));
CREATE INDEX box_upload_chunks_blob ON box_upload_chunks (blob_key);
CREATE TABLE box_users (user_id TEXT PRIMARY KEY, quota BIGINT);
CREATE TABLE box_app_passwords (id TEXT PRIMARY KEY, user_id TEXT NOT NULL, name TEXT NOT NULL, hash TEXT NOT NULL UNIQUE,
  created_s BIGINT NOT NULL, last_used_s BIGINT NOT NULL DEFAULT 0);
CREATE INDEX box_app_passwords_user ON box_app_passwords (user_id);
CREATE TABLE box_login_flows (poll_hash TEXT PRIMARY KEY, flow_hash TEXT NOT NULL UNIQUE, client TEXT NOT NULL, created_s BIGINT NOT NULL,
  login_name TEXT, user_id TEXT)
)SQL";

// Public links: a token on a node id (so a link follows renames and moves). password_hash is
// argon2id or NULL; expires_s the instant the link stops working or NULL.
constexpr std::string_view kV2 = R"SQL(
CREATE TABLE box_links (id %ID%, token TEXT NOT NULL UNIQUE, owner TEXT NOT NULL, node_id BIGINT NOT NULL,
  permissions BIGINT NOT NULL, password_hash TEXT, expires_s BIGINT, downloads BIGINT NOT NULL DEFAULT 0,
  created_s BIGINT NOT NULL, label TEXT NOT NULL DEFAULT '');
CREATE INDEX box_links_owner ON box_links (owner, id);
CREATE INDEX box_links_node ON box_links (node_id)
)SQL";

// User and group shares. A recipient's mount point is a row of box_nodes in their tree whose
// mount_share names the share (its own size stays 0: a share does not count in the recipient's
// quota). box_share_declines: members of a group who removed its mount point.
constexpr std::string_view kV3 = R"SQL(
ALTER TABLE box_nodes ADD COLUMN mount_share BIGINT;
CREATE INDEX box_nodes_mounts ON box_nodes (owner) WHERE mount_share IS NOT NULL;
CREATE INDEX box_nodes_mount_share ON box_nodes (mount_share) WHERE mount_share IS NOT NULL;
CREATE TABLE box_shares (id %ID%, owner TEXT NOT NULL, initiator TEXT NOT NULL, node_id BIGINT NOT NULL, share_type BIGINT NOT NULL,
  share_with TEXT NOT NULL, permissions BIGINT NOT NULL, created_s BIGINT NOT NULL);
CREATE UNIQUE INDEX box_shares_target ON box_shares (node_id, share_type, share_with);
CREATE INDEX box_shares_with ON box_shares (share_with);
CREATE INDEX box_shares_initiator ON box_shares (initiator);
CREATE INDEX box_shares_owner ON box_shares (owner);
CREATE TABLE box_share_declines (share_id BIGINT NOT NULL, user_id TEXT NOT NULL, PRIMARY KEY (share_id, user_id))
)SQL";

// The mount points of one user, read by every call that routes a path: a covering index, so
// that no other index on owner (a user's whole tree) is taken for it.
constexpr std::string_view kV4 = R"SQL(
DROP INDEX box_nodes_mounts;
CREATE INDEX box_nodes_mounts ON box_nodes (owner, mount_share) WHERE mount_share IS NOT NULL
)SQL";

}  // namespace

std::vector<store::Migration> migrations() {
  std::vector<store::Migration> all = activity_migrations();  // module box_activity, beside the tree's
  std::vector<store::Migration> tree{{"box", 1, dialect(std::string(kV1), "INTEGER PRIMARY KEY AUTOINCREMENT", "TEXT"),
           dialect(std::string(kV1), "BIGSERIAL PRIMARY KEY", "TEXT COLLATE \"C\"")},
          {"box", 2, dialect(std::string(kV2), "INTEGER PRIMARY KEY AUTOINCREMENT", "TEXT"),
           dialect(std::string(kV2), "BIGSERIAL PRIMARY KEY", "TEXT COLLATE \"C\"")},
          {"box", 3, dialect(std::string(kV3), "INTEGER PRIMARY KEY AUTOINCREMENT", "TEXT"),
           dialect(std::string(kV3), "BIGSERIAL PRIMARY KEY", "TEXT COLLATE \"C\"")},
          {"box", 4, std::string(kV4), std::string(kV4)}};
  all.insert(all.begin(), tree.begin(), tree.end());
  return all;
}

}  // namespace ciel::box
