"""The Swift API's accounts and containers through `requests`: the object-store endpoint in the
catalog and endpoints.json, listings in json/xml/plain with limit, marker, end_marker, prefix,
delimiter, reverse and path (escaping, paging with subdirectories, the listing limit and the
clients that page past it), account and container metadata, container lifecycle, transaction ids,
read-your-writes, and exact usage counters under concurrent PUT/DELETE and container deletion."""
import json
import random
import re
import threading
import time
import xml.etree.ElementTree as ET

import pytest
import requests

from swift_support import (admin, admin_account, assert_counters_match_listings, make_member, md5,  # noqa: F401
                           payload, start_swift_server, swift, swift_env, swift_server, tar_of)

LAST_MODIFIED = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$")


@pytest.fixture(scope="module")
def acct(swift_server, admin):
    return make_member(swift_server, admin.token, "proj-listing", "lister")


def test_object_store_endpoint_in_catalog_and_endpoints_json(swift_server, acct):
    assert acct.storage_url == f"{swift_server.url}/v1/AUTH_{acct.project_id}"
    published = json.loads((swift_server.data_dir / "endpoints.json").read_text())
    assert published["object-store"].startswith(swift_server.url + "/v1")
    # A brand-new account exists implicitly and is empty.
    r = acct.head()
    assert r.status_code == 204
    assert (r.headers["X-Account-Container-Count"], r.headers["X-Account-Object-Count"],
            r.headers["X-Account-Bytes-Used"]) == ("0", "0", "0")
    r = acct.get()
    assert r.status_code == 204 and r.content == b""
    r = acct.get(params={"format": "json"})
    assert r.status_code == 200 and r.json() == []
    assert r.headers["Content-Type"].startswith("application/json")


NAMES = ["a", "a/", "a/b", "a/b/c", "a/b/d", "a/e", "B", "ab", "z", "~tilde", "\u00e9t\u00e9", "\u65e5\u672c"]


@pytest.fixture(scope="module")
def filled(acct):
    acct.create_container("list")
    for i, name in enumerate(NAMES):
        acct.put_object("list/" + name, name.encode() * (i + 1), headers={"Content-Type": f"test/type-{i}"})
    return acct


def by_bytes(names):
    return sorted(names, key=lambda n: n.encode("utf-8"))


def test_container_listing_formats(filled):
    expected = by_bytes(NAMES)
    # plain
    r = filled.get("list")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/plain")
    assert r.content.decode("utf-8") == "".join(n + "\n" for n in expected)
    assert r.headers["X-Container-Object-Count"] == str(len(NAMES))
    # json
    r = filled.get("list", params={"format": "json"})
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/json")
    rows = r.json()
    assert [row["name"] for row in rows] == expected
    for row in rows:
        i = NAMES.index(row["name"])
        body = row["name"].encode() * (i + 1)
        assert set(row) >= {"name", "hash", "bytes", "content_type", "last_modified"}, row
        assert (row["hash"], row["bytes"], row["content_type"]) == (md5(body), len(body), f"test/type-{i}")
        assert LAST_MODIFIED.match(row["last_modified"]), row["last_modified"]
    # json by Accept header
    r = filled.get("list", headers={"Accept": "application/json"})
    assert r.headers["Content-Type"].startswith("application/json") and r.json() == rows
    # xml
    r = filled.get("list", params={"format": "xml"})
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/xml")
    assert r.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    root = ET.fromstring(r.content)
    assert root.tag == "container" and root.get("name") == "list"
    objs = root.findall("object")
    assert [o.findtext("name") for o in objs] == expected
    first = {c.tag: c.text for c in objs[0]}
    assert first["hash"] == rows[0]["hash"] and int(first["bytes"]) == rows[0]["bytes"]
    assert first["content_type"] == rows[0]["content_type"] and first["last_modified"] == rows[0]["last_modified"]
    r = filled.get("list", headers={"Accept": "application/xml"})
    assert ET.fromstring(r.content).tag == "container"


def names(acct, container, **params):
    r = acct.get(container, params=dict(params, format="json"))
    assert r.status_code == 200, (params, r.status_code, r.text[:200])
    return [row.get("name", row.get("subdir")) for row in r.json()]


