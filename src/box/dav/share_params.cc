// The OCS Share API's parameters (share_params.h says what each function accepts).
#include "box/dav/share_params.h"

#include <boost/json.hpp>

#include <charconv>
#include <cstdio>

#include "core/http/target.h"
#include "core/time.h"

namespace ciel::box::dav {

Result<std::map<std::string, std::string>> parse_share_params(const std::vector<std::pair<std::string, std::string>>& query,
                                                              std::string_view body, std::string_view content_type) {
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : query) { out[k] = v; }
  if (body.empty()) { return out; }
  if (content_type.find("json") != std::string_view::npos) {
    boost::system::error_code ec;
    auto v = boost::json::parse(body, ec);
    const boost::json::object* obj = ec ? nullptr : v.if_object();
    if (!obj) { return make_error(Errc::invalid_argument, "The body is not a JSON object"); }
    for (const auto& kv : *obj) {
      std::string key(kv.key());
      const boost::json::value& val = kv.value();
      if (val.is_string()) {
        out[key] = std::string(val.as_string());
      } else if (val.is_bool()) {
        out[key] = val.as_bool() ? "true" : "false";
      } else if (val.is_null()) {
        out[key] = "";
      } else {
        out[key] = boost::json::serialize(val);
      }
    }
  } else {
    for (auto& [k, v] : http::parse_query(body)) { out[k] = v; }
  }
  return out;
}

std::optional<std::int64_t> parse_expire_date(std::string_view text) {
  if (text.size() < 10 || text[4] != '-' || text[7] != '-') { return std::nullopt; }
  auto number = [&](std::size_t from, std::size_t len) -> std::optional<int> {
    for (std::size_t i = from; i < from + len; ++i) {
      if (text[i] < '0' || text[i] > '9') { return std::nullopt; }  // digits only: no sign
    }
    int v = 0;
    std::from_chars(text.data() + from, text.data() + from + len, v);
    return v;
  };
  auto y = number(0, 4), m = number(5, 2), d = number(8, 2);
  if (!y || !m || !d || *m < 1 || *m > 12 || *d < 1) { return std::nullopt; }
  if (static_cast<unsigned>(*d) > days_in_month(*y, static_cast<unsigned>(*m))) { return std::nullopt; }
  std::string_view rest = text.substr(10);  // Nextcloud's clients may add a time of day
  if (!rest.empty() && rest.front() != ' ' && rest.front() != 'T') { return std::nullopt; }
  return (days_from_civil(*y, static_cast<unsigned>(*m), static_cast<unsigned>(*d)) + 1) * 86400;
}

std::string expire_text(std::int64_t expires_s) {
  auto day = civil_from_days(expires_s / 86400 - 1);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u 00:00:00", static_cast<long long>(day.year), day.month, day.day);
  return buf;
}

std::optional<int> parse_int(std::string_view s) {
  int v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc{} || end != s.data() + s.size()) { return std::nullopt; }
  return v;
}

}  // namespace ciel::box::dav
