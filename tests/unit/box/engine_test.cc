// The box engine on both MetaStore backends: a migrated store (a fresh SQLite file, or a fresh
// PostgreSQL schema) and local-file blobs in the test's temp directory. Every test drives the
// awaitables to completion with run_coro and then looks at what a user would notice (stat, list,
// the bytes read back, etags, sizes, the trash, versions) and at what is on disk (blob files).
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <functional>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "box/box.h"
#include "box_fixture.h"
#include "core/blocking.h"
#include "core/bytes.h"
#include "core/crypto/crypto.h"
#include "store/blob_store.h"
#include "store/meta_store.h"
#include "support/store_site.h"
#include "support/test_support.h"

namespace ciel::box {
namespace {

namespace fs = std::filesystem;
using boost::asio::awaitable;
using namespace std::chrono_literals;
using test::Backend;
using test::describe;

const std::string kUser = "u-alice";
const std::string kOther = "u-bob";
// "café.txt" with the é precomposed (U+00E9) and decomposed (e + U+0301).
const std::string kCafeNfc = "caf\xC3\xA9.txt";
const std::string kCafeNfd = "cafe\xCC\x81.txt";

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

// A body of unknown total size that arrives in small pieces.
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

// The value, or `fallback` when `r` holds an error (the failure shows in the comparison).
template <class T, class U>
T or_else(const Result<T>& r, U&& fallback) {
  return r ? *r : T(std::forward<U>(fallback));
}

// Runs an awaitable to completion and returns its result.

#define EXPECT_ERROR(expr, errc, msg)                                                       \
  do {                                                                                      \
    const auto& ciel_e_ = (expr);                                                           \
    ASSERT_FALSE(ciel_e_) << #expr << " succeeded; expected " << ::ciel::errc_name(errc);   \
    EXPECT_EQ(ciel_e_.error().code, errc) << describe(ciel_e_.error());                     \
    EXPECT_EQ(ciel_e_.error().message, msg) << describe(ciel_e_.error());                   \
  } while (0)

class BoxEngineTest : public BoxStoreTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(open_stores());
    config_.inline_max = 0;  // most tests follow bytes into blobs; InlineFiles covers the other path
    box_ = make_box_service(*meta_, *blobs_, config_);
  }


  // A new service over the same stores, with `config`.
  void reconfigure(const BoxConfig& config) {
    config_ = config;
    box_ = make_box_service(*meta_, *blobs_, config_);
  }

  BoxService& box() { return *box_; }

  // --- one-line calls ----------------------------------------------------------------------------
  Result<Node> stat(const std::string& path, const std::string& user = kUser) {
    return await([&] { return box().stat(user, path); });
  }
  Result<Node> mkcol(const std::string& path) {
    return await([&] { return box().mkcol(kUser, path, std::nullopt); });
  }
  // With the length announced unless `options` says otherwise.
  Result<WriteResult> put(const std::string& path, const std::string& body, PutOptions options = {}) {
    if (!options.length) { options.length = body.size(); }
    StringSource src(body);
    return await([&] { return box().put(kUser, path, src, options); });
  }
  // Without a length, in 1000-byte pieces.
  Result<WriteResult> put_unknown_length(const std::string& path, const std::string& body, PutOptions options = {}) {
    options.length.reset();
    ChunkedSource src(body, 1000);
    return await([&] { return box().put(kUser, path, src, options); });
  }
  Status remove(const std::string& path) {
    return await([&] { return box().remove(kUser, path, std::nullopt); });
  }
  Result<WriteResult> move(const std::string& from, const std::string& to, bool overwrite = true) {
    return await([&] { return box().move(kUser, from, to, overwrite); });
  }
  Result<WriteResult> copy(const std::string& from, const std::string& to, bool overwrite = true, bool recursive = true) {
    return await([&] { return box().copy(kUser, from, to, overwrite, recursive); });
  }
  Result<std::string> read(const Node& file) {
    return await([&]() -> awaitable<Result<std::string>> {
      auto src = co_await box().open(file, 0, file.size);
      if (!src) { co_return src.error(); }
      co_return co_await read_all(**src, 64 << 20);
    });
  }
  // The bytes at `path`, through stat and open.
  Result<std::string> get(const std::string& path) {
    auto n = stat(path);
    if (!n) { return n.error(); }
    return read(*n);
  }
  std::string etag(const std::string& path) {
    auto n = stat(path);
    EXPECT_TRUE(n) << path << ": " << describe(n.error());
    return n ? n->etag : std::string();
  }
  std::uint64_t size(const std::string& path) {
    auto n = stat(path);
    EXPECT_TRUE(n) << path << ": " << describe(n.error());
    return n ? n->size : 0;
  }
  // The names in a folder, in listing order.
  std::vector<std::string> names(const std::string& path) {
    std::vector<std::string> out;
    auto l = await([&] { return box().list(kUser, path); });
    EXPECT_TRUE(l) << path << ": " << describe(l.error());
    if (l) {
      for (const auto& n : l->second) { out.push_back(n.name); }
    }
    return out;
  }
  std::vector<TrashItem> trash() {
    auto t = await([&] { return box().trash(kUser); });
    EXPECT_TRUE(t) << describe(t.error());
    return t ? *t : std::vector<TrashItem>{};
  }
  std::vector<Version> versions(std::int64_t file_id) {
    auto v = await([&] { return box().versions(kUser, file_id); });
    EXPECT_TRUE(v) << describe(v.error());
    return v ? *v : std::vector<Version>{};
  }
  Result<std::string> read_version(const Version& v) {
    return await([&]() -> awaitable<Result<std::string>> {
      auto src = co_await box().open_version(v);
      if (!src) { co_return src.error(); }
      co_return co_await read_all(**src, 64 << 20);
    });
  }
  Status create_upload(const std::string& transfer, std::optional<std::uint64_t> total) {
    return await([&] { return box().create_upload(kUser, transfer, total); });
  }
  Result<UploadChunk> put_chunk(const std::string& transfer, const std::string& name, std::optional<std::uint64_t> offset,
                                const std::string& body, std::optional<std::uint64_t> length = std::nullopt) {
    StringSource src(body);
    return await([&] { return box().put_chunk(kUser, transfer, name, offset, length.value_or(body.size()), src); });
  }
  Result<WriteResult> assemble(const std::string& transfer, const std::string& path, PutOptions options = {}) {
    return await([&] { return box().assemble_upload(kUser, transfer, path, options); });
  }
  Result<Lock> lock(const std::string& path, bool exclusive, bool infinite = false, std::int64_t timeout_s = 0) {
    LockRequest req;
    req.exclusive = exclusive;
    req.infinite = infinite;
    req.owner_xml = "<D:owner xmlns:D=\"DAV:\">alice</D:owner>";
    req.timeout_s = timeout_s;
    return await([&] { return box().lock(kUser, path, req); });
  }
  std::vector<std::string> lock_tokens(const std::string& path, bool beneath = false) {
    std::vector<std::string> out;
    auto l = await([&] { return box().locks(kUser, path, beneath); });
    EXPECT_TRUE(l) << describe(l.error());
    if (l) {
      for (const auto& x : *l) { out.push_back(x.token); }
    }
    std::sort(out.begin(), out.end());
    return out;
  }
  // name -> value of the node's dead properties.
  std::map<std::string, std::string> props_of(const std::string& path) {
    std::map<std::string, std::string> out;
    auto n = stat(path);
    EXPECT_TRUE(n) << describe(n.error());
    if (!n) { return out; }
    auto p = await([&] { return box().props(kUser, n->id); });
    EXPECT_TRUE(p) << describe(p.error());
    if (p) {
      for (const auto& d : *p) { out["{" + d.ns + "}" + d.name] = d.value; }
    }
    return out;
  }
  Result<std::size_t> reap() {
    return await([&] { return box().reap(1000); });
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
    std::sort(out.begin(), out.end());
    return out;
  }
  std::size_t blob_count() const { return blob_files().size(); }
  std::size_t temp_count() const {
    std::size_t n = 0;
    std::error_code ec;
    for (auto it = fs::directory_iterator(blob_root_ + "/tmp", ec); it != fs::directory_iterator(); it.increment(ec)) { ++n; }
    return n;
  }
  // The blob keys the box's rows name for a content.
  std::vector<std::string> content_blobs(std::int64_t content_id) {
    std::vector<std::string> out;
    EXPECT_OK(meta_->read_sync([&](store::Tx& tx) -> Status {
      out.clear();
      auto rows = tx.query("SELECT blob_key FROM box_content_parts WHERE content_id = $1 ORDER BY seq", {store::Value{content_id}});
      if (!rows) { return rows.error(); }
      for (const auto& r : rows->rows) { out.push_back(r.text(0)); }
      return {};
    }));
    return out;
  }
  // Runs every call at once on four threads (the SQL of each on the blocking pool) and returns
  // their results in order.
  template <class T>
  std::vector<T> concurrently(const std::vector<std::function<awaitable<T>()>>& calls) {
    boost::asio::io_context io;
    std::vector<std::optional<T>> out(calls.size());
    for (std::size_t i = 0; i < calls.size(); ++i) {
      boost::asio::co_spawn(io, [&, i]() -> awaitable<void> { out[i].emplace(co_await calls[i]()); }, boost::asio::detached);
    }
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) { threads.emplace_back([&] { io.run(); }); }
    for (auto& t : threads) { t.join(); }
    std::vector<T> results;
    for (auto& o : out) { results.push_back(std::move(*o)); }
    return results;
  }
  // Every content's reference count is the number of files and versions naming it, and every
  // folder's size is the sum of its members'.
  void expect_counts_exact() {
    auto st = meta_->read_sync([&](store::Tx& tx) -> Status {
      auto refs = tx.query(
          "SELECT c.id, c.refs, (SELECT COUNT(*) FROM box_nodes n WHERE n.content_id = c.id) + "
          "(SELECT COUNT(*) FROM box_versions v WHERE v.content_id = c.id) FROM box_contents c");
      if (!refs) { return refs.error(); }
      for (const auto& r : refs->rows) {
        EXPECT_EQ(r.integer(1), r.integer(2)) << "content " << r.integer(0) << ": refs " << r.integer(1) << ", named by " << r.integer(2);
      }
      auto sizes = tx.query(
          "SELECT f.id, f.name, f.size, COALESCE((SELECT SUM(m.size) FROM box_nodes m WHERE m.parent = f.id), 0) "
          "FROM box_nodes f WHERE f.folder = 1");
      if (!sizes) { return sizes.error(); }
      for (const auto& r : sizes->rows) {
        EXPECT_EQ(r.integer(2), r.integer(3)) << "folder \"" << r.text(1) << "\" (" << r.integer(0) << ")";
      }
      return {};
    });
    EXPECT_OK(st);
  }
  void expect_consistent() {
    auto report = check_consistency(*meta_, *blobs_, false);
    ASSERT_OK(report);
    EXPECT_TRUE(report->missing_blobs.empty()) << "missing: " << testing::PrintToString(report->missing_blobs);
    EXPECT_TRUE(report->unreferenced_blobs.empty()) << "unreferenced: " << testing::PrintToString(report->unreferenced_blobs);
  }

  BoxConfig config_;
};

