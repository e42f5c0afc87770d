"""Public links, as their owner makes them through Nextcloud's OCS Share API and as anyone holding
the link uses them over public WebDAV (/public.php/dav/files/<token>/): anonymous reads that come
back byte for byte, passwords and the back-off on wrong ones, file drops, read-only and
read-write links (their writes are the owner's: quota, etags, trash), revocation, tokens that
cannot be guessed, paths that cannot leave the link, the audit log, and folders downloaded as zip
archives (link page, public and owner WebDAV; checked by zipfile and Debian's unzip; a 1 GiB
folder in bounded server memory)."""
import datetime
import hashlib
import io
import os
import random
import string
import subprocess
import time
import urllib.parse
import xml.etree.ElementTree as ET
import zipfile

import pytest
import requests

from box_support import Dav, admin_token, d, make_box_user, ocs, parse_multistatus, payload, propfind_body, share, start_box_server, tree
from identity_support import Keystone

@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = start_box_server(tmp_path_factory, name="box-links")
    yield s
    s.stop()


@pytest.fixture(scope="module")
def alice(server):
    dav = make_box_user(server, "link-alice")
    assert dav.put("private.txt", b"alice's secret content").status_code == 201
    return dav


@pytest.fixture(scope="module")
def bob(server):
    return make_box_user(server, "link-bob")


class Public(Dav):
    """WebDAV through a link: anonymous, or Basic with any user name and the link's password."""

    def __init__(self, server, token, password=None):
        super().__init__(server, "anyone", password or "", root=f"/public.php/dav/files/{token}")
        self.token = token
        self.link_password = password

    def request(self, method, path="", headers=None, data=None, url=None, auth=..., timeout=60, **kw):
        if auth is ...:
            auth = ("anyone", self.link_password) if self.link_password is not None else None
        return super().request(method, path, headers=headers, data=data, url=url, auth=auth, timeout=timeout, **kw)


def assert_sabre_error(r, status):
    assert r.status_code == status, (r.status_code, r.text[:500])
    root = ET.fromstring(r.content)
    assert root.tag == d("error"), r.text
    assert root.find("{http://sabredav.org/ns}exception") is not None, r.text


def names(entries, prefix):
    return sorted(e.href[len(prefix):] for e in entries if e.href != prefix)


def user_id(server, name):
    r = Keystone(server).get("/users", admin_token(server), params={"name": name})
    assert r.status_code == 200, r.text
    return r.json()["users"][0]["id"]


# --- creating links, reading through them ---------------------------------------------------------

def test_capabilities_announce_public_links(server):
    r = requests.get(f"{server.url}/ocs/v2.php/cloud/capabilities?format=json", headers={"OCS-APIREQUEST": "true"}, timeout=30)
    sharing = r.json()["ocs"]["data"]["capabilities"]["files_sharing"]
    assert sharing["api_enabled"] is True
    assert sharing["public"]["enabled"] is True and sharing["public"]["upload"] is True
    assert sharing["public"]["password"]["enforced"] is False


def test_link_made_with_ocs_json_serves_the_folder_byte_for_byte(server, alice):
    big = payload(300_000, seed=7)
    assert alice.mkcol("shared").status_code == 201
    assert alice.put("shared/big.bin", big).status_code == 201
    assert alice.mkcol("shared/sub").status_code == 201
    assert alice.put("shared/sub/small.txt", b"small file").status_code == 201

    data = share(server, alice, "/shared", permissions=1, label="Holiday photos")
    assert data["share_type"] == 3
    assert data["permissions"] == 1
    assert data["item_type"] == "folder" and data["mimetype"] == "httpd/unix-directory"
    assert data["path"] == "/shared" and data["file_target"] == "/shared"
    assert data["uid_owner"] == "link-alice" and data["displayname_owner"] == "link-alice"
    assert data["label"] == "Holiday photos"
    assert data["expiration"] is None
    token = data["token"]
    assert 15 <= len(token) <= 32 and all(c in string.ascii_letters + string.digits for c in token)
    assert data["url"] == f"{server.url}/s/{token}"
    assert "password" not in data
    assert int(data["id"]) > 0 and isinstance(data["stime"], int) and data["file_source"] > 0

    pub = Public(server, token)
    r = pub.options("")
    assert r.status_code == 200 and "PROPFIND" in r.headers["Allow"] and "PUT" not in r.headers["Allow"]
    r = pub.propfind("", depth="1")
    assert r.status_code == 207, r.text
    entries = parse_multistatus(r.content)
    prefix = f"/public.php/dav/files/{token}/"
    assert names(entries, prefix) == ["big.bin", "sub/"]
    by_name = {e.href[len(prefix):]: e for e in entries}
    assert by_name["big.bin"].size == len(big)
    # Nothing about the owner's box beyond the link.
    assert "quota" not in r.text and "private.txt" not in r.text
    r = pub.propfind("sub", depth="1")
    assert names(parse_multistatus(r.content), prefix + "sub/") == ["small.txt"]
    r = pub.propfind("sub/small.txt", depth="0")
    assert r.status_code == 207 and parse_multistatus(r.content)[0].size == 10

    r = pub.get("big.bin")
    assert r.status_code == 200 and r.content == big
    assert r.headers["ETag"] == alice.head("shared/big.bin").headers["ETag"]
    r = pub.get("big.bin", headers={"Range": "bytes=1000-1999"})
    assert r.status_code == 206 and r.content == big[1000:2000]
    r = pub.head("sub/small.txt")
    assert r.status_code == 200 and r.headers["Content-Length"] == "10"
    assert pub.get("sub/small.txt").content == b"small file"
    assert pub.get("nothing-here.txt").status_code == 404
    # A folder in a browser: a plain list, no script.
    page = pub.get("sub")
    assert page.status_code == 200 and "small.txt" in page.text and "<script" not in page.text
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]

    # The owner sees the two full downloads (not the range, not the HEAD).
    r = ocs(server, alice, "GET", f"/{data['id']}")
    assert r.status_code == 200
    assert r.json()["ocs"]["data"][0]["download_count"] == 2


