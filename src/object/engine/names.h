// object/engine/names.h: the limits Swift puts on container names, object names and user metadata
// (swift/common/constraints.py defaults). Every failure is Errc::invalid_argument with a message
// a Swift client can be shown (Swift answers 400 with that text). Pure functions.
#pragma once
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "core/result.h"

namespace ciel::object {

inline constexpr std::size_t kMaxContainerNameBytes = 256;
inline constexpr std::size_t kMaxObjectNameBytes = 1024;
inline constexpr std::size_t kMaxMetaNameBytes = 128;
inline constexpr std::size_t kMaxMetaValueBytes = 256;
inline constexpr std::size_t kMaxMetaCount = 90;
inline constexpr std::size_t kMaxMetaOverallBytes = 4096;  // sum of name + value bytes

// 1..256 bytes of valid UTF-8 (no overlong forms, surrogates or code points past U+10FFFF), no NUL,
// no '/', and not "." or "..".
// e.g. "Container name length of 300 longer than 256", "Invalid UTF8 or contains NULL".
Status check_container_name(std::string_view name);

// 1..1024 bytes of valid UTF-8, no NUL, and no '/'-separated segment equal to "." or "..".
// e.g. "Object name length of 1100 longer than 1024".
Status check_object_name(std::string_view name);

enum class MetadataTarget { account, container, object };

// `items` are (name, value) pairs with the "X-<Target>-Meta-" prefix already removed: the whole
// metadata a resource would hold after the request. Checked in order, with Swift's messages:
// "Metadata name cannot be empty", "Metadata must be valid UTF-8" (accounts and containers only),
// "Metadata name too long: x-container-meta-<name>", "Metadata value longer than 256: x-...-<name>",
// "Too many metadata items; max 90", "Total metadata too large; max 4096".
Status check_metadata(MetadataTarget target, std::span<const std::pair<std::string, std::string>> items);

}  // namespace ciel::object
