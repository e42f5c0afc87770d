#include "unit/store/crash_child.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <random>

namespace ciel::store::crash {

std::chrono::microseconds random_delay(std::chrono::microseconds max) {
  static std::mt19937_64 rng{std::random_device{}()};
  return std::chrono::microseconds(static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(std::max<std::int64_t>(1, max.count()))));
}

KilledRun run_and_kill(const std::string& mode, const std::string& dir, std::size_t acks, std::chrono::microseconds delay,
                       std::chrono::seconds timeout) {
  KilledRun out;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    out.problem = std::string("pipe: ") + std::strerror(errno);
    return out;
  }
  // Everything the child needs is built before fork: between fork and exec only
  // async-signal-safe calls are allowed (the test process has threads).
  std::string exe = CIEL_CRASH_WRITER;
  std::string mode_arg = mode;
  std::string dir_arg = dir;
  char* argv[] = {exe.data(), mode_arg.data(), dir_arg.data(), nullptr};
  pid_t pid = ::fork();
  if (pid < 0) {
    out.problem = std::string("fork: ") + std::strerror(errno);
    ::close(fds[0]);
    ::close(fds[1]);
    return out;
  }
  if (pid == 0) {
    ::dup2(fds[1], STDOUT_FILENO);
    ::execv(argv[0], argv);
    ::_exit(127);
  }
  ::close(fds[1]);

  std::string buf;
  std::size_t lines = 0;
  bool sent_kill = false;
  std::optional<std::chrono::steady_clock::time_point> kill_at;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  auto send_kill = [&] {
    ::kill(pid, SIGKILL);
    sent_kill = true;
    deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);  // the pipe closes once it is dead
  };
  for (;;) {
    auto now = std::chrono::steady_clock::now();
    if (!kill_at && lines >= acks) { kill_at = now + delay; }
    if (!sent_kill && kill_at && now >= *kill_at) { send_kill(); }
    if (now >= deadline) {
      if (sent_kill) {
        out.problem = "the writer's output did not end after it was killed";
        break;
      }
      out.problem = "the writer acknowledged " + std::to_string(lines) + " writes before the timeout, not " + std::to_string(acks);
      send_kill();
      continue;
    }
    auto wake = deadline;
    if (!sent_kill && kill_at) { wake = std::min(wake, *kill_at); }
    // poll counts in milliseconds: round up so a short delay is not a busy loop.
    auto wait_ms = std::chrono::ceil<std::chrono::milliseconds>(wake - now).count();
    pollfd p{fds[0], POLLIN, 0};
    int rc = ::poll(&p, 1, static_cast<int>(std::clamp<long long>(wait_ms, 0, 1000)));
    if (rc < 0 && errno != EINTR) {
      out.problem = std::string("poll: ") + std::strerror(errno);
      break;
    }
    if (rc <= 0) { continue; }
    char chunk[4096];
    ssize_t n = ::read(fds[0], chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) { continue; }
    if (n <= 0) { break; }
    for (ssize_t i = 0; i < n; ++i) {
      if (chunk[i] == '\n') {
        out.acked.push_back(buf);
        buf.clear();
        ++lines;
      } else {
        buf.push_back(chunk[i]);
      }
    }
  }
  ::close(fds[0]);
  if (!sent_kill) { ::kill(pid, SIGKILL); }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
  out.killed = sent_kill && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
  if (out.problem.empty() && !out.killed) {
    out.problem = WIFEXITED(status) ? "the writer exited with status " + std::to_string(WEXITSTATUS(status)) + " before it was killed"
                                    : "the writer died of signal " + std::to_string(WTERMSIG(status));
  }
  return out;
}

}  // namespace ciel::store::crash
