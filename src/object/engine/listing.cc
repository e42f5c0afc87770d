#include "object/engine/listing.h"

#include <algorithm>
#include <cstdint>
#include <utility>

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

namespace {

// The UTF-8 encoding of code point `cp`.
std::string encode_utf8(std::uint32_t cp) {
  std::string out;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xc0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xe0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  }
  return out;
}

// The last character of `s` when it is a well-formed UTF-8 sequence: its code point and length.
std::optional<std::pair<std::uint32_t, std::size_t>> last_code_point(std::string_view s) {
  std::size_t start = s.size();
  while (start > 0 && s.size() - start < 4) {
    --start;
    auto c = static_cast<unsigned char>(s[start]);
    if ((c & 0xc0) != 0x80) { break; }
  }
  if (start == s.size()) { return std::nullopt; }
  auto lead = static_cast<unsigned char>(s[start]);
  std::size_t len = s.size() - start;
  std::size_t want = lead < 0x80 ? 1 : (lead & 0xe0) == 0xc0 ? 2 : (lead & 0xf0) == 0xe0 ? 3 : (lead & 0xf8) == 0xf0 ? 4 : 0;
  if (want != len) { return std::nullopt; }
  std::uint32_t cp = len == 1 ? lead : len == 2 ? (lead & 0x1f) : len == 3 ? (lead & 0x0f) : (lead & 0x07);
  for (std::size_t i = start + 1; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if ((c & 0xc0) != 0x80) { return std::nullopt; }
    cp = (cp << 6) | (c & 0x3f);
  }
  if (encode_utf8(cp) != s.substr(start)) { return std::nullopt; }  // overlong
  return std::pair{cp, len};
}

}  // namespace

std::optional<std::string> prefix_successor(std::string_view prefix) {
  // For UTF-8 text the successor is the prefix with its last character replaced by the next
  // code point: it is valid UTF-8 (PostgreSQL refuses anything else as text) and, since UTF-8
  // preserves code point order bytewise and no encoding is a prefix of another, it is above
  // every string that starts with the prefix and below every other string above them.
  std::string s(prefix);
  while (!s.empty()) {
    if (auto last = last_code_point(s)) {
      auto [cp, len] = *last;
      s.resize(s.size() - len);
      std::uint32_t next = cp + 1;
      if (next >= 0xd800 && next <= 0xdfff) { next = 0xe000; }  // no surrogates
      if (next <= 0x10ffff) { return s + encode_utf8(next); }
      continue;  // U+10FFFF: carry into the character before
    }
    // Not UTF-8 (names are, but the helper is total): increment the last byte.
    if (static_cast<unsigned char>(s.back()) == 0xff) {
      s.pop_back();
      continue;
    }
    s.back() = static_cast<char>(static_cast<unsigned char>(s.back()) + 1);
    return s;
  }
  return std::nullopt;
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
