// Bucket policies: the subset policy.h describes, read with Boost.JSON. Every element outside
// it is refused by name: a policy that silently lost a Deny or a Condition would grant more
// than its author wrote.
#include "object/s3/policy.h"

#include <boost/json.hpp>
#include <boost/json/basic_parser_impl.hpp>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace ciel::object::s3 {
namespace {

namespace json = boost::json;

constexpr std::size_t kMaxPolicyBytes = 20 * 1024;  // S3's limit for a bucket policy
constexpr std::size_t kMaxProjectIdChars = 64;
constexpr std::string_view kAnyone = "*";

Error refuse(std::string message) { return make_error(Errc::invalid_argument, std::move(message)); }

// Boost.JSON keeps the last of repeated keys, so {"Effect": "Deny", "Effect": "Allow"} would
// read as Allow while its author (and GetBucketPolicy's reader) sees a Deny first. This
// handler for json::basic_parser only looks for repeated keys in any one object.
class RepeatedKeyFinder {
 public:
  static constexpr std::size_t max_object_size = std::size_t(-1);
  static constexpr std::size_t max_array_size = std::size_t(-1);
  static constexpr std::size_t max_key_size = std::size_t(-1);
  static constexpr std::size_t max_string_size = std::size_t(-1);
  using error_code = boost::system::error_code;

  const std::string& repeated() const { return repeated_; }

  bool on_object_begin(error_code&) {
    keys_.emplace_back();
    return true;
  }
  bool on_object_end(std::size_t, error_code&) {
    keys_.pop_back();
    return true;
  }
  bool on_key_part(json::string_view s, std::size_t, error_code&) {
    key_.append(s.data(), s.size());
    return true;
  }
  bool on_key(json::string_view s, std::size_t, error_code& ec) {
    key_.append(s.data(), s.size());
    if (!keys_.back().insert(key_).second) {
      repeated_ = key_;
      ec = json::error::syntax;  // stops the parser; the caller reports repeated()
      return false;
    }
    key_.clear();
    return true;
  }
  bool on_document_begin(error_code&) { return true; }
  bool on_document_end(error_code&) { return true; }
  bool on_array_begin(error_code&) { return true; }
  bool on_array_end(std::size_t, error_code&) { return true; }
  bool on_string_part(json::string_view, std::size_t, error_code&) { return true; }
  bool on_string(json::string_view, std::size_t, error_code&) { return true; }
  bool on_number_part(json::string_view, error_code&) { return true; }
  bool on_int64(std::int64_t, json::string_view, error_code&) { return true; }
  bool on_uint64(std::uint64_t, json::string_view, error_code&) { return true; }
  bool on_double(double, json::string_view, error_code&) { return true; }
  bool on_bool(bool, error_code&) { return true; }
  bool on_null(error_code&) { return true; }
  bool on_comment_part(json::string_view, error_code&) { return true; }
  bool on_comment(json::string_view, error_code&) { return true; }

 private:
  std::vector<std::set<std::string>> keys_;  // one set per open object
  std::string key_;
  std::string repeated_;
};

std::string quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

// What a statement allows, by resource kind. Bits of Access.
enum Access : unsigned { kRead = 1, kList = 2, kPut = 4, kDelete = 8 };

bool valid_project_id(std::string_view id) {
  return !id.empty() && id.size() <= kMaxProjectIdChars && std::all_of(id.begin(), id.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
         });
}

// A string or a non-empty array of strings, as policies write Action, Resource and AWS.
Result<std::vector<std::string_view>> string_list(const json::value& v, std::string_view element) {
  std::vector<std::string_view> out;
  if (const json::string* s = v.if_string()) {
    out.emplace_back(*s);
    return out;
  }
  const json::array* a = v.if_array();
  if (a == nullptr || a->empty()) { return refuse(std::string(element) + " must be a string or a non-empty list of strings"); }
  for (const json::value& item : *a) {
    const json::string* s = item.if_string();
    if (s == nullptr) { return refuse(std::string(element) + " must be a string or a non-empty list of strings"); }
    out.emplace_back(*s);
  }
  return out;
}

