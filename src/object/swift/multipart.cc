#include "object/swift/multipart.h"

#include <algorithm>
#include <cctype>
#include <cstring>

namespace ciel::object::swift {
namespace {

constexpr std::size_t kBufferBytes = 32 * 1024;
constexpr std::size_t kMaxPaddingBytes = 1024;  // spaces allowed after a boundary, before its CRLF

Error malformed(std::string what) { return make_error(Errc::invalid_argument, std::move(what)); }

bool is_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) { s.remove_prefix(1); }
  while (!s.empty() && is_space(s.back())) { s.remove_suffix(1); }
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) { c = static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }
  return out;
}

bool is_word(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// Swift's parse_content_disposition: "type; key=value; key="value"" with the regular expression
// (\w+)=(".*?"|[^";]+)(; ?|$) applied repeatedly; values lose their surrounding quotes. Parameter
// names compare case-insensitively here.
void parse_disposition(std::string_view header, Part& part) {
  std::string_view attrs;
  if (std::size_t semi = header.find(';'); semi != std::string_view::npos) {
    attrs = trim(header.substr(semi + 1));
    header = trim(header.substr(0, semi));
  }
  part.disposition = lower(trim(header));
  std::size_t i = 0;
  while (i < attrs.size()) {
    std::size_t k = i;
    while (k < attrs.size() && is_word(attrs[k])) { ++k; }
    if (k == i || k >= attrs.size() || attrs[k] != '=') { break; }
    std::string key = lower(attrs.substr(i, k - i));
    std::size_t v = k + 1;
    std::size_t value_end = std::string_view::npos;  // one past the value
    if (v < attrs.size() && attrs[v] == '"') {
      // ".*?" followed by "; ?" or the end: the first closing quote that is so followed.
      for (std::size_t q = attrs.find('"', v + 1); q != std::string_view::npos; q = attrs.find('"', q + 1)) {
        if (q + 1 == attrs.size() || attrs[q + 1] == ';') {
          value_end = q + 1;
          break;
        }
      }
    } else {
      std::size_t e = v;
      while (e < attrs.size() && attrs[e] != '"' && attrs[e] != ';') { ++e; }
      if (e > v && (e == attrs.size() || attrs[e] == ';')) { value_end = e; }
    }
    if (value_end == std::string_view::npos) { break; }
    std::string_view value = attrs.substr(v, value_end - v);
    while (!value.empty() && value.front() == '"') { value.remove_prefix(1); }
    while (!value.empty() && value.back() == '"') { value.remove_suffix(1); }
    if (key == "name") {
      part.name = std::string(value);
    } else if (key == "filename") {
      part.filename = std::string(value);
    }
    i = value_end;
    if (i < attrs.size() && attrs[i] == ';') {
      ++i;
      if (i < attrs.size() && attrs[i] == ' ') { ++i; }
    }
  }
}

}  // namespace

std::optional<std::string> multipart_boundary(std::string_view content_type) {
  std::size_t semi = content_type.find(';');
  if (lower(trim(content_type.substr(0, semi))) != "multipart/form-data" || semi == std::string_view::npos) {
    return std::nullopt;
  }
  std::string_view rest = content_type.substr(semi + 1);
  while (!rest.empty()) {
    std::size_t next = rest.find(';');
    std::string_view param = trim(rest.substr(0, next));
    rest = next == std::string_view::npos ? std::string_view() : rest.substr(next + 1);
    std::size_t eq = param.find('=');
    if (eq == std::string_view::npos || lower(trim(param.substr(0, eq))) != "boundary") { continue; }
    std::string_view value = trim(param.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') { value = value.substr(1, value.size() - 2); }
    if (value.empty() || value.size() > kMaxBoundaryBytes) { return std::nullopt; }
    for (char c : value) {
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) { return std::nullopt; }
    }
    return std::string(value);
  }
  return std::nullopt;
}

class MultipartReader::PartBody final : public ByteSource {
 public:
  explicit PartBody(MultipartReader& reader) : reader_(reader) {}
  boost::asio::awaitable<Result<std::size_t>> read(std::span<char> buf) override {
    if (buf.empty()) { co_return std::size_t{0}; }
    co_return co_await reader_.body_read(buf.data(), buf.size());
  }