def test_container_listing_parameters(filled):
    e = by_bytes(NAMES)
    assert names(filled, "list", limit=3) == e[:3]
    assert names(filled, "list", marker="a/b") == [n for n in e if n.encode() > b"a/b"]
    assert names(filled, "list", end_marker="a/b") == [n for n in e if n.encode() < b"a/b"]
    assert names(filled, "list", marker="a", end_marker="ab") == ["a/", "a/b", "a/b/c", "a/b/d", "a/e"]
    assert names(filled, "list", marker="a", limit=2) == ["a/", "a/b"]
    assert names(filled, "list", prefix="a/b") == ["a/b", "a/b/c", "a/b/d"]
    assert names(filled, "list", prefix="\u00e9") == ["\u00e9t\u00e9"]
    assert names(filled, "list", prefix="nothing") == []
    assert names(filled, "list", delimiter="/") == ["B", "a", "a/", "ab", "z", "~tilde", "\u00e9t\u00e9", "\u65e5\u672c"]
    assert names(filled, "list", prefix="a/", delimiter="/") == ["a/", "a/b", "a/b/", "a/e"]
    assert names(filled, "list", prefix="a/b/", delimiter="/") == ["a/b/c", "a/b/d"]
    rows = filled.get("list", params={"prefix": "a/", "delimiter": "/", "format": "json"}).json()
    assert {"subdir": "a/b/"} in rows
    assert names(filled, "list", reverse="true") == list(reversed(e))
    assert names(filled, "list", reverse="on", limit=2) == list(reversed(e))[:2]
    assert names(filled, "list", reverse="true", marker="a/b") == list(reversed([n for n in e if n.encode() < b"a/b"]))
    assert names(filled, "list", reverse="true", prefix="a/b") == ["a/b/d", "a/b/c", "a/b"]
    # path=a: what sits directly under "a/" (not "a/" itself, nothing deeper).
    assert names(filled, "list", path="a") == ["a/b", "a/e"]
    assert names(filled, "list", path="a/b") == ["a/b/c", "a/b/d"]
    # Paging with marker walks the whole listing exactly once.
    seen, marker = [], ""
    while True:
        page = names(filled, "list", limit=5, marker=marker)
        if not page:
            break
        seen += page
        marker = page[-1]
    assert seen == e
    # Delimiter listings in xml carry <subdir> elements.
    root = ET.fromstring(filled.get("list", params={"prefix": "a/", "delimiter": "/", "format": "xml"}).content)
    assert [s.get("name") for s in root.findall("subdir")] == ["a/b/"]
    # And plain text lists the subdir as a name.
    assert filled.get("list", params={"prefix": "a/", "delimiter": "/"}).text == "a/\na/b\na/b/\na/e\n"


def test_names_that_need_escaping_survive_every_format(acct):
    acct.create_container("esc")
    names = ["a&b", "<tag>", 'quo"te', "back\\slash", "tab\there", "x'y", "\u00fcn\u00ef", "\U0001f600 emoji"]
    for n in names:
        acct.put_object("esc/" + n, n.encode())
    expected = by_bytes(names)
    assert [r["name"] for r in acct.listing("esc")] == expected
    root = ET.fromstring(acct.get("esc", params={"format": "xml"}).content)
    assert [o.findtext("name") for o in root.findall("object")] == expected
    assert acct.get("esc").content.decode("utf-8") == "".join(n + "\n" for n in expected)
    for n in names:
        assert acct.read("esc/" + n) == n.encode()


def test_names_are_exact_bytes(acct):
    """No case folding and no Unicode normalisation: NFC and NFD spellings are two objects."""
    acct.create_container("exact")
    acct.create_container("Exact")
    for n, body in (("caf\u00e9", b"nfc"), ("cafe\u0301", b"nfd"), ("A", b"upper"), ("a", b"lower")):
        acct.put_object("exact/" + n, body)
    assert acct.names("exact") == by_bytes(["caf\u00e9", "cafe\u0301", "A", "a"])
    assert acct.read("exact/caf\u00e9") == b"nfc" and acct.read("exact/cafe\u0301") == b"nfd"
    assert acct.read("exact/A") == b"upper" and acct.read("exact/a") == b"lower"
    assert acct.names("Exact") == []
    assert {"exact", "Exact"} <= set(acct.names())