// --- the tree ----------------------------------------------------------------------------------

TEST_P(BoxEngineTest, MkcolPutStatList) {
  auto root = stat("");
  ASSERT_OK(root);  // a user's box exists from the first call
  EXPECT_TRUE(root->folder);
  EXPECT_EQ(root->size, 0u);
  EXPECT_TRUE(names("").empty());

  auto docs = mkcol("docs");
  ASSERT_OK(docs);
  EXPECT_TRUE(docs->folder);
  EXPECT_EQ(docs->path, "docs");
  EXPECT_EQ(docs->name, "docs");
  EXPECT_EQ(docs->parent, root->id);

  PutOptions o;
  o.mtime = 1700000000;
  auto w = put("docs/a.txt", "hello", o);
  ASSERT_OK(w);
  EXPECT_TRUE(w->created);
  EXPECT_FALSE(w->node.folder);
  EXPECT_EQ(w->node.path, "docs/a.txt");
  EXPECT_EQ(w->node.size, 5u);
  EXPECT_EQ(w->node.mtime, 1700000000);
  EXPECT_EQ(w->node.md5, "");  // MD5 only when the client sends one to verify
  EXPECT_EQ(w->node.sha1, crypto::hex(crypto::sha1("hello")));
  EXPECT_EQ(w->node.adler32, "062c0215");
  EXPECT_EQ(w->node.content_type, "text/plain");
  ASSERT_OK(put("docs/b.bin", pattern(3000)));
  ASSERT_OK(mkcol("docs/sub"));
  ASSERT_OK(mkcol("music"));

  auto a = stat("docs/a.txt");
  ASSERT_OK(a);
  EXPECT_EQ(a->id, w->node.id);
  EXPECT_EQ(a->etag, w->node.etag);
  EXPECT_EQ(a->parent, docs->id);
  EXPECT_EQ(or_else(get("docs/a.txt"), ""), "hello");
  EXPECT_EQ(or_else(get("docs/b.bin"), ""), pattern(3000));
  // Slashes around and doubled inside a path do not matter.
  auto same = stat("/docs//a.txt/");
  ASSERT_OK(same);
  EXPECT_EQ(same->id, a->id);

  EXPECT_EQ(names(""), (std::vector<std::string>{"docs", "music"}));
  EXPECT_EQ(names("docs"), (std::vector<std::string>{"a.txt", "b.bin", "sub"}));
  auto l = await([&] { return box().list(kUser, "docs/a.txt"); });
  ASSERT_OK(l);  // a file lists as itself, without children
  EXPECT_EQ(l->first.id, a->id);
  EXPECT_TRUE(l->second.empty());
  PutOptions with_md5;
  with_md5.checksum = Checksum{"MD5", crypto::hex(crypto::md5("hello"))};
  auto m = put("docs/sub/m.txt", "hello", with_md5);
  ASSERT_OK(m);
  EXPECT_EQ(m->node.md5, crypto::hex(crypto::md5("hello")));
  EXPECT_EQ(m->node.sha1, crypto::hex(crypto::sha1("hello")));

  EXPECT_ERROR(mkcol("docs"), Errc::already_exists, kAlreadyExists);
  EXPECT_ERROR(mkcol("nowhere/x"), Errc::not_found, kParentMissing);
  EXPECT_ERROR(put("nowhere/x.txt", "x"), Errc::not_found, kParentMissing);
  EXPECT_ERROR(put("docs/a.txt/x.txt", "x"), Errc::conflict, kNotAFolder);
  EXPECT_ERROR(put("docs/sub", "x"), Errc::conflict, kIsAFolder);
  EXPECT_ERRC(stat("docs/missing.txt"), Errc::not_found);
  EXPECT_ERRC(stat("docs/a.txt/below"), Errc::not_found);
  EXPECT_ERRC(stat("docs/../music"), Errc::invalid_argument);
  EXPECT_ERRC(put("docs/./c.txt", "x"), Errc::invalid_argument);
  EXPECT_ERRC(put(std::string("docs/nul\0.txt", 13), "x"), Errc::invalid_argument);
  EXPECT_ERRC(put("docs/" + std::string(256, 'n'), "x"), Errc::invalid_argument);
  EXPECT_ERRC(put("docs/bad\xFF.txt", "x"), Errc::invalid_argument);

  // Another user's box is another tree.
  EXPECT_ERRC(stat("docs", kOther), Errc::not_found);
  expect_consistent();
}

TEST_P(BoxEngineTest, InlineFiles) {
  BoxConfig c;
  c.inline_max = 1024;
  reconfigure(c);
  ASSERT_OK(put("small.txt", "tiny bytes"));
  ASSERT_OK(put("empty", ""));
  ASSERT_OK(put("large.bin", pattern(5000)));
  EXPECT_EQ(blob_count(), 1u);  // only the large file has a blob
  EXPECT_EQ(or_else(get("small.txt"), "?"), "tiny bytes");
  EXPECT_EQ(or_else(get("empty"), "?"), "");
  EXPECT_EQ(or_else(get("large.bin"), "?"), pattern(5000));
  auto small = stat("small.txt");
  ASSERT_OK(small);
  auto files = box().open_files(*small, 0, small->size);
  EXPECT_ERRC(files, Errc::not_found);  // no file to sendfile from
  auto part = await([&]() -> awaitable<Result<std::string>> {
    auto src = co_await box().open(*small, 5, 5);
    if (!src) { co_return src.error(); }
    co_return co_await read_all(**src, 100);
  });
  EXPECT_EQ(or_else(part, "?"), "bytes");
}

// A client that PROPFINDs the root finds every change: each write gives the file and every
// folder up to the root a new etag, and leaves folders beside the path alone.
TEST_P(BoxEngineTest, EtagsChangeOnTheFileAndEveryAncestor) {
  ASSERT_OK(mkcol("a"));
  ASSERT_OK(mkcol("a/b"));
  ASSERT_OK(mkcol("a/b/c"));
  ASSERT_OK(mkcol("a/side"));
  ASSERT_OK(mkcol("other"));
  ASSERT_OK(put("a/b/c/f.txt", "one"));
  ASSERT_OK(put("a/side/g.txt", "beside"));
  const std::vector<std::string> ancestors{"", "a", "a/b", "a/b/c"};
  const std::vector<std::string> unrelated{"a/side", "a/side/g.txt", "other"};

  auto snapshot = [&](const std::vector<std::string>& paths) {
    std::map<std::string, std::string> out;
    for (const auto& p : paths) { out[p] = etag(p); }
    return out;
  };
  auto before_anc = snapshot(ancestors);
  auto before_unrel = snapshot(unrelated);
  std::string file_before = etag("a/b/c/f.txt");

  ASSERT_OK(put("a/b/c/f.txt", "two"));
  EXPECT_NE(etag("a/b/c/f.txt"), file_before);
  auto after_anc = snapshot(ancestors);
  for (const auto& p : ancestors) { EXPECT_NE(after_anc[p], before_anc[p]) << "folder \"" << p << "\" kept its etag"; }
  EXPECT_EQ(snapshot(unrelated), before_unrel);

  // A new folder, a removal and a move each change the ancestors too; the file's etag is its content's.
  std::string f = etag("a/b/c/f.txt");
  for (auto step : {0, 1, 2}) {
    auto before = snapshot(ancestors);
    auto side = snapshot(unrelated);
    if (step == 0) { ASSERT_OK(mkcol("a/b/c/new")); }
    if (step == 1) { ASSERT_OK(remove("a/b/c/new")); }
    if (step == 2) { ASSERT_OK(move("a/b/c/f.txt", "a/b/c/renamed.txt")); }
    auto after = snapshot(ancestors);
    for (const auto& p : ancestors) { EXPECT_NE(after[p], before[p]) << "step " << step << ": folder \"" << p << "\" kept its etag"; }
    EXPECT_EQ(snapshot(unrelated), side) << "step " << step;
  }
  EXPECT_EQ(etag("a/b/c/renamed.txt"), f);  // a rename keeps the file's etag
}

