// box/collab.h: collaboration on box files, beside the tree: comments, favorites, tags, and
// search by name and by tag. Rows name nodes by id (the oc:fileid clients see) and live in tables
// of their own (component "box_collab" of the schema).
//
// Who may see a node: exactly who BoxService::node_by_id(user, id) answers for (the owner, and
// the recipients of a share of the node or of a folder above it). Every call that takes a node id asks it first
// and answers Errc::not_found when it refuses, so another user's file, a file in the trash and a
// purged file all look alike. Listings (favorites, a tag's files, search) ask it for each
// candidate, so they show only live nodes the caller may see, with their paths.
//
// Trash and purge: rows of a node in the trash stay (a restored file keeps its comments, tags and
// star) but are filtered out as above. Node ids are never reused, so rows of a purged node are
// unreachable at once; reap() deletes them later.
//
// Tags are per user: each user has their own vocabulary (Nextcloud's "system tags" are global;
// in Ciel a tag is its creator's), names unique per user after NFC. A user assigns their own tags
// to nodes they may see and sees only their own tags and assignments, so a tag never shows one
// user anything of another's.
//
// Comments belong to the file: whoever may see the file reads them; only their author edits or
// deletes them. A message has 1 to 1,000 characters (Unicode code points, Nextcloud's limit).
//
// Threads: thread-safe; SQL runs on the blocking pool.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "box/box.h"
#include "core/result.h"

namespace ciel::box {

inline constexpr std::size_t kMaxCommentChars = 1000;
inline constexpr std::size_t kMaxTagNameBytes = 255;
inline constexpr std::string_view kCommentTooLong = "Message exceeds allowed character limit of 1000";
inline constexpr std::string_view kTagExists = "A tag with this name exists already";
inline constexpr std::string_view kNotAuthor = "Only the author of a comment may change it";

struct Comment {
  std::int64_t id = 0;
  std::int64_t node_id = 0;
  std::string author;       // identity user id
  std::string author_name;  // login name when written (oc:actorId)
  std::string message;
  std::int64_t created_s = 0;
  std::int64_t edited_s = 0;  // == created_s until edited
};

struct CommentCount {
  std::uint64_t total = 0;
  std::uint64_t unread = 0;  // by others, after the user's read marker
};

struct Tag {
  std::int64_t id = 0;
  std::string name;
  bool user_visible = true;
  bool user_assignable = true;
};

// Files a REPORT oc:filter-files asks for: every rule must hold (favorite and each tag).
struct FileFilter {
  bool favorite = false;
  std::vector<std::int64_t> tags;
};

// A page of search results: `next` is the cursor to pass for the next page (nullopt when the scan
// reached the end).
struct SearchPage {
  std::vector<Node> nodes;
  std::optional<std::int64_t> next;
};

// Errors: Errc::not_found (no such node the caller may see, no such comment or tag of the caller),
// Errc::invalid_argument (an empty or over-long message: kCommentTooLong with Errc::too_large; a
// bad tag name), Errc::forbidden (kNotAuthor), Errc::already_exists (kTagExists; a tag already on
// the node), Errc::unavailable (store failure).
class CollabService {
 public:
  virtual ~CollabService() = default;

  // --- comments --------------------------------------------------------------------------------
  virtual boost::asio::awaitable<Result<Comment>> add_comment(std::string user, std::string user_name, std::int64_t node_id,
                                                              std::string message) = 0;
  // Newest first; `limit` at most 500.
  virtual boost::asio::awaitable<Result<std::vector<Comment>>> comments(std::string user, std::int64_t node_id, std::size_t limit,
                                                                        std::size_t offset) = 0;
  virtual boost::asio::awaitable<Result<Comment>> comment(std::string user, std::int64_t node_id, std::int64_t comment_id) = 0;
  virtual boost::asio::awaitable<Result<Comment>> edit_comment(std::string user, std::int64_t node_id, std::int64_t comment_id,
                                                               std::string message) = 0;
  virtual boost::asio::awaitable<Status> delete_comment(std::string user, std::int64_t node_id, std::int64_t comment_id) = 0;
  // Comment counts of `folder_id` and its children (by node id; absent: none), for PROPFIND.
  virtual boost::asio::awaitable<Result<std::map<std::int64_t, CommentCount>>> comment_counts(std::string user,
                                                                                             std::int64_t folder_id) = 0;
  // The user's read marker on a node's comments: comments by others written after it are unread.
  // nullopt when the user never marked them (all of others' comments are unread).
  virtual boost::asio::awaitable<Result<std::optional<std::int64_t>>> read_marker(std::string user, std::int64_t node_id) = 0;
  // Marks every comment of the node read now.
  virtual boost::asio::awaitable<Status> mark_read(std::string user, std::int64_t node_id) = 0;

