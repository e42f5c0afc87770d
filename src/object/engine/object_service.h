// object/engine/object_service.h: the object engine. One engine, two front-ends (Swift in
// object/swift, S3 in object/s3): a project's account holds its containers (an S3 bucket is one
// of them) and the engine decides everything the front-ends must agree on: names, metadata
// limits, who may do what (owner, account ACLs, container ACLs), quotas, versioning, expiry and
// usage counters. Front-ends translate their protocol to these calls and render the results.
//
// Usage counters: a container's object_count counts its current versions that are not delete
// markers (what a listing shows); its bytes_used counts the bytes of every version it holds,
// noncurrent S3 versions included (they are stored, so quotas count them and versioning cannot
// get around a quota). An account's counters are the sums of its containers'.
//
// Storage: rows in the MetaStore (object_accounts, object_containers, object_versions,
// object_parts) and bytes in the BlobStore. An object's bytes are one blob, or several blobs
// of `part_size` bytes each when it is larger, so a large object is never rewritten: a server-side
// copy shares the source's blobs, and versioning moves rows, never bytes. A blob is deleted when
// the last row that names it goes.
//
// Durability: blobs are durable before the transaction that points at them commits, and a call
// returns only after the commit; a failure or a crash before the commit leaves only unreferenced
// blobs, which check_consistency() removes. So an acknowledged write survives kill -9 and an
// unacknowledged one is invisible.
//
// Threads: thread-safe. Every call is an awaitable that runs SQL and file I/O on the blocking
// pool; nothing blocks the calling I/O thread.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/bytes.h"
#include "core/result.h"
#include "core/time.h"

namespace ciel::store {
class MetaStore;
class Lease;
class BlobStore;
struct Migration;
}  // namespace ciel::store
namespace ciel::identity {
struct Principal;
class Policy;
}  // namespace ciel::identity

