// Comments, favorites, tags and search in the box engine, on both MetaStore backends: who may see
// and change what (another user's file looks absent; only a comment's author edits it), the
// 1,000-character limit, per-user tags, filters, search by name (case-insensitive after NFC) and
// by tag, nothing from the trash, and rows of purged nodes reaped.
#include "box/collab.h"

#include <gtest/gtest.h>

#include <boost/asio/awaitable.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "box/box.h"
#include "box_fixture.h"
#include "core/blocking.h"
#include "core/bytes.h"
#include "store/blob_store.h"
#include "store/meta_store.h"
#include "support/store_site.h"
#include "support/test_support.h"

namespace ciel::box {
namespace {

using boost::asio::awaitable;
using test::Backend;
using test::describe;

const std::string kAlice = "u-alice";
const std::string kBob = "u-bob";



class BoxCollabTest : public BoxStoreTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(open_stores(collab_migrations()));
    BoxConfig config;
    box_ = make_box_service(*meta_, *blobs_, config);
    collab_ = make_collab_service(*meta_, *box_);
  }
  void TearDown() override {
    collab_.reset();
    BoxStoreTest::TearDown();
  }

  CollabService& c() { return *collab_; }
  std::int64_t file(const std::string& path, const std::string& user = kAlice) {
    StringSource src("x");
    PutOptions o;
    o.length = 1;
    auto w = await([&] { return box_->put(user, path, src, o); });
    EXPECT_TRUE(w) << describe(w.error());
    return w ? w->node.id : 0;
  }
  std::int64_t folder(const std::string& path) {
    auto n = await([&] { return box_->mkcol(kAlice, path, std::nullopt); });
    EXPECT_TRUE(n) << describe(n.error());
    return n ? n->id : 0;
  }
  Result<Comment> add(std::int64_t node, const std::string& msg, const std::string& user = kAlice) {
    return await([&] { return c().add_comment(user, user == kAlice ? "alice" : "bob", node, msg); });
  }
  std::vector<std::string> messages(std::int64_t node, std::size_t limit = 50, std::size_t offset = 0) {
    std::vector<std::string> out;
    for (const auto& x : must(await([&] { return c().comments(kAlice, node, limit, offset); }))) { out.push_back(x.message); }
    return out;
  }
  std::vector<std::string> paths(const std::vector<Node>& nodes) {
    std::vector<std::string> out;
    for (const auto& n : nodes) { out.push_back(n.path); }
    return out;
  }
  Errc code_of(const Status& st) { return st ? Errc{} : st.error().code; }
  template <class T>
  Errc code_of(const Result<T>& r) {
    return r ? Errc{} : r.error().code;
  }

  std::unique_ptr<CollabService> collab_;
};

TEST_P(BoxCollabTest, CommentsListNewestFirstWithLimitAndOffset) {
  auto f = file("notes.txt");
  for (const char* m : {"first", "second", "third"}) { ASSERT_OK(add(f, m)); }
  EXPECT_EQ(messages(f), (std::vector<std::string>{"third", "second", "first"}));
  EXPECT_EQ(messages(f, 1, 1), (std::vector<std::string>{"second"}));
  auto counts = must(await([&] { return c().comment_counts(kAlice, f); }));
  EXPECT_EQ(counts[f].total, 3u);
  EXPECT_EQ(counts[f].unread, 0u);  // her own
}

