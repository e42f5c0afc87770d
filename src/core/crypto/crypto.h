// core/crypto/crypto.h: the crypto Ciel needs, over OpenSSL 3 (kept inside crypto.cc):
// randomness, digests (streaming and one-shot), HMAC, base64, AES-256-GCM and constant-time
// comparison. Thread-safe.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace ciel::crypto {

std::string random_bytes(std::size_t n);     // from the OS CSPRNG; aborts if it fails
std::string random_hex(std::size_t bytes);   // 2*bytes hex characters
std::string random_token(std::size_t bytes); // base64url without padding

std::string hex(std::string_view bytes);
std::optional<std::string> unhex(std::string_view text);
std::string base64(std::string_view bytes);
std::optional<std::string> unbase64(std::string_view text);
std::string base64url(std::string_view bytes);  // no padding
std::optional<std::string> unbase64url(std::string_view text);

std::string sha256(std::string_view data);  // raw 32 bytes
std::string sha1(std::string_view data);
std::string md5(std::string_view data);
std::string hmac_sha256(std::string_view key, std::string_view data);  // raw
std::string hmac_sha1(std::string_view key, std::string_view data);
std::string hmac_sha512(std::string_view key, std::string_view data);

bool constant_time_equals(std::string_view a, std::string_view b);

enum class Digest { md5, sha1, sha256, sha512 };
// Incremental digest for streaming bodies.
class Hasher {
 public:
  explicit Hasher(Digest d);
  ~Hasher();
  Hasher(Hasher&&) noexcept;
  Hasher& operator=(Hasher&&) noexcept;
  void update(std::string_view data);
  std::string finish();  // raw digest; the hasher cannot be reused after
 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// CRC-32C (Castagnoli) of `data`, continuing from `crc` (0 to start): crc32c(crc32c(0, a), b) ==
// crc32c(0, a + b). It is what blobs keep to detect corruption (`ciel scrub`): several GB/s with
// SSE 4.2's crc32 instruction, where SHA-256 took a third of a core on large uploads. A check
// against accidents, not against an adversary.
std::uint32_t crc32c(std::uint32_t crc, std::string_view data);

// AES-256-GCM. seal() returns iv(12) || ciphertext || tag(16); `aad` is authenticated, not stored.
std::string aes256gcm_seal(std::string_view key32, std::string_view plaintext, std::string_view aad);
std::optional<std::string> aes256gcm_open(std::string_view key32, std::string_view sealed, std::string_view aad);

}  // namespace ciel::crypto
