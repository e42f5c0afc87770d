// /v1/{account}/{container}/{object}: PUT (streaming, chunked, ETag check), GET and HEAD
// (ranges, multi-range, conditionals, sendfile), POST (metadata), DELETE, COPY and X-Copy-From,
// and Dynamic Large Objects (X-Object-Manifest). Static Large Objects live in slo.cc.
#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>

#include "core/crypto/crypto.h"
#include "core/http/mime.h"
#include "core/http/range.h"
#include "core/http/router.h"
#include "core/http/target.h"
#include "object/swift/common.h"
#include "object/swift/large_object.h"

namespace ciel::object::swift {
namespace {

using boost::asio::awaitable;

// Headers an object keeps and returns as they were sent (Swift's allowed_headers).
constexpr std::string_view kKeptHeaders[] = {"Content-Disposition", "Content-Encoding", "Content-Language", "Cache-Control",
                                             "Expires", "X-Robots-Tag"};

struct Context {
  Caller caller;
  std::string project, container, object;
};

awaitable<Result<Context>> prepare(http::RequestContext& ctx, const Deps& deps) {
  auto caller = co_await authenticate(ctx.request(), deps, ctx.param("account"), ctx.param("container"));
  if (!caller) { co_return caller.error(); }
  auto project = project_of(ctx.param("account"));
  if (!project) { co_return project.error(); }
  co_return Context{std::move(*caller), std::move(*project), std::string(ctx.param("container")), std::string(ctx.param("object"))};
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) { c = static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }
  return out;
}

std::string_view unquote(std::string_view s) {
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') { return s.substr(1, s.size() - 2); }
  return s;
}

std::optional<std::int64_t> parse_int(std::string_view s) {
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size()) { return std::nullopt; }
  return v;
}

Metadata kept_headers(const http::Request& req) {
  Metadata h;
  for (auto name : kKeptHeaders) {
    if (auto v = req.headers.get(name); v && !v->empty()) { h[lower(name)] = std::string(*v); }
  }
  return h;
}

// X-Delete-At / X-Delete-After -> unix seconds; Errc::invalid_argument for a bad or past value.
Result<std::optional<std::int64_t>> delete_at_of(const http::Request& req, std::int64_t now_s) {
  if (auto v = req.headers.get("X-Delete-At")) {
    auto t = parse_int(*v);
    if (!t) { return make_error(Errc::invalid_argument, "Non-integer X-Delete-At"); }
    if (*t <= now_s) { return make_error(Errc::invalid_argument, "X-Delete-At in past"); }
    return std::optional<std::int64_t>{*t};
  }
  if (auto v = req.headers.get("X-Delete-After")) {
    auto t = parse_int(*v);
    if (!t) { return make_error(Errc::invalid_argument, "Non-integer X-Delete-After"); }
    if (*t < 0) { return make_error(Errc::invalid_argument, "X-Delete-After in past"); }
    return std::optional<std::int64_t>{now_s + *t};
  }
  return std::optional<std::int64_t>{};
}

Result<std::string> dlo_manifest_of(std::string_view value) {
  auto decoded = http::percent_decode(value);
  if (!decoded) { return decoded.error(); }
  std::string v = *decoded;
  auto slash = v.find('/');
  if (slash == std::string::npos || slash == 0 || v.find_first_of("?&") != std::string::npos) {
    return make_error(Errc::invalid_argument, "X-Object-Manifest must be in the format container/prefix");
  }
  if (auto st = check_container_name(v.substr(0, slash)); !st) { return st.error(); }
  return v;
}

// "container/object" from X-Copy-From or Destination (URL-encoded, leading '/' optional).
Result<std::pair<std::string, std::string>> split_copy_path(std::string_view value, std::string_view header) {
  auto decoded = http::percent_decode(value);
  if (!decoded) { return decoded.error(); }
  std::string v = *decoded;
  if (v.starts_with('/')) { v.erase(0, 1); }
  auto slash = v.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == v.size()) {
    return make_error(Errc::precondition_failed, std::string(header) + " header must be of the form <container name>/<object name>");
  }
  return std::pair{v.substr(0, slash), v.substr(slash + 1)};
}

std::int64_t now_seconds() { return unix_seconds(system_clock().now()); }

