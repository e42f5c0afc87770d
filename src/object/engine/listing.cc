#include "object/engine/listing.h"

#include <algorithm>

namespace ciel::object {
namespace {

void tighten_lt(ListWindow& w, const std::string& v) {
  if (!w.lt || v < *w.lt) { w.lt = v; }
}
void tighten_ge(ListWindow& w, const std::string& v) {
  if (!w.ge || v > *w.ge) { w.ge = v; }
}
void tighten_gt(ListWindow& w, const std::string& v) {
  if (!w.gt || v > *w.gt) { w.gt = v; }
}

}  // namespace

std::optional<std::string> prefix_successor(std::string_view prefix) {
  std::string s(prefix);
  while (!s.empty() && static_cast<unsigned char>(s.back()) == 0xff) { s.pop_back(); }
  if (s.empty()) { return std::nullopt; }
  s.back() = static_cast<char>(static_cast<unsigned char>(s.back()) + 1);
  return s;
}

Result<Listing> run_listing(const ListQuery& q, const ListFetch& fetch) {
  Listing out;
  if (q.limit == 0) { return out; }
  ListWindow w;
  w.descending = q.reverse;
  if (!q.prefix.empty()) {
    w.ge = q.prefix;
    if (auto succ = prefix_successor(q.prefix)) { w.lt = *succ; }
  }
  // Forward: after the marker, before the end marker. Reverse (Swift's reverse=true): before the
  // marker, after the end marker.
  if (!q.reverse) {
    if (!q.marker.empty()) { tighten_gt(w, q.marker); }
    if (!q.end_marker.empty()) { tighten_lt(w, q.end_marker); }
  } else {
    if (!q.marker.empty()) { tighten_lt(w, q.marker); }
    if (!q.end_marker.empty()) { tighten_gt(w, q.end_marker); }
  }
  const bool rolling = !q.delimiter.empty();
  for (;;) {
    if (w.lt && ((w.ge && *w.ge >= *w.lt) || (w.gt && *w.gt >= *w.lt))) { return out; }
    std::size_t want = q.limit - out.entries.size();
    // With a delimiter the scan restarts after each common prefix, so read small batches.
    std::size_t batch = rolling ? std::min<std::size_t>(want + 1, 64) : std::min<std::size_t>(want + 1, 1000);
    auto rows = fetch(w, batch);
    if (!rows) { return rows.error(); }
    if (rows->empty()) { return out; }
    bool restarted = false;
    for (auto& row : *rows) {
      if (out.entries.size() == q.limit) {
        out.truncated = true;
        return out;
      }
      if (rolling) {
        auto pos = row.name.find(q.delimiter, q.prefix.size());
        if (pos != std::string::npos) {
          std::string common = row.name.substr(0, pos + q.delimiter.size());
          if (common != q.marker) {
            ListEntry e;
            e.name = common;
            e.is_prefix = true;
            out.entries.push_back(std::move(e));
          }
          if (!q.reverse) {
            auto succ = prefix_successor(common);
            if (!succ) { return out; }
            tighten_ge(w, *succ);
          } else {
            tighten_lt(w, common);
          }
          restarted = true;
          break;
        }
      }
      if (!q.reverse) {
        tighten_gt(w, row.name);
      } else {
        tighten_lt(w, row.name);
      }
      out.entries.push_back(std::move(row));
    }
    if (!restarted && rows->size() < batch) {
      return out;
    }
  }
}

}  // namespace ciel::object
