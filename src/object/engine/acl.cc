#include "object/engine/acl.h"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <cctype>

#include "object/engine/json_text.h"

namespace ciel::object {
namespace {

namespace json = boost::json;

// Python's str.strip() for the characters an ASCII header can hold.
bool is_py_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r') || (c >= '\x1c' && c <= '\x1f'); }

std::string_view strip(std::string_view s) {
  while (!s.empty() && is_py_space(s.front())) { s.remove_prefix(1); }
  while (!s.empty() && is_py_space(s.back())) { s.remove_suffix(1); }
  return s;
}

Error invalid(std::string message) { return make_error(Errc::invalid_argument, std::move(message)); }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) { return false; }
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) { return false; }
  }
  return true;
}

bool iends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && iequals(s.substr(s.size() - suffix.size()), suffix);
}

// urlparse(referer).hostname: the host of "scheme://user@host:port/path" or "//host/path", lowercased.
std::string referer_host(std::string_view url) {
  std::string_view rest = url;
  std::size_t colon = url.find(':');
  if (colon != std::string_view::npos && colon > 0 && std::isalpha(static_cast<unsigned char>(url[0]))) {
    bool scheme = true;
    for (std::size_t i = 0; i < colon; ++i) {
      char c = url[i];
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.') {
        scheme = false;
        break;
      }
    }
    if (scheme) { rest = url.substr(colon + 1); }
  }
  if (!rest.starts_with("//")) { return {}; }
  rest.remove_prefix(2);
  std::string_view netloc = rest.substr(0, rest.find_first_of("/?#"));
  if (std::size_t at = netloc.rfind('@'); at != std::string_view::npos) { netloc.remove_prefix(at + 1); }
  std::string_view host;
  if (std::size_t br = netloc.find('['); br != std::string_view::npos) {
    std::string_view inside = netloc.substr(br + 1);
    host = inside.substr(0, inside.find(']'));
  } else {
    host = netloc.substr(0, netloc.find(':'));
  }
  std::string out(host);
  for (char& c : out) { c = static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }
  return out;
}

bool part_matches(std::string_view part, std::string_view id, std::string_view name) {
  if (part == "*") { return true; }
  return !part.empty() && ((!id.empty() && part == id) || (!name.empty() && part == name));
}

bool entry_matches(std::string_view entry, std::string_view project_id, std::string_view project_name,
                   std::string_view user_id, std::string_view user_name) {
  std::size_t colon = entry.find(':');
  if (colon == std::string_view::npos) {
    return !entry.empty() && entry != "*" && part_matches(entry, project_id, project_name);
  }
  return part_matches(entry.substr(0, colon), project_id, project_name) &&
         part_matches(entry.substr(colon + 1), user_id, user_name);
}

bool any_matches(const std::vector<std::string>& entries, std::string_view project_id, std::string_view project_name,
                 std::string_view user_id, std::string_view user_name) {
  for (const auto& e : entries) {
    if (entry_matches(e, project_id, project_name, user_id, user_name)) { return true; }
  }
  return false;
}

constexpr std::string_view kAccountKeys[] = {"admin", "read-write", "read-only"};

std::vector<std::string>* account_list(AccountAcl& acl, std::string_view key) {
  if (key == "admin") { return &acl.admin; }
  if (key == "read-write") { return &acl.read_write; }
  if (key == "read-only") { return &acl.read_only; }
  return nullptr;
}

void append_list(std::string& out, std::string_view key, const std::vector<std::string>& items) {
  if (items.empty()) { return; }
  if (out.size() > 1) { out.push_back(','); }
  append_json_ascii(out, key);
  out += ":[";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) { out.push_back(','); }
    append_json_ascii(out, items[i]);
  }
  out.push_back(']');
}

}  // namespace

