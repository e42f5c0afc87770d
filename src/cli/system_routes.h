// cli/system_routes.h: routes every node serves whatever the services: /healthz, /metrics,
// and the built web console's static files.
#pragma once
#include <string>
#include <string_view>

#include "core/http/router.h"

namespace ciel::cli {

void add_system_routes(http::Router& router);
// Serves files under `root` at "/" (index.html) and "/assets/...". When `json_root` is set, a
// GET "/" that asks for JSON and not HTML (API clients' version discovery) goes to it instead.
void add_static_routes(http::Router& router, std::string root, http::Handler json_root = {});
// The URL ("/assets/<hashed name>") of the script Vite built from `source` (a key of the build's
// manifest, <root>/.vite/manifest.json, e.g. "src/linkupload.ts"); empty when there is none.
std::string asset_url(const std::string& root, std::string_view source);

}  // namespace ciel::cli
