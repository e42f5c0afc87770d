#include "object/s3/common.h"

#include <cctype>
#include <chrono>

#include "core/crypto/crypto.h"
#include "core/http/target.h"
#include "core/time.h"
#include "object/s3/chunked.h"

namespace ciel::object::s3 {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) { c = static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }
  return out;
}

SystemTime at_us(std::int64_t us) { return SystemTime(std::chrono::microseconds(us)); }

// Headers S3 stores with an object and returns on GET and HEAD.
constexpr std::string_view kKeptHeaders[] = {"Cache-Control", "Content-Disposition", "Content-Encoding", "Content-Language", "Expires"};

}  // namespace

Result<Target> target_of(const http::Request& req, const Options& options) {
  Target t;
  std::string_view path = req.path;
  if (!options.domain.empty()) {
    std::string host = lower(req.host);
    std::string suffix = "." + lower(options.domain);
    if (host.size() > suffix.size() && host.ends_with(suffix)) {
      t.bucket = host.substr(0, host.size() - suffix.size());
      t.virtual_host = true;
      t.key = std::string(path.substr(1));
      return t;
    }
  }
  path.remove_prefix(1);
  auto slash = path.find('/');
  t.bucket = std::string(path.substr(0, slash));
  if (slash != std::string_view::npos) { t.key = std::string(path.substr(slash + 1)); }
  return t;
}

std::optional<std::uint64_t> payload_length(const http::Request& req) {
  if (auto d = req.headers.get("x-amz-decoded-content-length")) {
    std::uint64_t n = 0;
    if (d->empty() || d->size() > 19) { return std::nullopt; }
    for (char c : *d) {
      if (c < '0' || c > '9') { return std::nullopt; }
      n = n * 10 + static_cast<std::uint64_t>(c - '0');
    }
    return n;
  }
  return req.content_length;
}

ByteSource& payload(http::RequestContext& ctx, const Caller& caller, std::unique_ptr<ByteSource>& holder) {
  if (caller.sigv4 && caller.payload_hash == kStreamingPayload) {
    holder = make_aws_chunked_source(ctx.body(), *caller.sigv4, caller.signing_key, payload_length(ctx.request()));
    return *holder;
  }
  if (caller.sigv4 && caller.payload_hash.size() == 64 && caller.payload_hash != kEmptySha256) {
    holder = make_sha256_checked_source(ctx.body(), caller.payload_hash);
    return *holder;
  }
  return ctx.body();
}

namespace {
constexpr std::int64_t kOwnBucketTtlMs = 5000;
constexpr std::size_t kOwnBucketCacheMax = 100000;
std::int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
}  // namespace

bool OwnBucketCache::fresh(const std::string& project, const std::string& bucket) const {
  std::lock_guard lock(mutex_);
  auto it = until_ms_.find(project + "/" + bucket);
  return it != until_ms_.end() && it->second > steady_ms();
}

void OwnBucketCache::remember(const std::string& project, const std::string& bucket) {
  std::lock_guard lock(mutex_);
  if (until_ms_.size() >= kOwnBucketCacheMax) { until_ms_.clear(); }  // bounded; refilled on demand
  until_ms_[project + "/" + bucket] = steady_ms() + kOwnBucketTtlMs;
}

void OwnBucketCache::forget(const std::string& project, const std::string& bucket) {
  std::lock_guard lock(mutex_);
  until_ms_.erase(project + "/" + bucket);
}

boost::asio::awaitable<Result<std::string>> bucket_project(const Deps& deps, const Caller& caller, const std::string& bucket) {
  if (!caller.project.empty() && deps.own_buckets->fresh(caller.project, bucket)) { co_return caller.project; }
  auto owners = co_await deps.objects.container_owners(bucket);
  if (!owners) { co_return owners.error(); }
  for (const auto& p : *owners) {
    if (p == caller.project) {
      deps.own_buckets->remember(p, bucket);
      co_return p;
    }
  }
  if (owners->size() == 1) { co_return owners->front(); }
  co_return caller.project;
}

std::string iso8601(std::int64_t us) { return ciel::iso8601(at_us(us / 1000 * 1000), 3); }
std::string http_date(std::int64_t us) { return ciel::http_date(at_us(us)); }
std::string quoted(std::string_view etag) { return "\"" + std::string(etag) + "\""; }
std::string_view unquote(std::string_view s) {
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') { return s.substr(1, s.size() - 2); }
  return s;
}

Metadata user_metadata(const http::Request& req) {
  Metadata m;
  for (const auto& [name, value] : req.headers.items()) {
    if (name.size() > 11 && http::iequals(std::string_view(name).substr(0, 11), "x-amz-meta-")) { m[lower(name.substr(11))] = value; }
  }
  return m;
}

Metadata kept_headers(const http::Request& req) {
  Metadata m;
  for (auto name : kKeptHeaders) {
    if (auto v = req.headers.get(name)) { m[lower(name)] = std::string(*v); }
  }
  return m;
}

void render_object_headers(http::Response& res, const ObjectInfo& info) {
  res.set_header("ETag", quoted(info.etag));
  res.set_header("Last-Modified", http_date(info.modified_us));
  res.set_header("Content-Type", info.content_type);
  res.set_header("Accept-Ranges", "bytes");
  for (const auto& [k, v] : info.meta) { res.set_header("x-amz-meta-" + k, v); }
  for (auto name : kKeptHeaders) {
    if (auto it = info.headers.find(lower(name)); it != info.headers.end()) { res.set_header(name, it->second); }
  }
  if (!info.tags.empty()) { res.set_header("x-amz-tagging-count", std::to_string(info.tags.size())); }
  if (!info.null_version) { res.set_header("x-amz-version-id", info.version_id); }
}

std::optional<CopySource> parse_copy_source(std::string_view v) {
  CopySource s;
  if (auto q = v.find("?versionId="); q != std::string_view::npos) {
    s.version = std::string(v.substr(q + 11));
    v = v.substr(0, q);
  }
  auto decoded = http::percent_decode(v);
  if (!decoded) { return std::nullopt; }
  std::string_view d = *decoded;
  if (d.starts_with('/')) { d.remove_prefix(1); }
  auto slash = d.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == d.size()) { return std::nullopt; }
  s.bucket = std::string(d.substr(0, slash));
  s.key = std::string(d.substr(slash + 1));
  return s;
}

std::string version_id_of(const ObjectInfo& info) { return info.null_version ? "null" : info.version_id; }

}  // namespace ciel::object::s3
