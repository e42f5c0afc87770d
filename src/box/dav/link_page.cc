// The page a public link's URL opens in a browser, /s/<token>: server-rendered, in French or
// English (Accept-Language), under a Content-Security-Policy that allows no script but the upload
// form's own file (/assets/, built by Vite from web/src/linkupload.ts; no inline script).
//   GET  /s/<token>[?path=sub/folder]        a file: its name, size and a download button; a folder
//                                            (read or read-write link): its list, folders to open,
//                                            files to download, the folder as a zip; a read-write
//                                            folder and a file drop: an upload form (files go up
//                                            through public WebDAV, each with a progress bar); a
//                                            file drop shows nothing of what it holds
//   GET  /s/<token>/download[?path=a/b.txt]  the file, as an attachment, or a folder as a zip
//                                            (either counts one download)
//   POST /s/<token>/password                 form field `password`: a right one sets a cookie for
//                                            an hour, HttpOnly, SameSite=Strict, for Path=/s/<token>
//                                            and for the link's public WebDAV (the upload form's
//                                            PUTs), sealed with a per-process key (a restart or a
//                                            password change asks again), then 303 to the page
// Password attempts go through the same per-link and per-address back-off as public WebDAV.
#include <charconv>
#include <cstdio>

#include "box/dav/common.h"
#include "core/crypto/crypto.h"
#include "core/http/target.h"
#include "core/log/log.h"

namespace ciel::box::dav {

std::string LinkAuth::cookie_for(const Link& link, std::int64_t expires_s) const {
  std::string e = std::to_string(expires_s);
  return e + "." + crypto::hex(crypto::hmac_sha256(cookie_key_, link.token + '\0' + link.password_hash + '\0' + e));
}

bool LinkAuth::cookie_ok(const Link& link, std::string_view value, std::int64_t now) const {
  auto dot = value.find('.');
  if (dot == std::string_view::npos) { return false; }
  std::int64_t e = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + dot, e);
  if (ec != std::errc{} || end != value.data() + dot || e <= now) { return false; }
  return crypto::constant_time_equals(cookie_for(link, e), value);
}

bool LinkAuth::has_cookie(const Link& link, const http::Request& req) const {
  std::string_view value = http::cookie_value(req.header("Cookie"), kLinkCookie);
  auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  return !value.empty() && cookie_ok(link, value, now);
}

