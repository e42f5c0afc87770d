// The identity service over a real SQLite store, with a fake clock.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/crypto/crypto.h"
#include "identity/identity.h"
#include "identity/token/token.h"
#include "store/meta_store.h"
#include "support/test_support.h"

namespace ciel::identity {
namespace {

// The same tests on both metadata backends. PostgreSQL runs in a fresh schema of the database
// named by CIEL_TEST_POSTGRES_URL (scripts/test.sh starts one); without it the PostgreSQL cases
// fail rather than skip, like the store suite, so a run without PostgreSQL never looks green.
std::string with_search_path(const std::string& url, const std::string& schema) {
  return url + (url.find('?') == std::string::npos ? "?" : "&") + "options=-csearch_path%3D" + schema;
}

Status exec_sql(store::MetaStore& m, const std::string& sql) {
  return m.transact_sync([&](store::Tx& tx) -> Status {
    auto r = tx.exec(sql);
    if (!r) { return r.error(); }
    return {};
  });
}

class IdentityServiceTest : public ::testing::TestWithParam<std::string> {};

struct Fixture {
  test::TempDir dir;
  FakeClock clock;
  std::unique_ptr<store::MetaStore> pg_admin;
  std::string schema;
  std::unique_ptr<store::MetaStore> meta;
  std::unique_ptr<IdentityService> svc;
  std::string admin_password;

  explicit Fixture(const std::string& backend) {
    if (backend == "postgres") {
      const char* url = std::getenv("CIEL_TEST_POSTGRES_URL");
      if (url == nullptr || *url == '\0') {
        throw std::runtime_error("CIEL_TEST_POSTGRES_URL is not set: start scripts/pg-test-server.sh (scripts/test.sh does)");
      }
      auto admin = store::open_postgres_meta_store({url, 1});
      if (!admin) { throw std::runtime_error("PostgreSQL: " + admin.error().message + " " + admin.error().detail); }
      pg_admin = std::move(*admin);
      schema = "ciel_identity_test_" + crypto::random_hex(6);
      if (!exec_sql(*pg_admin, "CREATE SCHEMA " + schema)) { throw std::runtime_error("cannot create schema"); }
      auto m = store::open_postgres_meta_store({with_search_path(url, schema), 4});
      if (!m) { throw std::runtime_error(m.error().detail); }
      meta = std::move(*m);
    } else {
      auto m = store::open_sqlite_meta_store({dir.path() + "/meta.db"});
      if (!m) { throw std::runtime_error(m.error().detail); }
      meta = std::move(*m);
    }
    auto migs = migrations();
    if (!store::migrate(*meta, migs)) { throw std::runtime_error("migrate"); }
    reopen();
    auto boot = svc->bootstrap();
    if (!boot || !boot->created) { throw std::runtime_error("bootstrap"); }
    admin_password = boot->admin_password;
  }
  ~Fixture() {
    svc.reset();
    meta.reset();
    if (pg_admin) { (void)exec_sql(*pg_admin, "DROP SCHEMA IF EXISTS " + schema + " CASCADE"); }
  }
  void reopen() {
    svc.reset();
    IdentityConfig c;
    c.key_dir = dir.path() + "/keys";
    c.argon2_memory_kib = 256;
    c.argon2_iterations = 1;
    c.hash_threads = 1;
    c.backoff_user_threshold = 3;
    auto s = open_identity_service(*meta, c, clock);
    if (!s) { throw std::runtime_error(s.error().message); }
    svc = std::move(*s);
  }
  Result<IssuedToken> login(std::string user, std::string password, std::string project = "", std::string source = "10.0.0.1") {
    AuthRequest r;
    r.methods = {"password"};
    r.user_name = std::move(user);
    r.user_domain_name = "Default";
    r.password = std::move(password);
    if (!project.empty()) {
      r.scope = AuthRequest::Scope::project;
      r.project_name = std::move(project);
      r.project_domain_id = "default";
    }
    std::optional<Result<IssuedToken>> out;
    test::run_coro([&]() -> boost::asio::awaitable<void> { out.emplace(co_await svc->authenticate(r, source, "req-1")); });
    return std::move(*out);
  }
  Caller admin() {
    auto t = login("admin", admin_password, "admin");
    if (!t) { throw std::runtime_error("admin login: " + t.error().detail); }
    return Caller{t->principal, "10.0.0.1", "req-admin"};
  }
};

TEST_P(IdentityServiceTest, BootstrapsAdminWithProjectScopedToken) {
  Fixture f(GetParam());
  auto t = f.login("admin", f.admin_password, "admin");
  ASSERT_TRUE(t) << t.error().detail;
  EXPECT_EQ(t->principal.user_name, "admin");
  EXPECT_EQ(t->principal.project_name, "admin");
  EXPECT_TRUE(f.svc->policy().is_cloud_admin(t->principal));
  std::vector<std::string> roles;
  for (const auto& r : t->principal.roles) { roles.push_back(r.name); }
  EXPECT_NE(std::find(roles.begin(), roles.end(), "reader"), roles.end());  // implied
  auto v = f.svc->authenticate_token(t->token);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->audit_id, t->principal.audit_id);
  std::string body = f.svc->render_token(*v, true);
  EXPECT_NE(body.find("\"catalog\": ["), std::string::npos);
  EXPECT_NE(body.find("\"is_domain\": false"), std::string::npos);
  // A second bootstrap is a no-op.
  auto again = f.svc->bootstrap();
  ASSERT_TRUE(again);
  EXPECT_FALSE(again->created);
}

TEST_P(IdentityServiceTest, WrongPasswordAndUnknownUserLookAlike) {
  Fixture f(GetParam());
  auto a = f.login("admin", "wrong-password");
  auto b = f.login("nobody", "wrong-password");
  ASSERT_FALSE(a);
  ASSERT_FALSE(b);
  EXPECT_EQ(a.error().code, Errc::unauthenticated);
  EXPECT_EQ(a.error().message, b.error().message);
}

TEST_P(IdentityServiceTest, BackoffRefusesEvenTheRightPassword) {
  Fixture f(GetParam());
  for (int i = 0; i < 3; ++i) { EXPECT_FALSE(f.login("admin", "bad-password-" + std::to_string(i))); }
  EXPECT_FALSE(f.login("admin", f.admin_password, "admin"));
  f.clock.advance(std::chrono::seconds(2));
  EXPECT_TRUE(f.login("admin", f.admin_password, "admin"));
}

TEST_P(IdentityServiceTest, TokensExpire) {
  Fixture f(GetParam());
  auto t = f.login("admin", f.admin_password, "admin");
  ASSERT_TRUE(t);
  f.clock.advance(std::chrono::minutes(59));
  EXPECT_TRUE(f.svc->authenticate_token(t->token));
  f.clock.advance(std::chrono::minutes(2));
  auto v = f.svc->authenticate_token(t->token);
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().code, Errc::unauthenticated);
}

