#include "core/metrics/metrics.h"

#include <array>
#include <map>
#include <memory>
#include <mutex>
#include <vector>
#include <tuple>

namespace ciel::metrics {
namespace {

constexpr std::array<double, 12> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5};

struct GroupStats {
  std::map<unsigned, std::uint64_t> by_status;
  std::array<std::uint64_t, kBuckets.size()> buckets{};
  std::uint64_t count = 0;
  double sum_seconds = 0;
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;
};

struct Named {
  std::string help;
  std::int64_t value = 0;
  bool gauge = false;
};

// Request statistics are kept per I/O thread (each shard's lock is uncontended on the hot path)
// and merged when /metrics is read.
struct Shard {
  std::mutex mu;
  std::map<std::string, GroupStats, std::less<>> groups;
};

struct State {
  std::mutex mu;
  std::vector<std::shared_ptr<Shard>> shards;
  std::map<std::string, Named, std::less<>> named;
};

State& state() {
  static State s;
  return s;
}

Shard& my_shard() {
  thread_local std::shared_ptr<Shard> shard = [] {
    auto sh = std::make_shared<Shard>();
    auto& s = state();
    std::lock_guard lock(s.mu);
    s.shards.push_back(sh);
    return sh;
  }();
  return *shard;
}

}  // namespace

void record_request(std::string_view group, unsigned status, std::chrono::nanoseconds latency, std::uint64_t bytes_in,
                    std::uint64_t bytes_out) {
  double secs = std::chrono::duration<double>(latency).count();
  Shard& sh = my_shard();
  std::lock_guard lock(sh.mu);
  auto it = sh.groups.find(group);
  if (it == sh.groups.end()) { it = sh.groups.emplace(std::string(group), GroupStats{}).first; }
  GroupStats& g = it->second;
  ++g.by_status[status];
  ++g.count;
  g.sum_seconds += secs;
  g.bytes_in += bytes_in;
  g.bytes_out += bytes_out;
  for (std::size_t i = 0; i < kBuckets.size(); ++i) {
    if (secs <= kBuckets[i]) { ++g.buckets[i]; }
  }
}

void add(std::string_view name, std::string_view help, std::uint64_t delta) {
  auto& s = state();
  std::lock_guard lock(s.mu);
  auto it = s.named.find(name);
  if (it == s.named.end()) { it = s.named.emplace(std::string(name), Named{std::string(help), 0, false}).first; }
  it->second.value += static_cast<std::int64_t>(delta);
}

void set_gauge(std::string_view name, std::string_view help, std::int64_t value) {
  auto& s = state();
  std::lock_guard lock(s.mu);
  auto it = s.named.find(name);
  if (it == s.named.end()) { it = s.named.emplace(std::string(name), Named{std::string(help), 0, true}).first; }
  it->second.value = value;
}

void add_gauge(std::string_view name, std::string_view help, std::int64_t delta) {
  auto& s = state();
  std::lock_guard lock(s.mu);
  auto it = s.named.find(name);
  if (it == s.named.end()) { it = s.named.emplace(std::string(name), Named{std::string(help), 0, true}).first; }
  it->second.value += delta;
}

std::string render_prometheus() {
  auto& s = state();
  std::lock_guard lock(s.mu);
  std::map<std::string, GroupStats, std::less<>> groups;
  for (const auto& sh : s.shards) {
    std::lock_guard shard_lock(sh->mu);
    for (const auto& [name, g] : sh->groups) {
      GroupStats& m = groups[name];
      for (const auto& [status, n] : g.by_status) { m.by_status[status] += n; }
      for (std::size_t i = 0; i < kBuckets.size(); ++i) { m.buckets[i] += g.buckets[i]; }
      m.count += g.count;
      m.sum_seconds += g.sum_seconds;
      m.bytes_in += g.bytes_in;
      m.bytes_out += g.bytes_out;
    }
  }
  std::string out;
  out += "# HELP ciel_http_requests_total HTTP requests by route group and status.\n# TYPE ciel_http_requests_total counter\n";
  for (const auto& [name, g] : groups) {
    for (const auto& [status, n] : g.by_status) {
      out += "ciel_http_requests_total{group=\"" + name + "\",status=\"" + std::to_string(status) + "\"} " + std::to_string(n) + "\n";
    }
  }
  out += "# HELP ciel_http_request_duration_seconds HTTP request latency by route group.\n# TYPE ciel_http_request_duration_seconds histogram\n";
  for (const auto& [name, g] : groups) {
    for (std::size_t i = 0; i < kBuckets.size(); ++i) {
      char le[32];
      std::snprintf(le, sizeof le, "%g", kBuckets[i]);
      out += "ciel_http_request_duration_seconds_bucket{group=\"" + name + "\",le=\"" + le + "\"} " + std::to_string(g.buckets[i]) + "\n";
    }
    out += "ciel_http_request_duration_seconds_bucket{group=\"" + name + "\",le=\"+Inf\"} " + std::to_string(g.count) + "\n";
    char sum[64];
    std::snprintf(sum, sizeof sum, "%.6f", g.sum_seconds);
    out += "ciel_http_request_duration_seconds_sum{group=\"" + name + "\"} " + sum + "\n";
    out += "ciel_http_request_duration_seconds_count{group=\"" + name + "\"} " + std::to_string(g.count) + "\n";
  }
  out += "# HELP ciel_http_received_bytes_total Request body bytes by route group.\n# TYPE ciel_http_received_bytes_total counter\n";
  for (const auto& [name, g] : groups) {
    out += "ciel_http_received_bytes_total{group=\"" + name + "\"} " + std::to_string(g.bytes_in) + "\n";
  }
  out += "# HELP ciel_http_sent_bytes_total Response body bytes by route group.\n# TYPE ciel_http_sent_bytes_total counter\n";
  for (const auto& [name, g] : groups) {
    out += "ciel_http_sent_bytes_total{group=\"" + name + "\"} " + std::to_string(g.bytes_out) + "\n";
  }
  for (const auto& [name, n] : s.named) {
    out += "# HELP " + name + " " + n.help + "\n# TYPE " + name + (n.gauge ? " gauge\n" : " counter\n");
    out += name + " " + std::to_string(n.value) + "\n";
  }
  return out;
}

}  // namespace ciel::metrics
