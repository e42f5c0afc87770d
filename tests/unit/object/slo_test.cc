#include "object/swift/slo.h"

#include <gtest/gtest.h>

#include "core/crypto/crypto.h"

namespace ciel::object::swift {
namespace {

std::string error_of(std::string_view json, std::size_t max = kMaxSloSegments, std::string_view self = {}) {
  auto r = parse_slo_put_manifest(json, max, self);
  EXPECT_FALSE(r) << json;
  return r ? std::string() : r.error().message;
}

TEST(SwiftSlo, ParsesPutManifest) {
  auto r = parse_slo_put_manifest(R"([
    {"path": "/cont/seg1", "etag": "etagoftheobjectsegment", "size_bytes": 1048576},
    {"path": "cont/seg2", "etag": null, "size_bytes": "100", "range": "1-2"},
    {"path": "//c/deep/er/obj", "range": "-10"},
    {"path": "/c/o", "range": "10-", "size_bytes": 20},
    {"path": "/c/o", "range": ""}
  ])");
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->size(), 5u);
  const auto& s = *r;
  EXPECT_EQ(s[0].path, "/cont/seg1");
  EXPECT_EQ(s[0].etag, "etagoftheobjectsegment");
  EXPECT_EQ(s[0].size_bytes, 1048576u);
  EXPECT_FALSE(s[0].range);
  EXPECT_EQ(s[1].path, "/cont/seg2");
  EXPECT_FALSE(s[1].etag);
  EXPECT_EQ(s[1].size_bytes, 100u);
  ASSERT_TRUE(s[1].range);
  EXPECT_EQ(*s[1].range, (SloRange{1, 2, "1-2"}));
  EXPECT_EQ(s[2].path, "/c/deep/er/obj");
  EXPECT_EQ(*s[2].range, (SloRange{std::nullopt, 10, "-10"}));
  EXPECT_EQ(*s[3].range, (SloRange{10, std::nullopt, "10-"}));
  EXPECT_FALSE(s[4].range);
  EXPECT_FALSE(s[4].size_bytes);
}

TEST(SwiftSlo, EmptyManifestIsAList) {
  auto r = parse_slo_put_manifest("[]");
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->empty());
}

TEST(SwiftSlo, TopLevelErrors) {
  EXPECT_EQ(error_of("{not json"), "Manifest must be valid JSON.\n");
  EXPECT_EQ(error_of(""), "Manifest must be valid JSON.\n");
  EXPECT_EQ(error_of("\"\xFF\""), "Manifest must be valid JSON.\n");
  EXPECT_EQ(error_of(R"({"path": "/c/o"})"), "Manifest must be a list.\n");
}

TEST(SwiftSlo, SegmentErrorsAreAllReported) {
  std::string msg = error_of(R"([
    "nope",
    {"etag": "x"},
    {"path": "/c/o", "zz": 1, "aa": 2},
    {"path": 5},
    {"path": "/c/o", "etag": 7},
    {"path": "/just-a-container/"},
    {"path": "/c/o", "size_bytes": "ten"},
    {"path": "/c/o", "size_bytes": 0},
    {"path": "/c/o", "range": "5-1"},
    {"path": "/c/o", "range": "1-2,4-5"},
    {"path": "/c/o", "range": "50-60", "size_bytes": 10},
    {"data": "aGVsbG8="},
    {"path": "/c/o", "size_bytes": -3},
    {"path": "/c/o", "size_bytes": 0}
  ])");
  EXPECT_EQ(msg,
            "Index 0: not a JSON object\n"
            "Index 1: expected keys to include one of 'data' or 'path'\n"
            "Index 2: extraneous keys \"aa\", \"zz\"\n"
            "Index 3: \"path\" must be a string\n"
            "Index 4: \"etag\" must be a string or null (if provided)\n"
            "Index 5: path does not refer to an object. Path must be of the form /container/object.\n"
            "Index 6: invalid size_bytes\n"
            "Index 7: too small; each segment must be at least 1 byte.\n"
            "Index 8: invalid range\n"
            "Index 9: multiple ranges (only one allowed)\n"
            "Index 10: unsatisfiable range\n"
            "Index 11: inline data segments are not supported\n"
            "Index 12: invalid size_bytes\n");  // the last segment (13) may be empty
  EXPECT_EQ(parse_slo_put_manifest("[1]").error().code, Errc::invalid_argument);
}