TEST_P(IdentityServiceTest, RevocationsSurviveARestart) {
  Fixture f(GetParam());
  Caller admin = f.admin();
  UserInput u;
  u.name = "carol";
  u.password = "carol-password";
  auto carol = f.svc->create_user(admin, u);
  ASSERT_TRUE(carol);
  ProjectInput p;
  p.name = "proj";
  auto proj = f.svc->create_project(admin, p);
  ASSERT_TRUE(proj);
  auto roles = f.svc->list_roles(admin, "member");
  ASSERT_TRUE(roles && roles->size() == 1);
  ASSERT_TRUE(f.svc->grant(admin, Assignment{ActorType::user, carol->id, TargetType::project, proj->id, roles->front().id, ""}));
  auto t1 = f.login("carol", "carol-password", "proj");
  auto t2 = f.login("carol", "carol-password", "proj");
  ASSERT_TRUE(t1 && t2);
  Caller self{t1->principal, "x", "r"};
  ASSERT_TRUE(f.svc->revoke_token(self, t1->token));
  EXPECT_FALSE(f.svc->authenticate_token(t1->token));
  EXPECT_TRUE(f.svc->authenticate_token(t2->token));
  f.reopen();
  EXPECT_FALSE(f.svc->authenticate_token(t1->token));
  EXPECT_TRUE(f.svc->authenticate_token(t2->token));
}

