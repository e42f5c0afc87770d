// The object engine on both MetaStore backends: a migrated store (a fresh SQLite file, or a fresh
// PostgreSQL schema), local-file blobs in the test's temp directory, hand-made principals and a
// fake clock. Every test drives the awaitables to completion with run_coro and then looks at what
// a client would see (head, open, listings, counters) and at what is on disk (blob files).
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "core/blocking.h"
#include "core/bytes.h"
#include "core/crypto/crypto.h"
#include "core/time.h"
#include "identity/policy.h"
#include "identity/principal.h"
#include "object/engine/object_service.h"
#include "store/blob_store.h"
#include "store/meta_store.h"
#include "support/store_site.h"
#include "support/test_support.h"

namespace ciel::object {
namespace {

namespace fs = std::filesystem;
using boost::asio::awaitable;
using namespace std::chrono_literals;
using test::Backend;
using test::describe;

constexpr std::uint64_t kMiB = 1024 * 1024;
const std::string kProjectA = "0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a";
const std::string kProjectB = "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b";

// A project-scoped principal with the given roles (already expanded, as a token carries them).
identity::Principal principal(const std::string& project, std::vector<std::string> roles) {
  identity::Principal p;
  p.user_id = "user-" + roles.front() + "-" + project.substr(0, 4);
  p.user_name = p.user_id;
  p.user_domain_id = p.domain_id = "default";
  p.scope = identity::ScopeType::project;
  p.project_id = project;
  p.project_name = "project-" + project.substr(0, 4);
  for (auto& r : roles) { p.roles.push_back({"role-" + r, r}); }
  return p;
}

Access access(const identity::Principal& p) {
  Access a;
  a.principal = &p;
  return a;
}

// Bytes that differ at every offset, so a misplaced range cannot read back equal.
std::string pattern(std::size_t n, unsigned seed = 1) {
  std::string s(n, '\0');
  std::uint32_t x = seed * 2654435761u + 12345u;
  for (auto& c : s) {
    x = x * 1664525u + 1013904223u;
    c = static_cast<char>(x >> 24);
  }
  return s;
}

std::string md5_hex(std::string_view s) { return crypto::hex(crypto::md5(s)); }

// A body that arrives in small pieces of unknown total size, as a chunked upload does.
class ChunkedSource final : public ByteSource {
 public:
  ChunkedSource(std::string data, std::size_t chunk) : data_(std::move(data)), chunk_(chunk) {}
  awaitable<Result<std::size_t>> read(std::span<char> buf) override {
    std::size_t n = std::min({buf.size(), chunk_, data_.size() - pos_});
    std::copy_n(data_.data() + pos_, n, buf.data());
    pos_ += n;
    co_return n;
  }

 private:
  std::string data_;
  std::size_t chunk_;
  std::size_t pos_ = 0;
};

// Runs an awaitable to completion and returns its result.
template <class Fn>
auto await(Fn fn) -> typename decltype(fn())::value_type {
  std::optional<typename decltype(fn())::value_type> out;
  test::run_coro([&]() -> awaitable<void> { out.emplace(co_await fn()); });
  return std::move(*out);
}

class EngineTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    start_blocking_pool(4);
    std::string problem = site_.prepare();
    if (!problem.empty()) { GTEST_FAIL() << problem; }
    auto m = site_.open();
    ASSERT_OK(m);
    meta_ = std::move(*m);
    auto migs = migrations();
    ASSERT_OK(store::migrate(*meta_, migs));
    blob_root_ = site_.dir() + "/blobs";
    auto b = store::open_localfs_blob_store({blob_root_, false});
    ASSERT_OK(b);
    blobs_ = std::move(*b);
    config_.part_size = 1 * kMiB;
    config_.inline_max = 0;  // these tests follow bytes into blobs; InlineObjects covers the other path
    engine_ = make_object_service(*meta_, *blobs_, policy_, config_, clock_);
  }

  void TearDown() override {
    engine_.reset();
    blobs_.reset();
    meta_.reset();
    stop_blocking_pool();  // see MetaStoreTest::TearDown
  }

  ObjectService& engine() { return *engine_; }

  // --- one-line calls ----------------------------------------------------------------------------
  Result<bool> put_container(const Access& a, const std::string& project, const std::string& name, MetadataUpdate meta = {},
                             MetadataUpdate sys = {}) {
    return await([&] { return engine().put_container(a, project, name, meta, sys); });
  }
  Result<ObjectInfo> put(const Access& a, const std::string& project, const std::string& container, const std::string& name,
                         const std::string& body, PutRequest req = {}) {
    if (!req.content_length) { req.content_length = body.size(); }
    StringSource src(body);
    return await([&] { return engine().put_object(a, project, container, name, req, src); });
  }
  // Without a Content-Length, in 10,000-byte pieces.
  Result<ObjectInfo> put_chunked(const Access& a, const std::string& project, const std::string& container, const std::string& name,
                                 const std::string& body, PutRequest req = {}) {
    ChunkedSource src(body, 10000);
    return await([&] { return engine().put_object(a, project, container, name, req, src); });
  }
  Result<ObjectInfo> head(const Access& a, const std::string& project, const std::string& container, const std::string& name) {
    return await([&] { return engine().head_object(a, project, container, name); });
  }
  Result<ObjectInfo> copy(const Access& a, const std::string& src_project, const std::string& src_container, const std::string& src_name,
                          const std::string& dst_project, const std::string& dst_container, const std::string& dst_name,
                          CopyRequest req = {}) {
    return await([&] { return engine().copy_object(a, src_project, src_container, src_name, dst_project, dst_container, dst_name, req); });
  }
  Result<ObjectInfo> del(const Access& a, const std::string& project, const std::string& container, const std::string& name) {
    return await([&] { return engine().delete_object(a, project, container, name); });
  }
  Result<std::string> read(const ObjectInfo& info, std::uint64_t offset, std::uint64_t length) {
    return await([&]() -> awaitable<Result<std::string>> {
      auto src = co_await engine().open_object(info, offset, length);
      if (!src) { co_return src.error(); }
      co_return co_await read_all(**src, 64 * kMiB);
    });
  }
  Result<std::string> read_all_of(const ObjectInfo& info) { return read(info, 0, info.size); }
  // The current bytes of an object, through head_object and open_object.
  Result<std::string> get(const Access& a, const std::string& project, const std::string& container, const std::string& name) {
    auto h = head(a, project, container, name);
    if (!h) { return h.error(); }
    return read_all_of(*h);
  }
  Result<ContainerInfo> container(const std::string& name, const std::string& project = kProjectA) {
    return await([&] { return engine().get_container(owner(), project, name); });
  }
  Result<AccountInfo> account(const std::string& project = kProjectA) {
    return await([&] { return engine().get_account(owner(), project); });
  }
  Result<Listing> list(const std::string& name, ListQuery q = {}) {
    return await([&] { return engine().list_objects(owner(), kProjectA, name, q); });
  }
  std::vector<std::string> names(const std::string& container_name, ListQuery q = {}) {
    std::vector<std::string> out;
    auto l = list(container_name, q);
    EXPECT_TRUE(l) << describe(l.error());
    if (l) {
      for (const auto& e : l->entries) { out.push_back(e.is_prefix ? "subdir:" + e.name : e.name); }
    }
    return out;
  }

  // Counters of a container of project A, and of the account, as get_container/get_account say.
  void expect_container_usage(const std::string& name, std::uint64_t objects, std::uint64_t bytes) {
    auto c = container(name);
    ASSERT_OK(c);
    EXPECT_EQ(c->object_count, objects) << "container " << name;
    EXPECT_EQ(c->bytes_used, bytes) << "container " << name;
  }
  void expect_account_usage(std::uint64_t containers, std::uint64_t objects, std::uint64_t bytes) {
    auto acct = account();
    ASSERT_OK(acct);
    EXPECT_EQ(acct->container_count, containers);
    EXPECT_EQ(acct->object_count, objects);
    EXPECT_EQ(acct->bytes_used, bytes);
  }
  void expect_consistent() {
    auto report = check_consistency(*meta_, *blobs_, false);
    ASSERT_OK(report);
    EXPECT_TRUE(report->missing_blobs.empty()) << "missing: " << testing::PrintToString(report->missing_blobs);
    EXPECT_TRUE(report->unreferenced_blobs.empty()) << "unreferenced: " << testing::PrintToString(report->unreferenced_blobs);
    EXPECT_TRUE(report->counter_mismatches.empty()) << testing::PrintToString(report->counter_mismatches);
  }

  // --- the blob directory ------------------------------------------------------------------------
  // Published blobs (not their .sum files, not temp files).
  std::vector<std::string> blob_files() const {
    std::vector<std::string> out;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(blob_root_, ec); it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (it->is_directory() && it->path().filename() == "tmp") {
        it.disable_recursion_pending();
        continue;
      }
      if (it->is_regular_file() && it->path().extension() != ".sum") { out.push_back(it->path().filename().string()); }
    }
    return out;
  }
  std::size_t blob_count() const { return blob_files().size(); }
  std::size_t temp_count() const {
    std::size_t n = 0;
    std::error_code ec;
    for (auto it = fs::directory_iterator(blob_root_ + "/tmp", ec); it != fs::directory_iterator(); it.increment(ec)) { ++n; }
    return n;
  }
  std::string blob_path(const std::string& key) const { return blob_root_ + "/" + key.substr(0, 2) + "/" + key.substr(2, 2) + "/" + key; }

  const Access& owner() { return owner_access_; }
  const Access& reader_a_access() { return reader_access_; }

  test::StoreSite site_{GetParam()};
  FakeClock clock_;
  identity::Policy policy_{"0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d"};
  EngineConfig config_;
  std::string blob_root_;
  std::unique_ptr<store::MetaStore> meta_;
  std::unique_ptr<store::BlobStore> blobs_;
  std::unique_ptr<store::BlobStore> wrapped_blobs_;  // a test's wrapper over blobs_, when it needs one
  std::unique_ptr<ObjectService> engine_;

  identity::Principal member_a_ = principal(kProjectA, {"member", "reader"});
  identity::Principal reader_a_ = principal(kProjectA, {"reader"});
  identity::Principal member_b_ = principal(kProjectB, {"member", "reader"});
  Access owner_access_ = access(member_a_);
  Access reader_access_ = access(reader_a_);
};

// --- objects: bytes in, bytes out ----------------------------------------------------------------

// Small objects keep their bytes in their row: no blob file, the same reads, copies, versions
// and counters.
TEST_P(EngineTest, InlineObjects) {
  config_.inline_max = 4096;
  engine_ = make_object_service(*meta_, *blobs_, policy_, config_, clock_);
  ASSERT_OK(put_container(owner(), kProjectA, "small"));
  const std::string body = pattern(4096);
  auto put_info = put(owner(), kProjectA, "small", "a", body);
  ASSERT_OK(put_info);
  EXPECT_EQ(put_info->etag, md5_hex(body));
  EXPECT_EQ(blob_count(), 0u);
  auto h = head(owner(), kProjectA, "small", "a");
  ASSERT_OK(h);
  ASSERT_TRUE(h->inline_data.has_value());
  EXPECT_TRUE(h->parts.empty());
  auto all = read_all_of(*h);
  ASSERT_OK(all);
  EXPECT_TRUE(*all == body);
  auto part = read(*h, 100, 50);
  ASSERT_OK(part);
  EXPECT_EQ(*part, body.substr(100, 50));
  EXPECT_ERRC(read(*h, 4000, 200), Errc::invalid_argument);
  EXPECT_ERRC(engine().open_object_files(*h, 0, 10), Errc::not_found);  // nothing to sendfile
  // One byte over the limit goes to a blob.
  ASSERT_OK(put(owner(), kProjectA, "small", "b", pattern(4097)));
  EXPECT_EQ(blob_count(), 1u);
  // Overwrite, copy and delete keep the counters exact and leave no file behind.
  ASSERT_OK(put(owner(), kProjectA, "small", "a", "short"));
  auto copied = await([&] { return engine().copy_object(owner(), kProjectA, "small", "a", kProjectA, "small", "c", CopyRequest{}); });
  ASSERT_OK(copied);
  auto c = head(owner(), kProjectA, "small", "c");
  ASSERT_OK(c);
  auto copy_bytes = read_all_of(*c);
  ASSERT_OK(copy_bytes);
  EXPECT_EQ(*copy_bytes, "short");
  auto info = await([&] { return engine().get_container(owner(), kProjectA, "small"); });
  ASSERT_OK(info);
  EXPECT_EQ(info->object_count, 3u);
  EXPECT_EQ(info->bytes_used, 5u + 4097u + 5u);
  ASSERT_OK(await([&] { return engine().delete_object(owner(), kProjectA, "small", "b"); }));
  EXPECT_EQ(blob_count(), 0u);
  auto report = check_consistency(*meta_, *blobs_, false);
  ASSERT_OK(report);
  EXPECT_TRUE(report->missing_blobs.empty() && report->unreferenced_blobs.empty() && report->counter_mismatches.empty());
}

TEST_P(EngineTest, PutHeadOpenRoundTrip) {
  ASSERT_OK(put_container(owner(), kProjectA, "photos"));
  const std::string body = pattern(100000);
  PutRequest req;
  req.content_type = "image/png";
  req.meta = {{"color", "blue"}};
  req.headers = {{"content-disposition", "inline"}};
  auto put_info = put(owner(), kProjectA, "photos", "cat.png", body, req);
  ASSERT_OK(put_info);
  EXPECT_EQ(put_info->size, body.size());
  EXPECT_EQ(put_info->etag, md5_hex(body));

  auto h = head(owner(), kProjectA, "photos", "cat.png");
  ASSERT_OK(h);
  EXPECT_EQ(h->name, "cat.png");
  EXPECT_EQ(h->container, "photos");
  EXPECT_EQ(h->project_id, kProjectA);
  EXPECT_EQ(h->size, body.size());
  EXPECT_EQ(h->etag, md5_hex(body));
  EXPECT_EQ(h->content_type, "image/png");
  EXPECT_EQ(h->meta, (Metadata{{"color", "blue"}}));
  EXPECT_EQ(h->headers, (Metadata{{"content-disposition", "inline"}}));
  EXPECT_EQ(h->modified_us, std::chrono::duration_cast<std::chrono::microseconds>(clock_.now().time_since_epoch()).count());
  EXPECT_EQ(h->version_id, put_info->version_id);
  ASSERT_EQ(h->parts.size(), 1u);

  auto all = read_all_of(*h);
  ASSERT_OK(all);
  EXPECT_TRUE(*all == body) << "bytes read back differ";
  auto part = read(*h, 777, 1234);
  ASSERT_OK(part);
  EXPECT_TRUE(*part == body.substr(777, 1234));
  auto tail = read(*h, body.size() - 1, 1);
  ASSERT_OK(tail);
  EXPECT_EQ(*tail, body.substr(body.size() - 1));
  EXPECT_ERRC(read(*h, body.size() + 1, 0), Errc::invalid_argument);
  EXPECT_ERRC(read(*h, 10, body.size()), Errc::invalid_argument);

  // One blob: one descriptor for sendfile, over the range asked for.
  auto files = engine().open_object_files(*h, 5, 10);
  ASSERT_OK(files);
  ASSERT_EQ(files->size(), 1u);
  EXPECT_EQ((*files)[0].offset, 5u);
  EXPECT_EQ((*files)[0].length, 10u);
  char first = 0;
  EXPECT_EQ(::pread((*files)[0].fd, &first, 1, 5), 1);
  EXPECT_EQ(first, body[5]);
  ::close((*files)[0].fd);

  // The default content type.
  ASSERT_OK(put(owner(), kProjectA, "photos", "raw", "abc"));
  auto raw = head(owner(), kProjectA, "photos", "raw");
  ASSERT_OK(raw);
  EXPECT_EQ(raw->content_type, "application/octet-stream");

  expect_container_usage("photos", 2, body.size() + 3);
  expect_account_usage(1, 2, body.size() + 3);
  EXPECT_EQ(blob_count(), 2u);
  expect_consistent();
}

TEST_P(EngineTest, MissingContainerAndBadNames) {
  EXPECT_ERRC(put(owner(), kProjectA, "nowhere", "x", "data"), Errc::not_found);
  EXPECT_ERRC(head(owner(), kProjectA, "nowhere", "x"), Errc::not_found);
  ASSERT_OK(put_container(owner(), kProjectA, "c"));
  EXPECT_ERRC(head(owner(), kProjectA, "c", "absent"), Errc::not_found);
  EXPECT_ERRC(del(owner(), kProjectA, "c", "absent"), Errc::not_found);
  EXPECT_ERRC(put(owner(), kProjectA, "c", "", "data"), Errc::invalid_argument);
  EXPECT_ERRC(put(owner(), kProjectA, "c", "a/../b", "data"), Errc::invalid_argument);
  EXPECT_ERRC(put(owner(), kProjectA, "c", std::string("bad\xff"), "data"), Errc::invalid_argument);
  EXPECT_ERRC(put(owner(), kProjectA, "c", std::string(1025, 'n'), "data"), Errc::invalid_argument);
  EXPECT_ERRC(put_container(owner(), kProjectA, "a/b"), Errc::invalid_argument);
  EXPECT_ERRC(put_container(owner(), kProjectA, std::string(257, 'c')), Errc::invalid_argument);
  // A UTF-8 name of the maximum length is fine.
  std::string long_name;
  while (long_name.size() + 2 <= 1024) { long_name += "\xc3\xa9"; }
  ASSERT_OK(put(owner(), kProjectA, "c", long_name, "ok"));
  EXPECT_OK(head(owner(), kProjectA, "c", long_name));
  expect_container_usage("c", 1, 2);
  EXPECT_EQ(blob_count(), 1u);
}

TEST_P(EngineTest, OverwriteIsAtomicAndCountersStayExact) {
  ASSERT_OK(put_container(owner(), kProjectA, "c"));
  ASSERT_OK(put_container(owner(), kProjectA, "d"));
  const std::string v1 = pattern(5000, 1), v2 = pattern(300, 2), v3 = pattern(70000, 3);
  ASSERT_OK(put(owner(), kProjectA, "c", "obj", v1));
  ASSERT_OK(put(owner(), kProjectA, "d", "other", "12345"));
  expect_container_usage("c", 1, v1.size());
  auto before = head(owner(), kProjectA, "c", "obj");
  ASSERT_OK(before);

  clock_.advance(1s);
  ASSERT_OK(put(owner(), kProjectA, "c", "obj", v2));
  auto after = head(owner(), kProjectA, "c", "obj");
  ASSERT_OK(after);
  EXPECT_NE(after->version_id, before->version_id);
  EXPECT_EQ(after->etag, md5_hex(v2));
  EXPECT_GT(after->modified_us, before->modified_us);
  auto bytes = read_all_of(*after);
  ASSERT_OK(bytes);
  EXPECT_TRUE(*bytes == v2);
  // The old version's blob is gone.
  EXPECT_FALSE(fs::exists(blob_path(before->parts.at(0).blob_key)));
  expect_container_usage("c", 1, v2.size());
  expect_account_usage(2, 2, v2.size() + 5);

  ASSERT_OK(put(owner(), kProjectA, "c", "obj", v3));
  ASSERT_OK(put(owner(), kProjectA, "c", "obj", v3));
  expect_container_usage("c", 1, v3.size());
  expect_container_usage("d", 1, 5);
  expect_account_usage(2, 2, v3.size() + 5);
  EXPECT_EQ(blob_count(), 2u);
  auto l = list("c");
  ASSERT_OK(l);
  ASSERT_EQ(l->entries.size(), 1u);
  EXPECT_EQ(l->entries[0].size, v3.size());
  EXPECT_EQ(l->entries[0].etag, md5_hex(v3));
  expect_consistent();
}

