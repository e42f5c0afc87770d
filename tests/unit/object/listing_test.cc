// run_listing() over an in-memory index: a sorted vector of names behind a fake `fetch` that
// honours the window and the limit exactly as the SQL range scan does, and records what each
// scan returned, so the tests see both the listing and how much of the index it read.
#include "object/engine/listing.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <random>
#include <string>
#include <vector>

namespace ciel::object {
namespace {

class FakeIndex {
 public:
  explicit FakeIndex(std::vector<std::string> names) : names_(std::move(names)) { std::sort(names_.begin(), names_.end()); }

  ListFetch fetch() {
    return [this](const ListWindow& w, std::size_t limit) -> Result<std::vector<ListEntry>> {
      EXPECT_GT(limit, 0u) << "a scan for no rows";
      windows_.push_back(w);
      std::vector<ListEntry> out;
      auto take = [&](const std::string& n) {
        if (w.gt && !(*w.gt < n)) { return true; }
        if (w.ge && n < *w.ge) { return true; }
        if (w.lt && !(n < *w.lt)) { return true; }
        if (out.size() == limit) { return false; }
        ListEntry e;
        e.name = n;
        e.size = n.size();
        out.push_back(std::move(e));
        return true;
      };
      if (w.descending) {
        for (auto it = names_.rbegin(); it != names_.rend() && take(*it);) { ++it; }
      } else {
        for (auto it = names_.begin(); it != names_.end() && take(*it);) { ++it; }
      }
      returned_.push_back(out.size());
      return out;
    };
  }

  std::size_t rows_fetched() const {
    std::size_t n = 0;
    for (auto r : returned_) { n += r; }
    return n;
  }
  std::size_t scans() const { return returned_.size(); }
  const std::vector<ListWindow>& windows() const { return windows_; }
  const std::vector<std::string>& names() const { return names_; }

