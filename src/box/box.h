// box/box.h: the box engine. Each user has a home tree: folders and files with stable numeric
// ids, kept in the MetaStore (box_nodes), with file bytes in the BlobStore (box_contents and
// box_content_parts). Front-ends (box/dav for WebDAV and the sync clients, box/ocs for the
// Nextcloud OCS calls) translate their protocol into these calls; the engine decides names,
// quotas, versions, trash, etags and who owns what, and never sees HTTP.
//
// Paths are relative to the user's root ("" is the root, "a/b.txt" a file in folder a). The
// engine normalises every segment to Unicode NFC and refuses empty, "." and ".." segments, so
// "é" typed on a Mac and on Linux names one file.
//
// Etags: a file's etag changes when its content changes; a folder's etag changes whenever
// anything beneath it changes (every write updates the etag and the recursive size of each
// ancestor up to the root in the same transaction), so a sync client finds every change with
// one PROPFIND of the root. A rename or move is one row update: ids, etags of the moved files and
// their content stay.
//
// Content: one immutable row per stored content (size, MD5, SHA-1, Adler-32), its bytes inline in
// the row (small files) or in one or more blobs (a chunked upload keeps its chunks as the parts:
// assembling is a metadata update). Files, versions and copies share contents by reference
// count; the blobs go when the last reference does.
//
// Durability: blobs are durable before the transaction that names them commits, and each call
// returns after its commit; a crash before leaves only unreferenced blobs (collected by
// check_consistency at startup).
//
// Threads: thread-safe; SQL and file I/O run on the blocking pool.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <functional>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "box/activity.h"
#include "core/bytes.h"
#include "core/result.h"
#include "core/time.h"

namespace ciel::store {
class MetaStore;
class Lease;
class BlobStore;
struct Migration;
}  // namespace ciel::store