void render_object_headers(http::Response& res, const ObjectInfo& o, const std::string& etag, bool quoted_etag) {
  res.set_header("ETag", quoted_etag ? "\"" + etag + "\"" : etag);
  res.set_header("Last-Modified", last_modified(o.modified_us));
  res.set_header("X-Timestamp", x_timestamp(o.modified_us));
  res.set_header("Accept-Ranges", "bytes");
  render_metadata(res, "Object", o.meta);
  for (const auto& [k, v] : o.headers) { res.set_header(header_case(k), v); }
  if (o.delete_at) { res.set_header("X-Delete-At", std::to_string(*o.delete_at)); }
  if (o.manifest == ManifestKind::dlo) { res.set_header("X-Object-Manifest", o.manifest_value); }
  if (o.manifest == ManifestKind::slo || !o.upload_part_sizes.empty()) { res.set_header("X-Static-Large-Object", "True"); }
}

// RFC 9110 13.2.2 order: If-Match, If-Unmodified-Since, If-None-Match, If-Modified-Since.
std::optional<http::Status> check_conditions(const http::Request& req, const std::string& etag, std::int64_t modified_us) {
  const auto modified_s = (modified_us + 999999) / 1000000;
  if (auto im = req.headers.get("If-Match")) {
    if (!http::etag_matches(*im, etag)) { return http::Status::precondition_failed; }
  } else if (auto ius = req.headers.get("If-Unmodified-Since")) {
    if (auto t = parse_http_date(*ius); t && modified_s > unix_seconds(*t)) { return http::Status::precondition_failed; }
  }
  if (auto inm = req.headers.get("If-None-Match")) {
    if (http::etag_matches(*inm, etag)) { return http::Status::not_modified; }
  } else if (auto ims = req.headers.get("If-Modified-Since")) {
    if (auto t = parse_http_date(*ims); t && modified_s <= unix_seconds(*t)) { return http::Status::not_modified; }
  }
  return std::nullopt;
}

