"""Shares between users of the box: a user shares a file or folder with another user, or with a
group, through Nextcloud's OCS Share API (shareType 0 and 1); the recipient finds it as a mount
point in their own tree and reaches it over WebDAV and with Debian's `nextcloudcmd`. Every
permission (read, update, create, delete, share) switched on and off is enforced on every DAV
verb; revocation works at the next request; paths cannot leave what was shared; bad input gets
clean OCS or DAV errors."""
import hashlib
import os
import time
import urllib.parse
import xml.etree.ElementTree as ET

import pytest
import requests

from box_support import Dav, admin_token, d, make_box_user, parse_multistatus, payload, propfind_body, start_box_server
from identity_support import Keystone
from test_box_nextcloudcmd import Box, Client

SHARES = "/apps/files_sharing/api/v1/shares"
OC = "{http://owncloud.org/ns}"
READ, UPDATE, CREATE, DELETE, SHARE = 1, 2, 4, 8, 16


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = start_box_server(tmp_path_factory, {"log.access": "true"}, name="box-shares")
    yield s
    s.stop()


class Team:
    """Users who share a project ("team"), one who does not (outsider), and a group."""

    def __init__(self, server):
        self.server = server
        self.ks = Keystone(server)
        self.token = admin_token(server)
        r = self.ks.post("/projects", self.token, json={"project": {"name": "team", "domain_id": "default"}})
        assert r.status_code == 201, r.text
        self.project = r.json()["project"]["id"]
        self.member_role = self.ks.role_id(self.token, "member")
        self.users = {}

    def user(self, name, join=True):
        dav = make_box_user(self.server, name, token=self.token)
        r = self.ks.get(f"/users?name={name}", self.token)
        dav.id = r.json()["users"][0]["id"]
        if join:
            r = self.ks.put(f"/projects/{self.project}/users/{dav.id}/roles/{self.member_role}", self.token)
            assert r.status_code == 204, r.text
        self.users[name] = dav
        return dav

    def group(self, name, *members):
        r = self.ks.post("/groups", self.token, json={"group": {"name": name, "domain_id": "default"}})
        assert r.status_code == 201, r.text
        gid = r.json()["group"]["id"]
        for m in members:
            assert self.ks.put(f"/groups/{gid}/users/{m.id}", self.token).status_code == 204
        return gid


@pytest.fixture(scope="module")
def team(server):
    t = Team(server)
    for name in ("sh-alice", "sh-bob", "sh-carol", "sh-dan"):
        t.user(name)
    t.user("sh-eve", join=False)  # in no project of the others
    return t


def ocs(server, user, method, path="", **kw):
    params = dict(kw.pop("params", {}) or {})
    params["format"] = "json"
    return requests.request(method, f"{server.url}/ocs/v2.php{SHARES}{path}", params=params, auth=(user.user, user.password),
                            headers={"OCS-APIREQUEST": "true"}, timeout=60, **kw)


def share(server, owner, path, with_, permissions=None, share_type=0, status=200):
    data = {"path": path, "shareType": str(share_type), "shareWith": with_}
    if permissions is not None:
        data["permissions"] = str(permissions)
    r = ocs(server, owner, "POST", data=data)
    assert r.status_code == status, r.text
    body = r.json()["ocs"]
    return body["data"] if status == 200 else body["meta"]


def set_permissions(server, owner, share_id, permissions, status=200):
    r = ocs(server, owner, "PUT", f"/{share_id}", data={"permissions": str(permissions)})
    assert r.status_code == status, r.text
    return r.json()["ocs"]


def perms_of(dav, path):
    e = dav.entries(path, "0", OC + "permissions", OC + "owner-id")[0]
    return e.text(OC + "permissions"), e.text(OC + "owner-id")


def audit(server, action):
    ks = Keystone(server)
    r = ks.get("/ciel/audit", admin_token(server), params={"action": action, "limit": 1000})
    assert r.status_code == 200, r.text
    return [e for e in r.json()["records"] if e["action"] == action]


def set_quota(server, user, quota_bytes):
    r = requests.put(f"{server.url}/box/v1/users/{user.id}/quota", json={"quota_bytes": quota_bytes},
                     headers={"X-Auth-Token": admin_token(server)}, timeout=30)
    assert r.status_code in (200, 204), r.text