namespace ciel::box {

// Messages front-ends recognise to choose their status codes.
inline constexpr std::string_view kParentMissing = "The parent folder does not exist";
inline constexpr std::string_view kNotAFolder = "A parent of this path is a file";
inline constexpr std::string_view kIsAFolder = "A folder exists at this path";
inline constexpr std::string_view kAlreadyExists = "The target already exists";
inline constexpr std::string_view kIntoItself = "A folder cannot be moved or copied into itself";
inline constexpr std::string_view kQuotaExceeded = "Not enough free space in your box";
inline constexpr std::string_view kChecksumMismatch = "The computed checksum does not match the one received from the client";
inline constexpr std::string_view kEtagMismatch = "The file was changed since the client last saw it";
inline constexpr std::string_view kIncomplete = "The upload is incomplete";

// Every default is what `ciel serve` declares (box.*).
struct BoxConfig {
  std::uint64_t default_quota = 0;                         // box.default_quota: bytes per user, 0 = unlimited
  std::uint64_t inline_max = 16 * 1024;                    // box.inline_max: files up to this live in their row
  std::uint64_t max_file_size = 1ULL << 40;                // box.max_file_size: one PUT or one chunk
  std::uint32_t max_versions = 50;                         // box.max_versions: kept per file (0: no versions)
  std::chrono::seconds version_retention{30 * 86400};      // box.version_retention: older versions go
  std::chrono::seconds trash_retention{30 * 86400};        // box.trash_retention: older trash goes
  std::chrono::seconds upload_expiry{7 * 86400};           // box.upload_expiry: unfinished chunked uploads go
  std::chrono::seconds activity_retention{90 * 86400};     // box.activity_retention: older activity entries go
  std::string instance_id = "occiel0000";                  // box.instance_id: suffix of oc:id
  // argon2id cost of link passwords: `ciel serve` copies identity.argon2_memory_kib and
  // identity.argon2_iterations, so link passwords cost what account passwords cost.
  std::uint32_t argon2_memory_kib = 19456;
  std::uint32_t argon2_iterations = 2;
};

// Nextcloud's permission bits, for shares and what a caller may do with a node.
inline constexpr int kPermRead = 1, kPermUpdate = 2, kPermCreate = 4, kPermDelete = 8, kPermShare = 16;
inline constexpr int kPermAll = 31;

struct Node {
  std::int64_t id = 0;
  std::int64_t parent = 0;  // 0 for the root
  std::string owner;        // identity user id
  std::string name;         // NFC; "" for the root
  std::string path;         // relative to the root
  bool folder = false;
  std::uint64_t size = 0;   // a folder's is the total beneath it
  std::int64_t mtime = 0;   // unix seconds
  std::string etag;         // unquoted
  std::string content_type;
  std::int64_t content_id = 0;
  std::string md5, sha1, adler32;  // lowercase hex; files only
  // What the caller may do with it (Nextcloud's bits, see kPermRead...): everything in one's own
  // box; a received share's permissions inside it.
  int permissions = kPermAll;
  std::int64_t share_id = 0;  // the received share this node is, or is inside (0: the caller's own)
  bool mount = false;         // the node is where that share appears in the caller's tree
};

struct Checksum {
  std::string type;  // "SHA1", "MD5" or "ADLER32"
  std::string hex;   // lowercase
};
// "SHA1:abc..." (the OC-Checksum header; several separated by spaces: the first known one).
std::optional<Checksum> parse_checksum(std::string_view header);

struct PutOptions {
  std::optional<std::int64_t> mtime;          // X-OC-Mtime; now when absent
  std::optional<std::uint64_t> length;        // when known: quota is checked before reading
  std::optional<std::string> if_match;        // etag the current file must have ("*": must exist)
  bool if_none_match_any = false;             // If-None-Match: * (must not exist)
  std::optional<Checksum> checksum;           // verified once the bytes are in
  std::string content_type;
  // When the name is taken, the file gets the first free "name (2).ext", "name (3).ext"...
  // instead of replacing what is there (file drops).
  bool keep_both = false;
};

struct WriteResult {
  Node node;
  bool created = false;  // the path was unmapped before
};

struct DeadProp {
  std::string ns, name;
  std::string value;  // inner XML, as the client sent it
};
// Applied in order (a remove then a set of one property leaves it set).
struct PropPatch {
  struct Op {
    bool set = true;
    DeadProp prop;  // value unused for a remove
  };
  std::vector<Op> ops;
};

struct Lock {
  std::string token;  // "opaquelocktoken:<uuid>"
  std::string path;   // the lock root
  bool exclusive = true;
  bool infinite = false;  // depth infinity
  std::string owner_xml;
  std::int64_t timeout_s = 0;   // 0: infinite
  std::int64_t expires_s = 0;   // unix seconds; 0: never
  std::string user_id;          // who took it
};
struct LockRequest {
  bool exclusive = true;
  bool infinite = false;
  std::string owner_xml;
  std::int64_t timeout_s = 0;
};

struct Version {
  std::int64_t id = 0;
  std::int64_t file_id = 0;
  std::uint64_t size = 0;
  std::int64_t mtime = 0;  // when this content was written
  std::string etag;
  std::int64_t content_id = 0;
  std::string content_type;
};

struct TrashItem {
  std::int64_t id = 0;         // the node id
  std::string name;
  std::string original_path;
  std::int64_t deleted_s = 0;
  bool folder = false;
  std::uint64_t size = 0;
  std::int64_t mtime = 0;
  std::string etag;
};

struct UploadChunk {
  std::string name;
  std::uint64_t offset = 0;
  std::uint64_t size = 0;
  std::int64_t mtime = 0;
};
struct Upload {
  std::string transfer;
  std::optional<std::uint64_t> total;
  std::int64_t created_s = 0;
  std::vector<UploadChunk> chunks;  // by name
};

struct Quota {
  std::uint64_t used = 0;
  std::uint64_t total = 0;  // 0: unlimited
};

// Login Flow v2: a sync client starts a flow, the user approves it in the console, the client
// polls and receives an app password once. Flows last 20 minutes.
struct LoginFlow {
  std::string poll_token;  // the client's secret for polling
  std::string flow_token;  // in the URL the user opens
};
struct GrantedLogin {
  std::string login_name, app_password;
};

struct AppPassword {
  std::string id, user_id, name;
  std::int64_t created_s = 0, last_used_s = 0;
};

// --- public links ------------------------------------------------------------------------------
// A link gives whoever holds its token access to one file or folder of its owner's box, named by
// the node's id: it follows renames and moves, stops working while the node is in the trash and
// goes when the node is purged. Tokens are 22 base62 characters (131 bits from the CSPRNG).
enum class LinkAccess {
  read,        // list and download (Nextcloud permissions 1)
  read_write,  // read, create, update, delete inside the link (15); folders only
  upload,      // a file drop: upload new files only, see nothing (4); folders only
};
// Nextcloud's permission bits (read 1, update 2, create 4, delete 8, share 16) for an access, and
// back (the share bit is ignored; other combinations are nullopt).
int link_permissions(LinkAccess access);
std::optional<LinkAccess> link_access_from(int permissions);

struct Link {
  std::int64_t id = 0;  // the OCS share id
  std::string token;
  std::string owner;    // identity user id
  std::int64_t node_id = 0;
  LinkAccess access = LinkAccess::read;
  std::string password_hash;              // argon2id; "" when the link has no password
  std::optional<std::int64_t> expires_s;  // unix seconds: the link stops working at this instant
  std::uint64_t downloads = 0;
  std::int64_t created_s = 0;
  std::string label;
  Node node;  // the node as it is now (its path relative to the owner's root)
};
struct LinkInput {
  LinkAccess access = LinkAccess::read;
  std::optional<std::string> password;  // hashed with argon2id; the plain text is not kept
  std::optional<std::int64_t> expires_s;
  std::string label;
};
// Fields left empty are not changed.
struct LinkUpdate {
  std::optional<LinkAccess> access;
  std::optional<std::optional<std::string>> password;   // a value sets it, nullopt inside clears it
  std::optional<std::optional<std::int64_t>> expires_s;  // likewise
  std::optional<std::string> label;
};

// One file or folder of a box as a link's holder sees it: paths are relative to the linked node
// and are resolved by walking down from it, so no path reaches outside it (the engine refuses
// "..", ".", NUL and empty segments anyway). Every call first checks that the node is still live
// (Errc::not_found once it is in the trash or gone). Writes are the owner's writes: they count
// against the owner's quota and change etags up to the owner's root. The linked node itself
// cannot be removed, moved or replaced (Errc::forbidden). Errors as BoxService's.
class Subtree {
 public:
  virtual ~Subtree() = default;
  virtual const std::string& owner() const = 0;
  virtual boost::asio::awaitable<Result<Node>> stat(std::string path) = 0;
  virtual boost::asio::awaitable<Result<std::pair<Node, std::vector<Node>>>> list(std::string path) = 0;
  virtual boost::asio::awaitable<Result<Node>> mkcol(std::string path, std::optional<std::int64_t> mtime) = 0;
  virtual boost::asio::awaitable<Result<WriteResult>> put(std::string path, ByteSource& body, PutOptions options) = 0;
  virtual boost::asio::awaitable<Status> remove(std::string path, std::optional<std::string> if_match) = 0;
  virtual boost::asio::awaitable<Result<WriteResult>> move(std::string from, std::string to, bool overwrite) = 0;
  virtual boost::asio::awaitable<Result<WriteResult>> copy(std::string from, std::string to, bool overwrite, bool recursive) = 0;
};

// --- user and group shares ----------------------------------------------------------------------
// A share gives another user, or every member of a group, access to one file or folder of a box,
// named by its node id (it follows renames and moves). The recipient sees it as a mount point in
// their own tree, at their root first (renamed "name (2)" on a collision); they may rename or move
// the mount point within their own folders, and removing it declines the share. Paths through a
// mount point resolve in the owner's tree, with the share's permissions: read (always), update
// (overwrite, rename in place, properties, locks), create (new files and folders), delete, share
// (reshare with at most one's own permissions). Writes through a share are the owner's: the
// owner's quota, versions and trash. A change inside a shared folder changes the etag of every
// recipient's mount point and its ancestors, so their sync clients see it.
enum class ShareType { user = 0, group = 1 };

struct Share {
  std::int64_t id = 0;
  ShareType type = ShareType::user;
  std::string owner;       // whose box the node is in
  std::string initiator;   // who made the share: the owner, or a recipient resharing
  std::string share_with;  // user or group id
  std::int64_t node_id = 0;
  int permissions = kPermRead;
  std::int64_t created_s = 0;
  Node node;               // as its owner sees it (path in the owner's tree)
  std::string mount_path;  // in received-share listings: where the caller sees it
};

// What the engine asks identity: the groups a user belongs to (when it meets a group share), and
// the name of a user or group (for activity entries and notifications). Either may be empty: no
// group share applies; ids stand for names.
struct Directory {
  std::function<std::vector<std::string>(const std::string& user_id)> groups_of;
  std::function<std::string(const std::string& id, bool group)> name_of;
};

// A local file range, for sendfile.
struct BlobFile {
  int fd = -1;
  std::uint64_t offset = 0, length = 0;
};

// Every user-facing call takes the user id first and works only inside that user's tree.
// Errors: Errc::not_found (kParentMissing for a missing parent when creating), Errc::conflict
// (kNotAFolder, kIsAFolder, kIntoItself), Errc::already_exists (kAlreadyExists),
// Errc::precondition_failed (kEtagMismatch), Errc::quota_exceeded, Errc::invalid_argument (a bad
// name; kChecksumMismatch), Errc::too_large, Errc::unavailable (store failure).
class BoxService {
 public:
  virtual ~BoxService() = default;

