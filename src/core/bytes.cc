#include "core/bytes.h"

#include <algorithm>
#include <cstring>

namespace ciel {

boost::asio::awaitable<Result<std::size_t>> StringSource::read(std::span<char> buf) {
  std::size_t n = std::min(buf.size(), data_.size() - pos_);
  std::memcpy(buf.data(), data_.data() + pos_, n);
  pos_ += n;
  co_return n;
}

boost::asio::awaitable<Result<std::string>> read_all(ByteSource& source, std::size_t limit) {
  std::string out;
  char buf[16384];
  for (;;) {
    auto n = co_await source.read(std::span<char>(buf, sizeof buf));
    if (!n) { co_return n.error(); }
    if (*n == 0) { break; }
    if (out.size() + *n > limit) {
      co_return make_error(Errc::too_large, "request body is too large");
    }
    out.append(buf, *n);
  }
  co_return out;
}

boost::asio::awaitable<Result<std::size_t>> ConcatSource::read(std::span<char> buf) {
  while (next_ < parts_.size()) {
    auto n = co_await parts_[next_]->read(buf);
    if (!n) { co_return n.error(); }
    if (*n > 0 || buf.empty()) { co_return *n; }
    parts_[next_].reset();
    ++next_;
  }
  co_return std::size_t{0};
}

std::optional<std::uint64_t> ConcatSource::size() const {
  std::uint64_t total = 0;
  for (std::size_t i = next_; i < parts_.size(); ++i) {
    auto s = parts_[i]->size();
    if (!s) { return std::nullopt; }
    total += *s;
  }
  return total;
}

}  // namespace ciel
