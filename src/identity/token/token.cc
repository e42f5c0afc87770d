#include "identity/token/token.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>

#include "core/crypto/crypto.h"

namespace ciel::identity::token {
namespace {

constexpr std::uint8_t kVersion = 1;
constexpr std::uint8_t kFlagAppCred = 0x04;
constexpr std::uint8_t kFlagChain = 0x08;

bool is_hex32(std::string_view s) {
  if (s.size() != 32) { return false; }
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) { return false; }
  }
  return true;
}

void put_varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

void put_id(std::string& out, std::string_view id) {
  if (is_hex32(id)) {
    out.push_back('\0');
    out += *crypto::unhex(id);
  } else {
    out.push_back(static_cast<char>(id.size()));
    out += id;
  }
}

struct Reader {
  std::string_view in;
  bool ok = true;
  std::uint8_t byte() {
    if (in.empty()) { ok = false; return 0; }
    auto b = static_cast<std::uint8_t>(in.front());
    in.remove_prefix(1);
    return b;
  }
  std::uint64_t varint() {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      std::uint8_t b = byte();
      if (!ok) { return 0; }
      v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) { return v; }
    }
    ok = false;
    return 0;
  }
  std::string raw(std::size_t n) {
    if (in.size() < n) { ok = false; return {}; }
    std::string s(in.substr(0, n));
    in.remove_prefix(n);
    return s;
  }
  std::string id() {
    std::uint8_t len = byte();
    if (!ok) { return {}; }
    if (len == 0) { return crypto::hex(raw(16)); }
    return raw(len);
  }
};

Error bad_token() { return make_error(Errc::unauthenticated, "The request you have made requires authentication.", "bad token"); }

}  // namespace

std::string encode_payload(const Payload& p) {
  std::string out;
  out.reserve(96);
  out.push_back(static_cast<char>(kVersion));
  std::uint8_t flags = static_cast<std::uint8_t>(p.scope);
  if (!p.app_cred_id.empty()) { flags |= kFlagAppCred; }
  if (!p.audit_chain_id.empty() && p.audit_chain_id != p.audit_id) { flags |= kFlagChain; }
  out.push_back(static_cast<char>(flags));
  out.push_back(static_cast<char>(p.methods));
  put_varint(out, static_cast<std::uint64_t>(p.issued_at_ms));
  std::int64_t life = p.expires_at - p.issued_at_ms / 1000;
  put_varint(out, static_cast<std::uint64_t>(life < 0 ? 0 : life));
  put_id(out, p.user_id);
  if (p.scope != ScopeType::none) { put_id(out, p.scope_id); }
  out += p.audit_id;
  if (flags & kFlagChain) { out += p.audit_chain_id; }
  if (flags & kFlagAppCred) { put_id(out, p.app_cred_id); }
  return out;
}

Result<Payload> decode_payload(std::string_view bytes) {
  Reader r{bytes};
  Payload p;
  if (r.byte() != kVersion) { return bad_token(); }
  std::uint8_t flags = r.byte();
  unsigned scope = flags & 0x03;
  if (scope > 2) { return bad_token(); }
  p.scope = static_cast<ScopeType>(scope);
  p.methods = r.byte();
  p.issued_at_ms = static_cast<std::int64_t>(r.varint());
  p.expires_at = p.issued_at_ms / 1000 + static_cast<std::int64_t>(r.varint());
  p.user_id = r.id();
  if (p.scope != ScopeType::none) { p.scope_id = r.id(); }
  p.audit_id = r.raw(16);
  if (flags & kFlagChain) { p.audit_chain_id = r.raw(16); }
  if (flags & kFlagAppCred) { p.app_cred_id = r.id(); }
  if (!r.ok || !r.in.empty() || p.user_id.empty()) { return bad_token(); }
  return p;
}

namespace {

class FileKeyStore final : public KeyStore {
 public:
  explicit FileKeyStore(std::string dir) : dir_(std::move(dir)) {}

  Result<std::map<std::uint32_t, Key>> load() override {
    std::map<std::uint32_t, Key> keys;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir_, ec)) {
      std::string name = entry.path().filename().string();
      if (!name.ends_with(".key")) { continue; }
      std::uint32_t index = 0;
      try {
        index = static_cast<std::uint32_t>(std::stoul(name.substr(0, name.size() - 4)));
      } catch (const std::exception&) {
        continue;
      }
      std::ifstream in(entry.path());
      std::int64_t created = 0;
      std::string hexkey;
      in >> created >> hexkey;
      auto bytes = crypto::unhex(hexkey);
      if (!in || !bytes || bytes->size() != 32) {
        return make_error(Errc::internal, "unreadable token key " + entry.path().string());
      }
      keys[index] = Key{*bytes, created};
    }
    if (ec) { return make_error(Errc::internal, "cannot read the token key directory " + dir_, ec.message()); }
    return keys;
  }

  Result<bool> add(std::uint32_t index, const Key& k) override {
    std::string path = dir_ + "/" + std::to_string(index) + ".key";
    if (std::filesystem::exists(path)) { return false; }
    std::string tmp = path + ".tmp";
    {
      std::ofstream out(tmp, std::ios::trunc);
      ::chmod(tmp.c_str(), 0600);
      out << k.created << " " << crypto::hex(k.bytes) << "\n";
      out.flush();
      if (!out) { return make_error(Errc::internal, "cannot write token key " + path); }
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) { return make_error(Errc::internal, "cannot write token key " + path, ec.message()); }
    return true;
  }

  Status remove(std::uint32_t index) override {
    std::error_code ec;
    std::filesystem::remove(dir_ + "/" + std::to_string(index) + ".key", ec);
    if (ec) { return make_error(Errc::internal, "cannot remove token key " + std::to_string(index), ec.message()); }
    return {};
  }

 private:
  std::string dir_;
};

}  // namespace