def test_link_made_with_ocs_xml_v1_and_v2(server, alice):
    assert alice.put("notes.txt", b"just a file").status_code == 201
    r = ocs(server, alice, "POST", fmt="xml", data={"path": "/notes.txt", "shareType": "3"})
    assert r.status_code == 200, r.text
    root = ET.fromstring(r.content)
    assert root.findtext("meta/status") == "ok" and root.findtext("meta/statuscode") == "200"
    token = root.findtext("data/token")
    share_id = root.findtext("data/id")
    assert root.findtext("data/item_type") == "file" and root.findtext("data/permissions") == "1"
    assert root.findtext("data/url") == f"{server.url}/s/{token}"
    # A file link is the file itself.
    r = Public(server, token).get("")
    assert r.status_code == 200 and r.content == b"just a file"
    # OCS v1 says 100 for success; both versions list it, in XML elements.
    r = ocs(server, alice, "GET", fmt="xml", version="v1", params={"path": "/notes.txt"})
    assert r.status_code == 200
    root = ET.fromstring(r.content)
    assert root.findtext("meta/statuscode") == "100"
    assert [e.findtext("id") for e in root.findall("data/element")] == [share_id]
    r = ocs(server, alice, "GET", fmt="xml", params={"path": "/notes.txt"})
    assert [e.findtext("token") for e in ET.fromstring(r.content).findall("data/element")] == [token]
    # A JSON body works too.
    r = ocs(server, alice, "POST", json={"path": "/notes.txt", "shareType": 3, "permissions": 1})
    assert r.status_code == 200 and r.json()["ocs"]["data"]["token"] != token
    # The list of all the owner's links holds both; ?path= only that file's.
    all_ids = [s["id"] for s in ocs(server, alice, "GET").json()["ocs"]["data"]]
    assert share_id in all_ids
    only = ocs(server, alice, "GET", params={"path": "/notes.txt", "reshares": "true", "subfiles": "false"}).json()["ocs"]["data"]
    assert {s["path"] for s in only} == {"/notes.txt"} and len(only) == 2


# --- passwords ------------------------------------------------------------------------------------

def test_password_protected_link(server, alice):
    assert alice.mkcol("locked").status_code == 201
    assert alice.put("locked/doc.txt", b"behind a password").status_code == 201
    data = share(server, alice, "/locked", password="s3cret-pass")
    assert "password" not in data and "argon2" not in str(data)
    token = data["token"]
    r = Public(server, token).get("doc.txt")
    assert_sabre_error(r, 401)
    assert r.headers["WWW-Authenticate"].startswith("Basic")
    assert Public(server, token, "not-it").get("doc.txt").status_code == 401
    r = Public(server, token, "s3cret-pass").get("doc.txt")
    assert r.status_code == 200 and r.content == b"behind a password"
    # Any user name goes with the password.
    r = requests.get(Public(server, token).url("doc.txt"), auth=("someone-else", "s3cret-pass"), timeout=30)
    assert r.status_code == 200
    # The owner removes the password: anonymous access works.
    r = ocs(server, alice, "PUT", f"/{data['id']}", data={"password": ""})
    assert r.status_code == 200, r.text
    assert Public(server, token).get("doc.txt").status_code == 200


def test_repeated_wrong_passwords_are_refused_for_a_while(server, alice):
    assert alice.mkcol("guarded").status_code == 201
    assert alice.put("guarded/x.txt", b"x").status_code == 201
    token = share(server, alice, "/guarded", password="right-password")["token"]
    for _ in range(5):
        assert Public(server, token, "wrong-password").get("x.txt").status_code == 401
    r = Public(server, token, "wrong-password").get("x.txt")
    assert_sabre_error(r, 429)
    wait = int(r.headers["Retry-After"])
    assert wait >= 1
    # While it lasts, even the right password is refused without being checked.
    assert Public(server, token, "right-password").get("x.txt").status_code == 429
    time.sleep(wait + 0.2)
    r = Public(server, token, "right-password").get("x.txt")
    assert r.status_code == 200 and r.content == b"x"


# --- expiry ---------------------------------------------------------------------------------------

def test_expiry_dates(server, alice):
    assert alice.mkcol("expiring").status_code == 201
    data = share(server, alice, "/expiring")
    today = datetime.datetime.now(datetime.timezone.utc).date()
    tomorrow = today + datetime.timedelta(days=1)
    r = ocs(server, alice, "PUT", f"/{data['id']}", data={"expireDate": tomorrow.isoformat()})
    assert r.status_code == 200, r.text
    assert r.json()["ocs"]["data"]["expiration"] == f"{tomorrow.isoformat()} 00:00:00"
    # A link expiring at the end of today still works today.
    r = ocs(server, alice, "PUT", f"/{data['id']}", data={"expireDate": today.isoformat()})
    assert r.status_code == 200 and r.json()["ocs"]["data"]["expiration"].startswith(today.isoformat())
    assert Public(server, data["token"]).propfind("", depth="0").status_code == 207
    # Dates in the past and malformed dates are refused, on creation and on update.
    yesterday = today - datetime.timedelta(days=1)
    r = ocs(server, alice, "PUT", f"/{data['id']}", data={"expireDate": yesterday.isoformat()})
    assert r.status_code == 400 and r.json()["ocs"]["meta"]["statuscode"] == 400
    r = ocs(server, alice, "POST", data={"path": "/expiring", "shareType": "3", "expireDate": yesterday.isoformat()})
    assert r.status_code == 400
    r = ocs(server, alice, "POST", data={"path": "/expiring", "shareType": "3", "expireDate": "31/12/2099"})
    assert r.status_code == 400
    listed = ocs(server, alice, "GET", params={"path": "/expiring"}).json()["ocs"]["data"]
    assert [s["expiration"] for s in listed] == [f"{today.isoformat()} 00:00:00"]
    r = ocs(server, alice, "PUT", f"/{data['id']}", data={"expireDate": ""})
    assert r.status_code == 200 and r.json()["ocs"]["data"]["expiration"] is None


