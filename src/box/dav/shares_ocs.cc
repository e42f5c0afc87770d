// Nextcloud's OCS Share API, for shares with users (shareType 0), groups (1) and public links (3),
// under /ocs/v1.php and /ocs/v2.php:
//   GET    /apps/files_sharing/api/v1/shares          the caller's shares and links (?path= one node's;
//                                                     ?shared_with_me=true: the shares they received)
//   POST   /apps/files_sharing/api/v1/shares          path, shareType, shareWith (a user's or group's
//                                                     name: users sharing a project with the caller,
//                                                     groups the caller is in), permissions (sum of 1
//                                                     read, 2 update, 4 create, 8 delete, 16 share;
//                                                     default 31, 19 on a file). Links: permissions 1,
//                                                     15 or 4 (publicUpload=true means 15), password,
//                                                     expireDate (YYYY-MM-DD), label
//   GET    /apps/files_sharing/api/v1/shares/<id>     one share (a list of one, as Nextcloud answers)
//   PUT    /apps/files_sharing/api/v1/shares/<id>     permissions; links also publicUpload, password
//                                                     ("" clears), expireDate ("" clears), label
//   DELETE /apps/files_sharing/api/v1/shares/<id>     revokes it (by a recipient: declines it)
//   GET    /apps/files_sharing/api/v1/sharees         ?search= users and groups one may share with
// Share ids: links and user/group shares live in two tables; the API numbers links 2n and shares
// 2n+1, so one id names one share (audit records name them by these ids too). Parameters come from the query, a form body or a JSON body.
// Answers carry Nextcloud's share fields (a link password's hash never leaves the server). Every
// change is audited (box.link.*, box.share.*). A link with expireDate D works until the end of D (UTC).
#include <cctype>
#include <charconv>
#include <cstdio>
#include <map>

#include "box/dav/common.h"
#include "box/dav/share_params.h"
#include "core/http/target.h"
#include "core/time.h"

namespace ciel::box::dav {
namespace {

using boost::asio::awaitable;

constexpr std::string_view kFolderMime = "httpd/unix-directory";

// One share field, in JSON and in XML.
struct Field {
  std::string key, json, xml;
  bool null = false;
};
Field str(std::string key, std::string_view v) { return {std::move(key), "\"" + http::json_escape(v) + "\"", escape(v)}; }
Field num(std::string key, std::int64_t v) { return {std::move(key), std::to_string(v), std::to_string(v)}; }
Field null(std::string key) { return {std::move(key), "null", "", true}; }
Field boolean(std::string key, bool v) { return {std::move(key), v ? "true" : "false", v ? "1" : ""}; }

std::string json_of(const std::vector<Field>& fields) {
  std::string out = "{";
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) { out += ','; }
    out += "\"" + fields[i].key + "\":" + fields[i].json;
  }
  return out + "}";
}
std::string xml_of(const std::vector<Field>& fields) {
  std::string out;
  for (const auto& f : fields) { out += f.null ? "<" + f.key + "/>" : "<" + f.key + ">" + f.xml + "</" + f.key + ">"; }
  return out;
}

std::int64_t link_ocs_id(std::int64_t link_id) { return link_id * 2; }
std::int64_t share_ocs_id(std::int64_t share_id) { return share_id * 2 + 1; }
std::int64_t ocs_id(const Link& l) { return link_ocs_id(l.id); }
std::int64_t ocs_id(const Share& s) { return share_ocs_id(s.id); }

