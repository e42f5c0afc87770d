// Bucket sub-resources: ?location, ?versioning, ?acl, ?policy, ?cors, ?lifecycle and
// ?tagging. Each is a container setting the engine keeps (sys metadata); ACLs and policies are
// also translated into the engine's container ACLs, so the engine enforces them and Swift
// shows the same grants.
#include <algorithm>

#include "object/s3/common.h"
#include "object/s3/policy.h"
#include "object/s3/xml.h"

namespace ciel::object::s3 {
namespace {

using boost::asio::awaitable;
using http::Status;

constexpr std::string_view kSubresources[] = {"location", "versioning", "acl", "policy", "cors", "lifecycle", "tagging",
                                              "website", "logging", "notification", "encryption", "replication", "accelerate",
                                              "requestPayment", "object-lock", "ownershipControls", "publicAccessBlock",
                                              "policyStatus", "analytics", "metrics", "inventory", "intelligent-tiering"};
constexpr std::string_view kSysAcl = "s3-acl";
constexpr std::string_view kSysPolicy = "s3-policy";
constexpr std::string_view kSysCors = "s3-cors";
constexpr std::string_view kSysTagging = "s3-tagging";
constexpr std::string_view kSysLocation = "s3-location";
constexpr std::string_view kSysAnonymousWrite = "s3-anonymous-write";

MetadataUpdate one(std::string_view key, std::optional<std::string> value) {
  MetadataUpdate u;
  u[std::string(key)] = std::move(value);
  return u;
}

S3Error not_configured(std::string_view code, std::string_view message) { return s3_error(Status::not_found, code, message); }

std::string sys_value(const ContainerInfo& c, std::string_view key) {
  auto it = c.sys.find(std::string(key));
  return it == c.sys.end() ? std::string() : it->second;
}

awaitable<http::Response> update_sys(const Deps& deps, const Caller& caller, const std::string& project, const Target& t,
                                     MetadataUpdate sys, const http::Request& req, Status ok = Status::ok) {
  auto st = co_await deps.objects.update_container(caller.access(), project, t.bucket, {}, std::move(sys));
  if (!st) { co_return engine_error(st.error(), req, "bucket"); }
  co_return empty_response(ok, req);
}

}  // namespace

bool is_bucket_config(const http::Request& req) {
  return std::any_of(std::begin(kSubresources), std::end(kSubresources), [&](auto name) { return req.has_query_param(name); });
}

Result<MetadataUpdate> access_update(std::string_view canned, const std::string& policy_json, std::string_view bucket) {
  static constexpr std::string_view kCanned[] = {"private", "public-read", "public-read-write", "authenticated-read"};
  if (std::find(std::begin(kCanned), std::end(kCanned), canned) == std::end(kCanned)) {
    return make_error(Errc::invalid_argument, "The canned ACL " + std::string(canned) + " is not supported");
  }
  PolicyGrants g;
  if (!policy_json.empty()) {
    auto p = parse_bucket_policy(policy_json, bucket);
    if (!p) { return p.error(); }
    g = std::move(*p);
  }
  std::vector<std::string> read, write;
  bool anyone_read = g.anyone_read || canned == "public-read" || canned == "public-read-write";
  bool anyone_list = g.anyone_list || canned == "public-read" || canned == "public-read-write";
  if (anyone_read || anyone_list) { read.push_back(".r:*"); }
  if (anyone_list) { read.push_back(".rlistings"); }
  if (canned == "authenticated-read") { read.push_back("*:*"); }
  for (const auto& p : g.read_projects) { read.push_back(p + ":*"); }
  for (const auto& p : g.list_projects) {
    if (std::find(read.begin(), read.end(), p + ":*") == read.end()) { read.push_back(p + ":*"); }
  }
  for (const auto& p : g.write_projects) { write.push_back(p + ":*"); }
  auto join = [](const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v) { out += (out.empty() ? "" : ",") + s; }
    return out;
  };
  MetadataUpdate u;
  u[std::string(kSysAcl)] = canned == "private" ? std::optional<std::string>{} : std::optional<std::string>{std::string(canned)};
  u[std::string(kSysPolicy)] = policy_json.empty() ? std::optional<std::string>{} : std::optional<std::string>{policy_json};
  u[std::string(kSysReadAcl)] = read.empty() ? std::optional<std::string>{} : std::optional<std::string>{join(read)};
  u[std::string(kSysWriteAcl)] = write.empty() ? std::optional<std::string>{} : std::optional<std::string>{join(write)};
  u[std::string(kSysAnonymousWrite)] =
      g.anyone_write || canned == "public-read-write" ? std::optional<std::string>{"1"} : std::optional<std::string>{};
  return u;
}

