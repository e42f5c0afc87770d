// The S3 XML documents over pugixml. See xml.h for what each body holds.
//
// pugixml is a lenient, non-validating parser: it leaves undeclared entities in the text as
// they were, keeps raw control characters, skips a DOCTYPE and accepts several root elements.
// S3 refuses all of those, so every body first goes through check_body(), which refuses what
// pugixml would let through (invalid UTF-8, control characters, NUL by reference, DOCTYPE and
// other declarations, undeclared entities), and parse_root() then wants exactly one element with
// the expected name. The parsers below walk the tree with Children, which refuses unknown
// elements, repeated singletons and text between elements: the schema checks S3 answers with
// MalformedXML.
#include "object/s3/xml.h"

#include <pugixml.hpp>

#include <algorithm>
#include <charconv>
#include <climits>
#include <cstdio>
#include <initializer_list>
#include <set>
#include <tuple>
#include <utility>

#include "core/check.h"
#include "core/http/target.h"
#include "core/time.h"

namespace ciel::object::s3 {
namespace {

// Large enough for 10,000 CompleteMultipartUpload parts carrying every checksum, or 1,000
// DeleteObjects keys of 1,024 bytes written as character references; a front-end may cap its
// bodies lower.
constexpr std::size_t kMaxXmlBytes = 8u << 20;
constexpr std::size_t kMaxDeleteKeys = 1000;
constexpr std::size_t kMaxParts = 10000;
constexpr std::size_t kMaxCorsRules = 100;
constexpr std::size_t kMaxLifecycleRules = 1000;
constexpr std::size_t kMaxGrants = 100;
constexpr std::size_t kMaxObjectTags = 10;  // x-amz-tagging is only sent with objects
constexpr std::size_t kMaxTagKeyChars = 128;
constexpr std::size_t kMaxTagValueChars = 256;
constexpr std::size_t kMaxRuleIdChars = 255;
constexpr std::size_t kMaxPrefixBytes = 1024;  // S3's longest key
constexpr std::string_view kAllUsers = "http://acs.amazonaws.com/groups/global/AllUsers";
constexpr std::string_view kAuthenticatedUsers = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers";
constexpr std::string_view kXsiNamespace = "http://www.w3.org/2001/XMLSchema-instance";

// parse_default plus parse_ws_pcdata_single: a whitespace-only text that is an element's only
// content is kept (a key may be " "), while the indentation between elements is still dropped;
// and parse_fragment, without which pugixml silently drops text outside the root element
// (parse_root refuses it).
constexpr unsigned kParseOptions = pugi::parse_cdata | pugi::parse_escapes | pugi::parse_eol | pugi::parse_wconv_attribute |
                                   pugi::parse_ws_pcdata_single | pugi::parse_fragment;

Error malformed() { return make_error(Errc::invalid_argument, std::string(kMalformedXml)); }
Error invalid(std::string message) { return make_error(Errc::invalid_argument, std::move(message)); }

bool is_xml_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_xml_space(s.front())) { s.remove_prefix(1); }
  while (!s.empty() && is_xml_space(s.back())) { s.remove_suffix(1); }
  return s;
}

// Length of the UTF-8 sequence starting at s[i], 0 when it is not a valid one.
std::size_t utf8_sequence(std::string_view s, std::size_t i) {
  auto cp = http::decode_utf8(s, i);
  return cp ? cp->length : 0;
}

// Characters, as S3 counts them for tag and rule limits: code points of valid UTF-8.
std::size_t char_count(std::string_view s) {
  return static_cast<std::size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

// s[i] is '&': moves i past a reference to one of XML's five entities or to a character other
// than NUL (which no C string, hence no pugixml text, can carry). Anything else would reach the
// text verbatim through pugixml.
bool skip_reference(std::string_view s, std::size_t& i) {
  std::size_t semi = s.find(';', i + 1);
  if (semi == std::string_view::npos || semi - i > 32) { return false; }
  std::string_view name = s.substr(i + 1, semi - i - 1);
  i = semi + 1;
  if (name == "amp" || name == "lt" || name == "gt" || name == "quot" || name == "apos") { return true; }
  if (name.size() < 2 || name[0] != '#') { return false; }
  bool hex = name[1] == 'x';
  std::string_view digits = name.substr(hex ? 2 : 1);
  if (digits.empty()) { return false; }
  std::uint32_t cp = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), cp, hex ? 16 : 10);
  if (ec != std::errc{} || end != digits.data() + digits.size()) { return false; }
  return cp != 0 && cp <= 0x10FFFF && (cp < 0xD800 || cp > 0xDFFF);
}

// What pugixml would accept but S3 refuses (see the file comment).
bool check_body(std::string_view s) {
  if (s.size() > kMaxXmlBytes || !http::valid_utf8(s)) { return false; }
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r') { return false; }
  }
  auto skip_to = [&](std::size_t& i, std::size_t from, std::string_view end) {
    std::size_t p = s.find(end, from);
    if (p == std::string_view::npos) { return false; }
    i = p + end.size();
    return true;
  };
  std::size_t i = 0;
  while (i < s.size()) {
    if (s[i] == '&') {
      if (!skip_reference(s, i)) { return false; }
    } else if (s.substr(i, 4) == "<!--") {
      if (!skip_to(i, i + 4, "-->")) { return false; }
    } else if (s.substr(i, 9) == "<![CDATA[") {
      if (!skip_to(i, i + 9, "]]>")) { return false; }
    } else if (s.substr(i, 2) == "<!") {
      return false;  // <!DOCTYPE, <!ENTITY, ...: nothing S3 takes declares anything
    } else if (s.substr(i, 2) == "<?") {
      if (!skip_to(i, i + 2, "?>")) { return false; }
    } else {
      ++i;
    }
  }
  return true;
}

