// The object engine over the MetaStore and the BlobStore. See object_service.h for the model.
// Every method: authorize (reading the rows the decision needs), stream bytes into blobs when
// there are any, then one transaction that re-checks what it depends on and commits; blobs that
// lost their last reference are removed after the commit.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <unistd.h>

#include <cstring>
#include <functional>
#include <limits>
#include <mutex>
#include <unordered_set>

#include "store/lease.h"
#include "core/blocking.h"
#include "core/crypto/crypto.h"
#include "core/log/log.h"
#include "identity/policy.h"
#include "object/engine/authorize.h"
#include "object/engine/listing.h"
#include "object/engine/names.h"
#include "object/engine/object_service.h"
#include "store/blob_store.h"
#include "store/meta_store.h"

namespace ciel::object {
namespace {

namespace json = boost::json;
using boost::asio::awaitable;
using store::Row;
using store::Tx;
using store::Value;

std::string encode_map(const Metadata& m) {
  json::object o;
  for (const auto& [k, v] : m) { o[k] = v; }
  return json::serialize(o);
}

Metadata decode_map(std::string_view text) {
  Metadata m;
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  if (ec || !v.is_object()) { return m; }
  for (const auto& [k, val] : v.as_object()) {
    if (val.is_string()) { m.emplace(std::string(k), std::string(val.as_string())); }
  }
  return m;
}

void apply_update(Metadata& m, const MetadataUpdate& u) {
  for (const auto& [k, v] : u) {
    if (v && !v->empty()) {
      m[k] = *v;
    } else {
      m.erase(k);
    }
  }
}

// A row this transaction read changed under it (PostgreSQL runs writers concurrently under READ
// COMMITTED): the transaction is rolled back and run again from the start.
constexpr std::string_view kRaced = "concurrent change; retrying";
Error raced() { return make_error(Errc::conflict, std::string(kRaced)); }
bool is_raced(const Error& e) { return e.code == Errc::conflict && e.message == kRaced; }

Status check_meta(MetadataTarget target, const Metadata& m) {
  std::vector<std::pair<std::string, std::string>> items(m.begin(), m.end());
  return check_metadata(target, items);
}

std::optional<std::uint64_t> meta_number(const Metadata& m, std::string_view key) {
  auto it = m.find(std::string(key));
  if (it == m.end() || it->second.empty()) { return std::nullopt; }
  std::uint64_t v = 0;
  for (char c : it->second) {
    if (c < '0' || c > '9') { return std::nullopt; }
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return v;
}

// Swift's archive name for a version: 3 hex digits of the name's length, the name, '/', and a
// timestamp that sorts in time order ("1480432839.12345", Swift's Timestamp.normal).
std::string archive_prefix(std::string_view name) {
  char len[8];
  std::snprintf(len, sizeof len, "%03zx", name.size());
  return std::string(len) + std::string(name) + "/";
}
std::string archive_name(std::string_view name, std::int64_t modified_us) {
  char ts[40];
  std::snprintf(ts, sizeof ts, "%010lld.%05lld", static_cast<long long>(modified_us / 1000000),
                static_cast<long long>((modified_us % 1000000) / 10));
  return archive_prefix(name) + ts;
}

constexpr std::string_view kObjectColumns =
    "v.id, v.container_id, v.name, v.size, v.etag, v.content_type, v.modified_us, v.meta, v.headers, v.manifest_kind, "
    "v.manifest, v.blob_key, v.part_count, v.delete_at, v.delete_marker, v.inline_data, v.tags, v.upload_parts, v.null_version, "
    "v.current";
constexpr int kObjectColumnCount = 20;  // a query's next column after kObjectColumns

// Part sizes of a multipart object: "5242880,5242880,17" (empty for a single PUT).
std::string encode_sizes(const std::vector<std::uint64_t>& sizes) {
  std::string out;
  for (auto n : sizes) {
    if (!out.empty()) { out += ','; }
    out += std::to_string(n);
  }
  return out;
}
std::vector<std::uint64_t> decode_sizes(std::string_view text) {
  std::vector<std::uint64_t> out;
  while (!text.empty()) {
    auto comma = text.find(',');
    auto item = text.substr(0, comma);
    std::uint64_t n = 0;
    for (char ch : item) { n = n * 10 + static_cast<std::uint64_t>(ch - '0'); }
    out.push_back(n);
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
  }
  return out;
}

struct Loaded {
  ObjectInfo info;
  bool delete_marker = false;
};

Loaded object_from_row(const Row& r) {
  Loaded l;
  auto& o = l.info;
  o.version_id = r.text(0);
  o.container_id = r.text(1);
  o.name = r.text(2);
  o.size = static_cast<std::uint64_t>(r.integer(3));
  o.etag = r.text(4);
  o.content_type = r.text(5);
  o.modified_us = r.integer(6);
  o.meta = decode_map(r.text(7));
  o.headers = decode_map(r.text(8));
  o.manifest = static_cast<ManifestKind>(r.integer(9));
  o.manifest_value = r.text(10);
  if (!r.is_null(11)) { o.parts.push_back(Part{r.text(11), o.size}); }
  if (!r.is_null(13)) { o.delete_at = r.integer(13); }
  l.delete_marker = r.boolean(14);
  if (!r.is_null(15)) { o.inline_data = crypto::unbase64(r.text(15)).value_or(std::string()); }
  o.tags = decode_map(r.text(16));
  o.upload_part_sizes = decode_sizes(r.text(17));
  o.null_version = r.boolean(18);
  o.is_current = r.boolean(19);
  o.delete_marker = l.delete_marker;
  return l;
}

ContainerInfo container_from_row(const Row& r) {
  ContainerInfo c;
  c.id = r.text(0);
  c.project_id = r.text(1);
  c.name = r.text(2);
  c.created_ms = r.integer(3);
  c.modified_ms = r.integer(4);
  c.object_count = static_cast<std::uint64_t>(r.integer(5));
  c.bytes_used = static_cast<std::uint64_t>(r.integer(6));
  c.meta = decode_map(r.text(7));
  c.sys = decode_map(r.text(8));
  return c;
}
constexpr std::string_view kContainerColumns = "id, project_id, name, created_ms, modified_ms, object_count, bytes_used, meta, sys";

Result<std::optional<ContainerInfo>> load_container(Tx& tx, const std::string& project, const std::string& name) {
  auto row = tx.one(std::string("SELECT ") + std::string(kContainerColumns) +
                        " FROM object_containers WHERE project_id = $1 AND name = $2",
                    {project, name});
  if (!row) { return row.error(); }
  if (!*row) { return std::optional<ContainerInfo>{}; }
  return std::optional<ContainerInfo>{container_from_row(**row)};
}

Result<AccountInfo> load_account(Tx& tx, const std::string& project) {
  AccountInfo a;
  a.project_id = project;
  auto row = tx.one("SELECT created_ms, container_count, object_count, bytes_used, meta, sys FROM object_accounts WHERE project_id = $1",
                    {project});
  if (!row) { return row.error(); }
  if (*row) {
    const Row& r = **row;
    a.exists = true;
    a.created_ms = r.integer(0);
    a.container_count = static_cast<std::uint64_t>(r.integer(1));
    a.object_count = static_cast<std::uint64_t>(r.integer(2));
    a.bytes_used = static_cast<std::uint64_t>(r.integer(3));
    a.meta = decode_map(r.text(4));
    a.sys = decode_map(r.text(5));
  }
  return a;
}

// Fills the parts of a multi-part version.
Status load_parts(Tx& tx, ObjectInfo& o, std::int64_t part_count) {
  if (!o.parts.empty() || part_count == 0) { return {}; }
  auto rows = tx.query("SELECT blob_key, size FROM object_parts WHERE version_id = $1 ORDER BY part_no", {o.version_id});
  if (!rows) { return rows.error(); }
  for (const auto& r : rows->rows) { o.parts.push_back(Part{r.text(0), static_cast<std::uint64_t>(r.integer(1))}); }
  return {};
}

Result<std::optional<Loaded>> load_current(Tx& tx, const std::string& container_id, const std::string& name) {
  auto row = tx.one(std::string("SELECT ") + std::string(kObjectColumns) +
                        " FROM object_versions v WHERE v.container_id = $1 AND v.name = $2 AND v.current = 1",
                    {container_id, name});
  if (!row) { return row.error(); }
  if (!*row) { return std::optional<Loaded>{}; }
  Loaded l = object_from_row(**row);
  if (auto st = load_parts(tx, l.info, (*row)->integer(12)); !st) { return st.error(); }
  return std::optional<Loaded>{std::move(l)};
}

Status insert_version(Tx& tx, const ObjectInfo& o, bool delete_marker = false) {
  Value blob = o.parts.size() == 1 ? Value{o.parts[0].blob_key} : Value{};
  auto part_count = static_cast<std::int64_t>(o.parts.size() == 1 ? 0 : o.parts.size());
  auto st = tx.exec(
      "INSERT INTO object_versions (id, container_id, name, current, delete_marker, size, etag, content_type, modified_us, meta, headers, "
      "manifest_kind, manifest, blob_key, part_count, delete_at, inline_data, tags, upload_parts, null_version) VALUES ($1, $2, $3, 1, $4, "
      "$5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)",
      {o.version_id, o.container_id, o.name, std::int64_t{delete_marker ? 1 : 0}, static_cast<std::int64_t>(o.size), o.etag, o.content_type,
       o.modified_us, encode_map(o.meta), encode_map(o.headers), static_cast<std::int64_t>(o.manifest), o.manifest_value, blob,
       part_count, o.delete_at ? Value{*o.delete_at} : Value{}, o.inline_data ? Value{crypto::base64(*o.inline_data)} : Value{},
       encode_map(o.tags), encode_sizes(o.upload_part_sizes), std::int64_t{o.null_version ? 1 : 0}});
  if (!st) { return st.error(); }
  if (o.parts.size() > 1) {
    for (std::size_t i = 0; i < o.parts.size(); ++i) {
      auto p = tx.exec("INSERT INTO object_parts (version_id, part_no, blob_key, size) VALUES ($1, $2, $3, $4)",
                       {o.version_id, static_cast<std::int64_t>(i + 1), o.parts[i].blob_key, static_cast<std::int64_t>(o.parts[i].size)});
      if (!p) { return p.error(); }
    }
  }
  return {};
}

Status add_container_usage(Tx& tx, const std::string& container_id, std::int64_t objects, std::int64_t bytes) {
  if (objects == 0 && bytes == 0) { return {}; }
  auto st = tx.exec("UPDATE object_containers SET object_count = object_count + $1, bytes_used = bytes_used + $2 WHERE id = $3",
                    {objects, bytes, container_id});
  if (!st) { return st.error(); }
  if (*st == 0) { return raced(); }  // the container was deleted meanwhile
  return {};
}

Status add_account_usage(Tx& tx, const std::string& project, std::int64_t objects, std::int64_t bytes) {
  if (objects == 0 && bytes == 0) { return {}; }
  auto st = tx.exec("UPDATE object_accounts SET object_count = object_count + $1, bytes_used = bytes_used + $2 WHERE project_id = $3",
                    {objects, bytes, project});
  if (!st) { return st.error(); }
  return {};
}

// Usage of a container and its account together.
Status add_usage(Tx& tx, const std::string& container_id, const std::string& project, std::int64_t objects, std::int64_t bytes) {
  if (auto st = add_container_usage(tx, container_id, objects, bytes); !st) { return st; }
  return add_account_usage(tx, project, objects, bytes);
}

// Deletes a version row and its parts; adds to `orphans` the blobs nothing else names.
Status drop_version(Tx& tx, const ObjectInfo& o, std::vector<std::string>& orphans) {
  auto st = tx.exec("DELETE FROM object_versions WHERE id = $1", {o.version_id});
  if (!st) { return st.error(); }
  if (*st == 0) { return raced(); }  // another writer removed it first
  if (o.parts.size() > 1) {
    auto p = tx.exec("DELETE FROM object_parts WHERE version_id = $1", {o.version_id});
    if (!p) { return p.error(); }
  }
  for (const auto& part : o.parts) {
    auto a = tx.one("SELECT 1 FROM object_versions WHERE blob_key = $1 LIMIT 1", {part.blob_key});
    if (!a) { return a.error(); }
    if (*a) { continue; }
    auto b = tx.one("SELECT 1 FROM object_parts WHERE blob_key = $1 LIMIT 1", {part.blob_key});
    if (!b) { return b.error(); }
    if (!*b) { orphans.push_back(part.blob_key); }
  }
  return {};
}

std::int64_t now_us(const Clock& clock) {
  return std::chrono::duration_cast<std::chrono::microseconds>(clock.now().time_since_epoch()).count();
}

// Feeds at most `limit` bytes of `in` to one blob, after `head` (bytes already read from `in`).
class PartSource final : public ByteSource {
 public:
  PartSource(ByteSource& in, std::string head, std::uint64_t limit) : in_(in), head_(std::move(head)), left_(limit) {}
  awaitable<Result<std::size_t>> read(std::span<char> buf) override {
    if (left_ == 0 || buf.empty() || body_ended_) { co_return std::size_t{0}; }
    if (head_pos_ < head_.size()) {
      std::size_t n = std::min({buf.size(), head_.size() - head_pos_, static_cast<std::size_t>(std::min<std::uint64_t>(left_, SIZE_MAX))});
      std::memcpy(buf.data(), head_.data() + head_pos_, n);
      head_pos_ += n;
      left_ -= n;
      co_return n;
    }
    auto want = static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), left_));
    auto n = co_await in_.read(buf.first(want));
    if (!n) { co_return n.error(); }
    if (*n == 0) { body_ended_ = true; }
    left_ -= *n;
    co_return *n;
  }
  // The body ended inside this part (it is the last one).
  bool body_ended() const { return body_ended_; }
  std::uint64_t left() const { return left_; }

 private:
  ByteSource& in_;
  std::string head_;
  std::size_t head_pos_ = 0;
  std::uint64_t left_;
  bool body_ended_ = false;
};

// One blob of a large object being written beside the request that feeds it: write_parts
// receives the next blob's bytes as soon as this one's put has taken its last byte, while this
// one is made durable (a RADOS blob waits for its stripes' acknowledgements and then writes its
// head; a local one syncs), so the disk or the OSD never idles between two blobs.
class PartWrite {
 public:
  PartWrite(boost::asio::any_io_executor ex, ByteSource& body, std::string head, std::uint64_t limit)
      : key(store::new_blob_key()), source(body, std::move(head), limit), signal_(ex, 2) {}

  const std::string key;
  PartSource source;

