#include "object/swift/common.h"

#include <cctype>
#include <cstdio>

#include "core/log/log.h"

namespace ciel::object::swift {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) { c = static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }
  return out;
}

bool istarts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && http::iequals(s.substr(0, prefix.size()), prefix);
}

}  // namespace

Result<Caller> authenticate(const http::Request& req, const Deps& deps) {
  Caller caller;
  caller.base.referer = std::string(req.header("Referer"));
  caller.base.source = req.remote_address;
  std::string_view token = req.header("X-Auth-Token");
  if (token.empty()) { token = req.header("X-Storage-Token"); }
  if (token.empty()) { return caller; }
  auto p = deps.identity.authenticate_token(token);
  if (!p) { return make_error(Errc::unauthenticated, "Unauthorized", p.error().message); }
  caller.principal = std::move(*p);
  return caller;
}

Result<std::string> project_of(std::string_view account) {
  if (!account.starts_with("AUTH_") || account.size() <= 5) { return make_error(Errc::not_found, "The resource could not be found."); }
  return std::string(account.substr(5));
}

MetadataUpdate metadata_update(const http::Request& req, std::string_view kind) {
  MetadataUpdate u;
  std::string set_prefix = "X-" + std::string(kind) + "-Meta-";
  std::string remove_prefix = "X-Remove-" + std::string(kind) + "-Meta-";
  for (const auto& [name, value] : req.headers.items()) {
    if (istarts_with(name, set_prefix) && name.size() > set_prefix.size()) {
      std::string key = lower(std::string_view(name).substr(set_prefix.size()));
      if (value.empty()) {
        u[key] = std::nullopt;
      } else {
        u[key] = value;
      }
    } else if (istarts_with(name, remove_prefix) && name.size() > remove_prefix.size()) {
      u[lower(std::string_view(name).substr(remove_prefix.size()))] = std::nullopt;
    }
  }
  return u;
}

Metadata object_metadata(const http::Request& req) {
  Metadata m;
  constexpr std::string_view prefix = "X-Object-Meta-";
  for (const auto& [name, value] : req.headers.items()) {
    if (istarts_with(name, prefix) && name.size() > prefix.size() && !value.empty()) {
      m[lower(std::string_view(name).substr(prefix.size()))] = value;
    }
  }
  return m;
}

void render_metadata(http::Response& res, std::string_view kind, const Metadata& meta) {
  for (const auto& [k, v] : meta) {
    // Title-case the name the way Swift echoes it (X-Object-Meta-Color).
    std::string name = k;
    bool up = true;
    for (auto& c : name) {
      if (up) { c = static_cast<char>(std::toupper(static_cast<unsigned char>(c))); }
      up = c == '-';
    }
    res.add_header("X-" + std::string(kind) + "-Meta-" + name, v);
  }
}

std::string x_timestamp(std::int64_t us) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%010lld.%05lld", static_cast<long long>(us / 1000000), static_cast<long long>((us % 1000000) / 10));
  return buf;
}

std::string listing_time(std::int64_t us) {
  std::string iso = iso8601(SystemTime(std::chrono::microseconds(us)), 6);  // ...T15:20:39.123450Z
  if (!iso.empty() && iso.back() == 'Z') { iso.pop_back(); }
  return iso;
}

std::string listing_format(const http::Request& req) {
  if (auto f = req.query_param("format")) {
    std::string v = lower(*f);
    if (v == "json" || v == "xml") { return v; }
    return "plain";
  }
  std::string_view accept = req.header("Accept");
  if (accept.find("application/json") != std::string_view::npos) { return "json"; }
  if (accept.find("application/xml") != std::string_view::npos || accept.find("text/xml") != std::string_view::npos) { return "xml"; }
  return "plain";
}

bool truthy(std::string_view v) {
  std::string s = lower(v);
  return s == "true" || s == "1" || s == "yes" || s == "on" || s == "t" || s == "y";
}

}  // namespace ciel::object::swift
