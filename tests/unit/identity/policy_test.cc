#include "identity/policy.h"

#include <gtest/gtest.h>

namespace ciel::identity {
namespace {

Principal project_principal(std::string project, std::string domain, std::vector<std::string> roles, std::string user = "u1") {
  Principal p;
  p.user_id = std::move(user);
  p.user_domain_id = domain;
  p.scope = ScopeType::project;
  p.project_id = std::move(project);
  p.domain_id = std::move(domain);
  for (auto& r : roles) { p.roles.push_back(RoleRef{"id-" + r, r}); }
  return p;
}

Principal domain_principal(std::string domain, std::vector<std::string> roles) {
  Principal p;
  p.user_id = "du";
  p.user_domain_id = domain;
  p.scope = ScopeType::domain;
  p.domain_id = std::move(domain);
  for (auto& r : roles) { p.roles.push_back(RoleRef{"id-" + r, r}); }
  return p;
}

TEST(Policy, CloudAdminMayDoEverything) {
  Policy pol("adminproj");
  auto admin = project_principal("adminproj", "default", {"admin", "member", "reader"});
  EXPECT_TRUE(pol.may(admin, Action::manage_domains));
  EXPECT_TRUE(pol.may(admin, Action::manage_projects, Target{"d2", "", "", ""}));
  EXPECT_TRUE(pol.may(admin, Action::read_audit));
  EXPECT_TRUE(pol.may(admin, Action::write_project_resources, Target{"d2", "p9", "", ""}));
}

TEST(Policy, ProjectAdminElsewhereIsNotCloudAdmin) {
  Policy pol("adminproj");
  auto padmin = project_principal("p1", "default", {"admin", "member", "reader"});
  EXPECT_FALSE(pol.may(padmin, Action::manage_domains));
  EXPECT_FALSE(pol.may(padmin, Action::manage_projects, Target{"default", "", "", ""}));
  EXPECT_FALSE(pol.may(padmin, Action::read_audit));
  EXPECT_TRUE(pol.may(padmin, Action::list_assignments, Target{"default", "p1", "", ""}));
  EXPECT_FALSE(pol.may(padmin, Action::list_assignments, Target{"default", "p2", "", ""}));
}

TEST(Policy, MemberAndReaderOnTheirProjectOnly) {
  Policy pol("adminproj");
  auto member = project_principal("p1", "default", {"member", "reader"});
  auto reader = project_principal("p1", "default", {"reader"});
  EXPECT_TRUE(pol.may(member, Action::read_project, Target{"default", "p1", "", ""}));
  EXPECT_FALSE(pol.may(member, Action::read_project, Target{"default", "p2", "", ""}));
  EXPECT_TRUE(pol.may(member, Action::write_project_resources, Target{"default", "p1", "", ""}));
  EXPECT_FALSE(pol.may(member, Action::write_project_resources, Target{"default", "p2", "", ""}));
  EXPECT_FALSE(pol.may(member, Action::read_project_resources, Target{"default", "p2", "", ""}));
  EXPECT_TRUE(pol.may(reader, Action::read_project_resources, Target{"default", "p1", "", ""}));
  EXPECT_FALSE(pol.may(reader, Action::write_project_resources, Target{"default", "p1", "", ""}));
  EXPECT_FALSE(pol.may(member, Action::list_projects, Target{"default", "", "", ""}));
  EXPECT_FALSE(pol.may(member, Action::manage_users, Target{"default", "", "", ""}));
  EXPECT_FALSE(pol.may(member, Action::read_user, Target{"default", "", "u2", ""}));
  EXPECT_TRUE(pol.may(member, Action::read_user, Target{"default", "", "u1", ""}));
}

TEST(Policy, CredentialsAreSelfServiceAndReadersCannotCreateThem) {
  Policy pol("adminproj");
  auto member = project_principal("p1", "default", {"member", "reader"});
  auto reader = project_principal("p1", "default", {"reader"});
  EXPECT_TRUE(pol.may(member, Action::manage_own_credentials, Target{"default", "p1", "u1", ""}));
  EXPECT_FALSE(pol.may(member, Action::manage_own_credentials, Target{"default", "p1", "u2", ""}));
  EXPECT_FALSE(pol.may(reader, Action::manage_own_credentials, Target{"default", "p1", "u1", ""}));
  EXPECT_TRUE(pol.may(reader, Action::read_own_credentials, Target{"default", "p1", "u1", ""}));
  auto via_app_cred = member;
  via_app_cred.app_cred_id = "ac";
  EXPECT_FALSE(pol.may(via_app_cred, Action::manage_own_credentials, Target{"default", "p1", "u1", ""}));
}

TEST(Policy, DomainAdminsManageTheirDomainOnly) {
  Policy pol("adminproj");
  auto dadmin = domain_principal("d2", {"admin", "member", "reader"});
  auto dreader = domain_principal("d2", {"reader"});
  EXPECT_TRUE(pol.may(dadmin, Action::manage_projects, Target{"d2", "", "", ""}));
  EXPECT_TRUE(pol.may(dadmin, Action::manage_users, Target{"d2", "", "x", ""}));
  EXPECT_TRUE(pol.may(dadmin, Action::manage_assignments, Target{"d2", "p5", "", "member"}));
  EXPECT_FALSE(pol.may(dadmin, Action::manage_projects, Target{"default", "", "", ""}));
  EXPECT_FALSE(pol.may(dadmin, Action::manage_users, Target{"default", "", "x", ""}));
  EXPECT_FALSE(pol.may(dadmin, Action::manage_assignments, Target{"default", "p1", "", "member"}));
  EXPECT_FALSE(pol.may(dadmin, Action::manage_domains));
  EXPECT_FALSE(pol.may(dadmin, Action::manage_roles));
  EXPECT_FALSE(pol.may(dadmin, Action::manage_catalog));
  EXPECT_TRUE(pol.may(dreader, Action::list_users, Target{"d2", "", "", ""}));
  EXPECT_FALSE(pol.may(dreader, Action::manage_users, Target{"d2", "", "", ""}));
  // The default domain's admin cannot hand out the admin project.
  auto default_admin = domain_principal("default", {"admin", "member", "reader"});
  EXPECT_FALSE(pol.may(default_admin, Action::manage_assignments, Target{"default", "adminproj", "", "admin"}));
}

TEST(Policy, TokensAndServices) {
  Policy pol("adminproj");
  auto member = project_principal("p1", "default", {"member", "reader"});
  auto service = project_principal("svc", "default", {"service"}, "svcuser");
  EXPECT_TRUE(pol.may(member, Action::validate_token, Target{"", "", "u1", ""}));
  EXPECT_FALSE(pol.may(member, Action::validate_token, Target{"", "", "u2", ""}));
  EXPECT_TRUE(pol.may(service, Action::validate_token, Target{"", "", "u2", ""}));
  EXPECT_TRUE(pol.may(service, Action::validate_s3_signature));
  EXPECT_FALSE(pol.may(member, Action::validate_s3_signature));
  EXPECT_TRUE(pol.may(service, Action::read_own_credentials, Target{"default", "", "u2", ""}));
  EXPECT_FALSE(pol.may(service, Action::manage_own_credentials, Target{"default", "", "u2", ""}));
  EXPECT_FALSE(pol.may(member, Action::read_own_credentials, Target{"default", "", "u2", ""}));
  EXPECT_FALSE(pol.may(Principal{}, Action::read_role));
}

}  // namespace
}  // namespace ciel::identity
