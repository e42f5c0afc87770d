// core/blocking.h: the bounded blocking pool. SQLite, fsync, argon2, process spawns and other
// blocking calls run here and are awaited, so the I/O threads never stall. A fixed number of
// threads (config server.blocking_threads) bounds how much blocking work runs at once; excess
// work queues.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <cstddef>
#include <functional>
#include <optional>
#include <type_traits>
#include <utility>

namespace ciel {

void start_blocking_pool(std::size_t threads);
void stop_blocking_pool();

// Runs `fn` on the blocking pool and resumes the caller on its own executor afterwards.
boost::asio::awaitable<void> run_blocking_void(std::function<void()> fn);

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
