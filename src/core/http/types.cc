#include "core/http/types.h"

#include <algorithm>
#include <cctype>

namespace ciel::http {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) { return false; }
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) { return false; }
  }
  return true;
}

std::string_view method_name(Method m) {
  switch (m) {
    case Method::get: return "GET";
    case Method::head: return "HEAD";
    case Method::post: return "POST";
    case Method::put: return "PUT";
    case Method::delete_: return "DELETE";
    case Method::options: return "OPTIONS";
    case Method::patch: return "PATCH";
    case Method::propfind: return "PROPFIND";
    case Method::proppatch: return "PROPPATCH";
    case Method::mkcol: return "MKCOL";
    case Method::copy: return "COPY";
    case Method::move: return "MOVE";
    case Method::lock: return "LOCK";
    case Method::unlock: return "UNLOCK";
    case Method::report: return "REPORT";
    case Method::other: return "OTHER";
  }
  return "OTHER";
}

Method parse_method(std::string_view t) {
  static constexpr Method all[] = {Method::get, Method::head, Method::post, Method::put, Method::delete_,
                                   Method::options, Method::patch, Method::propfind, Method::proppatch, Method::mkcol,
                                   Method::copy, Method::move, Method::lock, Method::unlock, Method::report};
  for (Method m : all) {
    if (method_name(m) == t) { return m; }
  }
  return Method::other;
}

std::string_view reason_phrase(Status s) {
  switch (s) {
    case Status::continue_: return "Continue";
    case Status::ok: return "OK";
    case Status::created: return "Created";
    case Status::accepted: return "Accepted";
    case Status::no_content: return "No Content";
    case Status::partial_content: return "Partial Content";
    case Status::multi_status: return "Multi-Status";
    case Status::moved_permanently: return "Moved Permanently";
    case Status::found: return "Found";
    case Status::see_other: return "See Other";
    case Status::not_modified: return "Not Modified";
    case Status::temporary_redirect: return "Temporary Redirect";
    case Status::bad_request: return "Bad Request";
    case Status::unauthorized: return "Unauthorized";
    case Status::forbidden: return "Forbidden";
    case Status::not_found: return "Not Found";
    case Status::method_not_allowed: return "Method Not Allowed";
    case Status::not_acceptable: return "Not Acceptable";
    case Status::request_timeout: return "Request Timeout";
    case Status::conflict: return "Conflict";
    case Status::gone: return "Gone";
    case Status::length_required: return "Length Required";
    case Status::precondition_failed: return "Precondition Failed";
    case Status::payload_too_large: return "Payload Too Large";
    case Status::uri_too_long: return "URI Too Long";
    case Status::unsupported_media_type: return "Unsupported Media Type";
    case Status::range_not_satisfiable: return "Range Not Satisfiable";
    case Status::expectation_failed: return "Expectation Failed";
    case Status::unprocessable_entity: return "Unprocessable Entity";
    case Status::locked: return "Locked";
    case Status::failed_dependency: return "Failed Dependency";
    case Status::precondition_required: return "Precondition Required";
    case Status::too_many_requests: return "Too Many Requests";
    case Status::request_header_fields_too_large: return "Request Header Fields Too Large";
    case Status::internal_server_error: return "Internal Server Error";
    case Status::not_implemented: return "Not Implemented";
    case Status::bad_gateway: return "Bad Gateway";
    case Status::service_unavailable: return "Service Unavailable";
    case Status::gateway_timeout: return "Gateway Timeout";
    case Status::insufficient_storage: return "Insufficient Storage";
  }
  return "Unknown";
}

std::optional<std::string_view> Headers::get(std::string_view name) const {
  for (const auto& [k, v] : items_) {
    if (iequals(k, name)) { return std::string_view(v); }
  }
  return std::nullopt;
}

std::string_view Headers::value_or(std::string_view name, std::string_view fallback) const {
  auto v = get(name);
  return v ? *v : fallback;
}

void Headers::set(std::string_view name, std::string_view value) {
  remove(name);
  items_.emplace_back(std::string(name), std::string(value));
}

void Headers::add(std::string_view name, std::string_view value) { items_.emplace_back(std::string(name), std::string(value)); }

void Headers::remove(std::string_view name) {
  std::erase_if(items_, [&](const auto& kv) { return iequals(kv.first, name); });
}

std::string_view cookie_value(std::string_view header, std::string_view name) {
  if (name.empty()) { return {}; }
  while (!header.empty()) {
    auto end = header.find(';');
    std::string_view pair = header.substr(0, end);
    while (!pair.empty() && (pair.front() == ' ' || pair.front() == '\t')) { pair.remove_prefix(1); }
    if (pair.size() > name.size() && pair.starts_with(name) && pair[name.size()] == '=') { return pair.substr(name.size() + 1); }
    if (end == std::string_view::npos) { break; }
    header.remove_prefix(end + 1);
  }
  return {};
}

}  // namespace ciel::http
