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

// Starts `ciel_store_crash_writer MODE DIR`, waits until it has printed `acks` lines, lets it
// run `delay` longer (so the kill lands at a different point of a write each time), kills it
// with SIGKILL, reads what it had printed before dying and reaps it. Gives up (kills it, and
// says so in `problem`) after `timeout`.
KilledRun run_and_kill(const std::string& mode, const std::string& dir, std::size_t acks,
                       std::chrono::microseconds delay,
                       std::chrono::seconds timeout = std::chrono::seconds(120));

// A delay in [0, max) for run_and_kill, drawn from a seeded generator so runs vary.
std::chrono::microseconds random_delay(std::chrono::microseconds max);

}  // namespace ciel::store::crash
