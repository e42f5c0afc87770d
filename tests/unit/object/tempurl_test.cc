#include "object/swift/tempurl.h"

#include <gtest/gtest.h>

#include <cctype>

#include "core/crypto/crypto.h"

namespace ciel::object::swift {
namespace {

using Params = std::vector<std::pair<std::string, std::string>>;

constexpr std::string_view kPath = "/v1/AUTH_account/container/object";
constexpr std::int64_t kExpires = 1516741234;
// Swift's own tempurl.py docstring example: key "mykey", GET, expires 1516741234.
constexpr std::string_view kSha512B64 = "ZrSijn0GyDhsv1ltIj9hWUTrbAeE45NcKXyBaz7aPbSMvROQ4jtYH4nRAmm5ErY2X11Yc1Yhy2OMCyN3yueeXg==";
constexpr std::string_view kSha1Hex = "712dcef48d391e39bd2e3b63fc0a07146a36055e";
constexpr std::string_view kSha256Hex = "b230eeea40cafd23d6db5bbe766b606e201815952347be46ac8cab416564e4f4";

const std::vector<std::string> kKeys = {"other", "mykey"};

TempUrlParams parse_ok(const Params& p) {
  auto r = parse_tempurl_query(p);
  EXPECT_TRUE(r) << (r ? "" : r.error().detail);
  return r ? *r : TempUrlParams{};
}

TEST(SwiftTempUrl, HmacSha512InCore) {
  // RFC 4231, test case 2.
  EXPECT_EQ(crypto::hex(crypto::hmac_sha512("Jefe", "what do ya want for nothing?")),
            "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737");
}

TEST(SwiftTempUrl, SignatureMatchesSwiftsExamples) {
  EXPECT_EQ(tempurl_signature("sha1", "mykey", "GET", kExpires, kPath), kSha1Hex);
  EXPECT_EQ(tempurl_signature("sha256", "mykey", "GET", kExpires, kPath), kSha256Hex);
  EXPECT_EQ(crypto::base64url(*crypto::unhex(tempurl_signature("sha512", "mykey", "GET", kExpires, kPath))),
            std::string(kSha512B64.substr(0, kSha512B64.size() - 2)));
  EXPECT_EQ(tempurl_signature("md5", "mykey", "GET", kExpires, kPath), "");
}

TEST(SwiftTempUrl, SignatureForms) {
  auto hex1 = parse_signature(kSha1Hex);
  ASSERT_TRUE(hex1);
  EXPECT_EQ(hex1->digest, "sha1");
  EXPECT_EQ(hex1->hex, kSha1Hex);
  EXPECT_EQ(parse_signature(kSha256Hex)->digest, "sha256");
  std::string hex512 = tempurl_signature("sha512", "mykey", "GET", kExpires, kPath);
  EXPECT_EQ(parse_signature(hex512)->digest, "sha512");
  // Upper-case hex is read as the same signature.
  std::string upper(kSha1Hex);
  for (char& c : upper) { c = static_cast<char>(std::toupper(static_cast<unsigned char>(c))); }
  EXPECT_EQ(parse_signature(upper)->hex, kSha1Hex);

  auto b64 = parse_signature("sha512:" + std::string(kSha512B64));
  ASSERT_TRUE(b64);
  EXPECT_EQ(b64->digest, "sha512");
  EXPECT_EQ(b64->hex, hex512);
  std::string unpadded(kSha512B64.substr(0, kSha512B64.size() - 2));
  EXPECT_EQ(parse_signature("sha512:" + unpadded)->hex, hex512);
  std::string std_alphabet = crypto::base64(*crypto::unhex(hex512));
  EXPECT_EQ(parse_signature("sha512:" + std_alphabet)->hex, hex512);
  EXPECT_EQ(parse_signature("sha1:" + crypto::base64url(*crypto::unhex(kSha1Hex)))->hex, kSha1Hex);

  for (std::string bad : {std::string("abc"), std::string(39, 'a'), std::string(40, 'g'), std::string("md5:AAAA"),
                          std::string("sha1:") + unpadded /* wrong length for sha1 */, std::string("sha512:") + unpadded + "!",
                          std::string("sha512:A"), std::string(""), std::string("sha256:")}) {
    EXPECT_FALSE(parse_signature(bad)) << bad;
  }
}

TEST(SwiftTempUrl, ParsesQuery) {
  TempUrlParams p = parse_ok({{"temp_url_sig", std::string(kSha1Hex)}, {"temp_url_expires", "1516741234"},
                              {"filename", "My Test File.pdf"}, {"inline", ""}, {"temp_url_sig", "ignored"}});
  EXPECT_EQ(p.sig, kSha1Hex);
  EXPECT_EQ(p.digest, "sha1");
  EXPECT_EQ(p.expires, kExpires);
  EXPECT_EQ(p.filename, "My Test File.pdf");
  EXPECT_TRUE(p.inline_);
  EXPECT_FALSE(p.prefix);

  TempUrlParams iso = parse_ok({{"temp_url_sig", "sha512:" + std::string(kSha512B64)},
                                {"temp_url_expires", "2026-11-29T20:00:00Z"}, {"temp_url_prefix", ""}});
  EXPECT_EQ(iso.expires, 1795982400);
  EXPECT_EQ(iso.digest, "sha512");
  EXPECT_EQ(iso.prefix, "");
  EXPECT_FALSE(iso.inline_);
}

TEST(SwiftTempUrl, QueryErrors) {
  EXPECT_FALSE(is_tempurl_request({{"format", "json"}}));
  EXPECT_TRUE(is_tempurl_request({{"temp_url_expires", "1"}}));
  std::string sig(kSha1Hex);
  for (const Params& bad : {Params{{"temp_url_expires", "1516741234"}}, Params{{"temp_url_sig", sig}},
                            Params{{"temp_url_sig", ""}, {"temp_url_expires", "1"}},
                            Params{{"temp_url_sig", "xyz"}, {"temp_url_expires", "1"}},
                            Params{{"temp_url_sig", sig}, {"temp_url_expires", "soon"}},
                            Params{{"temp_url_sig", sig}, {"temp_url_expires", "2026-11-29 20:00:00"}},
                            Params{{"temp_url_sig", sig}, {"temp_url_expires", "2026-13-29T20:00:00Z"}},
                            Params{{"temp_url_sig", sig}, {"temp_url_expires", "99999999999999999999"}}}) {
    auto r = parse_tempurl_query(bad);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::unauthenticated);
    EXPECT_EQ(r.error().message, "Temp URL invalid");
  }
}

TEST(SwiftTempUrl, Validation) {
  TempUrlParams p = parse_ok({{"temp_url_sig", std::string(kSha1Hex)}, {"temp_url_expires", std::to_string(kExpires)}});
  EXPECT_TRUE(tempurl_valid(p, kKeys, "GET", kPath, kExpires - 60));
  EXPECT_TRUE(tempurl_valid(p, kKeys, "GET", kPath, kExpires));
  EXPECT_FALSE(tempurl_valid(p, kKeys, "GET", kPath, kExpires + 1));  // expired
  EXPECT_TRUE(tempurl_valid(p, kKeys, "HEAD", kPath, kExpires));      // HEAD rides on GET
  EXPECT_FALSE(tempurl_valid(p, kKeys, "PUT", kPath, kExpires));
  EXPECT_FALSE(tempurl_valid(p, kKeys, "GET", "/v1/AUTH_account/container/other", kExpires));
  EXPECT_FALSE(tempurl_valid(p, {}, "GET", kPath, kExpires));
  EXPECT_FALSE(tempurl_valid(p, std::vector<std::string>{"wrong"}, "GET", kPath, kExpires));

  for (std::string digest : {"sha256", "sha512"}) {
    std::string put = tempurl_signature(digest, "mykey", "PUT", kExpires, kPath);
    TempUrlParams q = parse_ok({{"temp_url_sig", put}, {"temp_url_expires", std::to_string(kExpires)}});
    EXPECT_TRUE(tempurl_valid(q, kKeys, "PUT", kPath, kExpires)) << digest;
    EXPECT_TRUE(tempurl_valid(q, kKeys, "HEAD", kPath, kExpires)) << digest;
    EXPECT_FALSE(tempurl_valid(q, kKeys, "GET", kPath, kExpires)) << digest;
  }
  // A HEAD signature does not allow a GET; DELETE and POST signatures work for themselves only.
  std::string head = tempurl_signature("sha1", "mykey", "HEAD", kExpires, kPath);
  TempUrlParams h = parse_ok({{"temp_url_sig", head}, {"temp_url_expires", std::to_string(kExpires)}});
  EXPECT_TRUE(tempurl_valid(h, kKeys, "HEAD", kPath, kExpires));
  EXPECT_FALSE(tempurl_valid(h, kKeys, "GET", kPath, kExpires));
  std::string del = tempurl_signature("sha1", "mykey", "DELETE", kExpires, kPath);
  TempUrlParams d = parse_ok({{"temp_url_sig", del}, {"temp_url_expires", std::to_string(kExpires)}});
  EXPECT_TRUE(tempurl_valid(d, kKeys, "DELETE", kPath, kExpires));
  EXPECT_FALSE(tempurl_valid(d, kKeys, "HEAD", kPath, kExpires));
  // Methods outside GET HEAD PUT POST DELETE never validate.
  std::string copy = tempurl_signature("sha1", "mykey", "COPY", kExpires, kPath);
  TempUrlParams c = parse_ok({{"temp_url_sig", copy}, {"temp_url_expires", std::to_string(kExpires)}});
  EXPECT_FALSE(tempurl_valid(c, kKeys, "COPY", kPath, kExpires));
}

TEST(SwiftTempUrl, PathMustNameAnObject) {
  for (std::string path : {"/v1/AUTH_a/c", "/v1/AUTH_a/c/", "/v1/AUTH_a/c///", "/v2/AUTH_a/c/o", "/v1//c/o", "/v1/AUTH_a//o",
                           "v1/AUTH_a/c/o"}) {
    std::string sig = tempurl_signature("sha1", "mykey", "GET", kExpires, path);
    TempUrlParams p = parse_ok({{"temp_url_sig", sig}, {"temp_url_expires", std::to_string(kExpires)}});
    EXPECT_FALSE(tempurl_valid(p, kKeys, "GET", path, kExpires)) << path;
  }
}

TEST(SwiftTempUrl, PrefixUrls) {
  std::string sig = tempurl_signature("sha256", "mykey", "GET", kExpires, "prefix:/v1/AUTH_account/container/pre");
  TempUrlParams p = parse_ok({{"temp_url_sig", sig}, {"temp_url_expires", std::to_string(kExpires)}, {"temp_url_prefix", "pre"}});
  EXPECT_TRUE(tempurl_valid(p, kKeys, "GET", "/v1/AUTH_account/container/pre/object", kExpires));
  EXPECT_TRUE(tempurl_valid(p, kKeys, "GET", "/v1/AUTH_account/container/pre/subfolder/another_object", kExpires));
  EXPECT_TRUE(tempurl_valid(p, kKeys, "GET", "/v1/AUTH_account/container/prefixed", kExpires));
  EXPECT_FALSE(tempurl_valid(p, kKeys, "GET", "/v1/AUTH_account/container/other/pre", kExpires));
  EXPECT_FALSE(tempurl_valid(p, kKeys, "GET", "/v1/AUTH_account/other/pre/object", kExpires));
  // The same signature without the prefix parameter is a plain URL for another path.
  TempUrlParams plain = p;
  plain.prefix.reset();
  EXPECT_FALSE(tempurl_valid(plain, kKeys, "GET", "/v1/AUTH_account/container/pre/object", kExpires));
  // An empty prefix covers the whole container.
  std::string all = tempurl_signature("sha1", "mykey", "GET", kExpires, "prefix:/v1/AUTH_account/container/");
  TempUrlParams e = parse_ok({{"temp_url_sig", all}, {"temp_url_expires", std::to_string(kExpires)}, {"temp_url_prefix", ""}});
  EXPECT_TRUE(tempurl_valid(e, kKeys, "GET", "/v1/AUTH_account/container/anything", kExpires));
}

}  // namespace
}  // namespace ciel::object::swift