// Principal: "*" or {"AWS": "*" | "<project>" | "arn:aws:iam::<project>:root" | [...]}.
// Returns "*" or project ids.
Result<std::vector<std::string>> parse_principal(const json::value& v) {
  std::vector<std::string> out;
  if (const json::string* s = v.if_string()) {
    if (*s != kAnyone) { return refuse("The principal " + quoted(*s) + " is not supported: use \"*\" or {\"AWS\": ...}"); }
    out.emplace_back(kAnyone);
    return out;
  }
  const json::object* o = v.if_object();
  if (o == nullptr || o->empty()) { return refuse("Principal must be \"*\" or an object with an \"AWS\" entry"); }
  for (const auto& [key, value] : *o) {
    if (key != "AWS") { return refuse("The principal type " + quoted(key) + " is not supported: only \"AWS\" is"); }
    auto names = string_list(value, "Principal AWS");
    if (!names) { return names.error(); }
    for (std::string_view name : *names) {
      std::string_view id = name;
      constexpr std::string_view kArnPrefix = "arn:aws:iam::", kArnSuffix = ":root";
      if (id.size() > kArnPrefix.size() + kArnSuffix.size() && id.starts_with(kArnPrefix) && id.ends_with(kArnSuffix)) {
        id = id.substr(kArnPrefix.size(), id.size() - kArnPrefix.size() - kArnSuffix.size());
      }
      if (name == kAnyone || valid_project_id(id)) {
        out.emplace_back(name == kAnyone ? kAnyone : id);
      } else {
        return refuse("The principal " + quoted(name) +
                      " is not supported: use \"*\", a project id or \"arn:aws:iam::<project_id>:root\"");
      }
    }
  }
  return out;
}

// Action: the S3 actions Ciel maps to container ACLs; IAM compares action names ignoring case.
Result<unsigned> parse_actions(const json::value& v) {
  auto names = string_list(v, "Action");
  if (!names) { return names.error(); }
  unsigned out = 0;
  for (std::string_view name : *names) {
    std::string lower(name);
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (lower == "s3:getobject") {
      out |= kRead;
    } else if (lower == "s3:listbucket") {
      out |= kList;
    } else if (lower == "s3:putobject") {
      out |= kPut;
    } else if (lower == "s3:deleteobject") {
      out |= kDelete;
    } else if (lower == "s3:*") {
      out |= kRead | kList | kPut | kDelete;
    } else {
      return refuse("The action " + quoted(name) +
                    " is not supported: use s3:GetObject, s3:ListBucket, s3:PutObject, s3:DeleteObject or s3:*");
    }
  }
  return out;
}

struct Resources {
  bool bucket = false;   // arn:aws:s3:::bucket (ListBucket)
  bool objects = false;  // arn:aws:s3:::bucket/* (GetObject, PutObject, DeleteObject)
};

Result<Resources> parse_resources(const json::value& v, std::string_view bucket) {
  auto names = string_list(v, "Resource");
  if (!names) { return names.error(); }
  std::string bucket_arn = "arn:aws:s3:::" + std::string(bucket);
  Resources out;
  for (std::string_view name : *names) {
    if (name == bucket_arn) {
      out.bucket = true;
    } else if (name == bucket_arn + "/*") {
      out.objects = true;
    } else {
      return refuse("The resource " + quoted(name) + " is not supported: use " + quoted(bucket_arn) + " or " +
                    quoted(bucket_arn + "/*"));
    }
  }
  return out;
}

