// compute/compute.h: the compute engine's catalogue: images (bytes in a blob store of their
// own, checked with qemu-img before they become active), flavors, keypairs and per-project
// quotas. Front-ends (compute/glance for the Glance v2 API, compute/nova for Nova v2.1) translate
// to these calls; the engine decides visibility, ownership and limits, and never sees HTTP.
//
// Who may do what is the identity policy's answer (identity::Policy): project members write
// their project's images and keypairs; readers read; flavors and public images are managed by
// cloud administrators. One project never sees another's private images or keypairs: every
// query is filtered by the caller's project in SQL.
//
// Threads: thread-safe; SQL, file I/O and qemu-img run on the blocking pool.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <functional>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "core/bytes.h"
#include "core/result.h"

namespace ciel::store {
class MetaStore;
class BlobStore;
struct Migration;
}  // namespace ciel::store
namespace ciel::identity {
struct Principal;
class Policy;
}  // namespace ciel::identity

namespace ciel::compute {

// Every default is what `ciel serve` declares (compute.*).
struct ComputeConfig {
  std::uint64_t max_image_size = 64ULL << 30;  // compute.max_image_size
  std::string qemu_img = "qemu-img";           // compute.qemu_img
  // Default quotas per project (compute.quota_*); -1 is unlimited.
  std::int64_t quota_instances = 10, quota_cores = 20, quota_ram_mib = 51200, quota_key_pairs = 100;
  std::int64_t quota_images = 100;
  std::string cache_dir;                       // DATA_DIR/compute/images: base images the VMs' overlays sit on
  std::uint16_t ssh_port_min = 20022, ssh_port_max = 20999;  // compute.ssh_ports: forwarded SSH ports
  std::chrono::seconds shutdown_timeout{60};   // compute.shutdown_timeout: ACPI power-off before a hard stop
  std::string scratch_dir;                     // DATA_DIR/compute/scratch: uploads staged for qemu-img when the
                                               // image blob store has no local files (RADOS)
  // compute.agent_timeout: a host whose agent sent no heartbeat for this long is down: the
  // scheduler skips it and its servers show status UNKNOWN.
  std::chrono::milliseconds agent_timeout{30000};
  std::chrono::milliseconds console_timeout{20000};  // how long a console read waits for the host's agent
  // Called after a task was queued, so an agent in the same process (ciel serve's own) picks it
  // up at once instead of at its next poll. Empty: nothing to wake.
  std::function<void()> wake_local_agent;
};

struct Image {
  std::string id, name, owner;  // owner: project id
  std::string status = "queued";  // queued, saving, active, killed, deleted
  std::string visibility = "shared";  // public, private, shared, community
  bool is_protected = false, os_hidden = false;
  std::string disk_format, container_format;
  std::optional<std::uint64_t> size, virtual_size;
  std::string checksum, os_hash_algo, os_hash_value;
  std::int64_t min_disk = 0, min_ram = 0;
  std::map<std::string, std::string> properties;  // extra string properties, at the top level in Glance
  std::vector<std::string> tags;
  std::int64_t created_s = 0, updated_s = 0;
  std::string blob_key;  // set once active
};

struct ImageQuery {
  std::string name, visibility, status, owner, member_status, disk_format, tag;
  std::string marker;
  std::size_t limit = 25;
  std::string sort_key = "created_at", sort_dir = "desc";
};

struct ImageMember {
  std::string image_id, member_id, status;  // pending, accepted, rejected
  std::int64_t created_s = 0, updated_s = 0;
};

struct Flavor {
  std::string id, name, description;
  std::uint32_t vcpus = 1;
  std::uint64_t ram_mib = 512, disk_gib = 1, ephemeral_gib = 0, swap_mib = 0;
  double rxtx_factor = 1.0;
  bool is_public = true, disabled = false;
  std::map<std::string, std::string> extra_specs;
  std::vector<std::string> projects;  // access list of a private flavor
};

struct Keypair {
  std::string name, user_id, public_key, fingerprint, type = "ssh";
  std::int64_t created_s = 0;
};

// A virtual machine. status/vm_state/task_state/power_state follow Nova's meanings:
// BUILD (building, spawning) -> ACTIVE (active) <-> SHUTOFF (stopped); ERROR (error) with a fault;
// REBOOT/HARD_REBOOT while rebooting; a deleted server is gone from every read.
struct Server {
  std::string id, name, project_id, user_id, image_id, key_name;
  Flavor flavor;  // as it was when the server was made (Nova keeps the same snapshot)
  std::map<std::string, std::string> metadata;
  std::string status = "BUILD", vm_state = "building", task_state = "spawning";
  int power_state = 0;  // 0 NOSTATE, 1 RUNNING, 4 SHUTDOWN
  std::string fault_message;
  int fault_code = 0;
  std::int64_t fault_s = 0;
  std::uint16_t ssh_port = 0;  // 127.0.0.1 port forwarded to the guest's port 22
  std::string accelerator;     // "tcg" or "kvm"
  std::string host;            // the compute host (agent name) it was placed on; empty when none could take it
  bool host_up = true;         // false when that host's agent stopped reporting (status then reads UNKNOWN)
  bool config_drive = true;
  std::int64_t created_s = 0, updated_s = 0, launched_s = 0;
};

struct ServerRequest {
  std::string name, image_id, flavor_id, key_name;
  std::string user_data;  // decoded
  std::map<std::string, std::string> metadata;
};

struct ServerQuery {
  std::string name, status;  // name: substring match, as Nova's regex filter mostly gets used
  bool all_projects = false;  // admins only
};

enum class ServerAction { start, stop, reboot_soft, reboot_hard };

struct QuotaSet {
  std::int64_t instances = 0, cores = 0, ram_mib = 0, key_pairs = 0;  // -1 unlimited
};
struct Usage {
  std::int64_t instances = 0, cores = 0, ram_mib = 0;
};

// The caller: the principal of a project-scoped token.
struct Caller {
  const identity::Principal* principal = nullptr;
  std::string request_id;
};

// Errors: Errc::not_found (also for what the caller may not see), forbidden, invalid_argument,
// conflict (state), already_exists, quota_exceeded, too_large, unavailable.
class ComputeService {
 public:
  virtual ~ComputeService() = default;

