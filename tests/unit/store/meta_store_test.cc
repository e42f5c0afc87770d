// The MetaStore suite: one set of tests run against both backends, SQLite (a fresh file per
// test) and PostgreSQL at $CIEL_TEST_POSTGRES_URL (a fresh schema per test, dropped afterwards).
// scripts/test.sh starts a private PostgreSQL and sets the URL; without it the PostgreSQL tests
// fail rather than skip, so a run without PostgreSQL can never look green.
#include "store/meta_store.h"
#include "store/lease.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <limits>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "core/blocking.h"
#include "core/crypto/crypto.h"
#include "support/store_site.h"
#include "support/test_support.h"
#include "unit/store/crash_child.h"
#include "unit/store/crash_content.h"

namespace ciel::store {
namespace {

using namespace std::chrono_literals;

using test::Backend;
using test::describe;
using test::StoreSite;
using test::with_search_path;

// One-statement helpers.
Status exec(MetaStore& store, std::string sql, std::vector<Value> params = {}) {
  return store.transact_sync([&](Tx& tx) -> Status {
    auto r = tx.query(sql, params);
    if (!r) { return r.error(); }
    return {};
  });
}

Result<Rows> select(MetaStore& store, std::string sql, std::vector<Value> params = {}) {
  Rows out;
  auto st = store.read_sync([&](Tx& tx) -> Status {
    auto r = tx.query(sql, params);
    if (!r) { return r.error(); }
    out = std::move(*r);
    return {};
  });
  if (!st) { return st.error(); }
  return out;
}

std::int64_t count(MetaStore& store, const std::string& table) {
  auto r = select(store, "SELECT COUNT(*) FROM " + table);
  EXPECT_TRUE(r) << describe(r.error());
  if (!r || r->rows.size() != 1) { return -1; }
  return r->rows[0].integer(0);
}

class MetaStoreTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    std::string problem = site_.prepare();
    if (!problem.empty()) { GTEST_FAIL() << problem; }
    auto s = site_.open();
    ASSERT_TRUE(s) << describe(s.error());
    store_ = std::move(*s);
  }
  void TearDown() override {
    store_.reset();
    // Join the blocking pool's threads while OpenSSL is still initialised, so that the per-thread
    // state libpq gave them (TLS and SCRAM use OpenSSL) is freed rather than reported as a leak
    // after OpenSSL's own atexit cleanup. The next test starts a new pool.
    stop_blocking_pool();
  }

  MetaStore& store() { return *store_; }
  bool postgres() const { return GetParam() == Backend::postgres; }

  StoreSite site_{GetParam()};
  std::unique_ptr<MetaStore> store_;
};

// --- migrations --------------------------------------------------------------------------------

TEST_P(MetaStoreTest, MigrationsApplyOnceAndInOrder) {
  std::vector<Migration> migrations = {
      {"alpha", 1, "CREATE TABLE alpha_log (seq BIGINT PRIMARY KEY, note TEXT NOT NULL); INSERT INTO alpha_log (seq, note) VALUES (1, 'one')", {}},
      // Needs version 1 to have run first.
      {"alpha", 2, "INSERT INTO alpha_log (seq, note) SELECT MAX(seq) + 1, 'two' FROM alpha_log", {}},
      {"beta", 1, "CREATE TABLE beta (k TEXT PRIMARY KEY); INSERT INTO beta (k) VALUES ('a;b')", {}},
      {"gamma", 1, "CREATE TABLE gamma (which TEXT NOT NULL); INSERT INTO gamma (which) VALUES ('sqlite')",
       "CREATE TABLE gamma (which TEXT NOT NULL); INSERT INTO gamma (which) VALUES ('postgres')"},
  };
  ASSERT_OK(migrate(store(), migrations));
  ASSERT_OK(migrate(store(), migrations));  // a no-op the second time

  auto log = select(store(), "SELECT seq, note FROM alpha_log ORDER BY seq");
  ASSERT_OK(log);
  ASSERT_EQ(log->rows.size(), 2u);
  EXPECT_EQ(log->rows[0].text(1), "one");
  EXPECT_EQ(log->rows[1].integer(0), 2);
  EXPECT_EQ(log->rows[1].text(1), "two");
  auto beta = select(store(), "SELECT k FROM beta");
  ASSERT_OK(beta);
  ASSERT_EQ(beta->rows.size(), 1u);
  EXPECT_EQ(beta->rows[0].text(0), "a;b");  // ';' inside quotes does not split the script
  auto gamma = select(store(), "SELECT which FROM gamma");
  ASSERT_OK(gamma);
  ASSERT_EQ(gamma->rows.size(), 1u);
  EXPECT_EQ(gamma->rows[0].text(0), store().backend());
  auto recorded = select(store(), "SELECT module, version FROM schema_migrations ORDER BY module, version");
  ASSERT_OK(recorded);
  ASSERT_EQ(recorded->rows.size(), 4u);
  EXPECT_EQ(recorded->rows[0].text(0), "alpha");
  EXPECT_EQ(recorded->rows[1].integer(1), 2);

  // A later binary adds a migration: only that one runs.
  migrations.push_back({"alpha", 3, "INSERT INTO alpha_log (seq, note) SELECT MAX(seq) + 1, 'three' FROM alpha_log", {}});
  ASSERT_OK(migrate(store(), migrations));
  ASSERT_OK(migrate(store(), migrations));
  EXPECT_EQ(count(store(), "alpha_log"), 3);
  EXPECT_EQ(count(store(), "schema_migrations"), 5);
}

TEST_P(MetaStoreTest, DatabaseFromANewerBinaryIsRefused) {
  std::vector<Migration> newer = {{"eps", 1, "CREATE TABLE eps (x BIGINT)", {}}, {"eps", 2, "ALTER TABLE eps ADD COLUMN y BIGINT", {}}};
  ASSERT_OK(migrate(store(), newer));
  std::vector<Migration> older = {newer[0]};
  EXPECT_ERRC(migrate(store(), older), Errc::conflict);
  ASSERT_OK(migrate(store(), newer));
}

TEST_P(MetaStoreTest, FailedMigrationLeavesNothing) {
  std::vector<Migration> bad = {{"delta", 1, "CREATE TABLE delta (x BIGINT); INSERT INTO no_such_table (x) VALUES (1)", {}}};
  EXPECT_ERRC(migrate(store(), bad), Errc::internal);
  EXPECT_FALSE(select(store(), "SELECT x FROM delta"));  // the CREATE was rolled back too
  EXPECT_EQ(count(store(), "schema_migrations"), 0);

  std::vector<Migration> fixed = {{"delta", 1, "CREATE TABLE delta (x BIGINT); INSERT INTO delta (x) VALUES (1)", {}}};
  ASSERT_OK(migrate(store(), fixed));
  EXPECT_EQ(count(store(), "delta"), 1);
}

// --- values ------------------------------------------------------------------------------------

