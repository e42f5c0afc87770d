#include "core/http/server.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <sys/socket.h>

#include <boost/asio/executor_work_guard.hpp>
#include <cerrno>
#include <thread>

#include "core/http/connection.h"
#include "core/log/log.h"

namespace ciel::http {

namespace asio = boost::asio;
using asio::ip::tcp;

// One io_context per I/O thread, each run by exactly one thread, and one SO_REUSEPORT acceptor
// per listener per context: the kernel spreads connections over the threads and a connection
// never changes threads, so there are no cross-thread wake-ups and no strands on the hot path.
// Context 0 also runs signals, timers and background tasks.
struct Server::Impl {
  ServerConfig config;
  std::vector<std::unique_ptr<asio::io_context>> contexts;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
  asio::io_context& io;
  std::vector<BoundListener> bound;
  struct Listener {
    ListenerConfig config;
    std::vector<std::unique_ptr<tcp::acceptor>> acceptors;  // one per context
    std::unique_ptr<asio::ssl::context> tls;
  };
  std::vector<Listener> listeners;
  std::shared_ptr<detail::ConnectionTracker> tracker = std::make_shared<detail::ConnectionTracker>();
  std::function<void()> ready;
  std::unique_ptr<asio::signal_set> signals;
  std::unique_ptr<asio::steady_timer> drain_timer;
  std::atomic<bool> stopped{false};

  static unsigned thread_count(const ServerConfig& c) {
    return c.threads != 0 ? c.threads : std::max(1u, std::thread::hardware_concurrency());
  }
  static std::vector<std::unique_ptr<asio::io_context>> make_contexts(unsigned n) {
    std::vector<std::unique_ptr<asio::io_context>> v;
    for (unsigned i = 0; i < n; ++i) { v.push_back(std::make_unique<asio::io_context>(1)); }
    return v;
  }
  explicit Impl(ServerConfig c) : config(std::move(c)), contexts(make_contexts(thread_count(config))), io(*contexts[0]) {
    for (auto& ctx : contexts) { guards.push_back(asio::make_work_guard(*ctx)); }
  }

  asio::awaitable<void> accept_loop(Listener& l, tcp::acceptor& acceptor) {
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
      if (ec) {
        if (ec == asio::error::operation_aborted || !acceptor.is_open()) { co_return; }
        // EMFILE and friends: back off briefly instead of spinning.
        log::warn("accept on {} failed: {}", l.config.name, ec.message());
        asio::steady_timer t(acceptor.get_executor(), std::chrono::milliseconds(50));
        co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
        continue;
      }
      if (tracker->draining) { continue; }
      if (static_cast<std::uint64_t>(tracker->open.load()) >= config.limits.max_connections) {
        continue;  // the socket closes as it goes out of scope
      }
      auto ex = socket.get_executor();
      if (l.tls) {
        asio::co_spawn(ex, detail::serve_tls(std::move(socket), *l.tls, *l.config.router, config.limits, tracker), asio::detached);
      } else {
        asio::co_spawn(ex, detail::serve_plain(std::move(socket), *l.config.router, config.limits, tracker), asio::detached);
      }
    }
  }

  void begin_drain() {
    if (tracker->draining.exchange(true)) { return; }
    log::info("draining: no new connections; in-flight requests have {} ms", config.limits.drain_timeout.count());
    for (auto& l : listeners) {
      for (auto& a : l.acceptors) {
        asio::post(a->get_executor(), [&a] {
          boost::system::error_code ignored;
          a->close(ignored);
        });
      }
    }
    std::map<std::uint64_t, std::function<void()>> idle;
    {
      std::lock_guard lock(tracker->mu);
      tracker->on_all_closed = [this] { asio::post(io, [this] { finish(); }); };
      idle = tracker->idle_closers;
    }
    for (auto& [id, close] : idle) { close(); }
    if (tracker->open == 0) {
      finish();
      return;
    }
    drain_timer = std::make_unique<asio::steady_timer>(io, config.limits.drain_timeout);
    drain_timer->async_wait([this](boost::system::error_code ec) {
      if (!ec) {
        log::warn("drain deadline reached with {} connections open", tracker->open.load());
        finish();
      }
    });
  }

  void finish() {
    if (stopped.exchange(true)) { return; }
    if (signals) {
      boost::system::error_code ignored;
      signals->cancel(ignored);
    }
    guards.clear();
    for (auto& ctx : contexts) { ctx->stop(); }
  }
};