 private:
  std::vector<std::string> names_;
  std::vector<std::size_t> returned_;
  std::vector<ListWindow> windows_;
};

std::string subdir_of(const std::string& name) { return "subdir:" + name; }

// Objects by name, common prefixes as "subdir:<name>".
std::vector<std::string> render(const Listing& l) {
  std::vector<std::string> out;
  for (const auto& e : l.entries) { out.push_back(e.is_prefix ? subdir_of(e.name) : e.name); }
  return out;
}

Listing list(FakeIndex& index, const ListQuery& q) {
  auto r = run_listing(q, index.fetch());
  EXPECT_TRUE(r) << r.error().message;
  return r ? *r : Listing{};
}

ListQuery query(std::string prefix = {}, std::string delimiter = {}, std::string marker = {}, std::string end_marker = {},
                std::size_t limit = 10000, bool reverse = false) {
  ListQuery q;
  q.prefix = std::move(prefix);
  q.delimiter = std::move(delimiter);
  q.marker = std::move(marker);
  q.end_marker = std::move(end_marker);
  q.limit = limit;
  q.reverse = reverse;
  return q;
}

using Names = std::vector<std::string>;

// Swift's container listing, the slow and obvious way: filter every name, roll up, cut.
Listing naive_listing(Names names, const ListQuery& q) {
  std::sort(names.begin(), names.end());
  if (q.reverse) { std::reverse(names.begin(), names.end()); }
  std::vector<ListEntry> all;
  for (const auto& n : names) {
    if (!n.starts_with(q.prefix)) { continue; }
    if (!q.reverse) {
      if (!q.marker.empty() && !(q.marker < n)) { continue; }
      if (!q.end_marker.empty() && !(n < q.end_marker)) { continue; }
    } else {
      if (!q.marker.empty() && !(n < q.marker)) { continue; }
      if (!q.end_marker.empty() && !(q.end_marker < n)) { continue; }
    }
    ListEntry e;
    e.name = n;
    if (!q.delimiter.empty()) {
      auto pos = n.find(q.delimiter, q.prefix.size());
      if (pos != std::string::npos) {
        e.name = n.substr(0, pos + q.delimiter.size());
        e.is_prefix = true;
        if (e.name == q.marker) { continue; }
        if (!all.empty() && all.back().is_prefix && all.back().name == e.name) { continue; }
      }
    }
    all.push_back(std::move(e));
  }
  Listing out;
  out.truncated = all.size() > q.limit;
  if (out.truncated) { all.resize(q.limit); }
  out.entries = std::move(all);
  return out;
}

// --- prefix_successor --------------------------------------------------------------------------

TEST(PrefixSuccessor, IsTheSmallestStringPastThePrefix) {
  EXPECT_EQ(prefix_successor("abc"), std::optional<std::string>("abd"));
  EXPECT_EQ(prefix_successor("a/"), std::optional<std::string>("a0"));
  EXPECT_EQ(prefix_successor("a\xff"), std::optional<std::string>("b"));
  EXPECT_EQ(prefix_successor("a\xfe"), std::optional<std::string>("a\xff"));
  EXPECT_EQ(prefix_successor("a\xff\xff"), std::optional<std::string>("b"));
  EXPECT_EQ(prefix_successor(std::string("\x7f")), std::optional<std::string>("\x80"));
  EXPECT_EQ(prefix_successor(""), std::nullopt);
  EXPECT_EQ(prefix_successor("\xff"), std::nullopt);
  EXPECT_EQ(prefix_successor("\xff\xff\xff"), std::nullopt);
  // Every string that starts with the prefix sorts below the successor, bytewise.
  for (std::string p : {"a", "a\xff", "zz\x7f", "\xc3\xa9"}) {
    auto s = prefix_successor(p);
    ASSERT_TRUE(s);
    for (std::string tail : {"", "\xff\xff\xff", "zzz", "\x01"}) { EXPECT_LT(p + tail, *s) << p << tail; }
    EXPECT_FALSE(s->starts_with(p));
  }
}

// --- plain listings ----------------------------------------------------------------------------

TEST(RunListing, ListsEverythingInOrder) {
  FakeIndex index({"b", "a", "c/d", "c", "ab"});
  auto l = list(index, query());
  EXPECT_EQ(render(l), (Names{"a", "ab", "b", "c", "c/d"}));
  EXPECT_FALSE(l.truncated);
  EXPECT_EQ(l.entries[1].size, 2u);  // rows come back whole
}

TEST(RunListing, EmptyIndexAndZeroLimit) {
  FakeIndex empty({});
  auto l = list(empty, query());
  EXPECT_TRUE(l.entries.empty());
  EXPECT_FALSE(l.truncated);

  FakeIndex index({"a", "b"});
  l = list(index, query("", "", "", "", 0));
  EXPECT_TRUE(l.entries.empty());
  EXPECT_EQ(index.scans(), 0u);
}

TEST(RunListing, Prefix) {
  FakeIndex index({"a", "ab", "abc", "abd/x", "ac", "b", "aa"});
  EXPECT_EQ(render(list(index, query("ab"))), (Names{"ab", "abc", "abd/x"}));
  EXPECT_EQ(render(list(index, query("abc"))), (Names{"abc"}));
  EXPECT_EQ(render(list(index, query("x"))), (Names{}));
  EXPECT_EQ(render(list(index, query("a", "", "", "", 10000, true))), (Names{"ac", "abd/x", "abc", "ab", "aa", "a"}));
  // The scans never leave the prefix's range.
  for (const auto& w : index.windows()) {
    EXPECT_TRUE(w.ge || w.gt);
    EXPECT_TRUE(w.lt);
  }
}

TEST(RunListing, MarkerAndEndMarker) {
  FakeIndex index({"a", "b", "c", "d", "e"});
  EXPECT_EQ(render(list(index, query("", "", "b"))), (Names{"c", "d", "e"}));          // strictly after the marker
  EXPECT_EQ(render(list(index, query("", "", "bb"))), (Names{"c", "d", "e"}));         // the marker need not exist
  EXPECT_EQ(render(list(index, query("", "", "", "d"))), (Names{"a", "b", "c"}));      // strictly before the end marker
  EXPECT_EQ(render(list(index, query("", "", "a", "e"))), (Names{"b", "c", "d"}));
  EXPECT_EQ(render(list(index, query("", "", "d", "b"))), (Names{}));                  // an empty window
  EXPECT_EQ(render(list(index, query("", "", "c", "c"))), (Names{}));
  EXPECT_EQ(render(list(index, query("", "", "e"))), (Names{}));
}

TEST(RunListing, LimitAndTruncatedFlag) {
  FakeIndex index({"a", "b", "c", "d", "e"});
  auto l = list(index, query("", "", "", "", 3));
  EXPECT_EQ(render(l), (Names{"a", "b", "c"}));
  EXPECT_TRUE(l.truncated);
  // The next page starts at the last name.
  l = list(index, query("", "", "c", "", 3));
  EXPECT_EQ(render(l), (Names{"d", "e"}));
  EXPECT_FALSE(l.truncated);
  // Exactly as many rows as the limit: nothing follows.
  l = list(index, query("", "", "", "", 5));
  EXPECT_EQ(l.entries.size(), 5u);
  EXPECT_FALSE(l.truncated);
  l = list(index, query("", "", "", "", 4));
  EXPECT_TRUE(l.truncated);
  l = list(index, query("", "", "", "", 1));
  EXPECT_EQ(render(l), (Names{"a"}));
  EXPECT_TRUE(l.truncated);
  // The end marker cuts before the limit does.
  l = list(index, query("", "", "", "d", 3));
  EXPECT_EQ(render(l), (Names{"a", "b", "c"}));
  EXPECT_FALSE(l.truncated);
}

TEST(RunListing, LongListingPagesThroughSeveralScans) {
  Names names;
  for (int i = 0; i < 2500; ++i) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "obj%05d", i);
    names.push_back(buf);
  }
  FakeIndex index(names);
  auto l = list(index, query());
  ASSERT_EQ(l.entries.size(), names.size());
  EXPECT_FALSE(l.truncated);
  for (std::size_t i = 0; i < names.size(); ++i) { ASSERT_EQ(l.entries[i].name, names[i]); }
  EXPECT_GT(index.scans(), 1u);
  EXPECT_LE(index.rows_fetched(), names.size() + index.scans());  // no name read twice over

