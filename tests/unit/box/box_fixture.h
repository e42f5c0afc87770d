// What the box engine's test suites share: `await` for one engine call, `must` for a value that
// must be there, and a fixture holding a migrated MetaStore (SQLite or PostgreSQL, the suite's
// parameter) and a local blob store, for each suite to build its box service on.
#pragma once
#include <gtest/gtest.h>

#include <boost/asio/awaitable.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "box/box.h"
#include "core/blocking.h"
#include "store/blob_store.h"
#include "store/meta_store.h"
#include "support/store_site.h"
#include "support/test_support.h"

namespace ciel::box {

// Runs one awaitable call to the end and returns its result.
template <class Fn>
auto await(Fn fn) -> typename decltype(fn())::value_type {
  std::optional<typename decltype(fn())::value_type> out;
  test::run_coro([&]() -> boost::asio::awaitable<void> { out.emplace(co_await fn()); });
  return std::move(*out);
}

// The value, or T{} after a failed expectation naming the error.
template <class T>
T must(const Result<T>& r) {
  EXPECT_TRUE(r) << test::describe(r.error());
  return r ? *r : T{};
}

class BoxStoreTest : public ::testing::TestWithParam<test::Backend> {
 protected:
  // The blocking pool, the store with the box's migrations (and `extra`), the blob store under
  // blob_root_. Call it first in SetUp, inside ASSERT_NO_FATAL_FAILURE.
  void open_stores(std::vector<store::Migration> extra = {}) {
    start_blocking_pool(4);
    std::string problem = site_.prepare();
    if (!problem.empty()) { GTEST_FAIL() << problem; }
    auto m = site_.open();
    ASSERT_OK(m);
    meta_ = std::move(*m);
    auto migs = migrations();
    for (auto& x : extra) { migs.push_back(std::move(x)); }
    ASSERT_OK(store::migrate(*meta_, migs));
    blob_root_ = site_.dir() + "/blobs";
    auto b = store::open_localfs_blob_store({blob_root_, false});
    ASSERT_OK(b);
    blobs_ = std::move(*b);
  }

  void TearDown() override {
    box_.reset();
    blobs_.reset();
    meta_.reset();
    stop_blocking_pool();
  }

  test::StoreSite site_{GetParam()};
  std::string blob_root_;
  std::unique_ptr<store::MetaStore> meta_;
  std::unique_ptr<store::BlobStore> blobs_;
  std::unique_ptr<BoxService> box_;
};

}  // namespace ciel::box