TEST_P(IdentityServiceTest, PasswordChangeAndDisableRevokeAtOnce) {
  Fixture f(GetParam());
  Caller admin = f.admin();
  UserInput u;
  u.name = "dave";
  u.password = "dave-password";
  auto dave = f.svc->create_user(admin, u);
  ASSERT_TRUE(dave);
  auto proj = f.svc->list_projects(admin, "admin", "", "");
  auto reader = f.svc->list_roles(admin, "reader");
  ASSERT_TRUE(f.svc->grant(admin, Assignment{ActorType::user, dave->id, TargetType::project, proj->front().id, reader->front().id, ""}));
  auto t = f.login("dave", "dave-password", "admin");
  ASSERT_TRUE(t);
  f.clock.advance(std::chrono::milliseconds(5));
  UserInput pw;
  pw.password = "dave-password-2";
  ASSERT_TRUE(f.svc->update_user(admin, dave->id, pw));
  EXPECT_FALSE(f.svc->authenticate_token(t->token));
  EXPECT_FALSE(f.login("dave", "dave-password", "admin"));
  f.clock.advance(std::chrono::milliseconds(5));
  auto t2 = f.login("dave", "dave-password-2", "admin");
  ASSERT_TRUE(t2);
  EXPECT_TRUE(f.svc->authenticate_token(t2->token));
  UserInput off;
  off.enabled = false;
  ASSERT_TRUE(f.svc->update_user(admin, dave->id, off));
  EXPECT_FALSE(f.svc->authenticate_token(t2->token));
  EXPECT_FALSE(f.login("dave", "dave-password-2", "admin"));
}

TEST_P(IdentityServiceTest, ShortPasswordsAndDuplicateNamesAreRefused) {
  Fixture f(GetParam());
  Caller admin = f.admin();
  UserInput u;
  u.name = "erin";
  u.password = "short";
  auto r = f.svc->create_user(admin, u);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::invalid_argument);
  u.password = "long-enough-password";
  ASSERT_TRUE(f.svc->create_user(admin, u));
  auto dup = f.svc->create_user(admin, u);
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code, Errc::already_exists);
  ProjectInput p;
  p.name = "same";
  ASSERT_TRUE(f.svc->create_project(admin, p));
  auto pdup = f.svc->create_project(admin, p);
  ASSERT_FALSE(pdup);
  EXPECT_EQ(pdup.error().code, Errc::already_exists);
}

TEST_P(IdentityServiceTest, MutationsAreAudited) {
  Fixture f(GetParam());
  Caller admin = f.admin();
  (void)f.login("admin", "nope-nope-nope");
  ProjectInput p;
  p.name = "audited";
  auto proj = f.svc->create_project(admin, p);
  ASSERT_TRUE(proj);
  auto log = f.svc->read_audit(admin, AuditQuery{});
  ASSERT_TRUE(log);
  bool saw_create = false, saw_fail = false, saw_ok = false;
  for (const auto& r : *log) {
    if (r.action == "project.create" && r.target == "project:" + proj->id && r.outcome == "success" && r.principal == admin.principal.user_id &&
        r.request_id == "req-admin") {
      saw_create = true;
    }
    if (r.action == "auth.password" && r.outcome == "failure" && r.source == "10.0.0.1") { saw_fail = true; }
    if (r.action == "auth.password" && r.outcome == "success") { saw_ok = true; }
  }
  EXPECT_TRUE(saw_create);
  EXPECT_TRUE(saw_fail);
  EXPECT_TRUE(saw_ok);
}

TEST_P(IdentityServiceTest, Ec2CredentialsCarryTheUsersRoles) {
  Fixture f(GetParam());
  Caller admin = f.admin();
  auto cred = f.svc->create_ec2(admin, admin.principal.user_id, admin.principal.project_id);
  ASSERT_TRUE(cred);
  auto found = f.svc->find_ec2_credential(cred->access);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->secret, cred->secret);
  auto p = f.svc->principal_for_ec2(*found);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->project_id, admin.principal.project_id);
  f.reopen();  // the secret is sealed at rest and comes back
  auto again = f.svc->find_ec2_credential(cred->access);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->secret, cred->secret);
  EXPECT_FALSE(f.svc->find_ec2_credential("nope"));
}

TEST_P(IdentityServiceTest, RefreshPicksUpAnotherNodesChanges) {
  Fixture f(GetParam());
  IdentityConfig c = f.svc->config();
  auto other = open_identity_service(*f.meta, c, f.clock);  // a second node on the same store and keys
  ASSERT_TRUE(other);
  Caller admin = f.admin();
  auto refreshed = (*other)->refresh();
  ASSERT_TRUE(refreshed);
  EXPECT_FALSE(*refreshed);  // nothing new yet
  EXPECT_TRUE((*other)->authenticate_token(f.login("admin", f.admin_password, "admin")->token));
  ProjectInput p;
  p.name = "from-node-a";
  auto proj = f.svc->create_project(admin, p);
  ASSERT_TRUE(proj);
  Caller other_admin{admin.principal, "n2", "r2"};
  EXPECT_FALSE((*other)->get_project(other_admin, proj->id));
  ASSERT_TRUE(*(*other)->refresh());
  EXPECT_TRUE((*other)->get_project(other_admin, proj->id));
  // A revocation on node A reaches node B.
  auto t = f.login("admin", f.admin_password, "admin");
  ASSERT_TRUE(t);
  EXPECT_TRUE((*other)->authenticate_token(t->token));
  ASSERT_TRUE(f.svc->revoke_token(admin, t->token));
  ASSERT_TRUE(*(*other)->refresh());
  EXPECT_FALSE((*other)->authenticate_token(t->token));
}

