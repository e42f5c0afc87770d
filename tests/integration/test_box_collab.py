"""Comments, favorites, tags and search on box files, through the endpoints Nextcloud's clients and
apps use: /remote.php/dav/comments/files/<id>, PROPPATCH/PROPFIND oc:favorite and REPORT
oc:filter-files, /remote.php/dav/systemtags(-relations)/, and the unified search
/ocs/v2.php/search/providers/<provider>/search. Another user sees nothing of mine through any of
them, and files in the trash are never results.

Real clients: no Debian package speaks Nextcloud's comments, tags or unified search
(nextcloudcmd syncs files only); Debian's cadaver sets and clears the star with its
propset/propdel in the owncloud namespace, which is what the Nextcloud apps send too."""
import json
import subprocess
import time
import xml.etree.ElementTree as ET

import pytest
import requests

from box_support import NC, OC, admin_token, d, make_box_user, parse_multistatus, propfind_body, start_box_server, tool_env
from identity_support import Keystone

FAV_PATCH = ('<?xml version="1.0"?><d:propertyupdate xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns">'
             '<d:set><d:prop><oc:favorite>{v}</oc:favorite></d:prop></d:set></d:propertyupdate>')


def oc(name):
    return "{%s}%s" % (OC, name)


def nc(name):
    return "{%s}%s" % (NC, name)


def filter_files(rules, props=("<d:getetag/>", "<oc:fileid/>", "<oc:favorite/>")):
    return ('<?xml version="1.0" encoding="utf-8"?><oc:filter-files xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns">'
            f'<d:prop>{"".join(props)}</d:prop><oc:filter-rules>{rules}</oc:filter-rules></oc:filter-files>').encode()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = start_box_server(tmp_path_factory, name="box-collab")
    yield s
    s.stop()


@pytest.fixture(scope="module")
def alice(server):
    dav = make_box_user(server, "collab-alice")
    assert dav.mkcol("Reports").status_code == 201
    for path in ("Reports/Budget 2026.ods", "Reports/été.txt", "notes.txt", "photo.jpg"):
        assert dav.put(path, b"content of " + path.encode()).status_code == 201
    return dav


@pytest.fixture(scope="module")
def bob(server):
    return make_box_user(server, "collab-bob")


def fileid(dav, path):
    [e] = dav.entries(path, "0", oc("fileid"))
    return int(e.text(oc("fileid")))


def call(dav, method, path, **kw):
    return dav.request(method, url=dav.base + path, **kw)


def comments(dav, fid, limit=20, offset=0):
    body = ('<?xml version="1.0" encoding="utf-8" ?><oc:filter-comments xmlns:D="DAV:" xmlns:oc="http://owncloud.org/ns">'
            f'<oc:limit>{limit}</oc:limit><oc:offset>{offset}</oc:offset></oc:filter-comments>')
    r = call(dav, "REPORT", f"/remote.php/dav/comments/files/{fid}", data=body)
    assert r.status_code == 207, r.text
    return [(int(e.text(oc("id"))), e.text(oc("message")), e.text(oc("actorId"))) for e in parse_multistatus(r.content)]


def add_comment(dav, fid, message):
    return call(dav, "POST", f"/remote.php/dav/comments/files/{fid}", headers={"Content-Type": "application/json"},
                data=json.dumps({"actorType": "users", "verb": "comment", "message": message}))


def make_tag(dav, name):
    r = call(dav, "POST", "/remote.php/dav/systemtags/", headers={"Content-Type": "application/json"},
             data=json.dumps({"name": name, "userVisible": True, "userAssignable": True}))
    assert r.status_code == 201, r.text
    return int(r.headers["Content-Location"].rstrip("/").rsplit("/", 1)[1])


def search(dav, term, provider="files", **params):
    r = requests.get(dav.base + f"/ocs/v2.php/search/providers/{provider}/search", params={"term": term, "format": "json", **params},
                     headers={"OCS-APIRequest": "true"}, auth=(dav.user, dav.password), timeout=30)
    return r


def report_paths(dav, rules):
    r = dav.request("REPORT", "", data=filter_files(rules))
    assert r.status_code == 207, r.text
    return sorted(e.href[len(dav.href()):] for e in parse_multistatus(r.content))


