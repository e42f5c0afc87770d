// identity/password/password.h: password hashing (argon2id through libargon2, kept inside
// password.cc) and the failed-attempt back-off.
//
// Hashing is deliberately expensive, so it runs on the hasher's own small pool (one thread per
// core by default): at most that many hashes run at once, which bounds both CPU and memory
// (argon2 memory cost times threads), and neither the I/O threads nor the shared blocking pool
// wait on it. Thread-safe.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/time.h"

namespace ciel::identity::password {

struct HashParams {
  std::uint32_t memory_kib = 19456;
  std::uint32_t iterations = 2;
  std::uint32_t parallelism = 1;
};

class Hasher {
 public:
  Hasher(HashParams params, unsigned threads);
  ~Hasher();
  Hasher(const Hasher&) = delete;
  Hasher& operator=(const Hasher&) = delete;

  // Blocking: "$argon2id$v=19$m=...,t=...,p=...$salt$hash".
  std::string hash(std::string_view password) const;
  // Blocking: true when `password` matches `encoded` (any argon2id parameters). An empty or
  // malformed `encoded` runs a dummy verification of the same cost and returns false, so unknown
  // users take as long as wrong passwords.
  bool verify(std::string_view encoded, std::string_view password) const;

  // The same on the hasher's pool; the caller resumes on its own executor.
  boost::asio::awaitable<bool> async_verify(std::string encoded, std::string password) const;
  boost::asio::awaitable<std::string> async_hash(std::string password) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

struct BackoffConfig {
  std::uint32_t user_threshold = 5;      // consecutive failures on one account before delays start
  std::uint32_t address_threshold = 30;  // failures from one address before delays start
  std::chrono::milliseconds base{1000};  // first delay; doubles with each further failure
  std::chrono::milliseconds max{300'000};
  std::chrono::seconds forget{900};      // an address's failures are forgotten after this quiet time
};

// Tracks failures per account key (domain + user name, whether or not the user exists, so the
// back-off reveals nothing) and per source address. Thread-safe; in memory, per node.
class Backoff {
 public:
  Backoff(BackoffConfig config, const Clock& clock) : config_(config), clock_(clock) {}
  // True when either key is inside its back-off window: refuse without checking the password.
  bool blocked(std::string_view account, std::string_view address);
  // How long until neither key is in its back-off window (zero: not blocked), for Retry-After.
  std::chrono::milliseconds wait(std::string_view account, std::string_view address);
  void failure(std::string_view account, std::string_view address);
  void success(std::string_view account);

 private:
  struct Entry {
    std::uint32_t failures = 0;
    SystemTime until{};
    SystemTime last{};
  };
  void record(std::unordered_map<std::string, Entry>& map, std::string_view key, std::uint32_t threshold);
  BackoffConfig config_;
  const Clock& clock_;
  std::mutex mu_;
  std::unordered_map<std::string, Entry> accounts_;
  std::unordered_map<std::string, Entry> addresses_;
};

}  // namespace ciel::identity::password
