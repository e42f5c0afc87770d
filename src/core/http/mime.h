// core/http/mime.h: a media type from a file name's extension, for stores that are asked to
// detect it (Swift's X-Detect-Content-Type, box files, which sync clients send as octet-stream).
#pragma once
#include <string>
#include <string_view>

namespace ciel::http {

// "application/octet-stream" for an unknown or missing extension. Case-insensitive.
std::string guess_content_type(std::string_view name);

}  // namespace ciel::http
