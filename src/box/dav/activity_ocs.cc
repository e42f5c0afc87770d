// Nextcloud's Activity API (app "activity", endpoint v2) and Notifications API (v2), under
// /ocs/v1.php and /ocs/v2.php, over the box's activity stream and notifications (activity.h):
//   GET    /apps/activity/api/v2/activity[/<filter>]   the caller's stream; filters all, self, by,
//          files, files_sharing, favorites, and filter (with object_type=files&object_id=<fileid>);
//          since (an activity id), limit (1 to 200, default 50), sort (desc, the default, or asc).
//          A page that is not the last carries Link: <...>; rel="next" and X-Activity-Last-Given;
//          a first page X-Activity-First-Known. Nothing past `since`: 304. Unknown filter: 404.
//   GET    /apps/activity/api/v2/activity/filters      the filters, for clients that list them
//   GET    /apps/notifications/api/v2/notifications    the caller's notifications, newest first
//   DELETE /apps/notifications/api/v2/notifications[/<id>]   dismisses one (404 if unknown) or all
// Answers are JSON with ?format=json or an Accept naming json, XML otherwise (the OCS envelope).
#include <boost/json.hpp>

#include <cctype>

#include "box/dav/activity_query.h"
#include "box/dav/common.h"
#include "core/http/target.h"
#include "core/time.h"

