// Keystone v3 request-body parsing: JSON text to the identity service's inputs.
#include "identity/keystone/parse.h"

#include <utility>

#include "core/time.h"

namespace ciel::identity::keystone {

Result<json::object> parse_json_body(std::string_view body) {
  if (body.empty()) { return make_error(Errc::invalid_argument, "Expecting a JSON body."); }
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec) { return make_error(Errc::invalid_argument, "Malformed JSON in the request body: " + ec.message() + "."); }
  if (!v.is_object()) { return make_error(Errc::invalid_argument, "The request body must be a JSON object."); }
  return std::move(v.as_object());
}

Error invalid_field(std::string_view key, std::string_view why) {
  return make_error(Errc::invalid_argument, "Invalid input for field '" + std::string(key) + "': " + std::string(why));
}

Result<json::object> member_object(const json::object& body, std::string_view key) {
  auto it = body.find(key);
  if (it == body.end()) { return make_error(Errc::invalid_argument, "'" + std::string(key) + "' is a required property"); }
  if (!it->value().is_object()) { return invalid_field(key, "expected an object"); }
  return it->value().as_object();
}

Result<std::optional<std::string>> opt_string(const json::object& o, std::string_view key, bool nullable) {
  auto it = o.find(key);
  if (it == o.end()) { return std::optional<std::string>{}; }
  if (it->value().is_null() && nullable) { return std::optional<std::string>{std::string()}; }
  if (!it->value().is_string()) { return invalid_field(key, "expected a string"); }
  return std::optional<std::string>{std::string(it->value().as_string())};
}

Result<std::optional<bool>> opt_bool(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end()) { return std::optional<bool>{}; }
  if (!it->value().is_bool()) { return invalid_field(key, "expected a boolean"); }
  return std::optional<bool>{it->value().as_bool()};
}

Result<std::optional<std::vector<std::string>>> opt_string_list(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end()) { return std::optional<std::vector<std::string>>{}; }
  if (!it->value().is_array()) { return invalid_field(key, "expected an array of strings"); }
  std::vector<std::string> out;
  for (const auto& e : it->value().as_array()) {
    if (!e.is_string()) { return invalid_field(key, "expected an array of strings"); }
    out.emplace_back(e.as_string());
  }
  return std::optional<std::vector<std::string>>{std::move(out)};
}

Result<std::optional<json::object>> opt_object(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) { return std::optional<json::object>{}; }
  if (!it->value().is_object()) { return invalid_field(key, "expected an object"); }
  return std::optional<json::object>{it->value().as_object()};
}

namespace {

Error missing(std::string_view what) { return make_error(Errc::invalid_argument, "'" + std::string(what) + "' is a required property"); }

// {"id"} or {"name"} of a domain inside a user or project reference.
Status parse_domain_ref(const json::object& parent, std::string& id, std::string& name) {
  auto dom = opt_object(parent, "domain");
  if (!dom) { return dom.error(); }
  if (!*dom) { return {}; }
  auto i = opt_string(**dom, "id");
  if (!i) { return i.error(); }
  auto n = opt_string(**dom, "name");
  if (!n) { return n.error(); }
  if (!*i && !*n) { return make_error(Errc::invalid_argument, "A domain needs an id or a name."); }
  id = i->value_or("");
  name = n->value_or("");
  return {};
}

Status parse_user_ref(const json::object& user, AuthRequest& out) {
  auto id = opt_string(user, "id");
  if (!id) { return id.error(); }
  auto name = opt_string(user, "name");
  if (!name) { return name.error(); }
  out.user_id = id->value_or("");
  out.user_name = name->value_or("");
  if (auto st = parse_domain_ref(user, out.user_domain_id, out.user_domain_name); !st) { return st; }
  if (out.user_id.empty() && out.user_name.empty()) { return make_error(Errc::invalid_argument, "A user needs an id or a name."); }
  if (out.user_id.empty() && out.user_domain_id.empty() && out.user_domain_name.empty()) {
    return make_error(Errc::invalid_argument, "A user given by name needs its domain.");
  }
  return {};
}

}  // namespace

