// compute/driver/process.h: the child processes the QEMU driver runs: short tools (qemu-img,
// genisoimage) whose output it waits for, and the detached QEMU plus its serial pump. Blocking;
// safe to call from several threads (fork runs only async-signal-safe code in the child).
#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"

namespace ciel::compute::driver {

struct CommandOutput {
  int exit_code = -1;   // -1 if killed by a signal or timed out
  std::string out;      // stdout, at most 1 MiB kept
  std::string err;      // stderr, at most 64 KiB kept
};

// Runs argv[0] (looked up in PATH) with stdin on /dev/null. unavailable if it cannot be spawned
// or runs past `timeout` (then it is killed); a non-zero exit is reported in exit_code, not as an error.
Result<CommandOutput> run_command(const std::vector<std::string>& argv, std::chrono::seconds timeout);

// The absolute path of `name` (itself if it contains '/'), or nullopt if no executable is found.
std::optional<std::string> find_executable(const std::string& name);

struct DetachedSpawn {
  std::string binary;               // absolute path
  std::vector<std::string> argv;    // argv[0] included
  std::string cwd;                  // the child runs here
  std::string stderr_path;          // truncated, receives the child's stderr
  std::uint64_t serial_rotate_at = 0;  // the pump appends fd 3's output to <cwd>/serial.log and renames
                                       // it to serial.log.1 when it reaches this size
  std::string cgroup_procs_path;    // if set, the child joins this cgroup before exec (failure ignored)
};

// Starts `spawn.binary` in a new session, detached from the caller: the caller's child exits at
// once (and is reaped here); a grandchild forks the program, whose fd 3 is the write end of a pipe,
// then becomes the serial pump reading that pipe (/bin/sh running head and mv; exits at EOF). stdin/stdout are /dev/null and every
// other descriptor of the caller is closed. Returns the program's pid. unavailable if a fork fails.
Result<int> spawn_detached(const DetachedSpawn& spawn);

// True if `pid` exists and is not a zombie.
bool process_alive(int pid);

// Waits until `pid` is gone (or a zombie) for up to `timeout`; true if it is gone.
bool wait_process_gone(int pid, std::chrono::milliseconds timeout);

}  // namespace ciel::compute::driver
