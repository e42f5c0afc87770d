// PostgreSQL backend of the MetaStore (libpq). A pool of up to `pool_size` connections; each
// transaction runs on one connection, on the calling (blocking-pool) thread:
//   transact: BEGIN (READ COMMITTED, PostgreSQL's default) ... COMMIT
//   read:     BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY ... COMMIT
// READ COMMITTED gives each statement its own snapshot, unlike SQLite, which runs one writer at
// a time: engines write read-modify-write as one atomic statement (UPDATE ... SET n = n + $1,
// INSERT ... ON CONFLICT, UPDATE ... WHERE version = $2 and check the affected rows), which is
// correct on both backends. read() asks for REPEATABLE READ so that a multi-statement read sees
// one snapshot, as the interface promises; read-only transactions never fail serialization there.
//
// Statements are prepared once per connection and SQL text (PQprepare, parameter types inferred
// by the server), then run with PQexecPrepared; parameters go as text and results come back as
// text, converted by column type: int2/int4/int8/bool -> integer, float4/float8 -> real, numeric
// -> integer when it is a whole number that fits (so SUM(bigint) agrees with SQLite), otherwise
// real; everything else -> text; NULL -> monostate.
//
// Errors: SQLSTATE 23505 -> already_exists; 23503/23514/23502 -> conflict; 40001/40P01 (and a
// cached plan invalidated by DDL) -> the whole transaction function runs again, a bounded number
// of times with jittered backoff; a lost connection -> reconnect once and run again, else
// unavailable (never after COMMIT was sent: its outcome is then unknown); anything else ->
// internal with the SQL and the server's message in `detail`. As on PostgreSQL generally (and,
// by the Tx contract, on SQLite too), a failed statement aborts the transaction.
#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "core/blocking.h"
#include "core/log/log.h"
#include "store/meta_store.h"

namespace ciel::store {
namespace {

// Type OIDs from the server's catalog (pg_type.dat); stable across versions.
constexpr Oid kBoolOid = 16;
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;
constexpr Oid kFloat4Oid = 700;
constexpr Oid kFloat8Oid = 701;
constexpr Oid kNumericOid = 1700;

constexpr int kMaxAttempts = 10;                             // runs of one transaction function on serialization failures
constexpr std::size_t kMaxPreparedPerConnection = 1000;      // past this, a connection forgets its statements
constexpr auto kAcquireTimeout = std::chrono::seconds(30);   // waiting for a free pooled connection
constexpr const char* kConnectTimeoutSeconds = "10";         // unless the conninfo sets connect_timeout

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using PgResult = std::unique_ptr<PGresult, ResultDeleter>;

// What went wrong in the current transaction, worst last.
enum class Failure { none, statement, retry, connection };

std::string_view sqlstate_of(const PGresult* res) {
  const char* s = res != nullptr ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  return s != nullptr ? std::string_view(s) : std::string_view();
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) { s.pop_back(); }
  return s;
}

void ignore_notice(void*, const char* message) { log::debug("postgres: {}", trim(message)); }

Value convert(Oid type, const char* text, int length) {
  std::string_view s(text, static_cast<std::size_t>(length));
  switch (type) {
    case kBoolOid: return Value{std::int64_t{s == "t" ? 1 : 0}};
    case kInt2Oid:
    case kInt4Oid:
    case kInt8Oid: {
      std::int64_t n = 0;
      std::from_chars(s.data(), s.data() + s.size(), n);
      return Value{n};
    }
    case kNumericOid: {
      std::int64_t n = 0;
      auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
      if (ec == std::errc() && end == s.data() + s.size()) { return Value{n}; }
      return Value{std::strtod(text, nullptr)};  // also reads NaN and Infinity
    }
    case kFloat4Oid:
    case kFloat8Oid: return Value{std::strtod(text, nullptr)};
    default: return Value{std::string(s)};
  }
}

// Text form of a parameter; false if PostgreSQL cannot carry it (a NUL byte in text).
bool param_text(const Value& v, std::string& out) {
  if (const auto* n = std::get_if<std::int64_t>(&v)) {
    out = std::to_string(*n);
  } else if (const auto* d = std::get_if<double>(&v)) {
    char buf[64];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, *d);  // shortest text that reads back exactly
    out.assign(buf, end);
  } else if (const auto* s = std::get_if<std::string>(&v)) {
    if (s->find('\0') != std::string::npos) { return false; }
    out = *s;
  }
  return true;
}

