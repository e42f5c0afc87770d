// `ciel backup` and `ciel restore`: a copy of an embedded deployment's data directory (SQLite
// metadata, local blobs, keys) that `ciel serve` can start on, taken while the server runs or not.
//
// Backup: the metadata first (one SQLite read transaction, through the online backup API: the
// server's writers carry on meanwhile), then the blobs the snapshot names. Blobs are immutable, so
// a copy taken later is still right; a blob written after the snapshot is named by no row of it and
// is left out. A blob the server deletes after the snapshot (its object was deleted) would be lost:
// so every blob present is pinned by a hard link under its store's temp directory
// (ROOT/tmp/backup-pin-<pid>, which the store never lists) before the snapshot and again right
// after it, and copied from there. Only a blob both written and deleted in the moment between the
// snapshot and the second pinning can still be missing; then the round runs again on a new
// snapshot (blobs already copied are kept), up to kAttempts times. Then the master key
// (identity.master_key_file, which seals the S3 secrets and the token key ring in the metadata)
// as keys/credential.key, the rest of keys/ (an older version's token/ ring), with their modes,
// openrc and ciel.toml, and last manifest.json: what was copied, sizes and SHA-256, the schema
// versions.
// A directory without manifest.json is not a backup.
//
// Restore: refuses a non-empty target and a backup whose schema is newer than this binary; checks
// every size first, then copies while hashing, fsyncs every file and directory, and removes what it
// wrote if a checksum does not match.
//
// VM disks are not in the backup (see docs/operations.md): a running VM's overlay changes under
// the copy, and a stopped one's names its base image by an absolute path. They are listed as skipped.
//
// PostgreSQL metadata and RADOS blobs are refused: those deployments use the database's and Ceph's
// own tools (docs/operations.md).
//
// Exit status: 0 done; 1 failed (I/O, a damaged backup, a newer schema, a blob that kept
// vanishing); 2 bad usage (options, settings, a non-empty target, a scale-out configuration).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdlib>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>

#include "box/box.h"
#include "box/collab.h"
#include "box/settings.h"
#include "cli/serve.h"
#include "cli/settings.h"
#include "compute/compute.h"
#include "compute/settings.h"
#include "core/crypto/crypto.h"
#include "core/time.h"
#include "identity/identity.h"
#include "identity/settings.h"
#include "object/engine/object_service.h"
#include "object/s3/settings.h"
#include "object/settings.h"
#include "store/blob_store.h"
#include "store/meta_store.h"

#ifndef CIEL_VERSION
#define CIEL_VERSION "0.1.0"
#endif

namespace ciel::cli {
namespace {
namespace fs = std::filesystem;

// Ctrl-C or SIGTERM: the copy stops between two chunks and the normal error path runs, which
// removes the pins (backup) or what was written (restore).
volatile std::sig_atomic_t g_interrupted = 0;
void on_signal(int) { g_interrupted = 1; }
void catch_interrupts() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  ::sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
}

constexpr int kFormatVersion = 1;
constexpr int kAttempts = 5;
constexpr const char* kManifest = "manifest.json";
constexpr const char* kScaleOutDocs =
    "back up PostgreSQL and the Ceph pool with their own tools instead: see docs/operations.md, \"Backup and restore\"";

struct Failure {
  int code;
  std::string message;
};

int report(const Failure& f) {
  std::fprintf(stderr, "ciel: %s\n", f.message.c_str());
  return f.code;
}

// An interrupted backup leaves its directory without manifest.json, which restore refuses.
int report_backup(const Failure& f, const std::string& out) {
  if (g_interrupted != 0) {
    return report({1, "interrupted: " + out + " is incomplete (it has no manifest.json, so ciel restore refuses it); remove it"});
  }
  return report(f);
}

std::string human_bytes(std::uint64_t n) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return buf;
}

// One line on a terminal, rewritten at most four times a second; nothing when stderr is not one.
class Progress {
 public:
  Progress(std::string verb, bool quiet) : verb_(std::move(verb)), on_(!quiet && ::isatty(2) == 1) {}
  void set_total(std::uint64_t files, std::uint64_t bytes) {
    total_files_ = files;
    total_bytes_ = bytes;
  }
  void add(std::uint64_t bytes, bool file_done) {
    bytes_ += bytes;
    if (file_done) { ++files_; }
    auto now = std::chrono::steady_clock::now();
    if (!on_ || now - last_ < std::chrono::milliseconds(250)) { return; }
    last_ = now;
    std::fprintf(stderr, "\r%s: %llu/%llu files, %s of %s   ", verb_.c_str(), static_cast<unsigned long long>(files_),
                 static_cast<unsigned long long>(total_files_), human_bytes(bytes_).c_str(), human_bytes(total_bytes_).c_str());
  }
  void finish() {
    if (on_ && last_ != std::chrono::steady_clock::time_point{}) { std::fprintf(stderr, "\r\033[K"); }
    files_ = bytes_ = 0;
    last_ = {};
  }