// One statement: adds what it allows to `grants` (principal -> Access bits).
Status parse_statement(const json::value& v, std::string_view bucket, std::map<std::string, unsigned>& grants) {
  const json::object* st = v.if_object();
  if (st == nullptr) { return refuse("Each Statement must be an object"); }
  const json::value* principal = nullptr;
  const json::value* action = nullptr;
  const json::value* resource = nullptr;
  bool allow = false;
  for (const auto& [key, value] : *st) {
    if (key == "Sid") {
      if (!value.is_string()) { return refuse("Sid must be a string"); }
    } else if (key == "Effect") {
      const json::string* e = value.if_string();
      if (e == nullptr || (*e != "Allow" && *e != "Deny")) { return refuse("Effect must be \"Allow\" or \"Deny\""); }
      if (*e == "Deny") { return refuse("The policy Effect \"Deny\" is not supported: Ciel's grants only allow"); }
      allow = true;
    } else if (key == "Principal") {
      principal = &value;
    } else if (key == "Action") {
      action = &value;
    } else if (key == "Resource") {
      resource = &value;
    } else {
      // NotPrincipal, NotAction, NotResource, Condition and anything IAM may add later.
      return refuse("The policy element " + quoted(key) + " is not supported");
    }
  }
  if (!allow) { return refuse("Missing required field Effect"); }
  if (principal == nullptr) { return refuse("Missing required field Principal"); }
  if (action == nullptr) { return refuse("Missing required field Action"); }
  if (resource == nullptr) { return refuse("Missing required field Resource"); }
  auto principals = parse_principal(*principal);
  if (!principals) { return principals.error(); }
  auto actions = parse_actions(*action);
  if (!actions) { return actions.error(); }
  auto resources = parse_resources(*resource, bucket);
  if (!resources) { return resources.error(); }

  // What applies to the resources named; S3 refuses a statement naming an action none of its
  // resources can take.
  unsigned applies = (resources->bucket ? kList : 0u) | (resources->objects ? kRead | kPut | kDelete : 0u);
  bool explicit_actions = *actions != (kRead | kList | kPut | kDelete);
  if ((explicit_actions && (*actions & ~applies) != 0) || (*actions & applies) == 0) {
    return refuse("Action does not apply to any resource(s) in statement");
  }
  for (const auto& p : *principals) { grants[p] |= *actions & applies; }
  return {};
}

}  // namespace

Result<PolicyGrants> parse_bucket_policy(std::string_view text, std::string_view bucket) {
  if (text.size() > kMaxPolicyBytes) { return refuse("Policy exceeds the maximum allowed document size"); }
  boost::system::error_code ec;
  json::value doc = json::parse(text, ec);
  const json::object* root = ec ? nullptr : doc.if_object();
  if (root == nullptr) { return refuse("Policies must be valid JSON and the first byte must be '{'"); }
  json::basic_parser<RepeatedKeyFinder> finder(json::parse_options{});
  finder.write_some(false, text.data(), text.size(), ec);
  if (!finder.handler().repeated().empty()) {
    return refuse("The policy repeats the element " + quoted(finder.handler().repeated()) + " in one object");
  }
  if (ec) { return refuse("Policies must be valid JSON and the first byte must be '{'"); }  // json::parse accepted it: not expected

  std::map<std::string, unsigned> grants;
  bool has_statement = false;
  for (const auto& [key, value] : *root) {
    if (key == "Version") {
      const json::string* v = value.if_string();
      if (v == nullptr || (*v != "2012-10-17" && *v != "2008-10-17")) {
        return refuse("The policy Version must be \"2012-10-17\" or \"2008-10-17\"");
      }
    } else if (key == "Id") {
      if (!value.is_string()) { return refuse("Id must be a string"); }
    } else if (key == "Statement") {
      has_statement = true;
      if (const json::array* list = value.if_array()) {
        if (list->empty()) { return refuse("Statement must not be empty"); }
        for (const json::value& s : *list) {
          if (auto st = parse_statement(s, bucket, grants); !st) { return st.error(); }
        }
      } else if (auto st = parse_statement(value, bucket, grants); !st) {
        return st.error();
      }
    } else {
      return refuse("The policy element " + quoted(key) + " is not supported");
    }
  }
  if (!has_statement) { return refuse("Missing required field Statement"); }

  // Ciel's write access covers both: granting one would silently grant the other.
  for (const auto& [who, access] : grants) {
    if (((access & kPut) != 0) != ((access & kDelete) != 0)) {
      return refuse("s3:PutObject and s3:DeleteObject can only be granted together (to " + quoted(who) + ")");
    }
  }

  PolicyGrants out;
  for (const auto& [who, access] : grants) {  // a std::map: ids come out sorted and unique
    if (who == kAnyone) {
      out.anyone_read = (access & kRead) != 0;
      out.anyone_list = (access & kList) != 0;
      out.anyone_write = (access & kPut) != 0;
      continue;
    }
    if ((access & kRead) != 0) { out.read_projects.push_back(who); }
    if ((access & kList) != 0) { out.list_projects.push_back(who); }
    if ((access & kPut) != 0) { out.write_projects.push_back(who); }
  }
  return out;
}

}  // namespace ciel::object::s3
