#include "core/http/router.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace ciel::http {
namespace {

boost::asio::awaitable<Response> ok(RequestContext&) { co_return Response(Status::ok); }

std::string param(const Router::Match& m, std::string_view name) {
  for (const auto& [k, v] : m.params) {
    if (k == name) { return v; }
  }
  return "<none>";
}

bool allows(const Router::Match& m, Method method) {
  return std::find(m.allowed.begin(), m.allowed.end(), method) != m.allowed.end();
}

class RouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router.add(Method::get, "/", ok);
    router.add(Method::get, "/healthz", ok);
    router.add(Method::get, "/v1/{account}", ok);
    router.add(Method::put, "/v1/{account}/{container}", ok);
    router.add(Method::delete_, "/v1/{account}/{container}", ok);
    router.add(Method::get, "/v1/{account}/{container}/{object+}", ok);
    router.add(Method::head, "/v1/{account}/{container}/{object+}", ok);
    router.add(Method::get, "/files/{path*}", ok);
    router.add(Method::post, "/exact/only", ok);
  }
  Router router;
};

TEST_F(RouterTest, LiteralRoutes) {
  EXPECT_EQ(router.match(Method::get, "/healthz").kind, Router::Match::found);
  EXPECT_EQ(router.match(Method::get, "/").kind, Router::Match::found);
  EXPECT_EQ(router.match(Method::get, "/healthzz").kind, Router::Match::not_found);
  EXPECT_EQ(router.match(Method::get, "/healthz/more").kind, Router::Match::not_found);
  EXPECT_EQ(router.match(Method::post, "/exact/only").kind, Router::Match::found);
  EXPECT_EQ(router.match(Method::post, "/exact").kind, Router::Match::not_found);
}

TEST_F(RouterTest, SegmentParams) {
  auto m = router.match(Method::put, "/v1/AUTH_x/photos");
  ASSERT_EQ(m.kind, Router::Match::found);
  EXPECT_EQ(m.route->pattern, "/v1/{account}/{container}");
  EXPECT_EQ(param(m, "account"), "AUTH_x");
  EXPECT_EQ(param(m, "container"), "photos");
  // A one-segment parameter never matches an empty segment.
  EXPECT_EQ(router.match(Method::put, "/v1//photos").kind, Router::Match::not_found);
}

TEST_F(RouterTest, PlusParamTakesTheNonEmptyRest) {
  auto m = router.match(Method::get, "/v1/a/c/dir/sub//file.txt");
  ASSERT_EQ(m.kind, Router::Match::found);
  EXPECT_EQ(param(m, "object"), "dir/sub//file.txt");
  EXPECT_EQ(param(m, "container"), "c");
  // {object+} needs at least one character.
  auto empty = router.match(Method::get, "/v1/a/c/");
  EXPECT_NE(empty.kind, Router::Match::found);
}

TEST_F(RouterTest, StarParamMayBeEmpty) {
  auto m = router.match(Method::get, "/files/a/b");
  ASSERT_EQ(m.kind, Router::Match::found);
  EXPECT_EQ(param(m, "path"), "a/b");
  auto root = router.match(Method::get, "/files/");
  ASSERT_EQ(root.kind, Router::Match::found);
  EXPECT_EQ(param(root, "path"), "");
  auto bare = router.match(Method::get, "/files");
  ASSERT_EQ(bare.kind, Router::Match::found);
  EXPECT_EQ(param(bare, "path"), "");
}

TEST_F(RouterTest, WrongMethodListsAllowedMethods) {
  auto m = router.match(Method::get, "/v1/a/c");
  ASSERT_EQ(m.kind, Router::Match::method_not_allowed);
  EXPECT_TRUE(allows(m, Method::put));
  EXPECT_TRUE(allows(m, Method::delete_));
  EXPECT_FALSE(allows(m, Method::get));
  EXPECT_FALSE(allows(m, Method::head));

  auto h = router.match(Method::post, "/healthz");
  ASSERT_EQ(h.kind, Router::Match::method_not_allowed);
  EXPECT_TRUE(allows(h, Method::get));
  EXPECT_TRUE(allows(h, Method::head)) << "GET implies HEAD in Allow";
  EXPECT_EQ(h.allowed.size(), 2u);
}

