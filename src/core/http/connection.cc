// The one place where requests are read and responses written with Beast. Everything a
// handler sees is converted to Ciel's Request/Response first.
#include "core/http/connection.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <sys/mman.h>
#include <sys/sendfile.h>

#include <algorithm>
#include <cstring>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <array>
#include <charconv>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <random>

#include "core/http/request_head.h"
#include "core/log/log.h"
#include "core/metrics/metrics.h"

namespace ciel::http::detail {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kChunk = 64 * 1024;
// Most bytes handed to one write from a source's own buffers: one write has body_timeout to
// finish, so a slow reader must be able to take this much in that time.
constexpr std::size_t kViewMax = 1 << 20;
constexpr std::uint64_t kMappedSendMin = 1 << 20;     // smaller ranges: sendfile
constexpr std::uint64_t kMappedSendWindow = 8 << 20;  // bytes mapped at a time

std::string make_request_id() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char hex[] = "0123456789abcdef";
  std::uint64_t a = rng();
  std::uint64_t b = rng();
  std::string id = "req-";
  for (int i = 0; i < 16; ++i) { id.push_back(hex[(a >> (i * 4)) & 15]); }
  for (int i = 0; i < 8; ++i) { id.push_back(hex[(b >> (i * 4)) & 15]); }
  return id;
}

// RFC 9110 IMF-fixdate, recomputed at most once a second per thread.
const std::string& http_date() {
  thread_local std::time_t cached_at = 0;
  thread_local std::string cached;
  std::time_t now = std::time(nullptr);
  if (now != cached_at) {
    char buf[64];
    std::tm tm{};
    gmtime_r(&now, &tm);
    std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    cached = buf;
    cached_at = now;
  }
  return cached;
}

template <class Stream>
auto& tcp_layer(Stream& s) {
  return beast::get_lowest_layer(s);
}

// The request body as a ByteSource: streams from the socket through Beast's parser.
template <class Stream>
class BodySource final : public ByteSource {
 public:
  BodySource(Stream& stream, beast::flat_buffer& buffer, bhttp::request_parser<bhttp::buffer_body>& parser,
             const ServerLimits& limits, std::uint64_t max_body, bool expect_continue)
      : stream_(stream), buffer_(buffer), parser_(parser), limits_(limits), max_body_(max_body),
        need_continue_(expect_continue) {
    done_ = parser_.is_done();
  }