  // --- images ----------------------------------------------------------------------------------
  virtual boost::asio::awaitable<Result<Image>> create_image(const Caller& c, Image draft) = 0;
  virtual boost::asio::awaitable<Result<Image>> get_image(const Caller& c, std::string id) = 0;
  virtual boost::asio::awaitable<Result<std::vector<Image>>> list_images(const Caller& c, ImageQuery q) = 0;
  // JSON-patch results: the new values (the front-end applied the patch to the document).
  virtual boost::asio::awaitable<Result<Image>> update_image(const Caller& c, std::string id, Image updated) = 0;
  virtual boost::asio::awaitable<Status> delete_image(const Caller& c, std::string id) = 0;
  // Streams the bytes, checks them with qemu-img (format as declared; qcow2 without backing or
  // external data file), then makes the image active. Errc::invalid_argument for a bad image
  // (the image goes back to queued; nothing is kept), conflict when not queued.
  virtual boost::asio::awaitable<Result<Image>> upload_image(const Caller& c, std::string id, ByteSource& body,
                                                             std::optional<std::uint64_t> length) = 0;
  virtual boost::asio::awaitable<Result<std::unique_ptr<ByteSource>>> download_image(const Caller& c, const Image& image,
                                                                                     std::uint64_t offset, std::uint64_t length) = 0;
  virtual boost::asio::awaitable<Result<ImageMember>> add_member(const Caller& c, std::string image_id, std::string member) = 0;
  virtual boost::asio::awaitable<Result<ImageMember>> update_member(const Caller& c, std::string image_id, std::string member,
                                                                    std::string status) = 0;
  virtual boost::asio::awaitable<Result<std::vector<ImageMember>>> list_members(const Caller& c, std::string image_id) = 0;
  virtual boost::asio::awaitable<Status> remove_member(const Caller& c, std::string image_id, std::string member) = 0;

  // --- flavors ---------------------------------------------------------------------------------
  virtual boost::asio::awaitable<Result<Flavor>> create_flavor(const Caller& c, Flavor f) = 0;
  virtual boost::asio::awaitable<Result<Flavor>> get_flavor(const Caller& c, std::string id) = 0;
  // Public flavors and the private ones the caller's project was given (all of them for admins,
  // with is_public nullopt = both).
  virtual boost::asio::awaitable<Result<std::vector<Flavor>>> list_flavors(const Caller& c, std::optional<bool> is_public) = 0;
  virtual boost::asio::awaitable<Status> delete_flavor(const Caller& c, std::string id) = 0;
  virtual boost::asio::awaitable<Result<Flavor>> set_flavor_access(const Caller& c, std::string id, std::string project, bool add) = 0;
  virtual boost::asio::awaitable<Result<Flavor>> update_extra_specs(const Caller& c, std::string id,
                                                                    std::map<std::string, std::optional<std::string>> specs) = 0;

