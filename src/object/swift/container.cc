// /v1/{account}/{container}: create, read, list, update and delete containers, with their ACLs,
// quotas, versioning and CORS settings (kept as container metadata the engine interprets).
#include "object/swift/common.h"

namespace ciel::object::swift {
namespace {

using boost::asio::awaitable;

struct Context {
  Caller caller;
  std::string project;
  std::string container;
};

awaitable<Result<Context>> prepare(http::RequestContext& ctx, const Deps& deps) {
  auto caller = co_await authenticate(ctx.request(), deps, ctx.param("account"), ctx.param("container"));
  if (!caller) { co_return caller.error(); }
  auto project = project_of(ctx.param("account"));
  if (!project) { co_return project.error(); }
  co_return Context{std::move(*caller), std::move(*project), std::string(ctx.param("container"))};
}

bool is_owner(const Context& c, const Deps& deps) {
  if (!c.caller.principal) { return false; }
  identity::Target t;
  t.project_id = c.project;
  return deps.identity.policy().may(*c.caller.principal, identity::Action::write_project_resources, t);
}

// System settings a container PUT or POST carries: ACLs and versioning.
Result<MetadataUpdate> system_update(const http::Request& req) {
  MetadataUpdate sys;
  for (auto [header, key] : {std::pair{"X-Container-Read", kSysReadAcl}, std::pair{"X-Container-Write", kSysWriteAcl}}) {
    if (auto v = req.headers.get(header)) {
      if (v->empty()) {
        sys[std::string(key)] = std::nullopt;
      } else {
        auto acl = normalize_container_acl(*v, key == kSysWriteAcl);
        if (!acl) { return acl.error(); }
        sys[std::string(key)] = *acl;
      }
    }
  }
  if (req.headers.has("X-Remove-Container-Read")) { sys[std::string(kSysReadAcl)] = std::nullopt; }
  if (req.headers.has("X-Remove-Container-Write")) { sys[std::string(kSysWriteAcl)] = std::nullopt; }
  auto versions = req.headers.get("X-Versions-Location");
  auto history = req.headers.get("X-History-Location");
  if (versions && history && !versions->empty() && !history->empty()) {
    return make_error(Errc::invalid_argument, "Only one of X-Versions-Location or X-History-Location may be specified");
  }
  for (auto [value, mode] : {std::pair{versions, "stack"}, std::pair{history, "history"}}) {
    if (!value) { continue; }
    if (value->empty()) {
      sys[std::string(kSysVersionsLocation)] = std::nullopt;
      sys[std::string(kSysVersionsMode)] = std::nullopt;
      continue;
    }
    std::string loc(*value);
    if (auto st = check_container_name(loc); !st) { return st.error(); }
    sys[std::string(kSysVersionsLocation)] = loc;
    sys[std::string(kSysVersionsMode)] = std::string(mode);
  }
  if (req.headers.has("X-Remove-Versions-Location") || req.headers.has("X-Remove-History-Location")) {
    sys[std::string(kSysVersionsLocation)] = std::nullopt;
    sys[std::string(kSysVersionsMode)] = std::nullopt;
  }
  return sys;
}

Status check_quota_values(const MetadataUpdate& meta) {
  for (auto key : {kMetaQuotaBytes, kMetaQuotaCount}) {
    auto it = meta.find(std::string(key));
    if (it == meta.end() || !it->second) { continue; }
    if (it->second->empty() || it->second->find_first_not_of("0123456789") != std::string::npos) {
      return make_error(Errc::invalid_argument, "Invalid quota value");
    }
  }
  return {};
}

void render_container_headers(http::Response& res, const ContainerInfo& c, bool owner) {
  res.set_header("X-Container-Object-Count", std::to_string(c.object_count));
  res.set_header("X-Container-Bytes-Used", std::to_string(c.bytes_used));
  res.set_header("X-Timestamp", x_timestamp(c.created_ms * 1000));
  res.set_header("X-Put-Timestamp", x_timestamp(c.modified_ms * 1000));
  res.set_header("X-Storage-Policy", "Policy-0");
  res.set_header("Last-Modified", http_date(SystemTime(std::chrono::milliseconds(c.modified_ms))));
  Metadata shown = c.meta;
  if (!owner) {
    // Temp-URL keys are secrets: only the account's owner sees them.
    shown.erase("temp-url-key");
    shown.erase("temp-url-key-2");
  }
  render_metadata(res, "Container", shown);
  auto sys = [&](std::string_view key) -> const std::string* {
    auto it = c.sys.find(std::string(key));
    return it == c.sys.end() ? nullptr : &it->second;
  };
  if (owner) {
    if (auto* v = sys(kSysReadAcl)) { res.set_header("X-Container-Read", *v); }
    if (auto* v = sys(kSysWriteAcl)) { res.set_header("X-Container-Write", *v); }
  }
  if (auto* loc = sys(kSysVersionsLocation)) {
    auto* mode = sys(kSysVersionsMode);
    res.set_header(mode && *mode == "history" ? "X-History-Location" : "X-Versions-Location", *loc);
  }
}

awaitable<http::Response> handle_put_container(http::RequestContext& ctx, const Deps& deps) {
  auto c = co_await prepare(ctx, deps);
  if (!c) { co_return error_response(c.error(), ctx.request()); }
  if (ctx.request().has_query_param("extract-archive")) {
    co_return co_await handle_extract_archive(ctx, deps, c->caller, c->project, c->container);
  }
  auto sys = system_update(ctx.request());
  if (!sys) { co_return error_response(sys.error(), ctx.request()); }
  auto meta = metadata_update(ctx.request(), "Container");
  if (auto st = check_quota_values(meta); !st) { co_return error_response(st.error(), ctx.request()); }
  auto created = co_await deps.objects.put_container(c->caller.access(), c->project, c->container, std::move(meta), std::move(*sys));
  if (!created) { co_return error_response(created.error(), ctx.request()); }
  co_return status_response(*created ? http::Status::created : http::Status::accepted, ctx.request());
}

awaitable<http::Response> handle_get_container(http::RequestContext& ctx, const Deps& deps, bool listing) {
  auto c = co_await prepare(ctx, deps);
  if (!c) { co_return error_response(c.error(), ctx.request()); }
  Result<ContainerInfo> info = make_error(Errc::internal, "");
  http::Response res(http::Status::no_content);
  if (listing) {
    auto q = parse_listing_query(ctx.request(), deps.objects.config().max_listing);
    if (!q) { co_return error_response(q.error(), ctx.request()); }
    auto l = co_await deps.objects.list_objects(c->caller.access(), c->project, c->container, *q);
    if (!l) { co_return error_response(l.error(), ctx.request()); }
    // Listing first, then the counters: read-your-writes for the listing, and the counters
    // are at least as new as it.
    info = co_await deps.objects.get_container(c->caller.access(), c->project, c->container);
    if (!info) { co_return error_response(info.error(), ctx.request()); }
    res = render_listing(ctx.request(), *l, false, c->container);
  } else {
    info = co_await deps.objects.get_container(c->caller.access(), c->project, c->container);
    if (!info) { co_return error_response(info.error(), ctx.request()); }
    res.set_header("Content-Type", listing_format(ctx.request()) == "json" ? "application/json; charset=utf-8" : "text/plain; charset=utf-8");
  }
  render_container_headers(res, *info, is_owner(*c, deps));
  co_return res;
}

awaitable<http::Response> handle_post_container(http::RequestContext& ctx, const Deps& deps) {
  if (is_formpost(ctx.request()) && !ctx.request().headers.has("X-Auth-Token")) {
    auto project = project_of(ctx.param("account"));
    if (!project) { co_return error_response(project.error(), ctx.request()); }
    co_return co_await handle_formpost(ctx, deps, *project, std::string(ctx.param("container")), "");
  }
  auto c = co_await prepare(ctx, deps);
  if (!c) { co_return error_response(c.error(), ctx.request()); }
  auto sys = system_update(ctx.request());
  if (!sys) { co_return error_response(sys.error(), ctx.request()); }
  auto meta = metadata_update(ctx.request(), "Container");
  if (auto st = check_quota_values(meta); !st) { co_return error_response(st.error(), ctx.request()); }
  auto st = co_await deps.objects.update_container(c->caller.access(), c->project, c->container, std::move(meta), std::move(*sys));
  if (!st) { co_return error_response(st.error(), ctx.request()); }
  co_return status_response(http::Status::no_content, ctx.request());
}

awaitable<http::Response> handle_delete_container(http::RequestContext& ctx, const Deps& deps) {
  auto c = co_await prepare(ctx, deps);
  if (!c) { co_return error_response(c.error(), ctx.request()); }
  auto st = co_await deps.objects.delete_container(c->caller.access(), c->project, c->container);
  if (!st) { co_return error_response(st.error(), ctx.request()); }
  co_return status_response(http::Status::no_content, ctx.request());
}

}  // namespace

void add_container_routes(http::Router& router, const Deps& deps) {
  http::RouteOptions stream;
  stream.max_body_bytes = http::kUnlimitedBody;  // archives to extract and FormPost uploads stream through
  for (const char* pattern : {"/v1/{account}/{container}", "/v1/{account}/{container}/"}) {
    router.add(http::Method::put, pattern, with_cors(deps, [&deps](http::RequestContext& ctx) { return handle_put_container(ctx, deps); }), stream);
    router.add(http::Method::get, pattern, with_cors(deps, [&deps](http::RequestContext& ctx) { return handle_get_container(ctx, deps, true); }));
    router.add(http::Method::head, pattern, with_cors(deps, [&deps](http::RequestContext& ctx) { return handle_get_container(ctx, deps, false); }));
    router.add(http::Method::post, pattern, with_cors(deps, [&deps](http::RequestContext& ctx) { return handle_post_container(ctx, deps); }), stream);
    router.add(http::Method::delete_, pattern, with_cors(deps, [&deps](http::RequestContext& ctx) { return handle_delete_container(ctx, deps); }));
    router.add(http::Method::options, pattern, with_trans_id([&deps](http::RequestContext& ctx) { return handle_options(ctx, deps); }));
  }
}

}  // namespace ciel::object::swift
