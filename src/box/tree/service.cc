// The box engine over the MetaStore and the BlobStore (box.h says what it models).
#include <unistd.h>
#include <zlib.h>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <atomic>
#include <unordered_map>
#include <unordered_set>

#include "box/box.h"
#include "store/lease.h"
#include "core/blocking.h"
#include "core/crypto/crypto.h"
#include "core/http/mime.h"
#include "core/log/log.h"
#include "identity/password/password.h"
#include "store/blob_store.h"
#include "store/meta_store.h"

namespace ciel::box {
namespace {

using store::Row;
using store::Tx;
using store::Value;

std::int64_t now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}
std::string new_etag() { return crypto::random_hex(8); }
std::string token_hash(std::string_view token) { return crypto::hex(crypto::sha256(token)); }
constexpr std::int64_t kLoginFlowSeconds = 20 * 60;
Value i64(std::uint64_t v) { return Value{static_cast<std::int64_t>(v)}; }

std::string parent_path(std::string_view path) {
  auto slash = path.rfind('/');
  return slash == std::string_view::npos ? std::string() : std::string(path.substr(0, slash));
}
std::string leaf_name(std::string_view path) {
  auto slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}
std::string join(std::string_view dir, std::string_view name) {
  return dir.empty() ? std::string(name) : std::string(dir) + "/" + std::string(name);
}
// `inner` is `outer` or beneath it ("" contains everything).
bool contains(std::string_view outer, std::string_view inner) {
  if (outer.empty() || outer == inner) { return true; }
  return inner.size() > outer.size() && inner.starts_with(outer) && inner[outer.size()] == '/';
}

constexpr std::string_view kNodeCols =
    "n.id, n.parent, n.owner, n.name, n.folder, n.size, n.mtime, n.etag, n.content_type, n.content_id, n.md5, n.sha1, n.adler32, "
    "n.mount_share FROM box_nodes n";

Node node_from(const Row& r, std::string path) {
  Node n;
  n.id = r.integer(0);
  n.parent = r.integer(1);
  n.owner = r.text(2);
  n.name = r.text(3);
  n.folder = r.boolean(4);
  n.size = static_cast<std::uint64_t>(r.integer(5));
  n.mtime = r.integer(6);
  n.etag = r.text(7);
  n.content_type = r.text(8);
  n.content_id = r.integer(9);
  n.md5 = r.text(10);
  n.sha1 = r.text(11);
  n.adler32 = r.text(12);
  if (!r.is_null(13)) {
    n.share_id = r.integer(13);
    n.mount = true;
  }
  n.path = std::move(path);
  return n;
}

// A content about to be stored: its digests and where its bytes are.
struct NewContent {
  std::uint64_t size = 0;
  std::string md5, sha1, adler32;
  std::optional<std::string> inline_data;
  std::vector<std::pair<std::string, std::uint64_t>> parts;  // blob key, size
};

// Adler-32 of what passes through (the blob store computes MD5 and SHA-1 itself).
class HashingSource final : public ByteSource {
 public:
  explicit HashingSource(ByteSource& inner) : inner_(inner) {}
  boost::asio::awaitable<Result<std::size_t>> read(std::span<char> buf) override {
    auto n = co_await inner_.read(buf);
    if (n && *n > 0) {
      std::string_view got(buf.data(), *n);
      adler_ = adler32_z(adler_, reinterpret_cast<const Bytef*>(got.data()), got.size());
      count_ += *n;
    }
    co_return n;
  }
  std::string adler_hex() const { return adler_text(adler_); }
  std::uint64_t count() const { return count_; }
  static std::string adler_text(uLong v) {
    char buf[9];
    std::snprintf(buf, sizeof buf, "%08lx", static_cast<unsigned long>(v));
    return buf;
  }

 private:
  ByteSource& inner_;
  uLong adler_ = adler32(0L, Z_NULL, 0);
  std::uint64_t count_ = 0;
};

bool checksum_matches(const Checksum& want, const NewContent& c) {
  if (want.type == "SHA1") { return want.hex == c.sha1; }
  if (want.type == "MD5") { return want.hex == c.md5; }
  if (want.type == "ADLER32") { return want.hex == c.adler32; }
  return true;
}

constexpr std::string_view kNoSuchLink = "No such link";
constexpr std::string_view kFolderOnlyAccess = "Only a folder can be shared for upload or editing";

class Service final : public BoxService {
  struct Route;  // where a caller's path lives (routes through mount points, below)
 public:
  // With `anchor`, a link's view: paths are relative to that node (see Subtree in box.h).
  Service(store::MetaStore& meta, store::BlobStore& blobs, BoxConfig config, const Clock& clock, Directory directory, std::int64_t anchor = 0)
      : meta_(meta), blobs_(blobs), config_(std::move(config)), clock_(clock), directory_(std::move(directory)), anchor_(anchor) {}

  const BoxConfig& config() const override { return config_; }

  // --- tree ------------------------------------------------------------------------------------
  boost::asio::awaitable<Result<Node>> stat(std::string user, std::string path) override {
    auto p = normalize_path(path);
    if (!p) { co_return p.error(); }
    if (auto st = co_await ensure_root(user); !st) { co_return st.error(); }
    Node out;
    auto st = co_await meta_.read([&](Tx& tx) -> Status {
      auto rt = route(tx, user, *p);
      if (!rt) { return rt.error(); }
      auto n = resolve(tx, rt->owner, rt->path);
      if (!n) { return n.error(); }
      out = std::move(*n);
      rt->present(out);
      return {};
    });
    if (!st) { co_return st.error(); }
    co_return out;
  }

  boost::asio::awaitable<Result<std::pair<Node, std::vector<Node>>>> list(std::string user, std::string path) override {
    auto p = normalize_path(path);
    if (!p) { co_return p.error(); }
    if (auto st = co_await ensure_root(user); !st) { co_return st.error(); }
    std::pair<Node, std::vector<Node>> out;
    auto st = co_await meta_.read([&](Tx& tx) -> Status {
      out.second.clear();
      auto rt = route(tx, user, *p);
      if (!rt) { return rt.error(); }
      auto n = resolve(tx, rt->owner, rt->path);
      if (!n) { return n.error(); }
      out.first = std::move(*n);
      rt->present(out.first);
      if (!out.first.folder) { return {}; }
      auto rows = tx.query(std::string("SELECT ") + std::string(kNodeCols) + " WHERE n.parent = $1 ORDER BY n.name", {Value{out.first.id}});
      if (!rows) { return rows.error(); }
      out.second.reserve(rows->rows.size());
      for (const auto& r : rows->rows) { out.second.push_back(node_from(r, join(rt->path, r.text(3)))); }
      return present_children(tx, user, *rt, out.second);
    });
    if (!st) { co_return st.error(); }
    co_return out;
  }

  boost::asio::awaitable<Result<Node>> mkcol(std::string user, std::string path, std::optional<std::int64_t> mtime) override {
    auto p = normalize_path(path);
    if (!p) { co_return p.error(); }
    if (p->empty()) { co_return make_error(Errc::already_exists, std::string(kAlreadyExists)); }
    if (auto st = co_await ensure_root(user); !st) { co_return st.error(); }
    Node out;
    auto st = co_await meta_.transact([&](Tx& tx) -> Status {
      auto rt = route(tx, user, *p);
      if (!rt) { return rt.error(); }
      if (auto s = serialize(tx, rt->owner); !s) { return s; }
      const std::string& path = rt->path;
      auto parent = resolve_parent(tx, rt->owner, path);
      if (!parent) { return parent.error(); }
      auto existing = find_child(tx, parent->id, leaf_name(path), path);
      if (!existing) { return existing.error(); }
      if (*existing || rt->at_mount) { return make_error(Errc::already_exists, std::string(kAlreadyExists)); }
      if (auto ok = rt->need(kPermCreate); !ok) { return ok; }
      auto now = now_s();
      auto id = tx.one("INSERT INTO box_nodes (owner, parent, name, folder, size, mtime, etag, created_s) VALUES ($1, $2, $3, 1, 0, $4, $5, $6) RETURNING id",
                       {Value{rt->owner}, Value{parent->id}, Value{leaf_name(path)}, Value{mtime.value_or(now)}, Value{new_etag()}, Value{now}});
      if (!id) { return id.error(); }
      if (auto t = touch(tx, parent->id, 0); !t) { return t; }
      auto n = resolve_id(tx, (*id)->integer(0), path);
      if (!n) { return n.error(); }
      out = std::move(*n);
      if (auto a = note(tx, rt->owner, ActivityKind::file_created, out, {}, {}, &*rt); !a) { return a; }
      rt->present(out);
      return {};
    });
    if (!st) { co_return st.error(); }
    co_return out;
  }