  // Runs the put; `self` keeps the PartWrite alive until it has finished.
  static awaitable<void> run(std::shared_ptr<PartWrite> self, store::BlobStore& blobs, std::uint64_t max_size, crypto::Hasher& whole) {
    store::BlobPutOptions opts;
    opts.md5 = false;
    opts.also = &whole;
    opts.source_done = [w = self.get()] { w->raise(&PartWrite::source_done_); };
    auto r = co_await blobs.put(self->key, self->source, max_size, std::move(opts));
    {
      std::lock_guard lock(self->mu_);
      self->result_ = std::move(r);
    }
    self->raise(nullptr);
  }

  // Until the put has read its source to the end (or failed): the body may be read on after.
  awaitable<void> wait_source_done() {
    co_await wait([this] { return source_done_ || result_.has_value(); });
  }
  // Until the put has finished; its outcome.
  awaitable<Result<store::BlobInfo>> wait_done() {
    co_await wait([this] { return result_.has_value(); });
    std::lock_guard lock(mu_);
    co_return *result_;
  }
  // The put's error when it has already failed (before taking its whole source).
  std::optional<Error> failed() {
    std::lock_guard lock(mu_);
    if (result_ && !*result_) { return result_->error(); }
    return std::nullopt;
  }

 private:
  // The put may run on another thread of a multi-threaded executor: the flags are read under
  // the mutex and each change is announced on a thread-safe channel (two at most, its capacity).
  void raise(bool PartWrite::*flag) {
    {
      std::lock_guard lock(mu_);
      if (flag != nullptr) { this->*flag = true; }
    }
    signal_.try_send(boost::system::error_code{});
  }
  awaitable<void> wait(const std::function<bool()>& ready) {
    for (;;) {
      {
        std::lock_guard lock(mu_);
        if (ready()) { co_return; }
      }
      co_await signal_.async_receive(boost::asio::as_tuple(boost::asio::use_awaitable));
    }
  }

  std::mutex mu_;
  bool source_done_ = false;
  std::optional<Result<store::BlobInfo>> result_;
  boost::asio::experimental::concurrent_channel<void(boost::system::error_code)> signal_;
};

// --- S3 versions ---------------------------------------------------------------------------------
// The versions of a name stay in its container: the newest is current (current = 1), the others
// are noncurrent (current = 0, noncurrent_us: when they stopped being current). Counters follow
// object_service.h: object_count counts current rows that are not delete markers, bytes_used
// counts every row.

enum class S3Versioning { off, enabled, suspended };

S3Versioning s3_versioning(const ContainerInfo& c) {
  auto it = c.sys.find(std::string(kSysS3Versioning));
  if (it == c.sys.end()) { return S3Versioning::off; }
  if (it->second == "Enabled") { return S3Versioning::enabled; }
  if (it->second == "Suspended") { return S3Versioning::suspended; }
  return S3Versioning::off;
}

