// cli/settings.h: the settings of the core (server, logging, stores) and how `ciel` loads them
// (defaults < --config TOML file < CIEL_* environment < flags).
#pragma once
#include <string>
#include <vector>

#include "core/config/settings.h"

namespace ciel::cli {

void declare_core_settings(config::Settings& settings);

struct LoadOptions {
  std::string config_file;                 // --config; empty: DATA_DIR/ciel.toml when it exists
  std::vector<std::string> assignments;    // --set key=value, applied last
};

// Prints "ciel: <message>" and exits with status 2 on a bad setting.
void load_or_exit(config::Settings& settings, const LoadOptions& options, char** envp);

}  // namespace ciel::cli