TEST_P(MetaStoreTest, ValuesRoundTripWithTheirTypes) {
  ASSERT_OK(exec(store(), "CREATE TABLE vals (id BIGINT PRIMARY KEY, i BIGINT, r DOUBLE PRECISION, t TEXT)"));
  const std::string utf8 = "h\xC3\xA9llo w\xC3\xB6rld \xE2\x80\x94 \xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E \xF0\x9F\x9A\x80";
  struct Case {
    std::int64_t id;
    Value i, r, t;
  };
  std::vector<Case> cases = {
      {1, std::numeric_limits<std::int64_t>::max(), 3.25, std::string("hello")},
      {2, std::numeric_limits<std::int64_t>::min(), -1e300, utf8},
      {3, std::int64_t{0}, 0.1, std::string()},  // empty text is not NULL
      {4, Value{}, Value{}, Value{}},
      {5, std::int64_t{-1}, 1.0 / 3.0, std::string("quote ' backslash \\ semicolon ; percent % dollar $1")},
  };
  ASSERT_OK(store().transact_sync([&](Tx& tx) -> Status {
    for (const auto& c : cases) {
      auto r = tx.exec("INSERT INTO vals (id, i, r, t) VALUES ($1, $2, $3, $4)", {c.id, c.i, c.r, c.t});
      if (!r) { return r.error(); }
      EXPECT_EQ(*r, 1);
    }
    return {};
  }));
  auto rows = select(store(), "SELECT id, i, r, t FROM vals ORDER BY id");
  ASSERT_OK(rows);
  ASSERT_EQ(rows->rows.size(), cases.size());
  for (std::size_t k = 0; k < cases.size(); ++k) {
    const Row& row = rows->rows[k];
    SCOPED_TRACE("row " + std::to_string(cases[k].id));
    EXPECT_EQ(row.value(0), Value{cases[k].id});
    EXPECT_EQ(row.value(1), cases[k].i);
    EXPECT_EQ(row.value(2), cases[k].r);
    EXPECT_EQ(row.value(3), cases[k].t);
  }
  EXPECT_TRUE(rows->rows[3].is_null(1));
  EXPECT_EQ(rows->rows[3].opt_text(3), std::nullopt);
  EXPECT_EQ(rows->rows[2].opt_text(3), std::optional<std::string>(""));

  // Filtering on UTF-8 text and on NULL.
  auto hit = select(store(), "SELECT id FROM vals WHERE t = $1", {utf8});
  ASSERT_OK(hit);
  ASSERT_EQ(hit->rows.size(), 1u);
  EXPECT_EQ(hit->rows[0].integer(0), 2);
  auto nulls = select(store(), "SELECT COUNT(*) FROM vals WHERE t IS NULL AND i IS NULL AND r IS NULL");
  ASSERT_OK(nulls);
  EXPECT_EQ(nulls->rows[0].value(0), Value{std::int64_t{1}});
}

TEST_P(MetaStoreTest, LargeTextRoundTrips) {
  ASSERT_OK(exec(store(), "CREATE TABLE docs (id BIGINT PRIMARY KEY, body TEXT NOT NULL)"));
  std::string body(1 << 20, 'x');
  for (std::size_t i = 0; i < body.size(); ++i) { body[i] = static_cast<char>('A' + (i * 7) % 58); }
  body.replace(1000, 4, "\xF0\x9F\x9A\x80");
  ASSERT_OK(exec(store(), "INSERT INTO docs (id, body) VALUES ($1, $2)", {std::int64_t{1}, body}));
  auto rows = select(store(), "SELECT body, LENGTH(body) FROM docs WHERE id = 1");
  ASSERT_OK(rows);
  ASSERT_EQ(rows->rows.size(), 1u);
  EXPECT_TRUE(rows->rows[0].text(0) == body) << "1 MiB text came back different";
  EXPECT_EQ(rows->rows[0].integer(1), static_cast<std::int64_t>(body.size()) - 3);  // characters, not bytes
}

TEST_P(MetaStoreTest, AggregatesAgreeAcrossBackends) {
  ASSERT_OK(exec(store(), "CREATE TABLE big (n BIGINT NOT NULL)"));
  const std::int64_t a = std::int64_t{1} << 60;
  ASSERT_OK(exec(store(), "INSERT INTO big (n) VALUES ($1), ($2), ($3)", {a, std::int64_t{1}, std::int64_t{2}}));
  // PostgreSQL's SUM(bigint) is numeric: whole numbers come back as exact integers.
  auto rows = select(store(), "SELECT SUM(n), COUNT(*), MAX(n), AVG(n) FROM big");
  ASSERT_OK(rows);
  EXPECT_EQ(rows->rows[0].value(0), Value{a + 3});
  EXPECT_EQ(rows->rows[0].value(1), Value{std::int64_t{3}});
  EXPECT_EQ(rows->rows[0].value(2), Value{a});
  EXPECT_NEAR(rows->rows[0].real(3), static_cast<double>(a) / 3, 1e3);
}

TEST_P(MetaStoreTest, TextWithNulIsRejected) {
  ASSERT_OK(exec(store(), "CREATE TABLE t (s TEXT)"));
  EXPECT_ERRC(exec(store(), "INSERT INTO t (s) VALUES ($1)", {std::string("a\0b", 3)}), Errc::invalid_argument);
  EXPECT_EQ(count(store(), "t"), 0);
}

TEST_P(MetaStoreTest, ParametersBindByNumberOutOfOrderAndRepeated) {
  ASSERT_OK(exec(store(), "CREATE TABLE p (a BIGINT, b TEXT, c BIGINT)"));
  // $2 before $1, and $1 twice.
  ASSERT_OK(exec(store(), "INSERT INTO p (b, a, c) VALUES ($2, $1, $1)", {std::int64_t{7}, std::string("seven")}));
  ASSERT_OK(exec(store(), "INSERT INTO p (c, b, a) VALUES ($1, $2, $1)", {std::int64_t{8}, std::string("eight")}));
  auto rows = select(store(), "SELECT a, b, c FROM p WHERE b = $2 AND a = $1 AND c = $1", {std::int64_t{7}, std::string("seven")});
  ASSERT_OK(rows);
  ASSERT_EQ(rows->rows.size(), 1u);
  EXPECT_EQ(rows->rows[0].value(0), Value{std::int64_t{7}});
  EXPECT_EQ(rows->rows[0].value(1), Value{std::string("seven")});
  EXPECT_EQ(rows->rows[0].value(2), Value{std::int64_t{7}});
  auto swapped = select(store(), "SELECT b FROM p WHERE a = $2 OR c = $1 ORDER BY b", {std::int64_t{7}, std::int64_t{8}});
  ASSERT_OK(swapped);
  ASSERT_EQ(swapped->rows.size(), 2u);
  EXPECT_EQ(swapped->rows[0].text(0), "eight");
  EXPECT_EQ(swapped->rows[1].text(0), "seven");

  // Ten parameters in reverse: $1 must not be taken for the start of $10.
  ASSERT_OK(exec(store(), "CREATE TABLE ten (c1 BIGINT, c2 BIGINT, c3 BIGINT, c4 BIGINT, c5 BIGINT, c6 BIGINT, c7 BIGINT, c8 BIGINT, c9 BIGINT, c10 BIGINT)"));
  std::vector<Value> params;
  for (std::int64_t i = 1; i <= 10; ++i) { params.emplace_back(i * 100); }
  ASSERT_OK(exec(store(), "INSERT INTO ten (c1, c2, c3, c4, c5, c6, c7, c8, c9, c10) VALUES ($10, $9, $8, $7, $6, $5, $4, $3, $2, $1)", params));
  auto ten = select(store(), "SELECT c1, c2, c9, c10 FROM ten");
  ASSERT_OK(ten);
  ASSERT_EQ(ten->rows.size(), 1u);
  EXPECT_EQ(ten->rows[0].integer(0), 1000);
  EXPECT_EQ(ten->rows[0].integer(1), 900);
  EXPECT_EQ(ten->rows[0].integer(2), 200);
  EXPECT_EQ(ten->rows[0].integer(3), 100);
}

