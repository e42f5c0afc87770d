"""Bad input to the Swift API: invalid UTF-8 and NUL in names (412, as Swift's check_utf8),
`.`/`..` segments (400, as Swift's name_check), overlong names (400), overlong or too much
metadata (400), unsatisfiable ranges (416 with `Content-Range: bytes */size`), malformed SLO
manifests (400), malformed ACLs (400), exceeded quotas (413), ETag mismatches (422), truncated
bodies and other malformed headers. In every case the status is right and nothing was written: no partial object,
listings and counters unchanged."""
import contextlib
import json
import socket
import threading
import time

import pytest

from rawhttp import Reader, connect
from swift_support import (MAX_META_COUNT, MAX_META_NAME, MAX_META_VALUE, admin, make_member, md5,  # noqa: F401
                           payload, q, swift_server)


@pytest.fixture(scope="module")
def acct(swift_server, admin):
    a = make_member(swift_server, admin.token, "proj-bad", "bad-user")
    a.create_container("c", headers={"X-Container-Meta-Keep": "yes"})
    a.put_object("c/existing.txt", b"existing content", headers={"X-Object-Meta-Keep": "yes"})
    return a


def state(a):
    """Everything a user could observe about the account: containers, objects, counters, metadata."""
    containers = a.names()
    return {
        "containers": containers,
        "objects": {c: [(o["name"], o["hash"], o["bytes"]) for o in a.listing(c)] for c in containers},
        "account": a.account_counters(),
        "counters": {c: a.container_counters(c) for c in containers},
        "meta": {k.lower(): v for k, v in a.head().headers.items()
                 if k.lower().startswith("x-account-meta-") or k.lower() == "x-account-access-control"},
        "cmeta": {c: {k.lower(): v for k, v in a.head(c).headers.items() if k.lower().startswith("x-container-")
                      and k.lower() not in ("x-container-object-count", "x-container-bytes-used")}
                  for c in containers},
        "existing": (a.read("c/existing.txt"), a.head("c/existing.txt").headers.get("X-Object-Meta-Keep")),
    }


@contextlib.contextmanager
def nothing_written(a):
    before = state(a)
    yield
    after = state(a)
    assert after == before


def raw(a, method, path_bytes, headers=None, body=b""):
    """Sends `method <account path>/<path_bytes>` byte for byte (no client-side normalisation)."""
    port = a.server.port
    target = a.account_path.encode() + b"/" + path_bytes
    lines = [method.encode() + b" " + target + b" HTTP/1.1", b"Host: 127.0.0.1:%d" % port,
             b"X-Auth-Token: " + a.token.encode(), b"Content-Length: %d" % len(body), b"Connection: close"]
    for k, v in (headers or {}).items():
        lines.append(f"{k}: {v}".encode())
    with connect(port) as s:
        s.sendall(b"\r\n".join(lines) + b"\r\n\r\n" + body)
        return Reader(s).response(head_request=(method == "HEAD"))


# --- names ----------------------------------------------------------------------------------------

BAD_UTF8 = [b"%FF", b"%C0%AF", b"%ED%A0%80", b"%E2%82", b"%80abc", b"%F5%80%80%80", b"%F8%88%80%80%80", b"ab%FEcd"]


def test_invalid_utf8_in_container_and_object_names_is_412(acct):
    with nothing_written(acct):
        for bad in BAD_UTF8:
            for method, path in (("PUT", b"bad" + bad), ("PUT", b"c/obj" + bad), ("PUT", bad + b"/obj"),
                                 ("POST", b"c/x" + bad), ("GET", b"c/obj" + bad), ("HEAD", b"c/obj" + bad),
                                 ("DELETE", b"c/obj" + bad), ("GET", b"bad" + bad)):
                r = raw(acct, method, path, body=b"data" if method == "PUT" else b"")
                assert r.status == 412, (method, path, r.status, r.body[:200])
        # The same bytes sent unencoded in the request line: refused (400 by the HTTP parser or 412).
        for bad in (b"\xff", b"\xc0\xaf", b"\xed\xa0\x80"):
            r = raw(acct, "PUT", b"c/raw" + bad, body=b"data")
            assert r.status in (400, 412), (bad, r.status)


def test_nul_in_names_is_412(acct):
    with nothing_written(acct):
        for method, path in (("PUT", b"nul%00container"), ("PUT", b"c/nul%00obj"), ("PUT", b"c/%00"),
                             ("GET", b"c/existing.txt%00"), ("DELETE", b"c/existing.txt%00"),
                             ("POST", b"c/existing.txt%00")):
            r = raw(acct, method, path, body=b"x" if method == "PUT" else b"")
            assert r.status == 412, (method, path, r.status)


