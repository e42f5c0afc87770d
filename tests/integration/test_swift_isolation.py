"""Tenant isolation in object storage: a member of project B can neither list, read, write nor
delete anything in project A's account (403 with a token, 401 without, as Swift does), and can
exactly as much as an ACL grants: container read/write ACLs in the `<project_id>:<user_id>` and
`<project_id>:*` forms (and Swift's others), account ACLs (read-only, read-write), and no more:
no owner secrets shown to grantees, no copies or large-object manifests around the ACLs, and a
project reader reads but never writes."""
import json

import pytest

from identity_support import Keystone
from swift_support import (Account, account_for, admin, assert_counters_match_listings, make_member,  # noqa: F401
                           swift_server, tar_of)

SECRET = b"project A's secret data\n"


@pytest.fixture(scope="module")
def world(swift_server, admin):
    w = {
        "a": make_member(swift_server, admin.token, "proj-a", "user-a"),
        "b": make_member(swift_server, admin.token, "proj-b", "user-b"),
        "c": make_member(swift_server, admin.token, "proj-c", "user-c"),
    }
    # A second member of project B.
    ks = Keystone(swift_server)
    r = ks.post("/users", admin.token, json={"user": {"name": "user-b2", "domain_id": "default", "password": "user-b2-password"}})
    assert r.status_code == 201, r.text
    uid = r.json()["user"]["id"]
    assert ks.put(f"/projects/{w['b'].project_id}/users/{uid}/roles/{ks.role_id(admin.token, 'member')}",
                  admin.token).status_code == 204
    w["b2"] = account_for(swift_server, "user-b2", "user-b2-password", "proj-b")
    a = w["a"]
    a.create_container("vault", headers={"X-Container-Meta-Owner": "a"})
    a.put_object("vault/secret.txt", SECRET, headers={"X-Object-Meta-Kind": "secret"})
    a.put_object("vault/dir/other.txt", b"other")
    a.create_container("second")
    a.put_object("second/x.bin", b"x" * 100)
    return w


def on(acct, other):
    """`acct`'s credentials aimed at `other`'s account."""
    return Account(acct.server, acct.token, other.storage_url, project_id=acct.project_id, user_id=acct.user_id)


def anonymous(other):
    return Account(other.server, None, other.storage_url)


def snapshot(a):
    return {c: {o["name"]: o["hash"] for o in a.listing(c)} for c in a.names()}, a.account_counters(), \
        {k: v for k, v in a.head().headers.items() if k.lower().startswith("x-account-meta-")}


def denied_everything(x, status):
    """Every kind of access by `x` (an Account aimed at A's storage URL) is refused with `status`."""
    calls = [
        ("GET account", x.get()),
        ("GET account json", x.get(params={"format": "json"})),
        ("HEAD account", x.head()),
        ("POST account", x.post(headers={"X-Account-Meta-Pwned": "yes"})),
        ("POST account ACL", x.post(headers={"X-Account-Access-Control": json.dumps({"admin": ["*:*"]})})),
        ("GET container", x.get("vault")),
        ("HEAD container", x.head("vault")),
        ("PUT container", x.put("intruder")),
        ("POST container", x.post("vault", headers={"X-Container-Read": ".r:*,.rlistings"})),
        ("DELETE container", x.delete("second")),
        ("GET object", x.get("vault/secret.txt")),
        ("HEAD object", x.head("vault/secret.txt")),
        ("ranged GET object", x.get("vault/secret.txt", headers={"Range": "bytes=0-3"})),
        ("PUT object", x.put("vault/planted.txt", b"planted")),
        ("overwrite object", x.put("vault/secret.txt", b"overwritten")),
        ("POST object", x.post("vault/secret.txt", headers={"X-Object-Meta-Kind": "public"})),
        ("DELETE object", x.delete("vault/secret.txt")),
        ("COPY within A", x.request("COPY", "vault/secret.txt", headers={"Destination": "vault/copy.txt"})),
        ("PUT X-Copy-From within A", x.put("vault/copy2.txt", headers={"X-Copy-From": "vault/secret.txt"})),
    ]
    wrong = [(what, r.status_code) for what, r in calls if r.status_code != status]
    assert not wrong, f"expected {status} everywhere, got: {wrong}"
    # Nothing of A's leaks into the error bodies.
    for what, r in calls:
        assert b"secret" not in r.content, what
    # Bulk operations: Swift may answer 200 and report the per-object failures in the body; either
    # way nothing may be deleted or created.
    r = x.request("POST", "", params={"bulk-delete": ""}, data=b"/vault/secret.txt\n/second/x.bin\n",
                  headers={"Content-Type": "text/plain", "Accept": "application/json"})
    if r.status_code == 200:
        assert r.json()["Number Deleted"] == 0, r.text
    else:
        assert r.status_code == status, r.status_code
    r = x.put("vault", data=tar_of({"planted-by-tar.txt": b"planted"}), params={"extract-archive": "tar"},
              headers={"Accept": "application/json"})
    if r.status_code == 200:
        assert r.json()["Number Files Created"] == 0, r.text
    else:
        assert r.status_code == status, r.status_code


