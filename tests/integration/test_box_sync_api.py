"""The calls Nextcloud clients make around WebDAV, as a user would meet them: status.php, the OCS
capabilities and user, Login Flow v2 (the console grants the client an app password), the user's
app passwords, versions (an overwrite keeps the previous content, listed and restorable through
the versions collection) and the trash (a delete is restorable, then purgeable)."""
import json
import re
import urllib.parse

import pytest
import requests

from box_support import (NC, OC, Dav, admin_password, d, make_box_user, poll_login_flow, propfind_body, start_box_server,
                         start_login_flow)
from identity_support import Keystone


def oc(name):
    return "{" + OC + "}" + name


def nc(name):
    return "{" + NC + "}" + name


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = start_box_server(tmp_path_factory, name="box-sync-api")
    yield s
    s.stop()


@pytest.fixture(scope="module")
def admin(server):
    return Dav(server, "admin", admin_password(server))


def test_status_php_says_installed_with_a_version(server):
    r = requests.get(server.url + "/status.php", timeout=10)
    assert r.status_code == 200
    s = r.json()
    assert s["installed"] is True and s["maintenance"] is False
    assert re.match(r"^\d+\.\d+\.\d+", s["version"])


@pytest.mark.parametrize("v", ["v1", "v2"])
def test_capabilities_announce_chunking_and_checksums(server, v):
    r = requests.get(f"{server.url}/ocs/{v}.php/cloud/capabilities?format=json", headers={"OCS-APIREQUEST": "true"}, timeout=10)
    assert r.status_code == 200
    ocs = r.json()["ocs"]
    assert ocs["meta"]["status"] == "ok"
    caps = ocs["data"]["capabilities"]
    assert caps["dav"]["chunking"] == "1.0"
    assert "bulkupload" not in caps["dav"]  # nextcloudcmd 3.7 truncates bulk bodies
    assert "SHA1" in caps["checksums"]["supportedTypes"]


def test_cloud_user_needs_credentials_and_names_the_login(server, admin):
    url = server.url + "/ocs/v1.php/cloud/user?format=json"
    r = requests.get(url, headers={"OCS-APIREQUEST": "true"}, timeout=10)
    assert r.status_code == 401
    r = requests.get(url, headers={"OCS-APIREQUEST": "true"}, auth=("admin", admin.password), timeout=30)
    assert r.status_code == 200
    data = r.json()["ocs"]["data"]
    assert data["id"] == "admin"
    assert data["quota"]["used"] >= 0


def test_login_flow_v2_grants_an_app_password_once(server):
    dav = make_box_user(server, "flowuser")
    flow = start_login_flow(server, "Flow test desktop")
    assert poll_login_flow(flow).status_code == 404  # not granted yet
    # The login URL leads to the console's approval page (the browser side is in test_console.py).
    token = flow["login"].rsplit("/", 1)[1]
    hop = requests.get(flow["login"], allow_redirects=False, timeout=10)
    assert hop.status_code == 303 and hop.headers["Location"] == "/#/connect/" + token
    assert hop.headers["Cache-Control"] == "no-store"
    api = f"{server.url}/box/v1/login-flows/{token}"
    # Only a signed-in user (an identity token, which the console's cookie becomes) answers a flow:
    # Basic credentials do not, even right ones, so an app password cannot make another.
    assert requests.get(api, timeout=10).status_code == 401
    assert requests.post(api, auth=("flowuser", dav.password), timeout=30).status_code == 401
    assert poll_login_flow(flow).status_code == 404
    signed_in = {"X-Auth-Token": Keystone(server).token("flowuser", dav.password)}
    assert requests.get(api, headers=signed_in, timeout=10).json() == {"client": "Flow test desktop"}
    ok = requests.post(api, headers=signed_in, timeout=30)
    assert ok.status_code == 204, ok.text
    r = poll_login_flow(flow)
    assert r.status_code == 200
    granted = r.json()
    assert granted["loginName"] == "flowuser"
    assert granted["server"] == server.url
    app = Dav(server, "flowuser", granted["appPassword"])
    assert app.put("via-app-password.txt", b"hello").status_code == 201
    assert dav.get("via-app-password.txt").content == b"hello"
    # Once only: the poll token is spent, and the flow too.
    assert poll_login_flow(flow).status_code == 404
    assert requests.get(api, headers=signed_in, timeout=10).status_code == 404
    assert requests.post(api, headers=signed_in, timeout=10).status_code == 404
    # The user sees the client among their app passwords and can revoke it: it stops working.
    listing = requests.get(server.url + "/box/v1/app-passwords", auth=("flowuser", dav.password), timeout=30).json()
    names = {a["name"]: a["id"] for a in listing["app_passwords"]}
    assert "Flow test desktop" in names
    r = requests.delete(server.url + "/box/v1/app-passwords/" + names["Flow test desktop"], auth=("flowuser", dav.password), timeout=30)
    assert r.status_code == 204
    assert app.propfind("", depth="0").status_code == 401