TEST_P(BoxEngineTest, FolderSizesAreRecursive) {
  ASSERT_OK(mkcol("a"));
  ASSERT_OK(mkcol("a/b"));
  ASSERT_OK(mkcol("s"));
  ASSERT_OK(put("a/x", "123"));
  ASSERT_OK(put("a/b/y", "12345"));
  EXPECT_EQ(size("a/b"), 5u);
  EXPECT_EQ(size("a"), 8u);
  EXPECT_EQ(size(""), 8u);
  ASSERT_OK(put("a/b/y", "1234567890"));  // overwrite: the difference
  EXPECT_EQ(size("a/b"), 10u);
  EXPECT_EQ(size("a"), 13u);
  EXPECT_EQ(size(""), 13u);
  ASSERT_OK(move("a/x", "s/x"));
  EXPECT_EQ(size("a"), 10u);
  EXPECT_EQ(size("s"), 3u);
  EXPECT_EQ(size(""), 13u);
  ASSERT_OK(move("a/b", "s/b"));
  EXPECT_EQ(size("a"), 0u);
  EXPECT_EQ(size("s"), 13u);
  ASSERT_OK(copy("s", "t"));
  EXPECT_EQ(size("t"), 13u);
  EXPECT_EQ(size(""), 26u);
  ASSERT_OK(remove("s/b/y"));
  EXPECT_EQ(size("s/b"), 0u);
  EXPECT_EQ(size("s"), 3u);
  EXPECT_EQ(size(""), 16u);
  auto q = await([&] { return box().quota(kUser); });
  ASSERT_OK(q);
  EXPECT_EQ(q->used, 16u);
  EXPECT_EQ(q->total, 0u);
}

TEST_P(BoxEngineTest, MoveKeepsIdAndContent) {
  ASSERT_OK(mkcol("a"));
  ASSERT_OK(mkcol("a/inner"));
  ASSERT_OK(mkcol("b"));
  auto f = put("a/f.txt", "moving bytes");
  ASSERT_OK(f);
  auto g = put("a/inner/g.txt", "deeper");
  ASSERT_OK(g);

  auto m = move("a/f.txt", "b/renamed.txt");
  ASSERT_OK(m);
  EXPECT_TRUE(m->created);
  EXPECT_EQ(m->node.id, f->node.id);
  EXPECT_EQ(m->node.etag, f->node.etag);
  EXPECT_EQ(m->node.content_id, f->node.content_id);
  EXPECT_EQ(m->node.path, "b/renamed.txt");
  EXPECT_EQ(or_else(get("b/renamed.txt"), ""), "moving bytes");
  EXPECT_ERRC(stat("a/f.txt"), Errc::not_found);

  // A folder moves with everything beneath it.
  auto folder = stat("a/inner");
  ASSERT_OK(folder);
  ASSERT_OK(move("a/inner", "b/inner2"));
  auto moved = stat("b/inner2/g.txt");
  ASSERT_OK(moved);
  EXPECT_EQ(moved->id, g->node.id);
  EXPECT_EQ(or_else(stat("b/inner2"), Node{}).id, folder->id);
  EXPECT_EQ(or_else(get("b/inner2/g.txt"), ""), "deeper");

  // Never into itself, nor onto its own ancestor.
  EXPECT_ERROR(move("b", "b/inner2/b"), Errc::conflict, kIntoItself);
  EXPECT_ERROR(move("b/inner2", "b/inner2/x"), Errc::conflict, kIntoItself);
  EXPECT_ERRC(move("b", "b"), Errc::forbidden);
  EXPECT_ERRC(move("missing", "b/x"), Errc::not_found);
  EXPECT_ERROR(move("b/renamed.txt", "nowhere/x"), Errc::not_found, kParentMissing);

  // Overwrite: false refuses, true sends the replaced file to the trash.
  ASSERT_OK(put("b/target.txt", "old target"));
  EXPECT_ERROR(move("b/renamed.txt", "b/target.txt", false), Errc::precondition_failed, kAlreadyExists);
  EXPECT_EQ(or_else(get("b/renamed.txt"), ""), "moving bytes");
  EXPECT_EQ(or_else(get("b/target.txt"), ""), "old target");
  auto over = move("b/renamed.txt", "b/target.txt", true);
  ASSERT_OK(over);
  EXPECT_FALSE(over->created);
  EXPECT_EQ(over->node.id, f->node.id);
  EXPECT_EQ(or_else(get("b/target.txt"), ""), "moving bytes");
  auto t = trash();
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].original_path, "b/target.txt");
  EXPECT_EQ(size(""), 12u + 6u);
  expect_consistent();
}

TEST_P(BoxEngineTest, CopySharesContentWithNewIds) {
  ASSERT_OK(mkcol("src"));
  ASSERT_OK(mkcol("src/deep"));
  auto f = put("src/f.txt", "copied bytes");
  ASSERT_OK(f);
  auto g = put("src/deep/g.bin", pattern(4000));
  ASSERT_OK(g);
  const std::size_t blobs = blob_count();
  ASSERT_EQ(blobs, 2u);

  auto c = copy("src/f.txt", "f-copy.txt");
  ASSERT_OK(c);
  EXPECT_TRUE(c->created);
  EXPECT_NE(c->node.id, f->node.id);
  EXPECT_EQ(c->node.content_id, f->node.content_id);  // shared, not duplicated
  EXPECT_EQ(or_else(get("f-copy.txt"), ""), "copied bytes");
  EXPECT_EQ(blob_count(), blobs);

  // Recursive: every member, new ids, shared contents.
  auto tree = copy("src", "dst");
  ASSERT_OK(tree);
  EXPECT_NE(tree->node.id, or_else(stat("src"), Node{}).id);
  EXPECT_EQ(names("dst"), (std::vector<std::string>{"deep", "f.txt"}));
  auto g2 = stat("dst/deep/g.bin");
  ASSERT_OK(g2);
  EXPECT_NE(g2->id, g->node.id);
  EXPECT_EQ(g2->content_id, g->node.content_id);
  EXPECT_EQ(or_else(get("dst/deep/g.bin"), ""), pattern(4000));
  EXPECT_EQ(size("dst"), size("src"));
  EXPECT_EQ(blob_count(), blobs);

  // Depth 0: the folder alone.
  auto shallow = copy("src", "shallow", true, false);
  ASSERT_OK(shallow);
  EXPECT_TRUE(shallow->node.folder);
  EXPECT_TRUE(names("shallow").empty());
  EXPECT_EQ(size("shallow"), 0u);

  // Overwrite false refuses; into itself is refused.
  EXPECT_ERROR(copy("src/f.txt", "f-copy.txt", false), Errc::precondition_failed, kAlreadyExists);
  EXPECT_ERROR(copy("src", "src/deep/again"), Errc::conflict, kIntoItself);

  // Changing the copy leaves the original; the shared blob goes only with its last user.
  ASSERT_OK(put("dst/deep/g.bin", "changed"));
  EXPECT_EQ(or_else(get("src/deep/g.bin"), ""), pattern(4000));
  auto shared = content_blobs(g->node.content_id);
  ASSERT_EQ(shared.size(), 1u);
  ASSERT_OK(remove("src"));
  ASSERT_OK(await([&] { return box().purge_trash(kUser, std::nullopt); }));
  auto left = blob_files();
  EXPECT_TRUE(std::binary_search(left.begin(), left.end(), shared[0]));  // the version of dst/deep/g.bin still has it
  expect_consistent();
}

// "é" typed on a Mac (decomposed) and on Linux (precomposed) is one name.
TEST_P(BoxEngineTest, DecomposedAndPrecomposedNamesAreOneFile) {
  auto first = put(kCafeNfd, "from a Mac");
  ASSERT_OK(first);
  EXPECT_TRUE(first->created);
  EXPECT_EQ(first->node.name, kCafeNfc);
  auto second = put(kCafeNfc, "from Linux");
  ASSERT_OK(second);
  EXPECT_FALSE(second->created);
  EXPECT_EQ(second->node.id, first->node.id);
  EXPECT_EQ(names(""), (std::vector<std::string>{kCafeNfc}));
  EXPECT_EQ(or_else(get(kCafeNfd), ""), "from Linux");

  ASSERT_OK(mkcol("Re\xCC\x81sume\xCC\x81s"));
  EXPECT_ERROR(mkcol("R\xC3\xA9sum\xC3\xA9s"), Errc::already_exists, kAlreadyExists);
  ASSERT_OK(put("R\xC3\xA9sum\xC3\xA9s/cv.txt", "cv"));
  EXPECT_EQ(or_else(get("Re\xCC\x81sume\xCC\x81s/cv.txt"), ""), "cv");

  auto n = normalize_path("/Re\xCC\x81sume\xCC\x81s//" + kCafeNfd + "/");
  ASSERT_OK(n);
  EXPECT_EQ(*n, "R\xC3\xA9sum\xC3\xA9s/" + kCafeNfc);
}

// --- trash ---------------------------------------------------------------------------------------

