"""The box keeps the durability rule: `kill -9` in the middle of parallel uploads (PUTs with and
without Content-Length, overwrites, and a chunked upload being assembled) leaves every
acknowledged file intact, nothing half-written visible, overwrites atomic and folder sizes
exact; `ciel scrub` then finds nothing wrong. And the box runs unchanged with its metadata in
PostgreSQL (the scale-out mode): litmus and the sync-client flows pass there too."""
import random
import re
import subprocess
import threading
import time

import pytest
import requests

from box_support import Dav, admin_password, make_box_user, payload, start_box_server
from conftest import BINARY, CielServer
from test_box_litmus import LITMUS, SUITES, parse_results
from test_swift_crash import SlowBody, chunked
from test_swift_postgres import new_database, pg_base  # noqa: F401  (fixture)

OC = "{http://owncloud.org/ns}"


def box_scrub(server):
    argv = [str(BINARY), "scrub", "--data-dir", str(server.data_dir), "--quiet"]
    if "store.metadata" in server.settings:
        argv += ["--set", "store.metadata=" + server.settings["store.metadata"]]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    out = r.stdout
    assert r.returncode == 0, (r.returncode, out[-3000:], r.stderr[-3000:])
    m = re.search(r"^box scrub: (\d+) blobs, (\d+) bytes checked, (\d+) corrupt, (\d+) without checksum$", out, re.M)
    assert m and m.group(3) == "0" and m.group(4) == "0", out
    m = re.search(r"^box: (\d+) blobs, (\d+) missing, (\d+) unreferenced$", out, re.M)
    assert m and m.group(2) == "0", out
    return out


def tree_sizes(dav, path=""):
    """(sum of the file sizes beneath `path`, the folder's own oc:size), recursively checked."""
    entries = dav.entries(path, "1", "{DAV:}getcontentlength", OC + "size", "{DAV:}resourcetype")
    own = int(entries[0].text(OC + "size"))
    total = 0
    for e in entries[1:]:
        name = e.href.rstrip("/").rsplit("/", 1)[1]
        child = (path + "/" if path else "") + requests.utils.unquote(name)
        if e.is_collection:
            total += tree_sizes(dav, child)
        else:
            total += int(e.text("{DAV:}getcontentlength"))
    assert own == total, (path, own, total)
    return total


