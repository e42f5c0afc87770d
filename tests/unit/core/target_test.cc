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

namespace ciel::http {
namespace {

TEST(Target, AbsoluteFormKeepsPathAndQuery) {
  auto t = parse_target("http://example.com:8080/v1/a?x=1");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->path, "/v1/a");
  EXPECT_EQ(t->query, "x=1");
  auto bare = parse_target("https://example.com");
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->path, "/");
}

TEST(Target, FragmentIsDropped) {
  auto t = parse_target("/a?b=1#frag");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->query, "b=1");
}

TEST(Target, DotsInsideNamesAreFine) {
  for (const char* ok : {"/a/.hidden", "/a/..b", "/a/b..", "/a/...", "/v1/a/c/x.tar.gz", "/a/%2e%2e%2e"}) {
    EXPECT_TRUE(parse_target(ok)) << ok;
  }
  for (const char* bad : {"/a/.", "/a/..", "/a/%2E", "/a/.%2e/b", "/a/%2e./b"}) { EXPECT_FALSE(parse_target(bad)) << bad; }
}

TEST(Target, EncodedSlashDecodesToSlashButNotToADotSegment) {
  auto t = parse_target("/v1/a/c/x%2Fy");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->path, "/v1/a/c/x/y");
  EXPECT_FALSE(parse_target("/v1/a%2F..%2Fb"));
}

TEST(Target, LineBreaksAreRefused) {
  EXPECT_FALSE(parse_target("/a%0d%0aSet-Cookie:x"));
  EXPECT_FALSE(parse_target("/a%0a"));
}

TEST(Target, OverlongEncodedPathIsTooLarge) {
  std::string p = "/";
  for (std::size_t i = 0; i < kMaxPathBytes; ++i) { p += "%41"; }
  auto t = parse_target(p);
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().code, Errc::too_large);
  std::string fits = "/" + std::string(kMaxPathBytes - 1, 'a');
  EXPECT_TRUE(parse_target(fits));
}

TEST(PercentDecode, EscapesAndPlus) {
  EXPECT_EQ(*percent_decode("%41%62%2f"), "Ab/");
  EXPECT_EQ(*percent_decode("a+b"), "a+b");
  EXPECT_EQ(*percent_decode("a+b", true), "a b");
  EXPECT_EQ(*percent_decode("%2B", true), "+");
  EXPECT_EQ(*percent_decode(""), "");
  for (const char* bad : {"%", "%4", "a%", "%zz", "%4g", "%%41"}) { EXPECT_FALSE(percent_decode(bad)) << bad; }
}

TEST(PercentEncode, UnreservedKeptOthersEscaped) {
  EXPECT_EQ(percent_encode("az AZ09-._~"), "az%20AZ09-._~");
  EXPECT_EQ(percent_encode("a/b c", "/"), "a/b%20c");
  EXPECT_EQ(percent_encode(std::string("\0x", 2), std::string("\0", 1)), "%00x") << "NUL is never kept";
  EXPECT_EQ(percent_encode("\xc3\xa9"), "%C3%A9");
  EXPECT_EQ(percent_encode("100%/x", "%/"), "100%25/x") << "'%' is never kept, or decoding would not give the text back";
  std::string all;
  for (int i = 0; i < 256; ++i) { all.push_back(static_cast<char>(i)); }
  EXPECT_EQ(*percent_decode(percent_encode(all)), all);
  EXPECT_EQ(*percent_decode(percent_encode(all, "/?&=+"), false), all);
}

TEST(Query, SplitsAndDecodes) {
  auto q = parse_query("a=1&b=x+y&&c&d=%zz&e=%26&=v");
  ASSERT_EQ(q.size(), 6u);
  EXPECT_EQ(q[0], (std::pair<std::string, std::string>{"a", "1"}));
  EXPECT_EQ(q[1], (std::pair<std::string, std::string>{"b", "x y"}));
  EXPECT_EQ(q[2], (std::pair<std::string, std::string>{"c", ""}));
  EXPECT_EQ(q[3], (std::pair<std::string, std::string>{"d", "%zz"})) << "bad escapes kept verbatim";
  EXPECT_EQ(q[4], (std::pair<std::string, std::string>{"e", "&"}));
  EXPECT_EQ(q[5], (std::pair<std::string, std::string>{"", "v"}));
  EXPECT_TRUE(parse_query("").empty());
}

TEST(Utf8, ValidAndInvalid) {
  EXPECT_TRUE(valid_utf8("plain"));
  EXPECT_TRUE(valid_utf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));
  EXPECT_FALSE(valid_utf8("\xc3"));             // truncated
  EXPECT_FALSE(valid_utf8("\xc0\xaf"));         // overlong
  EXPECT_FALSE(valid_utf8("\xe0\x80\xaf"));     // overlong
  EXPECT_FALSE(valid_utf8("\xed\xa0\x80"));     // surrogate
  EXPECT_FALSE(valid_utf8("\xf4\x90\x80\x80"));  // past U+10FFFF
  EXPECT_FALSE(valid_utf8("\xff"));
  EXPECT_FALSE(valid_utf8("\x80"));
}

}  // namespace
}  // namespace ciel::http