// A version id a client may send: "null" or one of ours (32 hex digits).
bool valid_version_id(std::string_view id) {
  if (id == "null") { return true; }
  return id.size() == 32 && std::all_of(id.begin(), id.end(), [](char ch) { return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f'); });
}

Error no_such_version() { return make_error(Errc::not_found, std::string(kNoSuchVersion)); }

// A second current version of a name (the unique index refused it): a concurrent writer made one
// first, so the transaction runs again (PostgreSQL).
Error raced_if_duplicate(Error e) { return e.code == Errc::already_exists ? raced() : std::move(e); }

// One version of a name by id ("null": the null version), with its parts.
Result<std::optional<Loaded>> load_version(Tx& tx, const std::string& container_id, const std::string& name,
                                           const std::string& version_id) {
  const std::string select = std::string("SELECT ") + std::string(kObjectColumns) + " FROM object_versions v ";
  auto row = version_id == "null"
                 ? tx.one(select + "WHERE v.container_id = $1 AND v.name = $2 AND v.null_version = 1 ORDER BY v.modified_us DESC LIMIT 1",
                          {container_id, name})
                 : tx.one(select + "WHERE v.id = $1 AND v.container_id = $2 AND v.name = $3", {version_id, container_id, name});
  if (!row) { return row.error(); }
  if (!*row) { return std::optional<Loaded>{}; }
  Loaded l = object_from_row(**row);
  if (auto st = load_parts(tx, l.info, (*row)->integer(12)); !st) { return st.error(); }
  return std::optional<Loaded>{std::move(l)};
}

// kObjectColumns without the bytes of small objects, for scans that do not read them.
std::string scan_columns() {
  std::string columns(kObjectColumns);
  constexpr std::string_view kInline = "v.inline_data";
  columns.replace(columns.find(kInline), kInline.size(), "NULL");
  return columns;
}

// The newest modified_us among the versions of a name (0 when it has none). A new version is
// stamped after it, so "newest first" never depends on the clock's resolution.
Result<std::int64_t> newest_version_us(Tx& tx, const std::string& container_id, const std::string& name) {
  auto row = tx.one("SELECT MAX(modified_us) FROM object_versions WHERE container_id = $1 AND name = $2", {container_id, name});
  if (!row) { return row.error(); }
  return *row ? (*row)->integer(0) : std::int64_t{0};
}

// Locks a version row for this transaction. kRaced when it is gone or its current flag is no
// longer the one it was read with (PostgreSQL: a concurrent writer got there first).
Status lock_version(Tx& tx, const ObjectInfo& v) {
  auto u = tx.exec("UPDATE object_versions SET current = current WHERE id = $1 AND current = $2",
                   {v.version_id, std::int64_t{v.is_current ? 1 : 0}});
  if (!u) { return u.error(); }
  if (*u == 0) { return raced(); }
  return {};
}

Status make_noncurrent(Tx& tx, const ObjectInfo& v, std::int64_t now) {
  auto u = tx.exec("UPDATE object_versions SET current = 0, noncurrent_us = $1 WHERE id = $2 AND current = 1", {now, v.version_id});
  if (!u) { return u.error(); }
  if (*u == 0) { return raced(); }
  return {};
}

// After the current version of a name went: makes the newest remaining unexpired version
// current. Returns the change to object_count (1, or 0 for a delete marker or no version).
Result<std::int64_t> promote_newest(Tx& tx, const std::string& container_id, const std::string& name, std::int64_t now_s) {
  auto row = tx.one(
      "SELECT id, delete_marker FROM object_versions WHERE container_id = $1 AND name = $2 AND (delete_at IS NULL OR delete_at > $3) "
      "ORDER BY modified_us DESC, id DESC LIMIT 1",
      {container_id, name, now_s});
  if (!row) { return row.error(); }
  if (!*row) { return std::int64_t{0}; }
  auto u = tx.exec("UPDATE object_versions SET current = 1, noncurrent_us = NULL WHERE id = $1 AND current = 0", {(*row)->text(0)});
  if (!u) { return raced_if_duplicate(u.error()); }
  if (*u == 0) { return raced(); }
  return std::int64_t{(*row)->boolean(1) ? 0 : 1};
}

// Adds usage to a container (checking its quotas when asked, in the statement that takes the
// room, as commit_version does) and to its account. The container row is written even when
// nothing changes: a delete marker on an empty container then still conflicts with a
// concurrent delete_container.
Status take_usage(Tx& tx, const ContainerInfo& c, std::int64_t objects, std::int64_t bytes, bool check_quota) {
  const auto quota_bytes = check_quota ? meta_number(c.meta, kMetaQuotaBytes) : std::nullopt;
  const auto quota_count = check_quota ? meta_number(c.meta, kMetaQuotaCount) : std::nullopt;
  auto u = tx.exec(
      "UPDATE object_containers SET object_count = object_count + $1, bytes_used = bytes_used + $2 "
      "WHERE id = $3 AND object_count + $1 <= $4 AND bytes_used + $2 <= $5",
      {objects, bytes, c.id, quota_count ? static_cast<std::int64_t>(*quota_count) : INT64_MAX,
       quota_bytes ? static_cast<std::int64_t>(*quota_bytes) : INT64_MAX});
  if (!u) { return u.error(); }
  if (*u == 0) {
    if (!quota_bytes && !quota_count) { return raced(); }  // the container was deleted meanwhile
    auto still = tx.one("SELECT 1 FROM object_containers WHERE id = $1", {c.id});
    if (!still) { return still.error(); }
    if (!*still) { return raced(); }
    return make_error(Errc::quota_exceeded, std::string(kQuotaExceeded));
  }
  return add_account_usage(tx, c.project_id, objects, bytes);
}

// What a write or a delete marker does to the versions already there: Enabled keeps the
// current one as noncurrent; Suspended removes the null version (current or not) and keeps any
// other current one as noncurrent. Returns the usage that leaves with them.
struct Displaced {
  std::int64_t objects = 0, bytes = 0;
};
Result<Displaced> displace_versions(Tx& tx, const ContainerInfo& c, S3Versioning mode, const std::string& name,
                                    const std::optional<Loaded>& current, std::int64_t now, std::vector<std::string>& orphans) {
  Displaced d;
  if (current && !current->delete_marker) { d.objects = -1; }
  bool current_dropped = false;
  if (mode == S3Versioning::suspended) {
    auto null_version = load_version(tx, c.id, name, "null");
    if (!null_version) { return null_version.error(); }
    if (*null_version) {
      const ObjectInfo& n = (*null_version)->info;
      if (auto st = lock_version(tx, n); !st) { return st.error(); }
      if (auto st = drop_version(tx, n, orphans); !st) { return st.error(); }
      d.bytes -= static_cast<std::int64_t>(n.size);
      current_dropped = current && current->info.version_id == n.version_id;
    }
  }
  if (current && !current_dropped) {
    if (auto st = make_noncurrent(tx, current->info, now); !st) { return st.error(); }
  }
  return d;
}

// commit_version's transaction in a container with S3 versioning, once the container and the
// current version are loaded: `o` becomes the current version.
Status commit_s3_version(Tx& tx, const ContainerInfo& c, S3Versioning mode, const std::optional<Loaded>& current, ObjectInfo& o,
                         bool check_quota, std::vector<std::string>& orphans) {
  auto newest = newest_version_us(tx, c.id, o.name);
  if (!newest) { return newest.error(); }
  const std::int64_t now = o.modified_us;  // the clock's time, before the nudge below
  o.modified_us = std::max(o.modified_us, *newest + 1);
  o.null_version = mode == S3Versioning::suspended;
  o.is_current = true;
  o.delete_marker = false;
  auto d = displace_versions(tx, c, mode, o.name, current, now, orphans);
  if (!d) { return d.error(); }
  if (auto st = insert_version(tx, o); !st) { return raced_if_duplicate(st.error()); }
  return take_usage(tx, c, 1 + d->objects, static_cast<std::int64_t>(o.size) + d->bytes, check_quota);
}

// A delete in a container with S3 versioning: a delete marker becomes the current version of
// `name` (whether or not it had one) and is returned in `marker`.
Status delete_s3_versioned(Tx& tx, const ContainerInfo& c, S3Versioning mode, const std::string& name, std::int64_t now,
                           ObjectInfo& marker, std::vector<std::string>& orphans) {
  auto current = load_current(tx, c.id, name);
  if (!current) { return current.error(); }
  auto newest = newest_version_us(tx, c.id, name);
  if (!newest) { return newest.error(); }
  marker = ObjectInfo{};
  marker.version_id = crypto::random_hex(16);
  marker.container_id = c.id;
  marker.project_id = c.project_id;
  marker.container = c.name;
  marker.name = name;
  marker.modified_us = std::max(now, *newest + 1);
  marker.delete_marker = true;
  marker.null_version = mode == S3Versioning::suspended;
  auto d = displace_versions(tx, c, mode, name, *current, now, orphans);
  if (!d) { return d.error(); }
  if (auto st = insert_version(tx, marker, /*delete_marker=*/true); !st) { return raced_if_duplicate(st.error()); }
  return take_usage(tx, c, d->objects, d->bytes, false);
}

// S3's limits on object tags: at most 10, keys of 1 to 128 characters, values up to 256.
Status check_tags(const Metadata& tags) {
  auto chars = [](std::string_view s) {
    auto starts_character = [](char ch) { return (static_cast<unsigned char>(ch) & 0xc0) != 0x80; };
    return static_cast<std::size_t>(std::count_if(s.begin(), s.end(), starts_character));
  };
  if (tags.size() > 10) { return make_error(Errc::invalid_argument, "Object tags cannot be greater than 10"); }
  for (const auto& [k, v] : tags) {
    if (k.empty() || chars(k) > 128) { return make_error(Errc::invalid_argument, "The TagKey you have provided is invalid"); }
    if (chars(v) > 256) { return make_error(Errc::invalid_argument, "The TagValue you have provided is invalid"); }
  }
  return {};
}

bool tags_match(const Metadata& want, const Metadata& have) {
  return std::all_of(want.begin(), want.end(), [&](const auto& kv) {
    auto it = have.find(kv.first);
    return it != have.end() && it->second == kv.second;
  });
}

// The container system keys S3 owns, as an update leaves them (`before` the update, `after` it).
Status check_s3_sys(const Metadata& before, const Metadata& after, const MetadataUpdate& update) {
  const std::string versioning(kSysS3Versioning);
  if (auto it = update.find(versioning); it != update.end()) {
    if (!it->second || it->second->empty()) {
      if (before.contains(versioning)) {
        return make_error(Errc::invalid_argument, "S3 versioning cannot be removed once enabled, only suspended");
      }
    } else if (*it->second != "Enabled" && *it->second != "Suspended") {
      return make_error(Errc::invalid_argument, "The versioning status must be Enabled or Suspended");
    }
  }
  if (update.contains(versioning) || update.contains(std::string(kSysVersionsLocation))) {
    auto location = after.find(std::string(kSysVersionsLocation));
    if (after.contains(versioning) && location != after.end() && !location->second.empty()) {
      return make_error(Errc::conflict, std::string(kVersioningConflict));
    }
  }
  if (auto it = update.find(std::string(kSysS3Lifecycle)); it != update.end() && it->second && !it->second->empty()) {
    if (auto rules = decode_lifecycle(*it->second); !rules) { return rules.error(); }
  }
  return {};
}

class ObjectServiceImpl final : public ObjectService {
 public:
  ObjectServiceImpl(store::MetaStore& meta, store::BlobStore& blobs, const identity::Policy& policy, EngineConfig config,
                    const Clock& clock)
      : meta_(meta), blobs_(blobs), policy_(policy), config_(config), clock_(clock) {}

  const EngineConfig& config() const override { return config_; }

  // --- accounts --------------------------------------------------------------------------------
  awaitable<Result<AccountInfo>> get_account(const Access& a, std::string project) override {
    AccountInfo acct;
    auto st = co_await meta_.read([&](Tx& tx) -> Status {
      auto r = load_account(tx, project);
      if (!r) { return r.error(); }
      acct = std::move(*r);
      return {};
    });
    if (!st) { co_return st.error(); }
    if (auto ok = authorize(policy_, a, Op::account_read, project, &acct, nullptr); !ok) { co_return ok.error(); }
    co_return acct;
  }

  awaitable<Result<Listing>> list_containers(const Access& a, std::string project, ListQuery q) override {
    q.limit = std::min(q.limit, config_.max_listing);
    Listing listing;
    AccountInfo acct;
    auto st = co_await meta_.read([&](Tx& tx) -> Status {
      auto r = load_account(tx, project);
      if (!r) { return r.error(); }
      acct = std::move(*r);
      if (auto ok = authorize(policy_, a, Op::account_read, project, &acct, nullptr); !ok) { return ok.error(); }
      auto fetch = [&](const ListWindow& w, std::size_t limit) -> Result<std::vector<ListEntry>> {
        std::string sql = "SELECT name, object_count, bytes_used, modified_ms, created_ms FROM object_containers WHERE project_id = $1";
        std::vector<Value> params{project};
        add_window(sql, params, w, limit);
        auto rows = tx.query(sql, params);
        if (!rows) { return rows.error(); }
        std::vector<ListEntry> out;
        for (const auto& r : rows->rows) {
          ListEntry e;
          e.name = r.text(0);
          e.count = static_cast<std::uint64_t>(r.integer(1));
          e.size = static_cast<std::uint64_t>(r.integer(2));
          e.modified_us = r.integer(3) * 1000;
          e.created_us = r.integer(4) * 1000;
          out.push_back(std::move(e));
        }
        return out;
      };
      auto l = run_listing(q, fetch);
      if (!l) { return l.error(); }
      listing = std::move(*l);
      return {};
    });
    if (!st) { co_return st.error(); }
    co_return listing;
  }

  awaitable<Status> update_account(const Access& a, std::string project, MetadataUpdate meta, MetadataUpdate sys) override {
    auto st = co_await transact_retrying([&](Tx& tx) -> Status {
      auto acct = load_account(tx, project);
      if (!acct) { return acct.error(); }
      if (auto ok = authorize(policy_, a, sys.empty() ? Op::account_write : Op::account_admin, project, &*acct, nullptr); !ok) {
        return ok.error();
      }
      apply_update(acct->meta, meta);
      apply_update(acct->sys, sys);
      if (auto ok = check_meta(MetadataTarget::account, acct->meta); !ok) { return ok.error(); }
      return upsert_account(tx, project, acct->meta, acct->sys);
    });
    co_return st;
  }

  // --- containers ------------------------------------------------------------------------------
  awaitable<Result<bool>> put_container(const Access& a, std::string project, std::string name, MetadataUpdate meta,
                                        MetadataUpdate sys) override {
    if (auto ok = check_container_name(name); !ok) { co_return ok.error(); }
    bool created = false;
    auto st = co_await transact_retrying([&](Tx& tx) -> Status {
      created = false;
      auto acct = load_account(tx, project);
      if (!acct) { return acct.error(); }
      auto existing = load_container(tx, project, name);
      if (!existing) { return existing.error(); }
      const Op op = !sys.empty() ? Op::container_admin : *existing ? Op::container_write : Op::container_create;
      if (auto ok = authorize(policy_, a, op, project, &*acct,
                              *existing ? &**existing : nullptr);
          !ok) {
        return ok.error();
      }
      const std::int64_t now = unix_ms();
      if (!acct->exists) {
        if (auto s = upsert_account(tx, project, acct->meta, acct->sys); !s) { return s; }
      }
      if (*existing) {
        ContainerInfo c = **existing;
        apply_update(c.meta, meta);
        apply_update(c.sys, sys);
        if (auto ok = check_meta(MetadataTarget::container, c.meta); !ok) { return ok.error(); }
        if (auto ok = check_s3_sys((*existing)->sys, c.sys, sys); !ok) { return ok.error(); }
        auto u = tx.exec("UPDATE object_containers SET meta = $1, sys = $2, modified_ms = $3 WHERE id = $4",
                         {encode_map(c.meta), encode_map(c.sys), now, c.id});
        if (!u) { return u.error(); }
        return {};
      }
      Metadata m, s;
      apply_update(m, meta);
      apply_update(s, sys);
      if (auto ok = check_meta(MetadataTarget::container, m); !ok) { return ok.error(); }
      if (auto ok = check_s3_sys({}, s, sys); !ok) { return ok.error(); }
      auto ins = tx.exec(
          "INSERT INTO object_containers (id, project_id, name, created_ms, modified_ms, meta, sys) VALUES ($1, $2, $3, $4, $4, $5, $6) "
          "ON CONFLICT DO NOTHING",
          {crypto::random_hex(16), project, name, now, encode_map(m), encode_map(s)});
      if (!ins) { return ins.error(); }
      if (*ins == 0) { return {}; }  // a concurrent PUT created it
      created = true;
      auto u = tx.exec("UPDATE object_accounts SET container_count = container_count + 1 WHERE project_id = $1", {project});
      if (!u) { return u.error(); }
      return {};
    });
    if (!st) { co_return st.error(); }
    co_return created;
  }

  awaitable<Result<ContainerInfo>> get_container(const Access& a, std::string project, std::string name) override {
    ContainerInfo info;
    auto st = co_await meta_.read([&](Tx& tx) -> Status {
      auto c = find_container_authorized(tx, a, project, name, Op::container_read);
      if (!c) { return c.error(); }
      info = std::move(*c);
      return {};
    });
    if (!st) { co_return st.error(); }
    co_return info;
  }

  awaitable<Result<Listing>> list_objects(const Access& a, std::string project, std::string container, ListQuery q) override {
    q.limit = std::min(q.limit, config_.max_listing);
    Listing listing;
    auto st = co_await meta_.read([&](Tx& tx) -> Status {
      auto c = find_container_authorized(tx, a, project, container, Op::container_list);
      if (!c) { return c.error(); }
      auto fetch = [&](const ListWindow& w, std::size_t limit) -> Result<std::vector<ListEntry>> {
        std::string sql =
            "SELECT name, size, etag, content_type, modified_us, delete_at FROM object_versions WHERE container_id = $1 AND current = 1 "
            "AND delete_marker = 0";
        std::vector<Value> params{c->id};
        add_window(sql, params, w, limit);
        auto rows = tx.query(sql, params);
        if (!rows) { return rows.error(); }
        std::vector<ListEntry> out;
        out.reserve(rows->rows.size());
        for (const auto& r : rows->rows) {
          ListEntry e;
          e.name = r.text(0);
          e.size = static_cast<std::uint64_t>(r.integer(1));
          e.etag = r.text(2);
          e.content_type = r.text(3);
          e.modified_us = r.integer(4);
          if (!r.is_null(5)) { e.delete_at = r.integer(5); }
          out.push_back(std::move(e));
        }
        return out;
      };
      auto l = run_listing(q, fetch);
      if (!l) { return l.error(); }
      listing = std::move(*l);
      return {};
    });
    if (!st) { co_return st.error(); }
    co_return listing;
  }

  awaitable<Status> update_container(const Access& a, std::string project, std::string name, MetadataUpdate meta,
                                     MetadataUpdate sys) override {
    co_return co_await transact_retrying([&](Tx& tx) -> Status {
      auto c = find_container_authorized(tx, a, project, name, sys.empty() ? Op::container_write : Op::container_admin);
      if (!c) { return c.error(); }
      const Metadata before = c->sys;
      apply_update(c->meta, meta);
      apply_update(c->sys, sys);
      if (auto ok = check_meta(MetadataTarget::container, c->meta); !ok) { return ok.error(); }
      if (auto ok = check_s3_sys(before, c->sys, sys); !ok) { return ok.error(); }
      auto u = tx.exec("UPDATE object_containers SET meta = $1, sys = $2, modified_ms = $3 WHERE id = $4",
                       {encode_map(c->meta), encode_map(c->sys), unix_ms(), c->id});
      if (!u) { return u.error(); }
      return {};
    });
  }

  awaitable<Result<Metadata>> container_cors(std::string project, std::string name) override {
    Metadata cors;
    auto st = co_await meta_.read([&](Tx& tx) -> Status {
      auto c = load_container(tx, project, name);
      if (!c) { return c.error(); }
      if (!*c) { return make_error(Errc::not_found, std::string(kNoSuchContainer)); }
      for (const auto& [k, v] : (*c)->meta) {
        if (k.starts_with("access-control-")) { cors.emplace(k, v); }
      }
      if (auto it = (*c)->sys.find("s3-cors"); it != (*c)->sys.end()) { cors.emplace("s3-cors", it->second); }
      return {};
    });
    if (!st) { co_return st.error(); }
    co_return cors;
  }

  awaitable<Result<std::vector<std::string>>> signing_keys(std::string project, std::string container) override {
    std::vector<std::string> keys;
    auto st = co_await meta_.read([&](Tx& tx) -> Status {
      keys.clear();
      auto acct = load_account(tx, project);
      if (!acct) { return acct.error(); }
      std::vector<const Metadata*> sources{&acct->meta};
      std::optional<ContainerInfo> c;
      if (!container.empty()) {
        auto r = load_container(tx, project, container);
        if (!r) { return r.error(); }
        c = std::move(*r);
        if (c) { sources.push_back(&c->meta); }
      }
      for (const Metadata* m : sources) {
        for (const char* k : {"temp-url-key", "temp-url-key-2"}) {
          if (auto it = m->find(k); it != m->end() && !it->second.empty()) { keys.push_back(it->second); }
        }
      }
      return {};
    });
    if (!st) { co_return st.error(); }
    co_return keys;
  }

  awaitable<Status> delete_container(const Access& a, std::string project, std::string name) override {
    std::vector<std::string> upload_blobs;  // of the multipart uploads in progress, aborted with the container
    auto deleted = co_await transact_retrying([&](Tx& tx) -> Status {
      upload_blobs.clear();
      auto c = find_container_authorized(tx, a, project, name, Op::container_write);
      if (!c) { return c.error(); }
      auto any = tx.one("SELECT 1 FROM object_versions WHERE container_id = $1 LIMIT 1", {c->id});
      if (!any) { return any.error(); }
      if (*any) { return make_error(Errc::conflict, std::string(kContainerNotEmpty)); }
      if (auto s = drop_container_uploads(tx, c->id, upload_blobs); !s) { return s; }
      // "object_count = 0" also catches an upload that committed after the check above: its
      // counter update holds the row until then, and the DELETE re-reads it.
      auto d = tx.exec("DELETE FROM object_containers WHERE id = $1 AND object_count = 0", {c->id});
      if (!d) { return d.error(); }
      if (*d == 0) { return make_error(Errc::conflict, std::string(kContainerNotEmpty)); }
      // A delete marker changes no counter; its writer holds the container row instead, and the
      // DELETE above waited for it: look again (PostgreSQL: a new snapshot per statement).
      auto late = tx.one("SELECT 1 FROM object_versions WHERE container_id = $1 LIMIT 1", {c->id});
      if (!late) { return late.error(); }
      if (*late) { return make_error(Errc::conflict, std::string(kContainerNotEmpty)); }
      auto u = tx.exec("UPDATE object_accounts SET container_count = container_count - 1 WHERE project_id = $1", {project});
      if (!u) { return u.error(); }
      return {};
    });
    if (deleted) { co_await remove_blobs(upload_blobs); }
    co_return deleted;
  }

  // --- objects ---------------------------------------------------------------------------------
  awaitable<Result<ObjectInfo>> put_object(const Access& a, std::string project, std::string container, std::string name,
                                           PutRequest req, ByteSource& body) override {
    if (auto ok = check_object_name(name); !ok) { co_return ok.error(); }
    if (auto ok = check_meta(MetadataTarget::object, req.meta); !ok) { co_return ok.error(); }
    if (auto ok = check_tags(req.tags); !ok) { co_return ok.error(); }
    if (req.content_length && *req.content_length > config_.max_object_size) {
      co_return make_error(Errc::too_large, "Your request is too large.");
    }
    // Authorize and check the quota before reading any of the body.
    ContainerInfo c;
    auto pre = co_await meta_.read([&](Tx& tx) -> Status {
      auto r = find_container_authorized(tx, a, project, container, Op::object_write);
      if (!r) { return r.error(); }
      c = std::move(*r);
      return {};
    });
    if (!pre) { co_return pre.error(); }
    if (auto q = meta_number(c.meta, kMetaQuotaBytes); q && req.content_length && c.bytes_used + *req.content_length > *q) {
      co_return make_error(Errc::quota_exceeded, std::string(kQuotaExceeded));
    }
    if (auto q = meta_number(c.meta, kMetaQuotaCount); q && c.object_count + 1 > *q) {
      co_return make_error(Errc::quota_exceeded, std::string(kQuotaExceeded));
    }

    ObjectInfo o;
    o.version_id = crypto::random_hex(16);
    o.name = name;
    o.project_id = project;
    o.container = container;
    o.content_type = req.content_type.empty() ? "application/octet-stream" : req.content_type;
    o.meta = std::move(req.meta);
    o.headers = std::move(req.headers);
    o.delete_at = req.delete_at;
    o.manifest = req.manifest;
    o.manifest_value = std::move(req.manifest_value);
    o.tags = std::move(req.tags);
    if (req.content_length && *req.content_length <= config_.inline_max) {
      auto data = co_await read_all(body, static_cast<std::size_t>(*req.content_length));
      if (!data) { co_return data.error(); }
      if (data->size() != *req.content_length) { co_return make_error(Errc::invalid_argument, "The body ended before Content-Length bytes"); }
      o.size = data->size();
      o.etag = crypto::hex(crypto::md5(*data));
      o.inline_data = std::move(*data);
    } else {
      auto written = co_await write_parts(body, req.content_length, o);
      if (!written) { co_return written.error(); }
    }
    if (req.expected_etag && *req.expected_etag != o.etag) {
      co_await remove_parts(o.parts);
      co_return make_error(Errc::invalid_argument, std::string(kEtagMismatch));
    }
    if (req.etag_override) { o.etag = *req.etag_override; }
    if (req.size_override) { o.size = *req.size_override; }
    auto committed = co_await commit_version(a, project, container, o, /*check_quota=*/true, req.only_if_absent);
    if (!committed) {
      co_await remove_parts(o.parts);
      co_return committed.error();
    }
    co_return o;
  }

  awaitable<Result<ObjectInfo>> head_object(const Access& a, std::string project, std::string container, std::string name) override {
    ObjectInfo info;
    const std::int64_t now_s = unix_seconds(clock_.now());
    auto st = co_await meta_.read([&](Tx& tx) -> Status {
      auto c = find_container_authorized(tx, a, project, container, Op::object_read);
      if (!c) { return c.error(); }
      auto l = load_current(tx, c->id, name);
      if (!l) { return l.error(); }
      if (!*l || (*l)->delete_marker || ((*l)->info.delete_at && *(*l)->info.delete_at <= now_s)) {
        return make_error(Errc::not_found, "The resource could not be found.");
      }
      info = std::move((*l)->info);
      info.container = container;
      info.project_id = project;
      return {};
    });
    if (!st) { co_return st.error(); }
    co_return info;
  }

  awaitable<Result<std::unique_ptr<ByteSource>>> open_object(const ObjectInfo& info, std::uint64_t offset, std::uint64_t length) override {
    if (info.inline_data) {
      if (offset > info.inline_data->size() || length > info.inline_data->size() - offset) {
        co_return make_error(Errc::invalid_argument, "range past the end of the object");
      }
      co_return std::unique_ptr<ByteSource>(std::make_unique<StringSource>(info.inline_data->substr(offset, length)));
    }
    std::uint64_t stored = 0;
    for (const auto& p : info.parts) { stored += p.size; }
    if (offset > stored || length > stored - offset) { co_return make_error(Errc::invalid_argument, "range past the end of the object"); }
    // Every blob is opened now, not when the reader reaches it: an overwrite or delete that
    // commits during a download removes the blobs, and an open file outlives its name.
    std::vector<std::unique_ptr<ByteSource>> readers;
    std::uint64_t pos = 0, end = offset + length;
    for (const auto& p : info.parts) {
      std::uint64_t ps = pos, pe = pos + p.size;
      pos = pe;
      if (pe <= offset || ps >= end) { continue; }
      std::uint64_t from = std::max(ps, offset), to = std::min(pe, end);
      auto r = co_await blobs_.open(p.blob_key, from - ps, to - from);
      if (!r) {
        // The version was replaced between its lookup and now: to the caller it is gone.
        if (r.error().code == Errc::not_found) { co_return make_error(Errc::not_found, "The resource could not be found."); }
        co_return r.error();
      }
      readers.push_back(std::move(*r));
    }
    if (readers.size() == 1) { co_return std::move(readers.front()); }
    co_return std::unique_ptr<ByteSource>(std::make_unique<ConcatSource>(std::move(readers)));
  }

  Result<std::vector<BlobFile>> open_object_files(const ObjectInfo& info, std::uint64_t offset, std::uint64_t length) override {
    if (info.inline_data) { return make_error(Errc::not_found, "the object lives in its row"); }
    std::vector<BlobFile> files;
    auto close_all = [&] {
      for (auto& f : files) { ::close(f.fd); }
    };
    std::uint64_t pos = 0, end = offset + length;
    for (const auto& p : info.parts) {
      std::uint64_t ps = pos, pe = pos + p.size;
      pos = pe;
      if (pe <= offset || ps >= end) { continue; }
      auto fd = blobs_.open_fd(p.blob_key);
      if (!fd) {
        close_all();
        return fd.error();
      }
      std::uint64_t from = std::max(ps, offset), to = std::min(pe, end);
      files.push_back(BlobFile{*fd, from - ps, to - from});
    }
    if (end > pos) {
      close_all();
      return make_error(Errc::invalid_argument, "range past the end of the object");
    }
    return files;
  }

  awaitable<Result<ObjectInfo>> update_object(const Access& a, std::string project, std::string container, std::string name,
                                              ObjectUpdate update) override {
    if (auto ok = check_meta(MetadataTarget::object, update.meta); !ok) { co_return ok.error(); }
    ObjectInfo info;
    const std::int64_t now_s = unix_seconds(clock_.now());
    auto st = co_await transact_retrying([&](Tx& tx) -> Status {
      auto c = find_container_authorized(tx, a, project, container, Op::object_write);
      if (!c) { return c.error(); }
      auto l = load_current(tx, c->id, name);
      if (!l) { return l.error(); }
      if (!*l || (*l)->delete_marker || ((*l)->info.delete_at && *(*l)->info.delete_at <= now_s)) {
        return make_error(Errc::not_found, "The resource could not be found.");
      }
      info = std::move((*l)->info);
      info.meta = update.meta;
      if (update.content_type) { info.content_type = *update.content_type; }
      if (update.headers) { info.headers = *update.headers; }
      if (update.delete_at) { info.delete_at = *update.delete_at; }
      if (update.dlo_manifest) {
        info.manifest = update.dlo_manifest->empty() ? ManifestKind::none : ManifestKind::dlo;
        info.manifest_value = *update.dlo_manifest;
      }
      auto u = tx.exec(
          "UPDATE object_versions SET meta = $1, content_type = $2, headers = $3, delete_at = $4, manifest_kind = $5, manifest = $6 "
          "WHERE id = $7",
          {encode_map(info.meta), info.content_type, encode_map(info.headers), info.delete_at ? Value{*info.delete_at} : Value{},
           static_cast<std::int64_t>(info.manifest), info.manifest_value, info.version_id});
      if (!u) { return u.error(); }
      if (*u == 0) { return raced(); }
      info.container = container;
      info.project_id = project;
      return {};
    });
    if (!st) { co_return st.error(); }
    co_return info;
  }

  awaitable<Result<ObjectInfo>> delete_object(const Access& a, std::string project, std::string container, std::string name) override {
    ObjectInfo deleted;
    std::vector<std::string> orphans;
    const std::int64_t now_s = unix_seconds(clock_.now());
    const std::int64_t now = now_us(clock_);
    auto st = co_await transact_retrying([&](Tx& tx) -> Status {
      orphans.clear();
      auto c = find_container_authorized(tx, a, project, container, Op::object_write);
      if (!c) { return c.error(); }
      if (auto mode = s3_versioning(*c); mode != S3Versioning::off) {
        return delete_s3_versioned(tx, *c, mode, name, now, deleted, orphans);
      }
      auto l = load_current(tx, c->id, name);
      if (!l) { return l.error(); }
      bool live = *l && !(*l)->delete_marker && !((*l)->info.delete_at && *(*l)->info.delete_at <= now_s);
      Result<std::optional<ContainerInfo>> archive = std::optional<ContainerInfo>{};
      if (live) {
        archive = versions_container(tx, *c);
        if (!archive) { return archive.error(); }
      }
      if (*archive && versions_mode(*c) == VersionsMode::history) {
        if (!live) { return make_error(Errc::not_found, "The resource could not be found."); }
        deleted = (*l)->info;
        if (auto s = move_to_archive(tx, **archive, deleted); !s) { return s; }
        if (auto s = add_container_usage(tx, c->id, -1, -static_cast<std::int64_t>(deleted.size)); !s) { return s; }
        // The delete marker: an empty object in the archive that says the name went away.
        ObjectInfo marker;
        marker.version_id = crypto::random_hex(16);
        marker.container_id = (*archive)->id;
        marker.name = archive_name(name, std::max(now, deleted.modified_us + 10));
        marker.content_type = "application/x-deleted;swift_versions_deleted=1";
        marker.etag = crypto::hex(crypto::md5(""));
        marker.modified_us = now;
        if (auto s = insert_version(tx, marker); !s) { return s; }
        return add_usage(tx, (*archive)->id, project, 1, 0);
      }
      if (!*l) { return make_error(Errc::not_found, "The resource could not be found."); }
      deleted = (*l)->info;
      if (auto s = drop_version(tx, deleted, orphans); !s) { return s; }
      if (auto s = add_usage(tx, c->id, project, -1, -static_cast<std::int64_t>(deleted.size)); !s) { return s; }
      if (*archive) {
        // Stack mode: the newest archived version comes back.
        auto prev = tx.one(std::string("SELECT ") + std::string(kObjectColumns) +
                               " FROM object_versions v WHERE v.container_id = $1 AND v.current = 1 AND v.name >= $2 AND v.name < $3 "
                               "ORDER BY v.name DESC LIMIT 1",
                           {(*archive)->id, archive_prefix(name), *prefix_successor(archive_prefix(name))});
        if (!prev) { return prev.error(); }
        if (*prev) {
          Loaded p = object_from_row(**prev);
          auto u = tx.exec("UPDATE object_versions SET container_id = $1, name = $2 WHERE id = $3", {c->id, name, p.info.version_id});
          if (!u) { return u.error(); }
          if (*u == 0) { return raced(); }
          if (auto s = add_container_usage(tx, (*archive)->id, -1, -static_cast<std::int64_t>(p.info.size)); !s) { return s; }
          if (auto s = add_container_usage(tx, c->id, 1, static_cast<std::int64_t>(p.info.size)); !s) { return s; }
        }
      }
      if (!live) { return make_error(Errc::not_found, "The resource could not be found."); }
      return {};
    });
    if (!st) {
      co_return st.error();
    }
    co_await remove_blobs(orphans);
    deleted.container = container;
    deleted.project_id = project;
    co_return deleted;
  }

  awaitable<Result<ObjectInfo>> copy_object(const Access& a, std::string src_project, std::string src_container, std::string src_name,
                                            std::string dst_project, std::string dst_container, std::string dst_name,
                                            CopyRequest req) override {
    if (auto ok = check_object_name(dst_name); !ok) { co_return ok.error(); }
    auto src = co_await copy_source(a, src_project, src_container, src_name, req);
    if (!src) { co_return src.error(); }
    ObjectInfo o = *src;
    o.version_id = crypto::random_hex(16);
    o.name = dst_name;
    o.container = dst_container;
    o.project_id = dst_project;
    o.delete_at = req.put.delete_at;
    if (req.fresh_metadata) {
      o.meta = std::move(req.put.meta);
      o.headers = std::move(req.put.headers);
    } else {
      for (auto& [k, v] : req.put.meta) { o.meta[k] = std::move(v); }
      for (auto& [k, v] : req.put.headers) { o.headers[k] = std::move(v); }
    }
    if (!req.put.content_type.empty()) { o.content_type = req.put.content_type; }
    if (auto ok = check_meta(MetadataTarget::object, o.meta); !ok) { co_return ok.error(); }
    if (auto ok = prepare_copy(req, o); !ok) { co_return ok.error(); }
    // A DLO copy copies the manifest only when asked (Swift's multipart-manifest=get); callers
    // that want the assembled bytes copy through put_object.
    auto committed = co_await commit_version(a, dst_project, dst_container, o, /*check_quota=*/true);
    if (!committed) { co_return committed.error(); }
    co_return o;
  }

  awaitable<Result<std::size_t>> reap_expired(std::size_t limit) override {
    const std::int64_t now_s = unix_seconds(clock_.now());
    std::size_t reaped = 0;
    std::vector<std::string> orphans;
    auto st = co_await transact_retrying([&](Tx& tx) -> Status {
      reaped = 0;
      orphans.clear();
      auto rows = tx.query(std::string("SELECT ") + std::string(kObjectColumns) +
                               ", c.project_id FROM object_versions v JOIN object_containers c ON c.id = v.container_id "
                               "WHERE v.delete_at IS NOT NULL AND v.delete_at <= $1 LIMIT $2",
                           {now_s, static_cast<std::int64_t>(limit)});
      if (!rows) { return rows.error(); }
      for (const auto& r : rows->rows) {
        Loaded l = object_from_row(r);
        if (auto s = load_parts(tx, l.info, r.integer(12)); !s) { return s; }
        if (auto s = lock_version(tx, l.info); !s) { return s; }
        if (auto s = drop_version(tx, l.info, orphans); !s) { return s; }
        auto promoted = l.info.is_current ? promote_newest(tx, l.info.container_id, l.info.name, now_s) : std::int64_t{0};
        if (!promoted) { return promoted.error(); }
        const std::int64_t objects = (l.info.is_current ? -1 : 0) + *promoted;
        if (auto s = add_usage(tx, l.info.container_id, r.text(kObjectColumnCount), objects, -static_cast<std::int64_t>(l.info.size)); !s) {
          return s;
        }
        ++reaped;
      }
      return {};
    });
    if (!st) { co_return st.error(); }
    co_await remove_blobs(orphans);
    co_return reaped;
  }

  // --- S3 versions and tags ------------------------------------------------------------------------
  awaitable<Result<ObjectInfo>> head_version(const Access& a, std::string project, std::string container, std::string name,
                                             std::string version_id) override {
    if (!valid_version_id(version_id)) { co_return make_error(Errc::invalid_argument, "Invalid version id specified"); }
    ObjectInfo info;
    const std::int64_t now_s = unix_seconds(clock_.now());
    auto st = co_await meta_.read([&](Tx& tx) -> Status {
      auto c = find_container_authorized(tx, a, project, container, Op::object_read);
      if (!c) { return c.error(); }
      auto v = load_version(tx, c->id, name, version_id);
      if (!v) { return v.error(); }
      if (!*v || ((*v)->info.delete_at && *(*v)->info.delete_at <= now_s)) { return no_such_version(); }
      info = std::move((*v)->info);
      return {};
    });
    if (!st) { co_return st.error(); }
    info.container = container;
    info.project_id = project;
    co_return info;
  }

  awaitable<Result<ObjectInfo>> delete_version(const Access& a, std::string project, std::string container, std::string name,
                                               std::string version_id) override {
    if (!valid_version_id(version_id)) { co_return make_error(Errc::invalid_argument, "Invalid version id specified"); }
    ObjectInfo removed;
    std::vector<std::string> orphans;
    const std::int64_t now_s = unix_seconds(clock_.now());
    auto st = co_await transact_retrying([&](Tx& tx) -> Status {
      orphans.clear();
      auto c = find_container_authorized(tx, a, project, container, Op::object_write);
      if (!c) { return c.error(); }
      auto v = load_version(tx, c->id, name, version_id);
      if (!v) { return v.error(); }
      if (!*v) { return no_such_version(); }
      removed = std::move((*v)->info);
      if (auto s = lock_version(tx, removed); !s) { return s; }
      if (auto s = drop_version(tx, removed, orphans); !s) { return s; }
      std::int64_t objects = removed.is_current && !removed.delete_marker ? -1 : 0;
      if (removed.is_current) {
        auto promoted = promote_newest(tx, c->id, name, now_s);
        if (!promoted) { return promoted.error(); }
        objects += *promoted;
      }
      return take_usage(tx, *c, objects, -static_cast<std::int64_t>(removed.size), false);
    });
    if (!st) { co_return st.error(); }
    co_await remove_blobs(orphans);
    removed.container = container;
    removed.project_id = project;
    co_return removed;
  }

  awaitable<Result<VersionListing>> list_versions(const Access& a, std::string project, std::string container, VersionQuery q) override {
    q.limit = std::min(q.limit, config_.max_listing);
    if (!q.version_id_marker.empty() && !valid_version_id(q.version_id_marker)) {
      co_return make_error(Errc::invalid_argument, "Invalid version id specified");
    }
    VersionListing listing;
    const std::int64_t now_s = unix_seconds(clock_.now());
    auto st = co_await meta_.read([&](Tx& tx) -> Status {
      listing = VersionListing{};
      auto c = find_container_authorized(tx, a, project, container, Op::container_list);
      if (!c) { return c.error(); }
      return run_version_listing(tx, *c, q, now_s, listing);
    });
    if (!st) { co_return st.error(); }
    for (auto& v : listing.versions) {
      v.container = container;
      v.project_id = project;
    }
    co_return listing;
  }

  awaitable<Result<ObjectInfo>> set_object_tags(const Access& a, std::string project, std::string container, std::string name,
                                                std::string version_id, Metadata tags) override {
    if (!version_id.empty() && !valid_version_id(version_id)) {
      co_return make_error(Errc::invalid_argument, "Invalid version id specified");
    }
    if (auto ok = check_tags(tags); !ok) { co_return ok.error(); }
    ObjectInfo info;
    const std::int64_t now_s = unix_seconds(clock_.now());
    auto st = co_await transact_retrying([&](Tx& tx) -> Status {
      auto c = find_container_authorized(tx, a, project, container, Op::object_write);
      if (!c) { return c.error(); }
      auto v = version_id.empty() ? load_current(tx, c->id, name) : load_version(tx, c->id, name, version_id);
      if (!v) { return v.error(); }
      if (!*v || ((*v)->info.delete_at && *(*v)->info.delete_at <= now_s) || (version_id.empty() && (*v)->delete_marker)) {
        return version_id.empty() ? make_error(Errc::not_found, "The resource could not be found.") : no_such_version();
      }
      if ((*v)->delete_marker) { return make_error(Errc::conflict, std::string(kMethodNotAllowed)); }
      info = std::move((*v)->info);
      auto u = tx.exec("UPDATE object_versions SET tags = $1 WHERE id = $2", {encode_map(tags), info.version_id});
      if (!u) { return u.error(); }
      if (*u == 0) { return raced(); }
      info.tags = tags;
      return {};
    });
    if (!st) { co_return st.error(); }
    info.container = container;
    info.project_id = project;
    co_return info;
  }

  // --- S3 lifecycle --------------------------------------------------------------------------------
  awaitable<Result<std::size_t>> apply_lifecycle(std::size_t limit) override {
    std::vector<ContainerInfo> containers;
    auto st = co_await meta_.read([&](Tx& tx) -> Status {
      containers.clear();
      auto rows = tx.query(std::string("SELECT ") + std::string(kContainerColumns) + " FROM object_containers WHERE sys LIKE $1 ORDER BY id",
                           {"%\"" + std::string(kSysS3Lifecycle) + "\"%"});
      if (!rows) { return rows.error(); }
      for (const auto& r : rows->rows) { containers.push_back(container_from_row(r)); }
      return {};
    });
    if (!st) { co_return st.error(); }
    const std::int64_t now = now_us(clock_);
    const std::int64_t now_s = unix_seconds(clock_.now());
    constexpr std::int64_t kDayUs = 86400ll * 1000000;
    std::size_t done = 0;
    for (const auto& c : containers) {
      auto it = c.sys.find(std::string(kSysS3Lifecycle));
      if (it == c.sys.end() || it->second.empty()) { continue; }
      auto rules = decode_lifecycle(it->second);
      if (!rules) {
        log::warn("object: lifecycle of {}/{}: {}", c.project_id, c.name, rules.error().message);
        continue;
      }
      for (const auto& rule : *rules) {
        if (!rule.enabled) { continue; }
        std::optional<std::int64_t> expire_before;  // current versions modified at or before this expire
        if (rule.expiration_days) { expire_before = now - *rule.expiration_days * kDayUs; }
        if (rule.expiration_date && now_s >= *rule.expiration_date) { expire_before = INT64_MAX; }
        std::vector<std::pair<LifecycleAction, std::int64_t>> actions;
        if (expire_before) { actions.emplace_back(LifecycleAction::expire_current, *expire_before); }
        if (rule.noncurrent_days) { actions.emplace_back(LifecycleAction::remove_noncurrent, now - *rule.noncurrent_days * kDayUs); }
        if (rule.expired_delete_markers) { actions.emplace_back(LifecycleAction::remove_lone_marker, 0); }
        if (rule.abort_upload_days && done < limit) {
          auto n = co_await abort_uploads_before(c.id, rule.prefix, now - *rule.abort_upload_days * kDayUs, limit - done);
          if (!n) { co_return n.error(); }
          done += *n;
        }
        for (const auto& [action, cutoff] : actions) {
          if (done >= limit) { co_return done; }
          auto n = co_await apply_lifecycle_action(c, rule, action, cutoff, limit - done);
          if (!n) { co_return n.error(); }
          done += *n;
        }
      }
    }
    co_return done;
  }
  awaitable<Result<std::vector<std::string>>> container_owners(std::string name) override {
    std::vector<std::string> owners;
    auto st = co_await meta_.read([&](Tx& tx) -> Status {
      auto rows = tx.query("SELECT project_id FROM object_containers WHERE name = $1 ORDER BY project_id", {name});
      if (!rows) { return rows.error(); }
      for (const auto& r : rows->rows) { owners.push_back(r.text(0)); }
      return {};
    });
    if (!st) { co_return st.error(); }
    co_return owners;
  }

  // --- S3 multipart uploads ----------------------------------------------------------------------
  // An upload is an object_uploads row; each of its parts is written like an object (one blob, or
  // blobs of part_size bytes; never inline) and named by object_upload_parts rows (upload_id,
  // part_no, seq), each row repeating the part's size and etag. A part's blobs are named by its
  // rows alone: complete_upload moves the listed ones to the object's rows in the transaction
  // that deletes the upload, so they are never shared with another row while the upload lives
  // and drop_version's orphan test never needs to look at upload rows. Every writer of an upload
  // (upload_part, complete, abort, the reaper, delete_container) first locks or deletes its
  // row: they run one after another, and each sees the parts the one before it committed.

  awaitable<Result<UploadInfo>> create_upload(const Access& a, std::string project, std::string container, std::string name,
                                              PutRequest req) override {
    if (auto ok = check_object_name(name); !ok) { co_return ok.error(); }
    if (auto ok = check_meta(MetadataTarget::object, req.meta); !ok) { co_return ok.error(); }
    UploadInfo u;
    u.project_id = project;
    u.container = container;
    u.name = name;
    u.initiator = caller_id(a);
    u.created_us = now_us(clock_);
    u.upload_id = new_upload_id(u.created_us);
    u.put.content_type = std::move(req.content_type);
    u.put.meta = std::move(req.meta);
    u.put.headers = std::move(req.headers);
    u.put.tags = std::move(req.tags);
    u.put.delete_at = req.delete_at;
    auto st = co_await transact_retrying([&](Tx& tx) -> Status {
      auto c = find_container_authorized(tx, a, project, container, Op::object_write);
      if (!c) { return c.error(); }
      auto ins = tx.exec(
          "INSERT INTO object_uploads (id, container_id, name, initiator, created_us, content_type, meta, headers, tags, delete_at) "
          "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
          {u.upload_id, c->id, u.name, u.initiator, u.created_us, u.put.content_type, encode_map(u.put.meta), encode_map(u.put.headers),
           encode_map(u.put.tags), u.put.delete_at ? Value{*u.put.delete_at} : Value{}});
      if (!ins) { return ins.error(); }
      return {};
    });
    if (!st) { co_return st.error(); }
    co_return u;
  }

  awaitable<Result<UploadedPart>> upload_part(const Access& a, std::string project, std::string container, std::string name,
                                              std::string upload_id, int part_no, std::optional<std::uint64_t> content_length,
                                              std::optional<std::string> expected_md5, ByteSource& body) override {
    if (part_no < 1 || static_cast<std::uint32_t>(part_no) > config_.max_parts) {
      co_return make_error(Errc::invalid_argument,
                           "Part number must be an integer between 1 and " + std::to_string(config_.max_parts) + ", inclusive");
    }
    if (content_length && *content_length > config_.max_object_size) {
      co_return make_error(Errc::too_large, "Your request is too large.");
    }
    // Authorize and find the upload before reading any of the body.
    auto pre = co_await meta_.read([&](Tx& tx) -> Status {
      auto c = find_container_authorized(tx, a, project, container, Op::object_write);
      if (!c) { return c.error(); }
      auto u = tx.one("SELECT 1 FROM object_uploads WHERE id = $1 AND container_id = $2 AND name = $3", {upload_id, c->id, name});
      if (!u) { return u.error(); }
      if (!*u) { return no_such_upload(); }
      return {};
    });
    if (!pre) { co_return pre.error(); }

    ObjectInfo written;  // size, etag and blobs of the part
    if (auto w = co_await write_parts(body, content_length, written); !w) { co_return w.error(); }
    if (expected_md5 && ascii_lower(*expected_md5) != written.etag) {
      co_await remove_parts(written.parts);
      co_return make_error(Errc::invalid_argument, std::string(kEtagMismatch));
    }
    UploadedPart part{part_no, written.size, written.etag, now_us(clock_)};
    std::vector<std::string> replaced;  // blobs of the part this one replaces
    auto st = co_await transact_retrying([&](Tx& tx) -> Status {
      replaced.clear();
      auto c = find_container_authorized(tx, a, project, container, Op::object_write);
      if (!c) { return c.error(); }
      if (auto s = lock_upload(tx, upload_id, c->id, name); !s) { return s; }
      auto old = tx.query("DELETE FROM object_upload_parts WHERE upload_id = $1 AND part_no = $2 RETURNING blob_key",
                          {upload_id, std::int64_t{part_no}});
      if (!old) { return old.error(); }
      for (const auto& r : old->rows) {
        if (!r.is_null(0)) { replaced.push_back(r.text(0)); }
      }
      return insert_upload_part(tx, upload_id, part, written.parts);
    });
    if (!st) {
      co_await remove_parts(written.parts);  // aborted or completed meanwhile: nothing names them
      co_return st.error();
    }
    co_await remove_blobs(replaced);
    co_return part;
  }

  awaitable<Result<ObjectInfo>> complete_upload(const Access& a, std::string project, std::string container, std::string name,
                                                std::string upload_id, std::vector<CompletedPart> parts) override {
    if (parts.empty()) { co_return make_error(Errc::invalid_argument, "You must specify at least one part"); }
    for (std::size_t i = 0; i < parts.size(); ++i) {
      if (i > 0 && parts[i].part_no <= parts[i - 1].part_no) {
        co_return make_error(Errc::invalid_argument, std::string(kInvalidPartOrder));
      }
      parts[i].etag = ascii_lower(parts[i].etag);
    }
    ObjectInfo o;
    o.version_id = crypto::random_hex(16);
    o.name = name;
    o.project_id = project;
    o.container = container;
    std::vector<std::string> dropped;  // blobs of the parts the list leaves out
    // In commit_version's transaction: delete the upload and its part rows, and make `o` the
    // concatenation of the listed parts' blobs.
    CommitHook take_parts = [&](Tx& tx, const ContainerInfo& c) -> Status {
      dropped.clear();
      o.parts.clear();
      o.upload_part_sizes.clear();
      auto u = tx.one(
          "DELETE FROM object_uploads WHERE id = $1 AND container_id = $2 AND name = $3 "
          "RETURNING content_type, meta, headers, tags, delete_at",
          {upload_id, c.id, name});
      if (!u) { return u.error(); }
      if (!*u) { return no_such_upload(); }
      const Row& ur = **u;
      o.content_type = ur.text(0).empty() ? "application/octet-stream" : ur.text(0);
      o.meta = decode_map(ur.text(1));
      o.headers = decode_map(ur.text(2));
      o.tags = decode_map(ur.text(3));
      o.delete_at = ur.is_null(4) ? std::nullopt : std::optional<std::int64_t>(ur.integer(4));
      struct Stored {
        std::uint64_t size = 0;
        std::string etag;
        std::vector<Part> blobs;
      };
      std::map<int, Stored> stored;
      auto rows = tx.query("SELECT part_no, blob_key, size, part_size, etag FROM object_upload_parts WHERE upload_id = $1 "
                           "ORDER BY part_no, seq",
                           {upload_id});
      if (!rows) { return rows.error(); }
      for (const auto& r : rows->rows) {
        Stored& p = stored[static_cast<int>(r.integer(0))];
        p.size = static_cast<std::uint64_t>(r.integer(3));
        p.etag = r.text(4);
        if (!r.is_null(1)) { p.blobs.push_back(Part{r.text(1), static_cast<std::uint64_t>(r.integer(2))}); }
      }
      std::string md5s;  // the binary MD5 of every listed part, in order
      o.size = 0;
      for (std::size_t i = 0; i < parts.size(); ++i) {
        auto it = stored.find(parts[i].part_no);
        if (it == stored.end() || it->second.etag != parts[i].etag) {
          return make_error(Errc::invalid_argument, std::string(kInvalidPart));
        }
        Stored& p = it->second;
        if (i + 1 < parts.size() && p.size < config_.min_part_size) {
          return make_error(Errc::invalid_argument, std::string(kEntityTooSmall));
        }
        md5s += crypto::unhex(p.etag).value_or(std::string());
        o.size += p.size;
        o.upload_part_sizes.push_back(p.size);
        for (auto& b : p.blobs) { o.parts.push_back(std::move(b)); }
        stored.erase(it);
      }
      for (const auto& [no, p] : stored) {
        for (const auto& b : p.blobs) { dropped.push_back(b.blob_key); }
      }
      o.etag = crypto::hex(crypto::md5(md5s)) + "-" + std::to_string(parts.size());
      auto d = tx.exec("DELETE FROM object_upload_parts WHERE upload_id = $1", {upload_id});
      if (!d) { return d.error(); }
      return {};
    };
    auto committed = co_await commit_version(a, project, container, o, /*check_quota=*/true, /*only_if_absent=*/false, take_parts);
    if (!committed) { co_return committed.error(); }  // rolled back: the upload still names its blobs
    co_await remove_blobs(dropped);
    co_return o;
  }

  awaitable<Status> abort_upload(const Access& a, std::string project, std::string container, std::string name,
                                 std::string upload_id) override {
    std::vector<std::string> orphans;
    auto st = co_await transact_retrying([&](Tx& tx) -> Status {
      orphans.clear();
      auto c = find_container_authorized(tx, a, project, container, Op::object_write);
      if (!c) { return c.error(); }
      auto d = tx.exec("DELETE FROM object_uploads WHERE id = $1 AND container_id = $2 AND name = $3", {upload_id, c->id, name});
      if (!d) { return d.error(); }
      if (*d == 0) { return no_such_upload(); }
      return drop_upload_parts(tx, upload_id, orphans);
    });
    if (!st) { co_return st; }
    co_await remove_blobs(orphans);
    co_return Status{};
  }

  // Readers of the container's listings, and writers for the uploads they started.
  awaitable<Result<PartListing>> list_parts(const Access& a, std::string project, std::string container, std::string name,
                                            std::string upload_id, int part_marker, std::size_t limit) override {
    limit = std::min(limit, kMaxUploadListing);
    PartListing out;
    auto st = co_await meta_.read([&](Tx& tx) -> Status {
      out = PartListing{};
      auto c = find_container_authorized(tx, a, project, container, Op::container_list);
      bool initiator_only = false;
      if (!c && (c.error().code == Errc::forbidden || c.error().code == Errc::unauthenticated)) {
        auto w = find_container_authorized(tx, a, project, container, Op::object_write);
        if (!w) { return c.error(); }
        c = std::move(w);
        initiator_only = true;
      }
      if (!c) { return c.error(); }
      auto u = tx.one(std::string("SELECT ") + std::string(kUploadColumns) +
                          " FROM object_uploads WHERE id = $1 AND container_id = $2 AND name = $3",
                      {upload_id, c->id, name});
      if (!u) { return u.error(); }
      if (!*u) { return no_such_upload(); }
      out.upload = upload_from_row(**u, project, container);
      if (initiator_only && out.upload.initiator != caller_id(a)) { return make_error(Errc::forbidden, "Forbidden"); }
      auto rows = tx.query(
          "SELECT part_no, part_size, etag, modified_us FROM object_upload_parts WHERE upload_id = $1 AND seq = 0 AND part_no > $2 "
          "ORDER BY part_no LIMIT $3",
          {upload_id, std::int64_t{part_marker}, static_cast<std::int64_t>(limit + 1)});
      if (!rows) { return rows.error(); }
      for (const auto& r : rows->rows) {
        if (out.parts.size() == limit) {
          out.truncated = true;
          break;
        }
        out.parts.push_back(UploadedPart{static_cast<int>(r.integer(0)), static_cast<std::uint64_t>(r.integer(1)), r.text(2),
                                         r.integer(3)});
      }
      return {};
    });
    if (!st) { co_return st.error(); }
    co_return out;
  }

  // S3 ListMultipartUploads: by name, then oldest first. With key_marker alone, names after it;
  // with upload_id_marker too, also the uploads of key_marker after that one. Upload ids begin
  // with their creation time, so (name, id) orders like (name, created_us, id) and a marker
  // still places the listing after its upload was completed or aborted.
  awaitable<Result<UploadListing>> list_uploads(const Access& a, std::string project, std::string container,
                                                UploadQuery q) override {
    q.limit = std::min(q.limit, kMaxUploadListing);
    UploadListing out;
    auto st = co_await meta_.read([&](Tx& tx) -> Status {
      out = UploadListing{};
      auto c = find_container_authorized(tx, a, project, container, Op::container_list);
      if (!c) { return c.error(); }
      std::optional<std::string> from, below, after_name;  // name >= from, name < below, name > after_name
      std::optional<std::pair<std::string, std::string>> after;  // (name, id) > after
      if (!q.prefix.empty()) {
        from = q.prefix;
        below = prefix_successor(q.prefix);
      }
      if (!q.key_marker.empty() && !q.upload_id_marker.empty()) {
        after.emplace(q.key_marker, q.upload_id_marker);
      } else if (!q.key_marker.empty()) {
        after_name = q.key_marker;
      }
      const bool rolling = !q.delimiter.empty();
      if (q.limit == 0) { return {}; }
      std::size_t count = 0;
      for (;;) {
        const std::size_t batch = std::min<std::size_t>(q.limit - count + 1, rolling ? 64 : 1000);
        std::string sql = std::string("SELECT ") + std::string(kUploadColumns) + " FROM object_uploads WHERE container_id = $1";
        std::vector<Value> params{c->id};
        auto bind = [&](std::string v) {
          params.emplace_back(std::move(v));
          return "$" + std::to_string(params.size());
        };
        if (from) { sql += " AND name >= " + bind(*from); }
        if (below) { sql += " AND name < " + bind(*below); }
        if (after_name) { sql += " AND name > " + bind(*after_name); }
        if (after) {
          auto n = bind(after->first);
          sql += " AND (name > " + n + " OR (name = " + n + " AND id > " + bind(after->second) + "))";
        }
        params.emplace_back(static_cast<std::int64_t>(batch));
        sql += " ORDER BY name, created_us, id LIMIT $" + std::to_string(params.size());
        auto rows = tx.query(sql, params);
        if (!rows) { return rows.error(); }
        bool restarted = false;
        for (const auto& r : rows->rows) {
          if (count == q.limit) {
            out.truncated = true;
            return {};
          }
          UploadInfo u = upload_from_row(r, project, container);
          if (rolling) {
            auto pos = u.name.find(q.delimiter, q.prefix.size());
            if (pos != std::string::npos) {
              std::string common = u.name.substr(0, pos + q.delimiter.size());
              if (common != q.key_marker) {
                out.prefixes.push_back(common);
                ++count;
              }
              auto succ = prefix_successor(common);
              if (!succ) { return {}; }
              from = std::move(*succ);  // past every name under the common prefix
              restarted = true;
              break;
            }
          }
          after.emplace(u.name, u.upload_id);
          after_name.reset();
          out.uploads.push_back(std::move(u));
          ++count;
        }
        if (!restarted && rows->rows.size() < batch) { return {}; }
      }
    });
    if (!st) { co_return st.error(); }
    co_return out;
  }

  awaitable<Result<std::size_t>> reap_uploads(std::size_t limit) override {
    co_return co_await abort_uploads_before({}, {}, now_us(clock_) - config_.upload_expiry_s * 1000000, limit);
  }

 private:
  // Aborts uploads created before `cutoff_us` (at most `limit`): all of them, or those of one
  // container whose names start with `prefix` (a lifecycle rule's AbortIncompleteMultipartUpload).
  awaitable<Result<std::size_t>> abort_uploads_before(std::string container_id, std::string prefix, std::int64_t cutoff,
                                                      std::size_t limit) {
    std::size_t reaped = 0;
    std::vector<std::string> orphans;
    auto st = co_await transact_retrying([&](Tx& tx) -> Status {
      reaped = 0;
      orphans.clear();
      std::string sql = "SELECT id FROM object_uploads WHERE created_us < $1";
      std::vector<Value> params{cutoff};
      if (!container_id.empty()) {
        params.emplace_back(container_id);
        sql += " AND container_id = $" + std::to_string(params.size());
        if (!prefix.empty()) {
          params.emplace_back(prefix);
          sql += " AND name >= $" + std::to_string(params.size());
          if (auto succ = prefix_successor(prefix)) {
            params.emplace_back(*succ);
            sql += " AND name < $" + std::to_string(params.size());
          }
        }
      }
      params.emplace_back(static_cast<std::int64_t>(std::min<std::size_t>(limit, INT64_MAX)));
      sql += " ORDER BY created_us LIMIT $" + std::to_string(params.size());
      auto rows = tx.query(sql, params);
      if (!rows) { return rows.error(); }
      for (const auto& r : rows->rows) {
        auto d = tx.exec("DELETE FROM object_uploads WHERE id = $1", {r.text(0)});
        if (!d) { return d.error(); }
        if (*d == 0) { continue; }  // completed or aborted meanwhile
        if (auto s = drop_upload_parts(tx, r.text(0), orphans); !s) { return s; }
        ++reaped;
      }
      return {};
    });
    if (!st) { co_return st.error(); }
    co_await remove_blobs(orphans);
    co_return reaped;
  }

 private:
  // Runs inside commit_version's transaction (see there).
  using CommitHook = std::function<Status(Tx& tx, const ContainerInfo& c)>;

  static constexpr std::size_t kMaxUploadListing = 1000;  // S3's max-uploads and max-parts
  static constexpr std::string_view kUploadColumns =
      "id, name, initiator, created_us, content_type, meta, headers, tags, delete_at";

  static Error no_such_upload() { return make_error(Errc::not_found, std::string(kNoSuchUpload)); }

  static std::string caller_id(const Access& a) { return a.principal != nullptr ? a.principal->user_id : std::string(); }

  static std::string ascii_lower(std::string s) {
    for (char& ch : s) {
      if (ch >= 'A' && ch <= 'Z') { ch = static_cast<char>(ch - 'A' + 'a'); }
    }
    return s;
  }

  // 16 hex digits of the creation time, then 16 random ones: ids sort in creation order.
  static std::string new_upload_id(std::int64_t created_us) {
    char time[17];
    std::snprintf(time, sizeof time, "%016llx", static_cast<unsigned long long>(std::max<std::int64_t>(created_us, 0)));
    return std::string(time) + crypto::random_hex(8);
  }

  static UploadInfo upload_from_row(const Row& r, const std::string& project, const std::string& container) {
    UploadInfo u;
    u.upload_id = r.text(0);
    u.project_id = project;
    u.container = container;
    u.name = r.text(1);
    u.initiator = r.text(2);
    u.created_us = r.integer(3);
    u.put.content_type = r.text(4);
    u.put.meta = decode_map(r.text(5));
    u.put.headers = decode_map(r.text(6));
    u.put.tags = decode_map(r.text(7));
    if (!r.is_null(8)) { u.put.delete_at = r.integer(8); }
    return u;
  }

  // Locks the upload's row for the rest of the transaction (kNoSuchUpload when it is gone).
  static Status lock_upload(Tx& tx, const std::string& upload_id, const std::string& container_id, const std::string& name) {
    auto u = tx.exec("UPDATE object_uploads SET created_us = created_us WHERE id = $1 AND container_id = $2 AND name = $3",
                     {upload_id, container_id, name});
    if (!u) { return u.error(); }
    if (*u == 0) { return no_such_upload(); }
    return {};
  }

  // The rows of one part: one per blob, or one without a blob for an empty part.
  static Status insert_upload_part(Tx& tx, const std::string& upload_id, const UploadedPart& part, const std::vector<Part>& blobs) {
    const std::size_t n = std::max<std::size_t>(blobs.size(), 1);
    for (std::size_t i = 0; i < n; ++i) {
      Value key = i < blobs.size() ? Value{blobs[i].blob_key} : Value{};
      auto size = static_cast<std::int64_t>(i < blobs.size() ? blobs[i].size : 0);
      auto ins = tx.exec(
          "INSERT INTO object_upload_parts (upload_id, part_no, seq, blob_key, size, part_size, etag, modified_us) "
          "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
          {upload_id, std::int64_t{part.part_no}, static_cast<std::int64_t>(i), key, size, static_cast<std::int64_t>(part.size),
           part.etag, part.modified_us});
      if (!ins) { return ins.error(); }
    }
    return {};
  }

  // Deletes the part rows of an upload whose row is already deleted; its blobs go to `orphans`.
  static Status drop_upload_parts(Tx& tx, const std::string& upload_id, std::vector<std::string>& orphans) {
    auto rows = tx.query("DELETE FROM object_upload_parts WHERE upload_id = $1 RETURNING blob_key", {upload_id});
    if (!rows) { return rows.error(); }
    for (const auto& r : rows->rows) {
      if (!r.is_null(0)) { orphans.push_back(r.text(0)); }
    }
    return {};
  }

  // Aborts every upload of a container that is being deleted. (An upload created while the
  // deletion commits may outlive it; no part can reach it, as its container is gone, and the
  // reaper removes its row.)
  static Status drop_container_uploads(Tx& tx, const std::string& container_id, std::vector<std::string>& orphans) {
    auto rows = tx.query("DELETE FROM object_uploads WHERE container_id = $1 RETURNING id", {container_id});
    if (!rows) { return rows.error(); }
    for (const auto& r : rows->rows) {
      if (auto s = drop_upload_parts(tx, r.text(0), orphans); !s) { return s; }
    }
    return {};
  }
  // --- end of S3 multipart uploads ---------------------------------------------------------------

 private:
  awaitable<void> remove_blobs(const std::vector<std::string>& keys) {
    for (const auto& k : keys) {
      if (auto st = co_await blobs_.remove(k); !st) { log::warn("object: cannot remove blob {}: {}", k, st.error().detail); }
    }
  }

  // meta_.transact, run again when the function found its rows changed under it (kRaced).
  awaitable<Status> transact_retrying(store::TxFn fn) {
    for (int attempt = 0;; ++attempt) {
      auto st = co_await meta_.transact(fn);
      if (st || !is_raced(st.error()) || attempt == 20) { co_return st; }
    }
  }

  std::int64_t unix_ms() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(clock_.now().time_since_epoch()).count();
  }

  // Streams the body into one blob, or into blobs of part_size bytes; sets size, etag, parts.
  // The blobs of a large object overlap: the next one receives while the last one drains
  // (PartWrite), two at a time, so a failure costs at most one part of received bytes.
  awaitable<Status> write_parts(ByteSource& body, std::optional<std::uint64_t> content_length, ObjectInfo& o) {
    if (content_length && *content_length <= config_.part_size) {
      PartSource part(body, {}, *content_length + 1);
      std::string key = store::new_blob_key();
      auto info = co_await blobs_.put(key, part, *content_length);
      if (!info) { co_return part_error(info.error()); }
      o.parts.push_back(Part{key, info->size});
      if (info->size != *content_length) {
        co_await remove_parts(o.parts);
        co_return make_error(Errc::invalid_argument, "The body ended before Content-Length bytes");
      }
      o.etag = info->md5_hex;
      if (info->size == 0) {
        co_await remove_parts(o.parts);
        o.etag = crypto::hex(crypto::md5(""));
      }
      o.size = info->size;
      co_return Status{};
    }
    crypto::Hasher whole(crypto::Digest::md5);
    auto ex = co_await boost::asio::this_coro::executor;
    std::vector<std::shared_ptr<PartWrite>> writes;
    std::optional<Error> failure;
    std::uint64_t received = 0;
    std::string head;
    for (bool first = true;; first = false) {
      if (!first) {
        // Peek one chunk: the body may end exactly on a part boundary.
        head.assign(64 * 1024, '\0');
        auto n = co_await body.read(std::span<char>(head.data(), head.size()));
        if (!n) {
          failure = n.error();
          break;
        }
        if (*n == 0) { break; }
        head.resize(*n);
      }
      std::uint64_t limit = std::min(config_.part_size, config_.max_object_size - received + 1);
      auto w = std::make_shared<PartWrite>(ex, body, std::move(head), limit);
      head.clear();
      writes.push_back(w);
      boost::asio::co_spawn(ex, PartWrite::run(w, blobs_, config_.part_size, whole), boost::asio::detached);
      co_await w->wait_source_done();
      if (auto e = w->failed()) {
        failure = std::move(*e);
        break;
      }
      received += limit - w->source.left();
      if (received > config_.max_object_size) {
        failure = make_error(Errc::too_large, "Your request is too large.");
        break;
      }
      if (w->source.body_ended()) { break; }
      // The one before must be durable before a third starts receiving.
      if (writes.size() >= 2) {
        if (auto r = co_await writes[writes.size() - 2]->wait_done(); !r) {
          failure = r.error();
          break;
        }
      }
    }
    std::uint64_t total = 0;
    for (const auto& w : writes) {
      auto r = co_await w->wait_done();
      if (!r && !failure) { failure = r.error(); }
      o.parts.push_back(Part{w->key, r ? r->size : 0});
      if (r) { total += r->size; }
    }
    if (failure) {
      co_await remove_parts(o.parts);
      co_return part_error(*failure);
    }
    o.etag = crypto::hex(whole.finish());
    if (total == 0) {
      co_await remove_parts(o.parts);
      o.parts.clear();
    }
    if (content_length && total != *content_length) {
      co_await remove_parts(o.parts);
      co_return make_error(Errc::invalid_argument, "The body ended before Content-Length bytes");
    }
    o.size = total;
    co_return Status{};
  }

  static Error part_error(const Error& e) {
    if (e.code == Errc::too_large) { return make_error(Errc::too_large, "Your request is too large."); }
    return e;
  }

  awaitable<void> remove_parts(std::vector<Part>& parts) {
    for (const auto& p : parts) { (void)co_await blobs_.remove(p.blob_key); }
    parts.clear();
  }

  // One transaction: re-check the container and quota, archive or drop the current version,
  // insert `o` as current, update the counters. Removes blobs that lost their last name.
  // `hook`, when set, runs in the same transaction once the container is found, before `o` is
  // used (complete_upload fills `o` from the upload's parts there and deletes the upload).
  awaitable<Status> commit_version(const Access& a, const std::string& project, const std::string& container, ObjectInfo& o,
                                   bool check_quota, bool only_if_absent = false, const CommitHook& hook = {}) {
    std::vector<std::string> orphans;
    for (int attempt = 0;; ++attempt) {
      o.modified_us = now_us(clock_);
      auto st = co_await transact_retrying([&](Tx& tx) -> Status {
        orphans.clear();
        auto c = find_container_authorized(tx, a, project, container, Op::object_write);
        if (!c) { return c.error(); }
        o.container_id = c->id;
        if (hook) {
          if (auto s = hook(tx, *c); !s) { return s; }
        }
        auto old = load_current(tx, c->id, o.name);
        if (!old) { return old.error(); }
        if (only_if_absent && *old && !(*old)->delete_marker) { return make_error(Errc::precondition_failed, "Precondition Failed"); }
        if (auto mode = s3_versioning(*c); mode != S3Versioning::off) {
          return commit_s3_version(tx, *c, mode, *old, o, check_quota, orphans);
        }
        Result<std::optional<ContainerInfo>> archive = std::optional<ContainerInfo>{};
        if (*old && !(*old)->delete_marker) {
          archive = versions_container(tx, *c);
          if (!archive) { return archive.error(); }
        }
        const bool archiving = *old && *archive && !(*old)->delete_marker;
        // Deltas for this container and for the account: an archived version leaves the
        // container but stays in the account.
        std::int64_t dc_objects = 1, dc_bytes = static_cast<std::int64_t>(o.size);
        std::int64_t da_objects = 1, da_bytes = static_cast<std::int64_t>(o.size);
        if (*old) {
          dc_objects -= 1;
          dc_bytes -= static_cast<std::int64_t>((*old)->info.size);
          if (!archiving) {
            da_objects -= 1;
            da_bytes -= static_cast<std::int64_t>((*old)->info.size);
          }
        }
        const auto quota_bytes = check_quota ? meta_number(c->meta, kMetaQuotaBytes) : std::nullopt;
        const auto quota_count = check_quota ? meta_number(c->meta, kMetaQuotaCount) : std::nullopt;
        if (quota_bytes || quota_count) {
          // The quota is checked and the usage taken in one statement on the container row, so
          // concurrent uploads (PostgreSQL runs them at once) cannot all fit in the same room.
          auto u = tx.exec(
              "UPDATE object_containers SET object_count = object_count + $1, bytes_used = bytes_used + $2 "
              "WHERE id = $3 AND object_count + $1 <= $4 AND bytes_used + $2 <= $5",
              {dc_objects, dc_bytes, c->id, quota_count ? static_cast<std::int64_t>(*quota_count) : INT64_MAX,
               quota_bytes ? static_cast<std::int64_t>(*quota_bytes) : INT64_MAX});
          if (!u) { return u.error(); }
          if (*u == 0) {
            // Either the room is gone or the container is.
            auto still = load_container(tx, project, container);
            if (!still) { return still.error(); }
            if (!*still) { return raced(); }
            return make_error(Errc::quota_exceeded, std::string(kQuotaExceeded));
          }
          dc_objects = 0;  // taken
          dc_bytes = 0;
        }
        if (archiving) {
          ObjectInfo prev = (*old)->info;
          if (auto s = move_to_archive(tx, **archive, prev); !s) { return s; }
        } else if (*old) {
          if (auto s = drop_version(tx, (*old)->info, orphans); !s) { return s; }
        }
        if (auto s = insert_version(tx, o); !s) { return s; }
        if (auto s = add_container_usage(tx, c->id, dc_objects, dc_bytes); !s) { return s; }
        return add_account_usage(tx, project, da_objects, da_bytes);
      });
      if (!st && st.error().code == Errc::already_exists && attempt < 3) { continue; }  // a concurrent PUT of the same name
      if (!st) { co_return st.error(); }
      break;
    }
    co_await remove_blobs(orphans);
    co_return Status{};
  }

  // Moves `v` (a current version of `c`) into the archive under its versioned name. Usage moves
  // from `c` to the archive within the account, so the account's counters do not change; the
  // caller accounts for `c`'s side.
  Status move_to_archive(Tx& tx, const ContainerInfo& archive, ObjectInfo& v) {
    std::string archived = archive_name(v.name, v.modified_us);
    auto u = tx.exec("UPDATE object_versions SET container_id = $1, name = $2 WHERE id = $3", {archive.id, archived, v.version_id});
    if (!u) { return u.error(); }
    if (*u == 0) { return raced(); }
    return add_container_usage(tx, archive.id, 1, static_cast<std::int64_t>(v.size));
  }

  // The archive container of a versioned container; nullopt when versioning is off.
  // Errc::precondition_failed when it is on but the archive does not exist: overwriting or
  // deleting then would lose the current version, so the write is refused (as Swift does).
  Result<std::optional<ContainerInfo>> versions_container(Tx& tx, const ContainerInfo& c) {
    auto it = c.sys.find(std::string(kSysVersionsLocation));
    if (it == c.sys.end() || it->second.empty() || it->second == c.name) { return std::optional<ContainerInfo>{}; }
    auto archive = load_container(tx, c.project_id, it->second);
    if (!archive) { return archive.error(); }
    if (!*archive) { return make_error(Errc::precondition_failed, "Versions container does not exist: " + it->second); }
    return archive;
  }

  static VersionsMode versions_mode(const ContainerInfo& c) {
    auto it = c.sys.find(std::string(kSysVersionsMode));
    return it != c.sys.end() && it->second == "history" ? VersionsMode::history : VersionsMode::stack;
  }

  // The source of a copy: the current version, or the version the request names.
  awaitable<Result<ObjectInfo>> copy_source(const Access& a, const std::string& project, const std::string& container,
                                            const std::string& name, const CopyRequest& req) {
    if (req.src_version_id.empty()) { co_return co_await head_object(a, project, container, name); }
    auto v = co_await head_version(a, project, container, name, req.src_version_id);
    if (v && v->delete_marker) {
      co_return make_error(Errc::invalid_argument, "The source of a copy request may not specifically refer to a delete marker by version id.");
    }
    co_return v;
  }

  // What a copy takes besides metadata: the source's tags unless the request brings its own, and
  // the flags of a new current version (commit_version sets null_version by the versioning state).
  static Status prepare_copy(const CopyRequest& req, ObjectInfo& o) {
    if (req.fresh_tags) { o.tags = req.put.tags; }
    if (auto ok = check_tags(o.tags); !ok) { return ok; }
    o.is_current = true;
    o.null_version = true;
    o.delete_marker = false;
    return {};
  }

  // list_versions' scan: seeks on (container_id, name, modified_us) from the markers, and past
  // each common prefix when a delimiter rolls names up.
  Status run_version_listing(Tx& tx, const ContainerInfo& c, const VersionQuery& q, std::int64_t now_s, VersionListing& out) {
    if (q.limit == 0) { return {}; }
    std::optional<std::string> ge, gt, lt;  // name bounds
    struct After {
      std::string name, id;
      std::int64_t modified_us = 0;
    };
    std::optional<After> after;  // the versions of after->name older than (modified_us, id)
    if (!q.prefix.empty()) {
      ge = q.prefix;
      lt = prefix_successor(q.prefix);
    }
    if (!q.key_marker.empty()) {
      if (q.version_id_marker.empty()) {
        gt = q.key_marker;
      } else {
        auto m = load_version(tx, c.id, q.key_marker, q.version_id_marker);
        if (!m) { return m.error(); }
        if (!*m) { return make_error(Errc::invalid_argument, "Invalid version id specified"); }
        after = After{q.key_marker, (*m)->info.version_id, (*m)->info.modified_us};
      }
    }
    const bool rolling = !q.delimiter.empty();
    const std::string columns = scan_columns();
    bool last_was_prefix = false;
    for (;;) {
      const std::size_t want = q.limit - out.versions.size() - out.prefixes.size();
      const std::size_t batch = rolling ? std::min<std::size_t>(want + 1, 64) : std::min<std::size_t>(want + 1, 1000);
      std::string sql =
          "SELECT " + columns + " FROM object_versions v WHERE v.container_id = $1 AND (v.delete_at IS NULL OR v.delete_at > $2)";
      std::vector<Value> params{c.id, now_s};
      auto bind = [&](Value v) {
        params.push_back(std::move(v));
        return "$" + std::to_string(params.size());
      };
      if (ge) { sql += " AND v.name >= " + bind(*ge); }
      if (gt) { sql += " AND v.name > " + bind(*gt); }
      if (lt) { sql += " AND v.name < " + bind(*lt); }
      if (after) {
        const std::string n = bind(after->name), m = bind(after->modified_us), i = bind(after->id);
        sql += " AND v.name >= " + n + " AND (v.name > " + n + " OR v.modified_us < " + m + " OR (v.modified_us = " + m +
               " AND v.id < " + i + "))";
      }
      sql += " ORDER BY v.name, v.modified_us DESC, v.id DESC LIMIT " + bind(static_cast<std::int64_t>(batch));
      auto rows = tx.query(sql, params);
      if (!rows) { return rows.error(); }
      bool restarted = false;
      for (const auto& r : rows->rows) {
        Loaded l = object_from_row(r);
        std::optional<std::string> common;
        if (rolling) {
          if (auto pos = l.info.name.find(q.delimiter, q.prefix.size()); pos != std::string::npos) {
            common = l.info.name.substr(0, pos + q.delimiter.size());
          }
        }
        const bool listed = !common || *common != q.key_marker;  // a key marker that is a common prefix was listed already
        if (listed && out.versions.size() + out.prefixes.size() == q.limit) {
          out.truncated = true;
          if (last_was_prefix) {
            out.next_key_marker = out.prefixes.back();
          } else {
            const ObjectInfo& v = out.versions.back();
            out.next_key_marker = v.name;
            out.next_version_id_marker = v.null_version ? "null" : v.version_id;
          }
          return {};
        }
        if (common) {
          if (listed) {
            out.prefixes.push_back(*common);
            last_was_prefix = true;
          }
          auto succ = prefix_successor(*common);
          if (!succ) { return {}; }
          ge = std::move(*succ);
          gt.reset();
          after.reset();
          restarted = true;
          break;
        }
        gt.reset();
        after = After{l.info.name, l.info.version_id, l.info.modified_us};
        out.versions.push_back(std::move(l.info));
        last_was_prefix = false;
      }
      if (!restarted && rows->rows.size() < batch) { return {}; }
    }
  }

  enum class LifecycleAction { expire_current, remove_noncurrent, remove_lone_marker };

  // One action of one rule on one container, on at most `budget` versions, each in its own
  // transaction that checks the version still qualifies. Returns how many it acted on.
  awaitable<Result<std::size_t>> apply_lifecycle_action(const ContainerInfo& c, const LifecycleRule& rule, LifecycleAction action,
                                                        std::int64_t cutoff, std::size_t budget) {
    constexpr std::size_t kBatch = 256;
    std::size_t done = 0;
    std::string after_name, after_id;
    bool started = false;
    for (;;) {
      std::vector<ObjectInfo> candidates;
      auto st = co_await meta_.read([&](Tx& tx) -> Status {
        candidates.clear();
        std::string sql = "SELECT " + scan_columns() + " FROM object_versions v WHERE v.container_id = $1";
        std::vector<Value> params{c.id};
        auto bind = [&](Value v) {
          params.push_back(std::move(v));
          return "$" + std::to_string(params.size());
        };
        switch (action) {
          case LifecycleAction::expire_current:
            sql += " AND v.current = 1 AND v.delete_marker = 0 AND v.modified_us <= " + bind(cutoff);
            break;
          case LifecycleAction::remove_noncurrent:
            sql += " AND v.current = 0 AND v.noncurrent_us <= " + bind(cutoff);
            break;
          case LifecycleAction::remove_lone_marker:
            sql += " AND v.current = 1 AND v.delete_marker = 1 AND NOT EXISTS (SELECT 1 FROM object_versions o "
                   "WHERE o.container_id = v.container_id AND o.name = v.name AND o.id <> v.id)";
            break;
        }
        if (!rule.prefix.empty()) {
          sql += " AND v.name >= " + bind(rule.prefix);
          if (auto succ = prefix_successor(rule.prefix)) { sql += " AND v.name < " + bind(*succ); }
        }
        if (started) {
          const std::string n = bind(after_name);
          sql += " AND v.name >= " + n + " AND (v.name > " + n + " OR v.id > " + bind(after_id) + ")";
        }
        sql += " ORDER BY v.name, v.id LIMIT " + bind(static_cast<std::int64_t>(kBatch));
        auto rows = tx.query(sql, params);
        if (!rows) { return rows.error(); }
        for (const auto& r : rows->rows) { candidates.push_back(object_from_row(r).info); }
        return {};
      });
      if (!st) { co_return st.error(); }
      for (const auto& v : candidates) {
        after_name = v.name;
        after_id = v.version_id;
        started = true;
        if (action != LifecycleAction::remove_lone_marker && !tags_match(rule.tags, v.tags)) { continue; }
        auto acted = co_await lifecycle_act(c, action, v);
        if (!acted) { co_return acted.error(); }
        if (*acted && ++done == budget) { co_return done; }
      }
      if (candidates.size() < kBatch) { co_return done; }
    }
  }

  // Applies a lifecycle action to the version `v` was, if it is still that (true when it did).
  awaitable<Result<bool>> lifecycle_act(const ContainerInfo& c, LifecycleAction action, const ObjectInfo& v) {
    std::vector<std::string> orphans;
    bool acted = false;
    const std::int64_t now = now_us(clock_);
    auto st = co_await transact_retrying([&](Tx& tx) -> Status {
      orphans.clear();
      acted = false;
      auto fresh = load_container(tx, c.project_id, c.name);
      if (!fresh) { return fresh.error(); }
      if (!*fresh || (*fresh)->id != c.id) { return {}; }
      const ContainerInfo& container = **fresh;
      auto l = load_version(tx, c.id, v.name, v.version_id);
      if (!l) { return l.error(); }
      if (!*l) { return {}; }
      const ObjectInfo& row = (*l)->info;
      switch (action) {
        case LifecycleAction::expire_current: {
          if (!row.is_current || row.delete_marker) { return {}; }
          acted = true;
          if (auto mode = s3_versioning(container); mode != S3Versioning::off) {
            ObjectInfo marker;
            return delete_s3_versioned(tx, container, mode, row.name, now, marker, orphans);
          }
          if (auto s = lock_version(tx, row); !s) { return s; }
          if (auto s = drop_version(tx, row, orphans); !s) { return s; }
          return take_usage(tx, container, -1, -static_cast<std::int64_t>(row.size), false);
        }
        case LifecycleAction::remove_noncurrent: {
          if (row.is_current) { return {}; }
          acted = true;
          if (auto s = lock_version(tx, row); !s) { return s; }
          if (auto s = drop_version(tx, row, orphans); !s) { return s; }
          return take_usage(tx, container, 0, -static_cast<std::int64_t>(row.size), false);
        }
        case LifecycleAction::remove_lone_marker: {
          if (!row.is_current || !row.delete_marker) { return {}; }
          auto other = tx.one("SELECT 1 FROM object_versions WHERE container_id = $1 AND name = $2 AND id <> $3 LIMIT 1",
                              {c.id, row.name, row.version_id});
          if (!other) { return other.error(); }
          if (*other) { return {}; }
          acted = true;
          if (auto s = lock_version(tx, row); !s) { return s; }
          if (auto s = drop_version(tx, row, orphans); !s) { return s; }
          return take_usage(tx, container, 0, 0, false);
        }
      }
      return {};
    });
    if (!st) { co_return st.error(); }
    co_await remove_blobs(orphans);
    co_return acted;
  }

  // Loads the container and decides whether `a` may do `op` in it. Not found and forbidden are
  // told apart only to callers who may read the account.
  Result<ContainerInfo> find_container_authorized(Tx& tx, const Access& a, const std::string& project, const std::string& name, Op op) {
    auto c = load_container(tx, project, name);
    if (!c) { return c.error(); }
    if (owner_may(policy_, a, op, project)) {
      if (!*c) { return make_error(Errc::not_found, std::string(kNoSuchContainer)); }
      return std::move(**c);
    }
    auto acct = load_account(tx, project);
    if (!acct) { return acct.error(); }
    if (auto ok = authorize(policy_, a, op, project, &*acct, *c ? &**c : nullptr); !ok) { return ok.error(); }
    if (!*c) { return make_error(Errc::not_found, std::string(kNoSuchContainer)); }
    return std::move(**c);
  }

  Status upsert_account(Tx& tx, const std::string& project, const Metadata& meta, const Metadata& sys) {
    auto st = tx.exec(
        "INSERT INTO object_accounts (project_id, created_ms, meta, sys) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT (project_id) DO UPDATE SET meta = excluded.meta, sys = excluded.sys",
        {project, unix_ms(), encode_map(meta), encode_map(sys)});
    if (!st) { return st.error(); }
    return {};
  }

  static void add_window(std::string& sql, std::vector<Value>& params, const ListWindow& w, std::size_t limit) {
    if (w.gt) {
      params.emplace_back(*w.gt);
      sql += " AND name > $" + std::to_string(params.size());
    }
    if (w.ge) {
      params.emplace_back(*w.ge);
      sql += " AND name >= $" + std::to_string(params.size());
    }
    if (w.lt) {
      params.emplace_back(*w.lt);
      sql += " AND name < $" + std::to_string(params.size());
    }
    sql += w.descending ? " ORDER BY name DESC" : " ORDER BY name";
    params.emplace_back(static_cast<std::int64_t>(limit));
    sql += " LIMIT $" + std::to_string(params.size());
  }

  store::MetaStore& meta_;
  store::BlobStore& blobs_;
  const identity::Policy& policy_;
  EngineConfig config_;
  const Clock& clock_;
};

}  // namespace