// `vanished` is set when the version's bytes were removed between its lookup and their opening
// (an overwrite or delete committed meanwhile): the caller looks the object up again.
awaitable<http::Response> serve_object(http::RequestContext& ctx, const Deps& deps, const Context& c, ObjectInfo info, bool head,
                                       bool* vanished = nullptr) {
  const auto& req = ctx.request();
  // What the client sees: the object itself, or a large object's assembled segments.
  std::optional<LargeObject> large;
  const bool raw_manifest = req.query_param("multipart-manifest") == std::optional<std::string_view>("get");
  if (info.manifest != ManifestKind::none && !raw_manifest) {
    auto l = co_await assemble_large_object(deps, c.caller.access(), c.project, info);
    if (!l) { co_return error_response(l.error(), req); }
    large = std::move(*l);
  }
  std::uint64_t size = large ? large->size : info.size;
  std::string etag = large ? large->etag : info.etag;
  // An object uploaded in S3 parts has S3's ETag (MD5 of the parts' MD5s, "-N"), not the MD5 of
  // its bytes. Swift shows such an object as the static large object it is there, so clients
  // (swift download) skip the MD5 check they do on plain objects.
  bool quoted = (info.manifest != ManifestKind::none && !raw_manifest) || !info.upload_part_sizes.empty();

  http::Response res(http::Status::ok);
  render_object_headers(res, info, etag, quoted);
  res.set_header("X-Trans-Id", req.request_id);
  res.set_header("X-Openstack-Request-Id", req.request_id);
  std::string content_type = info.content_type;
  if (raw_manifest && info.manifest == ManifestKind::slo) {
    content_type = "application/json; charset=utf-8";
    res.set_header("Content-Type", content_type);
    res.set_body(info.manifest_value);
    co_return res;
  }
  if (auto st = check_conditions(req, etag, info.modified_us)) {
    if (*st == http::Status::not_modified) {
      res.set_status(http::Status::not_modified);
      co_return res;
    }
    co_return error_response(make_error(Errc::precondition_failed, "Precondition Failed"), req);
  }
  res.set_header("Content-Type", content_type);
  if (c.caller.tempurl) {
    // A temp URL shows only X-Object-Meta-Public-* metadata (Swift's outgoing_remove_headers).
    std::vector<std::string> hidden;
    for (const auto& [name, value] : res.headers().items()) {
      std::string n = lower(name);
      if (n.starts_with("x-object-meta-") && !n.starts_with("x-object-meta-public-")) { hidden.push_back(name); }
    }
    for (const auto& name : hidden) { res.headers().remove(name); }
  }
  if (c.caller.tempurl && req.method == http::Method::get) {
    // A temp URL download saves under the object's name unless the URL says otherwise.
    const auto& t = *c.caller.tempurl;
    std::string name = t.filename ? *t.filename : info.name.substr(info.name.rfind('/') == std::string::npos ? 0 : info.name.rfind('/') + 1);
    std::string quoted;
    for (char ch : name) {
      if (ch == '"' || ch == '\\') { quoted += '\\'; }
      quoted += ch;
    }
    std::string value = t.inline_ ? "inline" : "attachment";
    if (!t.inline_ || t.filename) { value += "; filename=\"" + quoted + "\"; filename*=UTF-8''" + http::percent_encode(name); }
    res.set_header("Content-Disposition", value);
  }

  std::vector<http::ByteRange> ranges;
  auto rh = req.headers.get("Range");
  if (rh && size == 0 && rh->starts_with("bytes=-")) { rh.reset(); }  // the last N bytes of nothing: all of it (200), as Swift
  if (rh) {
    // If-Range: serve the whole object when the validator no longer matches.
    auto ir = req.headers.get("If-Range");
    if (!ir || unquote(*ir) == etag || *ir == last_modified(info.modified_us)) {
      auto r = http::parse_ranges(*rh, size);
      if (!r) {
        auto e = error_response(make_error(Errc::precondition_failed, ""), req);
        e.set_status(http::Status::range_not_satisfiable);
        e.set_body("<html><h1>Requested Range Not Satisfiable</h1><p>The Range requested is not available.</p></html>",
                   "text/html; charset=UTF-8");
        e.set_header("Content-Range", "bytes */" + std::to_string(size));
        co_return e;
      }
      ranges = std::move(*r);
    }
  }

  auto open_span = [&](std::uint64_t offset, std::uint64_t length) -> awaitable<Result<std::unique_ptr<ByteSource>>> {
    if (large) { co_return co_await open_large_object(deps, *large, offset, length); }
    co_return co_await deps.objects.open_object(info, offset, length);
  };

  if (ranges.size() > 1) {
    std::string boundary = crypto::random_hex(16);
    std::vector<std::unique_ptr<ByteSource>> parts;
    std::uint64_t total = 0;
    for (const auto& r : ranges) {
      std::string head_text = "--" + boundary + "\r\nContent-Type: " + content_type + "\r\nContent-Range: " + r.content_range(size) + "\r\n\r\n";
      if (!parts.empty()) { head_text = "\r\n" + head_text; }
      total += head_text.size() + r.length;
      parts.push_back(std::make_unique<StringSource>(std::move(head_text)));
      if (!head) {
        auto src = co_await open_span(r.first, r.length);
        if (!src) { co_return error_response(src.error(), req); }
        parts.push_back(std::move(*src));
      }
    }
    std::string tail = "\r\n--" + boundary + "--";
    total += tail.size();
    parts.push_back(std::make_unique<StringSource>(std::move(tail)));
    res.set_status(http::Status::partial_content);
    res.set_header("Content-Type", "multipart/byteranges;boundary=" + boundary);
    if (head) {
      res.set_content_length_only(total);
    } else {
      res.set_stream(std::make_unique<ConcatSource>(std::move(parts)), total);
    }
    co_return res;
  }

  std::uint64_t offset = 0, length = size;
  if (ranges.size() == 1) {
    offset = ranges[0].first;
    length = ranges[0].length;
    res.set_status(http::Status::partial_content);
    res.set_header("Content-Range", ranges[0].content_range(size));
  }
  if (head) {
    res.set_content_length_only(length);
    co_return res;
  }
  if (!large && info.inline_data) {
    res.set_body(info.inline_data->substr(offset, length));
    co_return res;
  }
  // Plain TCP sends blobs with sendfile: gather the descriptors of every blob in the range
  // (a large object's segments too, when there are not too many).
  {
    std::vector<http::FileBody> files;
    bool ok = true;
    auto add = [&](const ObjectInfo& o, std::uint64_t off, std::uint64_t len) {
      if (!ok || len == 0) { return; }
      auto got = deps.objects.open_object_files(o, off, len);
      if (!got) {
        ok = false;
        // Files exist for this store, but this version's are gone: look again.
        if (got.error().code == Errc::not_found && !o.inline_data && vanished != nullptr && !o.parts.empty()) { *vanished = true; }
        return;
      }
      for (auto& f : *got) { files.push_back(http::FileBody{http::FileHandle(f.fd), f.offset, f.length}); }
    };
    if (!large) {
      add(info, offset, length);
    } else if (large->segments.size() <= 256) {
      std::uint64_t pos = 0, end = offset + length;
      for (const auto& s : large->segments) {
        std::uint64_t ps = pos, pe = pos + s.length;
        pos = pe;
        if (pe <= offset || ps >= end) { continue; }
        std::uint64_t from = std::max(ps, offset), to = std::min(pe, end);
        add(s.object, s.offset + (from - ps), to - from);
      }
    } else {
      ok = false;
    }
    if (ok && files.size() <= 512) {
      res.set_files(std::move(files));
      co_return res;
    }
    if (vanished != nullptr && *vanished) { co_return res; }
  }
  auto src = co_await open_span(offset, length);
  if (!src) {
    if (src.error().code == Errc::not_found && vanished != nullptr) { *vanished = true; }
    co_return error_response(src.error(), req);
  }
  res.set_stream(std::move(*src), length);
  co_return res;
}

