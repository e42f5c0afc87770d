// SQLite backend of the MetaStore: one writer connection behind a mutex (SQLite allows one
// writer at a time anyway) and a small pool of reader connections, all in WAL mode so readers
// never block the writer. Prepared statements are cached per connection.
#include <sqlite3.h>

#include <condition_variable>
#include <map>
#include <exception>
#include <filesystem>
#include <mutex>
#include <thread>

#include "core/blocking.h"
#include "core/log/log.h"
#include "store/meta_store.h"

namespace ciel::store {
namespace {

Error sqlite_error(sqlite3* db, int rc, std::string_view sql) {
  int ext = sqlite3_extended_errcode(db);
  std::string msg = sqlite3_errmsg(db);
  std::string detail = msg + " [" + std::string(sql.substr(0, 200)) + "]";
  if (ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY) {
    return make_error(Errc::already_exists, "already exists", detail);
  }
  if ((rc & 0xff) == SQLITE_CONSTRAINT) { return make_error(Errc::conflict, "constraint violated", detail); }
  if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED) { return make_error(Errc::unavailable, "database busy", detail); }
  if ((rc & 0xff) == SQLITE_IOERR || (rc & 0xff) == SQLITE_FULL || (rc & 0xff) == SQLITE_CANTOPEN) {
    return make_error(Errc::unavailable, "database I/O failure", detail);
  }
  return make_error(Errc::internal, "database error", detail);
}

class Connection final : public Tx {
 public:
  explicit Connection(sqlite3* db) : db_(db) {}
  ~Connection() override {
    for (auto& [sql, stmt] : cache_) { sqlite3_finalize(stmt); }
    sqlite3_close_v2(db_);
  }

  Result<Rows> query(std::string_view sql, std::span<const Value> params) override {
    if (failed_) {
      return make_error(Errc::internal, "statement after a failed statement in the same transaction",
                        "[" + std::string(sql.substr(0, 200)) + "] after: " + first_error_);
    }
    auto out = run(sql, params);
    if (!out) {
      // PostgreSQL aborts a transaction at its first failed statement; SQLite would carry on.
      // Both behave like PostgreSQL so that code tested here is right there too.
      failed_ = true;
      first_error_ = out.error().detail;
    }
    return out;
  }

  // Called at BEGIN.
  void start() {
    failed_ = false;
    first_error_.clear();
  }
  bool failed() const { return failed_; }
  // An explicit transaction is still open (a COMMIT or ROLLBACK that did not take).
  bool in_transaction() const { return sqlite3_get_autocommit(db_) == 0; }

  Status raw(const char* sql) {
    char* err = nullptr;
    int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
      std::string msg = err != nullptr ? err : "?";
      sqlite3_free(err);
      if ((rc & 0xff) == SQLITE_BUSY) { return make_error(Errc::unavailable, "database busy", msg); }
      return make_error(Errc::unavailable, "database error", msg + " [" + sql + "]");
    }
    return {};
  }

 private:
  Result<Rows> run(std::string_view sql, std::span<const Value> params) {
    sqlite3_stmt* stmt = nullptr;
    auto it = cache_.find(sql);
    if (it != cache_.end()) {
      stmt = it->second;
    } else {
      int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
      if (rc != SQLITE_OK) { return sqlite_error(db_, rc, sql); }
      cache_.emplace(std::string(sql), stmt);
    }
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    for (std::size_t i = 0; i < params.size(); ++i) {
      // Parameters are written $1, $2, ...; SQLite numbers named parameters by first appearance,
      // so look each one up by name.
      std::string name = "$" + std::to_string(i + 1);
      int idx = sqlite3_bind_parameter_index(stmt, name.c_str());
      if (idx == 0) { continue; }
      const Value& v = params[i];
      int rc = SQLITE_OK;
      if (std::holds_alternative<std::monostate>(v)) {
        rc = sqlite3_bind_null(stmt, idx);
      } else if (const auto* n = std::get_if<std::int64_t>(&v)) {
        rc = sqlite3_bind_int64(stmt, idx, *n);
      } else if (const auto* d = std::get_if<double>(&v)) {
        rc = sqlite3_bind_double(stmt, idx, *d);
      } else {
        const auto& s = std::get<std::string>(v);
        if (s.find('\0') != std::string::npos) {
          // PostgreSQL cannot store it either; both backends refuse it.
          return make_error(Errc::invalid_argument, "text contains a NUL byte", "parameter " + name + " [" + std::string(sql.substr(0, 200)) + "]");
        }
        rc = sqlite3_bind_text64(stmt, idx, s.data(), s.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
      }
      if (rc != SQLITE_OK) { return sqlite_error(db_, rc, sql); }
    }
    Rows out;
    for (;;) {
      int rc = sqlite3_step(stmt);
      if (rc == SQLITE_DONE) { break; }
      if (rc != SQLITE_ROW) {
        Error e = sqlite_error(db_, rc, sql);
        sqlite3_reset(stmt);
        return e;
      }
      int n = sqlite3_column_count(stmt);
      std::vector<Value> vals;
      vals.reserve(static_cast<std::size_t>(n));
      for (int c = 0; c < n; ++c) {
        switch (sqlite3_column_type(stmt, c)) {
          case SQLITE_NULL: vals.emplace_back(); break;
          case SQLITE_INTEGER: vals.emplace_back(static_cast<std::int64_t>(sqlite3_column_int64(stmt, c))); break;
          case SQLITE_FLOAT: vals.emplace_back(sqlite3_column_double(stmt, c)); break;
          default: {
            const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt, c));
            vals.emplace_back(std::string(p != nullptr ? p : "", static_cast<std::size_t>(sqlite3_column_bytes(stmt, c))));
          }
        }
      }
      out.rows.emplace_back(std::move(vals));
    }
    out.affected = sqlite3_changes64(db_);
    sqlite3_reset(stmt);
    return out;
  }

  sqlite3* db_;
  bool failed_ = false;
  std::string first_error_;
  std::map<std::string, sqlite3_stmt*, std::less<>> cache_;
};

