"""Tenant isolation and token validity, through the raw Keystone API: members stay in their
project, readers cannot write, domain admins stay in their domain, and expired, revoked,
tampered, foreign-key and disabled-user tokens are refused with 401."""
import time

import pytest

from identity_support import assert_keystone_error, Keystone, read_openrc, server, start_identity_server  # noqa: F401 (fixtures)


@pytest.fixture(scope="module")
def world(server):
    """Two projects in the default domain, a second domain with its own admin, and users."""
    ks = Keystone(server)
    rc = read_openrc(server)
    admin = ks.token("admin", rc["OS_PASSWORD"], project="admin")
    w = {"ks": ks, "admin": admin}

    def make(kind, body):
        r = ks.post("/" + kind + "s", admin, json={kind: body})
        assert r.status_code == 201, r.text
        return r.json()[kind]

    def grant(scope, scope_id, user_id, role):
        r = ks.put(f"/{scope}/{scope_id}/users/{user_id}/roles/{ks.role_id(admin, role)}", admin)
        assert r.status_code == 204, r.text

    w["A"] = make("project", {"name": "proj-a", "domain_id": "default"})
    w["B"] = make("project", {"name": "proj-b", "domain_id": "default"})
    w["d2"] = make("domain", {"name": "domain-two"})
    w["d2proj"] = make("project", {"name": "d2-proj", "domain_id": w["d2"]["id"]})
    for name, project, role in (("member-a", "A", "member"), ("member-b", "B", "member"), ("reader-a", "A", "reader")):
        u = make("user", {"name": name, "domain_id": "default", "password": name + "-password"})
        grant("projects", w[project]["id"], u["id"], role)
        w[name] = u
    dadmin = make("user", {"name": "d2-admin", "domain_id": w["d2"]["id"], "password": "d2-admin-password"})
    grant("domains", w["d2"]["id"], dadmin["id"], "admin")
    w["d2-admin"] = dadmin
    w["d2-user"] = make("user", {"name": "d2-user", "domain_id": w["d2"]["id"], "password": "d2-user-password"})
    w["tok-a"] = ks.token("member-a", "member-a-password", project="proj-a")
    w["tok-b"] = ks.token("member-b", "member-b-password", project="proj-b")
    w["tok-reader"] = ks.token("reader-a", "reader-a-password", project="proj-a")
    w["tok-d2"] = ks.token("d2-admin", "d2-admin-password", domain_scope="domain-two", user_domain="domain-two")
    return w


def test_member_cannot_see_or_touch_another_project(world):
    ks, tok, B = world["ks"], world["tok-a"], world["B"]
    assert ks.get("/projects/" + world["A"]["id"], tok).status_code == 200
    assert_keystone_error(ks.get("/projects/" + B["id"], tok), 403)
    assert_keystone_error(ks.patch("/projects/" + B["id"], tok, json={"project": {"description": "mine now"}}), 403)
    assert_keystone_error(ks.delete("/projects/" + B["id"], tok), 403)
    assert_keystone_error(ks.get("/projects", tok), 403)  # no listing of everyone's projects
    mine = ks.get("/auth/projects", tok).json()["projects"]
    assert [p["name"] for p in mine] == ["proj-a"]
    # Project B's people and credentials are out of reach.
    other = world["member-b"]["id"]
    assert_keystone_error(ks.get("/users/" + other, tok), 403)
    assert_keystone_error(ks.get(f"/users/{other}/credentials/OS-EC2", tok), 403)
    assert_keystone_error(ks.post(f"/users/{other}/credentials/OS-EC2", tok, json={"tenant_id": B["id"]}), 403)
    assert_keystone_error(ks.get(f"/users/{other}/application_credentials", tok), 403)
    assert_keystone_error(ks.get("/role_assignments", tok, params={"scope.project.id": B["id"]}), 403)
    assert_keystone_error(ks.get("/users", tok), 403)
    # Nor can member-a validate member-b's token or get a token on B.
    r = ks.get("/auth/tokens", tok, headers={"X-Subject-Token": world["tok-b"]})
    assert_keystone_error(r, 403)
    assert_keystone_error(ks.auth("member-a", "member-a-password", project="proj-b"), 401)
    # An EC2 credential for themselves on B is refused too: they hold no role there.
    me = world["member-a"]["id"]
    assert_keystone_error(ks.post(f"/users/{me}/credentials/OS-EC2", tok, json={"tenant_id": B["id"]}), 403)
    # B is unchanged.
    assert ks.get("/projects/" + B["id"], world["admin"]).json()["project"]["description"] == ""