namespace ciel::box::dav {
namespace {

using boost::asio::awaitable;
namespace json = boost::json;

constexpr std::string_view kActivityBase = "/apps/activity/api/v2/activity";
constexpr std::string_view kNotificationsBase = "/apps/notifications/api/v2/notifications";

// The same value as OCS XML: objects as elements named by their keys, arrays as <element>s.
void to_xml(const json::value& v, std::string& out) {
  switch (v.kind()) {
    case json::kind::object:
      for (const auto& [k, child] : v.get_object()) {
        // A key that cannot be an element name (the file ids of "objects") becomes an <element>.
        std::string key = !k.empty() && std::isalpha(static_cast<unsigned char>(k[0])) ? std::string(k) : "element";
        out += "<" + key + ">";
        to_xml(child, out);
        out += "</" + key + ">";
      }
      break;
    case json::kind::array:
      for (const auto& child : v.get_array()) {
        out += "<element>";
        to_xml(child, out);
        out += "</element>";
      }
      break;
    case json::kind::string: out += escape(std::string_view(v.get_string())); break;
    case json::kind::bool_: out += v.get_bool() ? "1" : "0"; break;
    case json::kind::null: break;
    default: out += json::serialize(v); break;
  }
}

http::Response ocs_data(const http::Request& req, const json::value& data) {
  std::string xml;
  to_xml(data, xml);
  return ocs_response(req, http::Status::ok, "OK", json::serialize(data), xml);
}

http::Response fail(const http::Request& req, const Error& e) {
  auto status = e.code == Errc::invalid_argument ? http::Status::bad_request
                : e.code == Errc::not_found      ? http::Status::not_found
                : e.code == Errc::unavailable    ? http::Status::service_unavailable
                                                 : http::Status::internal_server_error;
  return ocs_error_renderer(status, status == http::Status::internal_server_error ? std::string_view("Internal error") : std::string_view(e.message),
                            req);
}

// "2026-11-30T07:01:02+00:00", as Nextcloud writes it.
std::string nc_datetime(std::int64_t unix_s) {
  std::string s = iso8601(SystemTime(std::chrono::seconds(unix_s)));
  if (s.ends_with('Z')) { s.replace(s.size() - 1, 1, "+00:00"); }
  return s;
}

std::string leaf(std::string_view path) {
  auto slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

// Nextcloud's activity type and app for a kind (renames and moves are file_changed there).
std::pair<std::string_view, std::string_view> nc_type(ActivityKind k) {
  switch (k) {
    case ActivityKind::file_created: return {"file_created", "files"};
    case ActivityKind::file_changed:
    case ActivityKind::file_renamed:
    case ActivityKind::file_moved: return {"file_changed", "files"};
    case ActivityKind::file_deleted: return {"file_deleted", "files"};
    case ActivityKind::file_restored: return {"file_restored", "files"};
    case ActivityKind::link_created:
    case ActivityKind::link_changed:
    case ActivityKind::link_deleted:
    case ActivityKind::link_downloaded: return {"public_links", "files_sharing"};
    case ActivityKind::shared:
    case ActivityKind::unshared: return {"shared", "files_sharing"};
  }
  return {"file_changed", "files"};
}

// The rich subject: a template with {placeholders} and its parameters, in the user's words.
std::string subject_template(const ActivityEntry& e) {
  const bool self = e.actor == e.user;
  const bool anon = e.actor.empty();
  std::string who = self ? "You" : anon ? "A public link visitor" : "{user}";
  switch (e.kind) {
    case ActivityKind::file_created: return who + " created {file}";
    case ActivityKind::file_changed: return who + " changed {file}";
    case ActivityKind::file_renamed: return who + " renamed {oldfile} to {newfile}";
    case ActivityKind::file_moved: return who + " moved {oldfile} to {newfile}";
    case ActivityKind::file_deleted: return who + " deleted {file}";
    case ActivityKind::file_restored: return e.detail == "version" ? who + " restored an earlier version of {file}" : who + " restored {file}";
    case ActivityKind::link_created: return who + " shared {file} via a public link";
    case ActivityKind::link_changed: return who + " changed the public link of {file}";
    case ActivityKind::link_deleted: return who + " removed the public link of {file}";
    case ActivityKind::link_downloaded: return "{file} was downloaded through a public link";
    case ActivityKind::shared: return self ? "You shared {file} with " + e.detail : who + " shared {file} with you";
    case ActivityKind::unshared: return self ? "You stopped sharing {file} with " + e.detail : who + " stopped sharing {file} with you";
  }
  return who + " changed {file}";
}

json::object file_param(const ActivityEntry& e, const std::string& path) {
  return json::object{{"type", "file"}, {"id", std::to_string(e.node_id)}, {"name", leaf(path)}, {"path", path}};
}

json::value activity_item(const ActivityEntry& e, const User& user, const Deps& deps) {
  auto [type, app] = nc_type(e.kind);
  std::string tmpl = subject_template(e);
  json::object params;
  if (e.old_path.empty()) {
    params["file"] = file_param(e, e.path);
  } else {
    params["oldfile"] = file_param(e, e.old_path);
    params["newfile"] = file_param(e, e.path);
  }
  // The actor by login name (a user since deleted appears by id).
  std::string actor = e.actor == e.user ? user.name : e.actor.empty() ? std::string() : deps.identity.user_name(e.actor);
  if (actor.empty()) { actor = e.actor; }
  if (!actor.empty() && e.actor != e.user) { params["user"] = json::object{{"type", "user"}, {"id", actor}, {"name", actor}}; }
  // The plain subject names files by their names, or by their paths for a move (where the name stays).
  std::string plain = tmpl;
  const char* field = e.kind == ActivityKind::file_moved ? "path" : "name";
  for (const auto& [k, v] : params) {
    std::string key = "{" + std::string(k) + "}";
    if (auto pos = plain.find(key); pos != std::string::npos) { plain.replace(pos, key.size(), std::string(v.at(field).get_string())); }
  }
  json::object objects;
  objects[std::to_string(e.node_id)] = "/" + e.path;
  return json::object{
      {"activity_id", e.id},
      {"app", app},
      {"type", type},
      {"user", actor},
      {"affecteduser", user.name},
      {"subject", plain},
      {"subject_rich", json::array{json::string(tmpl), std::move(params)}},
      {"message", ""},
      {"message_rich", json::array{"", json::array{}}},
      {"object_type", "files"},
      {"object_id", e.node_id},
      {"object_name", "/" + e.path},
      {"objects", std::move(objects)},
      {"link", ""},
      {"icon", ""},
      {"datetime", nc_datetime(e.time_s)},
      {"ciel_kind", activity_kind_name(e.kind)},  // Ciel's finer kind (file_renamed, link_downloaded...)
      {"ciel_folder", e.folder},
  };
}

// The same request from `since` on.
std::string next_link(const Deps& deps, const http::Request& req, std::string_view filter, std::int64_t since) {
  std::string url = deps.options.public_url + req.path.substr(0, req.path.find(kActivityBase)) + std::string(kActivityBase) + "/" + std::string(filter) +
                    "?since=" + std::to_string(since);
  for (const auto& [k, v] : req.query_params) {
    if (k != "since") { url += "&" + http::percent_encode(k) + "=" + http::percent_encode(v); }
  }
  return url;
}

awaitable<http::Response> handle_activity(http::RequestContext& ctx, const Deps& deps, std::string filter) {
  const auto& req = ctx.request();
  auto user = co_await authenticate(req, deps);
  if (!user) { co_return ocs_error_renderer(http::Status::unauthorized, "Current user is not logged in", req); }
  if (filter == "filters") {
    json::array list;
    int priority = 0;
    for (auto [id, name] : {std::pair{"all", "All activities"}, {"self", "By you"}, {"by", "By others"}, {"files", "File changes"},
                            {"files_sharing", "Sharing"}, {"favorites", "Favorites"}}) {
      list.push_back(json::object{{"id", id}, {"name", name}, {"icon", ""}, {"priority", priority += 10}});
    }
    co_return ocs_data(req, list);
  }
  auto q = parse_activity_query(filter, req.query_params);
  if (!q) { co_return fail(req, q.error()); }
  auto page = co_await deps.box.activity(user->id, *q);
  if (!page) { co_return fail(req, page.error()); }
  if (page->entries.empty() && q->since > 0) {
    http::Response res{http::Status::not_modified};
    co_return res;
  }
  json::array items;
  for (const auto& e : page->entries) { items.push_back(activity_item(e, *user, deps)); }
  auto res = ocs_data(req, items);
  if (!page->entries.empty()) {
    res.set_header("X-Activity-Last-Given", std::to_string(page->entries.back().id));
    if (q->since == 0) { res.set_header("X-Activity-First-Known", std::to_string(page->entries.front().id)); }
  }
  if (page->more) { res.set_header("Link", "<" + next_link(deps, req, filter, page->entries.back().id) + ">; rel=\"next\""); }
  co_return res;
}

json::value notification_item(const Notification& n, const User& user) {
  return json::object{
      {"notification_id", n.id},
      {"app", n.app},
      {"user", user.name},
      {"datetime", nc_datetime(n.created_s)},
      {"object_type", n.object_type},
      {"object_id", n.object_id},
      {"subject", n.subject},
      {"message", n.message},
      {"link", n.link},
      {"subjectRich", ""},
      {"subjectRichParameters", json::array{}},
      {"messageRich", ""},
      {"messageRichParameters", json::array{}},
      {"icon", ""},
      {"shouldNotify", true},
      {"actions", json::array{}},
  };
}

awaitable<http::Response> handle_notifications(http::RequestContext& ctx, const Deps& deps, bool one) {
  const auto& req = ctx.request();
  auto user = co_await authenticate(req, deps);
  if (!user) { co_return ocs_error_renderer(http::Status::unauthorized, "Current user is not logged in", req); }
  if (req.method == http::Method::delete_) {
    Status st;
    if (one) {
      auto id = parse_i64(ctx.param("id"));
      if (!id) { co_return fail(req, Error{Errc::not_found, "No such notification"}); }
      st = co_await deps.box.dismiss_notification(user->id, *id);
    } else {
      st = co_await deps.box.dismiss_notifications(user->id);
    }
    if (!st) { co_return fail(req, st.error()); }
    co_return ocs_data(req, json::array{});
  }
  auto list = co_await deps.box.notifications(user->id);
  if (!list) { co_return fail(req, list.error()); }
  if (one) {
    auto id = parse_i64(ctx.param("id"));
    for (const auto& n : *list) {
      if (id && n.id == *id) { co_return ocs_data(req, notification_item(n, *user)); }
    }
    co_return fail(req, Error{Errc::not_found, "No such notification"});
  }
  json::array items;
  for (const auto& n : *list) { items.push_back(notification_item(n, *user)); }
  co_return ocs_data(req, items);
}

}  // namespace

void add_activity_routes(http::Router& router, const Deps& deps) {
  for (const char* v : {"/ocs/v1.php", "/ocs/v2.php"}) {
    std::string activity = std::string(v) + std::string(kActivityBase);
    router.add(http::Method::get, activity, [&deps](http::RequestContext& ctx) { return handle_activity(ctx, deps, "all"); });
    router.add(http::Method::get, activity + "/{filter}",
               [&deps](http::RequestContext& ctx) { return handle_activity(ctx, deps, std::string(ctx.param("filter"))); });
    std::string notes = std::string(v) + std::string(kNotificationsBase);
    auto all = [&deps](http::RequestContext& ctx) { return handle_notifications(ctx, deps, false); };
    auto one = [&deps](http::RequestContext& ctx) { return handle_notifications(ctx, deps, true); };
    router.add(http::Method::get, notes, all);
    router.add(http::Method::delete_, notes, all);
    router.add(http::Method::get, notes + "/{id}", one);
    router.add(http::Method::delete_, notes + "/{id}", one);
  }
}

}  // namespace ciel::box::dav
