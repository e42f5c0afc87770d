#include "compute/driver/qmp.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cerrno>
#include <cstring>

namespace ciel::compute::driver {
namespace {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;

Error qmp_error(std::string detail) { return make_error(Errc::unavailable, "the VM's QMP monitor failed", std::move(detail)); }

int remaining_ms(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return static_cast<int>(std::clamp<long long>(left, 0, 1 << 30));
}

Status write_all(int fd, std::string_view data, Clock::time_point deadline) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      pollfd p{fd, POLLOUT, 0};
      if (remaining_ms(deadline) == 0 || ::poll(&p, 1, remaining_ms(deadline)) < 0) {
        return qmp_error("timed out writing to the QMP socket");
      }
      continue;
    }
    if (n <= 0) {
      return qmp_error(std::string("send: ") + std::strerror(errno));
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

}  // namespace

QmpClient::QmpClient(QmpClient&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), buffer_(std::move(other.buffer_)), events_(std::move(other.events_)),
      next_id_(other.next_id_) {}

QmpClient& QmpClient::operator=(QmpClient&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) {
      ::close(fd_);
    }
    fd_ = std::exchange(other.fd_, -1);
    buffer_ = std::move(other.buffer_);
    events_ = std::move(other.events_);
    next_id_ = other.next_id_;
  }
  return *this;
}

QmpClient::~QmpClient() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

Result<QmpClient> QmpClient::connect(const std::string& socket_path, std::chrono::milliseconds timeout) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::string path = socket_path;
  int dir_fd = -1;
  if (path.size() >= sizeof addr.sun_path) {
    // A long state_dir: reach the socket through a descriptor of its directory.
    auto slash = path.rfind('/');
    dir_fd = slash == std::string::npos ? -1 : ::open(path.substr(0, slash).c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd < 0) {
      return qmp_error("QMP socket path too long: " + socket_path);
    }
    path = "/proc/self/fd/" + std::to_string(dir_fd) + path.substr(slash);
  }
  std::memcpy(addr.sun_path, path.c_str(), std::min(path.size() + 1, sizeof addr.sun_path));
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    if (dir_fd >= 0) {
      ::close(dir_fd);
    }
    return qmp_error(std::string("socket: ") + std::strerror(errno));
  }
  QmpClient client(fd);
  int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  int connect_errno = errno;
  if (dir_fd >= 0) {
    ::close(dir_fd);
  }
  if (rc != 0) {
    return qmp_error("connect " + socket_path + ": " + std::strerror(connect_errno));
  }
  auto deadline = Clock::now() + timeout;
  auto greeting = client.read_line(deadline);
  if (!greeting) {
    return greeting.error();
  }
  if (greeting->find("\"QMP\"") == std::string::npos) {
    return qmp_error("unexpected QMP greeting: " + *greeting);
  }
  auto caps = client.execute("qmp_capabilities", {}, std::chrono::duration_cast<std::chrono::milliseconds>(
                                                         deadline - Clock::now()));
  if (!caps) {
    return caps.error();
  }
  return client;
}

Result<std::string> QmpClient::read_line(Clock::time_point deadline) {
  for (;;) {
    auto nl = buffer_.find('\n');
    if (nl != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      if (!line.empty() && line.back() == '\r') {
        line.pop_back();
      }
      if (line.empty()) {
        continue;
      }
      return line;
    }
    if (buffer_.size() > (16u << 20)) {
      return qmp_error("QMP message too large");
    }
    pollfd p{fd_, POLLIN, 0};
    int ms = remaining_ms(deadline);
    int n = ms > 0 ? ::poll(&p, 1, ms) : 0;
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return qmp_error("timed out waiting for QMP");
    }
    char buf[8192];
    ssize_t got = ::recv(fd_, buf, sizeof buf, 0);
    if (got < 0 && errno == EINTR) {
      continue;
    }
    if (got <= 0) {
      return qmp_error(got == 0 ? "QMP connection closed" : std::string("recv: ") + std::strerror(errno));
    }
    buffer_.append(buf, static_cast<std::size_t>(got));
  }
}

Result<std::string> QmpClient::execute(std::string_view command, std::string_view arguments_json,
                                       std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  std::string id = "ciel-" + std::to_string(next_id_++);
  json::object request;
  request["execute"] = command;
  request["id"] = id;
  if (!arguments_json.empty()) {
    boost::system::error_code ec;
    auto args = json::parse(arguments_json, ec);
    if (ec || !args.is_object()) {
      return make_error(Errc::internal, "bad QMP arguments", std::string(arguments_json));
    }
    request["arguments"] = std::move(args);
  }
  std::string text = json::serialize(request) + "\r\n";
  if (auto sent = write_all(fd_, text, deadline); !sent) {
    return sent.error();
  }
  for (;;) {
    auto line = read_line(deadline);
    if (!line) {
      return line.error();
    }
    boost::system::error_code ec;
    auto msg = json::parse(*line, ec);
    const json::object* obj = ec ? nullptr : msg.if_object();
    if (obj == nullptr) {
      return qmp_error("unparsable QMP message: " + *line);
    }
    if (const auto* ev = obj->if_contains("event"); ev != nullptr && ev->is_string()) {
      events_.emplace_back(ev->as_string());
      continue;
    }
    const auto* got_id = obj->if_contains("id");
    if (got_id == nullptr || !got_id->is_string() || got_id->as_string() != id) {
      continue;  // an answer to something else (should not happen on a private connection)
    }
    if (const auto* ret = obj->if_contains("return"); ret != nullptr) {
      return json::serialize(*ret);
    }
    std::string detail = std::string(command) + ": ";
    if (const auto* err = obj->if_contains("error"); err != nullptr) {
      detail += json::serialize(*err);
    }
    return make_error(Errc::invalid_argument, "QEMU refused a QMP command", detail);
  }
}

Result<std::string> QmpClient::query_status(std::chrono::milliseconds timeout) {
  auto ret = execute("query-status", {}, timeout);
  if (!ret) {
    return ret.error();
  }
  boost::system::error_code ec;
  auto v = json::parse(*ret, ec);
  const json::object* obj = ec ? nullptr : v.if_object();
  const json::value* status = obj != nullptr ? obj->if_contains("status") : nullptr;
  if (status == nullptr || !status->is_string()) {
    return qmp_error("query-status without a status: " + *ret);
  }
  return std::string(status->as_string());
}

bool QmpClient::wait_event(std::string_view name, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  for (;;) {
    if (std::find(events_.begin(), events_.end(), name) != events_.end()) {
      return true;
    }
    auto line = read_line(deadline);
    if (!line) {
      return false;
    }
    boost::system::error_code ec;
    auto msg = json::parse(*line, ec);
    const json::object* obj = ec ? nullptr : msg.if_object();
    if (obj == nullptr) {
      continue;
    }
    if (const auto* ev = obj->if_contains("event"); ev != nullptr && ev->is_string()) {
      events_.emplace_back(ev->as_string());
    }
  }
}

}  // namespace ciel::compute::driver
