// core/http/response.h: what a handler returns. The body is one of: a string (small,
// generated), a streaming ByteSource (objects, zips, anything large), or a file range that
// the connection sends with sendfile on plain TCP. Content-Length is set by the connection
// from the body when known; otherwise the body goes out chunked.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "core/bytes.h"
#include "core/http/types.h"

namespace ciel::http {

class FileHandle {  // closes its descriptor; movable
 public:
  explicit FileHandle(int fd = -1) : fd_(fd) {}
  FileHandle(FileHandle&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  FileHandle& operator=(FileHandle&& o) noexcept;
  FileHandle(const FileHandle&) = delete;
  FileHandle& operator=(const FileHandle&) = delete;
  ~FileHandle();
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

// A byte range of an open file, sent with sendfile on plain TCP.
struct FileBody {
  FileHandle fd;
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
};

class Response {
 public:
  Response() = default;
  explicit Response(Status status) : status_(status) {}
  Response(Status status, std::string body, std::string_view content_type);

  Status status() const { return status_; }
  void set_status(Status s) { status_ = s; }
  Headers& headers() { return headers_; }
  const Headers& headers() const { return headers_; }
  void set_header(std::string_view name, std::string_view value) { headers_.set(name, value); }
  void add_header(std::string_view name, std::string_view value) { headers_.add(name, value); }

  void set_body(std::string body) { body_ = std::move(body); }
  void set_body(std::string body, std::string_view content_type);
  // Streams `source`; `length` (when known) becomes Content-Length, otherwise chunked.
  void set_stream(std::unique_ptr<ByteSource> source, std::optional<std::uint64_t> length);
  void set_file(FileHandle fd, std::uint64_t offset, std::uint64_t length);
  // Ranges of several files one after the other (an object stored as several blobs).
  void set_files(std::vector<FileBody> files);

  // For HEAD and 304: announce a length without sending a body.
  void set_content_length_only(std::uint64_t length) { head_length_ = length; }
  std::optional<std::uint64_t> head_length() const { return head_length_; }

  using Body = std::variant<std::string, std::unique_ptr<ByteSource>, FileBody, std::vector<FileBody>>;
  Body& body() { return body_; }
  const std::string* string_body() const { return std::get_if<std::string>(&body_); }
  std::optional<std::uint64_t> stream_length() const { return stream_length_; }
  void close_connection() { close_ = true; }
  bool wants_close() const { return close_; }

 private:
  Status status_ = Status::ok;
  Headers headers_;
  Body body_;
  std::optional<std::uint64_t> stream_length_;
  std::optional<std::uint64_t> head_length_;
  bool close_ = false;
};

}  // namespace ciel::http