def test_dot_segments_are_400_and_never_reach_another_container(acct):
    acct.create_container("victim")
    with nothing_written(acct):
        for path in (b"c/../victim/obj", b"c/./obj", b"c/a/../b", b"c/a/..", b"c/a/.", b"c/..", b"c/.",
                     b"c/%2E%2E/victim/obj", b"c/a/%2e%2e/b", b".", b"..", b"%2E%2E", b"../c/obj", b"./c/obj"):
            for method in ("PUT", "DELETE", "POST"):
                r = raw(acct, method, path, body=b"sneaky" if method == "PUT" else b"")
                assert r.status == 400, (method, path, r.status, r.body[:200])
        assert acct.head("victim/obj").status_code == 404
    # Dots inside a name segment are ordinary characters.
    acct.put_object("c/..hidden", b"fine")
    acct.put_object("c/a.b/c..d/.e", b"fine")
    assert acct.read("c/..hidden") == b"fine"
    for name in ("c/..hidden", "c/a.b/c..d/.e"):
        assert acct.delete(name).status_code == 204


# The issue (and Swift's API reference) counts these limits in bytes of UTF-8; Swift running on
# Python 3 happens to count characters after decoding, so it would accept the "é" cases below.
def test_container_name_length_limit(acct):
    exact = "k" * 256
    with nothing_written(acct):
        for name in ("k" * 257, "k" * 1000, "\u00e9" * 129):  # 129 × 2 bytes = 258 bytes
            r = acct.put(name)
            assert r.status_code == 400, (len(name.encode()), r.status_code)
    assert acct.put(exact).status_code == 201
    assert exact in acct.names()
    assert acct.put(exact + "/obj", b"x").status_code == 201
    assert acct.delete(exact + "/obj").status_code == 204
    assert acct.delete(exact).status_code == 204


def test_object_name_length_limit(acct):
    with nothing_written(acct):
        for name in ("o" * 1025, "\u00e9" * 513, "d/" * 600):  # 1025, 1026 and 1200 bytes
            r = acct.put("c/" + name, b"data")
            assert r.status_code == 400, (len(name.encode()), r.status_code)
            # A copy may not create one either.
            r = acct.request("COPY", "c/existing.txt", headers={"Destination": "c/" + q(name)})
            assert r.status_code == 400, r.status_code
            r = acct.put("c/" + name, headers={"X-Copy-From": "c/existing.txt"})
            assert r.status_code == 400, r.status_code
    exact = "o" * 1024
    assert acct.put("c/" + exact, b"data").status_code == 201
    assert acct.read("c/" + exact) == b"data"
    assert acct.delete("c/" + exact).status_code == 204


# --- metadata -------------------------------------------------------------------------------------

def meta(prefix, items):
    return {f"X-{prefix}-Meta-{k}": v for k, v in items}


TOO_MUCH = {
    "name too long": [("n" * (MAX_META_NAME + 1), "v")],
    "value too long": [("k", "v" * (MAX_META_VALUE + 1))],
    "value too long in bytes": [("k", ("\u00e9" * 129).encode("utf-8"))],  # 129 characters, 258 bytes
    "too many": [(f"m{i:03d}", "v") for i in range(MAX_META_COUNT + 1)],
    # 17 × (6 + 250) = 4352 bytes > 4096, every item within its own limits.
    "too large overall": [(f"meta{i:02d}", "v" * 250) for i in range(17)],
}
AT_LIMITS = {
    "longest name": [("n" * MAX_META_NAME, "v")],
    "longest value": [("k", "v" * MAX_META_VALUE)],
    "longest value in bytes": [("k", ("\u00e9" * 128).encode("utf-8"))],
    "most items": [(f"m{i:03d}", "v") for i in range(MAX_META_COUNT)],
    # 16 × (6 + 250) = 4096 bytes exactly.
    "largest overall": [(f"meta{i:02d}", "v" * 250) for i in range(16)],
}


