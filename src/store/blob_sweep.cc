#include <algorithm>

#include "store/blob_store.h"

namespace ciel::store {

Result<BlobSweep> sweep_blobs(BlobStore& blobs, const std::unordered_set<std::string>& named, bool remove) {
  BlobSweep out;
  std::unordered_set<std::string> present;
  // In a shared store, a young blob no row names may be another server's upload in progress:
  // it counts as present (so nothing named is "missing") but never as unreferenced.
  std::unordered_set<std::string> young;
  const bool shared = blobs.shared();
  const SystemTime cutoff = std::chrono::system_clock::now() - blobs.sweep_grace();
  auto walk = blobs.for_each_blob([&](const std::string& key, SystemTime mtime) {
    present.insert(key);
    if (shared && mtime > cutoff) { young.insert(key); }
  });
  if (!walk) { return walk.error(); }
  out.blobs = present.size();
  for (const auto& k : named) {
    if (!present.contains(k)) { out.missing.push_back(k); }
  }
  for (const auto& k : present) {
    if (named.contains(k) || young.contains(k)) { continue; }
    out.unreferenced.push_back(k);
    if (remove) {
      if (auto r = blobs.remove_sync(k); !r) { return r.error(); }
    }
  }
  std::sort(out.missing.begin(), out.missing.end());
  std::sort(out.unreferenced.begin(), out.unreferenced.end());
  return out;
}

}  // namespace ciel::store
