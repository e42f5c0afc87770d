// box/settings.h: the box.* settings `ciel serve` declares, and the engine config they give.
#pragma once
#include <chrono>

#include "box/box.h"
#include "core/config/settings.h"

namespace ciel::box {

void declare_settings(config::Settings& settings);
// Errc::invalid_argument naming the key for a value out of range.
Result<BoxConfig> config_from(const config::Settings& settings);
std::chrono::milliseconds reaper_interval(const config::Settings& settings);

}  // namespace ciel::box