def test_metadata_limits_on_objects(acct):
    with nothing_written(acct):
        for what, items in TOO_MUCH.items():
            r = acct.put("c/meta-obj", b"data", headers=meta("Object", items))
            assert r.status_code == 400, (what, r.status_code)
            r = acct.post("c/existing.txt", headers=meta("Object", items))
            assert r.status_code == 400, (what, r.status_code)
            r = acct.put("c/meta-copy", headers=dict(meta("Object", items), **{"X-Copy-From": "c/existing.txt"}))
            assert r.status_code == 400, (what, r.status_code)
    for what, items in AT_LIMITS.items():
        r = acct.put("c/meta-ok", b"data", headers=meta("Object", items))
        assert r.status_code == 201, (what, r.status_code, r.text)
        h = acct.head("c/meta-ok").headers
        for k, v in items:
            got = h.get(f"X-Object-Meta-{k}")
            assert (got.encode("latin-1") if isinstance(v, bytes) else got) == v, (what, k)
    assert acct.delete("c/meta-ok").status_code == 204


def test_metadata_limits_on_containers_and_account(acct):
    with nothing_written(acct):
        for what, items in TOO_MUCH.items():
            assert acct.put("meta-c", headers=meta("Container", items)).status_code == 400, what
            assert acct.post("c", headers=meta("Container", items)).status_code == 400, what
            assert acct.post(headers=meta("Account", items)).status_code == 400, what
    # At the limits (on a container without other metadata: the limits apply to all it holds).
    acct.create_container("meta-limits")
    for what, items in AT_LIMITS.items():
        assert acct.post("meta-limits", headers=meta("Container", items)).status_code == 204, what
        h = acct.head("meta-limits").headers
        assert all(h.get(f"X-Container-Meta-{k}", "").encode("latin-1") == (v if isinstance(v, bytes) else v.encode())
                   for k, v in items), what
        r = acct.post("meta-limits", headers={f"X-Remove-Container-Meta-{k}": "x" for k, _ in items})
        assert r.status_code == 204
    assert not [k for k in acct.head("meta-limits").headers if k.lower().startswith("x-container-meta-")]
    # What the container already holds counts: one more item on a full container is refused.
    acct.post("meta-limits", headers=meta("Container", AT_LIMITS["largest overall"]))
    with nothing_written(acct):
        assert acct.post("meta-limits", headers={"X-Container-Meta-One-More": "x"}).status_code == 400


def test_empty_metadata_name_is_400(acct):
    with nothing_written(acct):
        r = acct.put("c/empty-meta", b"x", headers={"X-Object-Meta-": "v"})
        assert r.status_code == 400


# --- ranges ---------------------------------------------------------------------------------------

def test_unsatisfiable_ranges_are_416_with_the_size(acct):
    data = payload(1000, 60)
    acct.put_object("c/ranged", data)
    for rng in ("bytes=1000-1001", "bytes=5000-", "bytes=1000-", "bytes=2000-3000,4000-5000"):
        r = acct.get("c/ranged", headers={"Range": rng})
        assert r.status_code == 416, (rng, r.status_code)
        assert r.headers.get("Content-Range") == "bytes */1000", (rng, r.headers.get("Content-Range"))
        assert data not in r.content
    # Syntactically invalid ranges are ignored, as HTTP says: the whole object.
    for rng in ("bytes=abc", "bytes=10-5", "pages=1-2", "bytes="):
        r = acct.get("c/ranged", headers={"Range": rng})
        assert r.status_code == 200 and r.content == data, (rng, r.status_code)
    # One satisfiable range among unsatisfiable ones: just that range.
    r = acct.get("c/ranged", headers={"Range": "bytes=0-9,5000-6000"})
    assert r.status_code == 206
    assert r.headers["Content-Range"] == "bytes 0-9/1000"
    assert r.content == data[:10]
    assert acct.delete("c/ranged").status_code == 204


# --- SLO manifests --------------------------------------------------------------------------------

