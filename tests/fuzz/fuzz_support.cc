// What the fuzzed core files need from the rest of core without linking the logger, and a way to
// run coroutines (fuzz_coro.h).
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <cstdio>
#include <cstdlib>
#include <exception>

#include "core/check.h"
#include "fuzz_coro.h"

namespace ciel::detail {
void check_failed(const char* expr, const char* file, int line) {
  std::fprintf(stderr, "CIEL_CHECK failed: %s at %s:%d\n", expr, file, line);
  std::abort();
}
}  // namespace ciel::detail

namespace ciel::fuzz {

void run_to_completion(std::function<boost::asio::awaitable<void>()> fn) {
  static boost::asio::io_context io;
  bool done = false;
  bool threw = false;
  boost::asio::co_spawn(io, fn(), [&](std::exception_ptr e) {
    done = true;
    threw = e != nullptr;
  });
  io.restart();
  io.run();
  if (threw || !done) {
    std::fprintf(stderr, "coroutine %s\n", threw ? "threw" : "did not finish");
    std::abort();
  }
}

}  // namespace ciel::fuzz
