// Local-disk BlobStore: ROOT/ab/cd/<key> holds the bytes and ROOT/ab/cd/<key>.sum the size,
// MD5 and CRC-32C recorded at write time (what `ciel scrub` checks against; blobs written before
// CRC-32C carry a SHA-256 there, still checked). Writes go to
// ROOT/tmp first; the blob appears only after fsync + rename + directory fsync.
#include <fcntl.h>
#include <cstdlib>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <algorithm>
#include <memory>
#include <span>
#include <vector>

#include "core/blocking.h"
#include "core/crypto/crypto.h"
#include "core/log/log.h"
#include "store/blob_keys.h"
#include "store/blob_store.h"

namespace ciel::store {
namespace {

namespace fs = std::filesystem;
constexpr std::size_t kWriteChunk = 1 << 20;
constexpr std::size_t kReadChunk = 256 * 1024;

Error io_error(std::string_view what, const std::string& path) {
  return make_error(Errc::unavailable, "storage I/O failure", std::string(what) + " " + path + ": " + std::strerror(errno));
}

bool valid_key(std::string_view key) { return valid_blob_key(key); }

Status fsync_dir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) { return io_error("open dir", dir); }
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) { return io_error("fsync dir", dir); }
  return {};
}

Status write_all(int fd, const char* data, std::size_t n, const std::string& path) {
  while (n > 0) {
    ssize_t w = ::write(fd, data, n);
    if (w < 0) {
      if (errno == EINTR) { continue; }
      return io_error("write", path);
    }
    data += w;
    n -= static_cast<std::size_t>(w);
  }
  return {};
}

class FileReader final : public ByteSource {
 public:
  FileReader(int fd, std::uint64_t offset, std::uint64_t length) : fd_(fd), offset_(offset), left_(length), total_(length) {}
  ~FileReader() override { ::close(fd_); }
  boost::asio::awaitable<Result<std::size_t>> read(std::span<char> buf) override {
    if (left_ == 0 || buf.empty()) { co_return std::size_t{0}; }
    std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>({buf.size(), left_, kReadChunk}));
    ssize_t n = co_await run_blocking([&] { return ::pread(fd_, buf.data(), want, static_cast<off_t>(offset_)); });
    if (n <= 0) { co_return make_error(Errc::unavailable, "storage read failure", n < 0 ? std::strerror(errno) : "unexpected end of blob"); }
    offset_ += static_cast<std::uint64_t>(n);
    left_ -= static_cast<std::uint64_t>(n);
    co_return static_cast<std::size_t>(n);
  }
  std::optional<std::uint64_t> size() const override { return total_; }

 private:
  int fd_;
  std::uint64_t offset_;
  std::uint64_t left_;
  std::uint64_t total_;
};

class LocalFsBlobStore final : public BlobStore {
 public:
  explicit LocalFsBlobStore(LocalFsConfig c) : config_(std::move(c)) {}

  Status init() {
    std::error_code ec;
    fs::create_directories(config_.root + "/tmp", ec);
    if (ec) { return make_error(Errc::unavailable, "cannot create blob directory " + config_.root, ec.message()); }
    return {};
  }

