#include "box/dav/collab_parse.h"

#include <boost/json.hpp>
#include <charconv>

namespace ciel::box::dav {
namespace {

Result<boost::json::object> object_of(std::string_view body) {
  boost::system::error_code ec;
  boost::json::parse_options opts;
  opts.max_depth = 16;
  auto v = boost::json::parse(body, ec, {}, opts);
  if (ec || !v.is_object()) { return make_error(Errc::invalid_argument, "The request body must be a JSON object"); }
  return std::move(v.as_object());
}

Result<std::optional<std::string>> text_field(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (!v || v->is_null()) { return std::optional<std::string>{}; }
  if (!v->is_string()) { return make_error(Errc::invalid_argument, std::string(key) + " must be a string"); }
  return std::optional<std::string>{std::string(v->as_string())};
}

Result<bool> flag_field(const boost::json::object& o, std::string_view key, bool fallback) {
  const auto* v = o.if_contains(key);
  if (!v || v->is_null()) { return fallback; }
  if (v->is_bool()) { return v->as_bool(); }
  // Some clients send the flags as "true"/"false" or 1/0.
  if (v->is_string() && (v->as_string() == "true" || v->as_string() == "false")) { return v->as_string() == "true"; }
  if (v->is_int64() && (v->as_int64() == 0 || v->as_int64() == 1)) { return v->as_int64() == 1; }
  return make_error(Errc::invalid_argument, std::string(key) + " must be true or false");
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) { s.remove_prefix(1); }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) { s.remove_suffix(1); }
  return s;
}

std::optional<std::int64_t> number(std::string_view s) {
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc{} || end != s.data() + s.size()) { return std::nullopt; }
  return v;
}

}  // namespace

Result<CommentInput> parse_comment_json(std::string_view body) {
  auto o = object_of(body);
  if (!o) { return o.error(); }
  for (auto [key, want] : {std::pair{"actorType", "users"}, std::pair{"verb", "comment"}}) {
    auto v = text_field(*o, key);
    if (!v) { return v.error(); }
    if (*v && **v != want) { return make_error(Errc::invalid_argument, std::string(key) + " must be \"" + want + "\""); }
  }
  auto m = text_field(*o, "message");
  if (!m) { return m.error(); }
  if (!*m) { return make_error(Errc::invalid_argument, "A comment needs a message"); }
  return CommentInput{std::move(**m)};
}

Result<TagInput> parse_tag_json(std::string_view body) {
  auto o = object_of(body);
  if (!o) { return o.error(); }
  auto name = text_field(*o, "name");
  if (!name) { return name.error(); }
  if (!*name || trim(**name).empty()) { return make_error(Errc::invalid_argument, "A tag needs a name"); }
  TagInput out;
  out.name = std::move(**name);
  auto visible = flag_field(*o, "userVisible", true);
  if (!visible) { return visible.error(); }
  auto assignable = flag_field(*o, "userAssignable", true);
  if (!assignable) { return assignable.error(); }
  out.user_visible = *visible;
  out.user_assignable = *assignable;
  return out;
}

Result<SearchQuery> parse_search_query(std::optional<std::string_view> term, std::optional<std::string_view> limit,
                                       std::optional<std::string_view> cursor) {
  SearchQuery out;
  std::string_view t = term ? trim(*term) : std::string_view();
  if (t.empty() || t.size() > 255) { return make_error(Errc::invalid_argument, "A search needs a term of 1 to 255 bytes"); }
  if (t.find('\0') != std::string_view::npos) { return make_error(Errc::invalid_argument, "A search term may not hold a NUL character"); }
  out.term = std::string(t);
  if (limit && !limit->empty()) {
    auto l = number(*limit);
    if (!l || *l < 1) { return make_error(Errc::invalid_argument, "limit must be a positive number"); }
    out.limit = static_cast<std::size_t>(std::min<std::int64_t>(*l, 100));
  }
  if (cursor && !cursor->empty()) {
    auto c = number(*cursor);
    if (!c || *c < 0) { return make_error(Errc::invalid_argument, "cursor must be one a previous page returned"); }
    out.cursor = *c;
  }
  return out;
}

}  // namespace ciel::box::dav
