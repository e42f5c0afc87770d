#include "object/swift/formpost.h"

#include <algorithm>
#include <charconv>

#include "core/crypto/crypto.h"
#include "object/swift/tempurl.h"

namespace ciel::object::swift {
namespace {

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

}  // namespace

Result<FormPostAttrs> parse_formpost_attrs(const std::vector<std::pair<std::string, std::string>>& fields) {
  FormPostAttrs out;
  for (const auto& [name, value] : fields) {
    if (name == "redirect") {
      out.redirect = value;
    } else if (name == "signature") {
      out.signature = value;
    } else if (name == "max_file_size") {
      out.max_file_size_text = value.empty() ? "0" : value;
    } else if (name == "max_file_count") {
      out.max_file_count_text = value.empty() ? "0" : value;
    } else if (name == "expires") {
      out.expires_text = value.empty() ? "0" : value;
    }
  }
  auto size = parse_int(out.max_file_size_text);
  if (!size) { return make_error(Errc::invalid_argument, "max_file_size not an integer"); }
  auto count = parse_int(out.max_file_count_text);
  if (!count) { return make_error(Errc::invalid_argument, "max_file_count not an integer"); }
  auto expires = parse_int(out.expires_text);
  if (!expires) { return make_error(Errc::invalid_argument, "expired not an integer"); }
  out.max_file_size = *size < 0 ? 0 : static_cast<std::uint64_t>(*size);
  out.max_file_count = *count < 0 ? 0 : static_cast<std::uint64_t>(*count);
  out.expires = *expires;
  return out;
}

std::string formpost_hmac_body(std::string_view path, std::string_view redirect, std::uint64_t max_file_size,
                               std::uint64_t max_file_count, std::int64_t expires) {
  return std::string(path) + "\n" + std::string(redirect) + "\n" + std::to_string(max_file_size) + "\n" +
         std::to_string(max_file_count) + "\n" + std::to_string(expires);
}

std::string formpost_hmac_body(std::string_view path, const FormPostAttrs& attrs) {
  return std::string(path) + "\n" + attrs.redirect + "\n" + attrs.max_file_size_text + "\n" + attrs.max_file_count_text +
         "\n" + attrs.expires_text;
}

bool formpost_signature_valid(const FormPostAttrs& attrs, std::span<const std::string> keys, std::string_view path) {
  if (keys.empty()) { return false; }
  auto sig = parse_signature(attrs.signature);
  if (!sig) { return false; }
  std::string body = formpost_hmac_body(path, attrs);
  bool ok = false;
  for (const auto& key : keys) {
    auto expected = hmac_hex(sig->digest, key, body);
    if (expected && crypto::constant_time_equals(*expected, sig->hex)) { ok = true; }
  }
  return ok;
}

bool formpost_expired(const FormPostAttrs& attrs, std::int64_t now) { return attrs.expires < now; }

boost::asio::awaitable<Result<std::string>> read_formpost_field(ByteSource& part) {
  std::string value;
  char buf[4096];
  for (;;) {
    auto n = co_await part.read(std::span<char>(buf, sizeof buf));
    if (!n) { co_return n.error(); }
    if (*n == 0) { break; }
    std::size_t keep = std::min(*n, kMaxFormFieldBytes - value.size());
    value.append(buf, keep);
  }
  while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == '-')) { value.pop_back(); }
  co_return value;
}

}  // namespace ciel::object::swift