TEST_P(BoxCollabTest, OthersCommentsAreUnreadUntilMarked) {
  auto f = file("a.txt");
  ASSERT_OK(meta_->transact_sync([&](store::Tx& tx) -> Status {  // written by someone who sees the file (a share's recipient)
    auto r = tx.exec("INSERT INTO box_comments (node_id, author, author_name, message, created_s, edited_s) VALUES ($1, $2, 'bob', 'hi', 1, 1)",
                     {store::Value{f}, store::Value{kBob}});
    if (!r) { return r.error(); }
    return {};
  }));
  ASSERT_OK(add(f, "mine"));
  EXPECT_FALSE(must(await([&] { return c().read_marker(kAlice, f); })));
  EXPECT_EQ(must(await([&] { return c().comment_counts(kAlice, f); }))[f].unread, 1u);
  ASSERT_OK(await([&] { return c().mark_read(kAlice, f); }));
  EXPECT_TRUE(must(await([&] { return c().read_marker(kAlice, f); })));
  EXPECT_EQ(must(await([&] { return c().comment_counts(kAlice, f); }))[f].unread, 0u);
  EXPECT_EQ(must(await([&] { return c().comment_counts(kAlice, f); }))[f].total, 2u);
  EXPECT_EQ(code_of(await([&] { return c().mark_read(kBob, f); })), Errc::not_found);
}

TEST_P(BoxCollabTest, CommentLimitIsCodePointsAndRefusalStoresNothing) {
  auto f = file("a.txt");
  std::string ok;
  for (int i = 0; i < 1000; ++i) { ok += "é"; }  // 1,000 characters, 2,000 bytes
  EXPECT_OK(add(f, ok));
  auto too_long = add(f, std::string(1001, 'x'));
  ASSERT_FALSE(too_long);
  EXPECT_EQ(too_long.error().code, Errc::too_large);
  EXPECT_EQ(too_long.error().message, kCommentTooLong);
  EXPECT_EQ(code_of(add(f, "  \n")), Errc::invalid_argument);
  EXPECT_EQ(code_of(add(f, std::string("a\0b", 3))), Errc::invalid_argument);
  EXPECT_EQ(messages(f).size(), 1u);
}

TEST_P(BoxCollabTest, OnlyTheAuthorEditsOrDeletes) {
  auto f = file("a.txt");
  auto mine = must(add(f, "mine"));
  EXPECT_EQ(code_of(await([&] { return c().edit_comment(kBob, f, mine.id, "hijack"); })), Errc::not_found);  // Bob cannot see the file
  auto edited = must(await([&] { return c().edit_comment(kAlice, f, mine.id, "mine, edited"); }));
  EXPECT_EQ(edited.message, "mine, edited");
  EXPECT_EQ(must(await([&] { return c().comment(kAlice, f, mine.id); })).message, "mine, edited");
  // A comment id under another file is no comment of this file.
  auto g = file("b.txt");
  EXPECT_EQ(code_of(await([&] { return c().delete_comment(kAlice, g, mine.id); })), Errc::not_found);
  EXPECT_OK(await([&] { return c().delete_comment(kAlice, f, mine.id); }));
  EXPECT_TRUE(messages(f).empty());
  // A comment of someone else on a file Alice sees (as a share's recipient will write): she can
  // read it, not change it.
  std::int64_t theirs = 0;
  ASSERT_OK(meta_->transact_sync([&](store::Tx& tx) -> Status {
    auto r = tx.one("INSERT INTO box_comments (node_id, author, author_name, message, created_s, edited_s) VALUES ($1, $2, 'bob', 'bob was here', 1, 1) RETURNING id",
                    {store::Value{f}, store::Value{kBob}});
    if (!r) { return r.error(); }
    theirs = (*r)->integer(0);
    return {};
  }));
  EXPECT_EQ(messages(f), (std::vector<std::string>{"bob was here"}));
  auto refused = await([&] { return c().edit_comment(kAlice, f, theirs, "rewritten"); });
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::forbidden);
  EXPECT_EQ(code_of(await([&] { return c().delete_comment(kAlice, f, theirs); })), Errc::forbidden);
  EXPECT_EQ(messages(f), (std::vector<std::string>{"bob was here"}));
}