Result<AuthRequest> parse_auth(const json::object& body) {
  AuthRequest out;
  auto auth = member_object(body, "auth");
  if (!auth) { return auth.error(); }
  auto identity = member_object(*auth, "identity");
  if (!identity) { return identity.error(); }
  auto methods = opt_string_list(*identity, "methods");
  if (!methods) { return methods.error(); }
  if (!*methods || (*methods)->empty()) { return missing("methods"); }
  out.methods = **methods;
  for (const auto& m : out.methods) {
    if (m == "password") {
      auto pw = member_object(*identity, "password");
      if (!pw) { return pw.error(); }
      auto user = member_object(*pw, "user");
      if (!user) { return user.error(); }
      if (auto st = parse_user_ref(*user, out); !st) { return st.error(); }
      auto secret = opt_string(*user, "password");
      if (!secret) { return secret.error(); }
      if (!*secret) { return missing("password"); }
      out.password = **secret;
    } else if (m == "token") {
      auto tok = member_object(*identity, "token");
      if (!tok) { return tok.error(); }
      auto id = opt_string(*tok, "id");
      if (!id) { return id.error(); }
      if (!*id) { return missing("id"); }
      out.token = **id;
    } else if (m == "application_credential") {
      auto ac = member_object(*identity, "application_credential");
      if (!ac) { return ac.error(); }
      auto id = opt_string(*ac, "id");
      if (!id) { return id.error(); }
      auto name = opt_string(*ac, "name");
      if (!name) { return name.error(); }
      auto secret = opt_string(*ac, "secret");
      if (!secret) { return secret.error(); }
      if (!*secret) { return missing("secret"); }
      out.app_cred_id = id->value_or("");
      out.app_cred_name = name->value_or("");
      out.app_cred_secret = **secret;
      if (out.app_cred_id.empty()) {
        if (out.app_cred_name.empty()) { return make_error(Errc::invalid_argument, "An application credential needs an id or a name."); }
        auto user = member_object(*ac, "user");
        if (!user) { return user.error(); }
        if (auto st = parse_user_ref(*user, out); !st) { return st.error(); }
      }
    } else {
      return make_error(Errc::invalid_argument, "Attempted to authenticate with an unsupported method: " + m + ".");
    }
  }
  auto scope_it = auth->find("scope");
  if (scope_it == auth->end() || scope_it->value().is_null()) { return out; }
  if (scope_it->value().is_string()) {
    if (scope_it->value().as_string() != "unscoped") { return invalid_field("scope", "expected an object or \"unscoped\""); }
    out.unscoped = true;
    return out;
  }
  if (!scope_it->value().is_object()) { return invalid_field("scope", "expected an object"); }
  const auto& scope = scope_it->value().as_object();
  if (auto p = opt_object(scope, "project"); !p) {
    return p.error();
  } else if (*p) {
    out.scope = AuthRequest::Scope::project;
    auto id = opt_string(**p, "id");
    if (!id) { return id.error(); }
    auto name = opt_string(**p, "name");
    if (!name) { return name.error(); }
    out.project_id = id->value_or("");
    out.project_name = name->value_or("");
    if (auto st = parse_domain_ref(**p, out.project_domain_id, out.project_domain_name); !st) { return st.error(); }
    if (out.project_id.empty() && (out.project_name.empty() || (out.project_domain_id.empty() && out.project_domain_name.empty()))) {
      return make_error(Errc::invalid_argument, "A project scope needs an id, or a name and a domain.");
    }
    return out;
  }
  if (auto d = opt_object(scope, "domain"); !d) {
    return d.error();
  } else if (*d) {
    out.scope = AuthRequest::Scope::domain;
    auto id = opt_string(**d, "id");
    if (!id) { return id.error(); }
    auto name = opt_string(**d, "name");
    if (!name) { return name.error(); }
    out.domain_id = id->value_or("");
    out.domain_name = name->value_or("");
    if (out.domain_id.empty() && out.domain_name.empty()) { return make_error(Errc::invalid_argument, "A domain scope needs an id or a name."); }
    return out;
  }
  if (scope.contains("system")) {
    out.scope = AuthRequest::Scope::system;
    return out;
  }
  if (scope.contains("OS-TRUST:trust")) { return make_error(Errc::invalid_argument, "Trusts are not supported."); }
  return make_error(Errc::invalid_argument, "The scope must name a project, a domain or the system.");
}