  asio::awaitable<Result<std::size_t>> read(std::span<char> buf) override {
    if (done_ || buf.empty()) { co_return std::size_t{0}; }
    if (failed_) { co_return make_error(Errc::unavailable, "request body could not be read"); }
    if (need_continue_) {
      need_continue_ = false;
      static constexpr char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
      tcp_layer(stream_).expires_after(limits_.body_timeout);
      auto [ec, n] = co_await asio::async_write(stream_, asio::buffer(kContinue, sizeof kContinue - 1), use_tuple);
      if (ec) {
        failed_ = true;
        co_return make_error(Errc::unavailable, "client went away", ec.message());
      }
    }
    if (!parser_.chunked() && parser_.content_length()) {
      // A Content-Length body bypasses the parser: the bytes already buffered with the head,
      // then straight from the socket into the caller's buffer (one recv per call, no copy).
      // The parser is per request, so leaving it short of the body is harmless.
      const std::uint64_t length = *parser_.content_length();
      const std::uint64_t remaining = length - received_;
      std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), remaining));
      std::size_t got = 0;
      if (buffer_.size() > 0) {
        got = std::min(want, buffer_.size());
        std::memcpy(buf.data(), buffer_.data().data(), got);
        buffer_.consume(got);
      } else {
        tcp_layer(stream_).expires_after(limits_.body_timeout);
        auto [ec, n] = co_await stream_.async_read_some(asio::buffer(buf.data(), want), use_tuple);
        if (ec) {
          failed_ = true;
          co_return make_error(Errc::unavailable, "request body could not be read", ec.message());
        }
        got = n;
      }
      received_ += got;
      if (received_ > max_body_) {
        failed_ = true;
        too_large_ = true;
        co_return make_error(Errc::too_large, "request body is too large");
      }
      if (received_ == length) { done_ = true; }
      co_return got;
    }
    for (;;) {
      auto& body = parser_.get().body();
      body.data = buf.data();
      body.size = buf.size();
      tcp_layer(stream_).expires_after(limits_.body_timeout);
      auto [ec, n] = co_await bhttp::async_read_some(stream_, buffer_, parser_, use_tuple);
      std::size_t got = buf.size() - parser_.get().body().size;
      if (ec == bhttp::error::need_buffer) { ec = {}; }
      if (ec) {
        failed_ = true;
        co_return make_error(Errc::unavailable, "request body could not be read", ec.message());
      }
      received_ += got;
      if (received_ > max_body_) {
        failed_ = true;
        too_large_ = true;
        co_return make_error(Errc::too_large, "request body is too large");
      }
      if (parser_.is_done()) { done_ = true; }
      if (got > 0 || done_) { co_return got; }
    }
  }

  std::optional<std::uint64_t> size() const override {
    auto cl = parser_.content_length();
    if (cl) { return *cl; }
    return std::nullopt;
  }

  bool done() const { return done_; }
  bool failed() const { return failed_; }
  bool too_large() const { return too_large_; }
  bool continue_pending() const { return need_continue_; }
  std::uint64_t received() const { return received_; }

 private:
  Stream& stream_;
  beast::flat_buffer& buffer_;
  bhttp::request_parser<bhttp::buffer_body>& parser_;
  const ServerLimits& limits_;
  std::uint64_t max_body_;
  bool need_continue_;
  bool done_ = false;
  bool failed_ = false;
  bool too_large_ = false;
  std::uint64_t received_ = 0;
};

template <class Fields>
void copy_headers(const Headers& from, Fields& to) {
  for (const auto& [k, v] : from.items()) { to.insert(k, v); }
}

bool status_has_body(unsigned s) { return !(s < 200 || s == 204 || s == 304); }

// "HTTP/1.1 <code> <reason>", the headers and the blank line. Header names and values never
// carry CR or LF (a value with one is dropped whole rather than let it split the response).
std::string serialize_head(unsigned st, const Headers& headers, bool keep_alive) {
  std::string head;
  head.reserve(320);
  head += "HTTP/1.1 ";
  head += std::to_string(st);
  head += ' ';
  head += reason_phrase(static_cast<Status>(st));
  head += "\r\n";
  for (const auto& [k, v] : headers.items()) {
    // Framing is the connection's business: these come from the body and keep-alive state.
    if (iequals(k, "Content-Length") || iequals(k, "Transfer-Encoding") || iequals(k, "Connection")) { continue; }
    if (k.find_first_of("\r\n:") != std::string::npos || v.find_first_of("\r\n") != std::string::npos) {
      log::warn("dropping response header {} with a line break in it", json_escape(k));
      continue;
    }
    head += k;
    head += ": ";
    head += v;
    head += "\r\n";
  }
  if (!keep_alive) { head += "Connection: close\r\n"; }
  head += "\r\n";
  return head;
}

struct WriteOutcome {
  bool ok = true;
  std::uint64_t bytes = 0;
};

