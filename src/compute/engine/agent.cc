// The compute agent of one host (compute/agent.h says what it does).
#include "compute/agent.h"

#include <unistd.h>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <set>

#include "compute/driver/hypervisor.h"
#include "compute/engine/rows.h"
#include "core/blocking.h"
#include "core/crypto/crypto.h"
#include "core/log/log.h"
#include "store/blob_store.h"
#include "store/meta_store.h"

namespace ciel::compute {
namespace {

using rows::now_ms;
using rows::server_from;
using store::Tx;
using store::Value;
namespace json = boost::json;

struct Task {
  std::string id, server_id, action, payload;
};

// Printable text only: a console carries escape sequences and stray bytes (and PostgreSQL text
// cannot hold a NUL). With `lines`, only the last that many lines.
std::string console_text(const std::string& raw, std::optional<std::size_t> lines) {
  std::string text;
  text.reserve(raw.size());
  for (unsigned char ch : raw) {
    if (ch == '\n' || ch == '\t' || (ch >= 0x20 && ch != 0x7f)) { text += static_cast<char>(ch); }
  }
  if (lines) {
    std::size_t n = 0, pos = text.size();
    if (!text.empty() && text.back() == '\n') { --pos; }
    while (pos > 0) {
      if (text[pos - 1] == '\n' && ++n == *lines) { break; }
      --pos;
    }
    text = text.substr(pos);
  }
  return text;
}

class AgentImpl final : public Agent {
 public:
  AgentImpl(store::MetaStore& meta, store::BlobStore& images, driver::Hypervisor& hv, AgentConfig config)
      : meta_(meta), images_(images), hv_(hv), config_(std::move(config)) {}

  Status start() override {
    auto now = now_ms();
    auto st = meta_.transact_sync([&](Tx& tx) -> Status {
      auto r = tx.exec(
          "INSERT INTO compute_hosts (name, vcpus, ram_mib, accelerator, state_dir, state, started_ms, heartbeat_ms) "
          "VALUES ($1, $2, $3, $4, $5, 'up', $6, $6) ON CONFLICT (name) DO UPDATE SET vcpus = excluded.vcpus, ram_mib = excluded.ram_mib, "
          "accelerator = excluded.accelerator, state_dir = excluded.state_dir, state = 'up', started_ms = excluded.started_ms, "
          "heartbeat_ms = excluded.heartbeat_ms",
          {Value{config_.host}, Value{static_cast<std::int64_t>(config_.vcpus)}, Value{static_cast<std::int64_t>(config_.ram_mib)},
           Value{hv_.accelerator()}, Value{config_.state_dir}, Value{now}});
      if (!r) { return r.error(); }
      if (config_.adopt_unplaced) {
        // Servers from before compute hosts: this single node ran them all. (They are the rows
        // without a host whose vcpus column was never set; a server no host could take since
        // has its vcpus and stays unplaced.)
        auto old = tx.query("SELECT id, flavor FROM compute_servers WHERE host = '' AND vcpus = 0");
        if (!old) { return old.error(); }
        for (const auto& row : old->rows) {
          auto f = rows::flavor_of_text(row.text(1));
          auto u = tx.exec("UPDATE compute_servers SET host = $1, vcpus = $2, ram_mib = $3 WHERE id = $4 AND host = '' AND vcpus = 0",
                           {Value{config_.host}, Value{std::max<std::int64_t>(f.vcpus, 1)}, Value{static_cast<std::int64_t>(f.ram_mib)},
                            Value{row.text(0)}});
          if (!u) { return u.error(); }
        }
      }
      // Work a previous run of this agent claimed and did not finish: a delete is done again
      // (it is idempotent); the server states of other interrupted work are settled by reconcile.
      auto q = tx.exec("UPDATE compute_tasks SET state = 'queued', claimed_ms = 0 WHERE host = $1 AND state = 'running' AND action = 'delete'",
                       {Value{config_.host}});
      if (!q) { return q.error(); }
      auto d = tx.exec("DELETE FROM compute_tasks WHERE host = $1 AND state = 'running'", {Value{config_.host}});
      if (!d) { return d.error(); }
      return {};
    });
    if (!st) { return st; }
    log::info("compute: agent {} offers {} vCPUs and {} MiB under {}", config_.host, config_.vcpus, config_.ram_mib, hv_.accelerator());
    // Work queued by any API node wakes this agent at once where the store carries notices
    // (PostgreSQL); the poll every config_.poll stays as the backstop.
    auto sub = meta_.subscribe(std::string(rows::kTaskNotices), [this] { wake(); });
    if (!sub) { return sub.error(); }
    notices_ = std::move(*sub);
    return reconcile(true);
  }