Result<UserInput> parse_user(const json::object& body) {
  auto o = member_object(body, "user");
  if (!o) { return o.error(); }
  UserInput in;
  for (auto [key, field] : {std::pair{"name", &in.name}, std::pair{"domain_id", &in.domain_id}, std::pair{"password", &in.password}}) {
    auto v = opt_string(*o, key);
    if (!v) { return v.error(); }
    *field = *v;
  }
  for (auto [key, field] : {std::pair{"default_project_id", &in.default_project_id}, std::pair{"description", &in.description},
                            std::pair{"email", &in.email}}) {
    auto v = opt_string(*o, key, true);
    if (!v) { return v.error(); }
    *field = *v;
  }
  auto enabled = opt_bool(*o, "enabled");
  if (!enabled) { return enabled.error(); }
  in.enabled = *enabled;
  return in;
}

Result<ProjectInput> parse_project(const json::object& body) {
  auto o = member_object(body, "project");
  if (!o) { return o.error(); }
  ProjectInput in;
  auto name = opt_string(*o, "name");
  if (!name) { return name.error(); }
  auto domain = opt_string(*o, "domain_id");
  if (!domain) { return domain.error(); }
  auto desc = opt_string(*o, "description", true);
  if (!desc) { return desc.error(); }
  auto parent = opt_string(*o, "parent_id", true);
  if (!parent) { return parent.error(); }
  auto enabled = opt_bool(*o, "enabled");
  if (!enabled) { return enabled.error(); }
  auto tags = opt_string_list(*o, "tags");
  if (!tags) { return tags.error(); }
  if (auto isd = opt_bool(*o, "is_domain"); !isd) {
    return isd.error();
  } else if (isd->value_or(false)) {
    return make_error(Errc::invalid_argument, "Projects acting as domains are not supported.");
  }
  in.name = *name;
  in.domain_id = *domain;
  in.description = *desc;
  in.parent_id = *parent;
  in.enabled = *enabled;
  in.tags = *tags;
  // A parent that is the domain itself means a top-level project.
  if (in.parent_id && in.domain_id && *in.parent_id == *in.domain_id) { in.parent_id.reset(); }
  return in;
}

Result<NamedInput> parse_domain(const json::object& body) {
  auto o = member_object(body, "domain");
  if (!o) { return o.error(); }
  NamedInput in;
  auto name = opt_string(*o, "name");
  if (!name) { return name.error(); }
  auto desc = opt_string(*o, "description", true);
  if (!desc) { return desc.error(); }
  auto enabled = opt_bool(*o, "enabled");
  if (!enabled) { return enabled.error(); }
  in.name = *name;
  in.description = *desc;
  in.enabled = *enabled;
  return in;
}

Result<NamedInput> parse_group(const json::object& body) {
  auto o = member_object(body, "group");
  if (!o) { return o.error(); }
  NamedInput in;
  auto name = opt_string(*o, "name");
  if (!name) { return name.error(); }
  auto domain = opt_string(*o, "domain_id");
  if (!domain) { return domain.error(); }
  auto desc = opt_string(*o, "description", true);
  if (!desc) { return desc.error(); }
  in.name = *name;
  in.domain_id = *domain;
  in.description = *desc;
  return in;
}

Result<NamedInput> parse_role(const json::object& body) {
  auto o = member_object(body, "role");
  if (!o) { return o.error(); }
  NamedInput in;
  auto name = opt_string(*o, "name");
  if (!name) { return name.error(); }
  auto desc = opt_string(*o, "description", true);
  if (!desc) { return desc.error(); }
  auto domain = opt_string(*o, "domain_id", true);
  if (!domain) { return domain.error(); }
  if (*domain && !(*domain)->empty()) { return make_error(Errc::invalid_argument, "Domain-specific roles are not supported."); }
  in.name = *name;
  in.description = *desc;
  return in;
}

