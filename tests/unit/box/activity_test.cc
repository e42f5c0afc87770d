// The box's activity stream and notifications, on both MetaStore backends: each change leaves its
// entry (kind, paths at the time, actor) in the same transaction, a refused or rolled-back write
// leaves none, one user never sees another's entries, the filters and the pagination by id, the
// expiry after box.activity_retention, and the notification store.
#include <gtest/gtest.h>

#include <boost/asio/awaitable.hpp>
#include <cctype>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "box/activity.h"
#include "box/box.h"
#include "box_fixture.h"
#include "core/blocking.h"
#include "core/bytes.h"
#include "core/time.h"
#include "store/blob_store.h"
#include "store/meta_store.h"
#include "support/store_site.h"
#include "support/test_support.h"

namespace ciel::box {
namespace {

using boost::asio::awaitable;
using namespace std::chrono_literals;
using test::Backend;
using test::describe;

const std::string kUser = "u-alice";
const std::string kOther = "u-bob";


// "kind path" or "kind old -> new", with "(anon)" for a link visitor, "(other)" for another actor.
std::string line(const ActivityEntry& e) {
  std::string s(activity_kind_name(e.kind));
  s += " " + (e.old_path.empty() ? e.path : e.old_path + " -> " + e.path);
  if (!e.detail.empty() && !std::isdigit(static_cast<unsigned char>(e.detail[0]))) { s += " [" + e.detail + "]"; }  // not a link id
  if (e.actor.empty()) { s += " (anon)"; } else if (e.actor != e.user) { s += " (other)"; }
  return s;
}

class BoxActivityTest : public BoxStoreTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(open_stores());
    config_.inline_max = 1024;
    config_.argon2_memory_kib = 1024;
    config_.argon2_iterations = 1;
    box_ = make_box_service(*meta_, *blobs_, config_, clock_);
  }

  BoxService& box() { return *box_; }
  Result<Node> mkcol(const std::string& path, const std::string& user = kUser) {
    return await([&] { return box().mkcol(user, path, std::nullopt); });
  }
  Result<WriteResult> put(const std::string& path, const std::string& body, const std::string& user = kUser, PutOptions options = {}) {
    options.length = body.size();
    StringSource src(body);
    return await([&] { return box().put(user, path, src, options); });
  }
  Result<ActivityPage> page(ActivityQuery q, const std::string& user = kUser) {
    return await([&] { return box().activity(user, q); });
  }
  // The whole stream, oldest first, as lines.
  std::vector<std::string> lines(ActivityFilter f = ActivityFilter::all, const std::string& user = kUser) {
    ActivityQuery q;
    q.filter = f;
    q.ascending = true;
    q.limit = kMaxActivityLimit;
    auto p = page(q, user);
    EXPECT_TRUE(p) << describe(p.error());
    std::vector<std::string> out;
    if (p) {
      for (const auto& e : p->entries) { out.push_back(line(e)); }
    }
    return out;
  }
  std::vector<ActivityEntry> entries(const std::string& user = kUser) {
    ActivityQuery q;
    q.ascending = true;
    q.limit = kMaxActivityLimit;
    auto p = page(q, user);
    EXPECT_TRUE(p) << describe(p.error());
    return p ? p->entries : std::vector<ActivityEntry>{};
  }

  FakeClock clock_;
  BoxConfig config_;
};