def test_malformed_slo_manifests_are_400(acct):
    seg = payload(2000, 61)
    acct.put_object("c/seg-1", seg)
    good = {"path": "/c/seg-1", "etag": md5(seg), "size_bytes": len(seg)}
    cases = {
        "not json": b"{this is not json",
        "not a list": json.dumps({"path": "/c/seg-1"}).encode(),
        "list of strings": json.dumps(["/c/seg-1"]).encode(),
        "path without container": json.dumps([dict(good, path="seg-1")]).encode(),
        "missing segment": json.dumps([dict(good, path="/c/no-such-segment")]).encode(),
        "missing container": json.dumps([dict(good, path="/no-such-container/seg-1")]).encode(),
        "wrong etag": json.dumps([dict(good, etag="0" * 32)]).encode(),
        "wrong size": json.dumps([dict(good, size_bytes=1999)]).encode(),
        "negative size": json.dumps([dict(good, size_bytes=-1)]).encode(),
        "unsatisfiable range": json.dumps([dict(good, range="2500-3000")]).encode(),
        "two ranges": json.dumps([dict(good, range="0-1,5-6")]).encode(),
        "itself as a segment": json.dumps([good, {"path": "/c/manifest"}]).encode(),
        "unknown key": json.dumps([dict(good, colour="blue")]).encode(),
        "no path": json.dumps([{"etag": md5(seg), "size_bytes": len(seg)}]).encode(),
        "second of two bad": json.dumps([good, dict(good, etag="f" * 32)]).encode(),
    }
    with nothing_written(acct):
        for what, body in cases.items():
            r = acct.put("c/manifest", body, params={"multipart-manifest": "put"})
            assert r.status_code == 400, (what, r.status_code, r.text[:300])
        # A valid manifest over an existing object must not be replaced by an invalid one.
        r = acct.put("c/existing.txt", cases["wrong etag"], params={"multipart-manifest": "put"})
        assert r.status_code == 400
    assert acct.read("c/seg-1") == seg  # the segment is untouched
    # The good manifest does work (so the 400s above were about the defects).
    r = acct.put("c/manifest", json.dumps([good, good]).encode(), params={"multipart-manifest": "put"})
    assert r.status_code == 201, r.text
    assert acct.read("c/manifest") == seg + seg
    r = acct.delete("c/manifest", params={"multipart-manifest": "delete"})
    assert r.status_code == 200
    assert acct.head("c/seg-1").status_code == 404


def test_bad_dlo_manifest_header_is_400(acct):
    with nothing_written(acct):
        for value in ("no-slash", "/leading", "c/pre?x=1", "c/pre&x", "/c/pre"):
            r = acct.put("c/dlo", b"", headers={"X-Object-Manifest": value})
            assert r.status_code == 400, (value, r.status_code)


# --- quotas ---------------------------------------------------------------------------------------

def test_byte_quota_exceeded_is_413(acct):
    acct.create_container("quota-b", headers={"X-Container-Meta-Quota-Bytes": "1000"})
    acct.put_object("quota-b/first", payload(600, 62))
    with nothing_written(acct):
        r = acct.put("quota-b/second", payload(500, 63))
        assert r.status_code == 413, r.status_code
        r = acct.request("COPY", "quota-b/first", headers={"Destination": "quota-b/first-copy"})
        assert r.status_code == 413, r.status_code
    acct.put_object("quota-b/fits", payload(400, 64))  # 600 + 400 = 1000: exactly at the quota
    assert acct.container_counters("quota-b") == (2, 1000)
    with nothing_written(acct):
        assert acct.put("quota-b/one-more-byte", b"x").status_code == 413


def test_count_quota_exceeded_is_413(acct):
    acct.create_container("quota-n", headers={"X-Container-Meta-Quota-Count": "2"})
    acct.put_object("quota-n/1", b"1")
    acct.put_object("quota-n/2", b"2")
    with nothing_written(acct):
        assert acct.put("quota-n/3", b"3").status_code == 413
        assert acct.put("quota-n/4", headers={"X-Copy-From": "quota-n/1"}).status_code == 413
    # Raising the quota lets the write through.
    assert acct.post("quota-n", headers={"X-Container-Meta-Quota-Count": "3"}).status_code == 204
    acct.put_object("quota-n/3", b"3")


@pytest.mark.parametrize("header,value", [("X-Container-Meta-Quota-Count", "10"),
                                          ("X-Container-Meta-Quota-Bytes", "10000")])
