// Versions and trash, as the Nextcloud clients and the console reach them:
//   /remote.php/dav/versions/<user>/versions/<fileid>[/<version>]   PROPFIND, GET; COPY or MOVE
//       to /remote.php/dav/versions/<user>/restore/<anything> restores that version;
//   /remote.php/dav/trashbin/<user>/trash[/<name>.d<deleted>]       PROPFIND, DELETE (purge);
//       MOVE to /remote.php/dav/trashbin/<user>/restore/<anything> restores the item.
#include "box/dav/common.h"
#include "core/http/target.h"
#include "core/time.h"

namespace ciel::box::dav {
namespace {

using boost::asio::awaitable;

std::string date(std::int64_t s) { return http_date(SystemTime(std::chrono::seconds(s))); }

std::string multistatus(const std::string& body) {
  return "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<d:multistatus xmlns:d=\"DAV:\" xmlns:oc=\"http://owncloud.org/ns\" "
         "xmlns:nc=\"http://nextcloud.org/ns\">" + body + "</d:multistatus>\n";
}

std::string response(const std::string& href, const std::string& props) {
  return "<d:response><d:href>" + escape(href) + "</d:href><d:propstat><d:prop>" + props +
         "</d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>";
}

awaitable<Result<User>> caller(const http::RequestContext& ctx, const Deps& deps) {
  auto user = co_await authenticate(ctx.request(), deps);
  if (!user) { co_return user.error(); }
  if (ctx.param("user") != user->name) { co_return make_error(Errc::forbidden, "This is not your box"); }
  co_return *user;
}

// The path after a "/restore/" collection in a Destination, or an error.
bool is_restore_destination(std::string_view dest, std::string_view kind, const User& user) {
  std::string want = "/remote.php/dav/" + std::string(kind) + "/" + http::percent_encode(user.name) + "/restore/";
  return dest.find(want) != std::string_view::npos;
}

awaitable<http::Response> handle_versions(http::RequestContext& ctx, const Deps& deps) {
  const auto& req = ctx.request();
  auto user = co_await caller(ctx, deps);
  if (!user) { co_return error_response(user.error(), req); }
  auto file_id = parse_i64(ctx.param("fileid"));
  if (!file_id) { co_return status_response(http::Status::not_found, "No such file", req); }
  auto file = co_await deps.box.node_by_id(user->id, *file_id);
  if (!file || file->folder) { co_return status_response(http::Status::not_found, "No such file", req); }
  auto versions = co_await deps.box.versions(user->id, *file_id);
  if (!versions) { co_return error_response(versions.error(), req); }
  std::string base = "/remote.php/dav/versions/" + http::percent_encode(user->name) + "/versions/" + std::to_string(*file_id) + "/";
  std::string_view vparam = ctx.param("version");
  if (vparam.empty()) {
    if (req.method != http::Method::propfind) { co_return status_response(http::Status::method_not_allowed, "Not allowed here", req); }
    std::string body = response(base, "<d:resourcetype><d:collection/></d:resourcetype>");
    if (req.header("Depth") != "0") {
      for (const auto& v : *versions) {
        body += response(base + std::to_string(v.id),
                         "<d:resourcetype/><d:getcontentlength>" + std::to_string(v.size) + "</d:getcontentlength><d:getlastmodified>" +
                             date(v.mtime) + "</d:getlastmodified><d:getetag>" + escape(quoted(v.etag)) + "</d:getetag><d:getcontenttype>" +
                             escape(v.content_type) + "</d:getcontenttype><nc:version-label></nc:version-label>");
      }
    }
    co_return http::Response(http::Status::multi_status, multistatus(body), "application/xml; charset=utf-8");
  }
  auto vid = parse_i64(vparam);
  const Version* version = nullptr;
  for (const auto& v : *versions) {
    if (vid && v.id == *vid) { version = &v; }
  }
  if (!version) { co_return status_response(http::Status::not_found, "No such version", req); }
  switch (req.method) {
    case http::Method::get:
    case http::Method::head: {
      http::Response res(http::Status::ok);
      res.set_header("ETag", quoted(version->etag));
      res.set_header("Last-Modified", date(version->mtime));
      res.set_header("Content-Type", version->content_type.empty() ? "application/octet-stream" : version->content_type);
      if (req.method == http::Method::head) {
        res.set_content_length_only(version->size);
        co_return res;
      }
      auto src = co_await deps.box.open_version(*version);
      if (!src) { co_return error_response(src.error(), req); }
      res.set_stream(std::move(*src), version->size);
      co_return res;
    }
    case http::Method::propfind:
      co_return http::Response(http::Status::multi_status,
                               multistatus(response(base + std::to_string(version->id),
                                                    "<d:resourcetype/><d:getcontentlength>" + std::to_string(version->size) +
                                                        "</d:getcontentlength><d:getlastmodified>" + date(version->mtime) + "</d:getlastmodified>")),
                               "application/xml; charset=utf-8");
    case http::Method::copy:
    case http::Method::move: {
      if (!is_restore_destination(req.header("Destination"), "versions", *user)) {
        co_return status_response(http::Status::forbidden, "A version can only be restored (Destination .../restore/target)", req);
      }
      auto n = co_await deps.box.restore_version(user->id, *file_id, version->id);
      if (!n) { co_return error_response(n.error(), req); }
      http::Response res(http::Status::no_content);
      node_headers(res, *n, deps);
      co_return res;
    }
    default: co_return status_response(http::Status::method_not_allowed, "Not allowed on a version", req);
  }
}

std::string trash_name(const TrashItem& t) { return t.name + ".d" + std::to_string(t.deleted_s); }

awaitable<http::Response> handle_trash(http::RequestContext& ctx, const Deps& deps) {
  const auto& req = ctx.request();
  auto user = co_await caller(ctx, deps);
  if (!user) { co_return error_response(user.error(), req); }
  auto items = co_await deps.box.trash(user->id);
  if (!items) { co_return error_response(items.error(), req); }
  std::string base = "/remote.php/dav/trashbin/" + http::percent_encode(user->name) + "/trash/";
  std::string_view item_param = ctx.param("item");
  auto props = [&](const TrashItem& t) {
    std::string p = t.folder ? "<d:resourcetype><d:collection/></d:resourcetype>"
                             : "<d:resourcetype/><d:getcontentlength>" + std::to_string(t.size) + "</d:getcontentlength>";
    p += "<d:getlastmodified>" + date(t.mtime) + "</d:getlastmodified><d:getetag>" + escape(quoted(t.etag)) + "</d:getetag>";
    p += "<oc:id>" + oc_id(t.id, deps.box.config()) + "</oc:id><oc:fileid>" + std::to_string(t.id) + "</oc:fileid><oc:size>" +
         std::to_string(t.size) + "</oc:size>";
    p += "<nc:trashbin-filename>" + escape(t.name) + "</nc:trashbin-filename><nc:trashbin-original-location>" + escape(t.original_path) +
         "</nc:trashbin-original-location><nc:trashbin-deletion-time>" + std::to_string(t.deleted_s) + "</nc:trashbin-deletion-time>";
    return p;
  };
  if (item_param.empty()) {
    if (req.method == http::Method::propfind) {
      std::string body = response(base, "<d:resourcetype><d:collection/></d:resourcetype>");
      if (req.header("Depth") != "0") {
        for (const auto& t : *items) { body += response(base + http::percent_encode(trash_name(t)) + (t.folder ? "/" : ""), props(t)); }
      }
      co_return http::Response(http::Status::multi_status, multistatus(body), "application/xml; charset=utf-8");
    }
    if (req.method == http::Method::delete_) {
      auto st = co_await deps.box.purge_trash(user->id, std::nullopt);
      if (!st) { co_return error_response(st.error(), req); }
      co_return http::Response(http::Status::no_content);
    }
    co_return status_response(http::Status::method_not_allowed, "Not allowed on the trash", req);
  }
  std::string name(item_param);
  while (name.ends_with('/')) { name.pop_back(); }
  const TrashItem* item = nullptr;
  for (const auto& t : *items) {
    if (!item && trash_name(t) == name) { item = &t; }
  }
  if (!item) { co_return status_response(http::Status::not_found, "No such item in the trash", req); }
  switch (req.method) {
    case http::Method::propfind:
      co_return http::Response(http::Status::multi_status, multistatus(response(base + http::percent_encode(name), props(*item))),
                               "application/xml; charset=utf-8");
    case http::Method::delete_: {
      auto st = co_await deps.box.purge_trash(user->id, item->id);
      if (!st) { co_return error_response(st.error(), req); }
      co_return http::Response(http::Status::no_content);
    }
    case http::Method::move: {
      if (!is_restore_destination(req.header("Destination"), "trashbin", *user)) {
        co_return status_response(http::Status::forbidden, "Items leave the trash by a MOVE to .../restore/<name>", req);
      }
      auto n = co_await deps.box.restore_trash(user->id, item->id);
      if (!n) { co_return error_response(n.error(), req); }
      http::Response res(http::Status::created);
      node_headers(res, *n, deps);
      co_return res;
    }
    default: co_return status_response(http::Status::method_not_allowed, "Not allowed on a trash item", req);
  }
}

}  // namespace

void add_version_routes(http::Router& router, const Deps& deps) {
  auto v = [&deps](http::RequestContext& ctx) { return handle_versions(ctx, deps); };
  router.add(http::Method::propfind, "/remote.php/dav/versions/{user}/versions/{fileid}", v);
  for (auto m : {http::Method::propfind, http::Method::get, http::Method::copy, http::Method::move}) {
    router.add(m, "/remote.php/dav/versions/{user}/versions/{fileid}/{version}", v);
  }
  auto t = [&deps](http::RequestContext& ctx) { return handle_trash(ctx, deps); };
  for (auto m : {http::Method::propfind, http::Method::delete_}) {
    router.add(m, "/remote.php/dav/trashbin/{user}/trash", t);
  }
  for (auto m : {http::Method::propfind, http::Method::delete_, http::Method::move}) {
    router.add(m, "/remote.php/dav/trashbin/{user}/trash/{item}", t);
  }
}

}  // namespace ciel::box::dav