 private:
  std::string verb_;
  bool on_;
  std::uint64_t files_ = 0, bytes_ = 0, total_files_ = 0, total_bytes_ = 0;
  std::chrono::steady_clock::time_point last_{};
};

struct Copied {
  std::uint64_t size = 0;
  std::string sha256;  // hex
};

// Copies `from` to the new file `to` with `mode`, hashing as it goes, and fsyncs it.
// Errc::not_found when `from` does not exist (a blob deleted meanwhile); Errc::unavailable else.
Result<Copied> copy_file(const std::string& from, const std::string& to, mode_t mode, Progress& progress) {
  int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) {
    if (errno == ENOENT) { return make_error(Errc::not_found, from + " no longer exists"); }
    return make_error(Errc::unavailable, "cannot read " + from + ": " + std::strerror(errno));
  }
  struct Fds {
    int in, out = -1;
    ~Fds() {
      ::close(in);
      if (out >= 0) { ::close(out); }
    }
  } fds{in};
  fds.out = ::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fds.out < 0) { return make_error(Errc::unavailable, "cannot create " + to + ": " + std::strerror(errno)); }
  (void)::fchmod(fds.out, mode);  // whatever the umask says
  crypto::Hasher hasher(crypto::Digest::sha256);
  std::vector<char> buf(1 << 20);
  Copied out;
  for (;;) {
    if (g_interrupted != 0) { return make_error(Errc::unavailable, "interrupted"); }
    ssize_t n = ::read(fds.in, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) { continue; }
      return make_error(Errc::unavailable, "cannot read " + from + ": " + std::strerror(errno));
    }
    if (n == 0) { break; }
    hasher.update(std::string_view(buf.data(), static_cast<std::size_t>(n)));
    for (ssize_t done = 0; done < n;) {
      ssize_t w = ::write(fds.out, buf.data() + done, static_cast<std::size_t>(n - done));
      if (w < 0) {
        if (errno == EINTR) { continue; }
        return make_error(Errc::unavailable, "cannot write " + to + ": " + std::strerror(errno));
      }
      done += w;
    }
    out.size += static_cast<std::uint64_t>(n);
    progress.add(static_cast<std::uint64_t>(n), false);
  }
  if (::fsync(fds.out) != 0) { return make_error(Errc::unavailable, "cannot fsync " + to + ": " + std::strerror(errno)); }
  progress.add(0, true);
  out.sha256 = crypto::hex(hasher.finish());
  return out;
}

Result<Copied> hash_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) { return make_error(Errc::unavailable, "cannot read " + path + ": " + std::strerror(errno)); }
  crypto::Hasher hasher(crypto::Digest::sha256);
  std::vector<char> buf(1 << 20);
  Copied out;
  for (;;) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) { continue; }
    if (n < 0) {
      ::close(fd);
      return make_error(Errc::unavailable, "cannot read " + path + ": " + std::strerror(errno));
    }
    if (n == 0) { break; }
    hasher.update(std::string_view(buf.data(), static_cast<std::size_t>(n)));
    out.size += static_cast<std::uint64_t>(n);
  }
  ::close(fd);
  out.sha256 = crypto::hex(hasher.finish());
  return out;
}

Status fsync_dir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) { return make_error(Errc::unavailable, "cannot open " + dir + ": " + std::strerror(errno)); }
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) { return make_error(Errc::unavailable, "cannot fsync " + dir + ": " + std::strerror(errno)); }
  return {};
}

bool dir_is_empty_or_absent(const std::string& dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) { return true; }
  return fs::is_directory(dir, ec) && fs::is_empty(dir, ec);
}

// --- backup ---------------------------------------------------------------------------------------

// Tests delete objects between the snapshot and the copy: with CIEL_BACKUP_PAUSE_FOR_TEST=PATH in
// the environment, the backup creates PATH.paused after each snapshot and waits (a minute at
// most) until PATH exists.
void pause_after_snapshot_for_test() {
  const char* path = std::getenv("CIEL_BACKUP_PAUSE_FOR_TEST");
  if (path == nullptr || *path == '\0') { return; }
  std::string marker = std::string(path) + ".paused";
  if (int fd = ::open(marker.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600); fd >= 0) { ::close(fd); }
  std::error_code ec;
  for (int i = 0; i < 600 && !fs::exists(path, ec) && g_interrupted == 0; ++i) { ::usleep(100 * 1000); }
  fs::remove(marker, ec);
  fs::remove(path, ec);
}

