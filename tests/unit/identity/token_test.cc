#include "identity/token/token.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/crypto/crypto.h"
#include "support/test_support.h"

namespace ciel::identity::token {
namespace {

Payload sample(const FakeClock& clock) {
  Payload p;
  p.user_id = crypto::random_hex(16);
  p.scope = ScopeType::project;
  p.scope_id = crypto::random_hex(16);
  p.methods = kPassword;
  p.issued_at_ms = std::chrono::duration_cast<std::chrono::milliseconds>(clock.now().time_since_epoch()).count();
  p.expires_at = p.issued_at_ms / 1000 + 3600;
  p.audit_id = crypto::random_bytes(16);
  return p;
}

// A ring over DIR/token files.
Result<std::unique_ptr<KeyRing>> ring_in(const std::string& dir, const FakeClock& clock,
                                         std::chrono::seconds stage = std::chrono::seconds(0)) {
  auto store = open_file_key_store(dir);
  if (!store) { return store.error(); }
  return KeyRing::open(std::move(*store), clock, stage);
}

TEST(TokenPayload, RoundTripsEveryField) {
  FakeClock clock;
  Payload p = sample(clock);
  p.audit_chain_id = crypto::random_bytes(16);
  p.app_cred_id = crypto::random_hex(16);
  p.methods = kAppCredential | kToken;
  auto back = decode_payload(encode_payload(p));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->user_id, p.user_id);
  EXPECT_EQ(back->scope, p.scope);
  EXPECT_EQ(back->scope_id, p.scope_id);
  EXPECT_EQ(back->methods, p.methods);
  EXPECT_EQ(back->issued_at_ms, p.issued_at_ms);
  EXPECT_EQ(back->expires_at, p.expires_at);
  EXPECT_EQ(back->audit_id, p.audit_id);
  EXPECT_EQ(back->audit_chain_id, p.audit_chain_id);
  EXPECT_EQ(back->app_cred_id, p.app_cred_id);
}

TEST(TokenPayload, NonHexIdsAndDomainScope) {
  FakeClock clock;
  Payload p = sample(clock);
  p.scope = ScopeType::domain;
  p.scope_id = "default";
  auto back = decode_payload(encode_payload(p));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->scope_id, "default");
}

TEST(TokenPayload, RejectsTruncatedAndTrailingBytes) {
  FakeClock clock;
  std::string bytes = encode_payload(sample(clock));
  EXPECT_FALSE(decode_payload(bytes.substr(0, bytes.size() - 1)));
  EXPECT_FALSE(decode_payload(bytes + "x"));
  EXPECT_FALSE(decode_payload(""));
}

TEST(KeyRing, SealsShortTokensThatOpen) {
  test::TempDir dir;
  FakeClock clock;
  auto ring = ring_in(dir.path(), clock);
  ASSERT_TRUE(ring);
  Payload p = sample(clock);
  p.audit_chain_id = crypto::random_bytes(16);
  p.app_cred_id = crypto::random_hex(16);
  std::string t = (*ring)->seal(p);
  EXPECT_LT(t.size(), 255u);
  EXPECT_LT((*ring)->seal(sample(clock)).size(), 140u);
  auto back = (*ring)->unseal(t);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->user_id, p.user_id);
  auto perms = std::filesystem::status(dir.path() + "/token/1.key").permissions();
  EXPECT_EQ(perms & std::filesystem::perms::group_read, std::filesystem::perms::none);
}