DELIM = ["a", "a/", "a/1", "a/2", "ab", "b/1", "b/2/x", "c", "c/"]


def test_delimiter_listings_page_and_reverse(acct):
    """Subdirectories count as rows: paging with limit=1 and the last row as marker walks the
    same rows as one request, forwards and backwards (the rows real Swift returns)."""
    acct.create_container("delim")
    for n in DELIM:
        acct.put_object("delim/" + n, b"x")
    full = ["a", "a/", "ab", "b/", "c", "c/"]
    assert names(acct, "delim", delimiter="/") == full
    assert names(acct, "delim", delimiter="/", reverse="true") == list(reversed(full))

    def paged(**params):
        seen, marker = [], ""
        while len(seen) < 20:
            page = names(acct, "delim", delimiter="/", limit=1, marker=marker, **params)
            if not page:
                return seen
            seen += page
            marker = page[-1]
        return seen

    assert paged() == full
    assert paged(reverse="true") == list(reversed(full))
    assert names(acct, "delim", delimiter="/", limit=3) == full[:3]
    assert names(acct, "delim", delimiter="/", marker="a/") == ["ab", "b/", "c", "c/"]
    assert names(acct, "delim", reverse="true", end_marker="a/2") == ["c/", "c", "b/2/x", "b/1", "ab"]
    assert names(acct, "delim", prefix="b/", delimiter="/") == ["b/1", "b/2/"]


def test_listings_stop_at_the_limit_and_clients_page_past_it(tmp_path_factory):
    """With object.max_listing = 100 (10,000 by default, as in Swift): a listing returns at most
    100 rows, /info says so, a larger ?limit is 412, and the swift CLI and rclone page through
    all 150 objects (uploaded as one archive)."""
    server = start_swift_server(tmp_path_factory, {"object.max_listing": "100"}, name="swift-limit")
    try:
        a = admin_account(server)
        assert requests.get(server.url + "/info", timeout=30).json()["swift"]["container_listing_limit"] == 100
        a.create_container("many")
        files = {f"f{i:03d}": str(i).encode() for i in range(150)}
        r = a.put("many", data=tar_of(files), params={"extract-archive": "tar"}, headers={"Accept": "application/json"})
        assert r.status_code in (200, 201) and r.json()["Number Files Created"] == 150, r.text[:300]
        first = a.get("many", params={"format": "json"})
        assert first.headers["X-Container-Object-Count"] == "150"
        rows = first.json()
        assert len(rows) == 100 and rows[-1]["name"] == "f099"
        assert a.names("many", marker="f099") == [f"f{i:03d}" for i in range(100, 150)]
        assert a.get("many", params={"limit": "101"}).status_code == 412
        assert len(a.get("many").text.splitlines()) == 100
        for i in range(120):
            a.create_container(f"c{i:03d}")
        assert len(a.listing()) == 100
        assert swift(swift_env(server), "list", "many").stdout.splitlines() == sorted(files)
        assert len(swift(swift_env(server), "list").stdout.splitlines()) == 121
        # rclone 1.60 always asks for 1,000 rows a page, which a server limited to 100 refuses
        # (real Swift too); rclone's paging is covered by test_swift_rclone at the default limit.
    finally:
        server.stop()


def test_empty_container_listings(acct):
    acct.create_container("empty")
    r = acct.get("empty")
    assert r.status_code == 204 and r.content == b""
    r = acct.get("empty", params={"format": "json"})
    assert r.status_code == 200 and r.json() == []
    r = acct.get("empty", params={"format": "xml"})
    assert r.status_code == 200
    root = ET.fromstring(r.content)
    assert root.tag == "container" and list(root) == []
    assert acct.get("no-such-container").status_code == 404
    assert acct.get("no-such-container", params={"format": "json"}).status_code == 404