def test_other_projects_member_is_refused_everything(world):
    a, b = world["a"], world["b"]
    before = snapshot(a)
    denied_everything(on(b, a), 403)
    assert snapshot(a) == before
    assert a.read("vault/secret.txt") == SECRET
    assert a.head("vault/planted.txt").status_code == 404
    assert_counters_match_listings(a)


def test_anonymous_is_refused_everything_with_401(world):
    a = world["a"]
    before = snapshot(a)
    denied_everything(anonymous(a), 401)
    bogus = Account(a.server, "not-a-valid-token", a.storage_url)
    denied_everything(bogus, 401)
    assert snapshot(a) == before


def test_copy_out_of_or_into_another_account_is_refused(world):
    a, b = world["a"], world["b"]
    b.create_container("loot")
    # From A into B's own account, with B's token.
    r = b.put("loot/stolen.txt", headers={"X-Copy-From": "/vault/secret.txt", "X-Copy-From-Account": "AUTH_" + a.project_id})
    assert r.status_code == 403, r.status_code
    r = on(b, a).request("COPY", "vault/secret.txt", headers={"Destination": "/loot/stolen2.txt",
                                                              "Destination-Account": "AUTH_" + b.project_id})
    assert r.status_code == 403
    assert b.listing("loot") == []
    # From B into A's account.
    b.put_object("loot/gift.txt", b"gift")
    r = b.request("COPY", "loot/gift.txt", headers={"Destination": "/vault/gift.txt",
                                                    "Destination-Account": "AUTH_" + a.project_id})
    assert r.status_code == 403
    assert a.head("vault/gift.txt").status_code == 404


def test_a_reader_of_the_project_reads_but_never_writes(world, swift_server, admin):
    """A user with the `reader` role on project A: listings and downloads, nothing else."""
    a = world["a"]
    ks = Keystone(swift_server)
    r = ks.post("/users", admin.token, json={"user": {"name": "reader-a", "domain_id": "default",
                                                      "password": "reader-a-password"}})
    assert r.status_code == 201, r.text
    uid = r.json()["user"]["id"]
    assert ks.put(f"/projects/{a.project_id}/users/{uid}/roles/{ks.role_id(admin.token, 'reader')}",
                  admin.token).status_code == 204
    reader = account_for(swift_server, "reader-a", "reader-a-password", "proj-a")
    assert reader.storage_url == a.storage_url
    before = snapshot(a)
    assert set(reader.names()) >= {"vault", "second"}
    assert reader.read("vault/secret.txt") == SECRET
    assert reader.head("vault").status_code in (200, 204)
    for what, r in (("PUT object", reader.put("vault/by-reader", b"x")),
                    ("overwrite", reader.put("vault/secret.txt", b"x")),
                    ("POST object", reader.post("vault/secret.txt", headers={"X-Object-Meta-Kind": "x"})),
                    ("DELETE object", reader.delete("vault/secret.txt")),
                    ("PUT container", reader.put("by-reader")),
                    ("POST container", reader.post("vault", headers={"X-Container-Read": ".r:*"})),
                    ("DELETE container", reader.delete("second")),
                    ("POST account", reader.post(headers={"X-Account-Meta-Temp-URL-Key": "mine"}))):
        assert r.status_code == 403, (what, r.status_code)
    assert snapshot(a) == before
    # Nor does a reader learn the account's TempURL key.
    a.post(headers={"X-Account-Meta-Temp-URL-Key": "owner-key"})
    try:
        assert "X-Account-Meta-Temp-Url-Key" not in reader.head().headers
    finally:
        a.post(headers={"X-Remove-Account-Meta-Temp-URL-Key": "x"})


