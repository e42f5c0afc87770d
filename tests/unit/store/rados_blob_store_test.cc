// The RADOS BlobStore against a real Ceph cluster: the one scripts/ceph-test-cluster.sh starts
// (scripts/test.sh does), named by $CIEL_TEST_RADOS_CONF, $CIEL_TEST_RADOS_USER and
// $CIEL_TEST_RADOS_POOL. Without it these tests fail: they never skip. Each test works in a
// namespace of its own, with 64 KiB stripes so that a few hundred KiB cross several of them; the
// pool's raw objects are checked with the `rados` command.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <set>

#include "core/crypto/crypto.h"
#include "store/blob_store.h"
#include "support/store_site.h"
#include "support/test_support.h"
#include "unit/store/crash_child.h"
#include "unit/store/crash_content.h"

// librados' messenger threads set up OpenSSL's per-thread error state (ERR_set_mark under
// ceph::crypto::onwire) and exit without freeing it: one allocation per connection. LeakSanitizer's
// fast unwinder stops inside libcrypto (no frame pointers), so the suppression names the library.
extern "C" const char* __lsan_default_suppressions() { return "leak:ceph::crypto::onwire::\nleak:libcrypto.so\n"; }

namespace ciel::store {
namespace {

constexpr std::uint64_t kStripe = 64 * 1024;

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? std::string() : std::string(v);
}

std::string crc_text(std::string_view data) {
  char hex[16];
  std::snprintf(hex, sizeof hex, "%08x", crypto::crc32c(0, data));
  return std::string("crc32c:") + hex;
}

std::string pattern(std::size_t n, unsigned seed) {
  std::string s(n, '\0');
  std::uint32_t x = seed * 2654435761u + 1;
  for (auto& c : s) {
    x = x * 1103515245u + 12345u;
    c = static_cast<char>(x >> 24);
  }
  return s;
}

// A body of unknown length, handed out in uneven pieces; it fails after `fail_after` bytes when set.
class ChunkedSource final : public ByteSource {
 public:
  explicit ChunkedSource(std::string data, std::optional<std::size_t> fail_after = std::nullopt)
      : data_(std::move(data)), fail_after_(fail_after) {}
  boost::asio::awaitable<Result<std::size_t>> read(std::span<char> buf) override {
    if (fail_after_ && pos_ >= *fail_after_) { co_return make_error(Errc::unavailable, "client went away"); }
    std::size_t n = std::min({buf.size(), data_.size() - pos_, std::size_t{7000 + (pos_ % 5000)}});
    std::memcpy(buf.data(), data_.data() + pos_, n);
    pos_ += n;
    co_return n;
  }