namespace ciel::object {

// Engine messages the front-ends recognise to pick their own status codes.
inline constexpr std::string_view kEtagMismatch = "The ETag of the uploaded data does not match the one sent";
inline constexpr std::string_view kContainerNotEmpty = "There was a conflict when trying to complete your request: the container is not empty";
inline constexpr std::string_view kQuotaExceeded = "Upload exceeds quota";
// A missing container (a missing object is any other Errc::not_found).
inline constexpr std::string_view kNoSuchContainer = "The container does not exist";
// Multipart uploads (S3) and versions.
inline constexpr std::string_view kNoSuchUpload = "The specified multipart upload does not exist";
inline constexpr std::string_view kInvalidPart = "One or more of the specified parts could not be found or its entity tag did not match";
inline constexpr std::string_view kInvalidPartOrder = "The list of parts was not in ascending order";
inline constexpr std::string_view kEntityTooSmall = "Your proposed upload is smaller than the minimum allowed size";
inline constexpr std::string_view kNoSuchVersion = "The specified version does not exist";
inline constexpr std::string_view kVersioningConflict = "Swift versioning (a versions location) and S3 versioning cannot both be set on a container";
// Errc::conflict with this message: the call does not apply to a delete marker (S3's MethodNotAllowed).
inline constexpr std::string_view kMethodNotAllowed = "The specified method is not allowed against this resource.";

// Who is asking. `principal` is null for an anonymous request. A front-end that verified a
// signed URL (TempURL, FormPost, S3 presigned) for one operation sets `signed_for_project`: the
// engine then treats the request as the account owner's for that call.
struct Access {
  const identity::Principal* principal = nullptr;
  std::string referer;             // the Referer header, for ".r:" container ACLs
  std::string signed_for_project;  // project id a signature was checked against
  // Set by a front-end assembling a large object for a signed request: the segment container
  // may be listed (a DLO) as part of that one read.
  bool large_object_read = false;
  std::string source;              // client address, for logs
};

using Metadata = std::map<std::string, std::string>;  // names lowercased, without protocol prefixes

// A metadata change: a value sets, nullopt removes.
using MetadataUpdate = std::map<std::string, std::optional<std::string>>;

struct AccountInfo {
  std::string project_id;
  std::uint64_t container_count = 0, object_count = 0, bytes_used = 0;
  std::int64_t created_ms = 0;
  Metadata meta;  // user metadata (Swift X-Account-Meta-*; includes temp-url-key, temp-url-key-2)
  Metadata sys;   // engine-owned: "access-control" (account ACL JSON)
  bool exists = false;  // false: no container was ever created; counters are zero
};

// Container system keys the engine interprets.
inline constexpr std::string_view kSysReadAcl = "read-acl";
inline constexpr std::string_view kSysWriteAcl = "write-acl";
inline constexpr std::string_view kSysVersionsLocation = "versions-location";  // archive container name
inline constexpr std::string_view kSysVersionsMode = "versions-mode";          // "stack" or "history"
// S3 versioning of the container itself: "Enabled" or "Suspended" (absent: never enabled).
// While Enabled, an overwrite or a delete keeps the previous version in the container as a
// noncurrent version, and a delete writes a delete marker. Suspended, writes and deletes replace
// the null version and keep the others. Refused (Errc::conflict, kVersioningConflict) together
// with a versions location; any other value, or removing the key once set, is
// Errc::invalid_argument (S3 versioning can be suspended, never turned off).
inline constexpr std::string_view kSysS3Versioning = "s3-versioning";
// S3 lifecycle rules (encode_lifecycle's JSON), applied by apply_lifecycle(); a value that does
// not decode is Errc::invalid_argument.
inline constexpr std::string_view kSysS3Lifecycle = "s3-lifecycle";
// "1": anyone, signed in or anonymous, may write objects in the container (object_write: put,
// copy to, delete; S3's canned ACL public-read-write).
inline constexpr std::string_view kSysS3AnonymousWrite = "s3-anonymous-write";
// Other S3 bucket settings kept as opaque text for their front-end: "s3-cors" (the CORS XML),
// "s3-policy" (the policy JSON), "s3-acl" (the canned ACL name), "s3-tagging" (tag JSON),
// "s3-location" (LocationConstraint).
// User metadata keys the engine interprets.
inline constexpr std::string_view kMetaQuotaBytes = "quota-bytes";
inline constexpr std::string_view kMetaQuotaCount = "quota-count";

struct ContainerInfo {
  std::string id, project_id, name;
  std::int64_t created_ms = 0, modified_ms = 0;
  std::uint64_t object_count = 0, bytes_used = 0;
  Metadata meta;  // user metadata (X-Container-Meta-*): quota-bytes, quota-count, CORS keys...
  Metadata sys;   // read-acl, write-acl, versions-location, versions-mode
};

enum class ManifestKind { none = 0, dlo = 1, slo = 2 };

struct Part {
  std::string blob_key;
  std::uint64_t size = 0;
};

struct ObjectInfo {
  std::string version_id, container_id, container, project_id, name;
  std::uint64_t size = 0;
  std::string etag;  // hex MD5 of the bytes (Swift); set by the caller for manifests
  std::string content_type;
  std::int64_t modified_us = 0;  // microseconds since the epoch
  Metadata meta;      // user metadata (X-Object-Meta-* / x-amz-meta-*)
  Metadata headers;   // kept headers: content-encoding, content-disposition, cache-control, ...
  std::optional<std::int64_t> delete_at;  // unix seconds
  ManifestKind manifest = ManifestKind::none;
  std::string manifest_value;  // DLO: "container/prefix"; SLO: the stored manifest JSON
  std::vector<Part> parts;     // in order; sizes add up to `size` (empty for a zero-byte object)
  std::optional<std::string> inline_data;  // the bytes of a small object, kept in its row instead of blobs
  Metadata tags;                           // S3 object tags (key -> value)
  // S3 multipart objects: the size of each uploaded part, in order (GET ?partNumber=N); empty
  // for an object written in one PUT.
  std::vector<std::uint64_t> upload_part_sizes;
  bool delete_marker = false;   // S3 versioning: this version is a delete marker
  bool is_current = true;       // the newest version of its name
  bool null_version = true;     // written while S3 versioning was not Enabled: S3 version id "null"
};

// A listing row: an object, a container, or a common prefix ("subdir") when a delimiter rolled
// names up.
struct ListEntry {
  std::string name;
  bool is_prefix = false;
  std::uint64_t size = 0;          // objects: bytes; containers: bytes used
  std::uint64_t count = 0;         // containers: object count
  std::string etag, content_type;  // objects
  std::int64_t modified_us = 0;
  std::int64_t created_us = 0;     // containers: when created (S3's CreationDate)
  std::optional<std::int64_t> delete_at;
};

struct ListQuery {
  std::string prefix, delimiter, marker, end_marker;
  std::size_t limit = 10000;
  bool reverse = false;
};

struct Listing {
  std::vector<ListEntry> entries;
  bool truncated = false;  // more entries follow the last one
};

struct PutRequest {
  std::string content_type;
  Metadata meta;
  Metadata headers;
  std::optional<std::string> expected_etag;  // lowercase hex MD5; Errc::invalid_argument/kEtagMismatch
  std::optional<std::uint64_t> content_length;
  std::optional<std::int64_t> delete_at;
  ManifestKind manifest = ManifestKind::none;
  std::string manifest_value;
  std::optional<std::string> etag_override;  // manifests: the etag to record instead of the bytes' MD5
  std::optional<std::uint64_t> size_override;  // SLO: the logical size (sum of segments)
  bool only_if_absent = false;                 // If-None-Match: *: Errc::precondition_failed when the name exists
  Metadata tags;                               // S3 object tags
};

struct ObjectUpdate {  // POST: replaces user metadata; other fields change only when set
  Metadata meta;
  std::optional<std::string> content_type;
  std::optional<Metadata> headers;
  std::optional<std::optional<std::int64_t>> delete_at;  // set, or clear with nullopt inside
  std::optional<std::string> dlo_manifest;              // set or (empty) clear X-Object-Manifest
};

struct CopyRequest {
  bool fresh_metadata = false;                   // true: metadata from `put` only
  PutRequest put;                                // metadata and headers to apply over the source's
  std::string src_version_id;                    // S3 versionId of the source; empty: the current version
  bool fresh_tags = false;                       // true: tags from `put.tags`; false: the source's tags
};

// --- S3 multipart uploads ---------------------------------------------------------------------
struct UploadInfo {
  std::string upload_id, project_id, container, name;
  std::string initiator;   // user id of the creator ("" when signed)
  std::int64_t created_us = 0;
  PutRequest put;          // content type, metadata, headers and tags the object will get
};
struct UploadedPart {
  int part_no = 0;
  std::uint64_t size = 0;
  std::string etag;        // hex MD5 of the part's bytes
  std::int64_t modified_us = 0;
};
struct PartListing {
  UploadInfo upload;
  std::vector<UploadedPart> parts;  // part_no > marker, ascending
  bool truncated = false;
};
struct UploadQuery {
  std::string prefix, delimiter, key_marker, upload_id_marker;
  std::size_t limit = 1000;
};
struct UploadListing {
  std::vector<UploadInfo> uploads;    // by (name, created_us, upload_id)
  std::vector<std::string> prefixes;  // common prefixes when a delimiter rolled names up
  bool truncated = false;
};
struct CompletedPart {
  int part_no = 0;
  std::string etag;        // as the client sent it, quotes removed
};

// --- S3 versions --------------------------------------------------------------------------------
struct VersionQuery {
  std::string prefix, delimiter, key_marker, version_id_marker;
  std::size_t limit = 1000;
};
struct VersionListing {
  std::vector<ObjectInfo> versions;   // by name, then newest first; delete markers included
  std::vector<std::string> prefixes;
  bool truncated = false;
  // When truncated: where the next page starts (S3's NextKeyMarker and NextVersionIdMarker; the
  // version marker is empty when the page ended on a common prefix, "null" for a null version).
  std::string next_key_marker, next_version_id_marker;
};

// --- S3 lifecycle ---------------------------------------------------------------------------------
struct LifecycleRule {
  std::string id;
  bool enabled = true;
  std::string prefix;
  Metadata tags;                               // all must match
  std::optional<int> expiration_days;          // current versions older than this many days expire
  std::optional<std::int64_t> expiration_date; // unix seconds: current versions expire from then on
  std::optional<int> noncurrent_days;          // noncurrent versions are removed this many days after they became noncurrent
  std::optional<int> abort_upload_days;        // incomplete multipart uploads are aborted after this many days
  bool expired_delete_markers = false;         // remove delete markers with no other version left
};
std::string encode_lifecycle(const std::vector<LifecycleRule>& rules);  // JSON text for kSysS3Lifecycle
Result<std::vector<LifecycleRule>> decode_lifecycle(std::string_view json);

enum class VersionsMode { stack, history };

struct EngineConfig {
  std::uint64_t part_size = 64ull << 20;        // object.part_size: bytes per blob of a large object
  std::uint64_t max_object_size = 5ull << 30;   // object.max_object_size: one PUT (Swift's 5 GiB)
  std::size_t max_listing = 10000;              // object.max_listing: rows per listing request
  std::uint64_t inline_max = 16 * 1024;         // object.inline_max: objects up to this size live in their row
  std::uint64_t min_part_size = 5ull << 20;     // object.min_part_size: S3 parts but the last (EntityTooSmall)
  std::uint32_t max_parts = 10000;              // parts per multipart upload (part numbers 1..max_parts)
  std::int64_t upload_expiry_s = 7 * 86400;     // object.upload_expiry: abandoned multipart uploads are aborted after this
};

class ObjectService {
 public:
  virtual ~ObjectService() = default;

