#include "store/meta_store.h"

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <map>

namespace ciel::store {

std::int64_t Row::integer(std::size_t i) const {
  const Value& v = values_.at(i);
  if (const auto* n = std::get_if<std::int64_t>(&v)) { return *n; }
  if (const auto* d = std::get_if<double>(&v)) { return static_cast<std::int64_t>(*d); }
  if (const auto* s = std::get_if<std::string>(&v)) {
    std::int64_t out = 0;
    std::from_chars(s->data(), s->data() + s->size(), out);
    return out;
  }
  return 0;
}

double Row::real(std::size_t i) const {
  const Value& v = values_.at(i);
  if (const auto* n = std::get_if<std::int64_t>(&v)) { return static_cast<double>(*n); }
  if (const auto* d = std::get_if<double>(&v)) { return *d; }
  if (const auto* s = std::get_if<std::string>(&v)) { return std::strtod(s->c_str(), nullptr); }
  return 0;
}

std::string Row::text(std::size_t i) const {
  const Value& v = values_.at(i);
  if (const auto* s = std::get_if<std::string>(&v)) { return *s; }
  if (const auto* n = std::get_if<std::int64_t>(&v)) { return std::to_string(*n); }
  if (const auto* d = std::get_if<double>(&v)) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.17g", *d);
    return buf;
  }
  return {};
}

std::optional<std::string> Row::opt_text(std::size_t i) const {
  if (is_null(i)) { return std::nullopt; }
  return text(i);
}

Result<std::int64_t> Tx::exec(std::string_view sql, std::initializer_list<Value> params) {
  auto r = query(sql, std::span<const Value>(params.begin(), params.size()));
  if (!r) { return r.error(); }
  return r->affected;
}

Result<std::optional<Row>> Tx::one(std::string_view sql, std::initializer_list<Value> params) {
  auto r = query(sql, std::span<const Value>(params.begin(), params.size()));
  if (!r) { return r.error(); }
  if (r->rows.empty()) { return std::optional<Row>{}; }
  return std::optional<Row>{std::move(r->rows.front())};
}

namespace {
// Splits a migration script on ';' outside quotes.
std::vector<std::string> split_statements(std::string_view sql) {
  std::vector<std::string> out;
  std::string cur;
  bool in_quote = false;
  for (char c : sql) {
    if (c == '\'') { in_quote = !in_quote; }
    if (c == ';' && !in_quote) {
      if (cur.find_first_not_of(" \t\r\n") != std::string::npos) { out.push_back(cur); }
      cur.clear();
      continue;
    }
    cur.push_back(c);
  }
  if (cur.find_first_not_of(" \t\r\n") != std::string::npos) { out.push_back(cur); }
  return out;
}
}  // namespace

namespace {
// Nodes starting together on one PostgreSQL database take turns at each migration step (SQLite's
// single writer already does): the one that waited then finds the step done.
Status take_turns(Tx& tx, bool pg) {
  if (!pg) { return {}; }
  auto lock = tx.query("SELECT pg_advisory_xact_lock(7305084279164519)");
  if (!lock) { return lock.error(); }
  return {};
}
}  // namespace

Status migrate(MetaStore& store, std::span<const Migration> migrations) {
  bool pg = store.backend() == "postgres";
  auto st = store.transact_sync([&](Tx& tx) -> Status {
    if (auto turn = take_turns(tx, pg); !turn) { return turn; }
    auto r = tx.exec("CREATE TABLE IF NOT EXISTS schema_migrations (module TEXT NOT NULL, version BIGINT NOT NULL, "
                     "applied_at BIGINT NOT NULL, PRIMARY KEY (module, version))");
    if (!r) { return r.error(); }
    return {};
  });
  if (!st) { return st; }
  // A database written by a newer Ciel may hold data this binary does not understand.
  std::map<std::string, int> known;
  for (const auto& m : migrations) { known[m.module] = std::max(known[m.module], m.version); }
  for (const auto& [module, newest] : known) {
    st = store.read_sync([&](Tx& tx) -> Status {
      auto r = tx.one("SELECT MAX(version) FROM schema_migrations WHERE module = $1", {module});
      if (!r) { return r.error(); }
      if (*r && !(*r)->is_null(0) && (*r)->integer(0) > newest) {
        return make_error(Errc::conflict, "the database was written by a newer Ciel (module " + module + " schema " +
                                              std::to_string((*r)->integer(0)) + ", this binary knows " + std::to_string(newest) + ")");
      }
      return {};
    });
    if (!st) { return st; }
  }
  for (const auto& m : migrations) {
    st = store.transact_sync([&](Tx& tx) -> Status {
      if (auto turn = take_turns(tx, pg); !turn) { return turn; }
      auto have = tx.one("SELECT version FROM schema_migrations WHERE module = $1 AND version = $2", {m.module, std::int64_t{m.version}});
      if (!have) { return have.error(); }
      if (*have) { return {}; }
      const std::string& text = pg && !m.postgres_sql.empty() ? m.postgres_sql : m.sql;
      for (const auto& stmt : split_statements(text)) {
        auto r = tx.exec(stmt);
        if (!r) {
          return make_error(Errc::internal, "migration " + m.module + "/" + std::to_string(m.version) + " failed",
                            r.error().message + ": " + r.error().detail);
        }
      }
      auto rec = tx.exec("INSERT INTO schema_migrations (module, version, applied_at) VALUES ($1, $2, $3)",
                         {m.module, std::int64_t{m.version}, std::int64_t{static_cast<std::int64_t>(std::time(nullptr))}});
      if (!rec) { return rec.error(); }
      return {};
    });
    if (!st) { return st; }
  }
  return {};
}

Result<std::unique_ptr<MetaStore>> open_meta_store(std::string_view url) {
  if (url.starts_with("sqlite:")) {
    SqliteConfig c;
    c.path = std::string(url.substr(7));
    return open_sqlite_meta_store(c);
  }
  if (url.starts_with("postgresql://") || url.starts_with("postgres://")) {
    PostgresConfig c;
    c.conninfo = std::string(url);
    return open_postgres_meta_store(c);
  }
  return make_error(Errc::invalid_argument, "unknown metadata store URL (expected sqlite:PATH or postgresql://...)");
}

}  // namespace ciel::store
