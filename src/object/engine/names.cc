#include "object/engine/names.h"

#include "core/http/target.h"

namespace ciel::object {
namespace {

Error invalid(std::string message) { return make_error(Errc::invalid_argument, std::move(message)); }

bool valid_text(std::string_view s) { return s.find('\0') == std::string_view::npos && http::valid_utf8(s); }

std::string_view meta_prefix(MetadataTarget target) {
  switch (target) {
    case MetadataTarget::account: return "x-account-meta-";
    case MetadataTarget::container: return "x-container-meta-";
    case MetadataTarget::object: return "x-object-meta-";
  }
  return "x-object-meta-";
}

}  // namespace

Status check_container_name(std::string_view name) {
  if (name.empty()) { return invalid("Container name cannot be empty"); }
  if (name.size() > kMaxContainerNameBytes) {
    return invalid("Container name length of " + std::to_string(name.size()) + " longer than " +
                   std::to_string(kMaxContainerNameBytes));
  }
  if (!valid_text(name)) { return invalid("Invalid UTF8 or contains NULL"); }
  if (name.find('/') != std::string_view::npos) { return invalid("Container name cannot contain '/'"); }
  if (name == "." || name == "..") { return invalid("Container name cannot be '.' or '..'"); }
  return {};
}

Status check_object_name(std::string_view name) {
  if (name.empty()) { return invalid("Object name cannot be empty"); }
  if (name.size() > kMaxObjectNameBytes) {
    return invalid("Object name length of " + std::to_string(name.size()) + " longer than " +
                   std::to_string(kMaxObjectNameBytes));
  }
  if (!valid_text(name)) { return invalid("Invalid UTF8 or contains NULL"); }
  std::size_t start = 0;
  for (;;) {
    std::size_t end = name.find('/', start);
    std::string_view seg = name.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    if (seg == "." || seg == "..") { return invalid("Object name cannot contain a '.' or '..' path segment"); }
    if (end == std::string_view::npos) { break; }
    start = end + 1;
  }
  return {};
}

Status check_metadata(MetadataTarget target, std::span<const std::pair<std::string, std::string>> items) {
  std::string_view prefix = meta_prefix(target);
  std::size_t count = 0;
  std::size_t total = 0;
  for (const auto& [name, value] : items) {
    if (name.empty()) { return invalid("Metadata name cannot be empty"); }
    if (target != MetadataTarget::object && (!valid_text(name) || !valid_text(value))) {
      return invalid("Metadata must be valid UTF-8");
    }
    ++count;
    total += name.size() + value.size();
    if (name.size() > kMaxMetaNameBytes) { return invalid("Metadata name too long: " + std::string(prefix) + name); }
    if (value.size() > kMaxMetaValueBytes) {
      return invalid("Metadata value longer than " + std::to_string(kMaxMetaValueBytes) + ": " + std::string(prefix) + name);
    }
    if (count > kMaxMetaCount) { return invalid("Too many metadata items; max " + std::to_string(kMaxMetaCount)); }
    if (total > kMaxMetaOverallBytes) {
      return invalid("Total metadata too large; max " + std::to_string(kMaxMetaOverallBytes));
    }
  }
  return {};
}

}  // namespace ciel::object