awaitable<http::Response> handle_get_object(http::RequestContext& ctx, const Deps& deps, bool head) {
  auto c = co_await prepare(ctx, deps);
  if (!c) { co_return error_response(c.error(), ctx.request()); }
  for (int attempt = 0;; ++attempt) {
    auto info = co_await deps.objects.head_object(c->caller.access(), c->project, c->container, c->object);
    if (!info) { co_return error_response(info.error(), ctx.request()); }
    bool vanished = false;
    auto res = co_await serve_object(ctx, deps, *c, std::move(*info), head, attempt < 5 ? &vanished : nullptr);
    if (!vanished) { co_return res; }
  }
}

awaitable<http::Response> copy(http::RequestContext& ctx, const Deps& deps, const Context& c, std::string src_project,
                               std::string src_container, std::string src_object, std::string dst_project, std::string dst_container,
                               std::string dst_object) {
  const auto& req = ctx.request();
  CopyRequest cr;
  cr.fresh_metadata = truthy(req.header("X-Fresh-Metadata"));
  cr.put.meta = object_metadata(req);
  cr.put.headers = kept_headers(req);
  cr.put.content_type = std::string(req.header("Content-Type"));
  auto da = delete_at_of(req, now_seconds());
  if (!da) { co_return error_response(da.error(), req); }
  cr.put.delete_at = *da;
  // A large object's copy is the assembled bytes unless the manifest itself is asked for.
  auto src = co_await deps.objects.head_object(c.caller.access(), src_project, src_container, src_object);
  if (!src) { co_return error_response(src.error(), req); }
  Result<ObjectInfo> done = make_error(Errc::internal, "");
  if (src->manifest != ManifestKind::none && req.query_param("multipart-manifest") != std::optional<std::string_view>("get")) {
    auto large = co_await assemble_large_object(deps, c.caller.access(), src_project, *src);
    if (!large) { co_return error_response(large.error(), req); }
    auto body = co_await open_large_object(deps, *large, 0, large->size);
    if (!body) { co_return error_response(body.error(), req); }
    PutRequest put = cr.put;
    if (!cr.fresh_metadata) {
      Metadata merged = src->meta;
      for (auto& [k, v] : put.meta) { merged[k] = v; }
      put.meta = std::move(merged);
    }
    if (put.content_type.empty()) { put.content_type = src->content_type; }
    put.content_length = large->size;
    done = co_await deps.objects.put_object(c.caller.access(), dst_project, dst_container, dst_object, std::move(put), **body);
  } else {
    done = co_await deps.objects.copy_object(c.caller.access(), src_project, src_container, src_object, dst_project, dst_container,
                                             dst_object, std::move(cr));
  }
  if (!done) { co_return error_response(done.error(), req); }
  http::Response res = status_response(http::Status::created, req);
  res.set_header("ETag", done->etag);
  res.set_header("Last-Modified", last_modified(done->modified_us));
  res.set_header("X-Copied-From", http::percent_encode(src_container + "/" + src_object, "/"));
  res.set_header("X-Copied-From-Last-Modified", last_modified(src->modified_us));
  if (src_project != dst_project) { res.set_header("X-Copied-From-Account", "AUTH_" + src_project); }
  co_return res;
}

