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

// Proleptic Gregorian calendar arithmetic on day numbers (days since 1970-01-01), for any year:
// Howard Hinnant's days_from_civil and civil_from_days. `month` is 1..12.
struct CivilDate {
  std::int64_t year = 1970;
  unsigned month = 1, day = 1;
};
std::int64_t days_from_civil(std::int64_t year, unsigned month, unsigned day);
CivilDate civil_from_days(std::int64_t days);
unsigned days_in_month(std::int64_t year, unsigned month);

}  // namespace ciel
