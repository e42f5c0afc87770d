#include "core/http/router.h"

#include <algorithm>

namespace ciel::http {
namespace {

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  if (!path.empty() && path.front() == '/') { path.remove_prefix(1); }
  std::size_t start = 0;
  for (;;) {
    std::size_t end = path.find('/', start);
    out.push_back(path.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) { break; }
    start = end + 1;
  }
  return out;
}

// Matches one route; `rest` is the path after the leading '/'.
bool match_route(const Route& route, std::string_view path, std::vector<std::pair<std::string, std::string>>& params) {
  params.clear();
  if (!path.empty() && path.front() == '/') { path.remove_prefix(1); }
  std::size_t pos = 0;
  for (std::size_t i = 0; i < route.segments.size(); ++i) {
    const std::string& seg = route.segments[i];
    bool is_param = seg.size() >= 2 && seg.front() == '{' && seg.back() == '}';
    if (is_param && (seg.ends_with("+}") || seg.ends_with("*}"))) {
      std::string_view rest = pos <= path.size() ? path.substr(pos) : std::string_view{};
      if (seg.ends_with("+}") && rest.empty()) { return false; }
      params.emplace_back(seg.substr(1, seg.size() - 3), std::string(rest));
      return true;
    }
    if (pos > path.size()) { return false; }
    std::size_t end = path.find('/', pos);
    std::string_view part = path.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
    if (is_param) {
      if (part.empty()) { return false; }
      params.emplace_back(seg.substr(1, seg.size() - 2), std::string(part));
    } else if (part != seg) {
      return false;
    }
    pos = end == std::string_view::npos ? path.size() + 1 : end + 1;
  }
  return pos == path.size() + 1;
}

}  // namespace

std::string json_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 8);
  for (char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out.push_back(c);
        }
    }
  }
  return out;
}

Response json_error(Status status, std::string_view message, const Request& request) {
  std::string body = "{\"error\": {\"code\": " + std::to_string(code(status)) + ", \"title\": \"" +
                     std::string(reason_phrase(status)) + "\", \"message\": \"" + json_escape(message) +
                     "\", \"request_id\": \"" + json_escape(request.request_id) + "\"}}";
  return Response(status, std::move(body), "application/json");
}

void Router::add(Method method, std::string_view pattern, Handler handler, RouteOptions options) {
  Route r{method, std::string(pattern), {}, std::move(handler), options};
  for (auto seg : split_path(pattern)) { r.segments.emplace_back(seg); }
  routes_.push_back(std::move(r));
}

void Router::add_group(std::string prefix, std::string group, ErrorRenderer renderer) {
  groups_.push_back(Group{std::move(prefix), std::move(group), std::move(renderer)});
  std::sort(groups_.begin(), groups_.end(), [](const Group& a, const Group& b) { return a.prefix.size() > b.prefix.size(); });
}

const Router::Group* Router::find_group(std::string_view path) const {
  for (const auto& g : groups_) {
    if (path.starts_with(g.prefix) &&
        (path.size() == g.prefix.size() || g.prefix.ends_with('/') || path[g.prefix.size()] == '/')) {
      return &g;
    }
  }
  return nullptr;
}

const std::string& Router::group_for(std::string_view path) const {
  static const std::string kOther = "other";
  const Group* g = find_group(path);
  return g != nullptr ? g->name : kOther;
}

Response Router::render_error(Status status, std::string_view message, const Request& request) const {
  // A target that failed to parse leaves path "/"; its raw form still says which API it was for.
  const bool unparsed = request.path == "/" && request.raw_path.size() > 1;
  const Group* g = find_group(unparsed ? std::string_view(request.raw_path).substr(0, request.raw_path.find('?')) : std::string_view(request.path));
  if (g != nullptr && g->renderer) { return g->renderer(status, message, request); }
  return json_error(status, message, request);
}

Router::Match Router::match(Method method, std::string_view path) const {
  Match m;
  std::vector<std::pair<std::string, std::string>> params;
  const Route* get_route = nullptr;
  std::vector<std::pair<std::string, std::string>> get_params;
  auto try_path = [&](std::string_view p) {
    for (const auto& r : routes_) {
      if (!match_route(r, p, params)) { continue; }
      if (r.method == method) {
        m.kind = Match::found;
        m.route = &r;
        m.params = params;
        return true;
      }
      if (method == Method::head && r.method == Method::get && get_route == nullptr) {
        get_route = &r;
        get_params = params;
      }
      if (std::find(m.allowed.begin(), m.allowed.end(), r.method) == m.allowed.end()) { m.allowed.push_back(r.method); }
    }
    return false;
  };
  if (try_path(path)) { return m; }
  if (get_route == nullptr && m.allowed.empty() && path.size() > 1 && path.ends_with('/')) {
    if (try_path(path.substr(0, path.size() - 1))) { return m; }
  }
  if (get_route != nullptr) {
    m.kind = Match::found;
    m.route = get_route;
    m.params = std::move(get_params);
    return m;
  }
  if (!m.allowed.empty()) {
    if (std::find(m.allowed.begin(), m.allowed.end(), Method::get) != m.allowed.end() &&
        std::find(m.allowed.begin(), m.allowed.end(), Method::head) == m.allowed.end()) {
      m.allowed.push_back(Method::head);
    }
    m.kind = Match::method_not_allowed;
  }
  return m;
}

}  // namespace ciel::http