std::vector<Field> share_fields(const Link& l, const User& user, const Deps& deps) {
  const Node& n = l.node;
  std::string mime = n.folder ? std::string(kFolderMime) : n.content_type.empty() ? std::string("application/octet-stream") : n.content_type;
  return {
      str("id", std::to_string(ocs_id(l))),
      num("share_type", 3),
      str("uid_owner", user.name),
      str("displayname_owner", user.name),
      num("permissions", link_permissions(l.access)),
      boolean("can_edit", true),
      boolean("can_delete", true),
      num("stime", l.created_s),
      null("parent"),
      l.expires_s ? str("expiration", expire_text(*l.expires_s)) : null("expiration"),
      str("token", l.token),
      str("uid_file_owner", user.name),
      str("note", ""),
      str("label", l.label),
      str("displayname_file_owner", user.name),
      str("path", "/" + n.path),
      str("item_type", n.folder ? "folder" : "file"),
      num("item_mtime", n.mtime),
      num("item_size", static_cast<std::int64_t>(n.size)),
      str("mimetype", mime),
      boolean("has_preview", false),
      str("storage_id", "home::" + user.name),
      num("storage", 1),
      num("item_source", n.id),
      num("file_source", n.id),
      num("file_parent", n.parent),
      str("file_target", "/" + n.name),
      null("share_with"),
      str("share_with_displayname", "(Shared link)"),
      boolean("password_protected", !l.password_hash.empty()),
      str("url", deps.options.public_url + "/s/" + l.token),
      num("mail_send", 0),
      num("hide_download", 0),
      null("attributes"),
      num("download_count", static_cast<std::int64_t>(l.downloads)),
  };
}

std::string mime_of(const Node& n) {
  return n.folder ? std::string(kFolderMime) : n.content_type.empty() ? std::string("application/octet-stream") : n.content_type;
}

// A user or group share as `user` sees it: its path is where they see the node (the owner's path,
// a recipient's mount point, a resharer's path through their own share).
std::vector<Field> share_fields(const Share& sh, const User& user, const std::string& path, const Deps& deps) {
  const Node& n = sh.node;
  std::string with = sh.type == ShareType::user ? deps.identity.user_name(sh.share_with) : deps.identity.group_name(sh.share_with);
  std::string initiator = deps.identity.user_name(sh.initiator);
  std::string owner = deps.identity.user_name(sh.owner);
  const bool mine = sh.owner == user.id || sh.initiator == user.id;
  std::string target = sh.mount_path.empty() ? n.name : sh.mount_path;
  return {
      str("id", std::to_string(ocs_id(sh))),
      num("share_type", static_cast<int>(sh.type)),
      str("uid_owner", initiator),
      str("displayname_owner", initiator),
      num("permissions", sh.permissions),
      boolean("can_edit", mine),
      boolean("can_delete", true),
      num("stime", sh.created_s),
      null("parent"),
      null("expiration"),
      null("token"),
      str("uid_file_owner", owner),
      str("note", ""),
      str("label", ""),
      str("displayname_file_owner", owner),
      str("path", "/" + path),
      str("item_type", n.folder ? "folder" : "file"),
      num("item_mtime", n.mtime),
      num("item_size", static_cast<std::int64_t>(n.size)),
      str("mimetype", mime_of(n)),
      boolean("has_preview", false),
      str("storage_id", "home::" + owner),
      num("storage", 1),
      num("item_source", n.id),
      num("file_source", n.id),
      num("file_parent", n.parent),
      str("file_target", "/" + target),
      str("share_with", with),
      str("share_with_displayname", with),
      num("mail_send", 0),
      num("hide_download", 0),
      null("attributes"),
      num("status", 0),
  };
}

http::Response ocs_fail(const http::Request& req, http::Status status, std::string_view message) {
  auto res = ocs_response(req, status, message, "[]", "");
  if (status == http::Status::unauthorized) { res.set_header("WWW-Authenticate", "Basic realm=\"Ciel\", charset=\"UTF-8\""); }
  return res;
}

http::Status ocs_status(const Error& e) {
  switch (e.code) {
    case Errc::invalid_argument: return http::Status::bad_request;
    case Errc::not_found:
    case Errc::conflict: return http::Status::not_found;
    case Errc::forbidden: return http::Status::forbidden;
    case Errc::already_exists: return http::Status::forbidden;  // Nextcloud: "Path is already shared with this user"
    case Errc::unauthenticated: return http::Status::unauthorized;
    case Errc::unavailable: return http::Status::service_unavailable;
    default: return http::Status::internal_server_error;
  }
}

