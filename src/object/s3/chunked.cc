#include "object/s3/chunked.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "core/crypto/crypto.h"

namespace ciel::object::s3 {
namespace {

using boost::asio::awaitable;

constexpr std::size_t kMaxChunkHeaderBytes = 4096;  // a real one is under 100 bytes
// Bytes read from the inner source ahead of the parser: enough for the longest header allowed
// plus its CRLF, so a header never has to be assembled from pieces across a full buffer.
constexpr std::size_t kReadAheadBytes = 16 * 1024;
constexpr std::string_view kSignaturePrefix = ";chunk-signature=";

Error malformed(std::string detail) {
  return make_error(Errc::invalid_argument, "The aws-chunked request body is malformed", std::move(detail));
}
Error incomplete() {
  return make_error(Errc::invalid_argument, "The request body ended before the final aws-chunked chunk (IncompleteBody)");
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') { return c - '0'; }
  if (c >= 'a' && c <= 'f') { return c - 'a' + 10; }
  if (c >= 'A' && c <= 'F') { return c - 'A' + 10; }
  return -1;
}

// The aws-chunked decoder. Chunk data is never buffered whole: it streams through to the
// caller while being hashed, and the chunk's signature is checked when its last byte has been
// hashed, before the read that holds that last byte returns. So no read ever completes a chunk
// whose signature is wrong, and the stream only reports its end (0) once every chunk, the
// final zero-size chunk and the end of the inner source have been checked.
//
// Bytes of a chunk that come before its last read do reach the caller unverified. That is safe
// because the engine writes a body to a temporary blob and commits it only when the source
// reaches its end without an error: a bad signature, a truncated body or a wrong length all
// surface as an error before that end, and the partial blob is discarded. (An empty buffer
// reads 0 bytes, as from any source; the end is a 0 from a read that had room.)
class AwsChunkedSource final : public ByteSource {
 public:
  AwsChunkedSource(ByteSource& inner, SigV4 sig, std::string key, std::optional<std::uint64_t> decoded_length)
      : inner_(inner), sig_(std::move(sig)), key_(std::move(key)), decoded_length_(decoded_length), pending_(kReadAheadBytes) {
    previous_signature_ = sig_.signature;
  }

  std::optional<std::uint64_t> size() const override { return decoded_length_; }

  awaitable<Result<std::size_t>> read(std::span<char> out) override {
    if (error_) { co_return *error_; }
    while (true) {
      switch (state_) {
        case State::done:
          co_return std::size_t{0};
        case State::header: {
          auto st = co_await read_header();
          if (!st) { co_return fail(st.error()); }
          break;
        }
        case State::data: {
          if (out.empty()) { co_return std::size_t{0}; }
          auto n = co_await read_data(out);
          if (!n) { co_return fail(n.error()); }
          co_return *n;
        }
        case State::data_crlf:
        case State::final_crlf: {
          auto st = co_await expect_crlf();
          if (!st) { co_return fail(st.error()); }
          state_ = state_ == State::data_crlf ? State::header : State::end;
          break;
        }
        case State::end: {
          auto st = co_await check_end();
          if (!st) { co_return fail(st.error()); }
          state_ = State::done;
          break;
        }
      }
    }
  }

 private:
  enum class State { header, data, data_crlf, final_crlf, end, done };

  // Errors are final: every later read reports the same one.
  Error fail(Error e) {
    error_ = e;
    return e;
  }

  std::size_t available() const { return end_ - pos_; }
  std::string_view pending() const { return {pending_.data() + pos_, available()}; }

  // Appends what the inner source has to the read-ahead buffer; false at its end.
  awaitable<Result<bool>> fill() {
    if (pos_ > 0) {
      std::memmove(pending_.data(), pending_.data() + pos_, available());
      end_ -= pos_;
      pos_ = 0;
    }
    if (end_ == pending_.size()) { co_return malformed("read-ahead buffer full"); }  // callers bound what they wait for
    auto n = co_await inner_.read(std::span<char>(pending_.data() + end_, pending_.size() - end_));
    if (!n) { co_return n.error(); }
    end_ += *n;
    co_return *n > 0;
  }

  awaitable<Status> read_header() {
    std::size_t eol;
    while ((eol = pending().find("\r\n")) == std::string_view::npos) {
      if (available() > kMaxChunkHeaderBytes) { co_return malformed("chunk header longer than 4 KiB"); }
      auto more = co_await fill();
      if (!more) { co_return more.error(); }
      if (!*more) { co_return incomplete(); }
    }
    if (eol > kMaxChunkHeaderBytes) { co_return malformed("chunk header longer than 4 KiB"); }
    std::string_view line = pending().substr(0, eol);
    pos_ += eol + 2;

    // "<hex size>;chunk-signature=<64 lowercase hex digits>"
    std::size_t semi = line.find(';');
    std::string_view size_hex = line.substr(0, semi);
    if (size_hex.empty() || size_hex.size() > 16) { co_return malformed("bad chunk size"); }
    std::uint64_t size = 0;
    for (char c : size_hex) {
      int v = hex_value(c);
      if (v < 0) { co_return malformed("bad chunk size"); }
      size = size * 16 + static_cast<std::uint64_t>(v);
    }
    std::string_view rest = semi == std::string_view::npos ? std::string_view() : line.substr(semi);
    if (!rest.starts_with(kSignaturePrefix)) { co_return malformed("chunk header without chunk-signature"); }
    std::string_view signature = rest.substr(kSignaturePrefix.size());
    if (signature.size() != 64 ||
        !std::all_of(signature.begin(), signature.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); })) {
      co_return malformed("chunk-signature is not 64 lowercase hexadecimal digits");
    }
    if (decoded_length_ && size > *decoded_length_ - decoded_) {
      co_return make_error(Errc::invalid_argument, "The body is longer than x-amz-decoded-content-length");
    }
    chunk_signature_ = std::string(signature);
    remaining_ = size;
    hasher_.emplace(crypto::Digest::sha256);
    if (size == 0) {
      // The final chunk: its signature covers the empty string and closes the chain.
      if (auto st = verify_chunk(); !st) { co_return st.error(); }
      state_ = State::final_crlf;
    } else {
      state_ = State::data;
    }
    co_return Status{};
  }

