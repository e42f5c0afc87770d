#include "core/crypto/crypto.h"

#include <gtest/gtest.h>

namespace ciel::crypto {
namespace {

std::string from_hex(std::string_view h) { return *unhex(h); }

TEST(Hex, RoundTripAndErrors) {
  EXPECT_EQ(hex(std::string("\x00\x01\xab\xff", 4)), "0001abff");
  EXPECT_EQ(*unhex("0001ABff"), std::string("\x00\x01\xab\xff", 4));
  EXPECT_EQ(*unhex(""), "");
  EXPECT_FALSE(unhex("0"));
  EXPECT_FALSE(unhex("zz"));
  EXPECT_FALSE(unhex("0g"));
  std::string all;
  for (int i = 0; i < 256; ++i) { all.push_back(static_cast<char>(i)); }
  EXPECT_EQ(*unhex(hex(all)), all);
}

TEST(Base64, Rfc4648Vectors) {
  const std::pair<const char*, const char*> vectors[] = {{"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},
                                                         {"foo", "Zm9v"}, {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="},
                                                         {"foobar", "Zm9vYmFy"}};
  for (auto [plain, encoded] : vectors) {
    EXPECT_EQ(base64(plain), encoded);
    auto back = unbase64(encoded);
    ASSERT_TRUE(back) << encoded;
    EXPECT_EQ(*back, plain);
  }
}

TEST(Base64, RoundTripsEveryLength) {
  std::string data;
  for (int i = 0; i < 70; ++i) {
    EXPECT_EQ(*unbase64(base64(data)), data) << i;
    EXPECT_EQ(*unbase64url(base64url(data)), data) << i;
    data.push_back(static_cast<char>(i * 37 + 200));
  }
}

TEST(Base64, RejectsMalformedInput) {
  for (const char* bad : {"Zg=", "Zm9", "Zm9v!", "Zm 9v", "====", "A===", "Zg==Zg==", "=Zg=", "Z=g="}) {
    EXPECT_FALSE(unbase64(bad)) << bad;
  }
  EXPECT_EQ(*unbase64("Zm9v\n"), "foo") << "a trailing newline (from a PEM-ish file) is fine";
}

TEST(Base64Url, NoPaddingAndUrlAlphabet) {
  std::string bytes("\xfb\xff\xbf", 3);
  EXPECT_EQ(base64(bytes), "+/+/");
  EXPECT_EQ(base64url(bytes), "-_-_");
  EXPECT_EQ(base64url("f"), "Zg");
  EXPECT_EQ(*unbase64url("Zg"), "f");
  EXPECT_EQ(*unbase64url("-_-_"), bytes);
  EXPECT_FALSE(unbase64url("+/+/"));
  EXPECT_FALSE(unbase64url("Zg=="));
  EXPECT_FALSE(unbase64url("Z")) << "one leftover character cannot encode a byte";
  EXPECT_EQ(random_token(32).size(), 43u);
}

TEST(Digest, KnownValues) {
  EXPECT_EQ(hex(sha256("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(hex(sha1("abc")), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(hex(md5("")), "d41d8cd98f00b204e9800998ecf8427e");
}

TEST(Digest, StreamingEqualsOneShot) {
  std::string data(100'000, 'x');
  for (std::size_t i = 0; i < data.size(); ++i) { data[i] = static_cast<char>(i * 7); }
  Hasher h(Digest::sha256);
  for (std::size_t i = 0; i < data.size(); i += 999) { h.update(std::string_view(data).substr(i, 999)); }
  EXPECT_EQ(h.finish(), sha256(data));
  Hasher m(Digest::md5);
  m.update(data);
  EXPECT_EQ(m.finish(), md5(data));
  Hasher s(Digest::sha512);
  s.update("abc");
  EXPECT_EQ(hex(s.finish()).substr(0, 16), "ddaf35a193617aba");
}

// RFC 4231 HMAC-SHA256 test cases 1, 2, 3, 4, 6 and 7 (5 is a truncated output).
TEST(Hmac, Rfc4231Sha256) {
  struct Case {
    std::string key;
    std::string data;
    const char* mac;
  };
  std::string key4;
  for (int i = 1; i <= 25; ++i) { key4.push_back(static_cast<char>(i)); }
  const Case cases[] = {
      {std::string(20, '\x0b'), "Hi There", "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
      {"Jefe", "what do ya want for nothing?", "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
      {std::string(20, '\xaa'), std::string(50, '\xdd'), "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
      {key4, std::string(50, '\xcd'), "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
      {std::string(131, '\xaa'), "Test Using Larger Than Block-Size Key - Hash Key First",
       "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
      {std::string(131, '\xaa'),
       "This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed "
       "before being used by the HMAC algorithm.",
       "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
  };
  for (const auto& c : cases) { EXPECT_EQ(hex(hmac_sha256(c.key, c.data)), c.mac); }
}

TEST(Hmac, Rfc2202Sha1) {
  EXPECT_EQ(hex(hmac_sha1(std::string(20, '\x0b'), "Hi There")), "b617318655057264e28bc0b6fb378c8ef146be00");
  EXPECT_EQ(hex(hmac_sha1("Jefe", "what do ya want for nothing?")), "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
}

TEST(ConstantTime, Equals) {
  EXPECT_TRUE(constant_time_equals("abc", "abc"));
  EXPECT_FALSE(constant_time_equals("abc", "abd"));
  EXPECT_FALSE(constant_time_equals("abc", "abcd"));
  EXPECT_TRUE(constant_time_equals("", ""));
}

TEST(Random, SizesAndUniqueness) {
  EXPECT_EQ(random_bytes(0).size(), 0u);
  EXPECT_EQ(random_bytes(33).size(), 33u);
  EXPECT_EQ(random_hex(16).size(), 32u);
  EXPECT_NE(random_hex(16), random_hex(16));
}

class AesGcm : public ::testing::Test {
 protected:
  std::string key = from_hex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
};

TEST_F(AesGcm, RoundTrip) {
  for (std::string plain : {std::string(), std::string("hello"), std::string(100'000, 'z')}) {
    std::string sealed = aes256gcm_seal(key, plain, "aad");
    EXPECT_EQ(sealed.size(), 12 + plain.size() + 16);
    auto opened = aes256gcm_open(key, sealed, "aad");
    ASSERT_TRUE(opened);
    EXPECT_EQ(*opened, plain);
  }
  std::string no_aad = aes256gcm_seal(key, "secret", "");
  EXPECT_EQ(*aes256gcm_open(key, no_aad, ""), "secret");
}

TEST_F(AesGcm, FreshNonceEachTime) {
  EXPECT_NE(aes256gcm_seal(key, "same", ""), aes256gcm_seal(key, "same", ""));
}

TEST_F(AesGcm, DetectsTampering) {
  std::string sealed = aes256gcm_seal(key, "token payload", "v1");
  for (std::size_t i = 0; i < sealed.size(); ++i) {
    std::string bad = sealed;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    EXPECT_FALSE(aes256gcm_open(key, bad, "v1")) << "byte " << i;
  }
  EXPECT_FALSE(aes256gcm_open(key, sealed, "v2")) << "other associated data";
  EXPECT_FALSE(aes256gcm_open(key, sealed, "")) << "missing associated data";
  std::string other_key = key;
  other_key[0] = 'x';
  EXPECT_FALSE(aes256gcm_open(other_key, sealed, "v1"));
  EXPECT_FALSE(aes256gcm_open(key.substr(0, 16), sealed, "v1")) << "short key";
  EXPECT_FALSE(aes256gcm_open(key, sealed.substr(0, sealed.size() - 1), "v1")) << "truncated";
  EXPECT_FALSE(aes256gcm_open(key, sealed.substr(0, 27), "v1"));
  EXPECT_FALSE(aes256gcm_open(key, "", "v1"));
  EXPECT_FALSE(aes256gcm_open(key, sealed + "x", "v1")) << "extended";
}

}  // namespace
}  // namespace ciel::crypto

namespace ciel::crypto {
namespace {

TEST(Crc32c, KnownVectorsAndStreaming) {
  EXPECT_EQ(crc32c(0, ""), 0u);
  EXPECT_EQ(crc32c(0, "123456789"), 0xE3069283u);
  EXPECT_EQ(crc32c(0, std::string(32, '\0')), 0x8A9136AAu);    // RFC 3720, B.4
  EXPECT_EQ(crc32c(0, std::string(32, '\xff')), 0x62A8AB43u);
  std::string ascending(32, '\0');
  for (int i = 0; i < 32; ++i) { ascending[i] = static_cast<char>(i); }
  EXPECT_EQ(crc32c(0, ascending), 0x46DD794Eu);
  // Any split gives the same checksum as one pass (the 8-byte loop and the byte tail agree).
  std::string data = random_bytes(1000);
  std::uint32_t whole = crc32c(0, data);
  for (std::size_t cut : {0, 1, 7, 8, 9, 500, 999, 1000}) {
    std::string_view v(data);
    EXPECT_EQ(crc32c(crc32c(0, v.substr(0, cut)), v.substr(cut)), whole) << cut;
  }
  data[500] ^= 1;
  EXPECT_NE(crc32c(0, data), whole);
}

}  // namespace
}  // namespace ciel::crypto
