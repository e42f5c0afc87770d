#include "store/lease.h"

#include <unistd.h>

#include <array>

#include "core/crypto/crypto.h"
#include "core/log/log.h"
#include "store/meta_store.h"

namespace ciel::store {
namespace {

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// One statement, so two nodes racing for a free or expired lease cannot both win: the row's
// update is conditional on it being ours or expired, and the loser's affects no row.
Status take(Tx& tx, const std::string& name, const std::string& holder, std::chrono::milliseconds ttl, bool& held) {
  std::int64_t now = now_ms();
  auto n = tx.exec(
      "INSERT INTO store_leases (name, holder, expires_ms) VALUES ($1, $2, $3) "
      "ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_ms = excluded.expires_ms "
      "WHERE store_leases.holder = excluded.holder OR store_leases.expires_ms < $4",
      {name, holder, now + ttl.count(), now});
  if (!n) { return n.error(); }
  held = *n == 1;
  return {};
}

}  // namespace

boost::asio::awaitable<bool> Lease::hold() {
  bool held = false;
  auto st = co_await store_.transact([&](Tx& tx) { return take(tx, name_, holder_, ttl_, held); });
  if (!st) {
    log::warn("lease {}: {} {}", name_, st.error().message, st.error().detail);
    co_return false;
  }
  co_return held;
}

Result<bool> Lease::hold_sync() {
  bool held = false;
  auto st = store_.transact_sync([&](Tx& tx) { return take(tx, name_, holder_, ttl_, held); });
  if (!st) { return st.error(); }
  return held;
}

Status Lease::release_sync() {
  return store_.transact_sync([&](Tx& tx) -> Status {
    auto n = tx.exec("DELETE FROM store_leases WHERE name = $1 AND holder = $2", {name_, holder_});
    if (!n) { return n.error(); }
    return {};
  });
}

std::string lease_holder_name() {
  std::array<char, 256> host{};
  if (::gethostname(host.data(), host.size() - 1) != 0) { host[0] = '\0'; }
  return std::string(host.data()) + ":" + std::to_string(::getpid()) + ":" + crypto::random_hex(4);
}

std::vector<Migration> store_migrations() {
  return {{"store", 1, "CREATE TABLE store_leases (name TEXT PRIMARY KEY, holder TEXT NOT NULL, expires_ms BIGINT NOT NULL)", ""}};
}

}  // namespace ciel::store
