// compute/settings.h: the compute.* settings `ciel serve` declares, and the engine config they give.
#pragma once
#include "compute/compute.h"
#include "core/config/settings.h"

namespace ciel::compute {

void declare_settings(config::Settings& settings);
// Errc::invalid_argument naming the key for a value out of range.
Result<ComputeConfig> config_from(const config::Settings& settings);

}  // namespace ciel::compute