  boost::asio::awaitable<void> run() override {
    auto ex = co_await boost::asio::this_coro::executor;
    base_ = ex;
    auto strand = boost::asio::make_strand(ex);
    boost::asio::co_spawn(ex, heartbeat_loop(), boost::asio::detached);
    co_await boost::asio::co_spawn(strand, queue_loop(), boost::asio::use_awaitable);
  }

  void wake() override {
    std::lock_guard lock(mu_);
    woken_ = true;
    if (timer_) { boost::asio::post(timer_->get_executor(), [t = timer_] { t->cancel(); }); }
  }

  void stop() override {
    stopped_ = true;
    wake();
  }

 private:
  // --- the queue -----------------------------------------------------------------------------------
  boost::asio::awaitable<void> queue_loop() {
    auto ex = co_await boost::asio::this_coro::executor;
    {
      std::lock_guard lock(mu_);
      timer_ = std::make_shared<boost::asio::steady_timer>(ex);
    }
    auto base = base_ ? *base_ : ex;
    while (!stopped_) {
      auto task = co_await run_blocking([&] { return claim(); });
      if (!task) {
        log::warn("compute: agent {} cannot read its queue: {} {}", config_.host, task.error().message, task.error().detail);
      } else if (*task) {
        boost::asio::co_spawn(base, handle(std::move(**task)), boost::asio::detached);
        continue;
      }
      {
        std::lock_guard lock(mu_);
        if (woken_) {
          woken_ = false;
          continue;
        }
        timer_->expires_after(config_.poll);
      }
      boost::system::error_code ec;
      co_await timer_->async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
      std::lock_guard lock(mu_);
      woken_ = false;
    }
  }

  // The oldest queued task of this host that may run now: a server's tasks run one at a time in
  // queue order (console reads need no turn). Blocking.
  Result<std::optional<Task>> claim() {
    std::optional<Task> out;
    const bool pg = meta_.backend() == "postgres";
    auto st = meta_.transact_sync([&](Tx& tx) -> Status {
      out.reset();
      std::string sql =
          "SELECT t.id, t.server_id, t.action, t.payload FROM compute_tasks t WHERE t.host = $1 AND t.state = 'queued' AND "
          "(t.action = 'console' OR NOT EXISTS (SELECT 1 FROM compute_tasks r WHERE r.server_id = t.server_id AND r.state = 'running' "
          "AND r.action <> 'console')) ORDER BY t.created_ms, t.id LIMIT 1";
      // Another claimer of this host (there should be none) skips the row instead of waiting.
      if (pg) { sql += " FOR UPDATE SKIP LOCKED"; }
      auto r = tx.one(sql, {Value{config_.host}});
      if (!r) { return r.error(); }
      if (!*r) { return {}; }
      Task t{(*r)->text(0), (*r)->text(1), (*r)->text(2), (*r)->text(3)};
      auto u = tx.exec("UPDATE compute_tasks SET state = 'running', claimed_ms = $1 WHERE id = $2 AND state = 'queued'",
                       {Value{now_ms()}, Value{t.id}});
      if (!u) { return u.error(); }
      if (*u == 1) { out = std::move(t); }
      return {};
    });
    if (!st) { return st.error(); }
    return out;
  }