  // --- tree ------------------------------------------------------------------------------------
  virtual boost::asio::awaitable<Result<Node>> stat(std::string user, std::string path) = 0;
  // The node and, for a folder, its children sorted by name.
  virtual boost::asio::awaitable<Result<std::pair<Node, std::vector<Node>>>> list(std::string user, std::string path) = 0;
  virtual boost::asio::awaitable<Result<Node>> mkcol(std::string user, std::string path, std::optional<std::int64_t> mtime) = 0;
  // Streams `body` into a new content and makes it the file's; the previous content becomes a
  // version. Nothing is visible unless the whole body arrived and every check passed.
  virtual boost::asio::awaitable<Result<WriteResult>> put(std::string user, std::string path, ByteSource& body,
                                                          PutOptions options) = 0;
  virtual boost::asio::awaitable<Result<std::unique_ptr<ByteSource>>> open(const Node& file, std::uint64_t offset,
                                                                           std::uint64_t length) = 0;
  // Descriptors for sendfile; Errc::not_found when the bytes are not in local files (inline).
  virtual Result<std::vector<BlobFile>> open_files(const Node& file, std::uint64_t offset, std::uint64_t length) = 0;
  // Moves the node (and what is beneath) to the trash.
  virtual boost::asio::awaitable<Status> remove(std::string user, std::string path, std::optional<std::string> if_match) = 0;
  // A replaced destination goes to the trash. Errc::precondition_failed (kAlreadyExists) when it
  // exists and `overwrite` is false.
  virtual boost::asio::awaitable<Result<WriteResult>> move(std::string user, std::string from, std::string to, bool overwrite) = 0;
  // `recursive` false copies a folder without its members (Depth: 0).
  virtual boost::asio::awaitable<Result<WriteResult>> copy(std::string user, std::string from, std::string to, bool overwrite,
                                                           bool recursive) = 0;