class PgConnection final : public Tx {
 public:
  explicit PgConnection(PGconn* conn) : conn_(conn) { PQsetNoticeProcessor(conn_, ignore_notice, nullptr); }
  ~PgConnection() override { PQfinish(conn_); }
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  bool connected() const { return PQstatus(conn_) == CONNECTION_OK; }
  bool idle() const { return connected() && PQtransactionStatus(conn_) == PQTRANS_IDLE; }

  // Reconnects with the same parameters; the server forgot the prepared statements.
  Status reconnect() {
    prepared_.clear();
    PQreset(conn_);
    if (!connected()) { return make_error(Errc::unavailable, "database unavailable", trim(PQerrorMessage(conn_))); }
    PQsetNoticeProcessor(conn_, ignore_notice, nullptr);
    return {};
  }

  // Called between transactions.
  void start() {
    failure_ = Failure::none;
    first_error_.reset();
    if (forget_statements_ || prepared_.size() > kMaxPreparedPerConnection) {
      PgResult r(PQexec(conn_, "DEALLOCATE ALL"));
      prepared_.clear();
      forget_statements_ = false;
    }
  }

  Failure failure() const { return failure_; }

  // BEGIN, COMMIT, ROLLBACK: simple protocol, never cached.
  Status command(const char* sql) {
    PgResult res(PQexec(conn_, sql));
    if (res == nullptr || PQresultStatus(res.get()) != PGRES_COMMAND_OK) { return fail(res.get(), sql); }
    if (std::strcmp(sql, "COMMIT") == 0 && std::strcmp(PQcmdStatus(res.get()), "COMMIT") != 0) {
      // The server rolled back instead (an aborted transaction that slipped through).
      return make_error(Errc::internal, "database error", std::string("COMMIT answered ") + PQcmdStatus(res.get()));
    }
    return {};
  }

  Result<Rows> query(std::string_view sql, std::span<const Value> params) override {
    if (failure_ != Failure::none) {
      Error e = *first_error_;
      if (failure_ == Failure::statement) {
        e = make_error(Errc::internal, "statement after a failed statement in the same transaction",
                       "[" + std::string(sql.substr(0, 200)) + "] after: " + first_error_->detail);
      }
      return e;
    }
    std::vector<std::string> texts(params.size());
    std::vector<const char*> values(params.size(), nullptr);
    for (std::size_t i = 0; i < params.size(); ++i) {
      if (std::holds_alternative<std::monostate>(params[i])) { continue; }
      if (!param_text(params[i], texts[i])) {
        return record(Failure::statement, make_error(Errc::invalid_argument, "text contains a NUL byte",
                                                     "parameter $" + std::to_string(i + 1) + " [" + std::string(sql.substr(0, 200)) + "]"));
      }
      values[i] = texts[i].c_str();
    }

    auto it = prepared_.find(sql);
    bool cached = it != prepared_.end();
    if (!cached) {
      std::string name = "ciel_" + std::to_string(++next_statement_);
      std::string text(sql);
      PgResult res(PQprepare(conn_, name.c_str(), text.c_str(), 0, nullptr));
      if (res == nullptr || PQresultStatus(res.get()) != PGRES_COMMAND_OK) { return fail(res.get(), sql); }
      it = prepared_.emplace(std::move(text), std::move(name)).first;
    }
    PgResult res(PQexecPrepared(conn_, it->second.c_str(), static_cast<int>(params.size()), values.data(), nullptr, nullptr, 0));
    ExecStatusType status = res != nullptr ? PQresultStatus(res.get()) : PGRES_FATAL_ERROR;
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK && status != PGRES_EMPTY_QUERY) {
      if (cached && sqlstate_of(res.get()) == "0A000") {
        // "cached plan must not change result type": DDL changed a table under a statement
        // prepared in an earlier transaction. Forget the statements and run the transaction
        // again; the retry prepares afresh, so it cannot loop on this.
        forget_statements_ = true;
        return record(Failure::retry, make_error(Errc::unavailable, "statement invalidated by a schema change", detail_of(res.get(), sql)));
      }
      return fail(res.get(), sql);
    }