// The blob files of one local store, relative to its root: every blob and its checksum file, not
// the temp directory (writes in progress).
struct BlobFile {
  std::string rel;
  std::uint64_t size;
};
std::vector<BlobFile> list_blob_files(const std::string& root) {
  std::vector<BlobFile> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    std::error_code e2;
    if (it->is_directory(e2)) {
      if (it->path().filename() == "tmp") { it.disable_recursion_pending(); }
      continue;
    }
    if (!it->is_regular_file(e2)) { continue; }
    auto size = it->file_size(e2);
    if (e2) { continue; }  // deleted meanwhile
    out.push_back({fs::relative(it->path(), root).string(), size});
  }
  return out;
}

class Backup {
 public:
  Backup(std::string out, bool quiet) : out_(std::move(out)), progress_("copying", quiet) {}

  // A directory of files copied as they are (keys, openrc, ciel.toml), modes kept.
  std::optional<Failure> copy_tree(const std::string& from, const std::string& rel_to) {
    std::error_code ec;
    if (!fs::exists(from, ec)) { return std::nullopt; }
    if (fs::is_regular_file(from, ec)) { return copy_one(from, rel_to); }
    if (auto f = make_dir(rel_to, 0700)) { return f; }
    for (auto it = fs::recursive_directory_iterator(from, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      std::string rel = rel_to + "/" + fs::relative(it->path(), from).string();
      std::error_code e2;
      if (it->is_directory(e2)) {
        if (auto f = make_dir(rel, 0700)) { return f; }
      } else if (it->is_regular_file(e2) && !copied_.contains(rel)) {
        if (auto f = copy_one(it->path().string(), rel)) { return f; }
      }
    }
    if (ec) { return Failure{1, "cannot read " + from + ": " + ec.message()}; }
    return std::nullopt;
  }

  // Forgets the files removed from the backup since their copy: blobs a snapshot did not name.
  void prune() {
    std::erase_if(copied_, [&](const auto& entry) {
      struct stat st {};
      return ::stat((out_ + "/" + entry.first).c_str(), &st) != 0;
    });
  }

  // Hard-links every blob file under `root` the backup does not have yet into `pin` (same tree), so
  // that the server deleting one no longer frees its bytes. False when the filesystem cannot link.
  bool pin_blobs(const std::string& root, const std::string& pin, const std::string& rel_to) {
    for (const auto& f : list_blob_files(root)) {
      if (g_interrupted != 0) { return true; }  // the caller stops
      if (copied_.contains(rel_to + "/" + f.rel)) { continue; }
      std::error_code ec;
      fs::create_directories(fs::path(pin + "/" + f.rel).parent_path(), ec);
      if (ec) { return false; }
      if (::link((root + "/" + f.rel).c_str(), (pin + "/" + f.rel).c_str()) != 0 && errno != ENOENT && errno != EEXIST) { return false; }
    }
    return true;
  }

  // Copies the blob files present now under `root` that the backup does not have yet.
  std::optional<Failure> copy_blobs(const std::string& root, const std::string& rel_to) {
    if (auto f = make_dir(rel_to, 0755)) { return f; }
    auto files = list_blob_files(root);
    std::uint64_t total = 0;
    std::size_t count = 0;
    for (const auto& f : files) {
      if (!copied_.contains(rel_to + "/" + f.rel)) {
        total += f.size;
        ++count;
      }
    }
    progress_.set_total(count, total);
    for (const auto& f : files) {
      std::string rel = rel_to + "/" + f.rel;
      if (copied_.contains(rel)) { continue; }
      if (auto fail = make_dir(fs::path(rel).parent_path().string(), 0755)) { return fail; }
      struct stat st {};
      std::string src = root + "/" + f.rel;
      if (::stat(src.c_str(), &st) != 0) { continue; }  // deleted since the listing
      auto c = copy_file(src, out_ + "/" + rel, st.st_mode & 0777, progress_);
      if (!c) {
        if (c.error().code == Errc::not_found) { continue; }
        return Failure{1, c.error().message};
      }
      copied_[rel] = {c->size, c->sha256, st.st_mode & 0777};
    }
    progress_.finish();
    return std::nullopt;
  }

  std::optional<Failure> write_manifest(boost::json::object head) {
    boost::json::array files;
    std::uint64_t bytes = 0;
    prune();
    for (const auto& [rel, e] : copied_) {
      files.push_back(boost::json::object{{"path", rel}, {"size", e.size}, {"sha256", e.sha256}, {"mode", e.mode}});
      bytes += e.size;
    }
    head["file_count"] = files.size();
    head["bytes"] = bytes;
    head["files"] = std::move(files);
    std::string text = boost::json::serialize(head) + "\n";
    std::string tmp = out_ + "/" + kManifest + ".tmp";
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) { return Failure{1, "cannot create " + tmp + ": " + std::strerror(errno)}; }
    bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
    ::close(fd);
    if (!ok || ::rename(tmp.c_str(), (out_ + "/" + kManifest).c_str()) != 0) {
      return Failure{1, "cannot write " + out_ + "/" + kManifest + ": " + std::strerror(errno)};
    }
    for (const auto& d : dirs_) {
      if (auto st = fsync_dir(out_ + (d.empty() ? "" : "/" + d)); !st) { return Failure{1, st.error().message}; }
    }
    if (auto st = fsync_dir(out_); !st) { return Failure{1, st.error().message}; }
    files_ = copied_.size();
    bytes_ = bytes;
    return std::nullopt;
  }

