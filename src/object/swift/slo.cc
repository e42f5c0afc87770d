#include "object/swift/slo.h"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <cctype>
#include <charconv>

#include "core/crypto/crypto.h"
#include "object/engine/json_text.h"

namespace ciel::object::swift {
namespace {

namespace json = boost::json;

std::optional<std::uint64_t> parse_digits(std::string_view s) {
  if (s.empty()) { return std::nullopt; }
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) { return std::nullopt; }
  return v;
}

bool is_ascii_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

// Python's int() of a size: a JSON integer, or a decimal string with optional surrounding spaces.
std::optional<std::uint64_t> size_value(const json::value& v) {
  if (v.is_uint64()) { return v.as_uint64(); }
  if (v.is_int64()) {
    if (v.as_int64() < 0) { return std::nullopt; }
    return static_cast<std::uint64_t>(v.as_int64());
  }
  if (v.is_string()) {
    std::string_view s = v.as_string();
    while (!s.empty() && is_ascii_space(s.front())) { s.remove_prefix(1); }
    while (!s.empty() && is_ascii_space(s.back())) { s.remove_suffix(1); }
    if (s.starts_with('+')) { s.remove_prefix(1); }
    if (s.empty() || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) { return std::nullopt; }
    return parse_digits(s);
  }
  return std::nullopt;
}

enum class RangeProblem { none, invalid, multiple };

// swob.Range("bytes=" + text): spaces removed, comma-separated "first-last" / "first-" / "-suffix".
RangeProblem parse_range(std::string_view text, SloRange& out) {
  std::string raw;
  for (char c : text) {
    if (c != ' ') { raw.push_back(c); }
  }
  std::size_t count = 0;
  std::size_t start = 0;
  for (;;) {
    std::size_t end = raw.find(',', start);
    std::string_view one = std::string_view(raw).substr(start, end == std::string::npos ? std::string::npos : end - start);
    std::size_t dash = one.find('-');
    if (dash == std::string_view::npos) { return RangeProblem::invalid; }
    std::string_view a = one.substr(0, dash);
    std::string_view b = one.substr(dash + 1);
    std::optional<std::uint64_t> first;
    std::optional<std::uint64_t> last;
    if (!a.empty()) {
      first = parse_digits(a);
      if (!first) { return RangeProblem::invalid; }
    }
    if (!b.empty()) {
      last = parse_digits(b);
      if (!last || (first && *last < *first)) { return RangeProblem::invalid; }
    } else if (!first) {
      return RangeProblem::invalid;
    }
    if (count++ == 0) {
      out.first = first;
      out.last = last;
    }
    if (end == std::string::npos) { break; }
    start = end + 1;
  }
  if (count > 1) { return RangeProblem::multiple; }
  out.raw = std::move(raw);
  return RangeProblem::none;
}

std::string index_error(std::size_t i, std::string_view what) {
  return "Index " + std::to_string(i) + ": " + std::string(what) + "\n";
}

bool config_true(const json::value& v) {
  if (v.is_bool()) { return v.as_bool(); }
  if (v.is_string()) {
    std::string s(v.as_string());
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s == "true" || s == "1" || s == "yes" || s == "on" || s == "t" || s == "y";
  }
  if (v.is_int64()) { return v.as_int64() == 1; }
  if (v.is_uint64()) { return v.as_uint64() == 1; }
  return false;
}

// A stored "first-last" range.
std::optional<std::pair<std::uint64_t, std::uint64_t>> stored_range(std::string_view r) {
  std::size_t dash = r.find('-');
  if (dash == std::string_view::npos) { return std::nullopt; }
  auto a = parse_digits(r.substr(0, dash));
  auto b = parse_digits(r.substr(dash + 1));
  if (!a || !b || *b < *a) { return std::nullopt; }
  return std::pair{*a, *b};
}

Error bad_stored(std::string detail) { return make_error(Errc::internal, "Unable to parse the SLO manifest", std::move(detail)); }

}  // namespace

