// The compute engine's catalogue (compute.h says what it models).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <unordered_set>

#include "compute/compute.h"
#include "compute/engine/rows.h"
#include "compute/scheduler.h"
#include "core/log/log.h"
#include "core/blocking.h"
#include "core/crypto/crypto.h"
#include "core/process.h"
#include "identity/policy.h"
#include "identity/principal.h"
#include "store/blob_store.h"
#include "store/meta_store.h"

namespace ciel::compute {
namespace {

constexpr const char* kNoValidHost = "No valid host was found. There are not enough hosts available.";

using store::Row;
using store::Tx;
using store::Value;
namespace json = boost::json;

using rows::json_map;
using rows::map_json;
using rows::now_ms;
using rows::now_s;
using rows::server_from;
using rows::uuid;
Value i64(std::uint64_t v) { return Value{static_cast<std::int64_t>(v)}; }

std::string list_json(const std::vector<std::string>& l) {
  json::array a;
  for (const auto& s : l) { a.emplace_back(s); }
  return json::serialize(a);
}
std::vector<std::string> json_list(const std::string& text) {
  std::vector<std::string> out;
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  if (ec || !v.is_array()) { return out; }
  for (const auto& s : v.as_array()) {
    if (s.is_string()) { out.emplace_back(s.as_string()); }
  }
  return out;
}

constexpr std::string_view kImageCols =
    "id, name, owner, status, visibility, protected, os_hidden, disk_format, container_format, size, virtual_size, checksum, "
    "os_hash_algo, os_hash_value, min_disk, min_ram, properties, tags, created_s, updated_s, blob_key";

Image image_from(const Row& r) {
  Image i;
  i.id = r.text(0);
  i.name = r.text(1);
  i.owner = r.text(2);
  i.status = r.text(3);
  i.visibility = r.text(4);
  i.is_protected = r.boolean(5);
  i.os_hidden = r.boolean(6);
  i.disk_format = r.text(7);
  i.container_format = r.text(8);
  if (!r.is_null(9)) { i.size = static_cast<std::uint64_t>(r.integer(9)); }
  if (!r.is_null(10)) { i.virtual_size = static_cast<std::uint64_t>(r.integer(10)); }
  i.checksum = r.text(11);
  i.os_hash_algo = r.text(12);
  i.os_hash_value = r.text(13);
  i.min_disk = r.integer(14);
  i.min_ram = r.integer(15);
  i.properties = json_map(r.text(16));
  i.tags = json_list(r.text(17));
  i.created_s = r.integer(18);
  i.updated_s = r.integer(19);
  i.blob_key = r.text(20);
  return i;
}

constexpr std::string_view kFlavorCols =
    "id, name, description, vcpus, ram_mib, disk_gib, ephemeral_gib, swap_mib, rxtx_factor, is_public, disabled, extra_specs";

Flavor flavor_from(const Row& r) {
  Flavor f;
  f.id = r.text(0);
  f.name = r.text(1);
  f.description = r.text(2);
  f.vcpus = static_cast<std::uint32_t>(r.integer(3));
  f.ram_mib = static_cast<std::uint64_t>(r.integer(4));
  f.disk_gib = static_cast<std::uint64_t>(r.integer(5));
  f.ephemeral_gib = static_cast<std::uint64_t>(r.integer(6));
  f.swap_mib = static_cast<std::uint64_t>(r.integer(7));
  f.rxtx_factor = r.real(8);
  f.is_public = r.boolean(9);
  f.disabled = r.boolean(10);
  f.extra_specs = json_map(r.text(11));
  return f;
}

bool valid_disk_format(std::string_view f) {
  for (auto k : {"ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso", "ploop"}) {
    if (f == k) { return true; }
  }
  return false;
}
bool valid_container_format(std::string_view f) {
  for (auto k : {"ami", "ari", "aki", "bare", "ovf", "ova", "docker", "compressed"}) {
    if (f == k) { return true; }
  }
  return false;
}
bool valid_visibility(std::string_view v) { return v == "public" || v == "private" || v == "shared" || v == "community"; }

// An OpenSSH public key line: its type, and Nova's fingerprint (MD5 of the key blob, hex pairs
// joined by ':'). Errc::invalid_argument for anything else.
Result<std::pair<std::string, std::string>> parse_public_key(std::string_view line) {
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r' || line.back() == ' ')) { line.remove_suffix(1); }
  auto sp = line.find(' ');
  if (sp == std::string_view::npos) { return make_error(Errc::invalid_argument, "Keypair data is invalid: not an OpenSSH public key"); }
  std::string type(line.substr(0, sp));
  auto rest = line.substr(sp + 1);
  auto sp2 = rest.find(' ');
  auto b64 = rest.substr(0, sp2);
  auto blob = crypto::unbase64(b64);
  bool known = type == "ssh-rsa" || type == "ssh-ed25519" || type == "ssh-dss" || type.starts_with("ecdsa-sha2-");
  if (!known || !blob || blob->size() < 4 + type.size()) {
    return make_error(Errc::invalid_argument, "Keypair data is invalid: not an OpenSSH public key");
  }
  std::uint32_t n = (static_cast<unsigned char>((*blob)[0]) << 24) | (static_cast<unsigned char>((*blob)[1]) << 16) |
                    (static_cast<unsigned char>((*blob)[2]) << 8) | static_cast<unsigned char>((*blob)[3]);
  if (n != type.size() || blob->substr(4, n) != type) {
    return make_error(Errc::invalid_argument, "Keypair data is invalid: the key does not match its type");
  }
  std::string md5 = crypto::hex(crypto::md5(*blob));
  std::string fp;
  for (std::size_t i = 0; i < md5.size(); i += 2) { fp += (i ? ":" : "") + md5.substr(i, 2); }
  return std::pair{type, fp};
}

class Service final : public ComputeService {
 public:
  Service(store::MetaStore& meta, store::BlobStore& images, const identity::Policy& policy, ComputeConfig config)
      : meta_(meta), images_(images), policy_(policy), config_(std::move(config)) {}

  const ComputeConfig& config() const override { return config_; }

  // --- images ----------------------------------------------------------------------------------
  boost::asio::awaitable<Result<Image>> create_image(const Caller& c, Image d) override {
    if (auto st = require_write(c); !st) { co_return st.error(); }
    if (d.id.empty()) { d.id = uuid(); }
    if (d.visibility.empty()) { d.visibility = "shared"; }
    if (auto st = check_image(c, d); !st) { co_return st.error(); }
    d.owner = c.principal->project_id;
    d.status = "queued";
    d.created_s = d.updated_s = now_s();
    d.size.reset();
    d.virtual_size.reset();
    d.checksum.clear();
    d.os_hash_algo.clear();
    d.os_hash_value.clear();
    auto st = co_await meta_.transact([&](Tx& tx) -> Status {
      auto n = tx.one("SELECT COUNT(*) FROM compute_images WHERE owner = $1 AND status <> 'deleted'", {Value{d.owner}});
      if (!n) { return n.error(); }
      if (config_.quota_images >= 0 && (*n)->integer(0) >= config_.quota_images) {
        return make_error(Errc::quota_exceeded, "Maximum number of images exceeded");
      }
      auto r = tx.exec(
          "INSERT INTO compute_images (id, name, owner, status, visibility, protected, os_hidden, disk_format, container_format, "
          "min_disk, min_ram, properties, tags, created_s, updated_s) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14)",
          {Value{d.id}, Value{d.name}, Value{d.owner}, Value{d.status}, Value{d.visibility}, Value{std::int64_t{d.is_protected}},
           Value{std::int64_t{d.os_hidden}}, Value{d.disk_format}, Value{d.container_format}, Value{d.min_disk}, Value{d.min_ram},
           Value{map_json(d.properties)}, Value{list_json(d.tags)}, Value{d.created_s}});
      if (!r) {
        if (r.error().code == Errc::already_exists) { return make_error(Errc::conflict, "An image with this id exists"); }
        return r.error();
      }
      return {};
    });
    if (!st) { co_return st.error(); }
    co_return d;
  }

  boost::asio::awaitable<Result<Image>> get_image(const Caller& c, std::string id) override {
    Image out;
    auto st = co_await meta_.read([&](Tx& tx) -> Status {
      auto i = visible_image(tx, c, id);
      if (!i) { return i.error(); }
      out = std::move(*i);
      return {};
    });
    if (!st) { co_return st.error(); }
    co_return out;
  }

