#include "object/swift/tempurl.h"

#include <charconv>

#include "core/crypto/crypto.h"
#include "core/time.h"

namespace ciel::object::swift {
namespace {

Error invalid(std::string detail) { return make_error(Errc::unauthenticated, "Temp URL invalid", std::move(detail)); }

std::size_t digest_bytes(std::string_view digest) {
  if (digest == "sha1") { return 20; }
  if (digest == "sha256") { return 32; }
  if (digest == "sha512") { return 64; }
  return 0;
}

bool is_b64_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
}

const std::string* first_param(const std::vector<std::pair<std::string, std::string>>& params, std::string_view name) {
  for (const auto& [k, v] : params) {
    if (k == name) { return &v; }
  }
  return nullptr;
}

bool is_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

// Python's int(): optional surrounding whitespace and sign, then decimal digits.
std::optional<std::int64_t> parse_int(std::string_view s) {
  while (!s.empty() && is_space(s.front())) { s.remove_prefix(1); }
  while (!s.empty() && is_space(s.back())) { s.remove_suffix(1); }
  if (s.starts_with('+')) {
    s.remove_prefix(1);
    if (s.starts_with('-')) { return std::nullopt; }
  }
  if (s.empty()) { return std::nullopt; }
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) { return std::nullopt; }
  return v;
}

// time.strptime(text, "%Y-%m-%dT%H:%M:%SZ"), as UTC.
std::optional<std::int64_t> parse_iso_expiry(std::string_view s) {
  if (s.size() != 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != 'Z') {
    return std::nullopt;
  }
  for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18}) {
    if (s[i] < '0' || s[i] > '9') { return std::nullopt; }
  }
  auto t = parse_iso8601(s);
  if (!t) { return std::nullopt; }
  return unix_seconds(*t);
}

bool allowed_method(std::string_view m) { return m == "GET" || m == "HEAD" || m == "PUT" || m == "POST" || m == "DELETE"; }

}  // namespace

std::optional<Signature> parse_signature(std::string_view text) {
  Signature sig;
  if (std::size_t colon = text.find(':'); colon != std::string_view::npos) {
    sig.digest = std::string(text.substr(0, colon));
    std::size_t want = digest_bytes(sig.digest);
    if (want == 0) { return std::nullopt; }
    std::string b64(text.substr(colon + 1));
    // Both alphabets are accepted; a value mixing them is read as the standard one (and fails).
    bool url_safe = b64.find_first_of("-_") != std::string::npos && b64.find_first_of("+/") == std::string::npos;
    if (url_safe) {
      for (char& c : b64) {
        if (c == '-') { c = '+'; } else if (c == '_') { c = '/'; }
      }
    }
    while (!b64.empty() && b64.back() == '=') { b64.pop_back(); }
    for (char c : b64) {
      if (!is_b64_char(c)) { return std::nullopt; }
    }
    if (b64.size() % 4 == 1) { return std::nullopt; }
    while (b64.size() % 4 != 0) { b64.push_back('='); }
    auto raw = crypto::unbase64(b64);
    if (!raw || raw->size() != want) { return std::nullopt; }
    sig.hex = crypto::hex(*raw);
    return sig;
  }
  auto raw = crypto::unhex(text);
  if (!raw) { return std::nullopt; }
  switch (text.size()) {
    case 40: sig.digest = "sha1"; break;
    case 64: sig.digest = "sha256"; break;
    case 128: sig.digest = "sha512"; break;
    default: return std::nullopt;
  }
  sig.hex = crypto::hex(*raw);
  return sig;
}

std::optional<std::string> hmac_hex(std::string_view digest, std::string_view key, std::string_view message) {
  if (digest == "sha1") { return crypto::hex(crypto::hmac_sha1(key, message)); }
  if (digest == "sha256") { return crypto::hex(crypto::hmac_sha256(key, message)); }
  if (digest == "sha512") { return crypto::hex(crypto::hmac_sha512(key, message)); }
  return std::nullopt;
}

bool is_tempurl_request(const std::vector<std::pair<std::string, std::string>>& decoded_params) {
  return first_param(decoded_params, "temp_url_sig") != nullptr || first_param(decoded_params, "temp_url_expires") != nullptr;
}

Result<TempUrlParams> parse_tempurl_query(const std::vector<std::pair<std::string, std::string>>& decoded_params) {
  const std::string* sig = first_param(decoded_params, "temp_url_sig");
  const std::string* expires = first_param(decoded_params, "temp_url_expires");
  if (sig == nullptr || sig->empty()) { return invalid("temp_url_sig is missing"); }
  if (expires == nullptr || expires->empty()) { return invalid("temp_url_expires is missing"); }
  TempUrlParams out;
  auto parsed = parse_signature(*sig);
  if (!parsed) { return invalid("temp_url_sig is malformed"); }
  out.sig = std::move(parsed->hex);
  out.digest = std::move(parsed->digest);
  auto when = parse_int(*expires);
  if (!when) { when = parse_iso_expiry(*expires); }
  if (!when) { return invalid("temp_url_expires is neither unix seconds nor an ISO 8601 UTC time"); }
  out.expires = *when;
  if (const std::string* p = first_param(decoded_params, "temp_url_prefix")) { out.prefix = *p; }
  if (const std::string* f = first_param(decoded_params, "filename")) { out.filename = *f; }
  out.inline_ = first_param(decoded_params, "inline") != nullptr;
  return out;
}

bool tempurl_valid(const TempUrlParams& params, std::span<const std::string> keys, std::string_view method,
                   std::string_view path, std::int64_t now) {
  if (keys.empty() || now > params.expires || params.expires <= 0 || !allowed_method(method)) { return false; }
  // "/v1/{account}/{container}/{object}", each part non-empty and the object not just slashes.
  if (!path.starts_with("/v1/")) { return false; }
  std::string_view rest = path.substr(4);
  std::size_t a = rest.find('/');
  if (a == 0 || a == std::string_view::npos) { return false; }
  std::size_t c = rest.find('/', a + 1);
  if (c == a + 1 || c == std::string_view::npos) { return false; }
  std::string_view object = rest.substr(c + 1);
  if (object.find_first_not_of('/') == std::string_view::npos) { return false; }
  std::string signed_path;
  if (params.prefix) {
    if (!object.starts_with(*params.prefix)) { return false; }
    signed_path = "prefix:" + std::string(path.substr(0, 4 + c + 1)) + *params.prefix;
  } else {
    signed_path = std::string(path);
  }
  std::string_view methods[4] = {method, {}, {}, {}};
  if (method == "HEAD") {
    methods[1] = "GET";
    methods[2] = "POST";
    methods[3] = "PUT";
  }
  bool ok = false;
  for (std::string_view m : methods) {
    if (m.empty()) { continue; }
    std::string message = std::string(m) + "\n" + std::to_string(params.expires) + "\n" + signed_path;
    for (const auto& key : keys) {
      auto expected = hmac_hex(params.digest, key, message);
      if (expected && crypto::constant_time_equals(*expected, params.sig)) { ok = true; }
    }
  }
  return ok;
}

std::string tempurl_signature(std::string_view digest, std::string_view key, std::string_view method, std::int64_t expires,
                              std::string_view path) {
  std::string message = std::string(method) + "\n" + std::to_string(expires) + "\n" + std::string(path);
  return hmac_hex(digest, key, message).value_or("");
}

}  // namespace ciel::object::swift
