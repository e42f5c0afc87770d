// The QEMU driver against real QEMU under TCG (no mocks). The guest is a 16 MiB raw disk whose boot
// sector prints a line to COM1 on every timer tick: it has no OS (so it ignores the ACPI power
// button), but SeaBIOS boots it, QMP answers and the serial console has steady output.
#include <arpa/inet.h>
#include <signal.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "compute/driver/hypervisor.h"
#include "compute/driver/process.h"
#include "core/crypto/crypto.h"
#include "support/test_support.h"

namespace ciel::compute::driver {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr std::string_view kBootLine = "CIEL-BOOT serial line from the test boot sector\r\n";

// xor ax,ax; mov ds,ax; sti; mov dx,0x3f8; again: mov si,msg; next: lodsb; test al,al; jz idle;
// out dx,al; jmp next; idle: hlt; jmp again; msg: (at 0x7c16)
constexpr unsigned char kBootCode[] = {0x31, 0xC0, 0x8E, 0xD8, 0xFB, 0xBA, 0xF8, 0x03, 0xBE, 0x16, 0x7C,
                                       0xAC, 0x84, 0xC0, 0x74, 0x03, 0xEE, 0xEB, 0xF8, 0xF4, 0xEB, 0xF2};

std::string uuid() {
  std::string h = crypto::random_hex(16);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" + h.substr(20);
}

std::uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

bool tcp_connects(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

std::string run_ok(const std::vector<std::string>& argv) {
  auto out = run_command(argv, 60s);
  EXPECT_TRUE(out) << argv[0];
  if (!out) {
    return {};
  }
  EXPECT_EQ(out->exit_code, 0) << argv[0] << ": " << out->err;
  return out->out + out->err;
}

class QemuDriver : public ::testing::Test {
 protected:
  QemuDriver() {
    image_ = tmp_.path() + "/image.raw";
    run_ok({"qemu-img", "create", "-q", "-f", "raw", image_, "16M"});
    std::string sector(512, '\0');
    std::copy(std::begin(kBootCode), std::end(kBootCode), sector.begin());
    std::copy(kBootLine.begin(), kBootLine.end(), sector.begin() + sizeof kBootCode);
    sector[510] = '\x55';
    sector[511] = '\xAA';
    std::fstream f(image_, std::ios::in | std::ios::out | std::ios::binary);
    f.write(sector.data(), static_cast<std::streamsize>(sector.size()));
    config_.state_dir = tmp_.path() + "/vms";
    config_.serial_log_max = 8192;
    config_.soft_reboot_timeout = 2s;
    config_.start_timeout = 60s;  // a loaded 2-core machine
    hv_ = make_qemu_hypervisor(config_);
  }

  ~QemuDriver() override {
    // Never leave a QEMU behind, whatever failed.
    auto cleanup = make_qemu_hypervisor(config_);
    for (const auto& id : cleanup->list()) {
      (void)cleanup->destroy(id);
    }
  }

  VmSpec spec() {
    VmSpec s;
    s.id = uuid();
    s.ram_mib = 64;
    s.image_path = image_;
    s.image_format = "raw";
    return s;
  }

  std::string vm_dir(const std::string& id) const { return config_.state_dir + "/" + id; }

  test::TempDir tmp_;
  std::string image_;
  QemuConfig config_;
  std::unique_ptr<Hypervisor> hv_;
};

TEST(QemuAccelerator, TcgOnThisMachineKind) {
  test::TempDir tmp;
  QemuConfig config;
  config.state_dir = tmp.path();
  auto hv = make_qemu_hypervisor(config);
  bool kvm_worth_it = fs::exists("/dev/kvm") && !fs::exists("/sys/module/kvm_pvm");
  if (!kvm_worth_it) {
    EXPECT_EQ(hv->accelerator(), "tcg");
  }
  EXPECT_EQ(choose_accelerator("tcg"), "tcg");
  EXPECT_EQ(choose_accelerator("kvm"), "kvm");
  EXPECT_THROW(choose_accelerator("fast"), std::invalid_argument);
  config.accel = "fast";
  EXPECT_THROW(make_qemu_hypervisor(config), std::invalid_argument);
}

TEST_F(QemuDriver, RejectsBadSpecsAndUnknownIds) {
  auto s = spec();
  s.id = "../escape";
  EXPECT_EQ(hv_->create(s).error().code, Errc::invalid_argument);
  s = spec();
  s.vcpus = 0;
  EXPECT_EQ(hv_->create(s).error().code, Errc::invalid_argument);
  s = spec();
  s.image_format = "vmdk";
  EXPECT_EQ(hv_->create(s).error().code, Errc::invalid_argument);
  s = spec();
  s.image_format = "qcow2";  // the image is raw
  EXPECT_EQ(hv_->create(s).error().code, Errc::invalid_argument);
  s = spec();
  s.image_path = tmp_.path() + "/missing.raw";
  EXPECT_EQ(hv_->create(s).error().code, Errc::not_found);
  std::string big = tmp_.path() + "/big.raw";
  run_ok({"qemu-img", "create", "-q", "-f", "raw", big, "2G"});
  s = spec();
  s.image_path = big;
  EXPECT_EQ(hv_->create(s).error().code, Errc::invalid_argument);  // 1 GiB disk < 2 GiB image
  EXPECT_TRUE(hv_->list().empty());

  s = spec();
  ASSERT_TRUE(hv_->create(s));
  EXPECT_EQ(hv_->create(s).error().code, Errc::already_exists);

  std::string unknown = uuid();
  EXPECT_EQ(hv_->start(unknown).error().code, Errc::not_found);
  EXPECT_EQ(hv_->stop(unknown, 1s).error().code, Errc::not_found);
  EXPECT_EQ(hv_->reboot(unknown, true).error().code, Errc::not_found);
  EXPECT_EQ(hv_->console_log(unknown, 100).error().code, Errc::not_found);
  EXPECT_EQ(hv_->destroy(unknown).error().code, Errc::not_found);
  auto st = hv_->state(unknown);
  ASSERT_TRUE(st);
  EXPECT_FALSE(st->exists);
  EXPECT_EQ(hv_->reboot(s.id, true).error().code, Errc::precondition_failed);  // created, not started
}

TEST_F(QemuDriver, CreateMakesOverlayAndConfigDrive) {
  auto s = spec();
  s.disk_gib = 2;
  s.config_drive = ConfigDrive{R"({"uuid":")" + s.id + R"(","hostname":"vm1"})", "#!/bin/sh\necho hi\n", ""};
  ASSERT_TRUE(hv_->create(s));
  EXPECT_EQ(hv_->list(), std::vector<std::string>{s.id});
  auto st = hv_->state(s.id);
  ASSERT_TRUE(st);
  EXPECT_TRUE(st->exists);
  EXPECT_FALSE(st->running);

  std::string info = run_ok({"qemu-img", "info", "-U", vm_dir(s.id) + "/disk.qcow2"});
  EXPECT_NE(info.find("virtual size: 2 GiB"), std::string::npos) << info;
  EXPECT_NE(info.find("backing file: " + image_), std::string::npos) << info;
  EXPECT_NE(info.find("backing file format: raw"), std::string::npos) << info;

  std::string iso = vm_dir(s.id) + "/config-2.iso";
  std::string listing = run_ok({"xorriso", "-indev", iso, "-ls", "/openstack/latest"});
  EXPECT_NE(listing.find("meta_data.json"), std::string::npos) << listing;
  EXPECT_NE(listing.find("user_data"), std::string::npos) << listing;
  EXPECT_EQ(listing.find("network_data.json"), std::string::npos) << listing;  // empty: left out
  std::string pvd = run_ok({"xorriso", "-indev", iso, "-pvd_info"});
  EXPECT_NE(pvd.find("config-2"), std::string::npos) << pvd;
  std::string extracted = tmp_.path() + "/meta_data.json";
  run_ok({"xorriso", "-osirrox", "on", "-indev", iso, "-extract", "/openstack/latest/meta_data.json", extracted});
  std::ifstream in(extracted);
  std::string meta((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(meta, s.config_drive->meta_data_json);
}

TEST_F(QemuDriver, OverlaysOfOneImageAreSeparateDisks) {
  // Every VM of an image gets its own copy of the overlay template: a write through one VM's disk
  // must not appear in another's, and a different size gets its own template.
  auto a = spec();
  auto b = spec();
  auto c = spec();
  c.disk_gib = 3;
  ASSERT_TRUE(hv_->create(a));
  ASSERT_TRUE(hv_->create(b));
  ASSERT_TRUE(hv_->create(c));
  run_ok({"qemu-io", "-f", "qcow2", "-c", "write -P 0x5a 0 64k", vm_dir(a.id) + "/disk.qcow2"});
  std::string in_a = run_ok({"qemu-io", "-f", "qcow2", "-c", "read -P 0x5a 0 64k", vm_dir(a.id) + "/disk.qcow2"});
  EXPECT_EQ(in_a.find("Pattern verification failed"), std::string::npos) << in_a;
  auto in_b = run_command({"qemu-io", "-f", "qcow2", "-c", "read -P 0x5a 0 64k", vm_dir(b.id) + "/disk.qcow2"}, 60s);
  ASSERT_TRUE(in_b);
  EXPECT_NE(in_b->out.find("Pattern verification failed"), std::string::npos) << in_b->out << in_b->err;
  EXPECT_NE(run_ok({"qemu-img", "info", "-U", vm_dir(b.id) + "/disk.qcow2"}).find("virtual size: 1 GiB"), std::string::npos);
  EXPECT_NE(run_ok({"qemu-img", "info", "-U", vm_dir(c.id) + "/disk.qcow2"}).find("virtual size: 3 GiB"), std::string::npos);
  std::string check = run_ok({"qemu-img", "check", vm_dir(b.id) + "/disk.qcow2"});
  EXPECT_NE(check.find("No errors were found"), std::string::npos) << check;
  EXPECT_EQ(hv_->list().size(), 3u);  // the templates' folder is not a VM
}

TEST_F(QemuDriver, StartFailureReportsQemuStderr) {
  int busy = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(busy, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(busy, 1), 0);
  socklen_t len = sizeof addr;
  ::getsockname(busy, reinterpret_cast<sockaddr*>(&addr), &len);
  auto s = spec();
  s.ssh_port = ntohs(addr.sin_port);  // taken: QEMU cannot forward it
  ASSERT_TRUE(hv_->create(s));
  auto started = hv_->start(s.id);
  ::close(busy);
  ASSERT_FALSE(started);
  EXPECT_EQ(started.error().code, Errc::unavailable);
  EXPECT_NE(started.error().detail.find("forward"), std::string::npos) << started.error().detail;
  auto st = hv_->state(s.id);
  ASSERT_TRUE(st);
  EXPECT_FALSE(st->running);
}

TEST_F(QemuDriver, Lifecycle) {
  auto s = spec();
  s.ssh_port = free_port();
  s.config_drive = ConfigDrive{R"({"uuid":")" + s.id + R"("})", "", R"({"links":[]})"};
  ASSERT_TRUE(hv_->create(s));

  auto began = Clock::now();
  auto started = hv_->start(s.id);
  auto start_ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - began).count();
  ASSERT_TRUE(started) << started.error().message << ": " << started.error().detail;
  std::cout << "[ timing   ] start to QMP ready: " << start_ms << " ms\n";
  EXPECT_TRUE(started->running);
  EXPECT_GT(started->pid, 0);
  EXPECT_EQ(started->qmp_status, "running");
  int pid = started->pid;
  EXPECT_TRUE(tcp_connects(s.ssh_port));  // QEMU's host forward listens
  // Detached: QEMU leads its own session, and its parent is the serial pump (a shell, not a copy of us).
  EXPECT_NE(::getsid(pid), ::getsid(0));
  std::ifstream stat_file("/proc/" + std::to_string(pid) + "/stat");
  std::string stat_line;
  std::getline(stat_file, stat_line);
  std::istringstream fields(stat_line.substr(stat_line.rfind(')') + 2));
  std::string state_field;
  int ppid = 0;
  fields >> state_field >> ppid;
  std::ifstream cmdline_file("/proc/" + std::to_string(ppid) + "/cmdline");
  std::string cmdline((std::istreambuf_iterator<char>(cmdline_file)), std::istreambuf_iterator<char>());
  EXPECT_NE(cmdline.find("ciel-serial-pump"), std::string::npos) << cmdline;

  auto st = hv_->state(s.id);
  ASSERT_TRUE(st);
  EXPECT_TRUE(st->exists);
  EXPECT_TRUE(st->running);
  EXPECT_EQ(st->pid, pid);
  EXPECT_EQ(st->qmp_status, "running");
  auto again = hv_->start(s.id);  // already running: left alone
  ASSERT_TRUE(again);
  EXPECT_EQ(again->pid, pid);

  {  // A new hypervisor, as after a restart of Ciel, finds the VM and reattaches to QMP.
    auto restarted = make_qemu_hypervisor(config_);
    EXPECT_EQ(restarted->list(), std::vector<std::string>{s.id});
    auto re = restarted->state(s.id);
    ASSERT_TRUE(re);
    EXPECT_TRUE(re->running);
    EXPECT_EQ(re->pid, pid);
    EXPECT_EQ(re->qmp_status, "running");
  }

  // Console: the boot sector's lines arrive; the log rotates and stays capped.
  std::string log;
  auto deadline = Clock::now() + 60s;
  while (!fs::exists(vm_dir(s.id) + "/serial.log.1") && Clock::now() < deadline) {
    std::this_thread::sleep_for(200ms);
  }
  ASSERT_TRUE(fs::exists(vm_dir(s.id) + "/serial.log.1")) << "the serial log never rotated";
  auto full = hv_->console_log(s.id, 1 << 20);
  ASSERT_TRUE(full);
  EXPECT_NE(full->find(kBootLine), std::string::npos);
  EXPECT_LE(full->size(), config_.serial_log_max);
  EXPECT_GE(full->size(), config_.serial_log_max / 2);
  EXPECT_LE(fs::file_size(vm_dir(s.id) + "/serial.log") + fs::file_size(vm_dir(s.id) + "/serial.log.1"),
            config_.serial_log_max);
  auto last = hv_->console_log(s.id, 10);
  ASSERT_TRUE(last);
  EXPECT_EQ(last->size(), 10u);
  EXPECT_NE(std::string(kBootLine).find(last->substr(last->size() - 2)), std::string::npos);

  // Reboots keep the same QEMU process.
  ASSERT_TRUE(hv_->reboot(s.id, true));
  began = Clock::now();
  ASSERT_TRUE(hv_->reboot(s.id, false));  // no OS: ctrl-alt-delete then, if ignored, a reset
  EXPECT_LT(Clock::now() - began, config_.soft_reboot_timeout + 10s);
  st = hv_->state(s.id);
  ASSERT_TRUE(st);
  EXPECT_TRUE(st->running);
  EXPECT_EQ(st->pid, pid);

  // The guest ignores the power button: stop falls back to QMP quit / SIGKILL, bounded.
  began = Clock::now();
  auto stopped = hv_->stop(s.id, 2s);
  auto stop_ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - began).count();
  ASSERT_TRUE(stopped) << stopped.error().detail;
  std::cout << "[ timing   ] stop with a 2 s grace: " << stop_ms << " ms\n";
  EXPECT_GE(stop_ms, 2000);
  EXPECT_LT(stop_ms, 12000);
  EXPECT_FALSE(process_alive(pid));
  st = hv_->state(s.id);
  ASSERT_TRUE(st);
  EXPECT_TRUE(st->exists);
  EXPECT_FALSE(st->running);
  EXPECT_TRUE(hv_->stop(s.id, 2s));  // stopping a stopped VM is fine
  auto after = hv_->console_log(s.id, 1 << 20);
  ASSERT_TRUE(after);
  EXPECT_FALSE(after->empty());

  // Start again, then destroy kills it and removes its directory.
  auto restarted = hv_->start(s.id);
  ASSERT_TRUE(restarted) << restarted.error().detail;
  EXPECT_TRUE(restarted->running);
  EXPECT_NE(restarted->pid, pid);
  pid = restarted->pid;
  ASSERT_TRUE(hv_->destroy(s.id));
  EXPECT_FALSE(process_alive(pid));
  EXPECT_FALSE(fs::exists(vm_dir(s.id)));
  EXPECT_TRUE(hv_->list().empty());
  st = hv_->state(s.id);
  ASSERT_TRUE(st);
  EXPECT_FALSE(st->exists);
}

TEST_F(QemuDriver, StopKillsAHungQemu) {
  auto s = spec();
  ASSERT_TRUE(hv_->create(s));
  auto started = hv_->start(s.id);
  ASSERT_TRUE(started) << started.error().detail;
  ASSERT_EQ(::kill(started->pid, SIGSTOP), 0);  // QMP stays silent: powerdown and quit both go unanswered
  auto began = Clock::now();
  auto stopped = hv_->stop(s.id, 1s);
  auto stop_ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - began).count();
  ASSERT_TRUE(stopped) << stopped.error().detail;
  std::cout << "[ timing   ] stop of a hung QEMU with a 1 s grace: " << stop_ms << " ms\n";
  EXPECT_LT(stop_ms, 1000 + 16000 + 2000);
  EXPECT_FALSE(process_alive(started->pid));
  auto st = hv_->state(s.id);
  ASSERT_TRUE(st);
  EXPECT_FALSE(st->running);
}

TEST_F(QemuDriver, SoftRebootFallsBackToResetWhenIgnored) {
  // This guest masks interrupts and halts: the keyboard's ctrl-alt-delete never reaches it.
  std::string deaf = tmp_.path() + "/deaf.raw";
  run_ok({"qemu-img", "create", "-q", "-f", "raw", deaf, "16M"});
  std::string sector(512, '\0');
  const unsigned char code[] = {0xFA, 0xF4, 0xEB, 0xFD};  // cli; again: hlt; jmp again
  std::copy(std::begin(code), std::end(code), sector.begin());
  sector[510] = '\x55';
  sector[511] = '\xAA';
  std::fstream f(deaf, std::ios::in | std::ios::out | std::ios::binary);
  f.write(sector.data(), static_cast<std::streamsize>(sector.size()));
  f.close();
  auto s = spec();
  s.image_path = deaf;
  ASSERT_TRUE(hv_->create(s));
  auto started = hv_->start(s.id);
  ASSERT_TRUE(started) << started.error().detail;
  std::this_thread::sleep_for(1s);  // let SeaBIOS hand over to the boot sector
  auto began = Clock::now();
  ASSERT_TRUE(hv_->reboot(s.id, false));
  auto elapsed = Clock::now() - began;
  EXPECT_GE(elapsed, config_.soft_reboot_timeout);
  EXPECT_LT(elapsed, config_.soft_reboot_timeout + 10s);
  auto st = hv_->state(s.id);
  ASSERT_TRUE(st);
  EXPECT_EQ(st->pid, started->pid);
  EXPECT_EQ(st->qmp_status, "running");
}

TEST_F(QemuDriver, StartsVmsConcurrently) {
  std::vector<VmSpec> specs = {spec(), spec(), spec()};
  for (const auto& s : specs) {
    ASSERT_TRUE(hv_->create(s));
  }
  std::vector<Result<VmState>> results(specs.size(), make_error(Errc::internal, "not run"));
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < specs.size(); ++i) {
    threads.emplace_back([&, i] { results[i] = hv_->start(specs[i].id); });
  }
  for (auto& t : threads) {
    t.join();
  }
  for (std::size_t i = 0; i < specs.size(); ++i) {
    ASSERT_TRUE(results[i]) << results[i].error().detail;
    EXPECT_EQ(results[i]->qmp_status, "running");
  }
  EXPECT_EQ(hv_->list().size(), specs.size());
}