 private:
  std::string data_;
  std::optional<std::size_t> fail_after_;
  std::size_t pos_ = 0;
};

class RadosBlobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    conf_ = env("CIEL_TEST_RADOS_CONF");
    ASSERT_FALSE(conf_.empty()) << "CIEL_TEST_RADOS_CONF is not set, so the RADOS blob store cannot be tested. Run the tests through "
                                   "scripts/test.sh, which starts a private Ceph cluster, or start one yourself with "
                                   "eval \"$(bash scripts/ceph-test-cluster.sh start /tmp/ciel-ceph)\" and run ctest again.";
    user_ = env("CIEL_TEST_RADOS_USER").empty() ? "admin" : env("CIEL_TEST_RADOS_USER");
    pool_ = env("CIEL_TEST_RADOS_POOL").empty() ? "ciel" : env("CIEL_TEST_RADOS_POOL");
    static std::shared_ptr<RadosCluster> cluster;  // one connection for the whole binary
    if (!cluster) {
      RadosConfig config;
      config.conf = conf_;
      config.user = user_;
      config.pool = pool_;
      config.stripe_size = kStripe;
      auto c = connect_rados(config);
      ASSERT_OK(c);
      cluster = *c;
    }
    ns_ = "test-" + crypto::random_hex(6);
    blobs_ = open_rados_blob_store(cluster, ns_);
  }

  // The raw RADOS objects of this test's namespace, as the `rados` command lists them.
  std::set<std::string> raw_objects() {
    std::string out = rados("ls");
    std::set<std::string> names;
    std::size_t pos = 0;
    while (pos < out.size()) {
      auto nl = out.find('\n', pos);
      if (nl == std::string::npos) { nl = out.size(); }
      if (nl > pos) { names.insert(out.substr(pos, nl - pos)); }
      pos = nl + 1;
    }
    return names;
  }

  std::string rados(const std::string& args) {
    std::string cmd = "rados -c '" + conf_ + "' --id '" + user_ + "' -p '" + pool_ + "' -N '" + ns_ + "' " + args + " 2>/dev/null";
    std::string out;
    FILE* p = ::popen(cmd.c_str(), "r");
    if (p == nullptr) { return out; }
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) { out.append(buf, n); }
    int rc = ::pclose(p);
    EXPECT_EQ(rc, 0) << cmd;
    return out;
  }

  Result<BlobInfo> put(const std::string& key, ByteSource& src, std::uint64_t max_size = UINT64_MAX) {
    Result<BlobInfo> out = make_error(Errc::internal, "not run");
    test::run_coro([&]() -> boost::asio::awaitable<void> { out = co_await blobs_->put(key, src, max_size); });
    return out;
  }

  // Reads a range back, after `hints` calls to prefetch(); through next_view(view_max) when
  // view_max is set (as a GET sends it), else with read().
  Result<std::string> read(const std::string& key, std::uint64_t offset, std::uint64_t length, int hints = 0,
                           std::size_t view_max = 0) {
    Result<std::string> out = make_error(Errc::internal, "not run");
    test::run_coro([&]() -> boost::asio::awaitable<void> {
      auto reader = co_await blobs_->open(key, offset, length);
      if (!reader) {
        out = reader.error();
        co_return;
      }
      EXPECT_EQ((*reader)->size(), length);
      for (int i = 0; i < hints; ++i) { (*reader)->prefetch(); }
      if (view_max == 0) {
        out = co_await read_all(**reader, 64 << 20);
        co_return;
      }
      EXPECT_TRUE((*reader)->has_views());
      std::string bytes;
      for (;;) {
        auto v = co_await (*reader)->next_view(view_max);
        if (!v) {
          out = v.error();
          co_return;
        }
        if (v->empty()) { break; }
        EXPECT_LE(v->size(), view_max);
        bytes.append(v->data(), v->size());
      }
      out = std::move(bytes);
    });
    return out;
  }

  std::string conf_, user_, pool_, ns_;
  std::unique_ptr<BlobStore> blobs_;
};

TEST_F(RadosBlobStoreTest, PutReadBackByteIdenticalAcrossStripeBoundaries) {
  const std::size_t sizes[] = {0, 1, kStripe - 1, kStripe, kStripe + 1, 3 * kStripe, 3 * kStripe + 17, 10 * kStripe + 5};
  unsigned seed = 0;
  for (std::size_t size : sizes) {
    for (bool known_size : {true, false}) {
      SCOPED_TRACE("size " + std::to_string(size) + (known_size ? " (known)" : " (chunked)"));
      std::string data = pattern(size, ++seed);
      std::string key = new_blob_key();
      StringSource known(data);
      ChunkedSource chunked(data);
      auto info = known_size ? put(key, known) : put(key, chunked);
      ASSERT_OK(info);
      EXPECT_EQ(info->size, size);
      EXPECT_EQ(info->md5_hex, crypto::hex(crypto::md5(data)));
      EXPECT_EQ(info->checksum, crc_text(data));
      auto got = read(key, 0, size);
      ASSERT_OK(got);
      EXPECT_TRUE(*got == data);
      // One head, and a tail per further stripe.
      std::size_t stripes = size == 0 ? 1 : (size + kStripe - 1) / kStripe;
      auto raw = raw_objects();
      EXPECT_TRUE(raw.contains(key));
      for (std::size_t n = 1; n < stripes; ++n) { EXPECT_TRUE(raw.contains(key + "." + std::to_string(n))) << n; }
      EXPECT_FALSE(raw.contains(key + "." + std::to_string(stripes)));
      Result<BlobInfo> st = make_error(Errc::internal, "not run");
      test::run_coro([&]() -> boost::asio::awaitable<void> { st = co_await blobs_->stat(key); });
      ASSERT_OK(st);
      EXPECT_EQ(st->size, size);
      EXPECT_EQ(st->md5_hex, info->md5_hex);
      EXPECT_EQ(st->checksum, info->checksum);
    }
  }
}

