// cli/compute_host.h: what `ciel serve` (its own agent) and `ciel agent` share to run VMs on
// this machine: the QEMU hypervisor the settings describe.
#pragma once
#include <memory>
#include <string>

#include "compute/driver/hypervisor.h"
#include "core/config/settings.h"

namespace ciel::cli {

// The QEMU driver over STATE_DIR/vms (compute.accel, compute.console_max). Exits with status 2
// and a message on a bad setting.
std::unique_ptr<compute::driver::Hypervisor> open_hypervisor(const config::Settings& settings, const std::string& state_dir);

}  // namespace ciel::cli