awaitable<http::Response> handle_put_object(http::RequestContext& ctx, const Deps& deps) {
  auto c = co_await prepare(ctx, deps);
  const auto& req = ctx.request();
  if (!c) { co_return error_response(c.error(), req); }
  if (req.has_query_param("extract-archive")) {
    co_return co_await handle_extract_archive(ctx, deps, c->caller, c->project, c->container + "/" + c->object);
  }
  if (auto mm = req.query_param("multipart-manifest"); mm && *mm == "put") { co_return co_await handle_put_slo(ctx, deps, c->caller.access(), c->project, c->container, c->object); }
  if (auto from = req.headers.get("X-Copy-From")) {
    if (req.has_body()) { co_return error_response(make_error(Errc::invalid_argument, "Copy requests require a zero byte body"), req); }
    auto src = split_copy_path(*from, "X-Copy-From");
    if (!src) { co_return error_response(src.error(), req); }
    std::string src_project = c->project;
    if (auto acct = req.headers.get("X-Copy-From-Account")) {
      auto p = project_of(*acct);
      if (!p) { co_return error_response(make_error(Errc::precondition_failed, "Bad X-Copy-From-Account"), req); }
      src_project = *p;
    }
    co_return co_await copy(ctx, deps, *c, src_project, src->first, src->second, c->project, c->container, c->object);
  }
  if (!req.content_length && !req.chunked) {
    auto r = status_response(http::Status::length_required, req);
    r.set_body("<html><h1>Length Required</h1><p>Length Required</p></html>", "text/html; charset=UTF-8");
    co_return r;
  }
  PutRequest put;
  std::string_view ct = req.header("Content-Type");
  put.content_type = ct.empty() || truthy(req.header("X-Detect-Content-Type")) ? http::guess_content_type(c->object) : std::string(ct);
  put.meta = object_metadata(req);
  put.headers = kept_headers(req);
  put.content_length = req.content_length;
  if (auto etag = req.headers.get("ETag")) { put.expected_etag = lower(unquote(*etag)); }
  if (auto inm = req.headers.get("If-None-Match")) {
    if (*inm != "*") { co_return error_response(make_error(Errc::invalid_argument, "If-None-Match only supports *"), req); }
    put.only_if_absent = true;
  }
  auto da = delete_at_of(req, now_seconds());
  if (!da) { co_return error_response(da.error(), req); }
  put.delete_at = *da;
  if (auto m = req.headers.get("X-Object-Manifest")) {
    // A manifest could name any container of the account: not through a temp URL.
    if (c->caller.tempurl) { co_return error_response(make_error(Errc::invalid_argument, "X-Object-Manifest is not allowed through a temp URL"), req); }
    auto v = dlo_manifest_of(*m);
    if (!v) { co_return error_response(v.error(), req); }
    put.manifest = ManifestKind::dlo;
    put.manifest_value = *v;
  }
  auto info = co_await deps.objects.put_object(c->caller.access(), c->project, c->container, c->object, std::move(put), ctx.body());
  if (!info) { co_return error_response(info.error(), req); }
  http::Response res = status_response(http::Status::created, req);
  res.set_header("ETag", info->etag);
  res.set_header("Last-Modified", last_modified(info->modified_us));
  co_return res;
}