namespace {

using boost::asio::awaitable;

constexpr std::int64_t kCookieSeconds = 3600;

struct Texts {
  std::string_view lang, not_found_title, not_found, password_title, password_prompt, password_label, open, wrong_password,
      too_many, download, folder_empty, drop_title, drop_text, shared_file, shared_folder, up, download_zip, upload_label,
      upload_button, uploaded, upload_failed, upload_exists, upload_summary;
};

const Texts& texts(const http::Request& req) {
  static const Texts kEn{"en", "Link not found", "This link does not exist, has expired or was removed.", "Password required",
                         "This shared item is protected by a password.", "Password", "Open", "Wrong password.",
                         "Too many wrong passwords. Try again later.", "Download", "This folder is empty.", "File drop",
                         "This folder only accepts uploads: its contents are not shown. Send files with the form below, "
                         "or with a WebDAV client at this address:",
                         "Shared file", "Shared folder", "Up", "Download this folder (zip)", "Files to send", "Send",
                         "Uploaded", "Failed", "Not sent: a file with this name is already here", "{done} of {total} files uploaded."};
  static const Texts kFr{"fr", "Lien introuvable", "Ce lien n'existe pas, a expiré ou a été supprimé.", "Mot de passe requis",
                         "Cet élément partagé est protégé par un mot de passe.", "Mot de passe", "Ouvrir", "Mot de passe incorrect.",
                         "Trop de mots de passe incorrects. Réessayez plus tard.", "Télécharger", "Ce dossier est vide.", "Dépôt de fichiers",
                         "Ce dossier n'accepte que des dépôts : son contenu n'est pas affiché. Envoyez-y des fichiers avec le "
                         "formulaire ci-dessous, ou avec un client WebDAV à cette adresse :",
                         "Fichier partagé", "Dossier partagé", "Remonter", "Télécharger ce dossier (zip)", "Fichiers à envoyer",
                         "Envoyer", "Envoyé", "Échec", "Non envoyé : un fichier de ce nom est déjà là",
                         "{done} fichier(s) envoyé(s) sur {total}."};
  // The first language the browser lists that we speak.
  std::string_view h = req.header("Accept-Language");
  std::size_t i = 0;
  while (i < h.size()) {
    auto comma = h.find(',', i);
    if (comma == std::string_view::npos) { comma = h.size(); }
    std::string_view tag = h.substr(i, comma - i);
    while (!tag.empty() && tag.front() == ' ') { tag.remove_prefix(1); }
    if (tag.size() >= 2 && http::iequals(tag.substr(0, 2), "fr")) { return kFr; }
    if (tag.size() >= 2 && http::iequals(tag.substr(0, 2), "en")) { return kEn; }
    i = comma + 1;
  }
  return kEn;
}

// `script`: the URL of the page's one script (the upload form's), or empty for none.
http::Response page(http::Status status, const Texts& t, std::string_view title, const std::string& body_html,
                    std::string_view script = {}) {
  std::string html = "<!DOCTYPE html>\n<html lang=\"" + std::string(t.lang) +
                     "\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">"
                     "<meta name=\"robots\" content=\"noindex\"><title>" +
                     escape(title) + " - Ciel</title>" +
                     (script.empty() ? std::string() : "<script type=\"module\" src=\"" + escape(script) + "\"></script>") +
                     "</head><body><main><h1>" + escape(title) + "</h1>" + body_html + "</main></body></html>\n";
  http::Response res(status, std::move(html), "text/html; charset=utf-8");
  res.set_header("Content-Security-Policy", script.empty() ? "default-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
                                                           : "default-src 'none'; script-src 'self'; connect-src 'self'; form-action 'self'; "
                                                             "frame-ancestors 'none'; base-uri 'none'");
  res.set_header("X-Frame-Options", "DENY");
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("Referrer-Policy", "no-referrer");
  res.set_header("Cache-Control", "no-store");
  return res;
}

http::Response not_found(const Texts& t) { return page(http::Status::not_found, t, t.not_found_title, "<p>" + escape(t.not_found) + "</p>"); }

std::string size_text(std::uint64_t n) {
  const char* units[] = {"B", "KB", "MB", "GB", "TB"};
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1000 && u < 4) {
    v /= 1000;
    ++u;
  }
  char buf[32];
  if (u == 0) {
    std::snprintf(buf, sizeof buf, "%.0f %s", v, units[u]);
  } else {
    std::snprintf(buf, sizeof buf, "%.1f %s", v, units[u]);
  }
  return buf;
}

std::string base_url(const std::string& token) { return "/s/" + http::percent_encode(token); }
// The download of the file or folder (as a zip) at `path` of the link.
std::string download_url(const std::string& base, const std::string& path) {
  return base + "/download" + (path.empty() ? std::string() : "?path=" + http::percent_encode(path));
}

// The link's public WebDAV root, without the trailing slash.
std::string dav_url(const std::string& token) { return "/public.php/dav/files/" + http::percent_encode(token); }

// The upload form into `folder` of the link (linkupload.ts fills it in; hidden until it runs).
std::string upload_form(const Texts& t, const std::string& token, const std::string& folder) {
  std::string target = dav_url(token) + "/" + (folder.empty() ? std::string() : http::percent_encode(folder, "/") + "/");
  return "<form id=\"upload\" hidden data-target=\"" + escape(target) + "\" data-uploaded=\"" + escape(t.uploaded) + "\" data-failed=\"" +
         escape(t.upload_failed) + "\" data-exists=\"" + escape(t.upload_exists) + "\" data-summary=\"" + escape(t.upload_summary) +
         "\"><p><label for=\"upload-files\">" + escape(t.upload_label) +
         "</label><br><input id=\"upload-files\" type=\"file\" multiple required></p><p><button type=\"submit\">" + escape(t.upload_button) +
         "</button></p></form><ul id=\"upload-list\"></ul><p id=\"upload-status\" role=\"status\"></p>";
}