// Stripes of 2 MiB are received in 1 MiB segments that later puts reuse once RADOS has let go of
// them: every blob must read back as written, so no segment is refilled while a write still holds
// it, and none goes out with the checksum Ceph cached for its earlier bytes (the OSD would refuse it).
TEST_F(RadosBlobStoreTest, ReusedReceiveBuffersKeepEveryBlobIntact) {
  RadosConfig config;
  config.conf = conf_;
  config.user = user_;
  config.pool = pool_;
  config.stripe_size = 2 << 20;
  config.op_timeout = std::chrono::seconds(20);
  auto cluster = connect_rados(config);
  ASSERT_OK(cluster);
  auto blobs = open_rados_blob_store(*cluster, ns_);
  std::vector<std::pair<std::string, std::string>> written;
  for (unsigned i = 0; i < 6; ++i) {
    std::string data = pattern((9 << 20) + 5 + i, 100 + i);
    std::string key = new_blob_key();
    StringSource known(data);
    ChunkedSource chunked(data);
    Result<BlobInfo> info = make_error(Errc::internal, "not run");
    test::run_coro([&]() -> boost::asio::awaitable<void> {
      info = co_await blobs->put(key, i % 2 == 0 ? static_cast<ByteSource&>(known) : static_cast<ByteSource&>(chunked), UINT64_MAX);
    });
    ASSERT_OK(info);
    EXPECT_EQ(info->md5_hex, crypto::hex(crypto::md5(data)));
    EXPECT_EQ(info->checksum, crc_text(data));
    written.emplace_back(std::move(key), std::move(data));
  }
  for (const auto& [key, data] : written) {
    Result<std::string> got = make_error(Errc::internal, "not run");
    test::run_coro([&]() -> boost::asio::awaitable<void> {
      auto reader = co_await blobs->open(key, 0, data.size());
      if (!reader) {
        got = reader.error();
        co_return;
      }
      got = co_await read_all(**reader, 64 << 20);
    });
    ASSERT_OK(got);
    EXPECT_TRUE(*got == data) << key;
  }
}

TEST_F(RadosBlobStoreTest, RangesWithinAndAcrossStripes) {
  std::string data = pattern(5 * kStripe + 1234, 7);
  std::string key = new_blob_key();
  StringSource src(data);
  ASSERT_OK(put(key, src));
  const std::pair<std::uint64_t, std::uint64_t> ranges[] = {
      {0, 0}, {0, 1}, {100, 1000}, {kStripe - 10, 20}, {kStripe, kStripe}, {kStripe - 1, 3 * kStripe + 2},
      {4 * kStripe + 5, kStripe + 1229}, {data.size() - 1, 1}, {data.size(), 0}, {1, data.size() - 1}};
  for (auto [offset, length] : ranges) {
    SCOPED_TRACE(std::to_string(offset) + "+" + std::to_string(length));
    auto got = read(key, offset, length);
    ASSERT_OK(got);
    EXPECT_TRUE(*got == data.substr(offset, length));
  }
  EXPECT_ERRC(read(key, data.size(), 1), Errc::invalid_argument);
  EXPECT_ERRC(read(key, 10, data.size()), Errc::invalid_argument);
  EXPECT_ERRC(read(new_blob_key(), 0, 0), Errc::not_found);
  // Streaming callers fall back from descriptors (sendfile) to open().
  auto fd = blobs_->open_fd(key);
  EXPECT_FALSE(fd);
  EXPECT_NE(fd.error().code, Errc::not_found);
}

