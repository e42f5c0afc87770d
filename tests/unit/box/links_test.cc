// Public links in the box engine, on both MetaStore backends: tokens, what a token opens (and
// stops opening: revoked, expired by a fake clock, its file in the trash), passwords (argon2id),
// the access levels, and the linked subtree: paths never leave it, writes are the owner's (quota,
// etags up to the root, the trash), and a file drop never replaces a file.
#include <gtest/gtest.h>

#include <boost/asio/awaitable.hpp>
#include <cctype>
#include <chrono>
#include <optional>
#include <set>
#include <string>
#include <vector>

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
using test::Backend;
using test::describe;

const std::string kUser = "u-alice";
const std::string kOther = "u-bob";



class BoxLinksTest : public BoxStoreTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(open_stores());
    BoxConfig config;
    config.inline_max = 0;
    config.argon2_memory_kib = 1024;  // cheap hashes: the tests check what is stored, not its cost
    config.argon2_iterations = 1;
    box_ = make_box_service(*meta_, *blobs_, config, clock_);
  }


  BoxService& box() { return *box_; }
  std::int64_t now() const { return unix_seconds(clock_.now()); }

  Result<Node> mkcol(const std::string& path) { return await([&] { return box().mkcol(kUser, path, std::nullopt); }); }
  Result<WriteResult> put(const std::string& path, const std::string& body, PutOptions options = {}) {
    options.length = body.size();
    StringSource src(body);
    return await([&] { return box().put(kUser, path, src, options); });
  }
  Result<Node> stat(const std::string& path) { return await([&] { return box().stat(kUser, path); }); }
  Result<std::string> read(const Node& file) {
    return await([&]() -> awaitable<Result<std::string>> {
      auto src = co_await box().open(file, 0, file.size);
      if (!src) { co_return src.error(); }
      co_return co_await read_all(**src, 1 << 20);
    });
  }
  Result<Link> create(const std::string& path, LinkAccess access = LinkAccess::read, std::optional<std::string> password = std::nullopt,
                      std::optional<std::int64_t> expires = std::nullopt) {
    LinkInput in;
    in.access = access;
    in.password = std::move(password);
    in.expires_s = expires;
    in.label = "for the team";
    return await([&] { return box().create_link(kUser, path, in); });
  }
  Result<Link> open(const std::string& token) { return await([&] { return box().open_link(token); }); }
  Result<Link> update(std::int64_t id, LinkUpdate u, const std::string& user = kUser) {
    return await([&] { return box().update_link(user, id, u); });
  }
  bool verify(const Link& l, const std::string& password) { return await([&] { return box().verify_link_password(l, password); }); }
  std::vector<std::int64_t> link_ids(std::optional<std::int64_t> node = std::nullopt) {
    std::vector<std::int64_t> out;
    auto l = await([&] { return box().links(kUser, node); });
    EXPECT_TRUE(l) << describe(l.error());
    if (l) {
      for (const auto& x : *l) { out.push_back(x.id); }
    }
    return out;
  }
  // Through a link's subtree.
  Result<WriteResult> put_in(Subtree& t, const std::string& path, const std::string& body, PutOptions options = {}) {
    options.length = body.size();
    StringSource src(body);
    return await([&] { return t.put(path, src, options); });
  }

  FakeClock clock_;
};