  FakeIndex index2(names);
  l = list(index2, query("", "", "", "", 2000));
  EXPECT_EQ(l.entries.size(), 2000u);
  EXPECT_TRUE(l.truncated);
  EXPECT_EQ(l.entries.back().name, "obj01999");
}

// --- reverse (Swift: descending; the marker bounds from above, the end marker from below) -----

TEST(RunListing, ReverseListsDescending) {
  FakeIndex index({"a", "b", "c", "d", "e"});
  auto l = list(index, query("", "", "", "", 10000, true));
  EXPECT_EQ(render(l), (Names{"e", "d", "c", "b", "a"}));
  EXPECT_FALSE(l.truncated);
  EXPECT_EQ(render(list(index, query("", "", "d", "", 10000, true))), (Names{"c", "b", "a"}));
  EXPECT_EQ(render(list(index, query("", "", "", "b", 10000, true))), (Names{"e", "d", "c"}));
  EXPECT_EQ(render(list(index, query("", "", "e", "a", 10000, true))), (Names{"d", "c", "b"}));
  EXPECT_EQ(render(list(index, query("", "", "b", "d", 10000, true))), (Names{}));
  l = list(index, query("", "", "", "", 2, true));
  EXPECT_EQ(render(l), (Names{"e", "d"}));
  EXPECT_TRUE(l.truncated);
  l = list(index, query("", "", "d", "", 2, true));  // the next page
  EXPECT_EQ(render(l), (Names{"c", "b"}));
  EXPECT_TRUE(l.truncated);
  for (const auto& w : index.windows()) { EXPECT_TRUE(w.descending); }
}