std::optional<std::pair<std::uint64_t, std::uint64_t>> resolve_slo_range(const SloRange& range, std::uint64_t object_size) {
  if (object_size == 0) { return std::nullopt; }
  if (!range.first) {
    std::uint64_t suffix = range.last.value_or(0);
    if (suffix == 0) { return std::nullopt; }
    if (suffix >= object_size) { return std::pair<std::uint64_t, std::uint64_t>{0, object_size - 1}; }
    return std::pair<std::uint64_t, std::uint64_t>{object_size - suffix, object_size - 1};
  }
  if (*range.first >= object_size) { return std::nullopt; }
  std::uint64_t last = range.last ? std::min(*range.last, object_size - 1) : object_size - 1;
  return std::pair<std::uint64_t, std::uint64_t>{*range.first, last};
}

Result<std::vector<SloSegmentSpec>> parse_slo_put_manifest(std::string_view text, std::size_t max_segments,
                                                           std::string_view manifest_path) {
  boost::system::error_code ec;
  json::value doc = json::parse(text, ec);
  if (ec) { return make_error(Errc::invalid_argument, "Manifest must be valid JSON.\n", ec.message()); }
  if (!doc.is_array()) { return make_error(Errc::invalid_argument, "Manifest must be a list.\n"); }
  const json::array& items = doc.as_array();
  std::vector<SloSegmentSpec> out;
  out.reserve(std::min(items.size(), max_segments + 1));
  std::string errors;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (!items[i].is_object()) {
      errors += index_error(i, "not a JSON object");
      continue;
    }
    const json::object& seg = items[i].as_object();
    bool data = seg.contains("data");
    if (!data && !seg.contains("path")) {
      errors += index_error(i, "expected keys to include one of 'data' or 'path'");
      continue;
    }
    std::vector<std::string_view> extra;
    for (const auto& kv : seg) {
      std::string_view k = kv.key();
      bool allowed = data ? k == "data" : (k == "path" || k == "etag" || k == "size_bytes" || k == "range");
      if (!allowed) { extra.push_back(k); }
    }
    if (!extra.empty()) {
      std::sort(extra.begin(), extra.end());
      std::string list;
      for (auto k : extra) {
        if (!list.empty()) { list += ", "; }
        list += json_ascii(k);
      }
      errors += index_error(i, "extraneous keys " + list);
      continue;
    }
    if (data) {
      errors += index_error(i, "inline data segments are not supported");
      continue;
    }
    const json::value& path = seg.at("path");
    if (!path.is_string()) {
      errors += index_error(i, "\"path\" must be a string");
      continue;
    }
    SloSegmentSpec spec;
    if (auto it = seg.find("etag"); it != seg.end() && !it->value().is_null()) {
      if (!it->value().is_string()) {
        errors += index_error(i, "\"etag\" must be a string or null (if provided)");
        continue;
      }
      spec.etag = std::string(it->value().as_string());
    }
    std::string_view p = path.as_string();
    std::string_view trimmed = p;
    while (trimmed.starts_with('/')) { trimmed.remove_prefix(1); }
    while (trimmed.ends_with('/')) { trimmed.remove_suffix(1); }
    if (trimmed.find('/') == std::string_view::npos) {
      errors += index_error(i, "path does not refer to an object. Path must be of the form /container/object.");
      continue;
    }
    while (p.starts_with('/')) { p.remove_prefix(1); }
    spec.path = "/" + std::string(p);
    if (auto it = seg.find("size_bytes"); it != seg.end() && !it->value().is_null()) {
      spec.size_bytes = size_value(it->value());
      if (!spec.size_bytes) {
        errors += index_error(i, "invalid size_bytes");
        continue;
      }
      if (*spec.size_bytes < 1 && i != items.size() - 1) {
        errors += index_error(i, "too small; each segment must be at least 1 byte.");
        continue;
      }
    }
    if (!manifest_path.empty() && spec.path == manifest_path) {
      errors += index_error(i, "manifest must not include itself as a segment");
      continue;
    }
    if (auto it = seg.find("range"); it != seg.end() && !it->value().is_null() &&
                                      !(it->value().is_string() && it->value().as_string().empty())) {
      if (!it->value().is_string()) {
        errors += index_error(i, "invalid range");
        continue;
      }
      SloRange range;
      RangeProblem problem = parse_range(it->value().as_string(), range);
      if (problem == RangeProblem::invalid) {
        errors += index_error(i, "invalid range");
        continue;
      }
      if (problem == RangeProblem::multiple) {
        errors += index_error(i, "multiple ranges (only one allowed)");
        continue;
      }
      if (spec.size_bytes && !resolve_slo_range(range, *spec.size_bytes)) {
        errors += index_error(i, "unsatisfiable range");
        continue;
      }
      spec.range = std::move(range);
    }
    out.push_back(std::move(spec));
  }
  if (!errors.empty()) { return make_error(Errc::invalid_argument, std::move(errors)); }
  if (out.size() > max_segments) {
    return make_error(Errc::too_large, "Number of object-backed segments must be <= " + std::to_string(max_segments));
  }
  return out;
}

