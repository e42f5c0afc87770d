// tests/unit/store/crash_writer.cc: a writer for the kill -9 durability tests. It writes until
// it is killed and prints one line on stdout per write the store acknowledged:
//   ciel_store_crash_writer sqlite DIR   commits rows to DIR/meta.db, prints each row's id
//   ciel_store_crash_writer blobs DIR    puts blobs under DIR/blobs, prints each blob's key
//   ciel_store_crash_writer rados NS     puts blobs (64 KiB stripes) in RADOS namespace NS of the
//                                        cluster $CIEL_TEST_RADOS_CONF names, prints each key
// Each line is written with one write(2) right after the acknowledgement, so whatever the parent
// reads was acknowledged before the kill.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/crypto/crypto.h"
#include "store/blob_store.h"
#include "support/test_support.h"
#include "unit/store/crash_content.h"

namespace ciel::store {
namespace {

constexpr int kMaxWrites = 100000;  // far more than the test waits for

bool say(const std::string& line) {
  std::string s = line + "\n";
  return ::write(STDOUT_FILENO, s.data(), s.size()) == static_cast<ssize_t>(s.size());
}

int fail(const std::string& what, const Error& e) {
  std::fprintf(stderr, "crash_writer: %s: %s: %s\n", what.c_str(), e.message.c_str(), e.detail.c_str());
  return 1;
}

int write_rows(const std::string& dir) {
  auto store = open_sqlite_meta_store({dir + "/meta.db"});
  if (!store) { return fail("open", store.error()); }
  auto migrations = crash::row_migrations();
  if (auto st = migrate(**store, migrations); !st) { return fail("migrate", st.error()); }
  auto next = std::int64_t{0};
  auto st = (*store)->read_sync([&](Tx& tx) -> Status {
    auto r = tx.one("SELECT COALESCE(MAX(id) + 1, 0) FROM items");
    if (!r) { return r.error(); }
    next = (*r)->integer(0);
    return {};
  });
  if (!st) { return fail("read", st.error()); }
  for (std::int64_t i = next; i < next + kMaxWrites; ++i) {
    std::string payload = crash::row_payload(i);
    std::string digest = crypto::hex(crypto::sha256(payload));
    // Two statements in one transaction: the counter always equals the number of rows.
    st = (*store)->transact_sync([&](Tx& tx) -> Status {
      auto r = tx.exec("INSERT INTO items (id, payload, digest) VALUES ($1, $2, $3)", {i, payload, digest});
      if (!r) { return r.error(); }
      r = tx.exec("UPDATE counter SET n = n + 1 WHERE id = 1");
      if (!r) { return r.error(); }
      return {};
    });
    if (!st) { return fail("commit", st.error()); }
    if (!say(std::to_string(i))) { return 1; }
  }
  return 0;
}

int write_blobs(const std::string& dir) {
  auto blobs = open_localfs_blob_store({dir + "/blobs", true});
  if (!blobs) { return fail("open", blobs.error()); }
  for (int i = 0; i < kMaxWrites; ++i) {
    std::string key = new_blob_key();
    Result<BlobInfo> info = make_error(Errc::internal, "not run");
    test::run_coro([&]() -> boost::asio::awaitable<void> {
      StringSource source(crash::blob_content(key));
      info = co_await (*blobs)->put(key, source);
    });
    if (!info) { return fail("put", info.error()); }
    if (!say(key)) { return 1; }
  }
  return 0;
}

int write_rados_blobs(const std::string& ns) {
  RadosConfig config;
  const char* conf = std::getenv("CIEL_TEST_RADOS_CONF");
  const char* user = std::getenv("CIEL_TEST_RADOS_USER");
  const char* pool = std::getenv("CIEL_TEST_RADOS_POOL");
  config.conf = conf != nullptr ? conf : "";
  if (user != nullptr) { config.user = user; }
  if (pool != nullptr) { config.pool = pool; }
  config.stripe_size = 64 * 1024;
  auto cluster = connect_rados(config);
  if (!cluster) { return fail("connect", cluster.error()); }
  auto blobs = open_rados_blob_store(*cluster, ns);
  for (int i = 0; i < kMaxWrites; ++i) {
    std::string key = new_blob_key();
    Result<BlobInfo> info = make_error(Errc::internal, "not run");
    test::run_coro([&]() -> boost::asio::awaitable<void> {
      StringSource source(crash::blob_content(key));
      info = co_await blobs->put(key, source);
    });
    if (!info) { return fail("put", info.error()); }
    if (!say(key)) { return 1; }
  }
  return 0;
}

}  // namespace
}  // namespace ciel::store

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s sqlite|blobs DIR | rados NAMESPACE\n", argv[0]);
    return 2;
  }
  std::string mode = argv[1];
  if (mode == "sqlite") { return ciel::store::write_rows(argv[2]); }
  if (mode == "blobs") { return ciel::store::write_blobs(argv[2]); }
  if (mode == "rados") { return ciel::store::write_rados_blobs(argv[2]); }
  std::fprintf(stderr, "unknown mode %s\n", argv[1]);
  return 2;
}
