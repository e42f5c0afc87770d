// core/http/router.h: maps (method, decoded path) to a handler. Patterns are literal segments,
// "{name}" (one segment) and, last, "{name+}" (the rest, non-empty) or "{name*}" (the rest,
// possibly empty). Each route group (a path prefix) names the error renderer that speaks its
// API's dialect, so a 404 under /v3 is Keystone JSON and under /v1 is Swift text.
// Built once at startup, then read-only and shared by every I/O thread.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/http/request.h"
#include "core/http/response.h"

namespace ciel::http {

using Handler = std::function<boost::asio::awaitable<Response>(RequestContext&)>;
using ErrorRenderer = std::function<Response(Status status, std::string_view message, const Request& request)>;

inline constexpr std::uint64_t kDefaultMaxBody = 1024 * 1024;
inline constexpr std::uint64_t kUnlimitedBody = UINT64_MAX;

struct RouteOptions {
  std::uint64_t max_body_bytes = kDefaultMaxBody;  // 413 beyond this, checked before the body is read
};

struct Route {
  Method method;
  std::string pattern;
  std::vector<std::string> segments;
  Handler handler;
  RouteOptions options;
};

class Router {
 public:
  void add(Method method, std::string_view pattern, Handler handler, RouteOptions options = {});
  // Paths under `prefix` ("/v3", "/v1", "/" for the default) render errors with `renderer`, and
  // are counted under `group` in metrics. The longest prefix wins.
  void add_group(std::string prefix, std::string group, ErrorRenderer renderer);

  struct Match {
    enum Kind { found, not_found, method_not_allowed } kind = not_found;
    const Route* route = nullptr;
    std::vector<std::pair<std::string, std::string>> params;
    std::vector<Method> allowed;  // for 405
  };
  // HEAD falls back to the GET route when no HEAD route exists; the connection drops the body.
  Match match(Method method, std::string_view path) const;

  Response render_error(Status status, std::string_view message, const Request& request) const;

  // A step every request of this router goes through before it is matched (the console's session
  // cookie becomes an X-Auth-Token there). Set at startup, before serving.
  void set_request_filter(std::function<void(Request&)> filter) { filter_ = std::move(filter); }
  void prepare(Request& request) const {
    if (filter_) { filter_(request); }
  }
  const std::string& group_for(std::string_view path) const;

 private:
  struct Group {
    std::string prefix;
    std::string name;
    ErrorRenderer renderer;
  };
  const Group* find_group(std::string_view path) const;
  std::vector<Route> routes_;
  std::vector<Group> groups_;
  std::function<void(Request&)> filter_;
};

// The default renderer: {"error": {"code", "title", "message", "request_id"}}.
Response json_error(Status status, std::string_view message, const Request& request);
std::string json_escape(std::string_view text);

}  // namespace ciel::http
