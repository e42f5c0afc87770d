// Static Large Objects: ?multipart-manifest=put checks every segment and stores the manifest;
// a GET assembles the segments (nested SLOs included); ?multipart-manifest=delete removes the
// manifest and its segments.
#include "core/crypto/crypto.h"
#include "core/http/range.h"
#include "core/http/target.h"
#include "object/swift/bulk.h"
#include "object/swift/large_object.h"
#include "object/swift/slo.h"

namespace ciel::object::swift {
namespace {

using boost::asio::awaitable;

constexpr std::size_t kMaxManifestBytes = 8 * 1024 * 1024;  // Swift's max_manifest_size
constexpr int kMaxNesting = 10;

// "/container/object" -> (container, object).
std::optional<std::pair<std::string, std::string>> split_segment(std::string_view path) {
  if (path.starts_with('/')) { path.remove_prefix(1); }
  auto slash = path.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == path.size()) { return std::nullopt; }
  return std::pair{std::string(path.substr(0, slash)), std::string(path.substr(slash + 1))};
}

// Appends bytes [offset, offset+length) of `src` to `out`.
void append_slice(LargeObject& out, const LargeObject& src, std::uint64_t offset, std::uint64_t length) {
  std::uint64_t pos = 0, end = offset + length;
  for (const auto& s : src.segments) {
    std::uint64_t ps = pos, pe = pos + s.length;
    pos = pe;
    if (pe <= offset || ps >= end) { continue; }
    std::uint64_t from = std::max(ps, offset), to = std::min(pe, end);
    out.segments.push_back({s.object, s.offset + (from - ps), to - from});
  }
}

std::pair<std::uint64_t, std::uint64_t> parse_stored_range(const std::string& range) {
  auto dash = range.find('-');
  return {std::stoull(range.substr(0, dash)), std::stoull(range.substr(dash + 1))};
}

awaitable<Result<LargeObject>> assemble(const Deps& deps, const Access& access, const std::string& project, const ObjectInfo& manifest,
                                        int depth) {
  if (depth > kMaxNesting) { co_return make_error(Errc::conflict, "Max recursion depth exceeded on SLO manifest"); }
  auto segments = parse_slo_stored_manifest(manifest.manifest_value);
  if (!segments) { co_return segments.error(); }
  LargeObject large;
  large.etag = manifest.etag;
  for (const auto& seg : *segments) {
    auto where = split_segment(seg.name);
    if (!where) { co_return make_error(Errc::conflict, "Invalid segment " + seg.name); }
    auto obj = co_await deps.objects.head_object(access, project, where->first, where->second);
    if (!obj) {
      if (obj.error().code == Errc::not_found) { co_return make_error(Errc::conflict, "Object segment no longer valid: " + seg.name); }
      co_return obj.error();
    }
    std::uint64_t first = 0, length = seg.bytes;
    if (seg.range) {
      auto [f, l] = parse_stored_range(*seg.range);
      first = f;
      length = l - f + 1;
    }
    if (seg.sub_slo) {
      if (obj->manifest != ManifestKind::slo) { co_return make_error(Errc::conflict, "Object segment no longer valid: " + seg.name); }
      auto sub = co_await assemble(deps, access, project, *obj, depth + 1);
      if (!sub) { co_return sub.error(); }
      if (first + length > sub->size) { co_return make_error(Errc::conflict, "Object segment no longer valid: " + seg.name); }
      append_slice(large, *sub, first, length);
    } else {
      if (obj->etag != seg.etag || obj->size != seg.bytes) {
        co_return make_error(Errc::conflict, "Object segment no longer valid: " + seg.name);
      }
      large.segments.push_back({std::move(*obj), first, length});
    }
    large.size += length;
  }
  co_return large;
}

}  // namespace

awaitable<Result<LargeObject>> assemble_slo(const Deps& deps, const Access& access, const std::string& project, const ObjectInfo& manifest) {
  co_return co_await assemble(deps, access, project, manifest, 0);
}

