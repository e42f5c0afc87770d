// box/activity.h: the box's activity stream and notifications, tables beside the tree.
//
// Activity: one row per change a user should see in their stream: a file or folder created,
// changed, renamed, moved, deleted (to the trash) or restored, a public link created, changed or
// deleted, a download through a public link. The engine records each entry with
// record_activity() inside the very transaction that makes the change, so the stream cannot
// disagree with the tree: a write that rolls back leaves no entry. An entry belongs to one
// stream (`user`); the same change may be recorded for several users (a shared folder's owner and
// the users it is shared with), each with their own entry. Paths are as they were at the time,
// relative to that user's root. Entries older than box.activity_retention go (reap()).
//
// Notifications: short messages for one user ("X shared Y with you"), made with notify() inside
// the transaction of the change that causes them, listed and dismissed by their user.
//
// Threads: plain functions on a store::Tx (the caller's transaction, on the blocking pool).
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace ciel::store {
class Tx;
struct Migration;
}  // namespace ciel::store

namespace ciel::box {

// What happened; stored by name (activity_kind_name).
enum class ActivityKind {
  file_created,     // a new file or folder (PUT, MKCOL, COPY's target, an assembled upload)
  file_changed,     // a file's content replaced
  file_renamed,     // same folder, new name (old_path is the old one)
  file_moved,       // another folder (old_path is the old one)
  file_deleted,     // to the trash
  file_restored,    // from the trash (detail "trash") or an older version (detail "version")
  link_created,     // detail: the link id
  link_changed,
  link_deleted,
  link_downloaded,  // a download through a public link (actor ""); detail: the link id
  shared,           // a user or group share given (for the share work; detail: who)
  unshared,
};
std::string_view activity_kind_name(ActivityKind kind);
std::optional<ActivityKind> activity_kind_from(std::string_view name);
// file_* are file changes; link_*, shared and unshared are sharing.
bool is_sharing(ActivityKind kind);

struct ActivityEntry {
  std::int64_t id = 0;          // increasing; set by record_activity
  std::string user;             // whose stream it is (identity user id)
  std::string actor;            // who did it: a user id, or "" for an anonymous public-link visitor
  ActivityKind kind = ActivityKind::file_created;
  std::int64_t node_id = 0;     // the file or folder (oc:fileid)
  bool folder = false;
  std::string path;             // at the time, relative to `user`'s root ("a/b.txt")
  std::string old_path;         // renamed or moved: the path before; "" otherwise
  std::int64_t time_s = 0;      // unix seconds
  std::string detail;           // a small subject detail (see ActivityKind), at most 255 bytes
};

// Inserts `entry` (its id is ignored) in the caller's transaction. Errc::invalid_argument for an
// empty user or a detail over 255 bytes; store errors as Tx's. A change several users see (a file
// in a shared folder, a share given) is recorded once per user, each entry with that user's path,
// the same actor and kind: e.g. for a share, ActivityKind::shared in the owner's stream (actor the
// owner, detail the recipient's name) and in the recipient's (actor the owner), then notify() the
// recipient.
Status record_activity(store::Tx& tx, const ActivityEntry& entry);

enum class ActivityFilter {
  all,
  self,       // by the user themselves
  by,         // by others (other users and link visitors)
  files,      // file and folder changes
  sharing,    // links and shares
  favorites,  // on the user's favourite files and folders (oc:favorite 1)
};
// "all", "self", "by", "files", "files_sharing", "favorites" (Nextcloud's filter names).
std::optional<ActivityFilter> activity_filter_from(std::string_view name);

struct ActivityQuery {
  ActivityFilter filter = ActivityFilter::all;
  std::int64_t since = 0;                // an entry id: newest first, entries older than it; ascending, newer than it; 0: from the start
  std::size_t limit = 50;                // 1 to kMaxActivityLimit
  bool ascending = false;                // oldest first
  std::optional<std::int64_t> node_id;   // only this file or folder's entries
};
inline constexpr std::size_t kMaxActivityLimit = 200;

struct ActivityPage {
  std::vector<ActivityEntry> entries;
  bool more = false;  // there are entries after the last one given
};
// `user`'s entries matching `query`. Errc::invalid_argument for a limit of 0 or over
// kMaxActivityLimit or a negative since.
Result<ActivityPage> list_activity(store::Tx& tx, const std::string& user, const ActivityQuery& query);
// Removes up to `limit` entries older than `before_s`; returns how many went.
Result<std::size_t> expire_activity(store::Tx& tx, std::int64_t before_s, std::size_t limit);

struct Notification {
  std::int64_t id = 0;       // set by notify
  std::string user;          // who receives it
  std::string app = "files_sharing";
  std::string subject;       // one line, in the user's words ("Alice shared “Plans” with you")
  std::string message;       // optional longer text
  std::string object_type;   // "files", "share", ...
  std::string object_id;
  std::string link;          // where clicking takes the user (a console or DAV path), may be ""
  std::int64_t created_s = 0;
};
// Inserts `n` in the caller's transaction; returns its id. Errc::invalid_argument for an empty
// user, app or subject, or a subject over 1024 bytes.
Result<std::int64_t> notify(store::Tx& tx, const Notification& n);
// Newest first, at most `limit`.
Result<std::vector<Notification>> list_notifications(store::Tx& tx, const std::string& user, std::size_t limit = 200);
// Errc::not_found when `user` has no notification `id`.
Status delete_notification(store::Tx& tx, const std::string& user, std::int64_t id);
Status delete_notifications(store::Tx& tx, const std::string& user);

// The tables (module "box_activity"); box::migrations() includes them.
std::vector<store::Migration> activity_migrations();

}  // namespace ciel::box
