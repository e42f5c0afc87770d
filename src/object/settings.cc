#include "object/settings.h"

namespace ciel::object {

void declare_settings(config::Settings& s) {
  using config::Kind;
  s.declare({"object.part_size", Kind::bytes, "64MiB", "Objects larger than this are stored as several blobs of this size."});
  s.declare({"object.max_object_size", Kind::bytes, "5GiB", "Largest single upload (Swift PUT, S3 PutObject or UploadPart)."});
  s.declare({"object.max_listing", Kind::integer, "10000", "Most rows one listing request returns."});
  s.declare({"object.inline_max", Kind::bytes, "16KiB", "Objects up to this size keep their bytes in the metadata store (0: never)."});
  s.declare({"object.reaper_interval", Kind::duration, "30s", "How often objects past their X-Delete-At are removed."});
  s.declare({"object.min_part_size", Kind::bytes, "5MiB", "Smallest S3 multipart part but the last (EntityTooSmall below)."});
  s.declare({"object.upload_expiry", Kind::duration, "7d", "S3 multipart uploads not completed after this long are aborted."});
}

Result<EngineConfig> config_from(const config::Settings& s) {
  EngineConfig c;
  c.part_size = s.get_bytes("object.part_size");
  if (c.part_size < 1024 * 1024) { return make_error(Errc::invalid_argument, "invalid setting object.part_size: must be at least 1MiB"); }
  c.max_object_size = s.get_bytes("object.max_object_size");
  if (c.max_object_size < 1) { return make_error(Errc::invalid_argument, "invalid setting object.max_object_size: must be at least 1"); }
  auto listing = s.get_int("object.max_listing");
  if (listing < 1 || listing > 100000) {
    return make_error(Errc::invalid_argument, "invalid setting object.max_listing: must be between 1 and 100000");
  }
  c.max_listing = static_cast<std::size_t>(listing);
  c.inline_max = s.get_bytes("object.inline_max");
  if (c.inline_max > 1024 * 1024) { return make_error(Errc::invalid_argument, "invalid setting object.inline_max: at most 1MiB"); }
  c.min_part_size = s.get_bytes("object.min_part_size");
  if (c.min_part_size > c.max_object_size) {
    return make_error(Errc::invalid_argument, "invalid setting object.min_part_size: at most object.max_object_size");
  }
  c.upload_expiry_s = std::chrono::duration_cast<std::chrono::seconds>(s.get_duration("object.upload_expiry")).count();
  if (c.upload_expiry_s < 1) { return make_error(Errc::invalid_argument, "invalid setting object.upload_expiry: at least 1s"); }
  return c;
}

std::chrono::milliseconds reaper_interval(const config::Settings& s) { return s.get_duration("object.reaper_interval"); }

}  // namespace ciel::object
