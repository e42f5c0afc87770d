// Shares between users in the box engine, on both MetaStore backends: a recipient's mount point
// shows the owner's node and routes paths into the owner's tree with the share's permissions;
// changes inside reach the recipient's etags; revocation, declining, group membership and the
// trash take effect at the next call; reshares stay within their initiator's permissions; moves
// and copies across a share's edge carry the bytes; writes count against the owner.
#include <gtest/gtest.h>

#include <boost/asio/awaitable.hpp>
#include <map>
#include <mutex>
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

const std::string kAlice = "u-alice", kBob = "u-bob", kCarol = "u-carol";


class BoxSharesTest : public BoxStoreTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(open_stores());
    BoxConfig config;
    config.inline_max = 0;
    Directory directory;
    directory.groups_of = [this](const std::string& user) {
      std::lock_guard lock(mu_);
      return groups_[user];
    };
    directory.name_of = [](const std::string& id, bool group) { return (group ? "group " : "") + id.substr(2); };
    box_ = make_box_service(*meta_, *blobs_, config, clock_, std::move(directory));
  }


  BoxService& box() { return *box_; }
  void set_groups(const std::string& user, std::vector<std::string> groups) {
    std::lock_guard lock(mu_);
    groups_[user] = std::move(groups);
  }

  Result<Node> mkcol(const std::string& user, const std::string& path) { return await([&] { return box().mkcol(user, path, std::nullopt); }); }
  Result<WriteResult> put(const std::string& user, const std::string& path, const std::string& body) {
    PutOptions options;
    options.length = body.size();
    StringSource src(body);
    return await([&] { return box().put(user, path, src, options); });
  }
  Result<Node> stat(const std::string& user, const std::string& path) { return await([&] { return box().stat(user, path); }); }
  std::map<std::string, Node> list(const std::string& user, const std::string& path) {
    std::map<std::string, Node> out;
    auto l = await([&] { return box().list(user, path); });
    EXPECT_TRUE(l) << describe(l.error());
    if (l) {
      for (auto& n : l->second) { out[n.name] = n; }
    }
    return out;
  }
  std::string read(const std::string& user, const std::string& path) {
    auto n = stat(user, path);
    if (!n) { return "<" + describe(n.error()) + ">"; }
    auto data = await([&]() -> awaitable<Result<std::string>> {
      auto src = co_await box().open(*n, 0, n->size);
      if (!src) { co_return src.error(); }
      co_return co_await read_all(**src, 1 << 20);
    });
    return data ? *data : "<" + describe(data.error()) + ">";
  }
  Result<Share> share(const std::string& user, const std::string& path, const std::string& with, int perms,
                      ShareType type = ShareType::user) {
    return await([&] { return box().create_share(user, path, type, with, perms); });
  }
  // The error's code; nullopt on success.
  std::optional<Errc> code_of(const Status& s) { return s ? std::nullopt : std::optional<Errc>(s.error().code); }
  template <class T>
  std::optional<Errc> code_of(const Result<T>& r) {
    return r ? std::nullopt : std::optional<Errc>(r.error().code);
  }

  FakeClock clock_;
  std::mutex mu_;
  std::map<std::string, std::vector<std::string>> groups_;
};

TEST_P(BoxSharesTest, TheRecipientSeesAMountPointThatShowsTheOwnersNode) {
  ASSERT_OK(mkcol(kAlice, "Projet"));
  ASSERT_OK(put(kAlice, "Projet/a.txt", "alpha"));
  ASSERT_OK(put(kAlice, "secret.txt", "not shared"));
  ASSERT_OK(put(kBob, "mine.txt", "bob's"));
  auto sh = share(kAlice, "Projet", kBob, kPermRead);
  ASSERT_OK(sh);
  EXPECT_EQ(sh->owner, kAlice);
  EXPECT_EQ(sh->initiator, kAlice);

  auto root = list(kBob, "");
  ASSERT_EQ(root.size(), 2u);
  ASSERT_TRUE(root.contains("Projet"));
  const Node& mount = root["Projet"];
  EXPECT_TRUE(mount.folder);
  EXPECT_TRUE(mount.mount);
  EXPECT_EQ(mount.owner, kAlice);
  EXPECT_EQ(mount.permissions, kPermRead);
  EXPECT_EQ(mount.size, 5u);  // the shared folder's, not the mount row's
  auto alices = stat(kAlice, "Projet");
  ASSERT_OK(alices);
  EXPECT_EQ(mount.id, alices->id);
  EXPECT_EQ(mount.etag, alices->etag);
  EXPECT_EQ(read(kBob, "Projet/a.txt"), "alpha");
  auto inner = stat(kBob, "Projet/a.txt");
  ASSERT_OK(inner);
  EXPECT_EQ(inner->path, "Projet/a.txt");
  EXPECT_EQ(inner->share_id, sh->id);
  EXPECT_FALSE(inner->mount);
  // The recipient's quota does not count what is shared with them.
  auto q = await([&] { return box().quota(kBob); });
  ASSERT_OK(q);
  EXPECT_EQ(q->used, 5u);
  // By id: the recipient reaches what is inside, a third user nothing.
  auto by_id = await([&] { return box().node_by_id(kBob, inner->id); });
  ASSERT_OK(by_id);
  EXPECT_EQ(by_id->path, "Projet/a.txt");
  EXPECT_EQ(code_of(await([&] { return box().node_by_id(kCarol, inner->id); })), Errc::not_found);
  auto secret = stat(kAlice, "secret.txt");
  ASSERT_OK(secret);
  EXPECT_EQ(code_of(await([&] { return box().node_by_id(kBob, secret->id); })), Errc::not_found);
}