  // Records a file written in place (the metadata snapshot), hashing it.
  std::optional<Failure> record(const std::string& rel, mode_t mode) {
    auto h = hash_file(out_ + "/" + rel);
    if (!h) { return Failure{1, h.error().message}; }
    copied_[rel] = {h->size, h->sha256, mode};
    return std::nullopt;
  }

  std::uint64_t files() const { return files_; }
  std::uint64_t bytes() const { return bytes_; }

  std::optional<Failure> make_dir(const std::string& rel, mode_t mode) {
    if (rel.empty() || dirs_.contains(rel)) { return std::nullopt; }
    if (auto f = make_dir(fs::path(rel).parent_path().string(), mode)) { return f; }
    std::string path = out_ + "/" + rel;
    if (::mkdir(path.c_str(), mode) != 0 && errno != EEXIST) { return Failure{1, "cannot create " + path + ": " + std::strerror(errno)}; }
    dirs_.insert(rel);
    return std::nullopt;
  }

 private:
  std::optional<Failure> copy_one(const std::string& from, const std::string& rel) {
    struct stat st {};
    if (::stat(from.c_str(), &st) != 0) { return Failure{1, "cannot read " + from + ": " + std::strerror(errno)}; }
    auto c = copy_file(from, out_ + "/" + rel, st.st_mode & 0777, progress_);
    if (!c) { return Failure{1, c.error().message}; }
    copied_[rel] = {c->size, c->sha256, st.st_mode & 0777};
    return std::nullopt;
  }

  struct Entry {
    std::uint64_t size;
    std::string sha256;
    unsigned mode;
  };
  std::string out_;
  Progress progress_;
  std::map<std::string, Entry> copied_;  // path relative to out_
  std::set<std::string> dirs_;
  std::uint64_t files_ = 0, bytes_ = 0;
};

// Blobs named by the snapshot that the backup lacks, after removing from the backup the ones the
// snapshot does not name (written after it). One store per engine, each checked by its own engine.
Result<std::vector<std::string>> settle_blobs(store::MetaStore& snapshot, const std::string& out) {
  std::vector<std::string> missing;
  auto objects = store::open_localfs_blob_store({out + "/blobs", false});
  if (!objects) { return objects.error(); }
  auto o = object::check_consistency(snapshot, **objects, true);
  if (!o) { return o.error(); }
  for (const auto& k : o->missing_blobs) { missing.push_back("object blob " + k); }
  auto box_blobs = store::open_localfs_blob_store({out + "/box", false});
  if (!box_blobs) { return box_blobs.error(); }
  auto b = box::check_consistency(snapshot, **box_blobs, true);
  if (!b) { return b.error(); }
  for (const auto& k : b->missing_blobs) { missing.push_back("box blob " + k); }
  auto images = store::open_localfs_blob_store({out + "/images", false});
  if (!images) { return images.error(); }
  auto named = compute::image_blob_keys(snapshot);
  if (!named) { return named.error(); }
  auto i = store::sweep_blobs(**images, *named, true);
  if (!i) { return i.error(); }
  for (const auto& k : i->missing) { missing.push_back("image blob " + k); }
  return missing;
}

Result<std::map<std::string, std::int64_t>> schema_versions(store::MetaStore& meta) {
  std::map<std::string, std::int64_t> out;
  auto st = meta.read_sync([&](store::Tx& tx) -> Status {
    auto rows = tx.query("SELECT module, MAX(version) FROM schema_migrations GROUP BY module");
    if (!rows) { return rows.error(); }
    for (const auto& r : rows->rows) { out[r.text(0)] = r.integer(1); }
    return {};
  });
  if (!st) { return st.error(); }
  return out;
}

