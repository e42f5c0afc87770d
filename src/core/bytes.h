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
// is known when every part's is.
class ConcatSource final : public ByteSource {
 public:
  explicit ConcatSource(std::vector<std::unique_ptr<ByteSource>> parts) : parts_(std::move(parts)) {}
  boost::asio::awaitable<Result<std::size_t>> read(std::span<char> buf) override;
  std::optional<std::uint64_t> size() const override;

 private:
  std::vector<std::unique_ptr<ByteSource>> parts_;
  std::size_t next_ = 0;
};

// Reads a whole source into a string, failing with Errc::too_large past `limit` bytes.
boost::asio::awaitable<Result<std::string>> read_all(ByteSource& source, std::size_t limit);

}  // namespace ciel
