// core/blocking.h: the bounded blocking pool. SQLite, fsync, argon2, process spawns and other
// blocking calls run here and are awaited, so the I/O threads never stall. A fixed number of
// threads (config server.blocking_threads) bounds how much blocking work runs at once; excess
// work queues.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

namespace ciel {

void start_blocking_pool(std::size_t threads);
void stop_blocking_pool();

// Runs `fn` on the blocking pool and resumes the caller on its own executor afterwards.
boost::asio::awaitable<void> run_blocking_void(std::function<void()> fn);

// Blocking work started now and awaited later, so a coroutine can overlap it with its own I/O
// (receive the next chunk of an upload while this one is hashed and written). `fn` must stay
// valid, with everything it refers to, until wait() returns; the destructor waits (blocking)
// for a job that was never awaited, so an early return cannot leave it running on freed data.
class BlockingJob {
 public:
  BlockingJob() = default;
  explicit BlockingJob(std::function<void()> fn);
  BlockingJob(BlockingJob&&) noexcept = default;
  BlockingJob& operator=(BlockingJob&&) noexcept;
  BlockingJob(const BlockingJob&) = delete;
  BlockingJob& operator=(const BlockingJob&) = delete;
  ~BlockingJob();
  // Resumes on the caller's executor once the job is done; rethrows its exception. A job that
  // was never started is done.
  boost::asio::awaitable<void> wait();

 private:
  struct State;
  std::shared_ptr<State> state_;
};

template <class F>
boost::asio::awaitable<std::invoke_result_t<F&>> run_blocking(F fn) {
  using R = std::invoke_result_t<F&>;
  if constexpr (std::is_void_v<R>) {
    co_await run_blocking_void([&fn] { fn(); });
  } else {
    std::optional<R> out;
    co_await run_blocking_void([&] { out.emplace(fn()); });
    co_return std::move(*out);
  }
}

}  // namespace ciel