TEST_P(BoxActivityTest, EachChangeLeavesItsEntry) {
  ASSERT_OK(mkcol("docs"));
  auto a = put("docs/a.txt", "one");
  ASSERT_OK(a);
  ASSERT_OK(put("docs/a.txt", "two"));
  ASSERT_OK(await([&] { return box().move(kUser, "docs/a.txt", "docs/b.txt", false); }));
  ASSERT_OK(await([&] { return box().move(kUser, "docs/b.txt", "b.txt", false); }));
  ASSERT_OK(await([&] { return box().copy(kUser, "b.txt", "docs/c.txt", false, true); }));
  ASSERT_OK(await([&] { return box().remove(kUser, "docs/c.txt", std::nullopt); }));
  auto trash = await([&] { return box().trash(kUser); });
  ASSERT_OK(trash);
  ASSERT_EQ(trash->size(), 1u);
  ASSERT_OK(await([&] { return box().restore_trash(kUser, trash->front().id); }));
  auto versions = await([&] { return box().versions(kUser, a->node.id); });
  ASSERT_OK(versions);
  ASSERT_EQ(versions->size(), 1u);
  ASSERT_OK(await([&] { return box().restore_version(kUser, a->node.id, versions->front().id); }));
  auto link = await([&] { return box().create_link(kUser, "b.txt", LinkInput{}); });
  ASSERT_OK(link);
  LinkUpdate u;
  u.label = "renamed link";
  ASSERT_OK(await([&] { return box().update_link(kUser, link->id, u); }));
  ASSERT_OK(await([&] { return box().count_download(link->id, link->node_id); }));
  ASSERT_OK(await([&] { return box().delete_link(kUser, link->id); }));

  EXPECT_EQ(lines(), (std::vector<std::string>{
                         "file_created docs",
                         "file_created docs/a.txt",
                         "file_changed docs/a.txt",
                         "file_renamed docs/a.txt -> docs/b.txt",
                         "file_moved docs/b.txt -> b.txt",
                         "file_created docs/c.txt",
                         "file_deleted docs/c.txt",
                         "file_restored docs/c.txt [trash]",
                         "file_restored b.txt [version]",
                         "link_created b.txt",
                         "link_changed b.txt",
                         "link_downloaded b.txt (anon)",
                         "link_deleted b.txt",
                     }));
  auto all = entries();
  ASSERT_EQ(all.size(), 13u);
  EXPECT_TRUE(all[0].folder);
  EXPECT_FALSE(all[1].folder);
  EXPECT_EQ(all[1].node_id, a->node.id);
  EXPECT_EQ(all[4].node_id, a->node.id);  // a move keeps the id
  EXPECT_EQ(all[1].actor, kUser);
  EXPECT_EQ(all[9].detail, std::to_string(link->id));
  EXPECT_EQ(all[11].detail, std::to_string(link->id));
  for (const auto& e : all) {
    EXPECT_EQ(e.user, kUser);
    EXPECT_EQ(e.time_s, unix_seconds(clock_.now()));
  }
  for (std::size_t i = 1; i < all.size(); ++i) { EXPECT_GT(all[i].id, all[i - 1].id); }
}

TEST_P(BoxActivityTest, OverwritingMoveAndChunkedUploadAreRecorded) {
  ASSERT_OK(put("x.txt", "x"));
  ASSERT_OK(put("y.txt", "y"));
  ASSERT_OK(await([&] { return box().move(kUser, "x.txt", "y.txt", true); }));
  ASSERT_OK(await([&] { return box().create_upload(kUser, "t1", std::uint64_t{4}); }));
  StringSource chunk("abcd");
  ASSERT_OK(await([&] { return box().put_chunk(kUser, "t1", "00001", std::uint64_t{0}, 4, chunk); }));
  ASSERT_OK(await([&] { return box().assemble_upload(kUser, "t1", "big.bin", PutOptions{}); }));
  EXPECT_EQ(lines(), (std::vector<std::string>{"file_created x.txt", "file_created y.txt", "file_deleted y.txt", "file_renamed x.txt -> y.txt",
                                               "file_created big.bin"}));
}

