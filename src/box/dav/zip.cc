// Zip archives streamed on the fly (zip.h), and the folder download built on them (serve_zip in
// common.h). Layout: APPNOTE.TXT 6.3.10, sections 4.3 (records), 4.4 (fields) and 4.5 (extra
// fields).
#include "box/dav/zip.h"

#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <limits>

#include "box/dav/common.h"
#include "core/http/target.h"

namespace ciel::box::dav {
namespace {

using boost::asio::awaitable;

constexpr std::uint64_t kMax32 = 0xFFFFFFFF;  // a 32-bit field that says "see the ZIP64 extra field"
constexpr std::uint64_t kMax16 = 0xFFFF;
constexpr std::uint16_t kFlags = 0x0008 | 0x0800;  // data descriptor, UTF-8 names
constexpr std::uint16_t kMadeBy = (3 << 8) | 45;   // UNIX, APPNOTE 4.5
constexpr std::uint64_t kLocalHeader = 30, kCentralHeader = 46, kEnd = 22, kEnd64 = 56, kLocator64 = 20;
constexpr std::uint64_t kTimestampExtra = 9;  // 0x5455: tag, length, flags, mtime

// A size that needs the ZIP64 fields (0xFFFFFFFF itself is the marker, so it does too).
bool big(std::uint64_t v) { return v >= kMax32; }
bool has_timestamp(const ZipEntry& e) { return e.mtime >= 0 && e.mtime <= std::numeric_limits<std::int32_t>::max(); }
bool is_folder(const ZipEntry& e) { return !e.name.empty() && e.name.back() == '/'; }

std::uint64_t local_extra(const ZipEntry& e) { return (big(e.size) ? 20 : 0) + (has_timestamp(e) ? kTimestampExtra : 0); }
std::uint64_t descriptor_size(const ZipEntry& e) { return big(e.size) ? 24 : 16; }
// Header, content and data descriptor.
std::uint64_t local_size(const ZipEntry& e) { return kLocalHeader + e.name.size() + local_extra(e) + e.size + descriptor_size(e); }
std::uint64_t central_extra(const ZipEntry& e, std::uint64_t offset) {
  std::uint64_t zip64 = (big(e.size) ? 16 : 0) + (big(offset) ? 8 : 0);
  return (zip64 > 0 ? 4 + zip64 : 0) + (has_timestamp(e) ? kTimestampExtra : 0);
}
std::uint64_t central_size(const ZipEntry& e, std::uint64_t offset) { return kCentralHeader + e.name.size() + central_extra(e, offset); }
bool needs_end64(std::uint64_t count, std::uint64_t cd_offset, std::uint64_t cd_size) {
  return count >= kMax16 || big(cd_offset) || big(cd_size);
}

void put16(std::string& out, std::uint64_t v) {
  out += static_cast<char>(v & 0xFF);
  out += static_cast<char>((v >> 8) & 0xFF);
}
void put32(std::string& out, std::uint64_t v) {
  put16(out, v & 0xFFFF);
  put16(out, (v >> 16) & 0xFFFF);
}
void put64(std::string& out, std::uint64_t v) {
  put32(out, v & kMax32);
  put32(out, v >> 32);
}

// MS-DOS date and time (2-second steps, 1980 to 2107), from unix seconds read as UTC.
std::pair<std::uint16_t, std::uint16_t> dos_time(std::int64_t unix_s) {
  using namespace std::chrono;
  constexpr std::int64_t kFirst = 315532800;   // 1980-01-01 00:00:00
  constexpr std::int64_t kLast = 4354819198;  // 2107-12-31 23:59:58
  sys_seconds t{seconds{std::clamp(unix_s, kFirst, kLast)}};
  auto day = floor<days>(t);
  year_month_day ymd{day};
  hh_mm_ss hms{t - day};
  auto time = static_cast<std::uint16_t>(hms.hours().count() << 11 | hms.minutes().count() << 5 | hms.seconds().count() / 2);
  auto date = static_cast<std::uint16_t>((static_cast<int>(ymd.year()) - 1980) << 9 | static_cast<unsigned>(ymd.month()) << 5 |
                                         static_cast<unsigned>(ymd.day()));
  return {time, date};
}

void put_timestamp(std::string& out, const ZipEntry& e) {
  if (!has_timestamp(e)) { return; }
  put16(out, 0x5455);
  put16(out, 5);
  out += '\x01';  // the modification time is present
  put32(out, static_cast<std::uint64_t>(e.mtime));
}

std::string local_header(const ZipEntry& e) {
  std::string out;
  auto [time, date] = dos_time(e.mtime);
  put32(out, 0x04034b50);
  put16(out, big(e.size) ? 45 : 20);
  put16(out, kFlags);
  put16(out, 0);  // stored
  put16(out, time);
  put16(out, date);
  put32(out, 0);  // CRC-32 and sizes: in the data descriptor
  put32(out, big(e.size) ? kMax32 : 0);
  put32(out, big(e.size) ? kMax32 : 0);
  put16(out, e.name.size());
  put16(out, local_extra(e));
  out += e.name;
  if (big(e.size)) {  // the local ZIP64 field holds both sizes, here zero like the 32-bit ones
    put16(out, 0x0001);
    put16(out, 16);
    put64(out, 0);
    put64(out, 0);
  }
  put_timestamp(out, e);
  return out;
}

std::string data_descriptor(const ZipEntry& e, std::uint32_t crc) {
  std::string out;
  put32(out, 0x08074b50);
  put32(out, crc);
  if (big(e.size)) {  // 8-byte sizes since the local header has a ZIP64 field (4.3.9.2)
    put64(out, e.size);
    put64(out, e.size);
  } else {
    put32(out, e.size);
    put32(out, e.size);
  }
  return out;
}

std::string central_header(const ZipEntry& e, std::uint32_t crc, std::uint64_t offset) {
  std::string out;
  auto [time, date] = dos_time(e.mtime);
  put32(out, 0x02014b50);
  put16(out, kMadeBy);
  put16(out, big(e.size) || big(offset) ? 45 : 20);
  put16(out, kFlags);
  put16(out, 0);
  put16(out, time);
  put16(out, date);
  put32(out, crc);
  put32(out, std::min(e.size, kMax32));
  put32(out, std::min(e.size, kMax32));
  put16(out, e.name.size());
  put16(out, central_extra(e, offset));
  put16(out, 0);  // comment
  put16(out, 0);  // disk
  put16(out, 0);  // internal attributes
  // UNIX mode in the high half; MS-DOS's directory bit for folders.
  put32(out, is_folder(e) ? (040755u << 16) | 0x10 : (0100644u << 16));
  put32(out, std::min(offset, kMax32));
  out += e.name;
  if (big(e.size) || big(offset)) {  // only the fields whose 32-bit field says 0xFFFFFFFF, in order
    put16(out, 0x0001);
    put16(out, (big(e.size) ? 16 : 0) + (big(offset) ? 8 : 0));
    if (big(e.size)) {
      put64(out, e.size);
      put64(out, e.size);
    }
    if (big(offset)) { put64(out, offset); }
  }
  put_timestamp(out, e);
  return out;
}

std::string end_records(std::uint64_t count, std::uint64_t cd_offset, std::uint64_t cd_size) {
  std::string out;
  if (needs_end64(count, cd_offset, cd_size)) {
    std::uint64_t end64_offset = cd_offset + cd_size;
    put32(out, 0x06064b50);
    put64(out, kEnd64 - 12);  // the record's size after this field
    put16(out, kMadeBy);
    put16(out, 45);
    put32(out, 0);
    put32(out, 0);
    put64(out, count);
    put64(out, count);
    put64(out, cd_size);
    put64(out, cd_offset);
    put32(out, 0x07064b50);
    put32(out, 0);
    put64(out, end64_offset);
    put32(out, 1);  // disks
  }
  put32(out, 0x06054b50);
  put16(out, 0);
  put16(out, 0);
  put16(out, std::min(count, kMax16));
  put16(out, std::min(count, kMax16));
  put32(out, std::min(cd_size, kMax32));
  put32(out, std::min(cd_offset, kMax32));
  put16(out, 0);  // comment
  return out;
}

class ZipSource final : public ByteSource {
 public:
  ZipSource(std::vector<ZipEntry> entries, ZipOpener open)
      : entries_(std::move(entries)), open_(std::move(open)), length_(zip_length(entries_)) {
    crcs_.resize(entries_.size());
    offsets_.resize(entries_.size());
  }

