#include "object/engine/names.h"

#include <cstdint>
#include <string>

namespace ciel::object {
namespace {

bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t n;
    std::uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xe0) == 0xc0) {
      n = 1;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      n = 2;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= s.size()) { return false; }
    for (std::size_t k = 1; k <= n; ++k) {
      auto d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xc0) != 0x80) { return false; }
      cp = (cp << 6) | (d & 0x3f);
    }
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff)) {
      return false;
    }
    i += n + 1;
  }
  return true;
}

}  // namespace

Status check_container_name(std::string_view name) {
  if (name.empty()) { return make_error(Errc::invalid_argument, "Container name is required"); }
  if (name.size() > kMaxContainerNameBytes) {
    return make_error(Errc::invalid_argument, "Container name length of " + std::to_string(name.size()) + " longer than " +
                                                  std::to_string(kMaxContainerNameBytes));
  }
  if (!valid_utf8(name) || name.find('\0') != std::string_view::npos) {
    return make_error(Errc::invalid_argument, "Invalid UTF8 or contains NULL");
  }
  if (name.find('/') != std::string_view::npos || name == "." || name == "..") {
    return make_error(Errc::invalid_argument, "Invalid container name");
  }
  return {};
}

Status check_object_name(std::string_view name) {
  if (name.empty()) { return make_error(Errc::invalid_argument, "Object name is required"); }
  if (name.size() > kMaxObjectNameBytes) {
    return make_error(Errc::invalid_argument, "Object name length of " + std::to_string(name.size()) + " longer than " +
                                                  std::to_string(kMaxObjectNameBytes));
  }
  if (!valid_utf8(name) || name.find('\0') != std::string_view::npos) {
    return make_error(Errc::invalid_argument, "Invalid UTF8 or contains NULL");
  }
  std::size_t start = 0;
  for (;;) {
    auto end = name.find('/', start);
    auto seg = name.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    if (seg == "." || seg == "..") { return make_error(Errc::invalid_argument, "Object name contains a . or .. path segment"); }
    if (end == std::string_view::npos) { break; }
    start = end + 1;
  }
  return {};
}

}  // namespace ciel::object