// --- errors and rollback -------------------------------------------------------------------------

TEST_P(MetaStoreTest, ConstraintViolationsMapToErrc) {
  ASSERT_OK(exec(store(), "CREATE TABLE u (id BIGINT PRIMARY KEY, name TEXT NOT NULL UNIQUE, parent BIGINT REFERENCES u (id), n BIGINT CHECK (n >= 0))"));
  ASSERT_OK(exec(store(), "INSERT INTO u (id, name, parent, n) VALUES (1, 'root', NULL, 0)"));
  EXPECT_ERRC(exec(store(), "INSERT INTO u (id, name) VALUES ($1, $2)", {std::int64_t{1}, std::string("other")}), Errc::already_exists);
  EXPECT_ERRC(exec(store(), "INSERT INTO u (id, name) VALUES ($1, $2)", {std::int64_t{2}, std::string("root")}), Errc::already_exists);
  EXPECT_ERRC(exec(store(), "INSERT INTO u (id, name, parent) VALUES (3, 'orphan', 999)"), Errc::conflict);
  EXPECT_ERRC(exec(store(), "INSERT INTO u (id, name, n) VALUES (4, 'negative', -1)"), Errc::conflict);
  EXPECT_ERRC(exec(store(), "INSERT INTO u (id, name) VALUES (5, NULL)"), Errc::conflict);
  EXPECT_EQ(count(store(), "u"), 1);
}

TEST_P(MetaStoreTest, BadStatementIsInternalWithTheSqlInDetail) {
  auto st = exec(store(), "SELEC nonsense");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Errc::internal);
  EXPECT_NE(st.error().detail.find("SELEC nonsense"), std::string::npos) << st.error().detail;
}

TEST_P(MetaStoreTest, FailingTransactionFunctionRollsBackEverything) {
  ASSERT_OK(exec(store(), "CREATE TABLE kv (k TEXT PRIMARY KEY, v BIGINT NOT NULL)"));
  ASSERT_OK(exec(store(), "INSERT INTO kv (k, v) VALUES ('keep', 1)"));
  // The function's own error.
  auto st = store().transact_sync([](Tx& tx) -> Status {
    for (int i = 0; i < 3; ++i) {
      if (auto r = tx.exec("INSERT INTO kv (k, v) VALUES ($1, $2)", {"k" + std::to_string(i), std::int64_t{i}}); !r) { return r.error(); }
    }
    if (auto r = tx.exec("UPDATE kv SET v = 100 WHERE k = 'keep'"); !r) { return r.error(); }
    if (auto r = tx.exec("DELETE FROM kv WHERE k = 'k0'"); !r) { return r.error(); }
    return make_error(Errc::precondition_failed, "changed my mind");
  });
  EXPECT_ERRC(st, Errc::precondition_failed);
  // A failing statement whose error the function passes on.
  st = store().transact_sync([](Tx& tx) -> Status {
    if (auto r = tx.exec("INSERT INTO kv (k, v) VALUES ('new', 2)"); !r) { return r.error(); }
    if (auto r = tx.exec("INSERT INTO kv (k, v) VALUES ('keep', 3)"); !r) { return r.error(); }
    return {};
  });
  EXPECT_ERRC(st, Errc::already_exists);
  auto rows = select(store(), "SELECT k, v FROM kv ORDER BY k");
  ASSERT_OK(rows);
  ASSERT_EQ(rows->rows.size(), 1u);
  EXPECT_EQ(rows->rows[0].text(0), "keep");
  EXPECT_EQ(rows->rows[0].integer(1), 1);
}

TEST_P(MetaStoreTest, FailedStatementAbortsTheTransaction) {
  ASSERT_OK(exec(store(), "CREATE TABLE kv (k TEXT PRIMARY KEY, v BIGINT NOT NULL)"));
  ASSERT_OK(exec(store(), "INSERT INTO kv (k, v) VALUES ('taken', 1)"));
  // Swallowing a failed statement and carrying on: the next statement fails, and so does the
  // transaction, on both backends (PostgreSQL cannot do otherwise).
  bool later_failed = false;
  auto st = store().transact_sync([&](Tx& tx) -> Status {
    if (auto r = tx.exec("INSERT INTO kv (k, v) VALUES ('a', 1)"); !r) { return r.error(); }
    auto dup = tx.exec("INSERT INTO kv (k, v) VALUES ('taken', 2)");
    EXPECT_FALSE(dup);
    auto later = tx.exec("INSERT INTO kv (k, v) VALUES ('b', 1)");
    later_failed = !later;
    return {};
  });
  EXPECT_TRUE(later_failed);
  EXPECT_ERRC(st, Errc::internal);
  // Swallowing it and returning success at once.
  st = store().transact_sync([&](Tx& tx) -> Status {
    if (auto r = tx.exec("INSERT INTO kv (k, v) VALUES ('c', 1)"); !r) { return r.error(); }
    (void)tx.exec("INSERT INTO kv (k, v) VALUES ('taken', 2)");
    return {};
  });
  EXPECT_ERRC(st, Errc::internal);
  EXPECT_EQ(count(store(), "kv"), 1);
  // The portable way to tolerate the conflict.
  ASSERT_OK(store().transact_sync([&](Tx& tx) -> Status {
    if (auto r = tx.exec("INSERT INTO kv (k, v) VALUES ('d', 1)"); !r) { return r.error(); }
    auto r = tx.exec("INSERT INTO kv (k, v) VALUES ('taken', 2) ON CONFLICT (k) DO NOTHING");
    if (!r) { return r.error(); }
    EXPECT_EQ(*r, 0);
    return {};
  }));
  EXPECT_EQ(count(store(), "kv"), 2);
}

