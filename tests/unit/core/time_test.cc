#include "core/time.h"

#include <gtest/gtest.h>

namespace ciel {
namespace {

using std::chrono::microseconds;
using std::chrono::seconds;

TEST(Iso8601, Formats) {
  EXPECT_EQ(iso8601(SystemTime(seconds(0))), "1970-01-01T00:00:00Z");
  EXPECT_EQ(iso8601(SystemTime(seconds(1'800'000'000))), "2027-01-15T08:00:00Z");
  SystemTime t = SystemTime(seconds(1'800'000'000)) + microseconds(123'456);
  EXPECT_EQ(iso8601(t, 6), "2027-01-15T08:00:00.123456Z");
  EXPECT_EQ(iso8601(t, 3), "2027-01-15T08:00:00.123Z");
  EXPECT_EQ(iso8601(t), "2027-01-15T08:00:00Z");
}

TEST(Iso8601, RoundTrip) {
  for (std::int64_t s : {0LL, 1LL, 951'782'400LL /* 2000-02-29 */, 1'800'000'000LL, 4'102'444'799LL}) {
    for (std::int64_t us : {0LL, 1LL, 500'000LL, 999'999LL}) {
      SystemTime t = SystemTime(seconds(s)) + microseconds(us);
      auto back = parse_iso8601(iso8601(t, 6));
      ASSERT_TRUE(back) << iso8601(t, 6);
      EXPECT_EQ(*back, t) << iso8601(t, 6);
      auto whole = parse_iso8601(iso8601(t));
      ASSERT_TRUE(whole);
      EXPECT_EQ(*whole, SystemTime(seconds(s)));
    }
  }
}

TEST(Iso8601, AcceptsOffsetsAndDates) {
  SystemTime base(seconds(1'800'000'000));
  EXPECT_EQ(*parse_iso8601("2027-01-15T08:00:00+00:00"), base);
  EXPECT_EQ(*parse_iso8601("2027-01-15T10:00:00+02:00"), base);
  EXPECT_EQ(*parse_iso8601("2027-01-15T07:30:00-00:30"), base);
  EXPECT_EQ(*parse_iso8601("2027-01-15T08:00:00"), base);
  EXPECT_EQ(*parse_iso8601("2027-01-15T08:00:00.5Z"), base + std::chrono::milliseconds(500));
  EXPECT_EQ(*parse_iso8601("2027-01-15T08:00:00.1234567Z"), base + microseconds(123'456)) << "digits past micros dropped";
  EXPECT_EQ(*parse_iso8601("2027-01-15"), SystemTime(seconds(1'800'000'000 - 8 * 3600)));
}

TEST(Iso8601, RejectsGarbage) {
  for (const char* bad : {"", "yesterday", "2027-01-15Tnoon", "2027-01-15T08:00:00Zjunk", "2027-01-15T08:00:00+0200",
                          "2027-13-01T00:00:00Z", "2027-00-10T00:00:00Z", "2027-01-32T00:00:00Z", "2027-01-15T24:00:01Z",
                          "2027-01-15T08:60:00Z", "2027-01-15T08:00:00+0a:00", "2027-01-15T08:00:00+25:00"}) {
    EXPECT_FALSE(parse_iso8601(bad)) << bad;
  }
}

TEST(Iso8601, DatesOutsideTheClockRangeAreRefused) {
  // SystemTime holds nanoseconds in 64 bits: about 1678 to 2262. Converting 4054 overflowed (UB).
  EXPECT_FALSE(parse_iso8601("4054-01-15T08:00:00Z"));
  EXPECT_FALSE(parse_iso8601("9999-12-31T23:59:59Z"));
  EXPECT_FALSE(parse_iso8601("1000-01-01T00:00:00Z"));
  EXPECT_TRUE(parse_iso8601("2200-01-01T00:00:00Z"));
  EXPECT_FALSE(parse_http_date("Fri, 31 Dec 9999 23:59:59 GMT"));
}

TEST(HttpDate, RoundTrip) {
  SystemTime t(seconds(784'111'777));
  EXPECT_EQ(http_date(t), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(*parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), t);
  EXPECT_FALSE(parse_http_date("not a date"));
  SystemTime now(seconds(1'800'000'000));
  EXPECT_EQ(*parse_http_date(http_date(now)), now);
}

TEST(Clock, FakeClockAdvances) {
  FakeClock c;
  auto t0 = c.now();
  c.advance(seconds(90));
  EXPECT_EQ(c.now() - t0, seconds(90));
  EXPECT_EQ(unix_seconds(SystemTime(seconds(42))), 42);
  EXPECT_GT(unix_seconds(system_clock().now()), 1'700'000'000);
}

}  // namespace
}  // namespace ciel
