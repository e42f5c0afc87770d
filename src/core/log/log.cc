#include "core/log/log.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
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
// The access log is a plain O_APPEND descriptor: each record is one write(2) of a whole line, so
// lines are on disk (for tail -f, log shippers and tests) as soon as a request ends, are never
// split or interleaved, and I/O threads share no lock or reference count to write them.
std::atomic<int> access_fd{-1};

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
  int fd = -1;
  if (!config.access_log_path.empty()) {
    fd = ::open(config.access_log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd < 0) { write(Level::warn, "cannot open the access log " + config.access_log_path + "; requests are not logged"); }
  }
  int old = access_fd.exchange(fd);
  if (old >= 0) { ::close(old); }
}

void write(Level level, std::string_view message) { main_logger()->log(to_spd(level), "{}", message); }

void access(std::string_view line) {
  int fd = access_fd.load(std::memory_order_relaxed);
  if (fd < 0) { return; }
  thread_local std::string buf;
  buf.assign(line);
  buf.push_back('\n');
  // A failed or short write loses one log line, never the request.
  [[maybe_unused]] ssize_t n = ::write(fd, buf.data(), buf.size());
}

void flush() {
  main_logger()->flush();
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