Result<NamedInput> parse_service(const json::object& body) {
  auto o = member_object(body, "service");
  if (!o) { return o.error(); }
  NamedInput in;
  for (auto [key, field] : {std::pair{"type", &in.type}, std::pair{"name", &in.name}, std::pair{"description", &in.description}}) {
    auto v = opt_string(*o, key, std::string_view(key) == "description");
    if (!v) { return v.error(); }
    *field = *v;
  }
  auto enabled = opt_bool(*o, "enabled");
  if (!enabled) { return enabled.error(); }
  in.enabled = *enabled;
  return in;
}

Result<EndpointInput> parse_endpoint(const json::object& body) {
  auto o = member_object(body, "endpoint");
  if (!o) { return o.error(); }
  EndpointInput in;
  for (auto [key, field] : {std::pair{"service_id", &in.service_id}, std::pair{"interface", &in.interface},
                            std::pair{"region_id", &in.region_id}, std::pair{"url", &in.url}}) {
    auto v = opt_string(*o, key, std::string_view(key) == "region_id");
    if (!v) { return v.error(); }
    *field = *v;
  }
  if (!in.region_id) {
    auto v = opt_string(*o, "region", true);
    if (!v) { return v.error(); }
    in.region_id = *v;
  }
  auto enabled = opt_bool(*o, "enabled");
  if (!enabled) { return enabled.error(); }
  in.enabled = *enabled;
  return in;
}

Result<AppCredentialInput> parse_app_cred(const json::object& body, const Principal& me) {
  auto o = member_object(body, "application_credential");
  if (!o) { return o.error(); }
  AppCredentialInput in;
  auto name = opt_string(*o, "name");
  if (!name) { return name.error(); }
  if (!*name) { return make_error(Errc::invalid_argument, "'name' is a required property"); }
  in.name = **name;
  auto desc = opt_string(*o, "description", true);
  if (!desc) { return desc.error(); }
  in.description = desc->value_or("");
  auto secret = opt_string(*o, "secret", true);
  if (!secret) { return secret.error(); }
  in.secret = secret->value_or("");
  auto unrestricted = opt_bool(*o, "unrestricted");
  if (!unrestricted) { return unrestricted.error(); }
  in.unrestricted = unrestricted->value_or(false);
  auto expires = opt_string(*o, "expires_at", true);
  if (!expires) { return expires.error(); }
  if (*expires && !(*expires)->empty()) {
    auto t = parse_iso8601(**expires);
    if (!t) { return invalid_field("expires_at", "expected an ISO 8601 date"); }
    in.expires_at = unix_seconds(*t);
  }
  if (auto it = o->find("roles"); it != o->end() && !it->value().is_null()) {
    if (!it->value().is_array()) { return invalid_field("roles", "expected an array"); }
    std::vector<std::string> ids;
    for (const auto& e : it->value().as_array()) {
      if (!e.is_object()) { return invalid_field("roles", "expected objects with an id or a name"); }
      auto id = opt_string(e.as_object(), "id");
      if (!id) { return id.error(); }
      auto rname = opt_string(e.as_object(), "name");
      if (!rname) { return rname.error(); }
      std::string rid = id->value_or("");
      if (rid.empty() && *rname) {
        for (const auto& r : me.roles) {
          if (r.name == **rname) { rid = r.id; }
        }
        if (rid.empty()) { return make_error(Errc::forbidden, "Cannot grant a role the user does not hold on the project: " + **rname + "."); }
      }
      if (rid.empty()) { return invalid_field("roles", "expected objects with an id or a name"); }
      ids.push_back(rid);
    }
    in.role_ids = std::move(ids);
  }
  return in;
}

}  // namespace ciel::identity::keystone
