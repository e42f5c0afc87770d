"""Debian's `openstack` CLI against Ciel's identity service, with the openrc `ciel serve` wrote."""
import pytest
import requests

from identity_support import cli_env, CliError, Keystone, osc, read_openrc, server  # noqa: F401 (fixtures)


@pytest.fixture(scope="module")
def admin_env(server):
    return cli_env(read_openrc(server))


def user_env(admin_env, user, password, project):
    return cli_env(admin_env, OS_USERNAME=user, OS_PASSWORD=password, OS_PROJECT_NAME=project)


def test_token_issue_gives_a_short_valid_project_token(server, admin_env):
    tok = osc(admin_env, "token", "issue")
    assert 0 < len(tok["id"]) < 255
    projects = osc(admin_env, "project", "list")
    admin_project = [p for p in projects if p["Name"] == "admin"][0]
    assert tok["project_id"] == admin_project["ID"]
    # The token works against the API and names its user and project.
    r = requests.get(server.url + "/v3/auth/tokens",
                     headers={"X-Auth-Token": tok["id"], "X-Subject-Token": tok["id"]}, timeout=10)
    assert r.status_code == 200
    body = r.json()["token"]
    assert body["user"]["name"] == "admin"
    assert body["project"]["name"] == "admin"
    assert {r["name"] for r in body["roles"]} >= {"admin", "member", "reader"}


def test_token_revoke_makes_the_token_unusable(server, admin_env):
    tok = osc(admin_env, "token", "issue")["id"]
    ks = Keystone(server)
    assert ks.get("/projects", tok).status_code == 200
    osc(admin_env, "token", "revoke", tok, json_output=False)
    assert ks.get("/projects", tok).status_code == 401
    # A fresh token still works.
    assert osc(admin_env, "token", "issue")["id"] != tok


def test_catalog_list_shows_identity_public_endpoint(server, admin_env):
    catalog = osc(admin_env, "catalog", "list")
    identity = [c for c in catalog if c["Type"] == "identity"]
    assert len(identity) == 1
    public = [e for e in identity[0]["Endpoints"] if e["interface"] == "public"]
    assert public and public[0]["url"] == server.url + "/v3"
    assert public[0]["region"] == "RegionOne"


def test_endpoint_and_service_list(server, admin_env):
    services = osc(admin_env, "service", "list")
    assert any(s["Type"] == "identity" for s in services)
    endpoints = osc(admin_env, "endpoint", "list")
    assert any(e["Service Type"] == "identity" and e["Interface"] == "public" and e["URL"] == server.url + "/v3"
               and e["Region"] == "RegionOne" for e in endpoints)


def test_project_lifecycle(admin_env):
    created = osc(admin_env, "project", "create", "--domain", "default", "--description", "first", "cli-proj")
    assert created["name"] == "cli-proj" and created["domain_id"] == "default" and created["enabled"] is True
    assert "cli-proj" in [p["Name"] for p in osc(admin_env, "project", "list")]
    shown = osc(admin_env, "project", "show", "cli-proj")
    assert shown["id"] == created["id"] and shown["description"] == "first"
    osc(admin_env, "project", "set", "--description", "second", "--disable", "cli-proj", json_output=False)
    shown = osc(admin_env, "project", "show", "cli-proj")
    assert shown["description"] == "second" and shown["enabled"] is False
    osc(admin_env, "project", "delete", "cli-proj", json_output=False)
    assert "cli-proj" not in [p["Name"] for p in osc(admin_env, "project", "list")]
    with pytest.raises(CliError):
        osc(admin_env, "project", "show", "cli-proj")


def test_user_lifecycle_with_passwords(admin_env):
    osc(admin_env, "project", "create", "--domain", "default", "user-proj")
    user = osc(admin_env, "user", "create", "--domain", "default", "--project", "user-proj", "--password", "first-pass-1",
               "cli-user")
    assert user["name"] == "cli-user" and user["enabled"] is True
    assert "password" not in user
    osc(admin_env, "role", "add", "--user", "cli-user", "--project", "user-proj", "member", json_output=False)
    assert "cli-user" in [u["Name"] for u in osc(admin_env, "user", "list")]
    shown = osc(admin_env, "user", "show", "cli-user")
    assert shown["id"] == user["id"] and shown["default_project_id"]

    env = user_env(admin_env, "cli-user", "first-pass-1", "user-proj")
    assert osc(env, "token", "issue")["user_id"] == user["id"]

    osc(admin_env, "user", "set", "--password", "second-pass-2", "cli-user", json_output=False)
    with pytest.raises(CliError):
        osc(env, "token", "issue")
    env2 = user_env(admin_env, "cli-user", "second-pass-2", "user-proj")
    assert osc(env2, "token", "issue")["user_id"] == user["id"]

    osc(admin_env, "user", "delete", "cli-user", json_output=False)
    assert "cli-user" not in [u["Name"] for u in osc(admin_env, "user", "list")]
    with pytest.raises(CliError):
        osc(env2, "token", "issue")


