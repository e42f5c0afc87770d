// RADOS BlobStore: a blob is striped over RADOS objects of the stripe size (4 MiB by default, as
// radosgw does), in the store's namespace of the pool:
//   <key>      the head: the first stripe of the bytes, and the manifest in the xattr `ciel.blob`
//              ("1 <size> <stripe size> <md5 hex or -> <crc32c:8 hex>", what `ciel scrub` checks)
//   <key>.<n>  tail n (n >= 1): bytes [n * stripe, (n + 1) * stripe)
// A put receives into 1 MiB segments, reused once RADOS has let go of them (SegmentPool), writes
// the tails first (up to kWriteWindow stripes in flight), waits until RADOS has
// acknowledged every one (after replication and commit), then creates the head exclusively with
// its stripe and manifest in one atomic operation: a blob is listed, and readable, only once it is
// whole. A put that fails removes the tails it wrote; tails a crash leaves behind (no head) are
// removed by collect_temp_files() once older than the age it is given.
//
// Threads: the asynchronous calls complete on librados' finisher thread, which only records the
// result and posts the waiting coroutine back to its own executor; hashing of large stripes runs
// on the blocking pool. The synchronous methods (remove_sync, scrub, for_each_blob,
// collect_temp_files) block, as the interface allows (startup and the CLI).
#include <rados/librados.hpp>

#include <algorithm>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>

#include "core/blocking.h"
#include "core/crypto/crypto.h"
#include "store/blob_keys.h"
#include "store/blob_store.h"

namespace ciel::store {

namespace {
constexpr std::size_t kSegment = 1 << 20;          // a stripe is received in buffers of this size
constexpr std::size_t kSpareSegments = 64;         // receive buffers kept for reuse, per connection
}  // namespace

// The receive buffers of puts, shared by every store of one connection. A write hands its
// segments to librados, which holds references until the OSD has answered; a segment that only
// the pool references again (raw_nref() == 1: the count is atomic and cannot rise again once
// nothing else holds the buffer) is free to fill. Without reuse every segment is fresh memory that
// the kernel faults in and zeroes page by page (262,144 page faults a GiB), and that glibc
// hands back once the write is done. At most
// kSpareSegments (64 MiB) stay allocated: about 2.5 large uploads' windows at 4 MiB stripes.
// Ceph caches a buffer's CRC-32C by offset and length, so put() invalidates it after a refill.
class SegmentPool {
 public:
  // A buffer of `cap` bytes, of length `cap`, that nothing else references.
  ceph::bufferptr get(unsigned cap);

 private:
  std::mutex mu_;
  std::vector<ceph::bufferptr> spare_;
  std::size_t next_ = 0;  // where the next search starts (round robin)
};

ceph::bufferptr SegmentPool::get(unsigned cap) {
  std::lock_guard lock(mu_);
  if (cap == kSegment) {
    for (std::size_t i = 0; i < spare_.size(); ++i) {
      auto& seg = spare_[(next_ + i) % spare_.size()];
      if (seg.raw_nref() == 1) {
        next_ = (next_ + i + 1) % spare_.size();
        return seg;  // the second reference: the stripe's, until its write is done
      }
    }
  }
  ceph::bufferptr seg(cap);
  if (cap == kSegment && spare_.size() < kSpareSegments) { spare_.push_back(seg); }
  return seg;
}

class RadosCluster {
 public:
  RadosCluster() = default;
  RadosCluster(const RadosCluster&) = delete;
  RadosCluster& operator=(const RadosCluster&) = delete;
  ~RadosCluster() {
    pool_.close();
    if (connected_) { rados_.shutdown(); }
  }

