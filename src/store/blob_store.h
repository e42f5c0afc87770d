// store/blob_store.h: byte storage for objects, images and box files. Blobs are immutable and
// named by a key the caller draws with new_blob_key(); a blob becomes visible only once it is
// completely written and durable (temp file, fsync, rename, directory fsync), so a crash never
// leaves a partial blob under a real key. MD5 (for ETags, when asked) and a CRC-32C (for scrub)
// are computed while streaming. Thread-safe; blocking I/O runs on the blocking pool, never on I/O threads.
// Backends: local files (default) and Ceph RADOS (rados/blob_store.cc: blobs striped over RADOS
// objects, written with librados' asynchronous calls, shared by every node of a deployment).
#pragma once
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "core/bytes.h"
#include "core/crypto/crypto.h"
#include "core/result.h"
#include "core/time.h"

namespace ciel::store {

struct BlobInfo {
  std::uint64_t size = 0;
  std::string md5_hex;
  // What `ciel scrub` re-checks: "crc32c:<8 hex>" (blobs written since CRC-32C replaced SHA-256
  // there), or the 64 hex characters of an older blob's SHA-256.
  std::string checksum;
};

struct ScrubReport {
  std::uint64_t checked = 0;
  std::uint64_t bytes = 0;
  std::vector<std::string> corrupt;  // keys whose bytes no longer match their checksum
  std::vector<std::string> missing_checksum;
  std::uint64_t orphan_checksums_removed = 0;  // checksum files of blobs a crash never published
};

// How put() hashes. The object engine stores a large object as several blobs and needs one MD5
// over all of them: it turns the per-blob MD5 off and passes its own hasher, which is fed in the
// same pass over the bytes (so each byte is hashed once per digest).
struct BlobPutOptions {
  bool md5 = true;                 // compute BlobInfo::md5_hex
  crypto::Hasher* also = nullptr;  // fed with every byte, when set
  // Called once put() has read `source` to its end and fed every byte to the hashers, before it
  // makes the blob durable (the fsync, or the RADOS tails' acknowledgements and the head). From
  // then on put() touches neither, so a caller cutting one stream into several blobs can receive
  // the next one while this one drains. Not called when put() fails before.
  std::function<void()> source_done;
};

// How old an unnamed blob of a shared store must be before a sweep counts it as unreferenced,
// and how old an unfinished write's pieces must be before collect_temp_files() removes them
// (the default of store.rados.sweep_grace).
inline constexpr std::chrono::hours kSharedSweepGrace{24};

class BlobStore {
 public:
  virtual ~BlobStore() = default;
  // Streams `source` into a new blob. Errc::too_large past `max_size` (nothing is kept);
  // Errc::already_exists if `key` exists; Errc::unavailable on I/O failure; the source's own
  // error if it fails. On any error nothing is visible under `key`.
  virtual boost::asio::awaitable<Result<BlobInfo>> put(std::string key, ByteSource& source,
                                                       std::uint64_t max_size = UINT64_MAX, BlobPutOptions options = {}) = 0;
  // Errc::not_found if `key` is absent.
  virtual boost::asio::awaitable<Result<BlobInfo>> stat(std::string key) = 0;
  // A reader over [offset, offset+length). Errc::not_found; Errc::invalid_argument past the end.
  virtual boost::asio::awaitable<Result<std::unique_ptr<ByteSource>>> open(std::string key, std::uint64_t offset,
                                                                           std::uint64_t length) = 0;
  // Local backends hand out a read-only descriptor so plain-TCP responses can use sendfile;
  // others return an error and callers fall back to open(). (The RADOS store returns
  // Errc::unavailable: not_found would make a Swift GET look the object up again, as if its
  // blob had been replaced meanwhile.)
  virtual Result<int> open_fd(const std::string& key) { (void)key; return make_error(Errc::not_found, "no file descriptor"); }
  // Removing an absent key succeeds.
  virtual boost::asio::awaitable<Status> remove(std::string key) = 0;
  virtual Status remove_sync(const std::string& key) = 0;  // the same, blocking: startup and the CLI
  // Re-reads every blob and compares with the checksum recorded at write time.
  virtual Result<ScrubReport> scrub(const std::function<void(std::string_view key)>& progress) = 0;
  // Calls `fn` with every blob's key and modification time (for orphan sweeps).
  virtual Status for_each_blob(const std::function<void(const std::string& key, SystemTime mtime)>& fn) = 0;
  // Deletes temp files older than `age` left by writes that never completed (crash, kill -9).
  virtual Result<std::uint64_t> collect_temp_files(std::chrono::seconds age) = 0;
  // True when other servers write into the same store (RADOS): a blob no row names yet may be
  // one they are uploading right now, so sweeps leave blobs younger than sweep_grace() alone.
  virtual bool shared() const { return false; }
  virtual std::chrono::seconds sweep_grace() const { return kSharedSweepGrace; }
};


struct LocalFsConfig {
  std::string root;  // blobs under ROOT/ab/cd/<key>, temp files under ROOT/tmp
  bool fsync = true; // false only for throwaway test stores
  // Large blobs written with O_DIRECT skip a copy into the page cache (uploads use less CPU), but
  // a download right after then reads the disk: off by default, so hot objects come from memory.
  bool direct_io = false;
};

Result<std::unique_ptr<BlobStore>> open_localfs_blob_store(const LocalFsConfig& config);

// A connection to a Ceph cluster (librados): one per process, shared by the stores over it
// (each in a RADOS namespace of its own in the same pool).
struct RadosConfig {
  std::string conf;                          // ceph.conf; empty: $CEPH_CONF, then /etc/ceph/ceph.conf
  std::string user = "admin";                // client id (the cephx user client.<user>)
  std::string keyring;                       // empty: the `keyring` option of ceph.conf
  std::string pool = "ciel";                 // must exist
  std::uint64_t stripe_size = 4 << 20;       // bytes per RADOS object of a blob (radosgw's 4 MiB)
  std::chrono::seconds connect_timeout{10};  // an unreachable cluster fails startup after this
  std::chrono::seconds op_timeout{30};       // a RADOS operation not done by then fails (Errc::unavailable)
  std::chrono::seconds sweep_grace = kSharedSweepGrace;  // store.rados.sweep_grace
};
class RadosCluster;
// Errc::invalid_argument for a bad setting; Errc::unavailable when the cluster, the user or the
// pool cannot be reached (the message says which and why).
Result<std::shared_ptr<RadosCluster>> connect_rados(const RadosConfig& config);
// A blob store in namespace `ns` of the cluster's pool. A blob is a head object `<key>` holding
// the first stripe and the manifest (size, stripe size, MD5, CRC-32C), and tail objects
// `<key>.<n>`; the tails are written first and the head last, so only finished blobs are listed.
std::unique_ptr<BlobStore> open_rados_blob_store(std::shared_ptr<RadosCluster> cluster, std::string ns);

// 32 hex characters from the CSPRNG.
std::string new_blob_key();

// The blobs present against the keys the metadata names (`named`): keys with no blob (`missing`)
// and blobs no key names (`unreferenced`, removed when `remove`), both sorted. Every module that
// keeps blobs checks itself with this (`ciel scrub`, orphan collection at startup).
struct BlobSweep {
  std::uint64_t blobs = 0;  // present
  std::vector<std::string> missing;
  std::vector<std::string> unreferenced;
};
Result<BlobSweep> sweep_blobs(BlobStore& blobs, const std::unordered_set<std::string>& named, bool remove);

}  // namespace ciel::store
