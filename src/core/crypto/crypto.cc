#include "core/crypto/crypto.h"

#include <array>
#include <cstring>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "core/check.h"

namespace ciel::crypto {
namespace {
constexpr char kHex[] = "0123456789abcdef";

std::string digest(const EVP_MD* md, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  CIEL_CHECK(EVP_Digest(data.data(), data.size(), out, &len, md, nullptr) == 1);
  return std::string(reinterpret_cast<char*>(out), len);
}

std::string hmac(const EVP_MD* md, std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  CIEL_CHECK(HMAC(md, key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()), data.size(),
                  out, &len) != nullptr);
  return std::string(reinterpret_cast<char*>(out), len);
}

const EVP_MD* md_of(Digest d) {
  switch (d) {
    case Digest::md5: return EVP_md5();
    case Digest::sha1: return EVP_sha1();
    case Digest::sha256: return EVP_sha256();
    case Digest::sha512: return EVP_sha512();
  }
  return EVP_sha256();
}
}  // namespace

std::string random_bytes(std::size_t n) {
  std::string out(n, '\0');
  CIEL_CHECK(RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) == 1);
  return out;
}

std::string random_hex(std::size_t bytes) { return hex(random_bytes(bytes)); }
std::string random_token(std::size_t bytes) { return base64url(random_bytes(bytes)); }

std::string hex(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) {
    auto u = static_cast<unsigned char>(c);
    out.push_back(kHex[u >> 4]);
    out.push_back(kHex[u & 15]);
  }
  return out;
}

std::optional<std::string> unhex(std::string_view text) {
  if (text.size() % 2 != 0) { return std::nullopt; }
  auto val = [](char c) -> int {
    if (c >= '0' && c <= '9') { return c - '0'; }
    if (c >= 'a' && c <= 'f') { return c - 'a' + 10; }
    if (c >= 'A' && c <= 'F') { return c - 'A' + 10; }
    return -1;
  };
  std::string out;
  out.reserve(text.size() / 2);
  for (std::size_t i = 0; i < text.size(); i += 2) {
    int hi = val(text[i]);
    int lo = val(text[i + 1]);
    if (hi < 0 || lo < 0) { return std::nullopt; }
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return out;
}

std::string base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(bytes.data()),
                          static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::optional<std::string> unbase64(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) { text.remove_suffix(1); }
  if (text.size() % 4 != 0) { return std::nullopt; }
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
    // Padding only as the last one or two characters ("A===" or "Zg==Zg==" are not base64).
    bool pad = c == '=' && (i == text.size() - 1 || (i == text.size() - 2 && text.back() == '='));
    if (!ok && !pad) { return std::nullopt; }
  }
  std::string out(3 * text.size() / 4 + 1, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(text.data()),
                          static_cast<int>(text.size()));
  if (n < 0) { return std::nullopt; }
  std::size_t pad = 0;
  if (text.ends_with("==")) { pad = 2; } else if (text.ends_with("=")) { pad = 1; }
  out.resize(static_cast<std::size_t>(n) - pad);
  return out;
}

std::string base64url(std::string_view bytes) {
  std::string s = base64(bytes);
  while (!s.empty() && s.back() == '=') { s.pop_back(); }
  for (char& c : s) {
    if (c == '+') { c = '-'; } else if (c == '/') { c = '_'; }
  }
  return s;
}

std::optional<std::string> unbase64url(std::string_view text) {
  std::string s(text);
  for (char& c : s) {
    if (c == '-') { c = '+'; } else if (c == '_') { c = '/'; } else if (c == '+' || c == '/' || c == '=') { return std::nullopt; }
  }
  while (s.size() % 4 != 0) { s.push_back('='); }
  return unbase64(s);
}

std::string sha256(std::string_view data) { return digest(EVP_sha256(), data); }
std::string sha1(std::string_view data) { return digest(EVP_sha1(), data); }
std::string md5(std::string_view data) { return digest(EVP_md5(), data); }
std::string hmac_sha256(std::string_view key, std::string_view data) { return hmac(EVP_sha256(), key, data); }
std::string hmac_sha1(std::string_view key, std::string_view data) { return hmac(EVP_sha1(), key, data); }
std::string hmac_sha512(std::string_view key, std::string_view data) { return hmac(EVP_sha512(), key, data); }

bool constant_time_equals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) { return false; }
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

struct Hasher::Impl {
  EVP_MD_CTX* ctx = nullptr;
  ~Impl() { EVP_MD_CTX_free(ctx); }
};

Hasher::Hasher(Digest d) : impl_(std::make_unique<Impl>()) {
  impl_->ctx = EVP_MD_CTX_new();
  CIEL_CHECK(impl_->ctx != nullptr && EVP_DigestInit_ex(impl_->ctx, md_of(d), nullptr) == 1);
}
Hasher::~Hasher() = default;
Hasher::Hasher(Hasher&&) noexcept = default;
Hasher& Hasher::operator=(Hasher&&) noexcept = default;

