// identity/token/token.h: stateless tokens. A token is base64url(key_id || AES-256-GCM(payload)),
// the key id authenticated as associated data. The payload is a compact binary record (user,
// scope, methods, issue and expiry times, audit ids, application credential): no names, roles or
// catalog, which validation takes from the identity snapshot. A project-scoped password token is
// about 120 characters; the longest (rescoped application credential) stays under 200.
//
// The key ring's keys are kept by a KeyStore: in the MetaStore, sealed under the deployment's
// master key, so every node of a deployment reads the same ring (identity/token/meta_keys.cc); or
// in a directory, one file per key (what earlier versions kept in DATA_DIR/keys/token, imported
// into the MetaStore on upgrade). The newest key past its staging delay is the primary and seals
// new tokens; older keys still open tokens until every token they sealed has expired, then
// rotation prunes them. Thread-safe: validation takes a shared lock, rotation an exclusive one.
#pragma once
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>

#include "core/result.h"
#include "core/time.h"
#include "identity/principal.h"

namespace ciel::store {
class MetaStore;
}

namespace ciel::identity::token {

enum Method : std::uint8_t { kPassword = 1, kToken = 2, kAppCredential = 4 };

struct Payload {
  std::string user_id;
  ScopeType scope = ScopeType::none;
  std::string scope_id;          // project or domain id
  std::uint8_t methods = 0;      // Method bits
  std::int64_t issued_at_ms = 0;
  std::int64_t expires_at = 0;   // unix seconds
  std::string audit_id;          // 16 raw bytes
  std::string audit_chain_id;    // 16 raw bytes, or empty when it equals audit_id
  std::string app_cred_id;       // empty unless issued for an application credential
};

std::string encode_payload(const Payload& p);
// Errc::unauthenticated when the bytes are not a payload this version wrote.
Result<Payload> decode_payload(std::string_view bytes);

struct Key {
  std::string bytes;  // 32 bytes
  std::int64_t created = 0;  // unix seconds
};

// Where a ring keeps its keys. Several rings (nodes) may share one store and race: add() of an
// index that exists already returns false and changes nothing, remove() of a missing one succeeds.
class KeyStore {
 public:
  virtual ~KeyStore() = default;
  virtual Result<std::map<std::uint32_t, Key>> load() = 0;
  virtual Result<bool> add(std::uint32_t index, const Key& key) = 0;
  virtual Status remove(std::uint32_t index) = 0;
};

// DIR/token/<index>.key files (creation time and hex key, mode 0600).
Result<std::unique_ptr<KeyStore>> open_file_key_store(const std::string& dir);

// The identity_token_keys table, each key sealed (AES-256-GCM) under `master_key` (32 bytes):
// what every node of a deployment reads, so a token one node seals opens on every other. A node
// whose master key differs gets a clear error instead of tokens that fail at random.
std::unique_ptr<KeyStore> make_meta_key_store(store::MetaStore& store, std::string master_key);

class KeyRing {
 public:
  // Opens the ring over `store`, adding a first key when it has none. Errc::internal when the
  // store cannot be read. A new key is staged for `stage` before it seals anything, so every node
  // sharing the store has read it (reload) before tokens sealed with it reach them.
  static Result<std::unique_ptr<KeyRing>> open(std::unique_ptr<KeyStore> store, const Clock& clock,
                                               std::chrono::seconds stage = std::chrono::seconds(0));

  std::string seal(const Payload& p) const;
  // Errc::unauthenticated for anything that is not a token sealed by a key of the ring.
  Result<Payload> unseal(std::string_view token) const;

  // Adds a new key when `force` or the newest is older than `rotation` (0: never), and removes
  // older keys once their successor has sealed for longer than `token_lifetime`. When another
  // node added the same key first, takes theirs (and reports no rotation).
  Result<bool> rotate(std::chrono::seconds rotation, std::chrono::seconds token_lifetime, bool force);
  // Re-reads the store (keys another node or `ciel admin rotate-keys` added or removed).
  // Returns whether the ring changed.
  Result<bool> reload();
  std::size_t size() const;
  std::uint32_t primary_index() const;  // the key that seals now

 private:
  KeyRing(std::unique_ptr<KeyStore> store, const Clock& clock) : store_(std::move(store)), clock_(clock) {}
  // The newest key past its staging time (the oldest key when none is). Caller holds mu_.
  std::map<std::uint32_t, Key>::const_iterator sealing_key() const;
  // Adds key `index` to the store (true), or reads the one another node added first (false).
  // Caller holds mu_ (or owns the ring alone).
  Result<bool> add_key(std::uint32_t index);
  std::unique_ptr<KeyStore> store_;
  const Clock& clock_;
  std::chrono::seconds stage_{0};
  mutable std::shared_mutex mu_;
  std::map<std::uint32_t, Key> keys_;  // by index
};

}  // namespace ciel::identity::token