awaitable<http::Response> handle_post_object(http::RequestContext& ctx, const Deps& deps) {
  if (is_formpost(ctx.request()) && !ctx.request().headers.has("X-Auth-Token")) {
    auto project = project_of(ctx.param("account"));
    if (!project) { co_return error_response(project.error(), ctx.request()); }
    co_return co_await handle_formpost(ctx, deps, *project, std::string(ctx.param("container")), std::string(ctx.param("object")));
  }
  auto c = co_await prepare(ctx, deps);
  const auto& req = ctx.request();
  if (!c) { co_return error_response(c.error(), req); }
  ObjectUpdate u;
  u.meta = object_metadata(req);
  if (auto ct = req.headers.get("Content-Type"); ct && !ct->empty()) { u.content_type = std::string(*ct); }
  u.headers = kept_headers(req);
  if (req.headers.has("X-Remove-Delete-At")) {
    u.delete_at = std::optional<std::int64_t>{};
  } else {
    auto da = delete_at_of(req, now_seconds());
    if (!da) { co_return error_response(da.error(), req); }
    if (*da) { u.delete_at = *da; }
  }
  if (auto m = req.headers.get("X-Object-Manifest")) {
    if (m->empty()) {
      u.dlo_manifest = std::string();
    } else {
      auto v = dlo_manifest_of(*m);
      if (!v) { co_return error_response(v.error(), req); }
      u.dlo_manifest = *v;
    }
  }
  auto info = co_await deps.objects.update_object(c->caller.access(), c->project, c->container, c->object, std::move(u));
  if (!info) { co_return error_response(info.error(), req); }
  co_return status_response(http::Status::accepted, req);
}

awaitable<http::Response> handle_delete_object(http::RequestContext& ctx, const Deps& deps) {
  auto c = co_await prepare(ctx, deps);
  const auto& req = ctx.request();
  if (!c) { co_return error_response(c.error(), req); }
  if (auto mm = req.query_param("multipart-manifest"); mm && *mm == "delete") {
    co_return co_await handle_delete_slo(ctx, deps, c->caller.access(), c->project, c->container, c->object);
  }
  auto info = co_await deps.objects.delete_object(c->caller.access(), c->project, c->container, c->object);
  if (!info) { co_return error_response(info.error(), req); }
  co_return status_response(http::Status::no_content, req);
}

awaitable<http::Response> handle_copy_object(http::RequestContext& ctx, const Deps& deps) {
  auto c = co_await prepare(ctx, deps);
  const auto& req = ctx.request();
  if (!c) { co_return error_response(c.error(), req); }
  auto dest = req.headers.get("Destination");
  if (!dest) { co_return error_response(make_error(Errc::precondition_failed, "Destination header required"), req); }
  auto dst = split_copy_path(*dest, "Destination");
  if (!dst) { co_return error_response(dst.error(), req); }
  std::string dst_project = c->project;
  if (auto acct = req.headers.get("Destination-Account")) {
    auto p = project_of(*acct);
    if (!p) { co_return error_response(make_error(Errc::precondition_failed, "Bad Destination-Account"), req); }
    dst_project = *p;
  }
  co_return co_await copy(ctx, deps, *c, c->project, c->container, c->object, dst_project, dst->first, dst->second);
}

}  // namespace

void add_object_routes(http::Router& router, const Deps& deps) {
  const char* pattern = "/v1/{account}/{container}/{object+}";
  http::RouteOptions upload;
  upload.max_body_bytes = deps.objects.config().max_object_size;
  router.add(http::Method::put, pattern, with_cors(deps, [&deps](http::RequestContext& ctx) { return handle_put_object(ctx, deps); }), upload);
  router.add(http::Method::get, pattern, with_cors(deps, [&deps](http::RequestContext& ctx) { return handle_get_object(ctx, deps, false); }));
  router.add(http::Method::head, pattern, with_cors(deps, [&deps](http::RequestContext& ctx) { return handle_get_object(ctx, deps, true); }));
  http::RouteOptions form;
  form.max_body_bytes = http::kUnlimitedBody;  // FormPost uploads stream; max_file_size bounds each file
  router.add(http::Method::post, pattern, with_cors(deps, [&deps](http::RequestContext& ctx) { return handle_post_object(ctx, deps); }), form);
  router.add(http::Method::delete_, pattern, with_cors(deps, [&deps](http::RequestContext& ctx) { return handle_delete_object(ctx, deps); }));
  router.add(http::Method::copy, pattern, with_cors(deps, [&deps](http::RequestContext& ctx) { return handle_copy_object(ctx, deps); }));
  router.add(http::Method::options, pattern, with_trans_id([&deps](http::RequestContext& ctx) { return handle_options(ctx, deps); }));
}

}  // namespace ciel::object::swift
