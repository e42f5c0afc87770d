#include "object/engine/acl.h"

#include <gtest/gtest.h>

namespace ciel::object {
namespace {

ContainerAcl parse_ok(std::string_view header) {
  auto acl = parse_container_acl(header);
  EXPECT_TRUE(acl) << header << ": " << (acl ? "" : acl.error().message);
  return acl ? *acl : ContainerAcl{};
}

std::string parse_error(std::string_view header, bool write = false) {
  auto acl = parse_container_acl(header, write);
  EXPECT_FALSE(acl) << header;
  if (acl) { return {}; }
  EXPECT_EQ(acl.error().code, Errc::invalid_argument);
  return acl.error().message;
}

TEST(SwiftAcl, CleansLikeSwift) {
  // The table in acl.py's clean_acl docstring.
  EXPECT_EQ(format_container_acl(parse_ok("bob, sue")), "bob,sue");
  EXPECT_EQ(format_container_acl(parse_ok("bob , sue")), "bob,sue");
  EXPECT_EQ(format_container_acl(parse_ok("bob,,,sue")), "bob,sue");
  EXPECT_EQ(format_container_acl(parse_ok(".referrer : *")), ".r:*");
  EXPECT_EQ(format_container_acl(parse_ok(".ref:*.example.com")), ".r:.example.com");
  EXPECT_EQ(format_container_acl(parse_ok(".r:*, .rlistings")), ".r:*,.rlistings");
  EXPECT_EQ(format_container_acl(parse_ok(".referer:-thief.com")), ".r:-thief.com");
  EXPECT_EQ(format_container_acl(parse_ok(".r:-*.thief.com")), ".r:-.thief.com");
  EXPECT_EQ(format_container_acl(parse_ok("")), "");
  EXPECT_EQ(format_container_acl(parse_ok(" , ")), "");
}

TEST(SwiftAcl, ParsesIntoParts) {
  ContainerAcl acl = parse_ok(".r:*,.r:-.thief.com,.rlistings,bobs_account,sues_account:sue, p1:*, *:u2");
  ASSERT_EQ(acl.referrers.size(), 2u);
  EXPECT_EQ(acl.referrers[0], (ReferrerRule{true, "*"}));
  EXPECT_EQ(acl.referrers[1], (ReferrerRule{false, ".thief.com"}));
  EXPECT_TRUE(acl.listings);
  EXPECT_EQ(acl.grants, (std::vector<std::string>{"bobs_account", "sues_account:sue", "p1:*", "*:u2"}));
  EXPECT_EQ(format_container_acl(acl), ".r:*,.r:-.thief.com,.rlistings,bobs_account,sues_account:sue,p1:*,*:u2");
  EXPECT_EQ(parse_ok(format_container_acl(acl)), acl);
}

TEST(SwiftAcl, Rejections) {
  EXPECT_EQ(parse_error(".r:"), "No host/domain value after referrer designation in ACL: '.r:'");
  EXPECT_EQ(parse_error(".r:-"), "No host/domain value after referrer designation in ACL: '.r:-'");
  EXPECT_EQ(parse_error(".r:."), "No host/domain value after referrer designation in ACL: '.r:.'");
  EXPECT_EQ(parse_error("a, .referrer: - "), "No host/domain value after referrer designation in ACL: '.referrer: -'");
  EXPECT_EQ(parse_error(".x:y"), "Unknown designator '.x' in ACL: '.x:y'");
  EXPECT_EQ(parse_error(".rlisting"), "Unknown designator '.rlisting' in ACL: '.rlisting'");
  EXPECT_EQ(parse_error(".r"), "Unknown designator '.r' in ACL: '.r'");
  EXPECT_EQ(parse_error(".r:*", true), "Referrers not allowed in write ACL: '.r:*'");
  EXPECT_EQ(parse_error("it's,.x"), "Unknown designator '.x' in ACL: '.x'");
  EXPECT_EQ(parse_error(".o'k:1"), "Unknown designator \".o'k\" in ACL: \".o'k:1\"");
  // A write ACL may hold grants and .rlistings.
  auto w = parse_container_acl("p:u,.rlistings", true);
  ASSERT_TRUE(w);
  EXPECT_EQ(w->grants, (std::vector<std::string>{"p:u"}));
}

TEST(SwiftAcl, StarsBeforeADomainAreDropped) {
  EXPECT_EQ(parse_ok(".r:*").referrers[0].host, "*");
  EXPECT_EQ(parse_ok(".r:**").referrers[0].host, "*");
  EXPECT_EQ(parse_ok(".r:**.x.com").referrers[0].host, ".x.com");
  EXPECT_EQ(parse_ok(".r:-*").referrers[0], (ReferrerRule{false, "*"}));
  // Read back as Swift would read what it stored (".r:-x"): a deny rule.
  EXPECT_EQ(parse_ok(".r:*-x").referrers[0], (ReferrerRule{false, "x"}));
  EXPECT_EQ(parse_ok(".r:--x").referrers[0], (ReferrerRule{false, "-x"}));
  EXPECT_EQ(format_container_acl(parse_ok(".r:--x")), ".r:--x");
}

TEST(SwiftAcl, ReferrerLastMatchWins) {
  ContainerAcl acl = parse_ok(".r:.example.com,.r:-thief.example.com");
  EXPECT_TRUE(referrer_allowed(acl, "http://www.example.com/index.html"));
  EXPECT_TRUE(referrer_allowed(acl, "https://user:pw@WWW.Example.COM:8443/x?y#z"));
  EXPECT_FALSE(referrer_allowed(acl, "http://thief.example.com/"));
  EXPECT_FALSE(referrer_allowed(acl, "http://example.org/"));
  EXPECT_FALSE(referrer_allowed(acl, ""));
  EXPECT_FALSE(referrer_allowed(acl, "www.example.com/no-scheme"));

  ContainerAcl any = parse_ok(".r:*,.r:-.thief.com");
  EXPECT_TRUE(referrer_allowed(any, ""));  // no Referer: host "unknown", still allowed by *
  EXPECT_TRUE(referrer_allowed(any, "http://good.com/"));
  EXPECT_FALSE(referrer_allowed(any, "http://www.thief.com/"));
  EXPECT_TRUE(referrer_allowed(any, "//www.good.com/path"));
  EXPECT_TRUE(referrer_allowed(parse_ok(".r:::1"), "http://[::1]:8080/"));

  EXPECT_FALSE(referrer_allowed(parse_ok("p:u"), "http://any.com/"));  // no referrer rules at all
  ContainerAcl deny_then_allow = parse_ok(".r:-bad.com,.r:*");
  EXPECT_TRUE(referrer_allowed(deny_then_allow, "http://bad.com/"));
}

TEST(SwiftAcl, GrantsUser) {
  ContainerAcl acl = parse_ok("p-id:u-id,proj-name:*,*:alice,solo-project");
  EXPECT_TRUE(grants_user(acl, "p-id", "whatever", "u-id", "bob"));
  EXPECT_FALSE(grants_user(acl, "p-id", "whatever", "other", "bob"));
  EXPECT_TRUE(grants_user(acl, "x", "proj-name", "any", "any"));
  EXPECT_TRUE(grants_user(acl, "x", "y", "u9", "alice"));
  EXPECT_TRUE(grants_user(acl, "solo-project", "", "u", "n"));
  EXPECT_FALSE(grants_user(acl, "other", "other", "u", "n"));
  EXPECT_FALSE(grants_user(parse_ok(":u"), "", "", "u", "n"));  // empty ids never match
  EXPECT_FALSE(grants_user(parse_ok("*"), "p", "q", "u", "n"));
  EXPECT_TRUE(grants_user(parse_ok("*:*"), "p", "q", "u", "n"));
}

TEST(SwiftAcl, AccountAclParseAndFormat) {
  auto acl = parse_account_acl(R"({"read-only":["p1:u1","p2"],"admin":["*:boss"],"read-write":[]})");
  ASSERT_TRUE(acl);
  EXPECT_EQ(acl->admin, (std::vector<std::string>{"*:boss"}));
  EXPECT_EQ(acl->read_only, (std::vector<std::string>{"p1:u1", "p2"}));
  EXPECT_TRUE(acl->read_write.empty());
  EXPECT_EQ(format_account_acl(*acl), R"({"admin":["*:boss"],"read-only":["p1:u1","p2"]})");
  EXPECT_EQ(*parse_account_acl(format_account_acl(*acl)), *acl);

  AccountAcl unicode{{"\xC3\xA9t\xC3\xA9:\xF0\x9F\x98\x80"}, {"a\"b\\c"}, {}};
  EXPECT_EQ(format_account_acl(unicode), R"({"admin":["\u00e9t\u00e9:\ud83d\ude00"],"read-write":["a\"b\\c"]})");
  EXPECT_EQ(*parse_account_acl(format_account_acl(unicode)), unicode);