int run_backup(const config::Settings& settings, const std::string& out, bool quiet) {
  std::string meta_url = settings.get_string("store.metadata");
  if (!meta_url.empty() && !meta_url.starts_with("sqlite:")) {
    return report({2, "ciel backup copies an embedded deployment (SQLite metadata); this one keeps its metadata in PostgreSQL (store.metadata): " +
                          std::string(kScaleOutDocs)});
  }
  if (settings.get_string("store.blob_backend") != "localfs") {
    return report({2, "ciel backup copies an embedded deployment (blobs on local disk); this one keeps them in RADOS (store.blob_backend = " +
                          settings.get_string("store.blob_backend") + "): " + std::string(kScaleOutDocs)});
  }
  std::string dir = settings.get_string("data_dir");
  std::string meta_path = meta_url.empty() ? dir + "/meta.db" : meta_url.substr(7);
  std::error_code ec;
  if (!fs::exists(meta_path, ec)) { return report({2, "no Ciel data in " + dir + " (" + meta_path + " does not exist)"}); }
  auto root_of = [&](const char* key, const char* sub) {
    std::string v = settings.get_string(key);
    return v.empty() ? dir + "/" + sub : v;
  };
  std::string blob_root = root_of("store.blob_root", "blobs");
  std::string box_root = root_of("store.box_blob_root", "box");
  std::string image_root = root_of("store.image_blob_root", "images");
  std::string compute_dir = root_of("compute.state_dir", "compute");

  if (!dir_is_empty_or_absent(out)) { return report({2, "refusing to write the backup into " + out + ": it exists and is not empty"}); }
  fs::create_directories(out, ec);
  if (ec) { return report({1, "cannot create " + out + ": " + ec.message()}); }
  ::chmod(out.c_str(), 0700);  // it holds the master key

  Backup backup(out, quiet);
  auto say = [&](const std::string& line) {
    if (!quiet) { std::printf("%s\n", line.c_str()); }
  };
  std::map<std::string, std::int64_t> schema;
  std::string snapshot_time;
  bool settled = false;
  const std::vector<std::pair<std::string, std::string>> stores = {{blob_root, "blobs"}, {box_root, "box"}, {image_root, "images"}};
  // Pins of an earlier backup that did not finish (killed) hold deleted blobs' space: they go.
  for (const auto& [root, rel] : stores) {
    for (const auto& e : fs::directory_iterator(root + "/tmp", ec)) {
      std::string name = e.path().filename().string();
      if (name.starts_with("backup-pin-") && !fs::exists("/proc/" + name.substr(11), ec)) { fs::remove_all(e.path(), ec); }
    }
  }
  auto pin_of = [](const std::string& root) { return root + "/tmp/backup-pin-" + std::to_string(::getpid()); };
  struct Unpin {
    std::vector<std::string> dirs;
    ~Unpin() {
      std::error_code e;
      for (const auto& d : dirs) { fs::remove_all(d, e); }
    }
  } unpin;
  for (const auto& [root, rel] : stores) { unpin.dirs.push_back(pin_of(root)); }
  for (int attempt = 1; attempt <= kAttempts && !settled; ++attempt) {
    bool pinned = true;
    for (const auto& [root, rel] : stores) { pinned = backup.pin_blobs(root, pin_of(root), rel) && pinned; }
    if (g_interrupted != 0) { return report_backup({1, "interrupted"}, out); }
    if (!pinned && attempt == 1) { say("cannot hard-link blobs where they are: copying them without pinning"); }
    std::string snap = out + "/meta.db";
    fs::remove(snap, ec);
    snapshot_time = iso8601(std::chrono::system_clock::now());
    if (auto st = store::snapshot_sqlite_database(meta_path, snap); !st) {
      return report_backup({1, st.error().message + ": " + st.error().detail}, out);
    }
    say("metadata snapshot taken at " + snapshot_time);
    pause_after_snapshot_for_test();
    // Again at once, for the blobs written between the pinning and the snapshot: copying takes
    // long, linking does not. Then the pinned files (they cannot vanish), then anything left.
    for (const auto& [root, rel] : stores) { (void)backup.pin_blobs(root, pin_of(root), rel); }
    for (const auto& [root, rel] : stores) {
      if (auto f = backup.copy_blobs(pin_of(root), rel)) { return report_backup(*f, out); }
      if (auto f = backup.copy_blobs(root, rel)) { return report_backup(*f, out); }
    }
    auto snapshot = store::open_sqlite_meta_store({.path = snap, .readers = 1, .synchronous_full = false});
    if (!snapshot) { return report_backup({1, snapshot.error().message + ": " + snapshot.error().detail}, out); }
    auto missing = settle_blobs(**snapshot, out);
    backup.prune();  // the blobs settle_blobs removed
    if (!missing) { return report_backup({1, "cannot check the copied blobs: " + missing.error().message + " (" + missing.error().detail + ")"}, out); }
    auto versions = schema_versions(**snapshot);
    if (!versions) { return report_backup({1, "cannot read the schema versions: " + versions.error().detail}, out); }
    schema = *versions;
    snapshot->reset();
    if (missing->empty()) {
      settled = true;
    } else if (attempt < kAttempts) {
      say(std::to_string(missing->size()) + " blobs were deleted after the snapshot (their objects or files were deleted); taking a new one");
    } else {
      return report_backup({1, "the server kept deleting blobs the snapshot names (" + missing->front() + ", and " +
                            std::to_string(missing->size() - 1) + " more) after " + std::to_string(kAttempts) +
                            " snapshots; run ciel backup again when fewer deletions are under way"}, out);
    }
  }
  for (const char* side : {"-wal", "-shm", "-journal"}) { fs::remove(out + "/meta.db" + side, ec); }
  if (auto f = backup.record("meta.db", 0600)) { return report_backup(*f, out); }
  for (const char* sub : {"blobs/tmp", "box/tmp", "images/tmp"}) { fs::remove(out + "/" + sub, ec); }

  // The master key (identity.master_key_file, by default keys/credential.key) seals the S3
  // secrets and the token key ring in meta.db: without it the backup is not worth having.
  std::string master_key = settings.get_string("identity.master_key_file");
  if (master_key.empty()) { master_key = dir + "/keys/credential.key"; }
  if (!fs::exists(master_key, ec)) {
    return report_backup({1, "the master key " + master_key + " does not exist: without it the S3 secrets and tokens in the metadata cannot be read"},
                         out);
  }
  if (auto f = backup.make_dir("keys", 0700)) { return report_backup(*f, out); }
  if (auto f = backup.copy_tree(master_key, "keys/credential.key")) { return report_backup(*f, out); }
  if (auto f = backup.copy_tree(dir + "/keys", "keys")) { return report_backup(*f, out); }
  for (const char* file : {"openrc", "ciel.toml"}) {
    if (auto f = backup.copy_tree(dir + "/" + file, file)) { return report_backup(*f, out); }
  }
  boost::json::array skipped;
  for (const auto& e : fs::directory_iterator(compute_dir + "/vms", ec)) {
    if (!e.is_directory()) { continue; }
    std::string id = e.path().filename().string();
    skipped.push_back(boost::json::string("compute/vms/" + id));
    std::fprintf(stderr, "ciel: not included: the disk of server %s (VM disks are not backed up; see docs/operations.md)\n", id.c_str());
  }

  // Paths set outside the data directory: the restored files are inside it, so those settings (in
  // a copied ciel.toml, or on the command line) must change at restore. Restore says so.
  boost::json::object moved;
  for (const char* key :
       {"store.metadata", "store.blob_root", "store.box_blob_root", "store.image_blob_root", "compute.state_dir", "identity.master_key_file"}) {
    if (auto v = settings.get_string(key); !v.empty()) { moved[key] = v; }
  }
  boost::json::object schema_json;
  for (const auto& [module, version] : schema) { schema_json[module] = version; }
  boost::json::object head{{"format", "ciel-backup"},
                           {"format_version", kFormatVersion},
                           {"ciel_version", CIEL_VERSION},
                           {"created_at", snapshot_time},
                           {"source", fs::absolute(dir).lexically_normal().string()},
                           {"schema", std::move(schema_json)},
                           {"skipped", std::move(skipped)},
                           {"relocated_settings", std::move(moved)}};
  if (auto f = backup.write_manifest(std::move(head))) { return report_backup(*f, out); }
  std::printf("backup of %s written to %s: %llu files, %s\n", dir.c_str(), out.c_str(), static_cast<unsigned long long>(backup.files()),
              human_bytes(backup.bytes()).c_str());
  return 0;
}