  // --- accounts --------------------------------------------------------------------------------
  // Errc::forbidden / unauthenticated when the caller may not read the account.
  virtual boost::asio::awaitable<Result<AccountInfo>> get_account(const Access& a, std::string project_id) = 0;
  virtual boost::asio::awaitable<Result<Listing>> list_containers(const Access& a, std::string project_id, ListQuery q) = 0;
  // Changes account metadata; `sys` changes need account admin rights (the owner's admin role or
  // an "admin" account ACL entry). Errc::invalid_argument for metadata over the limits.
  virtual boost::asio::awaitable<Status> update_account(const Access& a, std::string project_id, MetadataUpdate meta,
                                                        MetadataUpdate sys) = 0;

  // --- containers ------------------------------------------------------------------------------
  // Creates the container or, when it exists, applies the updates. Returns true when created.
  // Errc::invalid_argument for a bad name or metadata.
  virtual boost::asio::awaitable<Result<bool>> put_container(const Access& a, std::string project_id, std::string name,
                                                             MetadataUpdate meta, MetadataUpdate sys) = 0;
  virtual boost::asio::awaitable<Result<ContainerInfo>> get_container(const Access& a, std::string project_id,
                                                                      std::string name) = 0;
  virtual boost::asio::awaitable<Result<Listing>> list_objects(const Access& a, std::string project_id, std::string container,
                                                               ListQuery q) = 0;
  virtual boost::asio::awaitable<Status> update_container(const Access& a, std::string project_id, std::string name,
                                                          MetadataUpdate meta, MetadataUpdate sys) = 0;
  // The container's CORS settings (its "access-control-*" metadata, and the S3 rules under
  // "s3-cors"), without authorization:
  // browsers ask before they send credentials. Errc::not_found.
  virtual boost::asio::awaitable<Result<Metadata>> container_cors(std::string project_id, std::string name) = 0;
  // The keys signed URLs of this account (and container, when given) may be made with: the
  // account's and the container's temp-url-key and temp-url-key-2 metadata. No authorization:
  // the front-end checks a signature with them and never shows them.
  virtual boost::asio::awaitable<Result<std::vector<std::string>>> signing_keys(std::string project_id, std::string container) = 0;
  // Errc::conflict (kContainerNotEmpty) unless empty: no version (noncurrent S3 versions
  // included) and no delete marker left.
  virtual boost::asio::awaitable<Status> delete_container(const Access& a, std::string project_id, std::string name) = 0;

