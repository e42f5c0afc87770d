// Comments, favorites, tags and search over the MetaStore (box/collab.h says what they model).
#include "box/collab.h"

#include <utf8proc.h>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <cstdlib>

#include "store/lease.h"
#include "core/log/log.h"
#include "store/meta_store.h"

namespace ciel::box {
namespace {

using boost::asio::awaitable;
using store::Row;
using store::Tx;
using store::Value;

std::int64_t now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}
Value i64(std::uint64_t v) { return Value{static_cast<std::int64_t>(v)}; }

// How many names or assignments one search call examines at most: a search over a box of a
// million files answers in bounded time and hands back a cursor.
constexpr std::size_t kScanBudget = 5000;
constexpr std::size_t kScanPage = 1000;
// How many candidates a filter examines at most.
constexpr std::size_t kFilterBudget = 10000;

std::string dialect(std::string sql, std::string_view id_type) {
  for (std::size_t pos; (pos = sql.find("%ID%")) != std::string::npos;) { sql.replace(pos, 4, id_type); }
  return sql;
}

// Comments and tag assignments name nodes by id, with no foreign key (the tree's purge does not
// know these tables): rows of purged nodes are filtered out by the access check and reaped.
// box_collab_nodes_owner lets a name search seek through one owner's nodes by id.
constexpr std::string_view kV1 = R"SQL(
CREATE TABLE box_comments (id %ID%, node_id BIGINT NOT NULL, author TEXT NOT NULL, author_name TEXT NOT NULL,
  message TEXT NOT NULL, created_s BIGINT NOT NULL, edited_s BIGINT NOT NULL);
CREATE INDEX box_comments_node ON box_comments (node_id, id);
CREATE TABLE box_comment_marks (user_id TEXT NOT NULL, node_id BIGINT NOT NULL, read_s BIGINT NOT NULL, PRIMARY KEY (user_id, node_id));
CREATE INDEX box_comment_marks_node ON box_comment_marks (node_id);
CREATE TABLE box_favorites (user_id TEXT NOT NULL, node_id BIGINT NOT NULL, created_s BIGINT NOT NULL, PRIMARY KEY (user_id, node_id));
CREATE INDEX box_favorites_node ON box_favorites (node_id);
CREATE TABLE box_tags (id %ID%, owner TEXT NOT NULL, name TEXT NOT NULL, name_key TEXT NOT NULL, user_visible BIGINT NOT NULL,
  user_assignable BIGINT NOT NULL, created_s BIGINT NOT NULL);
CREATE UNIQUE INDEX box_tags_name ON box_tags (owner, name_key);
CREATE TABLE box_tag_nodes (tag_id BIGINT NOT NULL, node_id BIGINT NOT NULL, created_s BIGINT NOT NULL, PRIMARY KEY (tag_id, node_id));
CREATE INDEX box_tag_nodes_node ON box_tag_nodes (node_id);
CREATE INDEX box_collab_nodes_owner ON box_nodes (owner, id)
)SQL";

Result<std::string> utf8_map(std::string_view text, int options) {
  utf8proc_uint8_t* out = nullptr;
  auto n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text.data()), static_cast<utf8proc_ssize_t>(text.size()), &out,
                        static_cast<utf8proc_option_t>(options));
  if (n < 0) { return make_error(Errc::invalid_argument, "The text is not valid UTF-8"); }
  std::unique_ptr<utf8proc_uint8_t, decltype(&std::free)> owned(out, &std::free);
  return std::string(reinterpret_cast<const char*>(out), static_cast<std::size_t>(n));
}

std::size_t code_points(std::string_view s) {
  std::size_t n = 0;
  for (unsigned char c : s) { n += (c & 0xC0) != 0x80; }
  return n;
}

Result<std::string> check_message(std::string_view message) {
  if (message.find('\0') != std::string_view::npos) { return make_error(Errc::invalid_argument, "A comment may not hold a NUL character"); }
  auto nfc = utf8_map(message, UTF8PROC_STABLE | UTF8PROC_COMPOSE);
  if (!nfc) { return nfc.error(); }
  if (code_points(*nfc) > kMaxCommentChars) { return make_error(Errc::too_large, std::string(kCommentTooLong)); }
  if (nfc->find_first_not_of(" \t\r\n") == std::string::npos) { return make_error(Errc::invalid_argument, "A comment needs a message"); }
  return nfc;
}