TEST_P(BoxLinksTest, TokensAreLongRandomAndOpenTheirNode) {
  ASSERT_OK(mkcol("share"));
  ASSERT_OK(put("share/a.txt", "alpha"));
  std::set<std::string> tokens;
  std::int64_t first_id = 0;
  for (int i = 0; i < 20; ++i) {
    auto l = create("share");
    ASSERT_OK(l);
    if (i == 0) { first_id = l->id; }
    EXPECT_EQ(l->token.size(), 22u);
    for (char c : l->token) { EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c))) << l->token; }
    tokens.insert(l->token);
    EXPECT_EQ(l->owner, kUser);
    EXPECT_EQ(l->node.path, "share");
    EXPECT_EQ(l->label, "for the team");
    EXPECT_TRUE(l->password_hash.empty());
  }
  EXPECT_EQ(tokens.size(), 20u);
  auto o = open(*tokens.begin());
  ASSERT_OK(o);
  EXPECT_EQ(o->node.path, "share");
  EXPECT_TRUE(o->node.folder);
  EXPECT_EQ(link_ids().size(), 20u);
  EXPECT_EQ(link_ids(o->node_id).size(), 20u);
  auto n = stat("share/a.txt");
  ASSERT_OK(n);
  EXPECT_TRUE(link_ids(n->id).empty());
  // Guessing: tokens of the right shape that were never issued open nothing.
  EXPECT_ERRC(open("AAAAAAAAAAAAAAAAAAAAAA"), Errc::not_found);
  EXPECT_ERRC(open(""), Errc::not_found);
  EXPECT_ERRC(open(o->token.substr(0, 21)), Errc::not_found);
  // Another user neither sees nor reads nor changes them.
  EXPECT_TRUE(await([&] { return box().links(kOther, std::nullopt); })->empty());
  EXPECT_ERRC(await([&] { return box().link(kOther, first_id); }), Errc::forbidden);
  LinkUpdate u;
  u.label = "mine now";
  EXPECT_ERRC(update(first_id, u, kOther), Errc::forbidden);
  EXPECT_ERRC(await([&] { return box().delete_link(kOther, first_id); }), Errc::forbidden);
  EXPECT_ERRC(await([&] { return box().link(kUser, 987654321); }), Errc::not_found);
  // The root of a box is not shareable; a missing path is not found.
  EXPECT_ERRC(create(""), Errc::invalid_argument);
  EXPECT_ERRC(create("nope"), Errc::not_found);
}

TEST_P(BoxLinksTest, LinkFollowsMovesAndStopsInTheTrash) {
  ASSERT_OK(mkcol("share"));
  ASSERT_OK(put("share/a.txt", "alpha"));
  auto l = create("share");
  ASSERT_OK(l);
  ASSERT_OK(mkcol("moved"));
  ASSERT_OK(await([&] { return box().move(kUser, "share", "moved/renamed", false); }));
  auto o = open(l->token);
  ASSERT_OK(o);
  EXPECT_EQ(o->node.path, "moved/renamed");
  auto tree = box().subtree(*o);
  auto a = await([&] { return tree->stat("a.txt"); });
  ASSERT_OK(a);
  EXPECT_EQ(must(read(*a)), "alpha");
  // In the trash (with its parent): the token opens nothing, a subtree made before sees nothing.
  ASSERT_OK(await([&] { return box().remove(kUser, "moved", std::nullopt); }));
  EXPECT_ERRC(open(l->token), Errc::not_found);
  EXPECT_ERRC(await([&] { return tree->stat("a.txt"); }), Errc::not_found);
  EXPECT_ERRC(put_in(*tree, "b.txt", "x"), Errc::not_found);
  EXPECT_TRUE(link_ids().empty());
  // Restored, it works again; purged, the link is gone for good.
  auto items = await([&] { return box().trash(kUser); });
  ASSERT_OK(items);
  ASSERT_EQ(items->size(), 1u);
  ASSERT_OK(await([&] { return box().restore_trash(kUser, (*items)[0].id); }));
  ASSERT_OK(open(l->token));
  ASSERT_OK(await([&] { return box().remove(kUser, "moved", std::nullopt); }));
  ASSERT_OK(await([&] { return box().purge_trash(kUser, std::nullopt); }));
  EXPECT_ERRC(open(l->token), Errc::not_found);
  EXPECT_ERRC(await([&] { return box().link(kUser, l->id); }), Errc::not_found);
}

TEST_P(BoxLinksTest, ExpiryFollowsTheClock) {
  ASSERT_OK(mkcol("share"));
  EXPECT_ERRC(create("share", LinkAccess::read, std::nullopt, now()), Errc::invalid_argument);
  EXPECT_ERRC(create("share", LinkAccess::read, std::nullopt, now() - 86400), Errc::invalid_argument);
  auto l = create("share", LinkAccess::read, std::nullopt, now() + 3600);
  ASSERT_OK(l);
  ASSERT_TRUE(l->expires_s.has_value());
  EXPECT_EQ(*l->expires_s, now() + 3600);
  ASSERT_OK(open(l->token));
  clock_.advance(std::chrono::seconds(3599));
  ASSERT_OK(open(l->token));
  clock_.advance(std::chrono::seconds(1));
  EXPECT_ERRC(open(l->token), Errc::not_found);
  // The owner still sees it (with its date) and can extend or clear it.
  EXPECT_EQ(link_ids().size(), 1u);
  LinkUpdate past;
  past.expires_s.emplace(now() - 1);
  EXPECT_ERRC(update(l->id, past), Errc::invalid_argument);
  LinkUpdate clear;
  clear.expires_s.emplace();
  auto cleared = update(l->id, clear);
  ASSERT_OK(cleared);
  EXPECT_FALSE(cleared->expires_s.has_value());
  ASSERT_OK(open(l->token));
  clock_.advance(std::chrono::hours(24 * 365));
  ASSERT_OK(open(l->token));
}

