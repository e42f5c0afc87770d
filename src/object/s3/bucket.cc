// Buckets: ListBuckets (GET /), CreateBucket, HeadBucket, DeleteBucket, ListObjects (v1 and
// v2) and ListObjectVersions. A bucket is a container of the owning project.
#include <algorithm>
#include <cctype>
#include <charconv>

#include "core/crypto/crypto.h"
#include "core/http/target.h"
#include "object/s3/common.h"
#include "object/s3/policy.h"
#include "object/s3/xml.h"

namespace ciel::object::s3 {
namespace {

using boost::asio::awaitable;
using http::Status;

// S3's bucket naming rules, for buckets created through S3 (Swift containers may have other
// names and are still reachable).
bool valid_bucket_name(std::string_view n) {
  if (n.size() < 3 || n.size() > 63) { return false; }
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(n.front()) || !alnum(n.back())) { return false; }
  bool all_digits_and_dots = true;
  for (std::size_t i = 0; i < n.size(); ++i) {
    char c = n[i];
    if (!alnum(c) && c != '-' && c != '.') { return false; }
    if (c == '.' && (n[i + 1] == '.' || n[i + 1] == '-' || (i > 0 && n[i - 1] == '-'))) { return false; }
    if (!(c == '.' || (c >= '0' && c <= '9'))) { all_digits_and_dots = false; }
  }
  return !(all_digits_and_dots && std::count(n.begin(), n.end(), '.') == 3);  // not an IP address
}

// encoding-type=url: keys percent-encoded (slashes kept), as botocore decodes them.
std::string enc(std::string_view s, bool url) { return url ? http::percent_encode(s, "/") : std::string(s); }

Result<std::size_t> max_keys(const http::Request& req, std::string_view name = "max-keys") {
  auto v = req.query_param(name);
  if (!v) { return std::size_t{1000}; }
  std::int64_t n = 0;
  auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc{} || end != v->data() + v->size() || n < 0) {
    return make_error(Errc::invalid_argument, "Provided max-keys not an integer or within integer range");
  }
  return static_cast<std::size_t>(std::min<std::int64_t>(n, 1000));
}

void owner(XmlWriter& w, const Caller& caller, std::string_view project) {
  w.open("Owner");
  w.leaf("ID", project);
  w.leaf("DisplayName", project == caller.project && !caller.user_name.empty() ? std::string_view(caller.user_name) : project);
  w.close();
}

awaitable<http::Response> list_objects(http::RequestContext& ctx, const Deps& deps, const Caller& caller, const std::string& project,
                                       const Target& t) {
  const auto& req = ctx.request();
  const bool v2 = req.query_param("list-type").value_or("") == "2";
  const bool url = req.query_param("encoding-type").value_or("") == "url";
  if (auto e = req.query_param("encoding-type"); e && *e != "url") {
    co_return error_response(s3_error(Status::bad_request, "InvalidArgument", "Invalid Encoding Method specified in Request"), req, {});
  }
  auto limit = max_keys(req);
  if (!limit) { co_return error_response(s3_error(Status::bad_request, "InvalidArgument", limit.error().message), req, {}); }
  ListQuery q;
  q.prefix = std::string(req.query_param("prefix").value_or(""));
  q.delimiter = std::string(req.query_param("delimiter").value_or(""));
  q.limit = *limit;
  std::string token;
  if (v2) {
    if (auto ct = req.query_param("continuation-token")) {
      auto decoded = crypto::unbase64url(*ct);
      if (!decoded) {
        co_return error_response(s3_error(Status::bad_request, "InvalidArgument", "The continuation token provided is incorrect"), req, {});
      }
      token = std::string(*ct);
      q.marker = *decoded;
    } else {
      q.marker = std::string(req.query_param("start-after").value_or(""));
    }
  } else {
    q.marker = std::string(req.query_param("marker").value_or(""));
  }
  Listing listing;
  if (q.limit > 0) {
    auto l = co_await deps.objects.list_objects(caller.access(), project, t.bucket, q);
    if (!l) { co_return engine_error(l.error(), req, "bucket"); }
    listing = std::move(*l);
  } else {
    // max-keys=0 still says whether the bucket exists and may be listed.
    auto c = co_await deps.objects.get_container(caller.access(), project, t.bucket);
    if (!c) { co_return engine_error(c.error(), req, "bucket"); }
  }
  const bool fetch_owner = !v2 || req.query_param("fetch-owner").value_or("") == "true";
  XmlWriter w("ListBucketResult");
  w.leaf("Name", t.bucket);
  w.leaf("Prefix", enc(q.prefix, url));
  if (v2) {
    if (!token.empty()) { w.leaf("ContinuationToken", token); }
    if (auto sa = req.query_param("start-after")) { w.leaf("StartAfter", enc(*sa, url)); }
    std::size_t count = listing.entries.size();
    w.leaf("KeyCount", count);
  } else {
    w.leaf("Marker", enc(q.marker, url));
  }
  w.leaf("MaxKeys", *limit);
  if (!q.delimiter.empty()) { w.leaf("Delimiter", enc(q.delimiter, url)); }
  if (url) { w.leaf("EncodingType", "url"); }
  w.leaf_bool("IsTruncated", listing.truncated);
  if (listing.truncated && !listing.entries.empty()) {
    const std::string& last = listing.entries.back().name;
    if (v2) {
      w.leaf("NextContinuationToken", crypto::base64url(last));
    } else if (!q.delimiter.empty()) {
      w.leaf("NextMarker", enc(last, url));
    }
  }
  for (const auto& e : listing.entries) {
    if (e.is_prefix) { continue; }
    w.open("Contents");
    w.leaf("Key", enc(e.name, url));
    w.leaf("LastModified", iso8601(e.modified_us));
    w.leaf("ETag", quoted(e.etag));
    w.leaf("Size", e.size);
    w.leaf("StorageClass", "STANDARD");
    if (fetch_owner) { owner(w, caller, project); }
    w.close();
  }
  for (const auto& e : listing.entries) {
    if (!e.is_prefix) { continue; }
    w.open("CommonPrefixes");
    w.leaf("Prefix", enc(e.name, url));
    w.close();
  }
  co_return xml_response(Status::ok, w.finish(), req);
}

