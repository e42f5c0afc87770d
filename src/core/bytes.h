// core/bytes.h: streaming byte sources. A request body, a blob being read and a generated
// download are all ByteSources, so bodies stream end to end and never sit in memory.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"

namespace ciel {

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Fills up to buf.size() bytes; returns 0 at the end. Errors: whatever the producer reports
  // (Errc::too_large for a body over its limit, Errc::unavailable for I/O failure).
  virtual boost::asio::awaitable<Result<std::size_t>> read(std::span<char> buf) = 0;
  // Total size when known in advance.
  virtual std::optional<std::uint64_t> size() const { return std::nullopt; }
  // A hint that reading starts soon: a source that fetches ahead (a RADOS blob) starts now.
  virtual void prefetch() {}
  // A source that holds its bytes in buffers of its own (a RADOS read) lends them instead of
  // copying: next_view() returns up to `max` of the next bytes in place, valid until the next
  // call on the source; empty at the end. Only when has_views(), and never mixed with read().
  virtual bool has_views() const { return false; }
  virtual boost::asio::awaitable<Result<std::span<const char>>> next_view(std::size_t max);
};

// A source over an in-memory string (small generated bodies, tests).
class StringSource final : public ByteSource {
 public:
  explicit StringSource(std::string data) : data_(std::move(data)) {}
  boost::asio::awaitable<Result<std::size_t>> read(std::span<char> buf) override;
  std::optional<std::uint64_t> size() const override { return data_.size(); }

 private:
  std::string data_;
  std::size_t pos_ = 0;
};

// Several sources one after the other (multipart/byteranges, large-object segments). The size
// is known when every part's is. The next part is told to prefetch once the current one has at
// most kConcatPrefetch bytes left, so a reader that fetches ahead has its first bytes on the way
// when the current one ends (a large object's blobs on RADOS).
inline constexpr std::uint64_t kConcatPrefetch = 16ull << 20;
class ConcatSource final : public ByteSource {
 public:
  explicit ConcatSource(std::vector<std::unique_ptr<ByteSource>> parts) : parts_(std::move(parts)) {}
  boost::asio::awaitable<Result<std::size_t>> read(std::span<char> buf) override;
  std::optional<std::uint64_t> size() const override;
  bool has_views() const override;
  boost::asio::awaitable<Result<std::span<const char>>> next_view(std::size_t max) override;

 private:
  void took(std::size_t n);  // counts bytes of parts_[next_], warns the next part in time
  std::vector<std::unique_ptr<ByteSource>> parts_;
  std::size_t next_ = 0;
  std::uint64_t taken_ = 0;  // bytes read from parts_[next_]
  bool warned_next_ = false; // parts_[next_ + 1] told to prefetch
};

// Reads a whole source into a string, failing with Errc::too_large past `limit` bytes.
boost::asio::awaitable<Result<std::string>> read_all(ByteSource& source, std::size_t limit);

}  // namespace ciel
