// core/time.h: wall-clock time behind an interface, so tests use a fake clock, and the
// timestamp formats Ciel's APIs print.
#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ciel {

using SystemTime = std::chrono::system_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual SystemTime now() const = 0;
};

const Clock& system_clock();  // the real one

class FakeClock final : public Clock {
 public:
  explicit FakeClock(SystemTime t = SystemTime(std::chrono::seconds(1'800'000'000))) : t_(t) {}
  SystemTime now() const override { return t_; }
  void advance(std::chrono::nanoseconds d) { t_ += std::chrono::duration_cast<SystemTime::duration>(d); }

 private:
  SystemTime t_;
};

std::int64_t unix_seconds(SystemTime t);
std::string iso8601(SystemTime t, int fraction_digits = 0);        // 2026-11-29T13:17:33Z / .000000Z
std::optional<SystemTime> parse_iso8601(std::string_view text);  // accepts fractions and Z or +00:00
std::string http_date(SystemTime t);                              // Sun, 06 Nov 1994 08:49:37 GMT
std::optional<SystemTime> parse_http_date(std::string_view text);

}  // namespace ciel
