#include "compute/driver/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;

namespace ciel::compute::driver {
namespace {

constexpr std::size_t kMaxStdout = 1 << 20;
constexpr std::size_t kMaxStderr = 64 << 10;

std::string errno_text(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

void close_fd(int& fd) {
  if (fd >= 0) {
    ::close(fd);
    fd = -1;
  }
}

int wait_child(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      return -1;
    }
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Everything below runs in forked children of a possibly multithreaded process: only
// async-signal-safe calls, no allocation, no locks.
void write_all(int fd, const char* p, std::size_t len) {
  while (len > 0) {
    ssize_t n = ::write(fd, p, len);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return;
    }
    p += n;
    len -= static_cast<std::size_t>(n);
  }
}

void write_str(int fd, const char* s) { write_all(fd, s, std::strlen(s)); }

void reset_signals() {
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  for (int sig : {SIGHUP, SIGINT, SIGQUIT, SIGPIPE, SIGTERM, SIGCHLD, SIGUSR1, SIGUSR2}) {
    ::sigaction(sig, &dfl, nullptr);
  }
}

// The serial pump: copies the program's serial output (pipe `rd`) into the log, rotating it.
[[noreturn]] void run_pump(int rd, pid_t program, std::uint64_t rotate_at) {
  static char buf[64 * 1024];
  const char* log_path = "serial.log";
  const char* old_path = "serial.log.1";
  int log = ::open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  struct stat st {};
  std::uint64_t size = (log >= 0 && ::fstat(log, &st) == 0) ? static_cast<std::uint64_t>(st.st_size) : 0;
  for (;;) {
    ssize_t n = ::read(rd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      break;
    }
    const char* p = buf;
    auto len = static_cast<std::uint64_t>(n);
    if (size + len > rotate_at) {
      if (len > rotate_at) {  // keep the newest bytes
        p += len - rotate_at;
        len = rotate_at;
      }
      if (log >= 0) {
        ::close(log);
      }
      ::rename(log_path, old_path);
      log = ::open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
      size = 0;
    }
    if (log >= 0) {
      write_all(log, p, static_cast<std::size_t>(len));
    }
    size += len;
  }
  int status = 0;
  while (::waitpid(program, &status, 0) < 0 && errno == EINTR) {
  }
  ::_exit(0);
}

struct SpawnArgs {
  const char* binary;
  char* const* argv;
  const char* cwd;
  const char* stderr_path;
  std::uint64_t rotate_at;
  const char* cgroup_procs;  // may be null
  char* const* pump_argv;
};

[[noreturn]] void run_program(const SpawnArgs& a, int serial_rd, int serial_wr) {
  if (a.cgroup_procs != nullptr) {
    int fd = ::open(a.cgroup_procs, O_WRONLY | O_CLOEXEC);
    if (fd >= 0) {
      write_all(fd, "0\n", 2);
      ::close(fd);
    }
  }
  if (serial_wr != 3) {
    ::dup2(serial_wr, 3);  // may close serial_rd if it was 3: not needed here
  }
  (void)serial_rd;
  int err = ::open(a.stderr_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (err >= 0) {
    ::dup2(err, 2);
  }
  ::close_range(4, ~0U, 0);
  if (::chdir(a.cwd) != 0) {
    write_str(2, "ciel: cannot enter the VM directory\n");
    ::_exit(127);
  }
  ::execv(a.binary, a.argv);
  write_str(2, "ciel: cannot execute ");
  write_str(2, a.binary);
  write_str(2, ": ");
  write_str(2, std::strerror(errno));  // glibc's strerror reads a static table for known codes
  write_str(2, "\n");
  ::_exit(127);
}

[[noreturn]] void run_session_leader(const SpawnArgs& a, int info_wr) {
  ::setsid();
  reset_signals();
  int info = ::fcntl(info_wr, F_DUPFD_CLOEXEC, 10);
  int null_fd = ::open("/dev/null", O_RDWR);
  if (info < 0 || null_fd < 0) {
    ::_exit(1);
  }
  ::dup2(null_fd, 0);
  ::dup2(null_fd, 1);
  ::dup2(null_fd, 2);
  ::close_range(3, static_cast<unsigned>(info - 1), 0);
  ::close_range(static_cast<unsigned>(info + 1), ~0U, 0);
  pid_t pump = ::fork();
  if (pump != 0) {
    ::_exit(pump < 0 ? 1 : 0);  // the pump is orphaned: init (or a subreaper) adopts it
  }
  int serial[2];
  if (::pipe(serial) != 0) {
    int failed = -1;
    write_all(info, reinterpret_cast<const char*>(&failed), sizeof failed);
    ::_exit(1);
  }
  pid_t program = ::fork();
  if (program == 0) {
    run_program(a, serial[0], serial[1]);
  }
  ::close(serial[1]);
  write_all(info, reinterpret_cast<const char*>(&program), sizeof program);
  ::close(info);
  if (program < 0) {
    ::_exit(1);
  }
  // The pump lives as long as the VM: exec a small shell loop rather than stay a fork of the
  // caller, which would pin a copy-on-write snapshot of the caller's memory per VM.
  bool in_dir = ::chdir(a.cwd) == 0;
  if (in_dir) {
    ::dup2(serial[0], 0);
    ::close_range(3, ~0U, 0);
    ::execv("/bin/sh", a.pump_argv);
    serial[0] = 0;
  }
  run_pump(serial[0], program, a.rotate_at);  // no shell (or no directory): the in-process pump
}

}  // namespace

std::optional<std::string> find_executable(const std::string& name) {
  if (name.empty()) {
    return std::nullopt;
  }
  if (name.find('/') != std::string::npos) {
    return ::access(name.c_str(), X_OK) == 0 ? std::optional<std::string>(name) : std::nullopt;
  }
  const char* env = std::getenv("PATH");
  std::string path = env != nullptr && *env != '\0' ? env : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  std::stringstream dirs(path);
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (dir.empty()) {
      continue;
    }
    std::string candidate = dir + "/" + name;
    struct stat st {};
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
  }
  return std::nullopt;
}

Result<CommandOutput> run_command(const std::vector<std::string>& argv, std::chrono::seconds timeout) {
  if (argv.empty()) {
    return make_error(Errc::internal, "empty command");
  }
  auto binary = find_executable(argv[0]);
  if (!binary) {
    return make_error(Errc::unavailable, "a tool the compute driver needs is missing", argv[0] + " not found in PATH");
  }
  int out_pipe[2] = {-1, -1};
  int err_pipe[2] = {-1, -1};
  if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0) {
    std::string detail = errno_text("pipe2");
    close_fd(out_pipe[0]);
    close_fd(out_pipe[1]);
    return make_error(Errc::unavailable, "cannot run a compute tool", detail);
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
  std::vector<char*> args;
  for (const auto& a : argv) {
    args.push_back(const_cast<char*>(a.c_str()));
  }
  args.push_back(nullptr);
  pid_t pid = 0;
  int rc = ::posix_spawn(&pid, binary->c_str(), &actions, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  close_fd(out_pipe[1]);
  close_fd(err_pipe[1]);
  if (rc != 0) {
    close_fd(out_pipe[0]);
    close_fd(err_pipe[0]);
    return make_error(Errc::unavailable, "cannot run a compute tool", *binary + ": " + std::strerror(rc));
  }
  CommandOutput result;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  bool timed_out = false;
  char buf[16 * 1024];
  while (out_pipe[0] >= 0 || err_pipe[0] >= 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
    int n = ::poll(fds, 2, static_cast<int>(left.count()));
    if (n < 0 && errno != EINTR) {
      break;
    }
    for (int i = 0; i < 2; ++i) {
      int& fd = i == 0 ? out_pipe[0] : err_pipe[0];
      if (fd < 0 || (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) {
        continue;
      }
      ssize_t got = ::read(fd, buf, sizeof buf);
      if (got <= 0) {
        if (got < 0 && errno == EINTR) {
          continue;
        }
        close_fd(fd);
        continue;
      }
      std::string& sink = i == 0 ? result.out : result.err;
      std::size_t cap = i == 0 ? kMaxStdout : kMaxStderr;
      sink.append(buf, std::min<std::size_t>(static_cast<std::size_t>(got), cap - std::min(cap, sink.size())));
    }
  }
  close_fd(out_pipe[0]);
  close_fd(err_pipe[0]);
  if (timed_out) {
    ::kill(pid, SIGKILL);
  }
  result.exit_code = wait_child(pid);
  if (timed_out) {
    return make_error(Errc::unavailable, "a compute tool timed out", argv[0] + " ran longer than " +
                                                                         std::to_string(timeout.count()) + " s");
  }
  return result;
}

Result<int> spawn_detached(const DetachedSpawn& spawn) {
  std::vector<char*> args;
  for (const auto& a : spawn.argv) {
    args.push_back(const_cast<char*>(a.c_str()));
  }
  args.push_back(nullptr);
  // The serial pump, run by /bin/sh in the VM's directory with the serial pipe on stdin: head copies
  // up to `half` bytes as they come (appending to what an earlier run left), and when serial.log is
  // full it becomes serial.log.1 (unbuffered, through stdbuf: head's stdio would otherwise hold the bytes back in 8 KiB blocks). head stops short only at EOF, i.e. when QEMU has exited. If the
  // log cannot be written, the pump keeps draining the pipe so QEMU never blocks on its serial port.
  static constexpr const char* kPumpScript =
      "half=$1; size=$(wc -c < serial.log 2>/dev/null || echo 0)\n"
      "while :; do\n"
      "  if [ \"$size\" -lt \"$half\" ]; then\n"
      "    stdbuf -o0 head -c $((half - size)) >> serial.log || exec cat > /dev/null\n"
      "    [ \"$(wc -c < serial.log)\" -lt \"$half\" ] && exit 0\n"
      "  fi\n"
      "  mv -f serial.log serial.log.1 || exec cat > /dev/null\n"
      "  size=0\n"
      "done\n";
  std::string half = std::to_string(spawn.serial_rotate_at);
  std::vector<char*> pump_args = {const_cast<char*>("sh"), const_cast<char*>("-c"), const_cast<char*>(kPumpScript),
                                  const_cast<char*>("ciel-serial-pump"), half.data(), nullptr};
  SpawnArgs a{spawn.binary.c_str(),
              args.data(),
              spawn.cwd.c_str(),
              spawn.stderr_path.c_str(),
              spawn.serial_rotate_at,
              spawn.cgroup_procs_path.empty() ? nullptr : spawn.cgroup_procs_path.c_str(),
              pump_args.data()};
  int info[2];
  if (::pipe2(info, O_CLOEXEC) != 0) {
    return make_error(Errc::unavailable, "cannot start the VM", errno_text("pipe2"));
  }
  pid_t leader = ::fork();
  if (leader == 0) {
    ::close(info[0]);
    run_session_leader(a, info[1]);
  }
  ::close(info[1]);
  if (leader < 0) {
    std::string detail = errno_text("fork");
    ::close(info[0]);
    return make_error(Errc::unavailable, "cannot start the VM", detail);
  }
  wait_child(leader);
  int pid = -1;
  std::size_t got = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (got < sizeof pid && std::chrono::steady_clock::now() < deadline) {
    pollfd p{info[0], POLLIN, 0};
    if (::poll(&p, 1, 200) <= 0) {
      continue;
    }
    ssize_t n = ::read(info[0], reinterpret_cast<char*>(&pid) + got, sizeof pid - got);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      break;
    }
    got += static_cast<std::size_t>(n);
  }
  ::close(info[0]);
  if (got != sizeof pid || pid <= 0) {
    return make_error(Errc::unavailable, "cannot start the VM", "the detached launcher did not report a pid");
  }
  return pid;
}

bool process_alive(int pid) {
  if (pid <= 0) {
    return false;
  }
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (!in || !std::getline(in, stat)) {
    return false;
  }
  auto paren = stat.rfind(')');
  if (paren == std::string::npos || paren + 2 >= stat.size()) {
    return false;
  }
  char state = stat[paren + 2];
  return state != 'Z' && state != 'X';
}

bool wait_process_gone(int pid, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (process_alive(pid)) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return true;
}

}  // namespace ciel::compute::driver