def test_comments_add_list_edit_delete(alice):
    fid = fileid(alice, "notes.txt")
    r = add_comment(alice, fid, "First thoughts")
    assert r.status_code == 201, r.text
    first = r.headers["Content-Location"]
    assert first.startswith(f"/remote.php/dav/comments/files/{fid}/")
    assert add_comment(alice, fid, "Second, with <xml> & ünïcode").status_code == 201
    listed = comments(alice, fid)
    assert [m for _, m, _ in listed] == ["Second, with <xml> & ünïcode", "First thoughts"]  # newest first
    assert {a for _, _, a in listed} == {"collab-alice"}
    assert [m for _, m, _ in comments(alice, fid, limit=1, offset=1)] == ["First thoughts"]

    patch = ('<?xml version="1.0"?><d:propertyupdate xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns">'
             '<d:set><d:prop><oc:message>First thoughts, revised</oc:message></d:prop></d:set></d:propertyupdate>')
    r = call(alice, "PROPPATCH", first, data=patch)
    assert r.status_code == 207, r.text
    assert "First thoughts, revised" in [m for _, m, _ in comments(alice, fid)]

    # The file's PROPFIND counts them.
    [e] = alice.entries("notes.txt", "0", oc("comments-count"), oc("comments-href"))
    assert e.text(oc("comments-count")) == "2"
    assert e.text(oc("comments-href")) == f"/remote.php/dav/comments/files/{fid}"

    # Her own comments are never unread; the read marker is Nextcloud's PROPPATCH oc:readMarker.
    [e] = alice.entries("notes.txt", "0", oc("comments-unread"))
    assert e.text(oc("comments-unread")) == "0"
    r = call(alice, "PROPPATCH", f"/remote.php/dav/comments/files/{fid}", data=(
        '<d:propertyupdate xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns"><d:set><d:prop>'
        '<oc:readMarker>Mon, 30 Nov 2026 07:00:00 GMT</oc:readMarker></d:prop></d:set></d:propertyupdate>'))
    assert r.status_code == 207, r.text
    r = call(alice, "PROPFIND", f"/remote.php/dav/comments/files/{fid}", headers={"Depth": "0"})
    assert r.status_code == 207 and parse_multistatus(r.content)[0].text(oc("readMarker")).endswith("GMT")

    assert call(alice, "DELETE", first).status_code == 204
    assert [m for _, m, _ in comments(alice, fid)] == ["Second, with <xml> & ünïcode"]
    assert call(alice, "DELETE", first).status_code == 404


def test_overlong_comment_is_refused_and_nothing_is_stored(alice):
    fid = fileid(alice, "photo.jpg")
    before = comments(alice, fid)
    r = add_comment(alice, fid, "x" * 1001)
    assert r.status_code == 413, r.text
    root = ET.fromstring(r.content)
    assert root.tag == d("error")
    assert root.findtext("{http://sabredav.org/ns}exception") == "Sabre\\DAV\\Exception\\RequestEntityTooLarge"
    assert comments(alice, fid) == before
    assert add_comment(alice, fid, "é" * 1000).status_code == 201  # 1,000 characters is the limit, not bytes


def test_only_the_author_edits_and_others_see_nothing(alice, bob):
    fid = fileid(alice, "notes.txt")
    r = add_comment(alice, fid, "mine")
    cid = r.headers["Content-Location"]
    # Bob cannot see Alice's file: every comment call on it is 404, and he learns nothing.
    assert add_comment(bob, fid, "let me in").status_code == 404
    r = call(bob, "REPORT", f"/remote.php/dav/comments/files/{fid}", data="<oc:filter-comments xmlns:oc=\"http://owncloud.org/ns\"/>")
    assert r.status_code == 404
    assert "mine" not in r.text
    assert call(bob, "DELETE", cid).status_code == 404
    assert call(bob, "PROPPATCH", cid, data=(
        '<d:propertyupdate xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns"><d:set><d:prop><oc:message>hijacked</oc:message>'
        '</d:prop></d:set></d:propertyupdate>')).status_code == 404
    assert call(bob, "PROPFIND", f"/remote.php/dav/systemtags-relations/files/{fid}", headers={"Depth": "1"}).status_code == 404
    assert call(bob, "PROPFIND", f"/remote.php/dav/comments/files/999999999", headers={"Depth": "1"}).status_code == 404
    assert "mine" in [m for _, m, _ in comments(alice, fid)]
    assert "hijacked" not in [m for _, m, _ in comments(alice, fid)]