TEST_P(BoxActivityTest, LinkVisitorsAreAnonymousAndPathsAreFromTheOwnersRoot) {
  ASSERT_OK(mkcol("team"));
  ASSERT_OK(mkcol("team/drop"));
  LinkInput in;
  in.access = LinkAccess::read_write;
  auto link = await([&] { return box().create_link(kUser, "team/drop", in); });
  ASSERT_OK(link);
  auto view = box().subtree(*link);
  StringSource body("from a visitor");
  PutOptions o;
  o.length = 14;
  ASSERT_OK(await([&] { return view->put("note.txt", body, o); }));
  auto kept = await([&] { return view->move("note.txt", "kept.txt", false); });
  ASSERT_OK(kept);
  // A download of a file inside the linked folder names that file.
  ASSERT_OK(await([&] { return box().count_download(link->id, kept->node.id); }));
  ASSERT_OK(await([&] { return view->remove("kept.txt", std::nullopt); }));
  // Once it is in the trash, a late count records nothing (and another user's file never).
  ASSERT_OK(await([&] { return box().count_download(link->id, kept->node.id); }));
  auto bobs = put("bob.txt", "b", kOther);
  ASSERT_OK(bobs);
  ASSERT_OK(await([&] { return box().count_download(link->id, bobs->node.id); }));
  EXPECT_EQ(lines(), (std::vector<std::string>{"file_created team", "file_created team/drop", "link_created team/drop",
                                               "file_created team/drop/note.txt (anon)",
                                               "file_renamed team/drop/note.txt -> team/drop/kept.txt (anon)",
                                               "link_downloaded team/drop/kept.txt (anon)",
                                               "file_deleted team/drop/kept.txt (anon)"}));
  EXPECT_EQ(lines(ActivityFilter::self).size(), 3u);
  EXPECT_EQ(lines(ActivityFilter::by), (std::vector<std::string>{"file_created team/drop/note.txt (anon)",
                                                                 "file_renamed team/drop/note.txt -> team/drop/kept.txt (anon)",
                                                                 "link_downloaded team/drop/kept.txt (anon)",
                                                                 "file_deleted team/drop/kept.txt (anon)"}));
  EXPECT_EQ(lines(ActivityFilter::all, kOther), (std::vector<std::string>{"file_created bob.txt"}));
}

TEST_P(BoxActivityTest, RefusedAndRolledBackWritesLeaveNoEntry) {
  ASSERT_OK(put("a.txt", "a"));
  ASSERT_OK(put("b.txt", "b"));
  auto before = lines();
  PutOptions stale;
  stale.if_match = "not-the-etag";
  EXPECT_FALSE(put("a.txt", "new", kUser, stale));
  EXPECT_FALSE(await([&] { return box().move(kUser, "a.txt", "b.txt", false); }));
  EXPECT_FALSE(await([&] { return box().remove(kUser, "a.txt", std::string("stale")); }));
  EXPECT_FALSE(mkcol("missing/parent"));
  EXPECT_FALSE(await([&] { return box().create_link(kUser, "a.txt", LinkInput{LinkAccess::upload}); }));
  // A transaction that records an entry, then fails: nothing stays.
  auto st = meta_->transact_sync([&](store::Tx& tx) -> Status {
    if (auto r = record_activity(tx, ActivityEntry{0, kUser, kUser, ActivityKind::file_created, 1, false, "ghost.txt"}); !r) { return r; }
    return make_error(Errc::conflict, "changed my mind");
  });
  EXPECT_FALSE(st);
  EXPECT_EQ(lines(), before);
}

TEST_P(BoxActivityTest, OneUserNeverSeesAnothersEntries) {
  ASSERT_OK(put("mine.txt", "a"));
  ASSERT_OK(put("theirs.txt", "b", kOther));
  ASSERT_OK(mkcol("theirs", kOther));
  EXPECT_EQ(lines(), (std::vector<std::string>{"file_created mine.txt"}));
  EXPECT_EQ(lines(ActivityFilter::all, kOther), (std::vector<std::string>{"file_created theirs.txt", "file_created theirs"}));
  // Paging from another user's entry id still shows only one's own.
  auto theirs = entries(kOther);
  ASSERT_EQ(theirs.size(), 2u);
  ActivityQuery q;
  q.since = theirs.back().id + 1;
  auto p = page(q);
  ASSERT_OK(p);
  ASSERT_EQ(p->entries.size(), 1u);
  EXPECT_EQ(p->entries[0].path, "mine.txt");
  // The object filter does not reach into another user's stream either.
  q = ActivityQuery{};
  q.node_id = theirs.front().node_id;
  auto none = page(q);
  ASSERT_OK(none);
  EXPECT_TRUE(none->entries.empty());
}