TEST_P(BoxEngineTest, RemoveGoesToTheTrashAndRestoreBringsItBack) {
  ASSERT_OK(mkcol("a"));
  auto f = put("a/f.txt", "first");
  ASSERT_OK(f);
  ASSERT_OK(remove("a/f.txt"));
  EXPECT_ERRC(stat("a/f.txt"), Errc::not_found);
  EXPECT_EQ(size("a"), 0u);
  EXPECT_ERRC(remove("a/f.txt"), Errc::not_found);
  auto t = trash();
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].id, f->node.id);
  EXPECT_EQ(t[0].name, "f.txt");
  EXPECT_EQ(t[0].original_path, "a/f.txt");
  EXPECT_EQ(t[0].size, 5u);
  EXPECT_FALSE(t[0].folder);
  EXPECT_GT(t[0].deleted_s, 0);

  auto back = await([&] { return box().restore_trash(kUser, f->node.id); });
  ASSERT_OK(back);
  EXPECT_EQ(back->path, "a/f.txt");
  EXPECT_EQ(back->id, f->node.id);
  EXPECT_EQ(or_else(get("a/f.txt"), ""), "first");
  EXPECT_EQ(size("a"), 5u);
  EXPECT_TRUE(trash().empty());

  // Restored beside a new file of the same name.
  ASSERT_OK(remove("a/f.txt"));
  ASSERT_OK(put("a/f.txt", "second"));
  back = await([&] { return box().restore_trash(kUser, f->node.id); });
  ASSERT_OK(back);
  EXPECT_EQ(back->path, "a/f (restored).txt");
  EXPECT_EQ(or_else(get("a/f (restored).txt"), ""), "first");
  EXPECT_EQ(or_else(get("a/f.txt"), ""), "second");

  // A folder goes with its members; restored to the root when its folder is gone.
  ASSERT_OK(mkcol("a/sub"));
  ASSERT_OK(put("a/sub/m.txt", "member"));
  auto sub = stat("a/sub");
  ASSERT_OK(sub);
  ASSERT_OK(remove("a/sub"));
  ASSERT_OK(remove("a"));
  EXPECT_EQ(trash().size(), 2u);
  back = await([&] { return box().restore_trash(kUser, sub->id); });
  ASSERT_OK(back);
  EXPECT_EQ(back->path, "sub");
  EXPECT_EQ(or_else(get("sub/m.txt"), ""), "member");
  EXPECT_EQ(size("sub"), 6u);
  EXPECT_ERRC(await([&] { return box().restore_trash(kUser, sub->id); }), Errc::not_found);
  EXPECT_ERRC(await([&] { return box().restore_trash(kOther, f->node.id); }), Errc::not_found);
  expect_consistent();
}

TEST_P(BoxEngineTest, PurgeFreesTheBlobs) {
  ASSERT_OK(mkcol("a"));
  auto f = put("a/f.bin", pattern(2000, 1));
  ASSERT_OK(f);
  ASSERT_OK(put("a/f.bin", pattern(2000, 2)));  // a version: a second blob
  ASSERT_OK(put("a/g.bin", pattern(2000, 3)));
  ASSERT_OK(put("keep.bin", pattern(2000, 4)));
  ASSERT_EQ(blob_count(), 4u);
  auto keep = stat("keep.bin");
  ASSERT_OK(keep);
  auto keep_blobs = content_blobs(keep->content_id);

  ASSERT_OK(remove("a/f.bin"));
  EXPECT_EQ(blob_count(), 4u);  // the trash keeps them
  ASSERT_OK(await([&] { return box().purge_trash(kUser, f->node.id); }));
  EXPECT_EQ(blob_count(), 2u);  // the file and its version went; a/g.bin and keep.bin stay
  EXPECT_TRUE(trash().empty());
  EXPECT_ERRC(await([&] { return box().purge_trash(kUser, f->node.id); }), Errc::not_found);

  ASSERT_OK(remove("a"));
  ASSERT_OK(await([&] { return box().purge_trash(kUser, std::nullopt); }));
  EXPECT_EQ(blob_files(), keep_blobs);
  EXPECT_EQ(or_else(get("keep.bin"), ""), pattern(2000, 4));
  expect_consistent();
}

// --- versions ------------------------------------------------------------------------------------

TEST_P(BoxEngineTest, OverwriteKeepsVersions) {
  PutOptions o;
  o.mtime = 1000;
  auto v1 = put("doc.txt", "version one", o);
  ASSERT_OK(v1);
  o.mtime = 2000;
  auto v2 = put("doc.txt", "version two!", o);
  ASSERT_OK(v2);
  EXPECT_EQ(v2->node.id, v1->node.id);
  EXPECT_NE(v2->node.etag, v1->node.etag);
  o.mtime = 3000;
  ASSERT_OK(put("doc.txt", "version three", o));

  auto vs = versions(v1->node.id);
  ASSERT_EQ(vs.size(), 2u);  // newest first
  EXPECT_EQ(vs[0].mtime, 2000);
  EXPECT_EQ(vs[0].size, 12u);
  EXPECT_EQ(vs[0].etag, v2->node.etag);
  EXPECT_EQ(vs[1].mtime, 1000);
  EXPECT_EQ(vs[1].etag, v1->node.etag);
  EXPECT_EQ(or_else(read_version(vs[0]), ""), "version two!");
  EXPECT_EQ(or_else(read_version(vs[1]), ""), "version one");
  EXPECT_EQ(size(""), 13u);  // versions are not in the tree's size

  // Restoring swaps: the version becomes the file, the file a version.
  auto restored = await([&] { return box().restore_version(kUser, v1->node.id, vs[1].id); });
  ASSERT_OK(restored);
  EXPECT_EQ(restored->id, v1->node.id);
  EXPECT_EQ(or_else(get("doc.txt"), ""), "version one");
  EXPECT_EQ(size(""), 11u);
  vs = versions(v1->node.id);
  ASSERT_EQ(vs.size(), 2u);
  EXPECT_EQ(or_else(read_version(vs[0]), ""), "version three");
  EXPECT_EQ(or_else(read_version(vs[1]), ""), "version two!");
  EXPECT_ERRC(await([&] { return box().restore_version(kUser, v1->node.id, 999999); }), Errc::not_found);
  EXPECT_TRUE(versions(v1->node.id + 1000).empty());
  EXPECT_ERRC(await([&] { return box().restore_version(kOther, v1->node.id, vs[0].id); }), Errc::not_found);
  expect_consistent();
}

TEST_P(BoxEngineTest, MaxVersionsPrunesTheOldest) {
  BoxConfig c;
  c.inline_max = 0;
  c.max_versions = 2;
  reconfigure(c);
  std::int64_t id = 0;
  for (unsigned i = 1; i <= 5; ++i) {
    auto w = put("f.bin", pattern(1000, i));
    ASSERT_OK(w);
    id = w->node.id;
  }
  auto vs = versions(id);
  ASSERT_EQ(vs.size(), 2u);
  EXPECT_EQ(or_else(read_version(vs[0]), ""), pattern(1000, 4));
  EXPECT_EQ(or_else(read_version(vs[1]), ""), pattern(1000, 3));
  EXPECT_EQ(blob_count(), 3u);  // the file and two versions: the pruned ones' blobs are gone
  expect_consistent();

  c.max_versions = 0;  // versions off: an overwrite frees the old content at once
  reconfigure(c);
  ASSERT_OK(put("g.bin", pattern(1000, 10)));
  auto g = put("g.bin", pattern(1000, 11));
  ASSERT_OK(g);
  EXPECT_TRUE(versions(g->node.id).empty());
  EXPECT_EQ(blob_count(), 4u);
  expect_consistent();
}

// --- what a refused upload leaves: nothing -----------------------------------------------------

TEST_P(BoxEngineTest, QuotaRefusesAndLeavesNothing) {
  ASSERT_OK(await([&] { return box().set_quota(kUser, 1000); }));
  ASSERT_OK(put("a.bin", pattern(600)));
  const auto blobs = blob_files();
  EXPECT_ERROR(put("b.bin", pattern(500)), Errc::quota_exceeded, kQuotaExceeded);
  EXPECT_ERRC(stat("b.bin"), Errc::not_found);
  EXPECT_ERROR(put_unknown_length("c.bin", pattern(500)), Errc::quota_exceeded, kQuotaExceeded);
  EXPECT_ERRC(stat("c.bin"), Errc::not_found);
  EXPECT_EQ(blob_files(), blobs);
  EXPECT_EQ(temp_count(), 0u);
  EXPECT_EQ(size(""), 600u);

  // An overwrite counts only the difference; the file keeps its bytes when refused.
  ASSERT_OK(put("a.bin", pattern(1000, 2)));
  EXPECT_ERROR(put_unknown_length("a.bin", pattern(1001, 3)), Errc::quota_exceeded, kQuotaExceeded);
  EXPECT_EQ(or_else(get("a.bin"), ""), pattern(1000, 2));
  EXPECT_ERROR(copy("a.bin", "a2.bin"), Errc::quota_exceeded, kQuotaExceeded);
  EXPECT_ERRC(stat("a2.bin"), Errc::not_found);
  auto q = await([&] { return box().quota(kUser); });
  ASSERT_OK(q);
  EXPECT_EQ(q->used, 1000u);
  EXPECT_EQ(q->total, 1000u);

  // Back to the default (unlimited here).
  ASSERT_OK(await([&] { return box().set_quota(kUser, std::nullopt); }));
  ASSERT_OK(put("b.bin", pattern(500)));
  expect_consistent();
}

