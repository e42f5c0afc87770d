#include "core/http/request_head.h"

#include <string>

namespace ciel::http {

std::string_view host_without_port(std::string_view host) {
  std::size_t colon = host.rfind(':');
  if (colon == std::string_view::npos || host.ends_with(']')) { return host; }
  return host.substr(0, colon);
}

ciel::Status apply_request_head(const RequestHead& head, Request& req, std::size_t max_path_bytes) {
  req.method_text = std::string(head.method);
  req.method = parse_method(req.method_text);
  req.target = std::string(head.target);
  for (const auto& [name, value] : head.fields) { req.headers.add(name, value); }
  req.chunked = head.chunked;
  req.content_length = head.content_length;
  req.host = std::string(host_without_port(req.header("Host")));

  auto target = parse_target(req.target, max_path_bytes);
  if (!target) {
    req.path = "/";
    req.raw_path = req.target.substr(0, 256);
    return target.error();
  }
  req.path = std::move(target->path);
  req.raw_path = std::move(target->raw_path);
  req.query = std::move(target->query);
  req.query_params = parse_query(req.query);
  return {};
}

Status status_for_head_error(const Error& error) {
  return error.code == Errc::too_large ? Status::uri_too_long : Status::bad_request;
}

}  // namespace ciel::http
