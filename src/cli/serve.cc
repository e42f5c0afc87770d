// `ciel serve`: the one place that knows every module. It loads settings, opens the stores,
// applies migrations, builds each service, registers each route group, writes endpoints.json
// and serves until SIGTERM has drained the in-flight requests.
#include "cli/serve.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>

#include "box/box.h"
#include "box/collab.h"
#include "box/dav/dav.h"
#include "box/settings.h"
#include "cli/blob_stores.h"
#include "cli/diagnostics.h"
#include "compute/api/api.h"
#include "cli/compute_host.h"
#include "compute/agent.h"
#include "compute/compute.h"
#include "compute/driver/hypervisor.h"
#include "compute/settings.h"
#include "cli/settings.h"
#include "cli/system_routes.h"
#include "console/console.h"
#include "core/blocking.h"
#include "core/http/server.h"
#include "core/log/log.h"
#include "identity/identity.h"
#include "identity/keystone/keystone.h"
#include "identity/settings.h"
#include "object/engine/object_service.h"
#include "object/s3/s3.h"
#include "object/s3/settings.h"
#include "object/settings.h"
#include "object/swift/swift.h"
#include "store/blob_store.h"
#include "store/lease.h"
#include "store/meta_store.h"

namespace ciel::cli {
namespace {

[[noreturn]] void die(int code, const std::string& message) {
  std::fprintf(stderr, "ciel: %s\n", message.c_str());
  std::exit(code);
}

struct HostPort {
  std::string host;
  std::uint16_t port = 0;
};

Result<HostPort> parse_listen(const std::string& key, const std::string& value) {
  auto colon = value.rfind(':');
  if (colon == std::string::npos) { return make_error(Errc::invalid_argument, "invalid setting " + key + " = \"" + value + "\": expected HOST:PORT"); }
  HostPort hp;
  hp.host = value.substr(0, colon);
  if (hp.host.size() >= 2 && hp.host.front() == '[' && hp.host.back() == ']') { hp.host = hp.host.substr(1, hp.host.size() - 2); }
  unsigned char addr[sizeof(in6_addr)];
  if (::inet_pton(AF_INET, hp.host.c_str(), addr) != 1 && ::inet_pton(AF_INET6, hp.host.c_str(), addr) != 1) {
    return make_error(Errc::invalid_argument, "invalid setting " + key + " = \"" + value + "\": HOST must be an IP address");
  }
  std::string_view port = std::string_view(value).substr(colon + 1);
  unsigned p = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
  if (ec != std::errc{} || end != port.data() + port.size() || port.empty() || p > 65535) {
    return make_error(Errc::invalid_argument, "invalid setting " + key + " = \"" + value + "\": bad port");
  }
  hp.port = static_cast<std::uint16_t>(p);
  return hp;
}

std::string url_host(const std::string& host) {
  if (host == "0.0.0.0") { return "127.0.0.1"; }
  if (host == "::") { return "[::1]"; }
  if (host.find(':') != std::string::npos) { return "[" + host + "]"; }
  return host;
}

void write_file_atomic(const std::string& path, const std::string& text, std::filesystem::perms perms) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << text;
    if (!out) { die(1, "cannot write " + path); }
  }
  std::filesystem::permissions(tmp, perms);
  std::filesystem::rename(tmp, path);
}

std::string default_web_root() {
  // Installed layout: <prefix>/bin/ciel and <prefix>/share/ciel/web; build tree: build/ciel and web/dist.
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec).parent_path();
  for (const auto& candidate : {exe / "../share/ciel/web", exe / "../web/dist", exe / "web"}) {
    if (std::filesystem::exists(candidate / "index.html", ec)) { return std::filesystem::weakly_canonical(candidate).string(); }
  }
  return (exe / "../web/dist").lexically_normal().string();
}

}  // namespace

std::vector<store::Migration> all_migrations() {
  std::vector<store::Migration> migrations;
  for (auto& m : store::store_migrations()) { migrations.push_back(std::move(m)); }
  for (auto& m : identity::migrations()) { migrations.push_back(std::move(m)); }
  for (auto& m : object::migrations()) { migrations.push_back(std::move(m)); }
  for (auto& m : box::migrations()) { migrations.push_back(std::move(m)); }
  for (auto& m : box::collab_migrations()) { migrations.push_back(std::move(m)); }
  for (auto& m : compute::migrations()) { migrations.push_back(std::move(m)); }
  return migrations;
}

