// object/s3/xml.h: the XML documents of the S3 API. Parsers for every request body S3 clients
// send (pugixml stays inside xml.cc) and a small writer for responses. Parsers accept the
// documents with or without the S3 namespace, refuse anything malformed, over-long or
// out-of-range with Errc::invalid_argument (kMalformedXml, or the message S3 gives for the
// case), and never throw. Each parser is fuzzed (tests/fuzz/s3_xml_fuzz.cc).
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "object/engine/object_service.h"

namespace ciel::object::s3 {

inline constexpr std::string_view kMalformedXml =
    "The XML you provided was not well-formed or did not validate against our published schema";
inline constexpr std::string_view kS3Namespace = "http://s3.amazonaws.com/doc/2006-03-01/";
// Messages the front-end answers with S3's InvalidTag code (tagging bodies, the x-amz-tagging
// header and lifecycle tag filters) ...
inline constexpr std::string_view kInvalidTagKey = "The TagKey you have provided is invalid";
inline constexpr std::string_view kInvalidTagValue = "The TagValue you have provided is invalid";
inline constexpr std::string_view kSystemTagKey = "Your TagKey cannot be prefixed with aws:";
inline constexpr std::string_view kDuplicateTagKey = "Cannot provide multiple Tags with the same key";
inline constexpr std::string_view kTooManyObjectTags = "Object tags cannot be greater than 10";  // max_tags 10
inline constexpr std::string_view kTooManyBucketTags = "Bucket tag count cannot be greater than 50";  // max_tags 50
// ... and with NotImplemented: an AccessControlPolicy no canned ACL expresses.
inline constexpr std::string_view kAclNotCanned =
    "Only access control policies equal to a canned ACL (private, public-read, public-read-write, authenticated-read) are supported";

// --- request bodies -----------------------------------------------------------------------------
// CreateBucketConfiguration/LocationConstraint; an empty body is "" (no constraint).
Result<std::string> parse_create_bucket(std::string_view xml);

struct DeleteRequest {
  struct Key {
    std::string key, version_id;
  };
  std::vector<Key> keys;  // 1..1000, else invalid_argument
  bool quiet = false;
};
Result<DeleteRequest> parse_delete(std::string_view xml);

// CompleteMultipartUpload: Part/PartNumber and Part/ETag (quotes removed), as listed (order is
// the engine's to check).
Result<std::vector<CompletedPart>> parse_complete_multipart(std::string_view xml);

// VersioningConfiguration/Status: "Enabled" or "Suspended" (MfaDelete ignored).
Result<std::string> parse_versioning(std::string_view xml);

// Tagging/TagSet/Tag (Key, Value): at most 10 tags for objects (50 for buckets), keys 1..128
// and values 0..256 characters, no duplicate keys (InvalidTag message).
Result<Metadata> parse_tagging(std::string_view xml, std::size_t max_tags);
// The x-amz-tagging header ("k1=v1&k2=v2", URL-encoded), same limits.
Result<Metadata> parse_tagging_header(std::string_view header);

struct CorsRule {
  std::string id;
  std::vector<std::string> allowed_origins, allowed_methods, allowed_headers, expose_headers;
  std::optional<int> max_age_seconds;
};
// CORSConfiguration/CORSRule (1..100 rules; methods among GET PUT POST DELETE HEAD).
Result<std::vector<CorsRule>> parse_cors(std::string_view xml);
std::string render_cors(const std::vector<CorsRule>& rules);  // the stored form and GetBucketCors body

// LifecycleConfiguration/Rule: ID, Status, Filter (Prefix | Tag | And{Prefix, Tag...}) or the
// older top-level Prefix, Expiration (Days | Date | ExpiredObjectDeleteMarker),
// NoncurrentVersionExpiration/NoncurrentDays, AbortIncompleteMultipartUpload/DaysAfterInitiation.
// At most 1000 rules; a rule without any action is refused.
Result<std::vector<LifecycleRule>> parse_lifecycle(std::string_view xml);
std::string render_lifecycle(const std::vector<LifecycleRule>& rules);

// AccessControlPolicy bodies are accepted only when they express a canned ACL: returns the
// canned name ("private", "public-read", "public-read-write", "authenticated-read") or
// invalid_argument (NotImplemented-like message) for grants no canned ACL covers.
Result<std::string> parse_access_control_policy(std::string_view xml, std::string_view owner_id);
std::string render_access_control_policy(std::string_view canned, std::string_view owner_id, std::string_view owner_name);

// --- responses -----------------------------------------------------------------------------------
// Builds an XML document: `XmlWriter w("ListBucketResult"); w.open("Contents"); w.leaf("Key", k); w.close(); w.finish()`.
// The root carries the S3 namespace; text is escaped (and characters XML 1.0 cannot carry are
// written as character references so keys round-trip).
class XmlWriter {
 public:
  explicit XmlWriter(std::string_view root, bool with_namespace = true);
  void open(std::string_view name);
  void close();
  void leaf(std::string_view name, std::string_view text);
  void leaf(std::string_view name, std::uint64_t value);
  void leaf_bool(std::string_view name, bool value);  // "true" / "false"
  std::string finish();  // closes whatever is open, returns the document with its XML declaration

 private:
  std::string out_;
  std::vector<std::string> open_;
};
std::string xml_escape(std::string_view text);

}  // namespace ciel::object::s3
