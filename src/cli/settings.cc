#include "cli/settings.h"

#include "cli/blob_stores.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>

namespace ciel::cli {

void declare_core_settings(config::Settings& s) {
  using config::Kind;
  s.declare({"data_dir", Kind::string, "./var", "Directory for the database, blobs, keys, logs, endpoints.json and openrc."});
  s.declare({"server.listen", Kind::string, "127.0.0.1:8080",
             "Address:port of the public listener (identity, Swift, compute, box, console). Port 0 picks a free port."});
  s.declare({"server.public_url", Kind::string, "", "Base URL clients use to reach the public listener; empty derives it from server.listen."});
  s.declare({"server.tls_cert", Kind::string, "", "PEM certificate chain; when set the public listener speaks TLS."});
  s.declare({"server.tls_key", Kind::string, "", "PEM private key for server.tls_cert."});
  s.declare({"server.threads", Kind::integer, "0", "I/O threads; 0 means one per core."});
  s.declare({"server.blocking_threads", Kind::integer, "128", "Threads for blocking work (database, fsync, file I/O): transactions waiting for a shared commit and writes waiting on the disk each hold one."});
  s.declare({"server.max_header_bytes", Kind::bytes, "64KiB", "Largest request head accepted; larger gets 431."});
  s.declare({"server.max_connections", Kind::integer, "10000", "Open connections beyond this are refused."});
  s.declare({"server.header_timeout", Kind::duration, "10s", "Time allowed to send a whole request head, from its first byte."});
  s.declare({"server.idle_timeout", Kind::duration, "60s", "Keep-alive connections idle this long are closed."});
  s.declare({"server.body_timeout", Kind::duration, "60s", "Longest stall while a body is sent or received."});
  s.declare({"server.drain_timeout", Kind::duration, "30s", "On SIGTERM, in-flight requests get this long to finish."});
  s.declare({"server.diagnostics", Kind::boolean, "false", "Serve /_ciel/diag (raw HTTP throughput probes). Off in production."});
  s.declare({"log.level", Kind::string, "info", "debug, info, warn or error."});
  s.declare({"log.access", Kind::boolean, "true", "Write one JSON line per request to DATA_DIR/log/access.log."});
  s.declare({"store.metadata", Kind::string, "", "Metadata store URL: sqlite:PATH or postgresql://...; empty means sqlite:DATA_DIR/meta.db."});
  s.declare({"store.blob_root", Kind::string, "", "Directory for blobs; empty means DATA_DIR/blobs."});
  s.declare({"store.fsync", Kind::boolean, "true", "fsync blobs before acknowledging writes. Turn off only for throwaway data."});
  declare_blob_store_settings(s);
  s.declare({"web.root", Kind::string, "", "Directory of the built web console; empty means the one installed beside the binary."});
}

void load_or_exit(config::Settings& settings, const LoadOptions& options, char** envp) {
  auto fail = [](const Error& e) {
    std::fprintf(stderr, "ciel: %s\n", e.message.c_str());
    std::exit(2);
  };
  // The data dir may come from the environment or flags, and names the default config file.
  std::string file = options.config_file;
  if (file.empty()) {
    config::Settings probe;
    declare_core_settings(probe);
    (void)probe.apply_environment(envp);
    for (const auto& a : options.assignments) {
      auto eq = a.find('=');
      if (eq != std::string::npos && a.substr(0, eq) == "data_dir") { (void)probe.set("data_dir", a.substr(eq + 1), "flag"); }
    }
    std::string candidate = probe.get_string("data_dir") + "/ciel.toml";
    if (std::filesystem::exists(candidate)) { file = candidate; }
  }
  if (!file.empty()) {
    if (!std::filesystem::exists(file)) { fail(make_error(Errc::invalid_argument, "config file " + file + " does not exist")); }
    if (auto st = settings.load_toml_file(file); !st) { fail(st.error()); }
  }
  if (auto st = settings.apply_environment(envp); !st) { fail(st.error()); }
  for (const auto& a : options.assignments) {
    auto eq = a.find('=');
    if (eq == std::string::npos) { fail(make_error(Errc::invalid_argument, "invalid --set " + a + ": expected key=value")); }
    if (auto st = settings.set(a.substr(0, eq), a.substr(eq + 1), "command line"); !st) { fail(st.error()); }
  }
}

}  // namespace ciel::cli