# --- access levels --------------------------------------------------------------------------------

def test_upload_only_link_takes_files_and_shows_nothing(server, alice):
    assert alice.mkcol("drop").status_code == 201
    assert alice.put("drop/existing.txt", b"already there").status_code == 201
    data = share(server, alice, "/drop", permissions=4)
    assert data["permissions"] == 4
    pub = Public(server, data["token"])
    r = pub.options("")
    assert r.status_code == 200 and "PUT" in r.headers["Allow"] and "PROPFIND" not in r.headers["Allow"]
    assert pub.put("report.txt", b"first report").status_code == 201
    assert pub.put("report.txt", b"second report").status_code == 201
    assert pub.put("existing.txt", b"not an overwrite").status_code == 201
    assert alice.read("drop/report.txt") == b"first report"
    assert alice.read("drop/report (2).txt") == b"second report"
    assert alice.read("drop/existing.txt") == b"already there"
    assert alice.read("drop/existing (2).txt") == b"not an overwrite"
    for r in (pub.propfind("", depth="1"), pub.propfind("", depth="0"), pub.get("existing.txt"), pub.get("report.txt"),
              pub.mkcol("folder"), pub.delete("existing.txt"), pub.put("sub/x.txt", b"x"),
              pub.move("existing.txt", "moved.txt"), pub.copy("existing.txt", "copied.txt")):
        assert_sabre_error(r, 403)
    assert pub.head("existing.txt").status_code == 403
    assert sorted(alice.children("drop")) == ["existing (2).txt", "existing.txt", "report (2).txt", "report.txt"]


def test_read_only_link_refuses_every_write(server, alice):
    assert alice.mkcol("readonly").status_code == 201
    assert alice.put("readonly/keep.txt", b"keep me").status_code == 201
    assert alice.mkcol("readonly/dir").status_code == 201
    before = tree(alice, "readonly")
    pub = Public(server, share(server, alice, "/readonly", permissions=1)["token"])
    for r in (pub.put("new.txt", b"x"), pub.put("keep.txt", b"overwrite"), pub.delete("keep.txt"), pub.delete("dir"),
              pub.mkcol("newdir"), pub.move("keep.txt", "moved.txt"), pub.copy("keep.txt", "copied.txt")):
        assert_sabre_error(r, 403)
    assert pub.request("PROPPATCH", "keep.txt", data=b"<x/>").status_code == 405
    assert pub.request("LOCK", "keep.txt", data=b"").status_code == 405
    assert tree(alice, "readonly") == before
    assert alice.read("readonly/keep.txt") == b"keep me"


def test_read_write_link_writes_into_the_owners_tree(server, alice):
    assert alice.mkcol("team").status_code == 201
    assert alice.put("team/plan.txt", b"v1").status_code == 201
    data = share(server, alice, "/team", permissions=15)
    assert data["permissions"] == 15
    pub = Public(server, data["token"])
    root_etag = alice.propfind("", depth="0")
    root_etag = parse_multistatus(root_etag.content)[0].etag
    assert pub.put("plan.txt", b"v2 from the link").status_code == 204
    assert pub.put("new.txt", b"added").status_code == 201
    assert pub.mkcol("dir").status_code == 201
    assert pub.move("new.txt", "dir/new.txt").status_code == 201
    assert pub.copy("plan.txt", "dir/plan-copy.txt").status_code == 201
    assert pub.put("gone.txt", b"short-lived").status_code == 201
    assert pub.delete("gone.txt").status_code == 204
    # The owner sees it all over their own WebDAV, and their root's etag moved.
    assert alice.read("team/plan.txt") == b"v2 from the link"
    assert alice.read("team/dir/new.txt") == b"added"
    assert alice.read("team/dir/plan-copy.txt") == b"v2 from the link"
    assert not alice.exists("team/gone.txt") and not alice.exists("team/new.txt")
    assert parse_multistatus(alice.propfind("", depth="0").content)[0].etag != root_etag
    # The delete went to the owner's trash.
    r = alice.propfind("", depth="1", url=f"{server.url}/remote.php/dav/trashbin/link-alice/trash")
    assert r.status_code == 207 and "gone.txt" in r.text
    # A Destination outside the link is refused, and the linked folder itself stays.
    r = pub.move("plan.txt", "", headers=None, dest_url=f"{server.url}/remote.php/dav/files/link-alice/stolen.txt")
    assert r.status_code == 502
    r = pub.move("plan.txt", "../escaped.txt")
    assert r.status_code in (400, 502)
    assert not alice.exists("stolen.txt") and not alice.exists("escaped.txt")
    assert_sabre_error(pub.delete(""), 403)
    assert alice.exists("team/plan.txt")