  librados::Rados rados_;
  librados::IoCtx pool_;
  RadosConfig config_;
  bool connected_ = false;
  SegmentPool segments_;
};

namespace {

constexpr const char* kManifestXattr = "ciel.blob";
constexpr std::size_t kInlineHash = 64 * 1024;     // smaller stripes are hashed without a pool hop
constexpr std::size_t kWriteWindow = 4;            // tails in flight per put (16 MiB at 4 MiB)
constexpr std::size_t kReadWindow = 4;             // reads in flight per reader (16 MiB at 4 MiB, as radosgw)
constexpr std::uint64_t kMaxReadChunk = 4 << 20;   // largest single RADOS read
constexpr std::uint64_t kPeek = 64 * 1024;         // bytes open() reads with the manifest
constexpr std::size_t kRemoveWindow = 32;
constexpr std::size_t kStatWindow = 128;

Error rados_error(std::string_view what, const std::string& oid, int r) {
  return make_error(Errc::unavailable, "storage I/O failure", "rados " + std::string(what) + " " + oid + ": " + std::strerror(-r));
}

bool valid_key(std::string_view key) { return valid_blob_key(key); }

std::string tail_name(const std::string& key, std::uint64_t n) { return key + "." + std::to_string(n); }

std::string crc_text(std::uint32_t crc) { return crc32c_checksum(crc); }

struct Manifest {
  std::uint64_t size = 0;
  std::uint64_t stripe = 0;
  std::string md5_hex;
  std::string checksum;

  std::uint64_t stripes() const { return size == 0 ? 1 : (size + stripe - 1) / stripe; }
  std::string encode() const {
    return "1 " + std::to_string(size) + " " + std::to_string(stripe) + " " + (md5_hex.empty() ? "-" : md5_hex) + " " + checksum;
  }
  static std::optional<Manifest> decode(const std::string& text) {
    std::istringstream in(text);
    int version = 0;
    Manifest m;
    if (!(in >> version >> m.size >> m.stripe >> m.md5_hex >> m.checksum) || version != 1 || m.stripe == 0) { return std::nullopt; }
    return m;
  }
  BlobInfo info() const { return BlobInfo{size, md5_hex, checksum}; }
};

// One asynchronous RADOS call. The state is shared by the caller and the completion callback
// (which holds a reference until it has run), so a caller that gives up early never leaves the
// callback writing into freed memory.
struct AioState {
  std::mutex mu;
  bool done = false;
  int result = 0;
  std::function<void(int)> waiter;
  librados::AioCompletion* completion = nullptr;
  librados::bufferlist out;  // what a read or getxattr returns
  std::uint64_t size = 0;    // what a stat returns
  std::time_t mtime = 0;
  int op_result = 0;         // a read operation's step
  librados::bufferlist peek;  // open(): the first bytes, read in the manifest's operation
  int peek_result = 0;
};
using Aio = std::shared_ptr<AioState>;

void on_complete(librados::completion_t, void* arg) {
  auto* ref = static_cast<Aio*>(arg);
  Aio state = std::move(*ref);
  delete ref;
  int r = state->completion->get_return_value();
  state->completion->release();  // librados keeps its own reference while this callback runs
  std::function<void(int)> waiter;
  {
    std::lock_guard lock(state->mu);
    state->done = true;
    state->result = r;
    waiter = std::move(state->waiter);
  }
  if (waiter) { waiter(r); }
}

// Starts a call: `submit(completion, state)` issues it and returns 0 or -errno.
template <class Submit>
Aio start(Submit&& submit) {
  auto state = std::make_shared<AioState>();
  auto* ref = new Aio(state);
  state->completion = librados::Rados::aio_create_completion(ref, &on_complete);
  int r = submit(state->completion, *state);
  if (r < 0) {
    state->completion->release();
    delete ref;
    state->done = true;
    state->result = r;
  }
  return state;
}

// Resumes on the caller's executor with the call's result (bytes for reads, 0 or -errno). Not a
// coroutine itself: Asio's own awaitable operation holds the state until the result arrives.
struct AioInitiation {
  Aio state;
  template <class Handler>
  void operator()(Handler handler) const {
    auto shared = std::make_shared<Handler>(std::move(handler));
    auto resume = [shared](int r) {
      auto ex = boost::asio::get_associated_executor(*shared);
      boost::asio::post(ex, [shared, r]() mutable { std::move(*shared)(r); });
    };
    std::unique_lock lock(state->mu);
    if (state->done) {
      int r = state->result;
      lock.unlock();
      resume(r);
      return;
    }
    state->waiter = std::move(resume);
  }
};
boost::asio::awaitable<int> wait(const Aio& state) {
  return boost::asio::async_initiate<const boost::asio::use_awaitable_t<>&, void(int)>(AioInitiation{state}, boost::asio::use_awaitable);
}

// Reads [offset, offset + length) of a blob, stripe by stripe, with up to kReadWindow reads in
// flight ahead of the consumer.
class RadosReader final : public ByteSource {
 public:
  // `first` holds the bytes from `offset` on that open() has read already (none, or the whole
  // first read).
  RadosReader(librados::IoCtx io, std::string key, Manifest m, std::uint64_t offset, std::uint64_t length, librados::bufferlist first)
      : io_(std::move(io)), key_(std::move(key)), m_(std::move(m)), next_(offset + first.length()), end_(offset + length), total_(length),
        cur_(std::move(first)) {}

