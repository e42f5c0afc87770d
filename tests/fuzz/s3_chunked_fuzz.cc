// Fuzzes the aws-chunked decoder (object/s3/chunked.h). The first three bytes pick how the body
// is split into reads (b0), the caller's read sizes (b1) and a mode (b2):
//   bit 0 clear: the rest is the body as sent, raw;
//   bit 0 set:   the rest is chunk data separated by '\n', made into a correctly signed body,
//                then changed per bits 2-3 (0 none, 1 one byte flipped, 2 truncated, 3 a byte
//                appended) at the position in the next two bytes;
//   bit 1:       x-amz-decoded-content-length is passed (the signed data's length in signed mode).
// Whatever the bytes, the decoder never yields more than it was given, fails only with
// invalid_argument or unauthenticated (and keeps failing), and never ends successfully unless
// what it yielded is exactly the signed data: a truncated or extended body never ends well.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/crypto/crypto.h"
#include "fuzz_check.h"
#include "fuzz_coro.h"
#include "object/s3/chunked.h"

namespace {

namespace s3 = ciel::object::s3;
using ciel::Errc;

s3::SigV4 scope() {
  s3::SigV4 sig;
  sig.access_key = "AKFUZZ";
  sig.date = "20240101";
  sig.region = "eu-fuzz-1";
  sig.service = "s3";
  sig.signed_headers = {"host"};
  sig.signature = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";
  sig.amz_date = "20240101T000000Z";
  return sig;
}

const std::string& key() {
  static const std::string k = s3::signing_key("fuzz-secret", "20240101", "eu-fuzz-1", "s3");
  return k;
}

// The body a client would send for `chunks`, with the final empty chunk.
std::string signed_body(const std::vector<std::string_view>& chunks) {
  s3::SigV4 sig = scope();
  std::string previous = sig.signature;
  std::string body;
  auto add = [&](std::string_view data) {
    previous = s3::sign(key(), s3::chunk_string_to_sign(sig, previous, ciel::crypto::hex(ciel::crypto::sha256(data))));
    char size[32];
    std::snprintf(size, sizeof size, "%zx", data.size());
    body.append(size).append(";chunk-signature=").append(previous).append("\r\n").append(data).append("\r\n");
  };
  for (auto c : chunks) { add(c); }
  add("");
  return body;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 3) { return 0; }
  std::size_t chunk = 1 + data[0] * 37u;
  unsigned read_seed = data[1];
  unsigned mode = data[2];
  std::string_view rest(reinterpret_cast<const char*>(data) + 3, size - 3);

  std::string body;
  std::optional<std::string> signed_data;  // what a successful decode must yield, in signed mode
  enum class Change { none, flip, truncate, append } change = Change::none;
  if (mode & 1) {
    std::size_t at = 0;
    if (rest.size() >= 2) {
      at = static_cast<unsigned char>(rest[0]) | static_cast<unsigned char>(rest[1]) << 8;
      rest.remove_prefix(2);
    }
    std::vector<std::string_view> chunks;
    signed_data.emplace();
    while (!rest.empty()) {
      std::size_t nl = rest.find('\n');
      // An empty piece would be a final chunk in the middle: skipped, as no client sends one.
      if (nl != 0) {
        chunks.push_back(rest.substr(0, nl));
        signed_data->append(chunks.back());
      }
      rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    }
    body = signed_body(chunks);
    change = static_cast<Change>((mode >> 2) & 3);
    if (change == Change::flip) {
      body[at % body.size()] = static_cast<char>(body[at % body.size()] ^ (1 + (mode >> 4)));
    } else if (change == Change::truncate) {
      body.resize(at % body.size());
    } else if (change == Change::append) {
      body.push_back(static_cast<char>(at));
    }
  } else {
    body = std::string(rest);
  }
  std::optional<std::uint64_t> decoded_length;
  if (mode & 2) { decoded_length = signed_data ? signed_data->size() : body.size() / 2; }

  ciel::fuzz::InputSource inner(body, chunk);
  auto source = s3::make_aws_chunked_source(inner, scope(), key(), decoded_length);
  ciel::fuzz::run_to_completion([&]() -> boost::asio::awaitable<void> {
    std::string out;
    std::vector<char> buf(256);
    std::optional<ciel::Error> error;
    for (std::size_t i = 0;; ++i) {
      std::size_t want = 1 + (read_seed * (i + 1) + i) % buf.size();
      auto n = co_await source->read(std::span<char>(buf.data(), want));
      if (!n) {
        error = n.error();
        break;
      }
      FUZZ_CHECK(*n <= want);
      if (*n == 0) { break; }
      out.append(buf.data(), *n);
      FUZZ_CHECK(out.size() <= body.size());
    }
    FUZZ_CHECK(inner.consumed() <= body.size());
    if (error) {
      FUZZ_CHECK(error->code == Errc::invalid_argument || error->code == Errc::unauthenticated);
      FUZZ_CHECK(!error->message.empty());
      auto again = co_await source->read(std::span<char>(buf.data(), buf.size()));  // errors are final
      FUZZ_CHECK(!again && again.error().message == error->message);
      FUZZ_CHECK(!signed_data || change != Change::none);  // a body as signed always decodes
      co_return;
    }
    // The end: the whole body was read, and in signed mode only the signed data came out.
    FUZZ_CHECK(inner.consumed() == body.size());
    if (decoded_length) { FUZZ_CHECK(out.size() == *decoded_length); }
    if (signed_data) {
      FUZZ_CHECK(out == *signed_data);
      FUZZ_CHECK(change != Change::truncate && change != Change::append);
    }
    auto again = co_await source->read(std::span<char>(buf.data(), buf.size()));
    FUZZ_CHECK(again && *again == 0);
  });
  return 0;
}
