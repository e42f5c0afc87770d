// `ciel scrub`: re-reads every blob and compares it with the checksum recorded when it was
// written. Exit status 0 when all match, 1 when any blob is corrupt or unreadable.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "cli/serve.h"
#include "cli/settings.h"
#include "store/blob_store.h"

namespace ciel::cli {

int scrub_main(int argc, char** argv, char** envp) {
  config::Settings settings;
  declare_core_settings(settings);
  CLI::App app{"ciel scrub: verify every blob against its recorded checksum"};
  LoadOptions load;
  std::string data_dir;
  bool quiet = false;
  app.add_option("--data-dir", data_dir, "Data directory (setting data_dir)");
  app.add_option("--config", load.config_file, "TOML config file");
  app.add_option("--set", load.assignments, "Set any setting: --set key=value");
  app.add_flag("-q,--quiet", quiet, "Print only the summary and corrupt blobs");
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
  return report->corrupt.empty() ? 0 : 1;
}

}  // namespace ciel::cli