# --- sharing with a user --------------------------------------------------------------------------

def test_a_shared_folder_appears_in_the_recipients_tree_and_downloads_byte_identical(server, team):
    alice, bob = team.users["sh-alice"], team.users["sh-bob"]
    alice.make_dirs("Projet/Données")
    files = {"Projet/plan.txt": payload(3000, 1), "Projet/Données/grand fichier.bin": payload(300_000, 2)}
    for p, data in files.items():
        alice.put_file(p, data)
    alice.put_file("private.txt", b"not shared")
    data = share(server, alice, "/Projet", "sh-bob", READ)
    assert data["share_type"] == 0 and data["share_with"] == "sh-bob" and data["permissions"] == READ
    assert data["uid_file_owner"] == "sh-alice" and data["item_type"] == "folder"

    kids = bob.children("")
    assert "Projet" in kids, kids.keys()
    assert "private.txt" not in kids
    perms, owner = perms_of(bob, "Projet")
    assert "S" in perms and "M" in perms and "CK" not in perms, perms
    assert owner == "sh-alice"
    assert set(bob.children("Projet")) == {"plan.txt", "Données"}
    for p, data in files.items():
        assert bob.read(p) == data
    inner_perms, _ = perms_of(bob, "Projet/plan.txt")
    assert "W" not in inner_perms and "D" not in inner_perms, inner_perms

    # The recipient sees it in their received shares, at their mount point.
    r = ocs(server, bob, "GET", params={"shared_with_me": "true"})
    received = r.json()["ocs"]["data"]
    assert [s["path"] for s in received] == ["/Projet"], received
    assert received[0]["uid_owner"] == "sh-alice"


def test_a_change_by_the_owner_changes_the_recipients_root_etag(server, team):
    alice, bob = team.users["sh-alice"], team.users["sh-bob"]
    before = bob.entries("", "0")[0].etag
    mount_before = bob.entries("Projet", "0")[0].etag
    alice.put_file("Projet/Données/nouveau.txt", b"new from alice")
    assert bob.entries("", "0")[0].etag != before
    assert bob.entries("Projet", "0")[0].etag != mount_before
    assert bob.read("Projet/Données/nouveau.txt") == b"new from alice"


