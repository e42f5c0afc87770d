// WebDAV on a user's files: /remote.php/dav/files/<user>/<path> and /remote.php/webdav/<path>.
// One dispatcher per root, by method (RFC 4918: OPTIONS, PROPFIND, PROPPATCH, MKCOL, GET, HEAD,
// PUT, DELETE, COPY, MOVE, LOCK, UNLOCK).
#include <charconv>
#include <map>

#include "box/dav/common.h"
#include "box/dav/propfind.h"
#include "core/blocking.h"
#include "core/http/range.h"
#include "core/http/target.h"
#include "core/time.h"

namespace ciel::box::dav {
namespace {

using boost::asio::awaitable;

constexpr std::string_view kAllow = "OPTIONS, GET, HEAD, PUT, DELETE, PROPFIND, PROPPATCH, MKCOL, COPY, MOVE, LOCK, UNLOCK";
constexpr std::int64_t kMaxLockSeconds = 7 * 86400;

// Lock timeouts: "Second-N" or "Infinite", the first one given; at most a week.
std::int64_t lock_timeout(const http::Request& req) {
  std::string_view h = req.header("Timeout");
  std::int64_t out = 3600;
  if (h.empty()) { return out; }
  auto comma = h.find(',');
  auto first = h.substr(0, comma);
  while (!first.empty() && first.front() == ' ') { first.remove_prefix(1); }
  if (first.starts_with("Infinite")) { return kMaxLockSeconds; }
  if (first.starts_with("Second-")) {
    if (auto v = parse_i64(first.substr(7)); v && *v > 0) { out = std::min(*v, kMaxLockSeconds); }
  }
  return out;
}

class FileHandler {
 public:
  FileHandler(http::RequestContext& ctx, const Deps& deps, User user, Root root, std::string path)
      : ctx_(ctx), req_(ctx.request()), deps_(deps), user_(std::move(user)), root_(std::move(root)), path_(std::move(path)) {}

  awaitable<http::Response> run() {
    switch (req_.method) {
      case http::Method::options: co_return options();
      case http::Method::propfind: co_return co_await propfind();
      case http::Method::proppatch: co_return co_await proppatch();
      case http::Method::mkcol: co_return co_await mkcol();
      case http::Method::get:
      case http::Method::head: co_return co_await get();
      case http::Method::put: co_return co_await put();
      case http::Method::delete_: co_return co_await remove();
      case http::Method::copy:
      case http::Method::move: co_return co_await copy_move(req_.method == http::Method::move);
      case http::Method::lock: co_return co_await lock();
      case http::Method::unlock: co_return co_await unlock();
      default: {
        auto res = status_response(http::Status::method_not_allowed, "This method is not allowed here", req_);
        res.set_header("Allow", kAllow);
        co_return res;
      }
    }
  }

 private:
  http::Response options() {
    http::Response res(http::Status::ok);
    res.set_header("DAV", "1, 2");
    res.set_header("MS-Author-Via", "DAV");
    res.set_header("Allow", kAllow);
    res.set_header("Accept-Ranges", "bytes");
    return res;
  }

  awaitable<http::Response> propfind() {
    std::string_view depth = req_.header("Depth");
    if (depth == "infinity" || depth == "Infinity") {
      http::Response res(http::Status::forbidden,
                         "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<d:error xmlns:d=\"DAV:\" xmlns:s=\"http://sabredav.org/ns\">"
                         "<d:propfind-finite-depth/><s:message>PROPFIND with Depth: infinity is not allowed; use Depth 0 or 1</s:message></d:error>\n",
                         "application/xml; charset=utf-8");
      co_return res;
    }
    if (!depth.empty() && depth != "0" && depth != "1") { co_return status_response(http::Status::bad_request, "Depth must be 0 or 1", req_); }
    auto body = co_await ctx_.read_body(1024 * 1024);
    if (!body) { co_return error_response(body.error(), req_); }
    auto request = parse_propfind(*body);
    if (!request) { co_return error_response(request.error(), req_); }
    bool children = depth != "0";
    std::pair<Node, std::vector<Node>> listing;
    if (children) {
      auto l = co_await deps_.box.list(user_.id, path_);
      if (!l) { co_return error_response(l.error(), req_); }
      listing = std::move(*l);
    } else {
      auto n = co_await deps_.box.stat(user_.id, path_);
      if (!n) { co_return error_response(n.error(), req_); }
      listing.first = std::move(*n);
    }
    auto xml = co_await render_propfind(deps_, user_, root_, *request, listing.first, listing.second);
    if (!xml) { co_return error_response(xml.error(), req_); }
    co_return http::Response(http::Status::multi_status, std::move(*xml), "application/xml; charset=utf-8");
  }

