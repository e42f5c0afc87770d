// core/metrics/metrics.h: process metrics rendered in Prometheus text format at /metrics.
// The HTTP core records every request (by route group and status); modules add their own
// counters and gauges. Thread-safe; recording takes one short mutex.
#pragma once
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace ciel::metrics {

void record_request(std::string_view group, unsigned status, std::chrono::nanoseconds latency, std::uint64_t bytes_in,
                    std::uint64_t bytes_out);
// A monotonically increasing counter, e.g. add("ciel_auth_failures_total", "Failed authentications", 1).
void add(std::string_view name, std::string_view help, std::uint64_t delta = 1);
void set_gauge(std::string_view name, std::string_view help, std::int64_t value);
void add_gauge(std::string_view name, std::string_view help, std::int64_t delta);
std::string render_prometheus();

}  // namespace ciel::metrics