// The lifecycle codec: a JSON array of rule objects; optional fields are left out when unset.
std::string encode_lifecycle(const std::vector<LifecycleRule>& rules) {
  json::array out;
  for (const auto& r : rules) {
    json::object o;
    o["id"] = r.id;
    o["enabled"] = r.enabled;
    o["prefix"] = r.prefix;
    json::object tags;
    for (const auto& [k, v] : r.tags) { tags[k] = v; }
    o["tags"] = std::move(tags);
    if (r.expiration_days) { o["expiration_days"] = *r.expiration_days; }
    if (r.expiration_date) { o["expiration_date"] = *r.expiration_date; }
    if (r.noncurrent_days) { o["noncurrent_days"] = *r.noncurrent_days; }
    if (r.abort_upload_days) { o["abort_upload_days"] = *r.abort_upload_days; }
    o["expired_delete_markers"] = r.expired_delete_markers;
    out.push_back(std::move(o));
  }
  return json::serialize(out);
}

namespace {
Error bad_lifecycle(std::string_view why) {
  return make_error(Errc::invalid_argument, "The lifecycle configuration is not valid: " + std::string(why));
}

// A whole number of days: a positive integer that fits an int.
Result<int> lifecycle_days(const json::value& v, std::string_view field) {
  if (!v.is_int64() && !v.is_uint64()) { return bad_lifecycle(std::string(field) + " must be a whole number"); }
  const auto n = v.is_int64() ? v.as_int64() : static_cast<std::int64_t>(std::min<std::uint64_t>(v.as_uint64(), INT64_MAX));
  if (n <= 0 || n > std::numeric_limits<int>::max()) { return bad_lifecycle(std::string(field) + " must be a positive number of days"); }
  return static_cast<int>(n);
}
}  // namespace

