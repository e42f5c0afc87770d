"""The box's activity stream and notifications through Nextcloud's OCS Activity v2 and
Notifications v2 APIs, driven by real changes over WebDAV and the OCS Share API: an upload, an
overwrite, a rename and a move, a delete and its restore from the trash, a public link and a
download through it each leave their entry (type, paths, actor); the filters, the pagination by
`since` with its Link and X-Activity-* headers and 304 at the end; bad parameters get clean OCS
errors; one user never sees another's stream."""
import re
import urllib.parse
import xml.etree.ElementTree as ET

import pytest
import requests

from box_support import make_box_user, start_box_server

ACTIVITY = "/ocs/v2.php/apps/activity/api/v2/activity"
NOTIFICATIONS = "/ocs/v2.php/apps/notifications/api/v2/notifications"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = start_box_server(tmp_path_factory, name="box-activity")
    yield s
    s.stop()


def get(server, dav, path, fmt="json", **params):
    if fmt == "json":
        params["format"] = "json"
    return requests.get(f"{server.url}{path}", params=params, auth=(dav.user, dav.password), headers={"OCS-APIREQUEST": "true"}, timeout=60)


def stream(server, dav, filter_name="", **params):
    """The items of one page (newest first unless sort=asc)."""
    r = get(server, dav, ACTIVITY + (f"/{filter_name}" if filter_name else ""), **params)
    assert r.status_code == 200, r.text
    body = r.json()["ocs"]
    assert body["meta"]["statuscode"] == 200, body
    return body["data"]


def kinds(items):
    return [(i["ciel_kind"], i["object_name"]) for i in items]


def fileid(dav, path):
    r = dav.propfind(path, depth="0", body=b'<?xml version="1.0"?><d:propfind xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns">'
                     b"<d:prop><oc:fileid/></d:prop></d:propfind>")
    assert r.status_code == 207, r.text
    return int(re.search(r"<oc:fileid>(\d+)</oc:fileid>", r.text).group(1))


def make_link(server, dav, path):
    """A read-only public link on `path` through the OCS Share API; returns its token."""
    r = requests.post(f"{server.url}/ocs/v2.php/apps/files_sharing/api/v1/shares", params={"format": "json"},
                      data={"path": path, "shareType": "3"}, auth=(dav.user, dav.password), headers={"OCS-APIREQUEST": "true"},
                      timeout=60)
    assert r.status_code == 200, r.text
    return r.json()["ocs"]["data"]["token"]


@pytest.fixture(scope="module")
def alice(server):
    """Alice's box after a round of real changes; returns her Dav client and what it made."""
    dav = make_box_user(server, "act-alice")
    assert dav.mkcol("docs").status_code == 201
    assert dav.put("docs/report.txt", b"first draft").status_code == 201
    assert dav.put("docs/report.txt", b"second draft").status_code == 204
    assert dav.move("docs/report.txt", "docs/final.txt").status_code == 201
    assert dav.move("docs/final.txt", "final.txt").status_code == 201
    assert dav.put("scratch.txt", b"throw away").status_code == 201
    assert dav.delete("scratch.txt").status_code == 204
    trash = f"{server.url}/remote.php/dav/trashbin/{dav.user}/trash"
    r = dav.request("PROPFIND", url=trash, headers={"Depth": "1"})
    assert r.status_code == 207, r.text
    item = [h for h in re.findall(r"<d:href>([^<]+)</d:href>", r.text) if "scratch" in urllib.parse.unquote(h)][0]
    r = dav.request("MOVE", url=server.url + item, headers={"Destination": f"{server.url}/remote.php/dav/trashbin/{dav.user}/restore/scratch.txt"})
    assert r.status_code == 201, r.text
    token = make_link(server, dav, "/final.txt")
    r = requests.get(f"{server.url}/public.php/dav/files/{token}", timeout=60)
    assert r.status_code == 200 and r.content == b"second draft"
    return dav


EXPECTED = [
    ("file_created", "/docs"),
    ("file_created", "/docs/report.txt"),
    ("file_changed", "/docs/report.txt"),
    ("file_renamed", "/docs/final.txt"),
    ("file_moved", "/final.txt"),
    ("file_created", "/scratch.txt"),
    ("file_deleted", "/scratch.txt"),
    ("file_restored", "/scratch.txt"),
    ("link_created", "/final.txt"),
    ("link_downloaded", "/final.txt"),
]