Result<std::string> check_tag_name(std::string_view name) {
  while (!name.empty() && (name.front() == ' ' || name.front() == '\t')) { name.remove_prefix(1); }
  while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) { name.remove_suffix(1); }
  if (name.empty() || name.size() > kMaxTagNameBytes) { return make_error(Errc::invalid_argument, "A tag needs a name of 1 to 255 bytes"); }
  for (unsigned char c : name) {
    if (c < 0x20) { return make_error(Errc::invalid_argument, "A tag name may not hold control characters"); }
  }
  return utf8_map(name, UTF8PROC_STABLE | UTF8PROC_COMPOSE);
}

Comment comment_from(const Row& r) {
  return Comment{r.integer(0), r.integer(1), r.text(2), r.text(3), r.text(4), r.integer(5), r.integer(6)};
}
constexpr std::string_view kCommentCols = "id, node_id, author, author_name, message, created_s, edited_s";

Tag tag_from(const Row& r) { return Tag{r.integer(0), r.text(1), r.boolean(2), r.boolean(3)}; }
constexpr std::string_view kTagCols = "t.id, t.name, t.user_visible, t.user_assignable";

Error no_node() { return make_error(Errc::not_found, "No such file or folder"); }
Error no_tag() { return make_error(Errc::not_found, "No such tag"); }

class Collab final : public CollabService {
 public:
  Collab(store::MetaStore& meta, BoxService& box) : meta_(meta), box_(box) {}

  // --- comments --------------------------------------------------------------------------------
  awaitable<Result<Comment>> add_comment(std::string user, std::string user_name, std::int64_t node_id, std::string message) override {
    auto m = check_message(message);
    if (!m) { co_return m.error(); }
    if (auto n = co_await visible(user, node_id); !n) { co_return n.error(); }
    Comment out{0, node_id, user, user_name, *m, now_s(), 0};
    out.edited_s = out.created_s;
    auto st = co_await meta_.transact([&](Tx& tx) -> Status {
      auto r = tx.one("INSERT INTO box_comments (node_id, author, author_name, message, created_s, edited_s) VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
                      {Value{node_id}, Value{user}, Value{user_name}, Value{out.message}, Value{out.created_s}});
      if (!r) { return r.error(); }
      out.id = (*r)->integer(0);
      return {};
    });
    if (!st) { co_return st.error(); }
    co_return out;
  }

  awaitable<Result<std::vector<Comment>>> comments(std::string user, std::int64_t node_id, std::size_t limit, std::size_t offset) override {
    if (auto n = co_await visible(user, node_id); !n) { co_return n.error(); }
    limit = std::min<std::size_t>(limit, 500);
    std::vector<Comment> out;
    auto st = co_await meta_.read([&](Tx& tx) -> Status {
      out.clear();
      auto rows = tx.query(std::string("SELECT ") + std::string(kCommentCols) + " FROM box_comments WHERE node_id = $1 ORDER BY id DESC LIMIT $2 OFFSET $3",
                           {Value{node_id}, i64(limit), i64(offset)});
      if (!rows) { return rows.error(); }
      for (const auto& r : rows->rows) { out.push_back(comment_from(r)); }
      return {};
    });
    if (!st) { co_return st.error(); }
    co_return out;
  }

  awaitable<Result<Comment>> comment(std::string user, std::int64_t node_id, std::int64_t comment_id) override {
    if (auto n = co_await visible(user, node_id); !n) { co_return n.error(); }
    Comment out;
    auto st = co_await meta_.read([&](Tx& tx) -> Status {
      auto c = find_comment(tx, node_id, comment_id);
      if (!c) { return c.error(); }
      out = std::move(*c);
      return {};
    });
    if (!st) { co_return st.error(); }
    co_return out;
  }

  awaitable<Result<Comment>> edit_comment(std::string user, std::int64_t node_id, std::int64_t comment_id, std::string message) override {
    auto m = check_message(message);
    if (!m) { co_return m.error(); }
    if (auto n = co_await visible(user, node_id); !n) { co_return n.error(); }
    Comment out;
    auto st = co_await meta_.transact([&](Tx& tx) -> Status {
      auto c = find_comment(tx, node_id, comment_id);
      if (!c) { return c.error(); }
      if (c->author != user) { return make_error(Errc::forbidden, std::string(kNotAuthor)); }
      out = std::move(*c);
      out.message = *m;
      out.edited_s = now_s();
      auto u = tx.exec("UPDATE box_comments SET message = $1, edited_s = $2 WHERE id = $3 AND author = $4",
                       {Value{out.message}, Value{out.edited_s}, Value{comment_id}, Value{user}});
      if (!u) { return u.error(); }
      return {};
    });
    if (!st) { co_return st.error(); }
    co_return out;
  }

