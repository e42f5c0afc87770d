// The QEMU hypervisor: one detached QEMU process per VM, state in <state_dir>/<id>/ (see hypervisor.h).
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "compute/driver/hypervisor.h"
#include "compute/driver/process.h"
#include "compute/driver/qmp.h"
#include "core/crypto/crypto.h"
#include "core/log/log.h"

namespace ciel::compute::driver {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr auto kToolTimeout = std::chrono::seconds(120);
constexpr auto kQmpTimeout = std::chrono::milliseconds(5000);
constexpr std::uint64_t kMinSerialLogMax = 8 << 10;
constexpr std::uint64_t kQemuOverheadMib = 256;  // QEMU + TCG code buffer measured at 90-130 MiB per VM; doubled

bool valid_id(std::string_view id) {
  if (id.empty() || id.size() > 64) {
    return false;
  }
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
}

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return std::nullopt;
  }
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

bool write_file(const std::string& path, std::string_view data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  out.close();
  return static_cast<bool>(out);
}

// Writes a whole cgroup control file in one write(2), as the kernel expects.
bool write_control(const std::string& path, std::string_view value) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    return false;
  }
  bool ok = ::write(fd, value.data(), value.size()) == static_cast<ssize_t>(value.size());
  ::close(fd);
  return ok;
}

bool has_word(std::string_view text, std::string_view word) {
  std::istringstream in{std::string(text)};
  std::string w;
  while (in >> w) {
    if (w == word) {
      return true;
    }
  }
  return false;
}

std::string tail(std::string text, std::size_t n) { return text.size() > n ? text.substr(text.size() - n) : text; }

std::string mac_for(std::string_view id) {
  std::string digest = crypto::sha256(id);
  return fmt::format("fa:16:3e:{:02x}:{:02x}:{:02x}", static_cast<unsigned char>(digest[0]),
                     static_cast<unsigned char>(digest[1]), static_cast<unsigned char>(digest[2]));
}

Error bad_spec(std::string message) { return make_error(Errc::invalid_argument, std::move(message)); }

Error unknown_vm(const std::string& id) { return make_error(Errc::not_found, "no such VM", id); }

Error tool_failed(std::string message, const CommandOutput& out) {
  return make_error(Errc::unavailable, std::move(message),
                    "exit " + std::to_string(out.exit_code) + ": " + tail(out.err, 4000));
}

std::string spec_json(const VmSpec& spec) {
  json::object o;
  o["id"] = spec.id;
  o["vcpus"] = spec.vcpus;
  o["ram_mib"] = spec.ram_mib;
  o["disk_gib"] = spec.disk_gib;
  o["image_path"] = spec.image_path;
  o["image_format"] = spec.image_format;
  o["ssh_port"] = spec.ssh_port;
  o["config_drive"] = spec.config_drive.has_value();  // its contents live only in the ISO
  return json::serialize(o);
}

