#include "object/swift/large_object.h"

#include "core/crypto/crypto.h"

namespace ciel::object::swift {
namespace {

using boost::asio::awaitable;

constexpr std::size_t kMaxDloSegments = 10000;

awaitable<Result<LargeObject>> assemble_dlo(const Deps& deps, const Access& access, const std::string& project, const ObjectInfo& m) {
  LargeObject large;
  auto slash = m.manifest_value.find('/');
  std::string container = m.manifest_value.substr(0, slash);
  ListQuery q;
  q.prefix = m.manifest_value.substr(slash + 1);
  q.limit = kMaxDloSegments;
  auto listing = co_await deps.objects.list_objects(access, project, container, q);
  if (!listing) {
    if (listing.error().code == Errc::not_found) { co_return LargeObject{}; }  // no segments yet: an empty object
    co_return listing.error();
  }
  crypto::Hasher md5(crypto::Digest::md5);
  for (const auto& e : listing->entries) {
    auto seg = co_await deps.objects.head_object(access, project, container, e.name);
    if (!seg) {
      if (seg.error().code == Errc::not_found) { continue; }  // deleted since the listing
      co_return seg.error();
    }
    if (seg->manifest != ManifestKind::none) { continue; }  // no nesting of DLOs
    md5.update(seg->etag);
    large.size += seg->size;
    std::uint64_t len = seg->size;
    large.segments.push_back({std::move(*seg), 0, len});
  }
  large.etag = crypto::hex(md5.finish());
  co_return large;
}

}  // namespace

awaitable<Result<LargeObject>> assemble_large_object(const Deps& deps, const Access& access, const std::string& project,
                                                     const ObjectInfo& manifest) {
  Access segments = access;
  segments.large_object_read = true;  // a signed request reads the segments as part of this object
  if (manifest.manifest == ManifestKind::dlo) { co_return co_await assemble_dlo(deps, segments, project, manifest); }
  co_return co_await assemble_slo(deps, segments, project, manifest);
}

awaitable<Result<std::unique_ptr<ByteSource>>> open_large_object(const Deps& deps, const LargeObject& large, std::uint64_t offset,
                                                                 std::uint64_t length) {
  std::vector<std::unique_ptr<ByteSource>> parts;
  std::uint64_t pos = 0, end = offset + length;
  for (const auto& s : large.segments) {
    std::uint64_t ps = pos, pe = pos + s.length;
    pos = pe;
    if (pe <= offset || ps >= end || s.length == 0) { continue; }
    std::uint64_t from = std::max(ps, offset), to = std::min(pe, end);
    auto src = co_await deps.objects.open_object(s.object, s.offset + (from - ps), to - from);
    if (!src) { co_return src.error(); }
    parts.push_back(std::move(*src));
  }
  co_return std::unique_ptr<ByteSource>(std::make_unique<ConcatSource>(std::move(parts)));
}

}  // namespace ciel::object::swift