TEST_P(MetaStoreTest, ExceptionInTransactionFunctionRollsBack) {
  ASSERT_OK(exec(store(), "CREATE TABLE items (id BIGINT PRIMARY KEY)"));
  // More rounds than pooled connections: a connection left inside a transaction, or never given
  // back, would show.
  for (std::int64_t i = 0; i < 12; ++i) {
    EXPECT_THROW((void)store().transact_sync([&](Tx& tx) -> Status {
      if (auto r = tx.exec("INSERT INTO items (id) VALUES ($1)", {i}); !r) { return r.error(); }
      throw std::runtime_error("library failure");
    }),
                 std::runtime_error);
    EXPECT_THROW((void)store().read_sync([&](Tx& tx) -> Status {
      if (auto r = tx.exec("SELECT COUNT(*) FROM items"); !r) { return r.error(); }
      throw std::runtime_error("library failure");
    }),
                 std::runtime_error);
  }
  EXPECT_EQ(count(store(), "items"), 0);
  ASSERT_OK(exec(store(), "INSERT INTO items (id) VALUES (1)"));
  EXPECT_EQ(count(store(), "items"), 1);
}

// --- RETURNING and upserts -------------------------------------------------------------------------

TEST_P(MetaStoreTest, ReturningAndUpsert) {
  ASSERT_OK(exec(store(), "CREATE TABLE kv (k TEXT PRIMARY KEY, v BIGINT NOT NULL, hits BIGINT NOT NULL DEFAULT 0)"));
  const char* upsert =
      "INSERT INTO kv (k, v) VALUES ($1, $2) ON CONFLICT (k) DO UPDATE SET v = excluded.v, hits = kv.hits + 1 RETURNING k, v, hits";
  ASSERT_OK(store().transact_sync([&](Tx& tx) -> Status {
    auto first = tx.one(upsert, {std::string("a"), std::int64_t{1}});
    if (!first) { return first.error(); }
    EXPECT_TRUE(first->has_value());
    if (*first) {
      EXPECT_EQ((*first)->text(0), "a");
      EXPECT_EQ((*first)->integer(1), 1);
      EXPECT_EQ((*first)->integer(2), 0);
    }
    auto second = tx.one(upsert, {std::string("a"), std::int64_t{5}});
    if (!second) { return second.error(); }
    EXPECT_TRUE(second->has_value());
    if (*second) {
      EXPECT_EQ((*second)->integer(1), 5);
      EXPECT_EQ((*second)->integer(2), 1);
    }
    auto ignored = tx.exec("INSERT INTO kv (k, v) VALUES ($1, $2) ON CONFLICT (k) DO NOTHING", {std::string("a"), std::int64_t{9}});
    if (!ignored) { return ignored.error(); }
    EXPECT_EQ(*ignored, 0);
    auto updated = tx.query("UPDATE kv SET v = v * 10 WHERE k = $1 RETURNING v", {std::string("a")});
    if (!updated) { return updated.error(); }
    EXPECT_EQ(updated->affected, 1);
    EXPECT_EQ(updated->rows.size(), 1u);
    if (!updated->rows.empty()) { EXPECT_EQ(updated->rows[0].value(0), Value{std::int64_t{50}}); }
    auto deleted = tx.query("DELETE FROM kv WHERE k = $1 RETURNING k, v", {std::string("missing")});
    if (!deleted) { return deleted.error(); }
    EXPECT_TRUE(deleted->empty());
    EXPECT_EQ(deleted->affected, 0);
    return {};
  }));
  auto rows = select(store(), "SELECT v, hits FROM kv WHERE k = 'a'");
  ASSERT_OK(rows);
  ASSERT_EQ(rows->rows.size(), 1u);
  EXPECT_EQ(rows->rows[0].integer(0), 50);
  EXPECT_EQ(rows->rows[0].integer(1), 1);
}

// --- isolation and concurrency ----------------------------------------------------------------------