// --- delimiter ---------------------------------------------------------------------------------

TEST(RunListing, DelimiterRollsNamesUpIntoCommonPrefixes) {
  FakeIndex index({"a", "a/1", "a/2", "a/b/c", "b/", "b/x", "c", "d/e/f", "d/e/g"});
  auto l = list(index, query("", "/"));
  EXPECT_EQ(render(l), (Names{"a", "subdir:a/", "subdir:b/", "c", "subdir:d/"}));
  for (const auto& e : l.entries) {
    if (e.is_prefix) { EXPECT_EQ(e.size, 0u) << e.name; }
  }
  // Below a prefix, the roll-up starts after the prefix.
  EXPECT_EQ(render(list(index, query("a/", "/"))), (Names{"a/1", "a/2", "subdir:a/b/"}));
  EXPECT_EQ(render(list(index, query("d/", "/"))), (Names{"subdir:d/e/"}));
  EXPECT_EQ(render(list(index, query("d/e/", "/"))), (Names{"d/e/f", "d/e/g"}));
  // A name equal to the prefix is an object, not a common prefix.
  EXPECT_EQ(render(list(index, query("b/", "/"))), (Names{"b/", "b/x"}));
  // Reverse: the same groups, descending.
  EXPECT_EQ(render(list(index, query("", "/", "", "", 10000, true))), (Names{"subdir:d/", "c", "subdir:b/", "subdir:a/", "a"}));
  EXPECT_EQ(render(list(index, query("a/", "/", "", "", 10000, true))), (Names{"subdir:a/b/", "a/2", "a/1"}));
}

TEST(RunListing, CommonPrefixEqualToTheMarkerIsNotRepeated) {
  FakeIndex index({"a/1", "a/2", "b/1", "b/2", "c"});
  auto page1 = list(index, query("", "/", "", "", 1));
  EXPECT_EQ(render(page1), (Names{"subdir:a/"}));
  EXPECT_TRUE(page1.truncated);
  // The client pages on with marker = the last entry, a common prefix.
  auto page2 = list(index, query("", "/", "a/", "", 1));
  EXPECT_EQ(render(page2), (Names{"subdir:b/"}));
  EXPECT_TRUE(page2.truncated);
  auto page3 = list(index, query("", "/", "b/", "", 1));
  EXPECT_EQ(render(page3), (Names{"c"}));
  EXPECT_FALSE(page3.truncated);
  // A marker inside a group: the group's names after it still roll up.
  EXPECT_EQ(render(list(index, query("", "/", "a/1"))), (Names{"subdir:a/", "subdir:b/", "c"}));
  // Reverse, paging downwards from "c".
  EXPECT_EQ(render(list(index, query("", "/", "c", "", 10000, true))), (Names{"subdir:b/", "subdir:a/"}));
  EXPECT_EQ(render(list(index, query("", "/", "b/", "", 10000, true))), (Names{"subdir:a/"}));
}

TEST(RunListing, LimitCountsCommonPrefixes) {
  FakeIndex index({"a/1", "b/1", "c/1", "d"});
  auto l = list(index, query("", "/", "", "", 3));
  EXPECT_EQ(render(l), (Names{"subdir:a/", "subdir:b/", "subdir:c/"}));
  EXPECT_TRUE(l.truncated);
  l = list(index, query("", "/", "", "", 4));
  EXPECT_EQ(render(l), (Names{"subdir:a/", "subdir:b/", "subdir:c/", "d"}));
  EXPECT_FALSE(l.truncated);
  FakeIndex rolled_last({"a/1", "b/1", "c/1", "c/2"});
  l = list(rolled_last, query("", "/", "", "", 3));
  EXPECT_EQ(l.entries.size(), 3u);
  EXPECT_FALSE(l.truncated);  // "c/2" is inside the last common prefix: nothing follows
}

