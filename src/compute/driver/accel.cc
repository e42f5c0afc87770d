// The accelerator rule, from measurements on Ciel's machines (docs: qemu-on-these-machines): a
// /dev/kvm provided by the kvm_pvm module (software virtualization inside a microVM, no vmx/svm
// flag) runs unmodified guests far slower than TCG, so "/dev/kvm exists" alone is not enough.
#include <fcntl.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <sys/stat.h>

#include "compute/driver/hypervisor.h"
#include "core/log/log.h"

namespace ciel::compute::driver {
namespace {

bool kvm_device_usable() {
  int fd = ::open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    return false;
  }
  ::close(fd);
  return true;
}

bool cpu_has_virtualization_flag() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("flags", 0) != 0) {
      continue;
    }
    std::istringstream words(line.substr(line.find(':') == std::string::npos ? 0 : line.find(':') + 1));
    std::string flag;
    while (words >> flag) {
      if (flag == "vmx" || flag == "svm") {
        return true;
      }
    }
    return false;  // every processor lists the same flags
  }
  return false;
}

bool pvm_loaded() {
  struct stat st {};
  return ::stat("/sys/module/kvm_pvm", &st) == 0;
}

}  // namespace

std::string choose_accelerator(std::string_view setting) {
  if (setting == "kvm" || setting == "tcg") {
    return std::string(setting);
  }
  if (setting != "auto") {
    throw std::invalid_argument("compute accel must be auto, kvm or tcg, not '" + std::string(setting) + "'");
  }
  bool device = kvm_device_usable();
  bool flag = cpu_has_virtualization_flag();
  bool pvm = pvm_loaded();
  std::string accel = device && flag && !pvm ? "kvm" : "tcg";
  log::info("compute: accelerator {} (/dev/kvm usable: {}, vmx/svm flag: {}, kvm_pvm loaded: {})", accel, device, flag,
            pvm);
  return accel;
}

}  // namespace ciel::compute::driver
