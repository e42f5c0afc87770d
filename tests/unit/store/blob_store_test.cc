#include "store/blob_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/crypto/crypto.h"
#include "support/test_support.h"

namespace ciel::store {
namespace {

TEST(LocalFsBlobStore, PutStatReadBackWithChecksums) {
  test::TempDir dir;
  auto blobs = open_localfs_blob_store({dir.path() + "/blobs", true});
  ASSERT_TRUE(blobs);
  std::string data(3 * 1024 * 1024 + 17, 'x');
  for (std::size_t i = 0; i < data.size(); ++i) { data[i] = static_cast<char>(i * 31); }
  std::string key = new_blob_key();
  test::run_coro([&]() -> boost::asio::awaitable<void> {
    StringSource src(data);
    auto info = co_await (*blobs)->put(key, src);
    EXPECT_TRUE(info);
    EXPECT_EQ(info->size, data.size());
    EXPECT_EQ(info->md5_hex, crypto::hex(crypto::md5(data)));
    EXPECT_EQ(info->sha256_hex, crypto::hex(crypto::sha256(data)));
    auto reader = co_await (*blobs)->open(key, 100, 1000);
    EXPECT_TRUE(reader);
    auto got = co_await read_all(**reader, 1 << 20);
    EXPECT_TRUE(got);
    EXPECT_EQ(*got, data.substr(100, 1000));
  });
}

TEST(LocalFsBlobStore, TooLargeLeavesNothing) {
  test::TempDir dir;
  auto blobs = open_localfs_blob_store({dir.path() + "/blobs", true});
  ASSERT_TRUE(blobs);
  std::string key = new_blob_key();
  test::run_coro([&]() -> boost::asio::awaitable<void> {
    StringSource src(std::string(5000, 'a'));
    auto info = co_await (*blobs)->put(key, src, 4096);
    EXPECT_FALSE(info);
    EXPECT_EQ(info.error().code, Errc::too_large);
    auto st = co_await (*blobs)->stat(key);
    EXPECT_FALSE(st);
  });
  EXPECT_TRUE(std::filesystem::is_empty(dir.path() + "/blobs/tmp"));
}

TEST(LocalFsBlobStore, ScrubFindsCorruption) {
  test::TempDir dir;
  auto blobs = open_localfs_blob_store({dir.path() + "/blobs", true});
  ASSERT_TRUE(blobs);
  std::string good = new_blob_key();
  std::string bad = new_blob_key();
  test::run_coro([&]() -> boost::asio::awaitable<void> {
    StringSource a("hello"), b("world");
    EXPECT_TRUE(co_await (*blobs)->put(good, a));
    EXPECT_TRUE(co_await (*blobs)->put(bad, b));
  });
  {
    std::fstream f(dir.path() + "/blobs/" + bad.substr(0, 2) + "/" + bad.substr(2, 2) + "/" + bad, std::ios::in | std::ios::out);
    f.seekp(0);
    f << "W";
  }
  auto report = (*blobs)->scrub(nullptr);
  ASSERT_TRUE(report);
  EXPECT_EQ(report->checked, 2u);
  ASSERT_EQ(report->corrupt.size(), 1u);
  EXPECT_EQ(report->corrupt[0], bad);
}

}  // namespace
}  // namespace ciel::store
