// cli/blob_stores.h: the blob stores `ciel serve` and `ciel scrub` open, as the settings choose
// (store.blob_backend): local files, or a Ceph RADOS pool shared by every node of a deployment.
#pragma once
#include <memory>
#include <string>

#include "core/config/settings.h"
#include "core/result.h"
#include "store/blob_store.h"

namespace ciel::cli {

void declare_blob_store_settings(config::Settings& settings);

// The blob store of one engine: local files under `local_root`, or namespace `rados_namespace` of
// the pool store.rados.pool. All RADOS stores of the process share one cluster connection.
// Errc::invalid_argument for a bad setting; Errc::unavailable when the directory or the cluster
// cannot be used (the message says why).
Result<std::unique_ptr<store::BlobStore>> open_blob_store(const config::Settings& settings, const std::string& local_root,
                                                          const std::string& rados_namespace, bool fsync);

}  // namespace ciel::cli