  // --- favorites -------------------------------------------------------------------------------
  virtual boost::asio::awaitable<Status> set_favorite(std::string user, std::int64_t node_id, bool favorite) = 0;
  // Which of `folder_id` and its children the user starred, for PROPFIND.
  virtual boost::asio::awaitable<Result<std::set<std::int64_t>>> favorites_in(std::string user, std::int64_t folder_id) = 0;

  // --- tags ------------------------------------------------------------------------------------
  virtual boost::asio::awaitable<Result<Tag>> create_tag(std::string user, std::string name, bool user_visible,
                                                         bool user_assignable) = 0;
  virtual boost::asio::awaitable<Result<std::vector<Tag>>> tags(std::string user) = 0;  // by name
  virtual boost::asio::awaitable<Result<Tag>> tag(std::string user, std::int64_t tag_id) = 0;
  // Removes the tag and its assignments.
  virtual boost::asio::awaitable<Status> delete_tag(std::string user, std::int64_t tag_id) = 0;
  virtual boost::asio::awaitable<Status> assign_tag(std::string user, std::int64_t node_id, std::int64_t tag_id) = 0;
  virtual boost::asio::awaitable<Status> unassign_tag(std::string user, std::int64_t node_id, std::int64_t tag_id) = 0;
  virtual boost::asio::awaitable<Result<std::vector<Tag>>> node_tags(std::string user, std::int64_t node_id) = 0;
  // The user's tags on `folder_id` and on each of its children (by node id, each by name), for PROPFIND.
  virtual boost::asio::awaitable<Result<std::map<std::int64_t, std::vector<Tag>>>> tags_in(std::string user, std::int64_t folder_id) = 0;

  // --- listings and search ---------------------------------------------------------------------
  // Live nodes the user may see that pass `filter` (at least one rule), by id, at most `limit`
  // from `offset`. Errc::not_found for a tag that is not the user's.
  virtual boost::asio::awaitable<Result<std::vector<Node>>> filter_files(std::string user, FileFilter filter, std::size_t limit,
                                                                         std::size_t offset) = 0;
  // Files and folders, the user's own and those beneath the shares they received, whose name
  // contains `term` (case-insensitive after NFC; at least one character), by id after `cursor`, at most `limit` (1 to 100). One call examines a bounded
  // number of names and returns a cursor to go on from.
  virtual boost::asio::awaitable<Result<SearchPage>> search_names(std::string user, std::string term, std::size_t limit,
                                                                  std::optional<std::int64_t> cursor) = 0;
  // Nodes carrying one of the user's tags whose name contains `term` (as search_names).
  virtual boost::asio::awaitable<Result<SearchPage>> search_tags(std::string user, std::string term, std::size_t limit,
                                                                 std::optional<std::int64_t> cursor) = 0;

  // --- maintenance -----------------------------------------------------------------------------
  // Deletes up to `limit` rows of purged nodes; returns how many went.
  virtual boost::asio::awaitable<Result<std::size_t>> reap(std::size_t limit) = 0;
};

std::vector<store::Migration> collab_migrations();
// `box` answers who may see a node (node_by_id); both must outlive the service.
std::unique_ptr<CollabService> make_collab_service(store::MetaStore& meta, BoxService& box);
// Runs reap() every `interval` until cancelled.
boost::asio::awaitable<void> run_collab_reaper(CollabService& collab, std::chrono::milliseconds interval, store::Lease* lease = nullptr);
// "Tag", "tag" -> "tag": NFC then Unicode case folding, for case-insensitive matching.
std::string fold_case(std::string_view text);

}  // namespace ciel::box