    Rows out;
    int nrows = PQntuples(res.get());
    int ncols = PQnfields(res.get());
    out.rows.reserve(static_cast<std::size_t>(nrows));
    std::vector<Oid> types(static_cast<std::size_t>(ncols));
    for (int c = 0; c < ncols; ++c) { types[static_cast<std::size_t>(c)] = PQftype(res.get(), c); }
    for (int r = 0; r < nrows; ++r) {
      std::vector<Value> vals;
      vals.reserve(static_cast<std::size_t>(ncols));
      for (int c = 0; c < ncols; ++c) {
        if (PQgetisnull(res.get(), r, c) != 0) {
          vals.emplace_back();
        } else {
          vals.push_back(convert(types[static_cast<std::size_t>(c)], PQgetvalue(res.get(), r, c), PQgetlength(res.get(), r, c)));
        }
      }
      out.rows.emplace_back(std::move(vals));
    }
    const char* tuples = PQcmdTuples(res.get());
    std::from_chars(tuples, tuples + std::strlen(tuples), out.affected);
    return out;
  }

 private:
  std::string detail_of(const PGresult* res, std::string_view sql) const {
    std::string msg = res != nullptr ? PQresultErrorMessage(res) : "";
    if (msg.empty()) { msg = PQerrorMessage(conn_); }
    std::string state(sqlstate_of(res));
    return trim(msg) + (state.empty() ? "" : " [SQLSTATE " + state + "]") + " [" + std::string(sql.substr(0, 200)) + "]";
  }

  Error record(Failure f, Error e) {
    if (static_cast<int>(f) > static_cast<int>(failure_)) { failure_ = f; }
    if (!first_error_) { first_error_ = e; }
    return e;
  }

  // Classifies a failed statement and marks the transaction accordingly.
  Error fail(const PGresult* res, std::string_view sql) {
    std::string_view state = sqlstate_of(res);
    std::string detail = detail_of(res, sql);
    if (!connected() || state == "57P01" || state == "57P02" || state == "57P03") {
      return record(Failure::connection, make_error(Errc::unavailable, "database connection lost", detail));
    }
    if (state == "40001" || state == "40P01") {
      return record(Failure::retry, make_error(Errc::unavailable, "transaction conflict", detail));
    }
    if (state == "23505") { return record(Failure::statement, make_error(Errc::already_exists, "already exists", detail)); }
    if (state == "23503" || state == "23514" || state == "23502") {
      return record(Failure::statement, make_error(Errc::conflict, "constraint violated", detail));
    }
    return record(Failure::statement, make_error(Errc::internal, "database error", detail));
  }

  PGconn* conn_;
  std::map<std::string, std::string, std::less<>> prepared_;  // SQL text -> statement name
  std::uint64_t next_statement_ = 0;
  bool forget_statements_ = false;
  Failure failure_ = Failure::none;
  std::optional<Error> first_error_;
};

Result<std::unique_ptr<PgConnection>> connect(const std::string& conninfo) {
  // Later keywords win: the conninfo may override the timeout and name, not the encoding.
  const char* keys[] = {"connect_timeout", "application_name", "dbname", "client_encoding", nullptr};
  const char* vals[] = {kConnectTimeoutSeconds, "ciel", conninfo.c_str(), "UTF8", nullptr};
  PGconn* conn = PQconnectdbParams(keys, vals, 1);
  if (conn == nullptr) { return make_error(Errc::unavailable, "database unavailable", "out of memory"); }
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string msg = trim(PQerrorMessage(conn));
    PQfinish(conn);
    return make_error(Errc::unavailable, "database unavailable", msg);
  }
  return std::make_unique<PgConnection>(conn);
}

void backoff(int attempt) {
  thread_local std::minstd_rand rng{std::random_device{}()};
  int cap_ms = std::min(100, 2 << std::min(attempt, 6));
  std::uniform_int_distribution<int> dist(cap_ms / 2, cap_ms);
  std::this_thread::sleep_for(std::chrono::milliseconds(dist(rng)));
}

class PostgresStore final : public MetaStore {
 public:
  explicit PostgresStore(PostgresConfig c) : config_(std::move(c)) { config_.pool_size = std::max(1u, config_.pool_size); }

  // Opens the first connection now so that a bad URL or a down server fails at startup.
  Status open() {
    char* err = nullptr;
    PQconninfoOption* opts = PQconninfoParse(config_.conninfo.c_str(), &err);
    if (opts == nullptr) {
      std::string msg = err != nullptr ? trim(err) : "out of memory";
      PQfreemem(err);
      return make_error(Errc::invalid_argument, "invalid PostgreSQL connection string", msg);
    }
    PQconninfoFree(opts);
    auto conn = connect(config_.conninfo);
    if (!conn) { return conn.error(); }
    idle_.push_back(std::move(*conn));
    total_ = 1;
    return {};
  }