http::Response ocs_error_for(const http::Request& req, const Error& e) {
  auto status = ocs_status(e);
  return ocs_fail(req, status, status == http::Status::internal_server_error ? std::string_view("Internal error") : std::string_view(e.message));
}

// Query parameters, then those of a form or JSON body (the body wins).
awaitable<Result<std::map<std::string, std::string>>> read_params(http::RequestContext& ctx) {
  std::string body;
  if (ctx.request().has_body()) {
    auto b = co_await ctx.read_body(64 * 1024);
    if (!b) { co_return b.error(); }
    body = std::move(*b);
  }
  co_return parse_share_params(ctx.request().query_params, body, ctx.request().header("Content-Type"));
}

// permissions, or publicUpload=true (read-write); nullopt when neither is given.
Result<std::optional<LinkAccess>> access_param(const std::map<std::string, std::string>& p) {
  if (auto it = p.find("permissions"); it != p.end() && !it->second.empty()) {
    auto v = parse_int(it->second);
    auto a = v ? link_access_from(*v) : std::nullopt;
    if (!a) { return make_error(Errc::invalid_argument, "Link permissions must be 1 (read), 15 (read and write) or 4 (upload only)"); }
    return std::optional<LinkAccess>{*a};
  }
  if (auto it = p.find("publicUpload"); it != p.end()) {
    if (it->second == "true" || it->second == "1") { return std::optional<LinkAccess>{LinkAccess::read_write}; }
    if (it->second == "false" || it->second == "0") { return std::optional<LinkAccess>{LinkAccess::read}; }
    return make_error(Errc::invalid_argument, "publicUpload must be true or false");
  }
  return std::optional<LinkAccess>{};
}

std::string link_target(std::int64_t link_id) { return "link:" + std::to_string(link_ocs_id(link_id)); }
std::string share_target(std::int64_t share_id) { return "share:" + std::to_string(share_ocs_id(share_id)); }

void audit(const Deps& deps, const http::Request& req, const User& user, std::string action, std::string target, std::string outcome,
           std::string detail) {
  deps.identity.audit(identity::AuditRecord{0, 0, user.id, std::move(action), std::move(target), std::move(outcome), req.remote_address,
                                            req.request_id, std::move(detail)});
}

// The answer to a refused call on one share or link: an unknown id is a 404 in Nextcloud's
// words; a refusal (403) is audited as denied.
http::Response refused(const Deps& deps, const http::Request& req, const User& user, const Error& e, std::string action, std::string target) {
  if (e.code == Errc::forbidden) { audit(deps, req, user, std::move(action), std::move(target), "denied", e.message); }
  if (e.code == Errc::not_found) { return ocs_fail(req, http::Status::not_found, "Wrong share ID, share does not exist"); }
  return ocs_error_for(req, e);
}

std::string audit_detail(const Link& l) {
  std::string out = "path=/" + l.node.path + " permissions=" + std::to_string(link_permissions(l.access)) +
                    " password=" + (l.password_hash.empty() ? "no" : "yes");
  if (l.expires_s) { out += " expires=" + expire_text(*l.expires_s).substr(0, 10); }
  return out;
}

http::Response one_share(const http::Request& req, const Link& l, const User& user, const Deps& deps) {
  auto f = share_fields(l, user, deps);
  return ocs_response(req, http::Status::ok, "OK", json_of(f), xml_of(f));
}

std::string audit_detail(const Share& sh, const Deps& deps) {
  return "path=/" + sh.node.path + " owner=" + deps.identity.user_name(sh.owner) + " with=" +
         (sh.type == ShareType::user ? "user:" + deps.identity.user_name(sh.share_with) : "group:" + deps.identity.group_name(sh.share_with)) +
         " permissions=" + std::to_string(sh.permissions);
}