def test_revoked_tokens_and_removed_roles_stop_at_once(world, swift_server, admin):
    """The object store checks tokens the way Keystone does: a revoked token, or a token of a
    user who lost their role on the project, is refused with 401 on the very next request."""
    a = world["a"]
    ks = Keystone(swift_server)
    r = ks.post("/users", admin.token, json={"user": {"name": "leaver", "domain_id": "default",
                                                      "password": "leaver-password"}})
    uid = r.json()["user"]["id"]
    grant = f"/projects/{a.project_id}/users/{uid}/roles/{ks.role_id(admin.token, 'member')}"
    assert ks.put(grant, admin.token).status_code == 204
    leaver = account_for(swift_server, "leaver", "leaver-password", "proj-a")
    assert leaver.read("vault/secret.txt") == SECRET
    # Revoked by its owner.
    spare = account_for(swift_server, "leaver", "leaver-password", "proj-a")
    assert ks.delete("/auth/tokens", spare.token, headers={"X-Subject-Token": spare.token}).status_code == 204
    assert spare.get("vault/secret.txt").status_code == 401
    assert spare.put("vault/after-revoke", b"x").status_code == 401
    # Role removed by an admin.
    assert ks.delete(grant, admin.token).status_code == 204
    assert leaver.get("vault/secret.txt").status_code == 401
    assert leaver.put("vault/after-removal", b"x").status_code == 401
    assert a.head("vault/after-revoke").status_code == 404 and a.head("vault/after-removal").status_code == 404


def test_a_token_only_opens_its_own_account(world, swift_server):
    b = world["b"]
    for account in ("AUTH_" + world["a"].project_id, "AUTH_" + world["c"].project_id, "AUTH_0123456789abcdef0123456789abcdef"):
        url = b.storage_url.rsplit("/", 1)[0] + "/" + account
        x = Account(swift_server, b.token, url)
        assert x.get().status_code == 403, account
        assert x.put("newcontainer").status_code == 403, account


def test_container_read_acl_for_one_user(world):
    a, b, b2, c = world["a"], world["b"], world["b2"], world["c"]
    a.create_container("r-user", headers={"X-Container-Read": f"{b.project_id}:{b.user_id}"})
    a.put_object("r-user/doc.txt", b"readable by user-b")
    try:
        x = on(b, a)
        assert x.get("r-user").status_code == 200
        assert x.names("r-user") == ["doc.txt"]
        assert x.head("r-user").status_code in (200, 204)
        assert x.read("r-user/doc.txt") == b"readable by user-b"
        assert x.head("r-user/doc.txt").status_code == 200
        # A reader may copy what it reads into its own account.
        b.create_container("b-own")
        r = b.put("b-own/copied.txt", headers={"X-Copy-From": "/r-user/doc.txt", "X-Copy-From-Account": "AUTH_" + a.project_id})
        assert r.status_code == 201 and b.read("b-own/copied.txt") == b"readable by user-b"
        # Read is not write.
        assert x.put("r-user/bob.txt", b"no").status_code == 403
        assert x.delete("r-user/doc.txt").status_code == 403
        assert x.post("r-user/doc.txt", headers={"X-Object-Meta-X": "y"}).status_code == 403
        assert x.post("r-user", headers={"X-Container-Write": f"{b.project_id}:*"}).status_code == 403
        # Nor does it open the rest of the account.
        assert x.get().status_code == 403
        assert x.get("vault/secret.txt").status_code == 403
        # Another user of the same project, another project, and anonymous: refused.
        assert on(b2, a).get("r-user/doc.txt").status_code == 403
        assert on(c, a).get("r-user/doc.txt").status_code == 403
        assert anonymous(a).get("r-user/doc.txt").status_code == 401
        assert a.names("r-user") == ["doc.txt"]
        assert a.read("r-user/doc.txt") == b"readable by user-b"
        # Revoked: refused again at once.
        assert a.post("r-user", headers={"X-Container-Read": ""}).status_code == 204
        assert x.get("r-user/doc.txt").status_code == 403
        assert x.get("r-user").status_code == 403
    finally:
        a.post("r-user", headers={"X-Remove-Container-Read": "x"})