  awaitable<http::Response> proppatch() {
    auto body = co_await ctx_.read_body(1024 * 1024);
    if (!body) { co_return error_response(body.error(), req_); }
    auto updates = parse_proppatch(*body);
    if (!updates) { co_return error_response(updates.error(), req_); }
    auto node = co_await deps_.box.stat(user_.id, path_);
    if (!node) { co_return error_response(node.error(), req_); }
    if (auto refused = co_await check_write(deps_, user_, root_, path_, false, false, req_)) { co_return std::move(*refused); }
    bool protected_found = false;
    for (const auto& u : *updates) {
      if (is_protected(u.name)) { protected_found = true; }
    }
    PropPatch patch;
    if (!protected_found) {
      for (const auto& u : *updates) { patch.ops.push_back(PropPatch::Op{u.set, DeadProp{u.name.ns, u.name.name, u.element}}); }
      if (auto st = co_await deps_.box.patch_props(user_.id, path_, std::move(patch)); !st) { co_return error_response(st.error(), req_); }
    }
    std::string out = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<d:multistatus xmlns:d=\"DAV:\"><d:response><d:href>" +
                      escape(href(root_, path_, node->folder)) + "</d:href>";
    for (const auto& u : *updates) {
      std::string status = !protected_found ? "200 OK" : is_protected(u.name) ? "403 Forbidden" : "424 Failed Dependency";
      out += "<d:propstat><d:prop>" + empty_element(u.name) + "</d:prop><d:status>HTTP/1.1 " + status + "</d:status></d:propstat>";
    }
    out += "</d:response></d:multistatus>\n";
    co_return http::Response(http::Status::multi_status, std::move(out), "application/xml; charset=utf-8");
  }

  awaitable<http::Response> mkcol() {
    if (req_.has_body()) { co_return status_response(http::Status::unsupported_media_type, "MKCOL with a body is not supported", req_); }
    if (auto refused = co_await check_write(deps_, user_, root_, path_, false, true, req_)) { co_return std::move(*refused); }
    std::optional<std::int64_t> mtime;
    if (auto m = req_.headers.get("X-OC-Mtime")) { mtime = parse_i64(*m); }
    auto n = co_await deps_.box.mkcol(user_.id, path_, mtime);
    if (!n) { co_return error_response(n.error(), req_); }
    http::Response res(http::Status::created);
    node_headers(res, *n, deps_);
    co_return res;
  }

  awaitable<http::Response> get() {
    auto node = co_await deps_.box.stat(user_.id, path_);
    if (!node) { co_return error_response(node.error(), req_); }
    if (node->folder && wants_zip(req_)) {
      co_return co_await serve_zip(deps_, req_, [this](std::string p) { return deps_.box.list(user_.id, std::move(p)); }, path_);
    }
    if (node->folder) { co_return co_await folder_page(); }
    co_return co_await serve_file(deps_, req_, *node);
  }