TEST(RunListing, MultiCharacterDelimiter) {
  FakeIndex index({"x--y--z", "x--w", "x-a", "x-", "y", "x----q"});
  EXPECT_EQ(render(list(index, query("", "--"))), (Names{"x-", "subdir:x--", "x-a", "y"}));
  EXPECT_EQ(render(list(index, query("x--", "--"))), (Names{"subdir:x----", "x--w", "subdir:x--y--"}));
  // A lone "-" is not the delimiter.
  EXPECT_EQ(render(list(index, query("x-a", "--"))), (Names{"x-a"}));
  EXPECT_EQ(render(list(index, query("", "--", "", "", 10000, true))), (Names{"y", "x-a", "subdir:x--", "x-"}));
}

TEST(RunListing, NamesWithFfBytes) {
  const std::string ff = "\xff";
  FakeIndex index({"a", "a" + ff, "a" + ff + ff + "x", "a" + ff + "/1", "a" + ff + "/2", "b", ff, ff + ff, ff + "/z", ff + ff + "/y"});
  // The prefix "a\xff" has the successor "b": "b" is outside it.
  EXPECT_EQ(render(list(index, query("a" + ff))), (Names{"a" + ff, "a" + ff + "/1", "a" + ff + "/2", "a" + ff + ff + "x"}));
  // The prefix "\xff\xff" has no successor: the scan runs to the end of the index.
  EXPECT_EQ(render(list(index, query(ff + ff))), (Names{ff + ff, ff + ff + "/y"}));
  EXPECT_EQ(render(list(index, query(ff, "/"))), (Names{ff, subdir_of(ff + "/"), ff + ff, subdir_of(ff + ff + "/")}));
  EXPECT_EQ(render(list(index, query("", "/"))),
            (Names{"a", "a" + ff, subdir_of("a" + ff + "/"), "a" + ff + ff + "x", "b", ff, subdir_of(ff + "/"), ff + ff,
                   subdir_of(ff + ff + "/")}));
  // The delimiter itself is 0xff: rolling up "a\xff" seeks to "b"; rolling up "\xff" ends the
  // listing (nothing sorts after every name that starts with 0xff).
  EXPECT_EQ(render(list(index, query("", ff))), (Names{"a", subdir_of("a" + ff), "b", subdir_of(ff)}));
  EXPECT_EQ(render(list(index, query("", ff, "", "", 10000, true))), (Names{subdir_of(ff), "b", subdir_of("a" + ff), "a"}));
  EXPECT_EQ(render(list(index, query("", "", ff + "/z"))), (Names{ff + ff, ff + ff + "/y"}));
}

