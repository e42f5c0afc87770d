#include "object/swift/common.h"

#include <cctype>
#include <cstdio>

#include "core/log/log.h"
#include "object/swift/tempurl.h"

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

boost::asio::awaitable<Result<Caller>> authenticate(const http::Request& req, const Deps& deps, std::string_view account,
                                                    std::string_view container) {
  Caller caller;
  caller.base.referer = std::string(req.header("Referer"));
  caller.base.source = req.remote_address;
  std::string_view token = req.header("X-Auth-Token");
  if (token.empty()) { token = req.header("X-Storage-Token"); }
  if (!token.empty()) {
    auto p = deps.identity.authenticate_token(token);
    if (!p) { co_return make_error(Errc::unauthenticated, "Unauthorized", p.error().message); }
    caller.principal = std::move(*p);
    co_return caller;
  }
  if (!account.empty() && is_tempurl_request(req.query_params)) {
    auto project = project_of(account);
    auto params = parse_tempurl_query(req.query_params);
    if (!project || !params) { co_return make_error(Errc::unauthenticated, "Temp URL invalid"); }
    auto keys = co_await deps.objects.signing_keys(*project, std::string(container));
    if (!keys) { co_return keys.error(); }
    if (!tempurl_valid(*params, *keys, req.method_text, req.path, unix_seconds(system_clock().now()))) {
      co_return make_error(Errc::unauthenticated, "Temp URL invalid");
    }
    caller.base.signed_for_project = *project;
    caller.tempurl = std::move(*params);
  }
  co_return caller;
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
    if (istarts_with(name, set_prefix)) {
      std::string key = lower(std::string_view(name).substr(set_prefix.size()));
      if (value.empty()) {
        u[key] = std::nullopt;
      } else {
        u[key] = value;
      }
    } else if (istarts_with(name, remove_prefix)) {
      u[lower(std::string_view(name).substr(remove_prefix.size()))] = std::nullopt;
    }
  }
  return u;
}

Metadata object_metadata(const http::Request& req) {
  Metadata m;
  constexpr std::string_view prefix = "X-Object-Meta-";
  for (const auto& [name, value] : req.headers.items()) {
    // An empty name is kept so the engine refuses it ("Metadata name cannot be empty").
    if (istarts_with(name, prefix) && (!value.empty() || name.size() == prefix.size())) {
      m[lower(std::string_view(name).substr(prefix.size()))] = value;
    }
  }
  return m;
}

std::string header_case(std::string_view name) {
  std::string out(name);
  bool up = true;
  for (auto& c : out) {
    if (up) { c = static_cast<char>(std::toupper(static_cast<unsigned char>(c))); }
    up = c == '-';
  }
  return out;
}

void render_metadata(http::Response& res, std::string_view kind, const Metadata& meta) {
  for (const auto& [k, v] : meta) { res.add_header("X-" + std::string(kind) + "-Meta-" + header_case(k), v); }
}

std::string last_modified(std::int64_t us) { return http_date(SystemTime(std::chrono::seconds((us + 999999) / 1000000))); }

std::string status_line(const Error& e) {
  switch (e.code) {
    case Errc::not_found: return "404 Not Found";
    case Errc::forbidden: return "403 Forbidden";
    case Errc::unauthenticated: return "401 Unauthorized";
    case Errc::conflict: return "409 Conflict";
    case Errc::invalid_argument: return "400 Bad Request";
    case Errc::quota_exceeded:
    case Errc::too_large: return "413 Request Entity Too Large";
    case Errc::precondition_failed: return "412 Precondition Failed";
    case Errc::unavailable: return "503 Service Unavailable";
    default: return "500 Internal Error";
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

bool is_formpost(const http::Request& req) {
  std::string_view ct = req.header("Content-Type");
  return ct.size() >= 19 && http::iequals(ct.substr(0, 19), "multipart/form-data");
}

bool truthy(std::string_view v) {
  std::string s = lower(v);
  return s == "true" || s == "1" || s == "yes" || s == "on" || s == "t" || s == "y";
}

}  // namespace ciel::object::swift