  boost::asio::awaitable<Result<BlobInfo>> put(std::string key, ByteSource& source, std::uint64_t max_size,
                                           BlobPutOptions options) override {
    if (!valid_key(key)) { co_return make_error(Errc::invalid_argument, "invalid blob key"); }
    std::string final_path = path_of(key);
    std::string tmp_path = config_.root + "/tmp/" + key + "." + crypto::random_hex(4);
    crypto::Hasher md5(crypto::Digest::md5);
    std::uint32_t crc = 0;
    // The temp file is created in the first write's hop to the blocking pool, and the last
    // chunk is written in the commit's hop: a small blob costs one hop, not four.
    struct Cleanup {
      int fd = -1;
      std::string path;
      bool keep = false;
      ~Cleanup() {
        if (fd >= 0) { ::close(fd); }
        if (fd >= 0 && !keep) { ::unlink(path.c_str()); }
      }
    } cleanup{-1, tmp_path};
    // Per chunk: the MD5s on one pool thread, the CRC-32C and the write on another, while this
    // coroutine receives the next chunk into the other buffer.
    auto md5_chunk = [&](std::span<const char> chunk) {
      std::string_view data(chunk.data(), chunk.size());
      if (options.md5) { md5.update(data); }
      if (options.also != nullptr) { options.also->update(data); }
    };
    // Small blobs get a small buffer: a 1 MiB one per request would be mapped and zeroed each
    // time (it is above malloc's mmap threshold), which costs more than writing 4 KiB.
    const std::size_t cap = static_cast<std::size_t>(
        std::clamp<std::uint64_t>(source.size().value_or(max_size == UINT64_MAX ? kWriteChunk : max_size + 1), 64 * 1024, kWriteChunk));
    // Large blobs are written with O_DIRECT from aligned 1 MiB buffers: the copy into the page
    // cache was half of the CPU time of a large upload on a 2-core machine, and the bytes are
    // not read back soon. The last, partial chunk is written through the cache.
    bool direct = config_.direct_io && cap == kWriteChunk;
    struct AlignedFree {
      void operator()(char* p) const { std::free(p); }
    };
    using Buffer = std::unique_ptr<char, AlignedFree>;
    auto allocate = [&] { return Buffer(static_cast<char*>(std::aligned_alloc(4096, (cap + 4095) / 4096 * 4096))); };
    Buffer storage[2] = {allocate(), nullptr};
    std::span<char> bufs[2] = {std::span<char>(storage[0].get(), cap), {}};

    std::uint64_t written = 0;
    auto write_chunk = [&](std::span<const char> chunk, bool last) -> Status {
      if (cleanup.fd < 0) {
        cleanup.fd = ::open(tmp_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | (direct ? O_DIRECT : 0), 0640);
        if (cleanup.fd < 0 && direct && errno == EINVAL) {  // a file system without O_DIRECT
          direct = false;
          cleanup.fd = ::open(tmp_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
        }
        if (cleanup.fd < 0) { return io_error("create", tmp_path); }
      }
      if (chunk.empty()) { return {}; }
      crc = crypto::crc32c(crc, std::string_view(chunk.data(), chunk.size()));
      if (direct && (last || chunk.size() % 4096 != 0)) {
        int flags = ::fcntl(cleanup.fd, F_GETFL);
        ::fcntl(cleanup.fd, F_SETFL, flags & ~O_DIRECT);
        direct = false;
      }
      if (auto st = write_all(cleanup.fd, chunk.data(), chunk.size(), tmp_path); !st) { return st; }
      // Start writeback now, so the fsync at the end has little left to wait for.
      if (config_.fsync && !direct) {
        ::sync_file_range(cleanup.fd, static_cast<off_t>(written), static_cast<off_t>(chunk.size()), SYNC_FILE_RANGE_WRITE);
      }
      written += chunk.size();
      return {};
    };
    int cur = 0;
    auto fill = [&](std::span<char> buf, std::size_t& filled, bool& eof) -> boost::asio::awaitable<Status> {
      filled = 0;
      eof = false;
      while (filled < buf.size()) {
        auto n = co_await source.read(buf.subspan(filled));
        if (!n) { co_return n.error(); }
        if (*n == 0) {
          eof = true;
          break;
        }
        filled += *n;
      }
      co_return Status{};
    };
    std::uint64_t total = 0;
    std::size_t filled = 0;
    bool eof = false;
    if (auto st = co_await fill(bufs[cur], filled, eof); !st) { co_return st.error(); }
    total += filled;
    if (total > max_size) { co_return make_error(Errc::too_large, "content is too large"); }
    while (!eof) {
      if (!storage[1]) {
        storage[1] = allocate();
        bufs[1] = std::span<char>(storage[1].get(), cap);
      }
      std::span<const char> full = bufs[cur].first(filled);
      Status written_ok;
      BlockingJob hashing;
      if (options.md5 || options.also != nullptr) { hashing = BlockingJob([&] { md5_chunk(full); }); }
      BlockingJob writing([&] { written_ok = write_chunk(full, false); });
      std::size_t next_filled = 0;
      auto received = co_await fill(bufs[1 - cur], next_filled, eof);
      co_await hashing.wait();
      co_await writing.wait();
      if (!received) { co_return received.error(); }
      if (!written_ok) { co_return written_ok.error(); }
      cur = 1 - cur;
      filled = next_filled;
      total += filled;
      if (total > max_size) { co_return make_error(Errc::too_large, "content is too large"); }
    }
    std::span<char> buf = bufs[cur];
    BlobInfo info;
    if (options.source_done) {
      // Hash the last chunk apart, so the caller reads on while this one is written and synced.
      co_await run_blocking([&] { md5_chunk(buf.first(filled)); });
      options.source_done();
    }
    auto st = co_await run_blocking([&]() -> Status {
      if (!options.source_done) { md5_chunk(buf.first(filled)); }
      if (auto w = write_chunk(buf.first(filled), true); !w) { return w; }
      info = BlobInfo{total, options.md5 ? crypto::hex(md5.finish()) : std::string("-"), crc_text(crc)};
      return commit(cleanup.fd, tmp_path, final_path, info);
    });
    if (!st) { co_return st.error(); }
    cleanup.keep = true;
    co_return info;
  }

  boost::asio::awaitable<Result<BlobInfo>> stat(std::string key) override {
    co_return co_await run_blocking([&]() -> Result<BlobInfo> { return stat_sync(key); });
  }

  boost::asio::awaitable<Result<std::unique_ptr<ByteSource>>> open(std::string key, std::uint64_t offset, std::uint64_t length) override {
    auto fd = open_fd(key);
    if (!fd) { co_return fd.error(); }
    struct stat st {};
    if (::fstat(*fd, &st) != 0) {
      ::close(*fd);
      co_return io_error("stat", key);
    }
    auto size = static_cast<std::uint64_t>(st.st_size);
    if (offset > size || length > size - offset) {
      ::close(*fd);
      co_return make_error(Errc::invalid_argument, "range past the end of the blob");
    }
    co_return std::unique_ptr<ByteSource>(std::make_unique<FileReader>(*fd, offset, length));
  }

  Result<int> open_fd(const std::string& key) override {
    if (!valid_key(key)) { return make_error(Errc::not_found, "no such blob"); }
    int fd = ::open(path_of(key).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT) { return make_error(Errc::not_found, "no such blob"); }
      return io_error("open", path_of(key));
    }
    return fd;
  }