// A download that started before an overwrite finishes with the old bytes: readers see one
// version or the other, whole, never an error halfway through. (Swift serves the old object from
// its open file.) Here the object has several parts, and the reader has read into the first.
TEST_P(EngineTest, ReaderOfTheOldVersionFinishesAfterAnOverwrite) {
  ASSERT_OK(put_container(owner(), kProjectA, "c"));
  const std::string v1 = pattern(5 * kMiB / 2, 21), v2 = pattern(5 * kMiB / 2, 22);
  ASSERT_OK(put(owner(), kProjectA, "c", "big", v1));
  auto old = head(owner(), kProjectA, "c", "big");
  ASSERT_OK(old);
  ASSERT_EQ(old->parts.size(), 3u);
  auto finished = await([&]() -> awaitable<Result<std::string>> {
    auto src = co_await engine().open_object(*old, 0, old->size);
    if (!src) { co_return src.error(); }
    std::string first(64 * 1024, '\0');
    auto n = co_await (*src)->read(std::span<char>(first.data(), first.size()));
    if (!n) { co_return n.error(); }
    first.resize(*n);
    // The overwrite commits while the download is under way.
    StringSource body(v2);
    PutRequest req;
    req.content_length = v2.size();
    auto put_r = co_await engine().put_object(owner(), kProjectA, "c", "big", req, body);
    if (!put_r) { co_return put_r.error(); }
    auto rest = co_await read_all(**src, 64 * kMiB);
    if (!rest) { co_return rest.error(); }
    co_return first + *rest;
  });
  ASSERT_OK(finished);
  EXPECT_TRUE(*finished == v1) << "the old version did not read back whole";
  auto now = get(owner(), kProjectA, "c", "big");
  ASSERT_OK(now);
  EXPECT_TRUE(*now == v2);
}

TEST_P(EngineTest, ZeroByteObjects) {
  ASSERT_OK(put_container(owner(), kProjectA, "c"));
  auto sized = put(owner(), kProjectA, "c", "empty", "");
  ASSERT_OK(sized);
  auto chunked = put_chunked(owner(), kProjectA, "c", "empty-chunked", "");
  ASSERT_OK(chunked);
  for (const char* name : {"empty", "empty-chunked"}) {
    SCOPED_TRACE(name);
    auto h = head(owner(), kProjectA, "c", name);
    ASSERT_OK(h);
    EXPECT_EQ(h->size, 0u);
    EXPECT_EQ(h->etag, md5_hex(""));
    EXPECT_TRUE(h->parts.empty());
    auto bytes = read(*h, 0, 0);
    ASSERT_OK(bytes);
    EXPECT_EQ(*bytes, "");
    EXPECT_ERRC(read(*h, 0, 1), Errc::invalid_argument);
  }
  expect_container_usage("c", 2, 0);
  expect_account_usage(1, 2, 0);
  EXPECT_EQ(blob_count(), 0u);
  EXPECT_EQ(temp_count(), 0u);
  // Overwriting with bytes and back to nothing.
  ASSERT_OK(put(owner(), kProjectA, "c", "empty", "now there are bytes"));
  ASSERT_OK(put(owner(), kProjectA, "c", "empty", ""));
  expect_container_usage("c", 2, 0);
  EXPECT_EQ(blob_count(), 0u);
  ASSERT_OK(del(owner(), kProjectA, "c", "empty"));
  expect_container_usage("c", 1, 0);
  expect_consistent();
}

TEST_P(EngineTest, LargeObjectIsStoredInPartsAndReadsBackAcrossThem) {
  ASSERT_OK(put_container(owner(), kProjectA, "big"));
  const std::string body = pattern(5 * kMiB / 2, 7);  // 2.5 MiB
  auto put_info = put(owner(), kProjectA, "big", "two-and-a-half", body);
  ASSERT_OK(put_info);
  EXPECT_EQ(put_info->etag, md5_hex(body));
  auto h = head(owner(), kProjectA, "big", "two-and-a-half");
  ASSERT_OK(h);
  EXPECT_EQ(h->size, body.size());
  EXPECT_EQ(h->etag, md5_hex(body));  // one MD5 over all the parts, as Swift reports for a plain object
  ASSERT_EQ(h->parts.size(), 3u);
  EXPECT_EQ(h->parts[0].size, kMiB);
  EXPECT_EQ(h->parts[1].size, kMiB);
  EXPECT_EQ(h->parts[2].size, kMiB / 2);
  EXPECT_NE(h->parts[0].blob_key, h->parts[1].blob_key);
  for (const auto& p : h->parts) { EXPECT_TRUE(fs::exists(blob_path(p.blob_key))) << p.blob_key; }
  // Several blobs: one descriptor per blob the range touches, with the offsets inside each.
  auto files = engine().open_object_files(*h, kMiB - 10, kMiB + 20);
  ASSERT_OK(files);
  ASSERT_EQ(files->size(), 3u);
  EXPECT_EQ((*files)[0].offset, kMiB - 10);
  EXPECT_EQ((*files)[0].length, 10u);
  EXPECT_EQ((*files)[1].offset, 0u);
  EXPECT_EQ((*files)[1].length, kMiB);
  EXPECT_EQ((*files)[2].offset, 0u);
  EXPECT_EQ((*files)[2].length, 10u);
  std::string stitched;
  for (const auto& f : *files) {
    std::string piece(f.length, '\0');
    EXPECT_EQ(::pread(f.fd, piece.data(), piece.size(), static_cast<off_t>(f.offset)), static_cast<ssize_t>(piece.size()));
    stitched += piece;
    ::close(f.fd);
  }
  EXPECT_TRUE(stitched == body.substr(kMiB - 10, kMiB + 20));
  EXPECT_ERRC(engine().open_object_files(*h, 0, body.size() + 1), Errc::invalid_argument);

  auto all = read_all_of(*h);
  ASSERT_OK(all);
  EXPECT_TRUE(*all == body) << "2.5 MiB read back differently";
  struct Range {
    std::uint64_t offset, length;
  };
  const std::vector<Range> ranges = {
      {0, 1},
      {kMiB - 10, 20},                     // across the first boundary
      {kMiB - 1, 1},                       // the last byte of part 1
      {kMiB, 1},                           // the first byte of part 2
      {kMiB - 5, kMiB + 10},               // part 1's end, all of part 2, part 3's start
      {2 * kMiB - 1, 2},                   // across the second boundary
      {2 * kMiB + 100, 1000},              // inside part 3
      {body.size() - 1, 1},                // the last byte
      {1, body.size() - 2},                // all but the ends
      {body.size(), 0},                    // nothing, at the end
  };
  for (const auto& r : ranges) {
    auto got = read(*h, r.offset, r.length);
    ASSERT_OK(got);
    EXPECT_TRUE(*got == body.substr(r.offset, r.length)) << "range " << r.offset << "+" << r.length;
  }
  EXPECT_ERRC(read(*h, 2 * kMiB, kMiB), Errc::invalid_argument);

  // Exactly two parts' worth: two full parts, no empty third.
  const std::string two = pattern(2 * kMiB, 8);
  ASSERT_OK(put(owner(), kProjectA, "big", "two", two));
  auto h2 = head(owner(), kProjectA, "big", "two");
  ASSERT_OK(h2);
  ASSERT_EQ(h2->parts.size(), 2u);
  EXPECT_EQ(h2->parts[0].size, kMiB);
  EXPECT_EQ(h2->parts[1].size, kMiB);
  EXPECT_EQ(h2->etag, md5_hex(two));
  auto across = read(*h2, kMiB - 3, 6);
  ASSERT_OK(across);
  EXPECT_EQ(*across, two.substr(kMiB - 3, 6));
  auto two_back = read_all_of(*h2);
  ASSERT_OK(two_back);
  EXPECT_TRUE(*two_back == two);

  // Exactly one part's worth is a single blob.
  const std::string one = pattern(kMiB, 9);
  ASSERT_OK(put(owner(), kProjectA, "big", "one", one));
  auto h1 = head(owner(), kProjectA, "big", "one");
  ASSERT_OK(h1);
  EXPECT_EQ(h1->parts.size(), 1u);

  // Without a Content-Length, in small pieces: the same parts.
  ASSERT_OK(put_chunked(owner(), kProjectA, "big", "chunked", body));
  auto hc = head(owner(), kProjectA, "big", "chunked");
  ASSERT_OK(hc);
  EXPECT_EQ(hc->size, body.size());
  EXPECT_EQ(hc->etag, md5_hex(body));
  EXPECT_EQ(hc->parts.size(), 3u);
  auto chunked_back = read(*hc, kMiB - 100, kMiB + 200);
  ASSERT_OK(chunked_back);
  EXPECT_TRUE(*chunked_back == body.substr(kMiB - 100, kMiB + 200));
  ASSERT_OK(put_chunked(owner(), kProjectA, "big", "chunked-two", two));
  auto hc2 = head(owner(), kProjectA, "big", "chunked-two");
  ASSERT_OK(hc2);
  EXPECT_EQ(hc2->parts.size(), 2u);
  EXPECT_EQ(hc2->size, two.size());

  const std::uint64_t total = body.size() * 2 + two.size() * 2 + one.size();
  expect_container_usage("big", 5, total);
  expect_account_usage(1, 5, total);
  EXPECT_EQ(blob_count(), 3u + 2u + 1u + 3u + 2u);
  auto l = list("big");
  ASSERT_OK(l);
  ASSERT_EQ(l->entries.size(), 5u);
  EXPECT_EQ(l->entries[4].name, "two-and-a-half");
  EXPECT_EQ(l->entries[4].size, body.size());

  // Deleting removes every part's blob.
  ASSERT_OK(del(owner(), kProjectA, "big", "two-and-a-half"));
  for (const auto& p : h->parts) { EXPECT_FALSE(fs::exists(blob_path(p.blob_key))) << p.blob_key; }
  EXPECT_EQ(blob_count(), 2u + 1u + 3u + 2u);
  expect_consistent();
}

TEST_P(EngineTest, TooLargeObjectLeavesNothing) {
  config_.max_object_size = 3 * kMiB;
  engine_ = make_object_service(*meta_, *blobs_, policy_, config_, clock_);
  ASSERT_OK(put_container(owner(), kProjectA, "c"));
  const std::string body = pattern(3 * kMiB + 1);
  EXPECT_ERRC(put(owner(), kProjectA, "c", "declared", body), Errc::too_large);
  EXPECT_ERRC(put_chunked(owner(), kProjectA, "c", "streamed", body), Errc::too_large);
  EXPECT_ERRC(head(owner(), kProjectA, "c", "streamed"), Errc::not_found);
  EXPECT_EQ(blob_count(), 0u);
  EXPECT_EQ(temp_count(), 0u);
  ASSERT_OK(put_chunked(owner(), kProjectA, "c", "just-fits", body.substr(1)));
  expect_container_usage("c", 1, 3 * kMiB);
}

// A blob store over another that watches how a large object's puts overlap. A put that took a
// whole part waits, once its blob is durable, for the next put to begin (up to 5 s): an engine
// that wrote one blob after the other would make every such wait run out. It can also fail the
// n-th put after its blob was written, as a RADOS head write or an fsync can.
class OverlapProbe final : public store::BlobStore {
 public:
  OverlapProbe(store::BlobStore& inner, std::uint64_t part_size) : inner_(inner), part_size_(part_size) {}

  awaitable<Result<store::BlobInfo>> put(std::string key, ByteSource& source, std::uint64_t max_size,
                                         store::BlobPutOptions options) override {
    const int index = started_++;
    most_in_flight_ = std::max(most_in_flight_, ++in_flight_);
    auto r = co_await inner_.put(key, source, max_size, std::move(options));
    if (r && index == fail_at_) {
      r = make_error(Errc::unavailable, "the probe failed this put after its blob was written");
      failed_ = true;
    }
    if (r && r->size == part_size_ && !failed_) {  // after a failure no next put comes
      boost::asio::steady_timer t(co_await boost::asio::this_coro::executor);
      for (int i = 0; i < 500 && started_ < index + 2; ++i) {
        t.expires_after(10ms);
        co_await t.async_wait(boost::asio::use_awaitable);
      }
      if (started_ < index + 2) { ++waits_run_out_; }
    }
    --in_flight_;
    co_return r;
  }
  awaitable<Result<store::BlobInfo>> stat(std::string key) override { co_return co_await inner_.stat(key); }
  awaitable<Result<std::unique_ptr<ByteSource>>> open(std::string key, std::uint64_t offset, std::uint64_t length) override {
    co_return co_await inner_.open(key, offset, length);
  }
  Result<int> open_fd(const std::string& key) override { return inner_.open_fd(key); }
  awaitable<Status> remove(std::string key) override { co_return co_await inner_.remove(key); }
  Status remove_sync(const std::string& key) override { return inner_.remove_sync(key); }
  Result<store::ScrubReport> scrub(const std::function<void(std::string_view)>& progress) override { return inner_.scrub(progress); }
  Status for_each_blob(const std::function<void(const std::string&, SystemTime)>& fn) override { return inner_.for_each_blob(fn); }
  Result<std::uint64_t> collect_temp_files(std::chrono::seconds age) override { return inner_.collect_temp_files(age); }

  int puts() const { return started_; }
  int most_in_flight() const { return most_in_flight_; }
  int waits_run_out() const { return waits_run_out_; }
  void fail_put(int index) { fail_at_ = index; }

 private:
  store::BlobStore& inner_;
  std::uint64_t part_size_;
  // The test's io_context runs on one thread.
  int started_ = 0, in_flight_ = 0, most_in_flight_ = 0, waits_run_out_ = 0, fail_at_ = -1;
  bool failed_ = false;
};

// A large object's next part is received while the one before is made durable (the OSD or the
// disk never idles between two blobs), two blobs at a time, with one MD5 over the whole body.
TEST_P(EngineTest, LargeObjectReceivesTheNextPartWhileTheLastOneDrains) {
  auto probe_owner = std::make_unique<OverlapProbe>(*blobs_, config_.part_size);
  OverlapProbe& probe = *probe_owner;
  wrapped_blobs_ = std::move(probe_owner);
  engine_ = make_object_service(*meta_, probe, policy_, config_, clock_);
  ASSERT_OK(put_container(owner(), kProjectA, "c"));
  const std::string body = pattern(7 * kMiB / 2, 5);  // three whole parts and half of one
  auto declared = put(owner(), kProjectA, "c", "declared", body);
  ASSERT_OK(declared);
  auto streamed = put_chunked(owner(), kProjectA, "c", "streamed", body);
  ASSERT_OK(streamed);
  EXPECT_EQ(probe.puts(), 8);
  EXPECT_EQ(probe.waits_run_out(), 0) << "a durable part waited in vain for the next one to begin";
  EXPECT_EQ(probe.most_in_flight(), 2);
  for (const auto& name : {"declared", "streamed"}) {
    SCOPED_TRACE(name);
    auto h = head(owner(), kProjectA, "c", name);
    ASSERT_OK(h);
    EXPECT_EQ(h->etag, md5_hex(body));
    EXPECT_EQ(h->size, body.size());
    ASSERT_EQ(h->parts.size(), 4u);
    EXPECT_EQ(h->parts[3].size, kMiB / 2);
    auto back = read_all_of(*h);
    ASSERT_OK(back);
    EXPECT_TRUE(*back == body);
  }
  EXPECT_EQ(blob_count(), 8u);

  // The second blob fails after it was written, while the third is being received: the upload
  // fails with its error, and no blob of it stays.
  probe.fail_put(probe.puts() + 1);
  EXPECT_ERRC(put(owner(), kProjectA, "c", "failing", body), Errc::unavailable);
  EXPECT_ERRC(head(owner(), kProjectA, "c", "failing"), Errc::not_found);
  EXPECT_EQ(blob_count(), 8u);
  EXPECT_EQ(temp_count(), 0u);
  expect_container_usage("c", 2, 2 * body.size());
  expect_consistent();
}

TEST_P(EngineTest, EtagMismatchLeavesNothing) {
  ASSERT_OK(put_container(owner(), kProjectA, "c"));
  ASSERT_OK(put(owner(), kProjectA, "c", "keep", "kept"));
  const std::size_t blobs_before = blob_count();
  std::uint64_t objects = 1, bytes = 4;
  std::size_t blobs = blobs_before;
  for (std::size_t size : {std::size_t{1000}, std::size_t{5 * kMiB / 2}}) {
    SCOPED_TRACE(size);
    const std::string body = pattern(size, 3);
    PutRequest req;
    req.expected_etag = md5_hex(body + "x");
    auto r = put(owner(), kProjectA, "c", "bad", body, req);
    EXPECT_ERRC(r, Errc::invalid_argument);
    EXPECT_EQ(r.error().message, kEtagMismatch);
    auto chunked = put_chunked(owner(), kProjectA, "c", "bad", body, req);
    EXPECT_ERRC(chunked, Errc::invalid_argument);
    EXPECT_EQ(chunked.error().message, kEtagMismatch);
    EXPECT_ERRC(head(owner(), kProjectA, "c", "bad"), Errc::not_found);
    expect_container_usage("c", objects, bytes);
    expect_account_usage(1, objects, bytes);
    EXPECT_EQ(blob_count(), blobs);
    EXPECT_EQ(temp_count(), 0u);
    // The same body with its real ETag goes in.
    req.expected_etag = md5_hex(body);
    auto good = put(owner(), kProjectA, "c", "good-" + std::to_string(size), body, req);
    ASSERT_OK(good);
    objects += 1;
    bytes += size;
    blobs += good->parts.size();
  }
  // An overwrite that fails keeps the old version.
  PutRequest req;
  req.expected_etag = md5_hex("nope");
  EXPECT_ERRC(put(owner(), kProjectA, "c", "keep", "replacement", req), Errc::invalid_argument);
  auto kept = get(owner(), kProjectA, "c", "keep");
  ASSERT_OK(kept);
  EXPECT_EQ(*kept, "kept");
  // A body shorter than its Content-Length is refused the same way.
  req = {};
  req.content_length = 100;
  EXPECT_ERRC(put(owner(), kProjectA, "c", "short", "only 16 bytes...", req), Errc::invalid_argument);
  EXPECT_ERRC(head(owner(), kProjectA, "c", "short"), Errc::not_found);
  expect_container_usage("c", 3, 4 + 1000 + 5 * kMiB / 2);
  EXPECT_EQ(blob_count(), blobs_before + 1 + 3);
  expect_consistent();
}

TEST_P(EngineTest, QuotasRefuseAndWriteNothing) {
  ASSERT_OK(put_container(owner(), kProjectA, "bytes", {{std::string(kMetaQuotaBytes), "100"}}));
  ASSERT_OK(put_container(owner(), kProjectA, "count", {{std::string(kMetaQuotaCount), "2"}}));
  ASSERT_OK(put(owner(), kProjectA, "bytes", "a", std::string(60, 'a')));
  const std::size_t blobs_before = blob_count();
  auto over = put(owner(), kProjectA, "bytes", "b", std::string(41, 'b'));
  EXPECT_ERRC(over, Errc::quota_exceeded);
  EXPECT_EQ(over.error().message, kQuotaExceeded);
  // Without a Content-Length the engine finds out after the bytes are in: still nothing kept.
  EXPECT_ERRC(put_chunked(owner(), kProjectA, "bytes", "b", std::string(41, 'b')), Errc::quota_exceeded);
  EXPECT_ERRC(head(owner(), kProjectA, "bytes", "b"), Errc::not_found);
  EXPECT_EQ(blob_count(), blobs_before);
  EXPECT_EQ(temp_count(), 0u);
  expect_container_usage("bytes", 1, 60);
  ASSERT_OK(put(owner(), kProjectA, "bytes", "b", std::string(40, 'b')));  // exactly at the quota
  expect_container_usage("bytes", 2, 100);

  ASSERT_OK(put(owner(), kProjectA, "count", "1", "x"));
  ASSERT_OK(put(owner(), kProjectA, "count", "2", "y"));
  const std::size_t blobs_mid = blob_count();
  auto third = put(owner(), kProjectA, "count", "3", "z");
  EXPECT_ERRC(third, Errc::quota_exceeded);
  EXPECT_EQ(third.error().message, kQuotaExceeded);
  EXPECT_ERRC(put_chunked(owner(), kProjectA, "count", "3", "z"), Errc::quota_exceeded);
  EXPECT_ERRC(head(owner(), kProjectA, "count", "3"), Errc::not_found);
  EXPECT_EQ(blob_count(), blobs_mid);
  expect_container_usage("count", 2, 2);
  expect_account_usage(2, 4, 102);
  // Room again after a delete.
  ASSERT_OK(del(owner(), kProjectA, "count", "1"));
  ASSERT_OK(put(owner(), kProjectA, "count", "3", "z"));
  expect_container_usage("count", 2, 2);
  expect_consistent();
}