std::string render_slo_manifest(const std::vector<SloSegment>& segments) {
  std::string out = "[";
  for (std::size_t i = 0; i < segments.size(); ++i) {
    const SloSegment& s = segments[i];
    if (i > 0) { out += ", "; }
    out += "{\"name\": ";
    append_json_ascii(out, s.name);
    out += ", \"bytes\": " + std::to_string(s.bytes) + ", \"hash\": ";
    append_json_ascii(out, s.etag);
    out += ", \"content_type\": ";
    append_json_ascii(out, s.content_type);
    out += ", \"last_modified\": ";
    append_json_ascii(out, s.last_modified);
    if (s.range) {
      out += ", \"range\": ";
      append_json_ascii(out, *s.range);
    }
    if (s.sub_slo) { out += ", \"sub_slo\": true"; }
    out += "}";
  }
  out += "]";
  return out;
}

Result<std::vector<SloSegment>> parse_slo_stored_manifest(std::string_view text) {
  boost::system::error_code ec;
  json::value doc = json::parse(text, ec);
  if (ec) { return bad_stored(ec.message()); }
  if (!doc.is_array()) { return bad_stored("not a list"); }
  std::vector<SloSegment> out;
  out.reserve(doc.as_array().size());
  for (const auto& item : doc.as_array()) {
    if (!item.is_object()) { return bad_stored("segment is not an object"); }
    const json::object& o = item.as_object();
    SloSegment s;
    auto name = o.find("name");
    auto hash = o.find("hash");
    auto bytes = o.find("bytes");
    if (name == o.end() || !name->value().is_string()) { return bad_stored("segment without a name"); }
    if (hash == o.end() || !hash->value().is_string()) { return bad_stored("segment without a hash"); }
    if (bytes == o.end()) { return bad_stored("segment without bytes"); }
    auto size = size_value(bytes->value());
    if (!size) { return bad_stored("segment bytes is not a size"); }
    s.name = std::string(name->value().as_string());
    s.etag = std::string(hash->value().as_string());
    s.bytes = *size;
    if (auto it = o.find("content_type"); it != o.end()) {
      if (!it->value().is_string()) { return bad_stored("content_type is not a string"); }
      s.content_type = std::string(it->value().as_string());
    }
    if (auto it = o.find("last_modified"); it != o.end()) {
      if (!it->value().is_string()) { return bad_stored("last_modified is not a string"); }
      s.last_modified = std::string(it->value().as_string());
    }
    if (auto it = o.find("range"); it != o.end() && !it->value().is_null()) {
      if (!it->value().is_string() || !stored_range(it->value().as_string())) { return bad_stored("bad range"); }
      s.range = std::string(it->value().as_string());
    }
    if (auto it = o.find("sub_slo"); it != o.end()) { s.sub_slo = config_true(it->value()); }
    out.push_back(std::move(s));
  }
  return out;
}

std::uint64_t slo_segment_length(const SloSegment& segment) {
  if (segment.range) {
    if (auto r = stored_range(*segment.range)) { return r->second - r->first + 1; }
  }
  return segment.bytes;
}

std::uint64_t slo_total_size(const std::vector<SloSegment>& segments) {
  std::uint64_t total = 0;
  for (const auto& s : segments) { total += slo_segment_length(s); }
  return total;
}

std::string slo_etag(const std::vector<SloSegment>& segments) {
  crypto::Hasher md5(crypto::Digest::md5);
  for (const auto& s : segments) {
    md5.update(s.etag);
    if (s.range && !s.range->empty()) {
      md5.update(":");
      md5.update(*s.range);
      md5.update(";");
    }
  }
  return crypto::hex(md5.finish());
}

}  // namespace ciel::object::swift