  boost::asio::awaitable<Result<std::size_t>> read(std::span<char> buf) override {
    if (buf.empty()) { co_return std::size_t{0}; }
    if (cur_off_ == cur_.length()) {
      auto more = co_await advance();
      if (!more) { co_return more.error(); }
      if (!*more) { co_return std::size_t{0}; }
    }
    auto n = static_cast<unsigned>(std::min<std::uint64_t>(buf.size(), cur_.length() - cur_off_));
    cur_.begin(cur_off_).copy(n, buf.data());
    cur_off_ += n;
    co_return static_cast<std::size_t>(n);
  }
  // The bytes go out from the buffers librados filled, as radosgw sends them: no copy.
  bool has_views() const override { return true; }
  boost::asio::awaitable<Result<std::span<const char>>> next_view(std::size_t max) override {
    if (max == 0) { co_return std::span<const char>{}; }
    if (cur_off_ == cur_.length()) {
      auto more = co_await advance();
      if (!more) { co_return more.error(); }
      if (!*more) { co_return std::span<const char>{}; }
    }
    const char* p = nullptr;
    auto it = cur_.begin(cur_off_);
    std::size_t n = it.get_ptr_and_advance(std::min<std::size_t>(max, cur_.length() - cur_off_), &p);
    cur_off_ += static_cast<unsigned>(n);
    co_return std::span<const char>(p, n);
  }
  std::optional<std::uint64_t> size() const override { return total_; }
  // The next blob of a large object starts reading while the one before ends (ConcatSource).
  void prefetch() override { top_up(); }

 private:
  // Makes the oldest read in flight current; false at the end of the range.
  boost::asio::awaitable<Result<bool>> advance() {
    top_up();
    if (pending_.empty()) { co_return false; }
    current_ = std::move(pending_.front());
    pending_.pop_front();
    int r = co_await wait(current_.aio);
    if (r < 0) { co_return rados_error("read", current_.oid, r); }
    if (static_cast<std::uint64_t>(r) != current_.want) {
      co_return make_error(Errc::unavailable, "storage read failure",
                           "rados read " + current_.oid + ": short read (a stripe is missing or truncated)");
    }
    cur_ = std::move(current_.aio->out);
    current_.aio.reset();
    cur_off_ = 0;
    top_up();
    co_return true;
  }

  void top_up() {
    while (pending_.size() < kReadWindow && next_ < end_) {
      std::uint64_t stripe = next_ / m_.stripe;
      std::uint64_t within = next_ % m_.stripe;
      std::uint64_t want = std::min({m_.stripe - within, end_ - next_, kMaxReadChunk});
      std::string oid = stripe == 0 ? key_ : tail_name(key_, stripe);
      auto aio = start([&](librados::AioCompletion* c, AioState& s) {
        return io_.aio_read(oid, c, &s.out, static_cast<std::size_t>(want), within);
      });
      pending_.push_back({std::move(aio), std::move(oid), want});
      next_ += want;
    }
  }

