// object/swift/common.h: what the Swift route files share: the dependencies, authentication of
// X-Auth-Token into an engine Access, the account path, metadata headers and Errc -> status.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "core/http/request.h"
#include "core/http/router.h"
#include "core/http/response.h"
#include "identity/identity.h"
#include "object/engine/names.h"
#include "object/engine/object_service.h"
#include "object/swift/swift.h"
#include "object/swift/tempurl.h"

namespace ciel::object::swift {

struct Deps {
  ObjectService& objects;
  identity::IdentityService& identity;
  Options options;
};

// The caller of one request: the principal its token names (if any) and the engine's Access.
struct Caller {
  std::optional<identity::Principal> principal;
  mutable Access base;  // referer, source; the principal pointer is filled in by access()
  std::optional<TempUrlParams> tempurl;  // set when a temp URL signature authorised the call
  // The engine's view of this caller; valid while the Caller lives where it is.
  const Access& access() const {
    base.principal = principal ? &*principal : nullptr;
    return base;
  }
};

// Errc::unauthenticated for a token that is present but invalid, or a temp URL that does not
// verify. A request with a valid temp URL signature (and no token) acts as the account's owner
// for this one object call.
boost::asio::awaitable<Result<Caller>> authenticate(const http::Request& req, const Deps& deps, std::string_view account = {},
                                                    std::string_view container = {});
// "AUTH_<project_id>" -> project id; Errc::not_found otherwise.
Result<std::string> project_of(std::string_view account);

http::Response error_response(const Error& e, const http::Request& req);
http::Response status_response(http::Status status, const http::Request& req);  // an empty-bodied reply

// Metadata headers: "X-<kind>-Meta-Name: v" sets name (lowercased), an empty value or
// "X-Remove-<kind>-Meta-Name" removes it. `kind` is "Account", "Container" or "Object".
MetadataUpdate metadata_update(const http::Request& req, std::string_view kind);
// All "X-Object-Meta-*" set on a PUT (empty values are dropped).
Metadata object_metadata(const http::Request& req);
void render_metadata(http::Response& res, std::string_view kind, const Metadata& meta);

// Swift's timestamps: "1480432839.12345" (X-Timestamp) and "2016-11-29T15:20:39.123450" (listings).
std::string x_timestamp(std::int64_t us);
std::string listing_time(std::int64_t us);

// An HTTP date for Last-Modified: Swift rounds the timestamp up to the next second, so an
// If-Modified-Since with the value a client saw matches.
std::string last_modified(std::int64_t us);
// A stored lowercase header name as Swift echoes it: "x-object-meta-color" -> "X-Object-Meta-Color".
std::string header_case(std::string_view name);
// Swift's per-item status in bulk and SLO answers ("404 Not Found", ...).
std::string status_line(const Error& e);

// "json", "xml" or "plain", from ?format= or Accept.
std::string listing_format(const http::Request& req);
bool truthy(std::string_view v);

// Listing parameters (limit, marker, end_marker, prefix, delimiter, reverse, path); Errc::
// precondition_failed for a limit over `max_limit` (object.max_listing) or a delimiter longer than one character.
Result<ListQuery> parse_listing_query(const http::Request& req, std::size_t max_limit);
// The listing body in the request's format; 204 for an empty plain listing, as Swift does.
// `name` is the account or container the XML root is named after.
http::Response render_listing(const http::Request& req, const Listing& listing, bool containers, std::string_view name);

// ACL headers: Errc::invalid_argument for one Swift would refuse; otherwise the normalized
// form to store.
Result<std::string> normalize_account_acl(std::string_view json);
Result<std::string> normalize_container_acl(std::string_view header, bool write_acl);

// CORS: wraps a container or object handler so allowed origins get their headers; and the
// preflight OPTIONS handler.
http::Handler with_cors(const Deps& deps, http::Handler inner);
// Every Swift answer carries X-Trans-Id and X-Openstack-Request-Id (clients print them).
http::Handler with_trans_id(http::Handler inner);
boost::asio::awaitable<http::Response> handle_options(http::RequestContext& ctx, const Deps& deps);

// Bulk operations (bulk_routes.cc): ?bulk-delete on the account, ?extract-archive on an
// account, container or prefix (`base` is "" or "container[/prefix]"), and FormPost to a
// container or a prefix inside it.
boost::asio::awaitable<http::Response> handle_bulk_delete(http::RequestContext& ctx, const Deps& deps, const Caller& caller,
                                                          const std::string& project);
boost::asio::awaitable<http::Response> handle_extract_archive(http::RequestContext& ctx, const Deps& deps, const Caller& caller,
                                                              const std::string& project, std::string_view base);
boost::asio::awaitable<http::Response> handle_formpost(http::RequestContext& ctx, const Deps& deps, const std::string& project,
                                                       const std::string& container, const std::string& prefix);
// True for a browser form upload (multipart/form-data), which FormPost handles.
bool is_formpost(const http::Request& req);

void add_account_routes(http::Router& router, const Deps& deps);
void add_container_routes(http::Router& router, const Deps& deps);
void add_object_routes(http::Router& router, const Deps& deps);
void add_auth_routes(http::Router& router, const Deps& deps);

}  // namespace ciel::object::swift
