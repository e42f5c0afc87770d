// Objects: PutObject, GetObject, HeadObject, DeleteObject, CopyObject, and the object ?tagging
// and ?acl sub-resources. Bytes stream between the socket and the engine; GET sends blobs with
// sendfile when it can.
#include <cctype>

#include "core/crypto/crypto.h"
#include "core/http/range.h"
#include "core/http/target.h"
#include "core/time.h"
#include "object/s3/common.h"
#include "object/s3/xml.h"

namespace ciel::object::s3 {
namespace {

using boost::asio::awaitable;
using http::Status;

S3Error method_not_allowed() {
  return s3_error(Status::method_not_allowed, "MethodNotAllowed", "The specified method is not allowed against this resource.");
}

// Content-MD5 (base64) -> lowercase hex; nullopt when absent. InvalidDigest when malformed.
Result<std::optional<std::string>> content_md5(const http::Request& req) {
  auto h = req.headers.get("Content-MD5");
  if (!h) { return std::optional<std::string>{}; }
  auto raw = crypto::unbase64(*h);
  if (!raw || raw->size() != 16) { return make_error(Errc::invalid_argument, "The Content-MD5 you specified was invalid."); }
  return std::optional<std::string>{crypto::hex(*raw)};
}

// The object a request names: its current version, or ?versionId.
awaitable<Result<ObjectInfo>> find(const Deps& deps, const Caller& caller, const std::string& project, const std::string& bucket,
                                   const std::string& key, std::optional<std::string_view> version) {
  if (version) { co_return co_await deps.objects.head_version(caller.access(), project, bucket, key, std::string(*version)); }
  co_return co_await deps.objects.head_object(caller.access(), project, bucket, key);
}

// GET and HEAD conditionals, in RFC 7232's order. 412 or 304, or nothing.
std::optional<S3Error> check_conditions(const http::Request& req, const ObjectInfo& info, bool for_copy) {
  const std::string prefix = for_copy ? "x-amz-copy-source-" : "";
  const std::int64_t modified_s = (info.modified_us + 999'999) / 1'000'000;  // Last-Modified as clients saw it, to the second
  auto header = [&](std::string_view name) { return req.headers.get(prefix + std::string(name)); };
  auto date = [&](std::string_view name) -> std::optional<std::int64_t> {
    auto h = header(name);
    if (!h) { return std::nullopt; }
    auto t = ciel::parse_http_date(*h);
    if (!t) { return std::nullopt; }
    return unix_seconds(*t);
  };
  auto failed = s3_error(Status::precondition_failed, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold");
  auto im = header(for_copy ? "if-match" : "If-Match");
  if (im && !http::etag_matches(*im, info.etag)) { return failed; }
  if (!im) {
    if (auto t = date(for_copy ? "if-unmodified-since" : "If-Unmodified-Since"); t && modified_s > *t) { return failed; }
  }
  auto inm = header(for_copy ? "if-none-match" : "If-None-Match");
  if (inm && http::etag_matches(*inm, info.etag)) {
    if (for_copy) { return failed; }
    return s3_error(Status::not_modified, "NotModified", "Not Modified");
  }
  if (!inm) {
    if (auto t = date(for_copy ? "if-modified-since" : "If-Modified-Since"); t && modified_s <= *t) {
      if (for_copy) { return failed; }
      return s3_error(Status::not_modified, "NotModified", "Not Modified");
    }
  }
  return std::nullopt;
}

awaitable<http::Response> get_object(http::RequestContext& ctx, const Deps& deps, const Caller& caller, const std::string& project,
                                     const Target& t) {
  const auto& req = ctx.request();
  const bool head = req.method == http::Method::head;
  auto version = req.query_param("versionId");
  auto found = co_await find(deps, caller, project, t.bucket, t.key, version);
  if (!found) { co_return engine_error(found.error(), req, version ? "version" : "key"); }
  ObjectInfo& info = *found;
  if (info.delete_marker) {
    auto res = error_response(method_not_allowed(), req, {});
    res.set_header("x-amz-delete-marker", "true");
    res.set_header("x-amz-version-id", version_id_of(info));
    co_return res;
  }
  if (auto fail = check_conditions(req, info, false)) {
    if (fail->status == Status::not_modified) {
      http::Response res(Status::not_modified);
      res.set_header("x-amz-request-id", req.request_id);
      res.set_header("ETag", quoted(info.etag));
      res.set_header("Last-Modified", http_date(info.modified_us));
      co_return res;
    }
    co_return error_response(*fail, req, {});
  }

  http::Response res(Status::ok);
  res.set_header("x-amz-request-id", req.request_id);
  render_object_headers(res, info);
  // response-* overrides, for signed requests only (S3 refuses them anonymously).
  static constexpr std::pair<std::string_view, std::string_view> kOverrides[] = {
      {"response-content-type", "Content-Type"},   {"response-content-language", "Content-Language"},
      {"response-expires", "Expires"},             {"response-cache-control", "Cache-Control"},
      {"response-content-disposition", "Content-Disposition"}, {"response-content-encoding", "Content-Encoding"}};
  for (const auto& [param, header] : kOverrides) {
    if (auto v = req.query_param(param)) {
      if (!caller.principal) {
        co_return error_response(s3_error(Status::bad_request, "InvalidRequest", "Request specific response headers cannot be used for anonymous GET requests."), req, {});
      }
      res.set_header(header, *v);
    }
  }

  const std::uint64_t size = info.size;
  std::uint64_t offset = 0, length = size;
  if (auto pn = req.query_param("partNumber")) {
    int n = 0;
    for (char ch : *pn) { n = (ch >= '0' && ch <= '9' && n < 100000) ? n * 10 + (ch - '0') : -1; }
    if (pn->empty() || n < 1 || n > 10000) {
      co_return error_response(s3_error(Status::bad_request, "InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive"), req, {});
    }
    std::size_t parts = info.upload_part_sizes.empty() ? 1 : info.upload_part_sizes.size();
    if (static_cast<std::size_t>(n) > parts) {
      auto e = error_response(s3_error(Status::range_not_satisfiable, "InvalidPartNumber", "The requested partnumber is not satisfiable"), req, {});
      co_return e;
    }
    res.set_header("x-amz-mp-parts-count", std::to_string(parts));
    if (!info.upload_part_sizes.empty()) {
      for (int i = 0; i + 1 < n; ++i) { offset += info.upload_part_sizes[static_cast<std::size_t>(i)]; }
      length = info.upload_part_sizes[static_cast<std::size_t>(n - 1)];
      res.set_status(Status::partial_content);
      res.set_header("Content-Range", http::ByteRange{offset, length}.content_range(size));
    }
  } else if (auto rh = req.headers.get("Range")) {
    auto r = http::parse_range(*rh, size);
    if (!r) {
      auto e = error_response(s3_error(Status::range_not_satisfiable, "InvalidRange", "The requested range is not satisfiable"), req, {});
      e.set_header("Content-Range", "bytes */" + std::to_string(size));
      co_return e;
    }
    if (*r) {
      offset = (*r)->first;
      length = (*r)->length;
      res.set_status(Status::partial_content);
      res.set_header("Content-Range", (*r)->content_range(size));
    }
  }
  if (head) {
    res.set_content_length_only(length);
    co_return res;
  }
  if (info.inline_data) {
    res.set_body(info.inline_data->substr(static_cast<std::size_t>(offset), static_cast<std::size_t>(length)));
    co_return res;
  }
  if (length > 0) {
    if (auto files = deps.objects.open_object_files(info, offset, length); files && files->size() <= 512) {
      std::vector<http::FileBody> bodies;
      for (auto& f : *files) { bodies.push_back(http::FileBody{http::FileHandle(f.fd), f.offset, f.length}); }
      res.set_files(std::move(bodies));
      co_return res;
    } else if (files) {
      for (auto& f : *files) { http::FileHandle close_it(f.fd); }
    }
  }
  auto src = co_await deps.objects.open_object(info, offset, length);
  if (!src) { co_return engine_error(src.error(), req, "key"); }
  res.set_stream(std::move(*src), length);
  co_return res;
}

awaitable<http::Response> copy_object(http::RequestContext& ctx, const Deps& deps, const Caller& caller, const std::string& project,
                                      const Target& t) {
  const auto& req = ctx.request();
  auto src = parse_copy_source(req.header("x-amz-copy-source"));
  if (!src) { co_return error_response(s3_error(Status::bad_request, "InvalidArgument", "Copy Source must mention the source bucket and key: sourcebucket/sourcekey"), req, {}); }
  auto src_project = co_await bucket_project(deps, caller, src->bucket);
  if (!src_project) { co_return engine_error(src_project.error(), req, "bucket"); }
  auto info = co_await find(deps, caller, *src_project, src->bucket, src->key, src->version);
  if (!info) { co_return engine_error(info.error(), req, src->version ? "version" : "key"); }
  if (info->delete_marker) { co_return error_response(s3_error(Status::bad_request, "InvalidRequest", "The source of a copy request may not specifically refer to a delete marker by version id."), req, {}); }
  if (auto fail = check_conditions(req, *info, true)) { co_return error_response(*fail, req, {}); }
  std::string_view directive = req.header("x-amz-metadata-directive");
  std::string_view tagging_directive = req.header("x-amz-tagging-directive");
  if ((!directive.empty() && directive != "COPY" && directive != "REPLACE") ||
      (!tagging_directive.empty() && tagging_directive != "COPY" && tagging_directive != "REPLACE")) {
    co_return error_response(s3_error(Status::bad_request, "InvalidArgument", "Unknown metadata directive."), req, {});
  }
  const bool replace = directive == "REPLACE";
  if (*src_project == project && src->bucket == t.bucket && src->key == t.key && !replace && !src->version) {
    co_return error_response(s3_error(Status::bad_request, "InvalidRequest",
                                      "This copy request is illegal because it is trying to copy an object to itself without changing the "
                                      "object's metadata, storage class, website redirect location or encryption attributes."),
                             req, {});
  }
  CopyRequest cr;
  cr.fresh_metadata = replace;
  cr.src_version_id = src->version.value_or("");
  if (replace) {
    cr.put.content_type = std::string(req.header("Content-Type"));
    if (cr.put.content_type.empty()) { cr.put.content_type = "binary/octet-stream"; }
    cr.put.meta = user_metadata(req);
    cr.put.headers = kept_headers(req);
  }
  if (tagging_directive == "REPLACE") {
    auto tags = parse_tagging_header(req.header("x-amz-tagging"));
    if (!tags) { co_return engine_error(tags.error(), req, "key"); }
    cr.fresh_tags = true;
    cr.put.tags = std::move(*tags);
  }
  auto done = co_await deps.objects.copy_object(caller.access(), *src_project, src->bucket, src->key, project, t.bucket, t.key, std::move(cr));
  if (!done) { co_return engine_error(done.error(), req, "key"); }
  XmlWriter w("CopyObjectResult");
  w.leaf("LastModified", iso8601(done->modified_us));
  w.leaf("ETag", quoted(done->etag));
  auto res = xml_response(Status::ok, w.finish(), req);
  if (src->version) { res.set_header("x-amz-copy-source-version-id", *src->version); }
  if (!done->null_version) { res.set_header("x-amz-version-id", done->version_id); }
  co_return res;
}

awaitable<http::Response> put_object(http::RequestContext& ctx, const Deps& deps, const Caller& caller, const std::string& project,
                                     const Target& t) {
  const auto& req = ctx.request();
  if (req.headers.has("x-amz-copy-source")) { co_return co_await copy_object(ctx, deps, caller, project, t); }
  if (auto acl = req.headers.get("x-amz-acl"); acl && *acl != "private" && *acl != "bucket-owner-full-control") {
    co_return error_response(s3_error(Status::not_implemented, "NotImplemented",
                                      "Object ACLs other than private are not supported; grant access with a bucket ACL or policy"),
                             req, {});
  }
  auto length = payload_length(req);
  if (!length && !req.chunked) {
    co_return error_response(s3_error(Status::length_required, "MissingContentLength", "You must provide the Content-Length HTTP header."), req, {});
  }
  if (length && *length > deps.objects.config().max_object_size) {
    co_return error_response(s3_error(Status::bad_request, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed object size."), req, {});
  }
  auto md5 = content_md5(req);
  if (!md5) { co_return error_response(s3_error(Status::bad_request, "InvalidDigest", md5.error().message), req, {}); }
  PutRequest put;
  put.content_type = std::string(req.header("Content-Type"));
  if (put.content_type.empty()) { put.content_type = "binary/octet-stream"; }
  put.meta = user_metadata(req);
  put.headers = kept_headers(req);
  put.content_length = length;
  put.expected_etag = *md5;
  if (auto tagging = req.headers.get("x-amz-tagging")) {
    auto tags = parse_tagging_header(*tagging);
    if (!tags) { co_return engine_error(tags.error(), req, "key"); }
    put.tags = std::move(*tags);
  }
  if (req.header("If-None-Match") == "*") { put.only_if_absent = true; }
  std::unique_ptr<ByteSource> holder;
  ByteSource& body = payload(ctx, caller, holder);
  auto info = co_await deps.objects.put_object(caller.access(), project, t.bucket, t.key, std::move(put), body);
  if (!info) { co_return engine_error(info.error(), req, "key"); }
  auto res = empty_response(Status::ok, req);
  res.set_header("ETag", quoted(info->etag));
  if (!info->null_version) { res.set_header("x-amz-version-id", info->version_id); }
  co_return res;
}

awaitable<http::Response> delete_object(http::RequestContext& ctx, const Deps& deps, const Caller& caller, const std::string& project,
                                        const Target& t) {
  const auto& req = ctx.request();
  auto res = empty_response(Status::no_content, req);
  Result<ObjectInfo> done = make_error(Errc::internal, "");
  if (auto version = req.query_param("versionId")) {
    done = co_await deps.objects.delete_version(caller.access(), project, t.bucket, t.key, std::string(*version));
  } else {
    done = co_await deps.objects.delete_object(caller.access(), project, t.bucket, t.key);
  }
  if (!done) {
    // Deleting what is not there succeeds in S3 (the bucket must exist, and access is checked).
    if (done.error().code == Errc::not_found && done.error().message != kNoSuchContainer) { co_return res; }
    co_return engine_error(done.error(), req, "key");
  }
  if (done->delete_marker) { res.set_header("x-amz-delete-marker", "true"); }
  if (!done->null_version || req.has_query_param("versionId")) { res.set_header("x-amz-version-id", version_id_of(*done)); }
  co_return res;
}

awaitable<http::Response> object_tagging(http::RequestContext& ctx, const Deps& deps, const Caller& caller, const std::string& project,
                                         const Target& t) {
  const auto& req = ctx.request();
  std::string version(req.query_param("versionId").value_or(""));
  if (req.method == http::Method::get) {
    auto info = co_await find(deps, caller, project, t.bucket, t.key, req.query_param("versionId"));
    if (!info) { co_return engine_error(info.error(), req, version.empty() ? "key" : "version"); }
    XmlWriter w("Tagging");
    w.open("TagSet");
    for (const auto& [k, v] : info->tags) {
      w.open("Tag");
      w.leaf("Key", k);
      w.leaf("Value", v);
      w.close();
    }
    auto res = xml_response(Status::ok, w.finish(), req);
    if (!info->null_version) { res.set_header("x-amz-version-id", info->version_id); }
    co_return res;
  }
  Metadata tags;
  if (req.method == http::Method::put) {
    auto body = co_await ctx.read_body(64 * 1024);
    if (!body) { co_return engine_error(body.error(), req, "key"); }
    auto parsed = parse_tagging(*body, 10);
    if (!parsed) { co_return engine_error(parsed.error(), req, "key"); }
    tags = std::move(*parsed);
  } else if (req.method != http::Method::delete_) {
    co_return error_response(method_not_allowed(), req, {});
  }
  auto info = co_await deps.objects.set_object_tags(caller.access(), project, t.bucket, t.key, version, std::move(tags));
  if (!info) { co_return engine_error(info.error(), req, version.empty() ? "key" : "version"); }
  auto res = empty_response(req.method == http::Method::put ? Status::ok : Status::no_content, req);
  if (!info->null_version) { res.set_header("x-amz-version-id", info->version_id); }
  co_return res;
}

}  // namespace

awaitable<http::Response> handle_object(http::RequestContext& ctx, const Deps& deps, const Caller& caller, const Target& t) {
  const auto& req = ctx.request();
  auto project = co_await bucket_project(deps, caller, t.bucket);
  if (!project) { co_return engine_error(project.error(), req, "bucket"); }
  if (req.has_query_param("tagging")) { co_return co_await object_tagging(ctx, deps, caller, *project, t); }
  if (req.has_query_param("acl")) {
    // Objects have no ACL of their own: access is the bucket's (ACL and policy).
    auto info = co_await find(deps, caller, *project, t.bucket, t.key, req.query_param("versionId"));
    if (!info) { co_return engine_error(info.error(), req, "key"); }
    if (req.method == http::Method::get) { co_return xml_response(Status::ok, render_access_control_policy("private", *project, *project), req); }
    co_return error_response(s3_error(Status::not_implemented, "NotImplemented", "Object ACLs are not supported; grant access with a bucket ACL or policy"), req, {});
  }
  switch (req.method) {
    case http::Method::get:
    case http::Method::head: co_return co_await get_object(ctx, deps, caller, *project, t);
    case http::Method::put: co_return co_await put_object(ctx, deps, caller, *project, t);
    case http::Method::delete_: co_return co_await delete_object(ctx, deps, caller, *project, t);
    default: co_return error_response(method_not_allowed(), req, {});
  }
}

}  // namespace ciel::object::s3
