#include "core/http/target.h"

#include <gtest/gtest.h>

namespace ciel::http {
namespace {

TEST(Target, DecodesPathAndKeepsQuery) {
  auto t = parse_target("/v1/AUTH_x/c/a%20b?format=json&prefix=x%2Fy");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->path, "/v1/AUTH_x/c/a b");
  EXPECT_EQ(t->raw_path, "/v1/AUTH_x/c/a%20b");
  EXPECT_EQ(t->query, "format=json&prefix=x%2Fy");
  auto q = parse_query(t->query);
  ASSERT_EQ(q.size(), 2u);
  EXPECT_EQ(q[1].second, "x/y");
}

TEST(Target, RefusesDotSegmentsInEveryDisguise) {
  for (const char* bad : {"/a/../b", "/a/%2e%2e/b", "/a/%2E%2e", "/..", "/a/./b", "/a/%2e/b"}) {
    auto t = parse_target(bad);
    ASSERT_FALSE(t) << bad;
    EXPECT_EQ(t.error().code, Errc::invalid_argument) << bad;
  }
}

TEST(Target, RefusesNulBadEscapesAndBadUtf8) {
  EXPECT_FALSE(parse_target("/a%00b"));
  EXPECT_FALSE(parse_target("/a%zz"));
  EXPECT_FALSE(parse_target("/a%4"));
  EXPECT_FALSE(parse_target("/a%ff%fe"));
  EXPECT_FALSE(parse_target("/a%c0%af"));  // overlong '/'
  EXPECT_FALSE(parse_target("relative"));
  EXPECT_TRUE(parse_target("/caf%C3%A9"));
}

TEST(Target, OverlongPathIsTooLarge) {
  std::string p = "/" + std::string(kMaxPathBytes + 1, 'a');
  auto t = parse_target(p);
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().code, Errc::too_large);
}

TEST(Target, KeepsRepeatedSlashesForObjectNames) {
  auto t = parse_target("/v1/a/c/x//y");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->path, "/v1/a/c/x//y");
}

}  // namespace
}  // namespace ciel::http
