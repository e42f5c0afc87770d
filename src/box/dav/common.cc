#include "box/dav/common.h"

#include <algorithm>
#include <charconv>
#include <cstdio>

#include "core/crypto/crypto.h"
#include "core/http/target.h"
#include "core/log/log.h"

namespace ciel::box::dav {

std::optional<AuthCache::Entry> AuthCache::find(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) { return std::nullopt; }
  if (it->second.expires < std::chrono::steady_clock::now()) {
    entries_.erase(it);
    return std::nullopt;
  }
  return it->second;
}

void AuthCache::put(const std::string& key, Entry e) {
  std::lock_guard lock(mu_);
  if (entries_.size() >= 10000) { entries_.clear(); }  // bounded; a miss only costs one check
  entries_[key] = std::move(e);
}

void AuthCache::clear() {
  std::lock_guard lock(mu_);
  entries_.clear();
}

boost::asio::awaitable<Result<User>> authenticate(const http::Request& req, const Deps& deps) {
  if (auto token = req.headers.get("X-Auth-Token"); token && !token->empty()) {
    auto p = deps.identity.authenticate_token(*token);
    if (!p) { co_return p.error(); }
    co_return User{p->user_id, p->user_name};
  }
  std::string_view auth = req.header("Authorization");
  if (auth.size() < 6 || !http::iequals(auth.substr(0, 6), "Basic ")) {
    co_return make_error(Errc::unauthenticated, "No credentials were sent");
  }
  auto decoded = crypto::unbase64(auth.substr(6));
  if (!decoded) { co_return make_error(Errc::unauthenticated, "Malformed Basic credentials"); }
  auto colon = decoded->find(':');
  if (colon == std::string::npos || colon == 0) { co_return make_error(Errc::unauthenticated, "Malformed Basic credentials"); }
  std::string login = decoded->substr(0, colon);
  std::string password = decoded->substr(colon + 1);
  std::string key = crypto::sha256(login + '\0' + password);
  if (auto hit = deps.auth_cache->find(key)) { co_return User{hit->user_id, hit->user_name}; }
  std::optional<User> user;
  if (password.size() == 64) {  // the length of an app password
    if (auto app = co_await deps.box.check_app_password(password); app && deps.identity.user_name(app->user_id) == login) {
      user = User{app->user_id, login};
    }
  }
  if (!user) {
    identity::AuthRequest a;
    a.methods = {"password"};
    a.user_name = login;
    a.user_domain_id = std::string(identity::kDefaultDomainId);
    a.password = password;
    a.unscoped = true;
    auto issued = co_await deps.identity.authenticate(std::move(a), req.remote_address, req.request_id);
    if (!issued) { co_return make_error(Errc::unauthenticated, "Invalid user name or password"); }
    user = User{issued->principal.user_id, issued->principal.user_name};
  }
  auto refresh = std::chrono::duration_cast<std::chrono::seconds>(deps.identity.config().refresh_interval);
  auto ttl = refresh.count() > 0 ? std::min(refresh, std::chrono::seconds(60)) : std::chrono::seconds(60);
  deps.auth_cache->put(key, AuthCache::Entry{user->id, user->name, std::chrono::steady_clock::now() + ttl});
  co_return *user;
}

std::string href(const Root& root, std::string_view path, bool folder) {
  std::string out = root.href + http::percent_encode(path, "/");
  if (folder && !path.empty()) { out += '/'; }
  return out;
}

Result<TransferOptions> transfer_options(const http::Request& req, bool move) {
  TransferOptions out;
  std::string_view ow = req.header("Overwrite");
  if (!ow.empty() && ow != "T" && ow != "F") { return make_error(Errc::invalid_argument, "Overwrite must be T or F"); }
  out.overwrite = ow != "F";
  std::string_view depth = req.header("Depth");
  bool infinity = depth.empty() || depth == "infinity" || depth == "Infinity";
  if (move && !infinity) { return make_error(Errc::invalid_argument, "MOVE applies to a whole folder (Depth: infinity)"); }
  if (!move && !infinity && depth != "0") { return make_error(Errc::invalid_argument, "COPY takes Depth 0 or infinity"); }
  out.recursive = infinity;
  return out;
}