awaitable<http::Response> list_versions(http::RequestContext& ctx, const Deps& deps, const Caller& caller, const std::string& project,
                                        const Target& t) {
  const auto& req = ctx.request();
  const bool url = req.query_param("encoding-type").value_or("") == "url";
  auto limit = max_keys(req);
  if (!limit) { co_return error_response(s3_error(Status::bad_request, "InvalidArgument", limit.error().message), req, {}); }
  VersionQuery q;
  q.prefix = std::string(req.query_param("prefix").value_or(""));
  q.delimiter = std::string(req.query_param("delimiter").value_or(""));
  q.key_marker = std::string(req.query_param("key-marker").value_or(""));
  q.version_id_marker = std::string(req.query_param("version-id-marker").value_or(""));
  q.limit = *limit;
  if (!q.version_id_marker.empty() && q.key_marker.empty()) {
    co_return error_response(s3_error(Status::bad_request, "InvalidArgument", "A version-id marker cannot be specified without a key marker."), req, {});
  }
  auto l = co_await deps.objects.list_versions(caller.access(), project, t.bucket, q);
  if (!l) { co_return engine_error(l.error(), req, "bucket"); }
  XmlWriter w("ListVersionsResult");
  w.leaf("Name", t.bucket);
  w.leaf("Prefix", enc(q.prefix, url));
  w.leaf("KeyMarker", enc(q.key_marker, url));
  w.leaf("VersionIdMarker", q.version_id_marker);
  w.leaf("MaxKeys", q.limit);
  if (!q.delimiter.empty()) { w.leaf("Delimiter", enc(q.delimiter, url)); }
  if (url) { w.leaf("EncodingType", "url"); }
  w.leaf_bool("IsTruncated", l->truncated);
  if (l->truncated) {
    w.leaf("NextKeyMarker", enc(l->next_key_marker, url));
    w.leaf("NextVersionIdMarker", l->next_version_id_marker);
  }
  for (const auto& v : l->versions) {
    w.open(v.delete_marker ? "DeleteMarker" : "Version");
    w.leaf("Key", enc(v.name, url));
    w.leaf("VersionId", version_id_of(v));
    w.leaf_bool("IsLatest", v.is_current);
    w.leaf("LastModified", iso8601(v.modified_us));
    if (!v.delete_marker) {
      w.leaf("ETag", quoted(v.etag));
      w.leaf("Size", v.size);
      w.leaf("StorageClass", "STANDARD");
    }
    owner(w, caller, project);
    w.close();
  }
  for (const auto& p : l->prefixes) {
    w.open("CommonPrefixes");
    w.leaf("Prefix", enc(p, url));
    w.close();
  }
  co_return xml_response(Status::ok, w.finish(), req);
}