// Loads `xml` into `doc` and returns its one element, which must be called `root` and be in
// the S3 namespace or in none.
Result<pugi::xml_node> parse_root(pugi::xml_document& doc, std::string_view xml, std::string_view root) {
  if (!check_body(xml)) { return malformed(); }
  if (!doc.load_buffer(xml.data(), xml.size(), kParseOptions, pugi::encoding_utf8)) { return malformed(); }
  pugi::xml_node element;
  for (pugi::xml_node n : doc.children()) {
    if (n.type() != pugi::node_element || element) { return malformed(); }
    element = n;
  }
  if (!element || std::string_view(element.name()) != root) { return malformed(); }
  pugi::xml_attribute ns = element.attribute("xmlns");
  if (ns && std::string_view(ns.value()) != kS3Namespace) { return malformed(); }
  return element;
}

// The text of a leaf element (character data and CDATA); nullopt when it holds elements.
std::optional<std::string> leaf_text(pugi::xml_node n) {
  std::string out;
  for (pugi::xml_node c : n.children()) {
    if (c.type() != pugi::node_pcdata && c.type() != pugi::node_cdata) { return std::nullopt; }
    out += c.value();
  }
  return out;
}

// The child elements of a container element, checked against the names the schema allows.
class Children {
 public:
  static Result<Children> of(pugi::xml_node parent, std::initializer_list<std::string_view> known) {
    Children out;
    for (pugi::xml_node c : parent.children()) {
      if (c.type() == pugi::node_pcdata || c.type() == pugi::node_cdata) {
        if (!trim(c.value()).empty()) { return malformed(); }
        continue;
      }
      if (c.type() != pugi::node_element) { return malformed(); }
      std::string_view name = c.name();
      if (std::find(known.begin(), known.end(), name) == known.end()) { return malformed(); }
      out.nodes_.emplace_back(name, c);
    }
    return out;
  }

  std::vector<pugi::xml_node> all(std::string_view name) const {
    std::vector<pugi::xml_node> out;
    for (const auto& [n, node] : nodes_) {
      if (n == name) { out.push_back(node); }
    }
    return out;
  }
  bool has(std::string_view name) const {
    return std::any_of(nodes_.begin(), nodes_.end(), [&](const auto& e) { return e.first == name; });
  }
  std::size_t size() const { return nodes_.size(); }
  // The element called `name` (a null node when absent); malformed when it is repeated.
  Result<pugi::xml_node> one(std::string_view name) const {
    pugi::xml_node found;
    for (const auto& [n, node] : nodes_) {
      if (n != name) { continue; }
      if (found) { return malformed(); }
      found = node;
    }
    return found;
  }
  // The text of the element called `name`, nullopt when absent.
  Result<std::optional<std::string>> text(std::string_view name) const {
    auto node = one(name);
    if (!node) { return node.error(); }
    if (!*node) { return std::optional<std::string>(); }
    auto t = leaf_text(*node);
    if (!t) { return malformed(); }
    return t;
  }
  Result<std::string> required_text(std::string_view name) const {
    auto t = text(name);
    if (!t) { return t.error(); }
    if (!*t) { return malformed(); }
    return std::move(**t);
  }

 private:
  std::vector<std::pair<std::string_view, pugi::xml_node>> nodes_;
};

// A decimal xs:int in [0, INT_MAX], surrounding whitespace allowed.
std::optional<int> parse_int(std::string_view s) {
  s = trim(s);
  if (s.empty() || s.size() > 10) { return std::nullopt; }
  std::int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') { return std::nullopt; }
    v = v * 10 + (c - '0');
  }
  if (v > INT_MAX) { return std::nullopt; }
  return static_cast<int>(v);
}

std::optional<bool> parse_bool(std::string_view s) {
  s = trim(s);
  if (s == "true" || s == "1") { return true; }
  if (s == "false" || s == "0") { return false; }
  return std::nullopt;
}

