#include "core/time.h"

#include <cstdio>
#include <ctime>

namespace ciel {
namespace {
class RealClock final : public Clock {
 public:
  SystemTime now() const override { return std::chrono::system_clock::now(); }
};

// SystemTime counts nanoseconds in an int64 (years 1678 to 2262); a parsed date outside that
// range would overflow converting to it. A day of margin leaves room for offsets and fractions.
std::optional<SystemTime> to_system_time(std::time_t t) {
  constexpr std::int64_t kLimit =
      std::chrono::duration_cast<std::chrono::seconds>(SystemTime::duration::max()).count() - 86'400;
  if (t > kLimit || t < -kLimit) { return std::nullopt; }
  return std::chrono::system_clock::from_time_t(t);
}
}  // namespace

const Clock& system_clock() {
  static RealClock c;
  return c;
}

std::int64_t unix_seconds(SystemTime t) { return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count(); }

std::string iso8601(SystemTime t, int fraction_digits) {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(us / 1'000'000);
  long frac = static_cast<long>(us % 1'000'000);
  if (frac < 0) { frac += 1'000'000; secs -= 1; }
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::string out = buf;
  if (fraction_digits > 0) {
    char f[16];
    std::snprintf(f, sizeof f, "%06ld", frac);
    out += ".";
    out.append(f, static_cast<std::size_t>(std::min(fraction_digits, 6)));
  }
  out += "Z";
  return out;
}

std::optional<SystemTime> parse_iso8601(std::string_view text) {
  std::tm tm{};
  std::string s(text);
  int y, mo, d, h = 0, mi = 0, sec = 0;
  int consumed = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &consumed) < 6) {
    if (std::sscanf(s.c_str(), "%4d-%2d-%2d%n", &y, &mo, &d, &consumed) < 3) { return std::nullopt; }
  }
  // timegm() would quietly normalise 2026-13-45T99:99:99 into some other instant.
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 59) { return std::nullopt; }
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  std::time_t t = timegm(&tm);
  std::tm check{};
  gmtime_r(&t, &check);
  if (check.tm_mday != d || check.tm_mon != mo - 1) { return std::nullopt; }  // February 30th and friends
  auto converted = to_system_time(t);
  if (!converted) { return std::nullopt; }
  SystemTime out = *converted;
  std::string_view rest = std::string_view(s).substr(static_cast<std::size_t>(consumed));
  if (!rest.empty() && rest.front() == '.') {
    std::size_t i = 1;
    long micros = 0;
    int digits = 0;
    while (i < rest.size() && rest[i] >= '0' && rest[i] <= '9') {
      if (digits < 6) { micros = micros * 10 + (rest[i] - '0'); ++digits; }
      ++i;
    }
    while (digits < 6) { micros *= 10; ++digits; }
    out += std::chrono::microseconds(micros);
    rest.remove_prefix(i);
  }
  if (rest.empty() || rest == "Z" || rest == "+00:00" || rest == "z") { return out; }
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':' && digit(rest[1]) && digit(rest[2]) &&
      digit(rest[4]) && digit(rest[5])) {
    int oh = (rest[1] - '0') * 10 + (rest[2] - '0');
    int om = (rest[4] - '0') * 10 + (rest[5] - '0');
    if (oh > 23 || om > 59) { return std::nullopt; }
    auto off = std::chrono::minutes(oh * 60 + om);
    return rest[0] == '+' ? out - off : out + off;
  }
  return std::nullopt;
}

std::string http_date(SystemTime t) {
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buf;
}

std::optional<SystemTime> parse_http_date(std::string_view text) {
  std::tm tm{};
  std::string s(text);
  const char* end = strptime(s.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (end == nullptr) { return std::nullopt; }
  return to_system_time(timegm(&tm));
}

std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

CivilDate civil_from_days(std::int64_t z) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2 ? 1 : 0), m, d};
}

unsigned days_in_month(std::int64_t y, unsigned m) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : kDays[m - 1];
}

}  // namespace ciel