def test_every_permission_is_enforced_on_every_dav_verb(server, team):
    alice, carol = team.users["sh-alice"], team.users["sh-carol"]
    alice.make_dirs("Matrice/sub")
    alice.put_file("Matrice/f.txt", b"original")
    alice.put_file("Matrice/sub/g.txt", b"in sub")
    sid = share(server, alice, "/Matrice", "sh-carol", READ)["id"]
    carol.put_file("mine.txt", b"carol's own")
    counter = [0]

    def attempts():
        """{verb: status} for one write of each kind inside the share, each on fresh names."""
        counter[0] += 1
        n = counter[0]
        alice.put_file(f"Matrice/victim{n}.txt", b"victim")
        alice.put_file(f"Matrice/ren{n}.txt", b"rename me")
        out = {}
        out["put-new"] = carol.put(f"Matrice/new{n}.txt", b"new").status_code
        out["put-overwrite"] = carol.put("Matrice/f.txt", f"over {n}".encode()).status_code
        out["mkcol"] = carol.mkcol(f"Matrice/dir{n}").status_code
        out["delete"] = carol.delete(f"Matrice/victim{n}.txt").status_code
        out["rename"] = carol.move(f"Matrice/ren{n}.txt", f"Matrice/renamed{n}.txt").status_code
        out["move-out"] = carol.move("Matrice/sub/g.txt", f"out{n}.txt").status_code
        if out["move-out"] in (201, 204):  # put it back for the next round
            alice.put_file("Matrice/sub/g.txt", b"in sub")
        out["copy-in"] = carol.copy("mine.txt", f"Matrice/copied{n}.txt").status_code
        out["proppatch"] = carol.proppatch("Matrice/f.txt", (
            '<?xml version="1.0"?><d:propertyupdate xmlns:d="DAV:" xmlns:x="urn:x"><d:set><d:prop><x:tag>v</x:tag>'
            '</d:prop></d:set></d:propertyupdate>').encode()).status_code
        r = carol.lock("Matrice/f.txt")
        out["lock"] = r.status_code
        if r.status_code in (200, 201):
            carol.unlock("Matrice/f.txt", r.headers["Lock-Token"].strip("<>"))
        out["get"] = carol.get("Matrice/f.txt").status_code
        out["propfind"] = carol.propfind("Matrice", "1").status_code
        return out

    def ok(code):
        return code in (200, 201, 204, 207)

    needs = {"put-new": CREATE, "put-overwrite": UPDATE, "mkcol": CREATE, "delete": DELETE, "rename": UPDATE,
             "move-out": DELETE, "copy-in": CREATE, "proppatch": UPDATE, "lock": UPDATE, "get": 0, "propfind": 0}
    for perms in (READ, READ | UPDATE, READ | CREATE, READ | DELETE, READ | UPDATE | CREATE | DELETE):
        set_permissions(server, alice, sid, perms)
        seen = attempts()
        for verb, bit in needs.items():
            allowed = (perms & bit) == bit
            assert ok(seen[verb]) == allowed, (perms, verb, seen[verb], seen)
            if not allowed:
                assert seen[verb] == 403, (perms, verb, seen[verb])
    # What was refused left nothing behind; what was allowed is in the owner's tree.
    names = set(alice.children("Matrice"))
    assert "new1.txt" not in names and "dir1" not in names and "victim1.txt" in names
    assert "new5.txt" in names and "dir5" in names and "victim5.txt" not in names and "renamed5.txt" in names
    assert alice.read("Matrice/f.txt") == b"over 5"
    assert alice.read("Matrice/copied5.txt") == b"carol's own"


def test_writes_through_a_share_are_the_owners_quota_versions_and_trash(server, team):
    alice, bob = team.users["sh-alice"], team.users["sh-bob"]
    alice.make_dirs("Écrit")
    alice.put_file("Écrit/doc.txt", b"version one")
    share(server, alice, "/Écrit", "sh-bob", READ | UPDATE | CREATE | DELETE)
    bob.put_file("Écrit/doc.txt", b"version two by bob")
    assert alice.read("Écrit/doc.txt") == b"version two by bob"
    # The previous content became the owner's version.
    fileid = alice.entries("Écrit/doc.txt", "0", OC + "fileid")[0].text(OC + "fileid")
    assert bob.entries("Écrit/doc.txt", "0", OC + "fileid")[0].text(OC + "fileid") == fileid  # one file, seen by both
    for who in (alice, bob):  # the owner's versions, listed for both
        r = who.request("PROPFIND", url=f"{server.url}/remote.php/dav/versions/{who.user}/versions/{fileid}", headers={"Depth": "1"})
        assert r.status_code == 207, r.text[:500]
        assert len([e for e in parse_multistatus(r.content) if not e.href.endswith("/")]) == 1, r.text[:800]
    assert bob.delete("Écrit/doc.txt").status_code == 204
    assert not alice.exists("Écrit/doc.txt")
    r = alice.request("PROPFIND", url=f"{server.url}/remote.php/dav/trashbin/{alice.user}/trash", headers={"Depth": "1"})
    assert r.status_code == 207 and "doc.txt" in r.text
    # The owner's quota bounds what the recipient writes, and nothing is left half-written.
    set_quota(server, alice, 100_000)
    try:
        assert bob.put("Écrit/big.bin", payload(200_000, 9)).status_code == 507
        assert not alice.exists("Écrit/big.bin")
    finally:
        set_quota(server, alice, None)


