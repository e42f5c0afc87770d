#include "box/dav/activity_query.h"

#include <charconv>
#include <optional>

namespace ciel::box::dav {
namespace {

std::optional<std::string_view> param(const std::vector<std::pair<std::string, std::string>>& params, std::string_view name) {
  for (const auto& [k, v] : params) {
    if (k == name) { return v.empty() ? std::nullopt : std::optional<std::string_view>(v); }
  }
  return std::nullopt;
}

std::optional<std::int64_t> number(std::string_view s) {
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size()) { return std::nullopt; }
  return v;
}

}  // namespace

Result<ActivityQuery> parse_activity_query(std::string_view filter, const std::vector<std::pair<std::string, std::string>>& params) {
  ActivityQuery q;
  auto f = activity_filter_from(filter == "filter" ? "all" : filter);
  if (!f) { return make_error(Errc::not_found, "The filter is unknown"); }
  q.filter = *f;
  if (auto s = param(params, "since")) {
    auto v = number(*s);
    if (!v || *v < 0) { return make_error(Errc::invalid_argument, "since must be the id of an activity"); }
    q.since = *v;
  }
  if (auto l = param(params, "limit")) {
    auto v = number(*l);
    if (!v || *v < 1 || *v > static_cast<std::int64_t>(kMaxActivityLimit)) {
      return make_error(Errc::invalid_argument, "limit must be a number from 1 to " + std::to_string(kMaxActivityLimit));
    }
    q.limit = static_cast<std::size_t>(*v);
  }
  if (auto s = param(params, "sort")) {
    if (*s != "asc" && *s != "desc") { return make_error(Errc::invalid_argument, "sort must be asc or desc"); }
    q.ascending = *s == "asc";
  }
  auto type = param(params, "object_type");
  auto id = param(params, "object_id");
  if (type || id) {
    if (!type || !id) { return make_error(Errc::invalid_argument, "object_type and object_id go together"); }
    if (*type != "files") { return make_error(Errc::invalid_argument, "object_type must be files"); }
    auto v = number(*id);
    if (!v || *v < 1) { return make_error(Errc::invalid_argument, "object_id must be a file id"); }
    q.node_id = *v;
  }
  return q;
}

}  // namespace ciel::box::dav
