#include "core/result.h"

#include <stdexcept>

namespace ciel {
std::string_view errc_name(Errc code) {
  switch (code) {
    case Errc::invalid_argument: return "invalid_argument";
    case Errc::not_found: return "not_found";
    case Errc::already_exists: return "already_exists";
    case Errc::conflict: return "conflict";
    case Errc::precondition_failed: return "precondition_failed";
    case Errc::unauthenticated: return "unauthenticated";
    case Errc::forbidden: return "forbidden";
    case Errc::quota_exceeded: return "quota_exceeded";
    case Errc::too_large: return "too_large";
    case Errc::unavailable: return "unavailable";
    case Errc::internal: return "internal";
  }
  return "internal";
}
}  // namespace ciel

namespace boost::system {
void throw_exception_from_error(const ciel::Error& e, const boost::source_location&) {
  throw std::runtime_error(std::string(ciel::errc_name(e.code)) + ": " + e.message + (e.detail.empty() ? "" : " (" + e.detail + ")"));
}
}  // namespace boost::system
