#include "object/s3/sigv4.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/crypto/crypto.h"
#include "core/http/target.h"

namespace ciel::object::s3 {
namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

// The credentials of AWS's published examples.
constexpr std::string_view kAwsAccessKey = "AKIAIOSFODNN7EXAMPLE";
constexpr std::string_view kAwsSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
// The credentials gen_s3_sigv4_vectors.py signs with.
constexpr std::string_view kBotoSecret = "ciel/secret+key=with~odd chars";

// `target` is the request target as sent: the raw path and, after '?', the raw query.
SignedRequest make_request(std::string method, std::string_view target, Headers headers) {
  SignedRequest req;
  req.method = std::move(method);
  std::size_t q = target.find('?');
  req.raw_path = std::string(target.substr(0, q));
  if (q != std::string_view::npos) { req.query = http::parse_query(target.substr(q + 1)); }
  req.headers = std::move(headers);
  return req;
}

std::string header(const SignedRequest& req, std::string_view name) {
  for (const auto& [k, v] : req.headers) {
    if (k.size() == name.size() && std::equal(k.begin(), k.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
        })) {
      return v;
    }
  }
  return {};
}

std::string sha256_hex(std::string_view s) { return crypto::hex(crypto::sha256(s)); }

SigV4 aws_example_scope() {
  SigV4 sig;
  sig.access_key = std::string(kAwsAccessKey);
  sig.date = "20130524";
  sig.region = "us-east-1";
  sig.service = "s3";
  sig.amz_date = "20130524T000000Z";
  return sig;
}

// The signature auth.cc would compute for `req`, given the parsed `sig`.
std::string expected_signature(const SignedRequest& req, const SigV4& sig, std::string_view secret, std::string_view payload_hash,
                               std::string* canonical_out = nullptr) {
  auto canonical = canonical_request(req, sig, payload_hash);
  EXPECT_TRUE(canonical) << canonical.error().message;
  if (!canonical) { return {}; }
  if (canonical_out != nullptr) { *canonical_out = *canonical; }
  return sign(signing_key(secret, sig.date, sig.region, sig.service), string_to_sign(sig, *canonical));
}

// --- AWS's published examples ("Signature Calculations for the Authorization Header:
// Transferring Payload in a Single Chunk", "Authenticating Requests: Using Query Parameters",
// "Transferring Payload in Multiple Chunks") -----------------------------------------------

