// object/s3/policy.h: the subset of S3 bucket policies Ciel enforces. A policy is kept as sent
// (GetBucketPolicy returns it) and translated into the engine's container ACLs, so the engine
// alone decides access and Swift sees the same grants. Supported: Version "2012-10-17" (or
// "2008-10-17"), Statement entries with Effect "Allow", Principal "*" or {"AWS": ...} naming
// projects ("<project_id>", "arn:aws:iam::<project_id>:root", or "*"), Action among s3:GetObject,
// s3:ListBucket, s3:PutObject, s3:DeleteObject, s3:* (string or list), and Resource
// "arn:aws:s3:::<bucket>" / "arn:aws:s3:::<bucket>/*" (string or list). Anything else
// (Deny, Condition, NotPrincipal, other actions or buckets) is refused with Errc::invalid_argument
// and a message saying what is not supported, rather than silently ignored.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace ciel::object::s3 {

struct PolicyGrants {
  bool anyone_read = false;   // GetObject for Principal "*"
  bool anyone_list = false;   // ListBucket for Principal "*"
  bool anyone_write = false;  // PutObject/DeleteObject for Principal "*"
  std::vector<std::string> read_projects, list_projects, write_projects;  // sorted, unique
};

Result<PolicyGrants> parse_bucket_policy(std::string_view json, std::string_view bucket);

}  // namespace ciel::object::s3
