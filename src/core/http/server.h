// core/http/server.h: the HTTP/1.1 server. Owns the io_context (one thread per core), the
// listeners (plain or TLS), every connection, and the graceful drain on SIGTERM/SIGINT.
// Beast and Asio stay behind this pimpl; handlers only see request.h/response.h.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/http/router.h"
#include "core/result.h"

namespace ciel::http {

struct ListenerConfig {
  std::string name;       // "public", "s3", ...
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;  // 0 picks a free port; bound() reports it
  std::string tls_cert_file;  // PEM chain; TLS when set
  std::string tls_key_file;
  const Router* router = nullptr;
};

struct ServerLimits {
  std::uint64_t max_header_bytes = 64 * 1024;                  // 431 beyond
  std::chrono::milliseconds header_timeout{10'000};            // whole request head, from its first byte (slowloris)
  std::chrono::milliseconds idle_timeout{60'000};              // keep-alive wait for the next request
  std::chrono::milliseconds body_timeout{60'000};              // longest wait for body progress or for the client to read
  std::chrono::milliseconds drain_timeout{30'000};             // SIGTERM: in-flight requests get this long
  std::uint64_t max_connections = 10'000;
};

struct ServerConfig {
  std::vector<ListenerConfig> listeners;
  ServerLimits limits;
  unsigned threads = 0;  // 0: one per core
  bool handle_signals = true;
};

struct BoundListener {
  std::string name;
  std::string host;
  std::uint16_t port = 0;
  bool tls = false;
};

class Server {
 public:
  explicit Server(ServerConfig config);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds every listener. Errc::unavailable when an address cannot be bound; Errc::invalid_argument
  // for an unreadable certificate or key.
  ciel::Status start();
  const std::vector<BoundListener>& bound() const;
  // Called once all listeners accept; used to write endpoints.json and print "ready".
  void on_ready(std::function<void()> fn);
  // Runs the I/O threads until the server has drained (or stop() is called). Blocks.
  void run();
  // Thread-safe: stop accepting, finish in-flight requests up to drain_timeout, then return from run().
  void drain();
  void stop();
  // Runs a background coroutine (reapers, timers) on the server's threads; cancelled on stop.
  void spawn(std::function<boost::asio::awaitable<void>()> task);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace ciel::http