def test_login_flow_v2_refused_ends_the_flow(server):
    dav = make_box_user(server, "flowrefuser")
    flow = start_login_flow(server, "Unwanted client")
    api = f"{server.url}/box/v1/login-flows/{flow['login'].rsplit('/', 1)[1]}"
    signed_in = {"X-Auth-Token": Keystone(server).token("flowrefuser", dav.password)}
    assert requests.delete(api, headers=signed_in, timeout=10).status_code == 204
    assert poll_login_flow(flow).status_code == 404
    assert requests.post(api, headers=signed_in, timeout=10).status_code == 404  # nothing left to grant
    assert requests.delete(api, headers=signed_in, timeout=10).status_code == 404
    assert poll_login_flow(flow).status_code == 404


def test_app_password_of_one_user_does_not_open_another(server):
    alice = make_box_user(server, "apw-alice")
    make_box_user(server, "apw-bob")
    r = requests.post(server.url + "/box/v1/app-passwords", json={"name": "script"}, auth=("apw-alice", alice.password), timeout=30)
    assert r.status_code == 201
    pw = r.json()["password"]
    assert Dav(server, "apw-alice", pw).propfind("", depth="0").status_code == 207
    # Alice's app password with Bob's login name is refused, and Bob's files stay his.
    assert Dav(server, "apw-bob", pw).propfind("", depth="0").status_code == 401


def test_overwrite_keeps_versions_that_list_download_and_restore(server):
    dav = make_box_user(server, "versions")
    assert dav.put("notes.txt", b"first").status_code == 201
    assert dav.put("notes.txt", b"second").status_code == 204
    assert dav.put("notes.txt", b"third!").status_code == 204
    fileid = dav.entries("notes.txt", "0", oc("fileid"))[0].text(oc("fileid"))
    base = f"{server.url}/remote.php/dav/versions/versions/versions/{fileid}"
    r = dav.request("PROPFIND", url=base, headers={"Depth": "1"})
    assert r.status_code == 207, r.text
    hrefs = re.findall(r"<d:href>([^<]+)</d:href>", r.text)
    versions = [h for h in hrefs if not h.endswith("/")]
    assert len(versions) == 2
    contents = {requests.get(server.url + h, auth=("versions", dav.password), timeout=30).content for h in versions}
    assert contents == {b"first", b"second"}
    first = [h for h in versions if requests.get(server.url + h, auth=("versions", dav.password), timeout=30).content == b"first"][0]
    r = dav.request("MOVE", url=server.url + first,
                    headers={"Destination": f"{server.url}/remote.php/dav/versions/versions/restore/target"})
    assert r.status_code == 204, r.text
    assert dav.get("notes.txt").content == b"first"
    # The content it replaced became a version in turn.
    r = dav.request("PROPFIND", url=base, headers={"Depth": "1"})
    kept = {requests.get(server.url + h, auth=("versions", dav.password), timeout=30).content
            for h in re.findall(r"<d:href>([^<]+)</d:href>", r.text) if not h.endswith("/")}
    assert kept == {b"second", b"third!"}
    # Someone else's file id is not reachable.
    other = make_box_user(server, "versions-other")
    r = other.request("PROPFIND", url=f"{server.url}/remote.php/dav/versions/versions-other/versions/{fileid}", headers={"Depth": "1"})
    assert r.status_code == 404


