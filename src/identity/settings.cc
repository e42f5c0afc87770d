#include "identity/settings.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace ciel::identity {

void declare_settings(config::Settings& s) {
  using config::Kind;
  s.declare({"identity.token_lifetime", Kind::duration, "1h", "How long an issued token stays valid."});
  s.declare({"identity.token_key_rotation", Kind::duration, "24h",
             "Age at which the token key ring gets a new primary key (0 disables); old keys open tokens until those expire."});
  s.declare({"identity.argon2_memory_kib", Kind::integer, "19456", "argon2id memory cost per password hash, in KiB."});
  s.declare({"identity.argon2_iterations", Kind::integer, "2", "argon2id time cost (passes)."});
  s.declare({"identity.argon2_parallelism", Kind::integer, "1", "argon2id lanes."});
  s.declare({"identity.hash_threads", Kind::integer, "0", "Password hashes computed at once; 0 means one per core."});
  s.declare({"identity.min_password_length", Kind::integer, "8", "Shortest password accepted for a user."});
  s.declare({"identity.backoff_user_threshold", Kind::integer, "5", "Failed logins on one account before back-off delays start."});
  s.declare({"identity.backoff_address_threshold", Kind::integer, "30", "Failed logins from one address before back-off delays start."});
  s.declare({"identity.backoff_base", Kind::duration, "1s", "First back-off delay; it doubles with each further failure."});
  s.declare({"identity.backoff_max", Kind::duration, "5m", "Longest back-off delay."});
  s.declare({"identity.refresh_interval", Kind::duration, "10s",
             "How often to pick up identity changes made by other nodes or `ciel admin`; 0 disables."});
  s.declare({"identity.master_key_file", Kind::string, "",
             "File holding the 32-byte master key that seals S3 secrets and the token key ring in the metadata store "
             "(default DATA_DIR/keys/credential.key, created on first start). Every node of a deployment needs the same key."});
  s.declare({"identity.region", Kind::string, "RegionOne", "Region of this deployment's catalog endpoints."});
  s.declare({"identity.admin_project", Kind::string, "admin", "Project (in the default domain) whose admins are cloud admins."});
}

Result<IdentityConfig> config_from(const config::Settings& s, const std::string& data_dir) {
  IdentityConfig c;
  c.key_dir = data_dir + "/keys";
  c.master_key_file = s.get_string("identity.master_key_file");
  if (c.master_key_file.empty()) { c.master_key_file = c.key_dir + "/credential.key"; }
  auto secs = [](std::chrono::milliseconds ms) { return std::chrono::duration_cast<std::chrono::seconds>(ms); };
  c.token_lifetime = secs(s.get_duration("identity.token_lifetime"));
  c.key_rotation = secs(s.get_duration("identity.token_key_rotation"));
  auto positive = [&](const char* key, std::int64_t min, std::int64_t max) -> Result<std::int64_t> {
    std::int64_t v = s.get_int(key);
    if (v < min || v > max) {
      return make_error(Errc::invalid_argument, "invalid setting " + std::string(key) + " = " + std::to_string(v) + ": must be between " +
                                                    std::to_string(min) + " and " + std::to_string(max));
    }
    return v;
  };
  if (c.token_lifetime.count() < 1) { return make_error(Errc::invalid_argument, "invalid setting identity.token_lifetime: must be at least 1s"); }
  auto mem = positive("identity.argon2_memory_kib", 64, 4 * 1024 * 1024);
  if (!mem) { return mem.error(); }
  auto it = positive("identity.argon2_iterations", 1, 100);
  if (!it) { return it.error(); }
  auto par = positive("identity.argon2_parallelism", 1, 64);
  if (!par) { return par.error(); }
  auto threads = positive("identity.hash_threads", 0, 256);
  if (!threads) { return threads.error(); }
  auto minlen = positive("identity.min_password_length", 1, 1024);
  if (!minlen) { return minlen.error(); }
  auto ut = positive("identity.backoff_user_threshold", 1, 1'000'000);
  if (!ut) { return ut.error(); }
  auto at = positive("identity.backoff_address_threshold", 1, 1'000'000);
  if (!at) { return at.error(); }
  if (*mem < 8 * *par) { return make_error(Errc::invalid_argument, "invalid setting identity.argon2_memory_kib: must be at least 8 KiB per lane"); }
  c.argon2_memory_kib = static_cast<std::uint32_t>(*mem);
  c.argon2_iterations = static_cast<std::uint32_t>(*it);
  c.argon2_parallelism = static_cast<std::uint32_t>(*par);
  c.hash_threads = static_cast<std::uint32_t>(*threads);
  c.min_password_length = static_cast<std::size_t>(*minlen);
  c.backoff_user_threshold = static_cast<std::uint32_t>(*ut);
  c.backoff_address_threshold = static_cast<std::uint32_t>(*at);
  c.backoff_base = s.get_duration("identity.backoff_base");
  c.backoff_max = s.get_duration("identity.backoff_max");
  c.refresh_interval = s.get_duration("identity.refresh_interval");
  c.region = s.get_string("identity.region");
  c.admin_project = s.get_string("identity.admin_project");
  if (c.region.empty()) { return make_error(Errc::invalid_argument, "invalid setting identity.region: must not be empty"); }
  if (c.admin_project.empty()) { return make_error(Errc::invalid_argument, "invalid setting identity.admin_project: must not be empty"); }
  return c;
}

Status write_openrc(const std::string& path, const std::string& auth_url, const std::string& password, const IdentityConfig& config) {
  std::string text;
  if (password.empty()) {
    std::ifstream in(path);
    if (!in) { return {}; }
    std::string line;
    while (std::getline(in, line)) {
      if (line.starts_with("export OS_AUTH_URL=")) { line = "export OS_AUTH_URL=" + auth_url; }
      text += line + "\n";
    }
  } else {
    text = "# Ciel admin credentials, written at bootstrap. Keep this file private.\n"
           "export OS_AUTH_URL=" + auth_url + "\n"
           "export OS_USERNAME=admin\n"
           "export OS_PASSWORD='" + password + "'\n"
           "export OS_PROJECT_NAME=" + config.admin_project + "\n"
           "export OS_USER_DOMAIN_NAME=Default\n"
           "export OS_PROJECT_DOMAIN_NAME=Default\n"
           "export OS_IDENTITY_API_VERSION=3\n"
           "export OS_REGION_NAME=" + config.region + "\n"
           "export OS_INTERFACE=public\n";
  }
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    ::chmod(tmp.c_str(), 0600);
    out << text;
    if (!out) { return make_error(Errc::unavailable, "cannot write " + path); }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) { return make_error(Errc::unavailable, "cannot write " + path, ec.message()); }
  return {};
}

}  // namespace ciel::identity