TEST_P(BoxEngineTest, ChecksumMismatchLeavesNothing) {
  const std::string body = pattern(3000);
  PutOptions bad;
  bad.checksum = Checksum{"SHA1", std::string(40, '0')};
  EXPECT_ERROR(put("f.bin", body, bad), Errc::invalid_argument, kChecksumMismatch);
  EXPECT_ERROR(put_unknown_length("f.bin", body, bad), Errc::invalid_argument, kChecksumMismatch);
  EXPECT_ERRC(stat("f.bin"), Errc::not_found);
  EXPECT_EQ(blob_count(), 0u);
  EXPECT_EQ(temp_count(), 0u);

  for (const auto& sum : {Checksum{"SHA1", crypto::hex(crypto::sha1(body))}, Checksum{"MD5", crypto::hex(crypto::md5(body))}}) {
    PutOptions good;
    good.checksum = sum;
    auto w = put("f.bin", body, good);
    ASSERT_OK(w);
  }
  auto parsed = parse_checksum("SHA1:" + crypto::hex(crypto::sha1(body)) + " MD5:whatever");
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->type, "SHA1");
  auto f = stat("f.bin");
  ASSERT_OK(f);
  PutOptions adler;
  adler.checksum = parse_checksum("adler32:" + f->adler32);
  ASSERT_TRUE(adler.checksum);
  ASSERT_OK(put("g.bin", body, adler));

  // A refused overwrite keeps the file as it was.
  EXPECT_ERROR(put("f.bin", "other bytes", bad), Errc::invalid_argument, kChecksumMismatch);
  EXPECT_EQ(or_else(get("f.bin"), ""), body);
  expect_consistent();
}

TEST_P(BoxEngineTest, ShortBodyLeavesNothing) {
  for (std::uint64_t inline_max : {std::uint64_t{0}, std::uint64_t{16 * 1024}}) {
    SCOPED_TRACE("inline_max " + std::to_string(inline_max));
    BoxConfig c;
    c.inline_max = inline_max;
    reconfigure(c);
    PutOptions o;
    o.length = 3000;
    EXPECT_ERROR(put("short.bin", pattern(1000), o), Errc::invalid_argument, kIncomplete);
    EXPECT_ERRC(stat("short.bin"), Errc::not_found);
    EXPECT_EQ(blob_count(), 0u);
    EXPECT_EQ(temp_count(), 0u);
  }
  ASSERT_OK(put("short.bin", "complete"));
  PutOptions o;
  o.length = 100;
  EXPECT_ERROR(put("short.bin", "cut", o), Errc::invalid_argument, kIncomplete);
  EXPECT_EQ(or_else(get("short.bin"), ""), "complete");
}

// --- chunked uploads -----------------------------------------------------------------------------

TEST_P(BoxEngineTest, ChunksPutOutOfOrderAssembleByOffset) {
  const std::string body = pattern(3500);
  ASSERT_OK(create_upload("web-file-1", body.size()));
  EXPECT_ERRC(create_upload("web-file-1", body.size()), Errc::already_exists);
  ASSERT_OK(put_chunk("web-file-1", "00003", 2000, body.substr(2000, 1000)));
  ASSERT_OK(put_chunk("web-file-1", "00001", 0, body.substr(0, 1000)));
  ASSERT_OK(put_chunk("web-file-1", "00004", 3000, body.substr(3000)));
  ASSERT_OK(put_chunk("web-file-1", "00002", 1000, body.substr(1000, 1000)));
  auto up = await([&] { return box().get_upload(kUser, "web-file-1"); });
  ASSERT_OK(up);
  EXPECT_EQ(up->total, std::optional<std::uint64_t>(3500));
  ASSERT_EQ(up->chunks.size(), 4u);
  EXPECT_EQ(blob_count(), 4u);

  ASSERT_OK(mkcol("up"));
  PutOptions o;
  o.checksum = Checksum{"SHA1", crypto::hex(crypto::sha1(body))};
  auto w = assemble("web-file-1", "up/big.bin", o);
  ASSERT_OK(w);
  EXPECT_TRUE(w->created);
  EXPECT_EQ(w->node.size, 3500u);
  EXPECT_EQ(w->node.md5, "");  // the client declared SHA-1
  EXPECT_EQ(w->node.sha1, crypto::hex(crypto::sha1(body)));
  EXPECT_EQ(or_else(get("up/big.bin"), ""), body);
  EXPECT_EQ(size(""), 3500u);
  // Nothing of the upload is left: the chunks are the file's parts now.
  EXPECT_ERRC(await([&] { return box().get_upload(kUser, "web-file-1"); }), Errc::not_found);
  auto n = stat("up/big.bin");
  ASSERT_OK(n);
  auto parts = content_blobs(n->content_id);
  std::sort(parts.begin(), parts.end());
  EXPECT_EQ(blob_files(), parts);
  EXPECT_EQ(parts.size(), 4u);
  // Ranges across the parts read back right.
  auto mid = await([&]() -> awaitable<Result<std::string>> {
    auto src = co_await box().open(*n, 900, 1300);
    if (!src) { co_return src.error(); }
    co_return co_await read_all(**src, 10000);
  });
  EXPECT_EQ(or_else(mid, ""), body.substr(900, 1300));
  expect_consistent();
}

TEST_P(BoxEngineTest, ChunksByNameWithoutOffsets) {
  const std::string body = pattern(2500, 7);
  ASSERT_OK(create_upload("t", std::nullopt));
  ASSERT_OK(put_chunk("t", "2", std::nullopt, body.substr(1000, 1000)));
  ASSERT_OK(put_chunk("t", "10", std::nullopt, body.substr(2000)));  // "10" sorts after "2": numbers, not text
  ASSERT_OK(put_chunk("t", "1", std::nullopt, body.substr(0, 1000)));
  ASSERT_OK(assemble("t", "f.bin"));
  EXPECT_EQ(or_else(get("f.bin"), ""), body);
  expect_consistent();
}

TEST_P(BoxEngineTest, IncompleteChunkedUploadsAreRefused) {
  const std::string body = pattern(3000);
  // A gap between chunks.
  ASSERT_OK(create_upload("gap", 3000));
  ASSERT_OK(put_chunk("gap", "1", 0, body.substr(0, 1000)));
  ASSERT_OK(put_chunk("gap", "3", 2000, body.substr(2000)));
  EXPECT_ERROR(assemble("gap", "f.bin"), Errc::invalid_argument, kIncomplete);
  EXPECT_ERRC(stat("f.bin"), Errc::not_found);
  // The missing chunk arrives: the same upload completes.
  ASSERT_OK(put_chunk("gap", "2", 1000, body.substr(1000, 1000)));
  ASSERT_OK(assemble("gap", "f.bin"));
  EXPECT_EQ(or_else(get("f.bin"), ""), body);

  // The last chunk missing: shorter than the announced total.
  ASSERT_OK(create_upload("tail", 3000));
  ASSERT_OK(put_chunk("tail", "1", 0, body.substr(0, 1000)));
  ASSERT_OK(put_chunk("tail", "2", 1000, body.substr(1000, 1000)));
  EXPECT_ERROR(assemble("tail", "g.bin"), Errc::invalid_argument, kIncomplete);
  // ... or shorter than the length the final MOVE announces.
  ASSERT_OK(create_upload("told", std::nullopt));
  ASSERT_OK(put_chunk("told", "1", 0, body.substr(0, 1000)));
  PutOptions o;
  o.length = 3000;
  EXPECT_ERROR(assemble("told", "g.bin", o), Errc::invalid_argument, kIncomplete);
  EXPECT_ERRC(stat("g.bin"), Errc::not_found);

  // A chunk whose body is shorter than its length is not kept.
  auto before = blob_files();
  EXPECT_ERROR(put_chunk("tail", "3", 2000, body.substr(2000, 500), 1000), Errc::invalid_argument, kIncomplete);
  auto up = await([&] { return box().get_upload(kUser, "tail"); });
  ASSERT_OK(up);
  EXPECT_EQ(up->chunks.size(), 2u);
  EXPECT_EQ(blob_files(), before);
  EXPECT_EQ(temp_count(), 0u);
  EXPECT_ERRC(put_chunk("nope", "1", 0, "x"), Errc::not_found);

  // Deleting an upload takes its chunks.
  ASSERT_OK(await([&] { return box().delete_upload(kUser, "tail"); }));
  ASSERT_OK(await([&] { return box().delete_upload(kUser, "told"); }));
  EXPECT_ERRC(await([&] { return box().delete_upload(kUser, "told"); }), Errc::not_found);
  auto n = stat("f.bin");
  ASSERT_OK(n);
  auto parts = content_blobs(n->content_id);
  std::sort(parts.begin(), parts.end());
  EXPECT_EQ(blob_files(), parts);
  expect_consistent();
}

TEST_P(BoxEngineTest, ResumedUploadReplacesAChunk) {
  const std::string body = pattern(2000, 3);
  ASSERT_OK(create_upload("resume", 2000));
  ASSERT_OK(put_chunk("resume", "1", 0, body.substr(0, 1000)));
  ASSERT_OK(put_chunk("resume", "2", 1000, pattern(1000, 99)));  // garbled the first time
  ASSERT_OK(put_chunk("resume", "2", 1000, body.substr(1000)));  // sent again
  EXPECT_EQ(blob_count(), 2u);                                    // the replaced chunk's blob went
  auto up = await([&] { return box().get_upload(kUser, "resume"); });
  ASSERT_OK(up);
  EXPECT_EQ(up->chunks.size(), 2u);
  ASSERT_OK(assemble("resume", "r.bin"));
  EXPECT_EQ(or_else(get("r.bin"), ""), body);
  EXPECT_EQ(blob_count(), 2u);
  expect_consistent();
}

