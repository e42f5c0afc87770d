// `ciel agent`: the compute agent of one hypervisor host in a scale-out cloud. It reads the same
// settings as `ciel serve` (store.metadata and the blob store settings must name the cloud's
// shared stores), registers this host with its capacity, and runs the VMs the API nodes place
// here, taking its work from the queue in the metadata store (compute/agent.h). No listener:
// every exchange with the API nodes goes through the database.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <cstdio>
#include <filesystem>

#include "box/settings.h"
#include "cli/blob_stores.h"
#include "cli/compute_host.h"
#include "cli/serve.h"
#include "cli/settings.h"
#include "compute/agent.h"
#include "compute/settings.h"
#include "core/blocking.h"
#include "core/log/log.h"
#include "identity/settings.h"
#include "object/s3/settings.h"
#include "object/settings.h"
#include "store/blob_store.h"
#include "store/meta_store.h"

namespace ciel::cli {
namespace {

[[noreturn]] void die(int code, const std::string& message) {
  std::fprintf(stderr, "ciel: %s\n", message.c_str());
  std::exit(code);
}

}  // namespace

std::unique_ptr<compute::driver::Hypervisor> open_hypervisor(const config::Settings& settings, const std::string& state_dir) {
  compute::driver::QemuConfig qemu_config;
  qemu_config.state_dir = state_dir + "/vms";
  qemu_config.accel = settings.get_string("compute.accel");
  qemu_config.serial_log_max = settings.get_bytes("compute.console_max");
  std::unique_ptr<compute::driver::Hypervisor> hypervisor;
  try {
    hypervisor = compute::driver::make_qemu_hypervisor(qemu_config);
  } catch (const std::exception& e) {
    die(2, std::string("compute: ") + e.what());
  }
  log::info("compute: virtual machines run under {}", hypervisor->accelerator());
  return hypervisor;
}

int agent_main(int argc, char** argv, char** envp) {
  // Every module's settings are declared, so one settings file serves `ciel serve` and `ciel agent`.
  config::Settings settings;
  declare_core_settings(settings);
  identity::declare_settings(settings);
  object::declare_settings(settings);
  object::s3::declare_settings(settings);
  box::declare_settings(settings);
  compute::declare_settings(settings);

  CLI::App app{"ciel agent: run this host's virtual machines for a scale-out cloud"};
  LoadOptions load;
  std::string data_dir;
  bool show_help = false;
  app.set_help_flag();
  app.add_flag("-h,--help", show_help, "Print this help, with every setting and its default");
  app.add_option("--data-dir", data_dir, "Data directory (setting data_dir): the agent's logs and default state directory");
  app.add_option("--config", load.config_file, "TOML config file (default: DATA_DIR/ciel.toml when present)");
  app.add_option("--set", load.assignments, "Set any setting: --set key=value (repeatable)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    die(2, e.what());
  }
  if (show_help) {
    std::printf("%s\nSettings (TOML file keys; nested tables give the dotted names; the agent reads agent.*, compute.*, store.*, log.*):\n%s",
                app.help().c_str(), settings.help_text().c_str());
    return 0;
  }
  if (!data_dir.empty()) { load.assignments.insert(load.assignments.begin(), "data_dir=" + data_dir); }
  load_or_exit(settings, load, envp);

  std::string dir = settings.get_string("data_dir");
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) { die(2, "invalid setting data_dir = \"" + dir + "\": " + ec.message()); }
  dir = std::filesystem::canonical(dir).string();
  bool level_ok = false;
  log::LogConfig log_config;
  log_config.level = log::parse_level(settings.get_string("log.level"), &level_ok);
  if (!level_ok) { die(2, "invalid setting log.level = \"" + settings.get_string("log.level") + "\": expected debug, info, warn or error"); }
  log::init(log_config);
  auto agent_config = compute::agent_config_from(settings, dir);
  if (!agent_config) { die(2, agent_config.error().message); }
  auto compute_config = compute::config_from(settings);
  if (!compute_config) { die(2, compute_config.error().message); }
  std::filesystem::create_directories(agent_config->state_dir, ec);
  if (ec) { die(2, "invalid setting agent.state_dir = \"" + agent_config->state_dir + "\": " + ec.message()); }
  // One agent per state directory: two would fight over the same VMs.
  int lock_fd = ::open((agent_config->state_dir + "/agent.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd < 0 || ::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
    die(1, "another ciel agent is using " + agent_config->state_dir + " (" + agent_config->state_dir + "/agent.lock is held)");
  }
  if (settings.get_int("server.blocking_threads") < 1) { die(2, "invalid setting server.blocking_threads: must be at least 1"); }
  start_blocking_pool(static_cast<std::size_t>(std::min<std::int64_t>(settings.get_int("server.blocking_threads"), 32)));

  std::string meta_url = settings.get_string("store.metadata");
  if (meta_url.empty()) { meta_url = "sqlite:" + dir + "/meta.db"; }
  auto meta = store::open_meta_store(meta_url);
  if (!meta) { die(1, meta.error().message + (meta.error().detail.empty() ? "" : ": " + meta.error().detail)); }
  // The API nodes (ciel serve) own the schema; an agent only checks it knows this one.
  std::int64_t schema = 0;
  auto checked = (*meta)->read_sync([&](store::Tx& tx) -> Status {
    auto r = tx.one("SELECT MAX(version) FROM schema_migrations WHERE module = 'compute'");
    if (!r) { return r.error(); }
    schema = *r ? (*r)->integer(0) : 0;
    return {};
  });
  // A store no ciel serve has opened yet has no schema_migrations table: the read fails.
  if (!checked || schema < 2) {
    die(1, "the metadata store " + meta_url.substr(0, meta_url.find(':')) + " has no compute schema 2 yet" +
               (checked ? std::string() : " (" + checked.error().message + ")") + ": start ciel serve on it first (it applies the schema)");
  }
  std::size_t known = compute::migrations().size();
  if (schema > static_cast<std::int64_t>(known)) { die(1, "the metadata store was written by a newer Ciel (compute schema " + std::to_string(schema) + ")"); }

  std::string image_blob_root = settings.get_string("store.image_blob_root");
  if (image_blob_root.empty()) { image_blob_root = dir + "/images"; }
  auto images = open_blob_store(settings, image_blob_root, "images", settings.get_bool("store.fsync"));
  if (!images) {
    die(images.error().code == Errc::invalid_argument ? 2 : 1,
        images.error().message + (images.error().detail.empty() ? "" : ": " + images.error().detail));
  }
  auto hypervisor = open_hypervisor(settings, agent_config->state_dir);
  auto agent = compute::make_agent(**meta, **images, *hypervisor, *agent_config);
  if (auto st = agent->start(); !st) { die(1, "compute: " + st.error().message + ": " + st.error().detail); }

  boost::asio::io_context ioc(1);
  boost::asio::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& e, int) {
    if (!e) { agent->stop(); }
  });
  boost::asio::co_spawn(ioc, agent->run(), [&](std::exception_ptr) {
    signals.cancel();
    ioc.stop();
  });
  std::printf("ciel: agent %s ready (%u vCPUs, %llu MiB, state in %s)\n", agent_config->host.c_str(), agent_config->vcpus,
              static_cast<unsigned long long>(agent_config->ram_mib), agent_config->state_dir.c_str());
  std::fflush(stdout);
  log::info("agent {} ready", agent_config->host);
  ioc.run();
  // The agent's timers belong to ioc: the agent goes first.
  agent.reset();
  log::info("agent {} stopped", agent_config->host);
  log::flush();
  stop_blocking_pool();
  return 0;
}

}  // namespace ciel::cli
