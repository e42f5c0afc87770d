#include "object/s3/chunked.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "core/crypto/crypto.h"
#include "support/test_support.h"
#include "unit/object/byte_sources.h"

namespace ciel::object::s3 {
namespace {

using test::ChunkedSource;
using test::run_coro;

constexpr std::string_view kSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

// The scope and seed signature of AWS's chunked upload example ("Transferring Payload in
// Multiple Chunks"): PUT /examplebucket/chunkObject.txt, 64 KiB of 'a' then 1 KiB.
SigV4 example_sig() {
  SigV4 sig;
  sig.access_key = "AKIAIOSFODNN7EXAMPLE";
  sig.date = "20130524";
  sig.region = "us-east-1";
  sig.service = "s3";
  sig.signed_headers = {"content-encoding", "content-length", "host", "x-amz-content-sha256", "x-amz-date",
                        "x-amz-decoded-content-length", "x-amz-storage-class"};
  sig.signature = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";
  sig.amz_date = "20130524T000000Z";
  return sig;
}

std::string example_key() { return signing_key(kSecret, "20130524", "us-east-1", "s3"); }

std::string hex_size(std::size_t n) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%zx", n);
  return buf;
}

// The documented body, with the documented chunk signatures.
std::string example_body() {
  std::string body;
  body += "10000;chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\r\n";
  body += std::string(65536, 'a') + "\r\n";
  body += "400;chunk-signature=0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497\r\n";
  body += std::string(1024, 'a') + "\r\n";
  body += "0;chunk-signature=b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9\r\n\r\n";
  return body;
}

// A correctly signed body for `chunks` (the final empty chunk is added), chained from the
// example's seed signature. AwsExampleBody checks this signer against the published values.
std::string signed_body(const std::vector<std::string>& chunks) {
  SigV4 sig = example_sig();
  std::string key = example_key();
  std::string previous = sig.signature;
  std::string body;
  auto add = [&](const std::string& data) {
    previous = sign(key, chunk_string_to_sign(sig, previous, crypto::hex(crypto::sha256(data))));
    body += hex_size(data.size()) + ";chunk-signature=" + previous + "\r\n" + data + "\r\n";
  };
  for (const auto& c : chunks) { add(c); }
  add("");
  return body;
}

struct Drained {
  std::string data;
  std::optional<Error> error;
  std::size_t reads = 0;
};

// Reads `source` to its end or its first error, `read_size` bytes at a time.
Drained drain(ByteSource& source, std::size_t read_size) {
  Drained out;
  run_coro([&]() -> boost::asio::awaitable<void> {
    std::vector<char> buf(read_size);
    for (;;) {
      auto n = co_await source.read(std::span<char>(buf.data(), buf.size()));
      ++out.reads;
      if (!n) {
        out.error = n.error();
        co_return;
      }
      if (*n == 0) { co_return; }
      EXPECT_LE(*n, read_size);
      out.data.append(buf.data(), *n);
    }
  });
  return out;
}

Drained decode(std::string body, std::size_t inner_split, std::size_t read_size,
               std::optional<std::uint64_t> decoded_length = std::nullopt, SigV4 sig = example_sig()) {
  ChunkedSource inner(std::move(body), inner_split);
  auto source = make_aws_chunked_source(inner, std::move(sig), example_key(), decoded_length);
  return drain(*source, read_size);
}

TEST(S3Chunked, AwsExampleBody) {
  std::string body = example_body();
  EXPECT_EQ(body.size(), 66824u);  // the example's Content-Length
  EXPECT_EQ(signed_body({std::string(65536, 'a'), std::string(1024, 'a')}), body);
  for (std::size_t split : {std::size_t{7}, std::size_t{4096}, std::size_t{70000}}) {  // 1: OneByteReads
    for (std::size_t read_size : {std::size_t{13}, std::size_t{65536}, std::size_t{100000}}) {
      for (std::optional<std::uint64_t> length : {std::optional<std::uint64_t>(), std::optional<std::uint64_t>(66560)}) {
        SCOPED_TRACE(testing::Message() << "split " << split << " read " << read_size << " length " << length.has_value());
        auto out = decode(body, split, read_size, length);
        ASSERT_FALSE(out.error) << out.error->message << " " << out.error->detail;
        EXPECT_EQ(out.data, std::string(66560, 'a'));
      }
    }
  }
}

TEST(S3Chunked, OneByteReads) {
  auto out = decode(example_body(), 1, 1, 66560);
  ASSERT_FALSE(out.error) << out.error->message;
  EXPECT_EQ(out.data, std::string(66560, 'a'));
  // The end stays the end.
  ChunkedSource inner(example_body(), 3);
  auto source = make_aws_chunked_source(inner, example_sig(), example_key(), std::nullopt);
  EXPECT_EQ(drain(*source, 1).data.size(), 66560u);
  auto again = drain(*source, 16);
  EXPECT_FALSE(again.error);
  EXPECT_TRUE(again.data.empty());
}

TEST(S3Chunked, ReportsTheDecodedLength) {
  ChunkedSource inner(example_body(), 100);
  EXPECT_EQ(make_aws_chunked_source(inner, example_sig(), example_key(), 66560)->size(), 66560u);
  EXPECT_FALSE(make_aws_chunked_source(inner, example_sig(), example_key(), std::nullopt)->size());
}

TEST(S3Chunked, EmptyBodyIsTheFinalChunkAlone) {
  auto out = decode(signed_body({}), 1, 8, 0);
  ASSERT_FALSE(out.error) << out.error->message;
  EXPECT_TRUE(out.data.empty());
}

// Every single-byte change to the body fails the read: a changed size moves the data under
// another chunk's signature, a changed signature or data byte breaks the chain, and a changed
// separator is malformed. The one exception is a size digit changing case ('a' to 'A'), which
// keeps the same size: such a body must then decode to exactly the signed data.
TEST(S3Chunked, AnyFlippedByteFails) {
  std::vector<std::string> chunks = {"hello, ", "chunked world", std::string(26, 'z')};
  std::string body = signed_body(chunks);
  std::string payload = chunks[0] + chunks[1] + chunks[2];
  ASSERT_FALSE(decode(body, 5, 9).error);
  for (std::size_t i = 0; i < body.size(); ++i) {
    for (unsigned char mask : {0x01, 0x20, 0x80}) {
      std::string bad = body;
      bad[i] = static_cast<char>(bad[i] ^ mask);
      auto out = decode(bad, 1 + i % 7, 1 + i % 11);
      if (!out.error) {
        EXPECT_EQ(out.data, payload) << "byte " << i << " mask " << int(mask);
        continue;
      }
      EXPECT_TRUE(out.error->code == Errc::invalid_argument || out.error->code == Errc::unauthenticated) << i;
    }
  }
}

TEST(S3Chunked, TamperedDataNeverCompletesItsChunk) {
  std::string body = example_body();
  std::size_t in_chunk2 = body.find("400;") + 90 + 500;  // inside the 1 KiB chunk's data
  body[in_chunk2] = 'b';
  for (std::size_t read_size : {std::size_t{1}, std::size_t{1000}, std::size_t{1 << 20}}) {
    auto out = decode(body, 4096, read_size);
    ASSERT_TRUE(out.error);
    EXPECT_EQ(out.error->code, Errc::unauthenticated);
    EXPECT_EQ(out.error->message, kChunkSignatureMismatch);
    // The first chunk was verified and handed on; never the whole of the second.
    EXPECT_GE(out.data.size(), read_size == 1 ? 65536u : 0u);
    EXPECT_LT(out.data.size(), 65536u + 1024u);
  }
}

TEST(S3Chunked, TamperedSignaturesFail) {
  std::string body = example_body();
  // The last hex digit of each chunk's signature.
  for (std::size_t at : {body.find("\r\n") - 1, body.find("\r\n", body.find("400;")) - 1, body.size() - 5}) {
    std::string bad = body;
    bad[at] = bad[at] == '0' ? '1' : '0';
    auto out = decode(bad, 512, 512);
    ASSERT_TRUE(out.error) << at;
    EXPECT_EQ(out.error->code, Errc::unauthenticated);
    EXPECT_EQ(out.error->message, kChunkSignatureMismatch);
  }
  // Another seed (another request's signature) does not start this chain.
  SigV4 other = example_sig();
  other.signature[0] = '5';
  auto out = decode(body, 512, 512, std::nullopt, other);
  ASSERT_TRUE(out.error);
  EXPECT_EQ(out.error->code, Errc::unauthenticated);
  EXPECT_LT(out.data.size(), 65536u);  // the first chunk never completes
  // Nor does another scope or date.
  other = example_sig();
  other.amz_date = "20130524T000001Z";
  EXPECT_TRUE(decode(body, 512, 512, std::nullopt, other).error);
}

TEST(S3Chunked, ReorderedOrReplayedChunksFail) {
  std::string c1 = signed_body({"first", "second"});
  // The second chunk's header and data moved in front of the first.
  std::size_t second = c1.find("\r\n6;") + 2;
  std::size_t last = c1.find("\r\n0;") + 2;
  std::string swapped = c1.substr(second, last - second) + c1.substr(0, second) + c1.substr(last);
  EXPECT_TRUE(decode(swapped, 64, 64).error);
  // The first chunk twice.
  std::string replayed = c1.substr(0, second) + c1.substr(0, second) + c1.substr(second);
  EXPECT_TRUE(decode(replayed, 64, 64).error);
}

TEST(S3Chunked, TruncatedBodyNeverEnds) {
  std::string body = signed_body({"abc", "defgh", "ijklmnopq"});
  for (std::size_t cut = 0; cut < body.size(); ++cut) {
    for (std::size_t read_size : {std::size_t{1}, std::size_t{4}, std::size_t{64}}) {
      auto out = decode(body.substr(0, cut), 3, read_size);
      ASSERT_TRUE(out.error) << "cut at " << cut;
      EXPECT_TRUE(out.error->code == Errc::invalid_argument || out.error->code == Errc::unauthenticated) << cut;
    }
  }
  // Without the final chunk, even when the data ends cleanly.
  std::string without_final = body.substr(0, body.rfind("0;chunk-signature="));
  auto out = decode(without_final, 8, 8);
  ASSERT_TRUE(out.error);
  EXPECT_EQ(out.error->code, Errc::invalid_argument);
  EXPECT_EQ(out.data, "abcdefghijklmnopq");
}

TEST(S3Chunked, DecodedLengthMustMatch) {
  std::string body = example_body();
  // Announced too short: refused as soon as a chunk would pass it.
  auto out = decode(body, 4096, 4096, 66559);
  ASSERT_TRUE(out.error);
  EXPECT_EQ(out.error->code, Errc::invalid_argument);
  EXPECT_EQ(out.data.size(), 65536u);
  out = decode(body, 4096, 4096, 100);
  ASSERT_TRUE(out.error);
  EXPECT_TRUE(out.data.empty());
  // Announced too long: refused at the end instead of the end.
  out = decode(body, 4096, 4096, 66561);
  ASSERT_TRUE(out.error);
  EXPECT_EQ(out.error->code, Errc::invalid_argument);
  EXPECT_EQ(out.data.size(), 66560u);
}

TEST(S3Chunked, NothingMayFollowTheFinalChunk) {
  for (const std::string& tail : std::vector<std::string>{"x", "\r\n", "0;chunk-signature=", std::string(5000, ' ')}) {
    for (std::size_t split : {std::size_t{1}, std::size_t{100000}}) {
      auto out = decode(signed_body({"data"}) + tail, split, 64);
      ASSERT_TRUE(out.error) << tail.substr(0, 20);
      EXPECT_EQ(out.error->code, Errc::invalid_argument);
    }
  }
  // The final chunk without its closing CRLF.
  std::string body = signed_body({"data"});
  auto out = decode(body.substr(0, body.size() - 2) + "xx", 16, 16);
  ASSERT_TRUE(out.error);
  EXPECT_EQ(out.error->code, Errc::invalid_argument);
}

TEST(S3Chunked, RefusesMalformedFraming) {
  std::string sig = signed_body({"abc"});
  std::string chunk_sig = sig.substr(sig.find('=') + 1, 64);
  const std::vector<std::string> cases = {
      "",
      "\r\n",
      "3\r\nabc\r\n",                                              // no signature
      "3;chunk-signature=\r\nabc\r\n",                             // empty signature
      "3;chunk-signature=" + chunk_sig + "0\r\nabc\r\n",           // 65 digits
      "3;chunk-signature=" + chunk_sig.substr(1) + "\r\nabc\r\n",  // 63 digits
      "3;chunk-signature=" + std::string(64, 'A') + "\r\nabc\r\n", // upper case
      "3;chunk-signature=" + std::string(63, 'a') + "g\r\nabc\r\n",
      "3;chunk-signature=" + chunk_sig + ";x=y\r\nabc\r\n",
      "3 ;chunk-signature=" + chunk_sig + "\r\nabc\r\n",
      "3;Chunk-Signature=" + chunk_sig + "\r\nabc\r\n",
      "x;chunk-signature=" + chunk_sig + "\r\nabc\r\n",
      "-3;chunk-signature=" + chunk_sig + "\r\nabc\r\n",
      ";chunk-signature=" + chunk_sig + "\r\nabc\r\n",
      "00000000000000003;chunk-signature=" + chunk_sig + "\r\nabc\r\n",  // 17 digits
      "3;chunk-signature=" + chunk_sig + "\nabc\r\n",
      "3;chunk-signature=" + chunk_sig + "\r\nabc\n\n",
      "3;chunk-signature=" + chunk_sig + "\r\nabcd\r\n",
  };
  for (const auto& body : cases) {
    auto out = decode(body, 5, 5);
    ASSERT_TRUE(out.error) << body;
    EXPECT_TRUE(out.error->code == Errc::invalid_argument || out.error->code == Errc::unauthenticated) << body;
  }
  // Leading zeros and upper-case size digits are still the same size.
  std::string padded = sig;
  padded.insert(0, "000");
  auto out = decode(padded, 5, 5);
  ASSERT_FALSE(out.error) << out.error->message;
  EXPECT_EQ(out.data, "abc");
  std::string upper = signed_body({std::string(10, 'q')});
  ASSERT_EQ(upper[0], 'a');
  upper[0] = 'A';
  out = decode(upper, 5, 5);
  ASSERT_FALSE(out.error) << out.error->message;
  EXPECT_EQ(out.data, std::string(10, 'q'));
}

TEST(S3Chunked, BoundsTheChunkHeader) {
  // A header that never ends is refused once it passes 4 KiB, without reading on.
  test::GeneratedSource endless("1;", 1 << 20, "");
  auto source = make_aws_chunked_source(endless, example_sig(), example_key(), std::nullopt);
  auto out = drain(*source, 64);
  ASSERT_TRUE(out.error);
  EXPECT_EQ(out.error->code, Errc::invalid_argument);
  EXPECT_LT(endless.produced(), 64u * 1024);
  // One that ends just past the limit is refused too.
  std::string body = "3;chunk-signature=" + std::string(4100, 'a') + "\r\nabc\r\n";
  EXPECT_TRUE(decode(body, 100000, 64).error);
}

TEST(S3Chunked, StreamsLargeChunks) {
  // One 8 MiB chunk (the aws CLI's largest) read 64 KiB at a time: it streams through, no
  // read returns more than asked, and none asks the body for more than the caller's buffer
  // or the read-ahead window.
  std::string data(8 << 20, '\0');
  for (std::size_t i = 0; i < data.size(); ++i) { data[i] = test::GeneratedSource::pattern_byte(i); }
  ChunkedSource inner(signed_body({data}), 1 << 20);
  auto source = make_aws_chunked_source(inner, example_sig(), example_key(), data.size());
  auto out = drain(*source, 64 * 1024);
  ASSERT_FALSE(out.error) << out.error->message;
  EXPECT_EQ(out.data == data, true);
  EXPECT_GE(out.reads, data.size() / (64 * 1024));
  EXPECT_LE(inner.max_request(), 64u * 1024);
}

class FailingSource final : public ByteSource {
 public:
  explicit FailingSource(std::string head) : head_(std::move(head)) {}
  boost::asio::awaitable<Result<std::size_t>> read(std::span<char> buf) override {
    if (pos_ < head_.size()) {
      std::size_t n = std::min(buf.size(), head_.size() - pos_);
      std::memcpy(buf.data(), head_.data() + pos_, n);
      pos_ += n;
      co_return n;
    }
    ++failures_;
    co_return make_error(Errc::unavailable, "connection reset");
  }
  int failures() const { return failures_; }

