// core/result.h: Ciel's one way to report expected failures. Engines return Result<T>;
// each API dialect maps Errc to its own status codes and error bodies in one file.
#pragma once
#include <boost/system/result.hpp>
#include <string>
#include <string_view>

namespace ciel {

enum class Errc {
  invalid_argument = 1,
  not_found,
  already_exists,
  conflict,
  precondition_failed,
  unauthenticated,
  forbidden,
  quota_exceeded,
  too_large,
  unavailable,
  internal,
};

// `message` may reach clients; `detail` is for logs only (raw backend text, paths, errno).
struct Error {
  Errc code = Errc::internal;
  std::string message;
  std::string detail;
};

template <class T>
using Result = boost::system::result<T, Error>;
using Status = Result<void>;

inline Error make_error(Errc code, std::string message, std::string detail = {}) {
  return Error{code, std::move(message), std::move(detail)};
}

std::string_view errc_name(Errc code);

}  // namespace ciel

// boost::system::result needs to know how to throw an Error when .value() is called on a failure.
namespace boost::system {
[[noreturn]] void throw_exception_from_error(const ciel::Error& e, const boost::source_location& loc);
}  // namespace boost::system