TEST_P(BoxActivityTest, FiltersFilesSharingFavoritesAndObject) {
  auto f = put("fav.txt", "f");
  ASSERT_OK(f);
  ASSERT_OK(put("plain.txt", "p"));
  ASSERT_OK(put("plain.txt", "p2"));
  ASSERT_OK(await([&] { return box().create_link(kUser, "plain.txt", LinkInput{}); }));
  PropPatch fav{{PropPatch::Op{true, DeadProp{"http://owncloud.org/ns", "favorite", "1"}}}};
  ASSERT_OK(await([&] { return box().patch_props(kUser, "fav.txt", fav); }));
  ASSERT_OK(put("fav.txt", "f2"));
  EXPECT_EQ(lines(ActivityFilter::files), (std::vector<std::string>{"file_created fav.txt", "file_created plain.txt", "file_changed plain.txt",
                                                                    "file_changed fav.txt"}));
  EXPECT_EQ(lines(ActivityFilter::sharing), (std::vector<std::string>{"link_created plain.txt"}));
  EXPECT_EQ(lines(ActivityFilter::favorites), (std::vector<std::string>{"file_created fav.txt", "file_changed fav.txt"}));
  ActivityQuery q;
  q.node_id = f->node.id;
  q.limit = 10;
  auto p = page(q);
  ASSERT_OK(p);
  ASSERT_EQ(p->entries.size(), 2u);
  EXPECT_EQ(p->entries[0].kind, ActivityKind::file_changed);  // newest first
  EXPECT_EQ(p->entries[1].kind, ActivityKind::file_created);
  EXPECT_EQ(activity_filter_from("files_sharing"), ActivityFilter::sharing);
  EXPECT_EQ(activity_filter_from("nope"), std::nullopt);
}

TEST_P(BoxActivityTest, PagesBySinceBothWays) {
  for (int i = 0; i < 7; ++i) { ASSERT_OK(put("f" + std::to_string(i) + ".txt", "x")); }
  ActivityQuery q;
  q.limit = 3;
  std::vector<std::string> seen;
  for (int guard = 0; guard < 5; ++guard) {
    auto p = page(q);
    ASSERT_OK(p);
    for (const auto& e : p->entries) { seen.push_back(e.path); }
    if (!p->more) { break; }
    EXPECT_EQ(p->entries.size(), 3u);
    q.since = p->entries.back().id;
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"f6.txt", "f5.txt", "f4.txt", "f3.txt", "f2.txt", "f1.txt", "f0.txt"}));
  q = ActivityQuery{};
  q.ascending = true;
  q.limit = 4;
  auto first = page(q);
  ASSERT_OK(first);
  ASSERT_EQ(first->entries.size(), 4u);
  EXPECT_TRUE(first->more);
  q.since = first->entries.back().id;
  auto second = page(q);
  ASSERT_OK(second);
  ASSERT_EQ(second->entries.size(), 3u);
  EXPECT_FALSE(second->more);
  EXPECT_EQ(second->entries.front().path, "f4.txt");
  q.since = second->entries.back().id;
  auto after = page(q);
  ASSERT_OK(after);
  EXPECT_TRUE(after->entries.empty());
  q.limit = 0;
  EXPECT_EQ(page(q).error().code, Errc::invalid_argument);
  q.limit = kMaxActivityLimit + 1;
  EXPECT_EQ(page(q).error().code, Errc::invalid_argument);
  q.limit = 1;
  q.since = -1;
  EXPECT_EQ(page(q).error().code, Errc::invalid_argument);
}

