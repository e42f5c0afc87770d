// tests/fuzz/fuzz_coro.h: runs a coroutine to completion on a private io_context (fuzz_support.cc),
// for fuzz targets that drive Ciel's streaming readers. The sources they read never wait, so
// every coroutine finishes within one run.
#pragma once
#include <algorithm>
#include <boost/asio/awaitable.hpp>
#include <cstring>
#include <functional>
#include <string_view>

#include "core/bytes.h"

namespace ciel::fuzz {

// Aborts (a finding) if the coroutine throws or does not finish.
void run_to_completion(std::function<boost::asio::awaitable<void>()> fn);

// The fuzz input as a ByteSource that hands out at most `chunk` bytes per read, the way a socket
// splits a body, and counts what was taken from it.
class InputSource final : public ByteSource {
 public:
  InputSource(std::string_view data, std::size_t chunk) : data_(data), chunk_(std::max<std::size_t>(chunk, 1)) {}
  boost::asio::awaitable<Result<std::size_t>> read(std::span<char> buf) override {
    std::size_t n = std::min({buf.size(), chunk_, data_.size() - pos_});
    if (n > 0) { std::memcpy(buf.data(), data_.data() + pos_, n); }
    pos_ += n;
    co_return n;
  }
  std::size_t consumed() const { return pos_; }

 private:
  std::string_view data_;
  std::size_t chunk_;
  std::size_t pos_ = 0;
};

}  // namespace ciel::fuzz