  awaitable<Status> delete_comment(std::string user, std::int64_t node_id, std::int64_t comment_id) override {
    if (auto n = co_await visible(user, node_id); !n) { co_return n.error(); }
    co_return co_await meta_.transact([&](Tx& tx) -> Status {
      auto c = find_comment(tx, node_id, comment_id);
      if (!c) { return c.error(); }
      if (c->author != user) { return make_error(Errc::forbidden, std::string(kNotAuthor)); }
      auto d = tx.exec("DELETE FROM box_comments WHERE id = $1 AND author = $2", {Value{comment_id}, Value{user}});
      if (!d) { return d.error(); }
      return {};
    });
  }

  awaitable<Result<std::map<std::int64_t, CommentCount>>> comment_counts(std::string user, std::int64_t folder_id) override {
    if (auto n = co_await visible(user, folder_id); !n) { co_return n.error(); }
    std::map<std::int64_t, CommentCount> out;
    auto st = co_await meta_.read([&](Tx& tx) -> Status {
      out.clear();
      // From the folder's children to their comments (an index probe each), never a scan of all comments.
      auto rows = tx.query(
          "SELECT c.node_id, COUNT(*), SUM(CASE WHEN c.author <> $2 AND c.created_s > COALESCE(m.read_s, -1) THEN 1 ELSE 0 END) "
          "FROM box_comments c LEFT JOIN box_comment_marks m ON m.user_id = $2 AND m.node_id = c.node_id WHERE c.node_id IN "
          "(SELECT id FROM box_nodes WHERE parent = $1 UNION ALL SELECT CAST($1 AS BIGINT)) GROUP BY c.node_id",
          {Value{folder_id}, Value{user}});
      if (!rows) { return rows.error(); }
      for (const auto& r : rows->rows) {
        out[r.integer(0)] = CommentCount{static_cast<std::uint64_t>(r.integer(1)), static_cast<std::uint64_t>(r.integer(2))};
      }
      return {};
    });
    if (!st) { co_return st.error(); }
    co_return out;
  }

  awaitable<Result<std::optional<std::int64_t>>> read_marker(std::string user, std::int64_t node_id) override {
    if (auto n = co_await visible(user, node_id); !n) { co_return n.error(); }
    std::optional<std::int64_t> out;
    auto st = co_await meta_.read([&](Tx& tx) -> Status {
      auto r = tx.one("SELECT read_s FROM box_comment_marks WHERE user_id = $1 AND node_id = $2", {Value{user}, Value{node_id}});
      if (!r) { return r.error(); }
      out = *r ? std::optional<std::int64_t>((*r)->integer(0)) : std::nullopt;
      return {};
    });
    if (!st) { co_return st.error(); }
    co_return out;
  }

  awaitable<Status> mark_read(std::string user, std::int64_t node_id) override {
    if (auto n = co_await visible(user, node_id); !n) { co_return n.error(); }
    co_return co_await meta_.transact([&](Tx& tx) -> Status {
      auto r = tx.exec("INSERT INTO box_comment_marks (user_id, node_id, read_s) VALUES ($1, $2, $3) "
                       "ON CONFLICT (user_id, node_id) DO UPDATE SET read_s = excluded.read_s",
                       {Value{user}, Value{node_id}, Value{now_s()}});
      if (!r) { return r.error(); }
      return {};
    });
  }

