// box/dav/collab_parse.h: the request bodies and query strings of the box's collaboration calls
// (Nextcloud's comments, system tags and unified search). Boost.JSON stays in collab_parse.cc.
// Parsers refuse with Errc::invalid_argument and a message for the client, never throw, and are
// fuzzed (tests/fuzz/box_collab_fuzz.cc) with the REPORT bodies of xml.h.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace ciel::box::dav {

// POST /remote.php/dav/comments/files/<id>: {"actorType":"users","verb":"comment","message":"..."}.
// actorType and verb may be left out; when present they must be these. The message's length is
// the engine's to judge (it answers 413 past 1,000 characters).
struct CommentInput {
  std::string message;
};
Result<CommentInput> parse_comment_json(std::string_view body);

// POST /remote.php/dav/systemtags/: {"name":"...","userVisible":true,"userAssignable":true}
// (both flags default to true; Nextcloud's clients also send canAssign, which is ignored).
struct TagInput {
  std::string name;
  bool user_visible = true;
  bool user_assignable = true;
};
Result<TagInput> parse_tag_json(std::string_view body);

// GET /ocs/v2.php/search/providers/{files,systemtags}/search?term=&limit=&cursor=: the term (1 to
// 255 bytes once trimmed), limit 1 to 100 (25 when absent), the cursor a previous page returned.
struct SearchQuery {
  std::string term;
  std::size_t limit = 25;
  std::optional<std::int64_t> cursor;
};
Result<SearchQuery> parse_search_query(std::optional<std::string_view> term, std::optional<std::string_view> limit,
                                       std::optional<std::string_view> cursor);

}  // namespace ciel::box::dav
