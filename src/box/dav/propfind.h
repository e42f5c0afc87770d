// box/dav/propfind.h: the properties of a file or folder, live (computed from the tree: etags,
// sizes, ids, permissions, checksums, quota, locks) and dead (kept for clients by PROPPATCH),
// rendered into PROPFIND's 207 multistatus.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <string>
#include <vector>

#include "box/dav/common.h"

namespace ciel::box::dav {

// Live properties PROPPATCH may not change (403 cannot-modify-protected-property).
bool is_protected(const PropName& name);
// "<d:getetag/>", "<x:foo xmlns:x=\"urn:x\"/>", ...
std::string empty_element(const PropName& name);
// One DAV:activelock element.
std::string lock_xml(const Lock& lock, const Root& root);

// How a public link shows its nodes: its own oc:permissions, and nothing of the owner's box
// beyond the link (no quota, no locks: lockdiscovery is empty, no dead properties).
struct LinkView {
  std::string file_permissions, folder_permissions;
};

// The multistatus document for `node` and its `children` (empty for Depth 0); `user` owns them.
boost::asio::awaitable<Result<std::string>> render_propfind(const Deps& deps, const User& user, const Root& root,
                                                            const PropfindRequest& request, const Node& node,
                                                            const std::vector<Node>& children, const LinkView* link = nullptr);

// The multistatus document for a flat list of nodes (a REPORT's results), each with its path.
boost::asio::awaitable<Result<std::string>> render_nodes(const Deps& deps, const User& user, const Root& root,
                                                         const PropfindRequest& request, const std::vector<Node>& nodes);

}  // namespace ciel::box::dav