 private:
  std::string head_;
  std::size_t pos_ = 0;
  int failures_ = 0;
};

TEST(S3Chunked, ErrorsAreFinal) {
  FailingSource inner(signed_body({"abc"}).substr(0, 40));
  auto source = make_aws_chunked_source(inner, example_sig(), example_key(), std::nullopt);
  auto out = drain(*source, 8);
  ASSERT_TRUE(out.error);
  EXPECT_EQ(out.error->code, Errc::unavailable);  // the inner source's own error
  auto again = drain(*source, 8);
  ASSERT_TRUE(again.error);
  EXPECT_EQ(again.error->message, "connection reset");
  EXPECT_EQ(inner.failures(), 1);  // not asked again

  std::string body = example_body();
  body[100] = 'b';
  ChunkedSource tampered(body, 4096);
  source = make_aws_chunked_source(tampered, example_sig(), example_key(), std::nullopt);
  out = drain(*source, 4096);
  ASSERT_TRUE(out.error);
  again = drain(*source, 4096);
  ASSERT_TRUE(again.error);
  EXPECT_EQ(again.error->message, kChunkSignatureMismatch);
  EXPECT_TRUE(again.data.empty());
}

// --- x-amz-content-sha256 ------------------------------------------------------------------

TEST(S3Sha256Checked, PassesAMatchingBody) {
  std::string body = "Welcome to Amazon S3.";
  for (std::string expected : {std::string("44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"),
                               std::string("44CE7DD67C959E0D3524FFAC1771DFBBA87D2B6B4B4E99E42034A8B803F8B072")}) {
    for (std::size_t split : {std::size_t{1}, std::size_t{5}, std::size_t{100}}) {
      ChunkedSource inner(body, split);
      auto source = make_sha256_checked_source(inner, expected);
      auto out = drain(*source, split == 1 ? 1 : 7);
      ASSERT_FALSE(out.error) << out.error->message;
      EXPECT_EQ(out.data, body);
    }
  }
  StringSource sized(body);
  EXPECT_EQ(make_sha256_checked_source(sized, "")->size(), body.size());  // the inner source's size
  ChunkedSource empty("", 1);
  auto source = make_sha256_checked_source(empty, std::string(kEmptySha256));
  EXPECT_FALSE(drain(*source, 8).error);
}

TEST(S3Sha256Checked, MismatchReplacesTheEnd) {
  std::string body = "Welcome to Amazon S3!";
  ChunkedSource inner(body, 4);
  auto source = make_sha256_checked_source(inner, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  auto out = drain(*source, 16);
  ASSERT_TRUE(out.error);
  EXPECT_EQ(out.error->code, Errc::invalid_argument);
  EXPECT_EQ(out.error->message, kContentSha256Mismatch);
  EXPECT_EQ(out.data, body);  // all passed through, but the end was never reported
  auto again = drain(*source, 16);
  ASSERT_TRUE(again.error);
  EXPECT_EQ(again.error->message, kContentSha256Mismatch);
  // Not a digest at all.
  for (const std::string& expected : std::vector<std::string>{"", "xyz", std::string(64, 'g')}) {
    ChunkedSource in2(body, 4);
    auto s = make_sha256_checked_source(in2, expected);
    EXPECT_TRUE(drain(*s, 16).error);
  }
}

TEST(S3Sha256Checked, PassesInnerErrorsOn) {
  FailingSource inner("abc");
  auto source = make_sha256_checked_source(inner, std::string(kEmptySha256));
  auto out = drain(*source, 2);
  ASSERT_TRUE(out.error);
  EXPECT_EQ(out.error->code, Errc::unavailable);
  EXPECT_EQ(out.data, "abc");
}

}  // namespace
}  // namespace ciel::object::s3