def test_each_change_leaves_its_entry(server, alice):
    items = stream(server, alice, sort="asc")
    assert kinds(items) == EXPECTED
    by_kind = {i["ciel_kind"]: i for i in items}
    # Nextcloud's types and apps (renames and moves are file_changed there).
    assert [i["type"] for i in items] == ["file_created", "file_created", "file_changed", "file_changed", "file_changed", "file_created",
                                          "file_deleted", "file_restored", "public_links", "public_links"]
    assert by_kind["link_created"]["app"] == "files_sharing" and by_kind["file_created"]["app"] == "files"
    renamed = by_kind["file_renamed"]
    assert renamed["subject"] == "You renamed report.txt to final.txt"
    assert renamed["subject_rich"][1]["oldfile"]["path"] == "docs/report.txt"
    assert renamed["subject_rich"][1]["newfile"]["path"] == "docs/final.txt"
    assert by_kind["file_moved"]["subject"] == "You moved docs/final.txt to final.txt"
    final_id = fileid(alice, "final.txt")
    assert by_kind["file_changed"]["object_id"] == final_id == renamed["object_id"] == by_kind["link_downloaded"]["object_id"]
    for i in items:
        assert i["affecteduser"] == "act-alice"
        assert i["object_type"] == "files"
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", i["datetime"]), i["datetime"]
        # The owner did everything but the download, which came from an anonymous visitor.
        assert i["user"] == ("" if i["ciel_kind"] == "link_downloaded" else "act-alice"), i
    assert by_kind["link_downloaded"]["subject"] == "final.txt was downloaded through a public link"
    ids = [i["activity_id"] for i in items]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    # Newest first by default.
    assert kinds(stream(server, alice)) == list(reversed(EXPECTED))


def test_filters(server, alice):
    assert kinds(stream(server, alice, "files", sort="asc")) == EXPECTED[:8]
    assert kinds(stream(server, alice, "files_sharing", sort="asc")) == EXPECTED[8:]
    assert kinds(stream(server, alice, "self", sort="asc")) == EXPECTED[:9]
    assert kinds(stream(server, alice, "by", sort="asc")) == [("link_downloaded", "/final.txt")]
    assert kinds(stream(server, alice, "all", sort="asc")) == EXPECTED
    # One file's entries, through the "filter" filter as Nextcloud's clients ask.
    fid = fileid(alice, "final.txt")
    mine = stream(server, alice, "filter", object_type="files", object_id=str(fid), sort="asc")
    assert [k for k, _ in kinds(mine)] == ["file_created", "file_changed", "file_renamed", "file_moved", "link_created", "link_downloaded"]
    filters = stream(server, alice, "filters")
    assert {f["id"] for f in filters} >= {"all", "self", "by", "files", "files_sharing"}


def test_pagination_follows_since_and_the_link_header(server, alice):
    seen = []
    url = f"{server.url}{ACTIVITY}?format=json&limit=3"
    first_known = None
    pages = 0
    while url:
        r = requests.get(url, auth=(alice.user, alice.password), headers={"OCS-APIREQUEST": "true"}, timeout=60)
        assert r.status_code == 200, r.text
        items = r.json()["ocs"]["data"]
        assert 1 <= len(items) <= 3
        if first_known is None:
            first_known = int(r.headers["X-Activity-First-Known"])
            assert first_known == items[0]["activity_id"]
        assert int(r.headers["X-Activity-Last-Given"]) == items[-1]["activity_id"]
        seen += items
        pages += 1
        m = re.match(r'<([^>]+)>; rel="next"', r.headers.get("Link", ""))
        url = m.group(1) if m else None
        if url:
            assert "limit=3" in url and f"since={items[-1]['activity_id']}" in url
    assert pages == 4
    assert kinds(seen) == list(reversed(EXPECTED))
    # Nothing older than the oldest entry: 304, as Nextcloud answers at the end of the stream.
    r = get(server, alice, ACTIVITY, since=str(seen[-1]["activity_id"]))
    assert r.status_code == 304 and r.content == b""
    # Ascending from an entry: what came after it.
    after = stream(server, alice, sort="asc", since=str(seen[2]["activity_id"]))
    assert kinds(after) == EXPECTED[-2:]
    r = get(server, alice, ACTIVITY, sort="asc", since=str(seen[0]["activity_id"]))
    assert r.status_code == 304