TEST(S3SigV4, AwsGetObjectExample) {
  auto req = make_request("GET", "/test.txt",
                          {{"Host", "examplebucket.s3.amazonaws.com"},
                           {"Range", "bytes=0-9"},
                           {"x-amz-content-sha256", std::string(kEmptySha256)},
                           {"x-amz-date", "20130524T000000Z"}});
  auto sig = parse_sigv4_header(
      "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
      "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
      "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
      "20130524T000000Z");
  ASSERT_TRUE(sig) << sig.error().message;
  EXPECT_EQ(sig->access_key, kAwsAccessKey);
  EXPECT_EQ(sig->date, "20130524");
  EXPECT_EQ(sig->region, "us-east-1");
  EXPECT_EQ(sig->service, "s3");
  EXPECT_EQ(sig->signed_headers, (std::vector<std::string>{"host", "range", "x-amz-content-sha256", "x-amz-date"}));
  EXPECT_FALSE(sig->presigned);

  auto canonical = canonical_request(req, *sig, kEmptySha256);
  ASSERT_TRUE(canonical);
  EXPECT_EQ(*canonical,
            "GET\n/test.txt\n\n"
            "host:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
            "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
            "x-amz-date:20130524T000000Z\n\n"
            "host;range;x-amz-content-sha256;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  std::string sts = string_to_sign(*sig, *canonical);
  EXPECT_EQ(sts,
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
            "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  EXPECT_EQ(sign(signing_key(kAwsSecret, "20130524", "us-east-1", "s3"), sts), sig->signature);
  EXPECT_EQ(sig->signature, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(S3SigV4, AwsPutObjectExample) {
  // The key is "test$file.text"; the client sends the '$' encoded.
  auto req = make_request("PUT", "/test%24file.text",
                          {{"Host", "examplebucket.s3.amazonaws.com"},
                           {"Date", "Fri, 24 May 2013 00:00:00 GMT"},
                           {"x-amz-date", "20130524T000000Z"},
                           {"x-amz-storage-class", "REDUCED_REDUNDANCY"},
                           {"x-amz-content-sha256", sha256_hex("Welcome to Amazon S3.")}});
  EXPECT_EQ(header(req, "x-amz-content-sha256"), "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  auto sig = parse_sigv4_header(
      "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
      "SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class,"
      "Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd",
      "20130524T000000Z");
  ASSERT_TRUE(sig) << sig.error().message;
  std::string canonical;
  EXPECT_EQ(expected_signature(req, *sig, kAwsSecret, header(req, "x-amz-content-sha256"), &canonical), sig->signature);
  EXPECT_EQ(canonical,
            "PUT\n/test%24file.text\n\n"
            "date:Fri, 24 May 2013 00:00:00 GMT\nhost:examplebucket.s3.amazonaws.com\n"
            "x-amz-content-sha256:44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072\n"
            "x-amz-date:20130524T000000Z\nx-amz-storage-class:REDUCED_REDUNDANCY\n\n"
            "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class\n"
            "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  EXPECT_EQ(sha256_hex(canonical), "9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d");
  // The same key sent unencoded canonicalises the same way: S3 encodes each segment again.
  auto raw = req;
  raw.raw_path = "/test$file.text";
  EXPECT_EQ(expected_signature(raw, *sig, kAwsSecret, header(req, "x-amz-content-sha256")), sig->signature);
}

TEST(S3SigV4, AwsGetBucketLifecycleExample) {
  auto req = make_request("GET", "/?lifecycle",
                          {{"Host", "examplebucket.s3.amazonaws.com"},
                           {"x-amz-date", "20130524T000000Z"},
                           {"x-amz-content-sha256", std::string(kEmptySha256)}});
  auto sig = parse_sigv4_header(
      "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
      "SignedHeaders=host;x-amz-content-sha256;x-amz-date,"
      "Signature=fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543",
      "20130524T000000Z");
  ASSERT_TRUE(sig) << sig.error().message;
  std::string canonical;
  EXPECT_EQ(expected_signature(req, *sig, kAwsSecret, kEmptySha256, &canonical), sig->signature);
  EXPECT_TRUE(canonical.starts_with("GET\n/\nlifecycle=\n")) << canonical;
  EXPECT_EQ(sha256_hex(canonical), "9766c798316ff2757b517bc739a67f6213b4ab36dd5da2f94eaebf79c77395ca");
}

TEST(S3SigV4, AwsListObjectsExample) {
  // Sent in the other order: the canonical query sorts them.
  auto req = make_request("GET", "/?prefix=J&max-keys=2",
                          {{"Host", "examplebucket.s3.amazonaws.com"},
                           {"x-amz-date", "20130524T000000Z"},
                           {"x-amz-content-sha256", std::string(kEmptySha256)}});
  auto sig = parse_sigv4_header(
      "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
      "SignedHeaders=host;x-amz-content-sha256;x-amz-date,"
      "Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7",
      "20130524T000000Z");
  ASSERT_TRUE(sig) << sig.error().message;
  std::string canonical;
  EXPECT_EQ(expected_signature(req, *sig, kAwsSecret, kEmptySha256, &canonical), sig->signature);
  EXPECT_TRUE(canonical.starts_with("GET\n/\nmax-keys=2&prefix=J\n")) << canonical;
  EXPECT_EQ(sha256_hex(canonical), "df57d21db20da04d7fa30298dd4488ba3a2b47ca3a489c74750e0f1e7df1b9b7");
}

TEST(S3SigV4, AwsPresignedExample) {
  auto req = make_request("GET",
                          "/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256"
                          "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
                          "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
                          "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404",
                          {{"Host", "examplebucket.s3.amazonaws.com"}});
  auto sig = parse_sigv4_query(req.query);
  ASSERT_TRUE(sig) << sig.error().message;
  EXPECT_TRUE(sig->presigned);
  EXPECT_EQ(sig->expires_s, 86400);
  EXPECT_EQ(sig->amz_date, "20130524T000000Z");
  EXPECT_EQ(sig->access_key, kAwsAccessKey);
  EXPECT_EQ(sig->signed_headers, std::vector<std::string>{"host"});
  auto canonical = canonical_request(req, *sig, kUnsignedPayload);
  ASSERT_TRUE(canonical);
  EXPECT_EQ(*canonical,
            "GET\n/test.txt\n"
            "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
            "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host\n"
            "host:examplebucket.s3.amazonaws.com\n\nhost\nUNSIGNED-PAYLOAD");
  std::string sts = string_to_sign(*sig, *canonical);
  EXPECT_EQ(sts,
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
            "3bfa292879f6447bbcda7001decf97f4a54dc650c8942174ae0a9121cf58ad04");
  EXPECT_EQ(sign(signing_key(kAwsSecret, sig->date, sig->region, sig->service), sts),
            "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
}

TEST(S3SigV4, AwsChunkedUploadExample) {
  auto req = make_request("PUT", "/examplebucket/chunkObject.txt",
                          {{"Host", "s3.amazonaws.com"},
                           {"x-amz-date", "20130524T000000Z"},
                           {"x-amz-storage-class", "REDUCED_REDUNDANCY"},
                           {"x-amz-content-sha256", std::string(kStreamingPayload)},
                           {"Content-Encoding", "aws-chunked"},
                           {"x-amz-decoded-content-length", "66560"},
                           {"Content-Length", "66824"}});
  auto sig = parse_sigv4_header(
      "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
      "SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;"
      "x-amz-storage-class,Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9",
      "20130524T000000Z");
  ASSERT_TRUE(sig) << sig.error().message;
  std::string canonical;
  EXPECT_EQ(expected_signature(req, *sig, kAwsSecret, kStreamingPayload, &canonical), sig->signature);
  EXPECT_EQ(sha256_hex(canonical), "cee3fed04b70f867d036f722359b0b1f2f0e5dc0efadbc082b76c4c60e316455");

  // The chunk chain: 64 KiB of 'a', then 1 KiB, then the empty final chunk.
  std::string key = signing_key(kAwsSecret, "20130524", "us-east-1", "s3");
  std::string chunk1_sha = sha256_hex(std::string(65536, 'a'));
  EXPECT_EQ(chunk1_sha, "bf718b6f653bebc184e1479f1935b8da974d701b893afcf49e701f3e2f9f9c5a");
  std::string sts1 = chunk_string_to_sign(*sig, sig->signature, chunk1_sha);
  EXPECT_EQ(sts1,
            "AWS4-HMAC-SHA256-PAYLOAD\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
            "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
            "bf718b6f653bebc184e1479f1935b8da974d701b893afcf49e701f3e2f9f9c5a");
  std::string s1 = sign(key, sts1);
  EXPECT_EQ(s1, "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648");
  std::string s2 = sign(key, chunk_string_to_sign(*sig, s1, sha256_hex(std::string(1024, 'a'))));
  EXPECT_EQ(s2, "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497");
  std::string s3 = sign(key, chunk_string_to_sign(*sig, s2, kEmptySha256));
  EXPECT_EQ(s3, "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9");
}

// From the general SigV4 documentation ("Examples of how to derive a signing key").
TEST(S3SigV4, AwsSigningKeyExample) {
  EXPECT_EQ(crypto::hex(signing_key("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215", "us-east-1", "iam")),
            "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
}

// --- botocore golden vectors (gen_s3_sigv4_vectors.py) ---------------------------------------

struct Vector {
  const char* name;
  const char* method;
  const char* target;
  Headers headers;
  const char* authorization;  // empty for the query forms
  const char* signed_text;    // botocore's canonical request (V4) or string to sign (V2)
};

const std::vector<Vector> kBotoV4Header = {
    {"key with spaces", "PUT", "/bucket/my%20%20key%20.txt",
     {{"Content-Type", "text/plain"}, {"Host", "s3.ciel.test:8443"}, {"X-Amz-Date", "20240229T235958Z"}, {"X-Amz-Content-SHA256", "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"}},
     "AWS4-HMAC-SHA256 Credential=AKIDCIELEXAMPLE/20240229/eu-ciel-1/s3/aws4_request, SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date, Signature=488ef46eed3449af9c8b443faafd748ca41cf19dc8a6a23e302e7e6208c2745e",
     "PUT\n/bucket/my%20%20key%20.txt\n\ncontent-type:text/plain\nhost:s3.ciel.test:8443\nx-amz-content-sha256:b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9\nx-amz-date:20240229T235958Z\n\ncontent-type;host;x-amz-content-sha256;x-amz-date\nb94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"},
    {"unicode key", "GET", "/bucket/fran%C3%A7ais/%E6%97%A5%E6%9C%AC%E8%AA%9E.txt",
     {{"Host", "s3.ciel.test:8443"}, {"X-Amz-Date", "20240229T235958Z"}, {"X-Amz-Content-SHA256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}},
     "AWS4-HMAC-SHA256 Credential=AKIDCIELEXAMPLE/20240229/eu-ciel-1/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=47aa4d8c9910f15746769d07ee4721ff78930c2fb53443d77042a276ce6e36f7",
     "GET\n/bucket/fran%C3%A7ais/%E6%97%A5%E6%9C%AC%E8%AA%9E.txt\n\nhost:s3.ciel.test:8443\nx-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\nx-amz-date:20240229T235958Z\n\nhost;x-amz-content-sha256;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    {"plus equals tilde slash", "GET", "/bucket/a%2Bb%3Dc~d/e%21f%27%28g%29%2Ah",
     {{"Host", "s3.ciel.test:8443"}, {"X-Amz-Date", "20240229T235958Z"}, {"X-Amz-Content-SHA256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}},
     "AWS4-HMAC-SHA256 Credential=AKIDCIELEXAMPLE/20240229/eu-ciel-1/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=a24fc1f559b693fd49bb31bc468e17b8458a6486b99aa674d039491ca654cd2f",
     "GET\n/bucket/a%2Bb%3Dc~d/e%21f%27%28g%29%2Ah\n\nhost:s3.ciel.test:8443\nx-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\nx-amz-date:20240229T235958Z\n\nhost;x-amz-content-sha256;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    {"repeated query parameters", "GET", "/bucket?tag=b&tag=a&tag=a%20b&Zeta=1&alpha=%E2%82%AC",
     {{"Host", "s3.ciel.test:8443"}, {"X-Amz-Date", "20240229T235958Z"}, {"X-Amz-Content-SHA256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}},
     "AWS4-HMAC-SHA256 Credential=AKIDCIELEXAMPLE/20240229/eu-ciel-1/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=572b8d2456ad26449112ab9da0e7e7f89b55019eeade32dee0ddff98b5ff5f33",
     "GET\n/bucket\nZeta=1&alpha=%E2%82%AC&tag=a&tag=a%20b&tag=b\nhost:s3.ciel.test:8443\nx-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\nx-amz-date:20240229T235958Z\n\nhost;x-amz-content-sha256;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    {"empty query values", "GET", "/bucket?acl&uploads=&prefix=",
     {{"Host", "s3.ciel.test:8443"}, {"X-Amz-Date", "20240229T235958Z"}, {"X-Amz-Content-SHA256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}},
     "AWS4-HMAC-SHA256 Credential=AKIDCIELEXAMPLE/20240229/eu-ciel-1/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=21291f32ce373e44d941c0b2c3287f6466ed08d868eddeb2029e0489edabb947",
     "GET\n/bucket\nacl=&prefix=&uploads=\nhost:s3.ciel.test:8443\nx-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\nx-amz-date:20240229T235958Z\n\nhost;x-amz-content-sha256;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    {"query with slash and space", "GET", "/bucket?list-type=2&prefix=photos%2F2024%20summer&delimiter=%2F",
     {{"Host", "s3.ciel.test:8443"}, {"X-Amz-Date", "20240229T235958Z"}, {"X-Amz-Content-SHA256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}},
     "AWS4-HMAC-SHA256 Credential=AKIDCIELEXAMPLE/20240229/eu-ciel-1/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=500cb4e7f416be0d25d8b6256742d4316c8c70e5d8cd6db4b53f750df383da69",
     "GET\n/bucket\ndelimiter=%2F&list-type=2&prefix=photos%2F2024%20summer\nhost:s3.ciel.test:8443\nx-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\nx-amz-date:20240229T235958Z\n\nhost;x-amz-content-sha256;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    {"trimmed and repeated headers", "PUT", "/bucket/obj",
     {{"X-Amz-Meta-Note", "  two   spaces\011and tab  "}, {"x-amz-meta-list", "a"}, {"X-AMZ-META-LIST", "b"}, {"Content-MD5", "XrY7u+Ae7tCTyyK7j1rNww=="}, {"Host", "s3.ciel.test:8443"}, {"X-Amz-Date", "20240229T235958Z"}, {"X-Amz-Content-SHA256", "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"}},
     "AWS4-HMAC-SHA256 Credential=AKIDCIELEXAMPLE/20240229/eu-ciel-1/s3/aws4_request, SignedHeaders=content-md5;host;x-amz-content-sha256;x-amz-date;x-amz-meta-list;x-amz-meta-note, Signature=6307b5c2b655bfee8e38b400eec1f51a1eae4c5fb65ef530eda9764d9755edf7",
     "PUT\n/bucket/obj\n\ncontent-md5:XrY7u+Ae7tCTyyK7j1rNww==\nhost:s3.ciel.test:8443\nx-amz-content-sha256:b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9\nx-amz-date:20240229T235958Z\nx-amz-meta-list:a,b\nx-amz-meta-note:two spaces and tab\n\ncontent-md5;host;x-amz-content-sha256;x-amz-date;x-amz-meta-list;x-amz-meta-note\nb94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"},
    {"date header instead of x-amz-date", "DELETE", "/bucket/old?versionId=3%2F4",
     {{"Host", "s3.ciel.test:8443"}, {"Date", "Thu, 29 Feb 2024 23:59:58 -0000"}, {"X-Amz-Content-SHA256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}},
     "AWS4-HMAC-SHA256 Credential=AKIDCIELEXAMPLE/20240229/eu-ciel-1/s3/aws4_request, SignedHeaders=date;host;x-amz-content-sha256, Signature=769f69f23e3d41ab20c2bc85c8ef448d0b70f3696686e37c1f5998387550d12b",
     "DELETE\n/bucket/old\nversionId=3%2F4\ndate:Thu, 29 Feb 2024 23:59:58 -0000\nhost:s3.ciel.test:8443\nx-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n\ndate;host;x-amz-content-sha256\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    {"multipart part", "PUT", "/bucket/big?partNumber=7&uploadId=VXBsb2Fk%2BSUQ%3D",
     {{"Host", "s3.ciel.test:8443"}, {"X-Amz-Date", "20240229T235958Z"}, {"X-Amz-Content-SHA256", "37a680133bd09342f934afb8dd2c7d9e1b624da5f35e3a38adb103e37c055ed1"}},
     "AWS4-HMAC-SHA256 Credential=AKIDCIELEXAMPLE/20240229/eu-ciel-1/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=af22a6c53a4dfd24c1e5a162c4b48be941e87262f09b6eb30abf75c5db020fdc",
     "PUT\n/bucket/big\npartNumber=7&uploadId=VXBsb2Fk%2BSUQ%3D\nhost:s3.ciel.test:8443\nx-amz-content-sha256:37a680133bd09342f934afb8dd2c7d9e1b624da5f35e3a38adb103e37c055ed1\nx-amz-date:20240229T235958Z\n\nhost;x-amz-content-sha256;x-amz-date\n37a680133bd09342f934afb8dd2c7d9e1b624da5f35e3a38adb103e37c055ed1"},
};

const std::vector<Vector> kBotoV4Presigned = {
    {"presigned get", "GET", "/bucket/my%20key%2B1.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDCIELEXAMPLE%2F20240229%2Feu-ciel-1%2Fs3%2Faws4_request&X-Amz-Date=20240229T235958Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&X-Amz-Signature=66b0a64ec8d7a6d3b4ec564adca258107984b2d8f9bda96eea6793feb9c70ee3",
     {{"Host", "s3.ciel.test:8443"}},
     "",
     ""},
    {"presigned part upload", "PUT", "/bucket/big?partNumber=1&uploadId=abc%3D%3D&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDCIELEXAMPLE%2F20240229%2Feu-ciel-1%2Fs3%2Faws4_request&X-Amz-Date=20240229T235958Z&X-Amz-Expires=604800&X-Amz-SignedHeaders=host&X-Amz-Signature=229cbe1a9840344e48de1b2893d82e0e7a65908ebeb61719f4446a3af915a1d5",
     {{"Host", "s3.ciel.test:8443"}},
     "",
     ""},
    {"presigned with signed content type", "PUT", "/bucket/%C3%A9t%C3%A9?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDCIELEXAMPLE%2F20240229%2Feu-ciel-1%2Fs3%2Faws4_request&X-Amz-Date=20240229T235958Z&X-Amz-Expires=60&X-Amz-SignedHeaders=content-type%3Bhost&X-Amz-Signature=477d8bd6a70d3dc80d2ec3f24f5c8805d0b958146d74f5f2d1b243a1536a3c78",
     {{"Content-Type", "image/png"}, {"Host", "s3.ciel.test:8443"}},
     "",
     ""},
};

const std::vector<Vector> kBotoV2 = {
    {"v2 get", "GET", "/bucket/photos/puppy.jpg",
     {{"Host", "s3.ciel.test:8443"}, {"Date", "Thu, 29 Feb 2024 23:59:58 GMT"}},
     "AWS AKIDCIELEXAMPLE:P/Gwk56G6HLI9dC/anBpo732frs=",
     "GET\n\n\nThu, 29 Feb 2024 23:59:58 GMT\n/bucket/photos/puppy.jpg"},
    {"v2 put with amz headers", "PUT", "/bucket/db-backup.dat.gz",
     {{"Content-Type", "application/x-download"}, {"Content-MD5", "4gJE4saaMU4BqNR0kLY+lw=="}, {"x-amz-acl", "public-read"}, {"X-Amz-Meta-ReviewedBy", "joe@example.net"}, {"X-Amz-Meta-ReviewedBy", "jane@example.net"}, {"X-Amz-Meta-FileChecksum", "0x02661779"}, {"X-Amz-Meta-ChecksumAlgorithm", "crc32"}, {"Host", "s3.ciel.test:8443"}, {"Date", "Thu, 29 Feb 2024 23:59:58 GMT"}},
     "AWS AKIDCIELEXAMPLE:a0+ZgYx1vPoUkl86pGPR6qF4diE=",
     "PUT\n4gJE4saaMU4BqNR0kLY+lw==\napplication/x-download\nThu, 29 Feb 2024 23:59:58 GMT\nx-amz-acl:public-read\nx-amz-meta-checksumalgorithm:crc32\nx-amz-meta-filechecksum:0x02661779\nx-amz-meta-reviewedby:joe@example.net,jane@example.net\n/bucket/db-backup.dat.gz"},
    {"v2 sub-resources", "GET", "/bucket/obj?versionId=v%2B1&acl&prefix=ignored&response-content-type=text%2Fplain%3B%20x",
     {{"Host", "s3.ciel.test:8443"}, {"Date", "Thu, 29 Feb 2024 23:59:58 GMT"}},
     "AWS AKIDCIELEXAMPLE:AygjMXSfsqW/IgIqJNw0nX6SbYY=",
     "GET\n\n\nThu, 29 Feb 2024 23:59:58 GMT\n/bucket/obj?acl&response-content-type=text/plain; x&versionId=v+1"},
    {"v2 multipart part", "PUT", "/bucket/big?uploadId=abc&partNumber=2",
     {{"Host", "s3.ciel.test:8443"}, {"Date", "Thu, 29 Feb 2024 23:59:58 GMT"}},
     "AWS AKIDCIELEXAMPLE:Ez2HJOx8iqgXPdPDcS774w8Q5Ck=",
     "PUT\n\n\nThu, 29 Feb 2024 23:59:58 GMT\n/bucket/big?partNumber=2&uploadId=abc"},
    {"v2 unicode key", "GET", "/bucket/fran%C3%A7ais/pr%C3%A9f%C3%A8re",
     {{"Host", "s3.ciel.test:8443"}, {"Date", "Thu, 29 Feb 2024 23:59:58 GMT"}},
     "AWS AKIDCIELEXAMPLE:1fZQAN0uPWWB8xUeqE9XCE5KjYU=",
     "GET\n\n\nThu, 29 Feb 2024 23:59:58 GMT\n/bucket/fran%C3%A7ais/pr%C3%A9f%C3%A8re"},
    {"v2 presigned", "GET", "/bucket/my%20key.txt?AWSAccessKeyId=AKIDCIELEXAMPLE&Signature=bMYNiulURLhVLEClyy2jt6%2F1tmM%3D&Expires=1709251198",
     {{"Host", "s3.ciel.test:8443"}},
     "",
     "GET\n\n\n1709251198\n/bucket/my%20key.txt"},
};

TEST(S3SigV4, BotocoreHeaderVectors) {
  for (const auto& v : kBotoV4Header) {
    SCOPED_TRACE(v.name);
    auto req = make_request(v.method, v.target, v.headers);
    std::string date = header(req, "x-amz-date");
    auto sig = parse_sigv4_header(v.authorization, date.empty() ? header(req, "Date") : date);
    ASSERT_TRUE(sig) << sig.error().message;
    EXPECT_EQ(sig->amz_date, "20240229T235958Z");
    std::string canonical;
    EXPECT_EQ(expected_signature(req, *sig, kBotoSecret, header(req, "x-amz-content-sha256"), &canonical), sig->signature);
    EXPECT_EQ(canonical, v.signed_text);
    EXPECT_NE(expected_signature(req, *sig, "another secret", header(req, "x-amz-content-sha256")), sig->signature);
  }
}

TEST(S3SigV4, BotocorePresignedVectors) {
  for (const auto& v : kBotoV4Presigned) {
    SCOPED_TRACE(v.name);
    auto req = make_request(v.method, v.target, v.headers);
    auto sig = parse_sigv4_query(req.query);
    ASSERT_TRUE(sig) << sig.error().message;
    EXPECT_TRUE(sig->presigned);
    EXPECT_EQ(expected_signature(req, *sig, kBotoSecret, kUnsignedPayload), sig->signature);
    // The signature covers the method and the path.
    auto other = req;
    other.method = other.method == "GET" ? "PUT" : "GET";
    EXPECT_NE(expected_signature(other, *sig, kBotoSecret, kUnsignedPayload), sig->signature);
    other = req;
    other.raw_path += "x";
    EXPECT_NE(expected_signature(other, *sig, kBotoSecret, kUnsignedPayload), sig->signature);
  }
}

// --- parsing ---------------------------------------------------------------------------------

constexpr std::string_view kSig64 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

std::string v4_header(std::string_view credential, std::string_view signed_headers = "host;x-amz-date",
                      std::string_view signature = kSig64) {
  return "AWS4-HMAC-SHA256 Credential=" + std::string(credential) + ", SignedHeaders=" + std::string(signed_headers) +
         ", Signature=" + std::string(signature);
}

TEST(S3SigV4, ParsesHeaderVariants) {
  // Without spaces after the commas, with several, and with the parts in another order.
  for (std::string text : {
           "AWS4-HMAC-SHA256 Credential=AK/20240101/us-east-1/s3/aws4_request,SignedHeaders=host;x-amz-date,Signature=" + std::string(kSig64),
           "AWS4-HMAC-SHA256  Credential=AK/20240101/us-east-1/s3/aws4_request ,  SignedHeaders=host;x-amz-date,\tSignature=" + std::string(kSig64),
           "AWS4-HMAC-SHA256 Signature=" + std::string(kSig64) + ", SignedHeaders=host;x-amz-date, Credential=AK/20240101/us-east-1/s3/aws4_request",
       }) {
    SCOPED_TRACE(text);
    auto sig = parse_sigv4_header(text, "20240101T120000Z");
    ASSERT_TRUE(sig) << sig.error().message;
    EXPECT_EQ(sig->access_key, "AK");
    EXPECT_EQ(sig->date, "20240101");
    EXPECT_EQ(sig->region, "us-east-1");
    EXPECT_EQ(sig->service, "s3");
    EXPECT_EQ(sig->signed_headers, (std::vector<std::string>{"host", "x-amz-date"}));
    EXPECT_EQ(sig->signature, kSig64);
    EXPECT_EQ(sig->amz_date, "20240101T120000Z");
    EXPECT_FALSE(sig->presigned);
  }
  // Signed header names are lowercased, and kept in the order sent.
  auto sig = parse_sigv4_header(v4_header("AK/20240101/r/s3/aws4_request", "X-Amz-Date;Host;content-type"), "20240101T000000Z");
  ASSERT_TRUE(sig);
  EXPECT_EQ(sig->signed_headers, (std::vector<std::string>{"x-amz-date", "host", "content-type"}));
  // An upper-case signature is the same signature.
  std::string upper(kSig64);
  for (char& c : upper) { c = static_cast<char>(std::toupper(static_cast<unsigned char>(c))); }
  sig = parse_sigv4_header(v4_header("AK/20240101/r/s3/aws4_request", "host", upper), "20240101T000000Z");
  ASSERT_TRUE(sig);
  EXPECT_EQ(sig->signature, kSig64);
  // An access key holding '/': the scope is read from the right.
  sig = parse_sigv4_header(v4_header("a/b/20240101/r/s3/aws4_request"), "20240101T000000Z");
  ASSERT_TRUE(sig);
  EXPECT_EQ(sig->access_key, "a/b");
  EXPECT_EQ(sig->region, "r");
  // A Date header in RFC 1123 form becomes the basic ISO 8601 form the string to sign uses.
  sig = parse_sigv4_header(v4_header("AK/20130524/us-east-1/s3/aws4_request"), "Fri, 24 May 2013 13:04:05 GMT");
  ASSERT_TRUE(sig) << sig.error().message;
  EXPECT_EQ(sig->amz_date, "20130524T130405Z");
  sig = parse_sigv4_header(v4_header("AK/20130524/us-east-1/s3/aws4_request"), "Fri, 24 May 2013 23:30:00 -0100");
  ASSERT_FALSE(sig);  // 00:30 on the 25th: not the scope's day
}

TEST(S3SigV4, RefusesMalformedHeaders) {
  const std::string good_cred = "AK/20240101/us-east-1/s3/aws4_request";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "20240101T000000Z"},
      {"AWS4-HMAC-SHA256", "20240101T000000Z"},
      {"AWS4-HMAC-SHA256 ", "20240101T000000Z"},
      {"AWS4-HMAC-SHA1 Credential=" + good_cred + ", SignedHeaders=host, Signature=" + std::string(kSig64), "20240101T000000Z"},
      {"AWS4-HMAC-SHA256Credential=" + good_cred + ", SignedHeaders=host, Signature=" + std::string(kSig64), "20240101T000000Z"},
      {"AWS AK:c2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXI=", "20240101T000000Z"},
      // Missing parts of the header.
      {"AWS4-HMAC-SHA256 SignedHeaders=host, Signature=" + std::string(kSig64), "20240101T000000Z"},
      {"AWS4-HMAC-SHA256 Credential=" + good_cred + ", Signature=" + std::string(kSig64), "20240101T000000Z"},
      {"AWS4-HMAC-SHA256 Credential=" + good_cred + ", SignedHeaders=host", "20240101T000000Z"},
      {v4_header(good_cred) + ",", "20240101T000000Z"},
      {v4_header(good_cred) + ", Signature=" + std::string(kSig64), "20240101T000000Z"},
      {v4_header(good_cred) + ", Other=1", "20240101T000000Z"},
      {"AWS4-HMAC-SHA256 Credential " + good_cred + ", SignedHeaders=host, Signature=" + std::string(kSig64), "20240101T000000Z"},
      // Missing or wrong parts of the credential.
      {v4_header("20240101/us-east-1/s3/aws4_request"), "20240101T000000Z"},
      {v4_header("/20240101/us-east-1/s3/aws4_request"), "20240101T000000Z"},
      {v4_header("AK/20240101/us-east-1/s3"), "20240101T000000Z"},
      {v4_header("AK/20240101/us-east-1/s3/aws5_request"), "20240101T000000Z"},
      {v4_header("AK/20240101//s3/aws4_request"), "20240101T000000Z"},
      {v4_header("AK/20240101/us-east-1//aws4_request"), "20240101T000000Z"},
      {v4_header("AK/2024011/us-east-1/s3/aws4_request"), "20240101T000000Z"},
      {v4_header("AK/20241301/us-east-1/s3/aws4_request"), "20241301T000000Z"},
      {v4_header("AK/20230229/us-east-1/s3/aws4_request"), "20230229T000000Z"},
      {v4_header("A K/20240101/us-east-1/s3/aws4_request"), "20240101T000000Z"},
      // Signed headers.
      {v4_header(good_cred, ""), "20240101T000000Z"},
      {v4_header(good_cred, "x-amz-date"), "20240101T000000Z"},
      {v4_header(good_cred, "host;;x-amz-date"), "20240101T000000Z"},
      {v4_header(good_cred, "host;x-amz-date;"), "20240101T000000Z"},
      {v4_header(good_cred, "host;Host"), "20240101T000000Z"},
      {v4_header(good_cred, "host;x amz"), "20240101T000000Z"},
      // Signature.
      {v4_header(good_cred, "host", kSig64.substr(1)), "20240101T000000Z"},
      {v4_header(good_cred, "host", std::string(kSig64) + "0"), "20240101T000000Z"},
      {v4_header(good_cred, "host", std::string(63, '0') + "g"), "20240101T000000Z"},
      {v4_header(good_cred, "host", ""), "20240101T000000Z"},
      // Dates: missing, malformed, or another day than the scope's.
      {v4_header(good_cred), ""},
      {v4_header(good_cred), "20240101"},
      {v4_header(good_cred), "20240101T000000"},
      {v4_header(good_cred), "20240101t000000z"},
      {v4_header(good_cred), "20240101T240000Z"},
      {v4_header(good_cred), "20240102T000000Z"},
      {v4_header(good_cred), "Mon, 01 Jan 2024 00:00:00"},
      {v4_header(good_cred), "yesterday"},
      // A Date whose offset takes it out of the years the basic form can hold.
      {v4_header("AK/00000101/us-east-1/s3/aws4_request"), "Sat, 01 Jan 0000 00:30:00 +0100"},
  };
  for (const auto& [authorization, date] : cases) {
    SCOPED_TRACE(authorization + " / " + date);
    auto sig = parse_sigv4_header(authorization, date);
    ASSERT_FALSE(sig);
    EXPECT_EQ(sig.error().code, Errc::invalid_argument);
    EXPECT_FALSE(sig.error().message.empty());
  }
}

Headers presigned_query(std::string_view drop = "", std::string_view name = "", std::string_view value = "") {
  Headers q = {{"X-Amz-Algorithm", "AWS4-HMAC-SHA256"},
               {"X-Amz-Credential", "AK/20240101/us-east-1/s3/aws4_request"},
               {"X-Amz-Date", "20240101T101010Z"},
               {"X-Amz-Expires", "3600"},
               {"X-Amz-SignedHeaders", "host"},
               {"X-Amz-Signature", std::string(kSig64)}};
  std::erase_if(q, [&](const auto& p) { return p.first == drop || p.first == name; });
  if (!name.empty()) { q.emplace_back(std::string(name), std::string(value)); }
  return q;
}

TEST(S3SigV4, ParsesPresignedQuery) {
  auto sig = parse_sigv4_query(presigned_query());
  ASSERT_TRUE(sig) << sig.error().message;
  EXPECT_TRUE(sig->presigned);
  EXPECT_EQ(sig->expires_s, 3600);
  EXPECT_EQ(sig->amz_date, "20240101T101010Z");
  EXPECT_EQ(sig->date, "20240101");
  for (std::string_view expires : {"1", "604800", "0000060"}) {
    auto s = parse_sigv4_query(presigned_query("", "X-Amz-Expires", expires));
    ASSERT_TRUE(s) << expires;
  }
  // Other parameters are ignored here; they are signed through the canonical query.
  auto q = presigned_query();
  q.emplace_back("partNumber", "1");
  EXPECT_TRUE(parse_sigv4_query(q));
}

TEST(S3SigV4, RefusesMalformedPresignedQuery) {
  std::vector<Headers> cases;
  for (std::string_view name : {"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders",
                                "X-Amz-Signature"}) {
    cases.push_back(presigned_query(name));  // each one missing
    auto twice = presigned_query();
    twice.push_back(*std::find_if(twice.begin(), twice.end(), [&](const auto& p) { return p.first == name; }));
    cases.push_back(twice);
  }
  for (std::string_view expires : {"0", "604801", "-1", "+60", "1e3", "", " 60", "99999999999999999999", "0x10"}) {
    cases.push_back(presigned_query("", "X-Amz-Expires", expires));
  }
  for (std::string_view date : {"20240101", "20240101T101010", "2024-01-01T10:10:10Z", "20240102T101010Z", "20240101T106010Z"}) {
    cases.push_back(presigned_query("", "X-Amz-Date", date));
  }
  cases.push_back(presigned_query("", "X-Amz-Algorithm", "AWS4-HMAC-SHA512"));
  cases.push_back(presigned_query("", "X-Amz-Credential", "AK/20240101/us-east-1/s3"));
  cases.push_back(presigned_query("", "X-Amz-Credential", "AK/20240101/us-east-1/s3/aws4_request/extra"));
  cases.push_back(presigned_query("", "X-Amz-SignedHeaders", "content-type"));
  cases.push_back(presigned_query("", "X-Amz-Signature", "abc"));
  cases.push_back(presigned_query("X-Amz-Signature", "x-amz-signature", kSig64));  // the names are case-sensitive
  for (const auto& q : cases) {
    std::string text;
    for (const auto& [k, v] : q) { text += k + "=" + v + "&"; }
    SCOPED_TRACE(text);
    auto sig = parse_sigv4_query(q);
    ASSERT_FALSE(sig);
    EXPECT_EQ(sig.error().code, Errc::invalid_argument);
    EXPECT_FALSE(sig.error().message.empty());
  }
}

// --- canonical request ---------------------------------------------------------------------

TEST(S3SigV4, UriEncode) {
  EXPECT_EQ(uri_encode("AZaz09-_.~", false), "AZaz09-_.~");
  EXPECT_EQ(uri_encode("a b+c=d/e", false), "a%20b%2Bc%3Dd%2Fe");
  EXPECT_EQ(uri_encode("a b+c=d/e", true), "a%20b%2Bc%3Dd/e");
  EXPECT_EQ(uri_encode("\xc3\xa9*!'()%", false), "%C3%A9%2A%21%27%28%29%25");
  EXPECT_EQ(uri_encode(std::string("\0\x7f\xff", 3), false), "%00%7F%FF");
  EXPECT_EQ(uri_encode("", true), "");
}

SigV4 host_only(std::vector<std::string> signed_headers = {"host"}) {
  SigV4 sig = aws_example_scope();
  sig.signed_headers = std::move(signed_headers);
  return sig;
}

TEST(S3SigV4, CanonicalUriReencodesEachSegment) {
  auto uri_of = [](std::string raw_path) {
    SignedRequest req{"GET", std::move(raw_path), {}, {{"host", "h"}}};
    auto c = canonical_request(req, host_only(), kEmptySha256);
    EXPECT_TRUE(c);
    return c ? c->substr(4, c->find('\n', 4) - 4) : std::string();
  };
  EXPECT_EQ(uri_of(""), "/");
  EXPECT_EQ(uri_of("/"), "/");
  EXPECT_EQ(uri_of("/b/a%20b"), "/b/a%20b");
  EXPECT_EQ(uri_of("/b/a b"), "/b/a%20b");
  EXPECT_EQ(uri_of("/b/%7e%41"), "/b/~A");        // unreserved escapes decode
  EXPECT_EQ(uri_of("/b/a%2fb"), "/b/a%2Fb");      // an encoded slash stays one
  EXPECT_EQ(uri_of("/b//c/"), "/b//c/");          // no normalisation for S3
  EXPECT_EQ(uri_of("/b/./../c"), "/b/./../c");
  EXPECT_EQ(uri_of("/b/100%"), "/b/100%25");      // a stray '%' stays a character
  EXPECT_EQ(uri_of("/b/%zz%4"), "/b/%25zz%254");
}

TEST(S3SigV4, CanonicalQueryAndHeaders) {
  SignedRequest req{"PUT",
                    "/b/k",
                    {{"b", "2"}, {"a", "y"}, {"a", "x"}, {"X-Amz-Signature", "sig"}, {"c d", "e+f"}, {"empty", ""}},
                    {{"Host", "h.example"}, {"X-Multi", "one"}, {"x-multi", "  two\t\tthree  "}, {"X-Unsigned", "u"}}};
  auto c = canonical_request(req, host_only({"host", "x-multi"}), "PAYLOAD");
  ASSERT_TRUE(c);
  // A header-signed request keeps X-Amz-Signature in the query like any other parameter.
  EXPECT_EQ(*c,
            "PUT\n/b/k\n"
            "X-Amz-Signature=sig&a=x&a=y&b=2&c%20d=e%2Bf&empty=\n"
            "host:h.example\nx-multi:one,two three\n\n"
            "host;x-multi\nPAYLOAD");
  SigV4 presigned = host_only({"host", "x-multi"});
  presigned.presigned = true;
  c = canonical_request(req, presigned, kUnsignedPayload);
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->starts_with("PUT\n/b/k\na=x&a=y&b=2&c%20d=e%2Bf&empty=\n")) << *c;
}

TEST(S3SigV4, CanonicalRequestNeedsEverySignedHeader) {
  SignedRequest req{"GET", "/", {}, {{"host", "h"}}};
  auto c = canonical_request(req, host_only({"host", "x-amz-date"}), kEmptySha256);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, Errc::invalid_argument);
  req.headers.clear();
  c = canonical_request(req, host_only(), kEmptySha256);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, Errc::invalid_argument);
  // A present but empty value is signed as empty.
  req.headers = {{"host", "h"}, {"x-amz-date", ""}};
  c = canonical_request(req, host_only({"host", "x-amz-date"}), kEmptySha256);
  ASSERT_TRUE(c);
  EXPECT_NE(c->find("\nx-amz-date:\n"), std::string::npos);
}

TEST(S3SigV4, SignatureCoversEachPart) {
  auto req = make_request("GET", "/b/k?list-type=2", {{"Host", "h"}, {"x-amz-date", "20130524T000000Z"}, {"Range", "bytes=0-1"}});
  SigV4 sig = host_only({"host", "range", "x-amz-date"});
  std::string base = expected_signature(req, sig, kAwsSecret, kEmptySha256);
  auto changed = [&](auto mutate) {
    auto r = req;
    SigV4 s = sig;
    std::string payload(kEmptySha256);
    std::string secret(kAwsSecret);
    mutate(r, s, payload, secret);
    return expected_signature(r, s, secret, payload) != base;
  };
  EXPECT_TRUE(changed([](SignedRequest& r, SigV4&, std::string&, std::string&) { r.method = "HEAD"; }));
  EXPECT_TRUE(changed([](SignedRequest& r, SigV4&, std::string&, std::string&) { r.raw_path = "/b/K"; }));
  EXPECT_TRUE(changed([](SignedRequest& r, SigV4&, std::string&, std::string&) { r.query[0].second = "1"; }));
  EXPECT_TRUE(changed([](SignedRequest& r, SigV4&, std::string&, std::string&) { r.headers[2].second = "bytes=0-2"; }));
  EXPECT_TRUE(changed([](SignedRequest&, SigV4&, std::string& p, std::string&) { p = std::string(kUnsignedPayload); }));
  EXPECT_TRUE(changed([](SignedRequest&, SigV4& s, std::string&, std::string&) { s.region = "us-west-2"; }));
  EXPECT_TRUE(changed([](SignedRequest&, SigV4& s, std::string&, std::string&) { s.amz_date = "20130524T000001Z"; }));
  EXPECT_TRUE(changed([](SignedRequest&, SigV4&, std::string&, std::string& k) { k += "x"; }));
  // An unsigned header may change freely.
  EXPECT_FALSE(changed([](SignedRequest& r, SigV4&, std::string&, std::string&) { r.headers.emplace_back("User-Agent", "x"); }));
}

// --- dates ---------------------------------------------------------------------------------

TEST(S3SigV4, ParsesAmzDate) {
  EXPECT_EQ(parse_amz_date("19700101T000000Z"), 0);
  EXPECT_EQ(parse_amz_date("20130524T000000Z"), 1369353600);
  EXPECT_EQ(parse_amz_date("20240229T235959Z"), 1709251199);
  EXPECT_EQ(parse_amz_date("19691231T235959Z"), -1);
  EXPECT_EQ(parse_amz_date("99991231T235959Z"), 253402300799);
  for (std::string_view bad : {"", "20130524", "20130524T000000", "20130524T000000z", "20130524t000000Z", "2013-05-24T00:00:00Z",
                               "20130524T000000ZZ", " 20130524T000000Z", "20131324T000000Z", "20130500T000000Z",
                               "20130532T000000Z", "20230229T000000Z", "21000229T000000Z", "20130431T000000Z",
                               "20130524T240000Z", "20130524T006000Z", "20130524T000060Z", "2013052AT000000Z",
                               "+0130524T000000Z"}) {
    EXPECT_FALSE(parse_amz_date(bad)) << bad;
  }
  EXPECT_TRUE(parse_amz_date("20000229T000000Z"));
}

TEST(S3SigV4, ParsesHttpDate) {
  EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777);
  EXPECT_EQ(parse_http_date("Tue, 27 Mar 2007 19:36:42 +0000"), 1175024202);
  EXPECT_EQ(parse_http_date("Tue, 27 Mar 2007 19:36:42 -0000"), 1175024202);
  EXPECT_EQ(parse_http_date("Tue, 27 Mar 2007 21:36:42 +0200"), 1175024202);
  EXPECT_EQ(parse_http_date("Tue, 27 Mar 2007 18:06:42 -0130"), 1175024202);
  EXPECT_EQ(parse_http_date("27 Mar 2007 19:36:42 GMT"), 1175024202);
  EXPECT_EQ(parse_http_date("Tue, 27 mar 2007 19:36:42 UTC"), 1175024202);
  EXPECT_EQ(parse_http_date("Thu, 1 Jan 1970 00:00:00 GMT"), 0);
  EXPECT_EQ(parse_http_date("Thu, 29 Feb 2024 23:59:58 GMT"), 1709251198);
  for (std::string_view bad : {"", "Sun, 06 Nov 1994 08:49:37", "Sun, 06 Nov 1994 08:49:37 PST", "Sun, 06 Nov 94 08:49:37 GMT",
                               "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994", "Sun, 06 Foo 1994 08:49:37 GMT",
                               "Xyz, 06 Nov 1994 08:49:37 GMT", "Sun, 31 Apr 1994 08:49:37 GMT", "Sun, 29 Feb 2023 08:49:37 GMT",
                               "Sun, 06 Nov 1994 24:00:00 GMT", "Sun, 06 Nov 1994 08:60:00 GMT", "Sun, 06 Nov 1994 08:49:37 GMT x",
                               "Sun, 06 Nov 1994 08:49:37 +2400", "Sun, 06 Nov 1994 08:49:37 +01", "Sun, 00 Nov 1994 08:49:37 GMT",
                               "Sun, 006 Nov 1994 08:49:37 GMT", "20130524T000000Z"}) {
    EXPECT_FALSE(parse_http_date(bad)) << bad;
  }
}

// --- Signature Version 2 --------------------------------------------------------------------

// The examples of AWS's "Signing and Authenticating REST Requests" (path-style: the bucket
// is the first path segment of the canonical resource).
TEST(S3SigV2, AwsExamples) {
  struct Example {
    const char* method;
    const char* target;
    Headers headers;
    const char* string_to_sign;
    const char* signature;
  };
  const std::vector<Example> examples = {
      {"GET", "/johnsmith/photos/puppy.jpg",
       {{"Host", "s3.amazonaws.com"}, {"Date", "Tue, 27 Mar 2007 19:36:42 +0000"}},
       "GET\n\n\nTue, 27 Mar 2007 19:36:42 +0000\n/johnsmith/photos/puppy.jpg", "bWq2s1WEIj+Ydj0vQ697zp+IXMU="},
      {"PUT", "/johnsmith/photos/puppy.jpg",
       {{"Content-Type", "image/jpeg"}, {"Content-Length", "94328"}, {"Host", "s3.amazonaws.com"},
        {"Date", "Tue, 27 Mar 2007 21:15:45 +0000"}},
       "PUT\n\nimage/jpeg\nTue, 27 Mar 2007 21:15:45 +0000\n/johnsmith/photos/puppy.jpg", "MyyxeRY7whkBe+bq8fHCL/2kKUg="},
      {"GET", "/johnsmith/?prefix=photos&max-keys=50&marker=puppy",
       {{"User-Agent", "Mozilla/5.0"}, {"Host", "s3.amazonaws.com"}, {"Date", "Tue, 27 Mar 2007 19:42:41 +0000"}},
       "GET\n\n\nTue, 27 Mar 2007 19:42:41 +0000\n/johnsmith/", "htDYFYduRNen8P9ZfE/s9SuKy0U="},
      {"GET", "/johnsmith/?acl", {{"Host", "s3.amazonaws.com"}, {"Date", "Tue, 27 Mar 2007 19:44:46 +0000"}},
       "GET\n\n\nTue, 27 Mar 2007 19:44:46 +0000\n/johnsmith/?acl", "c2WLPFtWHVgbEmeEG93a4cG37dM="},
      // With x-amz-date the Date line is empty. (The documentation prints 9b2sXq0KfxsxHtdZkzx/9Ngqyh8=
      // for this one, which is not the HMAC of its own string to sign; this is.)
      {"DELETE", "/johnsmith/photos/puppy.jpg",
       {{"User-Agent", "dotnet"}, {"Host", "s3.amazonaws.com"}, {"Date", "Tue, 27 Mar 2007 21:20:27 +0000"},
        {"x-amz-date", "Tue, 27 Mar 2007 21:20:26 +0000"}},
       "DELETE\n\n\n\nx-amz-date:Tue, 27 Mar 2007 21:20:26 +0000\n/johnsmith/photos/puppy.jpg", "R4dJ53KECjStyBO5iTBJZ4XVOaI="},
      {"PUT", "/static.johnsmith.net/db-backup.dat.gz",
       {{"User-Agent", "curl/7.15.5"}, {"Host", "static.johnsmith.net:8080"}, {"Date", "Tue, 27 Mar 2007 21:06:08 +0000"},
        {"x-amz-acl", "public-read"}, {"content-type", "application/x-download"}, {"Content-MD5", "4gJE4saaMU4BqNR0kLY+lw=="},
        {"X-Amz-Meta-ReviewedBy", "joe@johnsmith.net"}, {"X-Amz-Meta-ReviewedBy", "jane@johnsmith.net"},
        {"X-Amz-Meta-FileChecksum", "0x02661779"}, {"X-Amz-Meta-ChecksumAlgorithm", "crc32"},
        {"Content-Disposition", "attachment; filename=database.dat"}, {"Content-Encoding", "gzip"},
        {"Content-Length", "5913339"}},
       "PUT\n4gJE4saaMU4BqNR0kLY+lw==\napplication/x-download\nTue, 27 Mar 2007 21:06:08 +0000\n"
       "x-amz-acl:public-read\nx-amz-meta-checksumalgorithm:crc32\nx-amz-meta-filechecksum:0x02661779\n"
       "x-amz-meta-reviewedby:joe@johnsmith.net,jane@johnsmith.net\n/static.johnsmith.net/db-backup.dat.gz",
       "ilyl83RwaSoYIEdixDQcA4OnAnc="},
      {"GET", "/", {{"Host", "s3.amazonaws.com"}, {"Date", "Wed, 28 Mar 2007 01:29:59 +0000"}},
       "GET\n\n\nWed, 28 Mar 2007 01:29:59 +0000\n/", "qGdzdERIC03wnaRNKh6OqZehG9s="},
      {"GET", "/dictionary/fran%C3%A7ais/pr%c3%a9f%c3%a8re", {{"Host", "s3.amazonaws.com"}, {"Date", "Wed, 28 Mar 2007 01:49:49 +0000"}},
       "GET\n\n\nWed, 28 Mar 2007 01:49:49 +0000\n/dictionary/fran%C3%A7ais/pr%c3%a9f%c3%a8re", "DNEZGsoieTZ92F3bUfSPQcbGmlM="},
  };
  for (const auto& e : examples) {
    SCOPED_TRACE(e.string_to_sign);
    auto req = make_request(e.method, e.target, e.headers);
    auto sig = parse_sigv2_header("AWS AKIAIOSFODNN7EXAMPLE:" + std::string(e.signature));
    ASSERT_TRUE(sig) << sig.error().message;
    EXPECT_EQ(sig->access_key, kAwsAccessKey);
    EXPECT_FALSE(sig->presigned);
    std::string sts = sigv2_string_to_sign(req, *sig);
    EXPECT_EQ(sts, e.string_to_sign);
    EXPECT_EQ(sigv2_sign(kAwsSecret, sts), sig->signature);
  }
}

TEST(S3SigV2, AwsQueryExample) {
  auto req = make_request("GET",
                          "/johnsmith/photos/puppy.jpg?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Expires=1175139620"
                          "&Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D",
                          {{"Host", "s3.amazonaws.com"}});
  auto sig = parse_sigv2_query(req.query);
  ASSERT_TRUE(sig) << sig.error().message;
  EXPECT_TRUE(sig->presigned);
  EXPECT_EQ(sig->expires_s, 1175139620);
  EXPECT_EQ(sig->signature, "NpgCjnDzrM+WFzoENXmpNDUsSn8=");
  std::string sts = sigv2_string_to_sign(req, *sig);
  EXPECT_EQ(sts, "GET\n\n\n1175139620\n/johnsmith/photos/puppy.jpg");
  EXPECT_EQ(sigv2_sign(kAwsSecret, sts), sig->signature);
  // A '+' sent unencoded arrives as a space; it is still the same signature.
  req = make_request("GET", "/johnsmith/photos/puppy.jpg?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Expires=1175139620"
                            "&Signature=NpgCjnDzrM+WFzoENXmpNDUsSn8%3D", {});
  sig = parse_sigv2_query(req.query);
  ASSERT_TRUE(sig);
  EXPECT_EQ(sig->signature, "NpgCjnDzrM+WFzoENXmpNDUsSn8=");
}

TEST(S3SigV2, BotocoreVectors) {
  for (const auto& v : kBotoV2) {
    SCOPED_TRACE(v.name);
    auto req = make_request(v.method, v.target, v.headers);
    auto sig = std::string_view(v.authorization).empty() ? parse_sigv2_query(req.query) : parse_sigv2_header(v.authorization);
    ASSERT_TRUE(sig) << sig.error().message;
    std::string sts = sigv2_string_to_sign(req, *sig);
    EXPECT_EQ(sts, v.signed_text);
    EXPECT_EQ(sigv2_sign(kBotoSecret, sts), sig->signature);
  }
}

TEST(S3SigV2, StringToSignDetails) {
  // Sub-resources sorted, values decoded, a bare name for an empty value; other parameters
  // (and x-amz-* parameters) are not part of the resource.
  auto req = make_request("GET", "/b/k?versions&prefix=p&uploadId=a%2Fb&acl=&response-expires=x%20y&unknown=1", {});
  SigV2 sig;
  EXPECT_EQ(sigv2_string_to_sign(req, sig), "GET\n\n\n\n/b/k?acl&response-expires=x y&uploadId=a/b&versions");
  // Empty raw path signs as "/"; header lookup ignores case and values are trimmed.
  req = make_request("HEAD", "", {{"CONTENT-TYPE", "  text/plain "}, {"date", "D"}, {"X-AMZ-Meta-A", " 1 "}});
  EXPECT_EQ(sigv2_string_to_sign(req, sig), "HEAD\n\ntext/plain\nD\nx-amz-meta-a:1\n/");
  // Presigned: Expires replaces Date, even with x-amz-date present.
  sig.presigned = true;
  sig.expires_s = 42;
  req.headers.emplace_back("x-amz-date", "E");
  EXPECT_EQ(sigv2_string_to_sign(req, sig), "HEAD\n\ntext/plain\n42\nx-amz-date:E\nx-amz-meta-a:1\n/");
}

TEST(S3SigV2, ParsesHeader) {
  auto sig = parse_sigv2_header("AWS AKIAIOSFODNN7EXAMPLE:bWq2s1WEIj+Ydj0vQ697zp+IXMU=");
  ASSERT_TRUE(sig);
  EXPECT_EQ(sig->access_key, "AKIAIOSFODNN7EXAMPLE");
  EXPECT_EQ(sig->signature, "bWq2s1WEIj+Ydj0vQ697zp+IXMU=");
  EXPECT_FALSE(sig->presigned);
  for (std::string_view bad : {"", "AWS", "AWS ", "AWS :bWq2s1WEIj+Ydj0vQ697zp+IXMU=", "AWS AK", "AWS AK:", "AWS AK:bWq2s1WEIj",
                               "AWS AK:bWq2s1WEIj+Ydj0vQ697zp+IXMU", "AWS AK:bWq2s1WEIj+Ydj0vQ697zp+IXMU=bWq2",
                               "AWS AK:c2lnbg==", "AWS AK:!Wq2s1WEIj+Ydj0vQ697zp+IXMU=", "aws AK:bWq2s1WEIj+Ydj0vQ697zp+IXMU=",
                               "AWS  AK:bWq2s1WEIj+Ydj0vQ697zp+IXMU=", "AWS A K:bWq2s1WEIj+Ydj0vQ697zp+IXMU=",
                               "AWS4-HMAC-SHA256 Credential=AK/20240101/us-east-1/s3/aws4_request"}) {
    auto r = parse_sigv2_header(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, Errc::invalid_argument);
  }
}

TEST(S3SigV2, ParsesQuery) {
  Headers good = {{"AWSAccessKeyId", "AK"}, {"Expires", "1175139620"}, {"Signature", "NpgCjnDzrM+WFzoENXmpNDUsSn8="}};
  ASSERT_TRUE(parse_sigv2_query(good));
  std::vector<Headers> cases;
  for (std::size_t i = 0; i < good.size(); ++i) {
    Headers missing = good;
    missing.erase(missing.begin() + static_cast<std::ptrdiff_t>(i));
    cases.push_back(missing);
    Headers twice = good;
    twice.push_back(good[i]);
    cases.push_back(twice);
  }
  for (std::string_view expires : {"", "-1", "1.5", "soon", "9999999999999999999", " 1"}) {
    Headers q = good;
    q[1].second = expires;
    cases.push_back(q);
  }
  for (std::string_view signature : {"", "abc", "c2lnbg=="}) {
    Headers q = good;
    q[2].second = signature;
    cases.push_back(q);
  }
  Headers blank_key = good;
  blank_key[0].second = "";
  cases.push_back(blank_key);
  for (const auto& q : cases) {
    auto r = parse_sigv2_query(q);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::invalid_argument);
  }
}

}  // namespace
}  // namespace ciel::object::s3
