// core/http/request.h: what a handler sees of a request. Built by the connection (the only
// code that touches Beast); the body is a ByteSource that streams from the socket, sends
// "100 Continue" on first read when the client asked for it, and stops at the route's limit.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/bytes.h"
#include "core/http/types.h"

namespace ciel::http {

struct Request {
  Method method = Method::get;
  std::string method_text;
  std::string target;    // as sent
  std::string path;      // decoded and checked by parse_target
  std::string raw_path;  // still encoded
  std::string query;     // raw
  std::vector<std::pair<std::string, std::string>> query_params;  // decoded
  Headers headers;
  std::optional<std::uint64_t> content_length;
  bool chunked = false;
  bool tls = false;
  std::string remote_address;
  std::string request_id;
  std::string host;  // Host header without port

  std::string_view header(std::string_view name) const { return headers.value_or(name, ""); }
  std::optional<std::string_view> query_param(std::string_view name) const;
  bool has_query_param(std::string_view name) const { return query_param(name).has_value(); }
  bool has_body() const { return chunked || content_length.value_or(0) > 0; }
};

class RequestContext {
 public:
  RequestContext(Request& request, ByteSource& body) : request_(request), body_(body) {}

  Request& request() { return request_; }
  const Request& request() const { return request_; }
  ByteSource& body() { return body_; }
  // Whole body as a string; Errc::too_large past `limit`.
  boost::asio::awaitable<Result<std::string>> read_body(std::size_t limit) { return read_all(body_, limit); }

  // Route parameters ("{name}" and "{name+}" in the pattern), already decoded.
  std::string_view param(std::string_view name) const;
  void set_params(std::vector<std::pair<std::string, std::string>> params) { params_ = std::move(params); }
  const std::string& route_group() const { return route_group_; }
  void set_route_group(std::string group) { route_group_ = std::move(group); }
  std::chrono::steady_clock::time_point started() const { return started_; }

 private:
  Request& request_;
  ByteSource& body_;
  std::vector<std::pair<std::string, std::string>> params_;
  std::string route_group_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

}  // namespace ciel::http
