// object/swift/multipart.h: a streaming multipart/form-data reader for FormPost uploads. Parts come
// one at a time: next() parses the part's headers, part_body() streams its bytes up to the next
// boundary. Memory stays bounded (a 32 KiB buffer) whatever the size of a file part. The reader
// borrows the body source; both are used from one coroutine at a time.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/bytes.h"
#include "core/result.h"

namespace ciel::object::swift {

inline constexpr std::size_t kMaxPartHeaderBytes = 8192;
inline constexpr std::size_t kMaxBoundaryBytes = 200;

// The boundary of a "multipart/form-data; boundary=..." Content-Type (quoted or not); std::nullopt
// for another type, a missing boundary, or one that is empty, longer than kMaxBoundaryBytes or holds
// a control character.
std::optional<std::string> multipart_boundary(std::string_view content_type);

struct Part {
  std::string disposition;       // Content-Disposition type, lowercased: "form-data" for FormPost
  std::string name;              // its name= parameter
  std::string filename;          // its filename= parameter; empty for a plain field
  std::string content_type;      // the part's Content-Type header; empty when absent
  std::string content_encoding;  // the part's Content-Encoding header; empty when absent
};

class MultipartReader {
 public:
  MultipartReader(ByteSource& body, std::string boundary);
  ~MultipartReader();
  MultipartReader(const MultipartReader&) = delete;
  MultipartReader& operator=(const MultipartReader&) = delete;

  // The next part, std::nullopt after the closing boundary. Whatever the caller left unread of the
  // previous part is skipped. The body must open with "--boundary" (no preamble, as Swift's
  // formpost); anything after the closing boundary is ignored. Errors: Errc::invalid_argument for a
  // malformed or truncated body (bad opening boundary, part headers over kMaxPartHeaderBytes, a
  // header line without ':', end of input before the closing boundary); the source's own errors
  // (Errc::too_large, Errc::unavailable) as they come. An error is final: later calls repeat it.
  boost::asio::awaitable<Result<std::optional<Part>>> next();

  // The bytes of the part next() returned last; read() returns 0 at its end. Reading it after a
  // later next(), or before the first, gives 0 bytes.
  ByteSource& part_body();

 private:
  class PartBody;
  enum class State { start, headers, body, after_body, done, failed };

  boost::asio::awaitable<Status> fill();
  boost::asio::awaitable<Result<std::size_t>> body_read(char* dst, std::size_t max);
  boost::asio::awaitable<Status> read_start();
  boost::asio::awaitable<Status> finish_boundary();
  boost::asio::awaitable<Result<Part>> read_headers();
  Error fail(Error e);

  ByteSource& in_;
  std::string boundary_;
  std::string delimiter_;  // "\r\n--" + boundary
  std::unique_ptr<char[]> buf_;
  std::size_t pos_ = 0;
  std::size_t end_ = 0;
  std::size_t safe_end_ = 0;  // [pos_, safe_end_) holds no delimiter start
  bool delimiter_at_safe_end_ = false;
  bool eof_ = false;
  State state_ = State::start;
  Error error_;
  std::unique_ptr<PartBody> body_;
};

}  // namespace ciel::object::swift