TEST_P(BoxLinksTest, RevokedLinksOpenNothing) {
  ASSERT_OK(mkcol("share"));
  auto l = create("share");
  ASSERT_OK(l);
  ASSERT_OK(await([&] { return box().delete_link(kUser, l->id); }));
  EXPECT_ERRC(open(l->token), Errc::not_found);
  EXPECT_ERRC(await([&] { return box().delete_link(kUser, l->id); }), Errc::not_found);
  EXPECT_TRUE(link_ids().empty());
}

TEST_P(BoxLinksTest, AccessLevels) {
  EXPECT_EQ(link_permissions(LinkAccess::read), 1);
  EXPECT_EQ(link_permissions(LinkAccess::read_write), 15);
  EXPECT_EQ(link_permissions(LinkAccess::upload), 4);
  EXPECT_EQ(link_access_from(1), LinkAccess::read);
  EXPECT_EQ(link_access_from(17), LinkAccess::read);  // the share bit is ignored
  EXPECT_EQ(link_access_from(15), LinkAccess::read_write);
  EXPECT_EQ(link_access_from(31), LinkAccess::read_write);
  EXPECT_EQ(link_access_from(4), LinkAccess::upload);
  for (int bad : {0, 2, 3, 5, 7, 8, 16, 32, -1}) { EXPECT_FALSE(link_access_from(bad).has_value()) << bad; }
  ASSERT_OK(mkcol("share"));
  ASSERT_OK(put("doc.txt", "d"));
  // A file can only be shared for reading.
  EXPECT_ERRC(create("doc.txt", LinkAccess::read_write), Errc::invalid_argument);
  EXPECT_ERRC(create("doc.txt", LinkAccess::upload), Errc::invalid_argument);
  auto f = create("doc.txt");
  ASSERT_OK(f);
  LinkUpdate to_upload;
  to_upload.access = LinkAccess::upload;
  EXPECT_ERRC(update(f->id, to_upload), Errc::invalid_argument);
  auto d = create("share", LinkAccess::upload);
  ASSERT_OK(d);
  EXPECT_EQ(d->access, LinkAccess::upload);
  LinkUpdate to_rw;
  to_rw.access = LinkAccess::read_write;
  auto u = update(d->id, to_rw);
  ASSERT_OK(u);
  EXPECT_EQ(u->access, LinkAccess::read_write);
  EXPECT_EQ(open(d->token)->access, LinkAccess::read_write);
  // A file link's subtree is the file: it reads, nothing goes beneath it.
  auto tree = box().subtree(*f);
  auto n = await([&] { return tree->stat(""); });
  ASSERT_OK(n);
  EXPECT_FALSE(n->folder);
  EXPECT_EQ(n->name, "doc.txt");
  EXPECT_ERRC(put_in(*tree, "x.txt", "x"), Errc::conflict);
  EXPECT_ERRC(await([&] { return tree->stat("x.txt"); }), Errc::not_found);
}

TEST_P(BoxLinksTest, PasswordsAreArgon2idAndChecked) {
  ASSERT_OK(mkcol("share"));
  EXPECT_ERRC(create("share", LinkAccess::read, std::string()), Errc::invalid_argument);
  auto l = create("share", LinkAccess::read, std::string("correct horse"));
  ASSERT_OK(l);
  EXPECT_TRUE(l->password_hash.starts_with("$argon2id$")) << l->password_hash;
  EXPECT_EQ(l->password_hash.find("correct horse"), std::string::npos);
  auto o = open(l->token);
  ASSERT_OK(o);
  EXPECT_EQ(o->password_hash, l->password_hash);
  EXPECT_TRUE(verify(*o, "correct horse"));
  EXPECT_FALSE(verify(*o, "correct horse "));
  EXPECT_FALSE(verify(*o, ""));
  // Changed, then cleared.
  LinkUpdate change;
  change.password.emplace("battery staple");
  ASSERT_OK(update(l->id, change));
  o = open(l->token);
  ASSERT_OK(o);
  EXPECT_FALSE(verify(*o, "correct horse"));
  EXPECT_TRUE(verify(*o, "battery staple"));
  LinkUpdate clear;
  clear.password.emplace();
  ASSERT_OK(update(l->id, clear));
  o = open(l->token);
  ASSERT_OK(o);
  EXPECT_TRUE(o->password_hash.empty());
  EXPECT_TRUE(verify(*o, "anything"));
  // A label alone leaves the rest as it was.
  LinkUpdate label;
  label.label = "renamed";
  auto u = update(l->id, label);
  ASSERT_OK(u);
  EXPECT_EQ(u->label, "renamed");
  EXPECT_TRUE(u->password_hash.empty());
}