def test_reader_cannot_mutate(world):
    ks, tok, A = world["ks"], world["tok-reader"], world["A"]
    me = world["reader-a"]["id"]
    assert ks.get("/projects/" + A["id"], tok).status_code == 200
    assert_keystone_error(ks.patch("/projects/" + A["id"], tok, json={"project": {"description": "x"}}), 403)
    assert_keystone_error(ks.delete("/projects/" + A["id"], tok), 403)
    assert_keystone_error(ks.post("/projects", tok, json={"project": {"name": "sneaky"}}), 403)
    assert_keystone_error(ks.post("/users", tok, json={"user": {"name": "sneaky", "password": "sneaky-pass"}}), 403)
    member_role = ks.role_id(tok, "member")
    assert_keystone_error(ks.put(f"/projects/{A['id']}/users/{me}/roles/{member_role}", tok), 403)
    assert_keystone_error(ks.post(f"/users/{me}/credentials/OS-EC2", tok, json={"tenant_id": A["id"]}), 403)
    assert_keystone_error(ks.post(f"/users/{me}/application_credentials", tok,
                                  json={"application_credential": {"name": "x"}}), 403)
    assert_keystone_error(ks.post("/roles", tok, json={"role": {"name": "x"}}), 403)
    # Still a reader, still only reader.
    roles = ks.get("/auth/tokens", tok, headers={"X-Subject-Token": tok}).json()["token"]["roles"]
    assert [r["name"] for r in roles] == ["reader"]


def test_domain_admin_manages_own_domain_only(world):
    ks, tok, d2 = world["ks"], world["tok-d2"], world["d2"]["id"]
    # Inside the domain: allowed.
    r = ks.post("/projects", tok, json={"project": {"name": "d2-new", "domain_id": d2}})
    assert r.status_code == 201, r.text
    u = ks.post("/users", tok, json={"user": {"name": "d2-new-user", "domain_id": d2, "password": "d2-new-pass"}})
    assert u.status_code == 201, u.text
    member_role = ks.role_id(tok, "member")
    r = ks.put(f"/projects/{world['d2proj']['id']}/users/{world['d2-user']['id']}/roles/{member_role}", tok)
    assert r.status_code == 204, r.text
    users = ks.get("/users", tok).json()["users"]
    assert users and all(x["domain_id"] == d2 for x in users)
    projects = ks.get("/projects", tok).json()["projects"]
    assert {p["name"] for p in projects} == {"d2-proj", "d2-new"}
    # Outside the domain: refused.
    assert_keystone_error(ks.post("/projects", tok, json={"project": {"name": "escape", "domain_id": "default"}}), 403)
    assert_keystone_error(ks.post("/users", tok, json={"user": {"name": "escape", "domain_id": "default",
                                                                 "password": "escape-pass"}}), 403)
    assert_keystone_error(ks.get("/projects/" + world["A"]["id"], tok), 403)
    assert_keystone_error(ks.patch("/projects/" + world["A"]["id"], tok, json={"project": {"enabled": False}}), 403)
    assert_keystone_error(ks.delete("/users/" + world["member-a"]["id"], tok), 403)
    assert_keystone_error(ks.patch("/users/" + world["member-a"]["id"], tok, json={"user": {"password": "stolen-pass"}}), 403)
    assert_keystone_error(ks.get("/users", tok, params={"domain_id": "default"}), 403)
    # Granting in another domain's project, or to another domain's user, is refused too.
    assert_keystone_error(ks.put(f"/projects/{world['A']['id']}/users/{world['d2-user']['id']}/roles/{member_role}", tok), 403)
    assert_keystone_error(ks.put(f"/projects/{world['d2proj']['id']}/users/{world['member-a']['id']}/roles/{member_role}", tok), 403)
    assert_keystone_error(ks.post("/domains", tok, json={"domain": {"name": "mine"}}), 403)
    assert_keystone_error(ks.post("/roles", tok, json={"role": {"name": "superuser"}}), 403)
    # The default-domain project A kept its state.
    assert ks.get("/projects/" + world["A"]["id"], world["admin"]).json()["project"]["enabled"] is True