  awaitable<Result<std::size_t>> read_data(std::span<char> out) {
    std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(out.size(), remaining_));
    std::size_t n = 0;
    if (available() > 0) {
      n = std::min(want, available());
      std::memcpy(out.data(), pending_.data() + pos_, n);
      pos_ += n;
    } else {
      // Nothing read ahead: read straight into the caller's buffer and skip a copy.
      auto got = co_await inner_.read(out.first(want));
      if (!got) { co_return got.error(); }
      if (*got == 0) { co_return incomplete(); }
      n = *got;
    }
    hasher_->update(std::string_view(out.data(), n));
    remaining_ -= n;
    decoded_ += n;
    if (remaining_ == 0) {
      // The hold-back: the bytes that complete a chunk are returned only once it verifies.
      if (auto st = verify_chunk(); !st) { co_return st.error(); }
      state_ = State::data_crlf;
    }
    co_return n;
  }

  Status verify_chunk() {
    std::string digest = crypto::hex(hasher_->finish());
    hasher_.reset();
    std::string expected = sign(key_, chunk_string_to_sign(sig_, previous_signature_, digest));
    if (!crypto::constant_time_equals(expected, chunk_signature_)) {
      return make_error(Errc::unauthenticated, std::string(kChunkSignatureMismatch));
    }
    previous_signature_ = std::move(chunk_signature_);
    return {};
  }

  awaitable<Status> expect_crlf() {
    while (available() < 2) {
      auto more = co_await fill();
      if (!more) { co_return more.error(); }
      if (!*more) { co_return incomplete(); }
    }
    if (pending().substr(0, 2) != "\r\n") { co_return malformed("chunk data not followed by CRLF"); }
    pos_ += 2;
    co_return Status{};
  }

  // After the final chunk: nothing more may follow, and the length must be the one announced.
  awaitable<Status> check_end() {
    if (available() > 0) { co_return malformed("bytes after the final chunk"); }
    auto more = co_await fill();
    if (!more) { co_return more.error(); }
    if (*more) { co_return malformed("bytes after the final chunk"); }
    if (decoded_length_ && decoded_ != *decoded_length_) {
      co_return make_error(Errc::invalid_argument, "The body is shorter than x-amz-decoded-content-length");
    }
    co_return Status{};
  }

  ByteSource& inner_;
  SigV4 sig_;
  std::string key_;
  std::optional<std::uint64_t> decoded_length_;
  std::vector<char> pending_;
  std::size_t pos_ = 0;
  std::size_t end_ = 0;
  State state_ = State::header;
  std::optional<Error> error_;
  std::string previous_signature_;
  std::string chunk_signature_;
  std::optional<crypto::Hasher> hasher_;
  std::uint64_t remaining_ = 0;
  std::uint64_t decoded_ = 0;
};

// The body passes through as it comes; the digest is compared when the inner source ends, and
// a mismatch is reported in place of that end. As above, the engine commits a body only at the
// end of its source, so a wrong digest keeps the object from being stored.
class Sha256CheckedSource final : public ByteSource {
 public:
  Sha256CheckedSource(ByteSource& inner, std::string expected_hex)
      : inner_(inner), expected_hex_(std::move(expected_hex)), hasher_(crypto::Digest::sha256) {
    for (char& c : expected_hex_) {
      if (c >= 'A' && c <= 'F') { c = static_cast<char>(c - 'A' + 'a'); }
    }
  }

  std::optional<std::uint64_t> size() const override { return inner_.size(); }

  awaitable<Result<std::size_t>> read(std::span<char> out) override {
    if (error_) { co_return *error_; }
    if (done_ || out.empty()) { co_return std::size_t{0}; }
    auto n = co_await inner_.read(out);
    if (!n) {
      error_ = n.error();
      co_return n.error();
    }
    if (*n > 0) {
      hasher_.update(std::string_view(out.data(), *n));
      co_return *n;
    }
    if (!crypto::constant_time_equals(crypto::hex(hasher_.finish()), expected_hex_)) {
      error_ = make_error(Errc::invalid_argument, std::string(kContentSha256Mismatch));
      co_return *error_;
    }
    done_ = true;
    co_return std::size_t{0};
  }

 private:
  ByteSource& inner_;
  std::string expected_hex_;
  crypto::Hasher hasher_;
  std::optional<Error> error_;
  bool done_ = false;
};

}  // namespace

std::unique_ptr<ByteSource> make_aws_chunked_source(ByteSource& inner, SigV4 sig, std::string signing_key,
                                                    std::optional<std::uint64_t> decoded_length) {
  return std::make_unique<AwsChunkedSource>(inner, std::move(sig), std::move(signing_key), decoded_length);
}

std::unique_ptr<ByteSource> make_sha256_checked_source(ByteSource& inner, std::string expected_hex) {
  return std::make_unique<Sha256CheckedSource>(inner, std::move(expected_hex));
}

}  // namespace ciel::object::s3