  // --- keypairs (owned by a user) ----------------------------------------------------------------
  // Without a public key one is generated (ed25519): the private key comes back once.
  virtual boost::asio::awaitable<Result<std::pair<Keypair, std::string>>> create_keypair(const Caller& c, std::string name,
                                                                                          std::string public_key, std::string type) = 0;
  virtual boost::asio::awaitable<Result<Keypair>> get_keypair(const Caller& c, std::string name) = 0;
  virtual boost::asio::awaitable<Result<std::vector<Keypair>>> list_keypairs(const Caller& c) = 0;
  virtual boost::asio::awaitable<Status> delete_keypair(const Caller& c, std::string name) = 0;

  // --- servers (placed on a compute host; its agent runs them in the background) -----------------
  // Checks image, flavor, keypair and quotas, records the server (BUILD) in one transaction with
  // the quota check, and returns; building and booting follow in the background.
  // Errc::invalid_argument (bad request, image too large for the flavor), not_found (image,
  // flavor or keypair), quota_exceeded, conflict.
  virtual boost::asio::awaitable<Result<Server>> create_server(const Caller& c, ServerRequest r) = 0;
  virtual boost::asio::awaitable<Result<Server>> get_server(const Caller& c, std::string id) = 0;
  virtual boost::asio::awaitable<Result<std::vector<Server>>> list_servers(const Caller& c, ServerQuery q) = 0;
  // Errc::conflict when the server's state does not allow it (start of an ACTIVE server, any
  // action while another is in progress).
  virtual boost::asio::awaitable<Status> act(const Caller& c, std::string id, ServerAction a) = 0;
  virtual boost::asio::awaitable<Status> delete_server(const Caller& c, std::string id) = 0;
  // The last `lines` lines of the serial console (all when absent).
  virtual boost::asio::awaitable<Result<std::string>> console_output(const Caller& c, std::string id, std::optional<std::size_t> lines) = 0;
  virtual boost::asio::awaitable<Result<Server>> update_server_metadata(const Caller& c, std::string id,
                                                                        std::map<std::string, std::optional<std::string>> changes,
                                                                        bool replace) = 0;
  // Marks the hosts whose agent sent no heartbeat within agent_timeout as down (once: the node
  // whose update changed the row logs it); returns those it marked.
  virtual boost::asio::awaitable<std::vector<std::string>> mark_down_hosts() = 0;

  // --- quotas ------------------------------------------------------------------------------------
  virtual boost::asio::awaitable<Result<QuotaSet>> quotas(const Caller& c, std::string project_id) = 0;
  virtual boost::asio::awaitable<Result<QuotaSet>> set_quotas(const Caller& c, std::string project_id,
                                                              std::map<std::string, std::int64_t> values) = 0;
  virtual boost::asio::awaitable<Result<Usage>> usage(const Caller& c, std::string project_id) = 0;

  virtual const ComputeConfig& config() const = 0;
};

std::vector<store::Migration> migrations();
// The API side of compute: servers are placed on the compute hosts (compute_hosts) by the
// scheduler and run by each host's agent (compute/agent.h), which takes its work from the queue.
std::unique_ptr<ComputeService> make_compute_service(store::MetaStore& meta, store::BlobStore& images, const identity::Policy& policy,
                                                     ComputeConfig config);
// Calls mark_down_hosts() every `interval`, for ever (a background task of each API node).
boost::asio::awaitable<void> run_host_monitor(ComputeService& compute, std::chrono::milliseconds interval);

// Image blobs no row names (interrupted uploads), removed at startup. Blocking.
Result<std::size_t> remove_unreferenced_image_blobs(store::MetaStore& meta, store::BlobStore& images);
// The keys of the image blobs the rows name (what `ciel backup` must copy). Blocking.
Result<std::unordered_set<std::string>> image_blob_keys(store::MetaStore& meta);

}  // namespace ciel::compute
