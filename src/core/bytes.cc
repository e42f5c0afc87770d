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

boost::asio::awaitable<Result<std::span<const char>>> ByteSource::next_view(std::size_t) {
  co_return make_error(Errc::internal, "this source lends no views");
}

void ConcatSource::took(std::size_t n) {
  taken_ += n;
  if (!warned_next_ && next_ + 1 < parts_.size()) {
    auto size = parts_[next_]->size();
    if (size && *size <= taken_ + kConcatPrefetch) {
      warned_next_ = true;
      parts_[next_ + 1]->prefetch();
    }
  }
}

boost::asio::awaitable<Result<std::size_t>> ConcatSource::read(std::span<char> buf) {
  while (next_ < parts_.size()) {
    auto n = co_await parts_[next_]->read(buf);
    if (!n) { co_return n.error(); }
    if (*n > 0 || buf.empty()) {
      took(*n);
      co_return *n;
    }
    parts_[next_].reset();
    ++next_;
    taken_ = 0;
    warned_next_ = false;
  }
  co_return std::size_t{0};
}

bool ConcatSource::has_views() const {
  for (std::size_t i = next_; i < parts_.size(); ++i) {
    if (!parts_[i]->has_views()) { return false; }
  }
  return true;
}

boost::asio::awaitable<Result<std::span<const char>>> ConcatSource::next_view(std::size_t max) {
  while (next_ < parts_.size()) {
    auto v = co_await parts_[next_]->next_view(max);
    if (!v) { co_return v.error(); }
    if (!v->empty() || max == 0) {
      took(v->size());
      co_return *v;
    }
    // The part ended: the view it lent last is no longer used, so it can go.
    parts_[next_].reset();
    ++next_;
    taken_ = 0;
    warned_next_ = false;
  }
  co_return std::span<const char>{};
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