TEST(SwiftSlo, RangeSyntax) {
  EXPECT_TRUE(parse_slo_put_manifest(R"([{"path": "/c/o", "range": " 1 - 2 "}])"));
  for (const char* bad : {"abc", "1", "-", "--1", "1--2", "a-1", "1-b", "-1-", "99999999999999999999-"}) {
    std::string json = std::string(R"([{"path": "/c/o", "range": ")") + bad + R"("}])";
    EXPECT_EQ(error_of(json), "Index 0: invalid range\n") << bad;
  }
  EXPECT_EQ(error_of(R"([{"path": "/c/o", "range": 12}])"), "Index 0: invalid range\n");
  EXPECT_EQ(error_of(R"([{"path": "/c/o", "range": "-0", "size_bytes": 5}])"), "Index 0: unsatisfiable range\n");
}

TEST(SwiftSlo, ResolveRange) {
  using P = std::pair<std::uint64_t, std::uint64_t>;
  EXPECT_EQ(resolve_slo_range({0, 99, "0-99"}, 1000), (P{0, 99}));
  EXPECT_EQ(resolve_slo_range({900, 2000, "900-2000"}, 1000), (P{900, 999}));
  EXPECT_EQ(resolve_slo_range({10, std::nullopt, "10-"}, 1000), (P{10, 999}));
  EXPECT_EQ(resolve_slo_range({std::nullopt, 10, "-10"}, 1000), (P{990, 999}));
  EXPECT_EQ(resolve_slo_range({std::nullopt, 5000, "-5000"}, 1000), (P{0, 999}));
  EXPECT_FALSE(resolve_slo_range({1000, std::nullopt, "1000-"}, 1000));
  EXPECT_FALSE(resolve_slo_range({std::nullopt, 0, "-0"}, 1000));
  EXPECT_FALSE(resolve_slo_range({0, 0, "0-0"}, 0));
}

TEST(SwiftSlo, TooManySegments) {
  std::string json = "[";
  for (int i = 0; i < 4; ++i) { json += std::string(i ? "," : "") + R"({"path": "/c/o)" + std::to_string(i) + "\"}"; }
  json += "]";
  EXPECT_TRUE(parse_slo_put_manifest(json, 4));
  auto r = parse_slo_put_manifest(json, 3);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::too_large);
  EXPECT_EQ(r.error().message, "Number of object-backed segments must be <= 3");
}

TEST(SwiftSlo, ManifestMustNotIncludeItself) {
  EXPECT_EQ(error_of(R"([{"path": "c/m"}, {"path": "/c/other"}])", kMaxSloSegments, "/c/m"),
            "Index 0: manifest must not include itself as a segment\n");
  EXPECT_TRUE(parse_slo_put_manifest(R"([{"path": "c/m"}])", kMaxSloSegments, "/c/other"));
}

std::vector<SloSegment> sample_segments() {
  return {
      {"/cont/object1", "etagoftheobjectsegmentone", 10485760, "application/octet-stream", "2026-11-29T20:00:00.000000",
       "1-2", false},
      {"/cont/obj\xC3\xA9", "etagoftheobjectsegmenttwo", 10485760, "text/plain", "2026-11-29T20:00:01.123456", "3-4", true},
  };
}

TEST(SwiftSlo, RenderStoredManifestLikePython) {
  EXPECT_EQ(render_slo_manifest(sample_segments()),
            R"([{"name": "/cont/object1", "bytes": 10485760, "hash": "etagoftheobjectsegmentone", )"
            R"("content_type": "application/octet-stream", "last_modified": "2026-11-29T20:00:00.000000", "range": "1-2"}, )"
            R"({"name": "/cont/obj\u00e9", "bytes": 10485760, "hash": "etagoftheobjectsegmenttwo", "content_type": "text/plain", )"
            R"("last_modified": "2026-11-29T20:00:01.123456", "range": "3-4", "sub_slo": true}])");
  EXPECT_EQ(render_slo_manifest({}), "[]");
}

TEST(SwiftSlo, StoredManifestRoundTrip) {
  auto segs = sample_segments();
  segs.push_back({"/c/plain", "abc", 7, "", "", std::nullopt, false});
  auto back = parse_slo_stored_manifest(render_slo_manifest(segs));
  ASSERT_TRUE(back) << back.error().detail;
  EXPECT_EQ(*back, segs);
  EXPECT_EQ(slo_segment_length(segs[0]), 2u);
  EXPECT_EQ(slo_segment_length(segs[2]), 7u);
  EXPECT_EQ(slo_total_size(segs), 2u + 2u + 7u);
}

TEST(SwiftSlo, StoredManifestErrors) {
  for (const char* bad : {"", "{}", "[1]", R"([{"hash": "x", "bytes": 1}])", R"([{"name": "/c/o", "bytes": 1}])",
                          R"([{"name": "/c/o", "hash": "x"}])", R"([{"name": "/c/o", "hash": "x", "bytes": -1}])",
                          R"([{"name": "/c/o", "hash": "x", "bytes": 1, "range": "2-1"}])"}) {
    auto r = parse_slo_stored_manifest(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, Errc::internal);
    EXPECT_EQ(r.error().message, "Unable to parse the SLO manifest");
  }
  auto legacy = parse_slo_stored_manifest(R"([{"name": "/c/o", "hash": "x", "bytes": "12", "sub_slo": "True", "extra": 1}])");
  ASSERT_TRUE(legacy);
  EXPECT_EQ((*legacy)[0].bytes, 12u);
  EXPECT_TRUE((*legacy)[0].sub_slo);
}

TEST(SwiftSlo, EtagFollowsSwiftsRule) {
  // slo.py's docstring: md5 of 'etagoftheobjectsegmentone:1-2;etagoftheobjectsegmenttwo:3-4;'.
  EXPECT_EQ(slo_etag(sample_segments()),
            crypto::hex(crypto::md5("etagoftheobjectsegmentone:1-2;etagoftheobjectsegmenttwo:3-4;")));
  std::vector<SloSegment> plain{{"/c/a", "etagoftheobjectsegment1", 1, "", "", std::nullopt, false},
                                {"/c/b", "etagoftheobjectsegment2", 1, "", "", std::nullopt, false}};
  EXPECT_EQ(slo_etag(plain), crypto::hex(crypto::md5("etagoftheobjectsegment1etagoftheobjectsegment2")));
  EXPECT_EQ(slo_etag({}), "d41d8cd98f00b204e9800998ecf8427e");
}

}  // namespace
}  // namespace ciel::object::swift