  boost::asio::awaitable<Status> transact(TxFn fn) override {
    co_return co_await run_blocking([this, &fn] { return run(fn, false); });
  }
  boost::asio::awaitable<Status> read(TxFn fn) override {
    co_return co_await run_blocking([this, &fn] { return run(fn, true); });
  }
  Status transact_sync(const TxFn& fn) override { return run(fn, false); }
  Status read_sync(const TxFn& fn) override { return run(fn, true); }
  std::string_view backend() const override { return "postgres"; }
  Result<std::unique_ptr<Subscription>> subscribe(std::string channel, std::function<void()> on_notice) override;
  Status notify(Tx& tx, std::string_view channel) override {
    auto r = tx.query("SELECT pg_notify($1, '')", {std::string(channel)});
    if (!r) { return r.error(); }
    return {};
  }

 private:
  // A pooled connection, given back on destruction.
  class Lease {
   public:
    Lease(PostgresStore& store, std::unique_ptr<PgConnection> conn) : store_(&store), conn_(std::move(conn)) {}
    Lease(Lease&& o) noexcept : store_(o.store_), conn_(std::move(o.conn_)) {}
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (conn_) { store_->release(std::move(conn_)); }
    }
    PgConnection& operator*() const { return *conn_; }
    PgConnection* operator->() const { return conn_.get(); }

   private:
    PostgresStore* store_;
    std::unique_ptr<PgConnection> conn_;
  };

  Result<Lease> acquire() {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, kAcquireTimeout, [this] { return !idle_.empty() || total_ < config_.pool_size; })) {
      return make_error(Errc::unavailable, "database busy", "no pooled connection became free");
    }
    if (!idle_.empty()) {
      auto conn = std::move(idle_.back());
      idle_.pop_back();
      return Lease(*this, std::move(conn));
    }
    ++total_;
    lock.unlock();
    auto conn = connect(config_.conninfo);
    if (!conn) {
      lock.lock();
      --total_;
      lock.unlock();
      cv_.notify_one();
      return conn.error();
    }
    return Lease(*this, std::move(*conn));
  }

  void release(std::unique_ptr<PgConnection> conn) {
    {
      std::lock_guard lock(mu_);
      if (conn->idle()) {
        idle_.push_back(std::move(conn));
      } else {
        --total_;  // closed below, outside the lock
      }
    }
    cv_.notify_one();
  }

  // One transaction, on one pooled connection for all its attempts.
  Status run(const TxFn& fn, bool read_only) {
    const char* begin = read_only ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY" : "BEGIN";
    auto lease = acquire();
    if (!lease) { return lease.error(); }
    PgConnection& conn = **lease;
    bool reconnected = false;
    // Reconnects once per transaction; a pooled connection may have died while idle (server
    // restart, idle timeout, pg_terminate_backend) and only shows it when used.
    auto reconnect_once = [&]() -> Status {
      if (reconnected) { return make_error(Errc::unavailable, "database unavailable", "connection lost again after reconnecting"); }
      reconnected = true;
      return conn.reconnect();
    };
    for (int attempt = 1;; ++attempt) {
      if (!conn.connected()) {
        if (auto st = reconnect_once(); !st) { return st; }
      }
      conn.start();
      if (auto st = conn.command(begin); !st) {
        if (conn.failure() == Failure::connection) {
          if (auto re = reconnect_once(); !re) { return re; }
          continue;
        }
        return st;
      }
      Status result;
      try {
        result = fn(conn);
      } catch (...) {
        (void)conn.command("ROLLBACK");  // keeps the connection usable; the exception goes on
        throw;
      }
      Failure failure = conn.failure();
      if (failure == Failure::none && result) {
        auto commit = conn.command("COMMIT");
        if (commit) { return {}; }
        if (conn.failure() == Failure::connection) {
          // Never retried: the server may have committed before the connection broke.
          return make_error(Errc::unavailable, "database connection lost during commit; the outcome is unknown", commit.error().detail);
        }
        if (conn.failure() == Failure::retry && attempt < kMaxAttempts) {
          backoff(attempt);
          continue;
        }
        return commit;
      }
      if (failure != Failure::connection) { (void)conn.command("ROLLBACK"); }
      switch (failure) {
        case Failure::retry:
          if (attempt < kMaxAttempts) {
            backoff(attempt);
            continue;
          }
          return make_error(Errc::unavailable, "database busy", "transaction still conflicting after " + std::to_string(attempt) + " attempts");
        case Failure::connection:
          if (auto re = reconnect_once(); !re) { return re; }
          continue;
        case Failure::statement:
          if (result) {
            return make_error(Errc::internal, "database error",
                              "the transaction function returned success after a failed statement; the transaction was rolled back");
          }
          return result;
        case Failure::none: return result;
      }
      return result;
    }
  }

  PostgresConfig config_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<PgConnection>> idle_;
  unsigned total_ = 0;  // connections open or being opened, idle or leased
};

}  // namespace

