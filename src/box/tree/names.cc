// Names and paths of the box: NFC (utf8proc), so a name typed on any system names one file.
#include <utf8proc.h>

#include <cstdlib>
#include <memory>

#include "box/box.h"
#include "core/crypto/crypto.h"

namespace ciel::box {

Result<std::string> normalize_name(std::string_view name) {
  if (name.empty() || name == "." || name == "..") { return make_error(Errc::invalid_argument, "invalid name \"" + std::string(name) + "\""); }
  for (char c : name) {
    if (c == '/' || c == '\0') { return make_error(Errc::invalid_argument, "a name cannot contain '/' or NUL"); }
  }
  utf8proc_uint8_t* out = nullptr;
  auto n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(name.data()), static_cast<utf8proc_ssize_t>(name.size()), &out,
                        static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
  if (n < 0) { return make_error(Errc::invalid_argument, "a name must be valid UTF-8"); }
  std::unique_ptr<utf8proc_uint8_t, decltype(&std::free)> owned(out, &std::free);
  std::string nfc(reinterpret_cast<const char*>(out), static_cast<std::size_t>(n));
  if (nfc.size() > 255) { return make_error(Errc::invalid_argument, "a name is at most 255 bytes"); }
  return nfc;
}

Result<std::string> normalize_path(std::string_view path) {
  std::string out;
  std::size_t i = 0;
  while (i <= path.size()) {
    auto j = path.find('/', i);
    if (j == std::string_view::npos) { j = path.size(); }
    auto seg = path.substr(i, j - i);
    if (!seg.empty()) {
      auto n = normalize_name(seg);
      if (!n) { return n.error(); }
      if (!out.empty()) { out += '/'; }
      out += *n;
    }
    i = j + 1;
  }
  return out;
}

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') { return c - '0'; }
  if (c >= 'a' && c <= 'f') { return c - 'a' + 10; }
  if (c >= 'A' && c <= 'F') { return c - 'A' + 10; }
  return -1;
}

// One more round of percent-decoding of a segment (only well-formed escapes are decoded).
std::string decode_again(std::string_view seg) {
  std::string out;
  for (std::size_t i = 0; i < seg.size(); ++i) {
    if (seg[i] == '%' && i + 2 < seg.size() && hex_value(seg[i + 1]) >= 0 && hex_value(seg[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(seg[i + 1]) * 16 + hex_value(seg[i + 2]));
      i += 2;
    } else {
      out += seg[i];
    }
  }
  return out;
}

}  // namespace

Result<std::string> normalize_link_path(std::string_view path) {
  auto bad = [] { return make_error(Errc::invalid_argument, "This path is not valid inside a link"); };
  if (path.starts_with('/')) { return bad(); }
  std::size_t i = 0;
  while (i <= path.size()) {
    auto j = path.find('/', i);
    if (j == std::string_view::npos) { j = path.size(); }
    auto seg = path.substr(i, j - i);
    if (seg == "." || seg == "..") { return bad(); }
    std::string again = decode_again(seg);
    if (again == "." || again == ".." || again.find_first_of(std::string_view("/\\\0", 3)) != std::string::npos) { return bad(); }
    if (seg.find('\\') != std::string_view::npos || seg.find('\0') != std::string_view::npos) { return bad(); }
    i = j + 1;
  }
  return normalize_path(path);
}

std::string new_link_token() {
  static constexpr std::string_view kAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  std::string out;
  while (out.size() < 22) {
    for (unsigned char b : crypto::random_bytes(32)) {
      if (b >= 248) { continue; }  // 248 = 4 * 62: no bias
      out += kAlphabet[b % 62];
      if (out.size() == 22) { break; }
    }
  }
  return out;
}

int link_permissions(LinkAccess access) {
  switch (access) {
    case LinkAccess::read: return 1;
    case LinkAccess::read_write: return 15;
    case LinkAccess::upload: return 4;
  }
  return 1;
}

std::optional<LinkAccess> link_access_from(int permissions) {
  switch (permissions & ~16) {
    case 1: return LinkAccess::read;
    case 15: return LinkAccess::read_write;
    case 4: return LinkAccess::upload;
    default: return std::nullopt;
  }
}

std::optional<Checksum> parse_checksum(std::string_view header) {
  std::size_t i = 0;
  while (i < header.size()) {
    auto j = header.find(' ', i);
    if (j == std::string_view::npos) { j = header.size(); }
    auto item = header.substr(i, j - i);
    i = j + 1;
    auto colon = item.find(':');
    if (colon == std::string_view::npos) { continue; }
    std::string type(item.substr(0, colon));
    for (auto& c : type) { c = static_cast<char>(std::toupper(static_cast<unsigned char>(c))); }
    std::string hex(item.substr(colon + 1));
    for (auto& c : hex) { c = static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }
    if ((type == "SHA1" || type == "MD5" || type == "ADLER32") && !hex.empty()) { return Checksum{type, hex}; }
  }
  return std::nullopt;
}

}  // namespace ciel::box