TEST_F(RouterTest, HeadFallsBackToGet) {
  auto m = router.match(Method::head, "/healthz");
  ASSERT_EQ(m.kind, Router::Match::found);
  EXPECT_EQ(m.route->method, Method::get);
  auto p = router.match(Method::head, "/v1/acct");
  ASSERT_EQ(p.kind, Router::Match::found);
  EXPECT_EQ(param(p, "account"), "acct");
  // An explicit HEAD route wins over the GET fallback.
  auto o = router.match(Method::head, "/v1/a/c/o");
  ASSERT_EQ(o.kind, Router::Match::found);
  EXPECT_EQ(o.route->method, Method::head);
  // No GET route: HEAD is not allowed either.
  EXPECT_EQ(router.match(Method::head, "/exact/only").kind, Router::Match::method_not_allowed);
}

TEST_F(RouterTest, TrailingSlashFallsBackToTheBarePath) {
  auto m = router.match(Method::get, "/healthz/");
  EXPECT_EQ(m.kind, Router::Match::found);
  auto p = router.match(Method::put, "/v1/a/c/");
  ASSERT_EQ(p.kind, Router::Match::found);
  EXPECT_EQ(param(p, "container"), "c");
  // Wrong method on the slashed path still reports 405 with the bare path's methods.
  auto w = router.match(Method::post, "/healthz/");
  ASSERT_EQ(w.kind, Router::Match::method_not_allowed);
  EXPECT_TRUE(allows(w, Method::get));
}

TEST_F(RouterTest, GroupsPickTheLongestPrefix) {
  Router r;
  r.add_group("/", "system", json_error);
  r.add_group("/v1", "swift", [](Status s, std::string_view msg, const Request&) {
    return Response(s, std::string(msg), "text/plain");
  });
  EXPECT_EQ(r.group_for("/v1/a/c"), "swift");
  EXPECT_EQ(r.group_for("/v1"), "swift");
  EXPECT_EQ(r.group_for("/v10/x"), "system") << "a prefix matches whole segments only";
  EXPECT_EQ(r.group_for("/healthz"), "system");
  Request req;
  req.path = "/v1/a";
  req.request_id = "req-1";
  auto res = r.render_error(Status::not_found, "gone fishing", req);
  EXPECT_EQ(res.headers().value_or("Content-Type", ""), "text/plain");
  ASSERT_NE(res.string_body(), nullptr);
  EXPECT_EQ(*res.string_body(), "gone fishing");
  Router empty;
  EXPECT_EQ(empty.group_for("/x"), "other");
}

TEST(JsonError, CarriesStatusMessageAndRequestId) {
  Request req;
  req.request_id = "req-abc";
  auto res = json_error(Status::payload_too_large, "body \"too\" big\n", req);
  EXPECT_EQ(res.status(), Status::payload_too_large);
  EXPECT_EQ(res.headers().value_or("Content-Type", ""), "application/json");
  ASSERT_NE(res.string_body(), nullptr);
  EXPECT_EQ(*res.string_body(),
            "{\"error\": {\"code\": 413, \"title\": \"Payload Too Large\", \"message\": \"body \\\"too\\\" big\\n\", "
            "\"request_id\": \"req-abc\"}}");
}

TEST(JsonEscape, EscapesControlCharacters) {
  EXPECT_EQ(json_escape(std::string("a\x01z", 3)), "a\\u0001z");
  EXPECT_EQ(json_escape("tab\there"), "tab\\there");
  EXPECT_EQ(json_escape("back\\slash"), "back\\\\slash");
}

TEST(Methods, NamesRoundTrip) {
  for (Method m : {Method::get, Method::head, Method::post, Method::put, Method::delete_, Method::options, Method::patch,
                   Method::propfind, Method::proppatch, Method::mkcol, Method::copy, Method::move, Method::lock, Method::unlock,
                   Method::report}) {
    EXPECT_EQ(parse_method(method_name(m)), m) << method_name(m);
  }
  EXPECT_EQ(parse_method("get"), Method::other) << "methods are case-sensitive";
  EXPECT_EQ(parse_method("BREW"), Method::other);
}

TEST(Headers, CaseInsensitiveSetAddRemove) {
  Headers h;
  h.add("Set-Cookie", "a=1");
  h.add("set-cookie", "b=2");
  EXPECT_EQ(h.items().size(), 2u);
  EXPECT_EQ(h.value_or("SET-COOKIE", ""), "a=1");
  h.set("Set-Cookie", "c=3");
  EXPECT_EQ(h.items().size(), 1u);
  EXPECT_EQ(h.value_or("set-cookie", ""), "c=3");
  h.remove("SET-cookie");
  EXPECT_FALSE(h.has("Set-Cookie"));
  EXPECT_EQ(h.value_or("X", "fallback"), "fallback");
}

}  // namespace
}  // namespace ciel::http