std::string password_form(const Texts& t, const std::string& token, std::string_view error) {
  std::string html = "<p>" + escape(t.password_prompt) + "</p>";
  if (!error.empty()) { html += "<p role=\"alert\"><strong>" + escape(error) + "</strong></p>"; }
  html += "<form method=\"post\" action=\"" + escape(base_url(token)) + "/password\"><p><label for=\"password\">" + escape(t.password_label) +
          "</label><br><input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required></p>"
          "<p><button type=\"submit\">" +
          escape(t.open) + "</button></p></form>";
  return html;
}

std::int64_t now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// The link, when it works and the visitor may see it; otherwise the page to answer with.
struct Opened {
  std::optional<Link> link;
  std::optional<http::Response> answer;
};

awaitable<Opened> open_for_visitor(const Deps& deps, const http::Request& req, const std::string& token) {
  const Texts& t = texts(req);
  auto link = co_await deps.box.open_link(token);
  if (!link) {
    if (link.error().code != Errc::not_found) { log::warn("box: link page: {} {}", link.error().message, link.error().detail); }
    co_return Opened{std::nullopt, not_found(t)};
  }
  if (!link->password_hash.empty() && !deps.link_auth->has_cookie(*link, req)) {
    co_return Opened{std::nullopt, page(http::Status::unauthorized, t, t.password_title, password_form(t, token, ""))};
  }
  co_return Opened{std::move(*link), std::nullopt};
}

awaitable<http::Response> handle_page(http::RequestContext& ctx, const Deps& deps) {
  const auto& req = ctx.request();
  const Texts& t = texts(req);
  std::string token(ctx.param("token"));
  auto o = co_await open_for_visitor(deps, req, token);
  if (!o.link) { co_return std::move(*o.answer); }
  const Link& link = *o.link;
  std::string base = base_url(token);
  const std::string& script = deps.options.upload_script;
  if (link.access == LinkAccess::upload) {
    std::string dav = deps.options.public_url + dav_url(token) + "/";
    std::string html = "<p>" + escape(t.drop_text) + "</p><p><code>" + escape(dav) + "</code></p>";
    if (!script.empty()) { html += upload_form(t, token, ""); }
    co_return page(http::Status::ok, t, t.drop_title, html, script);
  }
  auto path = normalize_link_path(req.query_param("path").value_or(""));
  if (!path) { co_return not_found(t); }
  auto tree = deps.box.subtree(link);
  auto listing = co_await tree->list(*path);
  if (!listing) { co_return not_found(t); }
  const Node& node = listing->first;
  if (!node.folder) {
    std::string html = "<p>" + escape(node.name) + " (" + size_text(node.size) + ")</p><p><a href=\"" + escape(download_url(base, *path)) +
                       "\">" + escape(t.download) + "</a></p>";
    co_return page(http::Status::ok, t, t.shared_file, html);
  }
  std::string html = "<p><strong>" + escape(path->empty() ? node.name : *path) + "</strong></p>";
  if (!path->empty()) {
    auto slash = path->rfind('/');
    std::string up = slash == std::string::npos ? std::string() : path->substr(0, slash);
    html += "<p><a href=\"" + escape(base + (up.empty() ? std::string() : "?path=" + http::percent_encode(up))) + "\">" + escape(t.up) + "</a></p>";
  }
  if (listing->second.empty()) { html += "<p>" + escape(t.folder_empty) + "</p>"; }
  html += "<ul>";
  for (const auto& c : listing->second) {
    std::string target = c.folder ? base + "?path=" + http::percent_encode(c.path) : download_url(base, c.path);
    html += "<li><a href=\"" + escape(target) + "\">" + escape(c.name) + (c.folder ? "/" : "") + "</a>" +
            (c.folder ? std::string() : " (" + size_text(c.size) + ")") + "</li>";
  }
  html += "</ul><p><a href=\"" + escape(download_url(base, *path)) + "\">" + escape(t.download_zip) + "</a></p>";
  if (link.access == LinkAccess::read_write && !script.empty()) {
    html += upload_form(t, token, *path);
    co_return page(http::Status::ok, t, t.shared_folder, html, script);
  }
  co_return page(http::Status::ok, t, t.shared_folder, html);
}