TEST_P(BoxActivityTest, OldEntriesExpire) {
  ASSERT_OK(put("old.txt", "o"));
  clock_.advance(std::chrono::seconds(config_.activity_retention) - 1h);
  ASSERT_OK(put("newer.txt", "n"));
  ASSERT_OK(await([&] { return box().reap(1000); }));
  EXPECT_EQ(lines().size(), 2u);  // nothing is past retention yet
  clock_.advance(2h);
  auto reaped = await([&] { return box().reap(1000); });
  ASSERT_OK(reaped);
  EXPECT_GE(*reaped, 1u);
  EXPECT_EQ(lines(), (std::vector<std::string>{"file_created newer.txt"}));
  // 0 keeps everything.
  config_.activity_retention = 0s;
  box_ = make_box_service(*meta_, *blobs_, config_, clock_);
  clock_.advance(std::chrono::hours(24 * 365));
  ASSERT_OK(await([&] { return box().reap(1000); }));
  EXPECT_EQ(lines().size(), 1u);
}

TEST_P(BoxActivityTest, NotificationsAreListedAndDismissedPerUser) {
  auto add = [&](const std::string& user, const std::string& subject) {
    Result<std::int64_t> id = make_error(Errc::internal, "not run");
    auto st = meta_->transact_sync([&](store::Tx& tx) -> Status {
      Notification n;
      n.user = user;
      n.subject = subject;
      n.object_type = "files";
      n.object_id = "42";
      n.link = "/box/files";
      n.created_s = 1'800'000'000;
      id = notify(tx, n);
      if (!id) { return id.error(); }
      return {};
    });
    EXPECT_TRUE(st) << describe(st.error());
    return id;
  };
  auto one = add(kUser, "Bob shared “Plans” with you");
  auto two = add(kUser, "Bob shared “Budget” with you");
  auto bobs = add(kOther, "For Bob");
  ASSERT_OK(one);
  ASSERT_OK(two);
  ASSERT_OK(bobs);
  auto list = await([&] { return box().notifications(kUser); });
  ASSERT_OK(list);
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].id, *two);  // newest first
  EXPECT_EQ((*list)[0].subject, "Bob shared “Budget” with you");
  EXPECT_EQ((*list)[0].app, "files_sharing");
  EXPECT_EQ((*list)[0].object_id, "42");
  EXPECT_EQ((*list)[0].link, "/box/files");
  EXPECT_EQ((*list)[0].created_s, 1'800'000'000);
  // Not another user's, and only once.
  EXPECT_EQ(await([&] { return box().dismiss_notification(kUser, *bobs); }).error().code, Errc::not_found);
  ASSERT_OK(await([&] { return box().dismiss_notification(kUser, *one); }));
  EXPECT_EQ(await([&] { return box().dismiss_notification(kUser, *one); }).error().code, Errc::not_found);
  ASSERT_OK(await([&] { return box().dismiss_notifications(kUser); }));
  EXPECT_TRUE(await([&] { return box().notifications(kUser); })->empty());
  EXPECT_EQ(await([&] { return box().notifications(kOther); })->size(), 1u);
  auto empty = meta_->transact_sync([&](store::Tx& tx) -> Status {
    auto id = notify(tx, Notification{0, kUser, "files_sharing", ""});
    if (!id) { return id.error(); }
    return {};
  });
  ASSERT_FALSE(empty);  // a subject is required
  EXPECT_EQ(empty.error().code, Errc::invalid_argument);
}

INSTANTIATE_TEST_SUITE_P(Backends, BoxActivityTest, ::testing::Values(Backend::sqlite, Backend::postgres), test::backend_param_name);

}  // namespace
}  // namespace ciel::box
