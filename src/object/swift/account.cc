// /v1/{account}: usage, metadata and the container listing of one project's account.
#include "object/swift/bulk.h"
#include "object/swift/common.h"

namespace ciel::object::swift {
namespace {

using boost::asio::awaitable;

void render_account_headers(http::Response& res, const AccountInfo& a, bool admin) {
  res.set_header("X-Account-Container-Count", std::to_string(a.container_count));
  res.set_header("X-Account-Object-Count", std::to_string(a.object_count));
  res.set_header("X-Account-Bytes-Used", std::to_string(a.bytes_used));
  res.set_header("X-Timestamp", x_timestamp(a.created_ms * 1000));
  res.set_header("X-Account-Storage-Policy-Policy-0-Container-Count", std::to_string(a.container_count));
  res.set_header("X-Account-Storage-Policy-Policy-0-Object-Count", std::to_string(a.object_count));
  res.set_header("X-Account-Storage-Policy-Policy-0-Bytes-Used", std::to_string(a.bytes_used));
  Metadata shown = a.meta;
  if (!admin) {
    // Temp-URL keys are secrets: only the account's owner sees them.
    shown.erase("temp-url-key");
    shown.erase("temp-url-key-2");
  }
  render_metadata(res, "Account", shown);
  if (admin) {
    if (auto it = a.sys.find("access-control"); it != a.sys.end()) { res.set_header("X-Account-Access-Control", it->second); }
  }
}

struct Context {
  Caller caller;
  std::string project;
};

awaitable<Result<Context>> prepare(http::RequestContext& ctx, const Deps& deps) {
  auto caller = co_await authenticate(ctx.request(), deps, ctx.param("account"), {});
  if (!caller) { co_return caller.error(); }
  auto project = project_of(ctx.param("account"));
  if (!project) { co_return project.error(); }
  co_return Context{std::move(*caller), std::move(*project)};
}

bool is_owner(const Context& c, const Deps& deps) {
  if (!c.caller.principal) { return false; }
  identity::Target t;
  t.project_id = c.project;
  return deps.identity.policy().may(*c.caller.principal, identity::Action::write_project_resources, t);
}

awaitable<http::Response> handle_head_account(http::RequestContext& ctx, const Deps& deps, bool listing) {
  auto c = co_await prepare(ctx, deps);
  if (!c) { co_return error_response(c.error(), ctx.request()); }
  auto acct = co_await deps.objects.get_account(c->caller.access(), c->project);
  if (!acct) { co_return error_response(acct.error(), ctx.request()); }
  http::Response res(http::Status::no_content);
  if (listing) {
    auto q = parse_listing_query(ctx.request(), deps.objects.config().max_listing);
    if (!q) { co_return error_response(q.error(), ctx.request()); }
    auto l = co_await deps.objects.list_containers(c->caller.access(), c->project, *q);
    if (!l) { co_return error_response(l.error(), ctx.request()); }
    res = render_listing(ctx.request(), *l, true, ctx.param("account"));
  } else {
    res.set_header("Content-Type", listing_format(ctx.request()) == "json" ? "application/json; charset=utf-8" : "text/plain; charset=utf-8");
  }
  render_account_headers(res, *acct, is_owner(*c, deps));
  co_return res;
}

awaitable<http::Response> handle_post_account(http::RequestContext& ctx, const Deps& deps) {
  auto c = co_await prepare(ctx, deps);
  if (!c) { co_return error_response(c.error(), ctx.request()); }
  if (ctx.request().has_query_param("bulk-delete")) { co_return co_await handle_bulk_delete(ctx, deps, c->caller, c->project); }
  MetadataUpdate sys;
  if (ctx.request().headers.has("X-Remove-Account-Access-Control")) { sys["access-control"] = std::nullopt; }
  if (auto acl = ctx.request().headers.get("X-Account-Access-Control")) {
    if (acl->empty()) {
      sys["access-control"] = std::nullopt;
    } else {
      auto normalized = normalize_account_acl(*acl);
      if (!normalized) { co_return error_response(normalized.error(), ctx.request()); }
      sys["access-control"] = *normalized;
    }
  }
  auto st = co_await deps.objects.update_account(c->caller.access(), c->project, metadata_update(ctx.request(), "Account"), std::move(sys));
  if (!st) { co_return error_response(st.error(), ctx.request()); }
  co_return status_response(http::Status::no_content, ctx.request());
}

// Accounts come with projects: they are not created or deleted through Swift. PUT and DELETE
// on the account only carry bulk operations.
awaitable<http::Response> handle_put_or_delete_account(http::RequestContext& ctx, const Deps& deps) {
  const auto& req = ctx.request();
  const bool bulk_delete = req.method == http::Method::delete_ && req.has_query_param("bulk-delete");
  const bool extract = req.method == http::Method::put && req.has_query_param("extract-archive");
  if (!bulk_delete && !extract) { co_return error_response(make_error(Errc::forbidden, "Forbidden"), req); }
  auto c = co_await prepare(ctx, deps);
  if (!c) { co_return error_response(c.error(), req); }
  if (bulk_delete) { co_return co_await handle_bulk_delete(ctx, deps, c->caller, c->project); }
  co_return co_await handle_extract_archive(ctx, deps, c->caller, c->project, "");
}

}  // namespace

void add_account_routes(http::Router& router, const Deps& deps) {
  for (const char* pattern : {"/v1/{account}", "/v1/{account}/"}) {
    router.add(http::Method::get, pattern, with_trans_id([&deps](http::RequestContext& ctx) { return handle_head_account(ctx, deps, true); }));
    router.add(http::Method::head, pattern, with_trans_id([&deps](http::RequestContext& ctx) { return handle_head_account(ctx, deps, false); }));
    http::RouteOptions post;
    post.max_body_bytes = kMaxBulkDeletes * (kMaxBulkPathBytes + 1);
    router.add(http::Method::post, pattern, with_trans_id([&deps](http::RequestContext& ctx) { return handle_post_account(ctx, deps); }), post);
    http::RouteOptions bulk;
    bulk.max_body_bytes = http::kUnlimitedBody;  // archives stream; bulk-delete bodies are bounded when read
    router.add(http::Method::put, pattern, with_trans_id([&deps](http::RequestContext& ctx) { return handle_put_or_delete_account(ctx, deps); }), bulk);
    router.add(http::Method::delete_, pattern, with_trans_id([&deps](http::RequestContext& ctx) { return handle_put_or_delete_account(ctx, deps); }), bulk);
  }
}

}  // namespace ciel::object::swift
