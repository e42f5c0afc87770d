// identity/keystone/parse.h: the Keystone v3 request bodies, from JSON text to the identity
// service's inputs, with Keystone's validation messages (every failure is Errc::invalid_argument,
// except parse_app_cred naming a role the caller does not hold: Errc::forbidden).
// Pure functions over boost::json: no HTTP, store or service, so tests/fuzz can drive them.
#pragma once
#include <boost/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "identity/inputs.h"
#include "identity/principal.h"

namespace ciel::identity::keystone {

namespace json = boost::json;

// A request body as a JSON object; fails on an empty body, malformed JSON or a non-object.
Result<json::object> parse_json_body(std::string_view body);

// body[key] as an object; 400 when missing or of another type.
Result<json::object> member_object(const json::object& body, std::string_view key);
Result<std::optional<std::string>> opt_string(const json::object& o, std::string_view key, bool nullable = false);
Result<std::optional<bool>> opt_bool(const json::object& o, std::string_view key);
Result<std::optional<std::vector<std::string>>> opt_string_list(const json::object& o, std::string_view key);
Result<std::optional<json::object>> opt_object(const json::object& o, std::string_view key);
Error invalid_field(std::string_view key, std::string_view why);

// POST /v3/auth/tokens
Result<AuthRequest> parse_auth(const json::object& body);
// POST and PATCH /v3/users[/{id}]
Result<UserInput> parse_user(const json::object& body);
// POST and PATCH /v3/projects[/{id}]
Result<ProjectInput> parse_project(const json::object& body);
// POST and PATCH /v3/domains, /v3/groups, /v3/roles
Result<NamedInput> parse_domain(const json::object& body);
Result<NamedInput> parse_group(const json::object& body);
Result<NamedInput> parse_role(const json::object& body);
// POST and PATCH /v3/services, /v3/endpoints
Result<NamedInput> parse_service(const json::object& body);
Result<EndpointInput> parse_endpoint(const json::object& body);
// POST /v3/users/{id}/application_credentials; roles given by name resolve among `me.roles`.
Result<AppCredentialInput> parse_app_cred(const json::object& body, const Principal& me);

}  // namespace ciel::identity::keystone
