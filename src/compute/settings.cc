#include "compute/settings.h"

namespace ciel::compute {

void declare_settings(config::Settings& s) {
  using config::Kind;
  s.declare({"compute.max_image_size", Kind::bytes, "64GiB", "Largest image upload."});
  s.declare({"compute.qemu_img", Kind::string, "qemu-img", "The qemu-img program that checks uploaded images."});
  s.declare({"compute.quota_instances", Kind::integer, "10", "Default servers per project (-1: unlimited)."});
  s.declare({"compute.quota_cores", Kind::integer, "20", "Default vCPUs per project (-1: unlimited)."});
  s.declare({"compute.quota_ram", Kind::integer, "51200", "Default MiB of RAM per project (-1: unlimited)."});
  s.declare({"compute.quota_key_pairs", Kind::integer, "100", "Default keypairs per user (-1: unlimited)."});
  s.declare({"compute.quota_images", Kind::integer, "100", "Images a project may own (-1: unlimited)."});
  s.declare({"store.image_blob_root", Kind::string, "", "Directory of image bytes (default DATA_DIR/images)."});
}

Result<ComputeConfig> config_from(const config::Settings& s) {
  ComputeConfig c;
  c.max_image_size = s.get_bytes("compute.max_image_size");
  c.qemu_img = s.get_string("compute.qemu_img");
  c.quota_instances = s.get_int("compute.quota_instances");
  c.quota_cores = s.get_int("compute.quota_cores");
  c.quota_ram_mib = s.get_int("compute.quota_ram");
  c.quota_key_pairs = s.get_int("compute.quota_key_pairs");
  c.quota_images = s.get_int("compute.quota_images");
  for (auto [key, v] : {std::pair{"compute.quota_instances", c.quota_instances}, std::pair{"compute.quota_cores", c.quota_cores},
                        std::pair{"compute.quota_ram", c.quota_ram_mib}, std::pair{"compute.quota_key_pairs", c.quota_key_pairs},
                        std::pair{"compute.quota_images", c.quota_images}}) {
    if (v < -1) { return make_error(Errc::invalid_argument, std::string("invalid setting ") + key + ": -1 (unlimited) or more"); }
  }
  return c;
}

}  // namespace ciel::compute