  boost::asio::awaitable<void> handle(Task t) {
    std::string result;
    if (t.action == "boot") {
      co_await build(t);
    } else if (t.action == "delete") {
      co_await destroy(t.server_id);
    } else if (t.action == "start" || t.action == "stop" || t.action == "reboot_soft" || t.action == "reboot_hard") {
      co_await run_action(t.server_id, t.action);
    } else if (t.action == "console") {
      std::optional<std::size_t> lines;
      boost::system::error_code ec;
      auto v = json::parse(t.payload, ec);
      if (!ec && v.is_object()) {
        if (auto n = v.as_object().if_contains("lines"); n && (n->is_uint64() || n->is_int64())) {
          lines = n->is_uint64() ? n->as_uint64() : static_cast<std::uint64_t>(std::max<std::int64_t>(n->as_int64(), 0));
        }
      }
      auto log = co_await run_blocking([&] { return hv_.console_log(t.server_id, 1 << 20); });
      if (log) { result = console_text(*log, lines); }
    } else {
      log::warn("compute: agent {} ignores task {} with unknown action {}", config_.host, t.id, t.action);
    }
    auto st = co_await meta_.transact([&](Tx& tx) -> Status {
      auto r = t.action == "console"
                   ? tx.exec("UPDATE compute_tasks SET state = 'done', result = $1, finished_ms = $2 WHERE id = $3",
                             {Value{result}, Value{now_ms()}, Value{t.id}})
                   : tx.exec("DELETE FROM compute_tasks WHERE id = $1", {Value{t.id}});
      if (!r) { return r.error(); }
      return {};
    });
    if (!st) { log::error("compute: agent {} cannot finish task {}: {} {}", config_.host, t.id, st.error().message, st.error().detail); }
    wake();  // the server's next task may run now
  }

  // --- heartbeat -----------------------------------------------------------------------------------
  boost::asio::awaitable<void> heartbeat_loop() {
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
    while (!stopped_) {
      timer.expires_after(config_.heartbeat);
      boost::system::error_code ec;
      co_await timer.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
      if (stopped_) { break; }
      bool was_down = false;
      auto st = co_await meta_.transact([&](Tx& tx) -> Status {
        auto now = now_ms();
        auto back = tx.exec("UPDATE compute_hosts SET heartbeat_ms = $1, state = 'up' WHERE name = $2 AND state = 'down'",
                            {Value{now}, Value{config_.host}});
        if (!back) { return back.error(); }
        was_down = *back > 0;
        auto r = tx.exec("UPDATE compute_hosts SET heartbeat_ms = $1 WHERE name = $2", {Value{now}, Value{config_.host}});
        if (!r) { return r.error(); }
        // Console answers nobody came for (the asking node gave up or died).
        auto d = tx.exec("DELETE FROM compute_tasks WHERE host = $1 AND state = 'done' AND finished_ms < $2",
                         {Value{config_.host}, Value{now - 60000}});
        if (!d) { return d.error(); }
        return {};
      });
      if (!st) {
        log::warn("compute: agent {} cannot send its heartbeat: {} {}", config_.host, st.error().message, st.error().detail);
        continue;
      }
      if (was_down) {
        // The API nodes took this host for dead (a stall, a lost database connection): what
        // happened meanwhile (servers deleted without it) is settled as at a start.
        log::warn("compute: agent {} was marked down; reconciling its servers", config_.host);
        auto rec = co_await run_blocking([&] { return reconcile(false); });
        if (!rec) { log::error("compute: agent {} cannot reconcile: {} {}", config_.host, rec.error().message, rec.error().detail); }
      }
    }
  }

  // --- reconcile -------------------------------------------------------------------------------
  // `at_start`: nothing else runs yet, so temp files in the image cache are leftovers of a crash
  // (later, one may be an image being cached for a build in progress).
  Status reconcile(bool at_start) {
    std::vector<Server> servers;
    std::set<std::string> pending;  // servers with queued or running work: the queue settles them
    auto st = meta_.read_sync([&](Tx& tx) -> Status {
      servers.clear();
      pending.clear();
      auto rows = tx.query("SELECT " + std::string(rows::kServerCols) + " FROM compute_servers WHERE deleted_s IS NULL AND host = $1",
                           {Value{config_.host}});
      if (!rows) { return rows.error(); }
      for (const auto& r : rows->rows) { servers.push_back(server_from(r)); }
      auto tasks = tx.query("SELECT DISTINCT server_id FROM compute_tasks WHERE host = $1 AND action <> 'console'", {Value{config_.host}});
      if (!tasks) { return tasks.error(); }
      for (const auto& r : tasks->rows) { pending.insert(r.text(0)); }
      return {};
    });
    if (!st) { return st; }
    std::set<std::string> known;
    for (const auto& srv : servers) {
      known.insert(srv.id);
      if (pending.contains(srv.id)) { continue; }
      auto state = hv_.state(srv.id);
      bool running = state && state->running;
      if (srv.task_state == "deleting") {
        (void)hv_.destroy(srv.id);
        (void)set_state_sync(srv.id, "DELETED", "deleted", "", 0, "", true);
        continue;
      }
      if (srv.vm_state == "building") {
        if (running) {
          (void)set_state_sync(srv.id, "ACTIVE", "active", "", 1, "", false);
        } else {
          (void)hv_.destroy(srv.id);
          (void)set_state_sync(srv.id, "ERROR", "error", "", 0, "The build was interrupted by a restart of the compute agent", false);
        }
        continue;
      }
      if (srv.vm_state == "error") { continue; }
      if (running) {
        if (srv.vm_state != "active" || !srv.task_state.empty() || srv.status != "ACTIVE") {
          (void)set_state_sync(srv.id, "ACTIVE", "active", "", 1, "", false);
        }
        log::info("compute: server {} ({}) is running, reattached", srv.id, srv.name);
      } else if (srv.vm_state == "active" || !srv.task_state.empty()) {
        (void)set_state_sync(srv.id, "SHUTOFF", "stopped", "", 4, "", false);
        log::warn("compute: server {} ({}) was not running at startup: marked SHUTOFF", srv.id, srv.name);
      }
    }
    for (const auto& id : hv_.list()) {
      if (!known.contains(id) && !placed_here(id)) {
        log::warn("compute: removing VM directory {} that no server of host {} names", id, config_.host);
        (void)hv_.destroy(id);
      }
    }
    return prune_image_cache(servers, at_start);
  }