awaitable<http::Response> handle_bucket_config(http::RequestContext& ctx, const Deps& deps, const Caller& caller, const Target& t) {
  const auto& req = ctx.request();
  auto project = co_await bucket_project(deps, caller, t.bucket);
  if (!project) { co_return engine_error(project.error(), req, "bucket"); }
  const bool get = req.method == http::Method::get || req.method == http::Method::head;
  const bool put = req.method == http::Method::put;
  const bool del = req.method == http::Method::delete_;
  auto c = co_await deps.objects.get_container(caller.access(), *project, t.bucket);
  if (!c) { co_return engine_error(c.error(), req, "bucket"); }
  // A bucket's settings are its owner's to read (ACL readers may list it, not inspect it).
  if (get && caller.project != *project) {
    co_return error_response(s3_error(Status::forbidden, "AccessDenied", "Access Denied"), req, {});
  }

  if (req.has_query_param("location")) {
    if (!get) { co_return error_response(s3_error(Status::method_not_allowed, "MethodNotAllowed", "The specified method is not allowed against this resource."), req, {}); }
    XmlWriter w("LocationConstraint");
    std::string loc = sys_value(*c, kSysLocation);
    std::string body = w.finish();
    if (!loc.empty()) { body.insert(body.rfind("</LocationConstraint>"), xml_escape(loc)); }
    co_return xml_response(Status::ok, std::move(body), req);
  }

  if (req.has_query_param("versioning")) {
    if (get) {
      XmlWriter w("VersioningConfiguration");
      if (auto v = sys_value(*c, kSysS3Versioning); !v.empty()) { w.leaf("Status", v); }
      co_return xml_response(Status::ok, w.finish(), req);
    }
    if (!put) { co_return error_response(s3_error(Status::method_not_allowed, "MethodNotAllowed", "The specified method is not allowed against this resource."), req, {}); }
    auto body = co_await ctx.read_body(64 * 1024);
    if (!body) { co_return engine_error(body.error(), req, "bucket"); }
    auto status = parse_versioning(*body);
    if (!status) { co_return engine_error(status.error(), req, "bucket"); }
    co_return co_await update_sys(deps, caller, *project, t, one(std::string(kSysS3Versioning), *status), req);
  }

  if (req.has_query_param("acl")) {
    if (get) {
      std::string canned = sys_value(*c, kSysAcl);
      co_return xml_response(Status::ok, render_access_control_policy(canned.empty() ? "private" : canned, *project, *project), req);
    }
    if (!put) { co_return error_response(s3_error(Status::method_not_allowed, "MethodNotAllowed", "The specified method is not allowed against this resource."), req, {}); }
    std::string canned;
    if (auto h = req.headers.get("x-amz-acl")) {
      canned = std::string(*h);
    } else {
      auto body = co_await ctx.read_body(64 * 1024);
      if (!body) { co_return engine_error(body.error(), req, "bucket"); }
      auto parsed = parse_access_control_policy(*body, *project);
      if (!parsed) { co_return error_response(s3_error(Status::not_implemented, "NotImplemented", parsed.error().message), req, {}); }
      canned = *parsed;
    }
    auto u = access_update(canned, sys_value(*c, kSysPolicy), t.bucket);
    if (!u) { co_return error_response(s3_error(Status::bad_request, "InvalidArgument", u.error().message), req, {}); }
    co_return co_await update_sys(deps, caller, *project, t, std::move(*u), req);
  }

  if (req.has_query_param("policy")) {
    std::string canned = sys_value(*c, kSysAcl);
    if (canned.empty()) { canned = "private"; }
    if (get) {
      std::string policy = sys_value(*c, kSysPolicy);
      if (policy.empty()) { co_return error_response(not_configured("NoSuchBucketPolicy", "The bucket policy does not exist"), req, {}); }
      http::Response res(Status::ok, policy, "application/json");
      res.set_header("x-amz-request-id", req.request_id);
      co_return res;
    }
    std::string policy;
    if (put) {
      auto body = co_await ctx.read_body(20 * 1024);
      if (!body) { co_return error_response(s3_error(Status::bad_request, "PolicyTooLarge", "Policies must be no more than 20 KB"), req, {}); }
      policy = std::move(*body);
    } else if (!del) {
      co_return error_response(s3_error(Status::method_not_allowed, "MethodNotAllowed", "The specified method is not allowed against this resource."), req, {});
    }
    auto u = access_update(canned, policy, t.bucket);
    if (!u) { co_return error_response(s3_error(Status::bad_request, "MalformedPolicy", u.error().message), req, {}); }
    co_return co_await update_sys(deps, caller, *project, t, std::move(*u), req, Status::no_content);
  }

  if (req.has_query_param("cors")) {
    if (get) {
      std::string cors = sys_value(*c, kSysCors);
      if (cors.empty()) { co_return error_response(not_configured("NoSuchCORSConfiguration", "The CORS configuration does not exist"), req, {}); }
      co_return xml_response(Status::ok, cors, req);
    }
    if (del) { co_return co_await update_sys(deps, caller, *project, t, one(std::string(kSysCors), std::nullopt), req, Status::no_content); }
    auto body = co_await ctx.read_body(64 * 1024);
    if (!body) { co_return engine_error(body.error(), req, "bucket"); }
    auto rules = parse_cors(*body);
    if (!rules) { co_return engine_error(rules.error(), req, "bucket"); }
    co_return co_await update_sys(deps, caller, *project, t, one(std::string(kSysCors), render_cors(*rules)), req);
  }

  if (req.has_query_param("lifecycle")) {
    if (get) {
      std::string json = sys_value(*c, kSysS3Lifecycle);
      auto rules = decode_lifecycle(json);
      if (json.empty() || !rules || rules->empty()) {
        co_return error_response(not_configured("NoSuchLifecycleConfiguration", "The lifecycle configuration does not exist"), req, {});
      }
      co_return xml_response(Status::ok, render_lifecycle(*rules), req);
    }
    if (del) { co_return co_await update_sys(deps, caller, *project, t, one(std::string(kSysS3Lifecycle), std::nullopt), req, Status::no_content); }
    auto body = co_await ctx.read_body(64 * 1024);
    if (!body) { co_return engine_error(body.error(), req, "bucket"); }
    auto rules = parse_lifecycle(*body);
    if (!rules) { co_return engine_error(rules.error(), req, "bucket"); }
    co_return co_await update_sys(deps, caller, *project, t, one(std::string(kSysS3Lifecycle), encode_lifecycle(*rules)), req);
  }

  if (req.has_query_param("tagging")) {
    if (get) {
      std::string json = sys_value(*c, kSysTagging);
      if (json.empty()) { co_return error_response(not_configured("NoSuchTagSet", "The TagSet does not exist"), req, {}); }
      co_return xml_response(Status::ok, json, req);
    }
    if (del) { co_return co_await update_sys(deps, caller, *project, t, one(std::string(kSysTagging), std::nullopt), req, Status::no_content); }
    auto body = co_await ctx.read_body(64 * 1024);
    if (!body) { co_return engine_error(body.error(), req, "bucket"); }
    auto tags = parse_tagging(*body, 50);
    if (!tags) { co_return engine_error(tags.error(), req, "bucket"); }
    // Stored as the document GetBucketTagging returns.
    XmlWriter w("Tagging");
    w.open("TagSet");
    for (const auto& [k, v] : *tags) {
      w.open("Tag");
      w.leaf("Key", k);
      w.leaf("Value", v);
      w.close();
    }
    co_return co_await update_sys(deps, caller, *project, t, one(std::string(kSysTagging), w.finish()), req, Status::no_content);
  }

  // Settings Ciel does not have: reading says "none", changing says so.
  if (get && req.has_query_param("encryption")) {
    co_return error_response(not_configured("ServerSideEncryptionConfigurationNotFoundError", "The server side encryption configuration was not found"), req, {});
  }
  if (get && req.has_query_param("website")) {
    co_return error_response(not_configured("NoSuchWebsiteConfiguration", "The specified bucket does not have a website configuration"), req, {});
  }
  co_return error_response(s3_error(Status::not_implemented, "NotImplemented", "A header or query you provided implies functionality that is not implemented"), req, {});
}

}  // namespace ciel::object::s3