TEST(KeyRing, TamperedAndForeignTokensFail) {
  test::TempDir a, b;
  FakeClock clock;
  auto ring = ring_in(a.path(), clock);
  auto other = ring_in(b.path(), clock);
  ASSERT_TRUE(ring && other);
  std::string t = (*ring)->seal(sample(clock));
  for (std::size_t i : {std::size_t{0}, std::size_t{5}, t.size() / 2, t.size() - 1}) {
    std::string bad = t;
    bad[i] = bad[i] == 'A' ? 'B' : 'A';
    auto r = (*ring)->unseal(bad);
    EXPECT_FALSE(r);
    if (!r) { EXPECT_EQ(r.error().code, Errc::unauthenticated); }
  }
  EXPECT_FALSE((*other)->unseal(t));  // same key id, another key
  EXPECT_FALSE((*ring)->unseal("not a token"));
  EXPECT_FALSE((*ring)->unseal(""));
}

TEST(KeyRing, RotationKeepsOldKeysUntilTheirTokensExpire) {
  test::TempDir dir;
  FakeClock clock;
  auto ring = ring_in(dir.path(), clock);
  ASSERT_TRUE(ring);
  std::string old_token = (*ring)->seal(sample(clock));
  clock.advance(std::chrono::hours(25));
  auto rotated = (*ring)->rotate(std::chrono::hours(24), std::chrono::hours(1), false);
  ASSERT_TRUE(rotated);
  EXPECT_TRUE(*rotated);
  EXPECT_EQ((*ring)->size(), 2u);
  EXPECT_EQ((*ring)->primary_index(), 2u);
  EXPECT_TRUE((*ring)->unseal(old_token));  // the old key still opens
  // Not due yet: no new key.
  EXPECT_FALSE(*(*ring)->rotate(std::chrono::hours(24), std::chrono::hours(1), false));
  // Once the successor has been primary for a whole token lifetime, the old key goes.
  clock.advance(std::chrono::minutes(62));
  ASSERT_TRUE((*ring)->rotate(std::chrono::hours(24), std::chrono::hours(1), false));
  EXPECT_EQ((*ring)->size(), 1u);
  EXPECT_FALSE((*ring)->unseal(old_token));
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/token/1.key"));
  // A reopened ring finds the same keys.
  std::string t = (*ring)->seal(sample(clock));
  auto again = ring_in(dir.path(), clock);
  ASSERT_TRUE(again);
  EXPECT_TRUE((*again)->unseal(t));
}

TEST(KeyRing, NewKeysAreStagedBeforeTheySeal) {
  test::TempDir dir;
  FakeClock clock;
  auto a = ring_in(dir.path(), clock, std::chrono::seconds(20));
  auto b = ring_in(dir.path(), clock, std::chrono::seconds(20));
  ASSERT_TRUE(a && b);
  clock.advance(std::chrono::hours(1));
  ASSERT_TRUE(*(*a)->rotate(std::chrono::hours(24), std::chrono::hours(1), true));
  EXPECT_EQ((*a)->primary_index(), 1u);  // staged: node b has not read it yet
  EXPECT_TRUE((*b)->unseal((*a)->seal(sample(clock))));
  clock.advance(std::chrono::seconds(21));
  ASSERT_TRUE(*(*b)->reload());
  EXPECT_EQ((*a)->primary_index(), 2u);
  EXPECT_TRUE((*b)->unseal((*a)->seal(sample(clock))));
}

TEST(KeyRing, ReloadSeesKeysAnotherProcessAdded) {
  test::TempDir dir;
  FakeClock clock;
  auto a = ring_in(dir.path(), clock);
  auto b = ring_in(dir.path(), clock);
  ASSERT_TRUE(a && b);
  EXPECT_FALSE(*(*b)->reload());
  clock.advance(std::chrono::hours(1));
  ASSERT_TRUE(*(*a)->rotate(std::chrono::hours(24), std::chrono::hours(1), true));
  std::string t = (*a)->seal(sample(clock));
  EXPECT_FALSE((*b)->unseal(t));  // sealed with a key b has not read yet
  EXPECT_TRUE(*(*b)->reload());
  EXPECT_TRUE((*b)->unseal(t));
  EXPECT_EQ((*b)->primary_index(), 2u);
}

}  // namespace
}  // namespace ciel::identity::token
