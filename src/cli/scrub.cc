// `ciel scrub`: re-reads every blob (object storage's, then the box's) and compares it with the
// checksum recorded when it was written, then checks each engine's rows against its blobs: every blob an object names
// exists, no blob is left unnamed, and the usage counters add up. Exit status 0 when all is
// well, 1 when a blob is corrupt or missing or a counter is wrong. `--repair` removes
// unnamed blobs (only with the server stopped; with store.blob_backend = rados, where other
// nodes may be writing, only blobs older than a day).
#include <CLI/CLI.hpp>
#include <cstdio>

#include "box/box.h"
#include "box/settings.h"
#include "cli/blob_stores.h"
#include "cli/serve.h"
#include "cli/settings.h"
#include "object/engine/object_service.h"
#include "store/blob_store.h"
#include "store/meta_store.h"

namespace ciel::cli {
namespace {

// The box keeps its bytes in a blob store of its own: the same checks over it.
bool check_box(const config::Settings& settings, store::MetaStore& meta, bool quiet, bool repair) {
  std::string root = settings.get_string("store.box_blob_root");
  if (root.empty()) { root = settings.get_string("data_dir") + "/box"; }
  auto blobs = open_blob_store(settings, root, "box", true);
  if (!blobs) {
    std::fprintf(stderr, "ciel: %s\n", blobs.error().message.c_str());
    return false;
  }
  auto report = (*blobs)->scrub([&](std::string_view key) {
    if (!quiet) { std::printf("checking box %.*s\n", static_cast<int>(key.size()), key.data()); }
  });
  if (!report) {
    std::fprintf(stderr, "ciel: %s (%s)\n", report.error().message.c_str(), report.error().detail.c_str());
    return false;
  }
  for (const auto& k : report->corrupt) { std::printf("CORRUPT box %s\n", k.c_str()); }
  for (const auto& k : report->missing_checksum) { std::printf("NO-CHECKSUM box %s\n", k.c_str()); }
  std::printf("box scrub: %llu blobs, %llu bytes checked, %zu corrupt, %zu without checksum\n",
              static_cast<unsigned long long>(report->checked), static_cast<unsigned long long>(report->bytes), report->corrupt.size(),
              report->missing_checksum.size());
  auto box = box::check_consistency(meta, **blobs, repair);
  if (!box) {
    if (box.error().code == Errc::internal) {
      std::printf("box: no box tables\n");
      return report->corrupt.empty();
    }
    std::fprintf(stderr, "ciel: %s (%s)\n", box.error().message.c_str(), box.error().detail.c_str());
    return false;
  }
  for (const auto& k : box->missing_blobs) { std::printf("MISSING box %s\n", k.c_str()); }
  for (const auto& k : box->unreferenced_blobs) { std::printf("%s box %s\n", repair ? "REMOVED-UNREFERENCED" : "UNREFERENCED", k.c_str()); }
  std::printf("box: %llu blobs, %zu missing, %zu unreferenced\n", static_cast<unsigned long long>(box->blobs), box->missing_blobs.size(),
              box->unreferenced_blobs.size());
  return report->corrupt.empty() && box->missing_blobs.empty();
}

}  // namespace

int scrub_main(int argc, char** argv, char** envp) {
  config::Settings settings;
  declare_core_settings(settings);
  box::declare_settings(settings);
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
  auto blobs = open_blob_store(settings, root, "objects", true);
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
      return check_box(settings, **meta, quiet, repair) && ok ? 0 : 1;
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
  return check_box(settings, **meta, quiet, repair) && ok ? 0 : 1;
}

}  // namespace ciel::cli
