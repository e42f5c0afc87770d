// Swift's bulk operations: POST/DELETE ?bulk-delete (a list of paths to delete) and
// PUT ?extract-archive=tar|tar.gz (each file of the archive becomes an object), and FormPost
// (browser uploads with a signed HTML form). Each item is an ordinary engine call, so every
// one is authorized, limited and counted like a single request.
#include <charconv>

#include "core/http/target.h"
#include "core/log/log.h"
#include "object/swift/bulk.h"
#include "object/swift/common.h"
#include "object/swift/formpost.h"
#include "object/swift/multipart.h"
#include "object/swift/tar.h"

namespace ciel::object::swift {
namespace {

using boost::asio::awaitable;

std::string result_type(const http::Request& req) {
  std::string_view accept = req.header("Accept");
  if (accept.find("application/json") != std::string_view::npos) { return "application/json"; }
  if (accept.find("xml") != std::string_view::npos) { return accept.find("text/xml") != std::string_view::npos ? "text/xml" : "application/xml"; }
  return "text/plain";
}

http::Response bulk_response(const http::Request& req, BulkResult& result, bool extract) {
  if (!result.errors.empty() && result.response_status == "200 OK") {
    // Swift reports the most telling failure as the whole request's status.
    result.response_status = result.errors.front().second.starts_with("401") || result.errors.front().second.starts_with("403")
                                 ? result.errors.front().second
                                 : "400 Bad Request";
  }
  std::string type = result_type(req);
  http::Response res = status_response(http::Status::ok, req);
  res.set_body(render_bulk_result(result, type, extract), type + "; charset=utf-8");
  return res;
}

}  // namespace

awaitable<http::Response> handle_bulk_delete(http::RequestContext& ctx, const Deps& deps, const Caller& caller, const std::string& project) {
  const auto& req = ctx.request();
  auto body = co_await ctx.read_body(kMaxBulkDeletes * (kMaxBulkPathBytes + 1));
  if (!body) { co_return error_response(body.error(), req); }
  auto paths = parse_bulk_delete_body(*body);
  BulkResult result;
  if (!paths) {
    result.response_status = paths.error().code == Errc::too_large ? "413 Request Entity Too Large" : "400 Bad Request";
    result.response_body = paths.error().message;
    co_return bulk_response(req, result, false);
  }
  for (const auto& path : *paths) {
    std::string_view p = path;
    if (p.starts_with('/')) { p.remove_prefix(1); }
    auto slash = p.find('/');
    std::string container(p.substr(0, slash));
    Status st;
    if (container.empty() || !http::valid_utf8(p)) {
      result.errors.emplace_back(path, "400 Bad Request");
      continue;
    }
    if (slash == std::string_view::npos || slash + 1 == p.size()) {
      st = co_await deps.objects.delete_container(caller.access(), project, container);
    } else {
      auto r = co_await deps.objects.delete_object(caller.access(), project, container, std::string(p.substr(slash + 1)));
      if (!r) { st = r.error(); }
    }
    if (st) {
      ++result.ok_count;
    } else if (st.error().code == Errc::not_found) {
      ++result.not_found;
    } else {
      result.errors.emplace_back(path, status_line(st.error()));
    }
  }
  co_return bulk_response(req, result, false);
}

awaitable<http::Response> handle_extract_archive(http::RequestContext& ctx, const Deps& deps, const Caller& caller, const std::string& project,
                                                 std::string_view base) {
  const auto& req = ctx.request();
  std::string_view format = *req.query_param("extract-archive");
  BulkResult result;
  std::unique_ptr<ByteSource> gunzip;
  ByteSource* input = &ctx.body();
  if (format == "tar.gz" || format == "tgz") {
    gunzip = make_gunzip_source(ctx.body());
    input = gunzip.get();
  } else if (format != "tar") {
    co_return error_response(make_error(Errc::invalid_argument, "Unsupported archive format"), req);
  }
  // Uploading to the account makes the first path element the container; uploading to a
  // container (or a prefix inside one) puts everything there.
  std::string prefix(base);
  TarReader tar(*input);
  for (;;) {
    auto entry = co_await tar.next();
    if (!entry) {
      result.response_status = "400 Bad Request";
      result.response_body = "Invalid Tar File: " + entry.error().message;
      break;
    }
    if (!*entry) { break; }
    if ((*entry)->is_directory || ((*entry)->type != '0' && (*entry)->type != '\0' && (*entry)->type != '7')) { continue; }
    // "./x" and "/x" are x; ".." segments are refused by the name check, so nothing lands
    // outside the target.
    std::string entry_path = (*entry)->path;
    for (bool changed = true; changed;) {
      changed = false;
      while (entry_path.starts_with("./")) { entry_path.erase(0, 2), changed = true; }
      while (entry_path.starts_with('/')) { entry_path.erase(0, 1), changed = true; }
    }
    std::string path = prefix.empty() ? entry_path : prefix + "/" + entry_path;
    auto slash = path.find('/');
    if (slash == std::string::npos || slash == 0 || slash + 1 == path.size()) {
      result.errors.emplace_back("/" + path, "400 Bad Request");
      continue;
    }
    std::string container = path.substr(0, slash), object = path.substr(slash + 1);
    if (prefix.empty()) {
      // Containers named in the archive are created as needed.
      auto created = co_await deps.objects.put_container(caller.access(), project, container, {}, {});
      if (!created) {
        result.errors.emplace_back("/" + path, status_line(created.error()));
        continue;
      }
    }
    PutRequest put;
    put.content_length = (*entry)->size;
    put.content_type = "application/octet-stream";
    for (const auto& [k, v] : (*entry)->pax) {
      if (k == "SCHILY.xattr.user.mime_type" || k == "LIBARCHIVE.xattr.user.mime_type") { put.content_type = v; }
      constexpr std::string_view meta = "SCHILY.xattr.user.meta.";
      if (k.starts_with(meta)) { put.meta[k.substr(meta.size())] = v; }
    }
    auto info = co_await deps.objects.put_object(caller.access(), project, container, object, std::move(put), tar.entry_body());
    if (info) {
      ++result.ok_count;
    } else {
      result.errors.emplace_back("/" + path, status_line(info.error()));
      // A failed entry was not read to its end; the reader skips what is left of it.
    }
  }
  if (result.errors.empty() && result.response_status == "200 OK") { result.response_status = "201 Created"; }
  co_return bulk_response(req, result, true);
}

awaitable<http::Response> handle_formpost(http::RequestContext& ctx, const Deps& deps, const std::string& project,
                                          const std::string& container, const std::string& prefix) {
  const auto& req = ctx.request();
  auto boundary = multipart_boundary(req.header("Content-Type"));
  if (!boundary) { co_return error_response(make_error(Errc::invalid_argument, "FormPost: invalid boundary"), req); }
  MultipartReader reader(ctx.body(), *boundary);
  std::vector<std::pair<std::string, std::string>> fields;
  std::optional<FormPostAttrs> attrs;
  std::vector<std::string> keys;
  Caller caller;
  caller.base.source = req.remote_address;
  caller.base.signed_for_project = project;
  std::uint64_t files = 0;
  std::string status = "201 Created", message;
  std::string path = req.path;
  for (;;) {
    auto part = co_await reader.next();
    if (!part) {
      status = "400 Bad Request";
      message = "FormPost: " + part.error().message;
      break;
    }
    if (!*part) { break; }
    if ((*part)->filename.empty()) {
      auto value = co_await read_formpost_field(reader.part_body());
      if (!value) { co_return error_response(value.error(), req); }
      fields.emplace_back((*part)->name, std::move(*value));
      continue;
    }
    if (!attrs) {
      // The first file: the signed attributes must all have come before it.
      auto a = parse_formpost_attrs(fields);
      if (!a) { co_return error_response(make_error(Errc::unauthenticated, "FormPost: " + a.error().message), req); }
      if (formpost_expired(*a, unix_seconds(system_clock().now()))) {
        co_return error_response(make_error(Errc::unauthenticated, "FormPost: Form Expired"), req);
      }
      auto k = co_await deps.objects.signing_keys(project, container);
      if (!k) { co_return error_response(k.error(), req); }
      if (!formpost_signature_valid(*a, *k, path)) {
        co_return error_response(make_error(Errc::unauthenticated, "FormPost: Invalid Signature"), req);
      }
      attrs = std::move(*a);
    }
    if (files >= attrs->max_file_count) {
      status = "400 Bad Request";
      message = "max_file_count exceeded";
      break;
    }
    PutRequest put;
    put.content_type = (*part)->content_type.empty() ? "application/octet-stream" : (*part)->content_type;
    // x_delete_at / x_delete_after fields: the form's X-Delete-At / X-Delete-After.
    for (const auto& [name, value] : fields) {
      std::int64_t v = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
      const bool number = ec == std::errc{} && end == value.data() + value.size();
      if (name == "x_delete_at" || name == "x_delete_after") {
        const std::int64_t now = unix_seconds(system_clock().now());
        if (!number || (name == "x_delete_at" && v <= now) || (name == "x_delete_after" && v < 0)) {
          co_return error_response(make_error(Errc::invalid_argument, "FormPost: " + name + " is not a valid time"), req);
        }
        put.delete_at = name == "x_delete_at" ? v : now + v;
      }
    }
    // max_file_size is enforced by the engine's size check through a bounded body.
    struct Bounded final : ByteSource {
      ByteSource& in;
      std::uint64_t left;
      bool over = false;
      Bounded(ByteSource& i, std::uint64_t l) : in(i), left(l) {}
      awaitable<Result<std::size_t>> read(std::span<char> buf) override {
        auto n = co_await in.read(buf.first(std::min<std::uint64_t>(buf.size(), left + 1)));
        if (!n) { co_return n.error(); }
        if (*n > left) {
          over = true;
          co_return make_error(Errc::too_large, "max_file_size exceeded");
        }
        left -= *n;
        co_return *n;
      }
    } bounded(reader.part_body(), attrs->max_file_size);
    auto info = co_await deps.objects.put_object(caller.access(), project, container, prefix + (*part)->filename, std::move(put), bounded);
    if (!info) {
      status = bounded.over ? "400 Bad Request" : status_line(info.error());
      message = bounded.over ? "max_file_size exceeded" : info.error().message;
      break;
    }
    ++files;
  }
  if (!attrs && status == "201 Created") {
    co_return error_response(make_error(Errc::unauthenticated, "FormPost: no files to process"), req);
  }
  if (attrs && !attrs->redirect.empty()) {
    std::string location = attrs->redirect + (attrs->redirect.find('?') == std::string::npos ? "?" : "&") +
                           "status=" + status.substr(0, 3) + "&message=" + http::percent_encode(message);
    http::Response res = status_response(http::Status::see_other, req);
    res.set_header("Location", location);
    res.set_body("<html><body><p><a href=\"" + location + "\">Click to continue...</a></p></body></html>", "text/html; charset=UTF-8");
    co_return res;
  }
  http::Response res(static_cast<http::Status>(std::stoi(status.substr(0, 3))));
  res.set_header("X-Trans-Id", req.request_id);
  res.set_body("<h1>" + status + "</h1><p>FormPost: " + (message.empty() ? status.substr(4) : message) + "</p>", "text/html; charset=UTF-8");
  co_return res;
}

}  // namespace ciel::object::swift