  struct Pending {
    Aio aio;
    std::string oid;
    std::uint64_t want = 0;
  };
  librados::IoCtx io_;
  std::string key_;
  Manifest m_;
  std::uint64_t next_;
  std::uint64_t end_;
  std::uint64_t total_;
  std::deque<Pending> pending_;
  Pending current_;
  librados::bufferlist cur_;
  unsigned cur_off_ = 0;
};

class RadosBlobStore final : public BlobStore {
 public:
  RadosBlobStore(std::shared_ptr<RadosCluster> cluster, std::string ns) : cluster_(std::move(cluster)), ns_(std::move(ns)) {
    io_.dup(cluster_->pool_);
    io_.set_namespace(ns_);
    stripe_ = cluster_->config_.stripe_size;
  }

  bool shared() const override { return true; }
  std::chrono::seconds sweep_grace() const override { return cluster_->config_.sweep_grace; }

  boost::asio::awaitable<Result<BlobInfo>> put(std::string key, ByteSource& source, std::uint64_t max_size,
                                               BlobPutOptions options) override {
    if (!valid_key(key)) { co_return make_error(Errc::invalid_argument, "invalid blob key"); }
    const std::uint64_t stripe = stripe_;
    const std::optional<std::uint64_t> known = source.size();
    crypto::Hasher md5(crypto::Digest::md5);
    std::uint32_t crc = 0;
    auto hash = [&](const librados::bufferlist& bl) {
      for (const auto& p : bl.buffers()) {
        std::string_view data(p.c_str(), p.length());
        if (options.md5) { md5.update(data); }
        if (options.also != nullptr) { options.also->update(data); }
        crc = crypto::crc32c(crc, data);
      }
    };

    librados::bufferlist head;
    std::deque<Aio> inflight;
    std::uint64_t tails = 0;  // tails 1..tails were submitted
    std::uint64_t total = 0;
    std::optional<Error> failure;
    bool eof = false;
    for (std::uint64_t n = 0; !eof; ++n) {
      // Receive one stripe, in segments of at most kSegment (a small body gets a small buffer).
      librados::bufferlist bl;
      std::uint64_t filled = 0;
      while (filled < stripe) {
        std::uint64_t cap = std::min<std::uint64_t>(kSegment, stripe - filled);
        if (known) { cap = std::min<std::uint64_t>(cap, std::max<std::uint64_t>(*known > total + filled ? *known - total - filled : 0, 1)); }
        ceph::bufferptr seg = cluster_->segments_.get(static_cast<unsigned>(cap));
        std::size_t got = 0;
        while (got < cap) {
          auto r = co_await source.read(std::span<char>(seg.c_str() + got, static_cast<std::size_t>(cap - got)));
          if (!r) {
            failure = r.error();
            break;
          }
          if (*r == 0) {
            eof = true;
            break;
          }
          got += *r;
        }
        if (failure) { break; }
        if (got > 0) {
          seg.set_length(static_cast<unsigned>(got));
          bl.append(std::move(seg));
          filled += got;
        }
        if (eof) { break; }
      }
      if (failure) { break; }
      // Ceph caches a buffer's CRC-32C (the messenger's data checksum) by offset and length: a
      // reused segment holds new bytes under the same span.
      bl.invalidate_crc();
      total += filled;
      if (total > max_size) {
        failure = make_error(Errc::too_large, "content is too large");
        break;
      }
      if (n > 0 && filled == 0) { break; }  // the body ended exactly on a stripe boundary
      if (n == 1) {
        // Tails of an existing blob must not be overwritten: check once, before the first one.
        int r = co_await stat_head(key);
        if (r == 0) {
          failure = make_error(Errc::already_exists, "blob exists");
          break;
        }
        if (r != -ENOENT) {
          failure = rados_error("stat", key, r);
          break;
        }
      }
      // A tail goes out before it is hashed (librados shares the buffers, which stay unchanged),
      // so the hashing overlaps the write; the head is kept for the end.
      std::string oid = n == 0 ? key : tail_name(key, n);
      if (n > 0) {
        inflight.push_back(start([&](librados::AioCompletion* c, AioState&) { return io_.aio_write_full(oid, c, bl); }));
        tails = n;
      }
      if (filled <= kInlineHash) {
        hash(bl);
      } else {
        co_await run_blocking([&] { hash(bl); });
      }
      if (n == 0) {
        head = std::move(bl);
        continue;
      }
      if (inflight.size() >= kWriteWindow) {
        int r = co_await wait_front(inflight);
        if (r < 0) {
          failure = rados_error("write", oid, r);
          break;
        }
      }
    }
    if (!failure && options.source_done) { options.source_done(); }
    // Every tail acknowledged before the head is written.
    while (!inflight.empty()) {
      int r = co_await wait_front(inflight);
      if (r < 0 && !failure) { failure = rados_error("write", tail_name(key, tails), r); }
    }
    if (failure) {
      co_await remove_tails(key, tails);
      co_return *failure;
    }
    Manifest m{total, stripe, options.md5 ? crypto::hex(md5.finish()) : std::string("-"), crc_text(crc)};
    librados::bufferlist manifest;
    manifest.append(m.encode());
    int r = co_await write_head(key, head, manifest);
    if (r < 0) {
      // An existing head is another blob's: its tails were not touched (checked above), and a
      // one-stripe blob has none.
      if (r == -EEXIST) { co_return make_error(Errc::already_exists, "blob exists"); }
      co_await remove_tails(key, tails);
      co_return rados_error("write", key, r);
    }
    co_return m.info();
  }

