// The S3 dispatcher. S3 names its operations by method, path shape (service, bucket, object)
// and sub-resource query parameters, not by distinct paths, so one route takes every request
// and picks the handler here. Also DeleteObjects and CORS.
#include <algorithm>

#include "core/crypto/crypto.h"
#include "core/log/log.h"
#include "object/s3/common.h"
#include "object/s3/xml.h"

namespace ciel::object::s3 {
namespace {

using boost::asio::awaitable;
using http::Status;

// One "*" in a pattern matches any run of characters (S3 allows one per origin or header pattern).
bool wildcard_match(std::string_view pattern, std::string_view s) {
  auto star = pattern.find('*');
  if (star == std::string_view::npos) { return pattern == s; }
  std::string_view head = pattern.substr(0, star), tail = pattern.substr(star + 1);
  return s.size() >= head.size() + tail.size() && s.starts_with(head) && s.ends_with(tail);
}

bool header_allowed(const CorsRule& rule, std::string_view header) {
  std::string h(header);
  for (auto& c : h) { c = static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }
  for (auto allowed : rule.allowed_headers) {
    for (auto& c : allowed) { c = static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }
    if (wildcard_match(allowed, h)) { return true; }
  }
  return false;
}

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) { s.remove_prefix(1); }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) { s.remove_suffix(1); }
  return std::string(s);
}

// The first rule allowing `origin` with `method` (and, for a preflight, every requested header).
const CorsRule* matching_rule(const std::vector<CorsRule>& rules, std::string_view origin, std::string_view method,
                              std::string_view request_headers) {
  for (const auto& r : rules) {
    bool origin_ok = std::any_of(r.allowed_origins.begin(), r.allowed_origins.end(), [&](const auto& o) { return wildcard_match(o, origin); });
    bool method_ok = std::find(r.allowed_methods.begin(), r.allowed_methods.end(), method) != r.allowed_methods.end();
    if (!origin_ok || !method_ok) { continue; }
    bool headers_ok = true;
    std::string_view rest = request_headers;
    while (headers_ok && !rest.empty()) {
      auto comma = rest.find(',');
      std::string h = trim(rest.substr(0, comma));
      rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
      if (!h.empty() && !header_allowed(r, h)) { headers_ok = false; }
    }
    if (headers_ok) { return &r; }
  }
  return nullptr;
}

awaitable<std::vector<CorsRule>> cors_rules(const Deps& deps, const std::string& project, const std::string& bucket) {
  auto cors = co_await deps.objects.container_cors(project, bucket);
  if (!cors) { co_return std::vector<CorsRule>{}; }
  auto it = cors->find("s3-cors");
  if (it == cors->end()) { co_return std::vector<CorsRule>{}; }
  auto rules = parse_cors(it->second);
  co_return rules ? std::move(*rules) : std::vector<CorsRule>{};
}

void set_cors(http::Response& res, const CorsRule& rule, std::string_view origin) {
  const bool any = std::find(rule.allowed_origins.begin(), rule.allowed_origins.end(), "*") != rule.allowed_origins.end();
  res.set_header("Access-Control-Allow-Origin", any ? std::string_view("*") : origin);
  std::string methods;
  for (const auto& m : rule.allowed_methods) { methods += (methods.empty() ? "" : ", ") + m; }
  res.set_header("Access-Control-Allow-Methods", methods);
  if (!rule.expose_headers.empty()) {
    std::string expose;
    for (const auto& h : rule.expose_headers) { expose += (expose.empty() ? "" : ", ") + h; }
    res.set_header("Access-Control-Expose-Headers", expose);
  }
  if (rule.max_age_seconds) { res.set_header("Access-Control-Max-Age", std::to_string(*rule.max_age_seconds)); }
  if (!any) { res.set_header("Access-Control-Allow-Credentials", "true"); }
  res.add_header("Vary", "Origin, Access-Control-Request-Headers, Access-Control-Request-Method");
}

awaitable<http::Response> delete_objects(http::RequestContext& ctx, const Deps& deps, const Caller& caller, const Target& t) {
  const auto& req = ctx.request();
  auto project = co_await bucket_project(deps, caller, t.bucket);
  if (!project) { co_return engine_error(project.error(), req, "bucket"); }
  std::unique_ptr<ByteSource> holder;
  auto body = co_await read_all(payload(ctx, caller, holder), 2 * 1024 * 1024);
  if (!body) { co_return engine_error(body.error(), req, "bucket"); }
  if (auto md5 = req.headers.get("Content-MD5")) {
    auto raw = crypto::unbase64(*md5);
    if (!raw || *raw != crypto::md5(*body)) {
      co_return error_response(s3_error(Status::bad_request, "BadDigest", "The Content-MD5 you specified did not match what we received."), req, {});
    }
  }
  auto parsed = parse_delete(*body);
  if (!parsed) { co_return engine_error(parsed.error(), req, "bucket"); }
  XmlWriter w("DeleteResult");
  for (const auto& k : parsed->keys) {
    // (Not a conditional expression over two co_awaits: GCC 12 destroys its temporary twice.)
    Result<ObjectInfo> done = make_error(Errc::internal, "");
    if (k.version_id.empty()) {
      done = co_await deps.objects.delete_object(caller.access(), *project, t.bucket, k.key);
    } else {
      done = co_await deps.objects.delete_version(caller.access(), *project, t.bucket, k.key, k.version_id);
    }
    if (!done && !(done.error().code == Errc::not_found && done.error().message != kNoSuchContainer)) {
      auto e = from_engine(done.error(), "key");
      w.open("Error");
      w.leaf("Key", k.key);
      if (!k.version_id.empty()) { w.leaf("VersionId", k.version_id); }
      w.leaf("Code", e.code);
      w.leaf("Message", e.message);
      w.close();
      continue;
    }
    if (parsed->quiet) { continue; }
    w.open("Deleted");
    w.leaf("Key", k.key);
    if (!k.version_id.empty()) { w.leaf("VersionId", k.version_id); }
    if (done && done->delete_marker) {
      w.leaf_bool("DeleteMarker", true);
      w.leaf("DeleteMarkerVersionId", version_id_of(*done));
    }
    w.close();
  }
  co_return xml_response(Status::ok, w.finish(), req);
}