TEST_P(BoxEngineTest, AssembleOverAnExistingFileKeepsAVersion) {
  ASSERT_OK(put("f.bin", "old bytes"));
  const std::string body = pattern(2000, 5);
  ASSERT_OK(create_upload("t", 2000));
  ASSERT_OK(put_chunk("t", "1", 0, body.substr(0, 1000)));
  ASSERT_OK(put_chunk("t", "2", 1000, body.substr(1000)));
  PutOptions bad;
  bad.checksum = Checksum{"MD5", std::string(32, 'a')};
  EXPECT_ERROR(assemble("t", "f.bin", bad), Errc::invalid_argument, kChecksumMismatch);
  EXPECT_EQ(or_else(get("f.bin"), ""), "old bytes");
  auto w = assemble("t", "f.bin");
  ASSERT_OK(w);
  EXPECT_FALSE(w->created);
  EXPECT_EQ(or_else(get("f.bin"), ""), body);
  auto vs = versions(w->node.id);
  ASSERT_EQ(vs.size(), 1u);
  EXPECT_EQ(or_else(read_version(vs[0]), ""), "old bytes");
  expect_consistent();
}

// --- locks ---------------------------------------------------------------------------------------

TEST_P(BoxEngineTest, Locks) {
  ASSERT_OK(mkcol("a"));
  ASSERT_OK(mkcol("b"));
  ASSERT_OK(mkcol("c"));
  ASSERT_OK(mkcol("c/x"));

  // Exclusive conflicts with anything; shared locks coexist.
  auto ex = lock("a", true);
  ASSERT_OK(ex);
  EXPECT_TRUE(ex->token.starts_with("opaquelocktoken:"));
  EXPECT_EQ(ex->path, "a");
  EXPECT_EQ(ex->user_id, kUser);
  EXPECT_ERRC(lock("a", true), Errc::conflict);
  EXPECT_ERRC(lock("a", false), Errc::conflict);
  auto s1 = lock("b", false);
  ASSERT_OK(s1);
  auto s2 = lock("b", false);
  ASSERT_OK(s2);
  EXPECT_NE(s1->token, s2->token);
  EXPECT_ERRC(lock("b", true), Errc::conflict);
  std::vector<std::string> shared{s1->token, s2->token};
  std::sort(shared.begin(), shared.end());
  EXPECT_EQ(lock_tokens("b"), shared);

  // Depth infinity covers everything beneath.
  auto deep = lock("c", true, true);
  ASSERT_OK(deep);
  EXPECT_EQ(lock_tokens("c/x/file.txt"), (std::vector<std::string>{deep->token}));
  EXPECT_ERRC(lock("c/x", true), Errc::conflict);
  EXPECT_ERRC(lock("c/x/new.txt", false), Errc::conflict);
  // A depth-0 lock does not cover its members; an infinite lock above a locked member conflicts.
  EXPECT_TRUE(lock_tokens("a/inside").empty());
  EXPECT_EQ(lock_tokens("", true).size(), 4u);
  EXPECT_ERRC(lock("", true, true), Errc::conflict);

  // Unlock needs the token of a lock on that path.
  EXPECT_ERRC(await([&] { return box().unlock(kUser, "a", "opaquelocktoken:wrong"); }), Errc::not_found);
  EXPECT_ERRC(await([&] { return box().unlock(kUser, "b", ex->token); }), Errc::not_found);
  EXPECT_ERRC(await([&] { return box().unlock(kOther, "a", ex->token); }), Errc::not_found);
  ASSERT_OK(await([&] { return box().unlock(kUser, "a", ex->token); }));
  EXPECT_TRUE(lock_tokens("a").empty());
  ASSERT_OK(lock("a", false));
  // Unlocking beneath an infinite lock with its token releases it.
  ASSERT_OK(await([&] { return box().unlock(kUser, "c/x", deep->token); }));
  EXPECT_TRUE(lock_tokens("c/x").empty());

  // Another user's box has locks of its own.
  auto theirs = await([&] { return box().lock(kOther, "a", LockRequest{}); });
  ASSERT_OK(theirs);
}

TEST_P(BoxEngineTest, ExpiredLocksAreIgnored) {
  ASSERT_OK(mkcol("a"));
  auto l = lock("a", true, false, 600);
  ASSERT_OK(l);
  EXPECT_EQ(l->timeout_s, 600);
  EXPECT_GT(l->expires_s, 0);
  auto refreshed = await([&] { return box().refresh_lock(kUser, l->token, 1200); });
  ASSERT_OK(refreshed);
  EXPECT_EQ(refreshed->timeout_s, 1200);
  EXPECT_GE(refreshed->expires_s, l->expires_s + 600);
  EXPECT_ERRC(await([&] { return box().refresh_lock(kUser, "opaquelocktoken:none", 60); }), Errc::not_found);

  // Time passes: the lock expired an hour ago.
  ASSERT_OK(meta_->transact_sync([&](store::Tx& tx) -> Status {
    auto r = tx.exec("UPDATE box_locks SET expires_s = expires_s - 7200");
    if (!r) { return r.error(); }
    return {};
  }));
  EXPECT_TRUE(lock_tokens("a").empty());
  EXPECT_ERRC(await([&] { return box().refresh_lock(kUser, l->token, 60); }), Errc::not_found);
  auto again = lock("a", true);
  ASSERT_OK(again);
  EXPECT_EQ(lock_tokens("a"), (std::vector<std::string>{again->token}));
  ASSERT_OK(reap());  // purges the expired row
  EXPECT_EQ(lock_tokens("a"), (std::vector<std::string>{again->token}));
}

TEST_P(BoxEngineTest, MoveAndRemoveDropTheLocksBeneath) {
  ASSERT_OK(mkcol("a"));
  ASSERT_OK(put("a/f.txt", "x"));
  ASSERT_OK(lock("a/f.txt", true));
  ASSERT_OK(move("a", "b"));
  EXPECT_TRUE(lock_tokens("a/f.txt").empty());
  EXPECT_TRUE(lock_tokens("b/f.txt").empty());
  ASSERT_OK(lock("b/f.txt", true));
  ASSERT_OK(remove("b"));
  EXPECT_TRUE(lock_tokens("", true).empty());
}

// --- dead properties -----------------------------------------------------------------------------

TEST_P(BoxEngineTest, DeadPropertiesApplyInOrder) {
  ASSERT_OK(put("f.txt", "x"));
  auto patch = [&](std::vector<PropPatch::Op> ops) {
    return await([&] { return box().patch_props(kUser, "f.txt", PropPatch{ops}); });
  };
  auto set = [](std::string name, std::string value) { return PropPatch::Op{true, DeadProp{"urn:x", std::move(name), std::move(value)}}; };
  auto del = [](std::string name) { return PropPatch::Op{false, DeadProp{"urn:x", std::move(name), ""}}; };

  ASSERT_OK(patch({set("color", "<x:v xmlns:x=\"urn:x\">red</x:v>"), set("size", "9")}));
  EXPECT_EQ(props_of("f.txt"), (std::map<std::string, std::string>{{"{urn:x}color", "<x:v xmlns:x=\"urn:x\">red</x:v>"}, {"{urn:x}size", "9"}}));
  // set then remove: gone; remove then set: set; set twice: the last value.
  ASSERT_OK(patch({set("a", "1"), del("a"), del("b"), set("b", "2"), set("c", "3"), set("c", "4"), del("size")}));
  EXPECT_EQ(props_of("f.txt"),
            (std::map<std::string, std::string>{{"{urn:x}color", "<x:v xmlns:x=\"urn:x\">red</x:v>"}, {"{urn:x}b", "2"}, {"{urn:x}c", "4"}}));
  // Same name in another namespace is another property.
  ASSERT_OK(patch({PropPatch::Op{true, DeadProp{"urn:y", "c", "y"}}}));
  EXPECT_EQ(props_of("f.txt").size(), 4u);
  EXPECT_ERRC(await([&] { return box().patch_props(kUser, "missing.txt", PropPatch{{set("a", "1")}}); }), Errc::not_found);

  // A copy takes the properties along; child_props reports a folder's members and itself.
  ASSERT_OK(mkcol("d"));
  ASSERT_OK(copy("f.txt", "d/g.txt"));
  EXPECT_EQ(props_of("d/g.txt"), props_of("f.txt"));
  auto d = stat("d");
  ASSERT_OK(d);
  auto kids = await([&] { return box().child_props(kUser, d->id); });
  ASSERT_OK(kids);
  EXPECT_EQ(kids->size(), 4u);
  auto theirs = await([&] { return box().child_props(kOther, d->id); });
  ASSERT_OK(theirs);
  EXPECT_TRUE(theirs->empty());
}

// --- app passwords -------------------------------------------------------------------------------

