// core/config/settings.h: every tunable of `ciel serve` in one registry. Each module declares
// its settings (key, kind, default, help); values are layered defaults < TOML file < CIEL_*
// environment variables < command-line flags. A bad value is an Error naming the key, which
// the CLI prints on one line before exiting with status 2. Not thread-safe while loading;
// read-only afterwards.
#pragma once
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace ciel::config {

enum class Kind { string, integer, boolean, duration, bytes };

struct SettingSpec {
  std::string key;            // dotted, e.g. "server.listen"
  Kind kind = Kind::string;
  std::string default_value;  // in the same syntax a user writes
  std::string help;
};

class Settings {
 public:
  // Declaring a key twice keeps the first declaration (modules may share settings).
  void declare(SettingSpec spec);

  // Errc::invalid_argument naming the key on an unknown key or a value of the wrong kind.
  Status set(std::string_view key, std::string_view value, std::string_view source);
  Status load_toml_file(const std::string& path);
  Status load_toml_string(std::string_view text, std::string_view source);
  // Applies CIEL_<KEY> variables, the key upper-cased with dots as underscores
  // (server.listen -> CIEL_SERVER_LISTEN). Unknown CIEL_ variables are ignored.
  Status apply_environment(char** envp);

  bool has(std::string_view key) const;
  std::string get_string(std::string_view key) const;
  std::int64_t get_int(std::string_view key) const;
  bool get_bool(std::string_view key) const;
  std::chrono::milliseconds get_duration(std::string_view key) const;
  std::uint64_t get_bytes(std::string_view key) const;

  // One paragraph per setting: key, kind, default, help, environment variable.
  std::string help_text() const;
  const std::vector<SettingSpec>& specs() const { return specs_; }

 private:
  const SettingSpec* find(std::string_view key) const;
  std::vector<SettingSpec> specs_;
  std::map<std::string, std::string, std::less<>> values_;
};

// Parsers shared with flags: "30s", "5m", "250ms", "1h"; "64KiB", "10MiB", "1GiB", plain bytes.
Result<std::chrono::milliseconds> parse_duration(std::string_view text);
Result<std::uint64_t> parse_bytes(std::string_view text);
std::string env_name(std::string_view key);

}  // namespace ciel::config
