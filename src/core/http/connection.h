// core/http/connection.h: private to core/http. One coroutine per connection runs the
// keep-alive loop; it is instantiated for plain TCP and for TLS in connection.cc.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "core/http/router.h"
#include "core/http/server.h"

namespace boost::asio::ssl {
class context;
}

namespace ciel::http::detail {

// Shared by the server and its connections: drain state and the registry of idle connections.
struct ConnectionTracker {
  std::atomic<bool> draining{false};
  std::atomic<std::int64_t> open{0};
  std::mutex mu;
  std::uint64_t next_id = 0;
  // Closes idle connections (and only those) when a drain starts.
  std::map<std::uint64_t, std::function<void()>> idle_closers;
  std::function<void()> on_all_closed;
};

boost::asio::awaitable<void> serve_plain(boost::asio::ip::tcp::socket socket, const Router& router, const ServerLimits& limits,
                                         std::shared_ptr<ConnectionTracker> tracker);
boost::asio::awaitable<void> serve_tls(boost::asio::ip::tcp::socket socket, boost::asio::ssl::context& tls, const Router& router,
                                       const ServerLimits& limits, std::shared_ptr<ConnectionTracker> tracker);

}  // namespace ciel::http::detail
