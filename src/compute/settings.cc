#include "compute/settings.h"

#include <unistd.h>

#include <algorithm>
#include <stdexcept>
#include <thread>

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
  s.declare({"store.image_blob_root", Kind::string, "", "Directory of image bytes (default DATA_DIR/images); with store.blob_backend = rados, images are in the pool's namespace images instead."});
  s.declare({"compute.local_agent", Kind::boolean, "true",
             "Run a compute agent for this host inside ciel serve. False on an API node of a scale-out cloud: it only schedules, and `ciel agent` runs the VMs."});
  s.declare({"compute.agent_timeout", Kind::duration, "30s",
             "A compute host whose agent sent no heartbeat for this long is down: nothing is placed on it and its servers show status UNKNOWN."});
  s.declare({"agent.name", Kind::string, "", "This compute host's name (default: the machine's hostname); unique in the cloud."});
  s.declare({"agent.state_dir", Kind::string, "", "The agent's VM disks, consoles and image cache (default compute.state_dir, else DATA_DIR/compute)."});
  s.declare({"agent.vcpus", Kind::integer, "0", "vCPUs the scheduler may place on this host (0: 4 per core of the machine)."});
  s.declare({"agent.ram", Kind::bytes, "0", "RAM the scheduler may place on this host (0: the machine's RAM)."});
  s.declare({"agent.heartbeat", Kind::duration, "2s", "How often the agent refreshes its host's heartbeat (keep it well under compute.agent_timeout)."});
  s.declare({"agent.poll", Kind::duration, "250ms", "How often an idle agent reads its work queue."});
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
  c.agent_timeout = s.get_duration("compute.agent_timeout");
  if (c.agent_timeout < std::chrono::seconds(1)) { return make_error(Errc::invalid_argument, "invalid setting compute.agent_timeout: at least 1s"); }
  return c;
}

Result<AgentConfig> agent_config_from(const config::Settings& s, const std::string& data_dir) {
  AgentConfig a;
  a.host = s.get_string("agent.name");
  if (a.host.empty()) {
    char name[256] = {};
    if (::gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') { return make_error(Errc::invalid_argument, "invalid setting agent.name: the hostname is unknown, set one"); }
    a.host = name;
  }
  if (a.host.size() > 255) { return make_error(Errc::invalid_argument, "invalid setting agent.name: at most 255 characters"); }
  a.state_dir = s.get_string("agent.state_dir");
  if (a.state_dir.empty()) { a.state_dir = s.get_string("compute.state_dir"); }
  if (a.state_dir.empty()) { a.state_dir = data_dir + "/compute"; }
  a.cache_dir = a.state_dir + "/images";
  auto vcpus = s.get_int("agent.vcpus");
  if (vcpus < 0 || vcpus > 1 << 20) { return make_error(Errc::invalid_argument, "invalid setting agent.vcpus: 0 (from the machine) or more"); }
  a.vcpus = vcpus > 0 ? static_cast<std::uint32_t>(vcpus) : 4 * std::max(1u, std::thread::hardware_concurrency());
  auto ram = s.get_bytes("agent.ram");
  if (ram == 0) {
    auto pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGE_SIZE);
    ram = pages > 0 && page > 0 ? static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page) : (1ULL << 30);
  }
  a.ram_mib = ram >> 20;
  if (a.ram_mib == 0) { return make_error(Errc::invalid_argument, "invalid setting agent.ram: at least 1MiB"); }
  a.heartbeat = s.get_duration("agent.heartbeat");
  a.poll = s.get_duration("agent.poll");
  if (a.heartbeat < std::chrono::milliseconds(100)) { return make_error(Errc::invalid_argument, "invalid setting agent.heartbeat: at least 100ms"); }
  if (a.heartbeat * 2 > s.get_duration("compute.agent_timeout")) {
    return make_error(Errc::invalid_argument, "invalid setting agent.heartbeat: at most half of compute.agent_timeout, or the host would be taken for dead between two heartbeats");
  }
  if (a.poll < std::chrono::milliseconds(10)) { return make_error(Errc::invalid_argument, "invalid setting agent.poll: at least 10ms"); }
  a.shutdown_timeout = std::chrono::duration_cast<std::chrono::seconds>(s.get_duration("compute.shutdown_timeout"));
  return a;
}

}  // namespace ciel::compute
