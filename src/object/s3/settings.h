// object/s3/settings.h: the s3.* settings `ciel serve` declares and the Options they give.
#pragma once
#include "core/config/settings.h"
#include "object/s3/s3.h"

namespace ciel::object::s3 {

void declare_settings(config::Settings& settings);
// Errc::invalid_argument naming the key for a bad value.
Result<Options> options_from(const config::Settings& settings);

}  // namespace ciel::object::s3