def test_xml_answers_carry_the_same_entries(server, alice):
    r = get(server, alice, ACTIVITY, fmt="xml", limit="2")
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("text/xml")
    assert "<statuscode>200</statuscode>" in r.text
    assert r.text.count("<activity_id>") == 2
    assert "<type>public_links</type>" in r.text and "<object_name>/final.txt</object_name>" in r.text
    root = ET.fromstring(r.content)  # well-formed, file ids as keys included
    items = root.findall("data/element")
    assert [i.findtext("ciel_kind") for i in items] == ["link_downloaded", "link_created"]
    assert items[0].findtext("objects/element") == "/final.txt"


@pytest.mark.parametrize("params, status", [
    ({"limit": "-1"}, 400),
    ({"limit": "0"}, 400),
    ({"limit": "100000000000000000000"}, 400),
    ({"limit": "201"}, 400),
    ({"limit": "ten"}, 400),
    ({"since": "garbage"}, 400),
    ({"since": "-5"}, 400),
    ({"sort": "sideways"}, 400),
    ({"object_type": "files"}, 400),
    ({"object_type": "calendar", "object_id": "1"}, 400),
    ({"object_type": "files", "object_id": "x"}, 400),
])
def test_bad_parameters_get_clean_ocs_errors(server, alice, params, status):
    r = get(server, alice, ACTIVITY, **params)
    assert r.status_code == status, r.text
    meta = r.json()["ocs"]["meta"]
    assert meta["status"] == "failure" and meta["statuscode"] == status and meta["message"], meta


def test_unknown_filter_is_404_and_anonymous_is_401(server, alice):
    r = get(server, alice, ACTIVITY + "/nonsense")
    assert r.status_code == 404
    assert r.json()["ocs"]["meta"]["message"] == "The filter is unknown"
    r = requests.get(f"{server.url}{ACTIVITY}?format=json", timeout=30)
    assert r.status_code == 401
    r = requests.get(f"{server.url}{ACTIVITY}?format=json", auth=(alice.user, "wrong"), timeout=30)
    assert r.status_code == 401


def test_one_user_never_sees_anothers_stream(server, alice):
    bob = make_box_user(server, "act-bob")
    assert bob.put("bobs.txt", b"bob").status_code == 201
    items = stream(server, bob)
    assert kinds(items) == [("file_created", "/bobs.txt")]
    # Alice's file id and activity ids reveal nothing through Bob's stream.
    fid = fileid(alice, "final.txt")
    r = get(server, bob, ACTIVITY + "/filter", object_type="files", object_id=str(fid))
    assert r.status_code == 200 and r.json()["ocs"]["data"] == []
    assert "bobs.txt" not in str(stream(server, alice, limit="200"))


def test_notifications_api(server, alice):
    r = get(server, alice, NOTIFICATIONS)
    assert r.status_code == 200, r.text
    assert r.json()["ocs"]["data"] == []
    r = requests.delete(f"{server.url}{NOTIFICATIONS}/12345", params={"format": "json"}, auth=(alice.user, alice.password),
                        headers={"OCS-APIREQUEST": "true"}, timeout=30)
    assert r.status_code == 404
    r = requests.delete(f"{server.url}{NOTIFICATIONS}", params={"format": "json"}, auth=(alice.user, alice.password),
                        headers={"OCS-APIREQUEST": "true"}, timeout=30)
    assert r.status_code == 200 and r.json()["ocs"]["meta"]["statuscode"] == 200
    assert requests.get(f"{server.url}{NOTIFICATIONS}?format=json", timeout=30).status_code == 401


def test_capabilities_announce_activity_and_notifications(server, alice):
    r = get(server, alice, "/ocs/v2.php/cloud/capabilities")
    caps = r.json()["ocs"]["data"]["capabilities"]
    assert "filters" in caps["activity"]["apiv2"]
    assert "list" in caps["notifications"]["ocs-endpoints"]


def test_a_download_inside_a_folder_link_names_the_file(server):
    dav = make_box_user(server, "act-carol")
    assert dav.mkcol("share").status_code == 201
    assert dav.put("share/inside.txt", b"inside").status_code == 201
    token = make_link(server, dav, "/share")
    r = requests.get(f"{server.url}/public.php/dav/files/{token}/inside.txt", timeout=60)
    assert r.status_code == 200 and r.content == b"inside"
    # A partial read is not a download.
    r = requests.get(f"{server.url}/public.php/dav/files/{token}/inside.txt", headers={"Range": "bytes=0-1"}, timeout=60)
    assert r.status_code == 206
    shared = stream(server, dav, "files_sharing", sort="asc")
    assert kinds(shared) == [("link_created", "/share"), ("link_downloaded", "/share/inside.txt")]
    assert shared[1]["object_id"] == fileid(dav, "share/inside.txt")
    assert shared[1]["user"] == ""