def test_delete_goes_to_trash_and_comes_back(server):
    dav = make_box_user(server, "trash")
    assert dav.mkcol("folder").status_code == 201
    assert dav.put("folder/a.txt", b"aaa").status_code == 201
    fileid = dav.entries("folder", "0", oc("fileid"))[0].text(oc("fileid"))
    assert dav.delete("folder").status_code == 204
    assert dav.propfind("folder", depth="0").status_code == 404
    trash = f"{server.url}/remote.php/dav/trashbin/trash/trash"
    body = propfind_body(nc("trashbin-filename"), nc("trashbin-original-location"), oc("fileid"))
    r = dav.request("PROPFIND", url=trash, headers={"Depth": "1"}, data=body)
    assert r.status_code == 207
    assert "<nc:trashbin-original-location>folder</nc:trashbin-original-location>" in r.text
    item = [h for h in re.findall(r"<d:href>([^<]+)</d:href>", r.text) if h.rstrip("/") != trash.split(server.url)[1].rstrip("/")][0]
    # Something new took the name meanwhile: the restored folder is renamed, nothing is replaced.
    assert dav.mkcol("folder").status_code == 201
    r = dav.request("MOVE", url=server.url + item, headers={"Destination": f"{server.url}/remote.php/dav/trashbin/trash/restore/folder"})
    assert r.status_code == 201, r.text
    assert dav.get("folder (restored)/a.txt").content == b"aaa"
    assert dav.entries("folder (restored)", "0", oc("fileid"))[0].text(oc("fileid")) == fileid
    # Delete again and purge: gone from the trash for good.
    assert dav.delete("folder (restored)").status_code == 204
    r = dav.request("PROPFIND", url=trash, headers={"Depth": "1"})
    item = [h for h in re.findall(r"<d:href>([^<]+)</d:href>", r.text) if "restored" in urllib.parse.unquote(h)][0]
    assert dav.request("DELETE", url=server.url + item).status_code == 204
    r = dav.request("PROPFIND", url=trash, headers={"Depth": "1"})
    assert "restored" not in urllib.parse.unquote(r.text)


def test_rename_keeps_file_id_and_etag_changes_reach_the_root(server):
    dav = make_box_user(server, "etags")
    assert dav.mkcol("a").status_code == 201
    assert dav.mkcol("a/b").status_code == 201
    assert dav.mkcol("other").status_code == 201
    assert dav.put("a/b/f.txt", b"one").status_code == 201
    def etag(p):
        return dav.entries(p, "0", d("getetag"))[0].text(d("getetag"))
    before = {p: etag(p) for p in ["", "a", "a/b", "other", "a/b/f.txt"]}
    assert dav.put("a/b/f.txt", b"two").status_code == 204
    after = {p: etag(p) for p in ["", "a", "a/b", "other", "a/b/f.txt"]}
    for p in ["", "a", "a/b", "a/b/f.txt"]:
        assert before[p] != after[p], p
    assert before["other"] == after["other"]
    fileid = dav.entries("a/b/f.txt", "0", oc("id"))[0].text(oc("id"))
    assert dav.move("a", "renamed").status_code == 201
    assert dav.entries("renamed/b/f.txt", "0", oc("id"))[0].text(oc("id")) == fileid
    assert dav.get("renamed/b/f.txt").content == b"two"


def test_admin_sets_a_user_quota_and_uploads_over_it_get_507(server):
    from box_support import admin_token
    from identity_support import Keystone
    dav = make_box_user(server, "quota-user")
    ks = Keystone(server)
    admin = admin_token(server)
    uid = ks.get("/users?name=quota-user", admin).json()["users"][0]["id"]
    url = f"{server.url}/box/v1/users/{uid}/quota"
    # The user may read their own quota but not raise it.
    user_token = ks.token("quota-user", dav.password, project="proj-quota-user")
    assert requests.get(url, headers={"X-Auth-Token": user_token}, timeout=10).json()["quota_bytes"] == 0
    r = requests.put(url, json={"quota_bytes": 10**12}, headers={"X-Auth-Token": user_token}, timeout=10)
    assert r.status_code == 403
    r = requests.put(url, json={"quota_bytes": 1024 * 1024}, headers={"X-Auth-Token": admin}, timeout=10)
    assert r.status_code == 200 and r.json()["quota_bytes"] == 1024 * 1024
    assert dav.put("fits.bin", b"x" * 600_000).status_code == 201
    r = dav.put("too-big.bin", b"y" * 600_000)
    assert r.status_code == 507
    assert dav.propfind("too-big.bin", depth="0").status_code == 404
    r = requests.get(f"{server.url}/ocs/v1.php/cloud/user?format=json", auth=("quota-user", dav.password), timeout=30)
    q = r.json()["ocs"]["data"]["quota"]
    assert q["total"] == 1024 * 1024 and q["used"] == 600_000
    # Back to the default (unlimited here): the upload goes through.
    r = requests.put(url, json={"quota_bytes": None}, headers={"X-Auth-Token": admin}, timeout=10)
    assert r.status_code == 200 and r.json()["quota_bytes"] == 0
    assert dav.put("too-big.bin", b"y" * 600_000).status_code == 201
    assert requests.put(url, json={"quota_bytes": -5}, headers={"X-Auth-Token": admin}, timeout=10).status_code == 400