  // --- objects ---------------------------------------------------------------------------------
  // Streams `body` into blobs, then commits. Errc::not_found (container), forbidden,
  // invalid_argument (name, metadata, tags, kEtagMismatch), quota_exceeded, too_large (over
  // max_object_size), or the body's own error. Nothing is visible unless it returns success.
  virtual boost::asio::awaitable<Result<ObjectInfo>> put_object(const Access& a, std::string project_id, std::string container,
                                                                std::string name, PutRequest req, ByteSource& body) = 0;
  // The current version's record (read access). Errc::not_found when absent or expired.
  virtual boost::asio::awaitable<Result<ObjectInfo>> head_object(const Access& a, std::string project_id,
                                                                 std::string container, std::string name) = 0;
  // Bytes [offset, offset+length) of a record head_object returned.
  virtual boost::asio::awaitable<Result<std::unique_ptr<ByteSource>>> open_object(const ObjectInfo& info, std::uint64_t offset,
                                                                                  std::uint64_t length) = 0;
  // Read-only descriptors over bytes [offset, offset+length) of a record, one per blob it spans,
  // for sendfile; the caller owns (closes) them. Errc::not_found when the blob store has no
  // local files (the caller streams with open_object) or the version is gone.
  struct BlobFile {
    int fd = -1;
    std::uint64_t offset = 0, length = 0;
  };
  virtual Result<std::vector<BlobFile>> open_object_files(const ObjectInfo& info, std::uint64_t offset, std::uint64_t length) = 0;
  virtual boost::asio::awaitable<Result<ObjectInfo>> update_object(const Access& a, std::string project_id, std::string container,
                                                                   std::string name, ObjectUpdate update) = 0;
  // Returns the deleted record. In a container with a versions location, a delete in stack mode
  // restores the newest archived version; in history mode it archives the object and writes a
  // delete marker. With S3 versioning Enabled it writes a delete marker and returns it
  // (delete_marker set; succeeds even when the name has no current version); Suspended, the
  // marker replaces the null version. Errc::not_found otherwise when there is nothing to delete.
  virtual boost::asio::awaitable<Result<ObjectInfo>> delete_object(const Access& a, std::string project_id, std::string container,
                                                                   std::string name) = 0;
  // Server-side copy (read access to the source, write access to the destination). Shares the
  // source's blobs: no bytes are rewritten. The source is the current version or
  // `req.src_version_id` (as head_version finds it; a delete marker there is
  // Errc::invalid_argument); tags are the source's unless `req.fresh_tags`.
  virtual boost::asio::awaitable<Result<ObjectInfo>> copy_object(const Access& a, std::string src_project, std::string src_container,
                                                                 std::string src_name, std::string dst_project, std::string dst_container,
                                                                 std::string dst_name, CopyRequest req) = 0;