TEST_F(QemuDriver, StateDirLongerThanAUnixSocketPath) {
  config_.state_dir = tmp_.path() + "/" + std::string(60, 'd') + "/" + std::string(60, 'e');
  hv_ = make_qemu_hypervisor(config_);
  auto s = spec();
  ASSERT_GT((vm_dir(s.id) + "/qmp.sock").size(), 108u);
  ASSERT_TRUE(hv_->create(s));
  auto started = hv_->start(s.id);
  ASSERT_TRUE(started) << started.error().detail;
  auto st = hv_->state(s.id);
  ASSERT_TRUE(st);
  EXPECT_EQ(st->qmp_status, "running");
  ASSERT_TRUE(hv_->reboot(s.id, true));
  ASSERT_TRUE(hv_->destroy(s.id));
}

TEST_F(QemuDriver, VmOutlivesTheProcessThatStartedIt) {
  auto s = spec();
  ASSERT_TRUE(hv_->create(s));
  pid_t child = ::fork();
  if (child == 0) {
    auto hv = make_qemu_hypervisor(config_);
    auto started = hv->start(s.id);
    ::_exit(started && started->running ? 0 : 1);
  }
  ASSERT_GT(child, 0);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0);
  auto st = hv_->state(s.id);
  ASSERT_TRUE(st);
  EXPECT_TRUE(st->running);
  EXPECT_EQ(st->qmp_status, "running");
  ASSERT_TRUE(hv_->destroy(s.id));
  EXPECT_FALSE(process_alive(st->pid));
}

}  // namespace
}  // namespace ciel::compute::driver