// 10,000 names under 10 prefixes: a delimiter listing reads a bounded number of rows per
// common prefix and seeks past the rest, instead of reading every name.
TEST(RunListing, DelimiterSeeksPastCommonPrefixes) {
  auto make = [](int per_prefix) {
    Names names;
    for (int p = 0; p < 10; ++p) {
      for (int i = 0; i < per_prefix; ++i) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "dir%d/obj%06d", p, i);
        names.push_back(buf);
      }
    }
    return names;
  };
  FakeIndex index(make(1000));
  ASSERT_EQ(index.names().size(), 10000u);
  auto l = list(index, query("", "/"));
  EXPECT_EQ(render(l), (Names{"subdir:dir0/", "subdir:dir1/", "subdir:dir2/", "subdir:dir3/", "subdir:dir4/", "subdir:dir5/",
                              "subdir:dir6/", "subdir:dir7/", "subdir:dir8/", "subdir:dir9/"}));
  EXPECT_FALSE(l.truncated);
  // One scan per common prefix (and one that finds the end), each starting past the previous
  // common prefix.
  EXPECT_LE(index.scans(), 11u);
  for (std::size_t i = 1; i < index.windows().size() && i <= 10; ++i) {
    const auto& w = index.windows()[i];
    std::string past = *prefix_successor("dir" + std::to_string(i - 1) + "/");
    EXPECT_TRUE((w.ge && *w.ge >= past) || (w.gt && *w.gt >= past)) << "scan " << i << " does not seek past dir" << i - 1 << "/";
  }
  const std::size_t fetched = index.rows_fetched();
  RecordProperty("rows_fetched", static_cast<int>(fetched));
  EXPECT_LT(fetched, 1000u) << "a delimiter listing read " << fetched << " of 10000 rows";
  // Ten times more names per prefix: not one row more.
  FakeIndex bigger(make(10000));
  auto l2 = list(bigger, query("", "/"));
  EXPECT_EQ(l2.entries.size(), 10u);
  EXPECT_EQ(bigger.rows_fetched(), fetched);
  EXPECT_EQ(bigger.scans(), index.scans());
  // Reverse seeks the same way.
  FakeIndex rev(make(1000));
  auto l3 = list(rev, query("", "/", "", "", 10000, true));
  ASSERT_EQ(l3.entries.size(), 10u);
  EXPECT_EQ(l3.entries.front().name, "dir9/");
  EXPECT_LT(rev.rows_fetched(), 1000u);
  // Below one prefix there is nothing to roll up: the scan reads what it lists.
  FakeIndex one(make(1000));
  auto l4 = list(one, query("dir3/", "/", "", "", 100));
  EXPECT_EQ(l4.entries.size(), 100u);
  EXPECT_TRUE(l4.truncated);
  EXPECT_LE(one.rows_fetched(), 200u);
}

// Every combination against the obvious implementation, over names made of the characters that
// matter ('/', '-', 0xff and two letters).
TEST(RunListing, AgreesWithANaiveListing) {
  std::mt19937 rng(20240611);
  const std::string alphabet = std::string("ab/-") + "\xff";
  auto random_string = [&](std::size_t max_len) {
    std::string s(std::uniform_int_distribution<std::size_t>(0, max_len)(rng), 'a');
    for (auto& c : s) { c = alphabet[std::uniform_int_distribution<std::size_t>(0, alphabet.size() - 1)(rng)]; }
    return s;
  };
  const std::vector<std::string> delimiters = {"", "/", "-", "--", "/-", "\xff"};
  for (int round = 0; round < 300; ++round) {
    Names names;
    for (int i = 0, n = std::uniform_int_distribution<int>(0, 40)(rng); i < n; ++i) {
      auto s = random_string(6);
      if (!s.empty() && std::find(names.begin(), names.end(), s) == names.end()) { names.push_back(s); }
    }
    FakeIndex index(names);
    for (int k = 0; k < 20; ++k) {
      ListQuery q;
      q.prefix = random_string(2);
      q.delimiter = delimiters[std::uniform_int_distribution<std::size_t>(0, delimiters.size() - 1)(rng)];
      if (rng() % 2) { q.marker = random_string(4); }
      if (rng() % 3 == 0) { q.end_marker = random_string(4); }
      q.limit = rng() % 4 == 0 ? 10000 : std::uniform_int_distribution<std::size_t>(1, 8)(rng);
      q.reverse = rng() % 2;
      auto want = naive_listing(names, q);
      auto got = list(index, q);
      ASSERT_EQ(render(got), render(want)) << "round " << round << " prefix=" << testing::PrintToString(q.prefix)
                                           << " delimiter=" << testing::PrintToString(q.delimiter)
                                           << " marker=" << testing::PrintToString(q.marker)
                                           << " end_marker=" << testing::PrintToString(q.end_marker) << " limit=" << q.limit
                                           << " reverse=" << q.reverse;
      ASSERT_EQ(got.truncated, want.truncated) << "round " << round << " limit=" << q.limit;
    }
  }
}

}  // namespace
}  // namespace ciel::object