// --- restore --------------------------------------------------------------------------------------

bool safe_relative(const std::string& p) {
  if (p.empty() || p.front() == '/') { return false; }
  for (const auto& part : fs::path(p)) {
    if (part == ".." || part == ".") { return false; }
  }
  return true;
}

struct ManifestFile {
  std::string path;
  std::uint64_t size;
  std::string sha256;
  mode_t mode;
};

Result<std::vector<ManifestFile>> read_manifest(const std::string& from, boost::json::object& head) {
  std::string path = from + "/" + kManifest;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return make_error(Errc::not_found, from + " is not a Ciel backup (no " + std::string(kManifest) +
                                           "; an interrupted ciel backup leaves none)");
  }
  std::string text;
  char buf[65536];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) { text.append(buf, static_cast<std::size_t>(n)); }
  ::close(fd);
  boost::system::error_code ec;
  auto v = boost::json::parse(text, ec);
  if (ec || !v.is_object()) { return make_error(Errc::invalid_argument, path + " is damaged (not JSON)"); }
  head = v.as_object();
  const auto* format = head.if_contains("format");
  if (format == nullptr || !format->is_string() || format->as_string() != "ciel-backup") {
    return make_error(Errc::invalid_argument, path + " is not a Ciel backup manifest");
  }
  const auto* version = head.if_contains("format_version");
  if (version == nullptr || !version->is_int64() || version->as_int64() > kFormatVersion) {
    return make_error(Errc::invalid_argument, "the backup in " + from + " has a format this ciel does not know: restore it with a newer ciel");
  }
  std::vector<ManifestFile> files;
  const auto* list = head.if_contains("files");
  if (list == nullptr || !list->is_array()) { return make_error(Errc::invalid_argument, path + " is damaged (no file list)"); }
  for (const auto& f : list->as_array()) {
    const auto* o = f.if_object();
    if (o == nullptr || !o->contains("path") || !o->at("path").is_string() || !o->contains("size") || !o->at("size").is_number() ||
        !o->contains("sha256") || !o->at("sha256").is_string()) {
      return make_error(Errc::invalid_argument, path + " is damaged (a file entry lacks path, size or sha256)");
    }
    ManifestFile m;
    m.path = std::string(o->at("path").as_string());
    if (!safe_relative(m.path)) { return make_error(Errc::invalid_argument, path + " names a file outside the backup: " + m.path); }
    m.size = o->at("size").to_number<std::uint64_t>();
    m.sha256 = std::string(o->at("sha256").as_string());
    m.mode = o->contains("mode") && o->at("mode").is_number() ? static_cast<mode_t>(o->at("mode").to_number<unsigned>() & 0777) : 0600;
    files.push_back(std::move(m));
  }
  return files;
}