// A lifecycle Date: "YYYY-MM-DD", optionally followed by "Thh:mm:ss", a fraction and "Z" or
// "+00:00" (what the SDKs send: 2030-01-01T00:00:00Z, 2030-01-01T00:00:00.000Z). Years 1970 to
// 9999. Returns unix seconds, or an error: kMalformedXml when it is no date, S3's message when
// it is not midnight UTC.
Result<std::int64_t> parse_midnight(std::string_view s) {
  s = trim(s);
  auto digits = [&](std::size_t pos, std::size_t n) -> std::optional<int> {
    if (pos + n > s.size()) { return std::nullopt; }
    int v = 0;
    for (std::size_t i = pos; i < pos + n; ++i) {
      if (s[i] < '0' || s[i] > '9') { return std::nullopt; }
      v = v * 10 + (s[i] - '0');
    }
    return v;
  };
  auto y = digits(0, 4), mo = digits(5, 2), d = digits(8, 2);
  if (!y || !mo || !d || s[4] != '-' || s[7] != '-' || *y < 1970 || *mo < 1 || *mo > 12 || *d < 1) { return malformed(); }
  if (static_cast<unsigned>(*d) > days_in_month(*y, static_cast<unsigned>(*mo))) { return malformed(); }
  std::int64_t seconds = days_from_civil(*y, static_cast<unsigned>(*mo), static_cast<unsigned>(*d)) * 86400;
  std::string_view rest = s.substr(10);
  if (rest.empty()) { return seconds; }
  auto h = digits(11, 2), mi = digits(14, 2), sec = digits(17, 2);
  if (rest[0] != 'T' || !h || !mi || !sec || s[13] != ':' || s[16] != ':' || *h > 23 || *mi > 59 || *sec > 59) {
    return malformed();
  }
  bool midnight = *h == 0 && *mi == 0 && *sec == 0;
  rest = s.substr(19);
  if (!rest.empty() && rest[0] == '.') {
    std::size_t n = 1;
    while (n < rest.size() && rest[n] >= '0' && rest[n] <= '9') {
      midnight = midnight && rest[n] == '0';
      ++n;
    }
    if (n == 1) { return malformed(); }
    rest.remove_prefix(n);
  }
  if (rest != "Z" && rest != "+00:00") { return malformed(); }
  if (!midnight) { return invalid("'Date' must be at midnight GMT"); }
  return seconds;
}

std::string format_midnight(std::int64_t unix_seconds) {
  CivilDate c = civil_from_days(unix_seconds / 86400);
  // Years outside 0..9999 never reach here (parse_midnight refuses them); clamp so the text is fixed-width.
  const int y = static_cast<int>(std::clamp<std::int64_t>(c.year, 0, 9999));
  const int m = static_cast<int>(c.month), d = static_cast<int>(c.day);
  auto two = [](int v) { return std::string(1, static_cast<char>('0' + v / 10)) + static_cast<char>('0' + v % 10); };
  return two(y / 100) + two(y % 100) + "-" + two(m) + "-" + two(d) + "T00:00:00.000Z";
}

// One tag's key and value against S3's limits (InvalidTag messages). NUL only reaches here from
// the header form ("%00"); the XML form cannot carry it, so neither may the header.
Status check_tag(std::string_view key, std::string_view value) {
  std::size_t key_chars = char_count(key);
  if (key_chars < 1 || key_chars > kMaxTagKeyChars || key.find('\0') != std::string_view::npos) {
    return invalid(std::string(kInvalidTagKey));
  }
  if (key.starts_with("aws:")) { return invalid(std::string(kSystemTagKey)); }
  if (char_count(value) > kMaxTagValueChars || value.find('\0') != std::string_view::npos) {
    return invalid(std::string(kInvalidTagValue));
  }
  return {};
}

std::string too_many_tags(std::size_t max_tags) {
  if (max_tags <= 10) { return "Object tags cannot be greater than " + std::to_string(max_tags); }
  return "Bucket tag count cannot be greater than " + std::to_string(max_tags);
}

// A Tag element (Key and Value, both required).
Result<std::pair<std::string, std::string>> parse_tag(pugi::xml_node tag) {
  auto f = Children::of(tag, {"Key", "Value"});
  if (!f) { return f.error(); }
  auto key = f->required_text("Key");
  if (!key) { return key.error(); }
  auto value = f->required_text("Value");
  if (!value) { return value.error(); }
  if (auto st = check_tag(*key, *value); !st) { return st.error(); }
  return std::pair(std::move(*key), std::move(*value));
}

// --- lifecycle ------------------------------------------------------------------------------------

// Filter (Prefix | Tag | And{Prefix, Tag...}); an empty Filter selects every object.
Status parse_lifecycle_filter(pugi::xml_node filter, LifecycleRule& rule) {
  static constexpr std::string_view kSizeFilters = "Lifecycle filters on object size are not supported";
  auto f = Children::of(filter, {"Prefix", "Tag", "And", "ObjectSizeGreaterThan", "ObjectSizeLessThan"});
  if (!f) { return f.error(); }
  if (f->has("ObjectSizeGreaterThan") || f->has("ObjectSizeLessThan")) { return invalid(std::string(kSizeFilters)); }
  if (f->size() > 1) { return malformed(); }  // exactly one predicate
  auto prefix = f->text("Prefix");
  if (!prefix) { return prefix.error(); }
  if (*prefix) { rule.prefix = std::move(**prefix); }
  if (auto tag = f->one("Tag"); !tag) {
    return tag.error();
  } else if (*tag) {
    auto t = parse_tag(*tag);
    if (!t) { return t.error(); }
    rule.tags.insert(std::move(*t));
  }
  auto and_node = f->one("And");
  if (!and_node) { return and_node.error(); }
  if (*and_node) {
    auto a = Children::of(*and_node, {"Prefix", "Tag", "ObjectSizeGreaterThan", "ObjectSizeLessThan"});
    if (!a) { return a.error(); }
    if (a->has("ObjectSizeGreaterThan") || a->has("ObjectSizeLessThan")) { return invalid(std::string(kSizeFilters)); }
    auto and_prefix = a->text("Prefix");
    if (!and_prefix) { return and_prefix.error(); }
    if (*and_prefix) { rule.prefix = std::move(**and_prefix); }
    for (pugi::xml_node tag : a->all("Tag")) {
      auto t = parse_tag(tag);
      if (!t) { return t.error(); }
      if (!rule.tags.insert(std::move(*t)).second) { return invalid("Duplicate Tag Keys are not allowed."); }
    }
  }
  return {};
}