def test_revoked_tampered_and_garbage_tokens_get_401(world):
    ks = world["ks"]
    tok = ks.token("member-a", "member-a-password", project="proj-a")
    assert ks.get("/auth/projects", tok).status_code == 200
    # Tampered: flip one character in the middle.
    mid = len(tok) // 2
    tampered = tok[:mid] + ("A" if tok[mid] != "A" else "B") + tok[mid + 1:]
    err = assert_keystone_error(ks.get("/auth/projects", tampered), 401)
    assert err["title"] == "Unauthorized"
    assert_keystone_error(ks.get("/auth/projects", tok[:-4]), 401)
    assert_keystone_error(ks.get("/auth/projects", "not-a-token"), 401)
    assert_keystone_error(ks.get("/auth/projects"), 401)
    # Revoked (by the owner).
    r = ks.delete("/auth/tokens", tok, headers={"X-Subject-Token": tok})
    assert r.status_code == 204
    assert_keystone_error(ks.get("/auth/projects", tok), 401)
    # Validating a revoked token as a subject says it is not found.
    r = ks.get("/auth/tokens", world["admin"], headers={"X-Subject-Token": tok})
    assert_keystone_error(r, 404)


def test_token_sealed_by_another_deployment_gets_401(world, tmp_path_factory):
    other = start_identity_server(tmp_path_factory, name="other")
    try:
        foreign = Keystone(other).token("admin", read_openrc(other)["OS_PASSWORD"], project="admin")
        assert Keystone(other).get("/projects", foreign).status_code == 200
        assert_keystone_error(world["ks"].get("/projects", foreign), 401)
    finally:
        other.stop()


def test_expired_tokens_get_401(tmp_path_factory):
    short = start_identity_server(tmp_path_factory, {"identity.token_lifetime": "2s"}, name="short")
    try:
        ks = Keystone(short)
        tok = ks.token("admin", read_openrc(short)["OS_PASSWORD"], project="admin")
        assert ks.get("/projects", tok).status_code == 200
        time.sleep(3.1)
        assert_keystone_error(ks.get("/projects", tok), 401)
    finally:
        short.stop()


def test_disabled_users_tokens_stop_at_once(world):
    ks, admin = world["ks"], world["admin"]
    r = ks.post("/users", admin, json={"user": {"name": "soon-off", "password": "soon-off-pass"}})
    uid = r.json()["user"]["id"]
    ks.put(f"/projects/{world['A']['id']}/users/{uid}/roles/{ks.role_id(admin, 'member')}", admin)
    tok = ks.token("soon-off", "soon-off-pass", project="proj-a")
    assert ks.get("/auth/projects", tok).status_code == 200
    assert ks.patch("/users/" + uid, admin, json={"user": {"enabled": False}}).status_code == 200
    assert_keystone_error(ks.get("/auth/projects", tok), 401)
    assert_keystone_error(ks.auth("soon-off", "soon-off-pass", project="proj-a"), 401)
    # Enabling again does not bring the old token back; a new login works.
    assert ks.patch("/users/" + uid, admin, json={"user": {"enabled": True}}).status_code == 200
    assert_keystone_error(ks.get("/auth/projects", tok), 401)
    assert ks.auth("soon-off", "soon-off-pass", project="proj-a").status_code == 201


def test_removed_role_stops_the_project_token(world):
    ks, admin = world["ks"], world["admin"]
    r = ks.post("/users", admin, json={"user": {"name": "temp-member", "password": "temp-member-pass"}})
    uid = r.json()["user"]["id"]
    role = ks.role_id(admin, "member")
    path = f"/projects/{world['B']['id']}/users/{uid}/roles/{role}"
    assert ks.put(path, admin).status_code == 204
    tok = ks.token("temp-member", "temp-member-pass", project="proj-b")
    assert ks.get("/projects/" + world["B"]["id"], tok).status_code == 200
    assert ks.delete(path, admin).status_code == 204
    assert_keystone_error(ks.get("/projects/" + world["B"]["id"], tok), 401)


def test_password_change_revokes_existing_tokens(world):
    ks, admin = world["ks"], world["admin"]
    r = ks.post("/users", admin, json={"user": {"name": "rotating", "password": "rotating-pass-1"}})
    uid = r.json()["user"]["id"]
    ks.put(f"/projects/{world['A']['id']}/users/{uid}/roles/{ks.role_id(admin, 'member')}", admin)
    tok = ks.token("rotating", "rotating-pass-1", project="proj-a")
    # Self-service change, as `openstack user password set` does it.
    r = ks.post(f"/users/{uid}/password", tok, json={"user": {"original_password": "rotating-pass-1",
                                                               "password": "rotating-pass-2"}})
    assert r.status_code == 204, r.text
    assert_keystone_error(ks.get("/auth/projects", tok), 401)
    assert_keystone_error(ks.auth("rotating", "rotating-pass-1", project="proj-a"), 401)
    assert ks.auth("rotating", "rotating-pass-2", project="proj-a").status_code == 201