  EXPECT_EQ(format_account_acl(AccountAcl{}), "{}");
  ASSERT_TRUE(parse_account_acl(""));
  EXPECT_EQ(*parse_account_acl(""), AccountAcl{});
  EXPECT_EQ(*parse_account_acl("{}"), AccountAcl{});
}

TEST(SwiftAcl, AccountAclErrors) {
  auto msg = [](std::string_view h) {
    auto r = parse_account_acl(h);
    EXPECT_FALSE(r) << h;
    return r ? std::string() : r.error().message;
  };
  EXPECT_EQ(msg("not json"), "Syntax error in input ('not json')");
  EXPECT_EQ(msg("[1]"), "Syntax error in input ('[1]')");
  EXPECT_EQ(msg(R"({"admin":["a"],"owner":["b"]})"), R"(Key "owner" not recognized)");
  EXPECT_EQ(msg(R"({"admin":"a"})"), R"(Value for key "admin" must be a list)");
  EXPECT_EQ(msg(R"({"read-only":["a",3]})"), R"(Elements of "read-only" list must be strings)");
}

TEST(SwiftAcl, AccountAccessLevels) {
  AccountAcl acl{{"*:boss"}, {"p1:writer", "team"}, {"p1:*"}};
  EXPECT_EQ(account_access(acl, "p9", "n9", "u", "boss"), AccountAccess::admin);
  EXPECT_EQ(account_access(acl, "p1", "", "u-w", "writer"), AccountAccess::read_write);
  EXPECT_EQ(account_access(acl, "x", "team", "u", "n"), AccountAccess::read_write);
  EXPECT_EQ(account_access(acl, "p1", "", "u", "n"), AccountAccess::read_only);
  EXPECT_EQ(account_access(acl, "p2", "", "u", "n"), AccountAccess::none);
  EXPECT_EQ(account_access(AccountAcl{}, "p", "q", "u", "n"), AccountAccess::none);
}

}  // namespace
}  // namespace ciel::object
