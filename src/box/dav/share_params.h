// box/dav/share_params.h: the parameters of Nextcloud's OCS Share API (shares_ocs.cc), read from
// the query string and a form or JSON body, and the values they carry. Pure; fuzzed by
// tests/fuzz/share_params_fuzz.cc.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

namespace ciel::box::dav {

// `query` first, then the body's fields (the body wins): a JSON object when `content_type` names
// JSON (strings as they are, booleans as "true"/"false", null as "", other values as their JSON
// text), a form otherwise. Errc::invalid_argument for a JSON body that is not an object.
Result<std::map<std::string, std::string>> parse_share_params(const std::vector<std::pair<std::string, std::string>>& query,
                                                              std::string_view body, std::string_view content_type);

// "2026-12-01" (a time of day may follow after ' ' or 'T') -> the instant a link with that expiry
// stops working: the end of that day, UTC. nullopt for anything else.
std::optional<std::int64_t> parse_expire_date(std::string_view text);
// The inverse for answers: "YYYY-MM-DD 00:00:00" of the day that ends at `expires_s`.
std::string expire_text(std::int64_t expires_s);

// A whole decimal int (no sign other than '-', no spaces); nullopt otherwise.
std::optional<int> parse_int(std::string_view s);

}  // namespace ciel::box::dav
