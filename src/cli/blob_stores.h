// cli/blob_stores.h: the blob stores `ciel serve` and `ciel scrub` open, as the settings choose
// (store.blob_backend): local files, or a Ceph RADOS pool shared by every node of a deployment.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/config/settings.h"
#include "core/result.h"
#include "store/blob_store.h"

namespace ciel::store {
class Lease;
}

namespace ciel::cli {

void declare_blob_store_settings(config::Settings& settings);

// The blob store of one engine: local files under `local_root`, or namespace `rados_namespace` of
// the pool store.rados.pool. All RADOS stores of the process share one cluster connection.
// Errc::invalid_argument for a bad setting; Errc::unavailable when the directory or the cluster
// cannot be used (the message says why).
Result<std::unique_ptr<store::BlobStore>> open_blob_store(const config::Settings& settings, const std::string& local_root,
                                                          const std::string& rados_namespace, bool fsync);

// A shared pool outlives every node: blobs a crashed node wrote but never named, or failed to
// remove after their row went, are found by a periodic sweep rather than at a start that may not
// come. Every `interval`, on the node holding `lease`, each sweep runs on the blocking pool.
struct OrphanSweep {
  std::string name;              // for the log: "object", "box"
  std::function<Status()> run;
};
boost::asio::awaitable<void> run_orphan_sweeps(std::vector<OrphanSweep> sweeps, std::chrono::milliseconds interval, store::Lease& lease);

}  // namespace ciel::cli
