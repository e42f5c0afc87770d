// The activity stream and notifications tables (activity.h says what they model).
#include "box/activity.h"

#include "store/meta_store.h"

namespace ciel::box {
namespace {

using store::Row;
using store::Tx;
using store::Value;

// Entries by kind name: the sharing ones (the rest are file changes).
constexpr std::string_view kSharingKinds = "('link_created', 'link_changed', 'link_deleted', 'link_downloaded', 'shared', 'unshared')";

std::string dialect(std::string sql, std::string_view id_type) {
  for (std::size_t pos; (pos = sql.find("%ID%")) != std::string::npos;) { sql.replace(pos, 4, id_type); }
  return sql;
}

// user_id, id seeks one stream page by page; created_s serves the reaper.
constexpr std::string_view kV1 = R"SQL(
CREATE TABLE box_activity (id %ID%, user_id TEXT NOT NULL, actor TEXT NOT NULL, kind TEXT NOT NULL, node_id BIGINT NOT NULL,
  folder BIGINT NOT NULL DEFAULT 0, path TEXT NOT NULL, old_path TEXT NOT NULL DEFAULT '', detail TEXT NOT NULL DEFAULT '',
  created_s BIGINT NOT NULL);
CREATE INDEX box_activity_user ON box_activity (user_id, id);
CREATE INDEX box_activity_node ON box_activity (user_id, node_id, id);
CREATE INDEX box_activity_created ON box_activity (created_s);
CREATE TABLE box_notifications (id %ID%, user_id TEXT NOT NULL, app TEXT NOT NULL, subject TEXT NOT NULL,
  message TEXT NOT NULL DEFAULT '', object_type TEXT NOT NULL DEFAULT '', object_id TEXT NOT NULL DEFAULT '',
  link TEXT NOT NULL DEFAULT '', created_s BIGINT NOT NULL);
CREATE INDEX box_notifications_user ON box_notifications (user_id, id)
)SQL";

ActivityEntry entry_from(const Row& r) {
  ActivityEntry e;
  e.id = r.integer(0);
  e.user = r.text(1);
  e.actor = r.text(2);
  e.kind = activity_kind_from(r.text(3)).value_or(ActivityKind::file_changed);
  e.node_id = r.integer(4);
  e.folder = r.boolean(5);
  e.path = r.text(6);
  e.old_path = r.text(7);
  e.detail = r.text(8);
  e.time_s = r.integer(9);
  return e;
}

}  // namespace

Status record_activity(Tx& tx, const ActivityEntry& e) {
  if (e.user.empty()) { return make_error(Errc::invalid_argument, "An activity entry needs the user whose stream it is"); }
  if (e.detail.size() > 255) { return make_error(Errc::invalid_argument, "An activity detail is at most 255 bytes"); }
  auto r = tx.exec(
      "INSERT INTO box_activity (user_id, actor, kind, node_id, folder, path, old_path, detail, created_s) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
      {Value{e.user}, Value{e.actor}, Value{std::string(activity_kind_name(e.kind))}, Value{e.node_id}, Value{std::int64_t{e.folder ? 1 : 0}},
       Value{e.path}, Value{e.old_path}, Value{e.detail}, Value{e.time_s}});
  if (!r) { return r.error(); }
  return {};
}