def test_owner_locks_hold_against_link_writes(server, alice):
    assert alice.mkcol("lockedteam").status_code == 201
    assert alice.put("lockedteam/f.txt", b"locked by alice").status_code == 201
    pub = Public(server, share(server, alice, "/lockedteam", permissions=15)["token"])
    lock = alice.lock_token("lockedteam/f.txt")
    assert_sabre_error(pub.put("f.txt", b"overwrite"), 423)
    assert_sabre_error(pub.delete("f.txt"), 423)
    assert_sabre_error(pub.move("f.txt", "g.txt"), 423)
    assert pub.put("other.txt", b"not locked").status_code == 201
    assert alice.read("lockedteam/f.txt") == b"locked by alice"
    assert alice.unlock("lockedteam/f.txt", lock).status_code == 204
    assert pub.put("f.txt", b"after the lock").status_code == 204
    assert alice.read("lockedteam/f.txt") == b"after the lock"


def test_quota_exceeded_through_a_link_is_507(server, alice):
    assert alice.mkcol("full").status_code == 201
    pub = Public(server, share(server, alice, "/full", permissions=15)["token"])
    uid = user_id(server, "link-alice")
    token = admin_token(server)
    used = requests.get(f"{server.url}/box/v1/users/{uid}/quota", headers={"X-Auth-Token": token}, timeout=30).json()["used_bytes"]
    r = requests.put(f"{server.url}/box/v1/users/{uid}/quota", json={"quota_bytes": used + 1000}, headers={"X-Auth-Token": token}, timeout=30)
    assert r.status_code == 200, r.text
    try:
        assert_sabre_error(pub.put("too-big.bin", payload(5000)), 507)
        assert not alice.exists("full/too-big.bin")
        assert pub.put("fits.bin", payload(500)).status_code == 201
    finally:
        requests.put(f"{server.url}/box/v1/users/{uid}/quota", json={"quota_bytes": None}, headers={"X-Auth-Token": token}, timeout=30)


# --- revocation, guessing, traversal --------------------------------------------------------------

def test_revoked_link_is_404_like_an_unknown_one(server, alice):
    assert alice.mkcol("revoked").status_code == 201
    data = share(server, alice, "/revoked")
    pub = Public(server, data["token"])
    assert pub.propfind("", depth="0").status_code == 207
    r = ocs(server, alice, "DELETE", f"/{data['id']}")
    assert r.status_code == 200 and r.json()["ocs"]["meta"]["statuscode"] == 200
    gone = pub.propfind("", depth="0")
    assert_sabre_error(gone, 404)
    unknown = Public(server, "A" * 22).propfind("", depth="0")
    assert unknown.status_code == 404 and unknown.content == gone.content
    assert ocs(server, alice, "GET", f"/{data['id']}").status_code == 404
    # A link on a file in the trash opens nothing either, with the same answer.
    assert alice.put("trashed.txt", b"t").status_code == 201
    t = share(server, alice, "/trashed.txt")
    assert Public(server, t["token"]).get("").status_code == 200
    assert alice.delete("trashed.txt").status_code == 204
    r = Public(server, t["token"]).get("")
    assert r.status_code == 404 and r.content == Public(server, "B" * 22).get("").content


def test_guessed_tokens_find_nothing(server, alice):
    assert alice.mkcol("guess").status_code == 201
    share(server, alice, "/guess")
    rnd = random.Random(42)
    bodies = set()
    for n in (22, 22, 22, 15, 1, 32, 64):
        token = "".join(rnd.choice(string.ascii_letters + string.digits) for _ in range(n))
        r = Public(server, token).propfind("", depth="0")
        assert r.status_code == 404
        bodies.add(r.content)
    assert len(bodies) == 1
    assert requests.get(f"{server.url}/public.php/dav/files/", timeout=30).status_code in (404, 405)


def test_paths_cannot_leave_the_link(server, alice):
    assert alice.mkcol("jail").status_code == 201
    assert alice.mkcol("jail/sub").status_code == 201
    assert alice.put("jail/sub/in.txt", b"inside").status_code == 201
    token = share(server, alice, "/jail/sub", permissions=15)["token"]
    pub = Public(server, token)
    base = f"/public.php/dav/files/{token}".encode()
    hostile = [b"/../private.txt", b"/../../private.txt", b"/%2e%2e/private.txt", b"/%2E%2E/%2e%2e/private.txt",
               b"/..%2fprivate.txt", b"/..%2f..%2fprivate.txt", b"/%252e%252e/private.txt", b"/%252e%252e%252fprivate.txt",
               b"/..%5cprivate.txt", b"/..\\private.txt", b"//private.txt", b"/%2fprivate.txt", b"/in.txt%00.txt",
               b"/./in.txt"]
    for method in ("GET", "PROPFIND", "PUT", "DELETE"):
        for suffix in hostile:
            r = pub.raw(method, base + suffix, auth=False, headers={"Depth": "1"} if method == "PROPFIND" else None)
            assert r.status in (400, 404), (method, suffix, r.status, r.body[:300])
            assert b"secret" not in r.body and b"private.txt</d:href>" not in r.body
    # Destinations are held to the same rules.
    for dest in ("../out.txt", "%2e%2e/out.txt", "..%5cout.txt"):
        r = pub.raw("COPY", base + b"/in.txt", auth=False, headers={"Destination": f"{server.url}/public.php/dav/files/{token}/{dest}"})
        assert r.status in (400, 502), (dest, r.status)
    # An encoded slash does not hide a dot segment.
    assert pub.raw("GET", base + b"/%2e%2e%2fsub%2fin.txt", auth=False).status == 400
    assert pub.get("in.txt").content == b"inside"
    assert alice.read("private.txt") == b"alice's secret content"
    assert sorted(alice.children("jail")) == ["sub"]
    assert sorted(alice.children("jail/sub")) == ["in.txt"]
    assert not any(n.startswith("out") for n in alice.children(""))


