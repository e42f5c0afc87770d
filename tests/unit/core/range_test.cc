#include "core/http/range.h"

#include <gtest/gtest.h>

namespace ciel::http {
namespace {

ByteRange must_range(std::string_view header, std::uint64_t size) {
  auto r = parse_range(header, size);
  EXPECT_TRUE(r) << header;
  if (!r || !*r) {
    ADD_FAILURE() << "no range for " << header;
    return {};
  }
  return **r;
}

bool ignored(std::string_view header, std::uint64_t size) {
  auto r = parse_range(header, size);
  return r && !r->has_value();
}

bool unsatisfiable(std::string_view header, std::uint64_t size) {
  auto r = parse_range(header, size);
  return !r && r.error().code == Errc::precondition_failed;
}

TEST(Range, FirstLast) {
  auto r = must_range("bytes=0-99", 1000);
  EXPECT_EQ(r.first, 0u);
  EXPECT_EQ(r.length, 100u);
  EXPECT_EQ(r.content_range(1000), "bytes 0-99/1000");
  auto one = must_range("bytes=0-0", 1000);
  EXPECT_EQ(one.length, 1u);
  EXPECT_EQ(one.content_range(1000), "bytes 0-0/1000");
}

TEST(Range, OpenEndedAndClamped) {
  auto r = must_range("bytes=500-", 1000);
  EXPECT_EQ(r.first, 500u);
  EXPECT_EQ(r.length, 500u);
  auto c = must_range("bytes=990-5000", 1000);
  EXPECT_EQ(c.first, 990u);
  EXPECT_EQ(c.length, 10u);
  EXPECT_EQ(c.content_range(1000), "bytes 990-999/1000");
}

TEST(Range, Suffix) {
  auto r = must_range("bytes=-100", 1000);
  EXPECT_EQ(r.first, 900u);
  EXPECT_EQ(r.length, 100u);
  auto all = must_range("bytes=-5000", 1000);
  EXPECT_EQ(all.first, 0u);
  EXPECT_EQ(all.length, 1000u);
}

TEST(Range, WhitespaceIsTolerated) {
  auto r = must_range("  bytes= 10 - 19 ", 100);
  EXPECT_EQ(r.first, 10u);
  EXPECT_EQ(r.length, 10u);
}

TEST(Range, Unsatisfiable) {
  EXPECT_TRUE(unsatisfiable("bytes=1000-", 1000));
  EXPECT_TRUE(unsatisfiable("bytes=1000-2000", 1000));
  EXPECT_TRUE(unsatisfiable("bytes=-0", 1000));
  EXPECT_TRUE(unsatisfiable("bytes=0-", 0));
  EXPECT_TRUE(unsatisfiable("bytes=-5", 0));
  EXPECT_TRUE(unsatisfiable("bytes=18446744073709551615-", 10));
}

TEST(Range, IgnoredMeansWholeBody) {
  EXPECT_TRUE(ignored("", 100));
  EXPECT_TRUE(ignored("items=0-1", 100));
  EXPECT_TRUE(ignored("bytes=0-1,5-6", 100)) << "multiple ranges are served whole";
  EXPECT_TRUE(ignored("bytes=5-2", 100)) << "last < first is invalid, so ignored";
  EXPECT_TRUE(ignored("bytes=abc", 100));
  EXPECT_TRUE(ignored("bytes=a-b", 100));
  EXPECT_TRUE(ignored("bytes=-", 100));
  EXPECT_TRUE(ignored("bytes=1-2-3", 100));
  EXPECT_TRUE(ignored("bytes=+1-2", 100));
  EXPECT_TRUE(ignored("bytes=99999999999999999999-", 100)) << "out of range numbers are invalid";
}

TEST(ETag, MatchesQuotedWeakAndStar) {
  EXPECT_TRUE(etag_matches("\"abc\"", "\"abc\""));
  EXPECT_TRUE(etag_matches("abc", "\"abc\""));
  EXPECT_TRUE(etag_matches("W/\"abc\"", "\"abc\""));
  EXPECT_TRUE(etag_matches("\"x\", \"abc\"", "\"abc\""));
  EXPECT_TRUE(etag_matches("\"x\",\"abc\"", "abc"));
  EXPECT_TRUE(etag_matches("*", "\"anything\""));
  EXPECT_TRUE(etag_matches("\"x\", *", "\"anything\""));
  EXPECT_FALSE(etag_matches("\"abcd\"", "\"abc\""));
  EXPECT_FALSE(etag_matches("\"x\", \"y\"", "\"abc\""));
  EXPECT_FALSE(etag_matches("", "\"abc\""));
  EXPECT_FALSE(etag_matches(",", "\"abc\""));
}

}  // namespace
}  // namespace ciel::http