int run_restore(const std::string& from, const std::string& target, bool quiet) {
  boost::json::object head;
  auto files = read_manifest(from, head);
  if (!files) { return report({1, files.error().message}); }

  // A newer schema than this binary's would be misread, or half-migrated by an older ciel serve.
  std::map<std::string, int> known;
  for (const auto& m : all_migrations()) { known[m.module] = std::max(known[m.module], m.version); }
  if (const auto* schema = head.if_contains("schema"); schema != nullptr && schema->is_object()) {
    for (const auto& [module, v] : schema->as_object()) {
      std::int64_t version = v.is_int64() ? v.as_int64() : 0;
      auto it = known.find(std::string(module));
      if (it == known.end() || version > it->second) {
        return report({1, "the backup's schema is newer than this ciel knows (" + std::string(module) + " version " +
                              std::to_string(version) + ", this ciel knows " + (it == known.end() ? "no such module" : "up to " + std::to_string(it->second)) +
                              "): restore it with the ciel version that wrote it (" +
                              (head.contains("ciel_version") && head.at("ciel_version").is_string() ? std::string(head.at("ciel_version").as_string()) : "?") +
                              ") or a newer one"});
      }
    }
  }
  if (!dir_is_empty_or_absent(target)) {
    return report({2, "refusing to restore into " + target + ": it exists and is not empty (restore into a new directory)"});
  }
  // Every size before writing anything: a truncated or missing file is found at once.
  std::uint64_t total = 0;
  for (const auto& f : *files) {
    struct stat st {};
    std::string p = from + "/" + f.path;
    if (::stat(p.c_str(), &st) != 0) { return report({1, "the backup in " + from + " is damaged: " + f.path + " is missing"}); }
    if (static_cast<std::uint64_t>(st.st_size) != f.size) {
      return report({1, "the backup in " + from + " is damaged: " + f.path + " has " + std::to_string(st.st_size) +
                            " bytes, the manifest says " + std::to_string(f.size)});
    }
    total += f.size;
  }
  std::error_code ec;
  bool created = !fs::exists(target, ec);
  fs::create_directories(target, ec);
  if (ec) { return report({1, "cannot create " + target + ": " + ec.message()}); }
  ::chmod(target.c_str(), 0700);
  // What this run wrote goes again if it fails: the target was empty.
  auto undo = [&](Failure f) {
    if (g_interrupted != 0) { f = {1, "interrupted: removed what was restored into " + target}; }
    for (const auto& e : fs::directory_iterator(target, ec)) { fs::remove_all(e.path(), ec); }
    if (created) { fs::remove(target, ec); }
    return report(f);
  };
  Progress progress("restoring", quiet);
  progress.set_total(files->size(), total);
  std::set<std::string> dirs{""};
  for (const auto& f : *files) {
    fs::path parent = fs::path(f.path).parent_path();
    for (fs::path p; const auto& part : parent) {
      p /= part;
      if (dirs.insert(p.string()).second) {
        mode_t mode = p.begin()->string() == "keys" ? 0700 : 0755;
        if (::mkdir((target + "/" + p.string()).c_str(), mode) != 0 && errno != EEXIST) {
          return undo({1, "cannot create " + target + "/" + p.string() + ": " + std::strerror(errno)});
        }
      }
    }
    auto c = copy_file(from + "/" + f.path, target + "/" + f.path, f.mode, progress);
    if (!c) { return undo({1, c.error().message}); }
    if (c->size != f.size || c->sha256 != f.sha256) {
      return undo({1, "the backup in " + from + " is damaged: " + f.path + " does not match its checksum in the manifest; nothing was restored"});
    }
  }
  progress.finish();
  for (const auto& d : dirs) {
    if (auto st = fsync_dir(target + (d.empty() ? "" : "/" + d)); !st) { return undo({1, st.error().message}); }
  }
  std::printf("restored %zu files (%s) from %s into %s; start it with: ciel serve --data-dir %s\n", files->size(), human_bytes(total).c_str(),
              from.c_str(), target.c_str(), target.c_str());
  if (const auto* moved = head.if_contains("relocated_settings"); moved != nullptr && moved->is_object()) {
    const char* where[][2] = {{"store.metadata", "meta.db"}, {"store.blob_root", "blobs/"}, {"store.box_blob_root", "box/"},
                              {"store.image_blob_root", "images/"}, {"compute.state_dir", "compute/"},
                              {"identity.master_key_file", "keys/credential.key"}};
    for (const auto& [key, sub] : where) {
      if (const auto* v = moved->as_object().if_contains(key); v != nullptr && v->is_string()) {
        std::printf("note: the backed-up server set %s = \"%s\"; the restored files are in %s/%s: change or remove that setting "
                    "(in %s/ciel.toml or your --config file) before ciel serve\n",
                    key, std::string(v->as_string()).c_str(), target.c_str(), sub, target.c_str());
      }
    }
  }
  if (const auto* skipped = head.if_contains("skipped"); skipped != nullptr && skipped->is_array() && !skipped->as_array().empty()) {
    std::printf("not in the backup: the disks of %zu servers (they restart without a disk: delete and recreate them)\n",
                skipped->as_array().size());
  }
  return 0;
}

}  // namespace