  boost::asio::awaitable<Result<std::vector<Image>>> list_images(const Caller& c, ImageQuery q) override {
    if (!c.principal) { co_return make_error(Errc::forbidden, "Authentication required"); }
    std::vector<Image> out;
    bool admin = policy_.is_cloud_admin(*c.principal);
    std::string project = c.principal->project_id;
    auto st = co_await meta_.read([&](Tx& tx) -> Status {
      out.clear();
      // Visible: own, public, community (only when asked for), shared with the project and accepted.
      std::string sql = "SELECT " + std::string(kImageCols) + " FROM compute_images i WHERE i.status <> 'deleted' AND (";
      if (admin && !q.visibility.empty()) {
        sql += "1 = 1";
      } else {
        sql += "i.owner = $1 OR i.visibility = 'public' OR (i.visibility = 'community' AND $2 = 'community') OR "
               "(i.visibility = 'shared' AND EXISTS (SELECT 1 FROM compute_image_members m WHERE m.image_id = i.id AND m.member = $1 "
               "AND m.status = 'accepted'))";
        if (admin) { sql += " OR 1 = 1"; }
      }
      sql += ")";
      std::vector<Value> params{Value{project}, Value{q.visibility}};
      auto add = [&](const std::string& cond, Value v) {
        params.push_back(std::move(v));
        sql += " AND " + cond + " = $" + std::to_string(params.size());
      };
      if (!q.name.empty()) { add("i.name", Value{q.name}); }
      if (!q.visibility.empty()) { add("i.visibility", Value{q.visibility}); }
      if (!q.status.empty()) { add("i.status", Value{q.status}); }
      if (!q.owner.empty()) { add("i.owner", Value{q.owner}); }
      if (!q.disk_format.empty()) { add("i.disk_format", Value{q.disk_format}); }
      bool asc = q.sort_dir == "asc";
      std::string key = q.sort_key == "name" ? "i.name" : q.sort_key == "updated_at" ? "i.updated_s" : "i.created_s";
      if (!q.marker.empty()) {
        auto m = tx.one("SELECT created_s, name, updated_s FROM compute_images WHERE id = $1", {Value{q.marker}});
        if (!m) { return m.error(); }
        if (!*m) { return make_error(Errc::invalid_argument, "The marker image was not found"); }
        Value mv = key == "i.name" ? Value{(*m)->text(1)} : Value{key == "i.updated_s" ? (*m)->integer(2) : (*m)->integer(0)};
        params.push_back(mv);
        params.push_back(Value{q.marker});
        std::string a = "$" + std::to_string(params.size() - 1), b = "$" + std::to_string(params.size());
        sql += " AND (" + key + (asc ? " > " : " < ") + a + " OR (" + key + " = " + a + " AND i.id " + (asc ? "> " : "< ") + b + "))";
      }
      sql += " ORDER BY " + key + (asc ? " ASC" : " DESC") + ", i.id " + (asc ? "ASC" : "DESC");
      sql += " LIMIT " + std::to_string(std::min<std::size_t>(q.limit, 1000) + (q.tag.empty() ? 0 : 1000));
      auto rows = tx.query(sql, std::span<const Value>(params.data(), params.size()));
      if (!rows) { return rows.error(); }
      for (const auto& r : rows->rows) {
        auto img = image_from(r);
        if (!q.tag.empty() && std::find(img.tags.begin(), img.tags.end(), q.tag) == img.tags.end()) { continue; }
        if (out.size() >= q.limit) { break; }
        out.push_back(std::move(img));
      }
      return {};
    });
    if (!st) { co_return st.error(); }
    co_return out;
  }

  boost::asio::awaitable<Result<Image>> update_image(const Caller& c, std::string id, Image u) override {
    if (auto st = require_write(c); !st) { co_return st.error(); }
    if (auto st = check_image(c, u); !st) { co_return st.error(); }
    Image out;
    auto st = co_await meta_.transact([&](Tx& tx) -> Status {
      auto cur = owned_image(tx, c, id);
      if (!cur) { return cur.error(); }
      if (cur->status != "queued" && (u.disk_format != cur->disk_format || u.container_format != cur->container_format)) {
        return make_error(Errc::forbidden, "disk_format and container_format cannot change once the image has data");
      }
      auto r = tx.exec(
          "UPDATE compute_images SET name = $1, visibility = $2, protected = $3, os_hidden = $4, disk_format = $5, container_format = $6, "
          "min_disk = $7, min_ram = $8, properties = $9, tags = $10, updated_s = $11 WHERE id = $12",
          {Value{u.name}, Value{u.visibility}, Value{std::int64_t{u.is_protected}}, Value{std::int64_t{u.os_hidden}}, Value{u.disk_format},
           Value{u.container_format}, Value{u.min_disk}, Value{u.min_ram}, Value{map_json(u.properties)}, Value{list_json(u.tags)},
           Value{now_s()}, Value{id}});
      if (!r) { return r.error(); }
      auto i = visible_image(tx, c, id);
      if (!i) { return i.error(); }
      out = std::move(*i);
      return {};
    });
    if (!st) { co_return st.error(); }
    co_return out;
  }

  boost::asio::awaitable<Status> delete_image(const Caller& c, std::string id) override {
    if (auto st = require_write(c); !st) { co_return st; }
    std::string key;
    auto st = co_await meta_.transact([&](Tx& tx) -> Status {
      auto cur = owned_image(tx, c, id);
      if (!cur) { return cur.error(); }
      if (cur->is_protected) { return make_error(Errc::forbidden, "Image " + id + " is protected and cannot be deleted"); }
      key = cur->blob_key;
      for (const char* sql : {"DELETE FROM compute_image_members WHERE image_id = $1", "DELETE FROM compute_images WHERE id = $1"}) {
        auto r = tx.exec(sql, {Value{id}});
        if (!r) { return r.error(); }
      }
      return {};
    });
    if (st && !key.empty()) { (void)co_await images_.remove(key); }
    co_return st;
  }

  boost::asio::awaitable<Result<Image>> upload_image(const Caller& c, std::string id, ByteSource& body,
                                                     std::optional<std::uint64_t> length) override {
    if (auto st = require_write(c); !st) { co_return st.error(); }
    if (length && *length > config_.max_image_size) { co_return make_error(Errc::too_large, "Image exceeds the maximum size (compute.max_image_size)"); }
    // queued -> saving, so two uploads cannot race.
    Image img;
    auto claim = co_await meta_.transact([&](Tx& tx) -> Status {
      auto cur = owned_image(tx, c, id);
      if (!cur) { return cur.error(); }
      if (cur->status != "queued") { return make_error(Errc::conflict, "Image status transition from " + cur->status + " to saving is not allowed"); }
      if (cur->disk_format.empty() || cur->container_format.empty()) {
        return make_error(Errc::invalid_argument, "disk_format and container_format must be set before uploading data");
      }
      auto r = tx.exec("UPDATE compute_images SET status = 'saving', updated_s = $1 WHERE id = $2 AND status = 'queued'", {Value{now_s()}, Value{id}});
      if (!r) { return r.error(); }
      img = *cur;
      return {};
    });
    if (!claim) { co_return claim.error(); }
    auto requeue = [&]() -> boost::asio::awaitable<void> {
      (void)co_await meta_.transact([&](Tx& tx) -> Status {
        auto r = tx.exec("UPDATE compute_images SET status = 'queued', updated_s = $1 WHERE id = $2 AND status = 'saving'", {Value{now_s()}, Value{id}});
        if (!r) { return r.error(); }
        return {};
      });
    };
    std::string key = store::new_blob_key();
    crypto::Hasher sha512(crypto::Digest::sha512);
    auto info = co_await images_.put(key, body, config_.max_image_size, store::BlobPutOptions{true, &sha512});
    if (!info) {
      co_await requeue();
      co_return info.error();
    }
    if (length && info->size != *length) {
      (void)co_await images_.remove(key);
      co_await requeue();
      co_return make_error(Errc::invalid_argument, "The upload ended before its announced length");
    }
    // qemu-img reads a local file: the blob's own, or a staged copy where the blob store has no
    // files (RADOS).
    std::string staged;
    if (auto fd = images_.open_fd(key); fd) {
      ::close(*fd);
    } else {
      std::error_code ec;
      std::filesystem::create_directories(config_.scratch_dir, ec);
      staged = config_.scratch_dir + "/" + key + ".inspect";
      if (auto copied = co_await rows::copy_blob_to_file(images_, key, staged); !copied) {
        (void)co_await images_.remove(key);
        co_await requeue();
        co_return copied.error();
      }
    }
    auto probe = co_await run_blocking([&] { return inspect(key, staged, img.disk_format); });
    if (!staged.empty()) {
      std::error_code ec;
      std::filesystem::remove(staged, ec);
    }
    if (!probe) {
      (void)co_await images_.remove(key);
      co_await requeue();
      co_return probe.error();
    }
    std::string hash = crypto::hex(sha512.finish());
    Image out;
    auto st = co_await meta_.transact([&](Tx& tx) -> Status {
      auto r = tx.exec(
          "UPDATE compute_images SET status = 'active', size = $1, virtual_size = $2, checksum = $3, os_hash_algo = 'sha512', "
          "os_hash_value = $4, blob_key = $5, updated_s = $6 WHERE id = $7 AND status = 'saving'",
          {i64(info->size), i64(*probe), Value{info->md5_hex}, Value{hash}, Value{key}, Value{now_s()}, Value{id}});
      if (!r) { return r.error(); }
      if (*r == 0) { return make_error(Errc::conflict, "The image was deleted during the upload"); }
      auto i = visible_image(tx, c, id);
      if (!i) { return i.error(); }
      out = std::move(*i);
      return {};
    });
    if (!st) {
      (void)co_await images_.remove(key);
      co_return st.error();
    }
    co_return out;
  }