Result<std::vector<LifecycleRule>> decode_lifecycle(std::string_view text) {
  boost::system::error_code ec;
  auto parsed = json::parse(text, ec);
  if (ec) { return bad_lifecycle("malformed JSON"); }
  if (!parsed.is_array()) { return bad_lifecycle("not a list of rules"); }
  std::vector<LifecycleRule> rules;
  for (const auto& item : parsed.as_array()) {
    if (!item.is_object()) { return bad_lifecycle("a rule is not an object"); }
    LifecycleRule r;
    for (const auto& [key, v] : item.as_object()) {
      if (key == "id" || key == "prefix") {
        if (!v.is_string()) { return bad_lifecycle(std::string(key) + " must be text"); }
        (key == "id" ? r.id : r.prefix) = std::string(v.as_string());
      } else if (key == "enabled" || key == "expired_delete_markers") {
        if (!v.is_bool()) { return bad_lifecycle(std::string(key) + " must be true or false"); }
        (key == "enabled" ? r.enabled : r.expired_delete_markers) = v.as_bool();
      } else if (key == "tags") {
        if (!v.is_object()) { return bad_lifecycle("tags must be an object"); }
        for (const auto& [tk, tv] : v.as_object()) {
          if (!tv.is_string()) { return bad_lifecycle("tag values must be text"); }
          r.tags.emplace(std::string(tk), std::string(tv.as_string()));
        }
      } else if (key == "expiration_date") {
        if (!v.is_int64()) { return bad_lifecycle("expiration_date must be unix seconds"); }
        r.expiration_date = v.as_int64();
      } else if (key == "expiration_days" || key == "noncurrent_days" || key == "abort_upload_days") {
        auto days = lifecycle_days(v, key);
        if (!days) { return days.error(); }
        (key == "expiration_days" ? r.expiration_days : key == "noncurrent_days" ? r.noncurrent_days : r.abort_upload_days) = *days;
      }
      // Other keys are ignored: rules written by a newer version still apply what they can.
    }
    rules.push_back(std::move(r));
  }
  return rules;
}