// A large object's next blob is told to prefetch while the one before ends (ConcatSource): its
// reads start then, and what it returns afterwards is the same bytes in the same order, however
// often it heard the hint and wherever its range starts, copied out or lent in place.
TEST_F(RadosBlobStoreTest, PrefetchedAndLentReadsReturnTheSameBytes) {
  std::string data = pattern(9 * kStripe + 77, 11);
  std::string key = new_blob_key();
  StringSource src(data);
  ASSERT_OK(put(key, src));
  const std::pair<std::uint64_t, std::uint64_t> ranges[] = {{0, data.size()}, {10, 100}, {kStripe + 3, 6 * kStripe}, {data.size(), 0}};
  for (auto [offset, length] : ranges) {
    for (int hints : {1, 3}) {
      SCOPED_TRACE(std::to_string(offset) + "+" + std::to_string(length) + ", " + std::to_string(hints) + " hints");
      auto got = read(key, offset, length, hints);
      ASSERT_OK(got);
      EXPECT_TRUE(*got == data.substr(offset, length));
    }
  }
  // Lent in place (has_views, as a GET sends them): the same bytes, in pieces of at most `max`.
  for (auto [offset, length] : ranges) {
    for (std::size_t max : {std::size_t{1000}, std::size_t{1} << 20, std::size_t{64} << 20}) {
      SCOPED_TRACE(std::to_string(offset) + "+" + std::to_string(length) + " in views of " + std::to_string(max));
      auto got = read(key, offset, length, 1, max);
      ASSERT_OK(got);
      EXPECT_TRUE(*got == data.substr(offset, length));
    }
  }
  // A reader dropped with its prefetched reads still in flight leaves the store usable.
  test::run_coro([&]() -> boost::asio::awaitable<void> {
    auto reader = co_await blobs_->open(key, 0, data.size());
    EXPECT_TRUE(reader);
    if (reader) { (*reader)->prefetch(); }
  });
  auto again = read(key, 0, data.size());
  ASSERT_OK(again);
  EXPECT_TRUE(*again == data);
}

TEST_F(RadosBlobStoreTest, RemoveDeletesEveryStripe) {
  std::string key = new_blob_key(), other = new_blob_key(), third = new_blob_key();
  StringSource a(pattern(4 * kStripe + 3, 1)), b(pattern(2 * kStripe, 2)), c(pattern(3 * kStripe, 3));
  ASSERT_OK(put(key, a));
  ASSERT_OK(put(other, b));
  ASSERT_OK(put(third, c));
  EXPECT_EQ(raw_objects().size(), 5u + 2u + 3u);
  Status st = make_error(Errc::internal, "not run");
  test::run_coro([&]() -> boost::asio::awaitable<void> { st = co_await blobs_->remove(key); });
  ASSERT_OK(st);
  EXPECT_EQ(raw_objects(), (std::set<std::string>{other, other + ".1", third, third + ".1", third + ".2"}));
  ASSERT_OK(blobs_->remove_sync(other));
  EXPECT_EQ(raw_objects(), (std::set<std::string>{third, third + ".1", third + ".2"}));
  // Removing an absent blob succeeds.
  test::run_coro([&]() -> boost::asio::awaitable<void> { st = co_await blobs_->remove(key); });
  EXPECT_OK(st);
  EXPECT_OK(blobs_->remove_sync(other));
  EXPECT_ERRC(read(key, 0, 0), Errc::not_found);
}

TEST_F(RadosBlobStoreTest, FailedOrTooLargePutLeavesNothing) {
  std::string key = new_blob_key();
  ChunkedSource failing(pattern(6 * kStripe, 4), 3 * kStripe + 100);
  auto r = put(key, failing);
  EXPECT_ERRC(r, Errc::unavailable);
  EXPECT_TRUE(raw_objects().empty());
  StringSource big(pattern(5 * kStripe, 5));
  EXPECT_ERRC(put(key, big, 2 * kStripe + 1), Errc::too_large);
  EXPECT_TRUE(raw_objects().empty());
  ChunkedSource big_chunked(pattern(5 * kStripe, 5));
  EXPECT_ERRC(put(key, big_chunked, 4 * kStripe), Errc::too_large);
  EXPECT_TRUE(raw_objects().empty());
  std::size_t listed = 0;
  ASSERT_OK(blobs_->for_each_blob([&](const std::string&, SystemTime) { ++listed; }));
  EXPECT_EQ(listed, 0u);
  // The key is still free.
  StringSource ok(pattern(100, 6));
  EXPECT_OK(put(key, ok));
}