  // Whether a live server of this host has id `id` now (a VM directory may belong to a server
  // created after reconcile read the list, when it runs beside the queue). Errors count as yes:
  // a VM is only removed when it surely belongs to no one.
  bool placed_here(const std::string& id) {
    bool found = true;
    (void)meta_.read_sync([&](Tx& tx) -> Status {
      auto r = tx.one("SELECT 1 FROM compute_servers WHERE id = $1 AND host = $2 AND deleted_s IS NULL", {Value{id}, Value{config_.host}});
      if (!r) { return r.error(); }
      found = r->has_value();
      return {};
    });
    return found;
  }

  // The cache keeps an image's file while the image exists or a server of this host still boots
  // from it (its overlay names the file as backing); anything else, and temp files of an
  // interrupted caching, goes.
  Status prune_image_cache(const std::vector<Server>& servers, bool with_temp_files) {
    std::set<std::string> keep;
    for (const auto& srv : servers) { keep.insert(srv.image_id); }
    auto st = meta_.read_sync([&](Tx& tx) -> Status {
      auto rows = tx.query("SELECT id FROM compute_images");
      if (!rows) { return rows.error(); }
      for (const auto& r : rows->rows) { keep.insert(r.text(0)); }
      return {};
    });
    if (!st) { return st; }
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(config_.cache_dir, ec)) {
      std::string name = entry.path().filename().string();
      bool temp = name.find(".tmp-") != std::string::npos;
      if (temp && !with_temp_files) { continue; }
      if (temp || !keep.contains(name.substr(0, name.find('.')))) {
        log::info("compute: removing {} from the image cache (no image or server uses it)", name);
        std::error_code rec;
        std::filesystem::remove(entry.path(), rec);
      }
    }
    return {};
  }

  // --- server state ------------------------------------------------------------------------------
  Status set_state_sync(const std::string& id, const std::string& status, const std::string& vm_state, const std::string& task, int power,
                        const std::string& fault, bool deleted) {
    return meta_.transact_sync([&](Tx& tx) -> Status { return rows::set_server_state(tx, id, status, vm_state, task, power, fault, deleted); });
  }
  boost::asio::awaitable<void> set_state(std::string id, std::string status, std::string vm_state, std::string task, int power,
                                         std::string fault = {}, bool deleted = false) {
    auto st = co_await run_blocking([&] { return set_state_sync(id, status, vm_state, task, power, fault, deleted); });
    if (!st) { log::error("compute: cannot record the state of server {}: {} {}", id, st.error().message, st.error().detail); }
  }