// A one-shot signal between two threads, with a bound on the wait so a bug cannot hang the suite.
class Signal {
 public:
  void raise() {
    {
      std::lock_guard lock(mu_);
      raised_ = true;
    }
    cv_.notify_all();
  }
  bool wait() {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, 30s, [this] { return raised_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool raised_ = false;
};

TEST_P(MetaStoreTest, ReadSeesCommittedDataOnly) {
  ASSERT_OK(exec(store(), "CREATE TABLE items (id BIGINT PRIMARY KEY)"));
  Signal inserted, checked;
  std::thread writer([&] {
    EXPECT_OK(store().transact_sync([&](Tx& tx) -> Status {
      auto r = tx.exec("INSERT INTO items (id) VALUES (1)");
      if (!r) { return r.error(); }
      inserted.raise();
      EXPECT_TRUE(checked.wait());
      return {};
    }));
  });
  EXPECT_TRUE(inserted.wait());
  EXPECT_EQ(count(store(), "items"), 0);  // not committed yet
  checked.raise();
  writer.join();
  EXPECT_EQ(count(store(), "items"), 1);

  // A rolled-back transaction is never visible.
  EXPECT_FALSE(store().transact_sync([](Tx& tx) -> Status {
    if (auto r = tx.exec("INSERT INTO items (id) VALUES (2)"); !r) { return r.error(); }
    return make_error(Errc::conflict, "no");
  }));
  EXPECT_EQ(count(store(), "items"), 1);
}

TEST_P(MetaStoreTest, ReadSeesOneSnapshot) {
  ASSERT_OK(exec(store(), "CREATE TABLE items (id BIGINT PRIMARY KEY)"));
  Signal first_read, committed;
  std::int64_t before = -1, after = -1;
  std::thread reader([&] {
    EXPECT_OK(store().read_sync([&](Tx& tx) -> Status {
      auto a = tx.one("SELECT COUNT(*) FROM items");
      if (!a) { return a.error(); }
      before = (**a).integer(0);
      first_read.raise();
      EXPECT_TRUE(committed.wait());
      auto b = tx.one("SELECT COUNT(*) FROM items");
      if (!b) { return b.error(); }
      after = (**b).integer(0);
      return {};
    }));
  });
  EXPECT_TRUE(first_read.wait());
  EXPECT_OK(exec(store(), "INSERT INTO items (id) VALUES (1)"));
  committed.raise();
  reader.join();
  EXPECT_EQ(before, 0);
  EXPECT_EQ(after, 0);  // the same snapshot for the whole read
  EXPECT_EQ(count(store(), "items"), 1);
}

TEST_P(MetaStoreTest, ReadIsReadOnly) {
  ASSERT_OK(exec(store(), "CREATE TABLE items (id BIGINT PRIMARY KEY)"));
  auto st = store().read_sync([](Tx& tx) -> Status {
    auto r = tx.exec("INSERT INTO items (id) VALUES (1)");
    if (!r) { return r.error(); }
    return {};
  });
  EXPECT_FALSE(st);
  EXPECT_EQ(count(store(), "items"), 0);
}

TEST_P(MetaStoreTest, ConcurrentIncrementsAreExact) {
  ASSERT_OK(exec(store(), "CREATE TABLE counters (id BIGINT PRIMARY KEY, n BIGINT NOT NULL)"));
  ASSERT_OK(exec(store(), "CREATE TABLE increments (worker BIGINT NOT NULL, seq BIGINT NOT NULL, seen BIGINT NOT NULL, PRIMARY KEY (worker, seq))"));
  ASSERT_OK(exec(store(), "INSERT INTO counters (id, n) VALUES (1, 0)"));
  constexpr int kThreads = 8;
  constexpr int kPerThread = 200;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < kThreads; ++w) {
    threads.emplace_back([&, w] {
      for (int i = 0; i < kPerThread; ++i) {
        auto st = store().transact_sync([&](Tx& tx) -> Status {
          auto n = tx.one("UPDATE counters SET n = n + $1 WHERE id = $2 RETURNING n", {std::int64_t{1}, std::int64_t{1}});
          if (!n) { return n.error(); }
          auto r = tx.exec("INSERT INTO increments (worker, seq, seen) VALUES ($1, $2, $3)", {std::int64_t{w}, std::int64_t{i}, (**n).integer(0)});
          if (!r) { return r.error(); }
          return {};
        });
        if (!st) {
          ++failures;
          ADD_FAILURE() << describe(st.error());
        }
      }
    });
  }
  for (auto& t : threads) { t.join(); }
  EXPECT_EQ(failures.load(), 0);
  auto total = select(store(), "SELECT n FROM counters WHERE id = 1");
  ASSERT_OK(total);
  EXPECT_EQ(total->rows[0].integer(0), kThreads * kPerThread);
  EXPECT_EQ(count(store(), "increments"), kThreads * kPerThread);
  // Every increment saw a distinct value: no two transactions overlapped on the counter.
  auto distinct = select(store(), "SELECT COUNT(DISTINCT seen), MIN(seen), MAX(seen) FROM increments");
  ASSERT_OK(distinct);
  EXPECT_EQ(distinct->rows[0].integer(0), kThreads * kPerThread);
  EXPECT_EQ(distinct->rows[0].integer(1), 1);
  EXPECT_EQ(distinct->rows[0].integer(2), kThreads * kPerThread);
}

// Concurrent transactions, some of which fail (by returning an error, by a failed statement
// or by throwing): each failure is rolled back alone and every other one commits. On SQLite
// concurrent callers share one commit (group commit), so this is what proves a failure inside a
// shared batch touches nothing else.
TEST_P(MetaStoreTest, ConcurrentFailuresRollBackOnlyThemselves) {
  ASSERT_OK(exec(store(), "CREATE TABLE items (id BIGINT PRIMARY KEY, worker BIGINT NOT NULL)"));
  constexpr int kThreads = 8;
  constexpr int kPerThread = 60;
  std::atomic<int> unexpected{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < kThreads; ++w) {
    threads.emplace_back([&, w] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::int64_t id = w * 1000 + i;
        const int kind = (w + i) % 4;  // 0, 1: commit; 2: return an error; 3: failed statement or throw
        try {
          auto st = store().transact_sync([&](Tx& tx) -> Status {
            auto r = tx.exec("INSERT INTO items (id, worker) VALUES ($1, $2)", {id, std::int64_t{w}});
            if (!r) { return r.error(); }
            if (kind == 2) { return make_error(Errc::conflict, "changed my mind"); }
            if (kind == 3 && i % 2 == 0) { (void)tx.exec("INSERT INTO nowhere VALUES (1)"); }
            if (kind == 3 && i % 2 == 1) { throw std::runtime_error("boom"); }
            return {};
          });
          if (kind <= 1 && !st) { ++unexpected; }
          if (kind >= 2 && st) { ++unexpected; }
        } catch (const std::runtime_error&) {
          if (kind != 3) { ++unexpected; }
        }
      }
    });
  }
  for (auto& t : threads) { t.join(); }
  EXPECT_EQ(unexpected.load(), 0);
  auto rows = select(store(), "SELECT id FROM items ORDER BY id");
  ASSERT_OK(rows);
  std::set<std::int64_t> want, got;
  for (int w = 0; w < kThreads; ++w) {
    for (int i = 0; i < kPerThread; ++i) {
      if ((w + i) % 4 <= 1) { want.insert(w * 1000 + i); }
    }
  }
  for (const auto& r : rows->rows) { got.insert(r.integer(0)); }
  EXPECT_EQ(got, want);
}

TEST_P(MetaStoreTest, AsyncCallsRunOffTheIoThread) {
  ASSERT_OK(exec(store(), "CREATE TABLE counters (id BIGINT PRIMARY KEY, n BIGINT NOT NULL)"));
  ASSERT_OK(exec(store(), "INSERT INTO counters (id, n) VALUES (1, 0)"));
  boost::asio::io_context io;
  const auto io_thread = std::this_thread::get_id();
  std::atomic<int> on_io_thread{0}, done{0};
  constexpr int kCoroutines = 16;
  for (int c = 0; c < kCoroutines; ++c) {
    boost::asio::co_spawn(
        io,
        [&]() -> boost::asio::awaitable<void> {
          auto st = co_await store().transact([&](Tx& tx) -> Status {
            if (std::this_thread::get_id() == io_thread) { ++on_io_thread; }
            auto r = tx.exec("UPDATE counters SET n = n + 1 WHERE id = 1");
            if (!r) { return r.error(); }
            return {};
          });
          EXPECT_TRUE(st) << describe(st.error());
          std::int64_t seen = -1;
          st = co_await store().read([&](Tx& tx) -> Status {
            if (std::this_thread::get_id() == io_thread) { ++on_io_thread; }
            auto r = tx.one("SELECT n FROM counters WHERE id = 1");
            if (!r) { return r.error(); }
            seen = (**r).integer(0);
            return {};
          });
          EXPECT_TRUE(st) << describe(st.error());
          EXPECT_GE(seen, 1);
          EXPECT_EQ(std::this_thread::get_id(), io_thread);  // resumed on its own executor
          ++done;
        },
        boost::asio::detached);
  }
  io.run();
  EXPECT_EQ(done.load(), kCoroutines);
  EXPECT_EQ(on_io_thread.load(), 0);
  auto total = select(store(), "SELECT n FROM counters WHERE id = 1");
  ASSERT_OK(total);
  EXPECT_EQ(total->rows[0].integer(0), kCoroutines);
}

TEST_P(MetaStoreTest, SchemaChangeUnderCachedStatements) {
  ASSERT_OK(exec(store(), "CREATE TABLE sc (x BIGINT)"));
  ASSERT_OK(exec(store(), "INSERT INTO sc (x) VALUES (1)"));
  auto narrow = select(store(), "SELECT * FROM sc");
  ASSERT_OK(narrow);
  EXPECT_EQ(narrow->rows[0].size(), 1u);
  ASSERT_OK(exec(store(), "ALTER TABLE sc ADD COLUMN y BIGINT"));
  ASSERT_OK(exec(store(), "UPDATE sc SET y = 2"));
  for (int i = 0; i < 10; ++i) {  // whichever pooled connection runs it
    auto wide = select(store(), "SELECT * FROM sc");
    ASSERT_OK(wide);
    ASSERT_EQ(wide->rows[0].size(), 2u);
    EXPECT_EQ(wide->rows[0].integer(1), 2);
  }
}

