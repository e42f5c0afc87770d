// object/settings.h: the object.* settings `ciel serve` declares, and the engine config they give.
#pragma once
#include <chrono>

#include "core/config/settings.h"
#include "object/engine/object_service.h"

namespace ciel::object {

void declare_settings(config::Settings& settings);
// Errc::invalid_argument naming the key for a value out of range.
Result<EngineConfig> config_from(const config::Settings& settings);
std::chrono::milliseconds reaper_interval(const config::Settings& settings);

}  // namespace ciel::object
