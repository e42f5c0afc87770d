// Public links over WebDAV, where Nextcloud 25+ serves them: /public.php/dav/files/<token>/<path>.
// Anonymous, or HTTP Basic with any user name and the link's password when it has one (or the
// cookie the link page sets after the right password, for its upload form). What a request may do
// follows the link's access:
//   read         OPTIONS, PROPFIND (Depth 0 and 1), GET, HEAD (ranges; a folder with Accept:
//                application/zip comes as a zip, counted as one download);
//   read-write   also PUT, MKCOL, DELETE, MOVE and COPY inside the link;
//   upload-only  PUT of new files at the top of the folder (a taken name becomes "name (2).ext");
//                nothing can be listed or read (403).
// Paths resolve from the linked node (box::Subtree), so nothing outside it is reachable. An
// unknown, revoked or expired token, and a link whose file is in the trash, are one and the same
// 404. The owner's locks hold against link writes (423): a link holder has no lock tokens.
#include <algorithm>

#include "box/dav/common.h"
#include "box/dav/propfind.h"
#include "core/crypto/crypto.h"
#include "core/http/target.h"

namespace ciel::box::dav {

LinkAuth::LinkAuth()
    : backoff_(identity::password::BackoffConfig{.user_threshold = 5,
                                                 .address_threshold = 20,
                                                 .base = std::chrono::milliseconds(1000),
                                                 .max = std::chrono::milliseconds(300'000),
                                                 .forget = std::chrono::seconds(900)},
               system_clock()),
      cookie_key_(crypto::random_bytes(32)) {}

std::chrono::milliseconds LinkAuth::wait(std::string_view token, std::string_view address) {
  return backoff_.wait("link:" + std::string(token), address);
}
void LinkAuth::failure(std::string_view token, std::string_view address) { backoff_.failure("link:" + std::string(token), address); }
void LinkAuth::success(std::string_view token) { backoff_.success("link:" + std::string(token)); }

bool LinkAuth::remembered(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = ok_.find(key);
  if (it == ok_.end()) { return false; }
  if (it->second < std::chrono::steady_clock::now()) {
    ok_.erase(it);
    return false;
  }
  return true;
}

void LinkAuth::remember(const std::string& key) {
  std::lock_guard lock(mu_);
  if (ok_.size() >= 10000) { ok_.clear(); }  // bounded; a miss costs one hash
  ok_[key] = std::chrono::steady_clock::now() + std::chrono::seconds(60);
}

namespace {

using boost::asio::awaitable;

constexpr std::string_view kNoSuchLinkMessage = "No such link";

std::string_view allow_for(LinkAccess access) {
  switch (access) {
    case LinkAccess::read: return "OPTIONS, GET, HEAD, PROPFIND";
    case LinkAccess::read_write: return "OPTIONS, GET, HEAD, PROPFIND, PUT, MKCOL, DELETE, COPY, MOVE";
    case LinkAccess::upload: return "OPTIONS, PUT";
  }
  return "OPTIONS";
}

http::Response challenge(std::string_view message, const http::Request& req) {
  auto res = status_response(http::Status::unauthorized, message, req);
  res.set_header("WWW-Authenticate", "Basic realm=\"Ciel public link\", charset=\"UTF-8\"");
  return res;
}

// nullopt when the request may use the link; otherwise the answer (401 or 429).
awaitable<std::optional<http::Response>> check_password(const Deps& deps, const http::Request& req, const Link& link) {
  if (link.password_hash.empty() || deps.link_auth->has_cookie(link, req)) { co_return std::nullopt; }
  std::string_view auth = req.header("Authorization");
  if (auth.size() < 6 || !http::iequals(auth.substr(0, 6), "Basic ")) { co_return challenge("This link is protected by a password", req); }
  auto decoded = crypto::unbase64(auth.substr(6));
  auto colon = decoded ? decoded->find(':') : std::string::npos;
  if (colon == std::string::npos) { co_return challenge("Malformed Basic credentials", req); }
  std::string password = decoded->substr(colon + 1);
  std::string key = crypto::sha256(link.token + '\0' + link.password_hash + '\0' + password);
  if (deps.link_auth->remembered(key)) { co_return std::nullopt; }
  if (auto wait = deps.link_auth->wait(link.token, req.remote_address); wait.count() > 0) {
    auto res = status_response(http::Status::too_many_requests, "Too many wrong passwords; try again later", req);
    res.set_header("Retry-After", std::to_string((wait.count() + 999) / 1000));
    co_return res;
  }
  if (!co_await deps.box.verify_link_password(link, password)) {
    deps.link_auth->failure(link.token, req.remote_address);
    co_return challenge("Wrong password", req);
  }
  deps.link_auth->success(link.token);
  deps.link_auth->remember(key);
  co_return std::nullopt;
}

bool within(std::string_view outer, std::string_view inner) {
  return outer.empty() || outer == inner || (inner.size() > outer.size() && inner.starts_with(outer) && inner[outer.size()] == '/');
}

class LinkHandler {
 public:
  LinkHandler(http::RequestContext& ctx, const Deps& deps, Link link, std::string path)
      : ctx_(ctx), req_(ctx.request()), deps_(deps), link_(std::move(link)), path_(std::move(path)) {
    tree_ = deps_.box.subtree(link_);
    root_.href = "/public.php/dav/files/" + http::percent_encode(link_.token) + "/";
  }

  awaitable<http::Response> run() {
    const auto m = req_.method;
    if (m == http::Method::options) { co_return options(); }
    const bool reads = m == http::Method::propfind || m == http::Method::get || m == http::Method::head;
    if (link_.access == LinkAccess::read && !reads) { co_return status_response(http::Status::forbidden, "This link is read-only", req_); }
    if (link_.access == LinkAccess::upload && m != http::Method::put) {
      co_return status_response(http::Status::forbidden, "This link only accepts uploads", req_);
    }
    switch (m) {
      case http::Method::propfind: co_return co_await propfind();
      case http::Method::get:
      case http::Method::head: co_return co_await get();
      case http::Method::put: co_return co_await put();
      case http::Method::mkcol: co_return co_await mkcol();
      case http::Method::delete_: co_return co_await remove();
      case http::Method::copy:
      case http::Method::move: co_return co_await copy_move(m == http::Method::move);
      default: {
        auto res = status_response(http::Status::method_not_allowed, "This method is not allowed on a link", req_);
        res.set_header("Allow", allow_for(link_.access));
        co_return res;
      }
    }
  }

 private:
  http::Response options() {
    http::Response res(http::Status::ok);
    res.set_header("DAV", "1");
    res.set_header("Allow", allow_for(link_.access));
    if (link_.access != LinkAccess::upload) { res.set_header("Accept-Ranges", "bytes"); }
    return res;
  }

  awaitable<http::Response> propfind() {
    std::string_view depth = req_.header("Depth");
    if (depth == "infinity" || depth == "Infinity") {
      co_return http::Response(http::Status::forbidden,
                               "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<d:error xmlns:d=\"DAV:\" xmlns:s=\"http://sabredav.org/ns\">"
                               "<d:propfind-finite-depth/><s:message>PROPFIND with Depth: infinity is not allowed; use Depth 0 or 1</s:message></d:error>\n",
                               "application/xml; charset=utf-8");
    }
    if (!depth.empty() && depth != "0" && depth != "1") { co_return status_response(http::Status::bad_request, "Depth must be 0 or 1", req_); }
    auto body = co_await ctx_.read_body(1024 * 1024);
    if (!body) { co_return error_response(body.error(), req_); }
    auto request = parse_propfind(*body);
    if (!request) { co_return error_response(request.error(), req_); }
    std::pair<Node, std::vector<Node>> listing;
    if (depth != "0") {
      auto l = co_await tree_->list(path_);
      if (!l) { co_return error_response(l.error(), req_); }
      listing = std::move(*l);
    } else {
      auto n = co_await tree_->stat(path_);
      if (!n) { co_return error_response(n.error(), req_); }
      listing.first = std::move(*n);
    }
    User owner{link_.owner, deps_.identity.user_name(link_.owner)};
    LinkView view = link_.access == LinkAccess::read_write ? LinkView{"GDNVW", "GDNVCK"} : LinkView{"G", "G"};
    auto xml = co_await render_propfind(deps_, owner, root_, *request, listing.first, listing.second, &view);
    if (!xml) { co_return error_response(xml.error(), req_); }
    co_return http::Response(http::Status::multi_status, std::move(*xml), "application/xml; charset=utf-8");
  }

  awaitable<http::Response> get() {
    auto node = co_await tree_->stat(path_);
    if (!node) { co_return error_response(node.error(), req_); }
    http::Response res;
    if (node->folder && wants_zip(req_)) {
      res = co_await serve_zip(deps_, req_, [this](std::string p) { return tree_->list(std::move(p)); }, path_);
    } else if (node->folder) {
      co_return co_await folder_page();
    } else {
      res = co_await serve_file(deps_, req_, *node);
    }
    if (req_.method == http::Method::get && res.status() == http::Status::ok) { co_await count_link_download(deps_, link_, node->id); }
    co_return res;
  }

  // A browser pointed at a folder of the link: a plain list (no script), each entry a link.
  awaitable<http::Response> folder_page() {
    auto l = co_await tree_->list(path_);
    if (!l) { co_return error_response(l.error(), req_); }
    std::string title = l->first.name.empty() ? std::string("Shared folder") : l->first.name;
    std::string html = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" + escape(title) + "</title></head><body><h1>" +
                       escape(title) + "</h1><ul>";
    for (const auto& c : l->second) {
      html += "<li><a href=\"" + escape(href(root_, c.path, c.folder)) + "\">" + escape(c.name) + (c.folder ? "/" : "") + "</a></li>";
    }
    html += "</ul></body></html>\n";
    http::Response res(http::Status::ok, std::move(html), "text/html; charset=utf-8");
    res.set_header("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_header("Referrer-Policy", "no-referrer");
    co_return res;
  }

  // 423 when one of the owner's locks covers `path` (or, with `beneath`, lies inside it, or is a
  // depth-0 lock on its folder): a link's holder cannot submit lock tokens.
  awaitable<std::optional<http::Response>> owner_locked(const std::string& path, bool beneath) {
    auto locks = co_await deps_.box.locks(link_.owner, "", true);
    if (!locks) { co_return error_response(locks.error(), req_); }
    if (locks->empty()) { co_return std::nullopt; }
    const std::string& base = link_.node.path;
    std::string full = path.empty() ? base : base.empty() ? path : base + "/" + path;
    std::string parent = full.rfind('/') == std::string::npos ? std::string() : full.substr(0, full.rfind('/'));
    for (const auto& l : *locks) {
      bool applies = l.path == full || (l.infinite && within(l.path, full)) || (beneath && within(full, l.path)) || (!full.empty() && l.path == parent);
      if (applies) { co_return status_response(http::Status::locked, "The resource is locked", req_); }
    }
    co_return std::nullopt;
  }

  awaitable<http::Response> put() {
    if (req_.headers.has("Content-Range")) {
      co_return status_response(http::Status::bad_request, "Partial PUT (Content-Range) is not supported", req_);
    }
    auto options = put_options(req_);
    if (!options) { co_return error_response(options.error(), req_); }
    if (link_.access == LinkAccess::upload) {
      if (path_.empty() || path_.find('/') != std::string::npos) {
        co_return status_response(http::Status::forbidden, "A file drop takes files at its top level only", req_);
      }
      // A drop never replaces anything: conditions on an existing file do not apply.
      options->keep_both = true;
      options->if_match.reset();
      options->if_none_match_any = false;
    }
    if (auto refused = co_await owner_locked(path_, false)) { co_return std::move(*refused); }
    options->length = req_.content_length;
    if (!req_.content_length && !req_.chunked) { options->length = 0; }
    bool mtime_sent = options->mtime.has_value();
    auto w = co_await tree_->put(path_, ctx_.body(), std::move(*options));
    if (!w) { co_return error_response(w.error(), req_); }
    co_return written(*w, deps_, mtime_sent);
  }

  awaitable<http::Response> mkcol() {
    if (req_.has_body()) { co_return status_response(http::Status::unsupported_media_type, "MKCOL with a body is not supported", req_); }
    if (auto refused = co_await owner_locked(path_, false)) { co_return std::move(*refused); }
    std::optional<std::int64_t> mtime;
    if (auto m = req_.headers.get("X-OC-Mtime")) { mtime = parse_i64(*m); }
    auto n = co_await tree_->mkcol(path_, mtime);
    if (!n) { co_return error_response(n.error(), req_); }
    http::Response res(http::Status::created);
    node_headers(res, *n, deps_);
    co_return res;
  }

  awaitable<http::Response> remove() {
    std::string_view depth = req_.header("Depth");
    if (!depth.empty() && depth != "infinity" && depth != "Infinity") {
      co_return status_response(http::Status::bad_request, "DELETE applies to a whole folder (Depth: infinity)", req_);
    }
    if (path_.empty()) { co_return status_response(http::Status::forbidden, "The shared folder itself cannot be deleted through its link", req_); }
    if (auto refused = co_await owner_locked(path_, true)) { co_return std::move(*refused); }
    std::optional<std::string> if_match;
    if (auto im = req_.headers.get("If-Match")) { if_match = *im == "*" ? std::string("*") : unquote(*im); }
    auto st = co_await tree_->remove(path_, if_match);
    if (!st) { co_return error_response(st.error(), req_); }
    co_return http::Response(http::Status::no_content);
  }

  awaitable<http::Response> copy_move(bool move) {
    auto dest_header = req_.headers.get("Destination");
    if (!dest_header || dest_header->empty()) { co_return status_response(http::Status::bad_request, "A Destination header is required", req_); }
    auto dest = destination_path(*dest_header, root_);
    if (!dest) {
      if (dest.error().code == Errc::forbidden) {
        co_return status_response(http::Status::bad_gateway, "The Destination is outside this link", req_);
      }
      co_return error_response(dest.error(), req_);
    }
    auto to = normalize_link_path(*dest);
    if (!to) { co_return error_response(to.error(), req_); }
    auto opts = transfer_options(req_, move);
    if (!opts) { co_return status_response(http::Status::bad_request, opts.error().message, req_); }
    const bool overwrite = opts->overwrite;
    const bool recursive = opts->recursive;
    if (move) {
      if (auto refused = co_await owner_locked(path_, true)) { co_return std::move(*refused); }
    }
    if (auto refused = co_await owner_locked(*to, true)) { co_return std::move(*refused); }
    // Two statements: GCC 12 miscompiles a conditional expression with co_await in both arms.
    Result<WriteResult> w = make_error(Errc::internal, "unreached");
    if (move) {
      w = co_await tree_->move(path_, *to, overwrite);
    } else {
      w = co_await tree_->copy(path_, *to, overwrite, recursive);
    }
    if (!w) {
      if (w.error().message == kAlreadyExists) { co_return status_response(http::Status::precondition_failed, w.error().message, req_); }
      co_return error_response(w.error(), req_);
    }
    co_return written(*w, deps_, false);
  }

  http::RequestContext& ctx_;
  const http::Request& req_;
  const Deps& deps_;
  Link link_;
  std::string path_;
  std::unique_ptr<Subtree> tree_;
  Root root_;
};

awaitable<http::Response> handle_link(http::RequestContext& ctx, const Deps& deps) {
  const auto& req = ctx.request();
  auto link = co_await deps.box.open_link(std::string(ctx.param("token")));
  if (!link) {
    if (link.error().code == Errc::not_found) { co_return status_response(http::Status::not_found, kNoSuchLinkMessage, req); }
    co_return error_response(link.error(), req);
  }
  if (auto refused = co_await check_password(deps, req, *link)) { co_return std::move(*refused); }
  auto path = normalize_link_path(ctx.param("path"));
  if (!path) { co_return error_response(path.error(), req); }
  LinkHandler handler(ctx, deps, std::move(*link), std::move(*path));
  co_return co_await handler.run();
}

}  // namespace

void add_link_routes(http::Router& router, const Deps& deps) {
  const http::Method methods[] = {http::Method::options, http::Method::propfind, http::Method::get,  http::Method::head, http::Method::put,
                                  http::Method::mkcol,   http::Method::delete_,  http::Method::copy, http::Method::move};
  for (const char* pattern : {"/public.php/dav/files/{token}", "/public.php/dav/files/{token}/{path*}"}) {
    for (auto m : methods) {
      http::RouteOptions options;
      if (m == http::Method::put) { options.max_body_bytes = http::kUnlimitedBody; }
      router.add(m, pattern, [&deps](http::RequestContext& ctx) { return handle_link(ctx, deps); }, options);
    }
  }
}

}  // namespace ciel::box::dav