  boost::asio::awaitable<Result<BlobInfo>> stat(std::string key) override {
    auto m = co_await manifest(key);
    if (!m) { co_return m.error(); }
    co_return m->info();
  }

  boost::asio::awaitable<Result<std::unique_ptr<ByteSource>>> open(std::string key, std::uint64_t offset, std::uint64_t length) override {
    // The manifest and the first bytes in one operation on the head: a small blob takes one
    // round trip, not two.
    librados::bufferlist peek;
    auto m = co_await manifest(key, offset, &peek);
    if (!m) { co_return m.error(); }
    if (offset > m->size || length > m->size - offset) { co_return make_error(Errc::invalid_argument, "range past the end of the blob"); }
    // What the reader's first read would ask for; anything else (a short head) it reads itself.
    const std::uint64_t first = offset < m->stripe ? std::min({length, m->stripe - offset, kPeek}) : 0;
    librados::bufferlist head;
    if (first > 0 && peek.length() >= first) { head.substr_of(peek, 0, static_cast<unsigned>(first)); }
    co_return std::unique_ptr<ByteSource>(std::make_unique<RadosReader>(io_, std::move(key), std::move(*m), offset, length, std::move(head)));
  }

  Result<int> open_fd(const std::string&) override {
    return make_error(Errc::unavailable, "RADOS blobs have no file descriptors");
  }

  boost::asio::awaitable<Status> remove(std::string key) override {
    if (!valid_key(key)) { co_return make_error(Errc::invalid_argument, "invalid blob key"); }
    auto m = co_await manifest(key);
    if (!m && m.error().code == Errc::not_found) { co_return Status{}; }
    // The head goes first: from then on the blob is gone for readers and listings, and tails a
    // failure leaves behind are collected like those of an interrupted put.
    int r = co_await remove_object(key);
    if (r < 0 && r != -ENOENT) { co_return rados_error("remove", key, r); }
    if (m) { co_await remove_tails(key, m->stripes() - 1); }
    co_return Status{};
  }

  Status remove_sync(const std::string& key) override {
    if (!valid_key(key)) { return make_error(Errc::invalid_argument, "invalid blob key"); }
    auto m = manifest_sync(key);
    if (!m && m.error().code == Errc::not_found) { return {}; }
    librados::IoCtx io;
    io.dup(io_);
    int r = io.remove(key);
    if (r < 0 && r != -ENOENT) { return rados_error("remove", key, r); }
    if (m) {
      for (std::uint64_t n = 1; n < m->stripes(); ++n) {
        int t = io.remove(tail_name(key, n));
        if (t < 0 && t != -ENOENT) { return rados_error("remove", tail_name(key, n), t); }
      }
    }
    return {};
  }