def test_roles_assignments_groups_and_effective_listing(admin_env):
    custom = osc(admin_env, "role", "create", "auditor")
    assert custom["name"] == "auditor"
    names = [r["Name"] for r in osc(admin_env, "role", "list")]
    for builtin in ("admin", "member", "reader", "auditor"):
        assert builtin in names

    osc(admin_env, "project", "create", "--domain", "default", "team-proj")
    osc(admin_env, "user", "create", "--domain", "default", "--password", "team-pass-1", "direct-user")
    osc(admin_env, "user", "create", "--domain", "default", "--password", "team-pass-2", "group-user")
    osc(admin_env, "role", "add", "--user", "direct-user", "--project", "team-proj", "member", json_output=False)

    group = osc(admin_env, "group", "create", "--domain", "default", "team")
    assert group["name"] == "team"
    osc(admin_env, "group", "add", "user", "team", "group-user", json_output=False)
    contains = osc(admin_env, "group", "contains", "user", "team", "group-user", json_output=False)
    assert contains.strip() == "group-user in group team"
    osc(admin_env, "role", "add", "--group", "team", "--project", "team-proj", "auditor", json_output=False)

    rows = osc(admin_env, "role", "assignment", "list", "--effective", "--names", "--project", "team-proj")
    seen = {(r["User"], r["Role"]) for r in rows}
    assert ("direct-user@Default", "member") in seen
    assert ("direct-user@Default", "reader") in seen  # member implies reader
    assert ("group-user@Default", "auditor") in seen  # through the group
    assert all(r["Group"] == "" for r in rows)  # effective listings show users, not groups

    # The group member can now get a token on the project.
    env = user_env(admin_env, "group-user", "team-pass-2", "team-proj")
    assert osc(env, "token", "issue")["project_id"]


def test_domain_create_and_list(admin_env):
    created = osc(admin_env, "domain", "create", "--description", "second domain", "cli-domain")
    assert created["name"] == "cli-domain" and created["enabled"] is True
    listed = {d["Name"]: d for d in osc(admin_env, "domain", "list")}
    assert "Default" in listed and "cli-domain" in listed
    assert listed["Default"]["ID"] == "default"


def test_application_credential_authenticates(server, admin_env):
    osc(admin_env, "project", "create", "--domain", "default", "app-proj")
    osc(admin_env, "user", "create", "--domain", "default", "--password", "app-user-pass", "app-user")
    osc(admin_env, "role", "add", "--user", "app-user", "--project", "app-proj", "member", json_output=False)
    env = user_env(admin_env, "app-user", "app-user-pass", "app-proj")
    cred = osc(env, "application", "credential", "create", "--description", "ci", "ci-cred")
    assert cred["name"] == "ci-cred" and cred["secret"] and cred["id"]
    assert "ci-cred" in [c["Name"] for c in osc(env, "application", "credential", "list")]

    app_env = cli_env(admin_env, OS_AUTH_TYPE="v3applicationcredential", OS_APPLICATION_CREDENTIAL_ID=cred["id"],
                      OS_APPLICATION_CREDENTIAL_SECRET=cred["secret"], OS_USERNAME=None, OS_PASSWORD=None,
                      OS_PROJECT_NAME=None, OS_USER_DOMAIN_NAME=None, OS_PROJECT_DOMAIN_NAME=None)
    tok = osc(app_env, "token", "issue")
    assert tok["project_id"] == cred["project_id"]
    r = requests.get(server.url + "/v3/auth/tokens", headers={"X-Auth-Token": tok["id"], "X-Subject-Token": tok["id"]},
                     timeout=10)
    body = r.json()["token"]
    assert body["methods"] == ["application_credential"]
    assert body["application_credential"]["id"] == cred["id"]
    assert {x["name"] for x in body["roles"]} == {"member", "reader"}
    # A catalog command works with the application credential too.
    assert any(c["Type"] == "identity" for c in osc(app_env, "catalog", "list"))

    # A wrong secret fails; a deleted credential stops working.
    bad_env = dict(app_env, OS_APPLICATION_CREDENTIAL_SECRET="wrong-secret")
    with pytest.raises(CliError):
        osc(bad_env, "token", "issue")
    osc(env, "application", "credential", "delete", "ci-cred", json_output=False)
    with pytest.raises(CliError):
        osc(app_env, "token", "issue")
    assert Keystone(server).get("/projects/" + cred["project_id"], tok["id"]).status_code == 401


def test_ec2_credentials_create_list_delete(admin_env):
    osc(admin_env, "project", "create", "--domain", "default", "s3-proj")
    osc(admin_env, "user", "create", "--domain", "default", "--password", "s3-user-pass", "s3-user")
    osc(admin_env, "role", "add", "--user", "s3-user", "--project", "s3-proj", "member", json_output=False)
    created = osc(admin_env, "ec2", "credentials", "create", "--project", "s3-proj", "--user", "s3-user")
    assert created["access"] and created["secret"]
    listed = osc(admin_env, "ec2", "credentials", "list", "--user", "s3-user")
    assert [c["Access"] for c in listed] == [created["access"]]
    assert listed[0]["Secret"] == created["secret"]
    # The user sees their own credential with their own token.
    env = user_env(admin_env, "s3-user", "s3-user-pass", "s3-proj")
    assert [c["Access"] for c in osc(env, "ec2", "credentials", "list")] == [created["access"]]
    osc(admin_env, "ec2", "credentials", "delete", "--user", "s3-user", created["access"], json_output=False)
    assert osc(admin_env, "ec2", "credentials", "list", "--user", "s3-user") == []