// A positive xs:int in `parent`'s element `name`: nullopt when absent, kMalformedXml when not
// an int, S3's "must be a positive integer" message when 0.
Result<std::optional<int>> positive_days(const Children& parent, std::string_view name, std::string_view action) {
  auto text = parent.text(name);
  if (!text) { return text.error(); }
  if (!*text) { return std::optional<int>(); }
  auto v = parse_int(**text);
  if (!v) { return malformed(); }
  if (*v < 1) { return invalid("'" + std::string(name) + "' for " + std::string(action) + " action must be a positive integer"); }
  return v;
}

Result<LifecycleRule> parse_lifecycle_rule(pugi::xml_node node) {
  auto f = Children::of(node, {"ID", "Status", "Filter", "Prefix", "Expiration", "NoncurrentVersionExpiration",
                               "AbortIncompleteMultipartUpload", "Transition", "NoncurrentVersionTransition"});
  if (!f) { return f.error(); }
  if (f->has("Transition") || f->has("NoncurrentVersionTransition")) {
    return invalid("Lifecycle transitions are not supported: Ciel has one storage class");
  }
  LifecycleRule rule;
  auto id = f->text("ID");
  if (!id) { return id.error(); }
  if (*id) {
    if (char_count(**id) > kMaxRuleIdChars) { return invalid("ID length should not exceed allowed limit of 255"); }
    rule.id = std::move(**id);
  }
  auto status = f->required_text("Status");
  if (!status) { return status.error(); }
  if (trim(*status) == "Enabled") {
    rule.enabled = true;
  } else if (trim(*status) == "Disabled") {
    rule.enabled = false;
  } else {
    return malformed();
  }

  // The current form (Filter) or the older top-level Prefix, not both; neither selects every object.
  auto filter = f->one("Filter");
  if (!filter) { return filter.error(); }
  auto old_prefix = f->text("Prefix");
  if (!old_prefix) { return old_prefix.error(); }
  if (*filter && *old_prefix) { return malformed(); }
  if (*filter) {
    if (auto st = parse_lifecycle_filter(*filter, rule); !st) { return st.error(); }
  } else if (*old_prefix) {
    rule.prefix = std::move(**old_prefix);
  }
  if (rule.prefix.size() > kMaxPrefixBytes) { return invalid("The lifecycle rule prefix is longer than 1024 bytes"); }

  // Expiration: exactly one of Days, Date, ExpiredObjectDeleteMarker.
  if (auto exp = f->one("Expiration"); !exp) {
    return exp.error();
  } else if (*exp) {
    auto e = Children::of(*exp, {"Days", "Date", "ExpiredObjectDeleteMarker"});
    if (!e) { return e.error(); }
    if (e->size() != 1) { return malformed(); }
    auto days = positive_days(*e, "Days", "Expiration");
    if (!days) { return days.error(); }
    rule.expiration_days = *days;
    if (auto date = e->text("Date"); !date) {
      return date.error();
    } else if (*date) {
      auto seconds = parse_midnight(**date);
      if (!seconds) { return seconds.error(); }
      rule.expiration_date = *seconds;
    }
    if (auto marker = e->text("ExpiredObjectDeleteMarker"); !marker) {
      return marker.error();
    } else if (*marker) {
      auto b = parse_bool(**marker);
      if (!b) { return malformed(); }
      rule.expired_delete_markers = *b;
    }
  }
  if (auto nve = f->one("NoncurrentVersionExpiration"); !nve) {
    return nve.error();
  } else if (*nve) {
    auto e = Children::of(*nve, {"NoncurrentDays", "NewerNoncurrentVersions"});
    if (!e) { return e.error(); }
    if (e->has("NewerNoncurrentVersions")) { return invalid("NewerNoncurrentVersions is not supported"); }
    auto days = positive_days(*e, "NoncurrentDays", "NoncurrentVersionExpiration");
    if (!days) { return days.error(); }
    if (!*days) { return malformed(); }
    rule.noncurrent_days = *days;
  }
  if (auto abort = f->one("AbortIncompleteMultipartUpload"); !abort) {
    return abort.error();
  } else if (*abort) {
    auto e = Children::of(*abort, {"DaysAfterInitiation"});
    if (!e) { return e.error(); }
    auto days = positive_days(*e, "DaysAfterInitiation", "AbortIncompleteMultipartUpload");
    if (!days) { return days.error(); }
    if (!*days) { return malformed(); }
    rule.abort_upload_days = *days;
  }

  // Uploads and delete markers carry no tags, so a tag filter could never select them.
  if (!rule.tags.empty() && rule.expired_delete_markers) {
    return invalid("ExpiredObjectDeleteMarker cannot be specified with object tags");
  }
  if (!rule.tags.empty() && rule.abort_upload_days) { return invalid("AbortIncompleteMultipartUpload cannot be specified with Tags."); }
  if (!rule.expiration_days && !rule.expiration_date && !rule.expired_delete_markers && !rule.noncurrent_days &&
      !rule.abort_upload_days) {
    return invalid("At least one action needs to be specified in a rule");
  }
  return rule;
}