Result<std::unique_ptr<Connection>> open_connection(const SqliteConfig& config, bool readonly) {
  sqlite3* db = nullptr;
  // Readers open read-write (the WAL index needs it) and are then made query-only.
  int flags = SQLITE_OPEN_READWRITE | (readonly ? 0 : SQLITE_OPEN_CREATE) | SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(config.path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db != nullptr ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close_v2(db);
    return make_error(Errc::unavailable, "cannot open database " + config.path, msg);
  }
  sqlite3_busy_timeout(db, static_cast<int>(config.busy_timeout_ms));
  auto conn = std::make_unique<Connection>(db);
  if (!readonly) {
    if (auto st = conn->raw("PRAGMA journal_mode=WAL"); !st) { return st.error(); }
    if (auto st = conn->raw(config.synchronous_full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL"); !st) { return st.error(); }
  }
  if (auto st = conn->raw("PRAGMA foreign_keys=ON"); !st) { return st.error(); }
  // Reads through a shared mapping of the file instead of a pread copy per page: listings of
  // thousands of rows (a box folder, a container) spend less time copying pages.
  if (auto st = conn->raw("PRAGMA mmap_size=1073741824"); !st) { return st.error(); }
  if (readonly) {
    if (auto st = conn->raw("PRAGMA query_only=ON"); !st) { return st.error(); }
  }
  return conn;
}

Error swallowed_failure() {
  return make_error(Errc::internal, "database error",
                    "the transaction function returned success after a failed statement; the transaction was rolled back");
}

class SqliteStore final : public MetaStore {
 public:
  explicit SqliteStore(SqliteConfig c) : config_(std::move(c)) {}

  Status open() {
    auto w = open_connection(config_, false);
    if (!w) { return w.error(); }
    writer_ = std::move(*w);
    for (unsigned i = 0; i < std::max(1u, config_.readers); ++i) {
      auto r = open_connection(config_, true);
      if (!r) { return r.error(); }
      readers_.push_back(std::move(*r));
    }
    return {};
  }

  boost::asio::awaitable<Status> transact(TxFn fn) override {
    co_return co_await run_blocking([this, &fn] { return transact_sync(fn); });
  }
  boost::asio::awaitable<Status> read(TxFn fn) override {
    co_return co_await run_blocking([this, &fn] { return read_sync(fn); });
  }

  // Group commit: a commit costs an fsync, so transactions that arrive while one is committing
  // wait and then commit together. Each caller queues its function; whoever takes the writer
  // runs every queued function in one SQLite transaction, each inside its own savepoint (a
  // function that fails is rolled back alone), commits once, and hands each caller its result.
  // A caller whose function a previous leader already ran just returns that result.
  Status transact_sync(const TxFn& fn) override {
    Pending mine{&fn};
    {
      std::lock_guard q(queue_mu_);
      queue_.push_back(&mine);
    }
    {
      std::lock_guard lock(write_mu_);
      if (!mine.done) {
        std::vector<Pending*> batch;
        {
          std::lock_guard q(queue_mu_);
          batch.swap(queue_);
        }
        run_batch(batch);
      }
    }
    if (mine.exception) { std::rethrow_exception(mine.exception); }
    return std::move(mine.result);
  }

  Status read_sync(const TxFn& fn) override {
    // The reader goes back to the pool however the function ends, exceptions included.
    struct Lease {
      SqliteStore& store;
      std::unique_ptr<Connection> conn;
      ~Lease() {
        {
          std::lock_guard lock(store.read_mu_);
          store.readers_.push_back(std::move(conn));
        }
        store.read_cv_.notify_one();
      }
    };
    std::unique_lock lock(read_mu_);
    read_cv_.wait(lock, [this] { return !readers_.empty(); });
    Lease lease{*this, std::move(readers_.back())};
    readers_.pop_back();
    lock.unlock();
    Connection& conn = *lease.conn;
    auto st = conn.raw("BEGIN");
    if (!st) { return st; }
    conn.start();
    Status result;
    try {
      result = fn(conn);
    } catch (...) {
      (void)conn.raw("ROLLBACK");
      throw;
    }
    if (result && conn.failed()) { result = swallowed_failure(); }
    (void)conn.raw(result ? "COMMIT" : "ROLLBACK");
    // A reader back in the pool with its transaction still open would keep its snapshot, and
    // every later read on it would miss what was committed since.
    if (conn.in_transaction()) {
      log::error("sqlite: a read transaction did not end; rolling it back");
      (void)conn.raw("ROLLBACK");
    }
    return result;
  }

  std::string_view backend() const override { return "sqlite"; }

 private:
  struct Pending {
    const TxFn* fn;
    Status result;
    bool done = false;  // written and read under write_mu_
    std::exception_ptr exception;
  };

  // Runs on the writer, under write_mu_.
  void run_batch(std::vector<Pending*>& batch) {
    for (int attempt = 0;; ++attempt) {
      auto st = writer_->raw("BEGIN IMMEDIATE");
      if (!st) {
        if (st.error().message == "database busy" && attempt < 50) {
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
          continue;
        }
        for (auto* p : batch) { finish(*p, st); }
        return;
      }
      break;
    }
    for (auto* pp : batch) {
      Pending& p = *pp;
      if (auto sp = writer_->raw("SAVEPOINT ciel_tx"); !sp) {
        p.result = sp;
        continue;
      }
      writer_->start();
      Status result;
      try {
        result = (*p.fn)(*writer_);
        if (result && writer_->failed()) { result = swallowed_failure(); }
      } catch (...) {
        // Rethrown to the function's own caller; the rest of the batch goes on.
        p.exception = std::current_exception();
        result = make_error(Errc::internal, "transaction function threw");
      }
      if (!result) { (void)writer_->raw("ROLLBACK TO ciel_tx"); }
      (void)writer_->raw("RELEASE ciel_tx");
      p.result = std::move(result);
    }
    auto c = writer_->raw("COMMIT");
    if (!c) { (void)writer_->raw("ROLLBACK"); }
    for (auto* p : batch) {
      if (!c && p->result) {
        finish(*p, c);
      } else {
        p->done = true;
      }
    }
  }

  static void finish(Pending& p, const Status& st) {
    p.result = st;
    p.done = true;
  }

  std::mutex queue_mu_;
  std::vector<Pending*> queue_;
  SqliteConfig config_;
  std::mutex write_mu_;
  std::unique_ptr<Connection> writer_;
  std::mutex read_mu_;
  std::condition_variable read_cv_;
  std::vector<std::unique_ptr<Connection>> readers_;
};

}  // namespace

Result<std::unique_ptr<MetaStore>> open_sqlite_meta_store(const SqliteConfig& config) {
  auto store = std::make_unique<SqliteStore>(config);
  if (auto st = store->open(); !st) { return st.error(); }
  return std::unique_ptr<MetaStore>(std::move(store));
}

Status snapshot_sqlite_database(const std::string& path, const std::string& dest) {
  struct Db {
    sqlite3* db = nullptr;
    ~Db() { sqlite3_close_v2(db); }
  } src, out;
  std::error_code ec;
  if (std::filesystem::exists(dest, ec) || ec) { return make_error(Errc::unavailable, "cannot create " + dest, "it already exists"); }
  // Read-write without create (the WAL index needs write access; a missing file is an error).
  int rc = sqlite3_open_v2(path.c_str(), &src.db, SQLITE_OPEN_READWRITE, nullptr);
  if (rc != SQLITE_OK) {
    return make_error(Errc::unavailable, "cannot open database " + path, src.db != nullptr ? sqlite3_errmsg(src.db) : "out of memory");
  }
  sqlite3_busy_timeout(src.db, 10000);
  rc = sqlite3_open_v2(dest.c_str(), &out.db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_EXCLUSIVE, nullptr);
  if (rc != SQLITE_OK) {
    return make_error(Errc::unavailable, "cannot create " + dest, out.db != nullptr ? sqlite3_errmsg(out.db) : "out of memory");
  }
  sqlite3_busy_timeout(out.db, 10000);
  sqlite3_backup* backup = sqlite3_backup_init(out.db, "main", src.db, "main");
  if (backup == nullptr) { return make_error(Errc::unavailable, "cannot snapshot database " + path, sqlite3_errmsg(out.db)); }
  // All pages in one step: one read transaction, so the copy is one consistent state. Stepping in
  // pieces would restart whenever the server commits in between, and might never finish.
  do {
    rc = sqlite3_backup_step(backup, -1);
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) { sqlite3_sleep(50); }
  } while (rc == SQLITE_BUSY || rc == SQLITE_LOCKED || rc == SQLITE_OK);
  sqlite3_backup_finish(backup);
  if (rc != SQLITE_DONE) { return make_error(Errc::unavailable, "cannot snapshot database " + path, sqlite3_errstr(rc)); }
  // The copy is a plain rollback-journal file; ciel serve puts it back in WAL mode when it opens it.
  char* err = nullptr;
  if (sqlite3_exec(out.db, "PRAGMA journal_mode=DELETE", nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err != nullptr ? err : "?";
    sqlite3_free(err);
    return make_error(Errc::unavailable, "cannot snapshot database " + path, msg);
  }
  return {};
}

}  // namespace ciel::store