  // --- dead properties -----------------------------------------------------------------------
  virtual boost::asio::awaitable<Result<std::vector<DeadProp>>> props(std::string user, std::int64_t node_id) = 0;
  // Props of a folder's children and the folder itself, keyed by node id.
  virtual boost::asio::awaitable<Result<std::vector<std::pair<std::int64_t, DeadProp>>>> child_props(std::string user,
                                                                                                      std::int64_t folder_id) = 0;
  // All or nothing.
  virtual boost::asio::awaitable<Status> patch_props(std::string user, std::string path, PropPatch patch) = 0;

  // --- locks (by path; expired locks are ignored and purged) ----------------------------------
  virtual boost::asio::awaitable<Result<Lock>> lock(std::string user, std::string path, LockRequest request) = 0;
  virtual boost::asio::awaitable<Result<Lock>> refresh_lock(std::string user, std::string token, std::int64_t timeout_s) = 0;
  // Errc::not_found when no such lock covers `path`.
  virtual boost::asio::awaitable<Status> unlock(std::string user, std::string path, std::string token) = 0;
  // Locks on `path` or an ancestor with depth infinity; with `beneath`, also locks inside it.
  virtual boost::asio::awaitable<Result<std::vector<Lock>>> locks(std::string user, std::string path, bool beneath) = 0;