TEST_P(BoxCollabTest, AnotherUsersFileLooksAbsent) {
  auto f = file("secret.txt");
  ASSERT_OK(add(f, "private"));
  EXPECT_EQ(code_of(add(f, "hello", kBob)), Errc::not_found);
  EXPECT_EQ(code_of(await([&] { return c().comments(kBob, f, 10, 0); })), Errc::not_found);
  EXPECT_EQ(code_of(await([&] { return c().set_favorite(kBob, f, true); })), Errc::not_found);
  auto bobs = must(await([&] { return c().create_tag(kBob, "spy", true, true); }));
  EXPECT_EQ(code_of(await([&] { return c().assign_tag(kBob, f, bobs.id); })), Errc::not_found);
  EXPECT_EQ(code_of(await([&] { return c().node_tags(kBob, f); })), Errc::not_found);
  EXPECT_EQ(code_of(await([&] { return c().comment_counts(kBob, f); })), Errc::not_found);
}

TEST_P(BoxCollabTest, FavoritesSetClearAndFilter) {
  auto docs = folder("docs");
  auto a = file("docs/a.txt");
  auto b = file("docs/b.txt");
  file("c.txt");
  ASSERT_OK(await([&] { return c().set_favorite(kAlice, a, true); }));
  ASSERT_OK(await([&] { return c().set_favorite(kAlice, a, true); }));  // twice is once
  ASSERT_OK(await([&] { return c().set_favorite(kAlice, docs, true); }));
  EXPECT_EQ(must(await([&] { return c().favorites_in(kAlice, docs); })), (std::set<std::int64_t>{docs, a}));
  FileFilter fav{true, {}};
  EXPECT_EQ(paths(must(await([&] { return c().filter_files(kAlice, fav, 50, 0); }))), (std::vector<std::string>{"docs", "docs/a.txt"}));
  EXPECT_EQ(paths(must(await([&] { return c().filter_files(kAlice, fav, 1, 1); }))), (std::vector<std::string>{"docs/a.txt"}));
  ASSERT_OK(await([&] { return c().set_favorite(kAlice, docs, false); }));
  EXPECT_EQ(paths(must(await([&] { return c().filter_files(kAlice, fav, 50, 0); }))), (std::vector<std::string>{"docs/a.txt"}));
  // Bob's favorites are his own.
  EXPECT_TRUE(must(await([&] { return c().filter_files(kBob, fav, 50, 0); })).empty());
  (void)b;
}

TEST_P(BoxCollabTest, TagsArePerUserAndFilterFiles) {
  auto a = file("a.txt");
  auto b = file("b.txt");
  auto red = must(await([&] { return c().create_tag(kAlice, "Red", true, true); }));
  auto blue = must(await([&] { return c().create_tag(kAlice, "blue", true, false); }));
  EXPECT_EQ(code_of(await([&] { return c().create_tag(kAlice, "red", true, true); })), Errc::already_exists);  // case-insensitive
  EXPECT_EQ(code_of(await([&] { return c().create_tag(kAlice, " ", true, true); })), Errc::invalid_argument);
  // Bob may use the same name: tags are per user, and he sees none of Alice's.
  auto bobs_red = must(await([&] { return c().create_tag(kBob, "Red", true, true); }));
  EXPECT_EQ(must(await([&] { return c().tags(kBob); })).size(), 1u);
  EXPECT_EQ(code_of(await([&] { return c().tag(kBob, red.id); })), Errc::not_found);
  EXPECT_EQ(code_of(await([&] { return c().assign_tag(kAlice, a, bobs_red.id); })), Errc::not_found);

  ASSERT_OK(await([&] { return c().assign_tag(kAlice, a, red.id); }));
  EXPECT_EQ(code_of(await([&] { return c().assign_tag(kAlice, a, red.id); })), Errc::already_exists);
  ASSERT_OK(await([&] { return c().assign_tag(kAlice, a, blue.id); }));
  ASSERT_OK(await([&] { return c().assign_tag(kAlice, b, red.id); }));
  auto on_a = must(await([&] { return c().node_tags(kAlice, a); }));
  ASSERT_EQ(on_a.size(), 2u);
  EXPECT_EQ(on_a[0].name, "blue");
  EXPECT_FALSE(on_a[0].user_assignable);
  EXPECT_EQ(paths(must(await([&] { return c().filter_files(kAlice, FileFilter{false, {red.id}}, 50, 0); }))),
            (std::vector<std::string>{"a.txt", "b.txt"}));
  EXPECT_EQ(paths(must(await([&] { return c().filter_files(kAlice, FileFilter{false, {red.id, blue.id}}, 50, 0); }))),
            (std::vector<std::string>{"a.txt"}));
  EXPECT_EQ(code_of(await([&] { return c().filter_files(kBob, FileFilter{false, {red.id}}, 50, 0); })), Errc::not_found);
  auto root = await([&] { return box_->stat(kAlice, ""); });
  ASSERT_TRUE(root);
  auto in_root = must(await([&] { return c().tags_in(kAlice, root->id); }));
  EXPECT_EQ(in_root[a].size(), 2u);
  EXPECT_EQ(in_root[b].size(), 1u);
  EXPECT_EQ(code_of(await([&] { return c().tags_in(kBob, root->id); })), Errc::not_found);
  ASSERT_OK(await([&] { return c().unassign_tag(kAlice, a, red.id); }));
  EXPECT_EQ(code_of(await([&] { return c().unassign_tag(kAlice, a, red.id); })), Errc::not_found);
  ASSERT_OK(await([&] { return c().delete_tag(kAlice, blue.id); }));
  EXPECT_TRUE(must(await([&] { return c().node_tags(kAlice, a); })).empty());
}