def test_chunked_upload_and_moves_across_the_share_boundary(server, team):
    alice, bob = team.users["sh-alice"], team.users["sh-bob"]
    # Chunked upload v2 by the recipient into the share (what sync clients do for big files).
    up = f"{server.url}/remote.php/dav/uploads/sh-bob/transfer-1"
    assert requests.request("MKCOL", up, auth=(bob.user, bob.password)).status_code == 201
    big = payload(3 * 1024 * 1024, 7)
    for i in range(3):
        r = requests.put(f"{up}/{i + 1:05d}", data=big[i * 1024 * 1024:(i + 1) * 1024 * 1024], auth=(bob.user, bob.password))
        assert r.status_code == 201, r.text
    r = requests.request("MOVE", f"{up}/.file", auth=(bob.user, bob.password),
                         headers={"Destination": bob.url("Écrit/chunked.bin"), "OC-Total-Length": str(len(big))})
    assert r.status_code in (201, 204), r.text
    assert hashlib.sha256(alice.read("Écrit/chunked.bin")).digest() == hashlib.sha256(big).digest()
    # Copy out, move in, move out: the bytes follow, the owner's tree shows the result.
    assert bob.copy("Écrit/chunked.bin", "copie.bin").status_code == 201
    assert bob.read("copie.bin") == big
    bob.put_file("à moi.txt", b"bob moves this in")
    assert bob.move("à moi.txt", "Écrit/à moi.txt").status_code == 201
    assert alice.read("Écrit/à moi.txt") == b"bob moves this in"
    assert not bob.exists("à moi.txt")
    assert bob.move("Écrit/à moi.txt", "repris.txt").status_code == 201
    assert bob.read("repris.txt") == b"bob moves this in"
    assert not alice.exists("Écrit/à moi.txt")
    # A mount point cannot go into a share; a file cannot replace a mount point.
    bob.make_dirs("Rangement")
    assert bob.move("Écrit", "Projet/Écrit").status_code == 403
    assert bob.move("repris.txt", "Écrit").status_code in (403, 412)


def test_the_recipient_renames_and_moves_the_mount_point_and_removing_it_declines(server, team):
    alice, dan = team.users["sh-alice"], team.users["sh-dan"]
    alice.make_dirs("Atelier")
    alice.put_file("Atelier/outil.txt", b"tool")
    share(server, alice, "/Atelier", "sh-dan", READ | UPDATE)
    dan.make_dirs("Reçus")
    assert dan.move("Atelier", "Reçus/L'atelier d'Alice").status_code == 201
    assert dan.read("Reçus/L'atelier d'Alice/outil.txt") == b"tool"
    assert alice.exists("Atelier")  # the owner's folder keeps its name
    r = ocs(server, dan, "GET", params={"shared_with_me": "true"})
    assert [s["path"] for s in r.json()["ocs"]["data"]] == ["/Reçus/L'atelier d'Alice"]
    # Lock by the owner holds against the recipient.
    token = alice.lock_token("Atelier/outil.txt")
    assert dan.put("Reçus/L'atelier d'Alice/outil.txt", b"changed").status_code == 423
    alice.unlock("Atelier/outil.txt", token)
    assert dan.delete("Reçus/L'atelier d'Alice").status_code == 204
    assert not dan.exists("Reçus/L'atelier d'Alice")
    assert alice.read("Atelier/outil.txt") == b"tool"
    assert ocs(server, alice, "GET", params={"path": "/Atelier"}).json()["ocs"]["data"] == []


def test_reshare_needs_the_share_permission_and_cannot_widen_it(server, team):
    alice, bob, carol = team.users["sh-alice"], team.users["sh-bob"], team.users["sh-carol"]
    alice.make_dirs("Chaîne")
    alice.put_file("Chaîne/a.txt", b"chain")
    sid = share(server, alice, "/Chaîne", "sh-bob", READ | UPDATE)["id"]
    meta = share(server, bob, "/Chaîne", "sh-carol", READ, status=403)
    assert meta["statuscode"] == 403, meta
    assert not carol.exists("Chaîne")
    set_permissions(server, alice, sid, READ | UPDATE | SHARE)
    meta = share(server, bob, "/Chaîne", "sh-carol", READ | UPDATE | CREATE, status=400)
    assert meta["statuscode"] == 400
    reshare = share(server, bob, "/Chaîne", "sh-carol", READ)
    assert reshare["uid_owner"] == "sh-bob" and reshare["uid_file_owner"] == "sh-alice"
    assert carol.read("Chaîne/a.txt") == b"chain"
    # Revoking the share it came through revokes the reshare.
    assert ocs(server, alice, "DELETE", f"/{sid}").status_code == 200
    assert carol.get("Chaîne/a.txt").status_code == 404
    assert not carol.exists("Chaîne")
    assert not bob.exists("Chaîne")