awaitable<http::Response> route(http::RequestContext& ctx, const Deps& deps, const Caller& caller, const Target& t) {
  const auto& req = ctx.request();
  if (t.bucket.empty()) { co_return co_await handle_list_buckets(ctx, deps, caller, t); }
  if (t.key.empty()) {
    if (req.method == http::Method::post && req.has_query_param("delete")) { co_return co_await delete_objects(ctx, deps, caller, t); }
    if (req.has_query_param("uploads")) { co_return co_await handle_multipart(ctx, deps, caller, t); }
    if (is_bucket_config(req)) { co_return co_await handle_bucket_config(ctx, deps, caller, t); }
    co_return co_await handle_bucket(ctx, deps, caller, t);
  }
  if (req.has_query_param("uploads") || req.has_query_param("uploadId")) { co_return co_await handle_multipart(ctx, deps, caller, t); }
  if (req.method == http::Method::post) {
    co_return error_response(s3_error(Status::not_implemented, "NotImplemented", "A header or query you provided implies functionality that is not implemented"), req, {});
  }
  co_return co_await handle_object(ctx, deps, caller, t);
}

awaitable<http::Response> dispatch(http::RequestContext& ctx, const Deps& deps) {
  const auto& req = ctx.request();
  auto t = target_of(req, deps.options);
  if (!t) { co_return error_response(s3_error(Status::bad_request, "InvalidURI", "Couldn't parse the specified URI."), req, {}); }
  if (req.method == http::Method::options) { co_return co_await handle_preflight(ctx, deps, *t); }
  auto auth = co_await authenticate(req, deps);
  if (auto* e = std::get_if<S3Error>(&auth)) { co_return error_response(*e, req, {}); }
  const Caller& caller = std::get<Caller>(auth);
  auto res = co_await route(ctx, deps, caller, *t);
  if (!t->bucket.empty() && req.headers.has("Origin")) {
    auto project = co_await bucket_project(deps, caller, t->bucket);
    if (project && !project->empty()) { co_await add_cors_headers(deps, req, *t, *project, res); }
  }
  co_return res;
}

}  // namespace

awaitable<http::Response> handle_preflight(http::RequestContext& ctx, const Deps& deps, const Target& t) {
  const auto& req = ctx.request();
  auto forbidden = s3_error(Status::forbidden, "AccessForbidden", "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.");
  std::string_view origin = req.header("Origin");
  std::string_view method = req.header("Access-Control-Request-Method");
  if (t.bucket.empty() || origin.empty() || method.empty()) {
    co_return error_response(s3_error(Status::bad_request, "BadRequest", "Insufficient information. Origin request header needed."), req, {});
  }
  auto owners = co_await deps.objects.container_owners(t.bucket);
  if (!owners || owners->size() != 1) { co_return error_response(forbidden, req, {}); }
  auto rules = co_await cors_rules(deps, owners->front(), t.bucket);
  const CorsRule* rule = matching_rule(rules, origin, method, req.header("Access-Control-Request-Headers"));
  if (rule == nullptr) { co_return error_response(forbidden, req, {}); }
  auto res = empty_response(Status::ok, req);
  set_cors(res, *rule, origin);
  if (auto h = req.headers.get("Access-Control-Request-Headers")) { res.set_header("Access-Control-Allow-Headers", *h); }
  co_return res;
}

awaitable<void> add_cors_headers(const Deps& deps, const http::Request& req, const Target& t, const std::string& project, http::Response& res) {
  auto rules = co_await cors_rules(deps, project, t.bucket);
  std::string_view method = req.method == http::Method::head ? "HEAD" : std::string_view(req.method_text);
  if (const CorsRule* rule = matching_rule(rules, req.header("Origin"), method, {})) { set_cors(res, *rule, req.header("Origin")); }
}

void add_routes(http::Router& router, ObjectService& objects, identity::IdentityService& identity, const Options& options) {
  static std::vector<std::unique_ptr<Deps>> all_deps;  // the handlers hold a reference for the life of the process
  all_deps.push_back(std::make_unique<Deps>(Deps{objects, identity, options}));
  const Deps& deps = *all_deps.back();
  http::RouteOptions unlimited;
  unlimited.max_body_bytes = http::kUnlimitedBody;  // object bodies: the engine enforces max_object_size
  for (auto method : {http::Method::get, http::Method::head, http::Method::put, http::Method::post, http::Method::delete_,
                      http::Method::options}) {
    router.add(method, "/{path*}", [&deps](http::RequestContext& ctx) { return dispatch(ctx, deps); }, unlimited);
  }
}

}  // namespace ciel::object::s3