// Writes `res`. `head_only` for HEAD requests: the headers announce the body that GET would send.
template <class Stream>
asio::awaitable<WriteOutcome> write_response(Stream& stream, Response& res, bool head_only, bool keep_alive,
                                             const ServerLimits& limits, bool plain_tcp) {
  WriteOutcome out;
  unsigned st = code(res.status());
  res.headers().set("Date", http_date());
  if (!res.headers().has("Server")) { res.headers().set("Server", "Ciel"); }
  bool send_body = !head_only && status_has_body(st);
  tcp_layer(stream).expires_after(limits.body_timeout);

  // A small file range goes out with its head in one write (one TCP segment on loopback, as
  // nginx does with TCP_NOPUSH); the page-cache read of at most 64 KiB is cheaper than a second
  // syscall and a second wake-up of the client.
  if (auto* file = std::get_if<FileBody>(&res.body()); file != nullptr && send_body && file->length <= 64 * 1024) {
    std::string data(static_cast<std::size_t>(file->length), '\0');
    ssize_t n = ::pread(file->fd.get(), data.data(), data.size(), static_cast<off_t>(file->offset));
    if (n != static_cast<ssize_t>(data.size())) {
      out.ok = false;
      co_return out;
    }
    res.body() = std::move(data);
  }

  if (auto* text = std::get_if<std::string>(&res.body())) {
    // Most responses are small strings: the head is written by hand and goes out with the body
    // in one gathered write, skipping Beast's serializer (a third of the user-space time per
    // request here).
    std::string head = serialize_head(st, res.headers(), keep_alive);
    std::optional<std::uint64_t> announced;
    if (status_has_body(st)) {
      announced = send_body ? text->size() : res.head_length().value_or(text->size());
      // A HEAD answer that set Content-Length itself (the size GET would send) keeps it.
      if (!send_body && !res.head_length() && text->empty()) {
        if (auto cl = res.headers().get("Content-Length")) {
          std::uint64_t v = 0;
          if (std::from_chars(cl->data(), cl->data() + cl->size(), v).ec == std::errc{}) { announced = v; }
        }
      }
    }
    if (announced) {
      head.resize(head.size() - 2);  // reopen the head to add Content-Length
      head += "Content-Length: ";
      head += std::to_string(*announced);
      head += "\r\n\r\n";
    }
    out.bytes = send_body ? text->size() : 0;
    std::array<asio::const_buffer, 2> bufs{asio::buffer(head), asio::buffer(send_body ? *text : std::string_view{})};
    auto [ec, n] = co_await asio::async_write(stream, bufs, use_tuple);
    out.ok = !ec;
    co_return out;
  }

  std::optional<std::uint64_t> length = res.stream_length();
  bhttp::response<bhttp::buffer_body> r{static_cast<bhttp::status>(st), 11};
  copy_headers(res.headers(), r);
  r.keep_alive(keep_alive);
  if (length) {
    r.content_length(*length);
  } else if (status_has_body(st)) {
    r.chunked(true);
  }
  bhttp::response_serializer<bhttp::buffer_body> sr{r};
  r.body().data = nullptr;
  r.body().more = send_body;
  {
    auto [ec, n] = co_await bhttp::async_write_header(stream, sr, use_tuple);
    if (ec) {
      out.ok = false;
      co_return out;
    }
  }
  if (!send_body) { co_return out; }

  // One file range or several (an object stored as several blobs).
  std::vector<FileBody> files;
  if (auto* file = std::get_if<FileBody>(&res.body())) {
    files.push_back(std::move(*file));
  } else if (auto* list = std::get_if<std::vector<FileBody>>(&res.body())) {
    files = std::move(*list);
  }
  if (!files.empty() && plain_tcp && length) {
    // sendfile: the kernel copies from the page cache to the socket; no user-space buffer.
    auto& sock = tcp_layer(stream).socket();
    sock.non_blocking(true);
    for (auto& file : files) {
      off_t off = static_cast<off_t>(file.offset);
      std::uint64_t left = file.length;
      if (left >= kMappedSendMin) {
        // Large ranges go out with send() from a mapping of the file, a window at a time: over
        // loopback here that moves 3-3.7 GB/s where sendfile() moves 1.7-2 GB/s (sendfile hands
        // the socket page references one 4 KiB page at a time; send() copies into large
        // buffers). MAP_POPULATE maps a window's pages in one call instead of a fault per 64 KiB.
        // Only immutable blobs are served this large: a file truncated under its mapping would
        // fault.
        const auto page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
        while (left > 0) {
          std::uint64_t start = static_cast<std::uint64_t>(off) / page * page;
          std::uint64_t skip = static_cast<std::uint64_t>(off) - start;
          std::uint64_t take = std::min<std::uint64_t>(left, kMappedSendWindow - skip);
          void* map = ::mmap(nullptr, skip + take, PROT_READ, MAP_SHARED | MAP_POPULATE, file.fd.get(), static_cast<off_t>(start));
          if (map == MAP_FAILED) {
            out.ok = false;
            co_return out;
          }
          ::madvise(map, skip + take, MADV_SEQUENTIAL);
          // Raw send() of all that is left, not asio::async_write: that one sends 64 KiB per
          // call (and re-arms a timer each time), which halved the throughput.
          const char* p = static_cast<const char*>(map) + skip;
          std::uint64_t sent = 0;
          bool failed = false;
          while (sent < take) {
            ssize_t n = ::send(sock.native_handle(), p + sent, take - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n > 0) {
              sent += static_cast<std::uint64_t>(n);
              continue;
            }
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
              tcp_layer(stream).expires_after(limits.body_timeout);
              auto [ec] = co_await sock.async_wait(asio::ip::tcp::socket::wait_write, use_tuple);
              if (!ec) { continue; }
            }
            failed = true;
            break;
          }
          ::munmap(map, skip + take);
          out.bytes += sent;
          if (failed) {
            out.ok = false;
            co_return out;
          }
          off += static_cast<off_t>(take);
          left -= take;
        }
        continue;
      }
      while (left > 0) {
        ssize_t n = ::sendfile(sock.native_handle(), file.fd.get(), &off, std::min<std::uint64_t>(left, 1 << 20));
        if (n > 0) {
          left -= static_cast<std::uint64_t>(n);
          out.bytes += static_cast<std::uint64_t>(n);
          continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
          tcp_layer(stream).expires_after(limits.body_timeout);
          auto [ec] = co_await sock.async_wait(asio::ip::tcp::socket::wait_write, use_tuple);
          if (ec) {
            out.ok = false;
            co_return out;
          }
          continue;
        }
        out.ok = false;  // EOF on the file (truncated underneath us) or a socket error
        co_return out;
      }
    }
    co_return out;
  }

  std::unique_ptr<ByteSource> source;
  if (!files.empty()) {
    // TLS: read the ranges with pread and encrypt them in user space.
    struct FileSource final : ByteSource {
      std::vector<FileBody> f;
      std::size_t i = 0;
      explicit FileSource(std::vector<FileBody> b) : f(std::move(b)) {}
      asio::awaitable<Result<std::size_t>> read(std::span<char> buf) override {
        while (i < f.size() && f[i].length == 0) { ++i; }
        if (i == f.size()) { co_return std::size_t{0}; }
        auto& cur = f[i];
        ssize_t n = ::pread(cur.fd.get(), buf.data(), std::min<std::uint64_t>(buf.size(), cur.length), static_cast<off_t>(cur.offset));
        if (n <= 0) { co_return make_error(Errc::unavailable, "file read failed"); }
        cur.offset += static_cast<std::uint64_t>(n);
        cur.length -= static_cast<std::uint64_t>(n);
        co_return static_cast<std::size_t>(n);
      }
    };
    source = std::make_unique<FileSource>(std::move(files));
  } else if (auto* stream_body = std::get_if<std::unique_ptr<ByteSource>>(&res.body())) {
    source = std::move(*stream_body);
  }
  // A source that lends its buffers (has_views) is sent from them; the others are read into a
  // buffer no larger than the body.
  const bool views = source && source->has_views();
  std::vector<char> buf(views ? 0 : static_cast<std::size_t>(std::clamp<std::uint64_t>(length.value_or(kChunk), 1, kChunk)));
  std::uint64_t sent = 0;
  for (;;) {
    Result<std::span<const char>> chunk = std::span<const char>{};
    if (views) {
      chunk = co_await source->next_view(kViewMax);
    } else if (source) {
      auto n = co_await source->read(std::span<char>(buf.data(), buf.size()));
      if (n) {
        chunk = std::span<const char>(buf.data(), *n);
      } else {
        chunk = n.error();
      }
    }
    if (!chunk) {
      // The status line is gone already: the only honest signal left is to cut the connection.
      log::warn("response body failed after {} bytes: {} ({})", sent, chunk.error().message, chunk.error().detail);
      out.ok = false;
      co_return out;
    }
    const std::size_t n = chunk->size();
    if (n == 0) { break; }
    if (length && sent + n > *length) {
      out.ok = false;
      co_return out;
    }
    r.body().data = const_cast<char*>(chunk->data());  // buffer_body's pointer is not const; it only reads
    r.body().size = n;
    r.body().more = true;
    tcp_layer(stream).expires_after(limits.body_timeout);
    auto [ec, w] = co_await bhttp::async_write(stream, sr, use_tuple);
    if (ec == bhttp::error::need_buffer) { ec = {}; }
    if (ec) {
      out.ok = false;
      co_return out;
    }
    sent += n;
    out.bytes = sent;
  }
  if (length && sent != *length) {
    log::warn("response body ended after {} of {} bytes", sent, *length);
    out.ok = false;
    co_return out;
  }
  r.body().data = nullptr;
  r.body().size = 0;
  r.body().more = false;
  auto [ec, w] = co_await bhttp::async_write(stream, sr, use_tuple);
  out.ok = !ec;
  co_return out;
}