# --- the OCS API's errors and who may do what -----------------------------------------------------

def test_ocs_errors_and_ownership(server, alice, bob):
    assert alice.mkcol("mine").status_code == 201
    data = share(server, alice, "/mine")
    r = ocs(server, None, "GET", auth=None)
    assert r.status_code == 401
    r = ocs(server, alice, "POST", data={"path": "/does-not-exist", "shareType": "3"})
    assert r.status_code == 404 and r.json()["ocs"]["meta"]["statuscode"] == 404
    r = ocs(server, alice, "POST", data={"shareType": "3"})
    assert r.status_code == 404
    for bad in ({"permissions": "2"}, {"permissions": "abc"}, {"shareType": "2"}, {"shareType": "9"}, {"publicUpload": "maybe"}):
        fields = {"path": "/mine", "shareType": "3"}
        fields.update(bad)
        r = ocs(server, alice, "POST", data=fields)
        assert r.status_code == 400, (bad, r.text)
        assert r.json()["ocs"]["meta"]["statuscode"] == 400 and r.json()["ocs"]["meta"]["message"]
    # A file cannot become a file drop.
    r = ocs(server, alice, "POST", data={"path": "/private.txt", "shareType": "3", "permissions": "4"})
    assert r.status_code == 400
    # OCS v1 answers HTTP 200 and puts the error in the envelope.
    r = ocs(server, alice, "POST", version="v1", data={"path": "/does-not-exist", "shareType": "3"})
    assert r.status_code == 200 and r.json()["ocs"]["meta"]["statuscode"] == 404
    # Bob can neither read, change nor revoke Alice's link, and does not list it.
    for method, kw in (("GET", {}), ("PUT", {"data": {"permissions": "15"}}), ("DELETE", {})):
        r = ocs(server, bob, method, f"/{data['id']}", **kw)
        assert r.status_code == 403, (method, r.text)
    assert all(s["id"] != data["id"] for s in ocs(server, bob, "GET").json()["ocs"]["data"])
    assert Public(server, data["token"]).propfind("", depth="0").status_code == 207
    assert ocs(server, alice, "GET", "/999999").status_code == 404
    assert ocs(server, alice, "GET", "/not-a-number").status_code == 404
    assert ocs(server, alice, "PUT", f"/{data['id']}", data={}).status_code == 400
    # Updating the permissions through publicUpload, as older clients do.
    r = ocs(server, alice, "PUT", f"/{data['id']}", data={"publicUpload": "true"})
    assert r.status_code == 200 and r.json()["ocs"]["data"]["permissions"] == 15


def test_link_changes_are_audited(server, alice):
    assert alice.mkcol("audited").status_code == 201
    created = ocs(server, alice, "POST", data={"path": "/audited", "shareType": "3", "password": "audit-pass"})
    assert created.status_code == 200
    share_id = created.json()["ocs"]["data"]["id"]
    updated = ocs(server, alice, "PUT", f"/{share_id}", data={"permissions": "15"})
    assert updated.status_code == 200
    deleted = ocs(server, alice, "DELETE", f"/{share_id}")
    assert deleted.status_code == 200
    uid = user_id(server, "link-alice")
    ks = Keystone(server)
    token = admin_token(server)
    wanted = {("box.link.create", created.headers["X-Request-Id"]), ("box.link.update", updated.headers["X-Request-Id"]),
              ("box.link.delete", deleted.headers["X-Request-Id"])}
    deadline = time.time() + 10
    while True:
        records = ks.get("/ciel/audit", token, params={"action": "box.link.", "limit": 1000}).json()["records"]
        found = {(x["action"], x["request_id"]): x for x in records if x["target"] == f"link:{share_id}"}
        if wanted <= set(found) or time.time() > deadline:
            break
        time.sleep(0.2)
    assert wanted <= set(found), records
    for rec in found.values():
        assert rec["principal"] == uid and rec["outcome"] == "success" and rec["source"] == "127.0.0.1"
    assert "password=yes" in found[("box.link.create", created.headers["X-Request-Id"])]["detail"]
    assert "audit-pass" not in str(records)


# --- the page a link opens in a browser -----------------------------------------------------------

def test_link_page_lists_and_downloads(server, alice):
    assert alice.mkcol("album").status_code == 201
    assert alice.mkcol("album/2026").status_code == 201
    photo = payload(120_000, seed=3)
    assert alice.put("album/photo one.jpg", photo).status_code == 201
    assert alice.put("album/2026/a&b <tricky>.txt", b"t").status_code == 201
    data = share(server, alice, "/album")
    page = requests.get(data["url"], timeout=30)
    assert page.status_code == 200, page.text
    assert "photo one.jpg" in page.text and "2026/" in page.text
    assert "<script" not in page.text.lower()
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Frame-Options"] == "DENY"
    fr = requests.get(data["url"], headers={"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.5"}, timeout=30)
    assert fr.status_code == 200 and "Dossier partagé" in fr.text and 'lang="fr"' in fr.text
    en = requests.get(data["url"], headers={"Accept-Language": "de-DE,en;q=0.8"}, timeout=30)
    assert "Shared folder" in en.text
    sub = requests.get(data["url"], params={"path": "2026"}, timeout=30)
    assert sub.status_code == 200 and "a&amp;b &lt;tricky&gt;.txt" in sub.text and "<tricky>" not in sub.text  # escaped
    r = requests.get(data["url"] + "/download", params={"path": "photo one.jpg"}, timeout=30)
    assert r.status_code == 200 and r.content == photo
    assert r.headers["Content-Disposition"] == "attachment; filename*=UTF-8''photo%20one.jpg"
    for bad in ("../private.txt", "%2e%2e/private.txt", "/private.txt", "2026/../../private.txt"):
        r = requests.get(data["url"] + "/download", params={"path": bad}, timeout=30)
        assert r.status_code == 404 and b"secret" not in r.content
    listed = ocs(server, alice, "GET", f"/{data['id']}").json()["ocs"]["data"][0]
    assert listed["download_count"] == 1
    # Unknown and revoked links look the same.
    unknown = requests.get(f"{server.url}/s/{'Z' * 22}", timeout=30)
    assert ocs(server, alice, "DELETE", f"/{data['id']}").status_code == 200
    revoked = requests.get(data["url"], timeout=30)
    assert unknown.status_code == revoked.status_code == 404 and unknown.text == revoked.text


