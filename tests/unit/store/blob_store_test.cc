#include "store/blob_store.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "core/crypto/crypto.h"
#include "support/test_support.h"
#include "unit/store/crash_child.h"
#include "unit/store/crash_content.h"

namespace ciel::store {
namespace {

std::string crc_text(std::string_view data) {
  char hex[16];
  std::snprintf(hex, sizeof hex, "%08x", crypto::crc32c(0, data));
  return std::string("crc32c:") + hex;
}

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
    EXPECT_EQ(info->checksum, crc_text(data));
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

// Blobs written before CRC-32C recorded a SHA-256: scrub still verifies them against it.
TEST(LocalFsBlobStore, ScrubChecksOlderSha256Records) {
  test::TempDir dir;
  auto blobs = open_localfs_blob_store({dir.path() + "/blobs", true});
  ASSERT_TRUE(blobs);
  std::string good = new_blob_key();
  std::string bad = new_blob_key();
  auto path = [&](const std::string& k) { return dir.path() + "/blobs/" + k.substr(0, 2) + "/" + k.substr(2, 2) + "/" + k; };
  test::run_coro([&]() -> boost::asio::awaitable<void> {
    StringSource a("hello"), b("world");
    EXPECT_TRUE(co_await (*blobs)->put(good, a));
    EXPECT_TRUE(co_await (*blobs)->put(bad, b));
  });
  for (const auto& [k, text] : {std::pair{good, std::string("hello")}, std::pair{bad, std::string("world")}}) {
    std::ofstream(path(k) + ".sum", std::ios::trunc)
        << text.size() << " " << crypto::hex(crypto::md5(text)) << " " << crypto::hex(crypto::sha256(text)) << "\n";
  }
  auto clean = (*blobs)->scrub(nullptr);
  ASSERT_TRUE(clean);
  EXPECT_EQ(clean->checked, 2u);
  EXPECT_TRUE(clean->corrupt.empty());
  {
    std::fstream f(path(bad), std::ios::in | std::ios::out);
    f.seekp(0);
    f << "W";
  }
  auto report = (*blobs)->scrub(nullptr);
  ASSERT_TRUE(report);
  ASSERT_EQ(report->corrupt.size(), 1u);
  EXPECT_EQ(report->corrupt[0], bad);
  test::run_coro([&]() -> boost::asio::awaitable<void> {
    auto info = co_await (*blobs)->stat(good);
    EXPECT_TRUE(info && info->checksum == crypto::hex(crypto::sha256("hello")));
  });
}

// A writer putting blobs is SIGKILLed mid-stream, six times. Every blob it acknowledged reads
// back whole with its checksums; every blob visible under a real key is complete (a torn write
// may only leave files under tmp/, which collect_temp_files removes).
TEST(LocalFsBlobStore, KilledWriterKeepsEveryAcknowledgedBlob) {
  namespace fs = std::filesystem;
  test::TempDir dir;
  constexpr std::size_t kRounds = 6;
  std::set<std::string> acked;
  std::size_t wanted = 0;
  for (std::size_t round = 0; round < kRounds; ++round) {
    wanted += 6 + 2 * round;
    auto run = crash::run_and_kill("blobs", dir.path(), 6 + 2 * round, crash::random_delay(std::chrono::milliseconds(40)));
    ASSERT_TRUE(run.problem.empty()) << run.problem;
    ASSERT_TRUE(run.killed);
    acked.insert(run.acked.begin(), run.acked.end());
  }
  ASSERT_GE(acked.size(), wanted);

  const std::string root = dir.path() + "/blobs";
  auto blobs = open_localfs_blob_store({root, true});
  ASSERT_TRUE(blobs);
  test::run_coro([&]() -> boost::asio::awaitable<void> {
    for (const auto& key : acked) {
      std::string want = crash::blob_content(key);
      auto info = co_await (*blobs)->stat(key);
      EXPECT_TRUE(info) << "acknowledged blob " << key << " is missing";
      if (!info) { continue; }
      EXPECT_EQ(info->size, want.size()) << key;
      EXPECT_EQ(info->checksum, crc_text(want)) << key;
      EXPECT_EQ(info->md5_hex, crypto::hex(crypto::md5(want))) << key;
      auto reader = co_await (*blobs)->open(key, 0, want.size());
      EXPECT_TRUE(reader) << key;
      if (!reader) { continue; }
      auto got = co_await read_all(**reader, want.size() + 1);
      EXPECT_TRUE(got && *got == want) << "acknowledged blob " << key << " reads back different";
    }
  });

  // Whatever is visible under a real key, acknowledged or not, is complete and has its checksum.
  std::size_t visible = 0;
  std::set<std::string> sums_without_blob;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it) {
    if (it->is_directory()) {
      if (it->path().filename() == "tmp") { it.disable_recursion_pending(); }
      continue;
    }
    std::string name = it->path().filename().string();
    if (name.ends_with(".sum")) {
      std::string key = name.substr(0, name.size() - 4);
      if (!fs::exists(it->path().parent_path() / key)) { sums_without_blob.insert(key); }
      continue;
    }
    ++visible;
    std::ifstream in(it->path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_TRUE(bytes == crash::blob_content(name)) << "blob " << name << " is visible but incomplete";
  }
  EXPECT_GE(visible, acked.size());
  EXPECT_LE(visible, acked.size() + kRounds);  // at most one published but not acknowledged per kill
  auto report = (*blobs)->scrub(nullptr);
  ASSERT_TRUE(report);
  EXPECT_EQ(report->checked, visible);
  EXPECT_TRUE(report->corrupt.empty());
  EXPECT_TRUE(report->missing_checksum.empty());
  // A checksum file published just before a kill, without its blob, does not make the key exist.
  test::run_coro([&]() -> boost::asio::awaitable<void> {
    for (const auto& key : sums_without_blob) {
      auto info = co_await (*blobs)->stat(key);
      EXPECT_FALSE(info) << key;
    }
  });

  // Leftovers of the interrupted writes are only under tmp/, and the sweep removes them.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  auto swept = (*blobs)->collect_temp_files(std::chrono::seconds(0));
  ASSERT_TRUE(swept);
  EXPECT_TRUE(fs::is_empty(root + "/tmp"));
  // The store still takes writes.
  test::run_coro([&]() -> boost::asio::awaitable<void> {
    StringSource src("after the crash");
    EXPECT_TRUE(co_await (*blobs)->put(new_blob_key(), src));
  });
}

}  // namespace
}  // namespace ciel::store
