#include "cli/blob_stores.h"

#include <chrono>
#include <mutex>

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
    auto connected = store::connect_rados(config);
    if (!connected) { return connected.error(); }
    cluster = *connected;
  }
  return store::open_rados_blob_store(cluster, rados_namespace);
}

}  // namespace ciel::cli