def test_kill_9_during_parallel_uploads_keeps_every_acknowledged_file(tmp_path_factory):
    server = start_box_server(tmp_path_factory, {"box.inline_max": "4KiB"}, name="box-crash")
    try:
        dav = Dav(server, "admin", admin_password(server))
        assert dav.mkcol("crash").status_code == 201
        rnd = random.Random(77)
        specs = []
        for i in range(24):
            size = rnd.randint(200_000, 2_000_000) if i % 3 else rnd.randint(10, 3000)
            duration = rnd.uniform(0.1, 0.8) if i % 4 < 2 else rnd.uniform(8, 15)
            specs.append({"name": f"crash/f-{i:02d}.bin", "data": payload(size, 100 + i), "duration": duration,
                          "with_length": i % 2 == 0})
        old = {}
        for s in specs[:6]:
            old[s["name"]] = payload(len(s["data"]) // 2 + 5, 900 + len(old))
            assert dav.put(s["name"], old[s["name"]]).status_code == 201

        results = {}
        lock = threading.Lock()
        start = threading.Event()

        def upload(spec):
            body = SlowBody(spec["data"], spec["duration"])
            start.wait()
            try:
                r = requests.put(dav.url(spec["name"]), data=body if spec["with_length"] else chunked(body),
                                 auth=(dav.user, dav.password), timeout=120)
                outcome = r.status_code
            except requests.RequestException as e:
                outcome = e
            with lock:
                results[spec["name"]] = outcome

        threads = [threading.Thread(target=upload, args=(s,), daemon=True) for s in specs]
        for t in threads:
            t.start()
        start.set()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with lock:
                if sum(1 for v in results.values() if v in (201, 204)) >= 8:
                    break
            time.sleep(0.05)
        server.kill()
        for t in threads:
            t.join(timeout=60)
        acked = {n for n, v in results.items() if v in (201, 204)}
        errors = {n: v for n, v in results.items() if isinstance(v, int) and v not in (201, 204)}
        assert not errors, errors
        assert len(acked) >= 8
        assert len([v for v in results.values() if not isinstance(v, int)]) >= 3, "nothing was in flight at the kill"

        again = CielServer(server.data_dir, server.settings).start()
        try:
            dav = Dav(again, "admin", admin_password(again))
            listed = {e.href.rsplit("/", 1)[1] for e in dav.entries("crash", "1")[1:]}
            for s in specs:
                r = dav.get(s["name"])
                leaf = s["name"].split("/")[1]
                if s["name"] in acked:
                    assert r.status_code == 200 and r.content == s["data"], f"{s['name']}: acknowledged upload lost"
                elif s["name"] in old:
                    assert r.status_code == 200 and r.content in (old[s["name"]], s["data"]), f"{s['name']}: torn overwrite"
                else:
                    assert r.status_code in (200, 404), s["name"]
                    if r.status_code == 200:
                        assert r.content == s["data"], f"{s['name']}: a partial file is visible"
                assert (r.status_code == 200) == (leaf in listed), s["name"]
            tree_sizes(dav)
            assert dav.put("crash/after.bin", b"after restart").status_code == 201
        finally:
            again.stop()
        box_scrub(again)
    finally:
        server.kill()


@pytest.fixture(scope="module")
def pg_server(tmp_path_factory, pg_base):  # noqa: F811
    s = start_box_server(tmp_path_factory, {"store.metadata": new_database(pg_base)}, name="box-pg")
    yield s
    s.stop()


@pytest.mark.parametrize("suite", list(SUITES))
def test_litmus_passes_over_postgresql(pg_server, suite, tmp_path):
    # A fixed password: the admin's random one may start with '-', which litmus takes for an option.
    dav = make_box_user(pg_server, "litmus-" + suite, password="litmus-password-1")
    assert dav.mkcol("litmus-" + suite).status_code == 201
    env = {"PATH": "/usr/bin:/bin", "TESTS": suite, "HOME": str(tmp_path), "LANG": "C.UTF-8"}
    proc = subprocess.run([LITMUS, dav.url("litmus-" + suite) + "/", dav.user, dav.password], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=180)
    results = parse_results(proc.stdout + proc.stderr)
    bad = {n: r for n, r in results.items() if r[1] != "pass"}
    assert not bad and sorted(results) == list(range(SUITES[suite])), proc.stdout[-4000:]


def test_chunked_upload_versions_and_trash_over_postgresql(pg_server):
    dav = Dav(pg_server, "admin", admin_password(pg_server))
    data = payload(3 * 1024 * 1024 + 11, 5)
    up = f"{pg_server.url}/remote.php/dav/uploads/admin/4242"
    assert dav.request("MKCOL", url=up, headers={"OC-Total-Length": str(len(data))}).status_code == 201
    half = len(data) // 2
    assert dav.request("PUT", url=up + "/0000000000000001", data=data[half:], headers={"OC-Chunk-Offset": str(half)}).status_code == 201
    assert dav.request("PUT", url=up + "/0000000000000000", data=data[:half], headers={"OC-Chunk-Offset": "0"}).status_code == 201
    r = dav.request("MOVE", url=up + "/.file", headers={"Destination": "/remote.php/dav/files/admin/big.bin",
                                                        "OC-Total-Length": str(len(data)), "X-OC-Mtime": "1700000000"})
    assert r.status_code == 201, r.text
    assert r.headers["X-OC-MTime"] == "accepted" and r.headers["OC-FileId"]
    assert dav.get("big.bin").content == data
    assert dav.put("big.bin", b"small now").status_code == 204
    fileid = dav.entries("big.bin", "0", OC + "fileid")[0].text(OC + "fileid")
    r = dav.request("PROPFIND", url=f"{pg_server.url}/remote.php/dav/versions/admin/versions/{fileid}", headers={"Depth": "1"})
    assert r.status_code == 207 and r.text.count("<d:getcontentlength>") == 1
    assert dav.delete("big.bin").status_code == 204
    r = dav.request("PROPFIND", url=f"{pg_server.url}/remote.php/dav/trashbin/admin/trash", headers={"Depth": "1"})
    assert "big.bin.d" in r.text
    tree_sizes(dav)