  boost::asio::awaitable<Result<std::unique_ptr<ByteSource>>> download_image(const Caller& c, const Image& image, std::uint64_t offset,
                                                                             std::uint64_t length) override {
    (void)c;
    if (image.status != "active" || image.blob_key.empty()) { co_return make_error(Errc::conflict, "The image has no data"); }
    co_return co_await images_.open(image.blob_key, offset, length);
  }

  boost::asio::awaitable<Result<ImageMember>> add_member(const Caller& c, std::string image_id, std::string member) override {
    if (auto st = require_write(c); !st) { co_return st.error(); }
    ImageMember out{image_id, member, "pending", now_s(), now_s()};
    auto st = co_await meta_.transact([&](Tx& tx) -> Status {
      auto cur = owned_image(tx, c, image_id);
      if (!cur) { return cur.error(); }
      if (cur->visibility != "shared") { return make_error(Errc::forbidden, "Only shared images have members"); }
      auto r = tx.exec("INSERT INTO compute_image_members (image_id, member, status, created_s, updated_s) VALUES ($1, $2, 'pending', $3, $3)",
                       {Value{image_id}, Value{member}, Value{out.created_s}});
      if (!r) {
        if (r.error().code == Errc::already_exists) { return make_error(Errc::conflict, "The member is already listed"); }
        return r.error();
      }
      return {};
    });
    if (!st) { co_return st.error(); }
    co_return out;
  }

  boost::asio::awaitable<Result<ImageMember>> update_member(const Caller& c, std::string image_id, std::string member,
                                                            std::string status) override {
    if (!c.principal) { co_return make_error(Errc::forbidden, "Authentication required"); }
    if (status != "accepted" && status != "rejected" && status != "pending") { co_return make_error(Errc::invalid_argument, "Invalid member status"); }
    // Only the member (the project the image is shared with) answers.
    if (member != c.principal->project_id) { co_return make_error(Errc::forbidden, "Only the member may change its status"); }
    ImageMember out;
    auto st = co_await meta_.transact([&](Tx& tx) -> Status {
      auto r = tx.exec("UPDATE compute_image_members SET status = $1, updated_s = $2 WHERE image_id = $3 AND member = $4",
                       {Value{status}, Value{now_s()}, Value{image_id}, Value{member}});
      if (!r) { return r.error(); }
      if (*r == 0) { return make_error(Errc::not_found, "No such image member"); }
      auto m = tx.one("SELECT created_s, updated_s FROM compute_image_members WHERE image_id = $1 AND member = $2", {Value{image_id}, Value{member}});
      if (!m || !*m) { return make_error(Errc::not_found, "No such image member"); }
      out = ImageMember{image_id, member, status, (*m)->integer(0), (*m)->integer(1)};
      return {};
    });
    if (!st) { co_return st.error(); }
    co_return out;
  }

  boost::asio::awaitable<Result<std::vector<ImageMember>>> list_members(const Caller& c, std::string image_id) override {
    std::vector<ImageMember> out;
    auto st = co_await meta_.read([&](Tx& tx) -> Status {
      out.clear();
      auto img = visible_image(tx, c, image_id);
      if (!img) { return img.error(); }
      bool owner = img->owner == c.principal->project_id || policy_.is_cloud_admin(*c.principal);
      auto rows = tx.query("SELECT member, status, created_s, updated_s FROM compute_image_members WHERE image_id = $1 ORDER BY member", {Value{image_id}});
      if (!rows) { return rows.error(); }
      for (const auto& r : rows->rows) {
        if (!owner && r.text(0) != c.principal->project_id) { continue; }
        out.push_back(ImageMember{image_id, r.text(0), r.text(1), r.integer(2), r.integer(3)});
      }
      return {};
    });
    if (!st) { co_return st.error(); }
    co_return out;
  }

  boost::asio::awaitable<Status> remove_member(const Caller& c, std::string image_id, std::string member) override {
    if (auto st = require_write(c); !st) { co_return st; }
    co_return co_await meta_.transact([&](Tx& tx) -> Status {
      auto cur = owned_image(tx, c, image_id);
      if (!cur) { return cur.error(); }
      auto r = tx.exec("DELETE FROM compute_image_members WHERE image_id = $1 AND member = $2", {Value{image_id}, Value{member}});
      if (!r) { return r.error(); }
      if (*r == 0) { return make_error(Errc::not_found, "No such image member"); }
      return {};
    });
  }

  // --- flavors ---------------------------------------------------------------------------------
  boost::asio::awaitable<Result<Flavor>> create_flavor(const Caller& c, Flavor f) override {
    if (auto st = require_admin(c); !st) { co_return st.error(); }
    if (f.name.empty() || f.name.size() > 255) { co_return make_error(Errc::invalid_argument, "Invalid flavor name"); }
    if (f.vcpus < 1 || f.vcpus > 256 || f.ram_mib < 1 || f.ram_mib > (1 << 22)) { co_return make_error(Errc::invalid_argument, "Invalid vcpus or ram"); }
    if (f.id.empty()) { f.id = uuid(); }
    auto st = co_await meta_.transact([&](Tx& tx) -> Status {
      auto r = tx.exec(
          "INSERT INTO compute_flavors (id, name, description, vcpus, ram_mib, disk_gib, ephemeral_gib, swap_mib, rxtx_factor, is_public, "
          "disabled, extra_specs, created_s) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 0, '{}', $11)",
          {Value{f.id}, Value{f.name}, Value{f.description}, Value{std::int64_t{f.vcpus}}, i64(f.ram_mib), i64(f.disk_gib), i64(f.ephemeral_gib),
           i64(f.swap_mib), Value{f.rxtx_factor}, Value{std::int64_t{f.is_public}}, Value{now_s()}});
      if (!r) {
        if (r.error().code == Errc::already_exists) { return make_error(Errc::conflict, "Flavor with name " + f.name + " or id " + f.id + " already exists."); }
        return r.error();
      }
      return {};
    });
    if (!st) { co_return st.error(); }
    co_return f;
  }

  boost::asio::awaitable<Result<Flavor>> get_flavor(const Caller& c, std::string id) override {
    Flavor out;
    auto st = co_await meta_.read([&](Tx& tx) -> Status {
      auto f = visible_flavor(tx, c, id);
      if (!f) { return f.error(); }
      out = std::move(*f);
      return {};
    });
    if (!st) { co_return st.error(); }
    co_return out;
  }

  boost::asio::awaitable<Result<std::vector<Flavor>>> list_flavors(const Caller& c, std::optional<bool> is_public) override {
    if (!c.principal) { co_return make_error(Errc::forbidden, "Authentication required"); }
    bool admin = policy_.is_cloud_admin(*c.principal);
    std::vector<Flavor> out;
    auto st = co_await meta_.read([&](Tx& tx) -> Status {
      out.clear();
      auto rows = tx.query(
          "SELECT " + std::string(kFlavorCols) + " FROM compute_flavors f WHERE f.disabled = 0 AND (f.is_public = 1 OR $1 = 1 OR EXISTS "
          "(SELECT 1 FROM compute_flavor_access a WHERE a.flavor_id = f.id AND a.project_id = $2)) ORDER BY f.ram_mib, f.name",
          {Value{std::int64_t{admin}}, Value{c.principal->project_id}});
      if (!rows) { return rows.error(); }
      for (const auto& r : rows->rows) {
        auto f = flavor_from(r);
        if (is_public && f.is_public != *is_public) { continue; }
        out.push_back(std::move(f));
      }
      return {};
    });
    if (!st) { co_return st.error(); }
    co_return out;
  }

  boost::asio::awaitable<Status> delete_flavor(const Caller& c, std::string id) override {
    if (auto st = require_admin(c); !st) { co_return st; }
    co_return co_await meta_.transact([&](Tx& tx) -> Status {
      auto r = tx.exec("DELETE FROM compute_flavors WHERE id = $1", {Value{id}});
      if (!r) { return r.error(); }
      if (*r == 0) { return make_error(Errc::not_found, "Flavor " + id + " could not be found."); }
      auto a = tx.exec("DELETE FROM compute_flavor_access WHERE flavor_id = $1", {Value{id}});
      if (!a) { return a.error(); }
      return {};
    });
  }