int backup_main(int argc, char** argv, char** envp) {
  config::Settings settings;
  declare_all_settings(settings);
  CLI::App app{"ciel backup: copy an embedded deployment's data directory (online or not) into a new directory"};
  LoadOptions load;
  std::string data_dir;
  std::string out;
  bool quiet = false;
  app.add_option("--data-dir", data_dir, "Data directory (setting data_dir)");
  app.add_option("--config", load.config_file, "TOML config file (default: DATA_DIR/ciel.toml when present)");
  app.add_option("--set", load.assignments, "Set any setting: --set key=value");
  app.add_option("--to", out, "Directory to write the backup into (new or empty)")->required();
  app.add_flag("-q,--quiet", quiet, "Print only the summary and errors");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  if (!data_dir.empty()) { load.assignments.insert(load.assignments.begin(), "data_dir=" + data_dir); }
  load_or_exit(settings, load, envp);
  catch_interrupts();
  return run_backup(settings, out, quiet);
}

int restore_main(int argc, char** argv, char** envp) {
  (void)envp;
  CLI::App app{"ciel restore: make a new data directory from a ciel backup"};
  std::string from;
  std::string data_dir;
  bool quiet = false;
  app.add_option("--from", from, "Directory ciel backup wrote")->required();
  app.add_option("--data-dir", data_dir, "New data directory to restore into (absent or empty)")->required();
  app.add_flag("-q,--quiet", quiet, "Print only the summary and errors");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  catch_interrupts();
  return run_restore(from, data_dir, quiet);
}

}  // namespace ciel::cli