Server::Server(ServerConfig config) : impl_(std::make_unique<Impl>(std::move(config))) {}
Server::~Server() = default;

ciel::Status Server::start() {
  for (const auto& lc : impl_->config.listeners) {
    Impl::Listener l{lc, {}, nullptr};
    boost::system::error_code ec;
    auto addr = asio::ip::make_address(lc.host, ec);
    if (ec) { return make_error(Errc::invalid_argument, "invalid listen address " + lc.host + " for " + lc.name); }
    tcp::endpoint ep(addr, lc.port);
    if (lc.port != 0) {
      // SO_REUSEPORT would let a second server on the same port silently share its traffic; a
      // plain bind first makes "address in use" an error, as an operator expects.
      tcp::acceptor probe(impl_->io);
      probe.open(ep.protocol(), ec);
      if (!ec) { probe.set_option(tcp::acceptor::reuse_address(true), ec); }
      if (!ec) { probe.bind(ep, ec); }
      if (ec) {
        return make_error(Errc::unavailable, "cannot listen on " + lc.host + ":" + std::to_string(lc.port) + " (" + lc.name + "): " + ec.message());
      }
    }
    for (auto& ctx : impl_->contexts) {
      auto acceptor = std::make_unique<tcp::acceptor>(*ctx);
      acceptor->open(ep.protocol(), ec);
      if (!ec) { acceptor->set_option(tcp::acceptor::reuse_address(true), ec); }
      if (!ec) {
        int one = 1;
        if (::setsockopt(acceptor->native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
          ec = boost::system::error_code(errno, boost::system::system_category());
        }
      }
      if (!ec) { acceptor->bind(ep, ec); }
      if (!ec) { acceptor->listen(asio::socket_base::max_listen_connections, ec); }
      if (ec) {
        return make_error(Errc::unavailable,
                          "cannot listen on " + lc.host + ":" + std::to_string(ep.port()) + " (" + lc.name + "): " + ec.message());
      }
      // Port 0: the first acceptor picks the port and the others join it.
      ep.port(acceptor->local_endpoint().port());
      l.acceptors.push_back(std::move(acceptor));
    }
    if (!lc.tls_cert_file.empty()) {
      l.tls = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
      l.tls->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 | asio::ssl::context::no_sslv3 |
                         asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1);
      l.tls->use_certificate_chain_file(lc.tls_cert_file, ec);
      if (!ec) { l.tls->use_private_key_file(lc.tls_key_file, asio::ssl::context::pem, ec); }
      if (ec) { return make_error(Errc::invalid_argument, "cannot load TLS certificate or key for " + lc.name + ": " + ec.message()); }
    }
    impl_->bound.push_back(BoundListener{lc.name, lc.host, ep.port(), l.tls != nullptr});
    impl_->listeners.push_back(std::move(l));
  }
  return {};
}

const std::vector<BoundListener>& Server::bound() const { return impl_->bound; }
void Server::on_ready(std::function<void()> fn) { impl_->ready = std::move(fn); }

void Server::run() {
  Impl& s = *impl_;
  for (auto& l : s.listeners) {
    for (auto& a : l.acceptors) { asio::co_spawn(a->get_executor(), s.accept_loop(l, *a), asio::detached); }
  }
  if (s.config.handle_signals) {
    s.signals = std::make_unique<asio::signal_set>(s.io, SIGTERM, SIGINT);
    s.signals->async_wait([&s](boost::system::error_code ec, int sig) {
      if (!ec) {
        log::info("received signal {}", sig);
        s.begin_drain();
      }
    });
  }
  if (s.ready) { asio::post(s.io, s.ready); }
  std::vector<std::thread> threads;
  for (std::size_t i = 1; i < s.contexts.size(); ++i) {
    threads.emplace_back([&s, i] { s.contexts[i]->run(); });
  }
  s.io.run();
  for (auto& t : threads) { t.join(); }
}

void Server::drain() {
  asio::post(impl_->io, [this] { impl_->begin_drain(); });
}

void Server::stop() {
  asio::post(impl_->io, [this] { impl_->finish(); });
}

void Server::spawn(std::function<asio::awaitable<void>()> task) {
  asio::co_spawn(impl_->io, [task = std::move(task)]() -> asio::awaitable<void> { co_await task(); }, asio::detached);
}

}  // namespace ciel::http
