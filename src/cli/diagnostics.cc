#include "cli/diagnostics.h"

#include <charconv>
#include <cstring>
#include <memory>

#include "core/crypto/crypto.h"

namespace ciel::cli {
namespace {

// A deterministic byte pattern, so a client can verify what it received.
class PatternSource final : public ByteSource {
 public:
  explicit PatternSource(std::uint64_t n) : left_(n), total_(n) {}
  boost::asio::awaitable<Result<std::size_t>> read(std::span<char> buf) override {
    std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), left_));
    for (std::size_t i = 0; i < n; ++i) { buf[i] = static_cast<char>('a' + (pos_ + i) % 26); }
    pos_ += n;
    left_ -= n;
    co_return n;
  }
  std::optional<std::uint64_t> size() const override { return total_; }

 private:
  std::uint64_t left_;
  std::uint64_t total_;
  std::uint64_t pos_ = 0;
};

// Reads the whole body, discarding it; answers its size and SHA-256.
boost::asio::awaitable<http::Response> handle_put_sink(http::RequestContext& ctx) {
  crypto::Hasher sha(crypto::Digest::sha256);
  std::vector<char> buf(256 * 1024);
  std::uint64_t total = 0;
  for (;;) {
    auto n = co_await ctx.body().read(std::span<char>(buf.data(), buf.size()));
    if (!n) {
      co_return http::json_error(n.error().code == Errc::too_large ? http::Status::payload_too_large : http::Status::bad_request,
                                 n.error().message, ctx.request());
    }
    if (*n == 0) { break; }
    sha.update(std::string_view(buf.data(), *n));
    total += *n;
  }
  co_return http::Response(http::Status::ok,
                           "{\"bytes\": " + std::to_string(total) + ", \"sha256\": \"" + crypto::hex(sha.finish()) + "\"}",
                           "application/json");
}

}  // namespace

void add_diagnostic_routes(http::Router& router) {
  http::RouteOptions unlimited;
  unlimited.max_body_bytes = http::kUnlimitedBody;
  router.add(http::Method::put, "/_ciel/diag/sink", handle_put_sink, unlimited);
  // The same sink under the default body limit (http::kDefaultMaxBody), to observe 413s.
  router.add(http::Method::put, "/_ciel/diag/small", handle_put_sink);
  router.add(http::Method::get, "/_ciel/diag/source", [](http::RequestContext& ctx) -> boost::asio::awaitable<http::Response> {
    std::uint64_t n = 0;
    auto q = ctx.request().query_param("bytes");
    if (!q || std::from_chars(q->data(), q->data() + q->size(), n).ec != std::errc{}) {
      co_return http::json_error(http::Status::bad_request, "bytes=N is required", ctx.request());
    }
    bool with_length = ctx.request().query_param("length") == "1";
    http::Response res(http::Status::ok);
    res.set_header("Content-Type", "application/octet-stream");
    res.set_stream(std::make_unique<PatternSource>(n), with_length ? std::optional<std::uint64_t>(n) : std::nullopt);
    co_return res;
  });
}

}  // namespace ciel::cli