  // --- chunked uploads (Nextcloud chunking "NG") ----------------------------------------------
  virtual boost::asio::awaitable<Status> create_upload(std::string user, std::string transfer,
                                                       std::optional<std::uint64_t> total) = 0;
  virtual boost::asio::awaitable<Result<Upload>> get_upload(std::string user, std::string transfer) = 0;
  // Errc::invalid_argument (kIncomplete) when fewer than `length` bytes arrive: nothing is kept.
  virtual boost::asio::awaitable<Result<UploadChunk>> put_chunk(std::string user, std::string transfer, std::string name,
                                                                std::optional<std::uint64_t> offset, std::uint64_t length,
                                                                ByteSource& body) = 0;
  virtual boost::asio::awaitable<Status> delete_upload(std::string user, std::string transfer) = 0;
  // The chunks, ordered by offset, must tile [0, total); they become the file's content.
  virtual boost::asio::awaitable<Result<WriteResult>> assemble_upload(std::string user, std::string transfer, std::string path,
                                                                      PutOptions options) = 0;

  // --- versions -------------------------------------------------------------------------------
  virtual boost::asio::awaitable<Result<std::vector<Version>>> versions(std::string user, std::int64_t file_id) = 0;
  virtual boost::asio::awaitable<Result<std::unique_ptr<ByteSource>>> open_version(const Version& v) = 0;
  // The version's content becomes the file's (the current one becomes a version).
  virtual boost::asio::awaitable<Result<Node>> restore_version(std::string user, std::int64_t file_id, std::int64_t version_id) = 0;

  // --- trash ----------------------------------------------------------------------------------
  virtual boost::asio::awaitable<Result<std::vector<TrashItem>>> trash(std::string user) = 0;
  // Back where it was (the root when that folder is gone), renamed on a collision.
  virtual boost::asio::awaitable<Result<Node>> restore_trash(std::string user, std::int64_t id) = 0;
  virtual boost::asio::awaitable<Status> purge_trash(std::string user, std::optional<std::int64_t> id) = 0;  // all when absent

  // --- quota and node lookup ------------------------------------------------------------------
  virtual boost::asio::awaitable<Result<Quota>> quota(std::string user) = 0;
  virtual boost::asio::awaitable<Status> set_quota(std::string user, std::optional<std::uint64_t> bytes) = 0;
  virtual boost::asio::awaitable<Result<Node>> node_by_id(std::string user, std::int64_t id) = 0;

  // --- app passwords (sync clients) -----------------------------------------------------------
  // Returns the record and the password (shown once).
  virtual boost::asio::awaitable<Result<std::pair<AppPassword, std::string>>> create_app_password(std::string user,
                                                                                                 std::string name) = 0;
  // The user id the password belongs to; Errc::unauthenticated otherwise.
  virtual boost::asio::awaitable<Result<AppPassword>> check_app_password(std::string password) = 0;
  virtual boost::asio::awaitable<Result<std::vector<AppPassword>>> app_passwords(std::string user) = 0;
  virtual boost::asio::awaitable<Status> delete_app_password(std::string user, std::string id) = 0;

