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

// One io_context per I/O thread, each run by exactly one thread. Each listener's acceptor runs on
// context 0 and hands connections to the contexts in turn, so load spreads evenly (the kernel's
// SO_REUSEPORT hashing left one thread at 70% and the other at 30% with 64 connections), and a
// connection never changes threads afterwards: no cross-thread wake-ups, no strands on the hot
// path. Context 0 also runs signals, timers and background tasks.
struct Server::Impl {
  ServerConfig config;
  std::vector<std::unique_ptr<asio::io_context>> contexts;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
  asio::io_context& io;
  std::vector<BoundListener> bound;
  struct Listener {
    ListenerConfig config;
    std::unique_ptr<tcp::acceptor> acceptor;  // on context 0
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

  std::size_t next_context = 0;

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
      asio::io_context& target = *contexts[next_context++ % contexts.size()];
      boost::system::error_code move_ec;
      auto protocol = socket.local_endpoint(move_ec).protocol();
      if (move_ec) { continue; }
      tcp::socket moved(target, protocol, socket.release());
      if (l.tls) {
        asio::co_spawn(target, detail::serve_tls(std::move(moved), *l.tls, *l.config.router, config.limits, tracker), asio::detached);
      } else {
        asio::co_spawn(target, detail::serve_plain(std::move(moved), *l.config.router, config.limits, tracker), asio::detached);
      }
    }
  }

  void begin_drain() {
    if (tracker->draining.exchange(true)) { return; }
    log::info("draining: no new connections; in-flight requests have {} ms", config.limits.drain_timeout.count());
    for (auto& l : listeners) {
      boost::system::error_code ignored;
      l.acceptor->close(ignored);
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
    Impl::Listener l{lc, nullptr, nullptr};
    boost::system::error_code ec;
    auto addr = asio::ip::make_address(lc.host, ec);
    if (ec) { return make_error(Errc::invalid_argument, "invalid listen address " + lc.host + " for " + lc.name); }
    tcp::endpoint ep(addr, lc.port);
    l.acceptor = std::make_unique<tcp::acceptor>(impl_->io);
    l.acceptor->open(ep.protocol(), ec);
    if (!ec) { l.acceptor->set_option(tcp::acceptor::reuse_address(true), ec); }
    if (!ec) { l.acceptor->bind(ep, ec); }
    if (!ec) { l.acceptor->listen(asio::socket_base::max_listen_connections, ec); }
    if (ec) {
      return make_error(Errc::unavailable, "cannot listen on " + lc.host + ":" + std::to_string(lc.port) + " (" + lc.name + "): " + ec.message());
    }
    ep.port(l.acceptor->local_endpoint().port());
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
    asio::co_spawn(s.io, s.accept_loop(l, *l.acceptor), asio::detached);
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
