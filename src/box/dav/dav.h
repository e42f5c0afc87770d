// box/dav/dav.h: the box's HTTP front-ends: WebDAV (RFC 4918) at /remote.php/dav/files/<user>/
// and /remote.php/webdav/, Nextcloud's chunked uploads, versions and trash DAV collections, and
// the calls Nextcloud desktop clients make before syncing (status.php, OCS capabilities and user,
// Login Flow v2, app passwords). Handlers translate to box::BoxService and render; they hold no
// state beyond a short-lived cache of checked credentials.
#pragma once
#include <string>

#include "core/http/router.h"

namespace ciel::identity {
class IdentityService;
}
namespace ciel::box {
class BoxService;
class CollabService;
}

namespace ciel::box::dav {

struct Options {
  std::string public_url;  // https://host:port, for Login Flow v2 links
  std::string version = "0.1.0";
  // The link page's upload script ("/assets/linkupload-<hash>.js", built by Vite from
  // web/src/linkupload.ts); empty: the page offers no upload form (the console is not built).
  std::string upload_script;
};

// Registers /remote.php/..., /status.php, /ocs/..., /index.php/login/v2... on `router` (with the
// comments, system tags and unified search of `collab`); the services must outlive it.
void add_routes(http::Router& router, BoxService& box, CollabService& collab, identity::IdentityService& identity, Options options);
// Sabre-style XML error bodies (what Nextcloud clients show to users).
http::Response error_renderer(http::Status status, std::string_view message, const http::Request& request);
// OCS answers its errors in its own JSON or XML envelope.
http::Response ocs_error_renderer(http::Status status, std::string_view message, const http::Request& request);

}  // namespace ciel::box::dav