TEST_P(BoxSharesTest, PermissionsBoundEveryWrite) {
  ASSERT_OK(mkcol(kAlice, "D"));
  ASSERT_OK(put(kAlice, "D/f.txt", "one"));
  ASSERT_OK(put(kBob, "b.txt", "bob's"));
  auto sh = share(kAlice, "D", kBob, kPermRead);
  ASSERT_OK(sh);
  EXPECT_EQ(code_of(put(kBob, "D/new.txt", "x")), Errc::forbidden);
  EXPECT_EQ(code_of(put(kBob, "D/f.txt", "two")), Errc::forbidden);
  EXPECT_EQ(code_of(mkcol(kBob, "D/sub")), Errc::forbidden);
  EXPECT_EQ(code_of(await([&] { return box().remove(kBob, "D/f.txt", std::nullopt); })), Errc::forbidden);
  EXPECT_EQ(code_of(await([&] { return box().move(kBob, "D/f.txt", "D/g.txt", false); })), Errc::forbidden);
  EXPECT_EQ(code_of(await([&] { return box().copy(kBob, "b.txt", "D/b.txt", false, true); })), Errc::forbidden);
  EXPECT_EQ(code_of(await([&] { return box().lock(kBob, "D/f.txt", LockRequest{}); })), Errc::forbidden);
  EXPECT_EQ(read(kAlice, "D/f.txt"), "one");
  EXPECT_EQ(list(kAlice, "D").size(), 1u);

  ASSERT_OK(await([&] { return box().update_share(kAlice, sh->id, kPermRead | kPermUpdate); }));
  ASSERT_OK(put(kBob, "D/f.txt", "two"));
  ASSERT_OK(await([&] { return box().move(kBob, "D/f.txt", "D/renamed.txt", false); }));
  EXPECT_EQ(code_of(put(kBob, "D/new.txt", "x")), Errc::forbidden);
  EXPECT_EQ(read(kAlice, "D/renamed.txt"), "two");
  // The previous content is the owner's version.
  auto n = stat(kAlice, "D/renamed.txt");
  ASSERT_OK(n);
  auto versions = await([&] { return box().versions(kAlice, n->id); });
  ASSERT_OK(versions);
  EXPECT_EQ(versions->size(), 1u);

  ASSERT_OK(await([&] { return box().update_share(kAlice, sh->id, kPermRead | kPermCreate | kPermDelete); }));
  ASSERT_OK(put(kBob, "D/new.txt", "x"));
  ASSERT_OK(mkcol(kBob, "D/sub"));
  ASSERT_OK(await([&] { return box().remove(kBob, "D/new.txt", std::nullopt); }));
  // The removed file went to the owner's trash.
  auto trash = await([&] { return box().trash(kAlice); });
  ASSERT_OK(trash);
  ASSERT_EQ(trash->size(), 1u);
  EXPECT_EQ((*trash)[0].name, "new.txt");
  // Only who made a share changes it.
  EXPECT_EQ(code_of(await([&] { return box().update_share(kBob, sh->id, kPermAll); })), Errc::forbidden);
  EXPECT_EQ(code_of(await([&] { return box().update_share(kCarol, sh->id, kPermAll); })), Errc::not_found);
}