Result<std::string> destination_path(std::string_view header, const Root& root) {
  std::string_view rest = header;
  if (auto scheme = rest.find("://"); scheme != std::string_view::npos) {
    auto slash = rest.find('/', scheme + 3);
    rest = slash == std::string_view::npos ? std::string_view("/") : rest.substr(slash);
  }
  auto target = http::parse_target(rest);
  if (!target) { return make_error(Errc::invalid_argument, "The Destination header is not a valid URL"); }
  auto decoded_root = http::percent_decode(root.href);
  if (!decoded_root) { return decoded_root.error(); }
  std::string path = target->path;
  std::string base = *decoded_root;
  if (path + "/" == base) { return std::string(); }
  if (!path.starts_with(base)) { return make_error(Errc::forbidden, "The Destination is outside this box"); }
  return path.substr(base.size());
}

std::string quoted(std::string_view etag) { return "\"" + std::string(etag) + "\""; }

std::string oc_permissions(const Node& n) {
  std::string s;
  if (n.share_id != 0) { s += 'S'; }
  if (n.permissions & kPermShare) { s += 'R'; }
  if (n.mount) { s += 'M'; }
  s += 'G';
  if (n.mount || (n.permissions & kPermDelete)) { s += 'D'; }
  if (n.mount || (n.permissions & kPermUpdate)) { s += "NV"; }
  if (!n.folder && (n.permissions & kPermUpdate)) { s += 'W'; }
  if (n.folder && (n.permissions & kPermCreate)) { s += "CK"; }
  return s;
}

std::string oc_id(std::int64_t id, const BoxConfig& c) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%08lld", static_cast<long long>(id));
  return buf + c.instance_id;
}

Result<IfHeader> read_if(const http::Request& req) {
  IfHeader out;
  auto h = req.headers.get("If");
  if (!h) { return out; }
  auto lists = parse_if(*h);
  if (!lists) { return lists.error(); }
  out.lists = std::move(*lists);
  for (const auto& l : out.lists) {
    for (const auto& c : l.conditions) {
      if (c.is_token) { out.tokens.insert(c.value); }
    }
  }
  return out;
}

boost::asio::awaitable<Result<bool>> if_holds(const Deps& deps, const User& user, const Root& root, const IfHeader& h,
                                              const std::string& request_path) {
  if (!h.present()) { co_return true; }
  for (const auto& list : h.lists) {
    std::string path = request_path;
    if (!list.resource.empty()) {
      auto p = destination_path(list.resource, root);
      if (!p) { continue; }
      auto n = normalize_path(*p);
      if (!n) { continue; }
      path = *n;
    }
    auto node = co_await deps.box.stat(user.id, path);
    auto locks = co_await deps.box.locks(user.id, path, false);
    if (!locks) { co_return locks.error(); }
    bool all = true;
    for (const auto& c : list.conditions) {
      bool ok = false;
      if (c.is_token) {
        for (const auto& l : *locks) {
          if (l.token == c.value) { ok = true; }
        }
      } else {
        std::string_view tag = c.value;
        if (tag.starts_with("W/")) { tag.remove_prefix(2); }
        ok = node && tag == quoted(node->etag);
      }
      if (c.negate) { ok = !ok; }
      if (!ok) {
        all = false;
        break;
      }
    }
    if (all) { co_return true; }
  }
  co_return false;
}