  // A browser pointed at a folder gets a plain page listing it (WebDAV leaves GET of a
  // collection to the server; one that asks for application/zip gets the folder as a zip);
  // clients list with PROPFIND.
  awaitable<http::Response> folder_page() {
    auto l = co_await deps_.box.list(user_.id, path_);
    if (!l) { co_return error_response(l.error(), req_); }
    std::string title = "/" + path_;
    std::string html = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" + escape(title) + "</title></head><body><h1>" +
                       escape(title) + "</h1><p>A folder of your Ciel box. Use a WebDAV client or the Nextcloud desktop client to sync it.</p><ul>";
    for (const auto& c : l->second) {
      html += "<li><a href=\"" + escape(href(root_, c.path, c.folder)) + "\">" + escape(c.name) + (c.folder ? "/" : "") + "</a></li>";
    }
    html += "</ul></body></html>\n";
    http::Response res(http::Status::ok, std::move(html), "text/html; charset=utf-8");
    res.set_header("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
    res.set_header("X-Content-Type-Options", "nosniff");
    node_headers(res, l->first, deps_);
    co_return res;
  }

  awaitable<http::Response> put() {
    if (req_.headers.has("Content-Range")) {
      co_return status_response(http::Status::bad_request, "Partial PUT (Content-Range) is not supported", req_);
    }
    auto options = put_options(req_);
    if (!options) { co_return error_response(options.error(), req_); }
    if (auto refused = co_await check_write(deps_, user_, root_, path_, false, true, req_)) { co_return std::move(*refused); }
    options->length = req_.content_length;
    if (!req_.content_length && !req_.chunked) { options->length = 0; }
    bool mtime_sent = options->mtime.has_value();
    auto w = co_await deps_.box.put(user_.id, path_, ctx_.body(), std::move(*options));
    if (!w) { co_return error_response(w.error(), req_); }
    co_return written(*w, deps_, mtime_sent);
  }

  awaitable<http::Response> remove() {
    std::string_view depth = req_.header("Depth");
    if (!depth.empty() && depth != "infinity" && depth != "Infinity") {
      co_return status_response(http::Status::bad_request, "DELETE applies to a whole folder (Depth: infinity)", req_);
    }
    if (auto refused = co_await check_write(deps_, user_, root_, path_, true, true, req_)) { co_return std::move(*refused); }
    std::optional<std::string> if_match;
    if (auto im = req_.headers.get("If-Match")) { if_match = *im == "*" ? std::string("*") : unquote(*im); }
    auto st = co_await deps_.box.remove(user_.id, path_, if_match);
    if (!st) { co_return error_response(st.error(), req_); }
    co_return http::Response(http::Status::no_content);
  }

  awaitable<http::Response> copy_move(bool move) {
    auto dest_header = req_.headers.get("Destination");
    if (!dest_header || dest_header->empty()) { co_return status_response(http::Status::bad_request, "A Destination header is required", req_); }
    auto dest = destination_path(*dest_header, root_);
    if (!dest) {
      if (dest.error().code == Errc::forbidden) { co_return status_response(http::Status::bad_gateway, dest.error().message, req_); }
      co_return error_response(dest.error(), req_);
    }
    auto to = normalize_path(*dest);
    if (!to) { co_return error_response(to.error(), req_); }
    auto opts = transfer_options(req_, move);
    if (!opts) { co_return status_response(http::Status::bad_request, opts.error().message, req_); }
    const bool overwrite = opts->overwrite;
    const bool recursive = opts->recursive;
    auto h = read_if(req_);
    if (!h) { co_return error_response(h.error(), req_); }
    auto holds = co_await if_holds(deps_, user_, root_, *h, path_);
    if (!holds) { co_return error_response(holds.error(), req_); }
    if (!*holds) { co_return status_response(http::Status::precondition_failed, "The If header's conditions do not hold", req_); }
    if (move) {
      if (auto refused = co_await check_locks(deps_, user_, root_, *h, path_, true, true, req_)) { co_return std::move(*refused); }
    }
    if (auto refused = co_await check_locks(deps_, user_, root_, *h, *to, true, true, req_)) { co_return std::move(*refused); }
    // Two statements: GCC 12 miscompiles a conditional expression with co_await in both arms.
    Result<WriteResult> w = make_error(Errc::internal, "unreached");
    if (move) {
      w = co_await deps_.box.move(user_.id, path_, *to, overwrite);
    } else {
      w = co_await deps_.box.copy(user_.id, path_, *to, overwrite, recursive);
    }
    if (!w) {
      // RFC 4918: an existing destination with Overwrite: F is 412 (not MKCOL's 405).
      if (w.error().message == kAlreadyExists) { co_return status_response(http::Status::precondition_failed, w.error().message, req_); }
      co_return error_response(w.error(), req_);
    }
    co_return written(*w, deps_, false);
  }

  awaitable<http::Response> lock() {
    auto body = co_await ctx_.read_body(64 * 1024);
    if (!body) { co_return error_response(body.error(), req_); }
    auto info = parse_lockinfo(*body);
    if (!info) { co_return error_response(info.error(), req_); }
    std::int64_t timeout = lock_timeout(req_);
    if (!*info) {
      // A refresh: the If header names the lock.
      auto h = read_if(req_);
      if (!h) { co_return error_response(h.error(), req_); }
      if (h->tokens.empty()) { co_return status_response(http::Status::bad_request, "A lock refresh needs the lock token in an If header", req_); }
      auto covering = co_await deps_.box.locks(user_.id, path_, false);
      if (!covering) { co_return error_response(covering.error(), req_); }
      for (const auto& l : *covering) {
        if (!h->tokens.contains(l.token)) { continue; }
        auto refreshed = co_await deps_.box.refresh_lock(user_.id, l.token, timeout);
        if (!refreshed) { co_return error_response(refreshed.error(), req_); }
        co_return lock_answer(*refreshed, http::Status::ok);
      }
      co_return status_response(http::Status::precondition_failed, "No lock on this resource has the submitted token", req_);
    }
    std::string_view depth = req_.header("Depth");
    if (!depth.empty() && depth != "0" && depth != "infinity" && depth != "Infinity") {
      co_return status_response(http::Status::bad_request, "LOCK takes Depth 0 or infinity", req_);
    }
    auto h = read_if(req_);
    if (!h) { co_return error_response(h.error(), req_); }
    auto holds = co_await if_holds(deps_, user_, root_, *h, path_);
    if (!holds) { co_return error_response(holds.error(), req_); }
    if (!*holds) { co_return status_response(http::Status::precondition_failed, "The If header's conditions do not hold", req_); }
    bool created = false;
    auto node = co_await deps_.box.stat(user_.id, path_);
    if (!node) {
      if (node.error().code != Errc::not_found) { co_return error_response(node.error(), req_); }
      // RFC 4918 7.3: locking an unmapped URL creates an empty resource.
      if (auto refused = co_await check_locks(deps_, user_, root_, *h, path_, false, true, req_)) { co_return std::move(*refused); }
      StringSource empty("");
      PutOptions o;
      o.length = 0;
      o.if_none_match_any = true;
      auto w = co_await deps_.box.put(user_.id, path_, empty, std::move(o));
      if (!w) { co_return error_response(w.error(), req_); }
      created = true;
    }
    LockRequest lr{(*info)->exclusive, depth != "0", (*info)->owner_xml, timeout};
    auto l = co_await deps_.box.lock(user_.id, path_, std::move(lr));
    if (!l) {
      if (status_for(l.error()) == http::Status::locked) { co_return locked_response(href(root_, path_, false), req_); }
      co_return error_response(l.error(), req_);
    }
    co_return lock_answer(*l, created ? http::Status::created : http::Status::ok);
  }

  http::Response lock_answer(const Lock& l, http::Status status) {
    http::Response res(status,
                       "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<d:prop xmlns:d=\"DAV:\"><d:lockdiscovery>" + lock_xml(l, root_) +
                           "</d:lockdiscovery></d:prop>\n",
                       "application/xml; charset=utf-8");
    res.set_header("Lock-Token", "<" + l.token + ">");
    return res;
  }

  awaitable<http::Response> unlock() {
    std::string_view token = req_.header("Lock-Token");
    if (token.size() < 2 || token.front() != '<' || token.back() != '>') {
      co_return status_response(http::Status::bad_request, "UNLOCK needs a Lock-Token header", req_);
    }
    auto st = co_await deps_.box.unlock(user_.id, path_, std::string(token.substr(1, token.size() - 2)));
    if (!st) {
      if (st.error().code == Errc::not_found) {
        co_return http::Response(http::Status::conflict,
                                 "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<d:error xmlns:d=\"DAV:\"><d:lock-token-matches-request-uri/></d:error>\n",
                                 "application/xml; charset=utf-8");
      }
      co_return error_response(st.error(), req_);
    }
    co_return http::Response(http::Status::no_content);
  }

  http::RequestContext& ctx_;
  const http::Request& req_;
  const Deps& deps_;
  User user_;
  Root root_;
  std::string path_;
};

awaitable<http::Response> handle_files(http::RequestContext& ctx, const Deps& deps, bool legacy) {
  const auto& req = ctx.request();
  auto user = co_await authenticate(req, deps);
  if (!user) {
    if (req.method == http::Method::options && !req.headers.has("Authorization")) {
      // Clients probe the DAV level before they log in.
      http::Response res(http::Status::ok);
      res.set_header("DAV", "1, 2");
      res.set_header("Allow", kAllow);
      co_return res;
    }
    co_return error_response(user.error(), req);
  }
  Root root;
  if (legacy) {
    root.href = "/remote.php/webdav/";
  } else {
    std::string_view name = ctx.param("user");
    if (name != user->name) { co_return status_response(http::Status::forbidden, "These are not your files", req); }
    root.href = "/remote.php/dav/files/" + http::percent_encode(name) + "/";
    root.user = std::string(name);
  }
  auto path = normalize_path(ctx.param("path"));
  if (!path) { co_return error_response(path.error(), req); }
  FileHandler handler(ctx, deps, std::move(*user), std::move(root), std::move(*path));
  co_return co_await handler.run();
}

}  // namespace

awaitable<http::Response> serve_file(const Deps& deps, const http::Request& req, const Node& node) {
  auto modified = SystemTime(std::chrono::seconds(node.mtime));
  if (auto im = req.headers.get("If-Match"); im && !http::etag_matches(*im, node.etag)) {
    co_return status_response(http::Status::precondition_failed, "The file's ETag does not match If-Match", req);
  }
  if (auto ius = req.headers.get("If-Unmodified-Since")) {
    if (auto t = parse_http_date(*ius); t && modified > *t) {
      co_return status_response(http::Status::precondition_failed, "The file was modified since then", req);
    }
  }
  bool not_modified = false;
  if (auto inm = req.headers.get("If-None-Match")) {
    not_modified = http::etag_matches(*inm, node.etag);
  } else if (auto ims = req.headers.get("If-Modified-Since")) {
    if (auto t = parse_http_date(*ims); t && modified <= *t) { not_modified = true; }
  }
  http::Response res(http::Status::ok);
  node_headers(res, node, deps);
  res.set_header("Last-Modified", http_date(modified));
  res.set_header("Accept-Ranges", "bytes");
  // A file is whatever its uploader made it, served on the console's origin: a browser must
  // never run it (an HTML file shared with someone would run with their session). The sandbox
  // gives any page a unique origin with no scripts; nosniff keeps the declared type.
  res.set_header("Content-Security-Policy", "sandbox; default-src 'none'; img-src 'self' data:; media-src 'self'; style-src 'unsafe-inline'; "
                                            "frame-ancestors 'self'");
  res.set_header("X-Content-Type-Options", "nosniff");
  if (!node.sha1.empty()) {
    res.set_header("OC-Checksum", "SHA1:" + node.sha1);
  } else if (!node.md5.empty()) {
    res.set_header("OC-Checksum", "MD5:" + node.md5);
  } else if (!node.adler32.empty()) {
    res.set_header("OC-Checksum", "ADLER32:" + node.adler32);
  }
  if (not_modified) {
    res.set_status(http::Status::not_modified);
    co_return res;
  }
  res.set_header("Content-Type", node.content_type.empty() ? "application/octet-stream" : node.content_type);
  std::uint64_t offset = 0, length = node.size;
  if (auto rh = req.headers.get("Range")) {
    auto r = http::parse_range(*rh, node.size);
    if (!r) {
      auto e = status_response(http::Status::range_not_satisfiable, "The range is outside the file", req);
      e.set_header("Content-Range", "bytes */" + std::to_string(node.size));
      co_return e;
    }
    if (*r) {
      offset = (*r)->first;
      length = (*r)->length;
      res.set_status(http::Status::partial_content);
      res.set_header("Content-Range", (*r)->content_range(node.size));
    }
  }
  if (req.method == http::Method::head) {
    res.set_content_length_only(length);
    co_return res;
  }
  // Small files come in one read (their bytes may be in their row); larger ones by sendfile.
  if (!req.tls && length > 64 * 1024) {
    const Node& file = node;
    auto files = co_await run_blocking([&] { return deps.box.open_files(file, offset, length); });
    if (files) {
      std::vector<http::FileBody> bodies;
      for (const auto& f : *files) { bodies.push_back(http::FileBody{http::FileHandle(f.fd), f.offset, f.length}); }
      res.set_files(std::move(bodies));
      co_return res;
    }
  }
  auto src = co_await deps.box.open(node, offset, length);
  if (!src) { co_return error_response(src.error(), req); }
  res.set_stream(std::move(*src), length);
  co_return res;
}

void add_file_routes(http::Router& router, const Deps& deps) {
  const http::Method methods[] = {http::Method::options, http::Method::propfind, http::Method::proppatch, http::Method::mkcol,
                                  http::Method::get,     http::Method::head,     http::Method::put,       http::Method::delete_,
                                  http::Method::copy,    http::Method::move,     http::Method::lock,      http::Method::unlock};
  for (bool legacy : {false, true}) {
    for (const char* pattern : {"/remote.php/dav/files/{user}", "/remote.php/dav/files/{user}/{path*}", "/remote.php/webdav", "/remote.php/webdav/{path*}"}) {
      bool is_legacy = std::string_view(pattern).starts_with("/remote.php/webdav");
      if (is_legacy != legacy) { continue; }
      for (auto m : methods) {
        http::RouteOptions options;
        if (m == http::Method::put) { options.max_body_bytes = http::kUnlimitedBody; }
        router.add(m, pattern, [&deps, legacy](http::RequestContext& ctx) { return handle_files(ctx, deps, legacy); }, options);
      }
    }
  }
}

}  // namespace ciel::box::dav