TEST_P(BoxLinksTest, LinkPathsCannotLeaveTheLink) {
  for (const std::string& bad : std::vector<std::string>{"..", ".", "../x", "a/../b", "a/./b", "%2e%2e", "%2E%2e/x", "a/%2e%2E", "%2e", "a%2fb", "%2F", "a\\b", "a%5cb",
                          "/etc/passwd", "/", "a%00b", std::string("a\0b", 3), std::string("\xff", 1)}) {
    EXPECT_ERRC(normalize_link_path(bad), Errc::invalid_argument);
  }
  EXPECT_EQ(must(normalize_link_path("")), "");
  EXPECT_EQ(must(normalize_link_path("a/b/")), "a/b");
  EXPECT_EQ(must(normalize_link_path("a%20b")), "a%20b");  // a name with a percent sign, not an escape
  EXPECT_EQ(must(normalize_link_path("100%")), "100%");
  EXPECT_EQ(must(normalize_link_path("..a/b..")), "..a/b..");

  ASSERT_OK(put("secret.txt", "top secret"));
  ASSERT_OK(mkcol("share"));
  ASSERT_OK(mkcol("share/sub"));
  ASSERT_OK(put("share/a.txt", "alpha"));
  ASSERT_OK(mkcol("other"));
  auto l = create("share/sub", LinkAccess::read_write);
  ASSERT_OK(l);
  auto tree = box().subtree(*l);
  // The engine refuses dot segments itself; names of the owner's other files resolve to nothing.
  EXPECT_ERRC(await([&] { return tree->stat("../a.txt"); }), Errc::invalid_argument);
  EXPECT_ERRC(await([&] { return tree->stat("../../secret.txt"); }), Errc::invalid_argument);
  EXPECT_ERRC(await([&] { return tree->stat("secret.txt"); }), Errc::not_found);
  EXPECT_ERRC(await([&] { return tree->stat("a.txt"); }), Errc::not_found);
  EXPECT_ERRC(await([&] { return tree->stat("share/a.txt"); }), Errc::not_found);
  EXPECT_ERRC(put_in(*tree, "../escaped.txt", "x"), Errc::invalid_argument);
  EXPECT_ERRC(await([&] { return tree->move("", "../moved", true); }), Errc::invalid_argument);
  EXPECT_ERRC(await([&] { return tree->mkcol("../../other/x", std::nullopt); }), Errc::invalid_argument);
  // The linked folder itself cannot be removed, moved, copied into itself or replaced.
  EXPECT_ERRC(await([&] { return tree->remove("", std::nullopt); }), Errc::forbidden);
  ASSERT_OK(put_in(*tree, "f.txt", "f"));
  EXPECT_ERRC(await([&] { return tree->move("", "x", true); }), Errc::forbidden);
  EXPECT_ERRC(await([&] { return tree->move("f.txt", "", true); }), Errc::forbidden);
  EXPECT_ERRC(await([&] { return tree->copy("", "copy", true, true); }), Errc::conflict);
  // Nothing outside changed.
  EXPECT_EQ(must(read(must(stat("secret.txt")))), "top secret");
  auto top = await([&] { return box().list(kUser, ""); });
  ASSERT_OK(top);
  std::vector<std::string> names;
  for (const auto& n : top->second) { names.push_back(n.name); }
  EXPECT_EQ(names, (std::vector<std::string>{"other", "secret.txt", "share"}));
}