OWNER_ONLY = {"x-container-read", "x-container-write", "x-container-meta-temp-url-key",
              "x-container-meta-temp-url-key-2", "x-account-access-control", "x-account-meta-temp-url-key",
              "x-account-meta-temp-url-key-2"}


def test_acl_grantees_do_not_see_the_owners_secrets(world):
    """What Swift shows only to the account's owner: ACLs and TempURL keys. A reader who saw the
    container's key could sign a PUT temp URL and write where the ACL only lets them read."""
    a, b = world["a"], world["b"]
    grant = f"{b.project_id}:{b.user_id}"
    a.create_container("shown", headers={"X-Container-Read": grant, "X-Container-Write": grant,
                                         "X-Container-Meta-Temp-URL-Key": "container-key",
                                         "X-Container-Meta-Color": "red"})
    x = on(b, a)
    for r in (x.head("shown"), x.get("shown")):
        assert r.status_code in (200, 204)
        assert r.headers.get("X-Container-Meta-Color") == "red"
        leaked = OWNER_ONLY & {k.lower() for k in r.headers}
        assert not leaked, leaked
    # The owner sees them.
    h = a.head("shown").headers
    assert h.get("X-Container-Read") == grant and h.get("X-Container-Meta-Temp-Url-Key") == "container-key"


def test_container_read_acl_for_a_whole_project(world):
    a, b, b2, c = world["a"], world["b"], world["b2"], world["c"]
    a.create_container("r-proj", headers={"X-Container-Read": f"{b.project_id}:*"})
    a.put_object("r-proj/doc.txt", b"readable by project B")
    for member in (b, b2):
        x = on(member, a)
        assert x.names("r-proj") == ["doc.txt"]
        assert x.read("r-proj/doc.txt") == b"readable by project B"
        assert x.put("r-proj/new.txt", b"no").status_code == 403
    assert on(c, a).get("r-proj/doc.txt").status_code == 403
    assert on(c, a).get("r-proj").status_code == 403
    assert a.names("r-proj") == ["doc.txt"]


def test_other_acl_forms(world):
    """Besides project_id:user_id and project_id:*, Swift's keystoneauth accepts *:user_id and,
    for default-domain projects and users, names."""
    a, b, b2, c = world["a"], world["b"], world["b2"], world["c"]
    for i, grant in enumerate((f"*:{b.user_id}", "proj-b:user-b")):
        name = f"forms-{i}"
        a.create_container(name, headers={"X-Container-Read": grant})
        a.put_object(f"{name}/doc", b"doc")
        assert on(b, a).read(f"{name}/doc") == b"doc", grant
        assert on(b2, a).get(f"{name}/doc").status_code == 403, grant
        assert on(c, a).get(f"{name}/doc").status_code == 403, grant