// Where `user` sees a share's node: the owner's path, a recipient's mount point, or a resharer's
// path through the share they received.
awaitable<std::string> path_for(const Share& sh, const User& user, const Deps& deps) {
  if (sh.owner == user.id) { co_return sh.node.path; }
  if (!sh.mount_path.empty()) { co_return sh.mount_path; }
  auto n = co_await deps.box.node_by_id(user.id, sh.node_id);
  co_return n ? n->path : sh.node.name;
}

awaitable<http::Response> one_user_share(const http::Request& req, const Share& sh, const User& user, const Deps& deps, bool as_list) {
  auto f = share_fields(sh, user, co_await path_for(sh, user, deps), deps);
  if (as_list) { co_return ocs_response(req, http::Status::ok, "OK", "[" + json_of(f) + "]", "<element>" + xml_of(f) + "</element>"); }
  co_return ocs_response(req, http::Status::ok, "OK", json_of(f), xml_of(f));
}

// The node at a path the client sent, as a 404 in Nextcloud's words when there is none.
awaitable<Result<Node>> node_at(const Deps& deps, const User& user, const std::string& path) {
  auto n = co_await deps.box.stat(user.id, path);
  if (!n && (n.error().code == Errc::not_found || n.error().code == Errc::conflict || n.error().code == Errc::invalid_argument)) {
    co_return make_error(Errc::not_found, "Wrong path, file/folder does not exist");
  }
  co_return n;
}

awaitable<http::Response> handle_list(http::RequestContext& ctx, const Deps& deps, const User& user) {
  const auto& req = ctx.request();
  std::string json = "[", xml;
  auto add = [&](const std::vector<Field>& f) {
    json += (json.size() > 1 ? "," : "") + json_of(f);
    xml += "<element>" + xml_of(f) + "</element>";
  };
  if (auto swm = req.query_param("shared_with_me"); swm && (*swm == "true" || *swm == "1")) {
    auto received = co_await deps.box.received_shares(user.id);
    if (!received) { co_return ocs_error_for(req, received.error()); }
    for (const auto& sh : *received) { add(share_fields(sh, user, sh.mount_path, deps)); }
    co_return ocs_response(req, http::Status::ok, "OK", json + "]", xml);
  }
  std::optional<std::int64_t> node_id;
  if (auto path = req.query_param("path")) {
    auto n = co_await node_at(deps, user, std::string(*path));
    if (!n) { co_return ocs_error_for(req, n.error()); }
    node_id = n->id;
  }
  auto shares = co_await deps.box.shares(user.id, node_id);
  if (!shares) { co_return ocs_error_for(req, shares.error()); }
  for (const auto& sh : *shares) { add(share_fields(sh, user, co_await path_for(sh, user, deps), deps)); }
  auto links = co_await deps.box.links(user.id, node_id);
  if (!links) { co_return ocs_error_for(req, links.error()); }
  for (const auto& l : *links) { add(share_fields(l, user, deps)); }
  co_return ocs_response(req, http::Status::ok, "OK", json + "]", xml);
}

// shareType 0 and 1: the recipient by name, among the users who share a project with the caller
// and the groups the caller is in (nobody else is found, so nobody else is revealed).
awaitable<http::Response> create_user_share(const http::Request& req, const Deps& deps, const User& user, const std::map<std::string, std::string>& p,
                                             const Node& node, ShareType type) {
  auto with = p.find("shareWith");
  if (with == p.end() || with->second.empty()) { co_return ocs_fail(req, http::Status::not_found, "Please specify a valid account to share with"); }
  std::string recipient;
  if (type == ShareType::user) {
    for (const auto& u : deps.identity.coworkers(user.id)) {
      if (u.name == with->second) { recipient = u.id; }
    }
    if (recipient.empty()) { co_return ocs_fail(req, http::Status::not_found, "Please specify a valid account to share with"); }
    if (recipient == user.id) { co_return ocs_fail(req, http::Status::bad_request, "You cannot share with yourself"); }
  } else {
    for (const auto& g : deps.identity.groups_of(user.id)) {
      if (g.name == with->second) { recipient = g.id; }
    }
    if (recipient.empty()) { co_return ocs_fail(req, http::Status::not_found, "Please specify a valid group"); }
  }
  int permissions = node.folder ? kPermAll : (kPermRead | kPermUpdate | kPermShare);
  if (auto it = p.find("permissions"); it != p.end() && !it->second.empty()) {
    auto v = parse_int(it->second);
    if (!v) { co_return ocs_fail(req, http::Status::bad_request, "Share permissions must be a number"); }
    permissions = *v;
  }
  auto sh = co_await deps.box.create_share(user.id, node.path, type, recipient, permissions);
  if (!sh) {
    if (sh.error().code == Errc::forbidden) {
      audit(deps, req, user, "box.share.create", "path:/" + node.path, "denied", sh.error().message);
    }
    co_return ocs_error_for(req, sh.error());
  }
  audit(deps, req, user, "box.share.create", share_target(sh->id), "success", audit_detail(*sh, deps));
  co_return co_await one_user_share(req, *sh, user, deps, false);
}