  std::optional<std::uint64_t> size() const override { return length_; }

  awaitable<Result<std::size_t>> read(std::span<char> buf) override {
    std::size_t n = 0;
    while (n < buf.size()) {
      if (pending_pos_ < pending_.size()) {
        std::size_t k = std::min(buf.size() - n, pending_.size() - pending_pos_);
        std::memcpy(buf.data() + n, pending_.data() + pending_pos_, k);
        pending_pos_ += k;
        n += k;
        continue;
      }
      pending_.clear();
      pending_pos_ = 0;
      switch (phase_) {
        case Phase::local: {
          if (index_ == entries_.size()) {
            phase_ = Phase::central;
            index_ = 0;
            cd_offset_ = pos_;
            break;
          }
          const ZipEntry& e = entries_[index_];
          offsets_[index_] = pos_;
          pending_ = local_header(e);
          pos_ += pending_.size();
          crc_ = crc32_z(0, nullptr, 0);
          left_ = e.size;
          if (left_ > 0) {
            auto src = co_await open_(index_);
            if (!src) { co_return src.error(); }
            content_ = std::move(*src);
          }
          phase_ = Phase::data;
          break;
        }
        case Phase::data: {
          if (left_ > 0) {
            std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(left_, buf.size() - n));
            auto got = co_await content_->read(buf.subspan(n, want));
            if (!got) { co_return got.error(); }
            if (*got == 0) {
              co_return make_error(Errc::unavailable, "A file's content ended early", "zip entry " + entries_[index_].name);
            }
            crc_ = crc32_z(crc_, reinterpret_cast<const Bytef*>(buf.data() + n), *got);
            left_ -= *got;
            pos_ += *got;
            n += *got;
            break;
          }
          content_.reset();
          crcs_[index_] = static_cast<std::uint32_t>(crc_);
          pending_ = data_descriptor(entries_[index_], crcs_[index_]);
          pos_ += pending_.size();
          ++index_;
          phase_ = Phase::local;
          break;
        }
        case Phase::central: {
          if (index_ == entries_.size()) {
            pending_ = end_records(entries_.size(), cd_offset_, pos_ - cd_offset_);
            phase_ = Phase::done;
          } else {
            pending_ = central_header(entries_[index_], crcs_[index_], offsets_[index_]);
            ++index_;
          }
          pos_ += pending_.size();
          break;
        }
        case Phase::done: co_return n;
      }
    }
    co_return n;
  }