// --- containers ----------------------------------------------------------------------------------

TEST_P(EngineTest, ContainersCreateUpdateAndDeleteOnlyWhenEmpty) {
  auto created = put_container(owner(), kProjectA, "c", {{"color", "red"}});
  ASSERT_OK(created);
  EXPECT_TRUE(*created);
  auto again = put_container(owner(), kProjectA, "c", {{"size", "big"}});
  ASSERT_OK(again);
  EXPECT_FALSE(*again);
  auto c = container("c");
  ASSERT_OK(c);
  EXPECT_EQ(c->meta, (Metadata{{"color", "red"}, {"size", "big"}}));
  EXPECT_EQ(c->project_id, kProjectA);
  expect_account_usage(1, 0, 0);

  ASSERT_OK(put(owner(), kProjectA, "c", "obj", "data"));
  auto refused = await([&] { return engine().delete_container(owner(), kProjectA, "c"); });
  EXPECT_ERRC(refused, Errc::conflict);
  EXPECT_EQ(refused.error().message, kContainerNotEmpty);
  EXPECT_OK(head(owner(), kProjectA, "c", "obj"));
  expect_account_usage(1, 1, 4);

  ASSERT_OK(del(owner(), kProjectA, "c", "obj"));
  ASSERT_OK(await([&] { return engine().delete_container(owner(), kProjectA, "c"); }));
  EXPECT_ERRC(container("c"), Errc::not_found);
  EXPECT_ERRC(await([&] { return engine().delete_container(owner(), kProjectA, "c"); }), Errc::not_found);
  expect_account_usage(0, 0, 0);
  auto containers = await([&] { return engine().list_containers(owner(), kProjectA, ListQuery{}); });
  ASSERT_OK(containers);
  EXPECT_TRUE(containers->entries.empty());
  expect_consistent();
}

TEST_P(EngineTest, ListingsThroughTheEngine) {
  ASSERT_OK(put_container(owner(), kProjectA, "c"));
  ASSERT_OK(put_container(owner(), kProjectA, "other"));
  for (std::string n : {"a/1", "a/2", "a/b/c", "b", "c/d/e", "c/f", "d"}) {
    PutRequest req;
    req.content_type = "text/plain";
    ASSERT_OK(put(owner(), kProjectA, "c", n, "body of " + n, req));
  }
  ASSERT_OK(put(owner(), kProjectA, "other", "x", "x"));

  EXPECT_EQ(names("c"), (std::vector<std::string>{"a/1", "a/2", "a/b/c", "b", "c/d/e", "c/f", "d"}));
  ListQuery q;
  q.delimiter = "/";
  EXPECT_EQ(names("c", q), (std::vector<std::string>{"subdir:a/", "b", "subdir:c/", "d"}));
  q.prefix = "a/";
  EXPECT_EQ(names("c", q), (std::vector<std::string>{"a/1", "a/2", "subdir:a/b/"}));
  q = {};
  q.prefix = "c/";
  EXPECT_EQ(names("c", q), (std::vector<std::string>{"c/d/e", "c/f"}));
  q = {};
  q.marker = "a/2";
  q.end_marker = "c/f";
  EXPECT_EQ(names("c", q), (std::vector<std::string>{"a/b/c", "b", "c/d/e"}));
  q = {};
  q.delimiter = "/";
  q.marker = "a/";
  q.limit = 2;
  auto page = list("c", q);
  ASSERT_OK(page);
  ASSERT_EQ(page->entries.size(), 2u);
  EXPECT_EQ(page->entries[0].name, "b");
  EXPECT_EQ(page->entries[1].name, "c/");
  EXPECT_TRUE(page->entries[1].is_prefix);
  EXPECT_TRUE(page->truncated);
  q = {};
  q.reverse = true;
  q.marker = "c/f";
  q.end_marker = "a/1";
  EXPECT_EQ(names("c", q), (std::vector<std::string>{"c/d/e", "b", "a/b/c", "a/2"}));

  // Rows carry what a listing shows.
  q = {};
  q.prefix = "b";
  auto l = list("c", q);
  ASSERT_OK(l);
  ASSERT_EQ(l->entries.size(), 1u);
  EXPECT_EQ(l->entries[0].size, std::string("body of b").size());
  EXPECT_EQ(l->entries[0].etag, md5_hex("body of b"));
  EXPECT_EQ(l->entries[0].content_type, "text/plain");
  EXPECT_EQ(l->entries[0].modified_us, std::chrono::duration_cast<std::chrono::microseconds>(clock_.now().time_since_epoch()).count());
  EXPECT_FALSE(l->entries[0].is_prefix);

  // object.max_listing caps the limit.
  config_.max_listing = 3;
  auto capped = make_object_service(*meta_, *blobs_, policy_, config_, clock_);
  auto cl = await([&] { return capped->list_objects(owner(), kProjectA, "c", ListQuery{}); });
  ASSERT_OK(cl);
  EXPECT_EQ(cl->entries.size(), 3u);
  EXPECT_TRUE(cl->truncated);

  // Containers, with their counters.
  auto containers = await([&] { return engine().list_containers(owner(), kProjectA, ListQuery{}); });
  ASSERT_OK(containers);
  ASSERT_EQ(containers->entries.size(), 2u);
  EXPECT_EQ(containers->entries[0].name, "c");
  EXPECT_EQ(containers->entries[0].count, 7u);
  EXPECT_EQ(containers->entries[1].name, "other");
  EXPECT_EQ(containers->entries[1].count, 1u);
  EXPECT_EQ(containers->entries[1].size, 1u);
  EXPECT_ERRC(list("missing"), Errc::not_found);
}

// Names compare bytewise (UTF-8 order) on both backends, and any valid UTF-8 prefix, delimiter or
// marker lists. U+00FF is C3 BF: the smallest string past the prefix "\xc3\xbf" is not UTF-8.
TEST_P(EngineTest, ListingsOrderNamesBytewiseForAnyUtf8Prefix) {
  ASSERT_OK(put_container(owner(), kProjectA, "u"));
  const std::string e_acute = "\xc3\xa9", y_diaeresis = "\xc3\xbf", a_macron = "\xc4\x80", euro = "\xe2\x82\xac",
                    rocket = "\xf0\x9f\x9a\x80";
  for (const std::string& n : {std::string("Z"), std::string("a"), std::string("z"), e_acute, y_diaeresis + "/x", y_diaeresis + "1",
                               y_diaeresis + "2", a_macron, euro, rocket}) {
    ASSERT_OK(put(owner(), kProjectA, "u", n, "x"));
  }
  using Names = std::vector<std::string>;
  EXPECT_EQ(names("u"), (Names{"Z", "a", "z", e_acute, y_diaeresis + "/x", y_diaeresis + "1", y_diaeresis + "2", a_macron, euro, rocket}));
  ListQuery q;
  q.prefix = y_diaeresis;
  EXPECT_EQ(names("u", q), (Names{y_diaeresis + "/x", y_diaeresis + "1", y_diaeresis + "2"}));
  q.delimiter = "/";
  EXPECT_EQ(names("u", q), (Names{"subdir:" + y_diaeresis + "/", y_diaeresis + "1", y_diaeresis + "2"}));
  q = {};
  q.prefix = y_diaeresis;
  q.reverse = true;
  EXPECT_EQ(names("u", q), (Names{y_diaeresis + "2", y_diaeresis + "1", y_diaeresis + "/x"}));
  q = {};
  q.delimiter = y_diaeresis;
  EXPECT_EQ(names("u", q), (Names{"Z", "a", "z", e_acute, "subdir:" + y_diaeresis, a_macron, euro, rocket}));
  q = {};
  q.marker = y_diaeresis;
  q.end_marker = euro;
  EXPECT_EQ(names("u", q), (Names{y_diaeresis + "/x", y_diaeresis + "1", y_diaeresis + "2", a_macron}));
  q = {};
  q.prefix = euro;
  EXPECT_EQ(names("u", q), (Names{euro}));
  auto containers = await([&] {
    ListQuery cq;
    cq.prefix = "u";
    return engine().list_containers(owner(), kProjectA, cq);
  });
  ASSERT_OK(containers);
  EXPECT_EQ(containers->entries.size(), 1u);
}

// --- expiry --------------------------------------------------------------------------------------

TEST_P(EngineTest, ExpiredObjectsVanishAndTheReaperRemovesThem) {
  ASSERT_OK(put_container(owner(), kProjectA, "c"));
  const std::int64_t now_s = unix_seconds(clock_.now());
  PutRequest soon;
  soon.delete_at = now_s + 60;
  ASSERT_OK(put(owner(), kProjectA, "c", "soon", "expiring bytes", soon));
  ASSERT_OK(put(owner(), kProjectA, "c", "forever", "kept"));
  PutRequest later;
  later.delete_at = now_s + 3600;
  ASSERT_OK(put(owner(), kProjectA, "c", "later", "later", later));
  auto h = head(owner(), kProjectA, "c", "soon");
  ASSERT_OK(h);
  EXPECT_EQ(h->delete_at, std::optional<std::int64_t>(now_s + 60));
  auto reaped = await([&] { return engine().reap_expired(100); });
  ASSERT_OK(reaped);
  EXPECT_EQ(*reaped, 0u);

  clock_.advance(60s);  // delete_at == now: gone
  EXPECT_ERRC(head(owner(), kProjectA, "c", "soon"), Errc::not_found);
  EXPECT_OK(head(owner(), kProjectA, "c", "forever"));
  EXPECT_OK(head(owner(), kProjectA, "c", "later"));
  EXPECT_ERRC(await([&] { return engine().update_object(owner(), kProjectA, "c", "soon", ObjectUpdate{}); }), Errc::not_found);

  reaped = await([&] { return engine().reap_expired(100); });
  ASSERT_OK(reaped);
  EXPECT_EQ(*reaped, 1u);
  EXPECT_EQ(names("c"), (std::vector<std::string>{"forever", "later"}));
  expect_container_usage("c", 2, 4 + 5);
  expect_account_usage(1, 2, 4 + 5);
  EXPECT_EQ(blob_count(), 2u);
  reaped = await([&] { return engine().reap_expired(100); });
  ASSERT_OK(reaped);
  EXPECT_EQ(*reaped, 0u);

  // A name can be written again after it expired, before the reaper ran.
  PutRequest short_lived;
  short_lived.delete_at = unix_seconds(clock_.now()) + 1;
  ASSERT_OK(put(owner(), kProjectA, "c", "again", "first", short_lived));
  clock_.advance(2s);
  ASSERT_OK(put(owner(), kProjectA, "c", "again", "second"));
  auto again = get(owner(), kProjectA, "c", "again");
  ASSERT_OK(again);
  EXPECT_EQ(*again, "second");
  expect_container_usage("c", 3, 4 + 5 + 6);

  // Several at once, within the limit per call.
  for (int i = 0; i < 5; ++i) {
    PutRequest r;
    r.delete_at = unix_seconds(clock_.now()) + 10;
    ASSERT_OK(put(owner(), kProjectA, "c", "batch" + std::to_string(i), "12345", r));
  }
  clock_.advance(3600s);
  reaped = await([&] { return engine().reap_expired(4); });
  ASSERT_OK(reaped);
  EXPECT_EQ(*reaped, 4u);
  reaped = await([&] { return engine().reap_expired(100); });
  ASSERT_OK(reaped);
  EXPECT_EQ(*reaped, 2u);  // the last batch object and "later"
  EXPECT_EQ(names("c"), (std::vector<std::string>{"again", "forever"}));
  expect_container_usage("c", 2, 4 + 6);
  expect_account_usage(1, 2, 4 + 6);
  EXPECT_EQ(blob_count(), 2u);
  expect_consistent();
}

// --- versions ------------------------------------------------------------------------------------

// Swift's archive name: 3 hex digits of the name's length, the name, '/', the version's time.
TEST_P(EngineTest, StackVersionsArchiveOnOverwriteAndRestoreOnDelete) {
  ASSERT_OK(put_container(owner(), kProjectA, "archive"));
  ASSERT_OK(put_container(owner(), kProjectA, "docs", {}, {{std::string(kSysVersionsLocation), "archive"}}));
  const std::string name = "report.txt";  // 10 bytes: "00a"
  ASSERT_OK(put(owner(), kProjectA, "docs", name, "one"));  // at 1800000000.000000
  clock_.advance(1234567us);
  ASSERT_OK(put(owner(), kProjectA, "docs", name, "two!!"));  // at 1800000001.234567
  auto current = get(owner(), kProjectA, "docs", name);
  ASSERT_OK(current);
  EXPECT_EQ(*current, "two!!");
  EXPECT_EQ(names("archive"), (std::vector<std::string>{"00areport.txt/1800000000.00000"}));
  auto archived = get(owner(), kProjectA, "archive", "00areport.txt/1800000000.00000");
  ASSERT_OK(archived);
  EXPECT_EQ(*archived, "one");
  expect_container_usage("docs", 1, 5);
  expect_container_usage("archive", 1, 3);
  expect_account_usage(2, 2, 8);

  clock_.advance(10s);
  ASSERT_OK(put(owner(), kProjectA, "docs", name, "three"));
  EXPECT_EQ(names("archive"),
            (std::vector<std::string>{"00areport.txt/1800000000.00000", "00areport.txt/1800000001.23456"}));
  expect_container_usage("docs", 1, 5);
  expect_container_usage("archive", 2, 8);
  expect_account_usage(2, 3, 13);
  EXPECT_EQ(blob_count(), 3u);
  expect_consistent();

  // Each delete brings the newest archived version back.
  clock_.advance(1s);
  auto d1 = del(owner(), kProjectA, "docs", name);
  ASSERT_OK(d1);
  EXPECT_EQ(d1->etag, md5_hex("three"));
  current = get(owner(), kProjectA, "docs", name);
  ASSERT_OK(current);
  EXPECT_EQ(*current, "two!!");
  EXPECT_EQ(names("archive"), (std::vector<std::string>{"00areport.txt/1800000000.00000"}));
  expect_container_usage("docs", 1, 5);
  expect_container_usage("archive", 1, 3);
  expect_account_usage(2, 2, 8);
  EXPECT_EQ(blob_count(), 2u);

  ASSERT_OK(del(owner(), kProjectA, "docs", name));
  current = get(owner(), kProjectA, "docs", name);
  ASSERT_OK(current);
  EXPECT_EQ(*current, "one");
  EXPECT_TRUE(names("archive").empty());
  expect_container_usage("docs", 1, 3);
  expect_container_usage("archive", 0, 0);

  ASSERT_OK(del(owner(), kProjectA, "docs", name));
  EXPECT_ERRC(head(owner(), kProjectA, "docs", name), Errc::not_found);
  EXPECT_ERRC(del(owner(), kProjectA, "docs", name), Errc::not_found);
  expect_account_usage(2, 0, 0);
  EXPECT_EQ(blob_count(), 0u);
  expect_consistent();

  // Names of other lengths: the length is hex.
  const std::string long_name(300, 'n');
  ASSERT_OK(put(owner(), kProjectA, "docs", long_name, "v1"));
  clock_.advance(1s);
  ASSERT_OK(put(owner(), kProjectA, "docs", long_name, "v2"));
  auto arch = names("archive");
  ASSERT_EQ(arch.size(), 1u);
  EXPECT_EQ(arch[0].substr(0, 3), "12c");
  EXPECT_EQ(arch[0].substr(3, 301), long_name + "/");
}

TEST_P(EngineTest, HistoryVersionsWriteADeleteMarker) {
  ASSERT_OK(put_container(owner(), kProjectA, "archive"));
  ASSERT_OK(put_container(owner(), kProjectA, "docs", {},
                          {{std::string(kSysVersionsLocation), "archive"}, {std::string(kSysVersionsMode), "history"}}));
  ASSERT_OK(put(owner(), kProjectA, "docs", "f", "v1 bytes"));  // at 1800000000
  clock_.advance(2s);
  ASSERT_OK(put(owner(), kProjectA, "docs", "f", "v2"));  // v1 archived
  EXPECT_EQ(names("archive"), (std::vector<std::string>{"001f/1800000000.00000"}));
  clock_.advance(3s);
  auto deleted = del(owner(), kProjectA, "docs", "f");  // at 1800000005: v2 archived, then a marker
  ASSERT_OK(deleted);
  EXPECT_EQ(deleted->etag, md5_hex("v2"));
  EXPECT_ERRC(head(owner(), kProjectA, "docs", "f"), Errc::not_found);
  EXPECT_TRUE(names("docs").empty());
  auto l = list("archive");
  ASSERT_OK(l);
  ASSERT_EQ(l->entries.size(), 3u);
  EXPECT_EQ(l->entries[0].name, "001f/1800000000.00000");
  EXPECT_EQ(l->entries[1].name, "001f/1800000002.00000");
  EXPECT_EQ(l->entries[1].size, 2u);
  const auto& marker = l->entries[2];
  EXPECT_EQ(marker.name, "001f/1800000005.00000");
  EXPECT_EQ(marker.size, 0u);
  EXPECT_EQ(marker.content_type, "application/x-deleted;swift_versions_deleted=1");
  auto v1 = get(owner(), kProjectA, "archive", "001f/1800000000.00000");
  ASSERT_OK(v1);
  EXPECT_EQ(*v1, "v1 bytes");
  expect_container_usage("docs", 0, 0);
  expect_container_usage("archive", 3, 10);
  expect_account_usage(2, 3, 10);
  EXPECT_EQ(blob_count(), 2u);
  // Nothing left to delete; a new write starts afresh.
  EXPECT_ERRC(del(owner(), kProjectA, "docs", "f"), Errc::not_found);
  clock_.advance(1s);
  ASSERT_OK(put(owner(), kProjectA, "docs", "f", "v3"));
  auto v3 = get(owner(), kProjectA, "docs", "f");
  ASSERT_OK(v3);
  EXPECT_EQ(*v3, "v3");
  EXPECT_EQ(names("archive").size(), 3u);
  expect_account_usage(2, 4, 12);
  expect_consistent();
}

// --- copies --------------------------------------------------------------------------------------

