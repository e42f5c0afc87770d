#include "compute/settings.h"

#include <stdexcept>

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
  s.declare({"compute.accel", Kind::string, "auto", "auto, kvm or tcg: auto uses KVM only where guests really run under it."});
  s.declare({"compute.ssh_ports", Kind::string, "20022-20999", "Host ports (on 127.0.0.1) forwarded to servers' SSH port."});
  s.declare({"compute.shutdown_timeout", Kind::duration, "60s", "How long a stop waits for the guest to power off before a hard stop."});
  s.declare({"compute.console_max", Kind::bytes, "1MiB", "Serial console bytes kept per server."});
  s.declare({"compute.state_dir", Kind::string, "", "VM disks, config drives and sockets (default DATA_DIR/compute)."});
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
  auto ports = s.get_string("compute.ssh_ports");
  auto dash = ports.find('-');
  try {
    if (dash == std::string::npos) { throw std::invalid_argument("no dash"); }
    int lo = std::stoi(ports.substr(0, dash)), hi = std::stoi(ports.substr(dash + 1));
    if (lo < 1024 || hi > 65535 || lo > hi) { throw std::invalid_argument("range"); }
    c.ssh_port_min = static_cast<std::uint16_t>(lo);
    c.ssh_port_max = static_cast<std::uint16_t>(hi);
  } catch (const std::exception&) {
    return make_error(Errc::invalid_argument, "invalid setting compute.ssh_ports = \"" + ports + "\": expected LOW-HIGH within 1024-65535");
  }
  c.shutdown_timeout = std::chrono::duration_cast<std::chrono::seconds>(s.get_duration("compute.shutdown_timeout"));
  auto accel = s.get_string("compute.accel");
  if (accel != "auto" && accel != "kvm" && accel != "tcg") { return make_error(Errc::invalid_argument, "invalid setting compute.accel: auto, kvm or tcg"); }
  for (auto [key, v] : {std::pair{"compute.quota_instances", c.quota_instances}, std::pair{"compute.quota_cores", c.quota_cores},
                        std::pair{"compute.quota_ram", c.quota_ram_mib}, std::pair{"compute.quota_key_pairs", c.quota_key_pairs},
                        std::pair{"compute.quota_images", c.quota_images}}) {
    if (v < -1) { return make_error(Errc::invalid_argument, std::string("invalid setting ") + key + ": -1 (unlimited) or more"); }
  }
  return c;
}

}  // namespace ciel::compute
