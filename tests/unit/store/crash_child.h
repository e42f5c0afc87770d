// tests/unit/store/crash_child.h: runs the crash writer (crash_writer.cc) in a child process and
// SIGKILLs it once it has acknowledged enough writes.
#pragma once
#include <chrono>
#include <string>
#include <vector>

namespace ciel::store::crash {

struct KilledRun {
  std::vector<std::string> acked;  // every line the writer printed, i.e. every acknowledged write
  bool killed = false;             // true if it died of our SIGKILL (not an exit or another signal)
  std::string problem;             // why the run is not usable, if it is not
};

// Starts `ciel_store_crash_writer MODE DIR`, waits until it has printed `acks` lines, kills it
// with SIGKILL mid-stream, reads what it had printed before dying and reaps it. Gives up (kills
// it, and says so in `problem`) after `timeout`.
KilledRun run_and_kill(const std::string& mode, const std::string& dir, std::size_t acks,
                       std::chrono::seconds timeout = std::chrono::seconds(120));

}  // namespace ciel::store::crash
