#include "cli/blob_stores.h"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <mutex>

#include "core/blocking.h"
#include "core/log/log.h"
#include "store/lease.h"

namespace ciel::cli {

void declare_blob_store_settings(config::Settings& s) {
  using config::Kind;
  s.declare({"store.blob_backend", Kind::string, "localfs",
             "Where object, box and image bytes live: localfs (store.blob_root, store.box_blob_root, store.image_blob_root) or rados "
             "(a Ceph pool, store.rados.*, namespaces objects, box and images)."});
  s.declare({"store.rados.conf", Kind::string, "", "ceph.conf of the cluster; empty: $CEPH_CONF, then /etc/ceph/ceph.conf."});
  s.declare({"store.rados.user", Kind::string, "admin", "Ceph client id: Ciel authenticates as client.<user>."});
  s.declare({"store.rados.keyring", Kind::string, "", "Keyring holding client.<user>'s key; empty: the keyring named in ceph.conf."});
  s.declare({"store.rados.pool", Kind::string, "ciel", "RADOS pool for blobs (created beforehand); objects, box files and images use namespaces objects, box and images."});
  s.declare({"store.rados.stripe_size", Kind::bytes, "4MiB", "Bytes per RADOS object of a blob (64KiB to 64MiB); read from each blob's manifest, so it may change."});
  s.declare({"store.rados.connect_timeout", Kind::duration, "10s", "ciel stops with an error when no monitor answers within this at start."});
  s.declare({"store.rados.op_timeout", Kind::duration, "30s", "A RADOS operation not done by then fails the request (503) instead of hanging."});
  s.declare({"store.rados.sweep_grace", Kind::duration, "24h",
             "A blob of the shared pool that no object or file names is an orphan once older than this (younger, it may be an upload in progress on another node)."});
  s.declare({"store.sweep_interval", Kind::duration, "6h",
             "How often the node holding the store.orphan_sweep lease removes orphaned blobs from a shared (RADOS) pool; local stores are swept at each start. 0 disables."});
}

Result<std::unique_ptr<store::BlobStore>> open_blob_store(const config::Settings& settings, const std::string& local_root,
                                                          const std::string& rados_namespace, bool fsync) {
  std::string backend = settings.get_string("store.blob_backend");
  if (backend == "localfs") { return store::open_localfs_blob_store({local_root, fsync}); }
  if (backend != "rados") {
    return make_error(Errc::invalid_argument, "invalid setting store.blob_backend = \"" + backend + "\": expected localfs or rados");
  }
  static std::mutex mu;
  static std::shared_ptr<store::RadosCluster> cluster;  // one connection per process
  std::lock_guard lock(mu);
  if (!cluster) {
    store::RadosConfig config;
    config.conf = settings.get_string("store.rados.conf");
    config.user = settings.get_string("store.rados.user");
    config.keyring = settings.get_string("store.rados.keyring");
    config.pool = settings.get_string("store.rados.pool");
    config.stripe_size = settings.get_bytes("store.rados.stripe_size");
    using std::chrono::duration_cast;
    using std::chrono::seconds;
    config.connect_timeout = std::max(seconds(1), duration_cast<seconds>(settings.get_duration("store.rados.connect_timeout")));
    config.op_timeout = std::max(seconds(1), duration_cast<seconds>(settings.get_duration("store.rados.op_timeout")));
    config.sweep_grace = std::max(seconds(1), duration_cast<seconds>(settings.get_duration("store.rados.sweep_grace")));
    auto connected = store::connect_rados(config);
    if (!connected) { return connected.error(); }
    cluster = *connected;
  }
  return store::open_rados_blob_store(cluster, rados_namespace);
}

boost::asio::awaitable<void> run_orphan_sweeps(std::vector<OrphanSweep> sweeps, std::chrono::milliseconds interval, store::Lease& lease) {
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
  for (;;) {
    timer.expires_after(interval);
    co_await timer.async_wait(boost::asio::use_awaitable);
    if (!co_await lease.hold()) { continue; }
    for (const auto& sweep : sweeps) {
      auto st = co_await run_blocking([&] { return sweep.run(); });
      if (!st) { log::warn("{}: orphan sweep failed: {} {}", sweep.name, st.error().message, st.error().detail); }
    }
  }
}

}  // namespace ciel::cli