// --- access control policies ----------------------------------------------------------------------

enum class GranteeKind { user, group };
using Grant = std::tuple<GranteeKind, std::string, std::string>;  // kind, id or group URI, permission

// The grants each canned ACL stands for, besides the owner's FULL_CONTROL.
std::vector<std::pair<std::string_view, std::string_view>> canned_group_grants(std::string_view canned) {
  if (canned == "public-read") { return {{kAllUsers, "READ"}}; }
  if (canned == "public-read-write") { return {{kAllUsers, "READ"}, {kAllUsers, "WRITE"}}; }
  if (canned == "authenticated-read") { return {{kAuthenticatedUsers, "READ"}}; }
  return {};
}

Result<Grant> parse_grant(pugi::xml_node node) {
  auto g = Children::of(node, {"Grantee", "Permission"});
  if (!g) { return g.error(); }
  auto permission = g->required_text("Permission");
  if (!permission) { return permission.error(); }
  std::string_view perm = trim(*permission);
  if (perm != "FULL_CONTROL" && perm != "READ" && perm != "WRITE" && perm != "READ_ACP" && perm != "WRITE_ACP") {
    return malformed();
  }
  auto grantee = g->one("Grantee");
  if (!grantee) { return grantee.error(); }
  if (!*grantee) { return malformed(); }
  auto who = Children::of(*grantee, {"ID", "DisplayName", "URI", "EmailAddress"});
  if (!who) { return who.error(); }
  // xsi:type names the kind; the prefix is whatever the document bound the XSI namespace to.
  std::string_view type;
  for (pugi::xml_attribute a : grantee->attributes()) {
    std::string_view name = a.name();
    if (name == "type" || name.ends_with(":type")) { type = a.value(); }
  }
  if (type.empty()) { type = who->has("URI") ? "Group" : who->has("ID") ? "CanonicalUser" : "AmazonCustomerByEmail"; }
  if (type == "AmazonCustomerByEmail") {
    if (!who->has("EmailAddress")) { return malformed(); }
    return invalid(std::string(kAclNotCanned));
  }
  if (type == "CanonicalUser") {
    auto id = who->required_text("ID");
    if (!id || who->has("URI") || who->has("EmailAddress")) { return malformed(); }
    return Grant{GranteeKind::user, std::move(*id), std::string(perm)};
  }
  if (type == "Group") {
    auto uri = who->required_text("URI");
    if (!uri || who->has("ID") || who->has("EmailAddress")) { return malformed(); }
    return Grant{GranteeKind::group, std::string(trim(*uri)), std::string(perm)};
  }
  return malformed();
}

}  // namespace

// --- request bodies -----------------------------------------------------------------------------