TEST_P(BoxCollabTest, SearchByNameIsCaseInsensitiveAfterNfcAndSkipsTheTrash) {
  folder("Reports");
  file("Reports/Été 2026.txt");
  file("Reports/ete-draft.txt");
  file("summary.TXT");
  file("old-summary.txt");
  file("summary.txt", kBob);
  ASSERT_OK(await([&] { return box_->remove(kAlice, "old-summary.txt", std::nullopt); }));
  auto p = must(await([&] { return c().search_names(kAlice, "SUMMARY", 20, std::nullopt); }));
  EXPECT_EQ(paths(p.nodes), (std::vector<std::string>{"summary.TXT"}));
  // "été" typed decomposed (e + U+0301) finds the composed name, in any case.
  p = must(await([&] { return c().search_names(kAlice, "E\xCC\x81t\xC3\xA9", 20, std::nullopt); }));
  EXPECT_EQ(paths(p.nodes), (std::vector<std::string>{"Reports/Été 2026.txt"}));
  // Pages: one result a page, the cursor goes on.
  p = must(await([&] { return c().search_names(kAlice, "t", 1, std::nullopt); }));
  ASSERT_EQ(p.nodes.size(), 1u);
  ASSERT_TRUE(p.next);
  auto p2 = must(await([&] { return c().search_names(kAlice, "t", 1, p.next); }));
  ASSERT_EQ(p2.nodes.size(), 1u);
  EXPECT_NE(p2.nodes[0].id, p.nodes[0].id);
  EXPECT_EQ(code_of(await([&] { return c().search_names(kAlice, "", 20, std::nullopt); })), Errc::invalid_argument);
  // Files inside a trashed folder are not found either.
  ASSERT_OK(await([&] { return box_->remove(kAlice, "Reports", std::nullopt); }));
  EXPECT_TRUE(must(await([&] { return c().search_names(kAlice, "ete", 20, std::nullopt); })).nodes.empty());
}

