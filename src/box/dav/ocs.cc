// What Nextcloud clients ask before they sync: /status.php, the OCS capabilities and the current
// user (/ocs/v1.php and /ocs/v2.php, JSON with ?format=json, XML otherwise), and the app password
// calls (GET /ocs/v2.php/core/getapppassword trades a login password for an app password;
// DELETE /ocs/v2.php/core/apppassword forgets the one in use).
#include "box/dav/common.h"
#include "core/crypto/crypto.h"

namespace ciel::box::dav {
namespace {

using boost::asio::awaitable;

// The Nextcloud version announced: clients pick behaviour (file name rules, chunking) by it.
constexpr std::string_view kNextcloudVersion = "25.0.3.2";

bool v2(const http::Request& req) { return req.path.starts_with("/ocs/v2.php"); }
bool wants_json(const http::Request& req) {
  auto f = req.query_param("format");
  if (f) { return *f == "json"; }
  return req.header("Accept").find("json") != std::string_view::npos;
}

// The OCS envelope around `data` (JSON text); XML answers carry the same meta.
http::Response ocs(const http::Request& req, http::Status status, std::string_view message, const std::string& data_json,
                   const std::string& data_xml) {
  bool is_v2 = v2(req);
  unsigned code = status == http::Status::ok ? (is_v2 ? 200 : 100) : http::code(status);
  std::string st = status == http::Status::ok ? "ok" : "failure";
  // OCS v1 answers 200 on the HTTP level and puts the real code in the envelope.
  http::Status http_status = is_v2 ? status : (status == http::Status::unauthorized ? status : http::Status::ok);
  if (wants_json(req)) {
    std::string body = "{\"ocs\":{\"meta\":{\"status\":\"" + st + "\",\"statuscode\":" + std::to_string(code) + ",\"message\":\"" +
                       http::json_escape(message) + "\"},\"data\":" + data_json + "}}";
    return http::Response(http_status, std::move(body), "application/json; charset=utf-8");
  }
  std::string body = "<?xml version=\"1.0\"?>\n<ocs><meta><status>" + st + "</status><statuscode>" + std::to_string(code) +
                     "</statuscode><message>" + escape(message) + "</message></meta><data>" + data_xml + "</data></ocs>\n";
  return http::Response(http_status, std::move(body), "text/xml; charset=utf-8");
}

http::Response ocs_error(const http::Request& req, http::Status status, std::string_view message) {
  auto res = ocs(req, status, message, "[]", "");
  if (status == http::Status::unauthorized) { res.set_header("WWW-Authenticate", "Basic realm=\"Ciel\", charset=\"UTF-8\""); }
  return res;
}

awaitable<http::Response> handle_status(http::RequestContext& ctx, const Deps& deps) {
  (void)ctx;
  std::string v(kNextcloudVersion);
  std::string body = "{\"installed\":true,\"maintenance\":false,\"needsDbUpgrade\":false,\"version\":\"" + v +
                     "\",\"versionstring\":\"25.0.3\",\"edition\":\"\",\"productname\":\"Ciel\",\"extendedSupport\":false,\"ciel\":\"" +
                     http::json_escape(deps.options.version) + "\"}";
  co_return http::Response(http::Status::ok, std::move(body), "application/json; charset=utf-8");
}

awaitable<http::Response> handle_capabilities(http::RequestContext& ctx, const Deps& deps) {
  const auto& c = deps.box.config();
  std::string json =
      "{\"version\":{\"major\":25,\"minor\":0,\"micro\":3,\"string\":\"25.0.3\",\"edition\":\"\",\"extendedSupport\":false},"
      "\"capabilities\":{\"core\":{\"pollinterval\":60,\"webdav-root\":\"remote.php/webdav\"},"
      "\"dav\":{\"chunking\":\"1.0\"},"
      "\"checksums\":{\"supportedTypes\":[\"SHA1\",\"MD5\",\"ADLER32\"],\"preferredUploadType\":\"SHA1\"},"
      "\"files\":{\"bigfilechunking\":true,\"blacklisted_files\":[\".htaccess\"],\"undelete\":" +
      std::string(c.trash_retention.count() > 0 ? "true" : "false") + ",\"versioning\":" + (c.max_versions > 0 ? "true" : "false") +
      "},\"files_sharing\":{\"api_enabled\":true,\"public\":{\"enabled\":true,\"password\":{\"enforced\":false},"
      "\"expire_date\":{\"enabled\":false},\"multiple_links\":true,\"upload\":true,\"upload_files_drop\":true},"
      "\"resharing\":true,\"user\":{\"send_mail\":false},\"group_sharing\":true,\"sharee\":{\"query_lookup_default\":false,\"always_show_unique\":true}},"
      "\"activity\":{\"apiv2\":[\"filters\",\"rich-strings\"]},"
      "\"notifications\":{\"ocs-endpoints\":[\"list\",\"get\",\"delete\",\"delete-all\"]}}}";
  std::string xml =
      "<version><major>25</major><minor>0</minor><micro>3</micro><string>25.0.3</string></version><capabilities><core><pollinterval>60</pollinterval>"
      "<webdav-root>remote.php/webdav</webdav-root></core><dav><chunking>1.0</chunking></dav><checksums><supportedTypes><element>SHA1</element>"
      "<element>MD5</element><element>ADLER32</element></supportedTypes><preferredUploadType>SHA1</preferredUploadType></checksums></capabilities>";
  co_return ocs(ctx.request(), http::Status::ok, "OK", json, xml);
}

awaitable<http::Response> handle_user(http::RequestContext& ctx, const Deps& deps) {
  const auto& req = ctx.request();
  auto user = co_await authenticate(req, deps);
  if (!user) { co_return ocs_error(req, http::Status::unauthorized, "Current user is not logged in"); }
  auto q = co_await deps.box.quota(user->id);
  if (!q) { co_return ocs_error(req, http::Status::service_unavailable, q.error().message); }
  std::int64_t total = q->total == 0 ? -3 : static_cast<std::int64_t>(q->total);
  std::int64_t free = q->total == 0 ? -3 : static_cast<std::int64_t>(q->total > q->used ? q->total - q->used : 0);
  double relative = q->total == 0 ? 0.0 : 100.0 * static_cast<double>(q->used) / static_cast<double>(q->total);
  std::string name = http::json_escape(user->name);
  std::string json = "{\"id\":\"" + name + "\",\"display-name\":\"" + name + "\",\"displayname\":\"" + name + "\",\"email\":null,\"enabled\":true," +
                     "\"quota\":{\"free\":" + std::to_string(free) + ",\"used\":" + std::to_string(q->used) + ",\"total\":" + std::to_string(total) +
                     ",\"relative\":" + std::to_string(relative) + ",\"quota\":" + std::to_string(total) + "}}";
  std::string xml = "<id>" + escape(user->name) + "</id><display-name>" + escape(user->name) + "</display-name><quota><free>" + std::to_string(free) +
                    "</free><used>" + std::to_string(q->used) + "</used><total>" + std::to_string(total) + "</total></quota>";
  co_return ocs(req, http::Status::ok, "OK", json, xml);
}

awaitable<http::Response> handle_get_app_password(http::RequestContext& ctx, const Deps& deps) {
  const auto& req = ctx.request();
  auto user = co_await authenticate(req, deps);
  if (!user) { co_return ocs_error(req, http::Status::unauthorized, "Current user is not logged in"); }
  std::string agent(req.header("User-Agent"));
  auto created = co_await deps.box.create_app_password(user->id, agent.empty() ? "Sync client" : agent.substr(0, 200));
  if (!created) { co_return ocs_error(req, http::Status::service_unavailable, created.error().message); }
  co_return ocs(req, http::Status::ok, "OK", "{\"apppassword\":\"" + created->second + "\"}", "<apppassword>" + created->second + "</apppassword>");
}

awaitable<http::Response> handle_delete_app_password(http::RequestContext& ctx, const Deps& deps) {
  const auto& req = ctx.request();
  auto user = co_await authenticate(req, deps);
  if (!user) { co_return ocs_error(req, http::Status::unauthorized, "Current user is not logged in"); }
  std::string_view auth = req.header("Authorization");
  std::string password;
  if (auth.size() > 6) {
    if (auto d = crypto::unbase64(auth.substr(6)); d && d->find(':') != std::string::npos) { password = d->substr(d->find(':') + 1); }
  }
  auto app = co_await deps.box.check_app_password(password);
  if (!app || app->user_id != user->id) { co_return ocs_error(req, http::Status::forbidden, "The request was not made with an app password"); }
  auto st = co_await deps.box.delete_app_password(user->id, app->id);
  if (!st) { co_return ocs_error(req, http::Status::service_unavailable, st.error().message); }
  deps.auth_cache->clear();
  co_return ocs(req, http::Status::ok, "OK", "[]", "");
}

}  // namespace

http::Response ocs_response(const http::Request& req, http::Status status, std::string_view message, const std::string& data_json,
                            const std::string& data_xml) {
  return ocs(req, status, message, data_json, data_xml);
}

http::Response ocs_error_renderer(http::Status status, std::string_view message, const http::Request& request) {
  return ocs_error(request, status, message);
}

void add_ocs_routes(http::Router& router, const Deps& deps) {
  router.add(http::Method::get, "/status.php", [&deps](http::RequestContext& ctx) { return handle_status(ctx, deps); });
  for (const char* v : {"/ocs/v1.php", "/ocs/v2.php"}) {
    std::string base(v);
    router.add(http::Method::get, base + "/cloud/capabilities", [&deps](http::RequestContext& ctx) { return handle_capabilities(ctx, deps); });
    router.add(http::Method::get, base + "/cloud/user", [&deps](http::RequestContext& ctx) { return handle_user(ctx, deps); });
    router.add(http::Method::get, base + "/core/getapppassword", [&deps](http::RequestContext& ctx) { return handle_get_app_password(ctx, deps); });
    router.add(http::Method::delete_, base + "/core/apppassword", [&deps](http::RequestContext& ctx) { return handle_delete_app_password(ctx, deps); });
  }
}

}  // namespace ciel::box::dav