 private:
  MultipartReader& reader_;
};

MultipartReader::MultipartReader(ByteSource& body, std::string boundary)
    : in_(body),
      boundary_(std::move(boundary)),
      delimiter_("\r\n--" + boundary_),
      buf_(new char[kBufferBytes]),
      body_(std::make_unique<PartBody>(*this)) {
  bool ok = !boundary_.empty() && boundary_.size() <= kMaxBoundaryBytes &&
            std::none_of(boundary_.begin(), boundary_.end(), [](char c) { return c == '\r' || c == '\n'; });
  if (!ok) { fail(malformed("invalid boundary")); }
}

MultipartReader::~MultipartReader() = default;

ByteSource& MultipartReader::part_body() { return *body_; }

Error MultipartReader::fail(Error e) {
  state_ = State::failed;
  error_ = e;
  return e;
}

boost::asio::awaitable<Status> MultipartReader::fill() {
  if (pos_ > 0) {
    std::memmove(buf_.get(), buf_.get() + pos_, end_ - pos_);
    end_ -= pos_;
    safe_end_ = safe_end_ >= pos_ ? safe_end_ - pos_ : 0;
    pos_ = 0;
  }
  std::size_t room = kBufferBytes - end_;
  if (room == 0) { co_return make_error(Errc::internal, "multipart buffer full"); }
  auto n = co_await in_.read(std::span<char>(buf_.get() + end_, room));
  if (!n) { co_return n.error(); }
  if (*n > room) { co_return make_error(Errc::internal, "byte source overfilled the buffer"); }
  if (*n == 0) { eof_ = true; }
  end_ += *n;
  co_return Status{};
}

boost::asio::awaitable<Result<std::size_t>> MultipartReader::body_read(char* dst, std::size_t max) {
  if (state_ == State::failed) { co_return error_; }
  if (state_ != State::body) { co_return std::size_t{0}; }
  for (;;) {
    if (pos_ < safe_end_) {
      std::size_t n = std::min(max, safe_end_ - pos_);
      if (dst != nullptr) { std::memcpy(dst, buf_.get() + pos_, n); }
      pos_ += n;
      co_return n;
    }
    if (delimiter_at_safe_end_) {
      state_ = State::after_body;
      co_return std::size_t{0};
    }
    std::string_view hay(buf_.get() + safe_end_, end_ - safe_end_);
    if (std::size_t at = hay.find(delimiter_); at != std::string_view::npos) {
      safe_end_ += at;
      delimiter_at_safe_end_ = true;
      continue;
    }
    // A delimiter may still begin in the last delimiter_.size() - 1 bytes.
    std::size_t keep = delimiter_.size() - 1;
    if (hay.size() > keep) {
      safe_end_ = end_ - keep;
      continue;
    }
    if (eof_) { co_return fail(malformed("missing closing boundary")); }
    if (auto st = co_await fill(); !st) { co_return fail(st.error()); }
  }
}

boost::asio::awaitable<Status> MultipartReader::read_start() {
  std::string opening = "--" + boundary_;
  for (;;) {
    std::string_view have(buf_.get() + pos_, end_ - pos_);
    if (std::size_t nl = have.find('\n'); nl != std::string_view::npos) {
      if (trim(have.substr(0, nl)) != opening) { co_return fail(malformed("invalid starting boundary")); }
      pos_ += nl + 1;
      state_ = State::headers;
      co_return Status{};
    }
    if (eof_ || have.size() > opening.size() + kMaxPaddingBytes) { co_return fail(malformed("invalid starting boundary")); }
    if (auto st = co_await fill(); !st) { co_return fail(st.error()); }
  }
}

