// compute/engine/rows.h: how compute rows map to the engine's types, shared by the API-side
// service (engine/service.cc) and the agent that runs the VMs (engine/agent.cc). Internal to the
// compute module.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "compute/compute.h"
#include "core/result.h"

namespace ciel::store {
class BlobStore;
class Row;
class Tx;
}  // namespace ciel::store

namespace ciel::compute::rows {

std::int64_t now_s();
std::int64_t now_ms();
std::string uuid();  // RFC 4122 version 4

std::string map_json(const std::map<std::string, std::string>& m);
std::map<std::string, std::string> json_map(const std::string& text);

// The flavor snapshot a server keeps (JSON text in compute_servers.flavor).
std::string flavor_text(const Flavor& f);
Flavor flavor_of_text(const std::string& text);

// The columns server_from() reads, in its order (a SELECT list over compute_servers).
// The channel on which queueing a task wakes the agents (PostgreSQL notices; see MetaStore::subscribe).
inline constexpr std::string_view kTaskNotices = "ciel_compute_tasks";

inline constexpr std::string_view kServerCols =
    "id, name, project_id, user_id, image_id, key_name, flavor, metadata, status, vm_state, task_state, power_state, fault_message, "
    "fault_code, fault_s, ssh_port, accelerator, config_drive, created_s, updated_s, launched_s, host";
Server server_from(const store::Row& r);

// Records a server's state as the agent (or a local delete) saw it. An empty `fault` keeps the
// previous fault; a non-empty one is recorded with code 500 and the time. `deleted` sets deleted_s.
Status set_server_state(store::Tx& tx, const std::string& id, const std::string& status, const std::string& vm_state,
                        const std::string& task, int power, const std::string& fault, bool deleted);

// Copies blob `key` into the local file `path` (through a temp file beside it, fsynced, then
// renamed), for blob stores without file descriptors (RADOS). Errc::not_found, unavailable.
boost::asio::awaitable<Status> copy_blob_to_file(store::BlobStore& blobs, std::string key, std::string path);

}  // namespace ciel::compute::rows
