// compute/driver/hypervisor.h: the compute module's seam to the machine that runs VMs. One QEMU
// process per VM, driven over QMP (no libvirt). A VM is a subdirectory of QemuConfig::state_dir
// named by its id; everything the driver knows about a VM lives there, so a restarted Ciel finds
// its VMs again (list(), then state() reattaches to each QMP socket).
//
// Blocking: every call may fork, wait for QEMU or sleep for seconds. The compute engine calls it
// on its blocking pool, never on an I/O thread. Calls for different ids may run concurrently;
// calls for the same id must not overlap (the engine runs each server's commands on one strand).
//
// VM directory layout (<state_dir>/<id>/):
//   spec.json        the VmSpec given to create()          disk.qcow2   overlay on the cached image
//   config-2.iso     config drive (if any)                 qmp.sock     QMP socket of the running QEMU
//   qemu.pid         QEMU's pid file (QEMU removes it)     qemu.stderr  QEMU's stderr of the last start
//   serial.log       newest console bytes                  serial.log.1 the console bytes before those
//
// Serial console cap: QEMU writes the serial port into a pipe; a small pump process started with
// QEMU (in the same detached session, exiting when QEMU does) appends it to serial.log and, when
// serial.log reaches serial_log_max / 2, renames it to serial.log.1 and starts a new one (the pump
// is /bin/sh running head and mv, so it does not hold a copy of Ciel's memory). The two
// files hold at most serial_log_max bytes and always the newest serial_log_max / 2 or more. The pump
// runs while Ciel is down, so the cap holds without Ciel, and no byte is written twice or lost to a
// truncation race (the alternative, QEMU appending to a file that Ciel trims, has both problems).
#pragma once
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace ciel::compute::driver {

struct QemuConfig {
  std::string state_dir;                            // required; created if missing
  std::string accel = "auto";                       // auto | kvm | tcg; anything else: std::invalid_argument
                                                    // from make_qemu_hypervisor. auto: see choose_accelerator
  std::string qemu_binary = "qemu-system-x86_64";   // looked up in PATH unless it contains '/'
  std::string qemu_img_binary = "qemu-img";
  std::string iso_binary = "genisoimage";          // makes the config drive (5 ms; xorriso waits ~100 ms)
  std::uint64_t serial_log_max = 1 << 20;           // bytes of serial console kept per VM (at least 8 KiB used)
  bool restrict_network = true;                     // user-mode networking with restrict=on: the guest reaches
                                                    // no outside address; forwarded ports still work
  std::chrono::seconds start_timeout{30};           // start(): QEMU must answer QMP within this
  std::chrono::seconds soft_reboot_timeout{30};     // reboot(soft): wait this long for the guest to reset
  std::string cgroup_parent;                        // cgroup v2 directory under which each VM gets its own
                                                    // cgroup; empty: the calling process's own cgroup v2
};

// The config drive, in the layout cloud-init's ConfigDrive datasource reads: an ISO9660 image with
// label config-2 holding openstack/latest/{meta_data.json,user_data,network_data.json}. Empty
// user_data / network_data_json are left out of the image; an empty meta_data_json is written as {}.
struct ConfigDrive {
  std::string meta_data_json;
  std::string user_data;
  std::string network_data_json;
};

struct VmSpec {
  std::string id;                   // names the state subdirectory: 1-64 of [A-Za-z0-9_-] (a uuid)
  std::uint32_t vcpus = 1;          // 1..64
  std::uint64_t ram_mib = 256;      // 16..1048576
  std::uint64_t disk_gib = 1;       // 1..65536; at least the image's virtual size
  std::string image_path;           // cached base image; never written (the disk is a qcow2 overlay on it)
  std::string image_format;         // qcow2 | raw
  std::optional<std::uint64_t> image_virtual_size;  // when known (Glance checked it): create() skips qemu-img info
  std::optional<ConfigDrive> config_drive;
  std::uint16_t ssh_port = 0;       // host 127.0.0.1 port forwarded to guest tcp/22; 0: none
};

struct VmState {
  bool exists = false;      // the state subdirectory exists
  bool running = false;     // a QEMU process for this VM is alive
  int pid = 0;              // QEMU's pid when running
  std::string qmp_status;   // from query-status ("running", "paused", "shutdown", ...); empty when not
                            // running, or when QEMU is alive but did not answer QMP
};

class Hypervisor {
 public:
  virtual ~Hypervisor() = default;

  // "tcg" or "kvm", decided once when the hypervisor is made.
  virtual std::string accelerator() const = 0;

  // Makes the VM's directory: qcow2 overlay on the image (resized to disk_gib), config drive ISO,
  // saved spec. Does not start it. invalid_argument for a bad spec (or an image larger than
  // disk_gib), not_found if the image is missing, already_exists if the id is taken, unavailable if
  // qemu-img or genisoimage fails (their stderr in detail). Leaves nothing behind on failure.
  virtual Status create(const VmSpec& spec) = 0;

  // Spawns QEMU detached from the caller (own session; it survives the caller's death) and returns
  // once QMP answers. A VM already running is left alone and its state returned. not_found for an
  // unknown id; unavailable if QEMU exits or stays silent past start_timeout (stderr in detail).
  virtual Result<VmState> start(const std::string& id) = 0;

  // ACPI power button (system_powerdown, repeated every few seconds) and up to `grace` for the guest
  // to power off; then QMP quit, then SIGKILL. Returns once the process is gone: grace + ~0.1 s
  // when QEMU answers QMP, at most grace + 16 s when it hangs. A stopped VM is not an error. not_found for an unknown id; unavailable if the
  // process survives SIGKILL.
  virtual Status stop(const std::string& id, std::chrono::seconds grace) = 0;

  // hard: QMP system_reset (a reset button). soft: ctrl-alt-delete on the VM's keyboard (QMP
  // send-key), which guest inits take as "reboot" (systemd's ctrl-alt-del.target, busybox init's
  // ::ctrlaltdel:); if the guest has not reset within soft_reboot_timeout (QMP RESET event), fall
  // back to system_reset. (An ACPI request cannot ask for a reboot; system_powerdown would need
  // -no-shutdown and a restart, and would leave a stopped VM if the guest ignores it.)
  // not_found for an unknown id; precondition_failed if the VM is not running; unavailable on QMP errors.
  virtual Status reboot(const std::string& id, bool hard) = 0;

  // What is known of the VM now; reattaches to the QMP socket of a running QEMU, also one started
  // by an earlier Ciel process. An unknown id is {exists=false}, not an error; unavailable only for
  // I/O errors reading the directory.
  virtual Result<VmState> state(const std::string& id) = 0;

  // The last max_bytes of the serial console (also after the VM stopped). not_found for an unknown id.
  virtual Result<std::string> console_log(const std::string& id, std::size_t max_bytes) = 0;

  // Kills the VM if running (SIGKILL) and removes its directory. not_found for an unknown id;
  // unavailable if the process or the directory cannot be removed.
  virtual Status destroy(const std::string& id) = 0;

  // Ids with a state subdirectory, sorted: what to reconcile with Ciel's records at startup.
  virtual std::vector<std::string> list() = 0;
};

// Throws std::invalid_argument for a bad config (empty state_dir, unknown accel) and
// std::runtime_error if state_dir cannot be created: both are startup errors.
std::unique_ptr<Hypervisor> make_qemu_hypervisor(QemuConfig config);

// The accelerator rule for `setting` = auto | kvm | tcg: auto picks kvm only if /dev/kvm opens
// read-write AND /proc/cpuinfo has the vmx or svm flag AND the kvm_pvm module is not loaded
// (PVM's software virtualization is far slower than TCG for unmodified guests); else tcg.
std::string choose_accelerator(std::string_view setting);

}  // namespace ciel::compute::driver
