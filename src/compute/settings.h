// compute/settings.h: the compute.* settings `ciel serve` declares, and the engine config they give.
#pragma once
#include "compute/agent.h"
#include "compute/compute.h"
#include "core/config/settings.h"

namespace ciel::compute {

void declare_settings(config::Settings& settings);
// Errc::invalid_argument naming the key for a value out of range.
Result<ComputeConfig> config_from(const config::Settings& settings);

// The agent of this host (agent.*): `data_dir` is the resolved data directory, for the default
// state directory (compute.state_dir, else DATA_DIR/compute). Capacity defaults come from the
// machine: 4 vCPUs per core (Nova's initial CPU allocation ratio) and all of its RAM.
Result<AgentConfig> agent_config_from(const config::Settings& settings, const std::string& data_dir);

}  // namespace ciel::compute