boost::asio::awaitable<std::optional<http::Response>> check_locks(const Deps& deps, const User& user, const Root& root,
                                                                  const IfHeader& h, const std::string& path, bool beneath,
                                                                  bool membership, const http::Request& req) {
  // The locks on the path (through a share: the owner's, as the caller's paths), and with
  // `membership` those on its folder, filtered here.
  std::string parent;
  if (auto slash = path.rfind('/'); slash != std::string::npos) { parent = path.substr(0, slash); }
  auto locks = co_await deps.box.locks(user.id, path, true);
  if (!locks) { co_return error_response(locks.error(), req); }
  if (membership && !path.empty()) {
    auto more = co_await deps.box.locks(user.id, parent, false);
    if (!more) { co_return error_response(more.error(), req); }
    locks->insert(locks->end(), more->begin(), more->end());
  }
  auto within = [](std::string_view outer, std::string_view inner) {
    return outer.empty() || outer == inner || (inner.size() > outer.size() && inner.starts_with(outer) && inner[outer.size()] == '/');
  };
  for (const auto& l : *locks) {
    bool applies = l.path == path || (l.infinite && within(l.path, path)) || (beneath && within(path, l.path)) ||
                   (membership && !path.empty() && l.path == parent);
    if (applies && !h.tokens.contains(l.token)) { co_return locked_response(href(root, l.path, true), req); }
  }
  co_return std::nullopt;
}

boost::asio::awaitable<std::optional<http::Response>> check_write(const Deps& deps, const User& user, const Root& root,
                                                                  const std::string& path, bool beneath, bool membership,
                                                                  const http::Request& req) {
  auto h = read_if(req);
  if (!h) { co_return error_response(h.error(), req); }
  auto holds = co_await if_holds(deps, user, root, *h, path);
  if (!holds) { co_return error_response(holds.error(), req); }
  if (!*holds) { co_return status_response(http::Status::precondition_failed, "The If header's conditions do not hold", req); }
  co_return co_await check_locks(deps, user, root, *h, path, beneath, membership, req);
}

std::optional<std::int64_t> parse_i64(std::string_view s) {
  std::int64_t v = 0;
  while (!s.empty() && s.front() == ' ') { s.remove_prefix(1); }
  while (!s.empty() && s.back() == ' ') { s.remove_suffix(1); }
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size()) { return std::nullopt; }
  return v;
}

std::string unquote(std::string_view s) {
  if (s.starts_with("W/")) { s.remove_prefix(2); }
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') { return std::string(s.substr(1, s.size() - 2)); }
  return std::string(s);
}

// Headers every answer about a file or folder carries.
void node_headers(http::Response& res, const Node& n, const Deps& deps) {
  res.set_header("ETag", quoted(n.etag));
  res.set_header("OC-ETag", quoted(n.etag));
  res.set_header("OC-FileId", oc_id(n.id, deps.box.config()));
}

// PutOptions from a request's Nextcloud and HTTP headers.
Result<PutOptions> put_options(const http::Request& req) {
  PutOptions o;
  if (auto m = req.headers.get("X-OC-Mtime")) {
    auto v = parse_i64(*m);
    if (!v || *v < 0) { return make_error(Errc::invalid_argument, "X-OC-Mtime must be a number of seconds"); }
    o.mtime = *v;
  }
  if (auto c = req.headers.get("OC-Checksum"); c && !c->empty()) { o.checksum = parse_checksum(*c); }
  if (auto im = req.headers.get("If-Match")) { o.if_match = *im == "*" ? std::string("*") : unquote(*im); }
  if (auto inm = req.headers.get("If-None-Match"); inm && *inm == "*") { o.if_none_match_any = true; }
  o.content_type = std::string(req.header("Content-Type"));
  return o;
}

http::Response written(const WriteResult& w, const Deps& deps, bool mtime_sent) {
  http::Response res(w.created ? http::Status::created : http::Status::no_content);
  node_headers(res, w.node, deps);
  if (mtime_sent) { res.set_header("X-OC-MTime", "accepted"); }
  return res;
}

boost::asio::awaitable<void> count_link_download(const Deps& deps, const Link& link, std::int64_t node_id) {
  if (auto st = co_await deps.box.count_download(link.id, node_id); !st) {
    log::warn("box: link {}: could not count a download: {} {}", link.id, st.error().message, st.error().detail);
  }
}

}  // namespace ciel::box::dav