  Result<ScrubReport> scrub(const std::function<void(std::string_view)>& progress) override {
    ScrubReport report;
    auto names = list();
    if (!names) { return names.error(); }
    for (const auto& key : names->heads) {
      if (progress) { progress(key); }
      ++report.checked;
      auto m = manifest_sync(key);
      if (!m) {
        if (m.error().code == Errc::not_found) {  // removed since the listing
          --report.checked;
          continue;
        }
        report.missing_checksum.push_back(key);
        continue;
      }
      std::uint32_t crc = 0;
      std::uint64_t size = 0;
      bool ok = true;
      for (std::uint64_t n = 0; ok && n < m->stripes(); ++n) {
        std::string oid = n == 0 ? key : tail_name(key, n);
        std::uint64_t want = std::min(m->stripe, m->size - n * m->stripe);
        for (std::uint64_t off = 0; off < want;) {
          librados::bufferlist bl;
          auto len = std::min(want - off, kMaxReadChunk);
          int r = io_.read(oid, bl, static_cast<std::size_t>(len), off);
          if (r <= 0) {
            ok = false;
            break;
          }
          for (const auto& p : bl.buffers()) { crc = crypto::crc32c(crc, std::string_view(p.c_str(), p.length())); }
          off += static_cast<std::uint64_t>(r);
          size += static_cast<std::uint64_t>(r);
        }
        // A stripe longer than the manifest says is corrupt too.
        std::uint64_t actual = 0;
        std::time_t mtime = 0;
        if (ok && io_.stat(oid, &actual, &mtime) == 0 && actual != want) { ok = false; }
      }
      report.bytes += size;
      if (!ok || size != m->size || crc_text(crc) != m->checksum) { report.corrupt.push_back(key); }
    }
    return report;
  }

  Status for_each_blob(const std::function<void(const std::string&, SystemTime)>& fn) override {
    auto names = list();
    if (!names) { return names.error(); }
    // The heads' modification times, kStatWindow stats in flight (a round trip each otherwise).
    const std::vector<std::string> keys(names->heads.begin(), names->heads.end());
    struct Stat {
      librados::AioCompletion* c = nullptr;
      int submitted = 0;
      std::uint64_t size = 0;
      std::time_t mtime = 0;
    };
    for (std::size_t first = 0; first < keys.size(); first += kStatWindow) {
      std::vector<Stat> stats(std::min(kStatWindow, keys.size() - first));
      for (std::size_t i = 0; i < stats.size(); ++i) {
        stats[i].c = librados::Rados::aio_create_completion();
        stats[i].submitted = io_.aio_stat(keys[first + i], stats[i].c, &stats[i].size, &stats[i].mtime);
      }
      std::optional<Error> failure;
      for (std::size_t i = 0; i < stats.size(); ++i) {
        int r = stats[i].submitted;
        if (r == 0) {
          stats[i].c->wait_for_complete();
          r = stats[i].c->get_return_value();
        }
        stats[i].c->release();
        if (r == -ENOENT || failure) { continue; }  // removed since the listing
        if (r < 0) {
          failure = rados_error("stat", keys[first + i], r);
          continue;
        }
        fn(keys[first + i], SystemTime(std::chrono::seconds(stats[i].mtime)));
      }
      if (failure) { return *failure; }
    }
    return {};
  }

  Result<std::uint64_t> collect_temp_files(std::chrono::seconds age) override {
    auto names = list();
    if (!names) { return names.error(); }
    const auto cutoff = std::chrono::system_clock::now() - age;
    std::uint64_t removed = 0;
    for (const auto& [key, tails] : names->tails) {
      if (names->heads.contains(key)) { continue; }
      // The head may have been written since the listing.
      std::uint64_t size = 0;
      std::time_t mtime = 0;
      if (io_.stat(key, &size, &mtime) == 0) { continue; }
      for (const auto& oid : tails) {
        int r = io_.stat(oid, &size, &mtime);
        if (r < 0 || SystemTime(std::chrono::seconds(mtime)) >= cutoff) { continue; }
        if (io_.remove(oid) == 0) { ++removed; }
      }
    }
    return removed;
  }

 private:
  struct Listing {
    std::set<std::string> heads;
    std::map<std::string, std::vector<std::string>> tails;  // by key
  };

