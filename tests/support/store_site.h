// tests/support/store_site.h: what the suites that run against both MetaStore backends share:
// the Backend test parameter, a StoreSite that gives one test a fresh database on one backend,
// and assertion macros for Result/Status.
//
// SQLite gets a fresh file in a temp directory per test; PostgreSQL gets a fresh schema of the
// database at $CIEL_TEST_POSTGRES_URL, dropped afterwards. scripts/test.sh starts a private
// PostgreSQL and sets the URL; without it StoreSite::prepare() reports why, and the suites fail
// rather than skip, so a run without PostgreSQL can never look green.
#pragma once
#include <gtest/gtest.h>

#include <memory>
#include <ostream>
#include <string>

#include "core/result.h"
#include "store/meta_store.h"
#include "support/test_support.h"

namespace ciel::test {

enum class Backend { sqlite, postgres };
void PrintTo(Backend b, std::ostream* os);
// For INSTANTIATE_TEST_SUITE_P: "Sqlite" or "Postgres".
std::string backend_param_name(const ::testing::TestParamInfo<Backend>& info);

// "<errc>: <message> | <detail>", for failure messages.
std::string describe(const Error& e);

// Adds `options=-csearch_path=SCHEMA` to a libpq URL or keyword/value connection string.
std::string with_search_path(const std::string& conninfo, const std::string& schema);

// A place for one test's data on one backend: a temp directory for SQLite, a schema of the test
// database for PostgreSQL (created by prepare(), dropped by the destructor).
class StoreSite {
 public:
  explicit StoreSite(Backend backend) : backend_(backend) {}
  StoreSite(const StoreSite&) = delete;
  StoreSite& operator=(const StoreSite&) = delete;
  ~StoreSite();

  // Empty on success, else why the site cannot be used (for GTEST_FAIL).
  std::string prepare();
  // A new MetaStore over this site's database, with `pool` connections (SQLite: readers).
  Result<std::unique_ptr<store::MetaStore>> open(unsigned pool = 8);
  store::MetaStore& admin() { return *admin_; }  // PostgreSQL only: a connection outside the test schema
  const std::string& dir() const { return dir_.path(); }  // a temp directory of the test's own

 private:
  Backend backend_;
  TempDir dir_;
  std::string base_url_;
  std::string schema_;
  std::unique_ptr<store::MetaStore> admin_;
};

}  // namespace ciel::test

#define ASSERT_OK(expr)                                                                 \
  do {                                                                                  \
    const auto& ciel_ok_ = (expr);                                                      \
    ASSERT_TRUE(ciel_ok_) << #expr << " -> " << ::ciel::test::describe(ciel_ok_.error()); \
  } while (0)
#define EXPECT_OK(expr)                                                                 \
  do {                                                                                  \
    const auto& ciel_ok_ = (expr);                                                      \
    EXPECT_TRUE(ciel_ok_) << #expr << " -> " << ::ciel::test::describe(ciel_ok_.error()); \
  } while (0)
#define EXPECT_ERRC(expr, errc)                                                                 \
  do {                                                                                          \
    const auto& ciel_r_ = (expr);                                                               \
    ASSERT_FALSE(ciel_r_) << #expr << " succeeded; expected " << ::ciel::errc_name(errc);       \
    EXPECT_EQ(ciel_r_.error().code, errc) << ::ciel::test::describe(ciel_r_.error());           \
  } while (0)