  boost::asio::awaitable<Result<WriteResult>> put(std::string user, std::string path, ByteSource& body, PutOptions options) override {
    auto p = normalize_path(path);
    if (!p) { co_return p.error(); }
    if (p->empty()) { co_return make_error(Errc::conflict, std::string(kIsAFolder)); }
    if (auto st = co_await ensure_root(user); !st) { co_return st.error(); }
    if (options.length && *options.length > config_.max_file_size) {
      co_return make_error(Errc::too_large, "The file is larger than the largest allowed (box.max_file_size)");
    }
    // Checks that need no bytes first, so a refused upload is refused before it is sent (a small
    // body costs less to read than a check; the commit checks again either way).
    if (!options.length || *options.length > config_.inline_max) {
      if (auto pre = co_await precheck(user, *p, options); !pre) { co_return pre.error(); }
    }

    NewContent content;
    // SHA-1 and Adler-32 always (SHA-1 is what sync clients send and compare); MD5 only when the
    // client declares an MD5 checksum to verify: on a large upload it cost more CPU than SHA-1,
    // Adler-32 and the write together.
    const bool want_md5 = options.checksum && options.checksum->type == "MD5";
    if (options.length && *options.length <= config_.inline_max) {
      auto data = co_await read_all(body, static_cast<std::size_t>(config_.inline_max));
      if (!data) { co_return data.error(); }
      if (data->size() != *options.length) { co_return make_error(Errc::invalid_argument, std::string(kIncomplete)); }
      content.size = data->size();
      if (want_md5) { content.md5 = crypto::hex(crypto::md5(*data)); }
      content.sha1 = crypto::hex(crypto::sha1(*data));
      content.adler32 = HashingSource::adler_text(adler32_z(adler32(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(data->data()), data->size()));
      content.inline_data = std::move(*data);
    } else {
      // SHA-1 (and MD5) are computed by the blob store's writer on its pool, in the same pass as
      // the write; Adler-32 (cheap) as the bytes arrive.
      crypto::Hasher sha1(crypto::Digest::sha1);
      HashingSource adler(body);
      std::string key = store::new_blob_key();
      auto info = co_await blobs_.put(key, adler, config_.max_file_size, store::BlobPutOptions{want_md5, &sha1});
      if (!info) { co_return info.error(); }
      content.size = info->size;
      if (want_md5) { content.md5 = info->md5_hex; }
      content.sha1 = crypto::hex(sha1.finish());
      content.adler32 = adler.adler_hex();
      content.parts.emplace_back(key, info->size);
      if (options.length && info->size != *options.length) {
        co_await drop_blobs(content);
        co_return make_error(Errc::invalid_argument, std::string(kIncomplete));
      }
    }
    if (options.checksum && !checksum_matches(*options.checksum, content)) {
      co_await drop_blobs(content);
      co_return make_error(Errc::invalid_argument, std::string(kChecksumMismatch));
    }
    auto r = co_await commit_content(user, *p, content, options);
    if (!r) { co_await drop_blobs(content); }
    co_return r;
  }

  boost::asio::awaitable<Result<std::unique_ptr<ByteSource>>> open(const Node& file, std::uint64_t offset, std::uint64_t length) override {
    co_return co_await open_content(file.content_id, file.size, offset, length);
  }

  Result<std::vector<BlobFile>> open_files(const Node& file, std::uint64_t offset, std::uint64_t length) override {
    // Blocking but short (a few small reads and opens); the DAV front-end calls it on the blocking pool.
    std::vector<std::pair<std::string, std::uint64_t>> parts;
    bool is_inline = false;
    auto st = meta_.read_sync([&](Tx& tx) -> Status {
      parts.clear();
      auto c = tx.one("SELECT CASE WHEN inline_data IS NULL THEN 0 ELSE 1 END FROM box_contents WHERE id = $1", {Value{file.content_id}});
      if (!c) { return c.error(); }
      if (!*c) { return make_error(Errc::not_found, "content is gone"); }
      is_inline = (*c)->boolean(0);
      auto rows = tx.query("SELECT blob_key, size FROM box_content_parts WHERE content_id = $1 ORDER BY seq", {Value{file.content_id}});
      if (!rows) { return rows.error(); }
      for (const auto& r : rows->rows) { parts.emplace_back(r.text(0), static_cast<std::uint64_t>(r.integer(1))); }
      return {};
    });
    if (!st) { return st.error(); }
    if (is_inline) { return make_error(Errc::not_found, "the file lives in its row"); }
    std::vector<BlobFile> files;
    std::uint64_t pos = 0;
    for (const auto& [key, size] : parts) {
      std::uint64_t end = pos + size;
      if (end > offset && pos < offset + length) {
        std::uint64_t from = std::max(offset, pos) - pos;
        std::uint64_t to = std::min(offset + length, end) - pos;
        auto fd = blobs_.open_fd(key);
        if (!fd) {
          for (auto& f : files) { ::close(f.fd); }
          return fd.error();
        }
        files.push_back(BlobFile{*fd, from, to - from});
      }
      pos = end;
    }
    return files;
  }

  boost::asio::awaitable<Status> remove(std::string user, std::string path, std::optional<std::string> if_match) override {
    auto p = normalize_path(path);
    if (!p) { co_return p.error(); }
    if (p->empty()) { co_return make_error(Errc::forbidden, "The root of a box cannot be deleted"); }
    if (auto st = co_await ensure_root(user); !st) { co_return st; }
    std::vector<std::string> drop;
    auto st = co_await meta_.transact([&](Tx& tx) -> Status {
      drop.clear();
      auto rt = route(tx, user, *p);
      if (!rt) { return rt.error(); }
      if (auto s = serialize(tx, rt->owner); !s) { return s; }
      auto n = resolve(tx, rt->owner, rt->path);
      if (!n) { return n.error(); }
      if (if_match && *if_match != "*" && *if_match != n->etag) { return make_error(Errc::precondition_failed, std::string(kEtagMismatch)); }
      // Removing a mount point declines the share; the owner's files stay.
      if (rt->at_mount) { return decline(tx, user, rt->share_id); }
      if (auto ok = rt->need(kPermDelete); !ok) { return ok; }
      return trash_node(tx, rt->owner, *n, drop, &*rt);
    });
    if (st) { co_await remove_blobs(std::move(drop)); }
    co_return st;
  }

  boost::asio::awaitable<Result<WriteResult>> move(std::string user, std::string from, std::string to, bool overwrite) override {
    co_return co_await transfer(std::move(user), std::move(from), std::move(to), overwrite, true, true);
  }

  boost::asio::awaitable<Result<WriteResult>> copy(std::string user, std::string from, std::string to, bool overwrite,
                                                   bool recursive) override {
    co_return co_await transfer(std::move(user), std::move(from), std::move(to), overwrite, recursive, false);
  }

  // --- dead properties -----------------------------------------------------------------------
  boost::asio::awaitable<Result<std::vector<DeadProp>>> props(std::string user, std::int64_t node_id) override {
    std::vector<DeadProp> out;
    auto st = co_await meta_.read([&](Tx& tx) -> Status {
      out.clear();
      auto rows = tx.query("SELECT p.ns, p.name, p.value FROM box_props p JOIN box_nodes n ON n.id = p.node_id WHERE p.node_id = $1 AND n.owner = $2",
                           {Value{node_id}, Value{user}});
      if (!rows) { return rows.error(); }
      for (const auto& r : rows->rows) { out.push_back(DeadProp{r.text(0), r.text(1), r.text(2)}); }
      return {};
    });
    if (!st) { co_return st.error(); }
    co_return out;
  }

  boost::asio::awaitable<Result<std::vector<std::pair<std::int64_t, DeadProp>>>> child_props(std::string user,
                                                                                              std::int64_t folder_id) override {
    std::vector<std::pair<std::int64_t, DeadProp>> out;
    auto st = co_await meta_.read([&](Tx& tx) -> Status {
      out.clear();
      auto rows = tx.query(
          "SELECT p.node_id, p.ns, p.name, p.value FROM box_props p JOIN box_nodes n ON n.id = p.node_id "
          "WHERE (n.parent = $1 OR n.id = $1) AND n.owner = $2",
          {Value{folder_id}, Value{user}});
      if (!rows) { return rows.error(); }
      for (const auto& r : rows->rows) { out.emplace_back(r.integer(0), DeadProp{r.text(1), r.text(2), r.text(3)}); }
      return {};
    });
    if (!st) { co_return st.error(); }
    co_return out;
  }

  boost::asio::awaitable<Status> patch_props(std::string user, std::string path, PropPatch patch) override {
    auto p = normalize_path(path);
    if (!p) { co_return p.error(); }
    if (auto st = co_await ensure_root(user); !st) { co_return st; }
    co_return co_await meta_.transact([&](Tx& tx) -> Status {
      auto rt = route(tx, user, *p);
      if (!rt) { return rt.error(); }
      if (auto s = serialize(tx, rt->owner); !s) { return s; }
      auto n = resolve(tx, rt->owner, rt->path);
      if (!n) { return n.error(); }
      if (auto ok = rt->need(kPermUpdate); !ok) { return ok; }
      for (const auto& op : patch.ops) {
        auto r = op.set ? tx.exec("INSERT INTO box_props (node_id, ns, name, value) VALUES ($1, $2, $3, $4) "
                                  "ON CONFLICT (node_id, ns, name) DO UPDATE SET value = excluded.value",
                                  {Value{n->id}, Value{op.prop.ns}, Value{op.prop.name}, Value{op.prop.value}})
                        : tx.exec("DELETE FROM box_props WHERE node_id = $1 AND ns = $2 AND name = $3",
                                  {Value{n->id}, Value{op.prop.ns}, Value{op.prop.name}});
        if (!r) { return r.error(); }
      }
      return {};
    });
  }

  // --- locks ----------------------------------------------------------------------------------
  boost::asio::awaitable<Result<Lock>> lock(std::string user, std::string path, LockRequest request) override {
    auto p = normalize_path(path);
    if (!p) { co_return p.error(); }
    if (auto st = co_await ensure_root(user); !st) { co_return st.error(); }
    Lock out;
    auto st = co_await meta_.transact([&](Tx& tx) -> Status {
      // Through a share, the lock is on the owner's node (it holds against the owner's writes too).
      auto rt = route(tx, user, *p);
      if (!rt) { return rt.error(); }
      if (auto s = serialize(tx, rt->owner); !s) { return s; }
      if (auto ok = rt->need(kPermUpdate); !ok) { return ok; }
      auto existing = locks_in(tx, rt->owner, rt->path, request.infinite);
      if (!existing) { return existing.error(); }
      for (const auto& l : *existing) {
        if (l.exclusive || request.exclusive) { return make_error(Errc::conflict, "The resource is locked"); }
      }
      out = Lock{"opaquelocktoken:" + uuid(), rt->path, request.exclusive, request.infinite, request.owner_xml, request.timeout_s,
                 request.timeout_s > 0 ? now_s() + request.timeout_s : 0, user};
      auto r = tx.exec(
          "INSERT INTO box_locks (token, owner, path, exclusive, infinite, owner_xml, timeout_s, expires_s, user_id) "
          "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
          {Value{out.token}, Value{rt->owner}, Value{out.path}, Value{std::int64_t{out.exclusive}}, Value{std::int64_t{out.infinite}},
           Value{out.owner_xml}, Value{out.timeout_s}, Value{out.expires_s}, Value{user}});
      if (!r) { return r.error(); }
      out.path = rt->outward(out.path);
      return {};
    });
    if (!st) { co_return st.error(); }
    co_return out;
  }

  boost::asio::awaitable<Result<Lock>> refresh_lock(std::string user, std::string token, std::int64_t timeout_s) override {
    Lock out;
    auto st = co_await meta_.transact([&](Tx& tx) -> Status {
      if (auto s = serialize(tx, user); !s) { return s; }
      auto all = user_locks(tx, user, true);
      if (!all) { return all.error(); }
      for (const auto& l : *all) {
        if (l.token != token) { continue; }
        out = l;
        out.timeout_s = timeout_s;
        out.expires_s = timeout_s > 0 ? now_s() + timeout_s : 0;
        auto r = tx.exec("UPDATE box_locks SET timeout_s = $1, expires_s = $2 WHERE token = $3", {Value{out.timeout_s}, Value{out.expires_s}, Value{token}});
        if (!r) { return r.error(); }
        return {};
      }
      return make_error(Errc::not_found, "No such lock");
    });
    if (!st) { co_return st.error(); }
    co_return out;
  }

  boost::asio::awaitable<Status> unlock(std::string user, std::string path, std::string token) override {
    auto p = normalize_path(path);
    if (!p) { co_return p.error(); }
    co_return co_await meta_.transact([&](Tx& tx) -> Status {
      auto rt = route(tx, user, *p);
      if (!rt) { return rt.error(); }
      if (auto s = serialize(tx, rt->owner); !s) { return s; }
      auto covering = locks_in(tx, rt->owner, rt->path, false);
      if (!covering) { return covering.error(); }
      for (const auto& l : *covering) {
        if (l.token != token) { continue; }
        auto r = tx.exec("DELETE FROM box_locks WHERE token = $1", {Value{token}});
        if (!r) { return r.error(); }
        return {};
      }
      return make_error(Errc::not_found, "The lock token does not match a lock on this resource");
    });
  }

  boost::asio::awaitable<Result<std::vector<Lock>>> locks(std::string user, std::string path, bool beneath) override {
    auto p = normalize_path(path);
    if (!p) { co_return p.error(); }
    std::vector<Lock> out;
    auto st = co_await meta_.read([&](Tx& tx) -> Status {
      auto rt = route(tx, user, *p);
      if (!rt) { return rt.error(); }
      auto l = locks_in(tx, rt->owner, rt->path, beneath);
      if (!l) { return l.error(); }
      out = std::move(*l);
      for (auto& lock : out) { lock.path = rt->outward(lock.path); }
      return {};
    });
    if (!st) { co_return st.error(); }
    co_return out;
  }

  // --- chunked uploads ------------------------------------------------------------------------
  boost::asio::awaitable<Status> create_upload(std::string user, std::string transfer, std::optional<std::uint64_t> total) override {
    if (auto n = normalize_name(transfer); !n || *n != transfer) { co_return make_error(Errc::invalid_argument, "invalid upload name"); }
    co_return co_await meta_.transact([&](Tx& tx) -> Status {
      auto r = tx.exec("INSERT INTO box_uploads (owner, transfer, total, created_s) VALUES ($1, $2, $3, $4) ON CONFLICT (owner, transfer) DO NOTHING",
                       {Value{user}, Value{transfer}, total ? i64(*total) : Value{}, Value{now_s()}});
      if (!r) { return r.error(); }
      if (*r == 0) { return make_error(Errc::already_exists, std::string(kAlreadyExists)); }
      return {};
    });
  }

  boost::asio::awaitable<Result<Upload>> get_upload(std::string user, std::string transfer) override {
    Upload out;
    auto st = co_await meta_.read([&](Tx& tx) -> Status {
      auto u = load_upload(tx, user, transfer);
      if (!u) { return u.error(); }
      out = std::move(*u);
      return {};
    });
    if (!st) { co_return st.error(); }
    co_return out;
  }

  boost::asio::awaitable<Result<UploadChunk>> put_chunk(std::string user, std::string transfer, std::string name,
                                                        std::optional<std::uint64_t> offset, std::uint64_t length, ByteSource& body) override {
    if (auto n = normalize_name(name); !n || *n != name) { co_return make_error(Errc::invalid_argument, "invalid chunk name"); }
    if (length > config_.max_file_size) { co_return make_error(Errc::too_large, "The chunk is larger than the largest allowed (box.max_file_size)"); }
    if (auto u = co_await get_upload(user, transfer); !u) { co_return u.error(); }
    std::string key = store::new_blob_key();
    auto info = co_await blobs_.put(key, body, length, store::BlobPutOptions{false, nullptr});
    if (!info) { co_return info.error(); }
    NewContent tmp;
    tmp.parts.emplace_back(key, info->size);
    if (info->size != length) {
      co_await drop_blobs(tmp);
      co_return make_error(Errc::invalid_argument, std::string(kIncomplete));
    }
    UploadChunk out{name, offset.value_or(0), info->size, now_s()};
    std::vector<std::string> drop;
    auto st = co_await meta_.transact([&](Tx& tx) -> Status {
      if (auto s = serialize(tx, user); !s) { return s; }
      drop.clear();
      auto u = tx.one("SELECT 1 FROM box_uploads WHERE owner = $1 AND transfer = $2", {Value{user}, Value{transfer}});
      if (!u) { return u.error(); }
      if (!*u) { return make_error(Errc::not_found, "No such upload"); }
      auto old = tx.one("SELECT blob_key FROM box_upload_chunks WHERE owner = $1 AND transfer = $2 AND name = $3", {Value{user}, Value{transfer}, Value{name}});
      if (!old) { return old.error(); }
      if (*old) {
        drop.push_back((*old)->text(0));
        auto d = tx.exec("DELETE FROM box_upload_chunks WHERE owner = $1 AND transfer = $2 AND name = $3", {Value{user}, Value{transfer}, Value{name}});
        if (!d) { return d.error(); }
      }
      auto r = tx.exec("INSERT INTO box_upload_chunks (owner, transfer, name, chunk_offset, size, blob_key, mtime) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                       {Value{user}, Value{transfer}, Value{name}, offset ? i64(*offset) : Value{}, i64(info->size), Value{key}, Value{out.mtime}});
      if (!r) { return r.error(); }
      return {};
    });
    if (!st) {
      co_await drop_blobs(tmp);
      co_return st.error();
    }
    co_await remove_blobs(std::move(drop));
    co_return out;
  }

  boost::asio::awaitable<Status> delete_upload(std::string user, std::string transfer) override {
    std::vector<std::string> drop;
    auto st = co_await meta_.transact([&](Tx& tx) -> Status {
      if (auto s = serialize(tx, user); !s) { return s; }
      drop.clear();
      auto u = tx.exec("DELETE FROM box_uploads WHERE owner = $1 AND transfer = $2", {Value{user}, Value{transfer}});
      if (!u) { return u.error(); }
      if (*u == 0) { return make_error(Errc::not_found, "No such upload"); }
      auto rows = tx.query("SELECT blob_key FROM box_upload_chunks WHERE owner = $1 AND transfer = $2", {Value{user}, Value{transfer}});
      if (!rows) { return rows.error(); }
      for (const auto& r : rows->rows) { drop.push_back(r.text(0)); }
      auto d = tx.exec("DELETE FROM box_upload_chunks WHERE owner = $1 AND transfer = $2", {Value{user}, Value{transfer}});
      if (!d) { return d.error(); }
      return {};
    });
    if (st) { co_await remove_blobs(std::move(drop)); }
    co_return st;
  }

  boost::asio::awaitable<Result<WriteResult>> assemble_upload(std::string user, std::string transfer, std::string path,
                                                              PutOptions options) override {
    auto p = normalize_path(path);
    if (!p) { co_return p.error(); }
    if (p->empty()) { co_return make_error(Errc::conflict, std::string(kIsAFolder)); }
    if (auto st = co_await ensure_root(user); !st) { co_return st.error(); }
    auto upload = co_await get_upload(user, transfer);
    if (!upload) { co_return upload.error(); }
    // Chunks sent with OC-Chunk-Offset assemble by offset; others by name (zero-padded numbers).
    auto chunks = upload->chunks;
    bool by_offset = std::none_of(chunks.begin(), chunks.end(), [](const UploadChunk& c) { return c.offset == UINT64_MAX; });
    std::sort(chunks.begin(), chunks.end(), [by_offset](const UploadChunk& a, const UploadChunk& b) {
      if (by_offset && a.offset != b.offset) { return a.offset < b.offset; }
      if (a.name.size() != b.name.size()) { return a.name.size() < b.name.size(); }
      return a.name < b.name;
    });
    std::uint64_t pos = 0;
    for (auto& c : chunks) {
      if (c.size == 0 && chunks.size() > 1) { continue; }  // a stale empty chunk left by an interrupted client
      if (by_offset && c.offset != pos) { co_return make_error(Errc::invalid_argument, std::string(kIncomplete)); }
      pos += c.size;
    }
    std::optional<std::uint64_t> total = options.length ? options.length : upload->total;
    if (total && *total != pos) { co_return make_error(Errc::invalid_argument, std::string(kIncomplete)); }
    options.length = pos;
    if (pos > config_.max_file_size) { co_return make_error(Errc::too_large, "The file is larger than the largest allowed (box.max_file_size)"); }
    if (auto pre = co_await precheck(user, *p, options); !pre) { co_return pre.error(); }

    // The whole file's digests, in one pass over the chunks (on the blocking pool, off the I/O threads).
    std::map<std::string, std::string> keys;  // chunk name -> blob key
    auto ks = co_await meta_.read([&](Tx& tx) -> Status {
      keys.clear();
      auto rows = tx.query("SELECT name, blob_key FROM box_upload_chunks WHERE owner = $1 AND transfer = $2", {Value{user}, Value{transfer}});
      if (!rows) { return rows.error(); }
      for (const auto& r : rows->rows) { keys[r.text(0)] = r.text(1); }
      return {};
    });
    if (!ks) { co_return ks.error(); }
    NewContent content;
    content.size = pos;
    for (const auto& c : chunks) {
      if (c.size == 0 && chunks.size() > 1) { continue; }
      content.parts.emplace_back(keys[c.name], c.size);
    }
    auto digests = co_await digest_parts(content.parts, options.checksum && options.checksum->type == "MD5");
    if (!digests) { co_return digests.error(); }
    content.md5 = (*digests)[0];
    content.sha1 = (*digests)[1];
    content.adler32 = (*digests)[2];
    if (options.checksum && !checksum_matches(*options.checksum, content)) {
      co_return make_error(Errc::invalid_argument, std::string(kChecksumMismatch));
    }
    std::set<std::string> used;
    for (const auto& [k, s] : content.parts) { used.insert(k); }
    std::vector<std::string> unused;  // empty stale chunks
    for (const auto& [n, k] : keys) {
      if (!used.contains(k)) { unused.push_back(k); }
    }
    auto r = co_await commit_content(user, *p, content, options, transfer);
    if (r) { co_await remove_blobs(std::move(unused)); }
    co_return r;
  }

  // --- versions -------------------------------------------------------------------------------
  boost::asio::awaitable<Result<std::vector<Version>>> versions(std::string user, std::int64_t file_id) override {
    std::vector<Version> out;
    auto st = co_await meta_.read([&](Tx& tx) -> Status {
      out.clear();
      std::string owner = user;  // a file of a share the caller received: its owner's versions
      if (auto reached = reach(tx, user, file_id)) { owner = reached->second.owner; }
      auto rows = tx.query("SELECT id, node_id, size, mtime, etag, content_id, content_type FROM box_versions WHERE node_id = $1 AND owner = $2 ORDER BY id DESC",
                           {Value{file_id}, Value{owner}});
      if (!rows) { return rows.error(); }
      for (const auto& r : rows->rows) {
        out.push_back(Version{r.integer(0), r.integer(1), static_cast<std::uint64_t>(r.integer(2)), r.integer(3), r.text(4), r.integer(5), r.text(6)});
      }
      return {};
    });
    if (!st) { co_return st.error(); }
    co_return out;
  }

  boost::asio::awaitable<Result<std::unique_ptr<ByteSource>>> open_version(const Version& v) override {
    co_return co_await open_content(v.content_id, v.size, 0, v.size);
  }

  boost::asio::awaitable<Result<Node>> restore_version(std::string caller, std::int64_t file_id, std::int64_t version_id) override {
    Node out;
    std::vector<std::string> drop;
    auto st = co_await meta_.transact([&](Tx& tx) -> Status {
      drop.clear();
      auto reached = reach(tx, caller, file_id);
      if (!reached) { return reached.error(); }
      auto& rt = reached->second;
      if (auto ok = rt.need(kPermUpdate); !ok) { return ok; }
      const std::string user = rt.owner;
      if (auto s = serialize(tx, user); !s) { return s; }
      auto v = tx.one("SELECT content_id, size, mtime, etag, content_type FROM box_versions WHERE id = $1 AND node_id = $2 AND owner = $3",
                      {Value{version_id}, Value{file_id}, Value{user}});
      if (!v) { return v.error(); }
      if (!*v) { return make_error(Errc::not_found, "No such version"); }
      auto path = path_of(tx, user, file_id);
      if (!path) { return path.error(); }
      auto node = resolve_id(tx, file_id, *path);
      if (!node) { return node.error(); }
      if (auto q = check_quota(tx, user, static_cast<std::uint64_t>((*v)->integer(1)), node->size); !q) { return q; }
      if (auto k = keep_version(tx, user, *node, drop); !k) { return k; }
      auto d = tx.exec("DELETE FROM box_versions WHERE id = $1", {Value{version_id}});
      if (!d) { return d.error(); }
      auto u = tx.exec(
          "UPDATE box_nodes SET content_id = $1, size = $2, mtime = $3, etag = $4, md5 = c.md5, sha1 = c.sha1, adler32 = c.adler32 "
          "FROM box_contents c WHERE box_nodes.id = $5 AND c.id = $1",
          {Value{(*v)->integer(0)}, Value{(*v)->integer(1)}, Value{now_s()}, Value{new_etag()}, Value{file_id}});
      if (!u) { return u.error(); }
      if (auto t = touch(tx, node->parent, (*v)->integer(1) - static_cast<std::int64_t>(node->size), node->id); !t) { return t; }
      auto n = resolve_id(tx, file_id, *path);
      if (!n) { return n.error(); }
      out = std::move(*n);
      if (auto a = note(tx, user, ActivityKind::file_restored, out, "version", {}, &rt); !a) { return a; }
      rt.present(out);
      return {};
    });
    if (!st) { co_return st.error(); }
    co_await remove_blobs(std::move(drop));
    co_return out;
  }

  // --- trash ----------------------------------------------------------------------------------
  boost::asio::awaitable<Result<std::vector<TrashItem>>> trash(std::string user) override {
    std::vector<TrashItem> out;
    auto st = co_await meta_.read([&](Tx& tx) -> Status {
      out.clear();
      auto rows = tx.query(
          "SELECT id, name, trash_path, trashed_s, folder, size, mtime, etag FROM box_nodes WHERE owner = $1 AND trashed_s IS NOT NULL "
          "ORDER BY trashed_s DESC, id DESC",
          {Value{user}});
      if (!rows) { return rows.error(); }
      for (const auto& r : rows->rows) {
        out.push_back(TrashItem{r.integer(0), r.text(1), r.text(2), r.integer(3), r.boolean(4), static_cast<std::uint64_t>(r.integer(5)),
                                r.integer(6), r.text(7)});
      }
      return {};
    });
    if (!st) { co_return st.error(); }
    co_return out;
  }

  boost::asio::awaitable<Result<Node>> restore_trash(std::string user, std::int64_t id) override {
    if (auto st = co_await ensure_root(user); !st) { co_return st.error(); }
    Node out;
    auto st = co_await meta_.transact([&](Tx& tx) -> Status {
      if (auto s = serialize(tx, user); !s) { return s; }
      auto t = tx.one("SELECT name, trash_path, size FROM box_nodes WHERE id = $1 AND owner = $2 AND trashed_s IS NOT NULL", {Value{id}, Value{user}});
      if (!t) { return t.error(); }
      if (!*t) { return make_error(Errc::not_found, "No such item in the trash"); }
      std::string name = (*t)->text(0);
      std::string dir = parent_path((*t)->text(1));
      auto parent = resolve(tx, user, dir);
      if (!parent || !parent->folder) {
        dir.clear();
        parent = resolve(tx, user, "");
        if (!parent) { return parent.error(); }
      }
      std::string target = name;
      for (int i = 1;; ++i) {
        auto existing = find_child(tx, parent->id, target, join(dir, target));
        if (!existing) { return existing.error(); }
        if (!*existing) { break; }
        auto dot = name.rfind('.');
        std::string base = dot == std::string::npos || dot == 0 ? name : name.substr(0, dot);
        std::string ext = dot == std::string::npos || dot == 0 ? "" : name.substr(dot);
        target = base + (i == 1 ? " (restored)" : " (restored " + std::to_string(i) + ")") + ext;
      }
      auto u = tx.exec("UPDATE box_nodes SET parent = $1, name = $2, trashed_s = NULL, trash_path = NULL WHERE id = $3",
                       {Value{parent->id}, Value{target}, Value{id}});
      if (!u) { return u.error(); }
      if (auto tt = touch(tx, parent->id, (*t)->integer(2)); !tt) { return tt; }
      auto n = resolve_id(tx, id, join(dir, target));
      if (!n) { return n.error(); }
      out = std::move(*n);
      if (auto a = note(tx, user, ActivityKind::file_restored, out, "trash"); !a) { return a; }
      return {};
    });
    if (!st) { co_return st.error(); }
    co_return out;
  }

  boost::asio::awaitable<Status> purge_trash(std::string user, std::optional<std::int64_t> id) override {
    std::vector<std::string> drop;
    auto st = co_await meta_.transact([&](Tx& tx) -> Status {
      if (auto s = serialize(tx, user); !s) { return s; }
      drop.clear();
      auto rows = id ? tx.query("SELECT id FROM box_nodes WHERE id = $1 AND owner = $2 AND trashed_s IS NOT NULL", {Value{*id}, Value{user}})
                     : tx.query("SELECT id FROM box_nodes WHERE owner = $1 AND trashed_s IS NOT NULL", {Value{user}});
      if (!rows) { return rows.error(); }
      if (id && rows->empty()) { return make_error(Errc::not_found, "No such item in the trash"); }
      for (const auto& r : rows->rows) {
        if (auto p = purge_subtree(tx, r.integer(0), drop); !p) { return p; }
      }
      return {};
    });
    if (st) { co_await remove_blobs(std::move(drop)); }
    co_return st;
  }

  // --- quota and lookup -----------------------------------------------------------------------
  boost::asio::awaitable<Result<Quota>> quota(std::string user) override {
    if (auto st = co_await ensure_root(user); !st) { co_return st.error(); }
    Quota out;
    auto st = co_await meta_.read([&](Tx& tx) -> Status {
      auto q = quota_of(tx, user);
      if (!q) { return q.error(); }
      out = *q;
      return {};
    });
    if (!st) { co_return st.error(); }
    co_return out;
  }

  boost::asio::awaitable<Status> set_quota(std::string user, std::optional<std::uint64_t> bytes) override {
    co_return co_await meta_.transact([&](Tx& tx) -> Status {
      auto r = tx.exec("INSERT INTO box_users (user_id, quota) VALUES ($1, $2) ON CONFLICT (user_id) DO UPDATE SET quota = excluded.quota",
                       {Value{user}, bytes ? i64(*bytes) : Value{}});
      if (!r) { return r.error(); }
      return {};
    });
  }

  boost::asio::awaitable<Result<Node>> node_by_id(std::string user, std::int64_t id) override {
    Node out;
    auto st = co_await meta_.read([&](Tx& tx) -> Status {
      auto reached = reach(tx, user, id);
      if (!reached) { return reached.error(); }
      out = std::move(reached->first);
      return {};
    });
    if (!st) { co_return st.error(); }
    co_return out;
  }

  // --- app passwords --------------------------------------------------------------------------
  boost::asio::awaitable<Result<std::pair<AppPassword, std::string>>> create_app_password(std::string user, std::string name) override {
    if (name.empty() || name.size() > 200) { co_return make_error(Errc::invalid_argument, "An app password needs a name of 1 to 200 bytes"); }
    // 48 random bytes: far beyond guessing, so a fast hash is enough and checks cost nothing.
    std::string secret = crypto::random_token(48);
    AppPassword rec{crypto::random_hex(8), user, name, now_s(), 0};
    auto st = co_await meta_.transact([&](Tx& tx) -> Status {
      auto r = tx.exec("INSERT INTO box_app_passwords (id, user_id, name, hash, created_s) VALUES ($1, $2, $3, $4, $5)",
                       {Value{rec.id}, Value{user}, Value{name}, Value{crypto::hex(crypto::sha256(secret))}, Value{rec.created_s}});
      if (!r) { return r.error(); }
      return {};
    });
    if (!st) { co_return st.error(); }
    co_return std::pair{rec, secret};
  }

  boost::asio::awaitable<Result<AppPassword>> check_app_password(std::string password) override {
    std::optional<AppPassword> out;
    auto st = co_await meta_.read([&](Tx& tx) -> Status {
      auto r = tx.one("SELECT id, user_id, name, created_s, last_used_s FROM box_app_passwords WHERE hash = $1",
                      {Value{crypto::hex(crypto::sha256(password))}});
      if (!r) { return r.error(); }
      if (*r) { out = AppPassword{(*r)->text(0), (*r)->text(1), (*r)->text(2), (*r)->integer(3), (*r)->integer(4)}; }
      return {};
    });
    if (!st) { co_return st.error(); }
    if (!out) { co_return make_error(Errc::unauthenticated, "Invalid credentials"); }
    co_return *out;
  }

  boost::asio::awaitable<Result<std::vector<AppPassword>>> app_passwords(std::string user) override {
    std::vector<AppPassword> out;
    auto st = co_await meta_.read([&](Tx& tx) -> Status {
      out.clear();
      auto rows = tx.query("SELECT id, user_id, name, created_s, last_used_s FROM box_app_passwords WHERE user_id = $1 ORDER BY created_s", {Value{user}});
      if (!rows) { return rows.error(); }
      for (const auto& r : rows->rows) { out.push_back(AppPassword{r.text(0), r.text(1), r.text(2), r.integer(3), r.integer(4)}); }
      return {};
    });
    if (!st) { co_return st.error(); }
    co_return out;
  }

  boost::asio::awaitable<Status> delete_app_password(std::string user, std::string id) override {
    co_return co_await meta_.transact([&](Tx& tx) -> Status {
      auto r = tx.exec("DELETE FROM box_app_passwords WHERE id = $1 AND user_id = $2", {Value{id}, Value{user}});
      if (!r) { return r.error(); }
      if (*r == 0) { return make_error(Errc::not_found, "No such app password"); }
      return {};
    });
  }

  // --- Login Flow v2 ---------------------------------------------------------------------------
  boost::asio::awaitable<Result<LoginFlow>> start_login_flow(std::string client_name) override {
    LoginFlow flow{crypto::random_token(48), crypto::random_token(32)};
    if (client_name.empty()) { client_name = "Sync client"; }
    if (client_name.size() > 200) { client_name.resize(200); }
    auto st = co_await meta_.transact([&](Tx& tx) -> Status {
      auto r = tx.exec("INSERT INTO box_login_flows (poll_hash, flow_hash, client, created_s) VALUES ($1, $2, $3, $4)",
                       {Value{token_hash(flow.poll_token)}, Value{token_hash(flow.flow_token)}, Value{client_name}, Value{now_s()}});
      if (!r) { return r.error(); }
      return {};
    });
    if (!st) { co_return st.error(); }
    co_return flow;
  }

  boost::asio::awaitable<Result<std::string>> login_flow_client(std::string flow_token) override {
    std::string out;
    auto st = co_await meta_.read([&](Tx& tx) -> Status {
      auto r = tx.one("SELECT client FROM box_login_flows WHERE flow_hash = $1 AND created_s > $2 AND user_id IS NULL",
                      {Value{token_hash(flow_token)}, Value{now_s() - kLoginFlowSeconds}});
      if (!r) { return r.error(); }
      if (!*r) { return make_error(Errc::not_found, "This login link is unknown or has expired"); }
      out = (*r)->text(0);
      return {};
    });
    if (!st) { co_return st.error(); }
    co_return out;
  }

  boost::asio::awaitable<Status> grant_login_flow(std::string flow_token, std::string user_id, std::string login_name) override {
    // Only the approval is stored: the app password is made when the client polls, so the
    // database never holds it, not even for the minutes a flow lasts.
    co_return co_await meta_.transact([&](Tx& tx) -> Status {
      auto r = tx.exec("UPDATE box_login_flows SET login_name = $1, user_id = $2 WHERE flow_hash = $3 AND user_id IS NULL AND created_s > $4",
                       {Value{login_name}, Value{user_id}, Value{token_hash(flow_token)}, Value{now_s() - kLoginFlowSeconds}});
      if (!r) { return r.error(); }
      if (*r == 0) { return make_error(Errc::not_found, "This login link is unknown or has expired"); }
      return {};
    });
  }

  boost::asio::awaitable<Status> refuse_login_flow(std::string flow_token) override {
    co_return co_await meta_.transact([&](Tx& tx) -> Status {
      auto r = tx.exec("DELETE FROM box_login_flows WHERE flow_hash = $1 AND user_id IS NULL AND created_s > $2",
                       {Value{token_hash(flow_token)}, Value{now_s() - kLoginFlowSeconds}});
      if (!r) { return r.error(); }
      if (*r == 0) { return make_error(Errc::not_found, "This login link is unknown or has expired"); }
      return {};
    });
  }

  boost::asio::awaitable<Result<GrantedLogin>> poll_login_flow(std::string poll_token) override {
    std::string user_id, login_name, client;
    std::string poll_hash = token_hash(poll_token);
    auto st = co_await meta_.transact([&](Tx& tx) -> Status {
      auto r = tx.one("SELECT user_id, login_name, client FROM box_login_flows WHERE poll_hash = $1 AND created_s > $2",
                      {Value{poll_hash}, Value{now_s() - kLoginFlowSeconds}});
      if (!r) { return r.error(); }
      if (!*r || (*r)->is_null(0)) { return make_error(Errc::not_found, "The login has not been granted (yet)"); }
      user_id = (*r)->text(0);
      login_name = (*r)->text(1);
      client = (*r)->text(2);
      // Deleted first: a second poll racing this one finds nothing.
      auto d = tx.exec("DELETE FROM box_login_flows WHERE poll_hash = $1", {Value{poll_hash}});
      if (!d) { return d.error(); }
      if (*d == 0) { return make_error(Errc::not_found, "The login has not been granted (yet)"); }
      return {};
    });
    if (!st) { co_return st.error(); }
    auto created = co_await create_app_password(user_id, client);
    if (!created) { co_return created.error(); }
    co_return GrantedLogin{login_name, created->second};
  }

  // --- public links ---------------------------------------------------------------------------
  boost::asio::awaitable<Result<Link>> create_link(std::string user, std::string path, LinkInput input) override {
    auto p = normalize_path(path);
    if (!p) { co_return p.error(); }
    if (p->empty()) { co_return make_error(Errc::invalid_argument, "The root of a box cannot be shared; share a folder in it"); }
    if (auto v = check_link_fields(input.password, input.expires_s, input.label); !v) { co_return v.error(); }
    if (auto st = co_await ensure_root(user); !st) { co_return st.error(); }
    std::string hash;
    if (input.password) { hash = co_await hash_password(*input.password); }
    Link out;
    auto st = co_await meta_.transact([&](Tx& tx) -> Status {
      auto rt = route(tx, user, *p);
      if (!rt) { return rt.error(); }
      if (rt->shared()) { return make_error(Errc::forbidden, "Public links on a shared file or folder are made by its owner"); }
      auto n = resolve(tx, user, *p);
      if (!n) { return n.error(); }
      if (!n->folder && input.access != LinkAccess::read) { return make_error(Errc::invalid_argument, std::string(kFolderOnlyAccess)); }
      out = Link{};
      out.token = new_link_token();
      out.owner = user;
      out.node_id = n->id;
      out.access = input.access;
      out.password_hash = hash;
      out.expires_s = input.expires_s;
      out.created_s = unix_seconds(clock_.now());
      out.label = input.label;
      out.node = std::move(*n);
      auto id = tx.one(
          "INSERT INTO box_links (token, owner, node_id, permissions, password_hash, expires_s, created_s, label) "
          "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
          {Value{out.token}, Value{user}, Value{out.node_id}, Value{std::int64_t{link_permissions(out.access)}},
           hash.empty() ? Value{} : Value{hash}, out.expires_s ? Value{*out.expires_s} : Value{}, Value{out.created_s}, Value{out.label}});
      if (!id) { return id.error(); }
      out.id = (*id)->integer(0);
      if (auto a = note(tx, user, ActivityKind::link_created, out.node, std::to_string(out.id)); !a) { return a; }
      return {};
    });
    if (!st) { co_return st.error(); }
    co_return out;
  }

  boost::asio::awaitable<Result<std::vector<Link>>> links(std::string user, std::optional<std::int64_t> node_id) override {
    std::vector<Link> out;
    auto st = co_await meta_.read([&](Tx& tx) -> Status {
      out.clear();
      auto rows = node_id ? tx.query(std::string(kLinkSelect) + " WHERE owner = $1 AND node_id = $2 ORDER BY id DESC", {Value{user}, Value{*node_id}})
                          : tx.query(std::string(kLinkSelect) + " WHERE owner = $1 ORDER BY id DESC", {Value{user}});
      if (!rows) { return rows.error(); }
      for (const auto& r : rows->rows) {
        auto l = link_from(tx, r);
        if (!l) {
          if (l.error().code == Errc::not_found) { continue; }  // its node is in the trash
          return l.error();
        }
        out.push_back(std::move(*l));
      }
      return {};
    });
    if (!st) { co_return st.error(); }
    co_return out;
  }

  boost::asio::awaitable<Result<Link>> link(std::string user, std::int64_t id) override {
    Link out;
    auto st = co_await meta_.read([&](Tx& tx) -> Status {
      auto l = owned_link(tx, user, id);
      if (!l) { return l.error(); }
      out = std::move(*l);
      return {};
    });
    if (!st) { co_return st.error(); }
    co_return out;
  }

  boost::asio::awaitable<Result<Link>> update_link(std::string user, std::int64_t id, LinkUpdate update) override {
    std::optional<std::string> password;
    if (update.password && *update.password) { password = **update.password; }
    std::optional<std::int64_t> expires;
    if (update.expires_s && *update.expires_s) { expires = **update.expires_s; }
    if (auto v = check_link_fields(password, expires, update.label.value_or("")); !v) { co_return v.error(); }
    std::string hash;
    if (password) { hash = co_await hash_password(*password); }
    Link out;
    auto st = co_await meta_.transact([&](Tx& tx) -> Status {
      auto l = owned_link(tx, user, id);
      if (!l) { return l.error(); }
      out = std::move(*l);
      if (update.access) {
        if (!out.node.folder && *update.access != LinkAccess::read) { return make_error(Errc::invalid_argument, std::string(kFolderOnlyAccess)); }
        out.access = *update.access;
      }
      if (update.password) { out.password_hash = hash; }
      if (update.expires_s) { out.expires_s = *update.expires_s; }
      if (update.label) { out.label = *update.label; }
      auto u = tx.exec("UPDATE box_links SET permissions = $1, password_hash = $2, expires_s = $3, label = $4 WHERE id = $5",
                       {Value{std::int64_t{link_permissions(out.access)}}, out.password_hash.empty() ? Value{} : Value{out.password_hash},
                        out.expires_s ? Value{*out.expires_s} : Value{}, Value{out.label}, Value{id}});
      if (!u) { return u.error(); }
      if (auto a = note(tx, user, ActivityKind::link_changed, out.node, std::to_string(id)); !a) { return a; }
      return {};
    });
    if (!st) { co_return st.error(); }
    co_return out;
  }

  boost::asio::awaitable<Status> delete_link(std::string user, std::int64_t id) override {
    co_return co_await meta_.transact([&](Tx& tx) -> Status {
      auto l = owned_link(tx, user, id);
      if (!l) { return l.error(); }
      auto d = tx.exec("DELETE FROM box_links WHERE id = $1", {Value{id}});
      if (!d) { return d.error(); }
      if (auto a = note(tx, user, ActivityKind::link_deleted, l->node, std::to_string(id)); !a) { return a; }
      return {};
    });
  }

  boost::asio::awaitable<Result<Link>> open_link(std::string token) override {
    Link out;
    auto now = unix_seconds(clock_.now());
    auto st = co_await meta_.read([&](Tx& tx) -> Status {
      auto r = tx.one(std::string(kLinkSelect) + " WHERE token = $1", {Value{token}});
      if (!r) { return r.error(); }
      if (!*r) { return make_error(Errc::not_found, std::string(kNoSuchLink)); }
      auto l = link_from(tx, **r);
      if (!l) { return l.error().code == Errc::not_found ? make_error(Errc::not_found, std::string(kNoSuchLink)) : l.error(); }
      if (l->expires_s && *l->expires_s <= now) { return make_error(Errc::not_found, std::string(kNoSuchLink)); }
      out = std::move(*l);
      return {};
    });
    if (!st) { co_return st.error(); }
    co_return out;
  }

  boost::asio::awaitable<bool> verify_link_password(const Link& link, std::string password) override {
    if (link.password_hash.empty()) { co_return true; }
    const auto* h = co_await password_hasher();
    co_return co_await h->async_verify(link.password_hash, std::move(password));
  }

  boost::asio::awaitable<Status> count_download(std::int64_t link_id, std::int64_t file_id) override {
    co_return co_await meta_.transact([&](Tx& tx) -> Status {
      auto u = tx.exec("UPDATE box_links SET downloads = downloads + 1 WHERE id = $1", {Value{link_id}});
      if (!u) { return u.error(); }
      if (auto a = note_download(tx, link_id, file_id); !a) { return a; }
      return {};
    });
  }

  std::unique_ptr<Subtree> subtree(const Link& link) override;

  // --- user and group shares -----------------------------------------------------------------
  boost::asio::awaitable<Result<Share>> create_share(std::string user, std::string path, ShareType type, std::string share_with,
                                                     int permissions) override {
    auto p = normalize_path(path);
    if (!p) { co_return p.error(); }
    if (p->empty()) { co_return make_error(Errc::invalid_argument, "The root of a box cannot be shared; share a folder in it"); }
    if (auto v = check_share_permissions(permissions); !v) { co_return v.error(); }
    if (share_with.empty()) { co_return make_error(Errc::invalid_argument, "A share needs a recipient"); }
    if (type == ShareType::user && share_with == user) { co_return make_error(Errc::invalid_argument, "You cannot share with yourself"); }
    if (auto st = co_await ensure_root(user); !st) { co_return st.error(); }
    Share out;
    auto st = co_await meta_.transact([&](Tx& tx) -> Status {
      auto rt = route(tx, user, *p);
      if (!rt) { return rt.error(); }
      if (rt->shared()) {
        if (!(rt->permissions & kPermShare)) { return make_error(Errc::forbidden, "This share does not allow resharing"); }
        if (permissions & ~rt->permissions) {
          return make_error(Errc::invalid_argument, "A reshare cannot give more permissions than the share it comes through");
        }
      }
      if (auto s = serialize(tx, rt->owner); !s) { return s; }
      auto n = resolve(tx, rt->owner, rt->path);
      if (!n) { return n.error(); }
      if (type == ShareType::user && share_with == rt->owner) { return make_error(Errc::invalid_argument, "This file is already theirs"); }
      int perms = n->folder ? permissions : (permissions & ~(kPermCreate | kPermDelete));
      auto dup = tx.one("SELECT id FROM box_shares WHERE node_id = $1 AND share_type = $2 AND share_with = $3",
                        {Value{n->id}, Value{static_cast<std::int64_t>(type)}, Value{share_with}});
      if (!dup) { return dup.error(); }
      if (*dup) { return make_error(Errc::already_exists, "This file or folder is already shared with them"); }
      auto now = unix_seconds(clock_.now());
      auto id = tx.one(
          "INSERT INTO box_shares (owner, initiator, node_id, share_type, share_with, permissions, created_s) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
          {Value{rt->owner}, Value{user}, Value{n->id}, Value{static_cast<std::int64_t>(type)}, Value{share_with}, Value{std::int64_t{perms}}, Value{now}});
      if (!id) { return id.error(); }
      out = Share{(*id)->integer(0), type, rt->owner, user, share_with, n->id, perms, now, std::move(*n), {}};
      const std::string with = (type == ShareType::group ? "group " : "") + name_of(share_with, type == ShareType::group);
      if (auto a = record_activity(tx, ActivityEntry{0, rt->owner, user, ActivityKind::shared, out.node.id, out.node.folder, out.node.path, {}, now,
                                                     with.substr(0, 255)});
          !a) {
        return a;
      }
      if (type == ShareType::user) {
        if (auto r = make_root(tx, share_with); !r) { return r; }
        if (auto m = add_mount(tx, share_with, out.id); !m) { return m; }
      }
      // The shared node's ancestors change for its owner (Nextcloud clients show share marks).
      return touch(tx, out.node.parent, 0);
    });
    if (!st) { co_return st.error(); }
    ++shares_made_;
    co_return out;
  }

  boost::asio::awaitable<Result<std::vector<Share>>> shares(std::string user, std::optional<std::int64_t> node_id) override {
    std::vector<Share> out;
    auto st = co_await meta_.read([&](Tx& tx) -> Status {
      out.clear();
      auto rows = node_id ? tx.query(std::string(kShareSelect) + " WHERE (owner = $1 OR initiator = $1) AND node_id = $2 ORDER BY id DESC",
                                     {Value{user}, Value{*node_id}})
                          : tx.query(std::string(kShareSelect) + " WHERE owner = $1 OR initiator = $1 ORDER BY id DESC", {Value{user}});
      if (!rows) { return rows.error(); }
      for (const auto& r : rows->rows) {
        auto sh = share_from(tx, r);
        if (!sh) {
          if (sh.error().code == Errc::not_found) { continue; }  // its node is in the trash
          return sh.error();
        }
        out.push_back(std::move(*sh));
      }
      return {};
    });
    if (!st) { co_return st.error(); }
    co_return out;
  }

  boost::asio::awaitable<Result<std::vector<Share>>> received_shares(std::string user) override {
    if (auto st = co_await ensure_root(user); !st) { co_return st.error(); }
    std::vector<Share> out;
    auto st = co_await meta_.read([&](Tx& tx) -> Status {
      out.clear();
      auto mounts = tx.query("SELECT id, mount_share FROM box_nodes WHERE owner = $1 AND mount_share IS NOT NULL ORDER BY mount_share DESC", {Value{user}});
      if (!mounts) { return mounts.error(); }
      for (const auto& m : mounts->rows) {
        auto mp = path_of(tx, user, m.integer(0));
        if (!mp) { continue; }
        auto sh = received(tx, user, m.integer(1), *mp);
        if (sh) { out.push_back(std::move(*sh)); }
      }
      return {};
    });
    if (!st) { co_return st.error(); }
    co_return out;
  }

  boost::asio::awaitable<Result<Share>> share(std::string user, std::int64_t id) override {
    Share out;
    auto st = co_await meta_.read([&](Tx& tx) -> Status {
      auto sh = visible_share(tx, user, id);
      if (!sh) { return sh.error(); }
      out = std::move(*sh);
      return {};
    });
    if (!st) { co_return st.error(); }
    co_return out;
  }

  boost::asio::awaitable<Result<Share>> update_share(std::string user, std::int64_t id, int permissions) override {
    if (auto v = check_share_permissions(permissions); !v) { co_return v.error(); }
    Share out;
    auto st = co_await meta_.transact([&](Tx& tx) -> Status {
      auto sh = visible_share(tx, user, id);
      if (!sh) { return sh.error(); }
      if (sh->owner != user && sh->initiator != user) { return make_error(Errc::forbidden, "Only who made a share can change it"); }
      if (auto s = serialize(tx, sh->owner); !s) { return s; }
      int perms = sh->node.folder ? permissions : (permissions & ~(kPermCreate | kPermDelete));
      if (sh->initiator != sh->owner) {
        // A reshare stays within what its initiator may do.
        auto theirs = reach(tx, sh->initiator, sh->node_id);
        if (!theirs) { return make_error(Errc::forbidden, "The share it was made through is gone"); }
        if (perms & ~theirs->second.permissions) {
          return make_error(Errc::invalid_argument, "A reshare cannot give more permissions than the share it comes through");
        }
      }
      auto u = tx.exec("UPDATE box_shares SET permissions = $1 WHERE id = $2", {Value{std::int64_t{perms}}, Value{id}});
      if (!u) { return u.error(); }
      // Reshares made through it keep at most its permissions.
      auto re = tx.exec("UPDATE box_shares SET permissions = permissions & $1 WHERE owner = $2 AND initiator = $3 AND id <> $4",
                        {Value{std::int64_t{perms}}, Value{sh->owner}, Value{sh->share_with}, Value{id}});
      if (!re) { return re.error(); }
      sh->permissions = perms;
      out = std::move(*sh);
      // Recipients' clients re-read permissions with the etags.
      return touch(tx, out.node.id, 0);
    });
    if (!st) { co_return st.error(); }
    co_return out;
  }

  boost::asio::awaitable<Status> delete_share(std::string user, std::int64_t id) override {
    co_return co_await meta_.transact([&](Tx& tx) -> Status {
      auto sh = visible_share(tx, user, id);
      if (!sh) { return sh.error(); }
      if (sh->owner == user || sh->initiator == user) {
        if (auto s = serialize(tx, sh->owner); !s) { return s; }
        if (auto d = drop_share(tx, id); !d) { return d; }
        return touch(tx, sh->node.parent, 0);
      }
      return decline(tx, user, id);
    });
  }

  // --- activity and notifications ------------------------------------------------------------
  boost::asio::awaitable<Result<ActivityPage>> activity(std::string user, ActivityQuery query) override {
    ActivityPage out;
    auto st = co_await meta_.read([&](Tx& tx) -> Status {
      auto page = list_activity(tx, user, query);
      if (!page) { return page.error(); }
      out = std::move(*page);
      return {};
    });
    if (!st) { co_return st.error(); }
    co_return out;
  }
  boost::asio::awaitable<Result<std::vector<Notification>>> notifications(std::string user) override {
    std::vector<Notification> out;
    auto st = co_await meta_.read([&](Tx& tx) -> Status {
      auto list = list_notifications(tx, user);
      if (!list) { return list.error(); }
      out = std::move(*list);
      return {};
    });
    if (!st) { co_return st.error(); }
    co_return out;
  }
  boost::asio::awaitable<Status> dismiss_notification(std::string user, std::int64_t id) override {
    co_return co_await meta_.transact([&](Tx& tx) { return delete_notification(tx, user, id); });
  }
  boost::asio::awaitable<Status> dismiss_notifications(std::string user) override {
    co_return co_await meta_.transact([&](Tx& tx) { return delete_notifications(tx, user); });
  }

  // --- maintenance ----------------------------------------------------------------------------
  boost::asio::awaitable<Result<std::size_t>> reap(std::size_t limit) override {
    std::size_t done = 0;
    std::vector<std::string> drop;
    auto now = now_s();
    auto st = co_await meta_.transact([&](Tx& tx) -> Status {
      drop.clear();
      done = 0;
      auto old = tx.query("SELECT id FROM box_nodes WHERE trashed_s IS NOT NULL AND trashed_s < $1 LIMIT " + std::to_string(limit),
                          {Value{now - config_.trash_retention.count()}});
      if (!old) { return old.error(); }
      for (const auto& r : old->rows) {
        if (auto p = purge_subtree(tx, r.integer(0), drop); !p) { return p; }
        ++done;
      }
      auto vs = tx.query("SELECT id, content_id FROM box_versions WHERE created_s < $1 LIMIT " + std::to_string(limit),
                         {Value{now - config_.version_retention.count()}});
      if (!vs) { return vs.error(); }
      for (const auto& r : vs->rows) {
        auto d = tx.exec("DELETE FROM box_versions WHERE id = $1", {Value{r.integer(0)}});
        if (!d) { return d.error(); }
        if (auto rel = release(tx, r.integer(1), drop); !rel) { return rel; }
        ++done;
      }
      auto ups = tx.query("SELECT owner, transfer FROM box_uploads WHERE created_s < $1 LIMIT " + std::to_string(limit),
                          {Value{now - config_.upload_expiry.count()}});
      if (!ups) { return ups.error(); }
      for (const auto& r : ups->rows) {
        auto keys = tx.query("SELECT blob_key FROM box_upload_chunks WHERE owner = $1 AND transfer = $2", {Value{r.text(0)}, Value{r.text(1)}});
        if (!keys) { return keys.error(); }
        for (const auto& k : keys->rows) { drop.push_back(k.text(0)); }
        for (const char* sql : {"DELETE FROM box_upload_chunks WHERE owner = $1 AND transfer = $2", "DELETE FROM box_uploads WHERE owner = $1 AND transfer = $2"}) {
          auto d = tx.exec(sql, {Value{r.text(0)}, Value{r.text(1)}});
          if (!d) { return d.error(); }
        }
        ++done;
      }
      auto f = tx.exec("DELETE FROM box_login_flows WHERE created_s < $1", {Value{now - kLoginFlowSeconds}});
      if (!f) { return f.error(); }
      auto l = tx.exec("DELETE FROM box_locks WHERE expires_s > 0 AND expires_s < $1", {Value{now}});
      if (!l) { return l.error(); }
      if (config_.activity_retention.count() > 0) {
        auto a = expire_activity(tx, unix_seconds(clock_.now()) - config_.activity_retention.count(), limit);
        if (!a) { return a.error(); }
        done += *a;
      }
      return {};
    });
    if (!st) { co_return st.error(); }
    co_await remove_blobs(std::move(drop));
    co_return done;
  }

 private:
  // --- shares -------------------------------------------------------------------------------
  static constexpr std::string_view kShareSelect =
      "SELECT id, share_type, owner, initiator, share_with, node_id, permissions, created_s FROM box_shares";

  // A row of kShareSelect with its node as the owner sees it; Errc::not_found when the node is not live.
  Result<Share> share_from(Tx& tx, const Row& r) {
    Share sh{r.integer(0), static_cast<ShareType>(r.integer(1)), r.text(2), r.text(3), r.text(4), r.integer(5), static_cast<int>(r.integer(6)),
             r.integer(7), {}, {}};
    auto path = path_of(tx, sh.owner, sh.node_id);
    if (!path) { return path.error(); }
    auto n = resolve_id(tx, sh.node_id, *path);
    if (!n) { return n.error(); }
    sh.node = std::move(*n);
    return sh;
  }

  // Share `sid` as its recipient `user` has it, mounted at `mount_path`.
  Result<Share> received(Tx& tx, const std::string& user, std::int64_t sid, const std::string& mount_path) {
    auto r = tx.one(std::string(kShareSelect) + " WHERE id = $1", {Value{sid}});
    if (!r) { return r.error(); }
    if (!*r) { return make_error(Errc::not_found, "No such share"); }
    if (!share_reaches(tx, sid, (*r)->integer(1), (*r)->text(4), user)) { return make_error(Errc::not_found, "No such share"); }
    auto sh = share_from(tx, **r);
    if (!sh) { return sh.error(); }
    sh->mount_path = mount_path;
    return sh;
  }

  // A share `user` made, owns or received; Errc::not_found for any other.
  Result<Share> visible_share(Tx& tx, const std::string& user, std::int64_t id) {
    auto r = tx.one(std::string(kShareSelect) + " WHERE id = $1", {Value{id}});
    if (!r) { return r.error(); }
    if (!*r) { return make_error(Errc::not_found, "No such share"); }
    if ((*r)->text(2) == user || (*r)->text(3) == user) { return share_from(tx, **r); }
    auto m = tx.one("SELECT id FROM box_nodes WHERE owner = $1 AND mount_share = $2", {Value{user}, Value{id}});
    if (!m) { return m.error(); }
    std::string mount_path;
    if (*m) {
      auto mp = path_of(tx, user, (*m)->integer(0));
      if (mp) { mount_path = *mp; }
    }
    return received(tx, user, id, mount_path);
  }

  static Status check_share_permissions(int permissions) {
    if (permissions < kPermRead || permissions > kPermAll || !(permissions & kPermRead)) {
      return make_error(Errc::invalid_argument, "Share permissions are a sum of 1 (read, required), 2 (update), 4 (create), 8 (delete) and 16 (share)");
    }
    return {};
  }

  // --- links ---------------------------------------------------------------------------------
  static constexpr std::string_view kLinkSelect =
      "SELECT id, token, owner, node_id, permissions, password_hash, expires_s, downloads, created_s, label FROM box_links";

  // A row of kLinkSelect with its node; Errc::not_found when the node is not live.
  Result<Link> link_from(Tx& tx, const Row& r) {
    Link l;
    l.id = r.integer(0);
    l.token = r.text(1);
    l.owner = r.text(2);
    l.node_id = r.integer(3);
    l.access = link_access_from(static_cast<int>(r.integer(4))).value_or(LinkAccess::read);
    if (!r.is_null(5)) { l.password_hash = r.text(5); }
    if (!r.is_null(6)) { l.expires_s = r.integer(6); }
    l.downloads = static_cast<std::uint64_t>(r.integer(7));
    l.created_s = r.integer(8);
    l.label = r.text(9);
    auto path = path_of(tx, l.owner, l.node_id);
    if (!path) { return path.error(); }
    auto n = resolve_id(tx, l.node_id, *path);
    if (!n) { return n.error(); }
    l.node = std::move(*n);
    return l;
  }

  // The user's link `id`: Errc::not_found (none, or its node is not live), Errc::forbidden (another user's).
  Result<Link> owned_link(Tx& tx, const std::string& user, std::int64_t id) {
    auto r = tx.one(std::string(kLinkSelect) + " WHERE id = $1", {Value{id}});
    if (!r) { return r.error(); }
    if (!*r) { return make_error(Errc::not_found, std::string(kNoSuchLink)); }
    if ((*r)->text(2) != user) { return make_error(Errc::forbidden, "This link is not yours"); }
    auto l = link_from(tx, **r);
    if (!l) { return l.error().code == Errc::not_found ? make_error(Errc::not_found, std::string(kNoSuchLink)) : l.error(); }
    return l;
  }

  Status check_link_fields(const std::optional<std::string>& password, std::optional<std::int64_t> expires_s, const std::string& label) {
    if (password && (password->empty() || password->size() > 1024)) {
      return make_error(Errc::invalid_argument, "A link password must be 1 to 1024 bytes");
    }
    if (expires_s && *expires_s <= unix_seconds(clock_.now())) { return make_error(Errc::invalid_argument, "The expiry date is in the past"); }
    if (label.size() > 255) { return make_error(Errc::invalid_argument, "A link label is at most 255 bytes"); }
    return {};
  }

  // The argon2id hasher for link passwords, made on first use (its first hash is a calibration
  // dummy) on the blocking pool.
  boost::asio::awaitable<const identity::password::Hasher*> password_hasher() {
    co_return co_await run_blocking([this]() -> const identity::password::Hasher* {
      std::call_once(hasher_once_, [this] {
        hasher_ = std::make_unique<identity::password::Hasher>(
            identity::password::HashParams{config_.argon2_memory_kib, config_.argon2_iterations, 1}, 2);
      });
      return hasher_.get();
    });
  }

  boost::asio::awaitable<std::string> hash_password(std::string password) {
    const auto* h = co_await password_hasher();
    co_return co_await h->async_hash(std::move(password));
  }

  // --- activity (activity.h) -------------------------------------------------------------------
  // Records `kind` on `n` in `user`'s stream, in `tx`: paths relative to root() become paths from
  // the user's root; in a link's view the actor is the link's anonymous visitor ("").
  // With `via` a route through a share, the change is its caller's: in the owner's stream with the
  // caller as actor, and in the caller's own stream with their paths.
  Status note(Tx& tx, const std::string& user, ActivityKind kind, const Node& n, std::string detail = {}, const std::string& old_path = {},
              const Route* via = nullptr) {
    auto path = full_path(tx, user, n.path);
    if (!path) { return path.error(); }
    auto old = old_path.empty() ? Result<std::string>(std::string()) : full_path(tx, user, old_path);
    if (!old) { return old.error(); }
    const bool shared = via != nullptr && via->shared();
    const std::string actor = anchor_ != 0 ? "" : shared ? via->caller : user;
    const auto now = unix_seconds(clock_.now());
    if (auto a = record_activity(tx, ActivityEntry{0, user, actor, kind, n.id, n.folder, *path, *old, now, detail}); !a) { return a; }
    if (!shared || !contains(via->base, *path) || (!old->empty() && !contains(via->base, *old))) { return {}; }
    return record_activity(tx, ActivityEntry{0, via->caller, actor, kind, n.id, n.folder, via->outward(*path),
                                             old->empty() ? std::string() : via->outward(*old), now, std::move(detail)});
  }
  // A download of `file_id` through link `link_id`, in the link owner's stream (the visitor is
  // anonymous); nothing when the link or the file is gone (or the file is not the owner's).
  Status note_download(Tx& tx, std::int64_t link_id, std::int64_t file_id) {
    auto l = tx.one("SELECT owner FROM box_links WHERE id = $1", {Value{link_id}});
    if (!l) { return l.error(); }
    if (!*l) { return {}; }
    std::string owner = (*l)->text(0);
    auto path = path_of(tx, owner, file_id);
    if (!path) { return path.error().code == Errc::not_found ? Status{} : Status{path.error()}; }
    auto n = resolve_id(tx, file_id, *path);
    if (!n) { return n.error(); }
    return record_activity(tx, ActivityEntry{0, owner, "", ActivityKind::link_downloaded, n->id, n->folder, *path, {}, unix_seconds(clock_.now()),
                                             std::to_string(link_id)});
  }

  // --- move and copy ----------------------------------------------------------------------------
  // MOVE and COPY. Within one tree (the caller's own, or one owner's through shares) a move is one
  // row update and a copy shares contents. Between two trees (into or out of a share) both copy
  // the nodes, contents shared, into the destination's tree; a move then puts the source in its
  // owner's trash. Through a share: moving out needs delete (renaming in place: update), moving
  // or copying in needs create (update to replace). A mount point moves only within its
  // recipient's own folders.
  boost::asio::awaitable<Result<WriteResult>> transfer(std::string user, std::string from, std::string to, bool overwrite, bool recursive,
                                                       bool move) {
    auto src = normalize_path(from);
    if (!src) { co_return src.error(); }
    auto dst = normalize_path(to);
    if (!dst) { co_return dst.error(); }
    if (dst->empty() || (move && src->empty())) {
      co_return make_error(Errc::forbidden, move ? "The root of a box cannot be moved or replaced" : "The root of a box cannot be replaced");
    }
    if (*src == *dst) { co_return make_error(Errc::forbidden, "The source and the destination are the same"); }
    if (contains(*src, *dst) || contains(*dst, *src)) { co_return make_error(Errc::conflict, std::string(kIntoItself)); }
    if (auto st = co_await ensure_root(user); !st) { co_return st.error(); }
    WriteResult out;
    std::vector<std::string> drop;
    auto st = co_await meta_.transact([&](Tx& tx) -> Status {
      drop.clear();
      auto rs = route(tx, user, *src);
      if (!rs) { return rs.error(); }
      auto rd = route(tx, user, *dst);
      if (!rd) { return rd.error(); }
      if (rd->at_mount) { return make_error(Errc::forbidden, "A share's mount point cannot be replaced"); }
      if (rs->at_mount) {
        if (!move) { rs->at_mount = false; }  // copying a share copies what it shows
        else if (rd->shared()) { return make_error(Errc::forbidden, "A share cannot be moved into a share"); }
        else { *rs = Route{user, *src}; }  // the mount point itself, in the caller's tree
      }
      const bool same_tree = rs->owner == rd->owner;
      if (same_tree && (contains(rs->path, rd->path) || contains(rd->path, rs->path))) {
        return make_error(Errc::conflict, std::string(kIntoItself));
      }
      // Each owner's writes one after another; two owners in one order, so two transfers in
      // opposite directions cannot wait on each other.
      auto first = std::min(rs->owner, rd->owner), second = std::max(rs->owner, rd->owner);
      if (auto s = serialize(tx, first); !s) { return s; }
      if (!same_tree) {
        if (auto s = serialize(tx, second); !s) { return s; }
      }
      auto node = resolve(tx, rs->owner, rs->path);
      if (!node) { return node.error(); }
      auto parent = resolve_parent(tx, rd->owner, rd->path);
      if (!parent) { return parent.error(); }
      auto existing = find_child(tx, parent->id, leaf_name(rd->path), rd->path);
      if (!existing) { return existing.error(); }
      if (*existing && (*existing)->mount) { return make_error(Errc::forbidden, "A share's mount point cannot be replaced"); }
      // Renaming in place changes the node, not its folder's members: update is enough.
      const bool rename = move && same_tree && parent->id == node->parent;
      if (move) {
        if (auto ok = rs->need(rename ? kPermUpdate : kPermDelete); !ok) { return ok; }
      }
      if (auto ok = rd->need(*existing ? kPermUpdate : rename ? 0 : kPermCreate); !ok) { return ok; }
      out.created = !existing->has_value();
      const bool in_place = move && same_tree;
      std::uint64_t copied = node->folder && !recursive ? 0 : node->size;
      if (!in_place) {
        if (auto q = check_quota(tx, rd->owner, copied, *existing ? (*existing)->size : 0); !q) { return q; }
      }
      if (*existing) {
        if (!overwrite) { return make_error(Errc::precondition_failed, std::string(kAlreadyExists)); }
        if (auto t = trash_node(tx, rd->owner, **existing, drop); !t) { return t; }
      }
      std::int64_t id = node->id;
      if (in_place) {
        auto u = tx.exec("UPDATE box_nodes SET parent = $1, name = $2 WHERE id = $3", {Value{parent->id}, Value{leaf_name(rd->path)}, Value{node->id}});
        if (!u) { return u.error(); }
        if (auto t = touch(tx, node->parent, -static_cast<std::int64_t>(node->size)); !t) { return t; }
        if (auto t = touch(tx, parent->id, static_cast<std::int64_t>(node->size)); !t) { return t; }
        auto src_full = full_path(tx, rs->owner, rs->path);
        if (!src_full) { return src_full.error(); }
        if (auto t = drop_locks_beneath(tx, rs->owner, *src_full); !t) { return t; }
      } else {
        auto made = copy_tree(tx, rd->owner, *node, parent->id, leaf_name(rd->path), recursive);
        if (!made) { return made.error(); }
        id = *made;
        if (auto t = touch(tx, parent->id, static_cast<std::int64_t>(copied)); !t) { return t; }
        if (move) {
          if (auto t = trash_node(tx, rs->owner, *node, drop, &*rs); !t) { return t; }
        }
      }
      auto made = resolve_id(tx, id, rd->path);
      if (!made) { return made.error(); }
      out.node = std::move(*made);
      ActivityKind kind = !in_place ? ActivityKind::file_created
                          : parent_path(rs->path) == parent_path(rd->path) ? ActivityKind::file_renamed
                                                                           : ActivityKind::file_moved;
      if (auto a = note(tx, rd->owner, kind, out.node, {}, in_place ? rs->path : std::string(), &*rd); !a) { return a; }
      rd->present(out.node);
      return {};
    });
    if (!st) { co_return st.error(); }
    co_await remove_blobs(std::move(drop));
    co_return out;
  }

  // --- routes through mount points ------------------------------------------------------------
  // Where a caller's path lives: their own tree, or through a mount point the tree of a share's
  // owner. Each call routes first and then works in `owner`'s tree with `path`; what it returns
  // is presented back in the caller's terms.
  struct Route {
    std::string owner, path;
    std::string caller;         // whose request it is
    std::int64_t share_id = 0;  // 0: the caller's own tree
    int permissions = kPermAll;
    std::string mount_path;     // the mount point in the caller's tree
    std::string base;           // the shared node's path in the owner's tree
    bool at_mount = false;      // the path is the mount point itself

    bool shared() const { return share_id != 0; }
    // An owner's path beneath `base` as the caller sees it.
    std::string outward(const std::string& owner_path) const {
      if (!shared()) { return owner_path; }
      if (owner_path.size() <= base.size()) { return mount_path; }
      return mount_path + owner_path.substr(base.size());
    }
    void present(Node& n) const {
      if (!shared()) { return; }
      n.path = outward(n.path);
      n.share_id = share_id;
      n.mount = n.path == mount_path;
      // Nextcloud gives files no create permission; a share's permissions bound everything in it.
      n.permissions = n.folder ? permissions : (permissions & ~kPermCreate);
    }
    Status need(int bits) const {
      if ((permissions & bits) == bits) { return {}; }
      return make_error(Errc::forbidden, "This share does not allow it");
    }
  };

  // Does share `share_id` (of `type`, with `with`) reach `user`?
  bool share_reaches(Tx& tx, std::int64_t share_id, std::int64_t type, const std::string& with, const std::string& user) {
    if (type == static_cast<std::int64_t>(ShareType::user)) { return with == user; }
    if (!directory_.groups_of) { return false; }
    auto groups = directory_.groups_of(user);
    if (std::find(groups.begin(), groups.end(), with) == groups.end()) { return false; }
    auto d = tx.one("SELECT 1 FROM box_share_declines WHERE share_id = $1 AND user_id = $2", {Value{share_id}, Value{user}});
    return d && !*d;
  }

  Result<Route> route(Tx& tx, const std::string& user, const std::string& path) {
    Route r{user, path, user};
    if (anchor_ != 0 || path.empty()) { return r; }  // links see no mount points; the root is never one
    auto mounts = tx.query("SELECT id, mount_share FROM box_nodes WHERE owner = $1 AND mount_share IS NOT NULL", {Value{user}});
    if (!mounts) { return mounts.error(); }
    for (const auto& m : mounts->rows) {
      auto mp = path_of(tx, user, m.integer(0));
      if (!mp) {
        if (mp.error().code == Errc::not_found) { continue; }  // in the trash with its folder
        return mp.error();
      }
      if (!contains(*mp, path)) { continue; }
      std::int64_t sid = m.integer(1);
      auto sh = tx.one("SELECT owner, node_id, share_type, share_with, permissions FROM box_shares WHERE id = $1", {Value{sid}});
      if (!sh) { return sh.error(); }
      if (!*sh || !share_reaches(tx, sid, (*sh)->integer(2), (*sh)->text(3), user)) { return make_error(Errc::not_found, "No such file or folder"); }
      auto base = path_of(tx, (*sh)->text(0), (*sh)->integer(1));
      if (!base) { return make_error(Errc::not_found, "No such file or folder"); }
      r.owner = (*sh)->text(0);
      r.share_id = sid;
      r.permissions = static_cast<int>((*sh)->integer(4));
      r.mount_path = *mp;
      r.base = *base;
      r.at_mount = *mp == path;
      r.path = r.at_mount ? *base : *base + path.substr(mp->size());
      return r;
    }
    return r;
  }

  // route() in its own read transaction, for calls that route before they write.
  boost::asio::awaitable<Result<Route>> route(const std::string& user, const std::string& path) {
    Route out;
    auto st = co_await meta_.read([&](Tx& tx) -> Status {
      auto r = route(tx, user, path);
      if (!r) { return r.error(); }
      out = std::move(*r);
      return {};
    });
    if (!st) { co_return st.error(); }
    co_return out;
  }

  // Node `id` as `user` reaches it: in their own tree, or inside a share they received (through its
  // nearest shared ancestor that has a mount point in their tree). Errc::not_found otherwise.
  Result<std::pair<Node, Route>> reach(Tx& tx, const std::string& user, std::int64_t id) {
    auto own = path_of(tx, user, id);
    if (own) {
      auto n = resolve_id(tx, id, *own);
      if (!n) { return n.error(); }
      if (n->mount) { return make_error(Errc::not_found, "No such file or folder"); }  // route() shows what a mount point names
      return std::pair<Node, Route>{std::move(*n), Route{user, *own}};
    }
    if (own.error().code != Errc::not_found || anchor_ != 0) { return own.error(); }
    std::int64_t cur = id;
    for (int depth = 0; depth < 10000 && cur != 0; ++depth) {
      auto shares = tx.query("SELECT s.id, m.id FROM box_shares s JOIN box_nodes m ON m.mount_share = s.id AND m.owner = $2 WHERE s.node_id = $1",
                             {Value{cur}, Value{user}});
      if (!shares) { return shares.error(); }
      for (const auto& sh : shares->rows) {
        auto mp = path_of(tx, user, sh.integer(1));
        if (!mp) { continue; }
        auto base_route = route(tx, user, *mp);
        if (!base_route || !base_route->shared()) { continue; }
        auto owner_path = path_of(tx, base_route->owner, id);
        if (!owner_path || !contains(base_route->base, *owner_path)) { continue; }
        Route rt = *base_route;
        rt.path = *owner_path;
        rt.at_mount = *owner_path == rt.base;
        auto n = resolve_id(tx, id, *owner_path);
        if (!n) { return n.error(); }
        rt.present(*n);
        return std::pair<Node, Route>{std::move(*n), std::move(rt)};
      }
      auto up = tx.one("SELECT parent FROM box_nodes WHERE id = $1", {Value{cur}});
      if (!up) { return up.error(); }
      if (!*up || (*up)->is_null(0)) { break; }
      cur = (*up)->integer(0);
    }
    return make_error(Errc::not_found, "No such file or folder");
  }

  // A folder listing as the caller sees it: inside a share, the owner's own mount points are
  // hidden; in the caller's tree, each mount point shows the shared node (under the mount's name).
  Status present_children(Tx& tx, const std::string& user, const Route& rt, std::vector<Node>& kids) {
    if (!rt.shared() && std::none_of(kids.begin(), kids.end(), [](const Node& k) { return k.mount; })) { return {}; }
    std::vector<Node> out;
    out.reserve(kids.size());
    for (auto& k : kids) {
      if (!k.mount) {
        rt.present(k);
        out.push_back(std::move(k));
        continue;
      }
      if (rt.shared()) { continue; }
      auto inner = route(tx, user, k.path);
      if (!inner) {
        if (inner.error().code == Errc::not_found) { continue; }  // revoked, or no longer a member
        return inner.error();
      }
      auto n = resolve(tx, inner->owner, inner->path);
      if (!n) { continue; }
      inner->present(*n);
      n->name = k.name;
      out.push_back(std::move(*n));
    }
    kids = std::move(out);
    return {};
  }

  // Received shares without a mount point for `user` get one at the root (a group share
  // appears here the first time a member looks at their root after it was made).
  boost::asio::awaitable<Status> sync_mounts(const std::string& user) {
    if (anchor_ != 0) { co_return Status{}; }
    std::vector<std::string> groups;
    if (directory_.groups_of) { groups = directory_.groups_of(user); }
    std::vector<std::int64_t> missing;
    auto st = co_await meta_.read([&](Tx& tx) -> Status {
      missing.clear();
      auto rows = pending_shares(tx, user, groups);
      if (!rows) { return rows.error(); }
      missing = std::move(*rows);
      return {};
    });
    if (!st || missing.empty()) { co_return st; }
    co_return co_await meta_.transact([&](Tx& tx) -> Status {
      if (auto s = serialize(tx, user); !s) { return s; }
      auto rows = pending_shares(tx, user, groups);
      if (!rows) { return rows.error(); }
      for (auto sid : *rows) {
        if (auto m = add_mount(tx, user, sid); !m) { return m; }
      }
      return {};
    });
  }

  Result<std::vector<std::int64_t>> pending_shares(Tx& tx, const std::string& user, const std::vector<std::string>& groups) {
    std::string sql =
        "SELECT s.id FROM box_shares s WHERE ((s.share_type = 0 AND s.share_with = $1)";
    std::vector<Value> args{Value{user}};
    if (!groups.empty()) {
      sql += " OR (s.share_type = 1 AND s.share_with IN (";
      for (std::size_t i = 0; i < groups.size(); ++i) {
        sql += (i ? ", $" : "$") + std::to_string(i + 2);
        args.push_back(Value{groups[i]});
      }
      sql += "))";
    }
    sql += ") AND s.owner <> $1 AND NOT EXISTS (SELECT 1 FROM box_nodes m WHERE m.owner = $1 AND m.mount_share = s.id) "
           "AND NOT EXISTS (SELECT 1 FROM box_share_declines d WHERE d.share_id = s.id AND d.user_id = $1)";
    auto rows = tx.query(sql, args);
    if (!rows) { return rows.error(); }
    std::vector<std::int64_t> out;
    for (const auto& r : rows->rows) { out.push_back(r.integer(0)); }
    return out;
  }

  std::string name_of(const std::string& id, bool group = false) const {
    std::string name = directory_.name_of ? directory_.name_of(id, group) : std::string();
    return name.empty() ? id : name;
  }

  // A mount point for share `sid` at `user`'s root, named as the shared node (or "name (2)"...);
  // the recipient's activity entry and notification go with it.
  Status add_mount(Tx& tx, const std::string& user, std::int64_t sid) {
    auto sh = tx.one("SELECT owner, node_id, initiator FROM box_shares WHERE id = $1", {Value{sid}});
    if (!sh) { return sh.error(); }
    if (!*sh) { return {}; }
    auto path = path_of(tx, (*sh)->text(0), (*sh)->integer(1));
    if (!path) { return path.error().code == Errc::not_found ? Status{} : Status{path.error()}; }  // in the owner's trash
    auto node = resolve_id(tx, (*sh)->integer(1), *path);
    if (!node) { return node.error(); }
    auto home_node = home(tx, user);
    if (!home_node) { return home_node.error(); }
    auto existing = find_child(tx, home_node->id, node->name, node->name);
    if (!existing) { return existing.error(); }
    std::string name = node->name;
    if (*existing) {
      auto free = free_name(tx, home_node->id, "", node->name);
      if (!free) { return free.error(); }
      name = *free;
    }
    auto now = now_s();
    auto r = tx.exec(
        "INSERT INTO box_nodes (owner, parent, name, folder, size, mtime, etag, created_s, mount_share) VALUES ($1, $2, $3, $4, 0, $5, $6, $5, $7)",
        {Value{user}, Value{home_node->id}, Value{name}, Value{std::int64_t{node->folder}}, Value{now}, Value{new_etag()}, Value{sid}});
    if (!r) { return r.error(); }
    const std::string initiator = (*sh)->text(2);
    const std::string who = name_of(initiator);
    auto a = record_activity(tx, ActivityEntry{0, user, initiator, ActivityKind::shared, node->id, node->folder, name, {}, unix_seconds(clock_.now()),
                                               who.substr(0, 255)});
    if (!a) { return a; }
    auto n = notify(tx, Notification{0, user, "files_sharing", (who + " shared \u201c" + node->name + "\u201d with you").substr(0, 1000),
                                     node->folder ? "The folder is in your files as \u201c" + name + "\u201d." : "The file is in your files as \u201c" + name + "\u201d.",
                                     "files", std::to_string(node->id), "/" + name, unix_seconds(clock_.now())});
    if (!n) { return n.error(); }
    return touch(tx, home_node->id, 0);
  }

  // `user` no longer wants share `sid`: a user share goes, a group share stays for the others.
  Status decline(Tx& tx, const std::string& user, std::int64_t sid) {
    auto sh = tx.one("SELECT share_type FROM box_shares WHERE id = $1", {Value{sid}});
    if (!sh) { return sh.error(); }
    if (!*sh) { return drop_mounts(tx, sid, user); }
    if ((*sh)->integer(0) == static_cast<std::int64_t>(ShareType::user)) { return drop_share(tx, sid); }
    auto d = tx.exec("INSERT INTO box_share_declines (share_id, user_id) VALUES ($1, $2) ON CONFLICT (share_id, user_id) DO NOTHING",
                     {Value{sid}, Value{user}});
    if (!d) { return d.error(); }
    return drop_mounts(tx, sid, user);
  }

  // Revokes share `sid`: its mount points, its declines, and the reshares its recipients made of
  // what it covers.
  Status drop_share(Tx& tx, std::int64_t sid) {
    auto sh = tx.one("SELECT owner, node_id, share_type, share_with FROM box_shares WHERE id = $1", {Value{sid}});
    if (!sh) { return sh.error(); }
    if (!*sh) { return {}; }
    const std::string owner = (*sh)->text(0);
    const std::int64_t top = (*sh)->integer(1);
    const bool user_share = (*sh)->integer(2) == static_cast<std::int64_t>(ShareType::user);
    const std::string with = (*sh)->text(3);
    if (auto m = drop_mounts(tx, sid); !m) { return m; }
    if (auto path = path_of(tx, owner, top)) {  // not when its node is being purged
      auto n = resolve_id(tx, top, *path);
      if (!n) { return n.error(); }
      const std::string who = (user_share ? "" : "group ") + name_of(with, !user_share);
      auto a = record_activity(tx, ActivityEntry{0, owner, owner, ActivityKind::unshared, top, n->folder, *path, {}, unix_seconds(clock_.now()),
                                                 who.substr(0, 255)});
      if (!a) { return a; }
    }
    for (const char* sql : {"DELETE FROM box_share_declines WHERE share_id = $1", "DELETE FROM box_shares WHERE id = $1"}) {
      auto d = tx.exec(sql, {Value{sid}});
      if (!d) { return d.error(); }
    }
    // Reshares: by the recipient of a user share, or by any member of a group share (the safe
    // side: a member resharing through another share too must reshare again).
    auto re = user_share ? tx.query("SELECT id, node_id FROM box_shares WHERE owner = $1 AND initiator = $2", {Value{owner}, Value{with}})
                         : tx.query("SELECT id, node_id FROM box_shares WHERE owner = $1 AND initiator <> $1", {Value{owner}});
    if (!re) { return re.error(); }
    for (const auto& r : re->rows) {
      auto under = beneath(tx, r.integer(1), top);
      if (!under) { return under.error(); }
      if (*under) {
        if (auto d = drop_share(tx, r.integer(0)); !d) { return d; }
      }
    }
    return {};
  }

  // Is node `id` `top` or inside it?
  Result<bool> beneath(Tx& tx, std::int64_t id, std::int64_t top) {
    std::int64_t cur = id;
    for (int depth = 0; depth < 10000 && cur != 0; ++depth) {
      if (cur == top) { return true; }
      auto r = tx.one("SELECT parent FROM box_nodes WHERE id = $1", {Value{cur}});
      if (!r) { return r.error(); }
      if (!*r || (*r)->is_null(0)) { return false; }
      cur = (*r)->integer(0);
    }
    return false;
  }

  // Removes every mount point of share `sid` (its recipients' folders get new etags).
  Status drop_mounts(Tx& tx, std::int64_t sid, std::optional<std::string> only_user = std::nullopt) {
    auto rows = only_user ? tx.query("SELECT id, parent FROM box_nodes WHERE mount_share = $1 AND owner = $2", {Value{sid}, Value{*only_user}})
                          : tx.query("SELECT id, parent FROM box_nodes WHERE mount_share = $1", {Value{sid}});
    if (!rows) { return rows.error(); }
    auto target = tx.one("SELECT node_id, initiator FROM box_shares WHERE id = $1", {Value{sid}});
    if (!target) { return target.error(); }
    for (const auto& r : rows->rows) {
      auto recipient = tx.one("SELECT owner, folder FROM box_nodes WHERE id = $1", {Value{r.integer(0)}});
      if (!recipient) { return recipient.error(); }
      auto mount_path = path_of(tx, (*recipient)->text(0), r.integer(0));
      if (*target && mount_path) {  // a mount point in the trash goes without an entry
        auto a = record_activity(tx, ActivityEntry{0, (*recipient)->text(0), (*target)->text(1), ActivityKind::unshared, (*target)->integer(0),
                                                   (*recipient)->boolean(1), *mount_path, {}, unix_seconds(clock_.now()), {}});
        if (!a) { return a; }
      }
      auto d = tx.exec("DELETE FROM box_nodes WHERE id = $1", {Value{r.integer(0)}});
      if (!d) { return d.error(); }
      if (!r.is_null(1)) {
        if (auto t = touch(tx, r.integer(1), 0); !t) { return t; }
      }
    }
    return {};
  }

  // --- helpers on a transaction ---------------------------------------------------------------
  // The user's root exists, and shares they received have their mount points: checked again when
  // a share was made on this node since, and at least every kMountCheck (group shares made on
  // another node, members added to a group).
  boost::asio::awaitable<Status> ensure_root(const std::string& user) {
    if (anchor_ != 0) { co_return Status{}; }  // a link's view: root() checks its node instead
    const auto gen = shares_made_.load();
    const auto now = std::chrono::steady_clock::now();
    bool known = false;
    {
      std::lock_guard lock(roots_mu_);
      if (auto it = roots_.find(user); it != roots_.end()) {
        known = true;
        if (it->second.first == gen && now - it->second.second < kMountCheck) { co_return Status{}; }
      }
    }
    if (!known) {
      auto st = co_await meta_.transact([&](Tx& tx) -> Status { return make_root(tx, user); });
      if (!st) { co_return st; }
    }
    if (auto st = co_await sync_mounts(user); !st) { co_return st; }
    std::lock_guard lock(roots_mu_);
    roots_[user] = {gen, now};
    co_return Status{};
  }

  Status make_root(Tx& tx, const std::string& user) {
    auto now = now_s();
    auto r = tx.exec(
        "INSERT INTO box_nodes (owner, parent, name, folder, size, mtime, etag, created_s) VALUES ($1, NULL, '', 1, 0, $2, $3, $2) "
        "ON CONFLICT (owner) WHERE parent IS NULL AND trashed_s IS NULL DO NOTHING",
        {Value{user}, Value{now}, Value{new_etag()}});
    if (!r) { return r.error(); }
    return {};
  }

  // PostgreSQL runs writers concurrently under READ COMMITTED, and the box's write transactions
  // read the tree, decide, then write (is the name free, which content is the file's, is the lock
  // taken, is the node still live). Each first takes its user's root row, so one user's writes run
  // one after another and each sees what the one before committed. Every write changes the root
  // (etag and size) anyway; SQLite has one writer at a time already.
  Status serialize(Tx& tx, const std::string& user) {
    auto r = tx.exec("UPDATE box_nodes SET size = size WHERE owner = $1 AND parent IS NULL AND trashed_s IS NULL", {Value{user}});
    if (!r) { return r.error(); }
    return {};
  }

  // The node paths are relative to: the user's root, or in a link's view its node, which must
  // still be live and the user's.
  Result<Node> root(Tx& tx, const std::string& user) {
    if (anchor_ == 0) { return home(tx, user); }
    auto path = path_of(tx, user, anchor_);
    if (!path) { return path.error(); }
    return resolve_id(tx, anchor_, "");
  }

  // A path relative to root() as a path from the user's root (what locks and the trash record).
  Result<std::string> full_path(Tx& tx, const std::string& user, const std::string& path) {
    if (anchor_ == 0) { return path; }
    auto base = path_of(tx, user, anchor_);
    if (!base) { return base.error(); }
    return path.empty() ? *base : join(*base, path);
  }

  // The first free name for `name` in `folder`: "name (2).ext", "name (3).ext"...
  Result<std::string> free_name(Tx& tx, std::int64_t folder, const std::string& dir, const std::string& name) {
    auto dot = name.rfind('.');
    std::string base = dot == std::string::npos || dot == 0 ? name : name.substr(0, dot);
    std::string ext = dot == std::string::npos || dot == 0 ? "" : name.substr(dot);
    for (int i = 2; i < 10000; ++i) {
      std::string candidate = base + " (" + std::to_string(i) + ")" + ext;
      auto n = normalize_name(candidate);
      if (!n) { return n.error(); }
      auto existing = find_child(tx, folder, *n, join(dir, *n));
      if (!existing) { return existing.error(); }
      if (!*existing) { return *n; }
    }
    return make_error(Errc::conflict, std::string(kAlreadyExists));
  }

  Result<Node> home(Tx& tx, const std::string& user) {
    auto r = tx.one(std::string("SELECT ") + std::string(kNodeCols) + " WHERE n.owner = $1 AND n.parent IS NULL AND n.trashed_s IS NULL", {Value{user}});
    if (!r) { return r.error(); }
    if (!*r) { return make_error(Errc::not_found, "This box does not exist yet"); }
    return node_from(**r, "");
  }

  Result<std::optional<Node>> find_child(Tx& tx, std::int64_t parent, const std::string& name, const std::string& path) {
    auto r = tx.one(std::string("SELECT ") + std::string(kNodeCols) + " WHERE n.parent = $1 AND n.name = $2", {Value{parent}, Value{name}});
    if (!r) { return r.error(); }
    if (!*r) { return std::optional<Node>{}; }
    return std::optional<Node>{node_from(**r, path)};
  }

  Result<Node> resolve(Tx& tx, const std::string& user, const std::string& path) {
    auto n = root(tx, user);
    if (!n) { return n.error(); }
    std::size_t i = 0;
    while (i < path.size()) {
      auto j = path.find('/', i);
      if (j == std::string::npos) { j = path.size(); }
      // A mount point is crossed by route(), never by a walk (whose tree would be the wrong one).
      if (!n->folder || n->mount) { return make_error(Errc::not_found, "No such file or folder"); }
      auto child = find_child(tx, n->id, path.substr(i, j - i), path.substr(0, j));
      if (!child) { return child.error(); }
      if (!*child) { return make_error(Errc::not_found, "No such file or folder"); }
      n = std::move(**child);
      i = j + 1;
    }
    return n;
  }

  // The folder a new `path` goes into.
  Result<Node> resolve_parent(Tx& tx, const std::string& user, const std::string& path) {
    std::string dir = parent_path(path);
    auto n = root(tx, user);
    if (!n) { return n.error(); }
    std::size_t i = 0;
    while (i < dir.size()) {
      auto j = dir.find('/', i);
      if (j == std::string::npos) { j = dir.size(); }
      auto child = find_child(tx, n->id, dir.substr(i, j - i), dir.substr(0, j));
      if (!child) { return child.error(); }
      if (!*child || (*child)->mount) { return make_error(Errc::not_found, std::string(kParentMissing)); }
      if (!(*child)->folder) { return make_error(Errc::conflict, std::string(kNotAFolder)); }
      n = std::move(**child);
      i = j + 1;
    }
    if (!n->folder) { return make_error(Errc::conflict, std::string(kNotAFolder)); }  // a link on a file
    return n;
  }

  Result<Node> resolve_id(Tx& tx, std::int64_t id, const std::string& path) {
    auto r = tx.one(std::string("SELECT ") + std::string(kNodeCols) + " WHERE n.id = $1", {Value{id}});
    if (!r) { return r.error(); }
    if (!*r) { return make_error(Errc::not_found, "No such file or folder"); }
    return node_from(**r, path);
  }

  // The path of a live node, walking up to the root; Errc::not_found for another user's node or one in the trash.
  Result<std::string> path_of(Tx& tx, const std::string& user, std::int64_t id) {
    std::vector<std::string> names;
    std::int64_t cur = id;
    for (int depth = 0; depth < 10000; ++depth) {
      auto r = tx.one("SELECT parent, name, owner, CASE WHEN trashed_s IS NULL THEN 0 ELSE 1 END FROM box_nodes WHERE id = $1", {Value{cur}});
      if (!r) { return r.error(); }
      if (!*r || (*r)->text(2) != user || (*r)->boolean(3)) { return make_error(Errc::not_found, "No such file or folder"); }
      if ((*r)->is_null(0)) {
        std::string path;
        for (auto it = names.rbegin(); it != names.rend(); ++it) { path = join(path, *it); }
        return path;
      }
      names.push_back((*r)->text(1));
      cur = (*r)->integer(0);
    }
    return make_error(Errc::internal, "box tree too deep");
  }

  // A change beneath `folder` (of the file `changed`, when it is one): new etags and `size_delta`
  // for it and every ancestor; its mtime is now. Recipients of a share on any of them see the
  // change too: the folders holding their mount points, and those folders' ancestors, get new
  // etags (mount points show the shared node's own etag).
  Status touch(Tx& tx, std::int64_t folder, std::int64_t size_delta, std::int64_t changed = 0) {
    static constexpr std::string_view kAncestors =
        "WITH RECURSIVE anc(id) AS (SELECT CAST($1 AS BIGINT) UNION ALL "
        "SELECT n.parent FROM box_nodes n JOIN anc ON n.id = anc.id WHERE n.parent IS NOT NULL) ";
    auto r = tx.exec(std::string(kAncestors) + "UPDATE box_nodes SET etag = $2, size = size + $3 WHERE id IN (SELECT id FROM anc)",
                     {Value{folder}, Value{new_etag()}, Value{size_delta}});
    if (!r) { return r.error(); }
    auto m = tx.exec("UPDATE box_nodes SET mtime = $1 WHERE id = $2", {Value{now_s()}, Value{folder}});
    if (!m) { return m.error(); }
    auto mounts = tx.query(std::string(kAncestors) +
                               "SELECT DISTINCT m.parent FROM box_shares s JOIN box_nodes m ON m.mount_share = s.id "
                               "WHERE (s.node_id IN (SELECT id FROM anc) OR s.node_id = $2) AND m.parent IS NOT NULL",
                           {Value{folder}, Value{changed}});
    if (!mounts) { return mounts.error(); }
    for (const auto& row : mounts->rows) {
      auto u = tx.exec(std::string(kAncestors) + "UPDATE box_nodes SET etag = $2 WHERE id IN (SELECT id FROM anc)",
                       {Value{row.integer(0)}, Value{new_etag()}});
      if (!u) { return u.error(); }
    }
    return {};
  }

  Result<Quota> quota_of(Tx& tx, const std::string& user) {
    Quota q;
    auto r = home(tx, user);
    if (!r) { return r.error(); }
    q.used = r->size;
    q.total = config_.default_quota;
    auto u = tx.one("SELECT quota FROM box_users WHERE user_id = $1", {Value{user}});
    if (!u) { return u.error(); }
    if (*u && !(*u)->is_null(0)) { q.total = static_cast<std::uint64_t>((*u)->integer(0)); }
    return q;
  }

  Status check_quota(Tx& tx, const std::string& user, std::uint64_t adding, std::uint64_t replacing) {
    auto q = quota_of(tx, user);
    if (!q) { return q.error(); }
    if (q->total > 0 && adding > replacing && q->used + (adding - replacing) > q->total) {
      return make_error(Errc::quota_exceeded, std::string(kQuotaExceeded));
    }
    return {};
  }

  Result<std::int64_t> insert_content(Tx& tx, const NewContent& c) {
    auto id = tx.one("INSERT INTO box_contents (size, md5, sha1, adler32, refs, inline_data) VALUES ($1, $2, $3, $4, 1, $5) RETURNING id",
                     {i64(c.size), Value{c.md5}, Value{c.sha1}, Value{c.adler32},
                      c.inline_data ? Value{crypto::base64(*c.inline_data)} : Value{}});
    if (!id) { return id.error(); }
    std::int64_t cid = (*id)->integer(0);
    std::int64_t seq = 0;
    for (const auto& [key, size] : c.parts) {
      auto r = tx.exec("INSERT INTO box_content_parts (content_id, seq, blob_key, size) VALUES ($1, $2, $3, $4)",
                       {Value{cid}, Value{seq++}, Value{key}, i64(size)});
      if (!r) { return r.error(); }
    }
    return cid;
  }

  // One reference fewer; the last one takes the content and names its blobs in `drop`.
  Status release(Tx& tx, std::int64_t content_id, std::vector<std::string>& drop) {
    if (content_id == 0) { return {}; }
    auto r = tx.one("UPDATE box_contents SET refs = refs - 1 WHERE id = $1 RETURNING refs", {Value{content_id}});
    if (!r) { return r.error(); }
    if (!*r || (*r)->integer(0) > 0) { return {}; }
    auto parts = tx.query("SELECT blob_key FROM box_content_parts WHERE content_id = $1", {Value{content_id}});
    if (!parts) { return parts.error(); }
    for (const auto& p : parts->rows) { drop.push_back(p.text(0)); }
    for (const char* sql : {"DELETE FROM box_content_parts WHERE content_id = $1", "DELETE FROM box_contents WHERE id = $1"}) {
      auto d = tx.exec(sql, {Value{content_id}});
      if (!d) { return d.error(); }
    }
    return {};
  }

  // The file's current content becomes its newest version (or is released when versions are off),
  // and the oldest versions past max_versions go.
  Status keep_version(Tx& tx, const std::string& user, const Node& file, std::vector<std::string>& drop) {
    if (config_.max_versions == 0) { return release(tx, file.content_id, drop); }
    auto r = tx.exec("INSERT INTO box_versions (node_id, owner, content_id, size, mtime, etag, content_type, created_s) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                     {Value{file.id}, Value{user}, Value{file.content_id}, i64(file.size), Value{file.mtime}, Value{file.etag},
                      Value{file.content_type}, Value{now_s()}});
    if (!r) { return r.error(); }
    auto old = tx.query("SELECT id, content_id FROM box_versions WHERE node_id = $1 ORDER BY id DESC LIMIT 1000000 OFFSET $2",
                        {Value{file.id}, Value{static_cast<std::int64_t>(config_.max_versions)}});
    if (!old) { return old.error(); }
    for (const auto& v : old->rows) {
      auto d = tx.exec("DELETE FROM box_versions WHERE id = $1", {Value{v.integer(0)}});
      if (!d) { return d.error(); }
      if (auto rel = release(tx, v.integer(1), drop); !rel) { return rel; }
    }
    return {};
  }

  Status trash_node(Tx& tx, const std::string& user, const Node& n, std::vector<std::string>& drop, const Route* via = nullptr) {
    auto full = full_path(tx, user, n.path);
    if (!full) { return full.error(); }
    auto u = tx.exec("UPDATE box_nodes SET parent = NULL, trashed_s = $1, trash_path = $2 WHERE id = $3", {Value{now_s()}, Value{*full}, Value{n.id}});
    if (!u) { return u.error(); }
    if (auto a = note(tx, user, ActivityKind::file_deleted, n, {}, {}, via); !a) { return a; }
    if (auto t = touch(tx, n.parent, -static_cast<std::int64_t>(n.size)); !t) { return t; }
    if (auto l = drop_locks_beneath(tx, user, *full); !l) { return l; }
    if (config_.trash_retention.count() == 0) { return purge_subtree(tx, n.id, drop); }
    return {};
  }

  Status purge_subtree(Tx& tx, std::int64_t top, std::vector<std::string>& drop) {
    auto rows = tx.query(
        "WITH RECURSIVE sub(id) AS (SELECT CAST($1 AS BIGINT) UNION ALL SELECT n.id FROM box_nodes n JOIN sub ON n.parent = sub.id) "
        "SELECT n.id, n.content_id FROM box_nodes n JOIN sub ON sub.id = n.id",
        {Value{top}});
    if (!rows) { return rows.error(); }
    for (const auto& r : rows->rows) {
      std::int64_t id = r.integer(0);
      if (auto rel = release(tx, r.integer(1), drop); !rel) { return rel; }
      auto vs = tx.query("SELECT content_id FROM box_versions WHERE node_id = $1", {Value{id}});
      if (!vs) { return vs.error(); }
      for (const auto& v : vs->rows) {
        if (auto rel = release(tx, v.integer(0), drop); !rel) { return rel; }
      }
      auto shares = tx.query("SELECT id FROM box_shares WHERE node_id = $1", {Value{id}});
      if (!shares) { return shares.error(); }
      for (const auto& sh : shares->rows) {
        if (auto m = drop_share(tx, sh.integer(0)); !m) { return m; }
      }
      for (const char* sql : {"DELETE FROM box_versions WHERE node_id = $1", "DELETE FROM box_props WHERE node_id = $1",
                              "DELETE FROM box_links WHERE node_id = $1"}) {
        auto d = tx.exec(sql, {Value{id}});
        if (!d) { return d.error(); }
      }
    }
    // Children before parents is not needed: nothing references a node by foreign key.
    for (const auto& r : rows->rows) {
      auto d = tx.exec("DELETE FROM box_nodes WHERE id = $1", {Value{r.integer(0)}});
      if (!d) { return d.error(); }
    }
    return {};
  }

  Result<std::int64_t> copy_tree(Tx& tx, const std::string& user, const Node& src, std::int64_t parent, const std::string& name, bool recursive) {
    auto now = now_s();
    if (!src.folder) {
      auto ref = tx.exec("UPDATE box_contents SET refs = refs + 1 WHERE id = $1", {Value{src.content_id}});
      if (!ref) { return ref.error(); }
    }
    std::uint64_t size = src.folder && !recursive ? 0 : src.size;
    auto id = tx.one(
        "INSERT INTO box_nodes (owner, parent, name, folder, size, mtime, etag, content_id, content_type, created_s, md5, sha1, adler32) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id",
        {Value{user}, Value{parent}, Value{name}, Value{std::int64_t{src.folder}}, i64(size), Value{src.mtime}, Value{src.folder ? new_etag() : src.etag},
         src.folder ? Value{} : Value{src.content_id}, Value{src.content_type}, Value{now}, Value{src.md5}, Value{src.sha1}, Value{src.adler32}});
    if (!id) { return id.error(); }
    std::int64_t new_id = (*id)->integer(0);
    auto p = tx.exec("INSERT INTO box_props (node_id, ns, name, value) SELECT $1, ns, name, value FROM box_props WHERE node_id = $2",
                     {Value{new_id}, Value{src.id}});
    if (!p) { return p.error(); }
    if (src.folder && recursive) {
      // Mount points stay behind: a copy holds the caller's own data, not the shares they received.
      auto kids = tx.query(std::string("SELECT ") + std::string(kNodeCols) + " WHERE n.parent = $1 AND n.mount_share IS NULL", {Value{src.id}});
      if (!kids) { return kids.error(); }
      for (const auto& r : kids->rows) {
        auto child = node_from(r, join(src.path, r.text(3)));
        auto c = copy_tree(tx, user, child, new_id, child.name, true);
        if (!c) { return c.error(); }
      }
    }
    return new_id;
  }

  // The locks on `user`'s tree; with `taken`, also those `user` took in others' trees (through shares).
  Result<std::vector<Lock>> user_locks(Tx& tx, const std::string& user, bool taken = false) {
    auto rows = tx.query(std::string("SELECT token, path, exclusive, infinite, owner_xml, timeout_s, expires_s, user_id FROM box_locks WHERE owner = $1") +
                             (taken ? " OR user_id = $1" : ""),
                         {Value{user}});
    if (!rows) { return rows.error(); }
    std::vector<Lock> out;
    auto now = now_s();
    for (const auto& r : rows->rows) {
      Lock l{r.text(0), r.text(1), r.boolean(2), r.boolean(3), r.text(4), r.integer(5), r.integer(6), r.text(7)};
      if (l.expires_s > 0 && l.expires_s < now) { continue; }
      out.push_back(std::move(l));
    }
    return out;
  }

  Result<std::vector<Lock>> locks_in(Tx& tx, const std::string& user, const std::string& path, bool beneath) {
    auto all = user_locks(tx, user);
    if (!all) { return all.error(); }
    std::vector<Lock> out;
    for (auto& l : *all) {
      if (l.path == path || (l.infinite && contains(l.path, path)) || (beneath && contains(path, l.path))) { out.push_back(std::move(l)); }
    }
    return out;
  }

  Status drop_locks_beneath(Tx& tx, const std::string& user, const std::string& path) {
    auto all = user_locks(tx, user);
    if (!all) { return all.error(); }
    for (const auto& l : *all) {
      if (!contains(path, l.path)) { continue; }
      auto d = tx.exec("DELETE FROM box_locks WHERE token = $1", {Value{l.token}});
      if (!d) { return d.error(); }
    }
    return {};
  }

  Result<Upload> load_upload(Tx& tx, const std::string& user, const std::string& transfer) {
    auto u = tx.one("SELECT total, created_s FROM box_uploads WHERE owner = $1 AND transfer = $2", {Value{user}, Value{transfer}});
    if (!u) { return u.error(); }
    if (!*u) { return make_error(Errc::not_found, "No such upload"); }
    Upload out;
    out.transfer = transfer;
    if (!(*u)->is_null(0)) { out.total = static_cast<std::uint64_t>((*u)->integer(0)); }
    out.created_s = (*u)->integer(1);
    auto rows = tx.query("SELECT name, chunk_offset, size, mtime FROM box_upload_chunks WHERE owner = $1 AND transfer = $2 ORDER BY name",
                         {Value{user}, Value{transfer}});
    if (!rows) { return rows.error(); }
    for (const auto& r : rows->rows) {
      out.chunks.push_back(UploadChunk{r.text(0), r.is_null(1) ? UINT64_MAX : static_cast<std::uint64_t>(r.integer(1)),
                                       static_cast<std::uint64_t>(r.integer(2)), r.integer(3)});
    }
    return out;
  }

  // --- helpers across transactions ------------------------------------------------------------
  // The checks of a file write that need no bytes, for the caller's `path` (through a share: the
  // owner's tree, and the share's create or update permission).
  boost::asio::awaitable<Status> precheck(const std::string& user, const std::string& path, const PutOptions& options) {
    co_return co_await meta_.read([&](Tx& tx) -> Status {
      auto rt = route(tx, user, path);
      if (!rt) { return rt.error(); }
      auto parent = resolve_parent(tx, rt->owner, rt->path);
      if (!parent) { return parent.error(); }
      auto existing = find_child(tx, parent->id, leaf_name(rt->path), rt->path);
      if (!existing) { return existing.error(); }
      if (options.keep_both) { existing->reset(); }
      if (auto ok = may_write(*rt, *existing); !ok) { return ok; }
      return check_write(tx, rt->owner, *existing, options, options.length.value_or(0));
    });
  }

  // Through a share, a new file needs the create permission and replacing one the update permission.
  static Status may_write(const Route& rt, const std::optional<Node>& existing) {
    return rt.need(existing && !existing->folder ? kPermUpdate : kPermCreate);
  }

  Status check_write(Tx& tx, const std::string& user, const std::optional<Node>& existing, const PutOptions& options, std::uint64_t size) {
    if (existing && existing->folder) { return make_error(Errc::conflict, std::string(kIsAFolder)); }
    if (options.if_match) {
      if (!existing || (*options.if_match != "*" && *options.if_match != existing->etag)) {
        return make_error(Errc::precondition_failed, std::string(kEtagMismatch));
      }
    }
    if (options.if_none_match_any && existing) { return make_error(Errc::precondition_failed, std::string(kEtagMismatch)); }
    return check_quota(tx, user, size, existing ? existing->size : 0);
  }

  // Makes `content` the file at the caller's `path` (a new file or a new version of it; through a
  // share, in the owner's tree). With `transfer`, the caller's chunked upload whose chunks became
  // the content's parts goes in the same transaction.
  boost::asio::awaitable<Result<WriteResult>> commit_content(const std::string& caller, const std::string& caller_path, const NewContent& content,
                                                             const PutOptions& options, const std::string& transfer = {}) {
    WriteResult out;
    std::vector<std::string> drop;
    auto st = co_await meta_.transact([&](Tx& tx) -> Status {
      auto rt = route(tx, caller, caller_path);
      if (!rt) { return rt.error(); }
      const Route* via = &*rt;
      const std::string& user = rt->owner;
      const std::string& path = rt->path;
      if (auto s = serialize(tx, user); !s) { return s; }
      drop.clear();
      auto parent = resolve_parent(tx, user, path);
      if (!parent) { return parent.error(); }
      std::string target = path;
      auto existing = find_child(tx, parent->id, leaf_name(path), path);
      if (!existing) { return existing.error(); }
      if (options.keep_both && *existing) {
        auto name = free_name(tx, parent->id, parent_path(path), leaf_name(path));
        if (!name) { return name.error(); }
        target = join(parent_path(path), *name);
        existing->reset();
      }
      if (auto ok = may_write(*rt, *existing); !ok) { return ok; }
      if (auto c = check_write(tx, user, *existing, options, content.size); !c) { return c; }
      auto cid = insert_content(tx, content);
      if (!cid) { return cid.error(); }
      auto now = now_s();
      std::int64_t mtime = options.mtime.value_or(now);
      std::string type = options.content_type.empty() || options.content_type == "application/octet-stream"
                             ? http::guess_content_type(leaf_name(target))
                             : options.content_type;
      std::int64_t id = 0;
      std::int64_t delta = static_cast<std::int64_t>(content.size);
      if (*existing) {
        const Node& old = **existing;
        if (auto k = keep_version(tx, user, old, drop); !k) { return k; }
        auto u = tx.exec("UPDATE box_nodes SET content_id = $1, size = $2, mtime = $3, etag = $4, content_type = $5, md5 = $6, sha1 = $7, adler32 = $8 "
                         "WHERE id = $9",
                         {Value{*cid}, i64(content.size), Value{mtime}, Value{new_etag()}, Value{type}, Value{content.md5}, Value{content.sha1},
                          Value{content.adler32}, Value{old.id}});
        if (!u) { return u.error(); }
        id = old.id;
        delta -= static_cast<std::int64_t>(old.size);
      } else {
        auto r = tx.one(
            "INSERT INTO box_nodes (owner, parent, name, folder, size, mtime, etag, content_id, content_type, created_s, md5, sha1, adler32) "
            "VALUES ($1, $2, $3, 0, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
            {Value{user}, Value{parent->id}, Value{leaf_name(target)}, i64(content.size), Value{mtime}, Value{new_etag()}, Value{*cid}, Value{type},
             Value{now}, Value{content.md5}, Value{content.sha1}, Value{content.adler32}});
        if (!r) { return r.error(); }
        id = (*r)->integer(0);
      }
      out.created = !existing->has_value();
      if (auto t = touch(tx, parent->id, delta, id); !t) { return t; }
      if (!transfer.empty()) {
        for (const char* sql : {"DELETE FROM box_upload_chunks WHERE owner = $1 AND transfer = $2", "DELETE FROM box_uploads WHERE owner = $1 AND transfer = $2"}) {
          auto d = tx.exec(sql, {Value{caller}, Value{transfer}});
          if (!d) { return d.error(); }
        }
      }
      auto n = resolve_id(tx, id, target);
      if (!n) { return n.error(); }
      out.node = std::move(*n);
      if (auto a = note(tx, user, out.created ? ActivityKind::file_created : ActivityKind::file_changed, out.node, {}, {}, via); !a) { return a; }
      rt->present(out.node);
      return {};
    });
    if (!st) { co_return st.error(); }
    co_await remove_blobs(std::move(drop));
    co_return out;
  }

  boost::asio::awaitable<Result<std::unique_ptr<ByteSource>>> open_content(std::int64_t content_id, std::uint64_t size, std::uint64_t offset,
                                                                           std::uint64_t length) {
    if (offset > size || length > size - offset) { co_return make_error(Errc::invalid_argument, "range outside the file"); }
    std::optional<std::string> data;
    std::vector<std::pair<std::string, std::uint64_t>> parts;
    auto st = co_await meta_.read([&](Tx& tx) -> Status {
      parts.clear();
      auto c = tx.one("SELECT inline_data FROM box_contents WHERE id = $1", {Value{content_id}});
      if (!c) { return c.error(); }
      if (!*c) { return make_error(Errc::not_found, "The file's content is gone"); }
      if (!(*c)->is_null(0)) {
        data = crypto::unbase64((*c)->text(0));
        if (!data) { return make_error(Errc::internal, "corrupt inline content"); }
        return {};
      }
      auto rows = tx.query("SELECT blob_key, size FROM box_content_parts WHERE content_id = $1 ORDER BY seq", {Value{content_id}});
      if (!rows) { return rows.error(); }
      for (const auto& r : rows->rows) { parts.emplace_back(r.text(0), static_cast<std::uint64_t>(r.integer(1))); }
      return {};
    });
    if (!st) { co_return st.error(); }
    if (data) { co_return std::unique_ptr<ByteSource>(std::make_unique<StringSource>(data->substr(offset, length))); }
    std::vector<std::unique_ptr<ByteSource>> sources;
    std::uint64_t pos = 0;
    for (const auto& [key, psize] : parts) {
      std::uint64_t end = pos + psize;
      if (end > offset && pos < offset + length) {
        std::uint64_t from = std::max(offset, pos) - pos;
        std::uint64_t to = std::min(offset + length, end) - pos;
        auto src = co_await blobs_.open(key, from, to - from);
        if (!src) { co_return src.error(); }
        sources.push_back(std::move(*src));
      }
      pos = end;
    }
    co_return std::unique_ptr<ByteSource>(std::make_unique<ConcatSource>(std::move(sources)));
  }

  // MD5 (if `with_md5`, else ""), SHA-1 and Adler-32 (hex) over the parts in order, hashed on the
  // blocking pool.
  boost::asio::awaitable<Result<std::vector<std::string>>> digest_parts(const std::vector<std::pair<std::string, std::uint64_t>>& parts,
                                                                        bool with_md5) {
    crypto::Hasher md5(crypto::Digest::md5);
    crypto::Hasher sha1(crypto::Digest::sha1);
    uLong adler = adler32(0L, Z_NULL, 0);
    std::vector<char> buf(1 << 20);
    for (const auto& [key, size] : parts) {
      auto src = co_await blobs_.open(key, 0, size);
      if (!src) { co_return src.error(); }
      for (;;) {
        auto n = co_await (*src)->read(std::span<char>(buf.data(), buf.size()));
        if (!n) { co_return n.error(); }
        if (*n == 0) { break; }
        std::string_view got(buf.data(), *n);
        co_await run_blocking_void([&] {
          if (with_md5) { md5.update(got); }
          sha1.update(got);
          adler = adler32_z(adler, reinterpret_cast<const Bytef*>(got.data()), got.size());
        });
      }
    }
    co_return std::vector<std::string>{with_md5 ? crypto::hex(md5.finish()) : std::string(), crypto::hex(sha1.finish()), HashingSource::adler_text(adler)};
  }

  boost::asio::awaitable<void> drop_blobs(const NewContent& c) {
    std::vector<std::string> keys;
    for (const auto& [k, s] : c.parts) { keys.push_back(k); }
    co_await remove_blobs(std::move(keys));
  }

  boost::asio::awaitable<void> remove_blobs(std::vector<std::string> keys) {
    for (auto& k : keys) {
      if (auto r = co_await blobs_.remove(k); !r) { log::warn("box: could not remove blob {}: {}", k, r.error().message); }
    }
  }

  static std::string uuid() {
    std::string h = crypto::random_hex(16);
    return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" + h.substr(20, 12);
  }

  store::MetaStore& meta_;
  store::BlobStore& blobs_;
  BoxConfig config_;
  const Clock& clock_;
  Directory directory_;
  std::int64_t anchor_ = 0;  // in a link's view, the linked node
  static constexpr std::chrono::seconds kMountCheck{5};
  std::atomic<std::uint64_t> shares_made_{0};
  std::mutex roots_mu_;
  std::unordered_map<std::string, std::pair<std::uint64_t, std::chrono::steady_clock::time_point>> roots_;  // user -> last mount check
  std::once_flag hasher_once_;
  std::unique_ptr<identity::password::Hasher> hasher_;
};

// A link's view: a Service anchored at the linked node, called as its owner.
class LinkSubtree final : public Subtree {
 public:
  LinkSubtree(std::unique_ptr<Service> view, std::string owner) : view_(std::move(view)), owner_(std::move(owner)) {}
  const std::string& owner() const override { return owner_; }
  boost::asio::awaitable<Result<Node>> stat(std::string path) override { return view_->stat(owner_, std::move(path)); }
  boost::asio::awaitable<Result<std::pair<Node, std::vector<Node>>>> list(std::string path) override {
    return view_->list(owner_, std::move(path));
  }
  boost::asio::awaitable<Result<Node>> mkcol(std::string path, std::optional<std::int64_t> mtime) override {
    return view_->mkcol(owner_, std::move(path), mtime);
  }
  boost::asio::awaitable<Result<WriteResult>> put(std::string path, ByteSource& body, PutOptions options) override {
    return view_->put(owner_, std::move(path), body, std::move(options));
  }
  boost::asio::awaitable<Status> remove(std::string path, std::optional<std::string> if_match) override {
    return view_->remove(owner_, std::move(path), std::move(if_match));
  }
  boost::asio::awaitable<Result<WriteResult>> move(std::string from, std::string to, bool overwrite) override {
    return view_->move(owner_, std::move(from), std::move(to), overwrite);
  }
  boost::asio::awaitable<Result<WriteResult>> copy(std::string from, std::string to, bool overwrite, bool recursive) override {
    return view_->copy(owner_, std::move(from), std::move(to), overwrite, recursive);
  }