TEST_P(BoxCollabTest, SearchByTagNameFindsTaggedFiles) {
  auto a = file("a.txt");
  file("b.txt");
  auto urgent = must(await([&] { return c().create_tag(kAlice, "Urgent", true, true); }));
  ASSERT_OK(await([&] { return c().assign_tag(kAlice, a, urgent.id); }));
  EXPECT_EQ(paths(must(await([&] { return c().search_tags(kAlice, "urg", 20, std::nullopt); })).nodes), (std::vector<std::string>{"a.txt"}));
  EXPECT_TRUE(must(await([&] { return c().search_tags(kBob, "urg", 20, std::nullopt); })).nodes.empty());
}

TEST_P(BoxCollabTest, TrashHidesAndPurgeReapsRows) {
  auto f = file("gone.txt");
  auto t = must(await([&] { return c().create_tag(kAlice, "t", true, true); }));
  ASSERT_OK(add(f, "note"));
  ASSERT_OK(await([&] { return c().set_favorite(kAlice, f, true); }));
  ASSERT_OK(await([&] { return c().assign_tag(kAlice, f, t.id); }));
  ASSERT_OK(await([&] { return box_->remove(kAlice, "gone.txt", std::nullopt); }));
  EXPECT_EQ(code_of(await([&] { return c().comments(kAlice, f, 10, 0); })), Errc::not_found);
  EXPECT_TRUE(must(await([&] { return c().filter_files(kAlice, FileFilter{true, {}}, 50, 0); })).empty());
  EXPECT_TRUE(must(await([&] { return c().filter_files(kAlice, FileFilter{false, {t.id}}, 50, 0); })).empty());
  // Restored, it has them back.
  ASSERT_OK(await([&] { return box_->restore_trash(kAlice, f); }));
  EXPECT_EQ(messages(f).size(), 1u);
  ASSERT_OK(await([&] { return c().mark_read(kAlice, f); }));
  EXPECT_EQ(must(await([&] { return c().reap(100); })), 0u);
  ASSERT_OK(await([&] { return box_->remove(kAlice, "gone.txt", std::nullopt); }));
  ASSERT_OK(await([&] { return box_->purge_trash(kAlice, f); }));
  EXPECT_EQ(must(await([&] { return c().reap(100); })), 4u);
  EXPECT_EQ(must(await([&] { return c().reap(100); })), 0u);
}

TEST_P(BoxCollabTest, ShareRecipientsPassTheOneCheckWhileTheShareLasts) {
  folder("team");
  auto f = file("team/plan.txt");
  file("private-plan.txt");
  EXPECT_EQ(code_of(add(f, "too early", kBob)), Errc::not_found);
  auto sh = must(await([&] { return box_->create_share(kAlice, "team", ShareType::user, kBob, kPermRead); }));
  ASSERT_OK(add(f, "from bob", kBob));
  EXPECT_EQ(messages(f), (std::vector<std::string>{"from bob"}));  // Alice reads it
  ASSERT_OK(await([&] { return c().set_favorite(kBob, f, true); }));
  EXPECT_EQ(paths(must(await([&] { return c().filter_files(kBob, FileFilter{true, {}}, 50, 0); }))), (std::vector<std::string>{"team/plan.txt"}));
  // A search by name covers what was shared with him, and nothing else of Alice's.
  EXPECT_EQ(paths(must(await([&] { return c().search_names(kBob, "plan", 20, std::nullopt); })).nodes), (std::vector<std::string>{"team/plan.txt"}));
  ASSERT_OK(await([&] { return box_->delete_share(kAlice, sh.id); }));
  EXPECT_EQ(code_of(await([&] { return c().comments(kBob, f, 10, 0); })), Errc::not_found);
  EXPECT_TRUE(must(await([&] { return c().filter_files(kBob, FileFilter{true, {}}, 50, 0); })).empty());
  EXPECT_TRUE(must(await([&] { return c().search_names(kBob, "plan", 20, std::nullopt); })).nodes.empty());
}

INSTANTIATE_TEST_SUITE_P(Backends, BoxCollabTest, ::testing::Values(Backend::sqlite, Backend::postgres), test::backend_param_name);

}  // namespace
}  // namespace ciel::box