awaitable<http::Response> handle_create(http::RequestContext& ctx, const Deps& deps, const User& user) {
  const auto& req = ctx.request();
  auto p = co_await read_params(ctx);
  if (!p) { co_return ocs_error_for(req, p.error()); }
  auto type = p->find("shareType");
  if (type == p->end() || (type->second != "0" && type->second != "1" && type->second != "3")) {
    co_return ocs_fail(req, http::Status::bad_request, "Unknown share type: shares with users (0), groups (1) and public links (3) are supported");
  }
  auto path = p->find("path");
  if (path == p->end() || path->second.empty()) { co_return ocs_fail(req, http::Status::not_found, "Please specify a file or folder path"); }
  auto n = co_await node_at(deps, user, path->second);
  if (!n) { co_return ocs_error_for(req, n.error()); }
  if (type->second != "3") { co_return co_await create_user_share(req, deps, user, *p, *n, type->second == "0" ? ShareType::user : ShareType::group); }
  LinkInput input;
  auto access = access_param(*p);
  if (!access) { co_return ocs_error_for(req, access.error()); }
  input.access = access->value_or(LinkAccess::read);
  if (auto it = p->find("password"); it != p->end() && !it->second.empty()) { input.password = it->second; }
  if (auto it = p->find("expireDate"); it != p->end() && !it->second.empty()) {
    input.expires_s = parse_expire_date(it->second);
    if (!input.expires_s) { co_return ocs_fail(req, http::Status::bad_request, "Invalid date, date format must be YYYY-MM-DD"); }
  }
  if (auto it = p->find("label"); it != p->end()) { input.label = it->second; }
  auto link = co_await deps.box.create_link(user.id, n->path, std::move(input));
  if (!link) { co_return ocs_error_for(req, link.error()); }
  audit(deps, req, user, "box.link.create", link_target(link->id), "success", audit_detail(*link));
  co_return one_share(req, *link, user, deps);
}

awaitable<http::Response> handle_one_share(http::RequestContext& ctx, const Deps& deps, const User& user, std::int64_t id) {
  const auto& req = ctx.request();
  auto denied = [&](const Error& e, std::string action) { return refused(deps, req, user, e, std::move(action), share_target(id)); };
  if (req.method == http::Method::get) {
    auto sh = co_await deps.box.share(user.id, id);
    if (!sh) { co_return denied(sh.error(), "box.share.read"); }
    co_return co_await one_user_share(req, *sh, user, deps, true);
  }
  if (req.method == http::Method::delete_) {
    auto st = co_await deps.box.delete_share(user.id, id);
    if (!st) { co_return denied(st.error(), "box.share.delete"); }
    audit(deps, req, user, "box.share.delete", share_target(id), "success", "");
    co_return ocs_response(req, http::Status::ok, "OK", "[]", "");
  }
  auto p = co_await read_params(ctx);
  if (!p) { co_return ocs_error_for(req, p.error()); }
  auto it = p->find("permissions");
  auto v = it == p->end() ? std::nullopt : parse_int(it->second);
  if (!v) { co_return ocs_fail(req, http::Status::bad_request, "Wrong or no update parameter given"); }
  auto sh = co_await deps.box.update_share(user.id, id, *v);
  if (!sh) { co_return denied(sh.error(), "box.share.update"); }
  audit(deps, req, user, "box.share.update", share_target(id), "success", audit_detail(*sh, deps));
  co_return co_await one_user_share(req, *sh, user, deps, false);
}

