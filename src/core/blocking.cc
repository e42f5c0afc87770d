#include "core/blocking.h"

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <exception>
#include <memory>
#include <mutex>

namespace ciel {
namespace {
std::mutex pool_mu;
std::unique_ptr<boost::asio::thread_pool> pool;

boost::asio::thread_pool& get_pool() {
  std::lock_guard lock(pool_mu);
  if (!pool) { pool = std::make_unique<boost::asio::thread_pool>(4); }
  return *pool;
}
}  // namespace

void start_blocking_pool(std::size_t threads) {
  std::lock_guard lock(pool_mu);
  if (pool) {
    pool->join();
  }
  pool = std::make_unique<boost::asio::thread_pool>(threads == 0 ? 1 : threads);
}

void stop_blocking_pool() {
  std::lock_guard lock(pool_mu);
  if (pool) {
    pool->join();
    pool.reset();
  }
}

boost::asio::awaitable<void> run_blocking_void(std::function<void()> fn) {
  std::exception_ptr failure;
  // The coroutine's handler is moved onto the pool with the work, and posted back to the
  // coroutine's own executor when the work is done.
  co_await boost::asio::async_initiate<decltype(boost::asio::use_awaitable), void()>(
      [&fn, &failure](auto handler) {
        auto home = boost::asio::get_associated_executor(handler);
        boost::asio::post(get_pool(), [handler = std::move(handler), home, &fn, &failure]() mutable {
          try {
            fn();
          } catch (...) {
            failure = std::current_exception();
          }
          boost::asio::post(home, std::move(handler));
        });
      },
      boost::asio::use_awaitable);
  if (failure) { std::rethrow_exception(failure); }
}

}  // namespace ciel
