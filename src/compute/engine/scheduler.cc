#include "compute/scheduler.h"

#include <tuple>

namespace ciel::compute {

std::optional<std::size_t> pick_host(const std::vector<HostCapacity>& hosts, std::int64_t vcpus, std::int64_t ram_mib) {
  std::optional<std::size_t> best;
  for (std::size_t i = 0; i < hosts.size(); ++i) {
    const auto& h = hosts[i];
    if (!fits(h, vcpus, ram_mib)) { continue; }
    if (!best) {
      best = i;
      continue;
    }
    const auto& b = hosts[*best];
    // More free RAM, then more free vCPUs, then the smaller name (a stable choice).
    if (std::tuple(h.free_ram_mib, h.free_vcpus) > std::tuple(b.free_ram_mib, b.free_vcpus) ||
        (std::tuple(h.free_ram_mib, h.free_vcpus) == std::tuple(b.free_ram_mib, b.free_vcpus) && h.name < b.name)) {
      best = i;
    }
  }
  return best;
}

}  // namespace ciel::compute
