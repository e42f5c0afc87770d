#include "object/swift/multipart.h"

#include <gtest/gtest.h>

#include <vector>

#include "support/test_support.h"
#include "unit/object/byte_sources.h"

namespace ciel::object::swift {
namespace {

using test::ChunkedSource;
using test::GeneratedSource;
using test::run_coro;

struct ReadPart {
  Part part;
  std::string body;
};

// Reads every part and its body with `read_size`-byte reads; the error, if any, lands in `error`.
boost::asio::awaitable<std::vector<ReadPart>> read_all_parts(MultipartReader& reader, std::size_t read_size, Error* error) {
  std::vector<ReadPart> parts;
  std::vector<char> buf(read_size);
  for (;;) {
    auto part = co_await reader.next();
    if (!part) {
      *error = part.error();
      co_return parts;
    }
    if (!*part) { co_return parts; }
    ReadPart p{std::move(**part), {}};
    for (;;) {
      auto n = co_await reader.part_body().read(std::span<char>(buf.data(), buf.size()));
      if (!n) {
        *error = n.error();
        parts.push_back(std::move(p));
        co_return parts;
      }
      if (*n == 0) { break; }
      p.body.append(buf.data(), *n);
    }
    parts.push_back(std::move(p));
  }
}

const std::string kForm =
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"redirect\"\r\n"
    "\r\n"
    "https://example.com/done\r\n"
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"max_file_size\"\r\n"
    "\r\n"
    "1024\r\n"
    "--XyZ\r\n"
    "content-disposition: form-data; name=\"file1\"; filename=\"a b;c.txt\"\r\n"
    "Content-Type: text/plain\r\n"
    "X-Other: 1\r\n"
    "\r\n"
    "line one\r\n-XyZ- almost\r\n--XyY\r\nline three\r\n"
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"empty\"\r\n"
    "\r\n"
    "\r\n"
    "--XyZ--\r\n"
    "epilogue is ignored";

TEST(SwiftMultipart, Boundary) {
  EXPECT_EQ(multipart_boundary("multipart/form-data; boundary=XyZ"), "XyZ");
  EXPECT_EQ(multipart_boundary("Multipart/Form-Data;charset=utf-8; BOUNDARY=\"a b\""), "a b");
  EXPECT_EQ(multipart_boundary("multipart/form-data; boundary=----WebKitFormBoundary7MA4YWxkTrZu0gW"),
            "----WebKitFormBoundary7MA4YWxkTrZu0gW");
  EXPECT_FALSE(multipart_boundary("multipart/form-data"));
  EXPECT_FALSE(multipart_boundary("multipart/mixed; boundary=x"));
  EXPECT_FALSE(multipart_boundary("multipart/form-data; boundary="));
  EXPECT_FALSE(multipart_boundary("multipart/form-data; boundary=\"\""));
  EXPECT_FALSE(multipart_boundary("multipart/form-data; boundary=" + std::string(201, 'b')));
  EXPECT_FALSE(multipart_boundary("multipart/form-data; boundary=a\rb"));
}

TEST(SwiftMultipart, ReadsPartsAtEverySplit) {
  for (std::size_t chunk : {1, 2, 3, 7, 64, 100000}) {
    for (std::size_t read_size : {1, 5, 4096}) {
      ChunkedSource src(kForm, chunk);
      MultipartReader reader(src, "XyZ");
      Error error;
      std::vector<ReadPart> parts;
      run_coro([&]() -> boost::asio::awaitable<void> { parts = co_await read_all_parts(reader, read_size, &error); });
      ASSERT_TRUE(error.message.empty()) << error.message << " chunk " << chunk;
      ASSERT_EQ(parts.size(), 4u) << "chunk " << chunk << " read " << read_size;
      EXPECT_EQ(parts[0].part.disposition, "form-data");
      EXPECT_EQ(parts[0].part.name, "redirect");
      EXPECT_EQ(parts[0].part.filename, "");
      EXPECT_EQ(parts[0].body, "https://example.com/done");
      EXPECT_EQ(parts[1].part.name, "max_file_size");
      EXPECT_EQ(parts[1].body, "1024");
      EXPECT_EQ(parts[2].part.name, "file1");
      EXPECT_EQ(parts[2].part.filename, "a b;c.txt");
      EXPECT_EQ(parts[2].part.content_type, "text/plain");
      EXPECT_EQ(parts[2].body, "line one\r\n-XyZ- almost\r\n--XyY\r\nline three");
      EXPECT_EQ(parts[3].part.name, "empty");
      EXPECT_EQ(parts[3].body, "");
      EXPECT_EQ(parts[3].part.content_type, "");
    }
  }
}

TEST(SwiftMultipart, UnreadBodiesAreSkipped) {
  ChunkedSource src(kForm, 5);
  MultipartReader reader(src, "XyZ");
  std::vector<std::string> names;
  run_coro([&]() -> boost::asio::awaitable<void> {
    for (;;) {
      auto part = co_await reader.next();
      EXPECT_TRUE(part);
      if (!part || !*part) { break; }
      names.push_back((*part)->name);
    }
    auto again = co_await reader.next();  // still the end
    EXPECT_TRUE(again && !*again);
    char c;
    auto n = co_await reader.part_body().read(std::span<char>(&c, 1));
    EXPECT_TRUE(n && *n == 0);
  });
  EXPECT_EQ(names, (std::vector<std::string>{"redirect", "max_file_size", "file1", "empty"}));
}

TEST(SwiftMultipart, DispositionParameters) {
  std::string body =
      "--b\r\nContent-Disposition: form-data; filename=unquoted.bin; name=f\r\n"
      "Content-Type: application/octet-stream\r\n Content-Encoding-Ignored: x\r\n"
      "Content-Encoding: gzip\r\n\r\nDATA\r\n--b--";
  ChunkedSource src(body, 3);
  MultipartReader reader(src, "b");
  Error error;
  std::vector<ReadPart> parts;
  run_coro([&]() -> boost::asio::awaitable<void> { parts = co_await read_all_parts(reader, 2, &error); });
  ASSERT_TRUE(error.message.empty()) << error.message;
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_EQ(parts[0].part.name, "f");
  EXPECT_EQ(parts[0].part.filename, "unquoted.bin");
  EXPECT_EQ(parts[0].part.content_type, "application/octet-stream Content-Encoding-Ignored: x");  // folded line
  EXPECT_EQ(parts[0].part.content_encoding, "gzip");
  EXPECT_EQ(parts[0].body, "DATA");
}

std::string first_error(std::string body, std::string boundary = "b") {
  ChunkedSource src(std::move(body), 4);
  MultipartReader reader(src, std::move(boundary));
  Error error;
  run_coro([&]() -> boost::asio::awaitable<void> { co_await read_all_parts(reader, 3, &error); });
  if (!error.message.empty()) { EXPECT_EQ(error.code, Errc::invalid_argument); }
  return error.message;
}

TEST(SwiftMultipart, MalformedBodies) {
  EXPECT_EQ(first_error(""), "invalid starting boundary");
  EXPECT_EQ(first_error("preamble\r\n--b\r\n\r\nx\r\n--b--"), "invalid starting boundary");
  EXPECT_EQ(first_error("--b--\r\n"), "invalid starting boundary");
  EXPECT_EQ(first_error("--b\r\nContent-Disposition: form-data; name=a\r\n\r\nno end"), "missing closing boundary");
  EXPECT_EQ(first_error("--b\r\nContent-Disposition: form-data\r\n"), "missing closing boundary");
  EXPECT_EQ(first_error("--b\r\nno colon here\r\n\r\nx\r\n--b--"), "malformed part header");
  EXPECT_EQ(first_error("--b\r\n folded first\r\n\r\nx\r\n--b--"), "malformed part header");
  EXPECT_EQ(first_error("--b\r\n\r\nx\r\n--bX\r\n"), "malformed boundary line");
  EXPECT_EQ(first_error("--b\r\n\r\nx\r\n--b"), "missing closing boundary");
  EXPECT_EQ(first_error("--b\r\nX-Big: " + std::string(9000, 'h') + "\r\n\r\nx\r\n--b--"), "part headers too large");
  EXPECT_EQ(first_error("--\r\n", ""), "invalid boundary");
  // Whitespace after a boundary and a bare LF are tolerated.
  EXPECT_EQ(first_error("--b  \n\r\nx\r\n--b \t\r\n\r\ny\r\n--b--"), "");
}

TEST(SwiftMultipart, ErrorsAreFinal) {
  ChunkedSource src("--b\r\n\r\nunterminated", 100);
  MultipartReader reader(src, "b");
  run_coro([&]() -> boost::asio::awaitable<void> {
    auto part = co_await reader.next();
    EXPECT_TRUE(part && *part);
    char buf[64];
    auto n = co_await reader.part_body().read(std::span<char>(buf, sizeof buf));
    // The reader cannot know "unterminated" is data until it sees the end.
    if (n && *n > 0) { n = co_await reader.part_body().read(std::span<char>(buf, sizeof buf)); }
    EXPECT_FALSE(n);
    auto again = co_await reader.next();
    EXPECT_FALSE(again);
    EXPECT_EQ(again.error().message, "missing closing boundary");
  });
}

TEST(SwiftMultipart, StreamsAThreeMebibyteFileWithBoundedLookahead) {
  constexpr std::uint64_t kSize = 3 * 1024 * 1024;
  std::string head =
      "--bound\r\nContent-Disposition: form-data; name=\"expires\"\r\n\r\n123\r\n"
      "--bound\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.bin\"\r\n\r\n";
  GeneratedSource src(head, kSize, "\r\n--bound--\r\n");
  MultipartReader reader(src, "bound");
  run_coro([&]() -> boost::asio::awaitable<void> {
    auto field = co_await reader.next();
    EXPECT_TRUE(field && *field);
    auto file = co_await reader.next();
    EXPECT_TRUE(file && *file);
    if (!file || !*file) { co_return; }
    EXPECT_EQ((*file)->filename, "big.bin");
    std::uint64_t got = 0;
    bool pattern_ok = true;
    std::uint64_t max_ahead = 0;
    char buf[1000];
    for (;;) {
      auto n = co_await reader.part_body().read(std::span<char>(buf, sizeof buf));
      EXPECT_TRUE(n);
      if (!n || *n == 0) { break; }
      for (std::size_t i = 0; i < *n; ++i) { pattern_ok = pattern_ok && buf[i] == GeneratedSource::pattern_byte(got + i); }
      got += *n;
      max_ahead = std::max(max_ahead, src.produced() - (head.size() + got));
    }
    EXPECT_EQ(got, kSize);
    EXPECT_TRUE(pattern_ok);
    EXPECT_LE(max_ahead, 32u * 1024u);  // the reader's buffer, never the file
    auto end = co_await reader.next();
    EXPECT_TRUE(end && !*end);
  });
}

}  // namespace
}  // namespace ciel::object::swift
