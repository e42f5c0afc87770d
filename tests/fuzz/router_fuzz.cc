// Fuzzes route matching (core/http/router.h) over a route table shaped like Ciel's APIs. The first
// byte picks the method, the rest is the decoded path. A match must be consistent: a found route
// has every parameter its pattern names, one-segment parameters hold no '/', "+" ones are not
// empty; a 405 lists at least one method; HEAD only ever falls back to GET.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/http/router.h"
#include "fuzz_check.h"

namespace {

using ciel::http::Method;

const ciel::http::Router& router() {
  static const ciel::http::Router r = [] {
    ciel::http::Router r;
    r.add_group("/", "system", ciel::http::json_error);
    r.add_group("/v1", "swift", ciel::http::json_error);
    r.add(Method::get, "/", nullptr);
    r.add(Method::get, "/healthz", nullptr);
    r.add(Method::get, "/assets/{path+}", nullptr);
    r.add(Method::get, "/v1/{account}", nullptr);
    r.add(Method::head, "/v1/{account}", nullptr);
    r.add(Method::put, "/v1/{account}/{container}", nullptr);
    r.add(Method::delete_, "/v1/{account}/{container}", nullptr);
    r.add(Method::get, "/v1/{account}/{container}/{object+}", nullptr);
    r.add(Method::put, "/v1/{account}/{container}/{object+}", nullptr);
    r.add(Method::propfind, "/dav/files/{user}/{path*}", nullptr);
    r.add(Method::post, "/v3/auth/tokens", nullptr);
    return r;
  }();
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) { return 0; }
  static constexpr Method methods[] = {Method::get, Method::head, Method::post, Method::put, Method::delete_, Method::propfind,
                                       Method::options, Method::other};
  Method method = methods[data[0] % (sizeof methods / sizeof methods[0])];
  std::string_view path(reinterpret_cast<const char*>(data + 1), size - 1);

  auto m = router().match(method, path);
  switch (m.kind) {
    case ciel::http::Router::Match::found: {
      FUZZ_CHECK(m.route != nullptr);
      FUZZ_CHECK(m.route->method == method || (method == Method::head && m.route->method == Method::get));
      std::size_t named = 0;
      for (const auto& seg : m.route->segments) {
        if (seg.size() < 2 || seg.front() != '{') { continue; }
        ++named;
        bool rest = seg.ends_with("+}") || seg.ends_with("*}");
        std::string name = seg.substr(1, seg.size() - (rest ? 3 : 2));
        bool seen = false;
        for (const auto& [k, v] : m.params) {
          if (k != name) { continue; }
          seen = true;
          if (!rest) { FUZZ_CHECK(!v.empty() && v.find('/') == std::string::npos); }
          if (seg.ends_with("+}")) { FUZZ_CHECK(!v.empty()); }
        }
        FUZZ_CHECK(seen);
      }
      FUZZ_CHECK(m.params.size() == named);
      break;
    }
    case ciel::http::Router::Match::method_not_allowed:
      FUZZ_CHECK(!m.allowed.empty());
      break;
    case ciel::http::Router::Match::not_found:
      FUZZ_CHECK(m.route == nullptr);
      break;
  }
  (void)router().group_for(path);
  return 0;
}
