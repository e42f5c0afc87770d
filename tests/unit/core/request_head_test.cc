#include "core/http/request_head.h"

#include <gtest/gtest.h>

namespace ciel::http {
namespace {

TEST(RequestHead, FillsTheRequest) {
  RequestHead head;
  head.method = "PUT";
  head.target = "/v1/AUTH_a/c/obj%20name?multipart-manifest=put&x=a+b";
  head.fields = {{"Host", "cloud.example:8080"}, {"X-Object-Meta-A", "1"}, {"x-object-meta-a", "2"}};
  head.content_length = 42;
  Request req;
  ASSERT_TRUE(apply_request_head(head, req));
  EXPECT_EQ(req.method, Method::put);
  EXPECT_EQ(req.method_text, "PUT");
  EXPECT_EQ(req.path, "/v1/AUTH_a/c/obj name");
  EXPECT_EQ(req.raw_path, "/v1/AUTH_a/c/obj%20name");
  EXPECT_EQ(req.query, "multipart-manifest=put&x=a+b");
  EXPECT_EQ(req.query_param("x"), "a b");
  EXPECT_TRUE(req.has_query_param("multipart-manifest"));
  EXPECT_EQ(req.host, "cloud.example");
  EXPECT_EQ(req.headers.items().size(), 3u);
  EXPECT_EQ(req.header("x-object-meta-a"), "1");
  EXPECT_EQ(req.content_length, 42u);
  EXPECT_TRUE(req.has_body());
  EXPECT_FALSE(req.chunked);
}

TEST(RequestHead, UnknownMethodIsOther) {
  RequestHead head{11, "BREW", "/", {{"Host", "x"}}, false, std::nullopt};
  Request req;
  ASSERT_TRUE(apply_request_head(head, req));
  EXPECT_EQ(req.method, Method::other);
  EXPECT_EQ(req.method_text, "BREW");
  EXPECT_FALSE(req.has_body());
}

TEST(RequestHead, BadTargetsMapTo400Or414) {
  Request req;
  RequestHead dots{11, "GET", "/assets/%2e%2e/secret", {{"Host", "x"}}, false, std::nullopt};
  auto st = apply_request_head(dots, req);
  ASSERT_FALSE(st);
  EXPECT_EQ(status_for_head_error(st.error()), Status::bad_request);
  EXPECT_EQ(req.path, "/") << "a refused path never reaches a handler";
  EXPECT_EQ(req.method, Method::get);

  std::string long_target = "/" + std::string(kMaxPathBytes + 10, 'a');
  Request req2;
  RequestHead overlong{11, "GET", long_target, {{"Host", "x"}}, false, std::nullopt};
  auto st2 = apply_request_head(overlong, req2);
  ASSERT_FALSE(st2);
  EXPECT_EQ(status_for_head_error(st2.error()), Status::uri_too_long);
  EXPECT_LE(req2.raw_path.size(), 256u) << "what gets logged is bounded";

  Request req3;
  RequestHead nul{11, "GET", "/a%00b", {{"Host", "x"}}, false, std::nullopt};
  ASSERT_FALSE(apply_request_head(nul, req3));
  Request req4;
  RequestHead star{11, "OPTIONS", "*", {{"Host", "x"}}, false, std::nullopt};
  ASSERT_FALSE(apply_request_head(star, req4));
}

TEST(RequestHead, HostWithoutPort) {
  EXPECT_EQ(host_without_port("example.com:8080"), "example.com");
  EXPECT_EQ(host_without_port("example.com"), "example.com");
  EXPECT_EQ(host_without_port("[::1]:8080"), "[::1]");
  EXPECT_EQ(host_without_port("[::1]"), "[::1]");
  EXPECT_EQ(host_without_port(""), "");
}

}  // namespace
}  // namespace ciel::http

namespace ciel::http {
namespace {

TEST(RequestHead, OnlyPlainChunkedTransferCodingIsAccepted) {
  RequestHead chunked{11, "PUT", "/x", {{"Host", "x"}, {"Transfer-Encoding", " Chunked "}}, true, std::nullopt};
  Request ok;
  EXPECT_TRUE(apply_request_head(chunked, ok));
  EXPECT_TRUE(ok.chunked);
  for (std::string_view te : {"gzip", "gzip, chunked", "chunked, identity", "identity"}) {
    bool last_is_chunked = te.ends_with("chunked");
    RequestHead head{11, "PUT", "/x", {{"Host", "x"}, {"Transfer-Encoding", te}}, last_is_chunked, std::nullopt};
    Request req;
    auto st = apply_request_head(head, req);
    ASSERT_FALSE(st) << te;
    EXPECT_EQ(status_for_head_error(st.error()), Status::bad_request);
    EXPECT_EQ(req.path, "/");
  }
}

}  // namespace
}  // namespace ciel::http

namespace ciel::http {
namespace {

TEST(RequestHead, HostRules) {
  auto check = [](unsigned version, std::vector<std::pair<std::string_view, std::string_view>> fields) {
    RequestHead head{version, "GET", "/", std::move(fields), false, std::nullopt};
    Request req;
    return apply_request_head(head, req).has_value();
  };
  EXPECT_TRUE(check(11, {{"Host", "example.com:8080"}}));
  EXPECT_TRUE(check(11, {{"host", "[::1]:8080"}}));
  EXPECT_TRUE(check(11, {{"Host", ""}})) << "an empty Host is allowed";
  EXPECT_TRUE(check(10, {})) << "HTTP/1.0 needs no Host";
  EXPECT_FALSE(check(11, {})) << "HTTP/1.1 without Host";
  EXPECT_FALSE(check(11, {{"Host", "a"}, {"Host", "b"}}));
  EXPECT_FALSE(check(10, {{"Host", "a"}, {"HOST", "a"}}));
  EXPECT_FALSE(check(11, {{"Host", "a b"}}));
  EXPECT_FALSE(check(11, {{"Host", "evil.com/path"}}));
  EXPECT_FALSE(check(11, {{"Host", "user@evil.com"}}));
}

}  // namespace
}  // namespace ciel::http

namespace ciel::http {
namespace {

TEST(CookieValue, FindsTheNamedCookieOnly) {
  EXPECT_EQ(cookie_value("ciel_session=abc", "ciel_session"), "abc");
  EXPECT_EQ(cookie_value("lang=fr; ciel_session=abc; x=1", "ciel_session"), "abc");
  EXPECT_EQ(cookie_value("lang=fr;ciel_session=a=b", "ciel_session"), "a=b");
  EXPECT_EQ(cookie_value("xciel_session=abc; ciel_sessionx=def", "ciel_session"), "");
  EXPECT_EQ(cookie_value("ciel_session=", "ciel_session"), "");
  EXPECT_EQ(cookie_value("", "ciel_session"), "");
  EXPECT_EQ(cookie_value(";;; ;", "ciel_session"), "");
  EXPECT_EQ(cookie_value("a=1", ""), "");
}

}  // namespace
}  // namespace ciel::http