 private:
  enum class Phase { local, data, central, done };
  std::vector<ZipEntry> entries_;
  ZipOpener open_;
  std::uint64_t length_;
  std::vector<std::uint32_t> crcs_;
  std::vector<std::uint64_t> offsets_;
  Phase phase_ = Phase::local;
  std::size_t index_ = 0;
  std::uint64_t pos_ = 0, cd_offset_ = 0, left_ = 0;
  unsigned long crc_ = 0;
  std::unique_ptr<ByteSource> content_;
  std::string pending_;
  std::size_t pending_pos_ = 0;
};

}  // namespace

std::uint64_t zip_length(const std::vector<ZipEntry>& entries) {
  std::uint64_t offset = 0;
  std::uint64_t cd_size = 0;
  for (const auto& e : entries) {
    cd_size += central_size(e, offset);
    offset += local_size(e);
  }
  return offset + cd_size + (needs_end64(entries.size(), offset, cd_size) ? kEnd64 + kLocator64 : 0) + kEnd;
}

std::unique_ptr<ByteSource> make_zip_source(std::vector<ZipEntry> entries, ZipOpener open) {
  return std::make_unique<ZipSource>(std::move(entries), std::move(open));
}

// --- a folder of the box as a zip -----------------------------------------------------------------

namespace {

// What the archive needs to open a file's content when it reaches it.
struct FileRef {
  std::int64_t id = 0, content_id = 0;
  std::uint64_t size = 0;
};

awaitable<Result<std::unique_ptr<ByteSource>>> open_file(BoxService& box, Node node) {
  co_return co_await box.open(node, 0, node.size);
}

// An entry name from a box path: APPNOTE 4.4.17 allows only '/' between segments, so a backslash that
// a name may hold becomes '_' (no extractor can read it as a separator).
std::string entry_name(std::string_view path) {
  std::string out(path);
  std::replace(out.begin(), out.end(), '\\', '_');
  return out;
}

}  // namespace