std::unique_ptr<ObjectService> make_object_service(store::MetaStore& meta, store::BlobStore& blobs, const identity::Policy& policy,
                                                   EngineConfig config, const Clock& clock) {
  return std::make_unique<ObjectServiceImpl>(meta, blobs, policy, config, clock);
}

namespace {
// One reaper round of lifecycle rules: batches until a batch does less than it could.
awaitable<void> apply_lifecycle_round(ObjectService& objects) {
  for (;;) {
    auto n = co_await objects.apply_lifecycle(1000);
    if (!n) {
      log::warn("object: lifecycle: {} {}", n.error().message, n.error().detail);
      co_return;
    }
    if (*n > 0) { log::info("object: lifecycle rules acted on {} versions", *n); }
    if (*n < 1000) { co_return; }
  }
}
}  // namespace

awaitable<void> run_reaper(ObjectService& objects, std::chrono::milliseconds interval, store::Lease* lease) {
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
  for (;;) {
    timer.expires_after(interval);
    co_await timer.async_wait(boost::asio::use_awaitable);
    if (lease != nullptr && !co_await lease->hold()) { continue; }
    for (;;) {
      auto n = co_await objects.reap_expired(1000);
      if (!n) {
        log::warn("object: expiry reaper: {} {}", n.error().message, n.error().detail);
        break;
      }
      if (*n > 0) { log::info("object: reaped {} expired objects", *n); }
      if (*n < 1000) { break; }
    }
    for (;;) {
      auto n = co_await objects.reap_uploads(1000);
      if (!n) {
        log::warn("object: upload reaper: {} {}", n.error().message, n.error().detail);
        break;
      }
      if (*n > 0) { log::info("object: aborted {} abandoned multipart uploads", *n); }
      if (*n < 1000) { break; }
    }
    co_await apply_lifecycle_round(objects);
  }
}