  // --- S3 versions -------------------------------------------------------------------------------
  // One version by id ("null" names the null version) (object_read). Delete markers are returned
  // too (delete_marker set); Errc::not_found (kNoSuchVersion) when no such version exists or it
  // expired (delete_at), and Errc::invalid_argument for an id that cannot be one.
  virtual boost::asio::awaitable<Result<ObjectInfo>> head_version(const Access& a, std::string project_id, std::string container,
                                                                  std::string name, std::string version_id) = 0;
  // Removes one version for good (object_write). When it was the current one, the newest
  // remaining unexpired version (by modified_us, then id) becomes current. Returns the removed
  // record. Errc::not_found (kNoSuchVersion), invalid_argument for an id that cannot be one.
  virtual boost::asio::awaitable<Result<ObjectInfo>> delete_version(const Access& a, std::string project_id, std::string container,
                                                                    std::string name, std::string version_id) = 0;
  // Every unexpired version and delete marker (container_list), by name then newest first,
  // starting after (key_marker, version_id_marker) as S3's ListObjectVersions does: without a
  // version marker, after every version of key_marker. Common prefixes count towards `limit`
  // (capped at max_listing). Errc::invalid_argument when version_id_marker names no version of
  // key_marker.
  virtual boost::asio::awaitable<Result<VersionListing>> list_versions(const Access& a, std::string project_id, std::string container,
                                                                       VersionQuery q) = 0;
  // Replaces the tags of the current version or of `version_id` (object_write); an empty map
  // removes them. Returns the record with its new tags. Errc::not_found (kNoSuchVersion when a
  // version was named), invalid_argument for tags over S3's limits (10 tags, keys of 1 to 128
  // characters, values up to 256), conflict (kMethodNotAllowed) for a delete marker.
  virtual boost::asio::awaitable<Result<ObjectInfo>> set_object_tags(const Access& a, std::string project_id, std::string container,
                                                                     std::string name, std::string version_id, Metadata tags) = 0;

