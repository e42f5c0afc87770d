// compute/driver/qmp.h: a small blocking QMP client over QEMU's unix socket. connect() reads the
// greeting and negotiates capabilities; execute() sends one command and reads until its answer,
// keeping the events that arrive meanwhile. QEMU serves one QMP client per socket at a time, so
// the driver connects for one operation and closes. Not thread-safe; one object per operation.
#pragma once
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace ciel::compute::driver {

class QmpClient {
 public:
  QmpClient(QmpClient&& other) noexcept;
  QmpClient& operator=(QmpClient&& other) noexcept;
  QmpClient(const QmpClient&) = delete;
  QmpClient& operator=(const QmpClient&) = delete;
  ~QmpClient();

  // unavailable if nothing listens at `socket_path` or QEMU does not greet within `timeout`.
  static Result<QmpClient> connect(const std::string& socket_path, std::chrono::milliseconds timeout);

  // Sends {"execute": command, "arguments": arguments?} and returns the "return" member as JSON text.
  // unavailable on I/O errors or a timeout; invalid_argument if QEMU answers with an error
  // (its class and description in detail). `arguments_json` is a JSON object text or empty.
  Result<std::string> execute(std::string_view command, std::string_view arguments_json,
                              std::chrono::milliseconds timeout);

  // Like execute, but parses the "return" member of query-status and returns its "status".
  Result<std::string> query_status(std::chrono::milliseconds timeout);

  // Waits up to `timeout` for an event named `name` (also among those read during execute()).
  // true if it arrived; false on timeout or when the connection closes.
  bool wait_event(std::string_view name, std::chrono::milliseconds timeout);

 private:
  explicit QmpClient(int fd) : fd_(fd) {}
  // One complete line from QEMU (QMP ends each message with CRLF), or an error.
  Result<std::string> read_line(std::chrono::steady_clock::time_point deadline);

  int fd_ = -1;
  std::string buffer_;                  // bytes read past the last line
  std::vector<std::string> events_;     // names of the events seen so far
  unsigned next_id_ = 1;
};

}  // namespace ciel::compute::driver