  Result<Listing> list() {
    Listing out;
    try {
      for (auto it = io_.nobjects_begin(); it != io_.nobjects_end(); ++it) {
        const std::string& oid = it->get_oid();
        auto dot = oid.find('.');
        if (dot == std::string::npos) {
          if (valid_key(oid)) { out.heads.insert(oid); }
        } else if (valid_key(std::string_view(oid).substr(0, dot))) {
          out.tails[oid.substr(0, dot)].push_back(oid);
        }
      }
    } catch (const std::exception& e) {
      return make_error(Errc::unavailable, "cannot list blobs", std::string("rados list ") + ns_ + ": " + e.what());
    }
    return out;
  }

  Result<Manifest> parse_manifest(const std::string& key, int r, const librados::bufferlist& bl) {
    if (r == -ENOENT) { return make_error(Errc::not_found, "no such blob"); }
    if (r == -ENODATA) { return make_error(Errc::unavailable, "storage I/O failure", "rados " + key + ": no manifest"); }
    if (r < 0) { return rados_error("getxattr", key, r); }
    auto m = Manifest::decode(bl.to_str());
    if (!m) { return make_error(Errc::unavailable, "storage I/O failure", "rados " + key + ": unreadable manifest"); }
    return *m;
  }

  // With `peek`, also reads up to kPeek bytes of the head from `offset` into it (fewer past the
  // head's end).
  boost::asio::awaitable<Result<Manifest>> manifest(const std::string& key, std::uint64_t offset = 0, librados::bufferlist* peek = nullptr) {
    if (!valid_key(key)) { co_return make_error(Errc::not_found, "no such blob"); }
    // A read operation rather than aio_getxattr(), which leaks a little memory per call in
    // Ceph 16.
    Aio got = start([&](librados::AioCompletion* c, AioState& s) {
      librados::ObjectReadOperation op;
      op.getxattr(kManifestXattr, &s.out, &s.op_result);
      if (peek != nullptr) { op.read(static_cast<std::size_t>(offset), kPeek, &s.peek, &s.peek_result); }
      return io_.aio_operate(key, c, &op, nullptr);
    });
    int r = co_await wait(got);
    if (r == 0) { r = got->op_result; }
    if (r == 0 && peek != nullptr && got->peek_result >= 0) { *peek = std::move(got->peek); }
    co_return parse_manifest(key, r, got->out);
  }

  Result<Manifest> manifest_sync(const std::string& key) {
    if (!valid_key(key)) { return make_error(Errc::not_found, "no such blob"); }
    librados::bufferlist bl;
    int r = io_.getxattr(key, kManifestXattr, bl);
    return parse_manifest(key, r, bl);
  }

  // The small steps of put() and remove(), each in a coroutine of its own (GCC 12 mishandles
  // some locals of a coroutine that awaits inside nested scopes, so put() keeps few).
  boost::asio::awaitable<int> stat_head(const std::string& key) {
    Aio aio = start([&](librados::AioCompletion* c, AioState& s) { return io_.aio_stat(key, c, &s.size, &s.mtime); });
    co_return co_await wait(aio);
  }
  boost::asio::awaitable<int> write_head(const std::string& key, const librados::bufferlist& head, const librados::bufferlist& manifest) {
    Aio aio = start([&](librados::AioCompletion* c, AioState&) {
      librados::ObjectWriteOperation op;
      op.create(true);
      if (head.length() > 0) { op.write_full(head); }
      op.setxattr(kManifestXattr, manifest);
      return io_.aio_operate(key, c, &op);
    });
    co_return co_await wait(aio);
  }
  boost::asio::awaitable<int> remove_object(const std::string& oid) {
    Aio aio = start([&](librados::AioCompletion* c, AioState&) { return io_.aio_remove(oid, c); });
    co_return co_await wait(aio);
  }
  static boost::asio::awaitable<int> wait_front(std::deque<Aio>& inflight) {
    Aio aio = std::move(inflight.front());
    inflight.pop_front();
    co_return co_await wait(aio);
  }

  // Best effort: what it cannot remove, collect_temp_files() removes later.
  boost::asio::awaitable<void> remove_tails(const std::string& key, std::uint64_t last) {
    std::deque<Aio> inflight;
    for (std::uint64_t n = 1; n <= last; ++n) {
      std::string oid = tail_name(key, n);
      inflight.push_back(start([&](librados::AioCompletion* c, AioState&) { return io_.aio_remove(oid, c); }));
      if (inflight.size() >= kRemoveWindow) { co_await wait_front(inflight); }
    }
    while (!inflight.empty()) { co_await wait_front(inflight); }
  }