def test_account_listing_formats_and_parameters(swift_server, admin):
    a = make_member(swift_server, admin.token, "proj-acct-list", "acct-lister")
    containers = ["logs-2024", "logs-2025", "media", "zeta", "\u00e9t\u00e9"]
    for i, c in enumerate(containers):
        a.create_container(c)
        for j in range(i):
            a.put_object(f"{c}/o{j}", b"x" * (10 * (j + 1)))
    expected = by_bytes(containers)
    r = a.get()
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/plain")
    assert r.content.decode() == "".join(c + "\n" for c in expected)
    assert r.headers["X-Account-Container-Count"] == str(len(containers))
    rows = a.listing()
    assert [row["name"] for row in rows] == expected
    for row in rows:
        i = containers.index(row["name"])
        assert (row["count"], row["bytes"]) == (i, sum(10 * (j + 1) for j in range(i))), row
    root = ET.fromstring(a.get(params={"format": "xml"}).content)
    assert root.tag == "account" and root.get("name") == "AUTH_" + a.project_id
    assert [c.findtext("name") for c in root.findall("container")] == expected
    assert [int(c.findtext("count")) for c in root.findall("container")] == [row["count"] for row in rows]
    assert [int(c.findtext("bytes")) for c in root.findall("container")] == [row["bytes"] for row in rows]

    def acc(**params):
        return [row.get("name", row.get("subdir")) for row in a.get(params=dict(params, format="json")).json()]

    assert acc(limit=2) == expected[:2]
    assert acc(marker="logs-2024") == expected[1:]
    assert acc(end_marker="media") == ["logs-2024", "logs-2025"]
    assert acc(prefix="logs-") == ["logs-2024", "logs-2025"]
    assert acc(delimiter="-") == ["logs-", "media", "zeta", "\u00e9t\u00e9"]
    assert acc(reverse="true") == list(reversed(expected))
    assert acc(reverse="true", marker="media") == ["logs-2025", "logs-2024"]
    assert_counters_match_listings(a)


def test_transaction_ids_on_every_answer(acct):
    """X-Trans-Id (and X-Openstack-Request-Id, the same value) on successes and errors: the swift
    CLI prints it when a request fails, and it is what an operator looks up in the logs."""
    for r in (acct.head(), acct.get("no-such-container"), acct.put("bad-\u00e9" + "x" * 300),
              acct.delete("no-such-container/o")):
        tid = r.headers.get("X-Trans-Id")
        assert tid and r.headers.get("X-Openstack-Request-Id") == tid, (r.status_code, dict(r.headers))


def test_accounts_come_with_projects(acct):
    """Members may not delete or (re)create their account: 403, and the account is still there."""
    acct.create_container("still-here")
    assert acct.delete("").status_code == 403
    assert acct.put("").status_code in (403, 405)
    assert "still-here" in acct.names()


def test_account_metadata(acct):
    r = acct.post(headers={"X-Account-Meta-Color": "blue", "X-Account-Meta-Size": "L"})
    assert r.status_code == 204
    h = acct.head().headers
    assert (h.get("X-Account-Meta-Color"), h.get("X-Account-Meta-Size")) == ("blue", "L")
    # POST adds and changes; it does not drop what it does not mention.
    assert acct.post(headers={"X-Account-Meta-Color": "red"}).status_code == 204
    h = acct.head().headers
    assert (h.get("X-Account-Meta-Color"), h.get("X-Account-Meta-Size")) == ("red", "L")
    # Removal: X-Remove-… or an empty value.
    assert acct.post(headers={"X-Remove-Account-Meta-Color": "x", "X-Account-Meta-Size": ""}).status_code == 204
    h = acct.head().headers
    assert "X-Account-Meta-Color" not in h and "X-Account-Meta-Size" not in h
    # GET carries the same headers as HEAD.
    acct.post(headers={"X-Account-Meta-Shown": "yes"})
    assert acct.get().headers.get("X-Account-Meta-Shown") == "yes"