TEST_P(BoxSharesTest, ChangesInsideReachTheRecipientsEtags) {
  ASSERT_OK(mkcol(kAlice, "P"));
  ASSERT_OK(mkcol(kAlice, "P/deep"));
  ASSERT_OK(mkcol(kBob, "Inbox"));
  ASSERT_OK(share(kAlice, "P", kBob, kPermRead));
  ASSERT_OK(await([&] { return box().move(kBob, "P", "Inbox/From Alice", false); }));
  auto root = stat(kBob, "");
  auto inbox = stat(kBob, "Inbox");
  ASSERT_OK(root);
  ASSERT_OK(inbox);
  ASSERT_OK(put(kAlice, "P/deep/x.txt", "x"));
  auto root2 = stat(kBob, "");
  auto inbox2 = stat(kBob, "Inbox");
  ASSERT_OK(root2);
  ASSERT_OK(inbox2);
  EXPECT_NE(root->etag, root2->etag);
  EXPECT_NE(inbox->etag, inbox2->etag);
  EXPECT_EQ(read(kBob, "Inbox/From Alice/deep/x.txt"), "x");
  // A file share: a new content changes the recipient's root etag too.
  ASSERT_OK(put(kAlice, "one.txt", "v1"));
  ASSERT_OK(share(kAlice, "one.txt", kBob, kPermRead));
  auto before = stat(kBob, "");
  ASSERT_OK(before);
  ASSERT_OK(put(kAlice, "one.txt", "v2"));
  auto after = stat(kBob, "");
  ASSERT_OK(after);
  EXPECT_NE(before->etag, after->etag);
  EXPECT_EQ(read(kBob, "one.txt"), "v2");
}

TEST_P(BoxSharesTest, RevokingDecliningAndTheTrashTakeEffectAtOnce) {
  ASSERT_OK(mkcol(kAlice, "R"));
  ASSERT_OK(put(kAlice, "R/f.txt", "f"));
  auto sh = share(kAlice, "R", kBob, kPermRead);
  ASSERT_OK(sh);
  EXPECT_EQ(read(kBob, "R/f.txt"), "f");
  // In the owner's trash: gone for the recipient; restored: back.
  ASSERT_OK(await([&] { return box().remove(kAlice, "R", std::nullopt); }));
  EXPECT_EQ(code_of(stat(kBob, "R/f.txt")), Errc::not_found);
  EXPECT_FALSE(list(kBob, "").contains("R"));
  auto trash = await([&] { return box().trash(kAlice); });
  ASSERT_OK(trash);
  ASSERT_OK(await([&] { return box().restore_trash(kAlice, (*trash)[0].id); }));
  EXPECT_EQ(read(kBob, "R/f.txt"), "f");
  // Revoked.
  ASSERT_OK(await([&] { return box().delete_share(kAlice, sh->id); }));
  EXPECT_EQ(code_of(stat(kBob, "R/f.txt")), Errc::not_found);
  EXPECT_FALSE(list(kBob, "").contains("R"));
  EXPECT_EQ(code_of(await([&] { return box().share(kBob, sh->id); })), Errc::not_found);
  // Declined by the recipient: the share goes, the owner's files stay.
  auto again = share(kAlice, "R", kBob, kPermRead);
  ASSERT_OK(again);
  ASSERT_OK(await([&] { return box().remove(kBob, "R", std::nullopt); }));
  EXPECT_EQ(read(kAlice, "R/f.txt"), "f");
  auto mine = await([&] { return box().shares(kAlice, std::nullopt); });
  ASSERT_OK(mine);
  EXPECT_TRUE(mine->empty());
  // Purged from the trash: the share goes with the node.
  ASSERT_OK(share(kAlice, "R", kBob, kPermRead));
  ASSERT_OK(await([&] { return box().remove(kAlice, "R", std::nullopt); }));
  ASSERT_OK(await([&] { return box().purge_trash(kAlice, std::nullopt); }));
  auto after = await([&] { return box().shares(kAlice, std::nullopt); });
  ASSERT_OK(after);
  EXPECT_TRUE(after->empty());
  auto received = await([&] { return box().received_shares(kBob); });
  ASSERT_OK(received);
  EXPECT_TRUE(received->empty());
}

TEST_P(BoxSharesTest, GroupSharesFollowMembership) {
  set_groups(kBob, {"g-team"});
  set_groups(kCarol, {"g-team"});
  ASSERT_OK(mkcol(kAlice, "G"));
  ASSERT_OK(put(kAlice, "G/f.txt", "group"));
  auto sh = share(kAlice, "G", "g-team", kPermRead, ShareType::group);
  ASSERT_OK(sh);
  EXPECT_EQ(read(kBob, "G/f.txt"), "group");
  EXPECT_EQ(read(kCarol, "G/f.txt"), "group");
  // Carol declines: Bob keeps it.
  ASSERT_OK(await([&] { return box().remove(kCarol, "G", std::nullopt); }));
  EXPECT_FALSE(list(kCarol, "").contains("G"));
  EXPECT_EQ(read(kBob, "G/f.txt"), "group");
  // Bob leaves the group: at once.
  set_groups(kBob, {});
  EXPECT_EQ(code_of(stat(kBob, "G/f.txt")), Errc::not_found);
  EXPECT_FALSE(list(kBob, "").contains("G"));
}

