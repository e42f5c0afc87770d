// tests/unit/store/crash_content.h: what the crash writer (crash_writer.cc) writes, so the test
// that kills it can tell complete data from torn data without trusting the writer's own records.
#pragma once
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "store/meta_store.h"

namespace ciel::store::crash {

// Row i of the SQLite writer: 1 to 64 KiB of bytes that depend on i.
inline std::string row_payload(std::int64_t i) {
  std::mt19937_64 rng(static_cast<std::uint64_t>(i) * 0x9E3779B97F4A7C15ull + 1);
  std::string s(1 + rng() % (64 * 1024), '\0');
  for (auto& c : s) { c = static_cast<char>('a' + rng() % 26); }
  return s;
}

// Blob `key` of the blob writer: 1 byte to 768 KiB that depend on the key.
inline std::string blob_content(std::string_view key) {
  std::uint64_t seed = 1469598103934665603ull;
  for (char c : key) { seed = (seed ^ static_cast<unsigned char>(c)) * 1099511628211ull; }
  std::mt19937_64 rng(seed);
  std::string s(1 + rng() % (768 * 1024), '\0');
  for (std::size_t i = 0; i < s.size(); i += 8) {
    std::uint64_t r = rng();
    for (std::size_t j = 0; j < 8 && i + j < s.size(); ++j) { s[i + j] = static_cast<char>(r >> (8 * j)); }
  }
  return s;
}

// The SQLite writer's schema; the test reopens the database with it.
inline std::vector<Migration> row_migrations() {
  return {{"crash", 1,
           "CREATE TABLE items (id BIGINT PRIMARY KEY, payload TEXT NOT NULL, digest TEXT NOT NULL);"
           "CREATE TABLE counter (id BIGINT PRIMARY KEY, n BIGINT NOT NULL);"
           "INSERT INTO counter (id, n) VALUES (1, 0)",
           {}}};
}

}  // namespace ciel::store::crash