TEST_P(EngineTest, CopySharesBlobsUntilTheLastNameGoes) {
  ASSERT_OK(put_container(owner(), kProjectA, "src"));
  ASSERT_OK(put_container(owner(), kProjectA, "dst"));
  const std::string big = pattern(5 * kMiB / 2, 11), small = pattern(1000, 12);
  PutRequest meta_req;
  meta_req.content_type = "application/x-big";
  meta_req.meta = {{"origin", "camera"}};
  ASSERT_OK(put(owner(), kProjectA, "src", "big", big, meta_req));
  ASSERT_OK(put(owner(), kProjectA, "src", "small", small));
  ASSERT_EQ(blob_count(), 4u);

  CopyRequest merge;
  merge.put.meta = {{"copied", "yes"}};
  auto big_copy = copy(owner(), kProjectA, "src", "big", kProjectA, "dst", "big-copy", merge);
  ASSERT_OK(big_copy);
  auto small_copy = copy(owner(), kProjectA, "src", "small", kProjectA, "dst", "small-copy");
  ASSERT_OK(small_copy);
  CopyRequest fresh;
  fresh.fresh_metadata = true;
  fresh.put.content_type = "text/plain";
  auto same_container = copy(owner(), kProjectA, "src", "small", kProjectA, "src", "small-2", fresh);
  ASSERT_OK(same_container);
  EXPECT_EQ(blob_count(), 4u) << "a copy wrote bytes";
  EXPECT_EQ(temp_count(), 0u);

  auto hb = head(owner(), kProjectA, "dst", "big-copy");
  ASSERT_OK(hb);
  EXPECT_EQ(hb->etag, md5_hex(big));
  EXPECT_EQ(hb->size, big.size());
  EXPECT_EQ(hb->content_type, "application/x-big");
  EXPECT_EQ(hb->meta, (Metadata{{"copied", "yes"}, {"origin", "camera"}}));
  EXPECT_EQ(hb->parts.size(), 3u);
  auto hs2 = head(owner(), kProjectA, "src", "small-2");
  ASSERT_OK(hs2);
  EXPECT_EQ(hs2->content_type, "text/plain");
  EXPECT_TRUE(hs2->meta.empty());
  auto big_back = read(*hb, kMiB - 7, kMiB + 14);
  ASSERT_OK(big_back);
  EXPECT_TRUE(*big_back == big.substr(kMiB - 7, kMiB + 14));
  expect_container_usage("src", 3, big.size() + 2 * small.size());
  expect_container_usage("dst", 2, big.size() + small.size());
  expect_account_usage(2, 5, 2 * big.size() + 3 * small.size());
  expect_consistent();

  // The source goes; the copies still read.
  ASSERT_OK(del(owner(), kProjectA, "src", "big"));
  ASSERT_OK(del(owner(), kProjectA, "src", "small"));
  EXPECT_EQ(blob_count(), 4u);
  auto big_after = get(owner(), kProjectA, "dst", "big-copy");
  ASSERT_OK(big_after);
  EXPECT_TRUE(*big_after == big);
  auto small_after = get(owner(), kProjectA, "dst", "small-copy");
  ASSERT_OK(small_after);
  EXPECT_TRUE(*small_after == small);
  expect_consistent();

  // Overwriting a copy keeps the blobs the other names still use.
  ASSERT_OK(put(owner(), kProjectA, "dst", "small-copy", "replaced"));
  EXPECT_EQ(blob_count(), 5u);
  auto small_2 = get(owner(), kProjectA, "src", "small-2");
  ASSERT_OK(small_2);
  EXPECT_TRUE(*small_2 == small);

  // The last names go: so do the blobs.
  ASSERT_OK(del(owner(), kProjectA, "dst", "big-copy"));
  ASSERT_OK(del(owner(), kProjectA, "src", "small-2"));
  ASSERT_OK(del(owner(), kProjectA, "dst", "small-copy"));
  EXPECT_EQ(blob_count(), 0u);
  expect_account_usage(2, 0, 0);
  expect_consistent();

  EXPECT_ERRC(copy(owner(), kProjectA, "src", "gone", kProjectA, "dst", "x"), Errc::not_found);
  EXPECT_ERRC(copy(owner(), kProjectA, "dst", "gone", kProjectA, "nowhere", "x"), Errc::not_found);
}

// --- who may do what -----------------------------------------------------------------------------

TEST_P(EngineTest, OtherProjectsAreForbiddenAndAnonymousIsUnauthenticated) {
  ASSERT_OK(put_container(owner(), kProjectA, "private"));
  ASSERT_OK(put(owner(), kProjectA, "private", "secret", "the secret"));
  ASSERT_OK(put_container(access(member_b_), kProjectB, "mine"));
  ASSERT_OK(put(access(member_b_), kProjectB, "mine", "theirs", "b's bytes"));
  const std::size_t blobs_before = blob_count();

  struct Caller {
    const char* who;
    Access access;
    Errc expected;
  };
  const std::vector<Caller> callers = {
      {"a member of project B", access(member_b_), Errc::forbidden},
      {"anonymous", Access{}, Errc::unauthenticated},
  };
  for (const auto& caller : callers) {
    SCOPED_TRACE(caller.who);
    const Access& a = caller.access;
    const Errc expected = caller.expected;
    EXPECT_ERRC(await([&] { return engine().get_account(a, kProjectA); }), expected);
    EXPECT_ERRC(await([&] { return engine().list_containers(a, kProjectA, ListQuery{}); }), expected);
    EXPECT_ERRC(await([&] { return engine().update_account(a, kProjectA, {{"k", "v"}}, {}); }), expected);
    EXPECT_ERRC(put_container(a, kProjectA, "new"), expected);
    EXPECT_ERRC(put_container(a, kProjectA, "private", {{"k", "v"}}), expected);
    EXPECT_ERRC(await([&] { return engine().get_container(a, kProjectA, "private"); }), expected);
    EXPECT_ERRC(await([&] { return engine().get_container(a, kProjectA, "no-such-container"); }), expected);  // existence does not leak
    EXPECT_ERRC(await([&] { return engine().list_objects(a, kProjectA, "private", ListQuery{}); }), expected);
    EXPECT_ERRC(await([&] { return engine().update_container(a, kProjectA, "private", {{"k", "v"}}, {}); }), expected);
    EXPECT_ERRC(await([&] { return engine().delete_container(a, kProjectA, "private"); }), expected);
    EXPECT_ERRC(put(a, kProjectA, "private", "secret", "overwritten"), expected);
    EXPECT_ERRC(put(a, kProjectA, "private", "new", "planted"), expected);
    EXPECT_ERRC(head(a, kProjectA, "private", "secret"), expected);
    EXPECT_ERRC(head(a, kProjectA, "private", "no-such-object"), expected);
    ObjectUpdate update;
    update.meta = {{"k", "v"}};
    EXPECT_ERRC(await([&] { return engine().update_object(a, kProjectA, "private", "secret", update); }), expected);
    EXPECT_ERRC(del(a, kProjectA, "private", "secret"), expected);
    // Copies out of and into project A.
    EXPECT_ERRC(copy(a, kProjectA, "private", "secret", kProjectB, "mine", "stolen"), expected);
    EXPECT_ERRC(copy(a, kProjectB, "mine", "theirs", kProjectA, "private", "planted"), expected);
  }
  // Project A's data is untouched.
  auto secret = get(owner(), kProjectA, "private", "secret");
  ASSERT_OK(secret);
  EXPECT_EQ(*secret, "the secret");
  EXPECT_EQ(names("private"), (std::vector<std::string>{"secret"}));
  auto acct = account();
  ASSERT_OK(acct);
  EXPECT_TRUE(acct->meta.empty());
  auto c = container("private");
  ASSERT_OK(c);
  EXPECT_TRUE(c->meta.empty());
  expect_account_usage(1, 1, 10);
  EXPECT_EQ(blob_count(), blobs_before);
  EXPECT_EQ(temp_count(), 0u);
  EXPECT_ERRC(head(access(member_b_), kProjectB, "mine", "stolen"), Errc::not_found);

  // A reader of project A reads but does not write.
  const Access reader = access(reader_a_);
  EXPECT_OK(await([&] { return engine().get_account(reader, kProjectA); }));
  EXPECT_OK(await([&] { return engine().list_objects(reader, kProjectA, "private", ListQuery{}); }));
  EXPECT_OK(head(reader, kProjectA, "private", "secret"));
  EXPECT_ERRC(put(reader, kProjectA, "private", "new", "x"), Errc::forbidden);
  EXPECT_ERRC(del(reader, kProjectA, "private", "secret"), Errc::forbidden);
  EXPECT_ERRC(put_container(reader, kProjectA, "new"), Errc::forbidden);

  // A signature checked for project A (TempURL) reads and writes objects there, nothing else.
  Access signed_a;
  signed_a.signed_for_project = kProjectA;
  EXPECT_OK(head(signed_a, kProjectA, "private", "secret"));
  EXPECT_OK(put(signed_a, kProjectA, "private", "via-tempurl", "ok"));
  EXPECT_ERRC(await([&] { return engine().list_objects(signed_a, kProjectA, "private", ListQuery{}); }), Errc::unauthenticated);
  EXPECT_ERRC(head(signed_a, kProjectB, "mine", "theirs"), Errc::unauthenticated);
}

// S3's public-read-write: the container flag lets anyone write objects there, nothing more.
TEST_P(EngineTest, S3AnonymousWriteFlagOpensObjectWritesOnly) {
  ASSERT_OK(put_container(owner(), kProjectA, "drop"));
  const Access anonymous{};
  EXPECT_ERRC(put(anonymous, kProjectA, "drop", "in", "anon"), Errc::unauthenticated);
  ASSERT_OK(await([&] {
    return engine().update_container(owner(), kProjectA, "drop", {}, {{std::string(kSysS3AnonymousWrite), "0"}});
  }));
  EXPECT_ERRC(put(anonymous, kProjectA, "drop", "in", "anon"), Errc::unauthenticated);
  ASSERT_OK(await([&] {
    return engine().update_container(owner(), kProjectA, "drop", {}, {{std::string(kSysS3AnonymousWrite), "1"}});
  }));
  auto written = put(anonymous, kProjectA, "drop", "in", "anon");
  ASSERT_OK(written);
  EXPECT_OK(put(access(member_b_), kProjectA, "drop", "from-b", "b"));  // anyone, signed in or not
  EXPECT_OK(del(anonymous, kProjectA, "drop", "from-b"));
  EXPECT_ERRC(copy(anonymous, kProjectA, "drop", "in", kProjectA, "drop", "in-copy"), Errc::unauthenticated);  // reads the source
  // Reads, listings and settings stay closed.
  EXPECT_ERRC(head(anonymous, kProjectA, "drop", "in"), Errc::unauthenticated);
  EXPECT_ERRC(await([&] { return engine().list_objects(anonymous, kProjectA, "drop", ListQuery{}); }), Errc::unauthenticated);
  EXPECT_ERRC(await([&] { return engine().update_container(anonymous, kProjectA, "drop", {{"k", "v"}}, {}); }), Errc::unauthenticated);
  EXPECT_ERRC(await([&] { return engine().delete_container(anonymous, kProjectA, "drop"); }), Errc::unauthenticated);
  EXPECT_ERRC(put(anonymous, kProjectA, "other", "in", "anon"), Errc::unauthenticated);
  EXPECT_EQ(names("drop"), (std::vector<std::string>{"in"}));
  expect_consistent();
}

// --- concurrency ---------------------------------------------------------------------------------

TEST_P(EngineTest, ConcurrentPutsAndDeletesKeepCountersExact) {
  ASSERT_OK(put_container(owner(), kProjectA, "busy"));
  constexpr int kWorkers = 32;
  constexpr int kOpsPerWorker = 6;
  constexpr int kNames = 5;
  boost::asio::io_context io;
  std::atomic<int> done{0}, puts_ok{0}, deletes_ok{0};
  for (int w = 0; w < kWorkers; ++w) {
    boost::asio::co_spawn(
        io,
        [&, w]() -> awaitable<void> {
          for (int i = 0; i < kOpsPerWorker; ++i) {
            std::string name = "obj" + std::to_string((w + i) % kNames);
            if ((w + i) % 3 == 2) {
              auto r = co_await engine().delete_object(owner(), kProjectA, "busy", name);
              if (r) {
                ++deletes_ok;
              } else {
                EXPECT_EQ(r.error().code, Errc::not_found) << describe(r.error());
              }
            } else {
              std::string body(static_cast<std::size_t>(1 + w * 37 + i), static_cast<char>('a' + w % 26));
              PutRequest req;
              req.content_length = body.size();
              StringSource src(body);
              auto r = co_await engine().put_object(owner(), kProjectA, "busy", name, req, src);
              if (r) {
                ++puts_ok;
              } else {
                ADD_FAILURE() << "put " << name << ": " << describe(r.error());
              }
            }
          }
          ++done;
        },
        boost::asio::detached);
  }
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) { threads.emplace_back([&] { io.run(); }); }
  for (auto& t : threads) { t.join(); }
  ASSERT_EQ(done.load(), kWorkers);
  EXPECT_GT(puts_ok.load(), 0);
  EXPECT_GT(deletes_ok.load(), 0);

  auto l = list("busy");
  ASSERT_OK(l);
  std::uint64_t listed_bytes = 0;
  for (const auto& e : l->entries) {
    listed_bytes += e.size;
    auto h = head(owner(), kProjectA, "busy", e.name);
    ASSERT_OK(h);
    auto bytes = read_all_of(*h);
    ASSERT_OK(bytes);
    EXPECT_EQ(*bytes, std::string(h->size, bytes->empty() ? 'a' : (*bytes)[0])) << e.name << " is a mix of two writes";
  }
  expect_container_usage("busy", l->entries.size(), listed_bytes);
  expect_account_usage(1, l->entries.size(), listed_bytes);
  EXPECT_EQ(blob_count(), l->entries.size()) << "blobs leaked or lost";
  EXPECT_EQ(temp_count(), 0u);
  expect_consistent();
}

// The narrowest form of the race above: several DELETEs of one object at once. One of them
// deletes it; the others find nothing, and the counters drop by one object, once.
TEST_P(EngineTest, ConcurrentDeletesOfOneObjectDeleteItOnce) {
  ASSERT_OK(put_container(owner(), kProjectA, "c"));
  constexpr int kRounds = 10;
  constexpr int kDeleters = 8;
  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    ASSERT_OK(put(owner(), kProjectA, "c", "x", "0123456789"));
    boost::asio::io_context io;
    std::atomic<int> deleted{0}, not_found{0};
    for (int d = 0; d < kDeleters; ++d) {
      boost::asio::co_spawn(
          io,
          [&]() -> awaitable<void> {
            auto r = co_await engine().delete_object(owner(), kProjectA, "c", "x");
            if (r) {
              ++deleted;
            } else if (r.error().code == Errc::not_found) {
              ++not_found;
            } else {
              ADD_FAILURE() << describe(r.error());
            }
          },
          boost::asio::detached);
    }
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) { threads.emplace_back([&] { io.run(); }); }
    for (auto& t : threads) { t.join(); }
    EXPECT_EQ(deleted.load(), 1);
    EXPECT_EQ(not_found.load(), kDeleters - 1);
    auto c = container("c");
    ASSERT_OK(c);
    ASSERT_EQ(c->object_count, 0u) << "counters drifted";
    ASSERT_EQ(c->bytes_used, 0u);
  }
  expect_account_usage(1, 0, 0);
  EXPECT_EQ(blob_count(), 0u);
  expect_consistent();
}

// --- S3 versions ---------------------------------------------------------------------------------

class S3VersionsTest : public EngineTest {
 protected:
  static MetadataUpdate versioning(const std::string& status) { return {{std::string(kSysS3Versioning), status}}; }
  Status set_versioning(const std::string& container_name, const std::string& status) {
    return await([&] { return engine().update_container(owner(), kProjectA, container_name, {}, versioning(status)); });
  }
  Result<VersionListing> list_versions(const std::string& container_name, VersionQuery q = {}) {
    return await([&] { return engine().list_versions(owner(), kProjectA, container_name, q); });
  }
  Result<ObjectInfo> head_version(const std::string& container_name, const std::string& name, const std::string& id) {
    return await([&] { return engine().head_version(owner(), kProjectA, container_name, name, id); });
  }
  Result<ObjectInfo> delete_version(const std::string& container_name, const std::string& name, const std::string& id) {
    return await([&] { return engine().delete_version(owner(), kProjectA, container_name, name, id); });
  }
  // Each version as "name size" or "name marker", then " null" for a null version and " *" for
  // the current one, in listing order.
  std::vector<std::string> versions(const std::string& container_name, VersionQuery q = {}) {
    std::vector<std::string> out;
    auto l = list_versions(container_name, q);
    EXPECT_TRUE(l) << describe(l.error());
    if (!l) { return out; }
    for (const auto& v : l->versions) {
      out.push_back(v.name + (v.delete_marker ? " marker" : " " + std::to_string(v.size)) + (v.null_version ? " null" : "") +
                    (v.is_current ? " *" : ""));
    }
    return out;
  }
  Result<std::string> get_version(const std::string& container_name, const std::string& name, const std::string& id) {
    auto h = head_version(container_name, name, id);
    if (!h) { return h.error(); }
    return read_all_of(*h);
  }
  Result<std::size_t> apply_lifecycle(std::size_t limit = 1000) {
    return await([&] { return engine().apply_lifecycle(limit); });
  }
  Status set_lifecycle(const std::string& container_name, const std::vector<LifecycleRule>& rules) {
    return await([&] {
      return engine().update_container(owner(), kProjectA, container_name, {}, {{std::string(kSysS3Lifecycle), encode_lifecycle(rules)}});
    });
  }
};

TEST_P(S3VersionsTest, EnabledKeepsEveryVersionNewestFirst) {
  ASSERT_OK(put_container(owner(), kProjectA, "v"));
  auto v0 = put(owner(), kProjectA, "v", "doc", "zero");  // before versioning: the null version
  ASSERT_OK(v0);
  EXPECT_TRUE(v0->null_version);
  ASSERT_OK(set_versioning("v", "Enabled"));
  // The clock stands still: versions still order by when they were written.
  auto v1 = put(owner(), kProjectA, "v", "doc", "one--");
  ASSERT_OK(v1);
  EXPECT_FALSE(v1->null_version);
  auto v2 = put(owner(), kProjectA, "v", "doc", "two---");
  ASSERT_OK(v2);
  clock_.advance(5s);
  auto v3 = put(owner(), kProjectA, "v", "doc", "three--");
  ASSERT_OK(v3);
  ASSERT_OK(put(owner(), kProjectA, "v", "other", "x"));

  EXPECT_EQ(versions("v"), (std::vector<std::string>{"doc 7 *", "doc 6", "doc 5", "doc 4 null", "other 1 *"}));
  auto l = list_versions("v");
  ASSERT_OK(l);
  EXPECT_EQ(l->versions[0].version_id, v3->version_id);
  EXPECT_EQ(l->versions[1].version_id, v2->version_id);
  EXPECT_EQ(l->versions[2].version_id, v1->version_id);
  EXPECT_EQ(l->versions[3].version_id, v0->version_id);
  EXPECT_GT(l->versions[1].modified_us, l->versions[2].modified_us);
  EXPECT_FALSE(l->truncated);

  auto current = get(owner(), kProjectA, "v", "doc");
  ASSERT_OK(current);
  EXPECT_EQ(*current, "three--");
  auto old = get_version("v", "doc", v1->version_id);
  ASSERT_OK(old);
  EXPECT_EQ(*old, "one--");
  auto null_version = get_version("v", "doc", "null");
  ASSERT_OK(null_version);
  EXPECT_EQ(*null_version, "zero");
  auto h = head_version("v", "doc", v2->version_id);
  ASSERT_OK(h);
  EXPECT_FALSE(h->is_current);
  EXPECT_EQ(h->container, "v");
  EXPECT_ERRC(head_version("v", "doc", "0123456789abcdef0123456789abcdef"), Errc::not_found);
  EXPECT_ERRC(head_version("v", "other", v1->version_id), Errc::not_found);  // an id of another name
  EXPECT_ERRC(head_version("v", "doc", "not-a-version"), Errc::invalid_argument);
  const Access other_project = access(member_b_);
  EXPECT_ERRC(await([&] { return engine().head_version(other_project, kProjectA, "v", "doc", "null"); }), Errc::forbidden);

  // Listings show current objects; the counters count them, and every stored byte.
  EXPECT_EQ(names("v"), (std::vector<std::string>{"doc", "other"}));
  expect_container_usage("v", 2, 4 + 5 + 6 + 7 + 1);
  expect_account_usage(1, 2, 4 + 5 + 6 + 7 + 1);
  EXPECT_EQ(blob_count(), 5u);
  expect_consistent();

  // Noncurrent bytes count towards the quota.
  ASSERT_OK(await([&] { return engine().update_container(owner(), kProjectA, "v", {{std::string(kMetaQuotaBytes), "30"}}, {}); }));
  EXPECT_ERRC(put(owner(), kProjectA, "v", "doc", "eight---"), Errc::quota_exceeded);
  ASSERT_OK(put(owner(), kProjectA, "v", "doc", "seven--"));  // 23 + 7 = 30
  expect_container_usage("v", 2, 30);
  expect_consistent();
}

