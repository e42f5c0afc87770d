#include <unistd.h>

#include "core/http/request.h"
#include "core/http/response.h"

namespace ciel::http {

std::optional<std::string_view> Request::query_param(std::string_view name) const {
  for (const auto& [k, v] : query_params) {
    if (k == name) { return std::string_view(v); }
  }
  return std::nullopt;
}

std::string_view RequestContext::param(std::string_view name) const {
  for (const auto& [k, v] : params_) {
    if (k == name) { return v; }
  }
  return {};
}

FileHandle& FileHandle::operator=(FileHandle&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) { ::close(fd_); }
    fd_ = std::exchange(o.fd_, -1);
  }
  return *this;
}

FileHandle::~FileHandle() {
  if (fd_ >= 0) { ::close(fd_); }
}

Response::Response(Status status, std::string body, std::string_view content_type) : status_(status), body_(std::move(body)) {
  headers_.set("Content-Type", content_type);
}

void Response::set_body(std::string body, std::string_view content_type) {
  body_ = std::move(body);
  headers_.set("Content-Type", content_type);
}

void Response::set_stream(std::unique_ptr<ByteSource> source, std::optional<std::uint64_t> length) {
  body_ = std::move(source);
  stream_length_ = length;
}

void Response::set_files(std::vector<FileBody> files) {
  std::uint64_t total = 0;
  for (const auto& f : files) { total += f.length; }
  stream_length_ = total;
  if (files.size() == 1) {
    body_ = std::move(files.front());  // one range takes the single-file paths (small files inline)
  } else {
    body_ = std::move(files);
  }
}

void Response::set_file(FileHandle fd, std::uint64_t offset, std::uint64_t length) {
  body_ = FileBody{std::move(fd), offset, length};
  stream_length_ = length;
}

}  // namespace ciel::http