def test_a_revoked_share_stops_at_the_next_request(server, team):
    alice, bob = team.users["sh-alice"], team.users["sh-bob"]
    alice.put_file("seul.txt", b"a single shared file")
    sid = share(server, alice, "/seul.txt", "sh-bob", READ | UPDATE)["id"]
    assert bob.read("seul.txt") == b"a single shared file"
    assert bob.put("seul.txt", b"edited by bob").status_code == 204
    assert alice.read("seul.txt") == b"edited by bob"
    root_before = bob.entries("", "0")[0].etag
    assert ocs(server, alice, "DELETE", f"/{sid}").status_code == 200
    assert bob.get("seul.txt").status_code == 404
    assert "seul.txt" not in bob.children("")
    assert bob.entries("", "0")[0].etag != root_before
    assert ocs(server, bob, "GET", f"/{sid}").status_code == 404
    records = audit(server, "box.share.delete")
    assert any(r["target"] == f"share:{sid}" and r["principal"] == alice.id and r["outcome"] == "success"
               for r in records), records
    created = audit(server, "box.share.create")
    assert any("path=/seul.txt" in r["detail"] and "with=user:sh-bob" in r["detail"] for r in created), created


def test_a_group_share_reaches_its_members_and_stops_for_one_who_leaves(server, team):
    alice, bob, carol = team.users["sh-alice"], team.users["sh-bob"], team.users["sh-carol"]
    gid = team.group("sh-équipe", alice, bob, carol)
    alice.make_dirs("Groupe")
    alice.put_file("Groupe/g.txt", b"for the group")
    data = share(server, alice, "/Groupe", "sh-équipe", READ, share_type=1)
    assert data["share_type"] == 1 and data["share_with"] == "sh-équipe"
    assert bob.read("Groupe/g.txt") == b"for the group"
    assert carol.read("Groupe/g.txt") == b"for the group"
    assert team.users["sh-dan"].get("Groupe/g.txt").status_code == 404
    # Carol declines: only for her.
    assert carol.delete("Groupe").status_code == 204
    assert not carol.exists("Groupe") and "Groupe" not in carol.children("")
    assert bob.read("Groupe/g.txt") == b"for the group"
    # Bob leaves the group: the share stops for him at once.
    assert team.ks.delete(f"/groups/{gid}/users/{bob.id}", team.token).status_code == 204
    assert bob.get("Groupe/g.txt").status_code == 404


# --- bad input ------------------------------------------------------------------------------------

def test_sharing_with_unknown_users_oneself_or_strangers_is_refused_cleanly(server, team):
    alice = team.users["sh-alice"]
    alice.put_file("refus.txt", b"x")
    for with_, status in (("nobody-at-all", 404), ("sh-alice", 400), ("sh-eve", 404), ("", 404)):
        meta = share(server, alice, "/refus.txt", with_, READ, status=status)
        assert meta["statuscode"] == status and meta["message"], (with_, meta)
    assert share(server, alice, "/refus.txt", "no-such-group", READ, share_type=1, status=404)["statuscode"] == 404
    assert share(server, alice, "/", "sh-bob", READ, status=400)["statuscode"] == 400
    assert share(server, alice, "/nope.txt", "sh-bob", READ, status=404)["statuscode"] == 404
    for bad in (0, 2, 32, -1, "x"):
        meta = share(server, alice, "/refus.txt", "sh-bob", bad, status=400)
        assert meta["statuscode"] == 400, (bad, meta)
    share(server, alice, "/refus.txt", "sh-bob", READ)
    assert share(server, alice, "/refus.txt", "sh-bob", READ, status=403)["statuscode"] == 403  # already shared
    # Someone else's share id is not found, whoever asks.
    sid = ocs(server, alice, "GET", params={"path": "/refus.txt"}).json()["ocs"]["data"][0]["id"]
    assert ocs(server, team.users["sh-eve"], "GET", f"/{sid}").status_code == 404
    assert ocs(server, team.users["sh-eve"], "DELETE", f"/{sid}").status_code == 404
    assert ocs(server, team.users["sh-eve"], "PUT", f"/{sid}", data={"permissions": "31"}).status_code == 404


