// Fuzzes SLO manifests (object/swift/slo.h): the input is a manifest PUT body and, separately, a
// stored manifest. An accepted PUT manifest names objects (never the manifest itself) with
// satisfiable ranges; the stored form renders and parses back to the same segments.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "object/swift/slo.h"

namespace {

namespace sw = ciel::object::swift;
using ciel::Errc;

constexpr std::string_view kSelf = "/c/self";

void check_round_trip(const std::vector<sw::SloSegment>& segments) {
  std::string text = sw::render_slo_manifest(segments);
  for (char c : text) { FUZZ_CHECK(c >= 0x20 && c < 0x7f); }
  auto back = sw::parse_slo_stored_manifest(text);
  FUZZ_CHECK(back);
  FUZZ_CHECK(*back == segments);
  FUZZ_CHECK(sw::render_slo_manifest(*back) == text);
  FUZZ_CHECK(sw::slo_etag(*back) == sw::slo_etag(segments));
  FUZZ_CHECK(sw::slo_etag(segments).size() == 32);
  std::uint64_t total = 0;
  for (const auto& s : segments) {
    std::uint64_t len = sw::slo_segment_length(s);
    if (!s.range) { FUZZ_CHECK(len == s.bytes); }
    total += len;
  }
  FUZZ_CHECK(sw::slo_total_size(segments) == total);
}

void check_put(std::string_view text) {
  auto specs = sw::parse_slo_put_manifest(text, 50, kSelf);
  if (!specs) {
    FUZZ_CHECK(specs.error().code == Errc::invalid_argument || specs.error().code == Errc::too_large);
    FUZZ_CHECK(!specs.error().message.empty());
    if (specs.error().code == Errc::invalid_argument) { FUZZ_CHECK(specs.error().message.back() == '\n'); }
    return;
  }
  FUZZ_CHECK(specs->size() <= 50);
  std::vector<sw::SloSegment> stored;
  for (std::size_t i = 0; i < specs->size(); ++i) {
    const auto& s = (*specs)[i];
    FUZZ_CHECK(s.path.size() >= 4 && s.path[0] == '/' && s.path[1] != '/');
    FUZZ_CHECK(s.path.find('/', 1) != std::string::npos);
    FUZZ_CHECK(s.path != kSelf);
    if (s.size_bytes && i + 1 < specs->size()) { FUZZ_CHECK(*s.size_bytes >= 1); }
    sw::SloSegment seg{s.path, s.etag.value_or("etag"), s.size_bytes.value_or(1000), "application/octet-stream",
                       "2026-11-29T20:00:00.000000", std::nullopt, i % 2 == 1};
    if (s.range) {
      FUZZ_CHECK(s.range->first || s.range->last);
      if (s.range->first && s.range->last) { FUZZ_CHECK(*s.range->first <= *s.range->last); }
      auto r = sw::resolve_slo_range(*s.range, seg.bytes);
      if (s.size_bytes) { FUZZ_CHECK(r); }  // checked against a given size already
      if (r) {
        FUZZ_CHECK(r->first <= r->second && r->second < seg.bytes);
        seg.range = std::to_string(r->first) + "-" + std::to_string(r->second);
      }
    }
    stored.push_back(std::move(seg));
  }
  check_round_trip(stored);
}

void check_stored(std::string_view text) {
  auto segments = sw::parse_slo_stored_manifest(text);
  if (!segments) {
    FUZZ_CHECK(segments.error().code == Errc::internal);
    return;
  }
  check_round_trip(*segments);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  check_put(text);
  check_stored(text);
  return 0;
}