  // --- the image cache ---------------------------------------------------------------------------
  // A local file of the image the VM's overlay can sit on, in this host's cache: a hard link to
  // the image's blob file when the blob store has local files on the same file system, else a
  // copy streamed from the blob store (RADOS, or another machine's store).
  boost::asio::awaitable<Result<std::string>> cached_image(std::string image_id, std::string blob_key, std::string disk_format) {
    std::error_code ec;
    std::filesystem::create_directories(config_.cache_dir, ec);
    std::string path = config_.cache_dir + "/" + image_id + "." + disk_format;
    if (std::filesystem::exists(path, ec)) { co_return path; }
    if (auto fd = images_.open_fd(blob_key); fd) {
      auto source = std::filesystem::read_symlink("/proc/self/fd/" + std::to_string(*fd), ec);
      ::close(*fd);
      if (!ec) {
        std::string tmp = path + ".tmp-" + crypto::random_hex(4);
        std::filesystem::create_hard_link(source, tmp, ec);
        if (!ec) {
          std::filesystem::rename(tmp, path, ec);
          if (!ec) { co_return path; }
          std::filesystem::remove(tmp, ec);
        }
      }
    }
    auto copied = co_await rows::copy_blob_to_file(images_, blob_key, path);
    if (!copied) { co_return make_error(Errc::unavailable, "the image cannot be cached: " + copied.error().message, copied.error().detail); }
    co_return path;
  }

  // --- tasks -----------------------------------------------------------------------------------
  boost::asio::awaitable<void> build(Task t) {
    const std::string& id = t.server_id;
    Server srv;
    std::string user_data_b64, blob_key, disk_format;
    std::optional<std::uint64_t> virtual_size;
    bool found = false, image_found = false;
    auto loaded = co_await meta_.read([&](Tx& tx) -> Status {
      auto r = tx.one("SELECT " + std::string(rows::kServerCols) + ", user_data FROM compute_servers WHERE id = $1 AND deleted_s IS NULL",
                      {Value{id}});
      if (!r) { return r.error(); }
      if (!*r) { return {}; }
      found = true;
      srv = server_from(**r);
      user_data_b64 = (*r)->text(22);
      auto i = tx.one("SELECT blob_key, disk_format, virtual_size FROM compute_images WHERE id = $1", {Value{srv.image_id}});
      if (!i) { return i.error(); }
      if (*i && !(*i)->is_null(0)) {
        image_found = true;
        blob_key = (*i)->text(0);
        disk_format = (*i)->text(1);
        if (!(*i)->is_null(2)) { virtual_size = static_cast<std::uint64_t>((*i)->integer(2)); }
      }
      return {};
    });
    if (!loaded) {
      log::error("compute: cannot read server {}: {} {}", id, loaded.error().message, loaded.error().detail);
      co_return;
    }
    if (!found || srv.task_state == "deleting") { co_return; }
    if (!image_found) {
      co_await set_state(id, "ERROR", "error", "", 0, "The image " + srv.image_id + " was deleted before the server was built");
      co_return;
    }
    std::string public_key;
    {
      boost::system::error_code ec;
      auto v = json::parse(t.payload, ec);
      if (!ec && v.is_object()) {
        if (auto k = v.as_object().if_contains("public_key"); k && k->is_string()) { public_key = std::string(k->as_string()); }
      }
    }
    auto user_data = crypto::unbase64(user_data_b64);
    Status started;
    auto path = co_await cached_image(srv.image_id, blob_key, disk_format);
    if (!path) {
      started = path.error();
    } else {
      started = co_await run_blocking([&]() -> Status {
        driver::VmSpec spec;
        spec.id = srv.id;
        spec.vcpus = std::max<std::uint32_t>(srv.flavor.vcpus, 1);
        spec.ram_mib = std::max<std::uint64_t>(srv.flavor.ram_mib, 16);
        spec.disk_gib = std::max<std::uint64_t>(srv.flavor.disk_gib, 1);
        spec.image_path = *path;
        spec.image_format = disk_format;
        spec.image_virtual_size = virtual_size;
        spec.ssh_port = srv.ssh_port;
        json::object meta{{"uuid", srv.id}, {"name", srv.name}, {"hostname", srv.name}, {"availability_zone", "nova"},
                          {"launch_index", 0}, {"project_id", srv.project_id}};
        json::object keys;
        if (!srv.key_name.empty()) {
          keys[srv.key_name] = public_key;
          meta["keys"] = json::array{json::object{{"name", srv.key_name}, {"type", "ssh"}, {"data", public_key}}};
        }
        meta["public_keys"] = std::move(keys);
        json::object md;
        for (const auto& [k, v] : srv.metadata) { md[k] = v; }
        meta["meta"] = std::move(md);
        json::object network{
            {"links", json::array{json::object{{"id", "eth0"}, {"type", "phy"}, {"ethernet_mac_address", "52:54:00:12:34:56"}, {"mtu", 1500}}}},
            {"networks", json::array{json::object{{"id", "network0"}, {"type", "ipv4_dhcp"}, {"link", "eth0"}, {"network_id", "private"}}}},
            {"services", json::array{}}};
        spec.config_drive = driver::ConfigDrive{json::serialize(meta), user_data ? *user_data : std::string(), json::serialize(network)};
        if (auto st = hv_.create(spec); !st) { return st; }
        auto run = hv_.start(srv.id);
        if (!run) {
          (void)hv_.destroy(srv.id);
          return run.error();
        }
        return {};
      });
    }
    if (!started) {
      log::error("compute: server {} failed to build: {} {}", id, started.error().message, started.error().detail);
      std::string fault = started.error().message + (started.error().detail.empty() ? "" : ": " + started.error().detail.substr(0, 500));
      co_await set_state(id, "ERROR", "error", "", 0, fault);
      co_return;
    }
    // Deleted while building: the delete task, queued behind this one, removes the VM next.
    bool deleting = false;
    (void)co_await meta_.read([&](Tx& tx) -> Status {
      auto r = tx.one("SELECT task_state FROM compute_servers WHERE id = $1", {Value{id}});
      if (r && *r) { deleting = (*r)->text(0) == "deleting"; }
      return {};
    });
    if (deleting) { co_return; }
    co_await set_state(id, "ACTIVE", "active", "", 1);
    log::info("compute: server {} ({}) is running on {} under {}", id, srv.name, config_.host, hv_.accelerator());
  }