void declare_all_settings(config::Settings& settings) {
  declare_core_settings(settings);
  identity::declare_settings(settings);
  object::declare_settings(settings);
  object::s3::declare_settings(settings);
  box::declare_settings(settings);
  compute::declare_settings(settings);
}

int serve_main(int argc, char** argv, char** envp) {
  config::Settings settings;
  declare_all_settings(settings);

  CLI::App app{"ciel serve: run the cloud"};
  LoadOptions load;
  std::string data_dir;
  std::string listen;
  bool show_help = false;
  app.set_help_flag();
  app.add_flag("-h,--help", show_help, "Print this help, with every setting and its default");
  app.add_option("--data-dir", data_dir, "Data directory (setting data_dir)");
  app.add_option("--config", load.config_file, "TOML config file (default: DATA_DIR/ciel.toml when present)");
  app.add_option("--listen", listen, "Public listener HOST:PORT (setting server.listen)");
  app.add_option("--set", load.assignments, "Set any setting: --set key=value (repeatable)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    die(2, e.what());
  }
  if (show_help) {
    std::printf("%s\nSettings (TOML file keys; nested tables give the dotted names):\n%s", app.help().c_str(),
                settings.help_text().c_str());
    return 0;
  }
  if (!data_dir.empty()) { load.assignments.insert(load.assignments.begin(), "data_dir=" + data_dir); }
  if (!listen.empty()) { load.assignments.push_back("server.listen=" + listen); }
  load_or_exit(settings, load, envp);

  // --- validate and derive --------------------------------------------------------------------
  std::string dir = settings.get_string("data_dir");
  std::error_code ec;
  std::filesystem::create_directories(dir + "/log", ec);
  if (ec) { die(2, "invalid setting data_dir = \"" + dir + "\": " + ec.message()); }
  dir = std::filesystem::canonical(dir).string();
  // One server per data directory: a second one would corrupt nothing in SQLite, but would
  // race on blobs, keys and endpoints.json. The lock dies with the process, even on kill -9.
  int lock_fd = ::open((dir + "/ciel.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd < 0 || ::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
    die(1, "another ciel serve is using " + dir + " (" + dir + "/ciel.lock is held)");
  }
  bool level_ok = false;
  log::LogConfig log_config;
  log_config.level = log::parse_level(settings.get_string("log.level"), &level_ok);
  if (!level_ok) { die(2, "invalid setting log.level = \"" + settings.get_string("log.level") + "\": expected debug, info, warn or error"); }
  if (settings.get_bool("log.access")) { log_config.access_log_path = dir + "/log/access.log"; }
  log::init(log_config);
  auto public_listen = parse_listen("server.listen", settings.get_string("server.listen"));
  if (!public_listen) { die(2, public_listen.error().message); }
  // S3 addresses buckets at the root of its URLs, so it has a listener of its own.
  HostPort s3_listen{public_listen->host, static_cast<std::uint16_t>(public_listen->port == 0 || public_listen->port == 65535 ? 0 : public_listen->port + 1)};
  if (auto v = settings.get_string("s3.listen"); !v.empty()) {
    auto parsed = parse_listen("s3.listen", v);
    if (!parsed) { die(2, parsed.error().message); }
    s3_listen = *parsed;
  }
  auto s3_options = object::s3::options_from(settings);
  if (!s3_options) { die(2, s3_options.error().message); }
  std::string tls_cert = settings.get_string("server.tls_cert");
  std::string tls_key = settings.get_string("server.tls_key");
  if (!tls_cert.empty() && tls_key.empty()) { die(2, "invalid setting server.tls_key: required when server.tls_cert is set"); }
  if (tls_cert.empty() && !tls_key.empty()) { die(2, "invalid setting server.tls_cert: required when server.tls_key is set"); }
  for (const auto& [key, path] : {std::pair{"server.tls_cert", tls_cert}, std::pair{"server.tls_key", tls_key}}) {
    if (!path.empty() && ::access(path.c_str(), R_OK) != 0) {
      die(2, std::string("invalid setting ") + key + " = \"" + path + "\": " + std::strerror(errno));
    }
  }
  if (settings.get_int("server.threads") < 0) { die(2, "invalid setting server.threads: must be 0 or more"); }
  if (settings.get_int("server.blocking_threads") < 1) { die(2, "invalid setting server.blocking_threads: must be at least 1"); }
  start_blocking_pool(static_cast<std::size_t>(settings.get_int("server.blocking_threads")));

  // --- stores -----------------------------------------------------------------------------------
  std::string meta_url = settings.get_string("store.metadata");
  if (meta_url.empty()) { meta_url = "sqlite:" + dir + "/meta.db"; }
  auto meta = store::open_meta_store(meta_url);
  if (!meta) { die(1, meta.error().message + (meta.error().detail.empty() ? "" : ": " + meta.error().detail)); }
  auto migrations = all_migrations();
  if (auto st = store::migrate(**meta, migrations); !st) { die(1, st.error().message + ": " + st.error().detail); }
  std::string blob_root = settings.get_string("store.blob_root");
  if (blob_root.empty()) { blob_root = dir + "/blobs"; }
  // Local blob stores are this server's alone (the data directory lock) and nothing is being
  // written yet, so whatever an interrupted write left can go now. A RADOS pool is shared with
  // the other nodes, which may be writing: only pieces older than store.rados.sweep_grace go.
  auto open_blobs = [&](const std::string& root, const std::string& ns) {
    auto opened = open_blob_store(settings, root, ns, settings.get_bool("store.fsync"));
    if (!opened) {
      die(opened.error().code == Errc::invalid_argument ? 2 : 1,
          opened.error().message + (opened.error().detail.empty() ? "" : ": " + opened.error().detail));
    }
    auto leftovers = (*opened)->shared() ? (*opened)->sweep_grace() : std::chrono::seconds(0);
    if (auto swept = (*opened)->collect_temp_files(leftovers); swept && *swept > 0) {
      log::info("{}: removed {} pieces left by interrupted writes", ns, *swept);
    }
    return std::move(*opened);
  };
  auto blobs = open_blobs(blob_root, "objects");
  // Blobs written by uploads a crash interrupted before their commit are named by no row, and
  // can go (in a shared store, only once older than store.rados.sweep_grace: see sweep_blobs).
  if (auto report = object::check_consistency(**meta, *blobs, /*remove_unreferenced=*/true); !report) {
    die(1, report.error().message + ": " + report.error().detail);
  } else {
    if (!report->unreferenced_blobs.empty()) {
      log::info("object: removed {} blobs left by interrupted uploads", report->unreferenced_blobs.size());
    }
    for (const auto& k : report->missing_blobs) { log::error("object: blob {} is named by an object but missing", k); }
    for (const auto& m : report->counter_mismatches) { log::warn("object: usage counters disagree: {}", m); }
  }

  // The box's bytes live in a blob store of their own, so each engine's startup sweep of
  // unreferenced blobs only ever sees its own.
  std::string box_blob_root = settings.get_string("store.box_blob_root");
  if (box_blob_root.empty()) { box_blob_root = dir + "/box"; }
  auto box_blobs = open_blobs(box_blob_root, "box");
  if (auto report = box::check_consistency(**meta, *box_blobs, /*remove_unreferenced=*/true); !report) {
    die(1, report.error().message + ": " + report.error().detail);
  } else {
    if (!report->unreferenced_blobs.empty()) {
      log::info("box: removed {} blobs left by interrupted uploads", report->unreferenced_blobs.size());
    }
    for (const auto& k : report->missing_blobs) { log::error("box: blob {} is named by a file but missing", k); }
  }
  // Images are blobs like the others: local files, or the pool's namespace "images" with
  // store.blob_backend = rados (then every compute agent reads them from there).
  std::string image_blob_root = settings.get_string("store.image_blob_root");
  if (image_blob_root.empty()) { image_blob_root = dir + "/images"; }
  auto image_blobs = open_blobs(image_blob_root, "images");
  if (auto removed = compute::remove_unreferenced_image_blobs(**meta, *image_blobs); !removed) {
    die(1, removed.error().message + ": " + removed.error().detail);
  } else if (*removed > 0) {
    log::info("compute: removed {} image blobs left by interrupted uploads", *removed);
  }
  auto compute_config = compute::config_from(settings);
  if (!compute_config) { die(2, compute_config.error().message); }
  auto box_config = box::config_from(settings);
  if (!box_config) { die(2, box_config.error().message); }

  // --- listeners --------------------------------------------------------------------------------
  http::Router public_router;
  http::ServerConfig server_config;
  server_config.threads = static_cast<unsigned>(settings.get_int("server.threads"));
  server_config.limits.max_header_bytes = settings.get_bytes("server.max_header_bytes");
  server_config.limits.header_timeout = settings.get_duration("server.header_timeout");
  server_config.limits.idle_timeout = settings.get_duration("server.idle_timeout");
  server_config.limits.body_timeout = settings.get_duration("server.body_timeout");
  server_config.limits.drain_timeout = settings.get_duration("server.drain_timeout");
  server_config.limits.max_connections = static_cast<std::uint64_t>(settings.get_int("server.max_connections"));
  server_config.listeners.push_back(http::ListenerConfig{"public", public_listen->host, public_listen->port,
                                                         tls_cert, tls_key,
                                                         &public_router});
  http::Router s3_router;
  server_config.listeners.push_back(http::ListenerConfig{"s3", s3_listen.host, s3_listen.port, tls_cert, tls_key, &s3_router});
  http::Server server(server_config);
  if (auto st = server.start(); !st) {
    // invalid_argument: the address or the certificate and key are unusable (a bad setting);
    // unavailable: the address is taken or not ours (the machine, not the setting).
    if (st.error().code == Errc::invalid_argument) {
      die(2, "invalid setting " + std::string(tls_cert.empty() ? "server.listen" : "server.listen or server.tls_cert/server.tls_key") +
                 ": " + st.error().message);
    }
    die(1, st.error().message);
  }
  const auto& bound = server.bound();
  std::string public_url = settings.get_string("server.public_url");
  if (public_url.empty()) {
    public_url = std::string(bound[0].tls ? "https://" : "http://") + url_host(bound[0].host) + ":" + std::to_string(bound[0].port);
  }
  while (public_url.ends_with('/')) { public_url.pop_back(); }
  std::string s3_url = settings.get_string("s3.public_url");
  if (s3_url.empty()) {
    s3_url = std::string(bound[1].tls ? "https://" : "http://") + url_host(bound[1].host) + ":" + std::to_string(bound[1].port);
  }
  while (s3_url.ends_with('/')) { s3_url.pop_back(); }

  // --- services and routes ----------------------------------------------------------------------
  // Duties that must run once across the nodes sharing this metadata store (expiry, lifecycle,
  // purges, key rotation) run where their lease is held; a lease outlives three rounds of its duty,
  // so a node that dies hands its duties over within that time. Alone, a node always holds them.
  const std::string holder = store::lease_holder_name();
  std::vector<std::unique_ptr<store::Lease>> leases;
  auto lease_for = [&](const char* duty, std::chrono::milliseconds interval) {
    auto ttl = std::max<std::chrono::milliseconds>(interval * 3, std::chrono::seconds(5));
    leases.push_back(std::make_unique<store::Lease>(**meta, duty, holder, ttl));
    return leases.back().get();
  };
  std::map<std::string, std::string> endpoints;  // service type -> public URL

  // Identity: bootstrap a new data dir, register the catalog, serve /v3.
  auto identity_config = identity::config_from(settings, dir);
  if (!identity_config) { die(2, identity_config.error().message); }
  auto identity_service = identity::open_identity_service(**meta, *identity_config);
  if (!identity_service) { die(1, identity_service.error().message + ": " + identity_service.error().detail); }
  auto& ident = **identity_service;
  if (auto r = ident.maybe_rotate_keys(false); !r) { die(1, r.error().message); }
  auto boot = ident.bootstrap();
  if (!boot) { die(1, boot.error().message + ": " + boot.error().detail); }
  std::string openrc_path = dir + "/openrc";
  if (auto st = identity::write_openrc(openrc_path, public_url + "/v3", boot->created ? boot->admin_password : "", ident.config()); !st) {
    die(1, st.error().message);
  }
  // Later services add their own entries here (type, name, URL template with %(project_id)s).
  std::vector<identity::CatalogEntry> catalog = {
      {"identity", "keystone", public_url + "/v3", "Identity (Keystone v3)"},
      {"object-store", "swift", public_url + "/v1/AUTH_%(project_id)s", "Object storage (Swift v1)"},
      {"s3", "s3", s3_url, "Object storage (S3)"},
      {"compute", "nova", public_url + "/compute/v2.1", "Compute (Nova v2.1)"},
      {"image", "glance", public_url + "/image", "Images (Glance v2)"},
      {"network", "neutron", public_url + "/network", "Networks (Neutron v2.0)"},
  };
  for (const auto& entry : catalog) {
    if (auto st = ident.register_catalog_entry(entry); !st) { die(1, st.error().message + ": " + st.error().detail); }
  }
  endpoints["identity"] = public_url + "/v3";
  public_router.add_group("/v3", "identity", identity::keystone::error_renderer(public_url));
  identity::keystone::add_routes(public_router, ident, identity::keystone::Options{public_url});
  server.spawn([&ident, lease = lease_for("identity.housekeeping", std::chrono::minutes(5))] { return identity::run_maintenance(ident, lease); });

  // Object storage: one engine; the Swift API at /v1 (with /auth/v1.0 and /info).
  auto object_config = object::config_from(settings);
  if (!object_config) { die(2, object_config.error().message); }
  auto objects = object::make_object_service(**meta, *blobs, ident.policy(), *object_config);
  // The admin project's account: a URL the credentials in openrc can use as it is.
  endpoints["object-store"] = public_url + "/v1/AUTH_" + ident.policy().admin_project();
  for (const char* prefix : {"/v1", "/auth", "/info"}) { public_router.add_group(prefix, "object-store", object::swift::error_renderer); }
  object::swift::add_routes(public_router, *objects, ident, object::swift::Options{public_url});
  // The S3 API on its own listener, over the same engine and namespace.
  endpoints["s3"] = s3_url;
  s3_router.add_group("/", "s3", object::s3::error_renderer);
  object::s3::add_routes(s3_router, *objects, ident, *s3_options);
  server.spawn([&objects, interval = object::reaper_interval(settings), lease = lease_for("object.reaper", object::reaper_interval(settings))] {
    return object::run_reaper(*objects, interval, lease);
  });

  // The box: WebDAV and the Nextcloud sync-client API on the public listener.
  // Link passwords cost what account passwords cost.
  box_config->argon2_memory_kib = ident.config().argon2_memory_kib;
  box_config->argon2_iterations = ident.config().argon2_iterations;
  // Group shares reach a group's members as identity has them now.
  box::Directory directory;
  directory.groups_of = [&ident](const std::string& user_id) {
    std::vector<std::string> ids;
    for (const auto& g : ident.groups_of(user_id)) { ids.push_back(g.id); }
    return ids;
  };
  directory.name_of = [&ident](const std::string& id, bool group) { return group ? ident.group_name(id) : ident.user_name(id); };
  auto box_service = box::make_box_service(**meta, *box_blobs, *box_config, system_clock(), std::move(directory));
  endpoints["box"] = public_url + "/remote.php/webdav/";
  public_router.add_group("/remote.php", "box", box::dav::error_renderer);
  public_router.add_group("/ocs", "box", box::dav::ocs_error_renderer);
  public_router.add_group("/public.php", "box", box::dav::error_renderer);
  public_router.add_group("/s", "box", http::json_error);
  public_router.add_group("/index.php", "box", http::json_error);
  public_router.add_group("/box", "box", http::json_error);
  std::string web_root = settings.get_string("web.root");
  if (web_root.empty()) { web_root = default_web_root(); }
  auto collab_service = box::make_collab_service(**meta, *box_service);
  box::dav::add_routes(public_router, *box_service, *collab_service, ident,
                       box::dav::Options{.public_url = public_url, .upload_script = asset_url(web_root, "src/linkupload.ts")});
  server.spawn([&box_service, interval = box::reaper_interval(settings), lease = lease_for("box.reaper", box::reaper_interval(settings))] {
    return box::run_reaper(*box_service, interval, lease);
  });
  server.spawn([&collab_service, interval = box::reaper_interval(settings), lease = lease_for("box.collab_reaper", box::reaper_interval(settings))] {
    return box::run_collab_reaper(*collab_service, interval, lease);
  });
  // Orphans in a shared pool: swept from time to time by one node (local stores: at each start).
  if (auto every = settings.get_duration("store.sweep_interval"); every.count() > 0 && (blobs->shared() || box_blobs->shared())) {
    std::vector<OrphanSweep> sweeps;
    sweeps.push_back({"object", [&meta, &blobs]() -> Status {
                        auto report = object::check_consistency(**meta, *blobs, /*remove_unreferenced=*/true);
                        if (!report) { return report.error(); }
                        if (!report->unreferenced_blobs.empty()) { log::info("object: removed {} orphaned blobs", report->unreferenced_blobs.size()); }
                        return {};  // missing blobs are ciel scrub's to report: here a delete racing the sweep looks alike
                      }});
    sweeps.push_back({"box", [&meta, &box_blobs]() -> Status {
                        auto report = box::check_consistency(**meta, *box_blobs, /*remove_unreferenced=*/true);
                        if (!report) { return report.error(); }
                        if (!report->unreferenced_blobs.empty()) { log::info("box: removed {} orphaned blobs", report->unreferenced_blobs.size()); }
                        return {};
                      }});
    server.spawn([sweeps = std::move(sweeps), every, lease = lease_for("store.orphan_sweep", every)]() mutable {
      return run_orphan_sweeps(std::move(sweeps), every, *lease);
    });
  }

  // Compute: images, flavors, keypairs and quotas (Glance v2, Nova v2.1, Neutron's network list).
  auto agent_config = compute::agent_config_from(settings, dir);
  if (!agent_config) { die(2, agent_config.error().message); }
  compute_config->cache_dir = agent_config->cache_dir;
  compute_config->scratch_dir = agent_config->state_dir + "/scratch";
  // The agent of this host, unless this node only schedules (compute.local_agent = false).
  std::unique_ptr<compute::driver::Hypervisor> hypervisor;
  std::unique_ptr<compute::Agent> agent;
  if (settings.get_bool("compute.local_agent")) {
    hypervisor = open_hypervisor(settings, agent_config->state_dir);
    agent_config->adopt_unplaced = true;
    agent = compute::make_agent(**meta, *image_blobs, *hypervisor, *agent_config);
    // VMs outlive ciel serve: find the running ones again, mark the ones that died.
    if (auto st = agent->start(); !st) { die(1, "compute: " + st.error().message + ": " + st.error().detail); }
    compute_config->wake_local_agent = [a = agent.get()] { a->wake(); };
    server.spawn([a = agent.get()] { return a->run(); });
  }
  auto compute_service = compute::make_compute_service(**meta, *image_blobs, ident.policy(), *compute_config);
  server.spawn([&compute_service, interval = std::max(std::chrono::milliseconds(500), compute_config->agent_timeout / 3)] {
    return compute::run_host_monitor(*compute_service, interval);
  });
  endpoints["compute"] = public_url + "/compute/v2.1";
  endpoints["image"] = public_url + "/image";
  endpoints["network"] = public_url + "/network";
  public_router.add_group("/image", "image", compute::api::glance_error_renderer);
  public_router.add_group("/compute", "compute", compute::api::nova_error_renderer);
  public_router.add_group("/network", "network", compute::api::neutron_error_renderer);
  compute::api::add_routes(public_router, *compute_service, ident, compute::api::Options{public_url});

  endpoints["health"] = public_url + "/healthz";
  endpoints["metrics"] = public_url + "/metrics";
  endpoints["console"] = public_url + "/";
  public_router.add_group("/", "system", http::json_error);
  add_system_routes(public_router);
  if (settings.get_bool("server.diagnostics")) { add_diagnostic_routes(public_router); }
  // "/" is the console for browsers and Keystone's version list for API clients.
  http::Handler versions = [public_url](http::RequestContext& ctx) -> boost::asio::awaitable<http::Response> {
    co_return identity::keystone::root_versions(ctx.request(), public_url);
  };
  add_static_routes(public_router, web_root, versions);
  public_router.add_group("/console", "console", http::json_error);
  console::add_console_routes(public_router, ident, console::ConsoleOptions{endpoints.count("s3") != 0 ? endpoints["s3"] : std::string(), s3_options->region});
  public_router.set_request_filter(console::session_filter);

  // --- ready --------------------------------------------------------------------------------------
  server.on_ready([&] {
    std::string json = "{\n";
    std::size_t i = 0;
    for (const auto& [type, url] : endpoints) {
      json += "  \"" + type + "\": \"" + url + "\"" + (++i < endpoints.size() ? ",\n" : "\n");
    }
    json += "}\n";
    write_file_atomic(dir + "/endpoints.json", json, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write |
                                                         std::filesystem::perms::group_read | std::filesystem::perms::others_read);
    for (const auto& [type, url] : endpoints) { std::printf("ciel: endpoint %-12s %s\n", type.c_str(), url.c_str()); }
    std::printf("ciel: admin credentials in %s\n", openrc_path.c_str());
    std::printf("ciel: ready on %s (data in %s)\n", public_url.c_str(), dir.c_str());
    std::fflush(stdout);
    log::info("ready on {}", public_url);
  });
  server.run();
  for (const auto& lease : leases) { (void)lease->release_sync(); }  // the other nodes take over at once
  ident.flush_audit();
  log::info("stopped");
  log::flush();
  stop_blocking_pool();
  return 0;
}

}  // namespace ciel::cli
