// tests/support/test_support.h: helpers shared by the unit tests: a temp directory per test and
// a way to run a coroutine to completion on a private io_context.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <functional>
#include <string>

namespace ciel::test {

// A fresh directory under $TMPDIR, removed when the object dies.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Runs `fn` on a private io_context until it finishes; rethrows its exception.
void run_coro(std::function<boost::asio::awaitable<void>()> fn);

}  // namespace ciel::test