TEST_F(RadosBlobStoreTest, ExistingKeyIsRefusedAndKept) {
  for (std::size_t size : {std::size_t{10}, std::size_t{3 * kStripe + 1}}) {
    std::string key = new_blob_key();
    std::string data = pattern(size, 8);
    StringSource first(data);
    ASSERT_OK(put(key, first));
    StringSource second(pattern(size, 9));
    EXPECT_ERRC(put(key, second), Errc::already_exists);
    auto got = read(key, 0, size);
    ASSERT_OK(got);
    EXPECT_TRUE(*got == data);
  }
}

TEST_F(RadosBlobStoreTest, ListingShowsFinishedBlobsAndInterruptedTailsAreCollected) {
  std::string a = new_blob_key(), b = new_blob_key(), orphan = new_blob_key();
  StringSource sa(pattern(2 * kStripe + 1, 10)), sb(pattern(5, 11));
  ASSERT_OK(put(a, sa));
  ASSERT_OK(put(b, sb));
  // What a writer killed before its head leaves behind: tails and no head.
  test::TempDir dir;
  std::string file = dir.path() + "/stripe";
  std::ofstream(file) << pattern(kStripe, 12);
  rados("put " + orphan + ".1 " + file);
  rados("put " + orphan + ".2 " + file);
  std::set<std::string> listed;
  ASSERT_OK(blobs_->for_each_blob([&](const std::string& key, SystemTime mtime) {
    listed.insert(key);
    EXPECT_LT(std::chrono::abs(std::chrono::system_clock::now() - mtime), std::chrono::minutes(10));
  }));
  EXPECT_EQ(listed, (std::set<std::string>{a, b}));
  // Young pieces may be another server's upload in progress: kept.
  auto kept = blobs_->collect_temp_files(std::chrono::hours(1));
  ASSERT_OK(kept);
  EXPECT_EQ(*kept, 0u);
  auto removed = blobs_->collect_temp_files(std::chrono::seconds(-5));
  ASSERT_OK(removed);
  EXPECT_EQ(*removed, 2u);
  EXPECT_EQ(raw_objects(), (std::set<std::string>{a, a + ".1", a + ".2", b}));
  // A shared store's sweep never counts a young unnamed blob as unreferenced.
  auto sweep = sweep_blobs(*blobs_, {a, "0123456789abcdef0123456789abcdef"}, /*remove=*/true);
  ASSERT_OK(sweep);
  EXPECT_EQ(sweep->blobs, 2u);
  EXPECT_EQ(sweep->missing, (std::vector<std::string>{"0123456789abcdef0123456789abcdef"}));
  EXPECT_TRUE(sweep->unreferenced.empty());
  EXPECT_TRUE(raw_objects().contains(b));
}