Result<ContainerAcl> parse_container_acl(std::string_view header, bool write_acl) {
  ContainerAcl acl;
  std::size_t start = 0;
  while (start <= header.size()) {
    std::size_t end = header.find(',', start);
    if (end == std::string_view::npos) { end = header.size(); }
    std::string_view item = strip(header.substr(start, end - start));
    start = end + 1;
    if (item.empty()) { continue; }
    std::size_t colon = item.find(':');
    std::string_view first = strip(item.substr(0, colon == std::string_view::npos ? item.size() : colon));
    if (first.empty() || first.front() != '.') {
      acl.grants.emplace_back(item);
      continue;
    }
    if (colon == std::string_view::npos) {
      if (item == ".rlistings") {
        acl.listings = true;
        continue;
      }
      return invalid("Unknown designator " + py_repr(first) + " in ACL: " + py_repr(item));
    }
    if (first != ".r" && first != ".ref" && first != ".referer" && first != ".referrer") {
      return invalid("Unknown designator " + py_repr(first) + " in ACL: " + py_repr(item));
    }
    if (write_acl) { return invalid("Referrers not allowed in write ACL: " + py_repr(item)); }
    std::string_view second = strip(item.substr(colon + 1));
    ReferrerRule rule;
    if (!second.empty() && second.front() == '-') {
      rule.allow = false;
      second = strip(second.substr(1));
    }
    // "*.example.com" is the domain ".example.com". Swift strips one '*' and stores the rest, so
    // "**x" would be stored as ".r:*x" and "*-x" as ".r:-x", which mean something else when read
    // back; here the value is normalised until it reads back the same.
    while (!second.empty() && second != "*" && second.front() == '*') { second = strip(second.substr(1)); }
    if (rule.allow && !second.empty() && second.front() == '-') {
      rule.allow = false;
      second = strip(second.substr(1));
      while (!second.empty() && second != "*" && second.front() == '*') { second = strip(second.substr(1)); }
    }
    if (second.empty() || second == ".") {
      return invalid("No host/domain value after referrer designation in ACL: " + py_repr(item));
    }
    rule.host = std::string(second);
    acl.referrers.push_back(std::move(rule));
  }
  return acl;
}

std::string format_container_acl(const ContainerAcl& acl) {
  std::string out;
  auto add = [&out](std::string_view item) {
    if (!out.empty()) { out.push_back(','); }
    out += item;
  };
  for (const auto& r : acl.referrers) { add((r.allow ? ".r:" : ".r:-") + r.host); }
  if (acl.listings) { add(".rlistings"); }
  for (const auto& g : acl.grants) { add(g); }
  return out;
}

bool referrer_allowed(const ContainerAcl& acl, std::string_view referer_header) {
  if (acl.referrers.empty()) { return false; }
  std::string host = referer_host(referer_header);
  if (host.empty()) { host = "unknown"; }
  bool allow = false;
  for (const auto& r : acl.referrers) {
    bool match = iequals(r.host, host) || (r.host.starts_with('.') && iends_with(host, r.host));
    if (r.allow) {
      if (r.host == "*" || match) { allow = true; }
    } else if (match) {
      allow = false;
    }
  }
  return allow;
}

bool grants_user(const ContainerAcl& acl, std::string_view project_id, std::string_view project_name,
                 std::string_view user_id, std::string_view user_name) {
  return any_matches(acl.grants, project_id, project_name, user_id, user_name);
}

Result<AccountAcl> parse_account_acl(std::string_view header) {
  AccountAcl acl;
  if (header.empty()) { return acl; }
  boost::system::error_code ec;
  json::value v = json::parse(header, ec);
  if (ec || !v.is_object()) { return invalid("Syntax error in input (" + py_repr(header) + ")"); }
  const json::object& o = v.as_object();
  for (const auto& kv : o) {
    if (account_list(acl, kv.key()) == nullptr) { return invalid("Key " + json_ascii(kv.key()) + " not recognized"); }
  }
  for (std::string_view key : kAccountKeys) {
    auto it = o.find(key);
    if (it == o.end()) { continue; }
    if (!it->value().is_array()) { return invalid("Value for key " + json_ascii(key) + " must be a list"); }
    std::vector<std::string>& list = *account_list(acl, key);
    for (const auto& e : it->value().as_array()) {
      if (!e.is_string()) { return invalid("Elements of " + json_ascii(key) + " list must be strings"); }
      list.emplace_back(e.as_string());
    }
  }
  return acl;
}

std::string format_account_acl(const AccountAcl& acl) {
  std::string out = "{";
  append_list(out, "admin", acl.admin);
  append_list(out, "read-only", acl.read_only);
  append_list(out, "read-write", acl.read_write);
  out.push_back('}');
  return out;
}

AccountAccess account_access(const AccountAcl& acl, std::string_view project_id, std::string_view project_name,
                             std::string_view user_id, std::string_view user_name) {
  if (any_matches(acl.admin, project_id, project_name, user_id, user_name)) { return AccountAccess::admin; }
  if (any_matches(acl.read_write, project_id, project_name, user_id, user_name)) { return AccountAccess::read_write; }
  if (any_matches(acl.read_only, project_id, project_name, user_id, user_name)) { return AccountAccess::read_only; }
  return AccountAccess::none;
}

}  // namespace ciel::object