Result<std::unique_ptr<KeyStore>> open_file_key_store(const std::string& dir) {
  std::string path = dir + "/token";
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) { return make_error(Errc::internal, "cannot create the token key directory " + path, ec.message()); }
  std::filesystem::permissions(path, std::filesystem::perms::owner_all, ec);
  return std::unique_ptr<KeyStore>(new FileKeyStore(path));
}

Result<std::unique_ptr<KeyRing>> KeyRing::open(std::unique_ptr<KeyStore> store, const Clock& clock, std::chrono::seconds stage) {
  std::unique_ptr<KeyRing> ring(new KeyRing(std::move(store), clock));
  ring->stage_ = stage;
  auto keys = ring->store_->load();
  if (!keys) { return keys.error(); }
  ring->keys_ = std::move(*keys);
  if (ring->keys_.empty()) {
    if (auto added = ring->add_key(1); !added) { return added.error(); }
  }
  return ring;
}

Result<bool> KeyRing::reload() {
  auto keys = store_->load();
  if (!keys) { return keys.error(); }
  if (keys->empty()) { return false; }  // never drop to no key at all
  std::unique_lock lock(mu_);
  bool same = keys->size() == keys_.size();
  for (auto a = keys->begin(), b = keys_.begin(); same && a != keys->end(); ++a, ++b) {
    same = a->first == b->first && a->second.bytes == b->second.bytes;
  }
  if (same) { return false; }
  keys_ = std::move(*keys);
  return true;
}

Result<bool> KeyRing::add_key(std::uint32_t index) {
  Key k{crypto::random_bytes(32), unix_seconds(clock_.now())};
  auto added = store_->add(index, k);
  if (!added) { return added.error(); }
  if (*added) {
    keys_[index] = std::move(k);
    return true;
  }
  // Another node added this index first: its key is the one every node will read.
  auto keys = store_->load();
  if (!keys) { return keys.error(); }
  if (keys->count(index) == 0) { return make_error(Errc::internal, "token key " + std::to_string(index) + " vanished while being added"); }
  keys_ = std::move(*keys);
  return false;
}

std::map<std::uint32_t, Key>::const_iterator KeyRing::sealing_key() const {
  std::int64_t ready = unix_seconds(clock_.now()) - stage_.count();
  for (auto it = keys_.rbegin(); it != keys_.rend(); ++it) {
    if (it->second.created <= ready) { return std::prev(it.base()); }
  }
  return keys_.begin();
}

std::string KeyRing::seal(const Payload& p) const {
  std::shared_lock lock(mu_);
  const auto& [index, key] = *sealing_key();
  std::string id(1, static_cast<char>(index & 0xff));
  return crypto::base64url(id + crypto::aes256gcm_seal(key.bytes, encode_payload(p), id));
}

Result<Payload> KeyRing::unseal(std::string_view token) const {
  if (token.size() < 40 || token.size() > 400) { return bad_token(); }
  auto raw = crypto::unbase64url(token);
  if (!raw || raw->size() < 1 + 12 + 16 + 4) { return bad_token(); }
  auto id = static_cast<std::uint8_t>((*raw)[0]);
  std::string_view aad(raw->data(), 1);
  std::optional<std::string> plain;
  {
    std::shared_lock lock(mu_);
    for (auto it = keys_.rbegin(); it != keys_.rend(); ++it) {
      if ((it->first & 0xff) != id) { continue; }
      plain = crypto::aes256gcm_open(it->second.bytes, std::string_view(*raw).substr(1), aad);
      break;
    }
  }
  if (!plain) { return bad_token(); }
  return decode_payload(*plain);
}

Result<bool> KeyRing::rotate(std::chrono::seconds rotation, std::chrono::seconds token_lifetime, bool force) {
  std::unique_lock lock(mu_);
  std::int64_t now = unix_seconds(clock_.now());
  bool rotated = false;
  auto& [primary, key] = *keys_.rbegin();
  if (force || (rotation.count() > 0 && now - key.created >= rotation.count())) {
    std::uint32_t next = primary + 1;
    // Taking the key another node added first is no rotation of ours (that node audits it).
    auto added = add_key(next);
    if (!added) { return added.error(); }
    rotated = *added;
  }
  // A key is still needed while a token it sealed may be valid: until its successor has been
  // sealing (past its staging) for a whole token lifetime, plus a minute of clock slack.
  for (auto it = keys_.begin(); it != keys_.end();) {
    auto next = std::next(it);
    if (next == keys_.end()) { break; }
    if (now - next->second.created > stage_.count() + token_lifetime.count() + 60) {
      if (auto st = store_->remove(it->first); !st) { return st.error(); }
      it = keys_.erase(it);
    } else {
      ++it;
    }
  }
  return rotated;
}

std::size_t KeyRing::size() const {
  std::shared_lock lock(mu_);
  return keys_.size();
}

std::uint32_t KeyRing::primary_index() const {
  std::shared_lock lock(mu_);
  return sealing_key()->first;
}

}  // namespace ciel::identity::token
