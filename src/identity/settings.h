// identity/settings.h: the identity.* settings `ciel serve` and `ciel admin` declare, and the
// IdentityConfig they produce.
#pragma once
#include <string>

#include "core/config/settings.h"
#include "identity/identity.h"

namespace ciel::identity {

void declare_settings(config::Settings& settings);
// Errc::invalid_argument naming the key for a value out of range.
Result<IdentityConfig> config_from(const config::Settings& settings, const std::string& data_dir);
// The openrc file for the admin user (mode 0600). With an empty password, only OS_AUTH_URL of
// an existing file is refreshed (the password is never stored in clear anywhere else).
Status write_openrc(const std::string& path, const std::string& auth_url, const std::string& password, const IdentityConfig& config);

}  // namespace ciel::identity