def test_container_lifecycle_and_metadata(acct):
    r = acct.put("life", headers={"X-Container-Meta-A": "1", "X-Container-Meta-B": "2"})
    assert r.status_code == 201
    r = acct.put("life", headers={"X-Container-Meta-C": "3"})
    assert r.status_code == 202  # already there: accepted, metadata merged
    h = acct.head("life")
    assert h.status_code == 204
    assert (h.headers.get("X-Container-Meta-A"), h.headers.get("X-Container-Meta-B"),
            h.headers.get("X-Container-Meta-C")) == ("1", "2", "3")
    assert (h.headers["X-Container-Object-Count"], h.headers["X-Container-Bytes-Used"]) == ("0", "0")
    assert "X-Timestamp" in h.headers
    assert acct.post("life", headers={"X-Container-Meta-A": "one", "X-Remove-Container-Meta-B": "x"}).status_code == 204
    h = acct.head("life").headers
    assert (h.get("X-Container-Meta-A"), h.get("X-Container-Meta-B"), h.get("X-Container-Meta-C")) == ("one", None, "3")
    assert acct.post("no-such-container", headers={"X-Container-Meta-A": "1"}).status_code == 404
    acct.put_object("life/o", b"12345")
    assert acct.delete("life").status_code == 409
    assert acct.delete("life/o").status_code == 204
    assert acct.delete("life").status_code == 204
    assert acct.head("life").status_code == 404
    assert acct.delete("life").status_code == 404
    assert "life" not in acct.names()
    # Re-created: fresh, without the old metadata.
    acct.create_container("life")
    assert "X-Container-Meta-C" not in acct.head("life").headers
    assert acct.delete("life").status_code == 204


def test_object_metadata_post_replaces_and_keeps_utf8(acct):
    acct.create_container("meta")
    acct.put_object("meta/o", b"data", headers={"X-Object-Meta-A": "1", "X-Object-Meta-B": "2",
                                                 "Content-Type": "text/x-first"})
    r = acct.post("meta/o", headers={"X-Object-Meta-C": "3", "Content-Type": "text/x-second"})
    assert r.status_code == 202
    h = acct.head("meta/o").headers
    # Object POST replaces the whole set of user metadata (Swift's fast-POST semantics).
    assert (h.get("X-Object-Meta-A"), h.get("X-Object-Meta-B"), h.get("X-Object-Meta-C")) == (None, None, "3")
    assert h["Content-Type"].startswith("text/x-second")
    assert acct.read("meta/o") == b"data"
    # UTF-8 values go through unchanged (raw bytes on the wire, as swiftclient sends them).
    r = acct.post("meta/o", headers={"X-Object-Meta-City": "Z\u00fcrich \u2013 \u65e5".encode("utf-8")})
    assert r.status_code == 202
    got = acct.head("meta/o").headers["X-Object-Meta-City"]
    assert got.encode("latin-1").decode("utf-8") == "Z\u00fcrich \u2013 \u65e5"
    assert acct.post("meta/missing", headers={"X-Object-Meta-A": "1"}).status_code == 404


def test_read_your_writes(acct):
    acct.create_container("ryw")
    for i in range(25):
        body = payload(100 + i * 37, i)
        name = f"obj-{i:02d}"
        acct.put_object("ryw/" + name, body)
        rows = {row["name"]: row for row in acct.listing("ryw")}
        assert rows[name]["hash"] == md5(body) and rows[name]["bytes"] == len(body), i
        assert acct.container_counters("ryw")[0] == len(rows)
        if i % 3 == 0:
            assert acct.delete("ryw/" + name).status_code == 204
            assert name not in acct.names("ryw")
            assert acct.head("ryw/" + name).status_code == 404
        else:
            body2 = body[::-1] + b"!"
            acct.put_object("ryw/" + name, body2)
            assert acct.read("ryw/" + name) == body2
            row = [r for r in acct.listing("ryw", prefix=name)][0]
            assert row["hash"] == md5(body2)
    assert_counters_match_listings(acct)