bool wants_zip(const http::Request& req) {
  if (auto q = req.query_param("accept"); q && *q == "zip") { return true; }
  std::string_view accept = req.header("Accept");
  for (std::size_t i = 0; i + 15 <= accept.size(); ++i) {
    if (http::iequals(accept.substr(i, 15), "application/zip")) { return true; }
  }
  return false;
}

awaitable<http::Response> serve_zip(const Deps& deps, const http::Request& req, const Lister& list, const std::string& path) {
  auto top = co_await list(path);
  if (!top) { co_return error_response(top.error(), req); }
  const Node& root = top->first;
  // Entries are named from the folder down: "<folder>/a/b.txt" (the box's root has no name: "a/b.txt").
  std::string prefix = root.name.empty() ? std::string() : entry_name(root.name) + "/";
  std::vector<ZipEntry> entries;
  std::vector<FileRef> files;  // by entry index (folders: unused)
  auto add = [&](std::string name, const Node& n) -> Status {
    if (entries.size() >= kMaxZipEntries) {
      return make_error(Errc::too_large, "This folder holds more than " + std::to_string(kMaxZipEntries) +
                                             " files and folders; download it with a sync client");
    }
    if (name.size() > kMax16) { return make_error(Errc::too_large, "A path in this folder is too long for a zip archive"); }
    entries.push_back(ZipEntry{std::move(name), n.folder ? 0 : n.size, n.mtime});
    files.push_back(FileRef{n.id, n.content_id, n.folder ? 0 : n.size});
    return {};
  };
  if (!prefix.empty()) {
    if (auto st = add(prefix, root); !st) { co_return error_response(st.error(), req); }
  }
  // Depth first in name order, each folder's entry before what it holds. A subfolder removed
  // since its parent was listed is left empty.
  struct Level {
    std::vector<Node> children;
    std::size_t next = 0;
  };
  std::vector<Level> stack;
  stack.push_back(Level{std::move(top->second)});
  while (!stack.empty()) {
    if (stack.back().next == stack.back().children.size()) {
      stack.pop_back();
      continue;
    }
    Node c = std::move(stack.back().children[stack.back().next++]);
    std::string_view rel = c.path;
    if (!path.empty()) { rel.remove_prefix(std::min(rel.size(), path.size() + 1)); }
    std::string name = prefix + entry_name(rel);
    if (c.folder) { name += '/'; }
    if (auto st = add(std::move(name), c); !st) { co_return error_response(st.error(), req); }
    if (!c.folder) { continue; }
    auto sub = co_await list(c.path);
    if (!sub) {
      if (sub.error().code == Errc::not_found) { continue; }
      co_return error_response(sub.error(), req);
    }
    stack.push_back(Level{std::move(sub->second)});
  }

  std::string archive = (root.name.empty() ? std::string("download") : root.name) + ".zip";
  http::Response res(http::Status::ok);
  res.set_header("Content-Type", "application/zip");
  res.set_header("Content-Disposition", "attachment; filename*=UTF-8''" + http::percent_encode(archive));
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("Cache-Control", "no-store");
  std::uint64_t length = zip_length(entries);
  if (req.method == http::Method::head) {
    res.set_content_length_only(length);
    co_return res;
  }
  ZipOpener open = [&box = deps.box, owner = root.owner, files = std::move(files)](std::size_t i) {
    Node n;
    n.id = files[i].id;
    n.owner = owner;
    n.content_id = files[i].content_id;
    n.size = files[i].size;
    return open_file(box, std::move(n));
  };
  res.set_stream(make_zip_source(std::move(entries), std::move(open)), length);
  co_return res;
}

}  // namespace ciel::box::dav