Result<ConsistencyReport> check_consistency(store::MetaStore& meta, store::BlobStore& blobs, bool remove_unreferenced) {
  ConsistencyReport report;
  std::unordered_set<std::string> named;
  auto st = meta.read_sync([&](Tx& tx) -> Status {
    auto a = tx.query("SELECT blob_key FROM object_versions WHERE blob_key IS NOT NULL");
    if (!a) { return a.error(); }
    for (const auto& r : a->rows) { named.insert(r.text(0)); }
    auto b = tx.query("SELECT blob_key FROM object_parts");
    if (!b) { return b.error(); }
    for (const auto& r : b->rows) { named.insert(r.text(0)); }
    auto up = tx.query("SELECT blob_key FROM object_upload_parts WHERE blob_key IS NOT NULL");  // parts of uploads in progress
    if (!up) { return up.error(); }
    for (const auto& r : up->rows) { named.insert(r.text(0)); }
    auto n = tx.one("SELECT COUNT(*) FROM object_versions");
    if (!n) { return n.error(); }
    report.versions = static_cast<std::uint64_t>((*n)->integer(0));
    // The counters' definition (object_service.h): current rows that are not delete markers, and
    // the bytes of every row.
    auto c = tx.query(
        "SELECT c.project_id, c.name, c.object_count, c.bytes_used, "
        "COALESCE(SUM(CASE WHEN v.current = 1 AND v.delete_marker = 0 THEN 1 ELSE 0 END), 0), COALESCE(SUM(v.size), 0) FROM object_containers c "
        "LEFT JOIN object_versions v ON v.container_id = c.id GROUP BY c.id, c.project_id, c.name, c.object_count, c.bytes_used");
    if (!c) { return c.error(); }
    for (const auto& r : c->rows) {
      if (r.integer(2) != r.integer(4) || r.integer(3) != r.integer(5)) {
        report.counter_mismatches.push_back("container " + r.text(0) + "/" + r.text(1) + ": rows say " + r.text(4) + " objects, " +
                                            r.text(5) + " bytes; counters say " + r.text(2) + ", " + r.text(3));
      }
    }
    auto acc = tx.query(
        "SELECT a.project_id, a.container_count, a.object_count, a.bytes_used, COUNT(c.id), COALESCE(SUM(c.object_count), 0), "
        "COALESCE(SUM(c.bytes_used), 0) FROM object_accounts a LEFT JOIN object_containers c ON c.project_id = a.project_id "
        "GROUP BY a.project_id, a.container_count, a.object_count, a.bytes_used");
    if (!acc) { return acc.error(); }
    for (const auto& r : acc->rows) {
      if (r.integer(1) != r.integer(4) || r.integer(2) != r.integer(5) || r.integer(3) != r.integer(6)) {
        report.counter_mismatches.push_back("account " + r.text(0) + ": containers say " + r.text(4) + " containers, " + r.text(5) +
                                            " objects, " + r.text(6) + " bytes; counters say " + r.text(1) + ", " + r.text(2) + ", " +
                                            r.text(3));
      }
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

}  // namespace ciel::object