def test_usage_counters_exact_under_concurrent_put_and_delete(swift_server, admin):
    a = make_member(swift_server, admin.token, "proj-busy", "busy")
    a.create_container("busy")
    a.create_container("busy2")
    shared = [f"shared-{i}" for i in range(6)]
    own_final = {}
    errors = []
    lock = threading.Lock()

    def worker(t):
        rnd = random.Random(t)
        s = requests.Session()
        s.headers["X-Auth-Token"] = a.token
        mine = {}
        try:
            for step in range(40):
                container = "busy" if rnd.random() < 0.7 else "busy2"
                if rnd.random() < 0.5:
                    name = rnd.choice(shared)
                else:
                    name = f"own-{t}-{rnd.randrange(5)}"
                url = a.url(f"{container}/{name}")
                if rnd.random() < 0.65:
                    body = payload(rnd.randrange(0, 30_000), t * 1000 + step)
                    r = s.put(url, data=body, timeout=60)
                    assert r.status_code == 201, r.status_code
                    if name.startswith("own-"):
                        mine[(container, name)] = body
                else:
                    r = s.delete(url, timeout=60)
                    assert r.status_code in (204, 404), r.status_code
                    if name.startswith("own-"):
                        assert r.status_code == (204 if (container, name) in mine else 404), (container, name)
                        mine.pop((container, name), None)
        except Exception as e:  # noqa: BLE001 (reported below)
            with lock:
                errors.append(repr(e))
        with lock:
            own_final.update(mine)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    # Objects only one thread touched are exactly as it left them.
    for c in ("busy", "busy2"):
        rows = {row["name"]: row for row in a.listing(c)}
        own_listed = {n for n in rows if n.startswith("own-")}
        assert own_listed == {n for (cc, n) in own_final if cc == c}
        for n in own_listed:
            assert rows[n]["hash"] == md5(own_final[(c, n)]) and rows[n]["bytes"] == len(own_final[(c, n)])
        # Shared names hold one complete body that matches its listing row.
        for n in rows:
            body = a.read(f"{c}/{n}")
            assert md5(body) == rows[n]["hash"] and len(body) == rows[n]["bytes"], n
    assert_counters_match_listings(a)


def test_counters_stay_exact_when_containers_are_deleted_under_writers(swift_server, admin):
    """Writers PUT into a container that another client keeps emptying, deleting and
    re-creating. A PUT either lands in a container that exists (201) or fails (404): no object is
    left counted in a deleted container."""
    a = make_member(swift_server, admin.token, "proj-race", "racer")
    a.create_container("race")
    a.create_container("steady")
    stop = threading.Event()
    errors = []
    deleted = []

    def writer(t):
        s = requests.Session()
        s.headers["X-Auth-Token"] = a.token
        rnd = random.Random(t)
        i = 0
        while not stop.is_set():
            time.sleep(rnd.uniform(0, 0.04))  # leave the deleter gaps to win now and then
            i += 1
            for c in ("race", "steady"):
                r = s.put(a.url(f"{c}/w{t}-{i % 7}"), data=payload(i % 5000, t * 10_000 + i), timeout=30)
                if r.status_code not in ((201, 404) if c == "race" else (201,)):
                    errors.append((c, r.status_code))

    def deleter():
        s = requests.Session()
        s.headers["X-Auth-Token"] = a.token
        while not stop.is_set():
            r = s.get(a.url("race"), params={"format": "json"}, timeout=30)
            if r.status_code == 200:
                for row in r.json():
                    code = s.delete(a.url("race/" + row["name"]), timeout=30).status_code
                    if code not in (204, 404):
                        errors.append(("delete object", code))
            code = s.delete(a.url("race"), timeout=30).status_code
            if code == 204:
                deleted.append(1)
            elif code not in (404, 409):
                errors.append(("delete container", code))
            code = s.put(a.url("race"), timeout=30).status_code
            if code not in (201, 202):
                errors.append(("create container", code))

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(4)] + [threading.Thread(target=deleter)]
    for t in threads:
        t.start()
    time.sleep(4)
    stop.set()
    for t in threads:
        t.join()
    assert not errors, errors[:10]
    assert len(deleted) >= 3, "the container was never deleted under the writers"
    for c in a.names():
        for row in a.listing(c):
            body = a.read(f"{c}/{row['name']}")
            assert md5(body) == row["hash"], (c, row["name"])
    assert_counters_match_listings(a)
