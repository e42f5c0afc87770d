// core/http/types.h: HTTP vocabulary shared by the server and every front-end, free of Beast.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ciel::http {

// WebDAV verbs are first-class: the box speaks them.
enum class Method { get, head, post, put, delete_, options, patch, propfind, proppatch, mkcol, copy, move, lock, unlock, report, other };

std::string_view method_name(Method m);
Method parse_method(std::string_view text);

enum class Status : unsigned {
  continue_ = 100,
  ok = 200, created = 201, accepted = 202, no_content = 204, partial_content = 206, multi_status = 207,
  moved_permanently = 301, found = 302, see_other = 303, not_modified = 304, temporary_redirect = 307,
  bad_request = 400, unauthorized = 401, forbidden = 403, not_found = 404, method_not_allowed = 405,
  not_acceptable = 406, request_timeout = 408, conflict = 409, gone = 410, length_required = 411,
  precondition_failed = 412, payload_too_large = 413, uri_too_long = 414, unsupported_media_type = 415,
  range_not_satisfiable = 416, expectation_failed = 417, unprocessable_entity = 422, locked = 423,
  failed_dependency = 424, precondition_required = 428, too_many_requests = 429,
  request_header_fields_too_large = 431,
  internal_server_error = 500, not_implemented = 501, bad_gateway = 502, service_unavailable = 503,
  gateway_timeout = 504, insufficient_storage = 507,
};

std::string_view reason_phrase(Status s);
inline unsigned code(Status s) { return static_cast<unsigned>(s); }

// Ordered header list with case-insensitive names. Small: a linear scan beats hashing here.
class Headers {
 public:
  std::optional<std::string_view> get(std::string_view name) const;
  std::string_view value_or(std::string_view name, std::string_view fallback) const;
  bool has(std::string_view name) const { return get(name).has_value(); }
  void set(std::string_view name, std::string_view value);  // replaces every existing value
  void add(std::string_view name, std::string_view value);  // appends (Set-Cookie, Vary, ...)
  void remove(std::string_view name);
  const std::vector<std::pair<std::string, std::string>>& items() const { return items_; }

 private:
  std::vector<std::pair<std::string, std::string>> items_;
};

bool iequals(std::string_view a, std::string_view b);

// The value of cookie `name` in a Cookie header ("a=1; b=2"), or empty (absent or empty). The
// returned view points into `header`.
std::string_view cookie_value(std::string_view header, std::string_view name);

}  // namespace ciel::http