TEST_P(BoxLinksTest, WritesThroughALinkAreTheOwners) {
  ASSERT_OK(mkcol("share"));
  auto l = create("share", LinkAccess::read_write);
  ASSERT_OK(l);
  auto tree = box().subtree(*l);
  EXPECT_EQ(tree->owner(), kUser);
  std::string root_etag = must(stat("")).etag;
  std::string share_etag = must(stat("share")).etag;
  auto w = put_in(*tree, "new.txt", "fresh bytes");
  ASSERT_OK(w);
  EXPECT_TRUE(w->created);
  EXPECT_EQ(w->node.path, "new.txt");  // relative to the link
  auto seen = stat("share/new.txt");
  ASSERT_OK(seen);
  EXPECT_EQ(seen->id, w->node.id);
  EXPECT_EQ(must(read(*seen)), "fresh bytes");
  EXPECT_NE(must(stat("")).etag, root_etag);
  EXPECT_NE(must(stat("share")).etag, share_etag);
  EXPECT_EQ(must(stat("")).size, 11u);
  ASSERT_OK(await([&] { return tree->mkcol("dir", std::nullopt); }));
  ASSERT_OK(await([&] { return tree->move("new.txt", "dir/moved.txt", false); }));
  ASSERT_OK(stat("share/dir/moved.txt"));
  ASSERT_OK(await([&] { return tree->copy("dir/moved.txt", "copy.txt", false, true); }));
  ASSERT_OK(stat("share/copy.txt"));
  // A delete goes to the owner's trash, recorded with its place in the owner's tree.
  ASSERT_OK(await([&] { return tree->remove("dir", std::nullopt); }));
  auto items = await([&] { return box().trash(kUser); });
  ASSERT_OK(items);
  ASSERT_EQ(items->size(), 1u);
  EXPECT_EQ((*items)[0].original_path, "share/dir");
  ASSERT_OK(await([&] { return box().restore_trash(kUser, (*items)[0].id); }));
  ASSERT_OK(stat("share/dir/moved.txt"));
  // The owner's quota applies.
  ASSERT_OK(await([&] { return box().set_quota(kUser, 30); }));
  EXPECT_ERRC(put_in(*tree, "big.bin", std::string(100, 'x')), Errc::quota_exceeded);
  EXPECT_ERRC(stat("share/big.bin"), Errc::not_found);
  EXPECT_ERRC(await([&] { return tree->copy("copy.txt", "copy2.txt", false, true); }), Errc::quota_exceeded);
}

TEST_P(BoxLinksTest, FileDropsNeverReplace) {
  ASSERT_OK(mkcol("drop"));
  auto l = create("drop", LinkAccess::upload);
  ASSERT_OK(l);
  auto tree = box().subtree(*l);
  PutOptions keep;
  keep.keep_both = true;
  auto first = put_in(*tree, "report.pdf", "one", keep);
  ASSERT_OK(first);
  EXPECT_EQ(first->node.name, "report.pdf");
  auto second = put_in(*tree, "report.pdf", "two", keep);
  ASSERT_OK(second);
  EXPECT_TRUE(second->created);
  EXPECT_EQ(second->node.name, "report (2).pdf");
  auto third = put_in(*tree, "report.pdf", "three", keep);
  ASSERT_OK(third);
  EXPECT_EQ(third->node.name, "report (3).pdf");
  auto noext = put_in(*tree, "README", "a", keep);
  ASSERT_OK(noext);
  ASSERT_OK(put_in(*tree, "README", "b", keep));
  ASSERT_OK(stat("drop/README (2)"));
  EXPECT_EQ(must(read(must(stat("drop/report.pdf")))), "one");
  EXPECT_EQ(must(read(must(stat("drop/report (2).pdf")))), "two");
  EXPECT_EQ(must(read(must(stat("drop/report (3).pdf")))), "three");
  auto v = await([&] { return box().versions(kUser, first->node.id); });
  ASSERT_OK(v);
  EXPECT_TRUE(v->empty());
}

TEST_P(BoxLinksTest, DownloadsAreCounted) {
  ASSERT_OK(put("doc.txt", "d"));
  auto l = create("doc.txt");
  ASSERT_OK(l);
  EXPECT_EQ(l->downloads, 0u);
  ASSERT_OK(await([&] { return box().count_download(l->id, l->node_id); }));
  ASSERT_OK(await([&] { return box().count_download(l->id, l->node_id); }));
  auto got = await([&] { return box().link(kUser, l->id); });
  ASSERT_OK(got);
  EXPECT_EQ(got->downloads, 2u);
  EXPECT_EQ(got->created_s, now());
}

INSTANTIATE_TEST_SUITE_P(Backends, BoxLinksTest, ::testing::Values(Backend::sqlite, Backend::postgres), test::backend_param_name);

}  // namespace
}  // namespace ciel::box