Result<ActivityPage> list_activity(Tx& tx, const std::string& user, const ActivityQuery& q) {
  if (q.limit == 0 || q.limit > kMaxActivityLimit) {
    return make_error(Errc::invalid_argument, "The limit must be between 1 and " + std::to_string(kMaxActivityLimit));
  }
  if (q.since < 0) { return make_error(Errc::invalid_argument, "since must be an activity id"); }
  std::string sql =
      "SELECT a.id, a.user_id, a.actor, a.kind, a.node_id, a.folder, a.path, a.old_path, a.detail, a.created_s FROM box_activity a "
      "WHERE a.user_id = $1";
  std::vector<Value> params{Value{user}};
  if (q.since > 0) {
    params.emplace_back(q.since);
    sql += q.ascending ? " AND a.id > $2" : " AND a.id < $2";
  }
  if (q.node_id) {
    params.emplace_back(*q.node_id);
    sql += " AND a.node_id = $" + std::to_string(params.size());
  }
  switch (q.filter) {
    case ActivityFilter::all: break;
    case ActivityFilter::self: sql += " AND a.actor = a.user_id"; break;
    case ActivityFilter::by: sql += " AND a.actor <> a.user_id"; break;
    case ActivityFilter::files: sql += " AND a.kind NOT IN " + std::string(kSharingKinds); break;
    case ActivityFilter::sharing: sql += " AND a.kind IN " + std::string(kSharingKinds); break;
    case ActivityFilter::favorites:
      sql += " AND EXISTS (SELECT 1 FROM box_props p WHERE p.node_id = a.node_id AND p.ns = 'http://owncloud.org/ns' AND p.name = 'favorite' "
             "AND p.value = '1')";
      break;
  }
  sql += q.ascending ? " ORDER BY a.id ASC" : " ORDER BY a.id DESC";
  sql += " LIMIT " + std::to_string(q.limit + 1);
  auto rows = tx.query(sql, std::span<const Value>(params.data(), params.size()));
  if (!rows) { return rows.error(); }
  ActivityPage page;
  for (const auto& r : rows->rows) {
    if (page.entries.size() == q.limit) {
      page.more = true;
      break;
    }
    page.entries.push_back(entry_from(r));
  }
  return page;
}

Result<std::size_t> expire_activity(Tx& tx, std::int64_t before_s, std::size_t limit) {
  auto d = tx.exec("DELETE FROM box_activity WHERE id IN (SELECT id FROM box_activity WHERE created_s < $1 LIMIT " + std::to_string(limit) + ")",
                   {Value{before_s}});
  if (!d) { return d.error(); }
  return static_cast<std::size_t>(*d);
}

Result<std::int64_t> notify(Tx& tx, const Notification& n) {
  if (n.user.empty() || n.app.empty() || n.subject.empty()) {
    return make_error(Errc::invalid_argument, "A notification needs a user, an app and a subject");
  }
  if (n.subject.size() > 1024) { return make_error(Errc::invalid_argument, "A notification subject is at most 1024 bytes"); }
  auto r = tx.one(
      "INSERT INTO box_notifications (user_id, app, subject, message, object_type, object_id, link, created_s) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
      {Value{n.user}, Value{n.app}, Value{n.subject}, Value{n.message}, Value{n.object_type}, Value{n.object_id}, Value{n.link}, Value{n.created_s}});
  if (!r) { return r.error(); }
  return (*r)->integer(0);
}

Result<std::vector<Notification>> list_notifications(Tx& tx, const std::string& user, std::size_t limit) {
  auto rows = tx.query(
      "SELECT id, user_id, app, subject, message, object_type, object_id, link, created_s FROM box_notifications WHERE user_id = $1 "
      "ORDER BY id DESC LIMIT " + std::to_string(limit),
      {Value{user}});
  if (!rows) { return rows.error(); }
  std::vector<Notification> out;
  for (const auto& r : rows->rows) {
    out.push_back(Notification{r.integer(0), r.text(1), r.text(2), r.text(3), r.text(4), r.text(5), r.text(6), r.text(7), r.integer(8)});
  }
  return out;
}

Status delete_notification(Tx& tx, const std::string& user, std::int64_t id) {
  auto d = tx.exec("DELETE FROM box_notifications WHERE id = $1 AND user_id = $2", {Value{id}, Value{user}});
  if (!d) { return d.error(); }
  if (*d == 0) { return make_error(Errc::not_found, "No such notification"); }
  return {};
}

Status delete_notifications(Tx& tx, const std::string& user) {
  auto d = tx.exec("DELETE FROM box_notifications WHERE user_id = $1", {Value{user}});
  if (!d) { return d.error(); }
  return {};
}

std::vector<store::Migration> activity_migrations() {
  return {{"box_activity", 1, dialect(std::string(kV1), "INTEGER PRIMARY KEY AUTOINCREMENT"), dialect(std::string(kV1), "BIGSERIAL PRIMARY KEY")}};
}

}  // namespace ciel::box
