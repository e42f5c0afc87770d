#include "object/s3/policy.h"

#include <gtest/gtest.h>

namespace ciel::object::s3 {
namespace {

using Ids = std::vector<std::string>;

const std::string kProject = "0123456789abcdef0123456789abcdef";

std::string statement(std::string_view principal, std::string_view action, std::string_view resource, std::string_view extra = "") {
  return "{\"Effect\":\"Allow\",\"Principal\":" + std::string(principal) + ",\"Action\":" + std::string(action) +
         ",\"Resource\":" + std::string(resource) + std::string(extra) + "}";
}

std::string policy(std::string_view statements) {
  return "{\"Version\":\"2012-10-17\",\"Statement\":[" + std::string(statements) + "]}";
}

void expect_refused(std::string_view json, std::string_view message) {
  auto r = parse_bucket_policy(json, "photos");
  ASSERT_FALSE(r) << json;
  EXPECT_EQ(r.error().code, Errc::invalid_argument);
  EXPECT_EQ(r.error().message, message);
}

TEST(S3Policy, PublicReadAsTheDocsWriteIt) {
  auto r = parse_bucket_policy(R"({
    "Version": "2012-10-17",
    "Statement": [
      {
        "Sid": "PublicReadGetObject",
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::photos/*"
      }
    ]
  })",
                               "photos");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->anyone_read);
  EXPECT_FALSE(r->anyone_list);
  EXPECT_FALSE(r->anyone_write);
  EXPECT_TRUE(r->read_projects.empty() && r->list_projects.empty() && r->write_projects.empty());
}

TEST(S3Policy, ListAndReadForAnyone) {
  auto r = parse_bucket_policy(
      R"({"Version":"2008-10-17","Id":"p1","Statement":{"Effect":"Allow","Principal":{"AWS":"*"},"Action":["s3:GetObject","s3:ListBucket"],)"
      R"("Resource":["arn:aws:s3:::photos","arn:aws:s3:::photos/*"]}})",
      "photos");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->anyone_read);
  EXPECT_TRUE(r->anyone_list);
  EXPECT_FALSE(r->anyone_write);
}

TEST(S3Policy, ProjectGrantsInEveryForm) {
  std::string other = "fedcba9876543210fedcba9876543210";
  auto r = parse_bucket_policy(
      policy(statement(R"({"AWS":"arn:aws:iam::)" + other + R"(:root"})", R"("s3:GetObject")", R"("arn:aws:s3:::photos/*")") + "," +
             statement(R"({"AWS":[")" + kProject + R"(","legacy_project-1"]})", R"(["s3:PutObject","s3:DeleteObject","s3:ListBucket"])",
                       R"(["arn:aws:s3:::photos/*","arn:aws:s3:::photos"])") +
             "," + statement(R"({"AWS":")" + kProject + R"("})", R"("s3:getobject")", R"("arn:aws:s3:::photos/*")")),
      "photos");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_FALSE(r->anyone_read || r->anyone_list || r->anyone_write);
  EXPECT_EQ(r->read_projects, (Ids{kProject, other}));
  EXPECT_EQ(r->list_projects, (Ids{kProject, "legacy_project-1"}));
  EXPECT_EQ(r->write_projects, (Ids{kProject, "legacy_project-1"}));
}

TEST(S3Policy, WildcardActionGrantsWhatItsResourcesAllow) {
  auto all = parse_bucket_policy(policy(statement(R"("*")", R"("s3:*")", R"(["arn:aws:s3:::photos","arn:aws:s3:::photos/*"])")), "photos");
  ASSERT_TRUE(all) << all.error().message;
  EXPECT_TRUE(all->anyone_read && all->anyone_list && all->anyone_write);
  auto objects = parse_bucket_policy(policy(statement(R"({"AWS":")" + kProject + R"("})", R"("S3:*")", R"("arn:aws:s3:::photos/*")")), "photos");
  ASSERT_TRUE(objects) << objects.error().message;
  EXPECT_EQ(objects->read_projects, Ids{kProject});
  EXPECT_EQ(objects->write_projects, Ids{kProject});
  EXPECT_TRUE(objects->list_projects.empty());
  auto bucket = parse_bucket_policy(policy(statement(R"("*")", R"("s3:*")", R"("arn:aws:s3:::photos")")), "photos");
  ASSERT_TRUE(bucket) << bucket.error().message;
  EXPECT_TRUE(bucket->anyone_list);
  EXPECT_FALSE(bucket->anyone_read || bucket->anyone_write);
}

TEST(S3Policy, WriteNeedsPutAndDeleteTogether) {
  auto split = parse_bucket_policy(policy(statement(R"("*")", R"("s3:PutObject")", R"("arn:aws:s3:::photos/*")") + "," +
                                          statement(R"("*")", R"("s3:DeleteObject")", R"("arn:aws:s3:::photos/*")")),
                                   "photos");
  ASSERT_TRUE(split) << split.error().message;
  EXPECT_TRUE(split->anyone_write);
  expect_refused(policy(statement(R"("*")", R"("s3:PutObject")", R"("arn:aws:s3:::photos/*")")),
                 "s3:PutObject and s3:DeleteObject can only be granted together (to \"*\")");
  expect_refused(policy(statement(R"({"AWS":")" + kProject + R"("})", R"("s3:DeleteObject")", R"("arn:aws:s3:::photos/*")")),
                 "s3:PutObject and s3:DeleteObject can only be granted together (to \"" + kProject + "\")");
}

TEST(S3Policy, RefusesWhatItCannotEnforce) {
  const std::string get = R"("s3:GetObject")";
  const std::string objects = R"("arn:aws:s3:::photos/*")";
  expect_refused(policy(R"({"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*"})"),
                 "The policy Effect \"Deny\" is not supported: Ciel's grants only allow");
  expect_refused(policy(statement(R"("*")", get, objects, R"(,"Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}})")),
                 "The policy element \"Condition\" is not supported");
  expect_refused(policy(R"({"Effect":"Allow","NotPrincipal":{"AWS":"x"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*"})"),
                 "The policy element \"NotPrincipal\" is not supported");
  expect_refused(policy(R"({"Effect":"Allow","Principal":"*","NotAction":"s3:GetObject","Resource":"arn:aws:s3:::photos/*"})"),
                 "The policy element \"NotAction\" is not supported");
  expect_refused(policy(R"({"Effect":"Allow","Principal":"*","Action":"s3:GetObject","NotResource":"arn:aws:s3:::photos/*"})"),
                 "The policy element \"NotResource\" is not supported");
  expect_refused(policy(statement(R"("*")", R"("s3:GetObjectAcl")", objects)),
                 "The action \"s3:GetObjectAcl\" is not supported: use s3:GetObject, s3:ListBucket, s3:PutObject, s3:DeleteObject or s3:*");
  expect_refused(policy(statement(R"("*")", R"("*")", objects)),
                 "The action \"*\" is not supported: use s3:GetObject, s3:ListBucket, s3:PutObject, s3:DeleteObject or s3:*");
  expect_refused(policy(statement(R"("*")", get, R"("arn:aws:s3:::other/*")")),
                 "The resource \"arn:aws:s3:::other/*\" is not supported: use \"arn:aws:s3:::photos\" or \"arn:aws:s3:::photos/*\"");
  expect_refused(policy(statement(R"("*")", get, R"("arn:aws:s3:::photos/public/*")")),
                 "The resource \"arn:aws:s3:::photos/public/*\" is not supported: use \"arn:aws:s3:::photos\" or \"arn:aws:s3:::photos/*\"");
  expect_refused(policy(statement(R"({"Service":"logging.s3.amazonaws.com"})", get, objects)),
                 "The principal type \"Service\" is not supported: only \"AWS\" is");
  expect_refused(policy(statement(R"({"AWS":"arn:aws:iam::123456789012:user/alice"})", get, objects)),
                 "The principal \"arn:aws:iam::123456789012:user/alice\" is not supported: use \"*\", a project id or "
                 "\"arn:aws:iam::<project_id>:root\"");
  expect_refused(policy(statement(R"({"AWS":"has space"})", get, objects)),
                 "The principal \"has space\" is not supported: use \"*\", a project id or \"arn:aws:iam::<project_id>:root\"");
  expect_refused(policy(statement(R"({"AWS":")" + std::string(65, 'a') + R"("})", get, objects)),
                 "The principal \"" + std::string(65, 'a') + "\" is not supported: use \"*\", a project id or \"arn:aws:iam::<project_id>:root\"");
  expect_refused(policy(statement(R"({"AWS":"arn:aws:iam::root"})", get, objects)),
                 "The principal \"arn:aws:iam::root\" is not supported: use \"*\", a project id or \"arn:aws:iam::<project_id>:root\"");
  expect_refused(policy(statement(R"({"AWS":"arn:aws:iam:::root"})", get, objects)),
                 "The principal \"arn:aws:iam:::root\" is not supported: use \"*\", a project id or \"arn:aws:iam::<project_id>:root\"");
  expect_refused(policy(statement(R"("someone")", get, objects)), "The principal \"someone\" is not supported: use \"*\" or {\"AWS\": ...}");
  expect_refused(policy(statement(R"(["*"])", get, objects)), "Principal must be \"*\" or an object with an \"AWS\" entry");
  expect_refused(policy(statement(R"({})", get, objects)), "Principal must be \"*\" or an object with an \"AWS\" entry");
  expect_refused(policy(statement(R"({"AWS":[]})", get, objects)), "Principal AWS must be a string or a non-empty list of strings");
  expect_refused(policy(statement(R"("*")", R"([])", objects)), "Action must be a string or a non-empty list of strings");
  expect_refused(policy(statement(R"("*")", get, R"([1])")), "Resource must be a string or a non-empty list of strings");
  expect_refused(policy(statement(R"("*")", get, R"("arn:aws:s3:::photos")")), "Action does not apply to any resource(s) in statement");
  expect_refused(policy(statement(R"("*")", R"(["s3:GetObject","s3:ListBucket"])", objects)),
                 "Action does not apply to any resource(s) in statement");
}

TEST(S3Policy, RefusesMalformedDocuments) {
  const std::string not_json = "Policies must be valid JSON and the first byte must be '{'";
  expect_refused("", not_json);
  expect_refused("not json", not_json);
  expect_refused("[]", not_json);
  expect_refused("{\"Version\":", not_json);
  expect_refused(std::string(40, '[') + std::string(40, ']'), not_json);
  expect_refused(R"({"Version":"2012-10-17"})", "Missing required field Statement");
  expect_refused(R"({"Version":"2020-01-01","Statement":[]})", "The policy Version must be \"2012-10-17\" or \"2008-10-17\"");
  expect_refused(R"({"Version":"2012-10-17","Statement":[]})", "Statement must not be empty");
  expect_refused(R"({"Version":"2012-10-17","Statement":["x"]})", "Each Statement must be an object");
  expect_refused(R"({"Version":"2012-10-17","Id":5,"Statement":[]})", "Id must be a string");
  expect_refused(R"({"Version":"2012-10-17","Extra":1,"Statement":[]})", "The policy element \"Extra\" is not supported");
  expect_refused(policy(R"({"Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*"})"), "Missing required field Effect");
  expect_refused(policy(R"({"Effect":"allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*"})"),
                 "Effect must be \"Allow\" or \"Deny\"");
  expect_refused(policy(R"({"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*"})"), "Missing required field Principal");
  expect_refused(policy(R"({"Effect":"Allow","Principal":"*","Resource":"arn:aws:s3:::photos/*"})"), "Missing required field Action");
  expect_refused(policy(R"({"Effect":"Allow","Principal":"*","Action":"s3:GetObject"})"), "Missing required field Resource");
  expect_refused(policy(R"({"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*","Effect":"Allow"})"),
                 "The policy repeats the element \"Effect\" in one object");
  expect_refused(policy(statement(R"({"AWS":"a","A\u0057S":"b"})", R"("s3:GetObject")", R"("arn:aws:s3:::photos/*")")),
                 "The policy repeats the element \"AWS\" in one object");
  expect_refused(policy(R"({"Sid":1,"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*"})"),
                 "Sid must be a string");
}

TEST(S3Policy, SizeLimitIsTwentyKibibytes) {
  std::string base = policy(statement(R"("*")", R"("s3:GetObject")", R"("arn:aws:s3:::photos/*")"));
  std::string padded = base.substr(0, base.size() - 1) + std::string(20 * 1024 - base.size(), ' ') + "}";
  ASSERT_EQ(padded.size(), 20u * 1024);
  EXPECT_TRUE(parse_bucket_policy(padded, "photos"));
  expect_refused(padded + " ", "Policy exceeds the maximum allowed document size");
}

}  // namespace
}  // namespace ciel::object::s3