  // --- Login Flow v2 ---------------------------------------------------------------------------
  virtual boost::asio::awaitable<Result<LoginFlow>> start_login_flow(std::string client_name) = 0;
  // The client name a pending flow was started with; Errc::not_found when unknown, expired or granted.
  virtual boost::asio::awaitable<Result<std::string>> login_flow_client(std::string flow_token) = 0;
  // Creates the app password and keeps it, sealed under the poll token, for the client's poll.
  virtual boost::asio::awaitable<Status> grant_login_flow(std::string flow_token, std::string user_id, std::string login_name) = 0;
  // The user said no: the flow is gone (its link then expired, its poll 404 until the client gives
  // up). Errc::not_found when unknown, expired or already granted.
  virtual boost::asio::awaitable<Status> refuse_login_flow(std::string flow_token) = 0;
  // Once granted: the credentials, and the flow is gone. Errc::not_found before (or when unknown).
  virtual boost::asio::awaitable<Result<GrantedLogin>> poll_login_flow(std::string poll_token) = 0;

  // --- public links ---------------------------------------------------------------------------
  // A link on the file or folder at `path` of `user`'s box. Errc::not_found (no such path),
  // Errc::invalid_argument (read_write or upload on a file; an expiry not in the future; a label
  // over 255 bytes; an empty password).
  virtual boost::asio::awaitable<Result<Link>> create_link(std::string user, std::string path, LinkInput input) = 0;
  // The user's links on live nodes, newest first; with `node_id`, only that node's.
  virtual boost::asio::awaitable<Result<std::vector<Link>>> links(std::string user, std::optional<std::int64_t> node_id) = 0;
  // Errc::not_found (no such link, or its node is not live), Errc::forbidden (another user's).
  virtual boost::asio::awaitable<Result<Link>> link(std::string user, std::int64_t id) = 0;
  // Errors as create_link and link.
  virtual boost::asio::awaitable<Result<Link>> update_link(std::string user, std::int64_t id, LinkUpdate update) = 0;
  // Revokes the link: its token stops working at once. Errors as link.
  virtual boost::asio::awaitable<Status> delete_link(std::string user, std::int64_t id) = 0;
  // The link a token names, if it works now: Errc::not_found for an unknown or revoked token, an
  // expired link and a link whose node is in the trash or gone, all alike. The password is not
  // checked here (verify_link_password).
  virtual boost::asio::awaitable<Result<Link>> open_link(std::string token) = 0;
  // True when the link has no password or `password` is it (argon2id, off the I/O threads).
  virtual boost::asio::awaitable<bool> verify_link_password(const Link& link, std::string password) = 0;
  // A download of `file_id` (the linked file, or a file inside the linked folder) through link
  // `link_id`: counted on the link and recorded in its owner's activity.
  virtual boost::asio::awaitable<Status> count_download(std::int64_t link_id, std::int64_t file_id) = 0;
  // The linked node's subtree, for the link's holder.
  virtual std::unique_ptr<Subtree> subtree(const Link& link) = 0;