TEST_P(S3VersionsTest, DeleteWritesAMarkerAndDeletingTheMarkerRestores) {
  ASSERT_OK(put_container(owner(), kProjectA, "v", {}, versioning("Enabled")));
  auto v1 = put(owner(), kProjectA, "v", "doc", "first");
  ASSERT_OK(v1);
  auto v2 = put(owner(), kProjectA, "v", "doc", "second");
  ASSERT_OK(v2);
  auto marker = del(owner(), kProjectA, "v", "doc");
  ASSERT_OK(marker);
  EXPECT_TRUE(marker->delete_marker);
  EXPECT_TRUE(marker->is_current);
  EXPECT_FALSE(marker->null_version);
  EXPECT_EQ(marker->size, 0u);
  EXPECT_EQ(marker->container, "v");
  EXPECT_ERRC(head(owner(), kProjectA, "v", "doc"), Errc::not_found);
  EXPECT_ERRC(await([&] { return engine().update_object(owner(), kProjectA, "v", "doc", ObjectUpdate{}); }), Errc::not_found);
  EXPECT_ERRC(copy(owner(), kProjectA, "v", "doc", kProjectA, "v", "copy"), Errc::not_found);
  EXPECT_TRUE(names("v").empty());
  EXPECT_EQ(versions("v"), (std::vector<std::string>{"doc marker *", "doc 6", "doc 5"}));
  auto old = get_version("v", "doc", v2->version_id);
  ASSERT_OK(old);
  EXPECT_EQ(*old, "second");
  auto m = head_version("v", "doc", marker->version_id);
  ASSERT_OK(m);
  EXPECT_TRUE(m->delete_marker);
  expect_container_usage("v", 0, 11);
  expect_account_usage(1, 0, 11);
  expect_consistent();

  // Deleting again stacks another marker; a name that never existed gets one too.
  auto marker2 = del(owner(), kProjectA, "v", "doc");
  ASSERT_OK(marker2);
  auto ghost = del(owner(), kProjectA, "v", "never");
  ASSERT_OK(ghost);
  EXPECT_TRUE(ghost->delete_marker);
  EXPECT_EQ(versions("v"), (std::vector<std::string>{"doc marker *", "doc marker", "doc 6", "doc 5", "never marker *"}));
  expect_container_usage("v", 0, 11);
  expect_consistent();

  // Removing the current marker makes the next newest version current: another marker.
  auto removed = delete_version("v", "doc", marker2->version_id);
  ASSERT_OK(removed);
  EXPECT_TRUE(removed->delete_marker);
  EXPECT_ERRC(head(owner(), kProjectA, "v", "doc"), Errc::not_found);
  ASSERT_OK(delete_version("v", "doc", marker->version_id));
  auto back = get(owner(), kProjectA, "v", "doc");
  ASSERT_OK(back);
  EXPECT_EQ(*back, "second");
  EXPECT_EQ(names("v"), (std::vector<std::string>{"doc"}));
  EXPECT_EQ(versions("v", VersionQuery{.prefix = "doc"}), (std::vector<std::string>{"doc 6 *", "doc 5"}));
  expect_container_usage("v", 1, 11);
  expect_consistent();

  // Removing a noncurrent version frees its bytes; removing the current one brings the older back.
  EXPECT_EQ(blob_count(), 2u);
  auto gone = delete_version("v", "doc", v2->version_id);
  ASSERT_OK(gone);
  EXPECT_EQ(gone->size, 6u);
  EXPECT_EQ(blob_count(), 1u);
  auto first = get(owner(), kProjectA, "v", "doc");
  ASSERT_OK(first);
  EXPECT_EQ(*first, "first");
  expect_container_usage("v", 1, 5);
  EXPECT_ERRC(delete_version("v", "doc", v2->version_id), Errc::not_found);
  EXPECT_ERRC(delete_version("v", "doc", "bad id"), Errc::invalid_argument);
  EXPECT_ERRC(await([&] { return engine().delete_version(reader_a_access(), kProjectA, "v", "doc", v1->version_id); }),
              Errc::forbidden);

  // The container stays until no version and no marker is left.
  EXPECT_ERRC(await([&] { return engine().delete_container(owner(), kProjectA, "v"); }), Errc::conflict);
  ASSERT_OK(delete_version("v", "doc", v1->version_id));
  EXPECT_EQ(blob_count(), 0u);
  auto refused = await([&] { return engine().delete_container(owner(), kProjectA, "v"); });  // the "never" marker
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::conflict);
  EXPECT_EQ(refused.error().message, kContainerNotEmpty);
  ASSERT_OK(delete_version("v", "never", ghost->version_id));
  expect_container_usage("v", 0, 0);
  expect_consistent();
  ASSERT_OK(await([&] { return engine().delete_container(owner(), kProjectA, "v"); }));
  expect_account_usage(0, 0, 0);
}

TEST_P(S3VersionsTest, NoncurrentVersionsKeepTheContainer) {
  ASSERT_OK(put_container(owner(), kProjectA, "v", {}, versioning("Enabled")));
  auto v1 = put(owner(), kProjectA, "v", "a", "1");
  ASSERT_OK(v1);
  ASSERT_OK(put(owner(), kProjectA, "v", "a", "22"));
  auto current = head(owner(), kProjectA, "v", "a");
  ASSERT_OK(current);
  ASSERT_OK(delete_version("v", "a", current->version_id));  // v1 is current again
  ASSERT_OK(put(owner(), kProjectA, "v", "a", "333"));
  ASSERT_OK(del(owner(), kProjectA, "v", "a"));
  EXPECT_ERRC(delete_version("v", "a", "null"), Errc::not_found);  // there is none: every version is a real one
  EXPECT_EQ(versions("v"), (std::vector<std::string>{"a marker *", "a 3", "a 1"}));
  expect_container_usage("v", 0, 4);
  EXPECT_ERRC(await([&] { return engine().delete_container(owner(), kProjectA, "v"); }), Errc::conflict);
  expect_consistent();
}

TEST_P(S3VersionsTest, SuspendedReplacesTheNullVersion) {
  ASSERT_OK(put_container(owner(), kProjectA, "v"));
  ASSERT_OK(put(owner(), kProjectA, "v", "doc", "null one"));  // 8 bytes, null
  ASSERT_OK(set_versioning("v", "Enabled"));
  auto real = put(owner(), kProjectA, "v", "doc", "real");  // 4 bytes, a real version
  ASSERT_OK(real);
  ASSERT_OK(set_versioning("v", "Suspended"));
  EXPECT_EQ(blob_count(), 2u);

  // A write replaces the null version (noncurrent here) and keeps the real one as noncurrent.
  auto n2 = put(owner(), kProjectA, "v", "doc", "null two!");
  ASSERT_OK(n2);
  EXPECT_TRUE(n2->null_version);
  EXPECT_EQ(versions("v"), (std::vector<std::string>{"doc 9 null *", "doc 4"}));
  EXPECT_EQ(blob_count(), 2u);
  expect_container_usage("v", 1, 13);
  expect_consistent();

  // Another write replaces the current null version.
  ASSERT_OK(put(owner(), kProjectA, "v", "doc", "null three"));
  EXPECT_EQ(versions("v"), (std::vector<std::string>{"doc 10 null *", "doc 4"}));
  auto null_version = get_version("v", "doc", "null");
  ASSERT_OK(null_version);
  EXPECT_EQ(*null_version, "null three");
  EXPECT_EQ(blob_count(), 2u);
  expect_container_usage("v", 1, 14);

  // A delete: a null marker replaces the null version.
  auto marker = del(owner(), kProjectA, "v", "doc");
  ASSERT_OK(marker);
  EXPECT_TRUE(marker->delete_marker);
  EXPECT_TRUE(marker->null_version);
  EXPECT_EQ(versions("v"), (std::vector<std::string>{"doc marker null *", "doc 4"}));
  auto h = head_version("v", "doc", "null");
  ASSERT_OK(h);
  EXPECT_TRUE(h->delete_marker);
  EXPECT_ERRC(head(owner(), kProjectA, "v", "doc"), Errc::not_found);
  EXPECT_EQ(blob_count(), 1u);
  expect_container_usage("v", 0, 4);
  expect_consistent();

  // Enabled again: the null marker becomes noncurrent, the write is a real version.
  ASSERT_OK(set_versioning("v", "Enabled"));
  ASSERT_OK(put(owner(), kProjectA, "v", "doc", "again"));
  EXPECT_EQ(versions("v"), (std::vector<std::string>{"doc 5 *", "doc marker null", "doc 4"}));
  expect_container_usage("v", 1, 9);
  expect_consistent();

  // Deleting the real current version brings back the newest remaining one: the marker.
  auto current = head(owner(), kProjectA, "v", "doc");
  ASSERT_OK(current);
  ASSERT_OK(delete_version("v", "doc", current->version_id));
  EXPECT_ERRC(head(owner(), kProjectA, "v", "doc"), Errc::not_found);
  ASSERT_OK(delete_version("v", "doc", "null"));
  auto left = get(owner(), kProjectA, "v", "doc");
  ASSERT_OK(left);
  EXPECT_EQ(*left, "real");
  EXPECT_EQ(left->size(), 4u);
  EXPECT_EQ(versions("v"), (std::vector<std::string>{"doc 4 *"}));
  expect_container_usage("v", 1, 4);
  expect_consistent();
}

TEST_P(S3VersionsTest, NeverEnabledOverwritesAsBefore) {
  ASSERT_OK(put_container(owner(), kProjectA, "plain"));
  ASSERT_OK(put(owner(), kProjectA, "plain", "doc", "one"));
  ASSERT_OK(put(owner(), kProjectA, "plain", "doc", "two!"));
  EXPECT_EQ(versions("plain"), (std::vector<std::string>{"doc 4 null *"}));
  EXPECT_EQ(blob_count(), 1u);
  auto null_version = get_version("plain", "doc", "null");
  ASSERT_OK(null_version);
  EXPECT_EQ(*null_version, "two!");
  ASSERT_OK(del(owner(), kProjectA, "plain", "doc"));
  EXPECT_TRUE(versions("plain").empty());
  EXPECT_ERRC(del(owner(), kProjectA, "plain", "doc"), Errc::not_found);
  expect_container_usage("plain", 0, 0);
  expect_consistent();
}

TEST_P(S3VersionsTest, ListVersionsPagesWithMarkersAndRollsUpPrefixes) {
  ASSERT_OK(put_container(owner(), kProjectA, "v"));
  ASSERT_OK(put(owner(), kProjectA, "v", "a", "a0"));  // the null version of "a"
  ASSERT_OK(set_versioning("v", "Enabled"));
  for (const std::string name : {"a", "b/1", "b/2", "c"}) {
    ASSERT_OK(put(owner(), kProjectA, "v", name, name + "-1"));
    ASSERT_OK(put(owner(), kProjectA, "v", name, name + "-22"));
  }
  ASSERT_OK(del(owner(), kProjectA, "v", "c"));
  const std::vector<std::string> all = {"a 4 *", "a 3", "a 2 null", "b/1 6 *", "b/1 5", "b/2 6 *", "b/2 5", "c marker *", "c 4", "c 3"};
  EXPECT_EQ(versions("v"), all);

  // Page through two at a time with the next markers.
  std::vector<std::string> paged;
  VersionQuery q;
  q.limit = 2;
  for (int page = 0; page < 10; ++page) {
    auto l = list_versions("v", q);
    ASSERT_OK(l);
    for (const auto& v : l->versions) {
      paged.push_back(v.name + (v.delete_marker ? " marker" : " " + std::to_string(v.size)) + (v.null_version ? " null" : "") +
                      (v.is_current ? " *" : ""));
    }
    if (!l->truncated) { break; }
    EXPECT_EQ(l->versions.size(), 2u);
    q.key_marker = l->next_key_marker;
    q.version_id_marker = l->next_version_id_marker;
    if (page == 1) {
      EXPECT_EQ(q.key_marker, "b/1");
    }
    if (page == 0) {
      EXPECT_EQ(q.key_marker, "a");
      EXPECT_NE(q.version_id_marker, "null");
    }
  }
  EXPECT_EQ(paged, all);

  // A key marker alone starts after every version of that key; "null" names the null version.
  EXPECT_EQ(versions("v", VersionQuery{.key_marker = "b/1"}),
            (std::vector<std::string>{"b/2 6 *", "b/2 5", "c marker *", "c 4", "c 3"}));
  EXPECT_EQ(versions("v", VersionQuery{.key_marker = "a", .version_id_marker = "null"}),
            (std::vector<std::string>{"b/1 6 *", "b/1 5", "b/2 6 *", "b/2 5", "c marker *", "c 4", "c 3"}));
  auto a_current = head(owner(), kProjectA, "v", "a");
  ASSERT_OK(a_current);
  EXPECT_EQ(versions("v", VersionQuery{.key_marker = "a", .version_id_marker = a_current->version_id, .limit = 2}),
            (std::vector<std::string>{"a 3", "a 2 null"}));
  EXPECT_ERRC(list_versions("v", VersionQuery{.key_marker = "b/1", .version_id_marker = a_current->version_id}), Errc::invalid_argument);
  EXPECT_ERRC(list_versions("v", VersionQuery{.key_marker = "a", .version_id_marker = "zz"}), Errc::invalid_argument);

  // A delimiter rolls names up; a common prefix counts towards the limit and can be the marker.
  auto rolled = list_versions("v", VersionQuery{.delimiter = "/"});
  ASSERT_OK(rolled);
  EXPECT_EQ(rolled->prefixes, (std::vector<std::string>{"b/"}));
  EXPECT_EQ(rolled->versions.size(), 6u);
  auto page = list_versions("v", VersionQuery{.delimiter = "/", .limit = 4});
  ASSERT_OK(page);
  EXPECT_EQ(page->versions.size(), 3u);
  EXPECT_EQ(page->prefixes, (std::vector<std::string>{"b/"}));
  EXPECT_TRUE(page->truncated);
  EXPECT_EQ(page->next_key_marker, "b/");
  EXPECT_EQ(page->next_version_id_marker, "");
  auto next = list_versions("v", VersionQuery{.delimiter = "/", .key_marker = "b/"});
  ASSERT_OK(next);
  EXPECT_TRUE(next->prefixes.empty());
  EXPECT_EQ(next->versions.size(), 3u);
  EXPECT_FALSE(next->truncated);
  // Within a prefix.
  EXPECT_EQ(versions("v", VersionQuery{.prefix = "b/", .delimiter = "/"}),
            (std::vector<std::string>{"b/1 6 *", "b/1 5", "b/2 6 *", "b/2 5"}));
  auto none = list_versions("v", VersionQuery{.limit = 0});
  ASSERT_OK(none);
  EXPECT_TRUE(none->versions.empty());
  EXPECT_FALSE(none->truncated);
  EXPECT_ERRC(await([&] { return engine().list_versions(reader_a_access(), kProjectA, "nope", VersionQuery{}); }), Errc::not_found);
  EXPECT_OK(await([&] { return engine().list_versions(reader_a_access(), kProjectA, "v", VersionQuery{}); }));
}

TEST_P(S3VersionsTest, SettingsAreCheckedAndConflictWithSwiftVersioning) {
  ASSERT_OK(put_container(owner(), kProjectA, "archive"));
  ASSERT_OK(put_container(owner(), kProjectA, "swift", {}, {{std::string(kSysVersionsLocation), "archive"}}));
  auto conflict = set_versioning("swift", "Enabled");
  ASSERT_FALSE(conflict);
  EXPECT_EQ(conflict.error().code, Errc::conflict);
  EXPECT_EQ(conflict.error().message, kVersioningConflict);
  EXPECT_ERRC(put_container(owner(), kProjectA, "swift", {}, versioning("Suspended")), Errc::conflict);
  MetadataUpdate both = versioning("Enabled");
  both[std::string(kSysVersionsLocation)] = "archive";
  EXPECT_ERRC(put_container(owner(), kProjectA, "new", {}, both), Errc::conflict);
  EXPECT_ERRC(container("new"), Errc::not_found);

  ASSERT_OK(put_container(owner(), kProjectA, "s3", {}, versioning("Enabled")));
  EXPECT_ERRC(await([&] {
                return engine().update_container(owner(), kProjectA, "s3", {}, {{std::string(kSysVersionsLocation), "archive"}});
              }),
              Errc::conflict);
  EXPECT_ERRC(set_versioning("s3", "enabled"), Errc::invalid_argument);
  EXPECT_ERRC(set_versioning("s3", ""), Errc::invalid_argument);  // can be suspended, not removed
  EXPECT_ERRC(await([&] {
                return engine().update_container(owner(), kProjectA, "s3", {}, {{std::string(kSysS3Versioning), std::nullopt}});
              }),
              Errc::invalid_argument);
  EXPECT_ERRC(put_container(owner(), kProjectA, "other", {}, versioning("On")), Errc::invalid_argument);
  ASSERT_OK(set_versioning("s3", "Suspended"));
  auto c = container("s3");
  ASSERT_OK(c);
  EXPECT_EQ(c->sys.at(std::string(kSysS3Versioning)), "Suspended");
  // Removing the Swift location is no conflict; a reader may not change versioning.
  ASSERT_OK(await([&] {
    return engine().update_container(owner(), kProjectA, "swift", {}, {{std::string(kSysVersionsLocation), std::nullopt}});
  }));
  ASSERT_OK(set_versioning("swift", "Enabled"));
  EXPECT_ERRC(await([&] { return engine().update_container(reader_a_access(), kProjectA, "s3", {}, versioning("Enabled")); }),
              Errc::forbidden);
  // A lifecycle that does not decode is refused.
  EXPECT_ERRC(await([&] {
                return engine().update_container(owner(), kProjectA, "s3", {}, {{std::string(kSysS3Lifecycle), "{not json"}});
              }),
              Errc::invalid_argument);
}

TEST_P(S3VersionsTest, TagsOnPutCopyAndSet) {
  ASSERT_OK(put_container(owner(), kProjectA, "v", {}, versioning("Enabled")));
  PutRequest tagged;
  tagged.tags = {{"class", "raw"}, {"owner", "ann"}};
  auto v1 = put(owner(), kProjectA, "v", "doc", "tagged", tagged);
  ASSERT_OK(v1);
  auto h = head(owner(), kProjectA, "v", "doc");
  ASSERT_OK(h);
  EXPECT_EQ(h->tags, tagged.tags);
  PutRequest too_many;
  for (int i = 0; i < 11; ++i) { too_many.tags["k" + std::to_string(i)] = "v"; }
  EXPECT_ERRC(put(owner(), kProjectA, "v", "doc", "x", too_many), Errc::invalid_argument);
  PutRequest long_value;
  long_value.tags = {{"k", std::string(257, 'v')}};
  EXPECT_ERRC(put(owner(), kProjectA, "v", "doc", "x", long_value), Errc::invalid_argument);
  PutRequest long_utf8;
  long_utf8.tags = {{"k", [] {
                       std::string s;
                       for (int i = 0; i < 256; ++i) { s += "\xc3\xa9"; }  // 256 characters, 512 bytes
                       return s;
                     }()}};
  EXPECT_OK(put(owner(), kProjectA, "v", "utf8", "x", long_utf8));

  // A copy keeps the source's tags, or takes the request's.
  auto kept = copy(owner(), kProjectA, "v", "doc", kProjectA, "v", "copy");
  ASSERT_OK(kept);
  EXPECT_EQ(kept->tags, tagged.tags);
  CopyRequest fresh;
  fresh.fresh_tags = true;
  fresh.put.tags = {{"class", "copied"}};
  auto replaced = copy(owner(), kProjectA, "v", "doc", kProjectA, "v", "copy2", fresh);
  ASSERT_OK(replaced);
  EXPECT_EQ(replaced->tags, (Metadata{{"class", "copied"}}));
  EXPECT_FALSE(replaced->null_version);
  auto h2 = head(owner(), kProjectA, "v", "copy2");
  ASSERT_OK(h2);
  EXPECT_EQ(h2->tags, (Metadata{{"class", "copied"}}));

  // Set: on the current version, or on one by id.
  ASSERT_OK(put(owner(), kProjectA, "v", "doc", "second"));
  auto set = await([&] { return engine().set_object_tags(owner(), kProjectA, "v", "doc", "", {{"state", "new"}}); });
  ASSERT_OK(set);
  EXPECT_EQ(set->tags, (Metadata{{"state", "new"}}));
  auto set_old = await([&] { return engine().set_object_tags(owner(), kProjectA, "v", "doc", v1->version_id, {{"state", "old"}}); });
  ASSERT_OK(set_old);
  auto old = head_version("v", "doc", v1->version_id);
  ASSERT_OK(old);
  EXPECT_EQ(old->tags, (Metadata{{"state", "old"}}));
  auto cur = head(owner(), kProjectA, "v", "doc");
  ASSERT_OK(cur);
  EXPECT_EQ(cur->tags, (Metadata{{"state", "new"}}));
  ASSERT_OK(await([&] { return engine().set_object_tags(owner(), kProjectA, "v", "doc", "", {}); }));
  cur = head(owner(), kProjectA, "v", "doc");
  ASSERT_OK(cur);
  EXPECT_TRUE(cur->tags.empty());
  EXPECT_ERRC(await([&] { return engine().set_object_tags(reader_a_access(), kProjectA, "v", "doc", "", {}); }), Errc::forbidden);
  EXPECT_ERRC(await([&] { return engine().set_object_tags(owner(), kProjectA, "v", "nothing", "", {}); }), Errc::not_found);

  // A copy of an older version by id.
  CopyRequest from_v1;
  from_v1.src_version_id = v1->version_id;
  auto restored = copy(owner(), kProjectA, "v", "doc", kProjectA, "v", "doc", from_v1);
  ASSERT_OK(restored);
  auto now_current = get(owner(), kProjectA, "v", "doc");
  ASSERT_OK(now_current);
  EXPECT_EQ(*now_current, "tagged");
  EXPECT_EQ(restored->tags, (Metadata{{"state", "old"}}));
  EXPECT_TRUE(restored->is_current);

  // Delete markers: tags are not allowed on them, and they are no copy source.
  auto marker = del(owner(), kProjectA, "v", "doc");
  ASSERT_OK(marker);
  auto refused = await([&] { return engine().set_object_tags(owner(), kProjectA, "v", "doc", marker->version_id, {{"a", "b"}}); });
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::conflict);
  EXPECT_EQ(refused.error().message, kMethodNotAllowed);
  EXPECT_ERRC(await([&] { return engine().set_object_tags(owner(), kProjectA, "v", "doc", "", {{"a", "b"}}); }), Errc::not_found);
  CopyRequest from_marker;
  from_marker.src_version_id = marker->version_id;
  EXPECT_ERRC(copy(owner(), kProjectA, "v", "doc", kProjectA, "v", "x", from_marker), Errc::invalid_argument);
  expect_consistent();
}