Result<std::string> parse_create_bucket(std::string_view xml) {
  if (trim(xml).empty()) { return std::string(); }
  pugi::xml_document doc;
  auto root = parse_root(doc, xml, "CreateBucketConfiguration");
  if (!root) { return root.error(); }
  // Location and Bucket describe directory buckets, which Ciel has none of.
  auto f = Children::of(*root, {"LocationConstraint"});
  if (!f) { return f.error(); }
  auto location = f->text("LocationConstraint");
  if (!location) { return location.error(); }
  std::string out(trim(location->value_or("")));
  bool valid = out.size() <= 64 && std::all_of(out.begin(), out.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
  if (!valid) { return invalid("The specified location-constraint is not valid"); }
  return out;
}

Result<DeleteRequest> parse_delete(std::string_view xml) {
  pugi::xml_document doc;
  auto root = parse_root(doc, xml, "Delete");
  if (!root) { return root.error(); }
  auto f = Children::of(*root, {"Object", "Quiet"});
  if (!f) { return f.error(); }
  DeleteRequest req;
  auto quiet = f->text("Quiet");
  if (!quiet) { return quiet.error(); }
  if (*quiet) {
    auto b = parse_bool(**quiet);
    if (!b) { return malformed(); }
    req.quiet = *b;
  }
  std::vector<pugi::xml_node> objects = f->all("Object");
  if (objects.empty() || objects.size() > kMaxDeleteKeys) { return malformed(); }
  for (pugi::xml_node o : objects) {
    // ETag, LastModifiedTime and Size make the delete conditional (directory buckets only):
    // refused rather than ignored, which would delete what the client meant to keep.
    auto of = Children::of(o, {"Key", "VersionId"});
    if (!of) { return of.error(); }
    auto key = of->required_text("Key");
    if (!key) { return key.error(); }
    auto version = of->text("VersionId");
    if (!version) { return version.error(); }
    req.keys.push_back({std::move(*key), std::string(trim(version->value_or("")))});
  }
  return req;
}

Result<std::vector<CompletedPart>> parse_complete_multipart(std::string_view xml) {
  pugi::xml_document doc;
  auto root = parse_root(doc, xml, "CompleteMultipartUpload");
  if (!root) { return root.error(); }
  auto f = Children::of(*root, {"Part"});
  if (!f) { return f.error(); }
  std::vector<pugi::xml_node> parts = f->all("Part");
  if (parts.empty() || parts.size() > kMaxParts) { return malformed(); }
  std::vector<CompletedPart> out;
  out.reserve(parts.size());
  for (pugi::xml_node p : parts) {
    // The checksums SDKs add are the engine's to ignore: Ciel checks each part's MD5 on upload.
    auto pf = Children::of(p, {"PartNumber", "ETag", "ChecksumCRC32", "ChecksumCRC32C", "ChecksumCRC64NVME", "ChecksumSHA1",
                               "ChecksumSHA256"});
    if (!pf) { return pf.error(); }
    auto number = pf->required_text("PartNumber");
    if (!number) { return number.error(); }
    auto etag = pf->required_text("ETag");
    if (!etag) { return etag.error(); }
    auto n = parse_int(*number);
    if (!n) { return malformed(); }
    if (*n < 1 || static_cast<std::size_t>(*n) > kMaxParts) {
      return invalid("Part number must be an integer between 1 and 10000, inclusive");
    }
    std::string_view e = trim(*etag);
    if (e.size() >= 2 && e.front() == '"' && e.back() == '"') { e = e.substr(1, e.size() - 2); }
    out.push_back(CompletedPart{*n, std::string(e)});
  }
  return out;
}

Result<std::string> parse_versioning(std::string_view xml) {
  pugi::xml_document doc;
  auto root = parse_root(doc, xml, "VersioningConfiguration");
  if (!root) { return root.error(); }
  auto f = Children::of(*root, {"Status", "MfaDelete"});
  if (!f) { return f.error(); }
  auto mfa = f->text("MfaDelete");
  if (!mfa) { return mfa.error(); }
  if (*mfa && trim(**mfa) != "Enabled" && trim(**mfa) != "Disabled") { return malformed(); }
  auto status = f->required_text("Status");
  if (!status) { return status.error(); }
  std::string_view s = trim(*status);
  if (s != "Enabled" && s != "Suspended") { return malformed(); }
  return std::string(s);
}

Result<Metadata> parse_tagging(std::string_view xml, std::size_t max_tags) {
  pugi::xml_document doc;
  auto root = parse_root(doc, xml, "Tagging");
  if (!root) { return root.error(); }
  auto f = Children::of(*root, {"TagSet"});
  if (!f) { return f.error(); }
  auto set = f->one("TagSet");
  if (!set) { return set.error(); }
  if (!*set) { return malformed(); }
  auto tags = Children::of(*set, {"Tag"});
  if (!tags) { return tags.error(); }
  if (tags->size() > max_tags) { return invalid(too_many_tags(max_tags)); }
  Metadata out;
  for (pugi::xml_node tag : tags->all("Tag")) {
    auto t = parse_tag(tag);
    if (!t) { return t.error(); }
    if (!out.insert(std::move(*t)).second) { return invalid(std::string(kDuplicateTagKey)); }
  }
  return out;
}

Result<Metadata> parse_tagging_header(std::string_view header) {
  static constexpr std::string_view kBadHeader =
      "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.";
  Metadata out;
  std::size_t count = 0;
  std::size_t start = 0;
  while (start <= header.size()) {
    std::size_t end = header.find('&', start);
    if (end == std::string_view::npos) { end = header.size(); }
    std::string_view item = header.substr(start, end - start);
    start = end + 1;
    if (item.empty()) { continue; }
    std::size_t eq = item.find('=');
    auto key = http::percent_decode(item.substr(0, eq), true);
    auto value = http::percent_decode(eq == std::string_view::npos ? std::string_view() : item.substr(eq + 1), true);
    if (!key || !value || !http::valid_utf8(*key) || !http::valid_utf8(*value)) { return invalid(std::string(kBadHeader)); }
    if (auto st = check_tag(*key, *value); !st) { return st.error(); }
    if (++count > kMaxObjectTags) { return invalid(too_many_tags(kMaxObjectTags)); }
    if (!out.emplace(std::move(*key), std::move(*value)).second) { return invalid(std::string(kBadHeader)); }
  }
  return out;
}

Result<std::vector<CorsRule>> parse_cors(std::string_view xml) {
  pugi::xml_document doc;
  auto root = parse_root(doc, xml, "CORSConfiguration");
  if (!root) { return root.error(); }
  auto f = Children::of(*root, {"CORSRule"});
  if (!f) { return f.error(); }
  std::vector<pugi::xml_node> nodes = f->all("CORSRule");
  if (nodes.empty() || nodes.size() > kMaxCorsRules) { return malformed(); }
  std::vector<CorsRule> rules;
  for (pugi::xml_node node : nodes) {
    auto r = Children::of(node, {"ID", "AllowedOrigin", "AllowedMethod", "AllowedHeader", "ExposeHeader", "MaxAgeSeconds"});
    if (!r) { return r.error(); }
    CorsRule rule;
    auto id = r->text("ID");
    if (!id) { return id.error(); }
    if (*id) {
      if (char_count(**id) > kMaxRuleIdChars) { return malformed(); }
      rule.id = std::move(**id);
    }
    auto texts = [&](std::string_view name, std::vector<std::string>& out) -> Status {
      for (pugi::xml_node n : r->all(name)) {
        auto t = leaf_text(n);
        if (!t) { return malformed(); }
        out.push_back(std::move(*t));
      }
      return {};
    };
    for (auto [name, list] : {std::pair{"AllowedOrigin", &rule.allowed_origins}, std::pair{"AllowedMethod", &rule.allowed_methods},
                              std::pair{"AllowedHeader", &rule.allowed_headers}, std::pair{"ExposeHeader", &rule.expose_headers}}) {
      if (auto st = texts(name, *list); !st) { return st.error(); }
    }
    if (rule.allowed_origins.empty() || rule.allowed_methods.empty()) { return malformed(); }
    for (const auto& m : rule.allowed_methods) {
      if (m != "GET" && m != "PUT" && m != "POST" && m != "DELETE" && m != "HEAD") {
        return invalid("Found unsupported HTTP method in CORS config. Unsupported method is " + m);
      }
    }
    for (const auto& o : rule.allowed_origins) {
      if (std::count(o.begin(), o.end(), '*') > 1) { return invalid("AllowedOrigin \"" + o + "\" can not have more than one wildcard."); }
    }
    for (const auto& h : rule.allowed_headers) {
      if (std::count(h.begin(), h.end(), '*') > 1) { return invalid("AllowedHeader \"" + h + "\" can not have more than one wildcard."); }
    }
    auto max_age = r->text("MaxAgeSeconds");
    if (!max_age) { return max_age.error(); }
    if (*max_age) {
      rule.max_age_seconds = parse_int(**max_age);
      if (!rule.max_age_seconds) { return malformed(); }
    }
    rules.push_back(std::move(rule));
  }
  return rules;
}

std::string render_cors(const std::vector<CorsRule>& rules) {
  XmlWriter w("CORSConfiguration");
  for (const auto& rule : rules) {
    w.open("CORSRule");
    if (!rule.id.empty()) { w.leaf("ID", rule.id); }
    for (const auto& h : rule.allowed_headers) { w.leaf("AllowedHeader", h); }
    for (const auto& m : rule.allowed_methods) { w.leaf("AllowedMethod", m); }
    for (const auto& o : rule.allowed_origins) { w.leaf("AllowedOrigin", o); }
    for (const auto& h : rule.expose_headers) { w.leaf("ExposeHeader", h); }
    if (rule.max_age_seconds) { w.leaf("MaxAgeSeconds", static_cast<std::uint64_t>(std::max(*rule.max_age_seconds, 0))); }
    w.close();
  }
  return w.finish();
}

Result<std::vector<LifecycleRule>> parse_lifecycle(std::string_view xml) {
  pugi::xml_document doc;
  auto root = parse_root(doc, xml, "LifecycleConfiguration");
  if (!root) { return root.error(); }
  auto f = Children::of(*root, {"Rule"});
  if (!f) { return f.error(); }
  std::vector<pugi::xml_node> nodes = f->all("Rule");
  if (nodes.empty() || nodes.size() > kMaxLifecycleRules) { return malformed(); }
  std::vector<LifecycleRule> rules;
  std::set<std::string> ids;
  for (pugi::xml_node node : nodes) {
    auto rule = parse_lifecycle_rule(node);
    if (!rule) { return rule.error(); }
    if (!rule->id.empty() && !ids.insert(rule->id).second) {
      return invalid("Rule ID must be unique. Found same ID for more than one rule");
    }
    rules.push_back(std::move(*rule));
  }
  return rules;
}

std::string render_lifecycle(const std::vector<LifecycleRule>& rules) {
  XmlWriter w("LifecycleConfiguration");
  for (const auto& rule : rules) {
    w.open("Rule");
    if (!rule.id.empty()) { w.leaf("ID", rule.id); }
    // Filter in its smallest form: Prefix alone, one Tag alone, or And.
    w.open("Filter");
    if (rule.tags.empty()) {
      w.leaf("Prefix", rule.prefix);
    } else if (rule.tags.size() == 1 && rule.prefix.empty()) {
      w.open("Tag");
      w.leaf("Key", rule.tags.begin()->first);
      w.leaf("Value", rule.tags.begin()->second);
      w.close();
    } else {
      w.open("And");
      if (!rule.prefix.empty()) { w.leaf("Prefix", rule.prefix); }
      for (const auto& [k, v] : rule.tags) {
        w.open("Tag");
        w.leaf("Key", k);
        w.leaf("Value", v);
        w.close();
      }
      w.close();
    }
    w.close();
    w.leaf("Status", rule.enabled ? "Enabled" : "Disabled");
    if (rule.expiration_days || rule.expiration_date || rule.expired_delete_markers) {
      w.open("Expiration");
      if (rule.expiration_days) { w.leaf("Days", static_cast<std::uint64_t>(std::max(*rule.expiration_days, 0))); }
      if (rule.expiration_date) { w.leaf("Date", format_midnight(*rule.expiration_date)); }
      if (rule.expired_delete_markers) { w.leaf_bool("ExpiredObjectDeleteMarker", true); }
      w.close();
    }
    if (rule.noncurrent_days) {
      w.open("NoncurrentVersionExpiration");
      w.leaf("NoncurrentDays", static_cast<std::uint64_t>(std::max(*rule.noncurrent_days, 0)));
      w.close();
    }
    if (rule.abort_upload_days) {
      w.open("AbortIncompleteMultipartUpload");
      w.leaf("DaysAfterInitiation", static_cast<std::uint64_t>(std::max(*rule.abort_upload_days, 0)));
      w.close();
    }
    w.close();
  }
  return w.finish();
}

Result<std::string> parse_access_control_policy(std::string_view xml, std::string_view owner_id) {
  pugi::xml_document doc;
  auto root = parse_root(doc, xml, "AccessControlPolicy");
  if (!root) { return root.error(); }
  auto f = Children::of(*root, {"Owner", "AccessControlList"});
  if (!f) { return f.error(); }
  if (auto owner = f->one("Owner"); !owner) {
    return owner.error();
  } else if (*owner) {
    auto o = Children::of(*owner, {"ID", "DisplayName"});
    if (!o) { return o.error(); }
    auto id = o->required_text("ID");
    if (!id) { return id.error(); }
    if (*id != owner_id) { return invalid("Invalid id"); }
  }
  auto acl = f->one("AccessControlList");
  if (!acl) { return acl.error(); }
  if (!*acl) { return malformed(); }
  auto grants = Children::of(*acl, {"Grant"});
  if (!grants) { return grants.error(); }
  if (grants->size() > kMaxGrants) { return malformed(); }
  std::set<Grant> got;
  for (pugi::xml_node g : grants->all("Grant")) {
    auto grant = parse_grant(g);
    if (!grant) { return grant.error(); }
    got.insert(std::move(*grant));
  }
  for (std::string_view canned : {"private", "public-read", "public-read-write", "authenticated-read"}) {
    std::set<Grant> want{{GranteeKind::user, std::string(owner_id), "FULL_CONTROL"}};
    for (auto [uri, perm] : canned_group_grants(canned)) { want.insert({GranteeKind::group, std::string(uri), std::string(perm)}); }
    if (got == want) { return std::string(canned); }
  }
  return invalid(std::string(kAclNotCanned));
}

std::string render_access_control_policy(std::string_view canned, std::string_view owner_id, std::string_view owner_name) {
  // Written by hand: Grantee carries attributes, which XmlWriter has no use for elsewhere.
  auto grantee = [](std::string_view type) {
    return "<Grant><Grantee xmlns:xsi=\"" + std::string(kXsiNamespace) + "\" xsi:type=\"" + std::string(type) + "\">";
  };
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<AccessControlPolicy xmlns=\"" + std::string(kS3Namespace) + "\">";
  std::string owner = "<ID>" + xml_escape(owner_id) + "</ID><DisplayName>" + xml_escape(owner_name) + "</DisplayName>";
  out += "<Owner>" + owner + "</Owner><AccessControlList>";
  out += grantee("CanonicalUser") + owner + "</Grantee><Permission>FULL_CONTROL</Permission></Grant>";
  for (auto [uri, perm] : canned_group_grants(canned)) {
    out += grantee("Group") + "<URI>" + std::string(uri) + "</URI></Grantee><Permission>" + std::string(perm) + "</Permission></Grant>";
  }
  out += "</AccessControlList></AccessControlPolicy>";
  return out;
}

// --- responses ------------------------------------------------------------------------------------

XmlWriter::XmlWriter(std::string_view root, bool with_namespace) {
  out_ = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<";
  out_ += root;
  if (with_namespace) {
    out_ += " xmlns=\"";
    out_ += kS3Namespace;
    out_ += '"';
  }
  out_ += '>';
  open_.emplace_back(root);
}

void XmlWriter::open(std::string_view name) {
  CIEL_ASSERT(!open_.empty());
  out_ += '<';
  out_ += name;
  out_ += '>';
  open_.emplace_back(name);
}

void XmlWriter::close() {
  CIEL_ASSERT(!open_.empty());
  if (open_.empty()) { return; }
  out_ += "</";
  out_ += open_.back();
  out_ += '>';
  open_.pop_back();
}

void XmlWriter::leaf(std::string_view name, std::string_view text) {
  CIEL_ASSERT(!open_.empty());
  out_ += '<';
  out_ += name;
  out_ += '>';
  out_ += xml_escape(text);
  out_ += "</";
  out_ += name;
  out_ += '>';
}

void XmlWriter::leaf(std::string_view name, std::uint64_t value) { leaf(name, std::string_view(std::to_string(value))); }

void XmlWriter::leaf_bool(std::string_view name, bool value) { leaf(name, value ? std::string_view("true") : std::string_view("false")); }

std::string XmlWriter::finish() {
  while (!open_.empty()) { close(); }
  return std::move(out_);
}

std::string xml_escape(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    char c = text[i];
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        if (static_cast<unsigned char>(c) >= 0x80) {
          // Valid UTF-8 goes out as it is; a byte that starts no valid sequence becomes U+FFFD so
          // the document stays UTF-8.
          std::size_t n = utf8_sequence(text, i);
          if (n == 0) {
            out += "\xEF\xBF\xBD";
            ++i;
          } else {
            out.append(text.substr(i, n));
            i += n;
          }
          continue;
        }
        // Control characters as references, as S3 writes them (XML 1.0 has no way to carry
        // them; botocore and most readers decode them anyway). \r too: a parser turns a raw
        // \r into \n, so a key holding one would not come back as it was.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n') {
          out += "&#x";
          if (c >= 0x10) { out += kHex[c >> 4]; }
          out += kHex[c & 0xF];
          out += ';';
        } else {
          out += c;
        }
    }
    ++i;
  }
  return out;
}

}  // namespace ciel::object::s3
