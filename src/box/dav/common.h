// box/dav/common.h: what the box's route files share: dependencies, who is calling (HTTP Basic
// with an identity password or an app password, or an identity token), error answers, hrefs,
// and the If header and lock checks every write goes through.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "box/box.h"
#include "box/collab.h"
#include "box/dav/dav.h"
#include "box/dav/xml.h"
#include "core/http/request.h"
#include "core/http/response.h"
#include "identity/identity.h"
#include "identity/password/password.h"

namespace ciel::box::dav {

// Checked credentials, for one identity refresh interval (10 s by default, at most a minute):
// sync clients send Basic auth on every request, and an argon2 hash per request would cost more
// than the request. Keyed by a SHA-256 of the pair, so no password is kept. A password change, a
// disabled user or an app password deleted on any node takes effect on every node within that
// interval, the bound that holds for tokens too.
class AuthCache {
 public:
  struct Entry {
    std::string user_id, user_name;
    std::chrono::steady_clock::time_point expires;
  };
  std::optional<Entry> find(const std::string& key);
  void put(const std::string& key, Entry e);
  // After a revocation: this node forgets every checked credential (other nodes within the interval).
  void clear();

 private:
  std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;
};

inline constexpr std::string_view kLinkCookie = "ciel_link";

// Public link passwords: the identity back-off applied per link token and per client address
// (after 5 wrong passwords on one link, or 20 from one address, each further attempt is refused
// with 429 for 1 s, doubling up to 5 min; in memory, per node), and passwords that were right,
// remembered for a minute (keyed by a SHA-256 of token, hash and password: a changed password
// forgets them) so a client listing a folder pays one argon2 hash, not one per request.
class LinkAuth {
 public:
  LinkAuth();
  // Zero when the caller may try a password now.
  std::chrono::milliseconds wait(std::string_view token, std::string_view address);
  void failure(std::string_view token, std::string_view address);
  void success(std::string_view token);
  bool remembered(const std::string& key);
  void remember(const std::string& key);
  // The link page's cookie (kLinkCookie) after a right password: "<expiry>.<HMAC>" under a key
  // drawn at start, bound to the link's token and password hash (link_page.cc). The page and the
  // link's public WebDAV (its upload form) both take it in place of the password.
  std::string cookie_for(const Link& link, std::int64_t expires_s) const;
  bool cookie_ok(const Link& link, std::string_view value, std::int64_t now) const;
  // True when `req` carries a cookie for `link` that is still valid.
  bool has_cookie(const Link& link, const http::Request& req) const;