TEST_P(S3VersionsTest, ExpiredVersionsAreReapedAndTheNextBecomesCurrent) {
  ASSERT_OK(put_container(owner(), kProjectA, "v", {}, versioning("Enabled")));
  ASSERT_OK(put(owner(), kProjectA, "v", "doc", "kept"));
  PutRequest soon;
  soon.delete_at = unix_seconds(clock_.now()) + 10;
  ASSERT_OK(put(owner(), kProjectA, "v", "doc", "expiring", soon));
  clock_.advance(20s);
  EXPECT_ERRC(head(owner(), kProjectA, "v", "doc"), Errc::not_found);
  auto reaped = await([&] { return engine().reap_expired(100); });
  ASSERT_OK(reaped);
  EXPECT_EQ(*reaped, 1u);
  auto back = get(owner(), kProjectA, "v", "doc");
  ASSERT_OK(back);
  EXPECT_EQ(*back, "kept");
  expect_container_usage("v", 1, 4);
  expect_consistent();
}

// S3 versions under concurrent writers: counters, blobs and "one current version, the newest"
// hold (PostgreSQL runs the writers at once).
TEST_P(S3VersionsTest, ConcurrentVersionedWritesKeepCountersExact) {
  ASSERT_OK(put_container(owner(), kProjectA, "busy", {}, versioning("Enabled")));
  constexpr int kWorkers = 16;
  constexpr int kOpsPerWorker = 6;
  boost::asio::io_context io;
  std::atomic<int> done{0};
  for (int w = 0; w < kWorkers; ++w) {
    boost::asio::co_spawn(
        io,
        [&, w]() -> awaitable<void> {
          for (int i = 0; i < kOpsPerWorker; ++i) {
            std::string name = "obj" + std::to_string((w + i) % 3);
            if ((w + i) % 4 == 3) {
              auto r = co_await engine().delete_object(owner(), kProjectA, "busy", name);
              if (!r) { ADD_FAILURE() << "delete " << name << ": " << describe(r.error()); }
            } else if ((w + i) % 5 == 4) {
              VersionQuery q;  // named: GCC 12 frees an aggregate temporary of a co_await twice
              q.prefix = name;
              auto l = co_await engine().list_versions(owner(), kProjectA, "busy", q);
              if (l && !l->versions.empty()) {
                auto r = co_await engine().delete_version(owner(), kProjectA, "busy", name, l->versions.back().version_id);
                if (!r) { EXPECT_EQ(r.error().code, Errc::not_found) << describe(r.error()); }
              }
            } else {
              std::string body(static_cast<std::size_t>(1 + w * 13 + i), 'x');
              PutRequest req;
              req.content_length = body.size();
              StringSource src(body);
              auto r = co_await engine().put_object(owner(), kProjectA, "busy", name, req, src);
              if (!r) { ADD_FAILURE() << "put " << name << ": " << describe(r.error()); }
            }
          }
          ++done;
        },
        boost::asio::detached);
  }
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) { threads.emplace_back([&] { io.run(); }); }
  for (auto& t : threads) { t.join(); }
  ASSERT_EQ(done.load(), kWorkers);
  expect_consistent();
  auto l = list_versions("busy");
  ASSERT_OK(l);
  std::map<std::string, int> current_per_name;
  std::uint64_t bytes = 0, objects = 0;
  for (std::size_t i = 0; i < l->versions.size(); ++i) {
    const auto& v = l->versions[i];
    bytes += v.size;
    if (v.is_current) {
      ++current_per_name[v.name];
      if (!v.delete_marker) { ++objects; }
      EXPECT_TRUE(i == 0 || l->versions[i - 1].name != v.name) << v.name << ": the current version is not the newest";
    }
  }
  for (const auto& [name, n] : current_per_name) { EXPECT_EQ(n, 1) << name; }
  expect_container_usage("busy", objects, bytes);
}

// --- S3 lifecycle --------------------------------------------------------------------------------

TEST(LifecycleCodec, RoundTripsAndRefusesMalformedJson) {
  LifecycleRule full;
  full.id = "logs";
  full.enabled = false;
  full.prefix = "logs/";
  full.tags = {{"class", "tmp"}, {"team", "ops"}};
  full.expiration_days = 30;
  full.noncurrent_days = 7;
  full.abort_upload_days = 2;
  full.expired_delete_markers = true;
  LifecycleRule dated;
  dated.expiration_date = 1'900'000'000;
  auto decoded = decode_lifecycle(encode_lifecycle({full, dated}));
  ASSERT_OK(decoded);
  ASSERT_EQ(decoded->size(), 2u);
  const auto& a = (*decoded)[0];
  EXPECT_EQ(a.id, "logs");
  EXPECT_FALSE(a.enabled);
  EXPECT_EQ(a.prefix, "logs/");
  EXPECT_EQ(a.tags, full.tags);
  EXPECT_EQ(a.expiration_days, std::optional<int>(30));
  EXPECT_EQ(a.expiration_date, std::nullopt);
  EXPECT_EQ(a.noncurrent_days, std::optional<int>(7));
  EXPECT_EQ(a.abort_upload_days, std::optional<int>(2));
  EXPECT_TRUE(a.expired_delete_markers);
  const auto& b = (*decoded)[1];
  EXPECT_TRUE(b.enabled);
  EXPECT_EQ(b.expiration_date, std::optional<std::int64_t>(1'900'000'000));
  EXPECT_EQ(b.expiration_days, std::nullopt);
  EXPECT_FALSE(b.expired_delete_markers);
  auto empty = decode_lifecycle(encode_lifecycle({}));
  ASSERT_OK(empty);
  EXPECT_TRUE(empty->empty());

  for (const char* bad : {"", "{not json", "{}", "[1]", R"([{"prefix": 3}])", R"([{"expiration_days": "30"}])",
                          R"([{"expiration_days": 0}])", R"([{"noncurrent_days": -1}])", R"([{"tags": {"a": 1}}])",
                          R"([{"enabled": "yes"}])", R"([{"expiration_days": 1.5}])"}) {
    SCOPED_TRACE(bad);
    EXPECT_ERRC(decode_lifecycle(bad), Errc::invalid_argument);
  }
}

TEST_P(S3VersionsTest, LifecycleExpiresByAgePrefixAndTags) {
  ASSERT_OK(put_container(owner(), kProjectA, "plain"));
  PutRequest tmp;
  tmp.tags = {{"class", "tmp"}, {"x", "y"}};
  ASSERT_OK(put(owner(), kProjectA, "plain", "logs/old-tmp", "111", tmp));
  ASSERT_OK(put(owner(), kProjectA, "plain", "logs/old-kept", "2222"));
  ASSERT_OK(put(owner(), kProjectA, "plain", "data/old-tmp", "33333", tmp));
  LifecycleRule rule;
  rule.prefix = "logs/";
  rule.tags = {{"class", "tmp"}};
  rule.expiration_days = 10;
  LifecycleRule disabled;
  disabled.enabled = false;
  disabled.expiration_days = 1;
  ASSERT_OK(set_lifecycle("plain", {rule, disabled}));
  clock_.advance(9 * 24h);
  ASSERT_OK(put(owner(), kProjectA, "plain", "logs/new-tmp", "4", tmp));
  auto n = apply_lifecycle();
  ASSERT_OK(n);
  EXPECT_EQ(*n, 0u);  // nine days are not ten

  clock_.advance(24h);
  n = apply_lifecycle();
  ASSERT_OK(n);
  EXPECT_EQ(*n, 1u);
  EXPECT_EQ(names("plain"), (std::vector<std::string>{"data/old-tmp", "logs/new-tmp", "logs/old-kept"}));
  expect_container_usage("plain", 3, 4 + 5 + 1);
  EXPECT_EQ(blob_count(), 3u);
  expect_consistent();
  n = apply_lifecycle();
  ASSERT_OK(n);
  EXPECT_EQ(*n, 0u);

  // A date: every current version of the rule's prefix expires from then on.
  LifecycleRule dated;
  dated.prefix = "data/";
  dated.expiration_date = unix_seconds(clock_.now()) + 3600;
  ASSERT_OK(set_lifecycle("plain", {dated}));
  n = apply_lifecycle();
  ASSERT_OK(n);
  EXPECT_EQ(*n, 0u);
  clock_.advance(1h);
  n = apply_lifecycle();
  ASSERT_OK(n);
  EXPECT_EQ(*n, 1u);
  EXPECT_EQ(names("plain"), (std::vector<std::string>{"logs/new-tmp", "logs/old-kept"}));
  expect_container_usage("plain", 2, 4 + 1);
  expect_consistent();
}

TEST_P(S3VersionsTest, LifecycleOnVersionedContainers) {
  ASSERT_OK(put_container(owner(), kProjectA, "v", {}, versioning("Enabled")));
  ASSERT_OK(put(owner(), kProjectA, "v", "a", "a-1"));
  clock_.advance(1ms);
  ASSERT_OK(put(owner(), kProjectA, "v", "a", "a-22"));  // a-1 noncurrent from now
  clock_.advance(1ms);
  ASSERT_OK(put(owner(), kProjectA, "v", "b", "b-1"));
  clock_.advance(1ms);
  ASSERT_OK(del(owner(), kProjectA, "v", "lone"));        // a marker with nothing under it
  LifecycleRule expire;
  expire.id = "expire";
  expire.expiration_days = 30;
  LifecycleRule noncurrent;
  noncurrent.id = "noncurrent";
  noncurrent.noncurrent_days = 5;
  LifecycleRule markers;
  markers.id = "markers";
  markers.expired_delete_markers = true;
  ASSERT_OK(set_lifecycle("v", {expire, noncurrent, markers}));

  // The lone marker goes at once; the marker of a name with versions stays.
  auto n = apply_lifecycle();
  ASSERT_OK(n);
  EXPECT_EQ(*n, 1u);
  EXPECT_EQ(versions("v"), (std::vector<std::string>{"a 4 *", "a 3", "b 3 *"}));
  expect_consistent();

  // After five days the noncurrent version goes.
  clock_.advance(5 * 24h);
  n = apply_lifecycle();
  ASSERT_OK(n);
  EXPECT_EQ(*n, 1u);
  EXPECT_EQ(versions("v"), (std::vector<std::string>{"a 4 *", "b 3 *"}));
  expect_container_usage("v", 2, 7);
  EXPECT_EQ(blob_count(), 2u);
  expect_consistent();

  // After thirty days the current versions expire into delete markers, one action per call here.
  clock_.advance(25 * 24h);
  n = apply_lifecycle(1);
  ASSERT_OK(n);
  EXPECT_EQ(*n, 1u);
  EXPECT_EQ(versions("v"), (std::vector<std::string>{"a marker *", "a 4", "b 3 *"}));
  n = apply_lifecycle(1);
  ASSERT_OK(n);
  EXPECT_EQ(*n, 1u);
  EXPECT_EQ(versions("v"), (std::vector<std::string>{"a marker *", "a 4", "b marker *", "b 3"}));
  EXPECT_TRUE(names("v").empty());
  expect_container_usage("v", 0, 7);
  expect_consistent();
  n = apply_lifecycle();
  ASSERT_OK(n);
  EXPECT_EQ(*n, 0u);  // the new noncurrent versions are not five days old yet

  // Five days on: the noncurrent versions go, then the markers left alone go too.
  clock_.advance(5 * 24h);
  n = apply_lifecycle();
  ASSERT_OK(n);
  EXPECT_EQ(*n, 4u);
  EXPECT_TRUE(versions("v").empty());
  expect_container_usage("v", 0, 0);
  EXPECT_EQ(blob_count(), 0u);
  expect_consistent();
  ASSERT_OK(await([&] { return engine().delete_container(owner(), kProjectA, "v"); }));
}

TEST_P(S3VersionsTest, LifecycleSuspendedWritesNullMarkers) {
  ASSERT_OK(put_container(owner(), kProjectA, "v"));
  ASSERT_OK(put(owner(), kProjectA, "v", "tmp/a", "null bytes"));
  ASSERT_OK(set_versioning("v", "Suspended"));
  LifecycleRule expire;
  expire.prefix = "tmp/";
  expire.expiration_days = 1;
  ASSERT_OK(set_lifecycle("v", {expire}));
  clock_.advance(24h);
  auto n = apply_lifecycle();
  ASSERT_OK(n);
  EXPECT_EQ(*n, 1u);
  EXPECT_EQ(versions("v"), (std::vector<std::string>{"tmp/a marker null *"}));
  expect_container_usage("v", 0, 0);
  EXPECT_EQ(blob_count(), 0u);
  expect_consistent();
}

INSTANTIATE_TEST_SUITE_P(Backends, S3VersionsTest, ::testing::Values(Backend::sqlite, Backend::postgres), test::backend_param_name);

// --- check_consistency ---------------------------------------------------------------------------

TEST_P(EngineTest, ConsistencyCheckFindsMissingAndStrayBlobs) {
  ASSERT_OK(put_container(owner(), kProjectA, "c"));
  ASSERT_OK(put(owner(), kProjectA, "c", "small", "small bytes"));
  ASSERT_OK(put(owner(), kProjectA, "c", "big", pattern(5 * kMiB / 2)));
  ASSERT_OK(put(owner(), kProjectA, "c", "empty", ""));
  auto healthy = check_consistency(*meta_, *blobs_, false);
  ASSERT_OK(healthy);
  EXPECT_EQ(healthy->versions, 3u);
  EXPECT_EQ(healthy->blobs, 4u);
  EXPECT_TRUE(healthy->missing_blobs.empty());
  EXPECT_TRUE(healthy->unreferenced_blobs.empty());
  EXPECT_TRUE(healthy->counter_mismatches.empty()) << testing::PrintToString(healthy->counter_mismatches);

  // A blob file lost under a row: reported missing.
  auto small = head(owner(), kProjectA, "c", "small");
  ASSERT_OK(small);
  const std::string lost = small->parts.at(0).blob_key;
  ASSERT_TRUE(fs::remove(blob_path(lost)));
  // A blob no row names (an interrupted upload's leftover): reported unreferenced.
  const std::string stray = store::new_blob_key();
  auto stray_put = await([&]() -> awaitable<Result<store::BlobInfo>> {
    StringSource src("left over");
    co_return co_await blobs_->put(stray, src);
  });
  ASSERT_OK(stray_put);

  auto report = check_consistency(*meta_, *blobs_, false);
  ASSERT_OK(report);
  EXPECT_EQ(report->missing_blobs, (std::vector<std::string>{lost}));
  EXPECT_EQ(report->unreferenced_blobs, (std::vector<std::string>{stray}));
  EXPECT_TRUE(fs::exists(blob_path(stray)));  // reported only

  report = check_consistency(*meta_, *blobs_, true);
  ASSERT_OK(report);
  EXPECT_EQ(report->unreferenced_blobs, (std::vector<std::string>{stray}));
  EXPECT_FALSE(fs::exists(blob_path(stray)));
  report = check_consistency(*meta_, *blobs_, false);
  ASSERT_OK(report);
  EXPECT_TRUE(report->unreferenced_blobs.empty());
  EXPECT_EQ(report->missing_blobs, (std::vector<std::string>{lost}));  // still lost: nothing to remove
  auto big = get(owner(), kProjectA, "c", "big");
  ASSERT_OK(big);  // the stray's removal touched nothing else

  // Counters that drifted from the rows are reported.
  ASSERT_OK(meta_->transact_sync([](store::Tx& tx) -> Status {
    auto r = tx.exec("UPDATE object_containers SET object_count = object_count + 5");
    if (!r) { return r.error(); }
    return {};
  }));
  report = check_consistency(*meta_, *blobs_, false);
  ASSERT_OK(report);
  EXPECT_EQ(report->counter_mismatches.size(), 2u) << testing::PrintToString(report->counter_mismatches);  // container and account
}

INSTANTIATE_TEST_SUITE_P(Backends, EngineTest, ::testing::Values(Backend::sqlite, Backend::postgres), test::backend_param_name);

// --- S3 multipart uploads ------------------------------------------------------------------------

// The engine with a small minimum part size, and one-line upload calls.
class UploadTest : public EngineTest {
 protected:
  static constexpr std::uint64_t kMinPart = 64 * 1024;

  void SetUp() override {
    EngineTest::SetUp();
    if (HasFatalFailure()) { return; }
    config_.min_part_size = kMinPart;
    engine_ = make_object_service(*meta_, *blobs_, policy_, config_, clock_);
  }

  Result<UploadInfo> create(const std::string& name, PutRequest req = {}, const std::string& container_name = "mp") {
    return create_as(owner(), name, req, container_name);
  }
  Result<UploadInfo> create_as(const Access& a, const std::string& name, PutRequest req = {}, const std::string& container_name = "mp") {
    return await([&] { return engine().create_upload(a, kProjectA, container_name, name, req); });
  }
  Result<UploadedPart> part(const std::string& name, const std::string& id, int part_no, const std::string& body,
                            std::optional<std::string> md5 = std::nullopt, const std::string& container_name = "mp") {
    return part_as(owner(), name, id, part_no, body, std::move(md5), container_name);
  }
  Result<UploadedPart> part_as(const Access& a, const std::string& name, const std::string& id, int part_no, const std::string& body,
                               std::optional<std::string> md5 = std::nullopt, const std::string& container_name = "mp") {
    StringSource src(body);
    return await([&] {
      return engine().upload_part(a, kProjectA, container_name, name, id, part_no, std::uint64_t{body.size()}, md5, src);
    });
  }
  Result<ObjectInfo> complete(const std::string& name, const std::string& id, std::vector<CompletedPart> parts,
                              const Access* a = nullptr) {
    return await([&] { return engine().complete_upload(a ? *a : owner(), kProjectA, "mp", name, id, parts); });
  }
  Status abort(const std::string& name, const std::string& id, const Access* a = nullptr) {
    return await([&] { return engine().abort_upload(a ? *a : owner(), kProjectA, "mp", name, id); });
  }
  Result<PartListing> parts(const std::string& name, const std::string& id, int marker = 0, std::size_t limit = 1000,
                            const Access* a = nullptr) {
    return await([&] { return engine().list_parts(a ? *a : owner(), kProjectA, "mp", name, id, marker, limit); });
  }
  Result<UploadListing> uploads(UploadQuery q = {}, const Access* a = nullptr) {
    return await([&] { return engine().list_uploads(a ? *a : owner(), kProjectA, "mp", q); });
  }
  // "name@id" for every upload, "prefix:p" for every common prefix.
  std::vector<std::string> upload_keys(UploadQuery q = {}) {
    std::vector<std::string> out;
    auto l = uploads(q);
    EXPECT_TRUE(l) << describe(l.error());
    if (l) {
      for (const auto& p : l->prefixes) { out.push_back("prefix:" + p); }
      for (const auto& u : l->uploads) { out.push_back(u.name + "@" + u.upload_id); }
    }
    return out;
  }
  Result<std::size_t> reap(std::size_t limit = 1000) {
    return await([&] { return engine().reap_uploads(limit); });
  }
  static CompletedPart listed(int part_no, const std::string& body) { return CompletedPart{part_no, md5_hex(body)}; }
  // S3's etag of a multipart object: the MD5 of the parts' binary MD5s, and the part count.
  static std::string multipart_etag(const std::vector<std::string>& bodies) {
    std::string md5s;
    for (const auto& b : bodies) { md5s += crypto::md5(b); }
    return md5_hex(md5s) + "-" + std::to_string(bodies.size());
  }
  bool blob_exists(const std::string& key) const { return fs::exists(blob_path(key)); }
  // The current bytes of an object of project A; a failure to read is a test failure.
  std::string bytes_of(const std::string& container_name, const std::string& name) {
    auto r = get(owner(), kProjectA, container_name, name);
    if (!r) {
      ADD_FAILURE() << "get " << container_name << "/" << name << ": " << describe(r.error());
      return "<error>";
    }
    return *r;
  }
};

TEST_P(UploadTest, CreateUploadListCompleteRoundTrip) {
  ASSERT_OK(put_container(owner(), kProjectA, "mp"));
  PutRequest req;
  req.content_type = "video/mp4";
  req.meta = {{"camera", "left"}};
  req.headers = {{"content-disposition", "attachment"}};
  req.tags = {{"project", "x"}};
  auto up = create("films/take1.mp4", req);
  ASSERT_OK(up);
  EXPECT_EQ(up->name, "films/take1.mp4");
  EXPECT_EQ(up->initiator, member_a_.user_id);
  EXPECT_EQ(up->upload_id.size(), 32u);
  const std::string id = up->upload_id;

  // Part 1 spans two blobs (part_size is 1 MiB here), part 2 is one, part 3 is the short last one.
  const std::string p1 = pattern(3 * kMiB / 2, 1), p2 = pattern(kMinPart, 2), p3 = pattern(10, 3);
  auto r2 = part("films/take1.mp4", id, 2, p2);
  ASSERT_OK(r2);
  EXPECT_EQ(r2->part_no, 2);
  EXPECT_EQ(r2->size, p2.size());
  EXPECT_EQ(r2->etag, md5_hex(p2));
  ASSERT_OK(part("films/take1.mp4", id, 1, p1, md5_hex(p1)));
  ASSERT_OK(part("films/take1.mp4", id, 3, p3));
  EXPECT_EQ(blob_count(), 4u);
  expect_consistent();  // part blobs are named by the upload's rows
  // A scrub that removes unreferenced blobs leaves them alone.
  auto scrub = check_consistency(*meta_, *blobs_, true);
  ASSERT_OK(scrub);
  EXPECT_TRUE(scrub->unreferenced_blobs.empty());
  EXPECT_EQ(blob_count(), 4u);
  expect_container_usage("mp", 0, 0);  // parts are not objects yet

  auto listing = parts("films/take1.mp4", id);
  ASSERT_OK(listing);
  EXPECT_EQ(listing->upload.upload_id, id);
  EXPECT_EQ(listing->upload.put.content_type, "video/mp4");
  EXPECT_EQ(listing->upload.put.meta, req.meta);
  EXPECT_FALSE(listing->truncated);
  ASSERT_EQ(listing->parts.size(), 3u);
  EXPECT_EQ(listing->parts[0].part_no, 1);
  EXPECT_EQ(listing->parts[0].size, p1.size());
  EXPECT_EQ(listing->parts[0].etag, md5_hex(p1));
  EXPECT_EQ(listing->parts[2].etag, md5_hex(p3));
  auto ul = uploads();
  ASSERT_OK(ul);
  ASSERT_EQ(ul->uploads.size(), 1u);
  EXPECT_EQ(ul->uploads[0].upload_id, id);
  EXPECT_EQ(ul->uploads[0].created_us, up->created_us);
  EXPECT_EQ(ul->uploads[0].put.tags, req.tags);

  clock_.advance(5s);
  auto done = complete("films/take1.mp4", id, {listed(1, p1), {2, md5_hex(p2)}, {3, "\"" + md5_hex(p3) + "\"" }});
  // Quotes are the front-end's to remove: a quoted etag does not match.
  EXPECT_ERRC(done, Errc::invalid_argument);
  // Upper-case hex is the same etag.
  std::string upper = md5_hex(p3);
  for (auto& ch : upper) { ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch))); }
  done = complete("films/take1.mp4", id, {listed(1, p1), listed(2, p2), {3, upper}});
  ASSERT_OK(done);
  EXPECT_EQ(done->etag, multipart_etag({p1, p2, p3}));
  EXPECT_EQ(done->size, p1.size() + p2.size() + p3.size());

  auto h = head(owner(), kProjectA, "mp", "films/take1.mp4");
  ASSERT_OK(h);
  EXPECT_EQ(h->etag, multipart_etag({p1, p2, p3}));
  EXPECT_EQ(h->size, p1.size() + p2.size() + p3.size());
  EXPECT_EQ(h->upload_part_sizes, (std::vector<std::uint64_t>{p1.size(), p2.size(), p3.size()}));
  EXPECT_EQ(h->parts.size(), 4u);
  EXPECT_EQ(h->content_type, "video/mp4");
  EXPECT_EQ(h->meta, req.meta);
  EXPECT_EQ(h->headers, req.headers);
  EXPECT_EQ(h->tags, req.tags);
  EXPECT_EQ(h->modified_us, std::chrono::duration_cast<std::chrono::microseconds>(clock_.now().time_since_epoch()).count());
  auto bytes = read_all_of(*h);
  ASSERT_OK(bytes);
  EXPECT_TRUE(*bytes == p1 + p2 + p3) << "bytes read back differ";
  auto across = read(*h, p1.size() - 5, 10);  // across the boundary of parts 1 and 2
  ASSERT_OK(across);
  EXPECT_EQ(*across, (p1 + p2).substr(p1.size() - 5, 10));

  // The upload is gone; its blobs now belong to the object.
  EXPECT_ERRC(parts("films/take1.mp4", id), Errc::not_found);
  EXPECT_ERRC(complete("films/take1.mp4", id, {listed(1, p1)}), Errc::not_found);
  EXPECT_ERRC(part("films/take1.mp4", id, 4, "more"), Errc::not_found);
  auto gone = abort("films/take1.mp4", id);
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().message, kNoSuchUpload);
  EXPECT_TRUE(upload_keys().empty());
  EXPECT_EQ(blob_count(), 4u);
  expect_container_usage("mp", 1, p1.size() + p2.size() + p3.size());
  expect_account_usage(1, 1, p1.size() + p2.size() + p3.size());
  expect_consistent();

  // Deleting the object removes every blob.
  ASSERT_OK(del(owner(), kProjectA, "mp", "films/take1.mp4"));
  EXPECT_EQ(blob_count(), 0u);
  expect_consistent();
}