  // --- S3 multipart uploads (object_write on the container; reads need container_list) -------------
  virtual boost::asio::awaitable<Result<UploadInfo>> create_upload(const Access& a, std::string project_id, std::string container,
                                                                   std::string name, PutRequest req) = 0;
  // Streams one part (1..max_parts) into blobs; a part sent again replaces the earlier one.
  // `expected_md5` (hex) is checked (kEtagMismatch). Errc::not_found (kNoSuchUpload),
  // too_large past max_object_size.
  virtual boost::asio::awaitable<Result<UploadedPart>> upload_part(const Access& a, std::string project_id, std::string container,
                                                                   std::string name, std::string upload_id, int part_no,
                                                                   std::optional<std::uint64_t> content_length,
                                                                   std::optional<std::string> expected_md5, ByteSource& body) = 0;
  // Assembles the listed parts (ascending, each etag matching) into the object without copying
  // bytes; its etag is hex(MD5(concatenated binary part MD5s)) + "-N". Unlisted parts are
  // dropped. Errc::not_found (kNoSuchUpload); invalid_argument (kInvalidPart, kInvalidPartOrder,
  // kEntityTooSmall for a part under min_part_size that is not the last).
  virtual boost::asio::awaitable<Result<ObjectInfo>> complete_upload(const Access& a, std::string project_id, std::string container,
                                                                     std::string name, std::string upload_id,
                                                                     std::vector<CompletedPart> parts) = 0;
  virtual boost::asio::awaitable<Status> abort_upload(const Access& a, std::string project_id, std::string container,
                                                      std::string name, std::string upload_id) = 0;
  virtual boost::asio::awaitable<Result<PartListing>> list_parts(const Access& a, std::string project_id, std::string container,
                                                                 std::string name, std::string upload_id, int part_marker,
                                                                 std::size_t limit) = 0;
  virtual boost::asio::awaitable<Result<UploadListing>> list_uploads(const Access& a, std::string project_id, std::string container,
                                                                     UploadQuery q) = 0;

  // --- maintenance -----------------------------------------------------------------------------
  // Deletes versions whose delete_at has passed (at most `limit`); returns how many. When a
  // current S3 version goes, the newest remaining unexpired one becomes current.
  virtual boost::asio::awaitable<Result<std::size_t>> reap_expired(std::size_t limit) = 0;
  // Aborts multipart uploads older than upload_expiry_s (at most `limit`); returns how many.
  virtual boost::asio::awaitable<Result<std::size_t>> reap_uploads(std::size_t limit) = 0;
  // Applies every container's lifecycle rules (kSysS3Lifecycle): expires current versions (as
  // delete_object would with S3 versioning: a delete marker when Enabled, a null one when
  // Suspended; without S3 versioning the version is removed, Swift versions locations aside),
  // removes noncurrent versions and delete markers with no version left, aborts multipart
  // uploads older than a rule's abort_upload_days under its prefix, at most `limit`
  // actions; returns how many. Rules' tags filter versions, not delete markers.
  virtual boost::asio::awaitable<Result<std::size_t>> apply_lifecycle(std::size_t limit) = 0;
  // Projects owning a container called `name` (S3 requests without credentials or from
  // another project name a bucket without its project).
  virtual boost::asio::awaitable<Result<std::vector<std::string>>> container_owners(std::string name) = 0;
  virtual const EngineConfig& config() const = 0;
};

// Runs reap_expired(), reap_uploads() and apply_lifecycle() every `interval` until cancelled
// (ciel serve spawns it).
// With a lease, a round runs only on the node holding it (store/lease.h).
boost::asio::awaitable<void> run_reaper(ObjectService& objects, std::chrono::milliseconds interval, store::Lease* lease = nullptr);

// The tables the engine owns.
std::vector<store::Migration> migrations();

std::unique_ptr<ObjectService> make_object_service(store::MetaStore& meta, store::BlobStore& blobs, const identity::Policy& policy,
                                                   EngineConfig config, const Clock& clock = system_clock());

// What `ciel scrub` checks beyond blob checksums: every blob a row names exists, no blob is
// unnamed, and the usage counters equal what the rows add up to.
struct ConsistencyReport {
  std::uint64_t versions = 0, blobs = 0;
  std::vector<std::string> missing_blobs;        // named by a row, absent: data loss
  std::vector<std::string> unreferenced_blobs;   // present, named by no row: an interrupted upload's leftovers
  std::vector<std::string> counter_mismatches;   // "container <project>/<name>: rows say ..., counters say ..."
};
// Blocking (startup and the CLI). With `remove_unreferenced`, deletes the unreferenced blobs it
// finds. Safe only while no upload is in flight on this blob store: `ciel serve` runs it before
// it accepts requests (the data directory lock keeps other servers out).
Result<ConsistencyReport> check_consistency(store::MetaStore& meta, store::BlobStore& blobs, bool remove_unreferenced);

}  // namespace ciel::object