def test_bad_bodies_are_400(alice):
    fid = fileid(alice, "notes.txt")
    before = comments(alice, fid)
    for body in ("{not json", "[]", '{"message": 5}', '{"actorType": "guests", "message": "x"}'):
        r = call(alice, "POST", f"/remote.php/dav/comments/files/{fid}", headers={"Content-Type": "application/json"}, data=body)
        assert r.status_code == 400, (body, r.text)
    assert comments(alice, fid) == before
    r = call(alice, "REPORT", f"/remote.php/dav/comments/files/{fid}", data="<oc:filter-comments xmlns:oc=\"http://owncloud.org/ns\"><oc:limit>")
    assert r.status_code == 400
    assert alice.request("REPORT", "", data=b"<oc:filter-files xmlns:oc='http://owncloud.org/ns'><oc:filter-rules>"
                                              b"<oc:favorite>yes</oc:favorite></oc:filter-rules></oc:filter-files>").status_code == 400
    assert alice.request("REPORT", "", data=b"<garbage").status_code == 400
    r = call(alice, "POST", "/remote.php/dav/systemtags/", headers={"Content-Type": "application/json"}, data='{"name": ""}')
    assert r.status_code == 400
    assert search(alice, "").status_code == 400


def test_favorites_set_by_proppatch_and_listed_by_report(alice, bob):
    r = alice.proppatch("Reports/Budget 2026.ods", FAV_PATCH.format(v=1))
    assert r.status_code == 207 and "200 OK" in r.text, r.text
    assert alice.proppatch("Reports", FAV_PATCH.format(v=1)).status_code == 207
    starred = {e.href[len(alice.href()):].rstrip("/"): e.text(oc("favorite")) for e in alice.entries("Reports", "1", oc("favorite"))}
    assert starred == {"Reports": "1", "Reports/Budget 2026.ods": "1", "Reports/été.txt": "0"}
    assert report_paths(alice, "<oc:favorite>1</oc:favorite>") == ["Reports/", "Reports/Budget 2026.ods"]
    # Reported on a folder: only what is beneath it.
    r = alice.request("REPORT", "Reports", data=filter_files("<oc:favorite>1</oc:favorite>"))
    assert r.status_code == 207
    assert [e.href[len(alice.href()):] for e in parse_multistatus(r.content)] == ["Reports/Budget 2026.ods"]
    assert alice.proppatch("Reports", FAV_PATCH.format(v=0)).status_code == 207
    assert report_paths(alice, "<oc:favorite>1</oc:favorite>") == ["Reports/Budget 2026.ods"]
    # Bob's favorites are his own, and he cannot star Alice's file by id or by path.
    assert report_paths(bob, "<oc:favorite>1</oc:favorite>") == []
    assert bob.request("PROPPATCH", url=alice.url("notes.txt"), data=FAV_PATCH.format(v=1)).status_code in (403, 404)