// --- durability ---------------------------------------------------------------------------------------

TEST_P(MetaStoreTest, AcknowledgedTransactionSurvivesReopen) {
  std::vector<Migration> migrations = {{"t", 1, "CREATE TABLE notes (id BIGINT PRIMARY KEY, body TEXT NOT NULL)", {}}};
  ASSERT_OK(migrate(store(), migrations));
  ASSERT_OK(exec(store(), "INSERT INTO notes (id, body) VALUES ($1, $2)", {std::int64_t{1}, std::string("kept")}));
  test::run_coro([&]() -> boost::asio::awaitable<void> {
    auto st = co_await store().transact([](Tx& tx) -> Status {
      auto r = tx.exec("INSERT INTO notes (id, body) VALUES ($1, $2)", {std::int64_t{2}, std::string("kept too")});
      if (!r) { return r.error(); }
      return {};
    });
    EXPECT_TRUE(st) << describe(st.error());
  });
  store_.reset();
  auto reopened = site_.open();
  ASSERT_OK(reopened);
  ASSERT_OK(migrate(**reopened, migrations));
  auto rows = select(**reopened, "SELECT id, body FROM notes ORDER BY id");
  ASSERT_OK(rows);
  ASSERT_EQ(rows->rows.size(), 2u);
  EXPECT_EQ(rows->rows[0].text(1), "kept");
  EXPECT_EQ(rows->rows[1].text(1), "kept too");
}

// --- leases and nodes starting together -------------------------------------------------------

TEST_P(MetaStoreTest, ALeaseHasOneHolderUntilItExpiresOrIsReleased) {
  ASSERT_OK(migrate(store(), store_migrations()));
  using namespace std::chrono_literals;
  Lease a(store(), "object.reaper", "node-a", 400ms);
  Lease b(store(), "object.reaper", "node-b", 400ms);
  Lease other(store(), "box.reaper", "node-b", 400ms);
  ASSERT_TRUE(*a.hold_sync());
  EXPECT_FALSE(*b.hold_sync());      // held by a
  EXPECT_TRUE(*other.hold_sync());   // another duty is another lease
  EXPECT_TRUE(*a.hold_sync());       // a renews
  std::this_thread::sleep_for(500ms);  // a stopped renewing: its lease lapsed
  EXPECT_TRUE(*b.hold_sync());
  EXPECT_FALSE(*a.hold_sync());
  ASSERT_OK(b.release_sync());       // a clean stop hands over at once
  EXPECT_TRUE(*a.hold_sync());
  // Many nodes racing for a free lease: exactly one wins.
  ASSERT_OK(a.release_sync());
  std::atomic<int> winners{0};
  std::vector<std::thread> nodes;
  for (int i = 0; i < 6; ++i) {
    nodes.emplace_back([&, i] {
      Lease l(store(), "object.reaper", "racer-" + std::to_string(i), 10s);
      auto held = l.hold_sync();
      if (held && *held) { ++winners; }
    });
  }
  for (auto& t : nodes) { t.join(); }
  EXPECT_EQ(winners.load(), 1);
}

TEST_P(MetaStoreTest, NodesMigratingTogetherApplyEachMigrationOnce) {
  std::vector<Migration> migrations = {
      {"alpha", 1, "CREATE TABLE alpha_log (seq BIGINT PRIMARY KEY, note TEXT NOT NULL); INSERT INTO alpha_log (seq, note) VALUES (1, 'one')", {}},
      {"alpha", 2, "INSERT INTO alpha_log (seq, note) SELECT MAX(seq) + 1, 'two' FROM alpha_log", {}},
  };
  auto second = site_.open();  // another node's connections to the same database
  ASSERT_TRUE(second) << describe(second.error());
  std::vector<Status> results(4);
  std::vector<std::thread> nodes;
  for (int i = 0; i < 4; ++i) {
    nodes.emplace_back([&, i] { results[i] = migrate(i % 2 == 0 ? store() : **second, migrations); });
  }
  for (auto& t : nodes) { t.join(); }
  for (const auto& r : results) { EXPECT_TRUE(r) << describe(r.error()); }
  EXPECT_EQ(count(store(), "alpha_log"), 2);
}

TEST_P(MetaStoreTest, NoticesReachOtherProcessesOnCommitOnly) {
  std::mutex mu;
  std::condition_variable cv;
  int heard = 0;
  auto sub = store().subscribe("ciel_test_changes", [&] {
    std::lock_guard lock(mu);
    ++heard;
    cv.notify_all();
  });
  ASSERT_TRUE(sub) << describe(sub.error());
  if (!postgres()) {
    EXPECT_EQ(*sub, nullptr);  // SQLite: one server, nobody else to hear from
    return;
  }
  ASSERT_NE(*sub, nullptr);
  auto other = site_.open();  // another node
  ASSERT_TRUE(other) << describe(other.error());
  // A transaction that rolls back sends nothing.
  auto failed = (*other)->transact_sync([&](Tx& tx) -> Status {
    if (auto st = (*other)->notify(tx, "ciel_test_changes"); !st) { return st; }
    return make_error(Errc::conflict, "changed our mind");
  });
  ASSERT_FALSE(failed);
  ASSERT_OK((*other)->transact_sync([&](Tx& tx) { return (*other)->notify(tx, "ciel_test_changes"); }));
  std::unique_lock lock(mu);
  ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return heard > 0; }));
  lock.unlock();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  lock.lock();
  EXPECT_EQ(heard, 1);  // the rolled-back one never arrived
}

INSTANTIATE_TEST_SUITE_P(Backends, MetaStoreTest, ::testing::Values(Backend::sqlite, Backend::postgres),
                         test::backend_param_name);

// --- SQLite only: kill -9 ------------------------------------------------------------------------------