awaitable<http::Response> handle_download(http::RequestContext& ctx, const Deps& deps) {
  const auto& req = ctx.request();
  const Texts& t = texts(req);
  std::string token(ctx.param("token"));
  auto o = co_await open_for_visitor(deps, req, token);
  if (!o.link) { co_return std::move(*o.answer); }
  if (o.link->access == LinkAccess::upload) { co_return not_found(t); }
  auto path = normalize_link_path(req.query_param("path").value_or(""));
  if (!path) { co_return not_found(t); }
  auto tree = deps.box.subtree(*o.link);
  auto node = co_await tree->stat(*path);
  if (!node) { co_return not_found(t); }
  http::Response res;
  if (node->folder) {
    res = co_await serve_zip(deps, req, [&tree](std::string p) { return tree->list(std::move(p)); }, *path);
  } else {
    res = co_await serve_file(deps, req, *node);
    res.set_header("Content-Disposition", "attachment; filename*=UTF-8''" + http::percent_encode(node->name));
    res.set_header("X-Content-Type-Options", "nosniff");
  }
  if (req.method == http::Method::get && res.status() == http::Status::ok) { co_await count_link_download(deps, *o.link, node->id); }
  co_return res;
}

awaitable<http::Response> handle_password(http::RequestContext& ctx, const Deps& deps) {
  const auto& req = ctx.request();
  const Texts& t = texts(req);
  std::string token(ctx.param("token"));
  auto link = co_await deps.box.open_link(token);
  if (!link) { co_return not_found(t); }
  auto body = co_await ctx.read_body(16 * 1024);
  std::string password;
  if (body) {
    for (auto& [k, v] : http::parse_query(*body)) {
      if (k == "password") { password = v; }
    }
  }
  if (auto wait = deps.link_auth->wait(token, req.remote_address); wait.count() > 0) {
    auto res = page(http::Status::too_many_requests, t, t.password_title, password_form(t, token, t.too_many));
    res.set_header("Retry-After", std::to_string((wait.count() + 999) / 1000));
    co_return res;
  }
  if (!co_await deps.box.verify_link_password(*link, password)) {
    deps.link_auth->failure(token, req.remote_address);
    co_return page(http::Status::unauthorized, t, t.password_title, password_form(t, token, t.wrong_password));
  }
  deps.link_auth->success(token);
  http::Response res(http::Status::see_other);
  res.set_header("Location", base_url(token));
  res.set_header("Cache-Control", "no-store");
  if (!link->password_hash.empty()) {
    std::string value = deps.link_auth->cookie_for(*link, now_s() + kCookieSeconds);
    for (const std::string& path : {base_url(token), dav_url(token)}) {
      res.add_header("Set-Cookie", std::string(kLinkCookie) + "=" + value + "; Path=" + path + "; Max-Age=" + std::to_string(kCookieSeconds) +
                                       "; HttpOnly; SameSite=Strict" + (req.tls ? "; Secure" : ""));
    }
  }
  co_return res;
}

}  // namespace

void add_link_page_routes(http::Router& router, const Deps& deps) {
  router.add(http::Method::get, "/s/{token}", [&deps](http::RequestContext& ctx) { return handle_page(ctx, deps); });
  router.add(http::Method::get, "/s/{token}/download", [&deps](http::RequestContext& ctx) { return handle_download(ctx, deps); });
  router.add(http::Method::post, "/s/{token}/password", [&deps](http::RequestContext& ctx) { return handle_password(ctx, deps); });
}

}  // namespace ciel::box::dav
