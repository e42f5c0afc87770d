// The token key ring in the MetaStore: one row per key, sealed under the master key so that the
// database alone (a dump, a replica) never holds a key that forges tokens.
#include <string>

#include "core/crypto/crypto.h"
#include "identity/token/token.h"
#include "store/meta_store.h"

namespace ciel::identity::token {
namespace {

std::string aad(std::uint32_t index) { return "ciel token key " + std::to_string(index); }

class MetaKeyStore final : public KeyStore {
 public:
  MetaKeyStore(store::MetaStore& store, std::string master) : store_(store), master_(std::move(master)) {}

  Result<std::map<std::uint32_t, Key>> load() override {
    std::map<std::uint32_t, Key> keys;
    auto st = store_.read_sync([&](store::Tx& tx) -> Status {
      auto rows = tx.query("SELECT idx, created, sealed FROM identity_token_keys ORDER BY idx");
      if (!rows) { return rows.error(); }
      for (const auto& r : rows->rows) {
        auto index = static_cast<std::uint32_t>(r.integer(0));
        auto sealed = crypto::unhex(r.text(2));
        std::optional<std::string> bytes;
        if (sealed) { bytes = crypto::aes256gcm_open(master_, *sealed, aad(index)); }
        if (!bytes || bytes->size() != 32) {
          return make_error(Errc::internal, "token key " + std::to_string(index) + " does not open with this node's master key",
                            "every node of a deployment needs the same keys/credential.key");
        }
        keys[index] = Key{std::move(*bytes), r.integer(1)};
      }
      return {};
    });
    if (!st) { return st.error(); }
    return keys;
  }

  Result<bool> add(std::uint32_t index, const Key& key) override {
    std::int64_t added = 0;
    auto st = store_.transact_sync([&](store::Tx& tx) -> Status {
      auto n = tx.exec("INSERT INTO identity_token_keys (idx, created, sealed) VALUES ($1, $2, $3) ON CONFLICT (idx) DO NOTHING",
                       {static_cast<std::int64_t>(index), key.created, crypto::hex(crypto::aes256gcm_seal(master_, key.bytes, aad(index)))});
      if (!n) { return n.error(); }
      added = *n;
      return {};
    });
    if (!st) { return st.error(); }
    return added == 1;
  }

  Status remove(std::uint32_t index) override {
    return store_.transact_sync([&](store::Tx& tx) -> Status {
      auto n = tx.exec("DELETE FROM identity_token_keys WHERE idx = $1", {static_cast<std::int64_t>(index)});
      if (!n) { return n.error(); }
      return {};
    });
  }

 private:
  store::MetaStore& store_;
  std::string master_;
};

}  // namespace

std::unique_ptr<KeyStore> make_meta_key_store(store::MetaStore& store, std::string master_key) {
  return std::make_unique<MetaKeyStore>(store, std::move(master_key));
}

}  // namespace ciel::identity::token