TEST_P(IdentityServiceTest, NodesWithTheirOwnDataDirsShareTheKeyRingThroughTheStore) {
  Fixture f(GetParam());
  test::TempDir node_b;
  IdentityConfig c = f.svc->config();
  c.key_dir = node_b.path() + "/keys";  // nothing of node A's directory but the master key
  c.master_key_file = f.dir.path() + "/keys/credential.key";
  auto other = open_identity_service(*f.meta, c, f.clock);
  ASSERT_TRUE(other) << other.error().message;
  auto t = f.login("admin", f.admin_password, "admin");
  ASSERT_TRUE(t);
  EXPECT_TRUE((*other)->authenticate_token(t->token));
  // The ring is in the store: no key file on either node.
  EXPECT_FALSE(std::filesystem::exists(f.dir.path() + "/keys/token/1.key"));
  EXPECT_FALSE(std::filesystem::exists(node_b.path() + "/keys/token"));
  // A rotation on node A: B reads the new key at its next refresh, before it seals anything.
  f.clock.advance(std::chrono::seconds(5));
  ASSERT_TRUE(*f.svc->maybe_rotate_keys(true));
  ASSERT_TRUE((*other)->refresh());
  f.clock.advance(std::chrono::minutes(2));  // past the staging delay
  auto t2 = f.login("admin", f.admin_password, "admin");
  ASSERT_TRUE(t2);
  EXPECT_TRUE((*other)->authenticate_token(t2->token));
  EXPECT_TRUE((*other)->authenticate_token(t->token));  // the old key still opens its tokens
  // Node B rotating at the same index takes node A's key rather than forking the ring.
  ASSERT_TRUE(*f.svc->maybe_rotate_keys(true));
  auto raced = (*other)->maybe_rotate_keys(true);
  ASSERT_TRUE(raced);
  f.clock.advance(std::chrono::minutes(2));
  ASSERT_TRUE((*other)->refresh());
  ASSERT_TRUE(f.svc->refresh());
  auto t3 = (*other)->authenticate_token(f.login("admin", f.admin_password, "admin")->token);
  EXPECT_TRUE(t3);
  // A node with another master key cannot read the ring and says why at start.
  test::TempDir node_c;
  IdentityConfig bad = c;
  bad.key_dir = node_c.path() + "/keys";
  bad.master_key_file = node_c.path() + "/keys/credential.key";
  auto refused = open_identity_service(*f.meta, bad, f.clock);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("master key"), std::string::npos) << refused.error().message;
}

TEST(IdentityKeyRing, KeyFilesOfEarlierVersionsMoveIntoTheStore) {
  test::TempDir dir;
  FakeClock clock;
  // A data directory as earlier versions left it: a ring of files, and a token it sealed.
  auto files = token::open_file_key_store(dir.path() + "/keys");
  ASSERT_TRUE(files);
  auto ring = token::KeyRing::open(std::move(*files), clock);
  ASSERT_TRUE(ring);
  token::Payload p;
  p.user_id = crypto::random_hex(16);
  p.methods = token::kPassword;
  p.issued_at_ms = std::chrono::duration_cast<std::chrono::milliseconds>(clock.now().time_since_epoch()).count();
  p.expires_at = p.issued_at_ms / 1000 + 600;
  p.audit_id = crypto::random_bytes(16);
  std::string old_token = (*ring)->seal(p);
  ring->reset();
  auto meta = store::open_sqlite_meta_store({dir.path() + "/meta.db"});
  ASSERT_TRUE(meta);
  auto migs = migrations();
  ASSERT_TRUE(store::migrate(**meta, migs));
  IdentityConfig c;
  c.key_dir = dir.path() + "/keys";
  c.master_key_file = c.key_dir + "/credential.key";
  c.argon2_memory_kib = 256;
  c.argon2_iterations = 1;
  c.hash_threads = 1;
  auto svc = open_identity_service(**meta, c, clock);
  ASSERT_TRUE(svc) << svc.error().message;
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/keys/token/1.key"));  // no key left lying in files
  // The old ring's key is the store's now: its token still opens.
  std::ifstream in(c.master_key_file);
  std::string master_hex;
  in >> master_hex;
  auto again = token::KeyRing::open(token::make_meta_key_store(**meta, *crypto::unhex(master_hex)), clock);
  ASSERT_TRUE(again);
  EXPECT_TRUE((*again)->unseal(old_token));
}