def test_container_write_acl_for_one_user(world):
    a, b, b2 = world["a"], world["b"], world["b2"]
    a.create_container("w-user", headers={"X-Container-Write": f"{b.project_id}:{b.user_id}"})
    a.put_object("w-user/existing.txt", b"existing")
    x = on(b, a)
    assert x.put("w-user/from-b.txt", b"written by user-b").status_code == 201
    assert a.read("w-user/from-b.txt") == b"written by user-b"
    assert x.post("w-user/from-b.txt", headers={"X-Object-Meta-Who": "b"}).status_code == 202
    assert a.head("w-user/from-b.txt").headers.get("X-Object-Meta-Who") == "b"
    assert x.delete("w-user/existing.txt").status_code == 204
    assert a.head("w-user/existing.txt").status_code == 404
    # Write is not read, and not a right to change the container's ACLs.
    assert x.get("w-user/from-b.txt").status_code == 403
    assert x.get("w-user").status_code == 403
    assert x.post("w-user", headers={"X-Container-Read": f"{b.project_id}:*"}).status_code == 403
    assert a.head("w-user").headers.get("X-Container-Read", "") == ""
    assert x.delete("w-user").status_code == 403
    # Writing is no way to read: copying an object the grantee cannot read into the container
    # it can write is refused.
    assert x.put("w-user/stolen.txt", headers={"X-Copy-From": "vault/secret.txt"}).status_code == 403
    assert x.request("COPY", "vault/secret.txt", headers={"Destination": "w-user/stolen2.txt"}).status_code == 403
    # Other containers stay closed; the other member of B was not named.
    assert x.put("vault/from-b.txt", b"no").status_code == 403
    assert on(b2, a).put("w-user/from-b2.txt", b"no").status_code == 403
    assert a.names("w-user") == ["from-b.txt"]
    assert_counters_match_listings(a)


def test_large_object_manifests_are_no_way_around_the_acls(world):
    """A grantee who may read and write one container cannot reach another container through a
    DLO or SLO manifest: segments are read with the reader's own rights."""
    a, b = world["a"], world["b"]
    g = f"{b.project_id}:{b.user_id}"
    a.create_container("lo-shared", headers={"X-Container-Read": g, "X-Container-Write": g})
    x = on(b, a)
    assert x.get("vault/secret.txt").status_code == 403
    # A DLO made by the grantee over the owner's private container.
    r = x.put("lo-shared/leak-dlo", b"", headers={"X-Object-Manifest": "vault/secret"})
    if r.status_code == 201:
        r = x.get("lo-shared/leak-dlo")
        assert r.status_code == 403 and SECRET not in r.content
    else:
        assert r.status_code in (400, 403)
    # An SLO made by the grantee: its segments are checked with the grantee's rights.
    r = x.put("lo-shared/leak-slo", json.dumps([{"path": "/vault/secret.txt"}]).encode(),
              params={"multipart-manifest": "put"})
    assert r.status_code in (400, 403) and SECRET not in r.content
    assert x.get("lo-shared/leak-slo").status_code == 404
    # Copying the manifest out does not help either.
    assert x.put("lo-shared/copied", headers={"X-Copy-From": "lo-shared/leak-dlo"}).status_code in (403, 404)
    # Manifests the owner made over the private container: the grantee still reads nothing of it.
    a.put_object("lo-shared/owner-dlo", b"", headers={"X-Object-Manifest": "vault/secret"})
    r = a.put("lo-shared/owner-slo", json.dumps([{"path": "/vault/secret.txt"}]).encode(),
              params={"multipart-manifest": "put"})
    assert r.status_code == 201
    for name in ("lo-shared/owner-dlo", "lo-shared/owner-slo"):
        r = x.get(name)
        assert r.status_code == 403 and SECRET not in r.content, name
        assert a.read(name) == SECRET


def test_container_write_acl_for_a_whole_project(world):
    a, b2, c = world["a"], world["b2"], world["c"]
    a.create_container("w-proj", headers={"X-Container-Write": f"{world['b'].project_id}:*"})
    assert on(b2, a).put("w-proj/from-b2.txt", b"written by user-b2").status_code == 201
    assert a.read("w-proj/from-b2.txt") == b"written by user-b2"
    assert on(c, a).put("w-proj/from-c.txt", b"no").status_code == 403
    assert a.names("w-proj") == ["from-b2.txt"]


