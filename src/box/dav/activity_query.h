// box/dav/activity_query.h: the parameters of Nextcloud's Activity API v2 (activity_ocs.cc) read
// into a box::ActivityQuery. Pure; fuzzed by tests/fuzz/activity_query_fuzz.cc.
#pragma once
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "box/activity.h"
#include "core/result.h"

namespace ciel::box::dav {

// `filter` is the path's last segment (all, self, by, files, files_sharing, favorites, or
// "filter", which is all); `params` the decoded query (the first of a repeated name counts):
// since (an activity id, >= 0), limit (1 to kMaxActivityLimit, default 50), sort (asc or desc),
// object_type (files) with object_id (a file id, >= 1). Empty values are absent ones.
// Errc::not_found for an unknown filter, Errc::invalid_argument naming the bad parameter.
Result<ActivityQuery> parse_activity_query(std::string_view filter, const std::vector<std::pair<std::string, std::string>>& params);

}  // namespace ciel::box::dav
