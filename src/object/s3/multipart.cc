// Multipart uploads: CreateMultipartUpload (POST ?uploads), UploadPart and UploadPartCopy
// (PUT ?partNumber&uploadId), CompleteMultipartUpload (POST ?uploadId), AbortMultipartUpload
// (DELETE ?uploadId), ListParts (GET ?uploadId) and ListMultipartUploads (GET bucket?uploads).
// The engine keeps the parts as blobs and assembles the object from them without copying.
#include <charconv>

#include "core/crypto/crypto.h"
#include "core/http/range.h"
#include "core/http/target.h"
#include "object/s3/common.h"
#include "object/s3/xml.h"

namespace ciel::object::s3 {
namespace {

using boost::asio::awaitable;
using http::Status;

std::optional<int> parse_int(std::optional<std::string_view> v) {
  if (!v) { return std::nullopt; }
  int n = 0;
  auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc{} || end != v->data() + v->size()) { return std::nullopt; }
  return n;
}

void initiator(XmlWriter& w, std::string_view tag, std::string_view id) {
  w.open(tag);
  w.leaf("ID", id);
  w.leaf("DisplayName", id);
  w.close();
}

awaitable<http::Response> create(http::RequestContext& ctx, const Deps& deps, const Caller& caller, const std::string& project,
                                 const Target& t) {
  const auto& req = ctx.request();
  PutRequest put;
  put.content_type = std::string(req.header("Content-Type"));
  if (put.content_type.empty()) { put.content_type = "binary/octet-stream"; }
  put.meta = user_metadata(req);
  put.headers = kept_headers(req);
  if (auto tagging = req.headers.get("x-amz-tagging")) {
    auto tags = parse_tagging_header(*tagging);
    if (!tags) { co_return engine_error(tags.error(), req, "key"); }
    put.tags = std::move(*tags);
  }
  auto up = co_await deps.objects.create_upload(caller.access(), project, t.bucket, t.key, std::move(put));
  if (!up) { co_return engine_error(up.error(), req, "bucket"); }
  XmlWriter w("InitiateMultipartUploadResult");
  w.leaf("Bucket", t.bucket);
  w.leaf("Key", t.key);
  w.leaf("UploadId", up->upload_id);
  co_return xml_response(Status::ok, w.finish(), req);
}

// UploadPartCopy: the source range streams from the engine into the new part.
awaitable<http::Response> copy_part(const Deps& deps, const Caller& caller, const std::string& project, const Target& t,
                                    const std::string& upload_id, int part_no, const http::Request& req) {
  auto source = parse_copy_source(req.header("x-amz-copy-source"));
  if (!source) {
    co_return error_response(s3_error(Status::bad_request, "InvalidArgument", "Copy Source must mention the source bucket and key: sourcebucket/sourcekey"), req, {});
  }
  const std::string& src_bucket = source->bucket;
  const std::string& src_key = source->key;
  const std::optional<std::string>& version = source->version;
  auto src_project = co_await bucket_project(deps, caller, src_bucket);
  if (!src_project) { co_return engine_error(src_project.error(), req, "bucket"); }
  Result<ObjectInfo> info = make_error(Errc::internal, "");
  if (version) {
    info = co_await deps.objects.head_version(caller.access(), *src_project, src_bucket, src_key, *version);
  } else {
    info = co_await deps.objects.head_object(caller.access(), *src_project, src_bucket, src_key);
  }
  if (!info) { co_return engine_error(info.error(), req, version ? "version" : "key"); }
  if (auto im = req.headers.get("x-amz-copy-source-if-match"); im && !http::etag_matches(*im, info->etag)) {
    co_return error_response(s3_error(Status::precondition_failed, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold"), req, {});
  }
  if (auto inm = req.headers.get("x-amz-copy-source-if-none-match"); inm && http::etag_matches(*inm, info->etag)) {
    co_return error_response(s3_error(Status::precondition_failed, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold"), req, {});
  }
  std::uint64_t offset = 0, length = info->size;
  if (auto range = req.headers.get("x-amz-copy-source-range")) {
    // "bytes=first-last", both required, inside the object.
    std::string_view r = *range;
    auto dash = r.find('-');
    std::uint64_t first = 0, last = 0;
    bool ok = r.starts_with("bytes=") && dash != std::string_view::npos;
    if (ok) {
      auto a = std::from_chars(r.data() + 6, r.data() + dash, first);
      auto b = std::from_chars(r.data() + dash + 1, r.data() + r.size(), last);
      ok = a.ec == std::errc{} && a.ptr == r.data() + dash && b.ec == std::errc{} && b.ptr == r.data() + r.size() && first <= last;
    }
    if (!ok || last >= info->size) {
      co_return error_response(s3_error(Status::bad_request, "InvalidArgument",
                                        "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the "
                                        "zero-based offsets of the first and last bytes to copy"),
                               req, {});
    }
    offset = first;
    length = last - first + 1;
  }
  std::unique_ptr<ByteSource> src;
  if (info->inline_data) {
    src = std::make_unique<StringSource>(info->inline_data->substr(static_cast<std::size_t>(offset), static_cast<std::size_t>(length)));
  } else {
    auto opened = co_await deps.objects.open_object(*info, offset, length);
    if (!opened) { co_return engine_error(opened.error(), req, "key"); }
    src = std::move(*opened);
  }
  auto part = co_await deps.objects.upload_part(caller.access(), project, t.bucket, t.key, upload_id, part_no, length, std::nullopt, *src);
  if (!part) { co_return engine_error(part.error(), req, "upload"); }
  XmlWriter w("CopyPartResult");
  w.leaf("LastModified", iso8601(part->modified_us));
  w.leaf("ETag", quoted(part->etag));
  auto res = xml_response(Status::ok, w.finish(), req);
  if (version) { res.set_header("x-amz-copy-source-version-id", *version); }
  co_return res;
}

awaitable<http::Response> upload_part(http::RequestContext& ctx, const Deps& deps, const Caller& caller, const std::string& project,
                                      const Target& t, const std::string& upload_id) {
  const auto& req = ctx.request();
  auto part_no = parse_int(req.query_param("partNumber"));
  if (!part_no || *part_no < 1 || *part_no > 10000) {
    co_return error_response(s3_error(Status::bad_request, "InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive"), req, {});
  }
  if (req.headers.has("x-amz-copy-source")) { co_return co_await copy_part(deps, caller, project, t, upload_id, *part_no, req); }
  auto length = payload_length(req);
  if (!length && !req.chunked) {
    co_return error_response(s3_error(Status::length_required, "MissingContentLength", "You must provide the Content-Length HTTP header."), req, {});
  }
  if (length && *length > deps.objects.config().max_object_size) {
    co_return error_response(s3_error(Status::bad_request, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed object size."), req, {});
  }
  std::optional<std::string> md5;
  if (auto h = req.headers.get("Content-MD5")) {
    auto raw = crypto::unbase64(*h);
    if (!raw || raw->size() != 16) { co_return error_response(s3_error(Status::bad_request, "InvalidDigest", "The Content-MD5 you specified was invalid."), req, {}); }
    md5 = crypto::hex(*raw);
  }
  std::unique_ptr<ByteSource> holder;
  ByteSource& body = payload(ctx, caller, holder);
  auto part = co_await deps.objects.upload_part(caller.access(), project, t.bucket, t.key, upload_id, *part_no, length, md5, body);
  if (!part) { co_return engine_error(part.error(), req, "upload"); }
  auto res = empty_response(Status::ok, req);
  res.set_header("ETag", quoted(part->etag));
  co_return res;
}

awaitable<http::Response> complete(http::RequestContext& ctx, const Deps& deps, const Caller& caller, const std::string& project,
                                   const Target& t, const std::string& upload_id) {
  const auto& req = ctx.request();
  auto body = co_await ctx.read_body(2 * 1024 * 1024);
  if (!body) { co_return engine_error(body.error(), req, "upload"); }
  auto parts = parse_complete_multipart(*body);
  if (!parts) { co_return engine_error(parts.error(), req, "upload"); }
  auto done = co_await deps.objects.complete_upload(caller.access(), project, t.bucket, t.key, upload_id, std::move(*parts));
  if (!done) { co_return engine_error(done.error(), req, "upload"); }
  XmlWriter w("CompleteMultipartUploadResult");
  w.leaf("Location", "/" + t.bucket + "/" + http::percent_encode(t.key, "/"));
  w.leaf("Bucket", t.bucket);
  w.leaf("Key", t.key);
  w.leaf("ETag", quoted(done->etag));
  auto res = xml_response(Status::ok, w.finish(), req);
  if (!done->null_version) { res.set_header("x-amz-version-id", done->version_id); }
  co_return res;
}

awaitable<http::Response> list_parts(http::RequestContext& ctx, const Deps& deps, const Caller& caller, const std::string& project,
                                     const Target& t, const std::string& upload_id) {
  const auto& req = ctx.request();
  int marker = 0;
  if (auto m = req.query_param("part-number-marker")) {
    auto n = parse_int(m);
    if (!n || *n < 0) { co_return error_response(s3_error(Status::bad_request, "InvalidArgument", "Invalid part number marker"), req, {}); }
    marker = *n;
  }
  std::size_t limit = 1000;
  if (auto m = req.query_param("max-parts")) {
    auto n = parse_int(m);
    if (!n || *n < 0) { co_return error_response(s3_error(Status::bad_request, "InvalidArgument", "Provided max-parts not an integer or within integer range"), req, {}); }
    limit = static_cast<std::size_t>(std::min(*n, 1000));
  }
  auto l = co_await deps.objects.list_parts(caller.access(), project, t.bucket, t.key, upload_id, marker, limit);
  if (!l) { co_return engine_error(l.error(), req, "upload"); }
  XmlWriter w("ListPartsResult");
  w.leaf("Bucket", t.bucket);
  w.leaf("Key", t.key);
  w.leaf("UploadId", upload_id);
  initiator(w, "Initiator", l->upload.initiator.empty() ? project : l->upload.initiator);
  initiator(w, "Owner", project);
  w.leaf("StorageClass", "STANDARD");
  w.leaf("PartNumberMarker", static_cast<std::uint64_t>(marker));
  if (!l->parts.empty()) { w.leaf("NextPartNumberMarker", static_cast<std::uint64_t>(l->parts.back().part_no)); }
  w.leaf("MaxParts", limit);
  w.leaf_bool("IsTruncated", l->truncated);
  for (const auto& p : l->parts) {
    w.open("Part");
    w.leaf("PartNumber", static_cast<std::uint64_t>(p.part_no));
    w.leaf("LastModified", iso8601(p.modified_us));
    w.leaf("ETag", quoted(p.etag));
    w.leaf("Size", p.size);
    w.close();
  }
  co_return xml_response(Status::ok, w.finish(), req);
}

awaitable<http::Response> list_uploads(http::RequestContext& ctx, const Deps& deps, const Caller& caller, const std::string& project,
                                       const Target& t) {
  const auto& req = ctx.request();
  const bool url = req.query_param("encoding-type").value_or("") == "url";
  auto enc = [url](std::string_view s) { return url ? http::percent_encode(s, "/") : std::string(s); };
  UploadQuery q;
  q.prefix = std::string(req.query_param("prefix").value_or(""));
  q.delimiter = std::string(req.query_param("delimiter").value_or(""));
  q.key_marker = std::string(req.query_param("key-marker").value_or(""));
  q.upload_id_marker = std::string(req.query_param("upload-id-marker").value_or(""));
  if (auto m = req.query_param("max-uploads")) {
    auto n = parse_int(m);
    if (!n || *n < 0) { co_return error_response(s3_error(Status::bad_request, "InvalidArgument", "Provided max-uploads not an integer or within integer range"), req, {}); }
    q.limit = static_cast<std::size_t>(std::min(*n, 1000));
  }
  auto l = co_await deps.objects.list_uploads(caller.access(), project, t.bucket, q);
  if (!l) { co_return engine_error(l.error(), req, "bucket"); }
  XmlWriter w("ListMultipartUploadsResult");
  w.leaf("Bucket", t.bucket);
  w.leaf("KeyMarker", enc(q.key_marker));
  w.leaf("UploadIdMarker", q.upload_id_marker);
  if (l->truncated && !l->uploads.empty()) {
    w.leaf("NextKeyMarker", enc(l->uploads.back().name));
    w.leaf("NextUploadIdMarker", l->uploads.back().upload_id);
  }
  w.leaf("Prefix", enc(q.prefix));
  if (!q.delimiter.empty()) { w.leaf("Delimiter", enc(q.delimiter)); }
  w.leaf("MaxUploads", q.limit);
  if (url) { w.leaf("EncodingType", "url"); }
  w.leaf_bool("IsTruncated", l->truncated);
  for (const auto& u : l->uploads) {
    w.open("Upload");
    w.leaf("Key", enc(u.name));
    w.leaf("UploadId", u.upload_id);
    initiator(w, "Initiator", u.initiator.empty() ? project : u.initiator);
    initiator(w, "Owner", project);
    w.leaf("StorageClass", "STANDARD");
    w.leaf("Initiated", iso8601(u.created_us));
    w.close();
  }
  for (const auto& p : l->prefixes) {
    w.open("CommonPrefixes");
    w.leaf("Prefix", enc(p));
    w.close();
  }
  co_return xml_response(Status::ok, w.finish(), req);
}

}  // namespace

awaitable<http::Response> handle_multipart(http::RequestContext& ctx, const Deps& deps, const Caller& caller, const Target& t) {
  const auto& req = ctx.request();
  auto project = co_await bucket_project(deps, caller, t.bucket);
  if (!project) { co_return engine_error(project.error(), req, "bucket"); }
  if (t.key.empty()) {
    if (req.method == http::Method::get) { co_return co_await list_uploads(ctx, deps, caller, *project, t); }
  } else if (req.has_query_param("uploads")) {
    if (req.method == http::Method::post) { co_return co_await create(ctx, deps, caller, *project, t); }
  } else {
    std::string upload_id(req.query_param("uploadId").value_or(""));
    switch (req.method) {
      case http::Method::put: co_return co_await upload_part(ctx, deps, caller, *project, t, upload_id);
      case http::Method::post: co_return co_await complete(ctx, deps, caller, *project, t, upload_id);
      case http::Method::get: co_return co_await list_parts(ctx, deps, caller, *project, t, upload_id);
      case http::Method::delete_: {
        auto st = co_await deps.objects.abort_upload(caller.access(), *project, t.bucket, t.key, upload_id);
        if (!st) { co_return engine_error(st.error(), req, "upload"); }
        co_return empty_response(Status::no_content, req);
      }
      default: break;
    }
  }
  co_return error_response(s3_error(Status::method_not_allowed, "MethodNotAllowed", "The specified method is not allowed against this resource."), req, {});
}

}  // namespace ciel::object::s3