TEST_P(IdentityServiceTest, CatalogEntriesExpandTheProjectId) {
  Fixture f(GetParam());
  ASSERT_TRUE(f.svc->register_catalog_entry({"object-store", "swift", "http://h:1/v1/AUTH_%(project_id)s", "Object storage"}));
  ASSERT_TRUE(f.svc->register_catalog_entry({"identity", "keystone", "http://h:1/v3", ""}));
  // Registering again with a new URL updates in place.
  ASSERT_TRUE(f.svc->register_catalog_entry({"identity", "keystone", "http://h:2/v3", ""}));
  Caller admin = f.admin();
  auto services = f.svc->list_services(admin, "", "");
  ASSERT_TRUE(services);
  EXPECT_EQ(services->size(), 2u);
  auto endpoints = f.svc->list_endpoints(admin, "", "", "");
  ASSERT_TRUE(endpoints);
  EXPECT_EQ(endpoints->size(), 6u);
  std::string catalog = f.svc->render_catalog(admin.principal);
  EXPECT_NE(catalog.find("http://h:1/v1/AUTH_" + admin.principal.project_id), std::string::npos);
  EXPECT_NE(catalog.find("\"type\": \"object-store\""), std::string::npos);
  EXPECT_NE(catalog.find("\"region\": \"RegionOne\""), std::string::npos);
  EXPECT_EQ(catalog.find("http://h:1/v3"), std::string::npos);
  EXPECT_EQ(catalog.find("%(project_id)s"), std::string::npos);
  // A domain-scoped token's catalog leaves out endpoints that need a project id.
  Principal domain_scoped = admin.principal;
  domain_scoped.scope = ScopeType::domain;
  std::string dcat = f.svc->render_catalog(domain_scoped);
  EXPECT_EQ(dcat.find("object-store"), std::string::npos);
  EXPECT_NE(dcat.find("http://h:2/v3"), std::string::npos);
  // The stored endpoint keeps its template.
  bool templated = false;
  for (const auto& e : *endpoints) { templated |= e.url == "http://h:1/v1/AUTH_%(project_id)s"; }
  EXPECT_TRUE(templated);
}

TEST_P(IdentityServiceTest, ApplicationCredentialsAuthenticateWithTheirRolesOnly) {
  Fixture f(GetParam());
  Caller admin = f.admin();
  AppCredentialInput in;
  in.name = "ci";
  in.role_ids = std::vector<std::string>{};
  for (const auto& r : admin.principal.roles) {
    if (r.name == "reader") { in.role_ids->push_back(r.id); }
  }
  auto created = f.svc->create_app_credential(admin, admin.principal.user_id, in);
  ASSERT_TRUE(created);
  AuthRequest r;
  r.methods = {"application_credential"};
  r.app_cred_id = created->first.id;
  r.app_cred_secret = created->second;
  std::optional<Result<IssuedToken>> out;
  test::run_coro([&]() -> boost::asio::awaitable<void> { out.emplace(co_await f.svc->authenticate(r, "x", "y")); });
  ASSERT_TRUE(*out);
  const Principal& p = (*out)->principal;
  ASSERT_EQ(p.roles.size(), 1u);
  EXPECT_EQ(p.roles[0].name, "reader");
  EXPECT_EQ(p.app_cred_id, created->first.id);
  EXPECT_FALSE(f.svc->policy().is_cloud_admin(p));
  // Rescoping an application-credential token is refused.
  AuthRequest re;
  re.methods = {"token"};
  re.token = (*out)->token;
  std::optional<Result<IssuedToken>> again;
  test::run_coro([&]() -> boost::asio::awaitable<void> { again.emplace(co_await f.svc->authenticate(re, "x", "y")); });
  EXPECT_FALSE(*again);
  // Deleting the credential kills its tokens.
  ASSERT_TRUE(f.svc->delete_app_credential(admin, admin.principal.user_id, created->first.id));
  EXPECT_FALSE(f.svc->authenticate_token((*out)->token));
}

INSTANTIATE_TEST_SUITE_P(Backends, IdentityServiceTest, ::testing::Values("sqlite", "postgres"),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

}  // namespace
}  // namespace ciel::identity