awaitable<http::Response> create_bucket(http::RequestContext& ctx, const Deps& deps, const Caller& caller, const Target& t) {
  const auto& req = ctx.request();
  if (!caller.principal) { co_return error_response(s3_error(Status::forbidden, "AccessDenied", "Access Denied"), req, {}); }
  if (!valid_bucket_name(t.bucket)) {
    co_return error_response(s3_error(Status::bad_request, "InvalidBucketName", "The specified bucket is not valid."), req, "/" + t.bucket);
  }
  auto body = co_await ctx.read_body(64 * 1024);
  if (!body) { co_return error_response(from_engine(body.error(), "bucket"), req, {}); }
  auto location = parse_create_bucket(*body);
  if (!location) { co_return error_response(from_engine(location.error(), "bucket"), req, {}); }
  if (!location->empty() && *location != deps.options.region) {
    co_return error_response(s3_error(Status::bad_request, "IllegalLocationConstraintException",
                                      "The " + *location + " location constraint is incompatible for the region specific endpoint this request was sent to."),
                             req, {});
  }
  auto owners = co_await deps.objects.container_owners(t.bucket);
  if (!owners) { co_return engine_error(owners.error(), req, "bucket"); }
  for (const auto& p : *owners) {
    if (p != caller.project) {
      co_return error_response(s3_error(Status::conflict, "BucketAlreadyExists",
                                        "The requested bucket name is not available. The bucket namespace is shared by all users of the system. "
                                        "Please select a different name and try again."),
                               req, "/" + t.bucket);
    }
  }
  MetadataUpdate sys;
  if (!location->empty()) { sys["s3-location"] = *location; }
  if (auto acl = req.headers.get("x-amz-acl")) {
    auto grants = access_update(*acl, "", t.bucket);
    if (!grants) { co_return error_response(from_engine(grants.error(), "bucket"), req, {}); }
    for (auto& [k, v] : *grants) { sys[k] = v; }
  }
  auto created = co_await deps.objects.put_container(caller.access(), caller.project, t.bucket, {}, sys);
  if (!created) { co_return engine_error(created.error(), req, "bucket"); }
  if (!*created) { co_return error_response(from_engine(make_error(Errc::already_exists, ""), "bucket"), req, "/" + t.bucket); }
  auto res = empty_response(Status::ok, req);
  res.set_header("Location", "/" + t.bucket);
  co_return res;
}

}  // namespace

awaitable<http::Response> handle_list_buckets(http::RequestContext& ctx, const Deps& deps, const Caller& caller, const Target&) {
  const auto& req = ctx.request();
  if (req.method != http::Method::get) {
    co_return error_response(s3_error(Status::method_not_allowed, "MethodNotAllowed", "The specified method is not allowed against this resource."), req, {});
  }
  if (!caller.principal) { co_return error_response(s3_error(Status::forbidden, "AccessDenied", "Access Denied"), req, {}); }
  XmlWriter w("ListAllMyBucketsResult");
  owner(w, caller, caller.project);
  w.open("Buckets");
  ListQuery q;
  q.limit = deps.objects.config().max_listing;
  for (;;) {
    auto l = co_await deps.objects.list_containers(caller.access(), caller.project, q);
    if (!l) { co_return engine_error(l.error(), req, "bucket"); }
    for (const auto& e : l->entries) {
      w.open("Bucket");
      w.leaf("Name", e.name);
      w.leaf("CreationDate", iso8601(e.created_us));
      w.close();
    }
    if (!l->truncated || l->entries.empty()) { break; }
    q.marker = l->entries.back().name;
  }
  w.close();
  co_return xml_response(Status::ok, w.finish(), req);
}

awaitable<http::Response> handle_bucket(http::RequestContext& ctx, const Deps& deps, const Caller& caller, const Target& t) {
  const auto& req = ctx.request();
  if (req.method == http::Method::put) { co_return co_await create_bucket(ctx, deps, caller, t); }
  auto project = co_await bucket_project(deps, caller, t.bucket);
  if (!project) { co_return engine_error(project.error(), req, "bucket"); }
  switch (req.method) {
    case http::Method::head: {
      auto c = co_await deps.objects.get_container(caller.access(), *project, t.bucket);
      if (!c) { co_return engine_error(c.error(), req, "bucket"); }
      auto res = empty_response(Status::ok, req);
      res.set_header("x-amz-bucket-region", deps.options.region);
      co_return res;
    }
    case http::Method::get:
      if (req.has_query_param("versions")) { co_return co_await list_versions(ctx, deps, caller, *project, t); }
      co_return co_await list_objects(ctx, deps, caller, *project, t);
    case http::Method::delete_: {
      auto st = co_await deps.objects.delete_container(caller.access(), *project, t.bucket);
      if (!st) { co_return engine_error(st.error(), req, "bucket"); }
      deps.own_buckets->forget(*project, t.bucket);
      co_return empty_response(Status::no_content, req);
    }
    default:
      co_return error_response(s3_error(Status::method_not_allowed, "MethodNotAllowed", "The specified method is not allowed against this resource."), req, {});
  }
}

}  // namespace ciel::object::s3