  boost::asio::awaitable<Result<Flavor>> set_flavor_access(const Caller& c, std::string id, std::string project, bool add) override {
    if (auto st = require_admin(c); !st) { co_return st.error(); }
    Flavor out;
    auto st = co_await meta_.transact([&](Tx& tx) -> Status {
      auto f = visible_flavor(tx, c, id);
      if (!f) { return f.error(); }
      if (f->is_public) { return make_error(Errc::conflict, "Can not add access to a public flavor."); }
      auto r = add ? tx.exec("INSERT INTO compute_flavor_access (flavor_id, project_id) VALUES ($1, $2) ON CONFLICT DO NOTHING", {Value{id}, Value{project}})
                   : tx.exec("DELETE FROM compute_flavor_access WHERE flavor_id = $1 AND project_id = $2", {Value{id}, Value{project}});
      if (!r) { return r.error(); }
      auto again = visible_flavor(tx, c, id);
      if (!again) { return again.error(); }
      out = std::move(*again);
      return {};
    });
    if (!st) { co_return st.error(); }
    co_return out;
  }

  boost::asio::awaitable<Result<Flavor>> update_extra_specs(const Caller& c, std::string id,
                                                            std::map<std::string, std::optional<std::string>> specs) override {
    if (auto st = require_admin(c); !st) { co_return st.error(); }
    Flavor out;
    auto st = co_await meta_.transact([&](Tx& tx) -> Status {
      auto f = visible_flavor(tx, c, id);
      if (!f) { return f.error(); }
      for (auto& [k, v] : specs) {
        if (v) {
          f->extra_specs[k] = *v;
        } else if (f->extra_specs.erase(k) == 0) {
          return make_error(Errc::not_found, "Flavor " + id + " has no extra specs with key " + k + ".");
        }
      }
      auto r = tx.exec("UPDATE compute_flavors SET extra_specs = $1 WHERE id = $2", {Value{map_json(f->extra_specs)}, Value{id}});
      if (!r) { return r.error(); }
      out = std::move(*f);
      return {};
    });
    if (!st) { co_return st.error(); }
    co_return out;
  }

  // --- keypairs --------------------------------------------------------------------------------
  boost::asio::awaitable<Result<std::pair<Keypair, std::string>>> create_keypair(const Caller& c, std::string name, std::string public_key,
                                                                                  std::string type) override {
    if (auto st = require_write(c); !st) { co_return st.error(); }
    if (name.empty() || name.size() > 255) { co_return make_error(Errc::invalid_argument, "Keypair name must be string and between 1 and 255 characters long"); }
    for (char ch : name) {
      if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_' || ch == ' ' || ch == '.' || ch == '@')) {
        co_return make_error(Errc::invalid_argument, "Keypair name contains unsafe characters");
      }
    }
    if (type.empty()) { type = "ssh"; }
    if (type != "ssh") { co_return make_error(Errc::invalid_argument, "Only ssh keypairs are supported"); }
    std::string private_key;
    if (public_key.empty()) {
      auto made = co_await run_blocking([&] { return generate_key(); });
      if (!made) { co_return made.error(); }
      public_key = made->first;
      private_key = made->second;
    }
    auto parsed = parse_public_key(public_key);
    if (!parsed) { co_return parsed.error(); }
    while (!public_key.empty() && (public_key.back() == '\n' || public_key.back() == '\r')) { public_key.pop_back(); }
    Keypair k{name, c.principal->user_id, public_key, parsed->second, type, now_s()};
    auto st = co_await meta_.transact([&](Tx& tx) -> Status {
      auto n = tx.one("SELECT COUNT(*) FROM compute_keypairs WHERE user_id = $1", {Value{k.user_id}});
      if (!n) { return n.error(); }
      auto limit = quota_of(tx, c.principal->project_id);
      if (!limit) { return limit.error(); }
      if (limit->key_pairs >= 0 && (*n)->integer(0) >= limit->key_pairs) { return make_error(Errc::quota_exceeded, "Maximum number of key pairs exceeded"); }
      auto r = tx.exec("INSERT INTO compute_keypairs (user_id, name, public_key, fingerprint, type, created_s) VALUES ($1, $2, $3, $4, $5, $6)",
                       {Value{k.user_id}, Value{k.name}, Value{k.public_key}, Value{k.fingerprint}, Value{k.type}, Value{k.created_s}});
      if (!r) {
        if (r.error().code == Errc::already_exists) { return make_error(Errc::conflict, "Key pair '" + name + "' already exists."); }
        return r.error();
      }
      return {};
    });
    if (!st) { co_return st.error(); }
    co_return std::pair{k, private_key};
  }

  boost::asio::awaitable<Result<Keypair>> get_keypair(const Caller& c, std::string name) override {
    if (!c.principal) { co_return make_error(Errc::forbidden, "Authentication required"); }
    std::optional<Keypair> out;
    auto st = co_await meta_.read([&](Tx& tx) -> Status {
      auto r = tx.one("SELECT name, user_id, public_key, fingerprint, type, created_s FROM compute_keypairs WHERE user_id = $1 AND name = $2",
                      {Value{c.principal->user_id}, Value{name}});
      if (!r) { return r.error(); }
      if (*r) { out = Keypair{(*r)->text(0), (*r)->text(1), (*r)->text(2), (*r)->text(3), (*r)->text(4), (*r)->integer(5)}; }
      return {};
    });
    if (!st) { co_return st.error(); }
    if (!out) { co_return make_error(Errc::not_found, "Keypair " + name + " not found for user " + c.principal->user_id); }
    co_return *out;
  }

  boost::asio::awaitable<Result<std::vector<Keypair>>> list_keypairs(const Caller& c) override {
    if (!c.principal) { co_return make_error(Errc::forbidden, "Authentication required"); }
    std::vector<Keypair> out;
    auto st = co_await meta_.read([&](Tx& tx) -> Status {
      out.clear();
      auto rows = tx.query("SELECT name, user_id, public_key, fingerprint, type, created_s FROM compute_keypairs WHERE user_id = $1 ORDER BY name",
                           {Value{c.principal->user_id}});
      if (!rows) { return rows.error(); }
      for (const auto& r : rows->rows) { out.push_back(Keypair{r.text(0), r.text(1), r.text(2), r.text(3), r.text(4), r.integer(5)}); }
      return {};
    });
    if (!st) { co_return st.error(); }
    co_return out;
  }

  boost::asio::awaitable<Status> delete_keypair(const Caller& c, std::string name) override {
    if (auto st = require_write(c); !st) { co_return st; }
    co_return co_await meta_.transact([&](Tx& tx) -> Status {
      auto r = tx.exec("DELETE FROM compute_keypairs WHERE user_id = $1 AND name = $2", {Value{c.principal->user_id}, Value{name}});
      if (!r) { return r.error(); }
      if (*r == 0) { return make_error(Errc::not_found, "Keypair " + name + " not found for user " + c.principal->user_id); }
      return {};
    });
  }

  // --- quotas ----------------------------------------------------------------------------------
  boost::asio::awaitable<Result<QuotaSet>> quotas(const Caller& c, std::string project_id) override {
    if (auto st = require_read_of(c, project_id); !st) { co_return st.error(); }
    QuotaSet out;
    auto st = co_await meta_.read([&](Tx& tx) -> Status {
      auto q = quota_of(tx, project_id);
      if (!q) { return q.error(); }
      out = *q;
      return {};
    });
    if (!st) { co_return st.error(); }
    co_return out;
  }

  boost::asio::awaitable<Result<QuotaSet>> set_quotas(const Caller& c, std::string project_id, std::map<std::string, std::int64_t> values) override {
    if (auto st = require_admin(c); !st) { co_return st.error(); }
    for (const auto& [k, v] : values) {
      if (k != "instances" && k != "cores" && k != "ram" && k != "key_pairs") { co_return make_error(Errc::invalid_argument, "Unknown quota " + k); }
      if (v < -1) { co_return make_error(Errc::invalid_argument, "Quota value for " + k + " must be -1 or more"); }
    }
    QuotaSet out;
    auto st = co_await meta_.transact([&](Tx& tx) -> Status {
      for (const auto& [k, v] : values) {
        auto r = tx.exec("INSERT INTO compute_quotas (project_id, resource, hard_limit) VALUES ($1, $2, $3) "
                         "ON CONFLICT (project_id, resource) DO UPDATE SET hard_limit = excluded.hard_limit",
                         {Value{project_id}, Value{k}, Value{v}});
        if (!r) { return r.error(); }
      }
      auto q = quota_of(tx, project_id);
      if (!q) { return q.error(); }
      out = *q;
      return {};
    });
    if (!st) { co_return st.error(); }
    co_return out;
  }

