#include "support/store_site.h"

#include <cstdlib>
#include <vector>

#include "core/crypto/crypto.h"

namespace ciel::test {
namespace {

constexpr const char* kNoPostgres =
    "CIEL_TEST_POSTGRES_URL is not set, so the PostgreSQL backend cannot be tested. Run the tests "
    "through scripts/test.sh, which starts a private PostgreSQL, or start one yourself with "
    "eval \"$(bash scripts/pg-test-server.sh start /tmp/ciel-pg)\" and run ctest again.";

Status exec(store::MetaStore& store, const std::string& sql) {
  return store.transact_sync([&](store::Tx& tx) -> Status {
    auto r = tx.query(sql);
    if (!r) { return r.error(); }
    return {};
  });
}

}  // namespace

void PrintTo(Backend b, std::ostream* os) { *os << (b == Backend::sqlite ? "sqlite" : "postgres"); }

std::string backend_param_name(const ::testing::TestParamInfo<Backend>& info) {
  return info.param == Backend::sqlite ? "Sqlite" : "Postgres";
}

std::string describe(const Error& e) { return std::string(errc_name(e.code)) + ": " + e.message + " | " + e.detail; }

std::string with_search_path(const std::string& conninfo, const std::string& schema) {
  if (conninfo.starts_with("postgresql://") || conninfo.starts_with("postgres://")) {
    return conninfo + (conninfo.find('?') == std::string::npos ? "?" : "&") + "options=-csearch_path%3D" + schema;
  }
  return conninfo + " options=-csearch_path=" + schema;
}

StoreSite::~StoreSite() {
  if (admin_) { (void)exec(*admin_, "DROP SCHEMA IF EXISTS " + schema_ + " CASCADE"); }
}

std::string StoreSite::prepare() {
  if (backend_ == Backend::sqlite) { return {}; }
  const char* url = std::getenv("CIEL_TEST_POSTGRES_URL");
  if (url == nullptr || *url == '\0') { return kNoPostgres; }
  base_url_ = url;
  auto admin = store::open_postgres_meta_store({base_url_, 1});
  if (!admin) { return "cannot reach the PostgreSQL test server: " + describe(admin.error()); }
  admin_ = std::move(*admin);
  schema_ = "ciel_test_" + crypto::random_hex(8);
  if (auto st = exec(*admin_, "CREATE SCHEMA " + schema_); !st) {
    admin_.reset();
    return "cannot create a test schema: " + describe(st.error());
  }
  return {};
}

Result<std::unique_ptr<store::MetaStore>> StoreSite::open(unsigned pool) {
  if (backend_ == Backend::sqlite) {
    store::SqliteConfig c;
    c.path = dir_.path() + "/meta.db";
    c.readers = pool;
    return store::open_sqlite_meta_store(c);
  }
  return store::open_postgres_meta_store({with_search_path(base_url_, schema_), pool});
}

}  // namespace ciel::test