  // --- favorites -------------------------------------------------------------------------------
  awaitable<Status> set_favorite(std::string user, std::int64_t node_id, bool favorite) override {
    if (auto n = co_await visible(user, node_id); !n) { co_return n.error(); }
    co_return co_await meta_.transact([&](Tx& tx) -> Status {
      auto r = favorite ? tx.exec("INSERT INTO box_favorites (user_id, node_id, created_s) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                                  {Value{user}, Value{node_id}, Value{now_s()}})
                        : tx.exec("DELETE FROM box_favorites WHERE user_id = $1 AND node_id = $2", {Value{user}, Value{node_id}});
      if (!r) { return r.error(); }
      return {};
    });
  }

  awaitable<Result<std::set<std::int64_t>>> favorites_in(std::string user, std::int64_t folder_id) override {
    if (auto n = co_await visible(user, folder_id); !n) { co_return n.error(); }
    std::set<std::int64_t> out;
    auto st = co_await meta_.read([&](Tx& tx) -> Status {
      out.clear();
      auto rows = tx.query(
          "SELECT node_id FROM box_favorites WHERE user_id = $1 AND node_id IN "
          "(SELECT id FROM box_nodes WHERE parent = $2 UNION ALL SELECT CAST($2 AS BIGINT))",
          {Value{user}, Value{folder_id}});
      if (!rows) { return rows.error(); }
      for (const auto& r : rows->rows) { out.insert(r.integer(0)); }
      return {};
    });
    if (!st) { co_return st.error(); }
    co_return out;
  }

  // --- tags ------------------------------------------------------------------------------------
  awaitable<Result<Tag>> create_tag(std::string user, std::string name, bool user_visible, bool user_assignable) override {
    auto n = check_tag_name(name);
    if (!n) { co_return n.error(); }
    Tag out{0, *n, user_visible, user_assignable};
    std::string key = fold_case(*n);
    auto st = co_await meta_.transact([&](Tx& tx) -> Status {
      auto r = tx.query(
          "INSERT INTO box_tags (owner, name, name_key, user_visible, user_assignable, created_s) VALUES ($1, $2, $3, $4, $5, $6) "
          "ON CONFLICT DO NOTHING RETURNING id",
          {Value{user}, Value{out.name}, Value{key}, Value{std::int64_t{user_visible}}, Value{std::int64_t{user_assignable}}, Value{now_s()}});
      if (!r) { return r.error(); }
      if (r->empty()) { return make_error(Errc::already_exists, std::string(kTagExists)); }
      out.id = r->rows[0].integer(0);
      return {};
    });
    if (!st) { co_return st.error(); }
    co_return out;
  }

  awaitable<Result<std::vector<Tag>>> tags(std::string user) override {
    std::vector<Tag> out;
    auto st = co_await meta_.read([&](Tx& tx) -> Status {
      out.clear();
      auto rows = tx.query(std::string("SELECT ") + std::string(kTagCols) + " FROM box_tags t WHERE t.owner = $1 ORDER BY t.name_key, t.id",
                           {Value{user}});
      if (!rows) { return rows.error(); }
      for (const auto& r : rows->rows) { out.push_back(tag_from(r)); }
      return {};
    });
    if (!st) { co_return st.error(); }
    co_return out;
  }

  awaitable<Result<Tag>> tag(std::string user, std::int64_t tag_id) override {
    Tag out;
    auto st = co_await meta_.read([&](Tx& tx) -> Status {
      auto t = own_tag(tx, user, tag_id);
      if (!t) { return t.error(); }
      out = *t;
      return {};
    });
    if (!st) { co_return st.error(); }
    co_return out;
  }

  awaitable<Status> delete_tag(std::string user, std::int64_t tag_id) override {
    co_return co_await meta_.transact([&](Tx& tx) -> Status {
      auto t = own_tag(tx, user, tag_id);
      if (!t) { return t.error(); }
      for (const char* sql : {"DELETE FROM box_tag_nodes WHERE tag_id = $1", "DELETE FROM box_tags WHERE id = $1"}) {
        auto d = tx.exec(sql, {Value{tag_id}});
        if (!d) { return d.error(); }
      }
      return {};
    });
  }

  awaitable<Status> assign_tag(std::string user, std::int64_t node_id, std::int64_t tag_id) override {
    if (auto n = co_await visible(user, node_id); !n) { co_return n.error(); }
    co_return co_await meta_.transact([&](Tx& tx) -> Status {
      auto t = own_tag(tx, user, tag_id);
      if (!t) { return t.error(); }
      auto r = tx.exec("INSERT INTO box_tag_nodes (tag_id, node_id, created_s) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                       {Value{tag_id}, Value{node_id}, Value{now_s()}});
      if (!r) { return r.error(); }
      if (*r == 0) { return make_error(Errc::already_exists, "The tag is on this file already"); }
      return {};
    });
  }

  awaitable<Status> unassign_tag(std::string user, std::int64_t node_id, std::int64_t tag_id) override {
    if (auto n = co_await visible(user, node_id); !n) { co_return n.error(); }
    co_return co_await meta_.transact([&](Tx& tx) -> Status {
      auto t = own_tag(tx, user, tag_id);
      if (!t) { return t.error(); }
      auto r = tx.exec("DELETE FROM box_tag_nodes WHERE tag_id = $1 AND node_id = $2", {Value{tag_id}, Value{node_id}});
      if (!r) { return r.error(); }
      if (*r == 0) { return make_error(Errc::not_found, "The tag is not on this file"); }
      return {};
    });
  }

  awaitable<Result<std::vector<Tag>>> node_tags(std::string user, std::int64_t node_id) override {
    if (auto n = co_await visible(user, node_id); !n) { co_return n.error(); }
    std::vector<Tag> out;
    auto st = co_await meta_.read([&](Tx& tx) -> Status {
      out.clear();
      auto rows = tx.query(std::string("SELECT ") + std::string(kTagCols) +
                               " FROM box_tags t JOIN box_tag_nodes r ON r.tag_id = t.id WHERE r.node_id = $1 AND t.owner = $2 ORDER BY t.name_key, t.id",
                           {Value{node_id}, Value{user}});
      if (!rows) { return rows.error(); }
      for (const auto& r : rows->rows) { out.push_back(tag_from(r)); }
      return {};
    });
    if (!st) { co_return st.error(); }
    co_return out;
  }

  awaitable<Result<std::map<std::int64_t, std::vector<Tag>>>> tags_in(std::string user, std::int64_t folder_id) override {
    if (auto n = co_await visible(user, folder_id); !n) { co_return n.error(); }
    std::map<std::int64_t, std::vector<Tag>> out;
    auto st = co_await meta_.read([&](Tx& tx) -> Status {
      out.clear();
      auto rows = tx.query(std::string("SELECT r.node_id, ") + std::string(kTagCols) +
                               " FROM box_tag_nodes r JOIN box_tags t ON t.id = r.tag_id WHERE t.owner = $1 AND r.node_id IN "
                               "(SELECT id FROM box_nodes WHERE parent = $2 UNION ALL SELECT CAST($2 AS BIGINT)) ORDER BY t.name_key, t.id",
                           {Value{user}, Value{folder_id}});
      if (!rows) { return rows.error(); }
      for (const auto& r : rows->rows) {
        out[r.integer(0)].push_back(Tag{r.integer(1), r.text(2), r.boolean(3), r.boolean(4)});
      }
      return {};
    });
    if (!st) { co_return st.error(); }
    co_return out;
  }

  // --- listings and search ---------------------------------------------------------------------
  awaitable<Result<std::vector<Node>>> filter_files(std::string user, FileFilter filter, std::size_t limit, std::size_t offset) override {
    if (!filter.favorite && filter.tags.empty()) { co_return make_error(Errc::invalid_argument, "A filter needs at least one rule"); }
    std::vector<std::int64_t> candidates;
    auto st = co_await meta_.read([&](Tx& tx) -> Status {
      candidates.clear();
      std::string sql;
      std::vector<Value> params;
      if (filter.favorite) {
        params.emplace_back(user);
        sql = "SELECT node_id FROM box_favorites WHERE user_id = $1";
      }
      for (auto id : filter.tags) {
        auto t = own_tag(tx, user, id);
        if (!t) { return t.error(); }
        params.emplace_back(id);
        std::string rule = "SELECT node_id FROM box_tag_nodes WHERE tag_id = $" + std::to_string(params.size());
        sql = sql.empty() ? rule : sql + " INTERSECT " + rule;
      }
      sql = "SELECT node_id FROM (" + sql + ") f ORDER BY node_id LIMIT " + std::to_string(kFilterBudget);
      auto rows = tx.query(sql, std::span<const Value>(params));
      if (!rows) { return rows.error(); }
      for (const auto& r : rows->rows) { candidates.push_back(r.integer(0)); }
      return {};
    });
    if (!st) { co_return st.error(); }
    std::vector<Node> out;
    std::size_t skipped = 0;
    for (auto id : candidates) {
      if (out.size() >= limit) { break; }
      auto n = co_await box_.node_by_id(user, id);
      if (!n) {
        if (n.error().code == Errc::not_found) { continue; }
        co_return n.error();
      }
      if (n->parent == 0) { continue; }  // the root is no search result
      if (skipped < offset) {
        ++skipped;
        continue;
      }
      out.push_back(std::move(*n));
    }
    co_return out;
  }

  awaitable<Result<SearchPage>> search_names(std::string user, std::string term, std::size_t limit, std::optional<std::int64_t> cursor) override {
    auto key = search_key(term, limit);
    if (!key) { co_return key.error(); }
    // The user's own nodes and those beneath the shares they received (whose roots the engine
    // names), in one stream by id so that one cursor goes on through both.
    auto received = co_await box_.received_shares(user);
    if (!received) { co_return received.error(); }
    std::string roots;
    for (const auto& sh : *received) { roots += (roots.empty() ? "" : ",") + std::to_string(sh.node_id); }  // integers: safe to inline
    std::string sql = "SELECT id, name FROM box_nodes WHERE owner = $1 AND id > $2 AND parent IS NOT NULL ORDER BY id LIMIT $3";
    if (!roots.empty()) {
      sql = "WITH RECURSIVE sub(id) AS (SELECT id FROM box_nodes WHERE id IN (" + roots +
            ") UNION SELECT n.id FROM box_nodes n JOIN sub ON n.parent = sub.id) "
            "SELECT id, name FROM (SELECT id, name FROM box_nodes WHERE owner = $1 AND parent IS NOT NULL "
            "UNION SELECT n.id, n.name FROM box_nodes n JOIN sub ON sub.id = n.id) x WHERE id > $2 ORDER BY id LIMIT $3";
    }
    SearchPage page;
    std::int64_t last = cursor.value_or(0);
    std::size_t examined = 0;
    for (;;) {
      std::vector<std::pair<std::int64_t, std::string>> batch;
      auto st = co_await meta_.read([&](Tx& tx) -> Status {
        batch.clear();
        auto rows = tx.query(sql, {Value{user}, Value{last}, i64(kScanPage)});
        if (!rows) { return rows.error(); }
        for (const auto& r : rows->rows) { batch.emplace_back(r.integer(0), r.text(1)); }
        return {};
      });
      if (!st) { co_return st.error(); }
      for (const auto& [id, name] : batch) {
        last = id;
        ++examined;
        if (fold_case(name).find(*key) != std::string::npos) {
          auto n = co_await box_.node_by_id(user, id);  // the one check: also hides the trash and mount rows
          if (n) {
            page.nodes.push_back(std::move(*n));
          } else if (n.error().code != Errc::not_found) {
            co_return n.error();
          }
        }
        if (page.nodes.size() >= limit || examined >= kScanBudget) {
          page.next = last;
          co_return page;
        }
      }
      if (batch.size() < kScanPage) { co_return page; }
    }
  }

  awaitable<Result<SearchPage>> search_tags(std::string user, std::string term, std::size_t limit, std::optional<std::int64_t> cursor) override {
    auto key = search_key(term, limit);
    if (!key) { co_return key.error(); }
    std::vector<std::int64_t> candidates;
    auto st = co_await meta_.read([&](Tx& tx) -> Status {
      candidates.clear();
      auto tags = tx.query("SELECT id, name_key FROM box_tags WHERE owner = $1", {Value{user}});
      if (!tags) { return tags.error(); }
      std::string ids;
      for (const auto& r : tags->rows) {
        if (r.text(1).find(*key) == std::string::npos) { continue; }
        ids += (ids.empty() ? "" : ",") + std::to_string(r.integer(0));  // integers from the database: safe to inline
      }
      if (ids.empty()) { return {}; }
      auto rows = tx.query("SELECT DISTINCT node_id FROM box_tag_nodes WHERE tag_id IN (" + ids + ") AND node_id > $1 ORDER BY node_id LIMIT " +
                               std::to_string(kScanBudget + 1),
                           {Value{cursor.value_or(0)}});
      if (!rows) { return rows.error(); }
      for (const auto& r : rows->rows) { candidates.push_back(r.integer(0)); }
      return {};
    });
    if (!st) { co_return st.error(); }
    SearchPage page;
    std::int64_t last = cursor.value_or(0);
    std::size_t examined = 0;
    for (auto id : candidates) {
      if (page.nodes.size() >= limit || examined >= kScanBudget) {
        page.next = last;
        co_return page;
      }
      ++examined;
      last = id;
      auto n = co_await box_.node_by_id(user, id);
      if (n) {
        page.nodes.push_back(std::move(*n));
      } else if (n.error().code != Errc::not_found) {
        co_return n.error();
      }
    }
    co_return page;
  }

  // --- maintenance -----------------------------------------------------------------------------
  awaitable<Result<std::size_t>> reap(std::size_t limit) override {
    std::size_t done = 0;
    auto st = co_await meta_.transact([&](Tx& tx) -> Status {
      done = 0;
      const std::string lim = std::to_string(limit);
      for (const std::string table : {"box_comments", "box_comment_marks", "box_favorites", "box_tag_nodes"}) {
        auto d = tx.exec("DELETE FROM " + table + " WHERE node_id IN (SELECT x.node_id FROM " + table +
                         " x LEFT JOIN box_nodes n ON n.id = x.node_id WHERE n.id IS NULL LIMIT " + lim + ")");
        if (!d) { return d.error(); }
        done += static_cast<std::size_t>(*d);
      }
      return {};
    });
    if (!st) { co_return st.error(); }
    co_return done;
  }

 private:
  // The one access check: whoever node_by_id lets see the node.
  awaitable<Result<Node>> visible(const std::string& user, std::int64_t node_id) {
    auto n = co_await box_.node_by_id(user, node_id);
    if (!n && n.error().code == Errc::not_found) { co_return no_node(); }
    co_return n;
  }

  static Result<std::string> search_key(const std::string& term, std::size_t limit) {
    if (limit == 0 || limit > 100) { return make_error(Errc::invalid_argument, "A search returns 1 to 100 results a page"); }
    if (term.size() > 255) { return make_error(Errc::invalid_argument, "A search term has at most 255 bytes"); }
    auto key = utf8_map(term, UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD);
    if (!key) { return key.error(); }
    if (key->empty()) { return make_error(Errc::invalid_argument, "A search needs a term"); }
    return key;
  }

  static Result<Comment> find_comment(Tx& tx, std::int64_t node_id, std::int64_t comment_id) {
    auto r = tx.one(std::string("SELECT ") + std::string(kCommentCols) + " FROM box_comments WHERE id = $1 AND node_id = $2",
                    {Value{comment_id}, Value{node_id}});
    if (!r) { return r.error(); }
    if (!*r) { return make_error(Errc::not_found, "No such comment"); }
    return comment_from(**r);
  }

  static Result<Tag> own_tag(Tx& tx, const std::string& user, std::int64_t tag_id) {
    auto r = tx.one(std::string("SELECT ") + std::string(kTagCols) + " FROM box_tags t WHERE t.id = $1 AND t.owner = $2", {Value{tag_id}, Value{user}});
    if (!r) { return r.error(); }
    if (!*r) { return no_tag(); }
    return tag_from(**r);
  }

  store::MetaStore& meta_;
  BoxService& box_;
};

}  // namespace

std::string fold_case(std::string_view text) {
  auto f = utf8_map(text, UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD);
  return f ? *f : std::string(text);
}

std::vector<store::Migration> collab_migrations() {
  return {{"box_collab", 1, dialect(std::string(kV1), "INTEGER PRIMARY KEY AUTOINCREMENT"), dialect(std::string(kV1), "BIGSERIAL PRIMARY KEY")}};
}

boost::asio::awaitable<void> run_collab_reaper(CollabService& collab, std::chrono::milliseconds interval, store::Lease* lease) {
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
  for (;;) {
    timer.expires_after(interval);
    co_await timer.async_wait(boost::asio::use_awaitable);
    if (lease != nullptr && !co_await lease->hold()) { continue; }
    auto n = co_await collab.reap(1000);
    if (!n) {
      log::warn("box: collab reaper: {} {}", n.error().message, n.error().detail);
    } else if (*n > 0) {
      log::info("box: reaped {} comments, favorites and tag assignments of purged files", *n);
    }
  }
}

std::unique_ptr<CollabService> make_collab_service(store::MetaStore& meta, BoxService& box) { return std::make_unique<Collab>(meta, box); }

}  // namespace ciel::box
