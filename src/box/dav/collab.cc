// Collaboration on box files the way Nextcloud's clients and apps reach it:
//   /remote.php/dav/comments/files/<fileid>[/<commentid>]     comments (POST JSON, REPORT
//       oc:filter-comments, PROPFIND, PROPPATCH oc:readMarker; on a comment PROPPATCH oc:message, DELETE)
//   /remote.php/dav/systemtags/[<tagid>]                       the caller's tags (POST JSON, PROPFIND, DELETE)
//   /remote.php/dav/systemtags-relations/files/<fileid>[/<tagid>]   tags on a file (PROPFIND, PUT, DELETE)
//   REPORT oc:filter-files on a files root                     favorites and tag filters (report_files)
//   /ocs/v2.php/search/providers[/{files,systemtags}/search]   unified search by name and by tag
// Every file id goes through box::CollabService, which asks node_by_id: a file the caller may
// not see answers 404 like one that does not exist.
#include "box/dav/collab_parse.h"
#include "box/dav/common.h"
#include "box/dav/propfind.h"
#include "core/http/target.h"
#include "core/time.h"

namespace ciel::box::dav {
namespace {

using boost::asio::awaitable;

constexpr std::string_view kXmlType = "application/xml; charset=utf-8";
constexpr std::string_view kMultistatusOpen =
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<d:multistatus xmlns:d=\"DAV:\" xmlns:s=\"http://sabredav.org/ns\" "
    "xmlns:oc=\"http://owncloud.org/ns\" xmlns:nc=\"http://nextcloud.org/ns\">";
constexpr std::string_view kMultistatusClose = "</d:multistatus>\n";

std::string comments_href(std::int64_t file_id) { return "/remote.php/dav/comments/files/" + std::to_string(file_id); }
std::string tag_href(std::int64_t tag_id) { return "/remote.php/dav/systemtags/" + std::to_string(tag_id); }
std::string relations_href(std::int64_t file_id) { return "/remote.php/dav/systemtags-relations/files/" + std::to_string(file_id); }

std::string ok_propstat(std::string_view props) {
  return "<d:propstat><d:prop>" + std::string(props) + "</d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat>";
}

std::string collection_response(const std::string& href) {
  return "<d:response><d:href>" + escape(href) + "</d:href>" + ok_propstat("<d:resourcetype><d:collection/></d:resourcetype>") +
         "</d:response>";
}

std::string comment_response(const Comment& c, bool unread) {
  std::string created = http_date(SystemTime(std::chrono::seconds(c.created_s)));
  std::string props = "<oc:id>" + std::to_string(c.id) + "</oc:id><oc:parentId>0</oc:parentId><oc:topmostParentId>0</oc:topmostParentId>"
                      "<oc:childrenCount>0</oc:childrenCount><oc:verb>comment</oc:verb><oc:actorType>users</oc:actorType>"
                      "<oc:actorId>" + escape(c.author_name) + "</oc:actorId><oc:actorDisplayName>" + escape(c.author_name) +
                      "</oc:actorDisplayName><oc:creationDateTime>" + created + "</oc:creationDateTime>"
                      "<oc:latestChildDateTime/><oc:objectType>files</oc:objectType><oc:objectId>" + std::to_string(c.node_id) +
                      "</oc:objectId><oc:message>" + escape(c.message) + "</oc:message><oc:isUnread>" + (unread ? "true" : "false") +
                      "</oc:isUnread><oc:mentions/>"
                      "<d:resourcetype/>";
  return "<d:response><d:href>" + comments_href(c.node_id) + "/" + std::to_string(c.id) + "</d:href>" + ok_propstat(props) + "</d:response>";
}

std::string tag_response(const Tag& t, const std::string& href) {
  auto flag = [](bool b) { return b ? "true" : "false"; };
  std::string props = "<oc:id>" + std::to_string(t.id) + "</oc:id><oc:display-name>" + escape(t.name) + "</oc:display-name><oc:user-visible>" +
                      flag(t.user_visible) + "</oc:user-visible><oc:user-assignable>" + flag(t.user_assignable) +
                      "</oc:user-assignable><oc:can-assign>true</oc:can-assign><oc:groups></oc:groups><d:resourcetype/>";
  return "<d:response><d:href>" + escape(href) + "</d:href>" + ok_propstat(props) + "</d:response>";
}

http::Response multistatus(std::string body) { return http::Response(http::Status::multi_status, std::move(body), kXmlType); }

// A path parameter that must be a positive id; nullopt answers 404 (nothing by that name).
std::optional<std::int64_t> id_param(http::RequestContext& ctx, std::string_view name) {
  auto v = parse_i64(ctx.param(name));
  if (!v || *v <= 0) { return std::nullopt; }
  return v;
}

http::Response not_found(const http::Request& req) { return status_response(http::Status::not_found, "No such file or folder", req); }

// Changes to comments and tags go to the audit log (box.comment.*, box.tag.*), as link changes do;
// a refused edit of someone else's comment too ("denied"). Messages are not copied there.
void audit(const Deps& deps, const http::Request& req, const User& user, std::string action, std::string target, std::string outcome) {
  deps.identity.audit(identity::AuditRecord{0, 0, user.id, std::move(action), std::move(target), std::move(outcome), req.remote_address,
                                            req.request_id, ""});
}
std::string comment_target(std::int64_t file_id, std::int64_t comment_id) {
  return "file:" + std::to_string(file_id) + " comment:" + std::to_string(comment_id);
}

// --- comments ------------------------------------------------------------------------------------

awaitable<http::Response> handle_comments(http::RequestContext& ctx, const Deps& deps) {
  const auto& req = ctx.request();
  auto user = co_await authenticate(req, deps);
  if (!user) { co_return error_response(user.error(), req); }
  auto file_id = id_param(ctx, "fileid");
  if (!file_id) { co_return not_found(req); }
  switch (req.method) {
    case http::Method::post: {
      auto body = co_await ctx.read_body(64 * 1024);
      if (!body) { co_return error_response(body.error(), req); }
      auto in = parse_comment_json(*body);
      if (!in) { co_return error_response(in.error(), req); }
      auto c = co_await deps.collab.add_comment(user->id, user->name, *file_id, std::move(in->message));
      if (!c) { co_return error_response(c.error(), req); }
      audit(deps, req, *user, "box.comment.create", comment_target(*file_id, c->id), "success");
      http::Response res(http::Status::created);
      res.set_header("Content-Location", comments_href(*file_id) + "/" + std::to_string(c->id));
      co_return res;
    }
    case http::Method::proppatch: {  // the read marker: any value marks every comment read now
      auto body = co_await ctx.read_body(64 * 1024);
      if (!body) { co_return error_response(body.error(), req); }
      auto updates = parse_proppatch(*body);
      if (!updates) { co_return error_response(updates.error(), req); }
      for (const auto& u : *updates) {
        if (!(u.name.ns == kOcNs && u.name.name == "readMarker" && u.set)) {
          co_return status_response(http::Status::forbidden, "Only oc:readMarker of the comments can be set", req);
        }
      }
      if (auto st = co_await deps.collab.mark_read(user->id, *file_id); !st) { co_return error_response(st.error(), req); }
      co_return multistatus(std::string(kMultistatusOpen) + "<d:response><d:href>" + comments_href(*file_id) + "</d:href>" +
                            ok_propstat("<oc:readMarker/>") + "</d:response>" + std::string(kMultistatusClose));
    }
    case http::Method::report:
    case http::Method::propfind: {
      auto body = co_await ctx.read_body(64 * 1024);
      if (!body) { co_return error_response(body.error(), req); }
      FilterCommentsRequest page;
      if (req.method == http::Method::report) {
        auto p = parse_filter_comments(*body);
        if (!p) { co_return error_response(p.error(), req); }
        page = *p;
      } else if (auto p = parse_propfind(*body); !p) {
        co_return error_response(p.error(), req);
      }
      auto list = co_await deps.collab.comments(user->id, *file_id, page.limit, page.offset);
      if (!list) { co_return error_response(list.error(), req); }
      auto marker = co_await deps.collab.read_marker(user->id, *file_id);
      if (!marker) { co_return error_response(marker.error(), req); }
      std::string out(kMultistatusOpen);
      // PROPFIND shows the collection with its read marker (and with Depth 1 its comments); REPORT only the comments.
      if (req.method == http::Method::propfind) {
        std::string mark = *marker ? http_date(SystemTime(std::chrono::seconds(**marker))) : std::string();
        out += "<d:response><d:href>" + comments_href(*file_id) + "/</d:href>" +
               ok_propstat("<d:resourcetype><d:collection/></d:resourcetype><oc:readMarker>" + mark + "</oc:readMarker>") + "</d:response>";
      }
      if (req.method == http::Method::report || req.header("Depth") != "0") {
        for (const auto& c : *list) {
          bool unread = c.author != user->id && (!*marker || c.created_s > **marker);
          out += comment_response(c, unread);
        }
      }
      out += kMultistatusClose;
      co_return multistatus(std::move(out));
    }
    default: co_return status_response(http::Status::method_not_allowed, "This method is not allowed on comments", req);
  }
}

awaitable<http::Response> handle_comment(http::RequestContext& ctx, const Deps& deps) {
  const auto& req = ctx.request();
  auto user = co_await authenticate(req, deps);
  if (!user) { co_return error_response(user.error(), req); }
  auto file_id = id_param(ctx, "fileid");
  auto comment_id = id_param(ctx, "commentid");
  if (!file_id || !comment_id) { co_return not_found(req); }
  switch (req.method) {
    case http::Method::propfind: {
      auto c = co_await deps.collab.comment(user->id, *file_id, *comment_id);
      if (!c) { co_return error_response(c.error(), req); }
      auto marker = co_await deps.collab.read_marker(user->id, *file_id);
      if (!marker) { co_return error_response(marker.error(), req); }
      bool unread = c->author != user->id && (!*marker || c->created_s > **marker);
      co_return multistatus(std::string(kMultistatusOpen) + comment_response(*c, unread) + std::string(kMultistatusClose));
    }
    case http::Method::proppatch: {
      auto body = co_await ctx.read_body(64 * 1024);
      if (!body) { co_return error_response(body.error(), req); }
      auto updates = parse_proppatch(*body);
      if (!updates) { co_return error_response(updates.error(), req); }
      const PropUpdate* message = nullptr;
      for (const auto& u : *updates) {
        if (u.name.ns == kOcNs && u.name.name == "message" && u.set) {
          message = &u;
        } else {
          co_return status_response(http::Status::forbidden, "Only oc:message of a comment can be changed", req);
        }
      }
      auto c = co_await deps.collab.edit_comment(user->id, *file_id, *comment_id, message->text);
      if (!c) {
        if (c.error().code == Errc::forbidden) { audit(deps, req, *user, "box.comment.update", comment_target(*file_id, *comment_id), "denied"); }
        co_return error_response(c.error(), req);
      }
      audit(deps, req, *user, "box.comment.update", comment_target(*file_id, *comment_id), "success");
      co_return multistatus(std::string(kMultistatusOpen) + "<d:response><d:href>" + comments_href(*file_id) + "/" + std::to_string(*comment_id) +
                            "</d:href>" + ok_propstat("<oc:message/>") + "</d:response>" + std::string(kMultistatusClose));
    }
    case http::Method::delete_: {
      auto st = co_await deps.collab.delete_comment(user->id, *file_id, *comment_id);
      if (!st) {
        if (st.error().code == Errc::forbidden) { audit(deps, req, *user, "box.comment.delete", comment_target(*file_id, *comment_id), "denied"); }
        co_return error_response(st.error(), req);
      }
      audit(deps, req, *user, "box.comment.delete", comment_target(*file_id, *comment_id), "success");
      co_return http::Response(http::Status::no_content);
    }
    default: co_return status_response(http::Status::method_not_allowed, "This method is not allowed on a comment", req);
  }
}

// --- system tags ---------------------------------------------------------------------------------

awaitable<http::Response> handle_tags(http::RequestContext& ctx, const Deps& deps) {
  const auto& req = ctx.request();
  auto user = co_await authenticate(req, deps);
  if (!user) { co_return error_response(user.error(), req); }
  if (req.method == http::Method::post) {
    auto body = co_await ctx.read_body(16 * 1024);
    if (!body) { co_return error_response(body.error(), req); }
    auto in = parse_tag_json(*body);
    if (!in) { co_return error_response(in.error(), req); }
    auto t = co_await deps.collab.create_tag(user->id, in->name, in->user_visible, in->user_assignable);
    if (!t) {
      if (t.error().code == Errc::already_exists) { co_return status_response(http::Status::conflict, t.error().message, req); }
      co_return error_response(t.error(), req);
    }
    audit(deps, req, *user, "box.tag.create", "tag:" + std::to_string(t->id), "success");
    http::Response res(http::Status::created);
    res.set_header("Content-Location", tag_href(t->id));
    co_return res;
  }
  if (req.method != http::Method::propfind) { co_return status_response(http::Status::method_not_allowed, "This method is not allowed here", req); }
  auto body = co_await ctx.read_body(64 * 1024);
  if (!body) { co_return error_response(body.error(), req); }
  if (auto p = parse_propfind(*body); !p) { co_return error_response(p.error(), req); }
  std::string out(kMultistatusOpen);
  out += collection_response("/remote.php/dav/systemtags/");
  if (req.header("Depth") != "0") {
    auto tags = co_await deps.collab.tags(user->id);
    if (!tags) { co_return error_response(tags.error(), req); }
    for (const auto& t : *tags) { out += tag_response(t, tag_href(t.id)); }
  }
  out += kMultistatusClose;
  co_return multistatus(std::move(out));
}

awaitable<http::Response> handle_tag(http::RequestContext& ctx, const Deps& deps) {
  const auto& req = ctx.request();
  auto user = co_await authenticate(req, deps);
  if (!user) { co_return error_response(user.error(), req); }
  auto tag_id = id_param(ctx, "tagid");
  if (!tag_id) { co_return status_response(http::Status::not_found, "No such tag", req); }
  if (req.method == http::Method::delete_) {
    auto st = co_await deps.collab.delete_tag(user->id, *tag_id);
    if (!st) { co_return error_response(st.error(), req); }
    audit(deps, req, *user, "box.tag.delete", "tag:" + std::to_string(*tag_id), "success");
    co_return http::Response(http::Status::no_content);
  }
  auto t = co_await deps.collab.tag(user->id, *tag_id);
  if (!t) { co_return error_response(t.error(), req); }
  co_return multistatus(std::string(kMultistatusOpen) + tag_response(*t, tag_href(t->id)) + std::string(kMultistatusClose));
}

awaitable<http::Response> handle_relations(http::RequestContext& ctx, const Deps& deps) {
  const auto& req = ctx.request();
  auto user = co_await authenticate(req, deps);
  if (!user) { co_return error_response(user.error(), req); }
  auto file_id = id_param(ctx, "fileid");
  if (!file_id) { co_return not_found(req); }
  auto body = co_await ctx.read_body(64 * 1024);
  if (!body) { co_return error_response(body.error(), req); }
  if (auto p = parse_propfind(*body); !p) { co_return error_response(p.error(), req); }
  auto tags = co_await deps.collab.node_tags(user->id, *file_id);
  if (!tags) { co_return error_response(tags.error(), req); }
  std::string out(kMultistatusOpen);
  out += collection_response(relations_href(*file_id) + "/");
  if (req.header("Depth") != "0") {
    for (const auto& t : *tags) { out += tag_response(t, relations_href(*file_id) + "/" + std::to_string(t.id)); }
  }
  out += kMultistatusClose;
  co_return multistatus(std::move(out));
}

awaitable<http::Response> handle_relation(http::RequestContext& ctx, const Deps& deps) {
  const auto& req = ctx.request();
  auto user = co_await authenticate(req, deps);
  if (!user) { co_return error_response(user.error(), req); }
  auto file_id = id_param(ctx, "fileid");
  auto tag_id = id_param(ctx, "tagid");
  if (!file_id || !tag_id) { co_return not_found(req); }
  switch (req.method) {
    case http::Method::put: {
      auto st = co_await deps.collab.assign_tag(user->id, *file_id, *tag_id);
      if (!st) {
        if (st.error().code == Errc::already_exists) { co_return status_response(http::Status::conflict, st.error().message, req); }
        co_return error_response(st.error(), req);
      }
      co_return http::Response(http::Status::created);
    }
    case http::Method::delete_: {
      auto st = co_await deps.collab.unassign_tag(user->id, *file_id, *tag_id);
      if (!st) { co_return error_response(st.error(), req); }
      co_return http::Response(http::Status::no_content);
    }
    default: {  // PROPFIND
      auto tags = co_await deps.collab.node_tags(user->id, *file_id);
      if (!tags) { co_return error_response(tags.error(), req); }
      for (const auto& t : *tags) {
        if (t.id == *tag_id) {
          co_return multistatus(std::string(kMultistatusOpen) + tag_response(t, relations_href(*file_id) + "/" + std::to_string(t.id)) +
                                std::string(kMultistatusClose));
        }
      }
      co_return status_response(http::Status::not_found, "The tag is not on this file", req);
    }
  }
}

// --- unified search (OCS) ------------------------------------------------------------------------

std::string json_str(std::string_view s) { return "\"" + http::json_escape(s) + "\""; }

std::string parent_of(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? std::string() : path.substr(0, slash);
}

awaitable<http::Response> handle_search_providers(http::RequestContext& ctx, const Deps& deps) {
  const auto& req = ctx.request();
  auto user = co_await authenticate(req, deps);
  if (!user) { co_return ocs_response(req, status_for(user.error()), user.error().message, "[]", ""); }
  std::string json = "[", xml;
  int order = 5;
  for (auto [id, name] : {std::pair{"files", "Files"}, std::pair{"systemtags", "Tags"}}) {
    if (json.size() > 1) { json += ","; }
    json += "{\"id\":" + json_str(id) + ",\"appId\":" + json_str(id) + ",\"name\":" + json_str(name) + ",\"icon\":\"\",\"order\":" +
            std::to_string(order) + ",\"triggers\":[" + json_str(id) + "],\"filters\":{\"term\":\"string\"},\"inAppSearch\":false}";
    xml += std::string("<element><id>") + id + "</id><appId>" + id + "</appId><name>" + name + "</name><order>" + std::to_string(order) +
           "</order></element>";
    order += 5;
  }
  json += "]";
  co_return ocs_response(req, http::Status::ok, "OK", json, xml);
}

awaitable<http::Response> handle_search(http::RequestContext& ctx, const Deps& deps) {
  const auto& req = ctx.request();
  auto user = co_await authenticate(req, deps);
  if (!user) { co_return ocs_response(req, status_for(user.error()), user.error().message, "[]", ""); }
  std::string provider(ctx.param("provider"));
  if (provider != "files" && provider != "systemtags") { co_return ocs_response(req, http::Status::not_found, "No such search provider", "[]", ""); }
  auto q = parse_search_query(req.query_param("term"), req.query_param("limit"), req.query_param("cursor"));
  if (!q) { co_return ocs_response(req, http::Status::bad_request, q.error().message, "[]", ""); }
  Result<SearchPage> page = make_error(Errc::internal, "unreached");
  if (provider == "files") {
    page = co_await deps.collab.search_names(user->id, q->term, q->limit, q->cursor);
  } else {
    page = co_await deps.collab.search_tags(user->id, q->term, q->limit, q->cursor);
  }
  if (!page) { co_return ocs_response(req, status_for(page.error()), page.error().message, "[]", ""); }
  std::string entries = "[", xml_entries;
  for (const auto& n : page->nodes) {
    std::string folder = parent_of(n.path);
    std::string url = deps.options.public_url + "/#/files/" + http::percent_encode(folder, "/");
    std::string icon = n.folder ? "icon-folder" : "icon-filetype-file";
    if (entries.size() > 1) { entries += ","; }
    entries += "{\"thumbnailUrl\":\"\",\"title\":" + json_str(n.name) + ",\"subline\":" + json_str("/" + folder) + ",\"resourceUrl\":" + json_str(url) +
               ",\"icon\":" + json_str(icon) + ",\"rounded\":false,\"attributes\":{\"fileId\":" + json_str(std::to_string(n.id)) +
               ",\"path\":" + json_str("/" + n.path) + "}}";
    xml_entries += "<element><title>" + escape(n.name) + "</title><subline>" + escape("/" + folder) + "</subline><resourceUrl>" + escape(url) +
                   "</resourceUrl><attributes><fileId>" + std::to_string(n.id) + "</fileId><path>" + escape("/" + n.path) +
                   "</path></attributes></element>";
  }
  entries += "]";
  std::string name = provider == "files" ? "Files" : "Tags";
  std::string cursor = page->next ? std::to_string(*page->next) : "null";
  std::string json = "{\"name\":" + json_str(name) + ",\"isPaginated\":true,\"entries\":" + entries + ",\"cursor\":" + cursor + "}";
  std::string xml = "<name>" + name + "</name><isPaginated>1</isPaginated><entries>" + xml_entries + "</entries><cursor>" +
                    (page->next ? std::to_string(*page->next) : "") + "</cursor>";
  co_return ocs_response(req, http::Status::ok, "OK", json, xml);
}

}  // namespace

awaitable<http::Response> report_files(http::RequestContext& ctx, const Deps& deps, const User& user, const Root& root, const std::string& path) {
  const auto& req = ctx.request();
  auto body = co_await ctx.read_body(1024 * 1024);
  if (!body) { co_return error_response(body.error(), req); }
  auto r = parse_filter_files(*body);
  if (!r) { co_return error_response(r.error(), req); }
  auto base = co_await deps.box.stat(user.id, path);
  if (!base) { co_return error_response(base.error(), req); }
  std::size_t limit = r->limit == 0 ? 1000 : std::min<std::size_t>(r->limit, 1000);
  // A named filter: GCC 12 destroys a class temporary in a co_await expression twice.
  FileFilter filter{r->favorite, r->systemtags};
  auto nodes = co_await deps.collab.filter_files(user.id, std::move(filter), limit, r->offset);
  if (!nodes) {
    // A tag that is not the caller's filters nothing in: no file of anyone's shows.
    if (nodes.error().code != Errc::not_found) { co_return error_response(nodes.error(), req); }
    nodes = std::vector<Node>{};
  }
  // Reported on a folder: only what is beneath it.
  std::vector<Node> within;
  for (auto& n : *nodes) {
    if (path.empty() || n.path.starts_with(path + "/")) { within.push_back(std::move(n)); }
  }
  auto xml = co_await render_nodes(deps, user, root, r->props, within);
  if (!xml) { co_return error_response(xml.error(), req); }
  co_return multistatus(std::move(*xml));
}

void add_collab_routes(http::Router& router, const Deps& deps) {
  auto add = [&](std::initializer_list<http::Method> methods, const char* pattern, awaitable<http::Response> (*fn)(http::RequestContext&, const Deps&)) {
    for (auto m : methods) {
      router.add(m, pattern, [&deps, fn](http::RequestContext& ctx) { return fn(ctx, deps); });
    }
  };
  using M = http::Method;
  add({M::post, M::report, M::propfind, M::proppatch}, "/remote.php/dav/comments/files/{fileid}", handle_comments);
  add({M::propfind, M::proppatch, M::delete_}, "/remote.php/dav/comments/files/{fileid}/{commentid}", handle_comment);
  add({M::post, M::propfind}, "/remote.php/dav/systemtags", handle_tags);
  add({M::propfind, M::delete_}, "/remote.php/dav/systemtags/{tagid}", handle_tag);
  add({M::propfind}, "/remote.php/dav/systemtags-relations/files/{fileid}", handle_relations);
  add({M::propfind, M::put, M::delete_}, "/remote.php/dav/systemtags-relations/files/{fileid}/{tagid}", handle_relation);
  add({M::get}, "/ocs/v2.php/search/providers", handle_search_providers);
  add({M::get}, "/ocs/v2.php/search/providers/{provider}/search", handle_search);
}

}  // namespace ciel::box::dav