def test_link_page_password_sets_a_cookie_for_that_link_only(server, alice):
    assert alice.mkcol("paged").status_code == 201
    assert alice.put("paged/inside.txt", b"inside the page").status_code == 201
    data = share(server, alice, "/paged", password="page-pass")
    other = share(server, alice, "/paged", password="page-pass")
    r = requests.get(data["url"], timeout=30)
    assert r.status_code == 401 and 'type="password"' in r.text and "inside.txt" not in r.text
    s = requests.Session()
    r = s.post(data["url"] + "/password", data={"password": "wrong"}, timeout=30)
    assert r.status_code == 401 and "Wrong password." in r.text
    r = s.post(data["url"] + "/password", data={"password": "page-pass"}, allow_redirects=False, timeout=30)
    assert r.status_code == 303 and r.headers["Location"] == f"/s/{data['token']}"
    set_cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in set_cookie and f"Path=/s/{data['token']}" in set_cookie and "SameSite=Strict" in set_cookie
    assert "page-pass" not in set_cookie
    r = s.get(data["url"], timeout=30)
    assert r.status_code == 200 and "inside.txt" in r.text
    r = s.get(data["url"] + "/download", params={"path": "inside.txt"}, timeout=30)
    assert r.status_code == 200 and r.content == b"inside the page"
    # The same cookie opens the link's public WebDAV (what the page's upload form uses)...
    dav = f"{server.url}/public.php/dav/files/{data['token']}/"
    assert "Path=/public.php/dav/files/" + data["token"] in set_cookie
    r = s.request("PROPFIND", dav, headers={"Depth": "1"}, timeout=30)
    assert r.status_code == 207 and "inside.txt" in r.text
    assert requests.request("PROPFIND", dav, headers={"Depth": "1"}, timeout=30).status_code == 401
    # ... and is for that link alone (even sent by hand to another one); a forged one fails.
    cookie_value = set_cookie.split(";", 1)[0]
    r = requests.get(other["url"], headers={"Cookie": cookie_value}, timeout=30)
    assert r.status_code == 401
    r = requests.request("PROPFIND", f"{server.url}/public.php/dav/files/{other['token']}/", headers={"Cookie": cookie_value, "Depth": "1"},
                         timeout=30)
    assert r.status_code == 401
    r = requests.request("PROPFIND", dav, headers={"Cookie": "ciel_link=9999999999.00", "Depth": "1"}, timeout=30)
    assert r.status_code == 401
    r = requests.get(data["url"], headers={"Cookie": "ciel_link=9999999999.00"}, timeout=30)
    assert r.status_code == 401
    # A new password asks again.
    assert ocs(server, alice, "PUT", f"/{data['id']}", data={"password": "new-page-pass"}).status_code == 200
    assert s.get(data["url"], timeout=30).status_code == 401
    assert s.request("PROPFIND", dav, headers={"Depth": "1"}, timeout=30).status_code == 401


def test_link_page_of_a_file_drop_shows_nothing(server, alice):
    assert alice.mkcol("dropbox").status_code == 201
    assert alice.put("dropbox/hidden.txt", b"hidden").status_code == 201
    data = share(server, alice, "/dropbox", permissions=4)
    page = requests.get(data["url"], timeout=30)
    assert page.status_code == 200 and "hidden.txt" not in page.text
    assert f"/public.php/dav/files/{data['token']}/" in page.text
    r = requests.get(data["url"] + "/download", params={"path": "hidden.txt"}, timeout=30)
    assert r.status_code == 404 and r.content != b"hidden"


# --- folders as zip archives ----------------------------------------------------------------------

ZIP_TOP = "À zipper"
ZIP_FILES = {
    "notes.txt": b"bonjour\n",
    "vide.txt": b"",
    "Été 2026/photo – plage.jpg": payload(200_000, seed=21),
    "Été 2026/日本語.txt": "こんにちは".encode(),
    "Été 2026/deep/er/data.bin": payload(70_000, seed=22),
}
ZIP_EMPTY_FOLDERS = ["Été 2026/rien"]


@pytest.fixture(scope="module")
def zipped(alice):
    """A folder of nested files with Unicode names and an empty subfolder in alice's box."""
    for folder in [ZIP_TOP, f"{ZIP_TOP}/Été 2026", f"{ZIP_TOP}/Été 2026/deep", f"{ZIP_TOP}/Été 2026/deep/er",
                   *(f"{ZIP_TOP}/{f}" for f in ZIP_EMPTY_FOLDERS)]:
        assert alice.mkcol(folder).status_code == 201, folder
    for rel, data in ZIP_FILES.items():
        assert alice.put(f"{ZIP_TOP}/{rel}", data).status_code == 201, rel
    return ZIP_TOP