// The last part alone, a single part and an empty part: the etag still has its "-N".
TEST_P(UploadTest, SmallAndEmptyUploads) {
  ASSERT_OK(put_container(owner(), kProjectA, "mp"));
  auto one = create("one");
  ASSERT_OK(one);
  ASSERT_OK(part("one", one->upload_id, 1, "tiny"));
  auto done = complete("one", one->upload_id, {listed(1, "tiny")});
  ASSERT_OK(done);
  EXPECT_EQ(done->etag, multipart_etag({"tiny"}));
  EXPECT_EQ(bytes_of("mp", "one"), "tiny");

  auto empty = create("empty");
  ASSERT_OK(empty);
  ASSERT_OK(part("empty", empty->upload_id, 1, ""));
  auto lp = parts("empty", empty->upload_id);
  ASSERT_OK(lp);
  ASSERT_EQ(lp->parts.size(), 1u);
  EXPECT_EQ(lp->parts[0].size, 0u);
  EXPECT_EQ(lp->parts[0].etag, md5_hex(""));
  done = complete("empty", empty->upload_id, {listed(1, "")});
  ASSERT_OK(done);
  EXPECT_EQ(done->size, 0u);
  EXPECT_EQ(done->etag, multipart_etag({""}));
  EXPECT_EQ(bytes_of("mp", "empty"), "");
  EXPECT_EQ(blob_count(), 1u);
  expect_container_usage("mp", 2, 4);
  expect_consistent();
}

TEST_P(UploadTest, UploadingAPartAgainReplacesIt) {
  ASSERT_OK(put_container(owner(), kProjectA, "mp"));
  auto up = create("obj");
  ASSERT_OK(up);
  const std::string id = up->upload_id;
  const std::string first = pattern(3 * kMiB / 2, 1), second = pattern(kMinPart + 1, 2), last = "the end";
  ASSERT_OK(part("obj", id, 1, first));
  ASSERT_OK(part("obj", id, 2, last));
  ASSERT_EQ(blob_count(), 3u);
  std::vector<std::string> first_blobs = blob_files();

  ASSERT_OK(part("obj", id, 1, second));
  EXPECT_EQ(blob_count(), 2u);  // the two blobs of the first part 1 are gone
  auto lp = parts("obj", id);
  ASSERT_OK(lp);
  ASSERT_EQ(lp->parts.size(), 2u);
  EXPECT_EQ(lp->parts[0].etag, md5_hex(second));
  EXPECT_EQ(lp->parts[0].size, second.size());
  expect_consistent();

  EXPECT_ERRC(complete("obj", id, {listed(1, first), listed(2, last)}), Errc::invalid_argument);  // the old etag
  ASSERT_OK(complete("obj", id, {listed(1, second), listed(2, last)}));
  EXPECT_TRUE(bytes_of("mp", "obj") == second + last);
  EXPECT_EQ(blob_count(), 2u);
  for (const auto& k : first_blobs) {
    if (k.size() == 32 && blob_exists(k)) {
      auto h = head(owner(), kProjectA, "mp", "obj");
      ASSERT_OK(h);
      EXPECT_TRUE(std::any_of(h->parts.begin(), h->parts.end(), [&](const Part& p) { return p.blob_key == k; }));
    }
  }
  expect_consistent();
}

TEST_P(UploadTest, CompleteChecksTheListAndKeepsTheUploadWhenItFails) {
  ASSERT_OK(put_container(owner(), kProjectA, "mp"));
  auto up = create("obj");
  ASSERT_OK(up);
  const std::string id = up->upload_id;
  const std::string small = "short part", big = pattern(kMinPart, 7), tail = "tail";
  ASSERT_OK(part("obj", id, 1, small));
  ASSERT_OK(part("obj", id, 2, big));
  ASSERT_OK(part("obj", id, 3, tail));

  auto expect_message = [](const Result<ObjectInfo>& r, std::string_view message) {
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::invalid_argument);
    EXPECT_EQ(r.error().message, message);
  };
  expect_message(complete("obj", id, {listed(2, big), listed(1, small)}), kInvalidPartOrder);
  expect_message(complete("obj", id, {listed(2, big), listed(2, big)}), kInvalidPartOrder);
  expect_message(complete("obj", id, {listed(2, big), {3, md5_hex("other")}}), kInvalidPart);  // wrong etag
  expect_message(complete("obj", id, {listed(2, big), listed(4, "absent")}), kInvalidPart);  // no such part
  expect_message(complete("obj", id, {{0, md5_hex(small)}}), kInvalidPart);
  expect_message(complete("obj", id, {listed(1, small), listed(2, big)}), kEntityTooSmall);  // part 1 is not the last
  EXPECT_ERRC(complete("obj", id, {}), Errc::invalid_argument);
  EXPECT_ERRC(complete("other-name", id, {listed(2, big)}), Errc::not_found);  // the id belongs to another name

  // Nothing changed: the parts are still there, and no object was written.
  auto lp = parts("obj", id);
  ASSERT_OK(lp);
  EXPECT_EQ(lp->parts.size(), 3u);
  EXPECT_ERRC(head(owner(), kProjectA, "mp", "obj"), Errc::not_found);
  EXPECT_EQ(blob_count(), 3u);
  expect_consistent();

  // Parts the list leaves out are dropped with their blobs; a small last part is fine.
  auto done = complete("obj", id, {listed(2, big), listed(3, tail)});
  ASSERT_OK(done);
  EXPECT_EQ(done->etag, multipart_etag({big, tail}));
  EXPECT_EQ(done->upload_part_sizes, (std::vector<std::uint64_t>{big.size(), tail.size()}));
  EXPECT_TRUE(bytes_of("mp", "obj") == big + tail);
  EXPECT_EQ(blob_count(), 2u);
  expect_container_usage("mp", 1, big.size() + tail.size());
  expect_consistent();
}

TEST_P(UploadTest, UploadPartChecksItsArguments) {
  ASSERT_OK(put_container(owner(), kProjectA, "mp"));
  auto up = create("obj");
  ASSERT_OK(up);
  const std::string id = up->upload_id;
  auto bad_no = part("obj", id, 0, "x");
  ASSERT_FALSE(bad_no);
  EXPECT_EQ(bad_no.error().code, Errc::invalid_argument);
  EXPECT_EQ(bad_no.error().message, "Part number must be an integer between 1 and 10000, inclusive");
  EXPECT_ERRC(part("obj", id, 10001, "x"), Errc::invalid_argument);
  ASSERT_OK(part("obj", id, 10000, "x"));
  auto mismatch = part("obj", id, 1, "body", md5_hex("other body"));
  ASSERT_FALSE(mismatch);
  EXPECT_EQ(mismatch.error().message, kEtagMismatch);
  std::string upper = md5_hex("body");
  for (auto& ch : upper) { ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch))); }
  EXPECT_OK(part("obj", id, 1, "body", upper));
  EXPECT_ERRC(await([&] {
                StringSource src("x");
                return engine().upload_part(owner(), kProjectA, "mp", "obj", id, 2, config_.max_object_size + 1, std::nullopt, src);
              }),
              Errc::too_large);
  auto wrong = part("obj", "0000000000000000ffffffffffffffff", 1, "x");
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code, Errc::not_found);
  EXPECT_EQ(wrong.error().message, kNoSuchUpload);
  EXPECT_ERRC(part("another-name", id, 1, "x"), Errc::not_found);
  EXPECT_ERRC(part("obj", id, 1, "x", std::nullopt, "no-such-container"), Errc::not_found);
  // A body without a length, in pieces.
  ChunkedSource chunked(pattern(25000), 1000);
  auto c = await([&] { return engine().upload_part(owner(), kProjectA, "mp", "obj", id, 3, std::nullopt, std::nullopt, chunked); });
  ASSERT_OK(c);
  EXPECT_EQ(c->size, 25000u);
  EXPECT_EQ(c->etag, md5_hex(pattern(25000)));
  // Bad names and metadata are refused when the upload is created.
  EXPECT_ERRC(create("a/../b"), Errc::invalid_argument);
  PutRequest big_meta;
  big_meta.meta = {{"k", std::string(10000, 'v')}};
  EXPECT_ERRC(create("obj", big_meta), Errc::invalid_argument);
  EXPECT_ERRC(create("obj", {}, "no-such-container"), Errc::not_found);
  EXPECT_EQ(blob_count(), 3u);
  EXPECT_EQ(temp_count(), 0u);
  expect_consistent();
}

TEST_P(UploadTest, AbortRemovesThePartsAndTheUpload) {
  ASSERT_OK(put_container(owner(), kProjectA, "mp"));
  auto up = create("obj");
  ASSERT_OK(up);
  const std::string id = up->upload_id;
  ASSERT_OK(part("obj", id, 1, pattern(3 * kMiB / 2)));
  ASSERT_OK(part("obj", id, 2, "x"));
  ASSERT_OK(part("obj", id, 3, ""));
  EXPECT_EQ(blob_count(), 3u);
  EXPECT_ERRC(abort("wrong-name", id), Errc::not_found);
  EXPECT_EQ(blob_count(), 3u);
  ASSERT_OK(abort("obj", id));
  EXPECT_EQ(blob_count(), 0u);
  auto again = abort("obj", id);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Errc::not_found);
  EXPECT_EQ(again.error().message, kNoSuchUpload);
  EXPECT_ERRC(part("obj", id, 1, "late"), Errc::not_found);
  EXPECT_ERRC(parts("obj", id), Errc::not_found);
  EXPECT_ERRC(complete("obj", id, {listed(2, "x")}), Errc::not_found);
  EXPECT_TRUE(upload_keys().empty());
  EXPECT_ERRC(head(owner(), kProjectA, "mp", "obj"), Errc::not_found);
  EXPECT_EQ(blob_count(), 0u);
  expect_container_usage("mp", 0, 0);
  expect_consistent();
}

TEST_P(UploadTest, ListUploadsByNameThenAgeWithPrefixDelimiterAndMarkers) {
  ASSERT_OK(put_container(owner(), kProjectA, "mp"));
  std::vector<std::string> all;  // "name@id" in listing order
  auto add = [&](const std::string& name) {
    auto u = create(name);
    EXPECT_TRUE(u) << describe(u.error());
    return u ? name + "@" + u->upload_id : std::string();
  };
  // Created out of name order; "a/1" three times, twice in the same microsecond.
  const std::string d = add("d");
  clock_.advance(1s);
  const std::string a1_old = add("a/1");
  clock_.advance(1s);
  const std::string b = add("b");
  const std::string cxy = add("c/x/y");
  const std::string a2 = add("a/2");
  clock_.advance(1s);
  std::string a1_x = add("a/1"), a1_y = add("a/1");
  if (a1_y < a1_x) { std::swap(a1_x, a1_y); }  // same time: by id
  all = {a1_old, a1_x, a1_y, a2, b, cxy, d};
  EXPECT_EQ(upload_keys(), all);

  auto id_of = [](const std::string& key) { return key.substr(key.find('@') + 1); };
  UploadQuery q;
  q.prefix = "a/";
  EXPECT_EQ(upload_keys(q), (std::vector<std::string>{a1_old, a1_x, a1_y, a2}));
  q = {};
  q.delimiter = "/";
  EXPECT_EQ(upload_keys(q), (std::vector<std::string>{"prefix:a/", "prefix:c/", b, d}));
  q.prefix = "c/";
  EXPECT_EQ(upload_keys(q), (std::vector<std::string>{"prefix:c/x/"}));
  q = {};
  q.key_marker = "a/1";
  EXPECT_EQ(upload_keys(q), (std::vector<std::string>{a2, b, cxy, d}));
  q.upload_id_marker = id_of(a1_old);
  EXPECT_EQ(upload_keys(q), (std::vector<std::string>{a1_x, a1_y, a2, b, cxy, d}));
  q.delimiter = "/";
  q.key_marker = "a/";  // a common prefix as the marker: past everything under it
  q.upload_id_marker.clear();
  EXPECT_EQ(upload_keys(q), (std::vector<std::string>{"prefix:c/", b, d}));

  // Pages of one, each starting after the last upload of the one before, see everything once.
  std::vector<std::string> paged;
  q = {};
  q.limit = 1;
  for (int page = 0; page < 20; ++page) {
    auto l = uploads(q);
    ASSERT_OK(l);
    ASSERT_EQ(l->uploads.size(), 1u);
    paged.push_back(l->uploads[0].name + "@" + l->uploads[0].upload_id);
    if (!l->truncated) { break; }
    q.key_marker = l->uploads[0].name;
    q.upload_id_marker = l->uploads[0].upload_id;
  }
  EXPECT_EQ(paged, all);
  // Pages of two with a delimiter: prefixes count towards the limit.
  q = {};
  q.delimiter = "/";
  q.limit = 2;
  auto page1 = uploads(q);
  ASSERT_OK(page1);
  EXPECT_EQ(page1->prefixes, (std::vector<std::string>{"a/"}));
  ASSERT_EQ(page1->uploads.size(), 1u);
  EXPECT_EQ(page1->uploads[0].name, "b");
  EXPECT_TRUE(page1->truncated);
  q.key_marker = "b";
  q.upload_id_marker = id_of(b);
  auto page2 = uploads(q);
  ASSERT_OK(page2);
  EXPECT_EQ(page2->prefixes, (std::vector<std::string>{"c/"}));
  ASSERT_EQ(page2->uploads.size(), 1u);
  EXPECT_EQ(page2->uploads[0].name, "d");
  EXPECT_FALSE(page2->truncated);

  // A marker whose upload was aborted meanwhile still places the next page.
  ASSERT_OK(abort("a/1", id_of(a1_old)));
  q = {};
  q.key_marker = "a/1";
  q.upload_id_marker = id_of(a1_old);
  q.limit = 2;
  auto after_abort = uploads(q);
  ASSERT_OK(after_abort);
  ASSERT_EQ(after_abort->uploads.size(), 2u);
  EXPECT_EQ("a/1@" + after_abort->uploads[0].upload_id, a1_x);
  EXPECT_EQ("a/1@" + after_abort->uploads[1].upload_id, a1_y);
  EXPECT_TRUE(after_abort->truncated);
  q.limit = 0;
  auto none = uploads(q);
  ASSERT_OK(none);
  EXPECT_TRUE(none->uploads.empty() && none->prefixes.empty());
}

