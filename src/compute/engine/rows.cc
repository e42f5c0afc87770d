#include "compute/engine/rows.h"

#include <boost/json.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <span>

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <vector>

#include "core/blocking.h"
#include "core/crypto/crypto.h"
#include "store/blob_store.h"
#include "store/meta_store.h"

namespace ciel::compute::rows {

namespace json = boost::json;
using store::Value;

std::int64_t now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}
std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string uuid() {
  std::string h = crypto::random_hex(16);
  h[12] = '4';                                                  // version 4 (random)
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

std::string flavor_text(const Flavor& f) {
  json::object o{{"id", f.id}, {"name", f.name}, {"vcpus", f.vcpus}, {"ram", f.ram_mib}, {"disk", f.disk_gib},
                 {"ephemeral", f.ephemeral_gib}, {"swap", f.swap_mib}};
  json::object specs;
  for (const auto& [k, v] : f.extra_specs) { specs[k] = v; }
  o["extra_specs"] = std::move(specs);
  return json::serialize(o);
}

Flavor flavor_of_text(const std::string& text) {
  Flavor f;
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  if (ec || !v.is_object()) { return f; }
  const auto& o = v.as_object();
  auto str = [&](const char* k) {
    auto x = o.if_contains(k);
    return x && x->is_string() ? std::string(x->as_string()) : std::string();
  };
  auto num = [&](const char* k) -> std::uint64_t {
    auto x = o.if_contains(k);
    return x && x->is_int64() ? static_cast<std::uint64_t>(x->as_int64()) : x && x->is_uint64() ? x->as_uint64() : 0;
  };
  f.id = str("id");
  f.name = str("name");
  f.vcpus = static_cast<std::uint32_t>(num("vcpus"));
  f.ram_mib = num("ram");
  f.disk_gib = num("disk");
  f.ephemeral_gib = num("ephemeral");
  f.swap_mib = num("swap");
  if (auto x = o.if_contains("extra_specs"); x && x->is_object()) {
    for (const auto& [k, val] : x->as_object()) {
      if (val.is_string()) { f.extra_specs[std::string(k)] = std::string(val.as_string()); }
    }
  }
  return f;
}

Server server_from(const store::Row& r) {
  Server s;
  s.id = r.text(0);
  s.name = r.text(1);
  s.project_id = r.text(2);
  s.user_id = r.text(3);
  s.image_id = r.text(4);
  s.key_name = r.text(5);
  s.flavor = flavor_of_text(r.text(6));
  s.metadata = json_map(r.text(7));
  s.status = r.text(8);
  s.vm_state = r.text(9);
  s.task_state = r.text(10);
  s.power_state = static_cast<int>(r.integer(11));
  s.fault_message = r.text(12);
  s.fault_code = static_cast<int>(r.integer(13));
  s.fault_s = r.integer(14);
  s.ssh_port = static_cast<std::uint16_t>(r.integer(15));
  s.accelerator = r.text(16);
  s.config_drive = r.boolean(17);
  s.created_s = r.integer(18);
  s.updated_s = r.integer(19);
  s.launched_s = r.integer(20);
  s.host = r.text(21);
  return s;
}

Status set_server_state(store::Tx& tx, const std::string& id, const std::string& status, const std::string& vm_state,
                        const std::string& task, int power, const std::string& fault, bool deleted) {
  auto now = now_s();
  auto u = tx.exec(
      "UPDATE compute_servers SET status = $1, vm_state = $2, task_state = $3, power_state = $4, updated_s = $5, "
      "fault_message = CASE WHEN $6 = '' THEN fault_message ELSE $6 END, fault_code = CASE WHEN $6 = '' THEN fault_code ELSE 500 END, "
      "fault_s = CASE WHEN $6 = '' THEN fault_s ELSE $5 END, "
      "launched_s = CASE WHEN $2 = 'active' AND launched_s = 0 THEN $5 ELSE launched_s END, "
      "deleted_s = CASE WHEN $7 = 1 THEN $5 ELSE deleted_s END WHERE id = $8",
      {Value{status}, Value{vm_state}, Value{task}, Value{std::int64_t{power}}, Value{now}, Value{fault}, Value{std::int64_t{deleted}},
       Value{id}});
  if (!u) { return u.error(); }
  return {};
}

boost::asio::awaitable<Status> copy_blob_to_file(store::BlobStore& blobs, std::string key, std::string path) {
  auto info = co_await blobs.stat(key);
  if (!info) { co_return info.error(); }
  auto source = co_await blobs.open(key, 0, info->size);
  if (!source) { co_return source.error(); }
  std::string tmp = path + ".tmp-" + crypto::random_hex(4);
  int fd = co_await run_blocking([&] { return ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600); });
  if (fd < 0) { co_return make_error(Errc::unavailable, "cannot create " + tmp, std::strerror(errno)); }
  std::vector<char> buf(1 << 20);
  Status st;
  for (;;) {
    auto n = co_await (*source)->read(std::span<char>(buf.data(), buf.size()));
    if (!n) {
      st = n.error();
      break;
    }
    if (*n == 0) { break; }
    bool ok = co_await run_blocking([&] {
      std::size_t done = 0;
      while (done < *n) {
        auto w = ::write(fd, buf.data() + done, *n - done);
        if (w < 0) {
          if (errno == EINTR) { continue; }
          return false;
        }
        done += static_cast<std::size_t>(w);
      }
      return true;
    });
    if (!ok) {
      st = make_error(Errc::unavailable, "cannot write " + tmp, std::strerror(errno));
      break;
    }
  }
  bool synced = co_await run_blocking([&] { return ::fsync(fd) == 0; });
  ::close(fd);
  std::error_code ec;
  if (st && !synced) { st = make_error(Errc::unavailable, "cannot fsync " + tmp); }
  if (st) {
    std::filesystem::rename(tmp, path, ec);
    if (ec) { st = make_error(Errc::unavailable, "cannot rename " + tmp, ec.message()); }
  }
  if (!st) { std::filesystem::remove(tmp, ec); }
  co_return st;
}

}  // namespace ciel::compute::rows
