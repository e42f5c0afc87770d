#include "object/swift/bulk.h"

#include <algorithm>
#include <cctype>

#include "core/http/target.h"
#include "object/engine/json_text.h"

namespace ciel::object::swift {
namespace {

// Python's bytes.strip().
bool is_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

std::string_view strip(std::string_view s) {
  while (!s.empty() && is_space(s.front())) { s.remove_prefix(1); }
  while (!s.empty() && is_space(s.back())) { s.remove_suffix(1); }
  return s;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') { return c - '0'; }
  if (c >= 'a' && c <= 'f') { return c - 'a' + 10; }
  if (c >= 'A' && c <= 'F') { return c - 'A' + 10; }
  return -1;
}

// urllib.parse.unquote on bytes: %XX decoded, anything else (a lone '%' too) kept.
std::string unquote(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      int hi = hex_value(s[i + 1]);
      int lo = hex_value(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

std::string xml_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

std::string quote(std::string_view path) { return http::percent_encode(path, "/"); }

}  // namespace

Result<std::vector<std::string>> parse_bulk_delete_body(std::string_view body, std::size_t max_items) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < body.size()) {
    std::size_t end = body.find('\n', start);
    if (end == std::string_view::npos) { end = body.size(); }
    std::string_view line = strip(body.substr(start, end - start));
    start = end + 1;
    if (line.empty()) { continue; }
    std::string path = unquote(line);
    if (path.size() > kMaxBulkPathBytes) { return make_error(Errc::invalid_argument, "Invalid File Name"); }
    std::size_t slashes = path.find_first_not_of('/');
    path.erase(0, slashes == std::string::npos ? path.size() : slashes);
    path.insert(path.begin(), '/');
    if (out.size() == max_items) {
      return make_error(Errc::too_large, "Maximum Bulk Deletes: " + std::to_string(max_items) + " per request");
    }
    out.push_back(std::move(path));
  }
  return out;
}

std::string render_bulk_result(const BulkResult& result, std::string_view accept, bool is_extract) {
  // (key, value, is_number) in the order bulk.py builds its dict.
  struct Item {
    std::string_view key;
    std::string value;
    bool number;
  };
  std::vector<Item> items = {{"Response Status", result.response_status, false}, {"Response Body", result.response_body, false}};
  if (is_extract) {
    items.push_back({"Number Files Created", std::to_string(result.ok_count), true});
  } else {
    items.push_back({"Number Deleted", std::to_string(result.ok_count), true});
    items.push_back({"Number Not Found", std::to_string(result.not_found), true});
  }

  if (accept == "application/json") {
    std::string out = "{";
    for (const auto& item : items) {
      append_json_ascii(out, item.key);
      out += ": ";
      if (item.number) {
        out += item.value;
      } else {
        append_json_ascii(out, item.value);
      }
      out += ", ";
    }
    out += "\"Errors\": [";
    for (std::size_t i = 0; i < result.errors.size(); ++i) {
      if (i > 0) { out += ", "; }
      out += "[";
      append_json_ascii(out, quote(result.errors[i].first));
      out += ", ";
      append_json_ascii(out, result.errors[i].second);
      out += "]";
    }
    out += "]}";
    return out;
  }

  std::vector<const Item*> sorted;
  for (const auto& item : items) { sorted.push_back(&item); }
  std::sort(sorted.begin(), sorted.end(), [](const Item* a, const Item* b) { return a->key < b->key; });

  if (accept.ends_with("/xml")) {
    std::string_view root = is_extract ? "extract" : "delete";
    std::string out = "<" + std::string(root) + ">\n";
    for (const Item* item : sorted) {
      std::string tag(item->key);
      for (char& c : tag) { c = c == ' ' ? '_' : static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }
      out += "<" + tag + ">" + xml_escape(item->value) + "</" + tag + ">\n";
    }
    out += "<errors>\n";
    for (const auto& [path, status] : result.errors) {
      out += "<object><name>" + xml_escape(quote(path)) + "</name><status>" + xml_escape(status) + "</status></object>\n";
    }
    out += "</errors>\n</" + std::string(root) + ">\n";
    return out;
  }

  std::string out;
  for (const Item* item : sorted) { out += std::string(item->key) + ": " + item->value + "\n"; }
  out += "Errors:\n";
  for (const auto& [path, status] : result.errors) { out += quote(path) + ", " + status + "\n"; }
  return out;
}

}  // namespace ciel::object::swift