TEST_P(BoxEngineTest, AppPasswords) {
  auto made = await([&] { return box().create_app_password(kUser, "Laptop sync"); });
  ASSERT_OK(made);
  const auto& [rec, secret] = *made;
  EXPECT_EQ(rec.user_id, kUser);
  EXPECT_EQ(rec.name, "Laptop sync");
  EXPECT_EQ(secret.size(), 64u);  // what authenticate() recognises as an app password
  auto who = await([&] { return box().check_app_password(secret); });
  ASSERT_OK(who);
  EXPECT_EQ(who->user_id, kUser);
  EXPECT_EQ(who->id, rec.id);
  EXPECT_ERRC(await([&] { return box().check_app_password(secret + "x"); }), Errc::unauthenticated);
  EXPECT_ERRC(await([&] { return box().check_app_password(""); }), Errc::unauthenticated);
  EXPECT_ERRC(await([&] { return box().create_app_password(kUser, ""); }), Errc::invalid_argument);

  auto list = await([&] { return box().app_passwords(kUser); });
  ASSERT_OK(list);
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].id, rec.id);
  auto none = await([&] { return box().app_passwords(kOther); });
  ASSERT_OK(none);
  EXPECT_TRUE(none->empty());

  EXPECT_ERRC(await([&] { return box().delete_app_password(kOther, rec.id); }), Errc::not_found);
  ASSERT_OK(await([&] { return box().delete_app_password(kUser, rec.id); }));
  EXPECT_ERRC(await([&] { return box().check_app_password(secret); }), Errc::unauthenticated);
  EXPECT_ERRC(await([&] { return box().delete_app_password(kUser, rec.id); }), Errc::not_found);
}

// --- maintenance ---------------------------------------------------------------------------------

TEST_P(BoxEngineTest, ReapRemovesTrashPastRetention) {
  BoxConfig c;
  c.inline_max = 0;
  c.trash_retention = 1s;
  reconfigure(c);
  ASSERT_OK(mkcol("a"));
  ASSERT_OK(put("a/f.bin", pattern(1000, 1)));
  ASSERT_OK(put("a/f.bin", pattern(1000, 2)));  // and a version
  ASSERT_OK(put("keep.bin", pattern(1000, 3)));
  ASSERT_OK(remove("a"));
  auto r = reap();
  ASSERT_OK(r);
  EXPECT_EQ(*r, 0u);  // not old enough yet
  EXPECT_EQ(trash().size(), 1u);
  EXPECT_EQ(blob_count(), 3u);

  std::this_thread::sleep_for(2100ms);
  r = reap();
  ASSERT_OK(r);
  EXPECT_EQ(*r, 1u);
  EXPECT_TRUE(trash().empty());
  EXPECT_EQ(blob_count(), 1u);
  EXPECT_EQ(or_else(get("keep.bin"), ""), pattern(1000, 3));
  expect_consistent();
}

TEST_P(BoxEngineTest, ZeroTrashRetentionPurgesAtOnce) {
  BoxConfig c;
  c.inline_max = 0;
  c.trash_retention = 0s;
  reconfigure(c);
  ASSERT_OK(put("f.bin", pattern(1000, 1)));
  ASSERT_OK(put("g.bin", pattern(1000, 2)));
  ASSERT_OK(remove("f.bin"));
  EXPECT_TRUE(trash().empty());
  EXPECT_EQ(blob_count(), 1u);
  ASSERT_OK(put("h.bin", pattern(1000, 3)));
  ASSERT_OK(move("h.bin", "g.bin"));  // the replaced file goes the same way
  EXPECT_TRUE(trash().empty());
  EXPECT_EQ(blob_count(), 1u);
  EXPECT_EQ(or_else(get("g.bin"), ""), pattern(1000, 3));
  expect_consistent();
}

TEST_P(BoxEngineTest, ReapRemovesAbandonedUploadsAndOldVersions) {
  BoxConfig c;
  c.inline_max = 0;
  c.upload_expiry = 1s;
  c.version_retention = 1s;
  reconfigure(c);
  ASSERT_OK(put("f.bin", pattern(1000, 1)));
  auto f = put("f.bin", pattern(1000, 2));
  ASSERT_OK(f);
  ASSERT_OK(create_upload("abandoned", 2000));
  ASSERT_OK(put_chunk("abandoned", "1", 0, pattern(1000, 3)));
  EXPECT_EQ(blob_count(), 3u);
  std::this_thread::sleep_for(2100ms);
  auto r = reap();
  ASSERT_OK(r);
  EXPECT_EQ(*r, 2u);
  EXPECT_ERRC(await([&] { return box().get_upload(kUser, "abandoned"); }), Errc::not_found);
  EXPECT_TRUE(versions(f->node.id).empty());
  EXPECT_EQ(blob_count(), 1u);
  EXPECT_EQ(or_else(get("f.bin"), ""), pattern(1000, 2));
  expect_consistent();
}

TEST_P(BoxEngineTest, ConsistencyCheckFindsStrayBlobs) {
  ASSERT_OK(put("f.bin", pattern(1000)));
  ASSERT_OK(create_upload("t", std::nullopt));
  ASSERT_OK(put_chunk("t", "1", 0, pattern(500)));
  auto healthy = check_consistency(*meta_, *blobs_, false);
  ASSERT_OK(healthy);
  EXPECT_EQ(healthy->blobs, 2u);
  EXPECT_TRUE(healthy->missing_blobs.empty());
  EXPECT_TRUE(healthy->unreferenced_blobs.empty());

  // A blob no row names (an upload interrupted before its commit).
  const std::string stray = store::new_blob_key();
  auto put_stray = await([&]() -> awaitable<Result<store::BlobInfo>> {
    StringSource src("left over");
    co_return co_await blobs_->put(stray, src);
  });
  ASSERT_OK(put_stray);
  // A row whose blob is gone.
  auto f = stat("f.bin");
  ASSERT_OK(f);
  auto lost = content_blobs(f->content_id);
  ASSERT_EQ(lost.size(), 1u);
  ASSERT_OK(await([&] { return blobs_->remove(lost[0]); }));

  auto report = check_consistency(*meta_, *blobs_, false);
  ASSERT_OK(report);
  EXPECT_EQ(report->unreferenced_blobs, (std::vector<std::string>{stray}));
  EXPECT_EQ(report->missing_blobs, lost);
  EXPECT_EQ(blob_count(), 2u);  // reported only
  report = check_consistency(*meta_, *blobs_, true);
  ASSERT_OK(report);
  EXPECT_EQ(report->unreferenced_blobs, (std::vector<std::string>{stray}));
  EXPECT_EQ(blob_count(), 1u);
  report = check_consistency(*meta_, *blobs_, false);
  ASSERT_OK(report);
  EXPECT_TRUE(report->unreferenced_blobs.empty());
}

// --- preconditions, limits and lookups ------------------------------------------------------------

TEST_P(BoxEngineTest, ConditionalWrites) {
  PutOptions must_exist;
  must_exist.if_match = "*";
  EXPECT_ERROR(put("f.txt", "x", must_exist), Errc::precondition_failed, kEtagMismatch);
  EXPECT_ERRC(stat("f.txt"), Errc::not_found);
  PutOptions must_not;
  must_not.if_none_match_any = true;
  auto w = put("f.txt", "first", must_not);
  ASSERT_OK(w);
  EXPECT_ERROR(put("f.txt", "again", must_not), Errc::precondition_failed, kEtagMismatch);
  PutOptions stale;
  stale.if_match = "0000000000000000";
  EXPECT_ERROR(put("f.txt", "lost update", stale), Errc::precondition_failed, kEtagMismatch);
  PutOptions fresh;
  fresh.if_match = w->node.etag;
  ASSERT_OK(put("f.txt", "second", fresh));
  EXPECT_EQ(or_else(get("f.txt"), ""), "second");
  EXPECT_EQ(blob_count(), 2u);  // the refused uploads left nothing

  EXPECT_ERROR(await([&] { return box().remove(kUser, "f.txt", w->node.etag); }), Errc::precondition_failed, kEtagMismatch);
  ASSERT_OK(await([&] { return box().remove(kUser, "f.txt", etag("f.txt")); }));

  // The root is not a file and cannot go.
  EXPECT_ERROR(put("", "x"), Errc::conflict, kIsAFolder);
  EXPECT_ERRC(mkcol(""), Errc::already_exists);
  EXPECT_ERRC(remove(""), Errc::forbidden);
  EXPECT_ERRC(move("", "x"), Errc::forbidden);
  ASSERT_OK(mkcol("x"));
  EXPECT_ERRC(move("x", ""), Errc::forbidden);
  EXPECT_ERRC(copy("x", ""), Errc::forbidden);
  expect_consistent();
}

TEST_P(BoxEngineTest, FilesOverTheSizeLimitAreRefused) {
  BoxConfig c;
  c.inline_max = 0;
  c.max_file_size = 1000;
  reconfigure(c);
  EXPECT_ERRC(put("big.bin", pattern(1001)), Errc::too_large);
  EXPECT_ERRC(put_unknown_length("big.bin", pattern(5000)), Errc::too_large);
  EXPECT_ERRC(stat("big.bin"), Errc::not_found);
  ASSERT_OK(put("ok.bin", pattern(1000)));
  // Chunks are limited one by one; the assembled file as a whole.
  ASSERT_OK(create_upload("t", std::nullopt));
  EXPECT_ERRC(put_chunk("t", "1", 0, pattern(1001)), Errc::too_large);
  ASSERT_OK(put_chunk("t", "1", 0, pattern(800)));
  ASSERT_OK(put_chunk("t", "2", 800, pattern(800)));
  EXPECT_ERRC(assemble("t", "big.bin"), Errc::too_large);
  EXPECT_ERRC(stat("big.bin"), Errc::not_found);
  EXPECT_EQ(blob_count(), 3u);
  EXPECT_EQ(temp_count(), 0u);
  expect_consistent();
}

