#include "identity/password/password.h"

#include <argon2.h>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <algorithm>
#include <functional>
#include <thread>

#include "core/crypto/crypto.h"

namespace ciel::identity::password {

struct Hasher::Impl {
  HashParams params;
  boost::asio::thread_pool pool;
  std::string dummy;  // a hash of a random password, verified for unknown users
  Impl(HashParams p, unsigned threads) : params(p), pool(threads) {}

  boost::asio::awaitable<void> offload(std::function<void()> fn) {
    co_await boost::asio::async_initiate<decltype(boost::asio::use_awaitable), void()>(
        [this, &fn](auto handler) {
          auto home = boost::asio::get_associated_executor(handler);
          boost::asio::post(pool, [handler = std::move(handler), home, &fn]() mutable {
            fn();
            boost::asio::post(home, std::move(handler));
          });
        },
        boost::asio::use_awaitable);
  }
};

Hasher::Hasher(HashParams params, unsigned threads)
    : impl_(std::make_unique<Impl>(params, threads == 0 ? std::max(1u, std::thread::hardware_concurrency()) : threads)) {
  impl_->dummy = hash(crypto::random_token(16));
}

Hasher::~Hasher() { impl_->pool.join(); }

std::string Hasher::hash(std::string_view password) const {
  const auto& p = impl_->params;
  std::string salt = crypto::random_bytes(16);
  std::size_t len = argon2_encodedlen(p.iterations, p.memory_kib, p.parallelism, static_cast<std::uint32_t>(salt.size()), 32,
                                      Argon2_id);
  std::string out(len, '\0');
  int rc = argon2id_hash_encoded(p.iterations, p.memory_kib, p.parallelism, password.data(), password.size(), salt.data(),
                                 salt.size(), 32, out.data(), out.size());
  if (rc != ARGON2_OK) { throw std::runtime_error(std::string("argon2 failed: ") + argon2_error_message(rc)); }
  out.resize(std::strlen(out.c_str()));
  return out;
}

bool Hasher::verify(std::string_view encoded, std::string_view password) const {
  bool real = encoded.starts_with("$argon2id$");
  std::string enc(real ? encoded : std::string_view(impl_->dummy));
  int rc = argon2id_verify(enc.c_str(), password.data(), password.size());
  return real && rc == ARGON2_OK;
}

boost::asio::awaitable<bool> Hasher::async_verify(std::string encoded, std::string password) const {
  bool ok = false;
  co_await impl_->offload([&] { ok = verify(encoded, password); });
  co_return ok;
}

boost::asio::awaitable<std::string> Hasher::async_hash(std::string password) const {
  std::string out;
  co_await impl_->offload([&] { out = hash(password); });
  co_return out;
}

bool Backoff::blocked(std::string_view account, std::string_view address) {
  std::lock_guard lock(mu_);
  auto now = clock_.now();
  if (auto it = accounts_.find(std::string(account)); it != accounts_.end() && now < it->second.until) { return true; }
  if (auto it = addresses_.find(std::string(address)); it != addresses_.end()) {
    if (now - it->second.last > config_.forget) {
      addresses_.erase(it);
    } else if (now < it->second.until) {
      return true;
    }
  }
  return false;
}

std::chrono::milliseconds Backoff::wait(std::string_view account, std::string_view address) {
  if (!blocked(account, address)) { return std::chrono::milliseconds(0); }
  std::lock_guard lock(mu_);
  auto now = clock_.now();
  SystemTime until = now;
  if (auto it = accounts_.find(std::string(account)); it != accounts_.end()) { until = std::max(until, it->second.until); }
  if (auto it = addresses_.find(std::string(address)); it != addresses_.end()) { until = std::max(until, it->second.until); }
  return std::chrono::ceil<std::chrono::milliseconds>(until - now);
}

void Backoff::record(std::unordered_map<std::string, Entry>& map, std::string_view key, std::uint32_t threshold) {
  auto now = clock_.now();
  auto& e = map[std::string(key)];
  if (e.failures > 0 && now - e.last > config_.forget) { e.failures = 0; }
  ++e.failures;
  e.last = now;
  if (e.failures >= threshold) {
    auto shift = std::min<std::uint32_t>(e.failures - threshold, 20);
    auto delay = std::min<std::chrono::milliseconds>(config_.base * (1LL << shift), config_.max);
    e.until = now + delay;
  }
}

void Backoff::failure(std::string_view account, std::string_view address) {
  std::lock_guard lock(mu_);
  if (accounts_.size() > 100'000 || addresses_.size() > 100'000) {
    // Bounded memory: forget entries no longer in a back-off window.
    auto now = clock_.now();
    for (auto* m : {&accounts_, &addresses_}) {
      std::erase_if(*m, [&](const auto& kv) { return now >= kv.second.until && now - kv.second.last > config_.forget; });
    }
  }
  record(accounts_, account, config_.user_threshold);
  record(addresses_, address, config_.address_threshold);
}

void Backoff::success(std::string_view account) {
  std::lock_guard lock(mu_);
  accounts_.erase(std::string(account));
}

}  // namespace ciel::identity::password