def test_quotas_hold_under_concurrent_uploads(acct, header, value):
    """30 clients upload 1,000 bytes each at once into a container that has room for 10: exactly
    10 get 201, the other 20 get 413, and the container holds exactly what was acknowledged."""
    name = "quota-race-" + header.rsplit("-", 1)[1].lower()
    acct.create_container(name, headers={header: value})
    start = threading.Barrier(30)
    codes = {}

    def upload(i):
        start.wait()
        codes[i] = acct.put(f"{name}/o{i:02d}", payload(1000, i)).status_code

    threads = [threading.Thread(target=upload, args=(i,)) for i in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ok = sum(1 for c in codes.values() if c == 201)
    assert sorted(codes.values()) == [201] * 10 + [413] * 20, f"{ok} uploads got 201: {sorted(codes.values())}"
    assert sorted(acct.names(name)) == sorted(f"o{i:02d}" for i, c in codes.items() if c == 201)
    assert acct.container_counters(name) == (10, 10_000)


def test_invalid_quota_values_are_400(acct):
    with nothing_written(acct):
        for h in ({"X-Container-Meta-Quota-Bytes": "lots"}, {"X-Container-Meta-Quota-Count": "-1"},
                  {"X-Container-Meta-Quota-Bytes": "1.5"}):
            assert acct.post("c", headers=h).status_code == 400, h
            assert acct.put("quota-bad", headers=h).status_code == 400, h


# --- bodies and other headers ---------------------------------------------------------------------

def test_etag_mismatch_is_422_and_nothing_is_written(acct):
    data = payload(100_000, 65)
    with nothing_written(acct):
        r = acct.put("c/etagged", data, headers={"ETag": md5(b"something else")})
        assert r.status_code == 422, r.status_code
        r = acct.put("c/existing.txt", b"replacement", headers={"ETag": md5(b"not the replacement")})
        assert r.status_code == 422
        # Chunked, with the ETag up front.
        r = acct.put("c/etagged-chunked", (data[i:i + 7000] for i in range(0, len(data), 7000)),
                     headers={"ETag": "0" * 32})
        assert r.status_code == 422
    r = acct.put("c/etagged", data, headers={"ETag": md5(data)})
    assert r.status_code == 201 and r.headers["ETag"].strip('"') == md5(data)
    assert acct.delete("c/etagged").status_code == 204


def test_truncated_body_leaves_nothing(acct):
    with nothing_written(acct):
        port = acct.server.port
        head = (f"PUT {acct.account_path}/c/truncated HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                f"X-Auth-Token: {acct.token}\r\nContent-Length: 100000\r\n\r\n").encode()
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(head + b"x" * 50_000)
            s.shutdown(socket.SHUT_WR)
            try:
                s.recv(65536)
            except OSError:
                pass
        # The same over an existing object: the old content stays.
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(head.replace(b"/c/truncated", b"/c/existing.txt") + b"y" * 99_999)
            s.shutdown(socket.SHUT_WR)
            try:
                s.recv(65536)
            except OSError:
                pass
        time.sleep(0.5)  # give the server time to (wrongly) commit anything


def test_bad_expiry_headers_are_400(acct):
    with nothing_written(acct):
        for h in ({"X-Delete-At": str(int(time.time()) - 10)}, {"X-Delete-At": "soon"},
                  {"X-Delete-After": "-5"}, {"X-Delete-After": "tomorrow"}):
            assert acct.put("c/expiring", b"x", headers=h).status_code == 400, h
            assert acct.post("c/existing.txt", headers=h).status_code == 400, h


def test_bad_copy_sources_are_refused(acct):
    with nothing_written(acct):
        # Swift: X-Copy-From must be <container>/<object> (412 otherwise).
        assert acct.put("c/copy", headers={"X-Copy-From": "justonepart"}).status_code == 412
        # A body with X-Copy-From is a contradiction (400).
        assert acct.put("c/copy", b"body", headers={"X-Copy-From": "c/existing.txt"}).status_code == 400
        # COPY without a Destination, or to a malformed one (412).
        assert acct.request("COPY", "c/existing.txt").status_code == 412
        assert acct.request("COPY", "c/existing.txt", headers={"Destination": "nocontainer"}).status_code == 412
        # A missing source (404).
        assert acct.put("c/copy", headers={"X-Copy-From": "c/no-such-object"}).status_code == 404


def test_listing_limit_above_maximum_is_412(acct):
    assert acct.get("c", params={"limit": "10001"}).status_code == 412
    assert acct.get("", params={"limit": "10001"}).status_code == 412
    assert acct.get("c", params={"limit": "10000", "format": "json"}).status_code == 200


def test_malformed_acls_are_400(acct):
    with nothing_written(acct):
        for value in ("not json", '["a:b"]', '{"superuser": ["a:b"]}', '{"read-only": "a:b"}'):
            r = acct.post(headers={"X-Account-Access-Control": value})
            assert r.status_code == 400, (value, r.status_code)
        # An empty referrer; a referrer in a write ACL.
        assert acct.post("c", headers={"X-Container-Read": ".r:"}).status_code == 400
        assert acct.post("c", headers={"X-Container-Write": ".r:*"}).status_code == 400
        assert acct.put("acl-bad", headers={"X-Container-Write": ".r:*"}).status_code == 400


def test_deleting_a_non_empty_container_is_409(acct):
    with nothing_written(acct):
        assert acct.delete("c").status_code == 409