TEST_F(RadosBlobStoreTest, ScrubVerifiesEveryStripe) {
  std::string good = new_blob_key(), bad = new_blob_key(), lost = new_blob_key();
  StringSource g(pattern(3 * kStripe + 7, 20)), b(pattern(3 * kStripe + 7, 21)), l(pattern(2 * kStripe + 7, 22));
  ASSERT_OK(put(good, g));
  ASSERT_OK(put(bad, b));
  ASSERT_OK(put(lost, l));
  auto clean = blobs_->scrub(nullptr);
  ASSERT_OK(clean);
  EXPECT_EQ(clean->checked, 3u);
  EXPECT_EQ(clean->bytes, 8 * kStripe + 21);
  EXPECT_TRUE(clean->corrupt.empty());
  // One tail's bytes change (same length); another blob loses a tail.
  test::TempDir dir;
  std::string file = dir.path() + "/stripe";
  std::ofstream(file) << pattern(kStripe, 99);
  rados("put " + bad + ".2 " + file);
  rados("rm " + lost + ".1");
  std::vector<std::string> seen;
  auto report = blobs_->scrub([&](std::string_view key) { seen.emplace_back(key); });
  ASSERT_OK(report);
  EXPECT_EQ(report->checked, 3u);
  EXPECT_EQ(seen.size(), 3u);
  std::set<std::string> corrupt(report->corrupt.begin(), report->corrupt.end());
  EXPECT_EQ(corrupt, (std::set<std::string>{bad, lost}));
  EXPECT_TRUE(report->missing_checksum.empty());
  // A reader reports the missing stripe instead of returning short data.
  EXPECT_ERRC(read(lost, 0, 2 * kStripe + 7), Errc::unavailable);
}

// A writer putting multi-stripe blobs is SIGKILLed mid-stream, four times. Every blob it
// acknowledged reads back whole; every blob listed is whole (scrub finds nothing wrong); what a
// torn put left is tails without a head, which collect_temp_files removes.
TEST_F(RadosBlobStoreTest, KilledWriterKeepsEveryAcknowledgedBlobAndLeavesOnlyTails) {
  std::set<std::string> acked;
  for (std::size_t round = 0; round < 4; ++round) {
    auto run = crash::run_and_kill("rados", ns_, 4 + 2 * round, crash::random_delay(std::chrono::milliseconds(30)));
    ASSERT_TRUE(run.problem.empty()) << run.problem;
    ASSERT_TRUE(run.killed);
    acked.insert(run.acked.begin(), run.acked.end());
  }
  for (const auto& key : acked) {
    std::string want = crash::blob_content(key);
    auto got = read(key, 0, want.size());
    ASSERT_OK(got);
    EXPECT_TRUE(*got == want) << "acknowledged blob " << key << " reads back different";
  }
  std::set<std::string> listed;
  ASSERT_OK(blobs_->for_each_blob([&](const std::string& key, SystemTime) { listed.insert(key); }));
  for (const auto& key : acked) { EXPECT_TRUE(listed.contains(key)) << key; }
  EXPECT_LE(listed.size(), acked.size() + 4);  // a head written just before a kill, not yet reported
  auto report = blobs_->scrub(nullptr);
  ASSERT_OK(report);
  EXPECT_EQ(report->checked, listed.size());
  EXPECT_TRUE(report->corrupt.empty());
  ASSERT_OK(blobs_->collect_temp_files(std::chrono::seconds(-5)));
  for (const auto& oid : raw_objects()) {
    auto dot = oid.find('.');
    EXPECT_TRUE(listed.contains(oid.substr(0, dot))) << "leftover " << oid;
  }
}

TEST(RadosCluster, UnreachableClusterFailsClearly) {
  test::TempDir dir;
  std::string conf = dir.path() + "/ceph.conf";
  std::ofstream(conf) << "[global]\nmon_host = v2:127.0.0.1:9\nkeyring = " << dir.path() << "/keyring\n";
  std::ofstream(dir.path() + "/keyring") << "[client.ciel]\n\tkey = AQBxpFZlAAAAABAAgU0sG1vQpoKJ0v3k4Ml6Fw==\n";
  RadosConfig config;
  config.conf = conf;
  config.user = "ciel";
  config.connect_timeout = std::chrono::seconds(2);
  auto c = connect_rados(config);
  EXPECT_ERRC(c, Errc::unavailable);
  EXPECT_NE(c.error().message.find("cannot connect"), std::string::npos) << c.error().message;
  config.conf = dir.path() + "/absent.conf";
  auto missing = connect_rados(config);
  EXPECT_ERRC(missing, Errc::invalid_argument);
  config.stripe_size = 100;
  EXPECT_ERRC(connect_rados(config), Errc::invalid_argument);
}

}  // namespace
}  // namespace ciel::store
