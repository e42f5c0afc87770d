// core/process.h: running a short-lived helper program (qemu-img, ssh-keygen, xorriso) and
// collecting what it prints. Blocking: call it on the blocking pool. The program gets no shell,
// a closed stdin unless given a descriptor, and is killed when it overruns its time limit.
#pragma once
#include <chrono>
#include <string>
#include <vector>

#include "core/result.h"

namespace ciel {

struct ProcessResult {
  int exit_code = -1;  // -1 when killed by a signal (time limit included)
  std::string out, err;
};

struct ProcessOptions {
  int stdin_fd = -1;  // a descriptor to read as stdin (the caller keeps it); -1: /dev/null
  std::chrono::milliseconds timeout{60'000};
  std::size_t max_output = 1 << 20;  // bytes kept of each of stdout and stderr
};

// Errc::unavailable when the program cannot be started or overruns the time limit.
Result<ProcessResult> run_process(const std::vector<std::string>& argv, const ProcessOptions& options = {});

}  // namespace ciel
