// Names and paths of the box: NFC (utf8proc), so a name typed on any system names one file.
#include <utf8proc.h>

#include <cstdlib>
#include <memory>

#include "box/box.h"

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
