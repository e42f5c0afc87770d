// Fuzzes the S3 request bodies (object/s3/xml.h) and bucket policies (object/s3/policy.h). The
// first byte picks the parser, the rest is the body. Every parser either refuses with
// invalid_argument and a message, or returns values within its documented limits; and what it
// accepted comes back unchanged when rendered (XmlWriter, render_cors, render_lifecycle,
// render_access_control_policy, the x-amz-tagging form) and parsed again.
#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "core/http/target.h"
#include "fuzz_check.h"
#include "object/s3/policy.h"
#include "object/s3/xml.h"

namespace {

namespace s3 = ciel::object::s3;
using ciel::Errc;
using ciel::object::LifecycleRule;
using ciel::object::Metadata;

constexpr std::string_view kOwner = "0123456789abcdef0123456789abcdef";
constexpr std::string_view kCanned[] = {"private", "public-read", "public-read-write", "authenticated-read"};

template <class T>
bool refused(const ciel::Result<T>& r) {
  if (r) { return false; }
  FUZZ_CHECK(r.error().code == Errc::invalid_argument);
  FUZZ_CHECK(!r.error().message.empty());
  return true;
}

std::size_t chars(std::string_view s) {
  return static_cast<std::size_t>(std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

// Text a parser hands back: valid UTF-8 without NUL, since only that gets through.
void check_text(std::string_view s) {
  FUZZ_CHECK(ciel::http::valid_utf8(s));
  FUZZ_CHECK(s.find('\0') == std::string_view::npos);
}

void check_tags(const Metadata& tags, std::size_t max_tags) {
  FUZZ_CHECK(tags.size() <= max_tags);
  for (const auto& [k, v] : tags) {
    check_text(k);
    check_text(v);
    FUZZ_CHECK(chars(k) >= 1 && chars(k) <= 128 && !k.starts_with("aws:"));
    FUZZ_CHECK(chars(v) <= 256);
  }
}

std::string tagging_body(const Metadata& tags) {
  s3::XmlWriter w("Tagging");
  w.open("TagSet");
  for (const auto& [k, v] : tags) {
    w.open("Tag");
    w.leaf("Key", k);
    w.leaf("Value", v);
    w.close();
  }
  return w.finish();
}

std::string tagging_header(const Metadata& tags) {
  std::string out;
  for (const auto& [k, v] : tags) {
    if (!out.empty()) { out += '&'; }
    out += ciel::http::percent_encode(k) + "=" + ciel::http::percent_encode(v);
  }
  return out;
}

void check_tagging_round_trip(const Metadata& tags, std::size_t max_tags) {
  auto back = s3::parse_tagging(tagging_body(tags), max_tags);
  FUZZ_CHECK(back && *back == tags);
  if (tags.size() <= 10) {
    auto header = s3::parse_tagging_header(tagging_header(tags));
    FUZZ_CHECK(header && *header == tags);
  }
}

bool same(const s3::CorsRule& a, const s3::CorsRule& b) {
  return a.id == b.id && a.allowed_origins == b.allowed_origins && a.allowed_methods == b.allowed_methods &&
         a.allowed_headers == b.allowed_headers && a.expose_headers == b.expose_headers && a.max_age_seconds == b.max_age_seconds;
}

bool same(const LifecycleRule& a, const LifecycleRule& b) {
  return a.id == b.id && a.enabled == b.enabled && a.prefix == b.prefix && a.tags == b.tags && a.expiration_days == b.expiration_days &&
         a.expiration_date == b.expiration_date && a.noncurrent_days == b.noncurrent_days && a.abort_upload_days == b.abort_upload_days &&
         a.expired_delete_markers == b.expired_delete_markers;
}

template <class T>
bool same_list(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](const T& x, const T& y) { return same(x, y); });
}

void fuzz_create_bucket(std::string_view body) {
  auto r = s3::parse_create_bucket(body);
  if (refused(r)) { return; }
  FUZZ_CHECK(r->size() <= 64);
  for (char c : *r) { FUZZ_CHECK(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_'); }
}

void fuzz_delete(std::string_view body) {
  auto r = s3::parse_delete(body);
  if (refused(r)) { return; }
  FUZZ_CHECK(!r->keys.empty() && r->keys.size() <= 1000);
  s3::XmlWriter w("Delete", r->keys.size() % 2 == 0);
  for (const auto& k : r->keys) {
    check_text(k.key);
    check_text(k.version_id);
    w.open("Object");
    w.leaf("Key", k.key);
    if (!k.version_id.empty()) { w.leaf("VersionId", k.version_id); }
    w.close();
  }
  w.leaf_bool("Quiet", r->quiet);
  auto back = s3::parse_delete(w.finish());
  FUZZ_CHECK(back && back->quiet == r->quiet && back->keys.size() == r->keys.size());
  for (std::size_t i = 0; i < r->keys.size(); ++i) {
    FUZZ_CHECK(back->keys[i].key == r->keys[i].key && back->keys[i].version_id == r->keys[i].version_id);
  }
}

void fuzz_complete(std::string_view body) {
  auto r = s3::parse_complete_multipart(body);
  if (refused(r)) { return; }
  FUZZ_CHECK(!r->empty() && r->size() <= 10000);
  s3::XmlWriter w("CompleteMultipartUpload");
  for (const auto& p : *r) {
    FUZZ_CHECK(p.part_no >= 1 && p.part_no <= 10000);
    check_text(p.etag);
    w.open("Part");
    w.leaf("PartNumber", static_cast<std::uint64_t>(p.part_no));
    w.leaf("ETag", "\"" + p.etag + "\"");  // as clients send it, quoted
    w.close();
  }
  auto back = s3::parse_complete_multipart(w.finish());
  FUZZ_CHECK(back && back->size() == r->size());
  for (std::size_t i = 0; i < r->size(); ++i) {
    FUZZ_CHECK((*back)[i].part_no == (*r)[i].part_no && (*back)[i].etag == (*r)[i].etag);
  }
}

void fuzz_versioning(std::string_view body) {
  auto r = s3::parse_versioning(body);
  if (refused(r)) { return; }
  FUZZ_CHECK(*r == "Enabled" || *r == "Suspended");
}

void fuzz_tagging(std::string_view body, std::size_t max_tags) {
  auto r = s3::parse_tagging(body, max_tags);
  if (refused(r)) { return; }
  check_tags(*r, max_tags);
  check_tagging_round_trip(*r, max_tags);
}

void fuzz_tagging_header(std::string_view header) {
  auto r = s3::parse_tagging_header(header);
  if (refused(r)) { return; }
  check_tags(*r, 10);
  check_tagging_round_trip(*r, 10);
}

void fuzz_cors(std::string_view body) {
  auto r = s3::parse_cors(body);
  if (refused(r)) { return; }
  FUZZ_CHECK(!r->empty() && r->size() <= 100);
  for (const auto& rule : *r) {
    FUZZ_CHECK(!rule.allowed_origins.empty() && !rule.allowed_methods.empty());
    for (const auto& m : rule.allowed_methods) { FUZZ_CHECK(m == "GET" || m == "PUT" || m == "POST" || m == "DELETE" || m == "HEAD"); }
    for (const auto& o : rule.allowed_origins) { FUZZ_CHECK(std::count(o.begin(), o.end(), '*') <= 1); }
    if (rule.max_age_seconds) { FUZZ_CHECK(*rule.max_age_seconds >= 0); }
  }
  std::string xml = s3::render_cors(*r);
  auto back = s3::parse_cors(xml);
  FUZZ_CHECK(back && same_list(*back, *r));
  FUZZ_CHECK(s3::render_cors(*back) == xml);
}

void fuzz_lifecycle(std::string_view body) {
  auto r = s3::parse_lifecycle(body);
  if (refused(r)) { return; }
  FUZZ_CHECK(!r->empty() && r->size() <= 1000);
  for (const auto& rule : *r) {
    FUZZ_CHECK(rule.expiration_days || rule.expiration_date || rule.expired_delete_markers || rule.noncurrent_days ||
               rule.abort_upload_days);
    FUZZ_CHECK(!rule.expiration_days || *rule.expiration_days >= 1);
    FUZZ_CHECK(!rule.noncurrent_days || *rule.noncurrent_days >= 1);
    FUZZ_CHECK(!rule.abort_upload_days || *rule.abort_upload_days >= 1);
    FUZZ_CHECK(!rule.expiration_date || (*rule.expiration_date >= 0 && *rule.expiration_date % 86400 == 0));
    FUZZ_CHECK(rule.prefix.size() <= 1024);
    FUZZ_CHECK(rule.tags.empty() || (!rule.expired_delete_markers && !rule.abort_upload_days));
    check_tags(rule.tags, SIZE_MAX);
  }
  std::string xml = s3::render_lifecycle(*r);
  auto back = s3::parse_lifecycle(xml);
  FUZZ_CHECK(back && same_list(*back, *r));
  FUZZ_CHECK(s3::render_lifecycle(*back) == xml);
}

void check_acl_round_trip(std::string_view canned, std::string_view owner_id, std::string_view owner_name) {
  auto back = s3::parse_access_control_policy(s3::render_access_control_policy(canned, owner_id, owner_name), owner_id);
  FUZZ_CHECK(back && *back == canned);
}

void fuzz_acl(std::string_view body) {
  auto r = s3::parse_access_control_policy(body, kOwner);
  if (refused(r)) { return; }
  FUZZ_CHECK(std::find(std::begin(kCanned), std::end(kCanned), *r) != std::end(kCanned));
  check_acl_round_trip(*r, kOwner, "owner");
}

void fuzz_policy(std::string_view body) {
  auto r = s3::parse_bucket_policy(body, "photos");
  if (refused(r)) { return; }
  FUZZ_CHECK(body.size() <= 20 * 1024);
  for (const auto* ids : {&r->read_projects, &r->list_projects, &r->write_projects}) {
    FUZZ_CHECK(std::is_sorted(ids->begin(), ids->end()));
    FUZZ_CHECK(std::adjacent_find(ids->begin(), ids->end()) == ids->end());
    for (const auto& id : *ids) {
      FUZZ_CHECK(!id.empty() && id.size() <= 64 && id != "*");
      for (char c : id) { FUZZ_CHECK(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_'); }
    }
  }
}

// Any text through XmlWriter comes back from a parser as it was, when it is valid UTF-8
// without NUL (the only text a parser can return); the escaped form is UTF-8 with no raw
// control characters but tab and newline.
void fuzz_escape(std::string_view text) {
  std::string escaped = s3::xml_escape(text);
  FUZZ_CHECK(ciel::http::valid_utf8(escaped));
  for (char c : escaped) { FUZZ_CHECK(static_cast<unsigned char>(c) >= 0x20 || c == '\t' || c == '\n'); }
  FUZZ_CHECK(escaped.find_first_of("<>\"'") == std::string::npos);

  s3::XmlWriter w("Delete");
  w.open("Object");
  w.leaf("Key", text);
  auto back = s3::parse_delete(w.finish());
  bool has_nul = text.find('\0') != std::string_view::npos;
  if (has_nul) {
    FUZZ_CHECK(refused(back));
    return;
  }
  FUZZ_CHECK(back && back->keys.size() == 1);
  if (ciel::http::valid_utf8(text)) {
    FUZZ_CHECK(back->keys[0].key == text);
    for (std::string_view canned : kCanned) { check_acl_round_trip(canned, text, text); }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) { return 0; }
  std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 12) {
    case 0: fuzz_create_bucket(body); break;
    case 1: fuzz_delete(body); break;
    case 2: fuzz_complete(body); break;
    case 3: fuzz_versioning(body); break;
    case 4: fuzz_tagging(body, 10); break;
    case 5: fuzz_tagging(body, 50); break;
    case 6: fuzz_tagging_header(body); break;
    case 7: fuzz_cors(body); break;
    case 8: fuzz_lifecycle(body); break;
    case 9: fuzz_acl(body); break;
    case 10: fuzz_policy(body); break;
    default: fuzz_escape(body); break;
  }
  return 0;
}