// Errors found before a route runs (bad head, size limits) go out in the route group's format.
template <class Stream>
asio::awaitable<void> write_early_error(Stream& stream, const Router& router, Request& req, Status status, std::string_view message,
                                        const ServerLimits& limits) {
  Response res = router.render_error(status, message, req);
  res.headers().set("X-Request-Id", req.request_id);
  co_await write_response(stream, res, false, false, limits, false);
}

void access_log(const Request& req, const std::string& group, unsigned status, std::uint64_t in, std::uint64_t out,
                std::chrono::steady_clock::duration took) {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(took).count();
  metrics::record_request(group, status, took, in, out);
  log::access(fmt::format(
      R"({{"ts":"{}","request_id":"{}","remote":"{}","method":"{}","path":"{}","status":{},"bytes_in":{},"bytes_out":{},"us":{},"group":"{}"}})",
      http_date(), req.request_id, req.remote_address, json_escape(req.method_text), json_escape(req.raw_path), status, in, out, us,
      group));
}

template <class Stream>
asio::awaitable<void> serve(Stream& stream, const Router& router, const ServerLimits& limits, ConnectionTracker& tracker,
                            bool tls, std::string remote) {
  beast::flat_buffer buffer;
  std::uint64_t conn_id = 0;
  {
    std::lock_guard lock(tracker.mu);
    conn_id = ++tracker.next_id;
  }
  // While idle (between requests) the connection can be closed by a drain. The closer runs on the
  // connection's own strand and re-checks under the lock that it is still idle, so it never
  // touches a connection that has moved on or gone.
  auto executor = stream.get_executor();
  auto set_idle = [&](bool idle) {
    std::lock_guard lock(tracker.mu);
    if (idle) {
      tracker.idle_closers[conn_id] = [&tracker, &stream, executor, conn_id] {
        asio::post(executor, [&tracker, &stream, conn_id] {
          std::lock_guard inner(tracker.mu);
          if (tracker.idle_closers.count(conn_id) == 0) { return; }
          beast::error_code ignored;
          tcp_layer(stream).socket().cancel(ignored);
          tcp_layer(stream).socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
        });
      };
    } else {
      tracker.idle_closers.erase(conn_id);
    }
  };

  for (;;) {
    if (tracker.draining) { break; }
    // Wait for the first byte of the next request under the keep-alive idle timeout.
    if (buffer.size() == 0) {
      set_idle(true);
      tcp_layer(stream).expires_after(limits.idle_timeout);
      auto [ec, n] = co_await stream.async_read_some(buffer.prepare(4096), use_tuple);
      set_idle(false);
      if (ec || n == 0) { break; }
      buffer.commit(n);
    }
    auto started = std::chrono::steady_clock::now();
    Request req;
    req.tls = tls;
    req.remote_address = remote;
    req.request_id = make_request_id();

    bhttp::request_parser<bhttp::buffer_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
    parser.body_limit(boost::none);
    // The whole head must arrive within header_timeout of its first byte: a slowloris client
    // trickling bytes is cut off here.
    tcp_layer(stream).expires_after(limits.header_timeout);
    auto [ec, n] = co_await bhttp::async_read_header(stream, buffer, parser, use_tuple);
    if (ec) {
      req.path = "/";
      req.raw_path = "-";
      if (ec == bhttp::error::header_limit) {
        co_await write_early_error(stream, router, req, Status::request_header_fields_too_large, "request headers are too large", limits);
        access_log(req, "other", 431, 0, 0, std::chrono::steady_clock::now() - started);
      } else if (ec == beast::error::timeout || ec == asio::error::operation_aborted || ec == bhttp::error::end_of_stream ||
                 ec == asio::error::eof || ec == asio::error::connection_reset) {
        // slow or vanished client: nothing to say
      } else {
        co_await write_early_error(stream, router, req, Status::bad_request, "malformed request", limits);
        access_log(req, "other", 400, 0, 0, std::chrono::steady_clock::now() - started);
      }
      break;
    }

    // A client that writes its head and its body separately without TCP_NODELAY (Nextcloud's
    // desktop client does) holds the body back until the head is acknowledged, and a delayed ACK
    // would stall every such request by ~40 ms. When a body is still to come, acknowledge at
    // once (Linux clears the flag again by itself, so it is set per request).
    if (parser.chunked() || (parser.content_length() && *parser.content_length() > buffer.size())) {
      int one = 1;
      ::setsockopt(tcp_layer(stream).socket().native_handle(), IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
    }
    auto& head = parser.get();
    RequestHead fields;
    fields.version = head.version();
    fields.method = head.method_string();
    fields.target = head.target();
    for (const auto& f : head) { fields.fields.emplace_back(f.name_string(), f.value()); }
    fields.chunked = parser.chunked();
    if (auto cl = parser.content_length()) { fields.content_length = *cl; }
    bool keep_alive = head.keep_alive() && !tracker.draining;

    if (auto applied = apply_request_head(fields, req); !applied) {
      Status s = status_for_head_error(applied.error());
      co_await write_early_error(stream, router, req, s, applied.error().message, limits);
      access_log(req, "other", code(s), 0, 0, std::chrono::steady_clock::now() - started);
      break;
    }
    router.prepare(req);
    const std::string& group = router.group_for(req.path);

    Response res;
    bool close_after = false;
    std::uint64_t bytes_in = 0;
    auto match = router.match(req.method, req.path);
    bool expect_continue = iequals(req.header("Expect"), "100-continue");
    if (req.method == Method::other && match.kind != Router::Match::found) {
      res = router.render_error(Status::not_implemented, "method not supported", req);
      close_after = req.has_body();
    } else if (match.kind == Router::Match::not_found) {
      res = router.render_error(Status::not_found, "no such resource", req);
      close_after = req.has_body();
    } else if (match.kind == Router::Match::method_not_allowed) {
      res = router.render_error(Status::method_not_allowed, "method not allowed", req);
      std::string allow;
      for (Method m : match.allowed) { allow += (allow.empty() ? "" : ", ") + std::string(method_name(m)); }
      res.set_header("Allow", allow);
      close_after = req.has_body();
    } else if (req.content_length && *req.content_length > match.route->options.max_body_bytes) {
      // Refused before reading a byte of it; the connection closes so the body is never consumed.
      res = router.render_error(Status::payload_too_large, "request body is too large", req);
      close_after = true;
    } else {
      BodySource<Stream> body(stream, buffer, parser, limits, match.route->options.max_body_bytes, expect_continue);
      RequestContext ctx(req, body);
      ctx.set_params(std::move(match.params));
      ctx.set_route_group(group);
      try {
        res = co_await match.route->handler(ctx);
      } catch (const std::exception& e) {
        log::error("request {} failed: {}", req.request_id, e.what());
        metrics::add("ciel_http_handler_exceptions_total", "Handler exceptions turned into 500 responses");
        res = router.render_error(Status::internal_server_error, "internal error", req);
      }
      bytes_in = body.received();
      if (body.failed()) {
        close_after = true;
        if (body.too_large()) {
          // A chunked body that crossed the route's limit: 413 whatever the handler made of it.
          res = router.render_error(Status::payload_too_large, "request body is too large", req);
        } else if (code(res.status()) < 400) {
          // A handler that ignored a body failure must not report success.
          res = router.render_error(Status::bad_request, "request body could not be read", req);
        }
      } else if (!body.done()) {
        if (body.continue_pending()) {
          // The client is waiting for 100 Continue that will never come: answer and close.
          close_after = true;
        } else if (req.content_length && *req.content_length - body.received() <= 64 * 1024) {
          // Drain a short remainder so keep-alive survives; anything longer closes the connection.
          char scratch[8192];
          for (;;) {
            auto got = co_await body.read(std::span<char>(scratch, sizeof scratch));
            if (!got || *got == 0) { break; }
          }
          close_after = !body.done();
        } else {
          close_after = true;
        }
      }
    }

    if (close_after || res.wants_close() || tracker.draining) { keep_alive = false; }
    res.headers().set("X-Request-Id", req.request_id);
    bool head_only = req.method == Method::head;
    auto outcome = co_await write_response(stream, res, head_only, keep_alive, limits, !tls);
    access_log(req, group, code(res.status()), bytes_in, outcome.bytes, std::chrono::steady_clock::now() - started);
    if (!outcome.ok || !keep_alive) { break; }
  }
}

struct OpenGuard {
  ConnectionTracker& t;
  explicit OpenGuard(ConnectionTracker& tr) : t(tr) {
    ++t.open;
    metrics::add_gauge("ciel_http_open_connections", "Open client connections", 1);
  }
  ~OpenGuard() {
    metrics::add_gauge("ciel_http_open_connections", "Open client connections", -1);
    if (--t.open == 0 && t.draining) {
      std::function<void()> done;
      {
        std::lock_guard lock(t.mu);
        done = t.on_all_closed;
      }
      if (done) { done(); }
    }
  }
};

std::string remote_of(const asio::ip::tcp::socket& s) {
  beast::error_code ec;
  auto ep = s.remote_endpoint(ec);
  return ec ? std::string("-") : ep.address().to_string();
}

}  // namespace

