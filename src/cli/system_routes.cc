#include "cli/system_routes.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <fstream>
#include <memory>
#include <sstream>
#include <unordered_map>

#include "core/http/range.h"
#include "core/metrics/metrics.h"
#include "core/time.h"

namespace ciel::cli {
namespace {

std::string_view content_type_for(std::string_view path) {
  auto dot = path.rfind('.');
  std::string_view ext = dot == std::string_view::npos ? "" : path.substr(dot + 1);
  if (ext == "html") { return "text/html; charset=utf-8"; }
  if (ext == "js" || ext == "mjs") { return "text/javascript; charset=utf-8"; }
  if (ext == "css") { return "text/css; charset=utf-8"; }
  if (ext == "json") { return "application/json"; }
  if (ext == "svg") { return "image/svg+xml"; }
  if (ext == "png") { return "image/png"; }
  if (ext == "ico") { return "image/x-icon"; }
  if (ext == "woff2") { return "font/woff2"; }
  if (ext == "txt") { return "text/plain; charset=utf-8"; }
  return "application/octet-stream";
}

// The console's files are small and immutable once built, so each I/O thread keeps the ones it
// served in memory, checked against lstat on every request (an edited file is re-read at once).
// Larger files go out with sendfile. lstat refuses a symlink in the last component, and
// parse_target already refused dot segments, so nothing outside the root is reachable.
constexpr off_t kCacheableBytes = 256 * 1024;
constexpr std::size_t kCacheBudgetBytes = 16 * 1024 * 1024;

struct CachedFile {
  struct timespec mtim {};
  off_t size = 0;
  std::string data;
  std::string etag;
  std::string last_modified;
};

struct FileCache {
  std::unordered_map<std::string, CachedFile> files;
  std::size_t bytes = 0;
};

bool same_version(const CachedFile& f, const struct stat& st) {
  return f.size == st.st_size && f.mtim.tv_sec == st.st_mtim.tv_sec && f.mtim.tv_nsec == st.st_mtim.tv_nsec;
}

std::string etag_of(const struct stat& st) {
  return "\"" + std::to_string(st.st_mtim.tv_sec) + "-" + std::to_string(st.st_size) + "\"";
}

// Reads a small file whole; nullptr if it changed or vanished meanwhile.
const CachedFile* load_cached(const std::string& path, const struct stat& st) {
  thread_local FileCache cache;
  auto it = cache.files.find(path);
  if (it != cache.files.end() && same_version(it->second, st)) { return &it->second; }
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) { return nullptr; }
  CachedFile f;
  f.mtim = st.st_mtim;
  f.size = st.st_size;
  f.data.resize(static_cast<std::size_t>(st.st_size));
  ssize_t n = ::pread(fd, f.data.data(), f.data.size(), 0);
  ::close(fd);
  if (n != st.st_size) { return nullptr; }
  f.etag = etag_of(st);
  f.last_modified = http_date(std::chrono::system_clock::from_time_t(st.st_mtim.tv_sec));
  if (it != cache.files.end()) {
    cache.bytes -= it->second.data.size();
    cache.files.erase(it);
  }
  if (cache.bytes + f.data.size() > kCacheBudgetBytes) {
    cache.files.clear();
    cache.bytes = 0;
  }
  cache.bytes += f.data.size();
  return &cache.files.insert_or_assign(path, std::move(f)).first->second;
}

http::Response serve_file(const http::Request& req, const std::string& path, bool immutable) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) { return http::json_error(http::Status::not_found, "no such file", req); }
  auto size = static_cast<std::uint64_t>(st.st_size);
  const CachedFile* cached = st.st_size <= kCacheableBytes ? load_cached(path, st) : nullptr;
  http::FileHandle handle;
  if (cached == nullptr) {
    handle = http::FileHandle(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (handle.get() < 0) { return http::json_error(http::Status::not_found, "no such file", req); }
  }
  std::string etag = cached != nullptr ? cached->etag : etag_of(st);
  http::Response res(http::Status::ok);
  res.set_header("Content-Type", content_type_for(path));
  res.set_header("ETag", etag);
  res.set_header("Last-Modified",
                 cached != nullptr ? cached->last_modified : http_date(std::chrono::system_clock::from_time_t(st.st_mtim.tv_sec)));
  res.set_header("Cache-Control", immutable ? "public, max-age=31536000, immutable" : "no-cache");
  res.set_header("Accept-Ranges", "bytes");
  if (auto inm = req.headers.get("If-None-Match"); inm && http::etag_matches(*inm, etag)) {
    res.set_status(http::Status::not_modified);
    return res;
  }
  std::uint64_t offset = 0;
  std::uint64_t length = size;
  if (auto rh = req.headers.get("Range")) {
    auto range = http::parse_range(*rh, size);
    if (!range) {
      http::Response bad = http::json_error(http::Status::range_not_satisfiable, "range not satisfiable", req);
      bad.set_header("Content-Range", "bytes */" + std::to_string(size));
      return bad;
    }
    if (*range) {
      offset = (*range)->first;
      length = (*range)->length;
      res.set_status(http::Status::partial_content);
      res.set_header("Content-Range", (*range)->content_range(size));
    }
  }
  if (cached != nullptr) {
    res.set_body(offset == 0 && length == size ? cached->data : cached->data.substr(offset, length));
  } else {
    res.set_file(std::move(handle), offset, length);
  }
  return res;
}