// The descriptors handed to sendfile cover exactly the asked range, across parts.
TEST_P(BoxEngineTest, OpenFilesGivesTheRangeAcrossParts) {
  const std::string body = pattern(3000, 11);
  ASSERT_OK(create_upload("t", 3000));
  for (int i = 0; i < 3; ++i) {
    ASSERT_OK(put_chunk("t", std::to_string(i + 1), 1000 * static_cast<std::uint64_t>(i), body.substr(1000 * static_cast<std::size_t>(i), 1000)));
  }
  auto w = assemble("t", "f.bin");
  ASSERT_OK(w);
  for (auto [offset, length] : std::vector<std::pair<std::uint64_t, std::uint64_t>>{{0, 3000}, {999, 2}, {500, 2000}, {2000, 1000}, {1500, 0}}) {
    auto files = box().open_files(w->node, offset, length);
    ASSERT_OK(files);
    std::string got;
    for (const auto& f : *files) {
      std::string buf(f.length, '\0');
      EXPECT_EQ(::pread(f.fd, buf.data(), buf.size(), static_cast<off_t>(f.offset)), static_cast<ssize_t>(f.length));
      got += buf;
      ::close(f.fd);
    }
    EXPECT_EQ(got, body.substr(offset, length)) << offset << "+" << length;
  }
}

TEST_P(BoxEngineTest, NodeById) {
  ASSERT_OK(mkcol("a"));
  auto f = put("a/f.txt", "x");
  ASSERT_OK(f);
  auto n = await([&] { return box().node_by_id(kUser, f->node.id); });
  ASSERT_OK(n);
  EXPECT_EQ(n->path, "a/f.txt");
  ASSERT_OK(move("a", "b"));
  n = await([&] { return box().node_by_id(kUser, f->node.id); });
  ASSERT_OK(n);
  EXPECT_EQ(n->path, "b/f.txt");
  EXPECT_ERRC(await([&] { return box().node_by_id(kOther, f->node.id); }), Errc::not_found);
  ASSERT_OK(remove("b"));  // in the trash, inside its folder
  EXPECT_ERRC(await([&] { return box().node_by_id(kUser, f->node.id); }), Errc::not_found);
  EXPECT_ERRC(await([&] { return box().node_by_id(kUser, 987654321); }), Errc::not_found);
}

TEST_P(BoxEngineTest, RestoreRenamesAgainOnEveryCollision) {
  for (int i = 0; i < 3; ++i) {
    ASSERT_OK(put("notes", "v" + std::to_string(i)));
    ASSERT_OK(remove("notes"));
  }
  ASSERT_OK(put("notes", "live"));
  auto t = trash();
  ASSERT_EQ(t.size(), 3u);
  std::vector<std::string> paths;
  for (const auto& item : t) {
    auto back = await([&] { return box().restore_trash(kUser, item.id); });
    ASSERT_OK(back);
    paths.push_back(back->path);
  }
  EXPECT_EQ(paths, (std::vector<std::string>{"notes (restored)", "notes (restored 2)", "notes (restored 3)"}));
  EXPECT_EQ(names("").size(), 4u);
  EXPECT_EQ(size(""), 4u + 3u * 2u);
}

// --- concurrent writers ---------------------------------------------------------------------------

// Sync clients upload in parallel: sizes up to the root stay exact, whatever the interleaving.
TEST_P(BoxEngineTest, ConcurrentPutsKeepFolderSizesExact) {
  constexpr int kWriters = 12;
  for (int d = 0; d < 3; ++d) {
    ASSERT_OK(mkcol("d" + std::to_string(d)));
    ASSERT_OK(mkcol("d" + std::to_string(d) + "/sub"));
  }
  std::vector<std::function<awaitable<Result<WriteResult>>()>> calls;
  std::vector<std::string> bodies;
  for (int i = 0; i < kWriters; ++i) { bodies.push_back(pattern(100 + static_cast<std::size_t>(i), static_cast<unsigned>(i))); }
  for (int i = 0; i < kWriters; ++i) {
    calls.push_back([&, i]() -> awaitable<Result<WriteResult>> {
      StringSource src(bodies[static_cast<std::size_t>(i)]);
      PutOptions o;
      o.length = bodies[static_cast<std::size_t>(i)].size();
      std::string path = "d" + std::to_string(i % 3) + (i % 2 ? "/sub" : "") + "/f" + std::to_string(i);
      co_return co_await box().put(kUser, path, src, o);
    });
  }
  std::uint64_t total = 0;
  for (const auto& r : concurrently(calls)) { EXPECT_OK(r); }
  for (const auto& b : bodies) { total += b.size(); }
  EXPECT_EQ(size(""), total);
  expect_counts_exact();
  expect_consistent();
}

// Two uploads of one new file at once (a client retrying, two devices): both succeed, the
// later one is the file and the earlier one its version.
TEST_P(BoxEngineTest, ConcurrentPutsOfOneNewFileBothSucceed) {
  constexpr int kWriters = 6;
  std::vector<std::function<awaitable<Result<WriteResult>>()>> calls;
  for (int i = 0; i < kWriters; ++i) {
    calls.push_back([&, i]() -> awaitable<Result<WriteResult>> {
      StringSource src(pattern(1000, static_cast<unsigned>(i)));
      PutOptions o;
      o.length = 1000;
      co_return co_await box().put(kUser, "same.bin", src, o);
    });
  }
  int created = 0;
  std::int64_t id = 0;
  for (const auto& r : concurrently(calls)) {
    EXPECT_OK(r);
    if (r) {
      created += r->created ? 1 : 0;
      id = r->node.id;
    }
  }
  EXPECT_EQ(created, 1);
  EXPECT_EQ(names(""), (std::vector<std::string>{"same.bin"}));
  EXPECT_EQ(versions(id).size(), static_cast<std::size_t>(kWriters - 1));
  EXPECT_EQ(size(""), 1000u);
  expect_counts_exact();
  expect_consistent();
}

// Overwrites of one file at once: every previous content is a version exactly once, and when
// the file goes, every blob goes with it.
TEST_P(BoxEngineTest, ConcurrentOverwritesKeepEveryVersionOnce) {
  constexpr int kWriters = 8;
  auto first = put("f.bin", pattern(1000, 100));
  ASSERT_OK(first);
  std::vector<std::function<awaitable<Result<WriteResult>>()>> calls;
  for (int i = 0; i < kWriters; ++i) {
    calls.push_back([&, i]() -> awaitable<Result<WriteResult>> {
      StringSource src(pattern(1000, static_cast<unsigned>(i)));
      PutOptions o;
      o.length = 1000;
      co_return co_await box().put(kUser, "f.bin", src, o);
    });
  }
  for (const auto& r : concurrently(calls)) { EXPECT_OK(r); }
  auto vs = versions(first->node.id);
  EXPECT_EQ(vs.size(), static_cast<std::size_t>(kWriters));
  std::set<std::int64_t> contents;
  for (const auto& v : vs) {
    contents.insert(v.content_id);
    EXPECT_OK(read_version(v));
  }
  EXPECT_EQ(contents.size(), vs.size()) << "a content is the version of two overwrites";
  EXPECT_EQ(blob_count(), static_cast<std::size_t>(kWriters + 1));
  expect_counts_exact();
  expect_consistent();

  ASSERT_OK(remove("f.bin"));
  ASSERT_OK(await([&] { return box().purge_trash(kUser, std::nullopt); }));
  EXPECT_EQ(blob_count(), 0u) << "blobs nothing names any more";
}

// Deletes of one file at once: one goes to the trash, the others find nothing; sizes stay exact.
TEST_P(BoxEngineTest, ConcurrentRemovesOfOneFileRemoveItOnce) {
  ASSERT_OK(mkcol("a"));
  ASSERT_OK(put("a/keep.bin", pattern(300)));
  for (int round = 0; round < 3; ++round) {
    ASSERT_OK(put("a/x.bin", pattern(500, static_cast<unsigned>(round))));
    std::vector<std::function<awaitable<Status>()>> calls;
    for (int i = 0; i < 6; ++i) {
      calls.push_back([&]() -> awaitable<Status> { co_return co_await box().remove(kUser, "a/x.bin", std::nullopt); });
    }
    int removed = 0;
    for (const auto& r : concurrently(calls)) {
      if (r) {
        ++removed;
      } else {
        EXPECT_EQ(r.error().code, Errc::not_found) << describe(r.error());
      }
    }
    EXPECT_EQ(removed, 1);
    EXPECT_EQ(size("a"), 300u);
    EXPECT_EQ(size(""), 300u);
  }
  EXPECT_EQ(trash().size(), 3u);
  expect_counts_exact();
}

// Two exclusive locks of one resource at once: one wins.
TEST_P(BoxEngineTest, ConcurrentExclusiveLocksOneWins) {
  ASSERT_OK(put("doc.odt", "x"));
  for (int round = 0; round < 3; ++round) {
    std::string path = "doc" + std::to_string(round) + ".odt";
    std::vector<std::function<awaitable<Result<Lock>>()>> calls;
    for (int i = 0; i < 6; ++i) {
      calls.push_back([&]() -> awaitable<Result<Lock>> {
        LockRequest req;
        req.exclusive = true;
        co_return co_await box().lock(kUser, path, req);
      });
    }
    int won = 0;
    for (const auto& r : concurrently(calls)) {
      if (r) {
        ++won;
      } else {
        EXPECT_EQ(r.error().code, Errc::conflict) << describe(r.error());
      }
    }
    EXPECT_EQ(won, 1);
    EXPECT_EQ(lock_tokens(path).size(), 1u);
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, BoxEngineTest, ::testing::Values(Backend::sqlite, Backend::postgres), test::backend_param_name);

}  // namespace
}  // namespace ciel::box