asio::awaitable<void> serve_plain(asio::ip::tcp::socket socket, const Router& router, const ServerLimits& limits,
                                  std::shared_ptr<ConnectionTracker> tracker) {
  OpenGuard guard(*tracker);
  std::string remote = remote_of(socket);
  socket.set_option(asio::ip::tcp::no_delay(true));
  beast::tcp_stream stream(std::move(socket));
  co_await serve(stream, router, limits, *tracker, false, std::move(remote));
  // Lingering close: send FIN, then read and drop what the client still sends (an unread body
  // after a 413, say) for a moment. Closing with unread data would make the kernel send RST, and a
  // client could lose the error response it has not read yet.
  beast::error_code ignored;
  stream.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  stream.expires_after(std::chrono::seconds(1));
  char scratch[16384];
  std::size_t dropped = 0;
  while (dropped < 4 * 1024 * 1024) {
    auto [ec, n] = co_await stream.async_read_some(asio::buffer(scratch), use_tuple);
    if (ec || n == 0) { break; }
    dropped += n;
  }
}

asio::awaitable<void> serve_tls(asio::ip::tcp::socket socket, asio::ssl::context& tls, const Router& router,
                                const ServerLimits& limits, std::shared_ptr<ConnectionTracker> tracker) {
  OpenGuard guard(*tracker);
  std::string remote = remote_of(socket);
  socket.set_option(asio::ip::tcp::no_delay(true));
  beast::ssl_stream<beast::tcp_stream> stream(beast::tcp_stream(std::move(socket)), tls);
  beast::get_lowest_layer(stream).expires_after(limits.header_timeout);
  auto [ec] = co_await stream.async_handshake(asio::ssl::stream_base::server, use_tuple);
  if (ec) { co_return; }
  co_await serve(stream, router, limits, *tracker, true, std::move(remote));
  beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(2));
  co_await stream.async_shutdown(use_tuple);
}

}  // namespace ciel::http::detail