// One connection of its own, LISTENing; a thread waits on its socket (half a second at a time,
// to notice the stop) and reconnects with back-off when the server goes away.
class PgSubscription final : public MetaStore::Subscription {
 public:
  PgSubscription(std::string conninfo, std::string channel, std::function<void()> on_notice)
      : conninfo_(std::move(conninfo)), channel_(std::move(channel)), on_notice_(std::move(on_notice)) {}
  ~PgSubscription() override {
    stop_ = true;
    if (thread_.joinable()) { thread_.join(); }
    close();
  }

  Status start() {
    if (auto st = open(); !st) { return st; }
    thread_ = std::thread([this] { run(); });
    return {};
  }

 private:
  Status open() {
    const char* keys[] = {"connect_timeout", "application_name", "dbname", nullptr};
    const char* vals[] = {kConnectTimeoutSeconds, "ciel-listen", conninfo_.c_str(), nullptr};
    conn_ = PQconnectdbParams(keys, vals, 1);
    if (conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK) {
      std::string msg = conn_ != nullptr ? trim(PQerrorMessage(conn_)) : "out of memory";
      close();
      return make_error(Errc::unavailable, "database unavailable", msg);
    }
    char* quoted = PQescapeIdentifier(conn_, channel_.data(), channel_.size());
    std::string sql = std::string("LISTEN ") + (quoted != nullptr ? quoted : "");
    PQfreemem(quoted);
    PGresult* r = PQexec(conn_, sql.c_str());
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    if (!ok) {
      std::string msg = trim(PQerrorMessage(conn_));
      close();
      return make_error(Errc::unavailable, "cannot LISTEN on " + channel_, msg);
    }
    return {};
  }
  void close() {
    if (conn_ != nullptr) { PQfinish(conn_); }
    conn_ = nullptr;
  }

  void run() {
    int attempt = 0;
    while (!stop_) {
      if (conn_ == nullptr) {
        std::this_thread::sleep_for(std::chrono::milliseconds(std::min(5000, 100 << std::min(attempt++, 6))));
        if (stop_ || !open()) { continue; }
        attempt = 0;
        on_notice_();  // what changed while we were away
      }
      pollfd pfd{PQsocket(conn_), POLLIN, 0};
      int n = ::poll(&pfd, 1, 500);
      if (n < 0 && errno != EINTR) {
        close();
        continue;
      }
      if (n <= 0) { continue; }
      if (PQconsumeInput(conn_) == 0) {
        close();
        continue;
      }
      bool heard = false;
      while (PGnotify* note = PQnotifies(conn_)) {
        heard = true;
        PQfreemem(note);
      }
      if (heard) { on_notice_(); }  // several notices in a burst: one re-read
    }
  }

  std::string conninfo_;
  std::string channel_;
  std::function<void()> on_notice_;
  PGconn* conn_ = nullptr;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

Result<std::unique_ptr<MetaStore::Subscription>> PostgresStore::subscribe(std::string channel, std::function<void()> on_notice) {
  auto sub = std::make_unique<PgSubscription>(config_.conninfo, std::move(channel), std::move(on_notice));
  if (auto st = sub->start(); !st) { return st.error(); }
  return std::unique_ptr<Subscription>(std::move(sub));
}

Result<std::unique_ptr<MetaStore>> open_postgres_meta_store(const PostgresConfig& config) {
  auto store = std::make_unique<PostgresStore>(config);
  if (auto st = store->open(); !st) { return st.error(); }
  return std::unique_ptr<MetaStore>(std::move(store));
}

}  // namespace ciel::store