def expected_members(top, under=""):
    """The names a zip of folder `under` of ZIP_TOP holds: its files, every folder with a '/'."""
    files = {rel[len(under) + 1:] if under else rel: data for rel, data in ZIP_FILES.items() if not under or rel.startswith(under + "/")}
    folders = {top + "/"}
    for rel in list(files) + [f[len(under) + 1:] if under else f for f in ZIP_EMPTY_FOLDERS if not under or f.startswith(under + "/")]:
        parts = rel.split("/")
        is_folder = rel not in files
        for i in range(1, len(parts) + (1 if is_folder else 0)):
            folders.add(top + "/" + "/".join(parts[:i]) + "/")
    return {f"{top}/{rel}": data for rel, data in files.items()}, folders


def check_zip(r, top, under="", tmp_path=None):
    """The answer is a zip of folder `under` of ZIP_TOP named `top`: Python's zipfile finds every
    member byte for byte with its CRC right, and Debian's unzip extracts the same tree."""
    assert r.status_code == 200, (r.status_code, r.text[:300])
    assert r.headers["Content-Type"] == "application/zip"
    assert r.headers["Content-Disposition"] == "attachment; filename*=UTF-8''" + urllib.parse.quote(top + ".zip", safe="")
    assert int(r.headers["Content-Length"]) == len(r.content)
    files, folders = expected_members(top, under)
    z = zipfile.ZipFile(io.BytesIO(r.content))
    assert z.testzip() is None
    assert set(z.namelist()) == set(files) | folders
    for info in z.infolist():
        assert info.compress_type == zipfile.ZIP_STORED and info.flag_bits & 0x0808 == 0x0808, info
    for name, data in files.items():
        assert hashlib.sha256(z.read(name)).hexdigest() == hashlib.sha256(data).hexdigest(), name
    if tmp_path is not None:
        archive = tmp_path / "archive.zip"
        archive.write_bytes(r.content)
        out = tmp_path / "unzipped"
        env = dict(os.environ, LC_ALL="C.UTF-8")
        run = subprocess.run(["unzip", "-q", str(archive), "-d", str(out)], capture_output=True, env=env, timeout=60)
        assert run.returncode == 0, run.stderr
        for name, data in files.items():
            assert (out / name).read_bytes() == data, name
        for folder in folders:
            assert (out / folder).is_dir(), folder
    return z


def test_link_page_downloads_a_folder_as_a_zip(server, alice, zipped, tmp_path):
    data = share(server, alice, "/" + zipped)
    page = requests.get(data["url"], timeout=30)
    assert page.status_code == 200 and f'href="/s/{data["token"]}/download"' in page.text
    assert "Download this folder (zip)" in page.text
    check_zip(requests.get(data["url"] + "/download", timeout=60), zipped, tmp_path=tmp_path)
    sub = requests.get(data["url"], params={"path": "Été 2026"}, timeout=30)
    assert "/download?path=%C3%89t%C3%A9%202026" in sub.text
    check_zip(requests.get(data["url"] + "/download", params={"path": "Été 2026"}, timeout=60), "Été 2026", under="Été 2026")
    # Public WebDAV answers a folder GET that asks for a zip (what Nextcloud 30 does).
    pub = Public(server, data["token"])
    check_zip(pub.get("", headers={"Accept": "application/zip"}), zipped)
    check_zip(pub.get("Été 2026/deep", headers={"Accept": "application/zip"}), "deep", under="Été 2026/deep")
    check_zip(requests.get(pub.url("Été 2026/deep"), params={"accept": "zip"}, timeout=60), "deep", under="Été 2026/deep")
    assert "text/html" in pub.get("", headers={"Accept": "text/html"}).headers["Content-Type"]
    head = pub.head("", headers={"Accept": "application/zip"})
    assert head.status_code == 200 and int(head.headers["Content-Length"]) == len(pub.get("", headers={"Accept": "application/zip"}).content)
    # One download per archive: six zips (the HTML page and the HEAD do not count).
    assert ocs(server, alice, "GET", f"/{data['id']}").json()["ocs"]["data"][0]["download_count"] == 6


def test_owner_downloads_a_folder_as_a_zip(server, alice, zipped):
    r = alice.get(zipped, headers={"Accept": "application/zip"})
    check_zip(r, zipped)
    # Nextcloud 31's query parameter, for a plain link in a browser.
    check_zip(requests.get(alice.url(zipped), params={"accept": "zip"}, auth=(alice.user, alice.password), timeout=60), zipped)
    legacy = requests.get(f"{server.url}/remote.php/webdav/{urllib.parse.quote(zipped)}/%C3%89t%C3%A9%202026",
                          auth=(alice.user, alice.password), headers={"Accept": "application/zip"}, timeout=60)
    check_zip(legacy, "Été 2026", under="Été 2026")
    # The root of the box has no name: its entries start at the top, in "download.zip".
    root = alice.get("", headers={"Accept": "application/zip"})
    assert root.status_code == 200 and root.headers["Content-Disposition"].endswith("''download.zip")
    names = zipfile.ZipFile(io.BytesIO(root.content)).namelist()
    assert "private.txt" in names and f"{zipped}/notes.txt" in names
    # Without the Accept header a folder is still a page; another user gets nothing.
    assert "text/html" in alice.get(zipped).headers["Content-Type"]
    other = requests.get(alice.url(zipped), auth=("link-bob", "link-bob-password"), headers={"Accept": "application/zip"}, timeout=30)
    assert other.status_code in (401, 403) and not other.content.startswith(b"PK")


