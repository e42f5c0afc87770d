// compute/scheduler.h: where a new server goes. Among the live compute hosts (an agent's
// heartbeat within compute.agent_timeout), one whose free vCPUs and free RAM (its capacity minus
// the flavors of its servers that are not deleted) fit the flavor; the one with the most free RAM
// first (ties: the most free vCPUs, then the name), as Nova's RAM weigher spreads servers.
// Pure arithmetic; the service reads and locks the rows (engine/service.cc, place()).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ciel::compute {

struct HostCapacity {
  std::string name;
  std::int64_t free_vcpus = 0, free_ram_mib = 0;  // may be negative after a capacity was lowered
  std::string accelerator;
};

inline bool fits(const HostCapacity& h, std::int64_t vcpus, std::int64_t ram_mib) {
  return h.free_vcpus >= vcpus && h.free_ram_mib >= ram_mib;
}

// The index in `hosts` of the host to use, or nullopt when none fits.
std::optional<std::size_t> pick_host(const std::vector<HostCapacity>& hosts, std::int64_t vcpus, std::int64_t ram_mib);

}  // namespace ciel::compute
