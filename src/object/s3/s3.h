// object/s3/s3.h: the S3 API over the object engine. A bucket is a container of the caller's
// project (the same one Swift shows under /v1/AUTH_<project>), so both APIs see the same
// objects. Served on its own listener (s3.listen): S3 clients address buckets at the root of
// the URL ("path style", http://host:port/bucket/key) or in the host name ("virtual-host
// style", http://bucket.<s3.domain>:port/key), which no other API's paths could share.
// Authentication is AWS Signature Version 4 (or 2) with identity's EC2 credentials.
#pragma once
#include <string>

#include "core/http/router.h"

namespace ciel::identity {
class IdentityService;
}

namespace ciel::object {
class ObjectService;
}

namespace ciel::object::s3 {

struct Options {
  std::string region = "us-east-1";  // s3.region: the region signatures must name
  std::string domain;                // s3.domain: virtual-host style under this domain ("" = path style only)
  std::int64_t max_clock_skew_s = 900;  // signed requests further from our clock are refused (RequestTimeTooSkewed)
};

// Registers the S3 dispatcher on `router` (a router of its own: every path is S3's). The
// services must outlive the router.
void add_routes(http::Router& router, ObjectService& objects, identity::IdentityService& identity, const Options& options);

// S3's XML error document, for errors the HTTP core raises before a handler runs.
http::Response error_renderer(http::Status status, std::string_view message, const http::Request& request);

}  // namespace ciel::object::s3