  boost::asio::awaitable<void> run_action(std::string id, std::string action) {
    Status st;
    if (action == "start") {
      auto r = co_await run_blocking([&] { return hv_.start(id); });
      st = r ? Status{} : Status{r.error()};
      if (st) { co_await set_state(id, "ACTIVE", "active", "", 1); }
    } else if (action == "stop") {
      st = co_await run_blocking([&] { return hv_.stop(id, config_.shutdown_timeout); });
      if (st) { co_await set_state(id, "SHUTOFF", "stopped", "", 4); }
    } else {
      bool hard = action == "reboot_hard";
      auto state = co_await run_blocking([&] { return hv_.state(id); });
      if (state && !state->running) {
        auto r = co_await run_blocking([&] { return hv_.start(id); });  // a hard reboot of a stopped server starts it
        st = r ? Status{} : Status{r.error()};
      } else {
        st = co_await run_blocking([&] { return hv_.reboot(id, hard); });
      }
      if (st) { co_await set_state(id, "ACTIVE", "active", "", 1); }
    }
    if (!st) {
      log::error("compute: action on server {} failed: {} {}", id, st.error().message, st.error().detail);
      auto state = co_await run_blocking([&] { return hv_.state(id); });
      bool running = state && state->running;
      co_await set_state(id, running ? "ACTIVE" : "ERROR", running ? "active" : "error", "", running ? 1 : 0,
                         running ? "" : st.error().message);
    }
  }

  boost::asio::awaitable<void> destroy(std::string id) {
    auto st = co_await run_blocking([&] { return hv_.destroy(id); });
    if (!st && st.error().code != Errc::not_found) {
      log::error("compute: cannot destroy server {}: {} {}", id, st.error().message, st.error().detail);
      co_await set_state(id, "ERROR", "error", "", 0, "Deleting failed: " + st.error().message);
      co_return;
    }
    co_await set_state(id, "DELETED", "deleted", "", 0, "", true);
  }

  store::MetaStore& meta_;
  store::BlobStore& images_;
  driver::Hypervisor& hv_;
  AgentConfig config_;
  std::atomic<bool> stopped_{false};
  std::mutex mu_;
  bool woken_ = false;                                   // guarded by mu_
  std::shared_ptr<boost::asio::steady_timer> timer_;     // guarded by mu_; runs on the queue loop's strand
  std::optional<boost::asio::any_io_executor> base_;    // where tasks run (not the queue loop's strand)
  // Last, so destroyed first: its thread calls wake().
  std::unique_ptr<store::MetaStore::Subscription> notices_;
};

}  // namespace

std::unique_ptr<Agent> make_agent(store::MetaStore& meta, store::BlobStore& images, driver::Hypervisor& hypervisor, AgentConfig config) {
  return std::make_unique<AgentImpl>(meta, images, hypervisor, std::move(config));
}

}  // namespace ciel::compute
