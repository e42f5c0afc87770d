#include "core/http/target.h"

namespace ciel::http {
namespace {
int hex_value(char c) {
  if (c >= '0' && c <= '9') { return c - '0'; }
  if (c >= 'a' && c <= 'f') { return c - 'a' + 10; }
  if (c >= 'A' && c <= 'F') { return c - 'A' + 10; }
  return -1;
}
}  // namespace

std::optional<CodePoint> decode_utf8(std::string_view s, std::size_t i) {
  auto c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) { return CodePoint{c, 1}; }
  std::size_t n = 0;
  std::uint32_t cp = 0;
  if ((c & 0xE0) == 0xC0) {
    n = 1;
    cp = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    n = 2;
    cp = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    n = 3;
    cp = c & 0x07;
  } else {
    return std::nullopt;
  }
  if (i + n >= s.size()) { return std::nullopt; }
  for (std::size_t k = 1; k <= n; ++k) {
    auto cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xC0) != 0x80) { return std::nullopt; }
    cp = (cp << 6) | (cc & 0x3F);
  }
  // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
  if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
      (cp >= 0xD800 && cp <= 0xDFFF)) {
    return std::nullopt;
  }
  return CodePoint{cp, n + 1};
}

bool valid_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    auto cp = decode_utf8(s, i);
    if (!cp) { return false; }
    i += cp->length;
  }
  return true;
}

Result<std::string> percent_decode(std::string_view text, bool plus_as_space) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) { return make_error(Errc::invalid_argument, "bad percent escape"); }
      int hi = hex_value(text[i + 1]);
      int lo = hex_value(text[i + 2]);
      if (hi < 0 || lo < 0) { return make_error(Errc::invalid_argument, "bad percent escape"); }
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_as_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string percent_encode(std::string_view text, std::string_view keep) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    bool unreserved = (u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') || (u >= '0' && u <= '9') || u == '-' || u == '.' ||
                      u == '_' || u == '~';
    // NUL and '%' are always escaped: keeping '%' would make the output ambiguous to decode.
    if (unreserved || (u != 0 && c != '%' && keep.find(c) != std::string_view::npos)) {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(hex[u >> 4]);
      out.push_back(hex[u & 15]);
    }
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> parse_query(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!query.empty()) {
    std::size_t amp = query.find('&');
    std::string_view part = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (part.empty()) { continue; }
    std::size_t eq = part.find('=');
    std::string_view name = part.substr(0, eq);
    std::string_view value = eq == std::string_view::npos ? std::string_view{} : part.substr(eq + 1);
    auto dn = percent_decode(name, true);
    auto dv = percent_decode(value, true);
    out.emplace_back(dn ? *dn : std::string(name), dv ? *dv : std::string(value));
  }
  return out;
}

Result<Target> parse_target(std::string_view raw, std::size_t max_path_bytes) {
  Target t;
  // Absolute-form (RFC 9112 3.2.2): keep only the path and query.
  if (raw.starts_with("http://") || raw.starts_with("https://")) {
    std::size_t scheme_end = raw.find("://") + 3;
    std::size_t slash = raw.find('/', scheme_end);
    raw = slash == std::string_view::npos ? std::string_view("/") : raw.substr(slash);
  }
  if (raw.empty() || raw.front() != '/') {
    return make_error(Errc::invalid_argument, "request target must be an absolute path");
  }
  std::size_t q = raw.find('?');
  std::string_view raw_path = raw.substr(0, q);
  if (q != std::string_view::npos) { t.query = std::string(raw.substr(q + 1)); }
  if (std::size_t hash = t.query.find('#'); hash != std::string::npos) { t.query.resize(hash); }
  if (raw_path.size() > max_path_bytes * 3) { return make_error(Errc::too_large, "request path is too long"); }
  auto decoded = percent_decode(raw_path, false);
  if (!decoded) { return make_error(Errc::invalid_argument, "malformed percent escape in path"); }
  if (decoded->size() > max_path_bytes) { return make_error(Errc::too_large, "request path is too long"); }
  for (char c : *decoded) {
    if (c == '\0') { return make_error(Errc::invalid_argument, "NUL byte in path"); }
    if (c == '\r' || c == '\n') { return make_error(Errc::invalid_argument, "line break in path"); }
  }
  if (!valid_utf8(*decoded)) { return make_error(Errc::invalid_argument, "path is not valid UTF-8"); }
  // Dot segments are refused rather than resolved: resolving them would let "a/../b" name something
  // other than what a client listed, and no API Ciel serves needs them.
  std::string_view p = *decoded;
  std::size_t start = 0;
  while (start <= p.size()) {
    std::size_t end = p.find('/', start);
    std::string_view seg = p.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    if (seg == "." || seg == "..") { return make_error(Errc::invalid_argument, "dot segment in path"); }
    if (end == std::string_view::npos) { break; }
    start = end + 1;
  }
  t.path = std::move(*decoded);
  t.raw_path = std::string(raw_path);
  return t;
}

}  // namespace ciel::http