awaitable<http::Response> handle_one(http::RequestContext& ctx, const Deps& deps, const User& user) {
  const auto& req = ctx.request();
  std::string id_text(ctx.param("id"));
  std::int64_t ocs = 0;
  if (auto [end, ec] = std::from_chars(id_text.data(), id_text.data() + id_text.size(), ocs);
      ec != std::errc{} || end != id_text.data() + id_text.size() || ocs < 0) {
    co_return ocs_fail(req, http::Status::not_found, "Wrong share ID, share does not exist");
  }
  if (ocs % 2 == 1) { co_return co_await handle_one_share(ctx, deps, user, ocs / 2); }
  const std::int64_t id = ocs / 2;
  auto denied = [&](const Error& e, std::string action) { return refused(deps, req, user, e, std::move(action), link_target(id)); };
  if (req.method == http::Method::get) {
    auto l = co_await deps.box.link(user.id, id);
    if (!l) { co_return denied(l.error(), "box.link.read"); }
    auto f = share_fields(*l, user, deps);
    co_return ocs_response(req, http::Status::ok, "OK", "[" + json_of(f) + "]", "<element>" + xml_of(f) + "</element>");
  }
  if (req.method == http::Method::delete_) {
    auto st = co_await deps.box.delete_link(user.id, id);
    if (!st) { co_return denied(st.error(), "box.link.delete"); }
    audit(deps, req, user, "box.link.delete", link_target(id), "success", "");
    co_return ocs_response(req, http::Status::ok, "OK", "[]", "");
  }
  auto p = co_await read_params(ctx);
  if (!p) { co_return ocs_error_for(req, p.error()); }
  LinkUpdate update;
  auto access = access_param(*p);
  if (!access) { co_return ocs_error_for(req, access.error()); }
  update.access = *access;
  if (auto it = p->find("password"); it != p->end()) {
    if (it->second.empty()) {
      update.password.emplace();  // cleared
    } else {
      update.password.emplace(it->second);
    }
  }
  if (auto it = p->find("expireDate"); it != p->end()) {
    if (it->second.empty()) {
      update.expires_s.emplace();  // cleared
    } else {
      auto e = parse_expire_date(it->second);
      if (!e) { co_return ocs_fail(req, http::Status::bad_request, "Invalid date, date format must be YYYY-MM-DD"); }
      update.expires_s.emplace(*e);
    }
  }
  if (auto it = p->find("label"); it != p->end()) { update.label = it->second; }
  if (!update.access && !update.password && !update.expires_s && !update.label) {
    co_return ocs_fail(req, http::Status::bad_request, "Wrong or no update parameter given");
  }
  auto l = co_await deps.box.update_link(user.id, id, std::move(update));
  if (!l) { co_return denied(l.error(), "box.link.update"); }
  audit(deps, req, user, "box.link.update", link_target(id), "success", audit_detail(*l));
  co_return one_share(req, *l, user, deps);
}

