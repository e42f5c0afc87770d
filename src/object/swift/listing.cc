// Swift listings: parameters in, plain/json/xml out.
#include <charconv>

#include "core/http/router.h"
#include "core/http/target.h"
#include "object/swift/common.h"

namespace ciel::object::swift {
namespace {

std::string xml_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

}  // namespace

Result<ListQuery> parse_listing_query(const http::Request& req, std::size_t max_limit) {
  ListQuery q;
  q.limit = max_limit;
  if (auto v = req.query_param("limit")) {
    std::size_t n = 0;
    auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
    if (ec != std::errc{} || end != v->data() + v->size()) { return make_error(Errc::precondition_failed, "Value of limit must be a positive integer"); }
    if (n > max_limit) { return make_error(Errc::precondition_failed, "Maximum limit is " + std::to_string(max_limit)); }
    q.limit = n;
  }
  for (auto name : {"marker", "end_marker", "prefix", "delimiter", "path"}) {
    if (auto v = req.query_param(name); v && !http::valid_utf8(*v)) {
      return make_error(Errc::precondition_failed, "Invalid UTF8 or contains NULL");
    }
  }
  if (auto v = req.query_param("marker")) { q.marker = *v; }
  if (auto v = req.query_param("end_marker")) { q.end_marker = *v; }
  if (auto v = req.query_param("prefix")) { q.prefix = *v; }
  if (auto v = req.query_param("delimiter")) {
    if (v->size() > 1) { return make_error(Errc::precondition_failed, "Bad delimiter"); }
    q.delimiter = *v;
  }
  if (auto v = req.query_param("reverse")) { q.reverse = truthy(*v); }
  if (auto v = req.query_param("path")) {
    // path=P: the objects directly under P/ (Swift's old pseudo-directory listing).
    q.prefix = v->empty() ? std::string() : std::string(*v) + (v->ends_with('/') ? "" : "/");
    q.delimiter = "/";
  }
  return q;
}

http::Response render_listing(const http::Request& req, const Listing& listing, bool containers, std::string_view name) {
  const std::string format = listing_format(req);
  const bool path_mode = req.has_query_param("path");
  // path=P lists what sits directly under P/: neither P/ itself nor the subdirectories.
  std::string path_prefix;
  if (auto p = req.query_param("path"); p && !p->empty()) { path_prefix = std::string(*p) + (p->ends_with('/') ? "" : "/"); }
  auto skip = [&](const ListEntry& e) { return path_mode && (e.is_prefix || e.name == path_prefix); };
  std::string body;
  if (format == "json") {
    body = "[";
    bool first = true;
    for (const auto& e : listing.entries) {
      if (skip(e)) { continue; }
      if (!first) { body += ","; }
      first = false;
      if (e.is_prefix) {
        body += "{\"subdir\":\"" + http::json_escape(e.name) + "\"}";
      } else if (containers) {
        body += "{\"name\":\"" + http::json_escape(e.name) + "\",\"count\":" + std::to_string(e.count) +
                ",\"bytes\":" + std::to_string(e.size) + ",\"last_modified\":\"" + listing_time(e.modified_us) + "\"}";
      } else {
        body += "{\"hash\":\"" + e.etag + "\",\"last_modified\":\"" + listing_time(e.modified_us) + "\",\"bytes\":" +
                std::to_string(e.size) + ",\"name\":\"" + http::json_escape(e.name) + "\",\"content_type\":\"" +
                http::json_escape(e.content_type) + "\"}";
      }
    }
    body += "]";
  } else if (format == "xml") {
    body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
    body += containers ? "<account name=\"" : "<container name=\"";
    body += xml_escape(name) + "\">";
    for (const auto& e : listing.entries) {
      if (skip(e)) { continue; }
      if (e.is_prefix) {
        body += "<subdir name=\"" + xml_escape(e.name) + "\"><name>" + xml_escape(e.name) + "</name></subdir>";
      } else if (containers) {
        body += "<container><name>" + xml_escape(e.name) + "</name><count>" + std::to_string(e.count) + "</count><bytes>" +
                std::to_string(e.size) + "</bytes><last_modified>" + listing_time(e.modified_us) + "</last_modified></container>";
      } else {
        body += "<object><name>" + xml_escape(e.name) + "</name><hash>" + e.etag + "</hash><bytes>" + std::to_string(e.size) +
                "</bytes><content_type>" + xml_escape(e.content_type) + "</content_type><last_modified>" +
                listing_time(e.modified_us) + "</last_modified></object>";
      }
    }
    body += containers ? "</account>" : "</container>";
  } else {
    for (const auto& e : listing.entries) {
      if (skip(e)) { continue; }
      body += e.name;
      body += '\n';
    }
    if (body.empty()) {
      http::Response res(http::Status::no_content);
      return res;
    }
  }
  http::Response res(http::Status::ok);
  res.set_body(std::move(body), format == "json"  ? "application/json; charset=utf-8"
                                : format == "xml" ? "application/xml; charset=utf-8"
                                                  : "text/plain; charset=utf-8");
  return res;
}

}  // namespace ciel::object::swift