def test_tags_create_assign_filter_and_isolation(alice, bob):
    red = make_tag(alice, "Red")
    r = call(alice, "POST", "/remote.php/dav/systemtags/", headers={"Content-Type": "application/json"}, data=json.dumps({"name": "Red"}))
    assert r.status_code == 409
    r = call(alice, "PROPFIND", "/remote.php/dav/systemtags/", headers={"Depth": "1"},
             data=propfind_body(oc("id"), oc("display-name"), oc("user-visible"), oc("user-assignable")))
    assert r.status_code == 207
    tags = {e.text(oc("display-name")): e for e in parse_multistatus(r.content) if e.text(oc("id"))}
    assert tags["Red"].text(oc("id")) == str(red)
    assert tags["Red"].text(oc("user-visible")) == "true" and tags["Red"].text(oc("user-assignable")) == "true"

    notes, photo = fileid(alice, "notes.txt"), fileid(alice, "photo.jpg")
    rel = f"/remote.php/dav/systemtags-relations/files/{notes}/{red}"
    assert call(alice, "PUT", rel).status_code == 201
    assert call(alice, "PUT", rel).status_code == 409
    assert call(alice, "PUT", f"/remote.php/dav/systemtags-relations/files/{photo}/{red}").status_code == 201
    r = call(alice, "PROPFIND", f"/remote.php/dav/systemtags-relations/files/{notes}", headers={"Depth": "1"})
    assert r.status_code == 207
    assert [e.text(oc("display-name")) for e in parse_multistatus(r.content) if e.text(oc("id"))] == ["Red"]
    assert report_paths(alice, f"<oc:systemtag>{red}</oc:systemtag>") == ["notes.txt", "photo.jpg"]
    # A listing shows each file's tags (nc:system-tags, as Nextcloud's apps ask).
    listed = {e.href[len(alice.href()):]: [(t.get("id"), t.text) for t in e.props[nc("system-tags")]]
              for e in alice.entries("", "1", nc("system-tags"))}
    assert listed["notes.txt"] == [(str(red), "Red")] and listed["Reports/"] == []
    assert call(alice, "DELETE", f"/remote.php/dav/systemtags-relations/files/{photo}/{red}").status_code == 204
    assert report_paths(alice, f"<oc:systemtag>{red}</oc:systemtag>") == ["notes.txt"]

    # Bob: his own tag list is empty, Alice's tag is not his to list, assign or filter by.
    r = call(bob, "PROPFIND", "/remote.php/dav/systemtags/", headers={"Depth": "1"})
    assert [e for e in parse_multistatus(r.content) if e.text(oc("id"))] == []
    assert call(bob, "PROPFIND", f"/remote.php/dav/systemtags/{red}").status_code == 404
    bob_file = bob.put("bob.txt", b"bob").status_code == 201 and fileid(bob, "bob.txt")
    assert call(bob, "PUT", f"/remote.php/dav/systemtags-relations/files/{bob_file}/{red}").status_code == 404
    assert call(bob, "PUT", f"/remote.php/dav/systemtags-relations/files/{notes}/{red}").status_code == 404
    assert report_paths(bob, f"<oc:systemtag>{red}</oc:systemtag>") == []
    # Bob may have a tag of the same name.
    make_tag(bob, "Red")


def test_search_by_name_and_tag_and_no_trash(alice, bob):
    r = search(alice, "BUDGET")
    assert r.status_code == 200, r.text
    data = r.json()["ocs"]["data"]
    assert [e["title"] for e in data["entries"]] == ["Budget 2026.ods"]
    entry = data["entries"][0]
    assert entry["subline"] == "/Reports"
    assert entry["attributes"]["path"] == "/Reports/Budget 2026.ods"
    assert entry["attributes"]["fileId"] == str(fileid(alice, "Reports/Budget 2026.ods"))
    # Composed or decomposed, any case.
    assert [e["title"] for e in search(alice, "E\u0301TE\u0301").json()["ocs"]["data"]["entries"]] == ["été.txt"]
    # Paged through the cursor.
    first = search(alice, "t", limit=1).json()["ocs"]["data"]
    assert len(first["entries"]) == 1 and first["cursor"] is not None
    second = search(alice, "t", limit=1, cursor=first["cursor"]).json()["ocs"]["data"]
    assert second["entries"] and second["entries"][0]["title"] != first["entries"][0]["title"]
    # Bob finds nothing of Alice's.
    assert search(bob, "budget").json()["ocs"]["data"]["entries"] == []

    urgent = make_tag(alice, "Urgent")
    assert call(alice, "PUT", f"/remote.php/dav/systemtags-relations/files/{fileid(alice, 'Reports/été.txt')}/{urgent}").status_code == 201
    assert [e["title"] for e in search(alice, "urg", provider="systemtags").json()["ocs"]["data"]["entries"]] == ["été.txt"]
    assert search(bob, "urg", provider="systemtags").json()["ocs"]["data"]["entries"] == []
    r = requests.get(alice.base + "/ocs/v2.php/search/providers?format=json", auth=(alice.user, alice.password), timeout=30)
    assert {p["id"] for p in r.json()["ocs"]["data"]} == {"files", "systemtags"}

    # In the trash: no longer found by name, tag, favorite or id.
    assert alice.proppatch("Reports/été.txt", FAV_PATCH.format(v=1)).status_code == 207
    eid = fileid(alice, "Reports/été.txt")
    assert alice.delete("Reports").status_code == 204
    assert search(alice, "été").json()["ocs"]["data"]["entries"] == []
    assert search(alice, "urg", provider="systemtags").json()["ocs"]["data"]["entries"] == []
    assert "Reports/été.txt" not in report_paths(alice, "<oc:favorite>1</oc:favorite>")
    assert add_comment(alice, eid, "too late").status_code == 404