  // --- user and group shares -----------------------------------------------------------------
  // Shares the file or folder at `path` of the caller's tree (their own, or inside a share they
  // received with the share permission: a reshare, with at most their permissions). Recipients are
  // checked by the front-end (they exist, may be shared with); the engine refuses sharing with
  // oneself or the owner, the root of a box, no read permission, more permissions than the
  // caller's (Errc::invalid_argument), a node already shared with that recipient
  // (Errc::already_exists) and a reshare without the share permission (Errc::forbidden).
  virtual boost::asio::awaitable<Result<Share>> create_share(std::string user, std::string path, ShareType type, std::string share_with,
                                                             int permissions) = 0;
  // Shares the caller made or owns, newest first; with `node_id`, only that node's.
  virtual boost::asio::awaitable<Result<std::vector<Share>>> shares(std::string user, std::optional<std::int64_t> node_id) = 0;
  // Shares the caller received (directly or through a group) that they have not declined, with
  // their mount paths.
  virtual boost::asio::awaitable<Result<std::vector<Share>>> received_shares(std::string user) = 0;
  // One share the caller made, owns or received; Errc::not_found otherwise.
  virtual boost::asio::awaitable<Result<Share>> share(std::string user, std::int64_t id) = 0;
  // By the owner or the initiator; takes effect at the recipients' next request.
  virtual boost::asio::awaitable<Result<Share>> update_share(std::string user, std::int64_t id, int permissions) = 0;
  // By the owner or the initiator: revokes it, and the reshares made through it. By a recipient:
  // declines it (for a group share, for that recipient only).
  virtual boost::asio::awaitable<Status> delete_share(std::string user, std::int64_t id) = 0;

  // --- activity and notifications (activity.h) ------------------------------------------------
  // `user`'s activity stream. Errc::invalid_argument (the limit or since out of range).
  virtual boost::asio::awaitable<Result<ActivityPage>> activity(std::string user, ActivityQuery query) = 0;
  // Newest first.
  virtual boost::asio::awaitable<Result<std::vector<Notification>>> notifications(std::string user) = 0;
  // Errc::not_found when `user` has no notification `id`.
  virtual boost::asio::awaitable<Status> dismiss_notification(std::string user, std::int64_t id) = 0;
  virtual boost::asio::awaitable<Status> dismiss_notifications(std::string user) = 0;

  // --- maintenance ----------------------------------------------------------------------------
  // Expired trash, versions past retention, abandoned uploads and activity past retention;
  // returns how many went.
  virtual boost::asio::awaitable<Result<std::size_t>> reap(std::size_t limit) = 0;
  virtual const BoxConfig& config() const = 0;
};

std::vector<store::Migration> migrations();
// `clock` decides when links expire (tests pass a fake one); it must outlive the service.
std::unique_ptr<BoxService> make_box_service(store::MetaStore& meta, store::BlobStore& blobs, BoxConfig config,
                                             const Clock& clock = system_clock(), Directory directory = {});
// Runs reap() every `interval` until cancelled.
// With a lease, a round runs only on the node holding it (store/lease.h).
boost::asio::awaitable<void> run_reaper(BoxService& box, std::chrono::milliseconds interval, store::Lease* lease = nullptr);

// NFC-normalises and checks one name; Errc::invalid_argument for "", ".", "..", '/', NUL or
// more than 255 bytes.
Result<std::string> normalize_name(std::string_view name);
// Splits and normalises a relative path ("a/b/", "/a//b" -> "a/b").
Result<std::string> normalize_path(std::string_view path);
// A path inside a link, as it arrives (already percent-decoded once by the HTTP layer). Besides
// what normalize_path refuses, also refuses what could mean "elsewhere" to some other layer: a
// leading '/', a backslash, "." and ".." segments, and a segment that a second round of
// percent-decoding would turn into a dot segment or a separator (%2e%2e, %2f, %5c, %00).
// Errc::invalid_argument.
Result<std::string> normalize_link_path(std::string_view path);
// A new link token: 22 characters of [0-9A-Za-z] from the CSPRNG (131 bits).
std::string new_link_token();

// The box has a BlobStore of its own (store.box_blob_root), so this sweep and the object
// engine's never see each other's blobs. Blocking: startup and `ciel scrub`.
struct ConsistencyReport {
  std::uint64_t blobs = 0;
  std::vector<std::string> missing_blobs;       // named by a row, absent
  std::vector<std::string> unreferenced_blobs;  // present, named by no row (removed when asked)
};
Result<ConsistencyReport> check_consistency(store::MetaStore& meta, store::BlobStore& blobs, bool remove_unreferenced);

}  // namespace ciel::box
