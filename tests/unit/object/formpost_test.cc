#include "object/swift/formpost.h"

#include <gtest/gtest.h>

#include "core/crypto/crypto.h"
#include "object/swift/tempurl.h"
#include "support/test_support.h"
#include "unit/object/byte_sources.h"

namespace ciel::object::swift {
namespace {

using Fields = std::vector<std::pair<std::string, std::string>>;

constexpr std::string_view kPath = "/v1/AUTH_account/container/object_prefix";
// hmac.new(b"mykey", body, sha1).hexdigest() for formpost.py's docstring example.
constexpr std::string_view kSha1 = "2df23b3815263c25604cc49b882b038d546df323";
const std::vector<std::string> kKeys = {"mykey"};

Fields example_fields(std::string signature) {
  return {{"redirect", "https://myserver.com/some-page"},
          {"max_file_size", "104857600"},
          {"max_file_count", "10"},
          {"expires", "1516741234"},
          {"signature", std::move(signature)}};
}

TEST(SwiftFormPost, HmacBody) {
  EXPECT_EQ(formpost_hmac_body(kPath, "https://myserver.com/some-page", 104857600, 10, 1516741234),
            "/v1/AUTH_account/container/object_prefix\nhttps://myserver.com/some-page\n104857600\n10\n1516741234");
  EXPECT_EQ(*hmac_hex("sha1", "mykey", formpost_hmac_body(kPath, "https://myserver.com/some-page", 104857600, 10, 1516741234)),
            kSha1);
}

TEST(SwiftFormPost, ParsesAttributes) {
  auto attrs = parse_formpost_attrs(example_fields(std::string(kSha1)));
  ASSERT_TRUE(attrs);
  EXPECT_EQ(attrs->redirect, "https://myserver.com/some-page");
  EXPECT_EQ(attrs->max_file_size, 104857600u);
  EXPECT_EQ(attrs->max_file_count, 10u);
  EXPECT_EQ(attrs->expires, 1516741234);
  EXPECT_EQ(attrs->signature, kSha1);

  auto defaults = parse_formpost_attrs({{"max_file_size", ""}, {"other", "x"}});
  ASSERT_TRUE(defaults);
  EXPECT_EQ(defaults->max_file_size, 0u);
  EXPECT_EQ(defaults->expires_text, "0");
  EXPECT_EQ(formpost_hmac_body("/p", *defaults), "/p\n\n0\n0\n0");

  auto last_wins = parse_formpost_attrs({{"max_file_count", "1"}, {"max_file_count", " 7 "}, {"max_file_size", "-5"}});
  ASSERT_TRUE(last_wins);
  EXPECT_EQ(last_wins->max_file_count, 7u);
  EXPECT_EQ(last_wins->max_file_size, 0u);
}

TEST(SwiftFormPost, AttributeErrors) {
  auto msg = [](Fields f) {
    auto r = parse_formpost_attrs(f);
    EXPECT_FALSE(r);
    if (r) { return std::string(); }
    EXPECT_EQ(r.error().code, Errc::invalid_argument);
    return r.error().message;
  };
  EXPECT_EQ(msg({{"max_file_size", "big"}}), "max_file_size not an integer");
  EXPECT_EQ(msg({{"max_file_count", "1.5"}}), "max_file_count not an integer");
  EXPECT_EQ(msg({{"expires", "tomorrow"}}), "expired not an integer");
}

TEST(SwiftFormPost, SignatureValidation) {
  auto attrs = parse_formpost_attrs(example_fields(std::string(kSha1)));
  ASSERT_TRUE(attrs);
  EXPECT_TRUE(formpost_signature_valid(*attrs, kKeys, kPath));
  EXPECT_TRUE(formpost_signature_valid(*attrs, std::vector<std::string>{"old", "mykey"}, kPath));
  EXPECT_FALSE(formpost_signature_valid(*attrs, std::vector<std::string>{"other"}, kPath));
  EXPECT_FALSE(formpost_signature_valid(*attrs, {}, kPath));
  EXPECT_FALSE(formpost_signature_valid(*attrs, kKeys, "/v1/AUTH_account/container/other_prefix"));

  // The signature covers the fields as sent: "0104857600" is not "104857600".
  Fields padded = example_fields(std::string(kSha1));
  padded[1].second = "0104857600";
  auto p = parse_formpost_attrs(padded);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->max_file_size, 104857600u);
  EXPECT_FALSE(formpost_signature_valid(*p, kKeys, kPath));

  std::string body = formpost_hmac_body(kPath, *attrs);
  for (std::string digest : {"sha256", "sha512"}) {
    std::string raw = *crypto::unhex(*hmac_hex(digest, "mykey", body));
    for (std::string sig : {digest + ":" + crypto::base64(raw), digest + ":" + crypto::base64url(raw), *hmac_hex(digest, "mykey", body)}) {
      auto a = parse_formpost_attrs(example_fields(sig));
      ASSERT_TRUE(a);
      EXPECT_TRUE(formpost_signature_valid(*a, kKeys, kPath)) << sig;
    }
  }
  auto garbage = parse_formpost_attrs(example_fields("sha256:!!!"));
  ASSERT_TRUE(garbage);
  EXPECT_FALSE(formpost_signature_valid(*garbage, kKeys, kPath));
}

TEST(SwiftFormPost, Expiry) {
  auto attrs = parse_formpost_attrs(example_fields(std::string(kSha1)));
  ASSERT_TRUE(attrs);
  EXPECT_FALSE(formpost_expired(*attrs, 1516741234));
  EXPECT_TRUE(formpost_expired(*attrs, 1516741235));
}

TEST(SwiftFormPost, FieldValues) {
  auto read = [](std::string data) {
    test::ChunkedSource src(std::move(data), 3);
    std::string value;
    test::run_coro([&]() -> boost::asio::awaitable<void> {
      auto v = co_await read_formpost_field(src);
      EXPECT_TRUE(v);
      if (v) { value = *v; }
    });
    return value;
  };
  EXPECT_EQ(read("https://example.com/"), "https://example.com/");
  EXPECT_EQ(read("value\r\n--"), "value");
  EXPECT_EQ(read("a-b-\n"), "a-b");
  std::string longer(5000, 'x');
  EXPECT_EQ(read(longer), std::string(4096, 'x'));
}

}  // namespace
}  // namespace ciel::object::swift