  std::shared_ptr<RadosCluster> cluster_;
  std::string ns_;
  librados::IoCtx io_;
  std::uint64_t stripe_ = 0;
};

}  // namespace

Result<std::shared_ptr<RadosCluster>> connect_rados(const RadosConfig& config) {
  if (config.pool.empty()) { return make_error(Errc::invalid_argument, "invalid setting store.rados.pool: must not be empty"); }
  if (config.user.empty()) { return make_error(Errc::invalid_argument, "invalid setting store.rados.user: must not be empty"); }
  // Ceph limits a RADOS object to 128 MiB and one write to 90 MiB.
  if (config.stripe_size < 64 * 1024 || config.stripe_size > (64u << 20)) {
    return make_error(Errc::invalid_argument, "invalid setting store.rados.stripe_size: must be between 64 KiB and 64 MiB");
  }
  auto cluster = std::make_shared<RadosCluster>();
  cluster->config_ = config;
  auto& rados = cluster->rados_;
  const std::string where = "the Ceph cluster (" + (config.conf.empty() ? std::string("default ceph.conf") : config.conf) +
                            ", user client." + config.user + ")";
  int r = rados.init(config.user.c_str());
  if (r < 0) { return make_error(Errc::unavailable, "cannot initialise librados: " + std::string(std::strerror(-r))); }
  r = rados.conf_read_file(config.conf.empty() ? nullptr : config.conf.c_str());
  if (r < 0) {
    if (config.conf.empty()) {
      return make_error(Errc::unavailable, std::string("cannot read the Ceph configuration (no ceph.conf found): ") + std::strerror(-r));
    }
    return make_error(Errc::invalid_argument, "invalid setting store.rados.conf = \"" + config.conf + "\": " + std::strerror(-r));
  }
  if (!config.keyring.empty()) {
    if (r = rados.conf_set("keyring", config.keyring.c_str()); r < 0) {
      return make_error(Errc::invalid_argument, "invalid setting store.rados.keyring = \"" + config.keyring + "\": " + std::strerror(-r));
    }
  }
  const std::string connect_s = std::to_string(config.connect_timeout.count());
  const std::string op_s = std::to_string(config.op_timeout.count());
  rados.conf_set("client_mount_timeout", connect_s.c_str());
  rados.conf_set("rados_mon_op_timeout", op_s.c_str());
  rados.conf_set("rados_osd_op_timeout", op_s.c_str());
  // librados blocks the submitting thread (here an I/O thread) once 100 MiB or 1024 operations
  // are in flight; each transfer holds at most four stripes in flight, so let far more through.
  rados.conf_set("objecter_inflight_op_bytes", "1073741824");
  rados.conf_set("objecter_inflight_ops", "8192");
  r = rados.connect();
  if (r < 0) {
    std::string why = r == -ETIMEDOUT ? "no monitor answered within " + connect_s + " s"
                      : (r == -EACCES || r == -EPERM) ? "authentication refused (check the user and the keyring)"
                      : (r == -ENOENT) ? "no keyring or monitor address found (check ceph.conf and the keyring)"
                                      : std::string(std::strerror(-r));
    return make_error(Errc::unavailable, "cannot connect to " + where + ": " + why);
  }
  cluster->connected_ = true;
  r = rados.ioctx_create(config.pool.c_str(), cluster->pool_);
  if (r < 0) {
    return make_error(Errc::unavailable, "cannot open pool " + config.pool + " of " + where + ": " +
                                             (r == -ENOENT ? std::string("no such pool") : std::string(std::strerror(-r))));
  }
  return cluster;
}

std::unique_ptr<BlobStore> open_rados_blob_store(std::shared_ptr<RadosCluster> cluster, std::string ns) {
  return std::make_unique<RadosBlobStore>(std::move(cluster), std::move(ns));
}

}  // namespace ciel::store