void Hasher::update(std::string_view data) { CIEL_CHECK(EVP_DigestUpdate(impl_->ctx, data.data(), data.size()) == 1); }

std::string Hasher::finish() {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  CIEL_CHECK(EVP_DigestFinal_ex(impl_->ctx, out, &len) == 1);
  return std::string(reinterpret_cast<char*>(out), len);
}

std::string aes256gcm_seal(std::string_view key, std::string_view plaintext, std::string_view aad) {
  CIEL_CHECK(key.size() == 32);
  std::string iv = random_bytes(12);
  std::string out = iv;
  out.resize(12 + plaintext.size() + 16);
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  CIEL_CHECK(ctx != nullptr);
  int len = 0;
  auto* k = reinterpret_cast<const unsigned char*>(key.data());
  auto* ivp = reinterpret_cast<const unsigned char*>(iv.data());
  CIEL_CHECK(EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), nullptr, k, ivp) == 1);
  if (!aad.empty()) {
    CIEL_CHECK(EVP_EncryptUpdate(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(aad.data()), static_cast<int>(aad.size())) == 1);
  }
  auto* ct = reinterpret_cast<unsigned char*>(out.data() + 12);
  CIEL_CHECK(EVP_EncryptUpdate(ctx, ct, &len, reinterpret_cast<const unsigned char*>(plaintext.data()), static_cast<int>(plaintext.size())) == 1);
  int fin = 0;
  CIEL_CHECK(EVP_EncryptFinal_ex(ctx, ct + len, &fin) == 1);
  CIEL_CHECK(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, out.data() + 12 + plaintext.size()) == 1);
  EVP_CIPHER_CTX_free(ctx);
  return out;
}

std::optional<std::string> aes256gcm_open(std::string_view key, std::string_view sealed, std::string_view aad) {
  if (key.size() != 32 || sealed.size() < 28) { return std::nullopt; }
  std::string_view iv = sealed.substr(0, 12);
  std::string_view ct = sealed.substr(12, sealed.size() - 28);
  std::string tag(sealed.substr(sealed.size() - 16));
  std::string out(ct.size(), '\0');
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  CIEL_CHECK(ctx != nullptr);
  int len = 0;
  bool ok = EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), nullptr, reinterpret_cast<const unsigned char*>(key.data()),
                               reinterpret_cast<const unsigned char*>(iv.data())) == 1;
  if (ok && !aad.empty()) {
    ok = EVP_DecryptUpdate(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(aad.data()), static_cast<int>(aad.size())) == 1;
  }
  ok = ok && EVP_DecryptUpdate(ctx, reinterpret_cast<unsigned char*>(out.data()), &len, reinterpret_cast<const unsigned char*>(ct.data()),
                               static_cast<int>(ct.size())) == 1;
  ok = ok && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, tag.data()) == 1;
  int fin = 0;
  ok = ok && EVP_DecryptFinal_ex(ctx, reinterpret_cast<unsigned char*>(out.data()) + len, &fin) == 1;
  EVP_CIPHER_CTX_free(ctx);
  if (!ok) { return std::nullopt; }
  return out;
}

namespace {

std::uint32_t crc32c_table(std::uint32_t crc, const unsigned char* p, std::size_t n) {
  static const auto table = [] {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
      std::uint32_t c = i;
      for (int k = 0; k < 8; ++k) { c = (c & 1) != 0 ? (c >> 1) ^ 0x82F63B78u : c >> 1; }
      t[i] = c;
    }
    return t;
  }();
  for (std::size_t i = 0; i < n; ++i) { crc = table[(crc ^ p[i]) & 0xFF] ^ (crc >> 8); }
  return crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) std::uint32_t crc32c_sse42(std::uint32_t crc, const unsigned char* p, std::size_t n) {
  std::uint64_t c = crc;
  while (n >= 8) {
    std::uint64_t word = 0;
    std::memcpy(&word, p, 8);
    c = __builtin_ia32_crc32di(c, word);
    p += 8;
    n -= 8;
  }
  auto c32 = static_cast<std::uint32_t>(c);
  while (n > 0) {
    c32 = __builtin_ia32_crc32qi(c32, *p++);
    --n;
  }
  return c32;
}
#endif

}  // namespace

std::uint32_t crc32c(std::uint32_t crc, std::string_view data) {
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  crc = ~crc;
#if defined(__x86_64__)
  static const bool hw = __builtin_cpu_supports("sse4.2");
  if (hw) { return ~crc32c_sse42(crc, p, data.size()); }
#endif
  return ~crc32c_table(crc, p, data.size());
}

}  // namespace ciel::crypto
