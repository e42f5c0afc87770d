// `ciel scrub`: re-reads every blob and compares it with the checksum recorded when it was
// written, then checks the object store's rows against the blobs: every blob an object names
// exists, no blob is left unnamed, and the usage counters add up. Exit status 0 when all is
// well, 1 when a blob is corrupt or missing or a counter is wrong. `--repair` removes
// unnamed blobs (only with the server stopped).
#include <CLI/CLI.hpp>
#include <cstdio>

#include "cli/serve.h"
#include "cli/settings.h"
#include "object/engine/object_service.h"
#include "store/blob_store.h"
#include "store/meta_store.h"

namespace ciel::cli {

int scrub_main(int argc, char** argv, char** envp) {
  config::Settings settings;
  declare_core_settings(settings);
  CLI::App app{"ciel scrub: verify every blob against its recorded checksum"};
  LoadOptions load;
  std::string data_dir;
  bool quiet = false;
  bool repair = false;
  app.add_option("--data-dir", data_dir, "Data directory (setting data_dir)");
  app.add_option("--config", load.config_file, "TOML config file");
  app.add_option("--set", load.assignments, "Set any setting: --set key=value");
  app.add_flag("-q,--quiet", quiet, "Print only the summary and corrupt blobs");
  app.add_flag("--repair", repair, "Remove blobs no object names (run with the server stopped)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (!data_dir.empty()) { load.assignments.insert(load.assignments.begin(), "data_dir=" + data_dir); }
  load_or_exit(settings, load, envp);
  std::string root = settings.get_string("store.blob_root");
  if (root.empty()) { root = settings.get_string("data_dir") + "/blobs"; }
  auto blobs = store::open_localfs_blob_store({root, true});
  if (!blobs) {
    std::fprintf(stderr, "ciel: %s\n", blobs.error().message.c_str());
    return 1;
  }
  auto report = (*blobs)->scrub([&](std::string_view key) {
    if (!quiet) { std::printf("checking %.*s\n", static_cast<int>(key.size()), key.data()); }
  });
  if (!report) {
    std::fprintf(stderr, "ciel: %s (%s)\n", report.error().message.c_str(), report.error().detail.c_str());
    return 1;
  }
  for (const auto& k : report->corrupt) { std::printf("CORRUPT %s\n", k.c_str()); }
  for (const auto& k : report->missing_checksum) { std::printf("NO-CHECKSUM %s\n", k.c_str()); }
  if (report->orphan_checksums_removed > 0) {
    std::printf("removed %llu checksum files of blobs an interrupted write never published\n",
                static_cast<unsigned long long>(report->orphan_checksums_removed));
  }
  std::printf("scrub: %llu blobs, %llu bytes checked, %zu corrupt, %zu without checksum\n",
              static_cast<unsigned long long>(report->checked), static_cast<unsigned long long>(report->bytes), report->corrupt.size(),
              report->missing_checksum.size());
  bool ok = report->corrupt.empty();

  std::string meta_url = settings.get_string("store.metadata");
  if (meta_url.empty()) { meta_url = "sqlite:" + settings.get_string("data_dir") + "/meta.db"; }
  auto meta = store::open_meta_store(meta_url);
  if (!meta) {
    std::fprintf(stderr, "ciel: %s\n", meta.error().message.c_str());
    return 1;
  }
  auto objects = object::check_consistency(**meta, **blobs, repair);
  if (!objects) {
    // A data directory whose server never ran has no object tables yet: nothing to check.
    if (objects.error().code == Errc::internal) {
      std::printf("objects: no object store tables\n");
      return ok ? 0 : 1;
    }
    std::fprintf(stderr, "ciel: %s (%s)\n", objects.error().message.c_str(), objects.error().detail.c_str());
    return 1;
  }
  for (const auto& k : objects->missing_blobs) { std::printf("MISSING %s\n", k.c_str()); }
  for (const auto& k : objects->unreferenced_blobs) { std::printf("%s %s\n", repair ? "REMOVED-UNREFERENCED" : "UNREFERENCED", k.c_str()); }
  for (const auto& m : objects->counter_mismatches) { std::printf("COUNTER %s\n", m.c_str()); }
  std::printf("objects: %llu versions, %llu blobs, %zu missing, %zu unreferenced, %zu counter mismatches\n",
              static_cast<unsigned long long>(objects->versions), static_cast<unsigned long long>(objects->blobs),
              objects->missing_blobs.size(), objects->unreferenced_blobs.size(), objects->counter_mismatches.size());
  ok = ok && objects->missing_blobs.empty() && objects->counter_mismatches.empty();
  return ok ? 0 : 1;
}

}  // namespace ciel::cli