 private:
  identity::password::Backoff backoff_;
  std::string cookie_key_;
  std::mutex mu_;
  std::unordered_map<std::string, std::chrono::steady_clock::time_point> ok_;
};

struct Deps {
  BoxService& box;
  CollabService& collab;
  identity::IdentityService& identity;
  Options options;
  std::unique_ptr<AuthCache> auth_cache = std::make_unique<AuthCache>();
  std::unique_ptr<LinkAuth> link_auth = std::make_unique<LinkAuth>();
};

struct User {
  std::string id;    // identity user id: the box's owner key
  std::string name;  // login name: the {user} of DAV paths
};

// Errc::unauthenticated when no valid credentials came (the answer is 401 with a Basic challenge).
boost::asio::awaitable<Result<User>> authenticate(const http::Request& req, const Deps& deps);

// Sabre-style XML error answer; Errc -> status in one place (errors.cc).
http::Response error_response(const Error& e, const http::Request& req);
http::Response status_response(http::Status status, std::string_view message, const http::Request& req);
http::Status status_for(const Error& e);
// 423 with DAV:lock-token-submitted naming the lock's root.
http::Response locked_response(const std::string& lock_root_href, const http::Request& req);

// The DAV root a request came through: "/remote.php/dav/files/<user>/" or "/remote.php/webdav/".
struct Root {
  std::string href;  // encoded, with the trailing slash
  std::string user;  // the {user} of the path ("" for webdav: the caller)
};
// An href for `path` under `root` (each segment percent-encoded; folders end with '/').
std::string href(const Root& root, std::string_view path, bool folder);
// The box path a Destination header (absolute URL or absolute path) names under `root`;
// Errc::forbidden (answered 502) for a destination on another root or server.
Result<std::string> destination_path(std::string_view header, const Root& root);

// The Overwrite and Depth headers of a COPY (`move` false) or MOVE: Errc::invalid_argument with
// the message for a 400 when one is malformed (MOVE takes only Depth infinity, COPY 0 or infinity).
struct TransferOptions {
  bool overwrite = true;
  bool recursive = true;
};
Result<TransferOptions> transfer_options(const http::Request& req, bool move);
// "ETag"-style quoting.
std::string quoted(std::string_view etag);
std::string oc_id(std::int64_t id, const BoxConfig& c);
// oc:permissions letters for what the caller may do with `n`: S shared with them, R reshare, M a
// mount point, G read, D delete, NV rename and move, W write (files), CK create (folders). A
// mount point itself may always be removed (declining) and renamed or moved.
std::string oc_permissions(const Node& n);

// --- If header and locks -------------------------------------------------------------------------
struct IfHeader {
  std::vector<IfList> lists;
  std::set<std::string> tokens;  // every state token the header names: the lock tokens submitted
  bool present() const { return !lists.empty(); }
};
Result<IfHeader> read_if(const http::Request& req);
// True when the header is absent or one of its lists holds for its resource (RFC 4918 10.4).
boost::asio::awaitable<Result<bool>> if_holds(const Deps& deps, const User& user, const Root& root, const IfHeader& h,
                                              const std::string& request_path);
// nullopt when every lock on `path` (and, with `beneath`, inside it) has its token in `h`;
// otherwise the 423 answer. With `membership`, the locks on the parent folder count too (adding
// or removing a member changes the folder).
boost::asio::awaitable<std::optional<http::Response>> check_locks(const Deps& deps, const User& user, const Root& root,
                                                                  const IfHeader& h, const std::string& path, bool beneath,
                                                                  bool membership, const http::Request& req);
// Both checks, in the order RFC 4918 gives them: a false If header is 412, a missing token 423.
boost::asio::awaitable<std::optional<http::Response>> check_write(const Deps& deps, const User& user, const Root& root,
                                                                  const std::string& path, bool beneath, bool membership,
                                                                  const http::Request& req);

// Small shared parsers and renderers.
std::optional<std::int64_t> parse_i64(std::string_view s);
std::string unquote(std::string_view etag);  // strips W/ and quotes
// ETag, OC-ETag and OC-FileId: every answer about a file or folder carries them.
void node_headers(http::Response& res, const Node& n, const Deps& deps);
// X-OC-Mtime, OC-Checksum, If-Match, If-None-Match: *, Content-Type.
Result<PutOptions> put_options(const http::Request& req);
// 201 (created) or 204 with the node's headers (and X-OC-MTime: accepted when one was sent).
http::Response written(const WriteResult& w, const Deps& deps, bool mtime_sent);
// GET or HEAD of a file: conditional headers, a single range, sendfile when it can.
boost::asio::awaitable<http::Response> serve_file(const Deps& deps, const http::Request& req, const Node& node);
// Counts one download of `link` (a file, or a folder as one zip); a failure is logged, not answered.
boost::asio::awaitable<void> count_link_download(const Deps& deps, const Link& link, std::int64_t node_id);

// --- folders as zip archives (zip.cc) -------------------------------------------------------------
inline constexpr std::size_t kMaxZipEntries = 100'000;  // files and folders in one archive
// True when a GET asks for a zip: an Accept header naming application/zip (Nextcloud 30's
// clients), or ?accept=zip (Nextcloud 31's, and a plain link in a browser).
bool wants_zip(const http::Request& req);
// How a folder download walks the tree: the owner's (BoxService::list) or a link's (Subtree::list).
using Lister = std::function<boost::asio::awaitable<Result<std::pair<Node, std::vector<Node>>>>(std::string path)>;
// GET or HEAD of the folder at `path` as a zip archive (zip.h) named "<folder>.zip", with every file
// and folder `list` shows beneath it, entries named "<folder>/<path below it>". The listing is
// walked first (so the length is known and a folder of more than kMaxZipEntries is refused with
// 413), then file contents stream through BoxService::open as the client reads.
boost::asio::awaitable<http::Response> serve_zip(const Deps& deps, const http::Request& req, const Lister& list, const std::string& path);

// The OCS envelope (ocs.cc): JSON with ?format=json or an Accept naming json, XML otherwise; OCS
// v1 answers HTTP 200 and puts the status in the envelope.
http::Response ocs_response(const http::Request& req, http::Status status, std::string_view message, const std::string& data_json,
                            const std::string& data_xml);

void add_file_routes(http::Router& router, const Deps& deps);
void add_upload_routes(http::Router& router, const Deps& deps);
void add_version_routes(http::Router& router, const Deps& deps);
void add_ocs_routes(http::Router& router, const Deps& deps);
void add_login_routes(http::Router& router, const Deps& deps);
void add_quota_routes(http::Router& router, const Deps& deps);
void add_link_routes(http::Router& router, const Deps& deps);
void add_share_routes(http::Router& router, const Deps& deps);
void add_link_page_routes(http::Router& router, const Deps& deps);
void add_activity_routes(http::Router& router, const Deps& deps);
void add_collab_routes(http::Router& router, const Deps& deps);
// REPORT oc:filter-files on a files root (collab.cc): favorites and tags, flat.
boost::asio::awaitable<http::Response> report_files(http::RequestContext& ctx, const Deps& deps, const User& user, const Root& root,
                                                    const std::string& path);

}  // namespace ciel::box::dav
