// Nextcloud's chunked uploads ("chunking NG"): /remote.php/dav/uploads/<user>/<transfer>/.
// MKCOL starts a transfer, PUT stores each chunk (its byte offset in OC-Chunk-Offset), PROPFIND
// lists what arrived (a client resuming after an interruption sends only what is missing), and
// MOVE of ".file" onto the destination makes the chunks the file's content in one transaction,
// without copying a byte. DELETE abandons the transfer.
#include "box/dav/common.h"
#include "core/http/target.h"
#include "core/time.h"

namespace ciel::box::dav {
namespace {

using boost::asio::awaitable;

Root files_root(const User& user) { return Root{"/remote.php/dav/files/" + http::percent_encode(user.name) + "/", user.name}; }

std::string upload_href(const User& user, std::string_view transfer, std::string_view chunk) {
  std::string out = "/remote.php/dav/uploads/" + http::percent_encode(user.name) + "/" + http::percent_encode(transfer) + "/";
  if (!chunk.empty()) { out += http::percent_encode(chunk); }
  return out;
}

std::string entry(const std::string& href, bool folder, std::uint64_t size, std::int64_t mtime) {
  std::string out = "<d:response><d:href>" + escape(href) + "</d:href><d:propstat><d:prop>";
  out += folder ? "<d:resourcetype><d:collection/></d:resourcetype>" : "<d:resourcetype/><d:getcontentlength>" + std::to_string(size) + "</d:getcontentlength>";
  out += "<d:getlastmodified>" + http_date(SystemTime(std::chrono::seconds(mtime))) + "</d:getlastmodified>";
  out += "</d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>";
  return out;
}

awaitable<http::Response> handle_transfer(http::RequestContext& ctx, const Deps& deps, const User& user, const std::string& transfer) {
  const auto& req = ctx.request();
  switch (req.method) {
    case http::Method::mkcol: {
      std::optional<std::uint64_t> total;
      if (auto t = req.headers.get("OC-Total-Length")) {
        auto v = parse_i64(*t);
        if (!v || *v < 0) { co_return status_response(http::Status::bad_request, "OC-Total-Length must be a number of bytes", req); }
        total = static_cast<std::uint64_t>(*v);
        if (*total > deps.box.config().max_file_size) {
          co_return status_response(http::Status::payload_too_large, "The file is larger than the largest allowed", req);
        }
        auto q = co_await deps.box.quota(user.id);
        if (!q) { co_return error_response(q.error(), req); }
        if (q->total > 0 && q->used + *total > q->total) { co_return error_response(make_error(Errc::quota_exceeded, std::string(kQuotaExceeded)), req); }
      }
      auto st = co_await deps.box.create_upload(user.id, transfer, total);
      if (!st) { co_return error_response(st.error(), req); }
      co_return http::Response(http::Status::created);
    }
    case http::Method::propfind: {
      if (req.header("Depth") == "infinity") { co_return status_response(http::Status::forbidden, "Depth infinity is not allowed", req); }
      auto u = co_await deps.box.get_upload(user.id, transfer);
      if (!u) { co_return error_response(u.error(), req); }
      std::string out = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<d:multistatus xmlns:d=\"DAV:\">";
      out += entry(upload_href(user, transfer, ""), true, 0, u->created_s);
      if (req.header("Depth") != "0") {
        for (const auto& c : u->chunks) { out += entry(upload_href(user, transfer, c.name), false, c.size, c.mtime); }
      }
      out += "</d:multistatus>\n";
      co_return http::Response(http::Status::multi_status, std::move(out), "application/xml; charset=utf-8");
    }
    case http::Method::delete_: {
      auto st = co_await deps.box.delete_upload(user.id, transfer);
      if (!st) { co_return error_response(st.error(), req); }
      co_return http::Response(http::Status::no_content);
    }
    default: co_return status_response(http::Status::method_not_allowed, "Not allowed on an upload", req);
  }
}

awaitable<http::Response> handle_chunk(http::RequestContext& ctx, const Deps& deps, const User& user, const std::string& transfer,
                                       const std::string& chunk) {
  const auto& req = ctx.request();
  if (req.method == http::Method::put) {
    if (!req.content_length) { co_return status_response(http::Status::length_required, "A chunk needs a Content-Length", req); }
    std::optional<std::uint64_t> offset;
    if (auto o = req.headers.get("OC-Chunk-Offset")) {
      auto v = parse_i64(*o);
      if (!v || *v < 0) { co_return status_response(http::Status::bad_request, "OC-Chunk-Offset must be a number of bytes", req); }
      offset = static_cast<std::uint64_t>(*v);
    }
    auto c = co_await deps.box.put_chunk(user.id, transfer, chunk, offset, *req.content_length, ctx.body());
    if (!c) { co_return error_response(c.error(), req); }
    co_return http::Response(http::Status::created);
  }
  if (req.method == http::Method::move && chunk == ".file") {
    auto dest_header = req.headers.get("Destination");
    if (!dest_header) { co_return status_response(http::Status::bad_request, "A Destination header is required", req); }
    Root root = files_root(user);
    auto dest = destination_path(*dest_header, root);
    if (!dest) { co_return status_response(http::Status::bad_gateway, dest.error().message, req); }
    auto to = normalize_path(*dest);
    if (!to) { co_return error_response(to.error(), req); }
    auto options = put_options(req);
    if (!options) { co_return error_response(options.error(), req); }
    if (auto t = req.headers.get("OC-Total-Length")) {
      auto v = parse_i64(*t);
      if (!v || *v < 0) { co_return status_response(http::Status::bad_request, "OC-Total-Length must be a number of bytes", req); }
      options->length = static_cast<std::uint64_t>(*v);
    }
    if (auto refused = co_await check_write(deps, user, root, *to, false, true, req)) { co_return std::move(*refused); }
    bool mtime_sent = options->mtime.has_value();
    auto w = co_await deps.box.assemble_upload(user.id, transfer, *to, std::move(*options));
    if (!w) { co_return error_response(w.error(), req); }
    co_return written(*w, deps, mtime_sent);
  }
  if (req.method == http::Method::delete_) {
    co_return status_response(http::Status::method_not_allowed, "Delete the whole upload instead", req);
  }
  co_return status_response(http::Status::method_not_allowed, "Not allowed on a chunk", req);
}

awaitable<http::Response> handle_uploads(http::RequestContext& ctx, const Deps& deps) {
  const auto& req = ctx.request();
  auto user = co_await authenticate(req, deps);
  if (!user) { co_return error_response(user.error(), req); }
  if (ctx.param("user") != user->name) { co_return status_response(http::Status::forbidden, "These are not your uploads", req); }
  std::string transfer(ctx.param("transfer"));
  std::string chunk(ctx.param("chunk"));
  if (chunk.empty()) { co_return co_await handle_transfer(ctx, deps, *user, transfer); }
  co_return co_await handle_chunk(ctx, deps, *user, transfer, chunk);
}

}  // namespace

void add_upload_routes(http::Router& router, const Deps& deps) {
  auto h = [&deps](http::RequestContext& ctx) { return handle_uploads(ctx, deps); };
  for (auto m : {http::Method::mkcol, http::Method::propfind, http::Method::delete_}) {
    router.add(m, "/remote.php/dav/uploads/{user}/{transfer}", h);
  }
  http::RouteOptions big;
  big.max_body_bytes = http::kUnlimitedBody;
  router.add(http::Method::put, "/remote.php/dav/uploads/{user}/{transfer}/{chunk}", h, big);
  for (auto m : {http::Method::move, http::Method::delete_}) { router.add(m, "/remote.php/dav/uploads/{user}/{transfer}/{chunk}", h); }
}

}  // namespace ciel::box::dav
