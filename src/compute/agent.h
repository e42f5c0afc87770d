// compute/agent.h: the compute agent of one host. It owns the host's hypervisor and its state
// directory (VM disks, consoles, the image cache), and talks to the API nodes only through the
// metadata store: it keeps its row in compute_hosts (capacity, heartbeat), claims the tasks the
// API nodes queue for its host in compute_tasks (boot, start, stop, reboot, delete, console),
// drives the hypervisor and writes each server's state back to compute_servers.
//
// `ciel agent` runs one on each hypervisor host; `ciel serve` runs one for its own host unless
// compute.local_agent is false (a scale-out API node that only schedules).
//
// Wake-up: the agent polls the queue (an indexed query, every AgentConfig::poll). The MetaStore
// offers no notification channel (LISTEN/NOTIFY would need a connection held outside the pool
// and has no SQLite counterpart); an agent in the same process as the API is woken directly.
// Claims: on PostgreSQL SELECT ... FOR UPDATE SKIP LOCKED, then an UPDATE that only a queued row
// passes; on SQLite the single writer serialises the same statements. One server's tasks run in
// the order they were queued, one at a time (console reads excepted); different servers' run
// concurrently.
//
// Threads: run() is a coroutine on the caller's executor; hypervisor calls and SQL go to the
// blocking pool.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "core/result.h"

namespace ciel::store {
class MetaStore;
class BlobStore;
}  // namespace ciel::store

namespace ciel::compute {
namespace driver {
class Hypervisor;
}

// Every default is what `ciel agent` declares (agent.*, compute.*).
struct AgentConfig {
  std::string host;                              // agent.name: this host's name (default: the machine's hostname)
  std::uint32_t vcpus = 1;                       // agent.vcpus: vCPUs the scheduler may place here
  std::uint64_t ram_mib = 1024;                  // agent.ram: RAM (MiB) the scheduler may place here
  std::string state_dir;                         // agent.state_dir: recorded in the host row
  std::string cache_dir;                         // STATE_DIR/images: base images the VMs' overlays sit on
  std::chrono::milliseconds poll{250};           // agent.poll: how often the queue is read when idle
  std::chrono::milliseconds heartbeat{2000};     // agent.heartbeat: how often the host row is refreshed
  std::chrono::seconds shutdown_timeout{60};     // compute.shutdown_timeout
  // ciel serve's own agent: servers made before compute hosts existed (host '') become its own.
  bool adopt_unplaced = false;
};

class Agent {
 public:
  virtual ~Agent() = default;
  // Registers the host (or updates its row: capacity, accelerator, heartbeat), puts back the
  // tasks a previous run of this agent left unfinished, and reconciles this host's servers with
  // the VMs the hypervisor finds: running ones are reattached, dead ones marked SHUTOFF,
  // interrupted builds ERROR, VM directories of deleted servers removed. Only servers placed on
  // this host are touched. Blocking; at startup.
  virtual Status start() = 0;
  // Heartbeats and runs this host's tasks until stop().
  virtual boost::asio::awaitable<void> run() = 0;
  // Thread-safe: a task was queued (read the queue now rather than at the next poll).
  virtual void wake() = 0;
  // Thread-safe: run() returns soon; tasks in progress are left to the next start().
  virtual void stop() = 0;
};

std::unique_ptr<Agent> make_agent(store::MetaStore& meta, store::BlobStore& images, driver::Hypervisor& hypervisor, AgentConfig config);

}  // namespace ciel::compute
