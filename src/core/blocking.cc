#include "core/blocking.h"

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <exception>
#include <memory>
#include <condition_variable>
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

struct BlockingJob::State {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  std::exception_ptr failure;
  std::function<void()> resume;  // set by wait() when the job is still running
};

BlockingJob::BlockingJob(std::function<void()> fn) : state_(std::make_shared<State>()) {
  boost::asio::post(get_pool(), [state = state_, fn = std::move(fn)] {
    std::exception_ptr failure;
    try {
      fn();
    } catch (...) {
      failure = std::current_exception();
    }
    std::function<void()> resume;
    {
      std::lock_guard lock(state->mu);
      state->done = true;
      state->failure = failure;
      resume = std::move(state->resume);
    }
    state->cv.notify_all();
    if (resume) { resume(); }
  });
}

BlockingJob& BlockingJob::operator=(BlockingJob&& other) noexcept {
  if (this != &other) {
    if (state_) {
      std::unique_lock lock(state_->mu);
      state_->cv.wait(lock, [this] { return state_->done; });
    }
    state_ = std::move(other.state_);
  }
  return *this;
}

BlockingJob::~BlockingJob() {
  if (!state_) { return; }
  std::unique_lock lock(state_->mu);
  state_->cv.wait(lock, [this] { return state_->done; });
}

boost::asio::awaitable<void> BlockingJob::wait() {
  if (!state_) { co_return; }
  auto state_ref = state_;  // keeps the state alive while suspended
  State* state = state_ref.get();
  // The initiation captures only a raw pointer: GCC 12 destroys non-trivial captures of a
  // temporary in a co_await expression twice.
  co_await boost::asio::async_initiate<decltype(boost::asio::use_awaitable), void()>(
      [state](auto handler) {
        auto home = boost::asio::get_associated_executor(handler);
        // The handler is move-only; std::function needs a copyable target, so it lives on the heap.
        auto held = std::make_shared<decltype(handler)>(std::move(handler));
        auto resume = [home, held]() mutable { boost::asio::post(home, std::move(*held)); };
        std::unique_lock lock(state->mu);
        if (state->done) {
          lock.unlock();
          resume();
          return;
        }
        state->resume = std::move(resume);
      },
      boost::asio::use_awaitable);
  std::exception_ptr failure;
  {
    std::lock_guard lock(state->mu);
    failure = state->failure;
    state->failure = nullptr;
  }
  state_.reset();
  if (failure) { std::rethrow_exception(failure); }
}

}  // namespace ciel
