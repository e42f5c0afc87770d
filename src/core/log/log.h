// core/log/log.h: Ciel's logging. One process-wide logger (spdlog, kept inside log.cc) for
// operational messages, and a separate access log with one structured line per request.
// Thread-safe; callable from I/O threads (writes are buffered, not fsynced).
#pragma once
#include <fmt/format.h>

#include <string>
#include <string_view>

namespace ciel::log {

enum class Level { debug, info, warn, error };

struct LogConfig {
  Level level = Level::info;     // minimum level printed on stderr
  std::string access_log_path;   // empty: no access log
};

void init(const LogConfig& config);
void write(Level level, std::string_view message);
void access(std::string_view line);  // one already-formatted access-log record
void flush();
Level parse_level(std::string_view text, bool* ok);

template <class... Args>
void debug(fmt::format_string<Args...> f, Args&&... args) { write(Level::debug, fmt::format(f, std::forward<Args>(args)...)); }
template <class... Args>
void info(fmt::format_string<Args...> f, Args&&... args) { write(Level::info, fmt::format(f, std::forward<Args>(args)...)); }
template <class... Args>
void warn(fmt::format_string<Args...> f, Args&&... args) { write(Level::warn, fmt::format(f, std::forward<Args>(args)...)); }
template <class... Args>
void error(fmt::format_string<Args...> f, Args&&... args) { write(Level::error, fmt::format(f, std::forward<Args>(args)...)); }

}  // namespace ciel::log