awaitable<http::Response> handle_put_slo(http::RequestContext& ctx, const Deps& deps, const Access& access, const std::string& project,
                                         const std::string& container, const std::string& name) {
  const auto& req = ctx.request();
  if (req.content_length && *req.content_length > kMaxManifestBytes) {
    co_return error_response(make_error(Errc::too_large, "Manifest File > 8388608 bytes"), req);
  }
  auto body = co_await ctx.read_body(kMaxManifestBytes);
  if (!body) { co_return error_response(body.error(), req); }
  auto specs = parse_slo_put_manifest(*body, kMaxSloSegments, "/" + container + "/" + name);
  if (!specs) {
    auto e = specs.error();
    if (e.code == Errc::too_large) { e.code = Errc::invalid_argument; }
    co_return error_response(e, req);
  }
  if (specs->empty()) { co_return error_response(make_error(Errc::invalid_argument, "Manifest must have at least one segment.\n"), req); }
  std::vector<SloSegment> segments;
  std::string problems;
  for (const auto& spec : *specs) {
    auto where = split_segment(spec.path);
    if (!where) {
      problems += http::percent_encode(spec.path, "/") + ", 400 Bad Request\n";
      continue;
    }
    auto obj = co_await deps.objects.head_object(access, project, where->first, where->second);
    if (!obj) {
      problems += http::percent_encode(spec.path, "/") + ", " + status_line(obj.error()) + "\n";
      continue;
    }
    const bool sub_slo = obj->manifest == ManifestKind::slo;
    if (spec.etag && *spec.etag != obj->etag) {
      problems += http::percent_encode(spec.path, "/") + ", Etag Mismatch\n";
      continue;
    }
    if (spec.size_bytes && *spec.size_bytes != obj->size) {
      problems += http::percent_encode(spec.path, "/") + ", Size Mismatch\n";
      continue;
    }
    SloSegment seg;
    seg.name = spec.path;
    seg.etag = obj->etag;
    seg.bytes = obj->size;
    seg.content_type = obj->content_type;
    seg.last_modified = listing_time(obj->modified_us);
    seg.sub_slo = sub_slo;
    if (spec.range) {
      auto r = resolve_slo_range(*spec.range, obj->size);
      if (!r) {
        problems += http::percent_encode(spec.path, "/") + ", Unsatisfiable Range\n";
        continue;
      }
      if (r->first != 0 || r->second + 1 != obj->size) { seg.range = std::to_string(r->first) + "-" + std::to_string(r->second); }
    }
    if (slo_segment_length(seg) < 1) {
      problems += http::percent_encode(spec.path, "/") + ", Too Small; each segment must be at least 1 byte.\n";
      continue;
    }
    segments.push_back(std::move(seg));
  }
  if (!problems.empty()) { co_return error_response(make_error(Errc::invalid_argument, "Errors:\n" + problems), req); }

  PutRequest put;
  std::string_view ct = req.header("Content-Type");
  put.content_type = ct.empty() ? segments.front().content_type : std::string(ct);
  put.meta = object_metadata(req);
  put.manifest = ManifestKind::slo;
  put.manifest_value = render_slo_manifest(segments);
  put.etag_override = slo_etag(segments);
  put.size_override = slo_total_size(segments);
  put.content_length = 0;
  if (auto etag = req.headers.get("ETag")) {
    std::string_view e = *etag;
    if (e.size() >= 2 && e.front() == '"' && e.back() == '"') { e = e.substr(1, e.size() - 2); }
    if (e != *put.etag_override) { co_return error_response(make_error(Errc::invalid_argument, std::string(kEtagMismatch)), req); }
  }
  StringSource empty("");
  auto info = co_await deps.objects.put_object(access, project, container, name, std::move(put), empty);
  if (!info) { co_return error_response(info.error(), req); }
  http::Response res = status_response(http::Status::created, req);
  res.set_header("ETag", "\"" + info->etag + "\"");
  res.set_header("Last-Modified", last_modified(info->modified_us));
  co_return res;
}

namespace {

// Deletes an SLO manifest's segments, nested manifests' segments first, then the manifest.
awaitable<void> delete_slo_tree(const Deps& deps, const Access& access, const std::string& project, const std::string& container,
                                const std::string& name, const ObjectInfo& manifest, BulkResult& result, int depth) {
  auto segments = parse_slo_stored_manifest(manifest.manifest_value);
  if (segments && depth <= kMaxNesting) {
    for (const auto& seg : *segments) {
      auto where = split_segment(seg.name);
      if (!where) { continue; }
      if (seg.sub_slo) {
        auto sub = co_await deps.objects.head_object(access, project, where->first, where->second);
        if (sub && sub->manifest == ManifestKind::slo) {
          co_await delete_slo_tree(deps, access, project, where->first, where->second, *sub, result, depth + 1);
          continue;
        }
      }
      auto d = co_await deps.objects.delete_object(access, project, where->first, where->second);
      if (d) {
        ++result.ok_count;
      } else if (d.error().code == Errc::not_found) {
        ++result.not_found;
      } else {
        result.errors.emplace_back(seg.name, status_line(d.error()));
      }
    }
  }
  auto d = co_await deps.objects.delete_object(access, project, container, name);
  if (d) {
    ++result.ok_count;
  } else if (d.error().code == Errc::not_found) {
    ++result.not_found;
  } else {
    result.errors.emplace_back("/" + container + "/" + name, status_line(d.error()));
  }
}

}  // namespace

awaitable<http::Response> handle_delete_slo(http::RequestContext& ctx, const Deps& deps, const Access& access, const std::string& project,
                                            const std::string& container, const std::string& name) {
  const auto& req = ctx.request();
  auto manifest = co_await deps.objects.head_object(access, project, container, name);
  BulkResult result;
  if (!manifest) {
    if (manifest.error().code != Errc::not_found) { co_return error_response(manifest.error(), req); }
    result.not_found = 1;
  } else if (manifest->manifest == ManifestKind::slo) {
    co_await delete_slo_tree(deps, access, project, container, name, *manifest, result, 0);
  } else if (!manifest->upload_part_sizes.empty()) {
    // An object uploaded in S3 parts: a large object whose segments are its own, gone with it.
    auto gone = co_await deps.objects.delete_object(access, project, container, name);
    if (gone) {
      result.ok_count = 1;
    } else if (gone.error().code == Errc::not_found) {
      result.not_found = 1;
    } else {
      result.errors.emplace_back("/" + container + "/" + name, "500 Internal Error");
    }
  } else {
    // Swift keeps an object that is not an SLO manifest and says why.
    result.errors.emplace_back("/" + container + "/" + name, "400 Bad Request");
    result.response_body = "Not an SLO manifest";
  }
  if (!result.errors.empty()) { result.response_status = "400 Bad Request"; }
  std::string accept(req.header("Accept"));
  http::Response res = status_response(http::Status::ok, req);
  std::string type = accept.find("json") != std::string::npos  ? "application/json"
                     : accept.find("xml") != std::string::npos ? "application/xml"
                                                               : "text/plain";
  res.set_body(render_bulk_result(result, type, false), type + "; charset=utf-8");
  co_return res;
}

}  // namespace ciel::object::swift