TEST_P(UploadTest, ListPartsInPages) {
  ASSERT_OK(put_container(owner(), kProjectA, "mp"));
  auto up = create("obj");
  ASSERT_OK(up);
  const std::string id = up->upload_id;
  for (int no : {5, 1, 3, 2, 7, 6, 4}) {
    clock_.advance(1s);
    ASSERT_OK(part("obj", id, no, pattern(static_cast<std::size_t>(100 * no), static_cast<unsigned>(no))));
  }
  std::vector<int> seen;
  int marker = 0;
  for (int page = 0; page < 5; ++page) {
    auto lp = parts("obj", id, marker, 3);
    ASSERT_OK(lp);
    for (const auto& p : lp->parts) {
      seen.push_back(p.part_no);
      EXPECT_EQ(p.size, static_cast<std::uint64_t>(100 * p.part_no));
      EXPECT_EQ(p.etag, md5_hex(pattern(static_cast<std::size_t>(100 * p.part_no), static_cast<unsigned>(p.part_no))));
    }
    EXPECT_EQ(lp->truncated, page < 2) << "page " << page;
    if (!lp->truncated) { break; }
    marker = lp->parts.back().part_no;
  }
  EXPECT_EQ(seen, (std::vector<int>{1, 2, 3, 4, 5, 6, 7}));
  auto zero = parts("obj", id, 0, 0);
  ASSERT_OK(zero);
  EXPECT_TRUE(zero->parts.empty());
  EXPECT_TRUE(zero->truncated);
  auto after_all = parts("obj", id, 7, 1000);
  ASSERT_OK(after_all);
  EXPECT_TRUE(after_all->parts.empty());
  EXPECT_FALSE(after_all->truncated);
  auto capped = parts("obj", id, 0, 100000);
  ASSERT_OK(capped);
  EXPECT_EQ(capped->parts.size(), 7u);
  EXPECT_EQ(capped->parts[4].modified_us + 1000000, capped->parts[0].modified_us);  // part 5 was sent a second before part 1
}

TEST_P(UploadTest, LifecycleAbortsIncompleteUploadsUnderItsPrefix) {
  ASSERT_OK(put_container(owner(), kProjectA, "mp"));
  auto tmp = create("tmp/a");
  ASSERT_OK(tmp);
  ASSERT_OK(part("tmp/a", tmp->upload_id, 1, "x"));
  auto kept = create("keep/b");
  ASSERT_OK(kept);
  ASSERT_OK(part("keep/b", kept->upload_id, 1, "y"));
  LifecycleRule rule;
  rule.prefix = "tmp/";
  rule.abort_upload_days = 2;
  ASSERT_OK(await([&] {
    return engine().update_container(owner(), kProjectA, "mp", {}, {{std::string(kSysS3Lifecycle), encode_lifecycle({rule})}});
  }));
  auto apply = [&] { return await([&] { return engine().apply_lifecycle(1000); }); };
  clock_.advance(std::chrono::hours(24));
  auto n = apply();
  ASSERT_OK(n);
  EXPECT_EQ(*n, 0u);  // one day is not two
  clock_.advance(std::chrono::hours(24) + 1s);
  n = apply();
  ASSERT_OK(n);
  EXPECT_EQ(*n, 1u);
  EXPECT_ERRC(parts("tmp/a", tmp->upload_id), Errc::not_found);
  EXPECT_OK(parts("keep/b", kept->upload_id));  // outside the rule's prefix
  EXPECT_EQ(blob_count(), 1u);
  expect_consistent();
}

TEST_P(UploadTest, ReaperAbortsOldUploads) {
  ASSERT_OK(put_container(owner(), kProjectA, "mp"));
  auto old1 = create("old1");
  ASSERT_OK(old1);
  ASSERT_OK(part("old1", old1->upload_id, 1, pattern(3 * kMiB / 2)));
  auto old2 = create("old2");
  ASSERT_OK(old2);
  ASSERT_OK(part("old2", old2->upload_id, 1, "x"));
  clock_.advance(std::chrono::hours(24 * 3));
  auto young = create("young");
  ASSERT_OK(young);
  ASSERT_OK(part("young", young->upload_id, 1, "y"));
  EXPECT_EQ(blob_count(), 4u);

  auto n = reap();
  ASSERT_OK(n);
  EXPECT_EQ(*n, 0u);  // nothing is a week old yet
  clock_.advance(std::chrono::hours(24 * 4) + 1s);
  n = reap(1);
  ASSERT_OK(n);
  EXPECT_EQ(*n, 1u);  // the limit
  n = reap();
  ASSERT_OK(n);
  EXPECT_EQ(*n, 1u);
  EXPECT_ERRC(parts("old1", old1->upload_id), Errc::not_found);
  EXPECT_ERRC(parts("old2", old2->upload_id), Errc::not_found);
  EXPECT_OK(parts("young", young->upload_id));
  EXPECT_EQ(blob_count(), 1u);
  expect_consistent();
  clock_.advance(std::chrono::hours(24 * 3));
  n = reap();
  ASSERT_OK(n);
  EXPECT_EQ(*n, 1u);
  EXPECT_EQ(blob_count(), 0u);
  EXPECT_TRUE(upload_keys().empty());
  expect_consistent();
}

// Completing goes through the same commit as a PUT: overwrites, quotas, Swift versions and the
// counters behave the same.
TEST_P(UploadTest, CompleteCommitsLikeAPut) {
  ASSERT_OK(put_container(owner(), kProjectA, "archive"));
  ASSERT_OK(put_container(owner(), kProjectA, "mp", {}, {{std::string(kSysVersionsLocation), "archive"}}));
  ASSERT_OK(put(owner(), kProjectA, "mp", "obj", "old bytes"));
  const std::string p1 = pattern(kMinPart, 1), p2 = "second";
  auto up = create("obj");
  ASSERT_OK(up);
  ASSERT_OK(part("obj", up->upload_id, 1, p1));
  ASSERT_OK(part("obj", up->upload_id, 2, p2));
  // A quota the object does not fit: refused, and the upload stays.
  ASSERT_OK(await([&] { return engine().update_container(owner(), kProjectA, "mp", {{std::string(kMetaQuotaBytes), "1000"}}, {}); }));
  auto refused = complete("obj", up->upload_id, {listed(1, p1), listed(2, p2)});
  EXPECT_ERRC(refused, Errc::quota_exceeded);
  EXPECT_OK(parts("obj", up->upload_id));
  ASSERT_OK(await([&] { return engine().update_container(owner(), kProjectA, "mp", {{std::string(kMetaQuotaBytes), std::nullopt}}, {}); }));

  clock_.advance(1s);
  ASSERT_OK(complete("obj", up->upload_id, {listed(1, p1), listed(2, p2)}));
  EXPECT_TRUE(bytes_of("mp", "obj") == p1 + p2);
  EXPECT_EQ(names("archive").size(), 1u);  // the old version was archived
  expect_container_usage("mp", 1, p1.size() + p2.size());
  expect_container_usage("archive", 1, 9);
  expect_account_usage(2, 2, p1.size() + p2.size() + 9);
  EXPECT_EQ(blob_count(), 3u);
  expect_consistent();

  // A copy shares the multipart object's blobs; they go when the last name does.
  ASSERT_OK(copy(owner(), kProjectA, "mp", "obj", kProjectA, "archive", "copy"));
  EXPECT_EQ(blob_count(), 3u);
  ASSERT_OK(await([&] { return engine().update_container(owner(), kProjectA, "mp", {}, {{std::string(kSysVersionsLocation), std::nullopt}}); }));
  ASSERT_OK(del(owner(), kProjectA, "mp", "obj"));
  EXPECT_TRUE(bytes_of("archive", "copy") == p1 + p2);
  expect_consistent();
}

TEST_P(UploadTest, OtherProjectsAreForbidden) {
  ASSERT_OK(put_container(owner(), kProjectA, "mp"));
  auto up = create("obj");
  ASSERT_OK(up);
  const std::string id = up->upload_id;
  ASSERT_OK(part("obj", id, 1, "mine"));
  struct Caller {
    const char* who;
    Access access;
    Errc expected;
  };
  const std::vector<Caller> callers = {
      {"a member of project B", access(member_b_), Errc::forbidden},
      {"anonymous", Access{}, Errc::unauthenticated},
      {"a reader of project A", access(reader_a_), Errc::forbidden},
  };
  for (const auto& caller : callers) {
    SCOPED_TRACE(caller.who);
    const Access& a = caller.access;
    EXPECT_ERRC(create_as(a, "planted"), caller.expected);
    EXPECT_ERRC(part_as(a, "obj", id, 1, "theirs"), caller.expected);
    EXPECT_ERRC(part_as(a, "obj", id, 2, "theirs"), caller.expected);
    EXPECT_ERRC(complete("obj", id, {listed(1, "mine")}, &a), caller.expected);
    EXPECT_ERRC(abort("obj", id, &a), caller.expected);
    if (caller.access.principal != &reader_a_) {
      EXPECT_ERRC(parts("obj", id, 0, 1000, &a), caller.expected);
      EXPECT_ERRC(uploads({}, &a), caller.expected);
    }
  }
  // A reader lists.
  const Access reader = access(reader_a_);
  EXPECT_OK(parts("obj", id, 0, 1000, &reader));
  EXPECT_OK(uploads({}, &reader));
  EXPECT_EQ(blob_count(), 1u);
  auto lp = parts("obj", id);
  ASSERT_OK(lp);
  ASSERT_EQ(lp->parts.size(), 1u);
  EXPECT_EQ(lp->parts[0].etag, md5_hex("mine"));

  // A writer by container ACL (no read access) may list the parts of its own uploads only.
  ASSERT_OK(await([&] {
    return engine().update_container(owner(), kProjectA, "mp", {}, {{std::string(kSysWriteAcl), kProjectB + ":*"}});
  }));
  const Access b = access(member_b_);
  auto theirs = create_as(b, "from-b");
  ASSERT_OK(theirs);
  EXPECT_EQ(theirs->initiator, member_b_.user_id);
  ASSERT_OK(part_as(b, "from-b", theirs->upload_id, 1, "b"));
  EXPECT_OK(parts("from-b", theirs->upload_id, 0, 1000, &b));
  EXPECT_ERRC(parts("obj", id, 0, 1000, &b), Errc::forbidden);
  EXPECT_ERRC(uploads({}, &b), Errc::forbidden);
  ASSERT_OK(complete("from-b", theirs->upload_id, {listed(1, "b")}, &b));
  EXPECT_EQ(bytes_of("mp", "from-b"), "b");
  expect_consistent();
}

TEST_P(UploadTest, DeletingAContainerAbortsItsUploads) {
  ASSERT_OK(put_container(owner(), kProjectA, "mp"));
  auto up = create("obj");
  ASSERT_OK(up);
  ASSERT_OK(part("obj", up->upload_id, 1, pattern(3 * kMiB / 2)));
  ASSERT_OK(part("obj", up->upload_id, 2, "x"));
  // With an object in it, the container stays and so do the uploads.
  ASSERT_OK(put(owner(), kProjectA, "mp", "keep", "k"));
  EXPECT_ERRC(await([&] { return engine().delete_container(owner(), kProjectA, "mp"); }), Errc::conflict);
  EXPECT_OK(parts("obj", up->upload_id));
  EXPECT_EQ(blob_count(), 4u);  // three part blobs and the object
  ASSERT_OK(del(owner(), kProjectA, "mp", "keep"));

  ASSERT_OK(await([&] { return engine().delete_container(owner(), kProjectA, "mp"); }));
  EXPECT_EQ(blob_count(), 0u);
  expect_consistent();
  ASSERT_OK(put_container(owner(), kProjectA, "mp"));
  EXPECT_TRUE(upload_keys().empty());
  EXPECT_ERRC(part("obj", up->upload_id, 3, "late"), Errc::not_found);
  EXPECT_EQ(blob_count(), 0u);
  expect_account_usage(1, 0, 0);
  expect_consistent();
}

TEST_P(UploadTest, ConcurrentUploadsOfOnePartLeaveExactlyOne) {
  ASSERT_OK(put_container(owner(), kProjectA, "mp"));
  auto up = create("obj");
  ASSERT_OK(up);
  const std::string id = up->upload_id;
  constexpr int kWriters = 8;
  std::vector<std::string> bodies;
  for (int w = 0; w < kWriters; ++w) { bodies.push_back(pattern(50000 + static_cast<std::size_t>(w), static_cast<unsigned>(w + 1))); }
  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    boost::asio::io_context io;
    std::atomic<int> ok{0};
    for (int w = 0; w < kWriters; ++w) {
      boost::asio::co_spawn(
          io,
          [&, w]() -> awaitable<void> {
            StringSource src(bodies[static_cast<std::size_t>(w)]);
            auto r = co_await engine().upload_part(owner(), kProjectA, "mp", "obj", id, 1,
                                                   std::uint64_t{bodies[static_cast<std::size_t>(w)].size()}, std::nullopt, src);
            if (r) {
              ++ok;
            } else {
              ADD_FAILURE() << describe(r.error());
            }
          },
          boost::asio::detached);
    }
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) { threads.emplace_back([&] { io.run(); }); }
    for (auto& t : threads) { t.join(); }
    EXPECT_EQ(ok.load(), kWriters);
    auto lp = parts("obj", id);
    ASSERT_OK(lp);
    ASSERT_EQ(lp->parts.size(), 1u);
    EXPECT_EQ(blob_count(), 1u) << "blobs of replaced parts leaked";
    EXPECT_EQ(temp_count(), 0u);
    expect_consistent();
  }
  auto lp = parts("obj", id);
  ASSERT_OK(lp);
  auto winner = std::find_if(bodies.begin(), bodies.end(), [&](const std::string& b) { return md5_hex(b) == lp->parts[0].etag; });
  ASSERT_NE(winner, bodies.end());
  ASSERT_OK(complete("obj", id, {{1, lp->parts[0].etag}}));
  EXPECT_TRUE(bytes_of("mp", "obj") == *winner);
  expect_consistent();
}

// A body that stops after its first `first` bytes until `release` is set, saying so in `paused`.
class PausingSource final : public ByteSource {
 public:
  PausingSource(std::string data, std::size_t first, std::atomic<bool>& paused, std::atomic<bool>& release)
      : data_(std::move(data)), first_(first), paused_(paused), release_(release) {}
  awaitable<Result<std::size_t>> read(std::span<char> buf) override {
    if (pos_ >= first_) {
      paused_ = true;
      boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
      while (!release_) {
        timer.expires_after(1ms);
        co_await timer.async_wait(boost::asio::use_awaitable);
      }
    }
    std::size_t n = std::min({buf.size(), data_.size() - pos_, pos_ < first_ ? first_ - pos_ : data_.size()});
    std::copy_n(data_.data() + pos_, n, buf.data());
    pos_ += n;
    co_return n;
  }

 private:
  std::string data_;
  std::size_t first_;
  std::size_t pos_ = 0;
  std::atomic<bool>& paused_;
  std::atomic<bool>& release_;
};

// An upload completed or aborted while one of its parts is still arriving: the late part finds
// no upload when it commits and removes its blobs; the object has the parts listed.
TEST_P(UploadTest, CompletingOrAbortingWhileAPartIsInFlight) {
  ASSERT_OK(put_container(owner(), kProjectA, "mp"));
  for (bool completing : {true, false}) {
    SCOPED_TRACE(completing ? "complete" : "abort");
    auto up = create("obj");
    ASSERT_OK(up);
    const std::string id = up->upload_id;
    const std::string p1 = pattern(kMinPart, 1), p2 = "two";
    ASSERT_OK(part("obj", id, 1, p1));
    ASSERT_OK(part("obj", id, 2, p2));
    const std::size_t blobs_before = blob_count();
    std::atomic<bool> paused{false}, release{false};
    std::optional<Result<UploadedPart>> late;
    std::optional<Status> finished;
    boost::asio::io_context io;
    // Part 1 again, paused half-way.
    const std::string replacement = pattern(3 * kMiB / 2, 9);
    boost::asio::co_spawn(
        io,
        [&]() -> awaitable<void> {
          PausingSource src(replacement, kMiB + 100, paused, release);
          late.emplace(co_await engine().upload_part(owner(), kProjectA, "mp", "obj", id, 1, std::uint64_t{replacement.size()},
                                                     std::nullopt, src));
        },
        boost::asio::detached);
    boost::asio::co_spawn(
        io,
        [&]() -> awaitable<void> {
          boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
          while (!paused) {
            timer.expires_after(1ms);
            co_await timer.async_wait(boost::asio::use_awaitable);
          }
          if (completing) {
            std::vector<CompletedPart> list{listed(1, p1), listed(2, p2)};
            auto r = co_await engine().complete_upload(owner(), kProjectA, "mp", "obj", id, std::move(list));
            finished.emplace(r ? Status{} : Status{r.error()});
          } else {
            finished.emplace(co_await engine().abort_upload(owner(), kProjectA, "mp", "obj", id));
          }
          release = true;
        },
        boost::asio::detached);
    std::vector<std::thread> threads;
    for (int t = 0; t < 2; ++t) { threads.emplace_back([&] { io.run(); }); }
    for (auto& t : threads) { t.join(); }
    ASSERT_TRUE(finished.has_value() && late.has_value());
    ASSERT_OK(*finished);
    ASSERT_FALSE(*late);
    EXPECT_EQ(late->error().code, Errc::not_found);
    EXPECT_EQ(late->error().message, kNoSuchUpload);
    if (completing) {
      EXPECT_TRUE(bytes_of("mp", "obj") == p1 + p2);
      EXPECT_EQ(blob_count(), blobs_before);
    } else {
      EXPECT_EQ(blob_count(), blobs_before - 2);
    }
    EXPECT_EQ(temp_count(), 0u);
    expect_consistent();
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, UploadTest, ::testing::Values(Backend::sqlite, Backend::postgres), test::backend_param_name);

}  // namespace
}  // namespace ciel::object