def test_no_path_trick_through_a_mount_point_reaches_the_owners_other_files(server, team):
    alice, bob = team.users["sh-alice"], team.users["sh-bob"]
    assert bob.read("Projet/plan.txt")
    root = "/remote.php/dav/files/sh-bob/"
    for target in (b"Projet/../private.txt", b"Projet/%2e%2e/private.txt", b"Projet/%2E%2E%2Fprivate.txt",
                   b"Projet/..%2fprivate.txt", b"Projet/%252e%252e/private.txt", b"Projet/./../private.txt"):
        r = bob.raw("GET", root.encode() + target)
        assert r.status in (400, 403, 404), (target, r.status)
        assert b"not shared" not in r.body, target
    # Through MOVE/COPY destinations too.
    for dest in ("Projet/../../sh-alice/x.txt", "../sh-alice/private.txt"):
        r = bob.copy("Projet/plan.txt", "", dest_url=f"{server.url}{root}{dest}")
        assert r.status_code in (400, 403, 404, 409, 502), (dest, r.status_code)
    assert alice.read("private.txt") == b"not shared"
    # The owner's own received shares inside a shared folder are not the recipient's to see.


def test_sharees_lists_coworkers_and_own_groups_only(server, team):
    alice = team.users["sh-alice"]
    r = requests.get(f"{server.url}/ocs/v2.php/apps/files_sharing/api/v1/sharees", params={"search": "sh-", "format": "json"},
                     auth=(alice.user, alice.password), headers={"OCS-APIREQUEST": "true"})
    assert r.status_code == 200, r.text
    data = r.json()["ocs"]["data"]
    users = {u["value"]["shareWith"] for u in data["users"] + data["exact"]["users"]}
    assert {"sh-bob", "sh-carol", "sh-dan"} <= users
    assert "sh-eve" not in users and "sh-alice" not in users
    r = requests.get(f"{server.url}/ocs/v2.php/apps/files_sharing/api/v1/sharees", params={"search": "x" * 300, "format": "json"},
                     auth=(alice.user, alice.password), headers={"OCS-APIREQUEST": "true"})
    assert r.status_code == 400


# --- the sync client ------------------------------------------------------------------------------

def test_the_recipient_syncs_a_share_with_nextcloudcmd_and_edits_flow_back(server, team, tmp_path):
    alice, bob = team.users["sh-alice"], team.users["sh-bob"]
    alice.make_dirs("Synchro/sous dossier")
    files = {"Synchro/a.txt": b"alpha", "Synchro/sous dossier/b.bin": payload(2 * 1024 * 1024, 11)}
    for p, data in files.items():
        alice.put_file(p, data)
    sid = share(server, alice, "/Synchro", "sh-bob", READ | UPDATE | CREATE | DELETE)["id"]
    client = Client("bob", tmp_path, Box(server, bob.user, bob.password), bob.password)
    client.sync_logged()
    for p, data in files.items():
        assert (client.folder / p).read_bytes() == data, p
    assert (client.folder / "Projet" / "plan.txt").exists()  # the read-only share from the first test
    # The owner adds a file: the next sync brings it.
    alice.put_file("Synchro/nouveau.txt", b"added by the owner")
    client.sync_logged()
    assert (client.folder / "Synchro" / "nouveau.txt").read_bytes() == b"added by the owner"
    # The recipient edits and adds locally: the owner sees both.
    time.sleep(1.1)
    (client.folder / "Synchro" / "a.txt").write_bytes(b"alpha edited by bob")
    (client.folder / "Synchro" / "de bob.txt").write_bytes(b"from bob's computer")
    past = time.time() - 120
    for f in ("a.txt", "de bob.txt"):
        os.utime(client.folder / "Synchro" / f, (past, past))
    client.sync_logged()
    assert alice.read("Synchro/a.txt") == b"alpha edited by bob"
    assert alice.read("Synchro/de bob.txt") == b"from bob's computer"
    # Revoked: the next sync removes the folder from bob's computer, alice keeps everything.
    assert ocs(server, alice, "DELETE", f"/{sid}").status_code == 200
    client.sync_logged()
    assert not (client.folder / "Synchro").exists()
    assert alice.read("Synchro/de bob.txt") == b"from bob's computer"