  boost::asio::awaitable<Result<Usage>> usage(const Caller& c, std::string project_id) override {
    if (auto st = require_read_of(c, project_id); !st) { co_return st.error(); }
    Usage out;
    auto st = co_await meta_.read([&](Tx& tx) -> Status {
      auto u = usage_of(tx, project_id);
      if (!u) { return u.error(); }
      out = *u;
      return {};
    });
    if (!st) { co_return st.error(); }
    co_return out;
  }

  // --- servers ---------------------------------------------------------------------------------
  boost::asio::awaitable<Result<Server>> create_server(const Caller& c, ServerRequest r) override {
    if (auto st = require_write(c); !st) { co_return st.error(); }
    if (r.name.empty() || r.name.size() > 255) { co_return make_error(Errc::invalid_argument, "Invalid server name: 1 to 255 characters"); }
    if (r.user_data.size() > 65535) { co_return make_error(Errc::invalid_argument, "User data is larger than 64 KiB"); }
    auto image = co_await get_image(c, r.image_id);
    if (!image) { co_return make_error(Errc::invalid_argument, "Image " + r.image_id + " could not be found."); }
    if (image->status != "active") { co_return make_error(Errc::invalid_argument, "Image " + r.image_id + " is not active."); }
    if (image->disk_format != "qcow2" && image->disk_format != "raw") {
      co_return make_error(Errc::invalid_argument, "Image " + r.image_id + " is " + image->disk_format + ": servers boot qcow2 or raw images");
    }
    auto flavor = co_await get_flavor(c, r.flavor_id);
    if (!flavor) { co_return make_error(Errc::invalid_argument, "Flavor " + r.flavor_id + " could not be found."); }
    std::uint64_t disk_gib = std::max<std::uint64_t>(flavor->disk_gib, 1);
    if (image->min_disk > 0 && static_cast<std::uint64_t>(image->min_disk) > flavor->disk_gib) {
      co_return make_error(Errc::invalid_argument, "Flavor's disk is too small for requested image. Flavor disk is " +
                                                       std::to_string(flavor->disk_gib) + " GiB, minimum requested disk is " +
                                                       std::to_string(image->min_disk) + " GiB.");
    }
    if (image->virtual_size && *image->virtual_size > disk_gib * (1ULL << 30)) {
      co_return make_error(Errc::invalid_argument, "Flavor's disk is too small for requested image.");
    }
    if (image->min_ram > 0 && static_cast<std::uint64_t>(image->min_ram) > flavor->ram_mib) {
      co_return make_error(Errc::invalid_argument, "Flavor's memory is too small for requested image.");
    }
    std::string public_key;
    if (!r.key_name.empty()) {
      auto k = co_await get_keypair(c, r.key_name);
      if (!k) { co_return make_error(Errc::invalid_argument, "Invalid key_name provided."); }
      public_key = k->public_key;
    }
    Server srv;
    srv.id = uuid();
    srv.name = r.name;
    srv.project_id = c.principal->project_id;
    srv.user_id = c.principal->user_id;
    srv.image_id = image->id;
    srv.key_name = r.key_name;
    srv.flavor = *flavor;
    srv.metadata = r.metadata;
    srv.created_s = srv.updated_s = now_s();
    const std::int64_t vcpus = std::max<std::int64_t>(srv.flavor.vcpus, 1);
    const auto ram_mib = static_cast<std::int64_t>(srv.flavor.ram_mib);
    auto st = co_await meta_.transact([&](Tx& tx) -> Status {
      srv.host.clear();
      srv.accelerator.clear();
      srv.ssh_port = 0;
      srv.status = "BUILD";
      srv.vm_state = "building";
      srv.task_state = "spawning";
      srv.fault_message.clear();
      srv.fault_code = 0;
      srv.fault_s = 0;
      // One writer per project at a time (a row lock on PostgreSQL), so the quota check and the
      // insert cannot interleave with another creation.
      auto lock = tx.exec("INSERT INTO compute_project_locks (project_id, n) VALUES ($1, 1) ON CONFLICT (project_id) DO UPDATE SET n = compute_project_locks.n + 1",
                          {Value{srv.project_id}});
      if (!lock) { return lock.error(); }
      auto q = quota_of(tx, srv.project_id);
      if (!q) { return q.error(); }
      auto u = usage_of(tx, srv.project_id);
      if (!u) { return u.error(); }
      auto over = [](std::int64_t limit, std::int64_t used, std::int64_t more) { return limit >= 0 && used + more > limit; };
      if (over(q->instances, u->instances, 1)) { return make_error(Errc::quota_exceeded, "Quota exceeded for instances: Requested 1, but already used " + std::to_string(u->instances) + " of " + std::to_string(q->instances) + " instances"); }
      if (over(q->cores, u->cores, srv.flavor.vcpus)) { return make_error(Errc::quota_exceeded, "Quota exceeded for cores: Requested " + std::to_string(srv.flavor.vcpus) + ", but already used " + std::to_string(u->cores) + " of " + std::to_string(q->cores) + " cores"); }
      if (over(q->ram_mib, u->ram_mib, static_cast<std::int64_t>(srv.flavor.ram_mib))) { return make_error(Errc::quota_exceeded, "Quota exceeded for ram: Requested " + std::to_string(srv.flavor.ram_mib) + ", but already used " + std::to_string(u->ram_mib) + " of " + std::to_string(q->ram_mib) + " ram"); }
      auto placed = place(tx, vcpus, ram_mib);
      if (!placed) { return placed.error(); }
      if (placed->empty()) {
        // Nova's answer when no compute host can take the flavor: the server exists, in ERROR.
        srv.status = "ERROR";
        srv.vm_state = "error";
        srv.task_state.clear();
        srv.fault_message = kNoValidHost;
        srv.fault_code = 500;
        srv.fault_s = srv.created_s;
      } else {
        srv.host = placed->front().name;
        srv.accelerator = placed->front().accelerator;
        auto port = free_port(tx);
        if (!port) { return port.error(); }
        srv.ssh_port = *port;
      }
      auto ins = tx.exec(
          "INSERT INTO compute_servers (id, name, project_id, user_id, image_id, key_name, flavor, metadata, status, vm_state, task_state, "
          "power_state, ssh_port, accelerator, config_drive, user_data, created_s, updated_s, host, vcpus, ram_mib, fault_message, fault_code, "
          "fault_s) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 0, $12, $13, 1, $14, $15, $15, $16, $17, $18, $19, $20, $21)",
          {Value{srv.id}, Value{srv.name}, Value{srv.project_id}, Value{srv.user_id}, Value{srv.image_id}, Value{srv.key_name},
           Value{rows::flavor_text(srv.flavor)}, Value{map_json(srv.metadata)}, Value{srv.status}, Value{srv.vm_state}, Value{srv.task_state},
           Value{std::int64_t{srv.ssh_port}}, Value{srv.accelerator}, Value{crypto::base64(r.user_data)}, Value{srv.created_s},
           Value{srv.host}, Value{vcpus}, Value{ram_mib}, Value{srv.fault_message}, Value{std::int64_t{srv.fault_code}}, Value{srv.fault_s}});
      if (!ins) { return ins.error(); }
      if (srv.host.empty()) { return {}; }
      // The host's agent builds and boots it; the client polls GET /servers/{id} meanwhile.
      return enqueue(tx, srv.host, srv.id, "boot", json::serialize(json::object{{"public_key", public_key}}));
    });
    if (!st) { co_return st.error(); }
    if (srv.host.empty()) {
      log::warn("compute: no host can take server {} ({} vCPU, {} MiB): ERROR", srv.id, vcpus, ram_mib);
    } else {
      wake_agent();
    }
    co_return srv;
  }

  boost::asio::awaitable<Result<Server>> get_server(const Caller& c, std::string id) override {
    Server out;
    auto st = co_await meta_.read([&](Tx& tx) -> Status {
      auto s2 = visible_server(tx, c, id);
      if (!s2) { return s2.error(); }
      out = std::move(*s2);
      return {};
    });
    if (!st) { co_return st.error(); }
    co_return out;
  }

  boost::asio::awaitable<Result<std::vector<Server>>> list_servers(const Caller& c, ServerQuery q) override {
    if (!c.principal) { co_return make_error(Errc::forbidden, "Authentication required"); }
    bool all = q.all_projects && policy_.is_cloud_admin(*c.principal);
    std::vector<Server> out;
    auto st = co_await meta_.read([&](Tx& tx) -> Status {
      out.clear();
      auto rows = all ? tx.query("SELECT " + std::string(kServerCols) + " FROM compute_servers WHERE deleted_s IS NULL ORDER BY created_s DESC, id")
                      : tx.query("SELECT " + std::string(kServerCols) + " FROM compute_servers WHERE deleted_s IS NULL AND project_id = $1 ORDER BY created_s DESC, id",
                                 {Value{c.principal->project_id}});
      if (!rows) { return rows.error(); }
      auto live = live_hosts(tx);
      if (!live) { return live.error(); }
      for (const auto& r : rows->rows) {
        auto srv = server_from(r);
        mark_host(srv, *live);
        if (!q.name.empty() && srv.name.find(q.name) == std::string::npos) { continue; }
        if (!q.status.empty() && srv.status != q.status) { continue; }
        out.push_back(std::move(srv));
      }
      return {};
    });
    if (!st) { co_return st.error(); }
    co_return out;
  }