  boost::asio::awaitable<Status> remove(std::string key) override {
    if (!valid_key(key)) { co_return make_error(Errc::invalid_argument, "invalid blob key"); }
    co_return co_await run_blocking([&]() -> Status { return remove_sync(key); });
  }

  Status remove_sync(const std::string& key) override {
    if (!valid_key(key)) { return make_error(Errc::invalid_argument, "invalid blob key"); }
    std::string p = path_of(key);
    if (::unlink(p.c_str()) != 0 && errno != ENOENT) { return io_error("unlink", p); }
    ::unlink((p + ".sum").c_str());
    return {};
  }

  Result<ScrubReport> scrub(const std::function<void(std::string_view)>& progress) override {
    ScrubReport report;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(config_.root, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (it->is_directory()) {
        if (it->path().filename() == "tmp") { it.disable_recursion_pending(); }
        continue;
      }
      std::string name = it->path().filename().string();
      if (name.ends_with(".sum")) {
        // A crash between the checksum rename and the blob rename leaves a checksum alone; the
        // blob was never acknowledged, so the checksum goes.
        std::string data = it->path().string();
        data.resize(data.size() - 4);
        std::error_code e2;
        if (!fs::exists(data, e2) && !e2 && fs::remove(it->path(), e2)) { ++report.orphan_checksums_removed; }
        continue;
      }
      if (!valid_key(name)) { continue; }
      if (progress) { progress(name); }
      ++report.checked;
      auto recorded = read_sum(it->path().string() + ".sum");
      if (!recorded) {
        report.missing_checksum.push_back(name);
        continue;
      }
      int fd = ::open(it->path().c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) {
        report.corrupt.push_back(name);
        continue;
      }
      bool crc32c = recorded->checksum.starts_with("crc32c:");
      crypto::Hasher sha(crypto::Digest::sha256);
      std::uint32_t crc = 0;
      std::vector<char> buf(kWriteChunk);
      std::uint64_t size = 0;
      for (;;) {
        ssize_t n = ::read(fd, buf.data(), buf.size());
        if (n <= 0) { break; }
        size += static_cast<std::uint64_t>(n);
        std::string_view chunk(buf.data(), static_cast<std::size_t>(n));
        if (crc32c) {
          crc = crypto::crc32c(crc, chunk);
        } else {
          sha.update(chunk);
        }
      }
      ::close(fd);
      report.bytes += size;
      std::string actual = crc32c ? crc_text(crc) : crypto::hex(sha.finish());
      if (size != recorded->size || actual != recorded->checksum) { report.corrupt.push_back(name); }
    }
    if (ec) { return make_error(Errc::unavailable, "cannot walk blob directory", ec.message()); }
    return report;
  }

  Status for_each_blob(const std::function<void(const std::string&, SystemTime)>& fn) override {
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(config_.root, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (it->is_directory()) {
        if (it->path().filename() == "tmp") { it.disable_recursion_pending(); }
        continue;
      }
      std::string name = it->path().filename().string();
      if (!valid_key(name)) { continue; }
      struct stat st {};
      if (::stat(it->path().c_str(), &st) != 0) { continue; }
      fn(name, SystemTime(std::chrono::seconds(st.st_mtim.tv_sec)));
    }
    if (ec) { return make_error(Errc::unavailable, "cannot walk blob directory", ec.message()); }
    return {};
  }