// Sharees: ?search= (a part of a name, case-insensitive; empty lists everyone), ?perPage= (1-200,
// default 200). Exact matches are listed under "exact", as Nextcloud does.
awaitable<http::Response> handle_sharees(http::RequestContext& ctx, const Deps& deps) {
  const auto& req = ctx.request();
  auto user = co_await authenticate(req, deps);
  if (!user) { co_return ocs_fail(req, http::Status::unauthorized, "Current user is not logged in"); }
  std::string search(req.query_param("search").value_or(""));
  if (search.size() > 255) { co_return ocs_fail(req, http::Status::bad_request, "The search is too long"); }
  int per_page = 200;
  if (auto pp = req.query_param("perPage")) {
    auto v = parse_int(std::string(*pp));
    if (!v || *v < 1 || *v > 200) { co_return ocs_fail(req, http::Status::bad_request, "perPage must be between 1 and 200"); }
    per_page = *v;
  }
  auto lower = [](std::string s) {
    for (auto& ch : s) { ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch))); }
    return s;
  };
  const std::string needle = lower(search);
  struct Hit {
    std::string name;
    int type;
    bool exact;
  };
  std::vector<Hit> hits;
  for (const auto& u : deps.identity.coworkers(user->id)) {
    if (u.id == user->id) { continue; }
    auto name = lower(u.name);
    if (needle.empty() || name.find(needle) != std::string::npos) { hits.push_back({u.name, 0, name == needle}); }
  }
  for (const auto& g : deps.identity.groups_of(user->id)) {
    auto name = lower(g.name);
    if (needle.empty() || name.find(needle) != std::string::npos) { hits.push_back({g.name, 1, name == needle}); }
  }
  auto render = [&](bool exact, int type, std::string& json, std::string& xml) {
    json = "[";
    int n = 0;
    for (const auto& h : hits) {
      if (h.exact != exact || h.type != type || n >= per_page) { continue; }
      std::string esc = http::json_escape(h.name);
      json += (n++ ? "," : "") + std::string("{\"label\":\"") + esc + "\",\"value\":{\"shareType\":" + std::to_string(type) + ",\"shareWith\":\"" +
              esc + "\"}}";
      xml += "<element><label>" + escape(h.name) + "</label><value><shareType>" + std::to_string(type) + "</shareType><shareWith>" +
             escape(h.name) + "</shareWith></value></element>";
    }
    json += "]";
  };
  std::string eu, eux, eg, egx, u, ux, g, gx;
  render(true, 0, eu, eux);
  render(true, 1, eg, egx);
  render(false, 0, u, ux);
  render(false, 1, g, gx);
  std::string json = "{\"exact\":{\"users\":" + eu + ",\"groups\":" + eg + ",\"remotes\":[],\"emails\":[]},\"users\":" + u + ",\"groups\":" + g +
                     ",\"remotes\":[],\"emails\":[],\"lookup\":[]}";
  std::string xml = "<exact><users>" + eux + "</users><groups>" + egx + "</groups><remotes/><emails/></exact><users>" + ux + "</users><groups>" + gx +
                    "</groups><remotes/><emails/><lookup/>";
  co_return ocs_response(req, http::Status::ok, "OK", json, xml);
}

awaitable<http::Response> handle_shares(http::RequestContext& ctx, const Deps& deps, bool one) {
  const auto& req = ctx.request();
  auto user = co_await authenticate(req, deps);
  if (!user) { co_return ocs_fail(req, http::Status::unauthorized, "Current user is not logged in"); }
  if (one) { co_return co_await handle_one(ctx, deps, *user); }
  if (req.method == http::Method::post) { co_return co_await handle_create(ctx, deps, *user); }
  co_return co_await handle_list(ctx, deps, *user);
}

}  // namespace

void add_share_routes(http::Router& router, const Deps& deps) {
  for (const char* v : {"/ocs/v1.php", "/ocs/v2.php"}) {
    std::string base = std::string(v) + "/apps/files_sharing/api/v1/shares";
    auto all = [&deps](http::RequestContext& ctx) { return handle_shares(ctx, deps, false); };
    auto one = [&deps](http::RequestContext& ctx) { return handle_shares(ctx, deps, true); };
    router.add(http::Method::get, base, all);
    router.add(http::Method::post, base, all);
    router.add(http::Method::get, base + "/{id}", one);
    router.add(http::Method::put, base + "/{id}", one);
    router.add(http::Method::delete_, base + "/{id}", one);
    router.add(http::Method::get, std::string(v) + "/apps/files_sharing/api/v1/sharees",
               [&deps](http::RequestContext& ctx) { return handle_sharees(ctx, deps); });
  }
}

}  // namespace ciel::box::dav