  boost::asio::awaitable<Status> act(const Caller& c, std::string id, ServerAction a) override {
    if (auto st = require_write(c); !st) { co_return st; }
    std::string task, status, action;
    switch (a) {
      case ServerAction::start: task = "powering-on"; action = "start"; break;
      case ServerAction::stop: task = "powering-off"; action = "stop"; break;
      case ServerAction::reboot_soft: task = "rebooting"; status = "REBOOT"; action = "reboot_soft"; break;
      case ServerAction::reboot_hard: task = "rebooting_hard"; status = "HARD_REBOOT"; action = "reboot_hard"; break;
    }
    auto st = co_await meta_.transact([&](Tx& tx) -> Status {
      auto srv = visible_server(tx, c, id);
      if (!srv) { return srv.error(); }
      if (!srv->task_state.empty()) {
        return make_error(Errc::conflict, "Cannot act on instance " + id + " while it is in task_state " + srv->task_state);
      }
      bool ok = a == ServerAction::start ? srv->vm_state == "stopped"
                : a == ServerAction::stop ? srv->vm_state == "active"
                : a == ServerAction::reboot_hard ? (srv->vm_state == "active" || srv->vm_state == "stopped" || srv->vm_state == "error")
                                                 : srv->vm_state == "active";
      if (!ok) {
        return make_error(Errc::conflict, "Cannot '" + task + "' instance " + id + " while it is in vm_state " + srv->vm_state);
      }
      if (srv->host.empty()) { return make_error(Errc::conflict, "Instance " + id + " has no compute host"); }
      if (!srv->host_up) { return make_error(Errc::conflict, "Compute host " + srv->host + " is down: instance " + id + " cannot be reached"); }
      auto u = tx.exec("UPDATE compute_servers SET task_state = $1, status = CASE WHEN $2 = '' THEN status ELSE $2 END, updated_s = $3 "
                       "WHERE id = $4 AND task_state = ''",
                       {Value{task}, Value{status}, Value{now_s()}, Value{id}});
      if (!u) { return u.error(); }
      if (*u == 0) { return make_error(Errc::conflict, "Another action on instance " + id + " is in progress"); }
      return enqueue(tx, srv->host, id, action, "");
    });
    if (!st) { co_return st; }
    wake_agent();
    co_return Status{};
  }

  boost::asio::awaitable<Status> delete_server(const Caller& c, std::string id) override {
    if (auto st = require_write(c); !st) { co_return st; }
    bool queued = false;
    auto st = co_await meta_.transact([&](Tx& tx) -> Status {
      queued = false;
      auto srv = visible_server(tx, c, id);
      if (!srv) { return srv.error(); }
      if (srv->task_state == "deleting" && srv->host_up) { return {}; }
      if (srv->host.empty() || !srv->host_up) {
        // Nova's "local delete": no host, or its host is down, so the record goes now and frees
        // the quota and the host's capacity; an agent that comes back removes the VM it finds
        // for a deleted server (reconcile).
        auto d = tx.exec("DELETE FROM compute_tasks WHERE server_id = $1", {Value{id}});
        if (!d) { return d.error(); }
        return rows::set_server_state(tx, id, "DELETED", "deleted", "", 0, "", true);
      }
      auto u = tx.exec("UPDATE compute_servers SET task_state = 'deleting', updated_s = $1 WHERE id = $2", {Value{now_s()}, Value{id}});
      if (!u) { return u.error(); }
      queued = true;
      return enqueue(tx, srv->host, id, "delete", "");
    });
    if (!st) { co_return st; }
    if (queued) { wake_agent(); }
    co_return Status{};
  }

  // The console lives on the server's host: the request goes through the queue, and the agent
  // answers in the task's result, which this node reads and removes.
  boost::asio::awaitable<Result<std::string>> console_output(const Caller& c, std::string id, std::optional<std::size_t> lines) override {
    auto srv = co_await get_server(c, id);
    if (!srv) { co_return srv.error(); }
    if (srv->host.empty()) { co_return std::string(); }
    if (!srv->host_up) { co_return make_error(Errc::conflict, "Compute host " + srv->host + " is down: the console of instance " + id + " cannot be read"); }
    std::string task_id = uuid();
    json::object payload;
    if (lines) { payload["lines"] = static_cast<std::uint64_t>(*lines); }
    auto st = co_await meta_.transact([&](Tx& tx) -> Status {
      return enqueue(tx, srv->host, id, "console", json::serialize(payload), task_id);
    });
    if (!st) { co_return st.error(); }
    wake_agent();
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
    auto deadline = std::chrono::steady_clock::now() + config_.console_timeout;
    std::optional<std::string> result;
    while (!result && std::chrono::steady_clock::now() < deadline) {
      timer.expires_after(std::chrono::milliseconds(100));
      boost::system::error_code ec;
      co_await timer.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
      auto polled = co_await meta_.read([&](Tx& tx) -> Status {
        auto r = tx.one("SELECT state, result FROM compute_tasks WHERE id = $1", {Value{task_id}});
        if (!r) { return r.error(); }
        if (*r && (*r)->text(0) == "done") { result = (*r)->text(1); }
        return {};
      });
      if (!polled) { break; }
    }
    (void)co_await meta_.transact([&](Tx& tx) -> Status {
      auto d = tx.exec("DELETE FROM compute_tasks WHERE id = $1", {Value{task_id}});
      if (!d) { return d.error(); }
      return {};
    });
    if (!result) { co_return make_error(Errc::unavailable, "The compute host " + srv->host + " did not answer in time"); }
    co_return std::move(*result);
  }

  boost::asio::awaitable<std::vector<std::string>> mark_down_hosts() override {
    std::vector<std::string> down;
    auto st = co_await meta_.transact([&](Tx& tx) -> Status {
      down.clear();
      // Idempotent across API nodes: only the node whose UPDATE changes the row reports it.
      auto r = tx.query("UPDATE compute_hosts SET state = 'down' WHERE state = 'up' AND heartbeat_ms < $1 RETURNING name",
                        {Value{now_ms() - config_.agent_timeout.count()}});
      if (!r) { return r.error(); }
      for (const auto& row : r->rows) { down.push_back(row.text(0)); }
      return {};
    });
    if (!st) { log::warn("compute: cannot check the compute hosts: {} {}", st.error().message, st.error().detail); }
    for (const auto& h : down) {
      log::warn("compute: host {} sent no heartbeat for {} s: its servers show UNKNOWN until it is back", h, config_.agent_timeout.count() / 1000);
    }
    co_return down;
  }

  boost::asio::awaitable<Result<Server>> update_server_metadata(const Caller& c, std::string id,
                                                                std::map<std::string, std::optional<std::string>> changes, bool replace) override {
    if (auto st = require_write(c); !st) { co_return st.error(); }
    Server out;
    auto st = co_await meta_.transact([&](Tx& tx) -> Status {
      auto srv = visible_server(tx, c, id);
      if (!srv) { return srv.error(); }
      if (replace) { srv->metadata.clear(); }
      for (auto& [k, v] : changes) {
        if (k.empty() || k.size() > 255 || (v && v->size() > 255)) { return make_error(Errc::invalid_argument, "Metadata keys and values are 1 to 255 characters"); }
        if (v) {
          srv->metadata[k] = *v;
        } else if (srv->metadata.erase(k) == 0) {
          return make_error(Errc::not_found, "Metadata item was not found");
        }
      }
      if (srv->metadata.size() > 128) { return make_error(Errc::quota_exceeded, "Quota exceeded for metadata_items: at most 128"); }
      auto u = tx.exec("UPDATE compute_servers SET metadata = $1, updated_s = $2 WHERE id = $3", {Value{map_json(srv->metadata)}, Value{now_s()}, Value{id}});
      if (!u) { return u.error(); }
      out = std::move(*srv);
      return {};
    });
    if (!st) { co_return st.error(); }
    co_return out;
  }