boost::asio::awaitable<Status> MultipartReader::finish_boundary() {
  while (end_ - pos_ < delimiter_.size() + 2 && !eof_) {
    if (auto st = co_await fill(); !st) { co_return fail(st.error()); }
  }
  pos_ += delimiter_.size();  // body_read found it whole in the buffer
  if (end_ - pos_ >= 2 && buf_[pos_] == '-' && buf_[pos_ + 1] == '-') {
    pos_ += 2;
    state_ = State::done;
    co_return Status{};
  }
  std::size_t padding = 0;
  for (;;) {
    if (end_ - pos_ < 2 && !eof_) {
      if (auto st = co_await fill(); !st) { co_return fail(st.error()); }
      continue;
    }
    if (pos_ == end_) { co_return fail(malformed("missing closing boundary")); }
    char c = buf_[pos_];
    if (c == ' ' || c == '\t') {
      ++pos_;
      if (++padding > kMaxPaddingBytes) { co_return fail(malformed("malformed boundary line")); }
      continue;
    }
    if (c == '\n' || (c == '\r' && end_ - pos_ >= 2 && buf_[pos_ + 1] == '\n')) {
      pos_ += c == '\n' ? 1 : 2;
      state_ = State::headers;
      co_return Status{};
    }
    co_return fail(malformed("malformed boundary line"));
  }
}

boost::asio::awaitable<Result<Part>> MultipartReader::read_headers() {
  Part part;
  std::size_t total = 0;
  std::string disposition;
  bool seen_disposition = false;
  bool seen_type = false;
  bool seen_encoding = false;
  std::string ignored;
  std::string* last = nullptr;
  for (;;) {
    std::string_view have(buf_.get() + pos_, end_ - pos_);
    std::size_t nl = have.find('\n');
    if (nl == std::string_view::npos) {
      if (total + have.size() > kMaxPartHeaderBytes) { co_return fail(malformed("part headers too large")); }
      if (eof_) { co_return fail(malformed("missing closing boundary")); }
      if (auto st = co_await fill(); !st) { co_return fail(st.error()); }
      continue;
    }
    total += nl + 1;
    if (total > kMaxPartHeaderBytes) { co_return fail(malformed("part headers too large")); }
    std::string_view line = have.substr(0, nl);
    pos_ += nl + 1;  // `line` stays valid: nothing moves the buffer until the next fill()
    if (line.ends_with('\r')) { line.remove_suffix(1); }
    if (line.empty()) { break; }
    if (line.front() == ' ' || line.front() == '\t') {
      if (last == nullptr) { co_return fail(malformed("malformed part header")); }
      last->push_back(' ');
      last->append(trim(line));
      continue;
    }
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || trim(line.substr(0, colon)).empty()) {
      co_return fail(malformed("malformed part header"));
    }
    std::string name = lower(trim(line.substr(0, colon)));
    std::string_view value = trim(line.substr(colon + 1));
    // The first of a repeated header counts, as Python's email parser's get().
    auto take = [&](bool& seen, std::string& field) {
      if (seen) {
        last = &ignored;
        ignored.assign(value);
        return;
      }
      seen = true;
      field.assign(value);
      last = &field;
    };
    if (name == "content-disposition") {
      take(seen_disposition, disposition);
    } else if (name == "content-type") {
      take(seen_type, part.content_type);
    } else if (name == "content-encoding") {
      take(seen_encoding, part.content_encoding);
    } else {
      ignored.assign(value);
      last = &ignored;
    }
  }
  parse_disposition(disposition, part);
  state_ = State::body;
  safe_end_ = pos_;
  delimiter_at_safe_end_ = false;
  co_return part;
}

boost::asio::awaitable<Result<std::optional<Part>>> MultipartReader::next() {
  for (;;) {
    switch (state_) {
      case State::failed: co_return error_;
      case State::done: co_return std::optional<Part>{};
      case State::start:
        if (auto st = co_await read_start(); !st) { co_return st.error(); }
        break;
      case State::body:
        for (;;) {
          auto n = co_await body_read(nullptr, kBufferBytes);
          if (!n) { co_return n.error(); }
          if (*n == 0) { break; }
        }
        break;
      case State::after_body:
        if (auto st = co_await finish_boundary(); !st) { co_return st.error(); }
        break;
      case State::headers: {
        auto part = co_await read_headers();
        if (!part) { co_return part.error(); }
        co_return std::optional<Part>{std::move(*part)};
      }
    }
  }
}

}  // namespace ciel::object::swift
