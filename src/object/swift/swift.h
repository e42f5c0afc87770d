// object/swift/swift.h: the Swift v1 API over the object engine: /v1/AUTH_<project_id>/...,
// the v1 auth call (/auth/v1.0) and /info. Thin: handlers parse headers, call one engine
// method and render; the engine decides access, limits and versioning.
#pragma once
#include <string>

#include "core/http/router.h"

namespace ciel::identity {
class IdentityService;
}

namespace ciel::object {
class ObjectService;
}

namespace ciel::object::swift {

struct Options {
  std::string public_url;  // scheme://host:port the storage URLs are built on
};

// Registers every Swift route on `router` (add the "/v1", "/auth" and "/info" groups with
// error_renderer() first). The services must outlive the router.
void add_routes(http::Router& router, ObjectService& objects, identity::IdentityService& identity, const Options& options);

// Swift's error bodies: short plain-text (HTML-ish) documents with the status code.
http::Response error_renderer(http::Status status, std::string_view message, const http::Request& request);

}  // namespace ciel::object::swift
