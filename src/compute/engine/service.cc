// The compute engine's catalogue (compute.h says what it models).
#include <unistd.h>

#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <unordered_set>

#include "compute/compute.h"
#include "core/blocking.h"
#include "core/crypto/crypto.h"
#include "core/process.h"
#include "identity/policy.h"
#include "identity/principal.h"
#include "store/blob_store.h"
#include "store/meta_store.h"

namespace ciel::compute {
namespace {

using store::Row;
using store::Tx;
using store::Value;
namespace json = boost::json;

std::int64_t now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}
Value i64(std::uint64_t v) { return Value{static_cast<std::int64_t>(v)}; }

std::string uuid() {
  std::string h = crypto::random_hex(16);
  h[12] = '4';                                            // version 4 (random)
  h[16] = "89ab"[std::stoi(h.substr(16, 1), nullptr, 16) & 3];  // RFC 4122 variant
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" + h.substr(20, 12);
}

std::string map_json(const std::map<std::string, std::string>& m) {
  json::object o;
  for (const auto& [k, v] : m) { o[k] = v; }
  return json::serialize(o);
}
std::map<std::string, std::string> json_map(const std::string& text) {
  std::map<std::string, std::string> out;
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  if (ec || !v.is_object()) { return out; }
  for (const auto& [k, val] : v.as_object()) {
    if (val.is_string()) { out[std::string(k)] = std::string(val.as_string()); }
  }
  return out;
}
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
    auto probe = co_await run_blocking([&] { return inspect(key, img.disk_format); });
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
    co_return Usage{};  // servers arrive with the hypervisor driver
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
  Result<std::uint64_t> inspect(const std::string& key, const std::string& disk_format) {
    auto fd = images_.open_fd(key);
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

Result<std::size_t> remove_unreferenced_image_blobs(store::MetaStore& meta, store::BlobStore& images) {
  std::unordered_set<std::string> named;
  auto st = meta.read_sync([&](Tx& tx) -> Status {
    auto rows = tx.query("SELECT blob_key FROM compute_images WHERE blob_key IS NOT NULL");
    if (!rows) { return rows.error(); }
    for (const auto& r : rows->rows) { named.insert(r.text(0)); }
    return {};
  });
  if (!st) { return st.error(); }
  std::vector<std::string> unnamed;
  auto walk = images.for_each_blob([&](const std::string& key, SystemTime) {
    if (!named.contains(key)) { unnamed.push_back(key); }
  });
  if (!walk) { return walk.error(); }
  for (const auto& k : unnamed) {
    if (auto r = images.remove_sync(k); !r) { return r.error(); }
  }
  return unnamed.size();
}

}  // namespace ciel::compute
