// console/console.h: the web console's server side. The console itself is a static TypeScript
// application (web/, built by Vite into web/dist and served by add_static_routes); what it needs
// from the server is a session:
//
//   POST   /console/v1/session  {"username", "password", "domain"?, "project"?} -> 201, sets the cookie
//   GET    /console/v1/session  the session behind the cookie -> 200, or 401
//   PUT    /console/v1/session  {"project": id}: the session moves to that project (needs X-CSRF-Token)
//   DELETE /console/v1/session  revokes the token, clears the cookie -> 204 (needs X-CSRF-Token)
//
// The session is an identity token kept in a cookie the page's scripts cannot read (HttpOnly,
// SameSite=Strict, Secure over TLS). Every other API stays what it is: the request filter
// (session_filter) turns the cookie into the X-Auth-Token header those APIs already read, for
// GET and HEAD always, and for any other method only with an X-CSRF-Token header equal to the
// session's CSRF token (a hash of the token, which a page of another site cannot compute since it
// cannot read the cookie). A request that already carries X-Auth-Token or Authorization is left
// alone.
#pragma once
#include <string>
#include <string_view>

namespace ciel::http {
class Router;
struct Request;
}  // namespace ciel::http
namespace ciel::identity {
class IdentityService;
}

namespace ciel::console {

inline constexpr std::string_view kSessionCookie = "ciel_session";

// The CSRF token of a session token.
std::string csrf_token(std::string_view session_token);

// The request filter described above; install with Router::set_request_filter.
void session_filter(http::Request& request);

struct ConsoleOptions {
  std::string s3_endpoint;  // shown on the S3 keys page; empty when S3 is off
  std::string s3_region = "us-east-1";  // the region the console's presigned S3 URLs name (s3.region)
};

void add_console_routes(http::Router& router, identity::IdentityService& identity, ConsoleOptions options);

}  // namespace ciel::console
