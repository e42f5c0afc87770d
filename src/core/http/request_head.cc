#include "core/http/request_head.h"

#include <string>

namespace ciel::http {
namespace {
std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) { s.remove_prefix(1); }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) { s.remove_suffix(1); }
  return s;
}

// RFC 9110 7.2 / RFC 3986: uri-host [ ":" port ], where uri-host is a reg-name, an IPv4 address or
// a bracketed IP literal. Empty is allowed (a target without an authority).
bool valid_host(std::string_view host) {
  for (char c : host) {
    auto u = static_cast<unsigned char>(c);
    bool ok = (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') ||
              std::string_view("-._~!$&'()*+,;=%:[]").find(c) != std::string_view::npos;
    if (!ok) { return false; }
  }
  return true;
}
}  // namespace

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

  auto refuse = [&](std::string message) -> ciel::Status {
    req.path = "/";
    req.raw_path = req.target.substr(0, 256);
    return make_error(Errc::invalid_argument, std::move(message));
  };
  // RFC 9112 3.2: an HTTP/1.1 request has exactly one Host; no request has more than one.
  std::size_t hosts = 0;
  for (const auto& [name, value] : head.fields) {
    if (iequals(name, "Host")) { ++hosts; }
  }
  if (hosts == 0 && head.version >= 11) { return refuse("missing Host header"); }
  if (hosts > 1) { return refuse("more than one Host header"); }
  if (!valid_host(req.header("Host"))) { return refuse("invalid Host header"); }

  // RFC 9112 6.3: a Transfer-Encoding whose last coding is not chunked leaves the body length
  // unknown, and other codings (gzip, ...) are not something handlers could undo. Either way the
  // bytes after the head cannot be trusted as a body, so refuse the request.
  if (auto te = req.headers.get("Transfer-Encoding"); te && !(head.chunked && iequals(trim_ows(*te), "chunked"))) {
    return refuse("unsupported transfer coding");
  }

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
