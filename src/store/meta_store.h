// store/meta_store.h: the metadata store. One SQL-level interface, two backends with the same
// schema migrations and the same test suite: SQLite in WAL mode (default, embedded) and
// PostgreSQL through libpq (scale-out). SQL is written once in the common dialect: `$1`-style
// parameters, BIGINT/TEXT/DOUBLE PRECISION columns, INSERT ... ON CONFLICT, RETURNING.
// Booleans are BIGINT 0/1 and bytes are stored as text (hex or base64) so both backends agree.
//
// Every mutation runs in a transaction on the blocking pool (never on an I/O thread). A
// transaction function may run more than once when the backend asks to retry (busy, serialization
// failure), so it must have no side effects outside its Tx.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/result.h"

namespace ciel::store {

// NULL, integer, real, text.
using Value = std::variant<std::monostate, std::int64_t, double, std::string>;

inline Value null_value() { return Value{}; }
inline Value opt_text(const std::optional<std::string>& s) { return s ? Value{*s} : Value{}; }

class Row {
 public:
  explicit Row(std::vector<Value> values) : values_(std::move(values)) {}
  std::size_t size() const { return values_.size(); }
  bool is_null(std::size_t i) const { return std::holds_alternative<std::monostate>(values_.at(i)); }
  std::int64_t integer(std::size_t i) const;  // NULL reads as 0; text is parsed
  double real(std::size_t i) const;
  std::string text(std::size_t i) const;      // NULL reads as ""; numbers are formatted
  std::optional<std::string> opt_text(std::size_t i) const;
  bool boolean(std::size_t i) const { return integer(i) != 0; }
  const Value& value(std::size_t i) const { return values_.at(i); }

 private:
  std::vector<Value> values_;
};

struct Rows {
  std::vector<Row> rows;
  std::int64_t affected = 0;  // rows changed by INSERT/UPDATE/DELETE
  bool empty() const { return rows.empty(); }
};

// One transaction on one connection. Not thread-safe; valid only inside the function given to
// MetaStore::transact/read. Errors: Errc::already_exists on a unique violation, Errc::conflict on
// a foreign-key, check or NOT NULL violation, Errc::unavailable on connection or I/O failure,
// Errc::invalid_argument for text holding a NUL byte (PostgreSQL cannot store it),
// Errc::internal on a bad statement (the SQL text goes in `detail`).
// A failed statement aborts the transaction, on both backends (PostgreSQL's rule): later
// statements fail with Errc::internal, and the transaction rolls back even if the function then
// returns success (transact/read return Errc::internal). To tolerate an expected conflict, say so
// in the statement (INSERT ... ON CONFLICT DO NOTHING, then look at the affected rows).
class Tx {
 public:
  virtual ~Tx() = default;
  virtual Result<Rows> query(std::string_view sql, std::span<const Value> params) = 0;

  Result<Rows> query(std::string_view sql, std::initializer_list<Value> params = {}) {
    return query(sql, std::span<const Value>(params.begin(), params.size()));
  }
  Result<std::int64_t> exec(std::string_view sql, std::initializer_list<Value> params = {});
  Result<std::optional<Row>> one(std::string_view sql, std::initializer_list<Value> params = {});
};

using TxFn = std::function<Status(Tx&)>;

class MetaStore {
 public:
  virtual ~MetaStore() = default;
  // Runs `fn` in a read-write transaction; commits when it returns success, rolls back otherwise
  // and returns its error. SQLite runs one writer at a time; PostgreSQL runs writers concurrently
  // under READ COMMITTED, so a read-modify-write must be one statement (UPDATE ... SET n = n + $1,
  // INSERT ... ON CONFLICT, UPDATE ... WHERE version = $2 and check the affected rows).
  virtual boost::asio::awaitable<Status> transact(TxFn fn) = 0;
  // Runs `fn` in a read-only transaction (a consistent snapshot).
  virtual boost::asio::awaitable<Status> read(TxFn fn) = 0;
  // The same, for startup, the CLI and tests; never call these on an I/O thread.
  virtual Status transact_sync(const TxFn& fn) = 0;
  virtual Status read_sync(const TxFn& fn) = 0;
  virtual std::string_view backend() const = 0;  // "sqlite" or "postgres"

  // Change notices between the processes sharing a database (PostgreSQL LISTEN/NOTIFY): a
  // transaction calls notify() and, once it commits, `on_notice` runs on a thread of the
  // subscription's own in every subscribed process, this one included. Also run after the
  // subscription reconnects (notices may have been missed meanwhile). Notices are hints: a
  // subscriber re-reads what changed, and keeps polling as a backstop. Null when the backend has
  // no other processes to hear from (SQLite: one machine, one server).
  class Subscription {
   public:
    virtual ~Subscription() = default;  // stops and joins the thread
  };
  virtual Result<std::unique_ptr<Subscription>> subscribe(std::string channel, std::function<void()> on_notice) {
    (void)channel;
    (void)on_notice;
    return std::unique_ptr<Subscription>();
  }
  // Inside a transaction: the notice goes out when it commits (nothing if it rolls back).
  virtual Status notify(Tx& tx, std::string_view channel) {
    (void)tx;
    (void)channel;
    return {};
  }
};

// A numbered schema change of one module. `sql` may hold several statements separated by ';'.
// `postgres_sql`, when set, replaces `sql` on PostgreSQL (for the rare type that differs).
struct Migration {
  std::string module;
  int version = 0;
  std::string sql;
  std::string postgres_sql;
};

// Applies, in order, the migrations not yet recorded in the schema_migrations table; each in its
// own transaction with its record. Errc::conflict if the database is newer than this binary.
Status migrate(MetaStore& store, std::span<const Migration> migrations);

struct SqliteConfig {
  std::string path;              // database file; ":memory:" is not supported (readers need a file)
  unsigned readers = 4;          // read-only connections
  std::uint32_t busy_timeout_ms = 5000;
  bool synchronous_full = true;  // fsync every commit (acknowledged writes survive power loss)
};

struct PostgresConfig {
  std::string conninfo;          // libpq connection string or URL; connect_timeout defaults to 10 s
  unsigned pool_size = 8;        // connections at most, opened as needed; a transaction holds one
};

Result<std::unique_ptr<MetaStore>> open_sqlite_meta_store(const SqliteConfig& config);
Result<std::unique_ptr<MetaStore>> open_postgres_meta_store(const PostgresConfig& config);
// "sqlite:PATH" or "postgresql://..." / "postgres://...".
Result<std::unique_ptr<MetaStore>> open_meta_store(std::string_view url);

// Copies the SQLite database at `path` (which a server may be using) into the new file `dest`
// with SQLite's online backup API, in one read transaction: the copy is one committed state, and
// under WAL the server's writers carry on meanwhile. `dest` must not exist. Errc::unavailable on
// any failure (the message says which file; `detail` has SQLite's words).
Status snapshot_sqlite_database(const std::string& path, const std::string& dest);

}  // namespace ciel::store
