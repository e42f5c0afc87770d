// object/engine/names.h: what a container or object name may be (Swift's defaults, which S3's
// limits fit inside). Errc::invalid_argument with a message a client can read.
#pragma once
#include <string_view>

#include "core/result.h"

namespace ciel::object {

inline constexpr std::size_t kMaxContainerNameBytes = 256;
inline constexpr std::size_t kMaxObjectNameBytes = 1024;

Status check_container_name(std::string_view name);
Status check_object_name(std::string_view name);

}  // namespace ciel::object