TEST(SqliteMetaStore, KilledWriterKeepsEveryAcknowledgedCommit) {
  test::TempDir dir;
  constexpr std::size_t kRounds = 5;  // kill it several times, at different points of a commit
  std::set<std::int64_t> acked;
  std::size_t wanted = 0;
  for (std::size_t round = 0; round < kRounds; ++round) {
    wanted += 20 + 10 * round;
    auto run = crash::run_and_kill("sqlite", dir.path(), 20 + 10 * round, crash::random_delay(std::chrono::milliseconds(30)));
    ASSERT_TRUE(run.problem.empty()) << run.problem;
    ASSERT_TRUE(run.killed);
    for (const auto& line : run.acked) { acked.insert(std::stoll(line)); }
  }
  ASSERT_GE(acked.size(), wanted);

  auto store = open_sqlite_meta_store({dir.path() + "/meta.db"});
  ASSERT_OK(store);
  auto migrations = crash::row_migrations();
  ASSERT_OK(migrate(**store, migrations));
  auto integrity = select(**store, "PRAGMA integrity_check");
  ASSERT_OK(integrity);
  EXPECT_EQ(integrity->rows.at(0).text(0), "ok");
  auto rows = select(**store, "SELECT id, payload, digest FROM items ORDER BY id");
  ASSERT_OK(rows);
  std::set<std::int64_t> present;
  for (const auto& row : rows->rows) {
    std::int64_t id = row.integer(0);
    present.insert(id);
    // Complete rows only: the payload is the one the writer meant, whole.
    EXPECT_EQ(crypto::hex(crypto::sha256(row.text(1))), row.text(2)) << "row " << id;
    EXPECT_TRUE(row.text(1) == crash::row_payload(id)) << "row " << id << " is not what was written";
  }
  for (std::int64_t id : acked) { EXPECT_TRUE(present.count(id) == 1) << "acknowledged row " << id << " is missing"; }
  // Rows are written one after another: what is present is 0..N-1, with at most one row per
  // kill committed but not yet acknowledged.
  ASSERT_FALSE(present.empty());
  EXPECT_EQ(*present.begin(), 0);
  EXPECT_EQ(*present.rbegin(), static_cast<std::int64_t>(present.size()) - 1);
  EXPECT_LE(present.size(), acked.size() + kRounds);
  // Each transaction wrote a row and bumped the counter: both or neither.
  auto counter = select(**store, "SELECT n FROM counter WHERE id = 1");
  ASSERT_OK(counter);
  EXPECT_EQ(counter->rows.at(0).integer(0), static_cast<std::int64_t>(present.size()));
}

// --- SQLite only: the snapshot ciel backup takes --------------------------------------------------------

// Under a writer that keeps moving one unit from one row to another (the sum never changes) and
// adding a row per move, the snapshot is one committed state: the sum holds and the rows agree
// with the move counter.
TEST(SqliteMetaStore, SnapshotIsOneCommittedStateWhileWritersCarryOn) {
  test::TempDir dir;
  auto store = open_sqlite_meta_store({dir.path() + "/meta.db"});
  ASSERT_OK(store);
  std::vector<Migration> migrations = {{"t", 1,
                                        "CREATE TABLE accounts (id BIGINT PRIMARY KEY, balance BIGINT NOT NULL);"
                                        "CREATE TABLE moves (id BIGINT PRIMARY KEY, body TEXT NOT NULL);"
                                        "INSERT INTO accounts (id, balance) VALUES (1, 1000000), (2, 0)",
                                        {}}};
  ASSERT_OK(migrate(**store, migrations));
  // Enough rows that the copy takes a while.
  ASSERT_OK((*store)->transact_sync([](Tx& tx) -> Status {
    for (std::int64_t i = 0; i < 4000; ++i) {
      auto r = tx.exec("INSERT INTO moves (id, body) VALUES ($1, $2)", {-1 - i, std::string(1000, 'x')});
      if (!r) { return r.error(); }
    }
    return {};
  }));
  std::atomic<bool> stop{false};
  std::atomic<std::int64_t> moves{0};
  std::thread writer([&] {
    for (std::int64_t n = 0; !stop; ++n) {
      auto st = (*store)->transact_sync([&](Tx& tx) -> Status {
        if (auto r = tx.exec("UPDATE accounts SET balance = balance - 1 WHERE id = 1"); !r) { return r.error(); }
        if (auto r = tx.exec("UPDATE accounts SET balance = balance + 1 WHERE id = 2"); !r) { return r.error(); }
        if (auto r = tx.exec("INSERT INTO moves (id, body) VALUES ($1, 'm')", {n}); !r) { return r.error(); }
        return {};
      });
      ASSERT_TRUE(st) << describe(st.error());
      moves = n + 1;
    }
  });
  while (moves < 50) { std::this_thread::sleep_for(1ms); }
  std::string copy = dir.path() + "/copy.db";
  auto st = snapshot_sqlite_database(dir.path() + "/meta.db", copy);
  std::int64_t after = moves;
  std::this_thread::sleep_for(20ms);
  stop = true;
  writer.join();
  ASSERT_OK(st);
  EXPECT_GT(moves.load(), after) << "the writer could not commit after the snapshot";

  auto snap = open_sqlite_meta_store({copy});
  ASSERT_OK(snap);
  auto sum = select(**snap, "SELECT SUM(balance), MAX(balance) FILTER (WHERE id = 2) FROM accounts");
  ASSERT_OK(sum);
  EXPECT_EQ(sum->rows.at(0).integer(0), 1000000);
  std::int64_t moved = sum->rows.at(0).integer(1);
  auto rows = select(**snap, "SELECT COUNT(*) FROM moves WHERE id >= 0");
  ASSERT_OK(rows);
  EXPECT_EQ(rows->rows.at(0).integer(0), moved);
  EXPECT_GE(moved, 50);
  auto integrity = select(**snap, "PRAGMA integrity_check");
  ASSERT_OK(integrity);
  EXPECT_EQ(integrity->rows.at(0).text(0), "ok");

  // The destination must be new; a missing source is an error, not an empty copy.
  auto again = snapshot_sqlite_database(dir.path() + "/meta.db", copy);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Errc::unavailable);
  auto missing = snapshot_sqlite_database(dir.path() + "/absent.db", dir.path() + "/copy2.db");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Errc::unavailable);
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/absent.db"));
}

// --- PostgreSQL only -------------------------------------------------------------------------------------

class PostgresMetaStore : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string problem = site_.prepare();
    if (!problem.empty()) { GTEST_FAIL() << problem; }
  }
  void TearDown() override { stop_blocking_pool(); }  // see MetaStoreTest::TearDown
  StoreSite site_{Backend::postgres};
};

TEST_F(PostgresMetaStore, ResultTypesFollowColumnTypes) {
  auto store = site_.open();
  ASSERT_OK(store);
  auto rows = select(**store,
                     "SELECT 1::int2, 2::int4, 3::int8, true, false, 1.5::float4, 2.5::float8, 3.25::numeric, 12::numeric, "
                     "'x'::varchar, NULL::int8, DATE '2020-01-02', 'NaN'::float8, 100000000000000000000::numeric, "
                     "'{1,2}'::int8[], 'abc'::bytea");
  ASSERT_OK(rows);
  const Row& r = rows->rows.at(0);
  EXPECT_EQ(r.value(0), Value{std::int64_t{1}});
  EXPECT_EQ(r.value(1), Value{std::int64_t{2}});
  EXPECT_EQ(r.value(2), Value{std::int64_t{3}});
  EXPECT_EQ(r.value(3), Value{std::int64_t{1}});
  EXPECT_EQ(r.value(4), Value{std::int64_t{0}});
  EXPECT_EQ(r.value(5), Value{1.5});
  EXPECT_EQ(r.value(6), Value{2.5});
  EXPECT_EQ(r.value(7), Value{3.25});
  EXPECT_EQ(r.value(8), Value{std::int64_t{12}});
  EXPECT_EQ(r.value(9), Value{std::string("x")});
  EXPECT_TRUE(r.is_null(10));
  EXPECT_EQ(r.value(11), Value{std::string("2020-01-02")});
  ASSERT_TRUE(std::holds_alternative<double>(r.value(12)));
  EXPECT_TRUE(std::isnan(std::get<double>(r.value(12))));
  EXPECT_EQ(r.value(13), Value{1e20});
  EXPECT_EQ(r.value(14), Value{std::string("{1,2}")});
  EXPECT_EQ(r.value(15), Value{std::string("\\x616263")});
}

