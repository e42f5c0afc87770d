#include "core/bytes.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "support/test_support.h"

namespace ciel {
namespace {

// A string source that remembers when it was told to prefetch, and how much had been read of
// the whole concatenation then.
class WatchedSource final : public ByteSource {
 public:
  // `warned_at` outlives the source (a ConcatSource drops each part once it is read).
  WatchedSource(std::string data, const std::uint64_t& consumed, std::vector<std::uint64_t>& warned_at)
      : warned_at_(warned_at), inner_(std::move(data)), consumed_(consumed) {}
  boost::asio::awaitable<Result<std::size_t>> read(std::span<char> buf) override { co_return co_await inner_.read(buf); }
  std::optional<std::uint64_t> size() const override { return inner_.size(); }
  void prefetch() override { warned_at_.push_back(consumed_); }

 private:
  std::vector<std::uint64_t>& warned_at_;
  StringSource inner_;
  const std::uint64_t& consumed_;
};

// A large object's blobs are read through a ConcatSource: each next one hears prefetch() once,
// when the one before has kConcatPrefetch bytes or fewer left, so a RADOS blob has its first
// stripes on the way before the reader reaches it.
TEST(ConcatSource, TellsTheNextPartToPrefetchAsTheCurrentOneEnds) {
  const std::uint64_t first = kConcatPrefetch + 1000, second = 5000, third = 10;
  std::uint64_t consumed = 0;
  std::vector<std::uint64_t> warned[3];
  std::vector<std::unique_ptr<ByteSource>> parts;
  parts.push_back(std::make_unique<WatchedSource>(std::string(first, 'a'), consumed, warned[0]));
  parts.push_back(std::make_unique<WatchedSource>(std::string(second, 'b'), consumed, warned[1]));
  parts.push_back(std::make_unique<WatchedSource>(std::string(third, 'c'), consumed, warned[2]));
  ConcatSource concat(std::move(parts));
  EXPECT_EQ(concat.size(), first + second + third);
  std::string out;
  test::run_coro([&]() -> boost::asio::awaitable<void> {
    std::string buf(300, '\0');
    for (;;) {
      auto n = co_await concat.read(std::span<char>(buf.data(), buf.size()));
      EXPECT_TRUE(n);
      if (!n || *n == 0) { break; }
      out.append(buf.data(), *n);
      consumed += *n;
    }
  });
  EXPECT_EQ(out, std::string(first, 'a') + std::string(second, 'b') + std::string(third, 'c'));
  EXPECT_TRUE(warned[0].empty());
  // The first read that left 16 MiB or less of part one: after 1,200 bytes (four of 300).
  ASSERT_EQ(warned[1].size(), 1u);
  EXPECT_EQ(warned[1][0], 900u);
  // Part two is under the threshold: the third hears it at part two's first read (a read never
  // spans two parts, so that one starts right after part one's last byte).
  ASSERT_EQ(warned[2].size(), 1u);
  EXPECT_EQ(warned[2][0], first);
}

// A source that lends views of its string, at most `piece` bytes each.
class LendingSource final : public ByteSource {
 public:
  LendingSource(std::string data, std::size_t piece, int& prefetched) : prefetched_(prefetched), data_(std::move(data)), piece_(piece) {}
  boost::asio::awaitable<Result<std::size_t>> read(std::span<char>) override {
    ADD_FAILURE() << "read() on a source read through views";
    co_return make_error(Errc::internal, "read() on a lending source");
  }
  std::optional<std::uint64_t> size() const override { return data_.size(); }
  bool has_views() const override { return true; }
  boost::asio::awaitable<Result<std::span<const char>>> next_view(std::size_t max) override {
    std::size_t n = std::min({max, piece_, data_.size() - pos_});
    std::span<const char> v(data_.data() + pos_, n);
    pos_ += n;
    co_return v;
  }
  void prefetch() override { ++prefetched_; }

 private:
  int& prefetched_;
  std::string data_;
  std::size_t piece_;
  std::size_t pos_ = 0;
};

// Views pass through a concatenation only when every part lends them; the parts follow one
// another, each view within one part and within `max`, and the next part hears prefetch().
TEST(ConcatSource, LendsViewsWhenEveryPartDoes) {
  int prefetched[2] = {0, 0};
  std::vector<std::unique_ptr<ByteSource>> mixed;
  mixed.push_back(std::make_unique<LendingSource>("abc", 2, prefetched[0]));
  mixed.push_back(std::make_unique<StringSource>("def"));
  EXPECT_FALSE(ConcatSource(std::move(mixed)).has_views());

  std::vector<std::unique_ptr<ByteSource>> parts;
  parts.push_back(std::make_unique<LendingSource>(std::string(1000, 'x'), 300, prefetched[0]));
  parts.push_back(std::make_unique<LendingSource>(std::string(500, 'y'), 300, prefetched[1]));
  ConcatSource concat(std::move(parts));
  ASSERT_TRUE(concat.has_views());
  std::string out;
  std::vector<std::size_t> sizes;
  test::run_coro([&]() -> boost::asio::awaitable<void> {
    for (;;) {
      auto v = co_await concat.next_view(256);
      EXPECT_TRUE(v);
      if (!v || v->empty()) { break; }
      sizes.push_back(v->size());
      out.append(v->data(), v->size());
    }
  });
  EXPECT_EQ(out, std::string(1000, 'x') + std::string(500, 'y'));
  EXPECT_EQ(sizes, (std::vector<std::size_t>{256, 256, 256, 232, 256, 244}));
  EXPECT_EQ(prefetched[0], 0);
  EXPECT_EQ(prefetched[1], 1);
}

}  // namespace
}  // namespace ciel