 private:
  Status require_write(const Caller& c) const {
    if (!c.principal || c.principal->project_id.empty()) { return make_error(Errc::forbidden, "A project-scoped token is required"); }
    identity::Target t;
    t.project_id = c.principal->project_id;
    t.domain_id = c.principal->domain_id;
    if (!policy_.may(*c.principal, identity::Action::write_project_resources, t)) {
      return make_error(Errc::forbidden, "Policy doesn't allow this operation to be performed.");
    }
    return {};
  }
  Status require_read_of(const Caller& c, const std::string& project) const {
    if (!c.principal) { return make_error(Errc::forbidden, "Authentication required"); }
    if (policy_.is_cloud_admin(*c.principal)) { return {}; }
    identity::Target t;
    t.project_id = project;
    if (project != c.principal->project_id || !policy_.may(*c.principal, identity::Action::read_project_resources, t)) {
      return make_error(Errc::forbidden, "Policy doesn't allow this operation to be performed.");
    }
    return {};
  }
  Status require_admin(const Caller& c) const {
    if (!c.principal || !policy_.is_cloud_admin(*c.principal)) {
      return make_error(Errc::forbidden, "Policy doesn't allow this operation to be performed.");
    }
    return {};
  }

  Status check_image(const Caller& c, const Image& d) const {
    if (d.name.size() > 255) { return make_error(Errc::invalid_argument, "name is longer than 255 characters"); }
    if (!d.disk_format.empty() && !valid_disk_format(d.disk_format)) { return make_error(Errc::invalid_argument, "Invalid disk_format " + d.disk_format); }
    if (!d.container_format.empty() && !valid_container_format(d.container_format)) {
      return make_error(Errc::invalid_argument, "Invalid container_format " + d.container_format);
    }
    if (!valid_visibility(d.visibility)) { return make_error(Errc::invalid_argument, "Invalid visibility " + d.visibility); }
    if (d.visibility == "public" && !policy_.is_cloud_admin(*c.principal)) {
      return make_error(Errc::forbidden, "You are not authorized to publicize images");
    }
    if (d.min_disk < 0 || d.min_ram < 0) { return make_error(Errc::invalid_argument, "min_disk and min_ram cannot be negative"); }
    if (d.properties.size() > 128) { return make_error(Errc::invalid_argument, "Too many image properties"); }
    return {};
  }

  // An image the caller may see (Errc::not_found otherwise, whether it exists or not).
  Result<Image> visible_image(Tx& tx, const Caller& c, const std::string& id) {
    if (!c.principal) { return make_error(Errc::forbidden, "Authentication required"); }
    auto r = tx.one("SELECT " + std::string(kImageCols) + " FROM compute_images WHERE id = $1 AND status <> 'deleted'", {Value{id}});
    if (!r) { return r.error(); }
    if (!*r) { return make_error(Errc::not_found, "No image found with ID " + id); }
    auto img = image_from(**r);
    if (img.owner == c.principal->project_id || img.visibility == "public" || img.visibility == "community" ||
        policy_.is_cloud_admin(*c.principal)) {
      return img;
    }
    if (img.visibility == "shared") {
      auto m = tx.one("SELECT status FROM compute_image_members WHERE image_id = $1 AND member = $2", {Value{id}, Value{c.principal->project_id}});
      if (!m) { return m.error(); }
      if (*m && (*m)->text(0) != "rejected") { return img; }
    }
    return make_error(Errc::not_found, "No image found with ID " + id);
  }

  // An image the caller's project owns (admins: any).
  Result<Image> owned_image(Tx& tx, const Caller& c, const std::string& id) {
    auto img = visible_image(tx, c, id);
    if (!img) { return img.error(); }
    if (img->owner != c.principal->project_id && !policy_.is_cloud_admin(*c.principal)) {
      return make_error(Errc::forbidden, "You are not permitted to modify image " + id);
    }
    return img;
  }

  Result<Flavor> visible_flavor(Tx& tx, const Caller& c, const std::string& id) {
    if (!c.principal) { return make_error(Errc::forbidden, "Authentication required"); }
    auto r = tx.one("SELECT " + std::string(kFlavorCols) + " FROM compute_flavors WHERE id = $1", {Value{id}});
    if (!r) { return r.error(); }
    if (!*r) { return make_error(Errc::not_found, "Flavor " + id + " could not be found."); }
    auto f = flavor_from(**r);
    auto access = tx.query("SELECT project_id FROM compute_flavor_access WHERE flavor_id = $1 ORDER BY project_id", {Value{id}});
    if (!access) { return access.error(); }
    for (const auto& a : access->rows) { f.projects.push_back(a.text(0)); }
    if (!f.is_public && !policy_.is_cloud_admin(*c.principal) &&
        std::find(f.projects.begin(), f.projects.end(), c.principal->project_id) == f.projects.end()) {
      return make_error(Errc::not_found, "Flavor " + id + " could not be found.");
    }
    return f;
  }

  Result<QuotaSet> quota_of(Tx& tx, const std::string& project) {
    QuotaSet q{config_.quota_instances, config_.quota_cores, config_.quota_ram_mib, config_.quota_key_pairs};
    auto rows = tx.query("SELECT resource, hard_limit FROM compute_quotas WHERE project_id = $1", {Value{project}});
    if (!rows) { return rows.error(); }
    for (const auto& r : rows->rows) {
      auto k = r.text(0);
      auto v = r.integer(1);
      if (k == "instances") { q.instances = v; }
      if (k == "cores") { q.cores = v; }
      if (k == "ram") { q.ram_mib = v; }
      if (k == "key_pairs") { q.key_pairs = v; }
    }
    return q;
  }