# --- activity and notifications -------------------------------------------------------------------

def ocs_get(server, user, url, **params):
    params["format"] = "json"
    r = requests.get(f"{server.url}/ocs/v2.php{url}", params=params, auth=(user.user, user.password),
                     headers={"OCS-APIREQUEST": "true"}, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()["ocs"]["data"]


def test_sharing_leaves_activity_entries_and_notifies_the_recipient(server, team):
    alice, dan = team.users["sh-alice"], team.users["sh-dan"]
    alice.make_dirs("Annonce")
    sid = share(server, alice, "/Annonce", "sh-dan", READ)["id"]
    notes = ocs_get(server, dan, "/apps/notifications/api/v2/notifications")
    mine = [n for n in notes if "Annonce" in n["subject"]]
    assert mine and mine[0]["subject"] == "sh-alice shared \u201cAnnonce\u201d with you", notes
    theirs = ocs_get(server, dan, "/apps/activity/api/v2/activity/files_sharing")
    assert any(a["ciel_kind"] == "shared" and a["user"] == "sh-alice" and a["object_name"] == "/Annonce" for a in theirs), theirs
    owners = ocs_get(server, alice, "/apps/activity/api/v2/activity/files_sharing")
    assert any(a["ciel_kind"] == "shared" and a["subject"] == "You shared Annonce with sh-dan" for a in owners), owners
    assert ocs(server, alice, "DELETE", f"/{sid}").status_code == 200
    theirs = ocs_get(server, dan, "/apps/activity/api/v2/activity/files_sharing")
    assert any(a["ciel_kind"] == "unshared" and a["object_name"] == "/Annonce" for a in theirs), theirs
    owners = ocs_get(server, alice, "/apps/activity/api/v2/activity/files_sharing")
    assert any(a["ciel_kind"] == "unshared" and "sh-dan" in a["subject"] for a in owners), owners
    # A write through a share is in the owner's stream.
    sid = share(server, alice, "/Annonce", "sh-dan", READ | CREATE)["id"]
    dan.put_file("Annonce/de dan.txt", b"hello")
    files = ocs_get(server, alice, "/apps/activity/api/v2/activity/files")
    assert any(a["ciel_kind"] == "file_created" and a["object_name"] == "/Annonce/de dan.txt" and a["user"] == "sh-dan"
               for a in files), files
    own = ocs_get(server, dan, "/apps/activity/api/v2/activity/self")
    assert any(a["ciel_kind"] == "file_created" and a["object_name"] == "/Annonce/de dan.txt" for a in own), own


def test_a_shared_html_file_never_runs_on_the_recipients_session(server, team):
    """A file is served as its uploader made it, on the console's origin: the answer forbids any
    script (CSP sandbox, no sniffing), whether read by the owner, a recipient or through a link."""
    alice, bob = team.users["sh-alice"], team.users["sh-bob"]
    alice.make_dirs("Piège")
    page = b"<html><body><script>fetch('/console/v1/session').then(r => r.text()).then(t => fetch('/steal?' + t))</script></body></html>"
    alice.put_file("Piège/index.html", page, headers={"Content-Type": "text/html"})
    share(server, alice, "/Piège", "sh-bob", READ)
    token = ocs(server, alice, "POST", data={"path": "/Piège/index.html", "shareType": "3"}).json()["ocs"]["data"]["token"]
    for r in (alice.get("Piège/index.html"), bob.get("Piège/index.html"),
              requests.get(f"{server.url}/public.php/dav/files/{token}/", timeout=30)):
        assert r.status_code == 200 and r.content == page
        csp = r.headers.get("Content-Security-Policy", "")
        assert "sandbox" in csp.split(";")[0] and "script-src" not in csp and "default-src 'none'" in csp, csp
        assert r.headers.get("X-Content-Type-Options") == "nosniff"