TEST_F(PostgresMetaStore, ReconnectsAfterTheServerDropsTheConnection) {
  auto opened = site_.open(1);
  ASSERT_OK(opened);
  MetaStore& store = **opened;
  ASSERT_OK(exec(store, "CREATE TABLE items (id BIGINT PRIMARY KEY)"));
  auto backend_pid = [&]() -> std::int64_t {
    auto r = select(store, "SELECT pg_backend_pid()");
    EXPECT_TRUE(r) << describe(r.error());
    return r ? r->rows.at(0).integer(0) : -1;
  };
  for (int round = 0; round < 2; ++round) {
    std::int64_t pid = backend_pid();
    ASSERT_GT(pid, 0);
    auto killed = select(site_.admin(), "SELECT pg_terminate_backend($1, 10000)", {pid});
    ASSERT_OK(killed);
    EXPECT_EQ(killed->rows.at(0).integer(0), 1);
    // The pooled connection is dead; the next transaction reconnects and runs.
    EXPECT_OK(exec(store, "INSERT INTO items (id) VALUES ($1)", {std::int64_t{round}}));
    EXPECT_NE(backend_pid(), pid);
  }
  EXPECT_EQ(count(store, "items"), 2);
}

// Replaces the user and password of a postgresql:// URL.
std::string with_user(const std::string& url, const std::string& user, const std::string& password) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) { return url + " user=" + user + " password=" + password; }
  std::size_t host_start = scheme_end + 3;
  std::size_t at = url.find('@', host_start);
  std::size_t slash = url.find('/', host_start);
  if (at != std::string::npos && (slash == std::string::npos || at < slash)) { host_start = at + 1; }
  return url.substr(0, scheme_end + 3) + user + ":" + password + "@" + url.substr(host_start);
}

TEST_F(PostgresMetaStore, UnavailableWhenReconnectingFails) {
  // A role of our own that we can stop from logging in: its connection is dropped, the one
  // reconnection attempt fails, and the transaction reports unavailable; once the role may log
  // in again, the next transaction reconnects.
  const std::string role = "ciel_test_role_" + crypto::random_hex(6);
  const std::string password = crypto::random_hex(16);
  const char* base = std::getenv("CIEL_TEST_POSTGRES_URL");
  ASSERT_NE(base, nullptr);
  ASSERT_OK(exec(site_.admin(), "CREATE ROLE " + role + " LOGIN PASSWORD '" + password + "'"));
  struct DropRole {
    MetaStore& admin;
    std::string role;
    ~DropRole() {
      (void)exec(admin, "DROP OWNED BY " + role);
      (void)exec(admin, "DROP ROLE IF EXISTS " + role);
    }
  } drop_role{site_.admin(), role};
  auto opened = open_postgres_meta_store({with_search_path(with_user(base, role, password), "pg_temp"), 1});
  ASSERT_OK(opened);
  MetaStore& store = **opened;
  ASSERT_OK(exec(store, "CREATE TEMPORARY TABLE IF NOT EXISTS probe (x BIGINT)"));
  auto pid = select(store, "SELECT pg_backend_pid()");
  ASSERT_OK(pid);

  ASSERT_OK(exec(site_.admin(), "ALTER ROLE " + role + " NOLOGIN"));
  ASSERT_OK(select(site_.admin(), "SELECT pg_terminate_backend($1, 10000)", {pid->rows.at(0).integer(0)}));
  auto down = exec(store, "SELECT 1");
  EXPECT_ERRC(down, Errc::unavailable);

  ASSERT_OK(exec(site_.admin(), "ALTER ROLE " + role + " LOGIN"));
  EXPECT_OK(exec(store, "SELECT 1"));
  auto again = select(store, "SELECT current_user");
  ASSERT_OK(again);
  EXPECT_EQ(again->rows.at(0).text(0), role);
}

TEST_F(PostgresMetaStore, DeadlockedTransactionsAreRetried) {
  auto opened = site_.open(4);
  ASSERT_OK(opened);
  MetaStore& store = **opened;
  ASSERT_OK(exec(store, "CREATE TABLE acct (id BIGINT PRIMARY KEY, n BIGINT NOT NULL)"));
  ASSERT_OK(exec(store, "INSERT INTO acct (id, n) VALUES (1, 0), (2, 0)"));
  // Two transactions lock the two rows in opposite orders and wait for each other: PostgreSQL
  // kills one (40P01), which must run again and then succeed.
  std::atomic<int> runs{0};
  std::mutex mu;
  std::condition_variable cv;
  int first_locks = 0;
  auto transfer = [&](std::int64_t from, std::int64_t to) {
    bool first_run = true;
    return store.transact_sync([&](Tx& tx) -> Status {
      ++runs;
      if (auto r = tx.exec("UPDATE acct SET n = n + 1 WHERE id = $1", {from}); !r) { return r.error(); }
      if (first_run) {
        first_run = false;
        std::unique_lock lock(mu);
        ++first_locks;
        cv.notify_all();
        cv.wait_for(lock, 30s, [&] { return first_locks == 2; });
      }
      if (auto r = tx.exec("UPDATE acct SET n = n + 1 WHERE id = $1", {to}); !r) { return r.error(); }
      return {};
    });
  };
  Status a, b;
  std::thread ta([&] { a = transfer(1, 2); });
  std::thread tb([&] { b = transfer(2, 1); });
  ta.join();
  tb.join();
  EXPECT_OK(a);
  EXPECT_OK(b);
  EXPECT_GE(runs.load(), 3);
  auto rows = select(store, "SELECT n FROM acct ORDER BY id");
  ASSERT_OK(rows);
  EXPECT_EQ(rows->rows.at(0).integer(0), 2);
  EXPECT_EQ(rows->rows.at(1).integer(0), 2);
}

TEST(PostgresMetaStoreOpen, UnreachableServerIsUnavailable) {
  // A loopback port nothing listens on.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  ::close(fd);
  auto store = open_postgres_meta_store({"postgresql://ciel@127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/nothing?connect_timeout=5", 2});
  EXPECT_ERRC(store, Errc::unavailable);
  auto bad = open_meta_store("postgresql://[not a url");
  EXPECT_ERRC(bad, Errc::invalid_argument);
}

}  // namespace
}  // namespace ciel::store
