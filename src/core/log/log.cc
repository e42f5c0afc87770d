#include "core/log/log.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
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
// The access log is an O_APPEND descriptor fed from one in-memory buffer: request threads append
// a line under a short lock, and the buffer is written when it passes 64 KiB or, at the latest,
// every 200 ms by a flusher thread (and at exit). Lines are never split or interleaved, and a
// request never waits for the disk. A kill -9 loses at most the last 200 ms of log lines.
constexpr std::size_t kAccessBufferBytes = 64 * 1024;
std::atomic<int> access_fd{-1};
std::mutex access_mu;        // guards access_buf
std::string access_buf;
std::mutex access_write_mu;  // serialises writes, so lines reach the file in order
std::thread access_flusher;
std::mutex flusher_mu;
std::condition_variable flusher_cv;
bool flusher_stop = false;

void write_fully(int fd, const std::string& data) {
  std::size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) { continue; }
      return;  // a full disk loses log lines, never requests
    }
    off += static_cast<std::size_t>(n);
  }
}

void flush_access() {
  std::lock_guard write_lock(access_write_mu);
  std::string out;
  {
    std::lock_guard lock(access_mu);
    out.swap(access_buf);
  }
  int fd = access_fd.load();
  if (fd >= 0 && !out.empty()) { write_fully(fd, out); }
}

void stop_flusher() {
  if (access_flusher.joinable()) {
    {
      std::lock_guard lock(flusher_mu);
      flusher_stop = true;
    }
    flusher_cv.notify_all();
    access_flusher.join();
    flusher_stop = false;
  }
  flush_access();
}

// Joins the flusher and writes what is left when the program exits (normally or through exit()).
struct FlusherGuard {
  ~FlusherGuard() { stop_flusher(); }
} flusher_guard;

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
  stop_flusher();
  int fd = -1;
  if (!config.access_log_path.empty()) {
    fd = ::open(config.access_log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd < 0) { write(Level::warn, "cannot open the access log " + config.access_log_path + "; requests are not logged"); }
  }
  int old = access_fd.exchange(fd);
  if (old >= 0) { ::close(old); }
  if (fd >= 0) {
    access_flusher = std::thread([] {
      std::unique_lock lock(flusher_mu);
      while (!flusher_stop) {
        flusher_cv.wait_for(lock, std::chrono::milliseconds(200));
        lock.unlock();
        flush_access();
        lock.lock();
      }
    });
  }
}

void write(Level level, std::string_view message) { main_logger()->log(to_spd(level), "{}", message); }

void access(std::string_view line) {
  if (access_fd.load(std::memory_order_relaxed) < 0) { return; }
  bool full = false;
  {
    std::lock_guard lock(access_mu);
    access_buf.append(line);
    access_buf.push_back('\n');
    full = access_buf.size() >= kAccessBufferBytes;
  }
  if (full) { flush_access(); }
}

void flush() {
  main_logger()->flush();
  flush_access();
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