TEST_P(BoxSharesTest, ResharesStayWithinTheirInitiatorsPermissions) {
  ASSERT_OK(mkcol(kAlice, "C"));
  ASSERT_OK(put(kAlice, "C/f.txt", "c"));
  auto sh = share(kAlice, "C", kBob, kPermRead | kPermUpdate);
  ASSERT_OK(sh);
  EXPECT_EQ(code_of(share(kBob, "C", kCarol, kPermRead)), Errc::forbidden);
  ASSERT_OK(await([&] { return box().update_share(kAlice, sh->id, kPermRead | kPermUpdate | kPermShare); }));
  EXPECT_EQ(code_of(share(kBob, "C", kCarol, kPermRead | kPermDelete)), Errc::invalid_argument);
  auto re = share(kBob, "C/f.txt", kCarol, kPermRead);
  ASSERT_OK(re);
  EXPECT_EQ(re->owner, kAlice);
  EXPECT_EQ(re->initiator, kBob);
  EXPECT_EQ(read(kCarol, "f.txt"), "c");
  EXPECT_EQ(code_of(share(kAlice, "C", kAlice, kPermRead)), Errc::invalid_argument);  // oneself
  EXPECT_EQ(code_of(share(kBob, "C", kAlice, kPermRead)), Errc::invalid_argument);    // the owner
  EXPECT_EQ(code_of(share(kAlice, "C", kBob, kPermRead)), Errc::already_exists);
  EXPECT_EQ(code_of(share(kAlice, "", kBob, kPermRead)), Errc::invalid_argument);
  EXPECT_EQ(code_of(share(kAlice, "C", kCarol, 0)), Errc::invalid_argument);
  EXPECT_EQ(code_of(share(kAlice, "C", kCarol, 64)), Errc::invalid_argument);
  // Narrowing the share narrows the reshare; revoking it revokes the reshare.
  ASSERT_OK(await([&] { return box().delete_share(kAlice, sh->id); }));
  EXPECT_EQ(code_of(stat(kCarol, "f.txt")), Errc::not_found);
  EXPECT_EQ(code_of(await([&] { return box().share(kCarol, re->id); })), Errc::not_found);
}

TEST_P(BoxSharesTest, MovesAndCopiesAcrossTheEdgeCarryTheBytes) {
  ASSERT_OK(mkcol(kAlice, "E"));
  ASSERT_OK(put(kAlice, "E/theirs.txt", "alice's"));
  ASSERT_OK(put(kBob, "mine.txt", "bob's"));
  ASSERT_OK(share(kAlice, "E", kBob, kPermAll));
  ASSERT_OK(await([&] { return box().move(kBob, "mine.txt", "E/mine.txt", false); }));
  EXPECT_EQ(read(kAlice, "E/mine.txt"), "bob's");
  EXPECT_EQ(code_of(stat(kBob, "mine.txt")), Errc::not_found);
  ASSERT_OK(await([&] { return box().copy(kBob, "E/theirs.txt", "copy.txt", false, true); }));
  EXPECT_EQ(read(kBob, "copy.txt"), "alice's");
  ASSERT_OK(await([&] { return box().copy(kBob, "E", "Whole copy", false, true); }));
  EXPECT_EQ(read(kBob, "Whole copy/mine.txt"), "bob's");
  auto own = stat(kBob, "Whole copy");
  ASSERT_OK(own);
  EXPECT_EQ(own->owner, kBob);
  EXPECT_EQ(own->share_id, 0);
  // A mount point cannot move into a share, nor be replaced.
  ASSERT_OK(mkcol(kCarol, "F"));
  ASSERT_OK(share(kCarol, "F", kBob, kPermAll));
  EXPECT_EQ(code_of(await([&] { return box().move(kBob, "E", "F/E", false); })), Errc::forbidden);
  EXPECT_EQ(code_of(await([&] { return box().move(kBob, "copy.txt", "E", true); })), Errc::forbidden);
  // Writes through a share count against the owner's quota.
  ASSERT_OK(await([&] { return box().set_quota(kAlice, 20); }));
  EXPECT_EQ(code_of(put(kBob, "E/big.bin", std::string(100, 'b'))), Errc::quota_exceeded);
  EXPECT_EQ(code_of(stat(kAlice, "E/big.bin")), Errc::not_found);
}

INSTANTIATE_TEST_SUITE_P(Backends, BoxSharesTest, ::testing::Values(Backend::sqlite, Backend::postgres), test::backend_param_name);

}  // namespace
}  // namespace ciel::box