def test_zip_of_a_file_drop_a_revoked_link_and_a_password_link(server, alice, zipped):
    drop = share(server, alice, "/" + zipped, permissions=4)
    r = Public(server, drop["token"]).get("", headers={"Accept": "application/zip"})
    assert r.status_code == 403 and not r.content.startswith(b"PK")
    r = requests.get(drop["url"] + "/download", timeout=30)
    assert r.status_code == 404 and not r.content.startswith(b"PK")

    locked = share(server, alice, "/" + zipped, password="zip-pass-1")
    assert Public(server, locked["token"]).get("", headers={"Accept": "application/zip"}).status_code == 401
    assert requests.get(locked["url"] + "/download", timeout=30).status_code == 401
    check_zip(Public(server, locked["token"], "zip-pass-1").get("", headers={"Accept": "application/zip"}), zipped)
    s = requests.Session()
    assert s.post(locked["url"] + "/password", data={"password": "zip-pass-1"}, timeout=30).status_code == 200
    check_zip(s.get(locked["url"] + "/download", timeout=60), zipped)

    gone = share(server, alice, "/" + zipped)
    assert ocs(server, alice, "DELETE", f"/{gone['id']}").status_code == 200
    for r in (Public(server, gone["token"]).get("", headers={"Accept": "application/zip"}), requests.get(gone["url"] + "/download", timeout=30)):
        assert r.status_code == 404 and not r.content.startswith(b"PK")


MIB = 1 << 20


def generated(seed, size):
    """`size` bytes in 1 MiB pieces, each a rotation of one seeded random MiB (cheap to make, no
    two pieces alike), and their SHA-256 once consumed."""
    block = random.Random(seed).randbytes(MIB)
    digest = hashlib.sha256()

    def pieces():
        for i in range(size // MIB):
            k = (i * 4099) % MIB
            piece = block[k:] + block[:k]
            digest.update(piece)
            yield piece
    return pieces(), digest


@pytest.fixture(scope="module")
def gros(server, alice):
    """A folder of 4 files of 256 MiB in alice's box; their SHA-256 by path. Deleted and purged
    afterwards, so the test's data directory does not keep a GiB."""
    assert alice.mkcol("gros").status_code == 201
    digests = {}
    for i in range(4):
        body, digest = generated(100 + i, 256 * MIB)
        r = requests.put(alice.url(f"gros/part-{i}.bin"), data=body, auth=(alice.user, alice.password), timeout=600)
        assert r.status_code == 201, r.text
        digests[f"gros/part-{i}.bin"] = digest.hexdigest()
    yield digests
    assert alice.delete("gros").status_code == 204
    r = requests.delete(f"{server.url}/remote.php/dav/trashbin/{alice.user}/trash", auth=(alice.user, alice.password), timeout=60)
    assert r.status_code == 204, r.text


def verify_big_zip(archive, digests):
    """Every member of the zip of "gros" reads back with its SHA-256; then the archive goes."""
    with zipfile.ZipFile(archive) as z:
        assert z.testzip() is None
        assert sorted(z.namelist()) == ["gros/"] + sorted(digests)
        for name, want in digests.items():
            h = hashlib.sha256()
            with z.open(name) as member:
                while chunk := member.read(MIB):
                    h.update(chunk)
            assert h.hexdigest() == want, name
    archive.unlink()


def test_a_1_gib_folder_streams_as_a_zip_in_bounded_memory(server, alice, gros, tmp_path):
    """4 files of 256 MiB through the link page as one zip: the server's peak resident memory
    (VmHWM, reset just before) grows by less than 64 MiB, and every member verifies."""
    data = share(server, alice, "/gros")
    archive = tmp_path / "gros.zip"
    before = server.rss_bytes()
    server.reset_peak_rss()
    started = time.monotonic()
    with requests.get(data["url"] + "/download", stream=True, timeout=600) as r, open(archive, "wb") as f:
        assert r.status_code == 200
        for piece in r.iter_content(MIB):
            f.write(piece)
    took = time.monotonic() - started
    growth = server.rss_bytes("VmHWM") - before
    size = archive.stat().st_size
    print(f"1 GiB folder as a zip: {size} bytes in {took:.1f} s ({size / MIB / took:.0f} MiB/s); "
          f"server RSS {before / MIB:.1f} MiB before, peak +{growth / 1024:.0f} KiB")
    assert size == int(r.headers["Content-Length"])
    assert growth < 64 * MIB
    verify_big_zip(archive, gros)


def test_a_zip_holds_the_folder_as_it_was_listed(server, alice, gros, tmp_path):
    """The owner deletes one file and rewrites another while the folder's zip is on its way: the
    archive still comes whole, with both as they were (their contents live on in the trash and as
    a version)."""
    archive = tmp_path / "gros.zip"
    with requests.get(alice.url("gros"), auth=(alice.user, alice.password), headers={"Accept": "application/zip"}, stream=True,
                      timeout=600) as r, open(archive, "wb") as f:
        assert r.status_code == 200
        pieces = r.iter_content(MIB)
        for _ in range(64):  # part-0 is under way; part-2 and part-3 are not read yet
            f.write(next(pieces))
        assert alice.delete("gros/part-3.bin").status_code == 204
        assert alice.put("gros/part-2.bin", b"rewritten").status_code == 204
        for piece in pieces:
            f.write(piece)
    assert archive.stat().st_size == int(r.headers["Content-Length"])
    verify_big_zip(archive, gros)
    assert alice.get("gros/part-2.bin").content == b"rewritten"
