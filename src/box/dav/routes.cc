#include "box/dav/common.h"

namespace ciel::box::dav {

void add_routes(http::Router& router, BoxService& box, CollabService& collab, identity::IdentityService& identity, Options options) {
  // Route handlers keep a reference to the Deps: it lives as long as the router.
  static std::vector<std::unique_ptr<Deps>> kept;
  kept.push_back(std::make_unique<Deps>(Deps{box, collab, identity, std::move(options)}));
  const Deps& deps = *kept.back();
  add_file_routes(router, deps);
  add_upload_routes(router, deps);
  add_version_routes(router, deps);
  add_ocs_routes(router, deps);
  add_login_routes(router, deps);
  add_quota_routes(router, deps);
  add_link_routes(router, deps);
  add_share_routes(router, deps);
  add_link_page_routes(router, deps);
  add_activity_routes(router, deps);
  add_collab_routes(router, deps);
}

}  // namespace ciel::box::dav