def test_cadaver_stars_and_unstars_a_file(alice, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    netrc = home / ".netrc"
    netrc.write_text(f"machine 127.0.0.1\nlogin {alice.user}\npassword {alice.password}\n")
    netrc.chmod(0o600)

    def cadaver(*commands):
        script = "\n".join(("set namespace http://owncloud.org/ns",) + commands + ("quit",)) + "\n"
        proc = subprocess.run(["/usr/bin/cadaver", alice.url("")], input=script.encode(), cwd=tmp_path, env=tool_env(home),
                              capture_output=True, timeout=60)
        out = proc.stdout.decode(errors="replace") + proc.stderr.decode(errors="replace")
        assert proc.returncode == 0 and "failed" not in out.lower(), out
        return out

    out = cadaver("propset photo.jpg favorite 1", "propget photo.jpg favorite")
    assert "Value of favorite is: 1" in out, out
    assert "photo.jpg" in report_paths(alice, "<oc:favorite>1</oc:favorite>")
    cadaver("propdel photo.jpg favorite")
    assert "photo.jpg" not in report_paths(alice, "<oc:favorite>1</oc:favorite>")
    [e] = alice.entries("photo.jpg", "0", oc("favorite"))
    assert e.text(oc("favorite")) == "0"


def test_comment_and_tag_changes_are_audited(server, alice):
    fid = fileid(alice, "photo.jpg")
    created = add_comment(alice, fid, "secret words")
    cid = int(created.headers["Content-Location"].rsplit("/", 1)[1])
    deleted = call(alice, "DELETE", f"/remote.php/dav/comments/files/{fid}/{cid}")
    assert deleted.status_code == 204
    tag = call(alice, "POST", "/remote.php/dav/systemtags/", headers={"Content-Type": "application/json"}, data='{"name": "Audited"}')
    assert tag.status_code == 201
    ks, token = Keystone(server), admin_token(server)
    wanted = {("box.comment.create", created.headers["X-Request-Id"]), ("box.comment.delete", deleted.headers["X-Request-Id"]),
              ("box.tag.create", tag.headers["X-Request-Id"])}
    deadline = time.time() + 10
    while True:
        records = ks.get("/ciel/audit", token, params={"action": "box.", "limit": 1000}).json()["records"]
        found = {(x["action"], x["request_id"]): x for x in records}
        if wanted <= set(found) or time.time() > deadline:
            break
        time.sleep(0.2)
    assert wanted <= set(found), records
    assert found[("box.comment.create", created.headers["X-Request-Id"])]["target"] == f"file:{fid} comment:{cid}"
    assert all(found[w]["outcome"] == "success" and found[w]["source"] == "127.0.0.1" for w in wanted)
    assert "secret words" not in str(records)


def test_a_share_recipient_comments_stars_and_tags_what_he_sees(server):
    """Access goes through the one check of the engine (node_by_id): a share's recipient passes it for
    the shared files, and only while the share lasts."""
    ks, token = Keystone(server), admin_token(server)
    carol = make_box_user(server, "collab-carol", token=token)
    dave = make_box_user(server, "collab-dave", token=token)
    pid = ks.get("/projects?name=proj-collab-carol", token).json()["projects"][0]["id"]
    dave_id = ks.get("/users?name=collab-dave", token).json()["users"][0]["id"]
    assert ks.put(f"/projects/{pid}/users/{dave_id}/roles/{ks.role_id(token, 'member')}", token).status_code == 204
    assert carol.mkcol("team").status_code == 201
    assert carol.put("team/plan.txt", b"the plan").status_code == 201
    fid = fileid(carol, "team/plan.txt")
    assert add_comment(dave, fid, "before the share").status_code == 404
    r = requests.post(server.url + "/ocs/v2.php/apps/files_sharing/api/v1/shares", params={"format": "json"},
                      data={"path": "/team", "shareType": "0", "shareWith": "collab-dave", "permissions": "1"},
                      headers={"OCS-APIRequest": "true"}, auth=(carol.user, carol.password), timeout=30)
    assert r.status_code == 200, r.text
    share_id = r.json()["ocs"]["data"]["id"]
    assert fileid(dave, "team/plan.txt") == fid

    # Comments belong to the file: both read them; each edits only their own.
    assert add_comment(dave, fid, "Looks right").status_code == 201
    mine = add_comment(carol, fid, "Thanks").headers["Content-Location"]
    assert [(m, a) for _, m, a in comments(carol, fid)] == [("Thanks", "collab-carol"), ("Looks right", "collab-dave")]
    assert [m for _, m, _ in comments(dave, fid)] == ["Thanks", "Looks right"]
    [e] = carol.entries("team/plan.txt", "0", oc("comments-count"), oc("comments-unread"))
    assert (e.text(oc("comments-count")), e.text(oc("comments-unread"))) == ("2", "1")  # Dave's is new to Carol
    r = call(dave, "PROPPATCH", mine, data=(
        '<d:propertyupdate xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns"><d:set><d:prop><oc:message>edited by dave</oc:message>'
        '</d:prop></d:set></d:propertyupdate>'))
    assert r.status_code == 403
    assert call(dave, "DELETE", mine).status_code == 403
    assert "Thanks" in [m for _, m, _ in comments(carol, fid)]

    # Stars and tags are each user's own.
    assert dave.proppatch("team/plan.txt", FAV_PATCH.format(v=1)).status_code == 207
    assert report_paths(dave, "<oc:favorite>1</oc:favorite>") == ["team/plan.txt"]
    assert report_paths(carol, "<oc:favorite>1</oc:favorite>") == []
    # The shared folder itself, starred where it appears in Dave's tree, shows its star there.
    assert dave.proppatch("team", FAV_PATCH.format(v=1)).status_code == 207
    stars = {e.href[len(dave.href()):]: e.text(oc("favorite")) for e in dave.entries("", "1", oc("favorite"), oc("comments-count"))}
    assert stars["team/"] == "1", stars
    assert dave.entries("team", "1", oc("comments-count"))[1].text(oc("comments-count")) == "2"
    assert dave.proppatch("team", FAV_PATCH.format(v=0)).status_code == 207
    mine_tag = make_tag(dave, "to-review")
    assert call(dave, "PUT", f"/remote.php/dav/systemtags-relations/files/{fid}/{mine_tag}").status_code == 201
    r = call(carol, "PROPFIND", f"/remote.php/dav/systemtags-relations/files/{fid}", headers={"Depth": "1"})
    assert "to-review" not in r.text
    assert [e["title"] for e in search(dave, "review", provider="systemtags").json()["ocs"]["data"]["entries"]] == ["plan.txt"]
    # A search by name finds what was shared with him too, with the path he sees it at.
    found = search(dave, "PLAN").json()["ocs"]["data"]["entries"]
    assert [(e["title"], e["attributes"]["path"]) for e in found] == [("plan.txt", "/team/plan.txt")]

    # Revoked: the file is gone from Dave's reach, and so are its comments, star and tag.
    r = requests.delete(server.url + f"/ocs/v2.php/apps/files_sharing/api/v1/shares/{share_id}", params={"format": "json"},
                        headers={"OCS-APIRequest": "true"}, auth=(carol.user, carol.password), timeout=30)
    assert r.status_code == 200, r.text
    assert call(dave, "REPORT", f"/remote.php/dav/comments/files/{fid}", data="<oc:filter-comments xmlns:oc=\"http://owncloud.org/ns\"/>").status_code == 404
    assert report_paths(dave, "<oc:favorite>1</oc:favorite>") == []
    assert search(dave, "review", provider="systemtags").json()["ocs"]["data"]["entries"] == []
    assert search(dave, "plan").json()["ocs"]["data"]["entries"] == []