// The console's pages run only its own scripts and styles (no inline script, no eval), talk only
// to this origin, and cannot be framed.
void console_headers(http::Response& res) {
  res.set_header("Content-Security-Policy",
                 "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; "
                 "connect-src 'self'; object-src 'none'; frame-src 'self' blob:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
  res.set_header("X-Frame-Options", "DENY");
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("Referrer-Policy", "same-origin");
}

}  // namespace

void add_system_routes(http::Router& router) {
  router.add(http::Method::get, "/healthz", [](http::RequestContext&) -> boost::asio::awaitable<http::Response> {
    http::Response res(http::Status::ok, "{\"status\": \"ok\"}", "application/json");
    res.set_header("Cache-Control", "no-store");
    co_return res;
  });
  router.add(http::Method::get, "/metrics", [](http::RequestContext&) -> boost::asio::awaitable<http::Response> {
    co_return http::Response(http::Status::ok, metrics::render_prometheus(), "text/plain; version=0.0.4");
  });
}

void add_static_routes(http::Router& router, std::string root, http::Handler json_root) {
  auto shared_root = std::make_shared<std::string>(std::move(root));
  router.add(http::Method::get, "/", [shared_root, json_root](http::RequestContext& ctx) -> boost::asio::awaitable<http::Response> {
    std::string_view accept = ctx.request().header("Accept");
    if (json_root && accept.find("application/json") != std::string_view::npos && accept.find("text/html") == std::string_view::npos) {
      co_return co_await json_root(ctx);
    }
    auto res = serve_file(ctx.request(), *shared_root + "/index.html", false);
    console_headers(res);
    co_return res;
  });
  router.add(http::Method::get, "/assets/{path+}", [shared_root](http::RequestContext& ctx) -> boost::asio::awaitable<http::Response> {
    // parse_target already refused dot segments, so the path cannot leave the root.
    auto res = serve_file(ctx.request(), *shared_root + "/assets/" + std::string(ctx.param("path")), true);
    console_headers(res);
    co_return res;
  });
}

std::string asset_url(const std::string& root, std::string_view source) {
  std::ifstream in(root + "/.vite/manifest.json");
  if (!in) { return {}; }
  std::stringstream text;
  text << in.rdbuf();
  boost::system::error_code ec;
  auto manifest = boost::json::parse(text.str(), ec);
  if (ec || !manifest.is_object()) { return {}; }
  const auto* entry = manifest.as_object().if_contains(source);
  const auto* file = entry != nullptr && entry->is_object() ? entry->as_object().if_contains("file") : nullptr;
  if (file == nullptr || !file->is_string() || !file->as_string().starts_with("assets/")) { return {}; }
  return "/" + std::string(file->as_string());
}

}  // namespace ciel::cli
