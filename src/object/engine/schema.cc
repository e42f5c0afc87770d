// The object engine's tables. Small objects keep their bytes in the row (inline_data, base64):
// one transaction, shared with others by group commit, instead of a file and three fsyncs. Times are milliseconds (containers, accounts) or microseconds
// (object versions) since the epoch; metadata maps are JSON text. Names compare bytewise on both
// backends (SQLite's BINARY collation, PostgreSQL's "C"), which is the order listings promise.
#include "object/engine/object_service.h"
#include "store/meta_store.h"

namespace ciel::object {
namespace {

// %NAME% becomes the column type of names: PostgreSQL needs the "C" collation spelled out.
std::string dialect(std::string sql, std::string_view name_type) {
  for (std::size_t pos; (pos = sql.find("%NAME%")) != std::string::npos;) { sql.replace(pos, 6, name_type); }
  return sql;
}

constexpr std::string_view kV1 = R"SQL(
CREATE TABLE object_accounts (project_id TEXT PRIMARY KEY, created_ms BIGINT NOT NULL,
  container_count BIGINT NOT NULL DEFAULT 0, object_count BIGINT NOT NULL DEFAULT 0, bytes_used BIGINT NOT NULL DEFAULT 0,
  meta TEXT NOT NULL DEFAULT '{}', sys TEXT NOT NULL DEFAULT '{}');
CREATE TABLE object_containers (id TEXT PRIMARY KEY, project_id TEXT NOT NULL, name %NAME% NOT NULL,
  created_ms BIGINT NOT NULL, modified_ms BIGINT NOT NULL,
  object_count BIGINT NOT NULL DEFAULT 0, bytes_used BIGINT NOT NULL DEFAULT 0,
  meta TEXT NOT NULL DEFAULT '{}', sys TEXT NOT NULL DEFAULT '{}', UNIQUE (project_id, name));
CREATE TABLE object_versions (id TEXT PRIMARY KEY, container_id TEXT NOT NULL, name %NAME% NOT NULL,
  current BIGINT NOT NULL DEFAULT 1, delete_marker BIGINT NOT NULL DEFAULT 0,
  size BIGINT NOT NULL, etag TEXT NOT NULL, content_type TEXT NOT NULL, modified_us BIGINT NOT NULL,
  meta TEXT NOT NULL DEFAULT '{}', headers TEXT NOT NULL DEFAULT '{}',
  manifest_kind BIGINT NOT NULL DEFAULT 0, manifest TEXT NOT NULL DEFAULT '',
  blob_key TEXT, part_count BIGINT NOT NULL DEFAULT 0, delete_at BIGINT, inline_data TEXT);
CREATE UNIQUE INDEX object_versions_current ON object_versions (container_id, name) WHERE current = 1;
CREATE INDEX object_versions_history ON object_versions (container_id, name, modified_us);
CREATE INDEX object_versions_blob ON object_versions (blob_key);
CREATE INDEX object_versions_expiry ON object_versions (delete_at);
CREATE TABLE object_parts (version_id TEXT NOT NULL, part_no BIGINT NOT NULL, blob_key TEXT NOT NULL, size BIGINT NOT NULL,
  PRIMARY KEY (version_id, part_no));
CREATE INDEX object_parts_blob ON object_parts (blob_key)
)SQL";

// S3: object tags, the part sizes of a multipart object, versions kept in their own container
// (null_version: written while S3 versioning was not Enabled; noncurrent_us: when a version
// stopped being current, for lifecycle rules), and multipart uploads in progress. An upload
// part is one or more blobs (parts above object.part_size are split like objects).
constexpr std::string_view kV2 = R"SQL(
ALTER TABLE object_versions ADD COLUMN tags TEXT NOT NULL DEFAULT '{}';
ALTER TABLE object_versions ADD COLUMN upload_parts TEXT NOT NULL DEFAULT '';
ALTER TABLE object_versions ADD COLUMN null_version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE object_versions ADD COLUMN noncurrent_us BIGINT;
CREATE INDEX object_versions_noncurrent ON object_versions (noncurrent_us);
CREATE INDEX object_containers_name ON object_containers (name);
CREATE TABLE object_uploads (id TEXT PRIMARY KEY, container_id TEXT NOT NULL, name %NAME% NOT NULL, initiator TEXT NOT NULL,
  created_us BIGINT NOT NULL, content_type TEXT NOT NULL, meta TEXT NOT NULL DEFAULT '{}', headers TEXT NOT NULL DEFAULT '{}',
  tags TEXT NOT NULL DEFAULT '{}', delete_at BIGINT);
CREATE INDEX object_uploads_name ON object_uploads (container_id, name, created_us);
CREATE INDEX object_uploads_created ON object_uploads (created_us);
CREATE TABLE object_upload_parts (upload_id TEXT NOT NULL, part_no BIGINT NOT NULL, seq BIGINT NOT NULL, blob_key TEXT,
  inline_data TEXT, size BIGINT NOT NULL, part_size BIGINT NOT NULL, etag TEXT NOT NULL, modified_us BIGINT NOT NULL,
  PRIMARY KEY (upload_id, part_no, seq));
CREATE INDEX object_upload_parts_blob ON object_upload_parts (blob_key)
)SQL";

}  // namespace

std::vector<store::Migration> migrations() {
  std::vector<store::Migration> m;
  m.push_back({"object", 1, dialect(std::string(kV1), "TEXT"), dialect(std::string(kV1), "TEXT COLLATE \"C\"")});
  m.push_back({"object", 2, dialect(std::string(kV2), "TEXT"), dialect(std::string(kV2), "TEXT COLLATE \"C\"")});
  return m;
}

}  // namespace ciel::object
