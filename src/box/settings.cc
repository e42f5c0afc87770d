#include "box/settings.h"

#include <cctype>

namespace ciel::box {

void declare_settings(config::Settings& s) {
  using config::Kind;
  s.declare({"box.default_quota", Kind::bytes, "0", "Space each user's box may use (0: unlimited); over it uploads get 507."});
  s.declare({"box.inline_max", Kind::bytes, "16KiB", "Files up to this size keep their bytes in the metadata store (0: never)."});
  s.declare({"box.max_file_size", Kind::bytes, "100GiB", "Largest file (one upload, or all the chunks of a chunked upload)."});
  s.declare({"box.max_versions", Kind::integer, "50", "Previous contents kept per file (0: keep none)."});
  s.declare({"box.version_retention", Kind::duration, "30d", "Versions older than this are removed."});
  s.declare({"box.trash_retention", Kind::duration, "30d", "Deleted files stay in the trash this long (0: delete at once)."});
  s.declare({"box.activity_retention", Kind::duration, "90d", "Activity stream entries older than this are removed (0: keep them all)."});
  s.declare({"box.upload_expiry", Kind::duration, "7d", "Chunked uploads left unfinished this long are removed."});
  s.declare({"box.reaper_interval", Kind::duration, "5m", "How often expired trash, versions and uploads are removed."});
  s.declare({"box.instance_id", Kind::string, "occiel0000", "Suffix of the file ids sync clients see (oc:id); keep it once clients synced."});
  s.declare({"store.box_blob_root", Kind::string, "", "Directory of the box's file bytes (default DATA_DIR/box)."});
}

Result<BoxConfig> config_from(const config::Settings& s) {
  BoxConfig c;
  c.default_quota = s.get_bytes("box.default_quota");
  c.inline_max = s.get_bytes("box.inline_max");
  if (c.inline_max > 1024 * 1024) { return make_error(Errc::invalid_argument, "invalid setting box.inline_max: at most 1MiB"); }
  c.max_file_size = s.get_bytes("box.max_file_size");
  if (c.max_file_size < 1) { return make_error(Errc::invalid_argument, "invalid setting box.max_file_size: must be at least 1"); }
  auto versions = s.get_int("box.max_versions");
  if (versions < 0 || versions > 100000) { return make_error(Errc::invalid_argument, "invalid setting box.max_versions: 0 to 100000"); }
  c.max_versions = static_cast<std::uint32_t>(versions);
  c.version_retention = std::chrono::duration_cast<std::chrono::seconds>(s.get_duration("box.version_retention"));
  c.trash_retention = std::chrono::duration_cast<std::chrono::seconds>(s.get_duration("box.trash_retention"));
  c.upload_expiry = std::chrono::duration_cast<std::chrono::seconds>(s.get_duration("box.upload_expiry"));
  c.activity_retention = std::chrono::duration_cast<std::chrono::seconds>(s.get_duration("box.activity_retention"));
  if (c.upload_expiry.count() < 3600) { return make_error(Errc::invalid_argument, "invalid setting box.upload_expiry: at least 1h (clients resume later)"); }
  c.instance_id = s.get_string("box.instance_id");
  if (c.instance_id.empty() || c.instance_id.size() > 32) { return make_error(Errc::invalid_argument, "invalid setting box.instance_id: 1 to 32 characters"); }
  for (char ch : c.instance_id) {
    if (!std::isalnum(static_cast<unsigned char>(ch))) { return make_error(Errc::invalid_argument, "invalid setting box.instance_id: letters and digits only"); }
  }
  return c;
}

std::chrono::milliseconds reaper_interval(const config::Settings& s) { return s.get_duration("box.reaper_interval"); }

}  // namespace ciel::box
