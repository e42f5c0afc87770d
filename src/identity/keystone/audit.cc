// GET /v3/ciel/audit: the identity audit log, cloud admins only (docs/api/identity.md).
#include <charconv>

#include "identity/keystone/common.h"

namespace ciel::identity::keystone {
namespace {

Awaitable handle_audit(http::RequestContext& ctx, Deps& d) {
  KS_TRY(caller, caller_of(ctx, d));
  const auto& r = ctx.request();
  AuditQuery q;
  std::string after = query(r, "after"), limit = query(r, "limit");
  if (!after.empty() && std::from_chars(after.data(), after.data() + after.size(), q.after_seq).ec != std::errc{}) {
    co_return error_response(make_error(Errc::invalid_argument, "Invalid query parameter 'after': expected an integer."), r);
  }
  if (!limit.empty() && std::from_chars(limit.data(), limit.data() + limit.size(), q.limit).ec != std::errc{}) {
    co_return error_response(make_error(Errc::invalid_argument, "Invalid query parameter 'limit': expected an integer."), r);
  }
  q.action_prefix = query(r, "action");
  q.principal = query(r, "principal");
  auto items = co_await run_blocking([&] { return d.identity.read_audit(*caller, q); });
  if (!items) { co_return error_response(items.error(), r); }
  json::array out;
  std::int64_t last = q.after_seq;
  for (const auto& a : *items) {
    out.push_back(json::object{{"seq", a.seq},
                               {"time", iso8601(SystemTime(std::chrono::milliseconds(a.at_ms)), 3)},
                               {"principal", a.principal},
                               {"action", a.action},
                               {"target", a.target},
                               {"outcome", a.outcome},
                               {"source", a.source},
                               {"request_id", a.request_id},
                               {"detail", a.detail}});
    last = a.seq;
  }
  co_return json_response(http::Status::ok, json::object{{"records", std::move(out)}, {"next_after", last}});
}

}  // namespace

void add_audit_routes(http::Router& r, Deps& d) { route(r, d, http::Method::get, "/v3/ciel/audit", handle_audit); }

}  // namespace ciel::identity::keystone