 private:
  std::unique_ptr<Service> view_;
  std::string owner_;
};

std::unique_ptr<Subtree> Service::subtree(const Link& link) {
  return std::make_unique<LinkSubtree>(std::make_unique<Service>(meta_, blobs_, config_, clock_, directory_, link.node_id), link.owner);
}

}  // namespace

std::unique_ptr<BoxService> make_box_service(store::MetaStore& meta, store::BlobStore& blobs, BoxConfig config, const Clock& clock,
                                             Directory directory) {
  return std::make_unique<Service>(meta, blobs, std::move(config), clock, std::move(directory));
}

Result<ConsistencyReport> check_consistency(store::MetaStore& meta, store::BlobStore& blobs, bool remove_unreferenced) {
  ConsistencyReport report;
  std::unordered_set<std::string> named;
  auto st = meta.read_sync([&](Tx& tx) -> Status {
    named.clear();
    for (const char* sql : {"SELECT blob_key FROM box_content_parts", "SELECT blob_key FROM box_upload_chunks"}) {
      auto rows = tx.query(sql);
      if (!rows) { return rows.error(); }
      for (const auto& r : rows->rows) { named.insert(r.text(0)); }
    }
    return {};
  });
  if (!st) { return st.error(); }
  auto sweep = store::sweep_blobs(blobs, named, remove_unreferenced);
  if (!sweep) { return sweep.error(); }
  report.blobs = sweep->blobs;
  report.missing_blobs = std::move(sweep->missing);
  report.unreferenced_blobs = std::move(sweep->unreferenced);
  return report;
}

boost::asio::awaitable<void> run_reaper(BoxService& box, std::chrono::milliseconds interval, store::Lease* lease) {
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
  for (;;) {
    timer.expires_after(interval);
    co_await timer.async_wait(boost::asio::use_awaitable);
    if (lease != nullptr && !co_await lease->hold()) { continue; }
    auto n = co_await box.reap(1000);
    if (!n) {
      log::warn("box: reaper: {} {}", n.error().message, n.error().detail);
    } else if (*n > 0) {
      log::info("box: reaped {} expired trash items, versions, uploads and activity entries", *n);
    }
  }
}

}  // namespace ciel::box
