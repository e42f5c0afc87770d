#include "support/test_support.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <stdexcept>

namespace ciel::test {

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base != nullptr ? base : "/tmp") + "/ciel-test-XXXXXX";
  char* made = ::mkdtemp(tmpl.data());
  if (made == nullptr) { throw std::runtime_error("mkdtemp failed"); }
  path_ = made;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

void run_coro(std::function<boost::asio::awaitable<void>()> fn) {
  boost::asio::io_context io;
  std::exception_ptr failure;
  bool done = false;
  boost::asio::co_spawn(io, fn(), [&](std::exception_ptr e) {
    failure = e;
    done = true;
  });
  io.run();
  if (failure) { std::rethrow_exception(failure); }
  if (!done) { throw std::runtime_error("coroutine did not finish"); }
}

}  // namespace ciel::test