  // qemu-img's view of an uploaded image: its virtual size, once the format matches the declared
  // one and a qcow2 names no backing file or external data file (which would let a guest read
  // host files). Blocking.
  Result<std::uint64_t> inspect(const std::string& key, const std::string& staged, const std::string& disk_format) {
    auto fd = staged.empty() ? images_.open_fd(key) : Result<int>(::open(staged.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd && *fd < 0) { return make_error(Errc::unavailable, "cannot open the staged image", std::strerror(errno)); }
    if (!fd) { return make_error(Errc::unavailable, "cannot open the uploaded image", fd.error().message); }
    ProcessOptions o;
    o.stdin_fd = *fd;
    o.timeout = std::chrono::seconds(60);
    // /dev/stdin re-opens the blob file itself (a regular file), so qemu-img can seek in it.
    auto r = run_process({config_.qemu_img, "info", "--output=json", "/dev/stdin"}, o);
    ::close(*fd);
    if (!r) { return r.error(); }
    if (r->exit_code != 0) { return make_error(Errc::invalid_argument, "The data is not a disk image qemu-img can read", r->err); }
    boost::system::error_code ec;
    auto v = json::parse(r->out, ec);
    const json::object* o2 = ec ? nullptr : v.if_object();
    if (!o2) { return make_error(Errc::invalid_argument, "qemu-img gave no image information", r->out); }
    std::string format = o2->contains("format") && o2->at("format").is_string() ? std::string(o2->at("format").as_string()) : "";
    if (disk_format == "qcow2" || disk_format == "raw") {
      if (format != disk_format) {
        return make_error(Errc::invalid_argument, "The image data is " + (format.empty() ? std::string("unknown") : format) +
                                                      ", not the declared disk_format " + disk_format);
      }
    }
    if (o2->contains("backing-filename") || o2->contains("full-backing-filename")) {
      return make_error(Errc::invalid_argument, "A qcow2 image with a backing file is refused");
    }
    if (auto spec = o2->if_contains("format-specific"); spec && spec->is_object()) {
      if (auto data = spec->as_object().if_contains("data"); data && data->is_object() && data->as_object().contains("data-file")) {
        return make_error(Errc::invalid_argument, "A qcow2 image with an external data file is refused");
      }
    }
    auto vs = o2->if_contains("virtual-size");
    if (!vs || !(vs->is_int64() || vs->is_uint64())) { return make_error(Errc::invalid_argument, "qemu-img gave no virtual size"); }
    return vs->is_uint64() ? vs->as_uint64() : static_cast<std::uint64_t>(vs->as_int64());
  }

  // A new ed25519 key pair in OpenSSH formats (public line, private PEM). Blocking.
  static Result<std::pair<std::string, std::string>> generate_key() {
    std::error_code ec;
    auto dir = std::filesystem::temp_directory_path(ec) / ("ciel-key-" + crypto::random_hex(8));
    std::filesystem::create_directory(dir, ec);
    if (ec) { return make_error(Errc::unavailable, "cannot make a temporary directory", ec.message()); }
    std::filesystem::permissions(dir, std::filesystem::perms::owner_all, ec);
    auto path = (dir / "key").string();
    auto r = run_process({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "ciel", "-f", path});
    std::string priv, pub;
    if (r && r->exit_code == 0) {
      std::ifstream a(path), b(path + ".pub");
      priv.assign(std::istreambuf_iterator<char>(a), {});
      pub.assign(std::istreambuf_iterator<char>(b), {});
    }
    std::filesystem::remove_all(dir, ec);
    if (!r) { return r.error(); }
    if (r->exit_code != 0 || pub.empty()) { return make_error(Errc::unavailable, "ssh-keygen failed", r->err); }
    return std::pair{pub, priv};
  }

  // --- server helpers ---------------------------------------------------------------------------
  static constexpr std::string_view kServerCols = rows::kServerCols;

  // A live server of the caller's project (admins: any); Errc::not_found otherwise.
  Result<Server> visible_server(Tx& tx, const Caller& c, const std::string& id) {
    if (!c.principal) { return make_error(Errc::forbidden, "Authentication required"); }
    auto r = tx.one("SELECT " + std::string(kServerCols) + " FROM compute_servers WHERE id = $1 AND deleted_s IS NULL", {Value{id}});
    if (!r) { return r.error(); }
    if (!*r) { return make_error(Errc::not_found, "Instance " + id + " could not be found."); }
    auto s = server_from(**r);
    if (s.project_id != c.principal->project_id && !policy_.is_cloud_admin(*c.principal)) {
      return make_error(Errc::not_found, "Instance " + id + " could not be found.");
    }
    if (!s.host.empty()) {
      auto h = tx.one("SELECT heartbeat_ms FROM compute_hosts WHERE name = $1", {Value{s.host}});
      if (!h) { return h.error(); }
      std::set<std::string> live;
      if (*h && (*h)->integer(0) >= now_ms() - config_.agent_timeout.count()) { live.insert(s.host); }
      mark_host(s, live);
    }
    return s;
  }

  // The hosts whose agent sent a heartbeat within compute.agent_timeout.
  Result<std::set<std::string>> live_hosts(Tx& tx) {
    auto rows = tx.query("SELECT name FROM compute_hosts WHERE heartbeat_ms >= $1", {Value{now_ms() - config_.agent_timeout.count()}});
    if (!rows) { return rows.error(); }
    std::set<std::string> out;
    for (const auto& r : rows->rows) { out.insert(r.text(0)); }
    return out;
  }

  // Nova shows status UNKNOWN for a server whose compute host stopped reporting: what the record
  // says may no longer be true. The record itself is left alone; the agent sets the real state
  // when it is back (its reconcile at start).
  static void mark_host(Server& s, const std::set<std::string>& live) {
    s.host_up = s.host.empty() || live.contains(s.host);
    if (!s.host_up) { s.status = "UNKNOWN"; }
  }

  // The scheduler: the live hosts with room for the flavor, best first (most free RAM), the first
  // one locked by an UPDATE of its row so that concurrent creations on other API nodes wait for
  // this transaction and then see its server; an empty vector when no host fits. The free
  // capacity of the locked host is read again after the lock (under READ COMMITTED the second
  // read sees what the transaction that held the lock committed); if it no longer fits, the next
  // candidate is tried.
  Result<std::vector<HostCapacity>> place(Tx& tx, std::int64_t vcpus, std::int64_t ram_mib) {
    constexpr std::string_view kFree =
        "SELECT h.name, h.vcpus - COALESCE(SUM(s.vcpus), 0), h.ram_mib - COALESCE(SUM(s.ram_mib), 0), h.accelerator FROM compute_hosts h "
        "LEFT JOIN compute_servers s ON s.host = h.name AND s.deleted_s IS NULL WHERE h.heartbeat_ms >= $1";
    constexpr std::string_view kGroup = " GROUP BY h.name, h.vcpus, h.ram_mib, h.accelerator";
    const auto cutoff = now_ms() - config_.agent_timeout.count();
    auto read = [&](const std::string& only) -> Result<std::vector<HostCapacity>> {
      auto rows = only.empty() ? tx.query(std::string(kFree) + std::string(kGroup), {Value{cutoff}})
                               : tx.query(std::string(kFree) + " AND h.name = $2" + std::string(kGroup), {Value{cutoff}, Value{only}});
      if (!rows) { return rows.error(); }
      std::vector<HostCapacity> out;
      for (const auto& r : rows->rows) { out.push_back(HostCapacity{r.text(0), r.integer(1), r.integer(2), r.text(3)}); }
      return out;
    };
    auto hosts = read("");
    if (!hosts) { return hosts.error(); }
    for (std::size_t attempt = 0; attempt <= hosts->size(); ++attempt) {
      auto choice = pick_host(*hosts, vcpus, ram_mib);
      if (!choice) { break; }
      std::string name = (*hosts)[*choice].name;
      auto lock = tx.exec("UPDATE compute_hosts SET placements = placements + 1 WHERE name = $1", {Value{name}});
      if (!lock) { return lock.error(); }
      auto fresh = read(name);
      if (!fresh) { return fresh.error(); }
      if (fresh->empty()) {
        hosts->erase(hosts->begin() + static_cast<std::ptrdiff_t>(*choice));
        continue;
      }
      (*hosts)[*choice] = fresh->front();
      if (fits(fresh->front(), vcpus, ram_mib)) { return std::vector<HostCapacity>{fresh->front()}; }
    }
    return std::vector<HostCapacity>{};
  }

  Status enqueue(Tx& tx, const std::string& host, const std::string& server_id, const std::string& action, const std::string& payload,
                 std::string task_id = {}) {
    if (task_id.empty()) { task_id = uuid(); }
    auto r = tx.exec("INSERT INTO compute_tasks (id, host, server_id, action, payload, state, created_ms) VALUES ($1, $2, $3, $4, $5, 'queued', $6)",
                     {Value{task_id}, Value{host}, Value{server_id}, Value{action}, Value{payload}, Value{now_ms()}});
    if (!r) { return r.error(); }
    return meta_.notify(tx, rows::kTaskNotices);  // agents on other machines wake at the commit
  }

  void wake_agent() {
    if (config_.wake_local_agent) { config_.wake_local_agent(); }
  }

  Result<Usage> usage_of(Tx& tx, const std::string& project) {
    auto rows = tx.query("SELECT flavor FROM compute_servers WHERE project_id = $1 AND deleted_s IS NULL", {Value{project}});
    if (!rows) { return rows.error(); }
    Usage u;
    for (const auto& r : rows->rows) {
      auto f = rows::flavor_of_text(r.text(0));
      ++u.instances;
      u.cores += f.vcpus;
      u.ram_mib += static_cast<std::int64_t>(f.ram_mib);
    }
    return u;
  }

  // The first port of the range no live server uses and nothing else listens on now.
  Result<std::uint16_t> free_port(Tx& tx) {
    auto rows = tx.query("SELECT ssh_port FROM compute_servers WHERE deleted_s IS NULL");
    if (!rows) { return rows.error(); }
    std::set<std::int64_t> used;
    for (const auto& r : rows->rows) { used.insert(r.integer(0)); }
    for (std::uint32_t p = config_.ssh_port_min; p <= config_.ssh_port_max; ++p) {
      if (used.contains(p)) { continue; }
      int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (fd < 0) { continue; }
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_port = htons(static_cast<std::uint16_t>(p));
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
      ::close(fd);
      if (ok) { return static_cast<std::uint16_t>(p); }
    }
    return make_error(Errc::quota_exceeded, "No free SSH port left in compute.ssh_ports");
  }

  store::MetaStore& meta_;
  store::BlobStore& images_;
  const identity::Policy& policy_;
  ComputeConfig config_;
};

}  // namespace

std::unique_ptr<ComputeService> make_compute_service(store::MetaStore& meta, store::BlobStore& images, const identity::Policy& policy,
                                                     ComputeConfig config) {
  return std::make_unique<Service>(meta, images, policy, std::move(config));
}

boost::asio::awaitable<void> run_host_monitor(ComputeService& compute, std::chrono::milliseconds interval) {
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
  for (;;) {
    timer.expires_after(interval);
    co_await timer.async_wait(boost::asio::use_awaitable);
    (void)co_await compute.mark_down_hosts();
  }
}

Result<std::unordered_set<std::string>> image_blob_keys(store::MetaStore& meta) {
  std::unordered_set<std::string> named;
  auto st = meta.read_sync([&](Tx& tx) -> Status {
    auto rows = tx.query("SELECT blob_key FROM compute_images WHERE blob_key IS NOT NULL");
    if (!rows) { return rows.error(); }
    for (const auto& r : rows->rows) { named.insert(r.text(0)); }
    return {};
  });
  if (!st) { return st.error(); }
  return named;
}

Result<std::size_t> remove_unreferenced_image_blobs(store::MetaStore& meta, store::BlobStore& images) {
  auto named = image_blob_keys(meta);
  if (!named) { return named.error(); }
  auto sweep = store::sweep_blobs(images, *named, true);
  if (!sweep) { return sweep.error(); }
  return sweep->unreferenced.size();
}

}  // namespace ciel::compute