  Result<std::uint64_t> collect_temp_files(std::chrono::seconds age) override {
    std::uint64_t removed = 0;
    std::error_code ec;
    auto cutoff = fs::file_time_type::clock::now() - age;
    for (const auto& e : fs::directory_iterator(config_.root + "/tmp", ec)) {
      std::error_code e2;
      if (e.last_write_time(e2) < cutoff && !e2 && fs::remove(e.path(), e2)) { ++removed; }
    }
    if (ec) { return make_error(Errc::unavailable, "cannot list temp directory", ec.message()); }
    return removed;
  }

 private:
  static std::string crc_text(std::uint32_t crc) { return crc32c_checksum(crc); }

  std::string dir_of(const std::string& key) const { return config_.root + "/" + key.substr(0, 2) + "/" + key.substr(2, 2); }
  std::string path_of(const std::string& key) const { return dir_of(key) + "/" + key; }

  static std::optional<BlobInfo> read_sum(const std::string& path) {
    std::ifstream in(path);
    BlobInfo info;
    if (!(in >> info.size >> info.md5_hex >> info.checksum)) { return std::nullopt; }
    return info;
  }

  Result<BlobInfo> stat_sync(const std::string& key) {
    if (!valid_key(key)) { return make_error(Errc::not_found, "no such blob"); }
    struct stat st {};
    if (::stat(path_of(key).c_str(), &st) != 0) {
      if (errno == ENOENT) { return make_error(Errc::not_found, "no such blob"); }
      return io_error("stat", path_of(key));
    }
    auto info = read_sum(path_of(key) + ".sum");
    if (!info) { return BlobInfo{static_cast<std::uint64_t>(st.st_size), {}, {}}; }
    return *info;
  }

  // Runs on the blocking pool: make the temp file durable, then publish it.
  Status commit(int fd, const std::string& tmp_path, const std::string& final_path, const BlobInfo& info) {
    if (config_.fsync && ::fdatasync(fd) != 0) { return io_error("fsync", tmp_path); }
    std::string dir = final_path.substr(0, final_path.rfind('/'));
    std::string parent = dir.substr(0, dir.rfind('/'));
    std::error_code ec;
    bool new_parent = !fs::exists(parent, ec);
    bool new_dir = !fs::exists(dir, ec);
    fs::create_directories(dir, ec);
    if (ec) { return make_error(Errc::unavailable, "storage I/O failure", "mkdir " + dir + ": " + ec.message()); }
    // A directory made here is durable only once its parent is fsynced (power loss, not kill -9).
    if (config_.fsync && new_dir) {
      if (auto st = fsync_dir(parent); !st) { return st; }
    }
    if (config_.fsync && new_parent) {
      if (auto st = fsync_dir(config_.root); !st) { return st; }
    }
    if (::access(final_path.c_str(), F_OK) == 0) { return make_error(Errc::already_exists, "blob exists"); }
    // The checksum file goes first: a blob that exists always has its checksum.
    std::string sum_tmp = tmp_path + ".sum";
    std::string sum = std::to_string(info.size) + " " + info.md5_hex + " " + info.checksum + "\n";
    int sfd = ::open(sum_tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (sfd < 0) { return io_error("create", sum_tmp); }
    Status st = write_all(sfd, sum.data(), sum.size(), sum_tmp);
    if (st && config_.fsync && ::fdatasync(sfd) != 0) { st = io_error("fsync", sum_tmp); }
    ::close(sfd);
    if (st && ::rename(sum_tmp.c_str(), (final_path + ".sum").c_str()) != 0) { st = io_error("rename", sum_tmp); }
    if (!st) {
      ::unlink(sum_tmp.c_str());
      return st;
    }
    if (::rename(tmp_path.c_str(), final_path.c_str()) != 0) { return io_error("rename", tmp_path); }
    if (config_.fsync) { return fsync_dir(dir); }
    return {};
  }

  LocalFsConfig config_;
};

}  // namespace

std::string new_blob_key() { return crypto::random_hex(16); }

bool valid_blob_key(std::string_view key) {
  if (key.size() < 8 || key.size() > 128) { return false; }
  for (char c : key) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!ok) { return false; }
  }
  return true;
}

std::string crc32c_checksum(std::uint32_t crc) {
  char text[16];
  std::snprintf(text, sizeof text, "%08x", crc);
  return std::string("crc32c:") + text;
}

Result<std::unique_ptr<BlobStore>> open_localfs_blob_store(const LocalFsConfig& config) {
  auto store = std::make_unique<LocalFsBlobStore>(config);
  if (auto st = store->init(); !st) { return st.error(); }
  return std::unique_ptr<BlobStore>(std::move(store));
}

}  // namespace ciel::store
