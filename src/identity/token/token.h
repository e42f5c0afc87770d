// identity/token/token.h: stateless tokens. A token is base64url(key_id || AES-256-GCM(payload)),
// the key id authenticated as associated data. The payload is a compact binary record (user,
// scope, methods, issue and expiry times, audit ids, application credential): no names, roles or
// catalog, which validation takes from the identity snapshot. A project-scoped password token is
// about 120 characters; the longest (rescoped application credential) stays under 200.
//
// The key ring lives in DIR/token/: one file per key ("<index>.key": creation time and hex key,
// mode 0600). The newest key past its staging delay is the primary and seals new tokens; older
// keys still open tokens until every token they sealed has expired, then rotation prunes them. Every node of a
// deployment shares the directory. Thread-safe: validation takes a shared lock, rotation an
// exclusive one.
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

class KeyRing {
 public:
  // Opens DIR/token, creating it and a first key when empty. Errc::internal when unreadable.
  // A new key is staged for `stage` before it seals anything, so every node sharing the
  // directory has read it (refresh) before tokens sealed with it reach them.
  static Result<std::unique_ptr<KeyRing>> open(const std::string& dir, const Clock& clock,
                                               std::chrono::seconds stage = std::chrono::seconds(0));

  std::string seal(const Payload& p) const;
  // Errc::unauthenticated for anything that is not a token sealed by a key of the ring.
  Result<Payload> unseal(std::string_view token) const;

  // Adds a new key when `force` or the newest is older than `rotation` (0: never), and removes
  // older keys once their successor has sealed for longer than `token_lifetime`.
  Result<bool> rotate(std::chrono::seconds rotation, std::chrono::seconds token_lifetime, bool force);
  // Re-reads the directory (keys another node or `ciel admin rotate-keys` added or removed).
  // Returns whether the ring changed.
  Result<bool> reload();
  std::size_t size() const;
  std::uint32_t primary_index() const;  // the key that seals now

 private:
  struct Key {
    std::string bytes;
    std::int64_t created = 0;
  };
  KeyRing(std::string dir, const Clock& clock) : dir_(std::move(dir)), clock_(clock) {}
  static Result<std::map<std::uint32_t, Key>> read_keys(const std::string& dir);
  // The newest key past its staging time (the oldest key when none is). Caller holds mu_.
  std::map<std::uint32_t, Key>::const_iterator sealing_key() const;
  Result<Key> write_key(std::uint32_t index);
  std::string dir_;
  const Clock& clock_;
  std::chrono::seconds stage_{0};
  mutable std::shared_mutex mu_;
  std::map<std::uint32_t, Key> keys_;  // by index
};

}  // namespace ciel::identity::token
