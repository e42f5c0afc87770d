#include "object/s3/settings.h"

#include <cctype>

namespace ciel::object::s3 {

void declare_settings(config::Settings& s) {
  using config::Kind;
  s.declare({"s3.listen", Kind::string, "",
             "HOST:PORT of the S3 listener. Empty: server.listen's host and the next port (port 0 when server.listen's is 0)."});
  s.declare({"s3.public_url", Kind::string, "", "The S3 endpoint clients reach (for the catalog). Empty: derived from the listener."});
  s.declare({"s3.region", Kind::string, "us-east-1", "The region S3 signatures name; clients must be configured with it."});
  s.declare({"s3.domain", Kind::string, "",
             "Domain for virtual-host style requests (bucket.DOMAIN). Empty: path style only (http://host:port/bucket/key)."});
  s.declare({"s3.max_clock_skew", Kind::duration, "15m", "Signed requests dated further than this from the server's clock are refused."});
}

Result<Options> options_from(const config::Settings& s) {
  Options o;
  o.region = s.get_string("s3.region");
  if (o.region.empty() || o.region.size() > 64) { return make_error(Errc::invalid_argument, "invalid setting s3.region: 1 to 64 characters"); }
  for (char c : o.region) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') {
      return make_error(Errc::invalid_argument, "invalid setting s3.region: letters, digits, '-' and '_' only");
    }
  }
  o.domain = s.get_string("s3.domain");
  auto skew = std::chrono::duration_cast<std::chrono::seconds>(s.get_duration("s3.max_clock_skew")).count();
  if (skew < 1) { return make_error(Errc::invalid_argument, "invalid setting s3.max_clock_skew: at least 1s"); }
  o.max_clock_skew_s = skew;
  return o;
}

}  // namespace ciel::object::s3
