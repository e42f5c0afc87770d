// core/http/request_head.h: turns a request head that an HTTP parser has split into method,
// target and fields into Ciel's Request: method, decoded and checked path (parse_target), query
// parameters, headers, body framing and host. Beast-free, so the server (connection.cc, which
// feeds it from Beast's request_parser) and tests/fuzz/http_request_fuzz.cc share it. Pure.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "core/http/request.h"
#include "core/http/target.h"
#include "core/result.h"

namespace ciel::http {

struct RequestHead {
  unsigned version = 11;  // HTTP version times ten: 10 or 11
  std::string_view method;
  std::string_view target;
  std::vector<std::pair<std::string_view, std::string_view>> fields;  // in arrival order
  bool chunked = false;
  std::optional<std::uint64_t> content_length;
};

// Fills `req` from `head`. On failure `req` still has method, target and headers (for logging
// and error rendering) and the error says why the request was refused: Errc::invalid_argument
// (answer 400: bad target, missing/repeated/invalid Host, unsupported Transfer-Encoding) or
// Errc::too_large (answer 414); see status_for_head_error.
ciel::Status apply_request_head(const RequestHead& head, Request& req, std::size_t max_path_bytes = kMaxPathBytes);
Status status_for_head_error(const Error& error);

// "example.com:8080" -> "example.com", "[::1]:80" -> "[::1]", "[::1]" -> "[::1]".
std::string_view host_without_port(std::string_view host);

}  // namespace ciel::http