def set_account_acl(a, acl):
    r = a.post(headers={"X-Account-Access-Control": json.dumps(acl)})
    assert r.status_code == 204, (r.status_code, r.text)


def clear_account_acl(a):
    r = a.post(headers={"X-Remove-Account-Access-Control": "x"})
    assert r.status_code == 204, (r.status_code, r.text)


def test_account_acl_read_only(world):
    a, b, b2 = world["a"], world["b"], world["b2"]
    a.post(headers={"X-Account-Meta-Temp-URL-Key": "a-private-key"})
    set_account_acl(a, {"read-only": [f"{b.project_id}:{b.user_id}"]})
    try:
        assert json.loads(a.head().headers["X-Account-Access-Control"]) == \
            {"read-only": [f"{b.project_id}:{b.user_id}"]}
        x = on(b, a)
        before = snapshot(a)
        assert set(x.names()) >= {"vault", "second"}
        assert x.head().status_code in (200, 204)
        assert set(x.names("vault")) == {"secret.txt", "dir/other.txt"}
        assert x.read("vault/secret.txt") == SECRET
        assert x.read("second/x.bin") == b"x" * 100
        # The owner's secrets stay hidden: no TempURL key, no ACL.
        h = x.head()
        assert "X-Account-Meta-Temp-Url-Key" not in h.headers
        assert "X-Account-Access-Control" not in h.headers
        # Read-only means read-only.
        assert x.put("vault/planted.txt", b"no").status_code == 403
        assert x.put("new-container").status_code == 403
        assert x.delete("vault/secret.txt").status_code == 403
        assert x.post("vault/secret.txt", headers={"X-Object-Meta-Kind": "x"}).status_code == 403
        assert x.post("vault", headers={"X-Container-Meta-Owner": "b"}).status_code == 403
        assert x.post(headers={"X-Account-Meta-Pwned": "yes"}).status_code == 403
        assert snapshot(a) == before
        # Only the named user.
        assert on(b2, a).get("vault/secret.txt").status_code == 403
        assert on(b2, a).get().status_code == 403
    finally:
        clear_account_acl(a)
    assert on(b, a).get("vault/secret.txt").status_code == 403
    assert on(b, a).get().status_code == 403


def test_account_acl_read_write(world):
    a, b, c = world["a"], world["b"], world["c"]
    set_account_acl(a, {"read-write": [f"{b.project_id}:*"]})
    try:
        x = on(b, a)
        assert x.read("vault/secret.txt") == SECRET
        assert x.put("vault/from-b.txt", b"rw by b").status_code == 201
        assert a.read("vault/from-b.txt") == b"rw by b"
        assert x.put("made-by-b").status_code == 201
        assert "made-by-b" in a.names()
        assert x.put("made-by-b/obj", b"o").status_code == 201
        assert x.delete("made-by-b/obj").status_code == 204
        assert x.delete("made-by-b").status_code == 204
        assert x.delete("vault/from-b.txt").status_code == 204
        # Not an admin: no account metadata, no ACL changes.
        assert x.post(headers={"X-Account-Meta-Pwned": "yes"}).status_code == 403
        r = x.post(headers={"X-Account-Access-Control": json.dumps({"admin": [f"{b.project_id}:*"]})})
        assert r.status_code == 403
        assert json.loads(a.head().headers["X-Account-Access-Control"]) == {"read-write": [f"{b.project_id}:*"]}
        assert "X-Account-Meta-Pwned" not in a.head().headers
        # Project C was not named.
        assert on(c, a).put("vault/from-c.txt", b"no").status_code == 403
        assert on(c, a).get().status_code == 403
        assert_counters_match_listings(a)
    finally:
        clear_account_acl(a)
    assert on(b, a).put("vault/late.txt", b"no").status_code == 403
    assert a.head("vault/late.txt").status_code == 404
