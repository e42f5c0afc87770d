// Fuzzes the request head path of the server exactly as connection.cc runs it: Beast's
// request_parser with the server's header limit, then Ciel's apply_request_head (target parsing,
// path checks, query and header handling). Bodies are fed through the same buffer_body parser
// the server streams with, so chunked framing is exercised too.
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/http/request_head.h"
#include "fuzz_check.h"

namespace bhttp = boost::beast::http;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  bhttp::request_parser<bhttp::buffer_body> parser;
  parser.header_limit(8 * 1024);  // the server's max_header_bytes, scaled down to the fuzzer's inputs
  parser.body_limit(boost::none);

  // Bytes arrive in two reads, as from a socket; the split point comes from the first byte. Like
  // the server's flat_buffer, unconsumed bytes are presented again with the next read's.
  boost::beast::error_code ec;
  std::size_t used = 0;
  std::size_t arrived = size > 0 ? data[0] % (size + 1) : 0;
  while (!parser.is_header_done()) {
    std::size_t n = parser.put(boost::asio::buffer(input.data() + used, arrived - used), ec);
    used += n;
    if (ec == bhttp::error::need_more || (!ec && n == 0)) {
      ec = {};
      if (arrived == size) { return 0; }
      arrived = size;
      continue;
    }
    if (ec) { return 0; }
  }

  const auto& head = parser.get();
  ciel::http::RequestHead fields;
  fields.version = head.version();
  fields.method = head.method_string();
  fields.target = head.target();
  for (const auto& f : head) { fields.fields.emplace_back(f.name_string(), f.value()); }
  fields.chunked = parser.chunked();
  if (auto cl = parser.content_length()) { fields.content_length = *cl; }

  ciel::http::Request req;
  auto st = ciel::http::apply_request_head(fields, req, 1024);
  if (st) {
    FUZZ_CHECK(!req.path.empty() && req.path.front() == '/');
    FUZZ_CHECK(req.path.find('\0') == std::string::npos);
    FUZZ_CHECK(req.path.size() <= 1024);
    FUZZ_CHECK(ciel::http::valid_utf8(req.path));
    FUZZ_CHECK(req.path.find("/../") == std::string::npos && !req.path.ends_with("/.."));
    FUZZ_CHECK(req.headers.items().size() == fields.fields.size());
    FUZZ_CHECK(req.host.size() <= req.header("Host").size());
    // The console's session cookie, as its request filter reads it.
    std::string_view cookies = req.header("Cookie");
    std::string_view session = ciel::http::cookie_value(cookies, "ciel_session");
    FUZZ_CHECK(session.empty() || (session.data() >= cookies.data() && session.data() + session.size() <= cookies.data() + cookies.size()));
    FUZZ_CHECK(session.find(';') == std::string_view::npos);
  } else {
    auto s = ciel::http::status_for_head_error(st.error());
    FUZZ_CHECK(s == ciel::http::Status::bad_request || s == ciel::http::Status::uri_too_long);
    FUZZ_CHECK(req.path == "/");
    FUZZ_CHECK(req.raw_path.size() <= 256);
  }
  FUZZ_CHECK(req.chunked == parser.chunked());

  // Stream whatever follows the head through the body parser, 64 bytes at a time.
  parser.eager(true);
  std::string_view body = input.substr(used);
  char buf[64];
  std::uint64_t received = 0;
  while (!parser.is_done() && !body.empty()) {
    auto& b = parser.get().body();
    b.data = buf;
    b.size = sizeof buf;
    std::size_t n = parser.put(boost::asio::buffer(body.data(), body.size()), ec);
    if (ec == bhttp::error::need_buffer) { ec = {}; }
    if (ec) { break; }
    received += sizeof buf - parser.get().body().size;
    if (n == 0 && parser.get().body().size == sizeof buf) { break; }
    body.remove_prefix(n);
  }
  if (auto cl = fields.content_length; cl && !fields.chunked) { FUZZ_CHECK(received <= *cl); }
  return 0;
}
