#include "core/log/log.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstdlib>
#include <memory>

#include "core/check.h"

namespace ciel::log {
namespace {
std::shared_ptr<spdlog::logger>& main_logger() {
  static std::shared_ptr<spdlog::logger> logger = [] {
    auto l = std::make_shared<spdlog::logger>("ciel", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    l->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc);
    return l;
  }();
  return logger;
}
std::shared_ptr<spdlog::logger> access_logger;

spdlog::level::level_enum to_spd(Level l) {
  switch (l) {
    case Level::debug: return spdlog::level::debug;
    case Level::info: return spdlog::level::info;
    case Level::warn: return spdlog::level::warn;
    case Level::error: return spdlog::level::err;
  }
  return spdlog::level::info;
}
}  // namespace

void init(const LogConfig& config) {
  main_logger()->set_level(to_spd(config.level));
  if (!config.access_log_path.empty()) {
    auto sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(config.access_log_path);
    access_logger = std::make_shared<spdlog::logger>("access", sink);
    access_logger->set_pattern("%v");
    // One write(2) per record: a line is on disk (for tail -f, log shippers and tests) as soon as
    // its request ends, and never split across two writes.
    access_logger->flush_on(spdlog::level::info);
  } else {
    access_logger.reset();
  }
}

void write(Level level, std::string_view message) { main_logger()->log(to_spd(level), "{}", message); }

void access(std::string_view line) {
  if (auto l = access_logger) { l->info("{}", line); }
}

void flush() {
  main_logger()->flush();
  if (auto l = access_logger) { l->flush(); }
}

Level parse_level(std::string_view text, bool* ok) {
  *ok = true;
  if (text == "debug") { return Level::debug; }
  if (text == "info") { return Level::info; }
  if (text == "warn") { return Level::warn; }
  if (text == "error") { return Level::error; }
  *ok = false;
  return Level::info;
}

}  // namespace ciel::log

namespace ciel::detail {
void check_failed(const char* expr, const char* file, int line) {
  ciel::log::error("check failed: {} at {}:{}", expr, file, line);
  ciel::log::flush();
  std::abort();
}
}  // namespace ciel::detail