std::optional<VmSpec> parse_spec(std::string_view text) {
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  const json::object* o = ec ? nullptr : v.if_object();
  if (o == nullptr) {
    return std::nullopt;
  }
  try {
    VmSpec spec;
    spec.id = json::value_to<std::string>(o->at("id"));
    spec.vcpus = json::value_to<std::uint32_t>(o->at("vcpus"));
    spec.ram_mib = json::value_to<std::uint64_t>(o->at("ram_mib"));
    spec.disk_gib = json::value_to<std::uint64_t>(o->at("disk_gib"));
    spec.image_path = json::value_to<std::string>(o->at("image_path"));
    spec.image_format = json::value_to<std::string>(o->at("image_format"));
    spec.ssh_port = json::value_to<std::uint16_t>(o->at("ssh_port"));
    if (o->at("config_drive").as_bool()) {
      spec.config_drive = ConfigDrive{};
    }
    return spec;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

Status validate(const VmSpec& spec) {
  if (!valid_id(spec.id)) {
    return bad_spec("a VM id is 1-64 letters, digits, '-' or '_'");
  }
  if (spec.vcpus < 1 || spec.vcpus > 64) {
    return bad_spec("vcpus must be 1-64");
  }
  if (spec.ram_mib < 16 || spec.ram_mib > (1u << 20)) {
    return bad_spec("ram_mib must be 16-1048576");
  }
  if (spec.disk_gib < 1 || spec.disk_gib > 65536) {
    return bad_spec("disk_gib must be 1-65536");
  }
  if (spec.image_format != "qcow2" && spec.image_format != "raw") {
    return bad_spec("image_format must be qcow2 or raw");
  }
  if (spec.image_path.empty()) {
    return bad_spec("image_path is required");
  }
  return {};
}

class QemuHypervisor final : public Hypervisor {
 public:
  explicit QemuHypervisor(QemuConfig config) : config_(std::move(config)), accel_(choose_accelerator(config_.accel)) {
    std::error_code ec;
    fs::create_directories(config_.state_dir, ec);
    if (ec) {
      throw std::runtime_error("compute: cannot create state_dir " + config_.state_dir + ": " + ec.message());
    }
    config_.state_dir = fs::absolute(config_.state_dir).lexically_normal().string();
    while (config_.state_dir.size() > 1 && config_.state_dir.back() == '/') {
      config_.state_dir.pop_back();
    }
    config_.serial_log_max = std::max(config_.serial_log_max, kMinSerialLogMax);
    // Disk templates are remade on demand; clearing them here drops those of deleted images.
    fs::remove_all(config_.state_dir + "/.overlays", ec);
  }

  std::string accelerator() const override { return accel_; }

  Status create(const VmSpec& spec) override {
    if (auto ok = validate(spec); !ok) {
      return ok.error();
    }
    std::error_code ec;
    fs::path image = fs::absolute(spec.image_path, ec);
    if (ec || !fs::is_regular_file(image, ec)) {
      return make_error(Errc::not_found, "the VM's image is missing", spec.image_path);
    }
    // The caller usually knows the image's virtual size (Glance recorded it when the image was
    // checked); asking qemu-img again would cost a process start on every boot.
    std::uint64_t virtual_size = spec.image_virtual_size.value_or(0);
    if (!spec.image_virtual_size) {
      auto info = run_command({config_.qemu_img_binary, "info", "-U", "--output=json", "-f", spec.image_format,
                               image.string()},
                              kToolTimeout);
      if (!info) {
        return info.error();
      }
      if (info->exit_code != 0) {
        return make_error(Errc::invalid_argument, "the image is not a valid " + spec.image_format + " image",
                          tail(info->err, 4000));
      }
      boost::system::error_code jec;
      auto v = json::parse(info->out, jec);
      const json::object* o = jec ? nullptr : v.if_object();
      const json::value* size = o != nullptr ? o->if_contains("virtual-size") : nullptr;
      if (size == nullptr || !size->is_number()) {
        return make_error(Errc::unavailable, "qemu-img info gave no virtual size", tail(info->out, 4000));
      }
      virtual_size = size->to_number<std::uint64_t>();
    }
    std::uint64_t disk_bytes = spec.disk_gib << 30;
    if (disk_bytes < virtual_size) {
      return bad_spec("disk_gib is smaller than the image (" + std::to_string(virtual_size) + " bytes)");
    }

    std::string dir = vm_dir(spec.id);
    if (::mkdir(dir.c_str(), 0700) != 0) {
      if (errno == EEXIST) {
        return make_error(Errc::already_exists, "a VM with this id exists", spec.id);
      }
      return make_error(Errc::unavailable, "cannot create the VM's directory", dir + ": " + std::strerror(errno));
    }
    auto made = populate(spec, dir, image.string(), disk_bytes);
    if (!made) {
      fs::remove_all(dir, ec);
      return made.error();
    }
    log::info("compute: created VM {} ({} vCPU, {} MiB, {} GiB on {})", spec.id, spec.vcpus, spec.ram_mib,
              spec.disk_gib, image.string());
    return {};
  }

  Result<VmState> start(const std::string& id) override {
    auto spec = load_spec(id);
    if (!spec) {
      return spec.error();
    }
    std::string dir = vm_dir(id);
    if (int pid = running_pid(id); pid > 0) {
      return state(id);
    }
    ::unlink((dir + "/qmp.sock").c_str());
    ::unlink((dir + "/qemu.pid").c_str());
    auto binary = find_executable(config_.qemu_binary);
    if (!binary) {
      return make_error(Errc::unavailable, "QEMU is not installed", config_.qemu_binary + " not found in PATH");
    }
    DetachedSpawn spawn;
    spawn.binary = *binary;
    spawn.argv = qemu_argv(*spec, dir);
    spawn.cwd = dir;
    spawn.stderr_path = dir + "/qemu.stderr";
    spawn.serial_rotate_at = config_.serial_log_max / 2;
    spawn.cgroup_procs_path = prepare_cgroup(*spec);

    auto began = Clock::now();
    auto pid = spawn_detached(spawn);
    if (!pid) {
      return pid.error();
    }
    auto deadline = began + config_.start_timeout;
    std::string last_error;
    for (;;) {
      if (!process_alive(*pid)) {
        // QEMU reports bad options, busy ports and missing files on stderr, then exits.
        std::this_thread::sleep_for(50ms);
        return make_error(Errc::unavailable, "QEMU failed to start the VM",
                          tail(read_file(dir + "/qemu.stderr").value_or(""), 4000));
      }
      if (fs::exists(dir + "/qmp.sock")) {
        auto qmp = QmpClient::connect(dir + "/qmp.sock", 2s);
        if (qmp) {
          auto status = qmp->query_status(kQmpTimeout);
          if (status) {
            auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - began).count();
            log::info("compute: started VM {} (pid {}, {}, QMP ready in {} ms)", id, *pid, accel_, ms);
            return VmState{true, true, *pid, *status};
          }
          last_error = status.error().detail;
        } else {
          last_error = qmp.error().detail;
        }
      }
      if (Clock::now() >= deadline) {
        break;
      }
      std::this_thread::sleep_for(50ms);
    }
    ::kill(*pid, SIGKILL);
    wait_process_gone(*pid, 5s);
    return make_error(Errc::unavailable, "QEMU did not answer QMP in time",
                      last_error + "; stderr: " + tail(read_file(dir + "/qemu.stderr").value_or(""), 4000));
  }

  Status stop(const std::string& id, std::chrono::seconds grace) override {
    if (!fs::is_directory(vm_dir(id))) {
      return unknown_vm(id);
    }
    int pid = running_pid(id);
    if (pid <= 0) {
      return {};
    }
    std::string sock = vm_dir(id) + "/qmp.sock";
    auto deadline = Clock::now() + grace;
    // The guest may not listen for the power button yet: repeat it, as Nova does.
    while (Clock::now() < deadline) {
      if (auto qmp = QmpClient::connect(sock, 2s); qmp) {
        (void)qmp->execute("system_powerdown", {}, 2s);
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (wait_process_gone(pid, std::clamp(left, 0ms, std::chrono::milliseconds(5000)))) {
        log::info("compute: VM {} powered off", id);
        return finish_stop(id);
      }
    }
    if (auto qmp = QmpClient::connect(sock, 2s); qmp) {
      (void)qmp->execute("quit", {}, 2s);
    }
    if (wait_process_gone(pid, 3s)) {
      log::info("compute: VM {} did not power off within {} s; QEMU quit", id, grace.count());
      return finish_stop(id);
    }
    ::kill(pid, SIGKILL);
    if (!wait_process_gone(pid, 5s)) {
      return make_error(Errc::unavailable, "the VM's QEMU process does not die", "pid " + std::to_string(pid));
    }
    log::warn("compute: VM {} killed (no power-off within {} s, no answer to QMP quit)", id, grace.count());
    return finish_stop(id);
  }

  Status reboot(const std::string& id, bool hard) override {
    if (!fs::is_directory(vm_dir(id))) {
      return unknown_vm(id);
    }
    if (running_pid(id) <= 0) {
      return make_error(Errc::precondition_failed, "the VM is not running", id);
    }
    auto qmp = QmpClient::connect(vm_dir(id) + "/qmp.sock", kQmpTimeout);
    if (!qmp) {
      return qmp.error();
    }
    if (!hard) {
      auto sent = qmp->execute(
          "send-key",
          R"({"keys":[{"type":"qcode","data":"ctrl"},{"type":"qcode","data":"alt"},{"type":"qcode","data":"delete"}]})",
          kQmpTimeout);
      if (!sent) {
        return sent.error();
      }
      if (qmp->wait_event("RESET", config_.soft_reboot_timeout)) {
        log::info("compute: VM {} rebooted (ctrl-alt-delete)", id);
        return {};
      }
      log::info("compute: VM {} ignored ctrl-alt-delete for {} s; resetting it", id,
                config_.soft_reboot_timeout.count());
    }
    auto reset = qmp->execute("system_reset", {}, kQmpTimeout);
    if (!reset) {
      return reset.error();
    }
    log::info("compute: VM {} reset", id);
    return {};
  }

  Result<VmState> state(const std::string& id) override {
    VmState st;
    if (!valid_id(id)) {
      return st;
    }
    std::error_code ec;
    st.exists = fs::is_directory(vm_dir(id), ec);
    if (ec && ec != std::errc::no_such_file_or_directory) {
      return make_error(Errc::unavailable, "cannot read the VM's directory", ec.message());
    }
    if (!st.exists) {
      return st;
    }
    st.pid = running_pid(id);
    st.running = st.pid > 0;
    if (!st.running) {
      st.pid = 0;
      return st;
    }
    if (auto qmp = QmpClient::connect(vm_dir(id) + "/qmp.sock", kQmpTimeout); qmp) {
      if (auto status = qmp->query_status(kQmpTimeout); status) {
        st.qmp_status = *status;
      } else {
        log::warn("compute: VM {} (pid {}) query-status failed: {}", id, st.pid, status.error().detail);
      }
    } else {
      log::warn("compute: VM {} (pid {}) does not answer QMP: {}", id, st.pid, qmp.error().detail);
    }
    return st;
  }

  Result<std::string> console_log(const std::string& id, std::size_t max_bytes) override {
    if (!valid_id(id) || !fs::is_directory(vm_dir(id))) {
      return unknown_vm(id);
    }
    // Older bytes first; a rotation between the two reads can only drop the middle, never reorder.
    std::string text = read_file(vm_dir(id) + "/serial.log.1").value_or("");
    text += read_file(vm_dir(id) + "/serial.log").value_or("");
    return tail(std::move(text), max_bytes);
  }

  Status destroy(const std::string& id) override {
    if (!valid_id(id) || !fs::is_directory(vm_dir(id))) {
      return unknown_vm(id);
    }
    if (int pid = running_pid(id); pid > 0) {
      ::kill(pid, SIGKILL);
      if (!wait_process_gone(pid, 10s)) {
        return make_error(Errc::unavailable, "the VM's QEMU process does not die", "pid " + std::to_string(pid));
      }
    }
    remove_cgroup(id);
    // The serial pump may still write its last bytes while QEMU's pipe drains: retry.
    std::error_code ec;
    for (int attempt = 0; attempt < 20; ++attempt) {
      fs::remove_all(vm_dir(id), ec);
      if (!ec) {
        log::info("compute: destroyed VM {}", id);
        return {};
      }
      std::this_thread::sleep_for(100ms);
    }
    return make_error(Errc::unavailable, "cannot remove the VM's directory", vm_dir(id) + ": " + ec.message());
  }

  std::vector<std::string> list() override {
    std::vector<std::string> ids;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(config_.state_dir, ec)) {
      std::string name = entry.path().filename().string();
      if (valid_id(name) && entry.is_directory(ec)) {
        ids.push_back(std::move(name));
      }
    }
    std::sort(ids.begin(), ids.end());
    return ids;
  }

 private:
  std::string vm_dir(std::string_view id) const { return config_.state_dir + "/" + std::string(id); }

  Result<VmSpec> load_spec(const std::string& id) const {
    if (!valid_id(id)) {
      return unknown_vm(id);
    }
    auto text = read_file(vm_dir(id) + "/spec.json");
    if (!text) {
      return unknown_vm(id);
    }
    auto spec = parse_spec(*text);
    if (!spec) {
      return make_error(Errc::internal, "the VM's saved spec is unreadable", vm_dir(id) + "/spec.json");
    }
    return *spec;
  }

  // A new overlay is a copy of a template made once per (image, format, size) by `qemu-img create`:
  // a fresh overlay holds only its header, refcount and L1 tables, identical for every VM of the
  // same image and size, and copying it takes well under a millisecond where starting qemu-img
  // (threads, four fdatasyncs) took over 20 ms of every boot. Templates live in
  // <state_dir>/.overlays/ (ignored by list(): not a VM id).
  Status make_overlay(const VmSpec& spec, const std::string& image, std::uint64_t disk_bytes, const std::string& to) {
    std::string templates = config_.state_dir + "/.overlays";
    std::string name = crypto::hex(crypto::sha256(image + '\n' + spec.image_format + '\n' + std::to_string(disk_bytes)));
    std::string path = templates + "/" + name.substr(0, 32) + ".qcow2";
    std::error_code ec;
    if (!fs::exists(path, ec)) {
      fs::create_directories(templates, ec);
      std::string tmp = path + ".tmp-" + crypto::random_hex(4);
      auto made = run_command({config_.qemu_img_binary, "create", "-q", "-f", "qcow2", "-F", spec.image_format, "-b",
                               image, tmp, std::to_string(disk_bytes)},
                              kToolTimeout);
      if (!made || made->exit_code != 0) {
        ::unlink(tmp.c_str());
        if (!made) {
          return made.error();
        }
        return tool_failed("qemu-img could not create the VM's disk", *made);
      }
      if (::rename(tmp.c_str(), path.c_str()) != 0) {
        ::unlink(tmp.c_str());
        return make_error(Errc::unavailable, "cannot save the disk template", path + ": " + std::strerror(errno));
      }
    }
    fs::copy_file(path, to, fs::copy_options::none, ec);
    if (ec) {
      return make_error(Errc::unavailable, "cannot create the VM's disk", to + ": " + ec.message());
    }
    return {};
  }

  Status populate(const VmSpec& spec, const std::string& dir, const std::string& image, std::uint64_t disk_bytes) {
    if (auto disk = make_overlay(spec, image, disk_bytes, dir + "/disk.qcow2"); !disk) {
      return disk;
    }
    if (spec.config_drive) {
      if (auto iso = make_config_drive(*spec.config_drive, dir); !iso) {
        return iso.error();
      }
    }
    std::string tmp = dir + "/spec.json.tmp";
    if (!write_file(tmp, spec_json(spec)) || ::rename(tmp.c_str(), (dir + "/spec.json").c_str()) != 0) {
      return make_error(Errc::unavailable, "cannot save the VM's spec", dir);
    }
    return {};
  }

  Status make_config_drive(const ConfigDrive& drive, const std::string& dir) {
    std::string root = dir + "/config-2.d";
    std::string latest = root + "/openstack/latest";
    std::error_code ec;
    fs::create_directories(latest, ec);
    bool ok = !ec && write_file(latest + "/meta_data.json", drive.meta_data_json.empty() ? "{}" : drive.meta_data_json);
    if (ok && !drive.user_data.empty()) {
      ok = write_file(latest + "/user_data", drive.user_data);
    }
    if (ok && !drive.network_data_json.empty()) {
      ok = write_file(latest + "/network_data.json", drive.network_data_json);
    }
    if (!ok) {
      fs::remove_all(root, ec);
      return make_error(Errc::unavailable, "cannot write the config drive's files", root);
    }
    auto iso = run_command({config_.iso_binary, "-quiet", "-o", dir + "/config-2.iso", "-V", "config-2", "-J", "-r", root},
                           kToolTimeout);
    fs::remove_all(root, ec);
    if (!iso) {
      return iso.error();
    }
    if (iso->exit_code != 0) {
      return tool_failed("genisoimage could not make the config drive", *iso);
    }
    return {};
  }

  std::vector<std::string> qemu_argv(const VmSpec& spec, const std::string& dir) const {
    // Paths are relative: QEMU runs in the VM's directory (no escaping of commas, short socket path).
    std::vector<std::string> a = {config_.qemu_binary,
                                  "-name", "ciel-" + spec.id,
                                  "-M", "pc",
                                  "-accel", accel_,
                                  "-m", std::to_string(spec.ram_mib),
                                  "-smp", std::to_string(spec.vcpus),
                                  "-nodefaults", "-no-user-config",
                                  "-display", "none",
                                  "-chardev", "file,id=serial0,path=/dev/fd/3",  // the pump's pipe
                                  "-serial", "chardev:serial0",
                                  "-qmp", "unix:qmp.sock,server=on,wait=off",
                                  "-pidfile", "qemu.pid",
                                  "-drive", "file=disk.qcow2,if=virtio,format=qcow2,discard=unmap,cache=writeback"};
    if (fs::exists(dir + "/config-2.iso")) {
      a.insert(a.end(), {"-drive", "file=config-2.iso,if=virtio,format=raw,readonly=on,media=disk"});
    }
    std::string netdev = "user,id=n0";
    if (config_.restrict_network) {
      netdev += ",restrict=on";
    }
    if (spec.ssh_port != 0) {
      netdev += ",hostfwd=tcp:127.0.0.1:" + std::to_string(spec.ssh_port) + "-:22";
    }
    a.insert(a.end(), {"-netdev", netdev, "-device", "virtio-net-pci,netdev=n0,mac=" + mac_for(spec.id), "-device",
                       "virtio-rng-pci"});
    return a;
  }

  // The pid of the VM's live QEMU, or 0. The pid file is trusted only if that process runs in the
  // VM's directory (QEMU's cwd), so a recycled pid is not mistaken for the VM.
  int running_pid(const std::string& id) const {
    auto text = read_file(vm_dir(id) + "/qemu.pid");
    if (!text) {
      return 0;
    }
    int pid = std::atoi(text->c_str());
    if (pid <= 0 || !process_alive(pid)) {
      return 0;
    }
    std::error_code ec;
    auto cwd = fs::read_symlink("/proc/" + std::to_string(pid) + "/cwd", ec);
    if (ec || cwd.string() != vm_dir(id)) {
      return 0;
    }
    return pid;
  }

  Status finish_stop(const std::string& id) {
    remove_cgroup(id);
    return {};
  }

  // cgroup v2: a directory ciel-vm-<id> under the delegated parent with cpu.max = vcpus and
  // memory.max = ram + QEMU's overhead. Returns its cgroup.procs path, or "" without limits.
  std::string prepare_cgroup(const VmSpec& spec) {
    if (cgroup_base().empty()) {
      return {};
    }
    std::string dir = cgroup_base() + "/ciel-vm-" + spec.id;
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
      log::warn("compute: cannot create cgroup {}: {}; VM {} runs without limits", dir, std::strerror(errno), spec.id);
      return {};
    }
    std::string cpu = std::to_string(std::uint64_t{spec.vcpus} * 100000) + " 100000";
    std::string mem = std::to_string((spec.ram_mib + kQemuOverheadMib) << 20);
    if (!write_control(dir + "/cpu.max", cpu) || !write_control(dir + "/memory.max", mem)) {
      log::warn("compute: cannot set limits in cgroup {}; VM {} runs without limits", dir, spec.id);
      ::rmdir(dir.c_str());
      return {};
    }
    return dir + "/cgroup.procs";
  }

  void remove_cgroup(const std::string& id) {
    if (!cgroup_base().empty()) {
      ::rmdir((cgroup_base() + "/ciel-vm-" + id).c_str());
    }
  }

  // Decided on first use, so a hypervisor that never starts a VM never looks (or logs).
  const std::string& cgroup_base() {
    std::call_once(cgroup_once_, [this] { cgroup_base_ = find_cgroup_base(); });
    return cgroup_base_;
  }

  std::string find_cgroup_base() const {
    std::string base = config_.cgroup_parent;
    if (base.empty()) {
      std::string mount;
      std::ifstream mounts("/proc/self/mounts");
      std::string line;
      while (std::getline(mounts, line)) {
        std::istringstream f(line);
        std::string dev, point, type;
        if (f >> dev >> point >> type && type == "cgroup2") {
          mount = point;
          break;
        }
      }
      std::ifstream self("/proc/self/cgroup");
      std::string own;
      while (std::getline(self, line)) {
        if (line.rfind("0::", 0) == 0) {
          own = line.substr(3);
        }
      }
      if (mount.empty()) {
        log::warn("compute: no cgroup v2 mounted; VMs run without CPU and memory limits");
        return {};
      }
      base = mount + (own == "/" ? "" : own);
    }
    auto controllers = read_file(base + "/cgroup.controllers").value_or("");
    if (!has_word(controllers, "cpu") || !has_word(controllers, "memory")) {
      log::warn("compute: cgroup {} offers no cpu and memory controllers (has: {}); VMs run without CPU and memory "
                "limits",
                base, controllers.empty() ? "none" : controllers.substr(0, controllers.find('\n')));
      return {};
    }
    auto enabled = read_file(base + "/cgroup.subtree_control").value_or("");
    if ((!has_word(enabled, "cpu") || !has_word(enabled, "memory")) &&
        !write_control(base + "/cgroup.subtree_control", "+cpu +memory")) {
      log::warn("compute: cannot enable cpu and memory for the children of cgroup {} ({}); VMs run without CPU and "
                "memory limits (delegate a cgroup with no processes of its own and set cgroup_parent)",
                base, std::strerror(errno));
      return {};
    }
    log::info("compute: VMs get CPU and memory limits in cgroups under {}", base);
    return base;
  }

  QemuConfig config_;
  std::string accel_;
  std::once_flag cgroup_once_;
  std::string cgroup_base_;  // written once under cgroup_once_
};

}  // namespace

std::unique_ptr<Hypervisor> make_qemu_hypervisor(QemuConfig config) {
  if (config.state_dir.empty()) {
    throw std::invalid_argument("compute: state_dir is required");
  }
  return std::make_unique<QemuHypervisor>(std::move(config));
}

}  // namespace ciel::compute::driver
