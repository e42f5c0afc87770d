#include "identity/password/password.h"

#include <gtest/gtest.h>

#include "support/test_support.h"

namespace ciel::identity::password {
namespace {

TEST(Hasher, HashesWithArgon2idAndVerifies) {
  Hasher h({256, 1, 1}, 1);
  std::string enc = h.hash("correct horse");
  EXPECT_TRUE(enc.starts_with("$argon2id$v=19$m=256,t=1,p=1$"));
  EXPECT_NE(enc, h.hash("correct horse"));  // salted
  EXPECT_TRUE(h.verify(enc, "correct horse"));
  EXPECT_FALSE(h.verify(enc, "correct horsf"));
  EXPECT_FALSE(h.verify("", "anything"));
  EXPECT_FALSE(h.verify("$2b$12$notargon", "anything"));
}

TEST(Hasher, VerifiesHashesMadeWithOtherParameters) {
  Hasher old({512, 2, 1}, 1);
  Hasher now({256, 1, 1}, 1);
  EXPECT_TRUE(now.verify(old.hash("pw-123456"), "pw-123456"));
}

TEST(Hasher, AsyncRunsOnItsPool) {
  Hasher h({256, 1, 1}, 2);
  test::run_coro([&]() -> boost::asio::awaitable<void> {
    std::string enc = co_await h.async_hash("secret-pass");
    EXPECT_TRUE(co_await h.async_verify(enc, "secret-pass"));
    EXPECT_FALSE(co_await h.async_verify(enc, "secret-pasS"));
  });
}

TEST(Backoff, DelaysAfterThresholdAndDoubles) {
  FakeClock clock;
  Backoff b({3, 100, std::chrono::seconds(1), std::chrono::seconds(60), std::chrono::seconds(900)}, clock);
  for (int i = 0; i < 2; ++i) {
    EXPECT_FALSE(b.blocked("alice", "1.2.3.4"));
    b.failure("alice", "1.2.3.4");
  }
  EXPECT_FALSE(b.blocked("alice", "1.2.3.4"));
  b.failure("alice", "1.2.3.4");  // third failure: 1 s
  EXPECT_TRUE(b.blocked("alice", "1.2.3.4"));
  EXPECT_TRUE(b.blocked("alice", "5.6.7.8"));  // the account, from anywhere
  EXPECT_FALSE(b.blocked("bob", "1.2.3.4"));    // the address is still under its threshold
  clock.advance(std::chrono::milliseconds(1001));
  EXPECT_FALSE(b.blocked("alice", "1.2.3.4"));
  b.failure("alice", "1.2.3.4");  // fourth: 2 s
  clock.advance(std::chrono::milliseconds(1500));
  EXPECT_TRUE(b.blocked("alice", "1.2.3.4"));
  clock.advance(std::chrono::milliseconds(600));
  EXPECT_FALSE(b.blocked("alice", "1.2.3.4"));
  b.success("alice");
  b.failure("alice", "1.2.3.4");
  EXPECT_FALSE(b.blocked("alice", "1.2.3.4"));  // the count restarted
}

TEST(Backoff, WaitSaysHowLongUntilTheNextAttempt) {
  FakeClock clock;
  Backoff b({2, 3, std::chrono::seconds(1), std::chrono::seconds(60), std::chrono::seconds(900)}, clock);
  EXPECT_EQ(b.wait("alice", "1.2.3.4").count(), 0);
  b.failure("alice", "1.2.3.4");
  EXPECT_EQ(b.wait("alice", "1.2.3.4").count(), 0);
  b.failure("alice", "1.2.3.4");  // second: 1 s
  EXPECT_EQ(b.wait("alice", "1.2.3.4"), std::chrono::milliseconds(1000));
  clock.advance(std::chrono::milliseconds(400));
  EXPECT_EQ(b.wait("alice", "9.9.9.9"), std::chrono::milliseconds(600));
  EXPECT_EQ(b.wait("bob", "1.2.3.4").count(), 0);
  b.failure("carol", "1.2.3.4");  // the address's third: 1 s for anyone from there
  EXPECT_EQ(b.wait("bob", "1.2.3.4"), std::chrono::milliseconds(1000));
  EXPECT_EQ(b.wait("alice", "1.2.3.4"), std::chrono::milliseconds(1000));  // the longer of the two
  clock.advance(std::chrono::milliseconds(1000));
  EXPECT_EQ(b.wait("alice", "1.2.3.4").count(), 0);
}

TEST(Backoff, PerAddressAcrossAccounts) {
  FakeClock clock;
  Backoff b({100, 4, std::chrono::seconds(10), std::chrono::seconds(60), std::chrono::seconds(900)}, clock);
  for (int i = 0; i < 4; ++i) { b.failure("user" + std::to_string(i), "9.9.9.9"); }
  EXPECT_TRUE(b.blocked("someone-else", "9.9.9.9"));
  EXPECT_FALSE(b.blocked("someone-else", "8.8.8.8"));
  clock.advance(std::chrono::seconds(11));
  EXPECT_FALSE(b.blocked("someone-else", "9.9.9.9"));
}

TEST(Backoff, DelayIsCapped) {
  FakeClock clock;
  Backoff b({1, 1000, std::chrono::seconds(1), std::chrono::seconds(8), std::chrono::seconds(900)}, clock);
  for (int i = 0; i < 30; ++i) { b.failure("a", "x"); }
  clock.advance(std::chrono::milliseconds(8001));
  EXPECT_FALSE(b.blocked("a", "x"));
}

}  // namespace
}  // namespace ciel::identity::password
