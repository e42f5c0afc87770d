// The compute engine's tables. Ids are UUIDs (text); maps and lists are JSON text; times are
// unix seconds.
#include "compute/compute.h"
#include "store/meta_store.h"

namespace ciel::compute {
namespace {

constexpr std::string_view kV1 = R"SQL(
CREATE TABLE compute_images (id TEXT PRIMARY KEY, name TEXT NOT NULL DEFAULT '', owner TEXT NOT NULL, status TEXT NOT NULL,
  visibility TEXT NOT NULL, protected BIGINT NOT NULL DEFAULT 0, os_hidden BIGINT NOT NULL DEFAULT 0,
  disk_format TEXT NOT NULL DEFAULT '', container_format TEXT NOT NULL DEFAULT '', size BIGINT, virtual_size BIGINT,
  checksum TEXT NOT NULL DEFAULT '', os_hash_algo TEXT NOT NULL DEFAULT '', os_hash_value TEXT NOT NULL DEFAULT '',
  min_disk BIGINT NOT NULL DEFAULT 0, min_ram BIGINT NOT NULL DEFAULT 0, properties TEXT NOT NULL DEFAULT '{}',
  tags TEXT NOT NULL DEFAULT '[]', created_s BIGINT NOT NULL, updated_s BIGINT NOT NULL, blob_key TEXT);
CREATE INDEX compute_images_owner ON compute_images (owner, created_s);
CREATE INDEX compute_images_visibility ON compute_images (visibility, created_s);
CREATE TABLE compute_image_members (image_id TEXT NOT NULL, member TEXT NOT NULL, status TEXT NOT NULL,
  created_s BIGINT NOT NULL, updated_s BIGINT NOT NULL, PRIMARY KEY (image_id, member));
CREATE INDEX compute_image_members_member ON compute_image_members (member);
CREATE TABLE compute_flavors (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, description TEXT NOT NULL DEFAULT '',
  vcpus BIGINT NOT NULL, ram_mib BIGINT NOT NULL, disk_gib BIGINT NOT NULL, ephemeral_gib BIGINT NOT NULL DEFAULT 0,
  swap_mib BIGINT NOT NULL DEFAULT 0, rxtx_factor DOUBLE PRECISION NOT NULL DEFAULT 1.0, is_public BIGINT NOT NULL DEFAULT 1,
  disabled BIGINT NOT NULL DEFAULT 0, extra_specs TEXT NOT NULL DEFAULT '{}', created_s BIGINT NOT NULL);
CREATE TABLE compute_flavor_access (flavor_id TEXT NOT NULL, project_id TEXT NOT NULL, PRIMARY KEY (flavor_id, project_id));
CREATE TABLE compute_keypairs (user_id TEXT NOT NULL, name TEXT NOT NULL, public_key TEXT NOT NULL, fingerprint TEXT NOT NULL,
  type TEXT NOT NULL, created_s BIGINT NOT NULL, PRIMARY KEY (user_id, name));
CREATE TABLE compute_quotas (project_id TEXT NOT NULL, resource TEXT NOT NULL, hard_limit BIGINT NOT NULL,
  PRIMARY KEY (project_id, resource));
CREATE TABLE compute_servers (id TEXT PRIMARY KEY, name TEXT NOT NULL, project_id TEXT NOT NULL, user_id TEXT NOT NULL,
  image_id TEXT NOT NULL, key_name TEXT NOT NULL DEFAULT '', flavor TEXT NOT NULL, metadata TEXT NOT NULL DEFAULT '{}',
  status TEXT NOT NULL, vm_state TEXT NOT NULL, task_state TEXT NOT NULL DEFAULT '', power_state BIGINT NOT NULL DEFAULT 0,
  fault_message TEXT NOT NULL DEFAULT '', fault_code BIGINT NOT NULL DEFAULT 0, fault_s BIGINT NOT NULL DEFAULT 0,
  ssh_port BIGINT NOT NULL DEFAULT 0, accelerator TEXT NOT NULL DEFAULT '', config_drive BIGINT NOT NULL DEFAULT 1,
  user_data TEXT NOT NULL DEFAULT '', created_s BIGINT NOT NULL, updated_s BIGINT NOT NULL, launched_s BIGINT NOT NULL DEFAULT 0,
  deleted_s BIGINT);
CREATE INDEX compute_servers_project ON compute_servers (project_id, deleted_s);
CREATE TABLE compute_project_locks (project_id TEXT PRIMARY KEY, n BIGINT NOT NULL DEFAULT 0)
)SQL";

// Several hosts: each `ciel agent` (or the agent `ciel serve` embeds) keeps a row in
// compute_hosts with its capacity and a heartbeat; a server records the host it was placed on and
// the resources its flavor takes there (so the scheduler sums them in SQL); compute_tasks is the
// work queue between the API nodes and the agents (the database is the only channel between
// nodes). A task is queued, then running (claimed by its host's agent), then gone, or done with
// a result that the API node that asked reads and removes (console output).
constexpr std::string_view kV2 = R"SQL(
CREATE TABLE compute_hosts (name TEXT PRIMARY KEY, vcpus BIGINT NOT NULL, ram_mib BIGINT NOT NULL,
  accelerator TEXT NOT NULL DEFAULT '', state_dir TEXT NOT NULL DEFAULT '', state TEXT NOT NULL DEFAULT 'up',
  started_ms BIGINT NOT NULL, heartbeat_ms BIGINT NOT NULL, placements BIGINT NOT NULL DEFAULT 0);
ALTER TABLE compute_servers ADD COLUMN host TEXT NOT NULL DEFAULT '';
ALTER TABLE compute_servers ADD COLUMN vcpus BIGINT NOT NULL DEFAULT 0;
ALTER TABLE compute_servers ADD COLUMN ram_mib BIGINT NOT NULL DEFAULT 0;
CREATE INDEX compute_servers_host ON compute_servers (host, deleted_s);
CREATE TABLE compute_tasks (id TEXT PRIMARY KEY, host TEXT NOT NULL, server_id TEXT NOT NULL, action TEXT NOT NULL,
  payload TEXT NOT NULL DEFAULT '', state TEXT NOT NULL DEFAULT 'queued', result TEXT NOT NULL DEFAULT '',
  created_ms BIGINT NOT NULL, claimed_ms BIGINT NOT NULL DEFAULT 0, finished_ms BIGINT NOT NULL DEFAULT 0);
CREATE INDEX compute_tasks_queue ON compute_tasks (host, state, created_ms);
CREATE INDEX compute_tasks_server ON compute_tasks (server_id, state)
)SQL";

}  // namespace

std::vector<store::Migration> migrations() { return {{"compute", 1, std::string(kV1), ""}, {"compute", 2, std::string(kV2), ""}}; }

}  // namespace ciel::compute
