"""The Swift API's objects through `requests`: PUT with a length or chunked, objects larger than
the part size (`object.part_size`), content-type detection, single and multi-range GETs,
the maximum object size, stored HTTP headers, conditional requests (If-Match, If-None-Match,
If-(Un)Modified-Since, If-Range), POST, DELETE, COPY and X-Copy-From, DLO and SLO manifests
(nested, ranged, recursive delete), expiry with the reaper, and atomic overwrites under
concurrent readers (a download that started before an overwrite finishes with the old bytes)."""
import email.utils
import gzip
import hashlib
import json
import re
import socket
import threading
import time

import pytest
import requests

from rawhttp import Reader
from swift_support import (admin_account, assert_counters_match_listings, make_member, md5, payload,
                           start_swift_server, wait_until)

PART = 1_100_000  # deliberately not a power of two (the setting's minimum is 1 MiB)
MAX_OBJECT = 30 * 1024 * 1024


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = start_swift_server(tmp_path_factory, {"object.part_size": str(PART), "object.max_object_size": "30MiB"},
                           name="swift-objects")
    yield s
    s.stop()


@pytest.fixture(scope="module")
def acct(server):
    a = make_member(server, admin_account(server).token, "proj-objects", "objects")
    a.create_container("c")
    return a


def etag_of(r):
    return r.headers["ETag"].strip('"')


def test_put_get_head(acct):
    data = payload(12_345, 1)
    r = acct.put("c/plain.bin", data, headers={"Content-Type": "application/x-test", "X-Object-Meta-K": "v"})
    assert r.status_code == 201
    assert etag_of(r) == md5(data)
    assert "Last-Modified" in r.headers
    g = acct.get("c/plain.bin")
    assert g.status_code == 200 and g.content == data
    assert etag_of(g) == md5(data)
    assert g.headers["Content-Length"] == str(len(data))
    assert g.headers["Content-Type"] == "application/x-test"
    assert g.headers["X-Object-Meta-K"] == "v"
    assert g.headers.get("Accept-Ranges") == "bytes"
    assert "X-Timestamp" in g.headers and "Last-Modified" in g.headers
    h = acct.head("c/plain.bin")
    assert h.status_code == 200 and h.content == b""
    for k in ("ETag", "Content-Length", "Content-Type", "Last-Modified", "X-Object-Meta-K"):
        assert h.headers[k] == g.headers[k], k
    # Zero bytes.
    assert acct.put("c/zero", b"").status_code == 201
    g = acct.get("c/zero")
    assert g.status_code == 200 and g.content == b"" and etag_of(g) == md5(b"")
    # Missing object, missing container.
    assert acct.get("c/missing").status_code == 404
    assert acct.head("c/missing").status_code == 404
    assert acct.put("no-such-container/o", b"x").status_code == 404


def test_stored_http_headers(acct):
    """Content-Disposition, Content-Encoding, Cache-Control, Content-Language, Expires and
    X-Robots-Tag are stored with the object and sent back (browsers act on them); an object POST
    replaces them along with the user metadata; a copy takes them along."""
    hdrs = {"Content-Disposition": 'attachment; filename="report.pdf"', "Content-Encoding": "gzip",
            "Cache-Control": "max-age=60", "Content-Language": "fr", "Expires": "Wed, 21 Oct 2037 07:28:00 GMT",
            "X-Robots-Tag": "noindex", "X-Object-Meta-Color": "red", "Content-Type": "application/pdf"}
    body = gzip.compress(b"%PDF-1.4 not really")
    acct.put_object("c/headers.pdf", body, headers=hdrs)
    for method in ("HEAD", "GET"):
        r = acct.request(method, "c/headers.pdf")
        assert {k: r.headers.get(k) for k in hdrs} == hdrs, method
    assert acct.get("c/headers.pdf").content == b"%PDF-1.4 not really"  # requests decodes the stored gzip
    assert acct.post("c/headers.pdf", headers={"Content-Disposition": "inline", "X-Object-Meta-Color": "blue"}).status_code == 202
    h = acct.head("c/headers.pdf").headers
    assert h["Content-Disposition"] == "inline" and h["X-Object-Meta-Color"] == "blue"
    assert h["Content-Type"] == "application/pdf"
    for k in ("Content-Encoding", "Cache-Control", "Content-Language", "Expires", "X-Robots-Tag"):
        assert k not in h, k
    acct.put_object("c/headers.pdf", body, headers=hdrs)
    assert acct.request("COPY", "c/headers.pdf", headers={"Destination": "c/headers-copy.pdf"}).status_code == 201
    h = acct.head("c/headers-copy.pdf").headers
    assert {k: h.get(k) for k in hdrs} == hdrs


def test_chunked_upload(acct):
    data = payload(3 * PART + 4321, 2)
    r = acct.put("c/chunked.bin", (data[i:i + 8191] for i in range(0, len(data), 8191)))
    assert r.status_code == 201
    assert etag_of(r) == md5(data)
    assert acct.read("c/chunked.bin") == data
    assert acct.head("c/chunked.bin").headers["Content-Length"] == str(len(data))


@pytest.mark.parametrize("size", [PART - 1, PART, PART + 1, 3 * PART + 7, 20 * 1024 * 1024 + 3])
def test_objects_around_and_above_the_part_size(acct, size):
    data = payload(size, size)
    r = acct.put(f"c/parts-{size}", data)
    assert r.status_code == 201 and etag_of(r) == md5(data)
    g = acct.get(f"c/parts-{size}", stream=True)
    got = hashlib.md5()
    n = 0
    for chunk in g.iter_content(1 << 20):
        got.update(chunk)
        n += len(chunk)
    assert (n, got.hexdigest()) == (size, md5(data))
    # Ranges that straddle part boundaries, and one of more than 1 MiB starting at an odd offset
    # inside a part (large ranges are sent from a mapping of the part's file, page-aligned).
    for start, end in ((PART - 3, PART + 2), (0, min(size, 2 * PART) - 1), (size - 1, size - 1), (PART + 5, 2 * PART - 1)):
        if start >= size:
            continue
        end = min(end, size - 1)
        r = acct.get(f"c/parts-{size}", headers={"Range": f"bytes={start}-{end}"})
        assert r.status_code == 206, (start, end)
        assert r.content == data[start:end + 1], (start, end)
        assert r.headers["Content-Range"] == f"bytes {start}-{end}/{size}"
    assert acct.delete(f"c/parts-{size}").status_code == 204


def test_uploads_above_the_maximum_size_are_413(server, acct):
    assert requests.get(server.url + "/info", timeout=30).json()["swift"]["max_file_size"] == MAX_OBJECT
    acct.put_object("c/big-existing", b"old content")
    before = acct.container_counters("c")
    # Announced as too large: refused at once, before any of the body is sent.
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        s.sendall((f"PUT {acct.account_path}/c/too-big HTTP/1.1\r\nHost: x\r\nX-Auth-Token: {acct.token}\r\n"
                   f"Content-Length: {MAX_OBJECT + 1}\r\n\r\n").encode())
        assert Reader(s).response().status == 413

    # Chunked, and only too large once most of it has arrived: refused, nothing kept.
    def body():
        for _ in range(MAX_OBJECT // (1 << 20) + 1):
            yield b"z" * (1 << 20)

    for name in ("c/too-big", "c/big-existing"):
        try:
            r = acct.put(name, body())
            assert r.status_code == 413, r.status_code
        except requests.ConnectionError:
            pass  # the server may stop reading and close once it has answered
    assert acct.head("c/too-big").status_code == 404
    assert acct.read("c/big-existing") == b"old content"
    assert acct.container_counters("c") == before
    # Exactly the maximum is fine.
    r = acct.put("c/exactly-max", body_of(MAX_OBJECT))
    assert r.status_code == 201
    assert acct.head("c/exactly-max").headers["Content-Length"] == str(MAX_OBJECT)
    assert acct.delete("c/exactly-max").status_code == 204


def body_of(size, chunk=1 << 20):
    sent = 0
    while sent < size:
        n = min(chunk, size - sent)
        yield b"m" * n
        sent += n


def test_content_type_detection_from_the_name(acct):
    cases = {"doc.txt": "text/plain", "data.json": "application/json", "page.html": "text/html",
             "pic.png": "image/png", "noext": "application/octet-stream"}
    for name, expected in cases.items():
        assert acct.put("c/ct/" + name, b"x").status_code == 201
        assert acct.head("c/ct/" + name).headers["Content-Type"].split(";")[0] == expected, name
    rows = {r["name"]: r for r in acct.listing("c", prefix="ct/")}
    assert rows["ct/pic.png"]["content_type"] == "image/png"
    # An explicit type wins, unless X-Detect-Content-Type asks for detection.
    acct.put_object("c/ct/explicit.txt", b"x", headers={"Content-Type": "application/x-mine"})
    assert acct.head("c/ct/explicit.txt").headers["Content-Type"] == "application/x-mine"
    acct.put_object("c/ct/detect.png", b"x", headers={"Content-Type": "application/x-mine",
                                                      "X-Detect-Content-Type": "true"})
    assert acct.head("c/ct/detect.png").headers["Content-Type"] == "image/png"


def test_single_ranges(acct):
    data = payload(1000, 3)
    acct.put_object("c/r", data, headers={"Content-Type": "text/x-range"})
    for rng, start, end in (("bytes=0-9", 0, 9), ("bytes=990-", 990, 999), ("bytes=-10", 990, 999),
                            ("bytes=995-5000", 995, 999), ("bytes=500-500", 500, 500), ("bytes=0-", 0, 999)):
        r = acct.get("c/r", headers={"Range": rng})
        assert r.status_code == 206, rng
        assert r.content == data[start:end + 1], rng
        assert r.headers["Content-Range"] == f"bytes {start}-{end}/1000", rng
        assert r.headers["Content-Length"] == str(end - start + 1)
        assert r.headers["Content-Type"] == "text/x-range"
        assert etag_of(r) == md5(data)


def test_ranges_on_an_empty_object(acct):
    acct.put_object("c/empty-ranged", b"")
    for rng in ("bytes=0-", "bytes=0-0"):
        r = acct.get("c/empty-ranged", headers={"Range": rng})
        assert r.status_code == 416 and r.headers.get("Content-Range") == "bytes */0", rng
    r = acct.get("c/empty-ranged", headers={"Range": "bytes=-1"})
    assert r.status_code == 200 and r.content == b""


def parse_byteranges(r):
    m = re.match(r'multipart/byteranges;\s*boundary=("?)([^";]+)\1', r.headers["Content-Type"])
    assert m, r.headers["Content-Type"]
    boundary = b"--" + m.group(2).encode()
    body = r.content
    assert body.rstrip(b"\r\n").endswith(boundary + b"--"), body[-100:]
    parts = []
    for chunk in body.split(boundary)[1:-1]:
        assert chunk.startswith(b"\r\n") and chunk.endswith(b"\r\n"), chunk[:80]
        head, _, data = chunk[2:-2].partition(b"\r\n\r\n")
        headers = {}
        for line in head.split(b"\r\n"):
            k, _, v = line.decode().partition(":")
            headers[k.strip().lower()] = v.strip()
        parts.append((headers, data))
    return parts


def test_multi_range(acct):
    data = payload(3 * PART + 50, 4)
    acct.put_object("c/mr", data, headers={"Content-Type": "application/x-multi"})
    size = len(data)
    r = acct.get("c/mr", headers={"Range": f"bytes=0-9,{PART - 5}-{PART + 4},-7"})
    assert r.status_code == 206
    parts = parse_byteranges(r)
    expected = [(0, 9), (PART - 5, PART + 4), (size - 7, size - 1)]
    assert len(parts) == 3
    for (headers, body), (start, end) in zip(parts, expected):
        assert headers["content-range"] == f"bytes {start}-{end}/{size}"
        assert headers["content-type"] == "application/x-multi"
        assert body == data[start:end + 1]
    assert int(r.headers["Content-Length"]) == len(r.content)


def http_date(ts):
    return email.utils.formatdate(ts, usegmt=True)


def test_conditional_requests(acct):
    data = b"conditional body"
    acct.put_object("c/cond", data)
    h = acct.head("c/cond").headers
    etag, lm = etag_of(acct.head("c/cond")), h["Last-Modified"]
    lm_ts = email.utils.parsedate_to_datetime(lm).timestamp()
    for method in ("GET", "HEAD"):
        def req(**hdr):
            return acct.request(method, "c/cond", headers=hdr)
        assert req(**{"If-Match": etag}).status_code == 200
        assert req(**{"If-Match": f'"{etag}"'}).status_code == 200
        assert req(**{"If-Match": "*"}).status_code == 200
        assert req(**{"If-Match": '"0123456789abcdef0123456789abcdef"'}).status_code == 412
        r = req(**{"If-None-Match": f'"{etag}"'})
        assert r.status_code == 304 and r.content == b"" and etag_of(r) == etag
        assert r.headers.get("Last-Modified") == lm
        assert req(**{"If-Match": f'"0123456789abcdef0123456789abcdef", "{etag}"'}).status_code == 200
        assert req(**{"If-None-Match": f'"0123456789abcdef0123456789abcdef", "{etag}"'}).status_code == 304
        assert req(**{"If-None-Match": etag}).status_code == 304
        assert req(**{"If-None-Match": "*"}).status_code == 304
        assert req(**{"If-None-Match": '"ffffffffffffffffffffffffffffffff"'}).status_code == 200
        assert req(**{"If-Modified-Since": lm}).status_code == 304
        assert req(**{"If-Modified-Since": http_date(lm_ts + 3600)}).status_code == 304
        assert req(**{"If-Modified-Since": http_date(lm_ts - 3600)}).status_code == 200
        assert req(**{"If-Unmodified-Since": http_date(lm_ts - 3600)}).status_code == 412
        assert req(**{"If-Unmodified-Since": lm}).status_code == 200
        assert req(**{"If-Unmodified-Since": http_date(lm_ts + 3600)}).status_code == 200
        # An unparseable date is ignored.
        assert req(**{"If-Modified-Since": "not a date"}).status_code == 200
    r = acct.get("c/cond", headers={"If-Match": etag})
    assert r.content == data
    # A missing object with If-Match: 412 is not required, 404 is what Swift says.
    assert acct.get("c/missing", headers={"If-Match": "*"}).status_code in (404, 412)
    # PUT with If-None-Match: * creates only.
    assert acct.put("c/cond", b"replaced", headers={"If-None-Match": "*"}).status_code == 412
    assert acct.read("c/cond") == data
    assert acct.put("c/cond-new", b"created", headers={"If-None-Match": "*"}).status_code == 201


def test_if_range(acct):
    data = payload(5000, 7)
    acct.put_object("c/if-range", data)
    h = acct.head("c/if-range").headers
    etag, lm = h["ETag"], h["Last-Modified"]
    for validator in (etag if etag.startswith('"') else f'"{etag}"', lm):
        r = acct.get("c/if-range", headers={"Range": "bytes=10-19", "If-Range": validator})
        assert r.status_code == 206 and r.content == data[10:20], validator
    # A stale validator: the whole current object.
    for validator in ('"0123456789abcdef0123456789abcdef"', "Thu, 01 Jan 2015 00:00:00 GMT"):
        r = acct.get("c/if-range", headers={"Range": "bytes=10-19", "If-Range": validator})
        assert r.status_code == 200 and r.content == data, validator


def test_a_download_started_before_an_overwrite_finishes_with_the_old_bytes(acct):
    old = payload(3 * PART + 11, 8)
    new = payload(3 * PART + 11, 9)
    acct.put_object("c/long-read", old)
    r = acct.get("c/long-read", stream=True)
    assert r.status_code == 200
    chunks = r.iter_content(64 * 1024)
    got = next(chunks)
    acct.put_object("c/long-read", new)  # overwritten while the first download is still open
    assert acct.read("c/long-read") == new
    acct.delete("c/long-read")  # and even deleted
    for chunk in chunks:
        got += chunk
    assert len(got) == len(old) and got == old


def test_create_only_put_has_one_winner(acct):
    """Ten clients PUT the same new name with If-None-Match: * at once: one 201, nine 412, and
    the object holds the winner's bytes."""
    start = threading.Barrier(10)
    codes = {}

    def put(i):
        start.wait()
        codes[i] = acct.put("c/only-once", payload(20_000, 900 + i), headers={"If-None-Match": "*"}).status_code

    threads = [threading.Thread(target=put, args=(i,)) for i in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(codes.values()) == [201] + [412] * 9, codes
    winner = [i for i, c in codes.items() if c == 201][0]
    assert acct.read("c/only-once") == payload(20_000, 900 + winner)


def test_metadata_posts_are_atomic(acct):
    """Concurrent POSTs each set a complete metadata set; every HEAD, during and after, shows one
    of those sets whole (a POST replaces all user metadata at once)."""
    acct.put_object("c/meta-race", b"x")
    keys = ["A", "B", "C", "D"]
    stop = threading.Event()
    mixed = []

    def poster(t):
        s = requests.Session()
        s.headers["X-Auth-Token"] = acct.token
        for i in range(25):
            value = f"{t}-{i}"
            r = s.post(acct.url("c/meta-race"), headers={f"X-Object-Meta-{k}": value for k in keys}, timeout=30)
            if r.status_code != 202:
                mixed.append(("POST", r.status_code))

    def reader():
        while not stop.is_set():
            h = acct.head("c/meta-race").headers
            values = {h.get(f"X-Object-Meta-{k}") for k in keys}
            if len(values) != 1:
                mixed.append(values)

    posters = [threading.Thread(target=poster, args=(t,)) for t in range(4)]
    readers = [threading.Thread(target=reader) for _ in range(2)]
    for t in posters + readers:
        t.start()
    for t in posters:
        t.join()
    stop.set()
    for t in readers:
        t.join()
    assert not mixed, mixed[:5]
    h = acct.head("c/meta-race").headers
    assert len({h[f"X-Object-Meta-{k}"] for k in keys}) == 1


def test_delete(acct):
    acct.put_object("c/del", b"x")
    assert acct.delete("c/del").status_code == 204
    assert acct.get("c/del").status_code == 404
    assert acct.delete("c/del").status_code == 404
    assert "del" not in acct.names("c")


def test_copy_and_x_copy_from(acct):
    acct.create_container("dst")
    data = payload(2 * PART + 17, 5)
    acct.put_object("c/src", data, headers={"X-Object-Meta-Color": "red", "Content-Type": "image/x-src"})
    r = acct.request("COPY", "c/src", headers={"Destination": "dst/copied"})
    assert r.status_code == 201
    assert r.headers.get("X-Copied-From") == "c/src"
    assert "X-Copied-From-Last-Modified" in r.headers
    g = acct.get("dst/copied")
    assert g.content == data and g.headers["X-Object-Meta-Color"] == "red"
    assert g.headers["Content-Type"] == "image/x-src"
    # X-Copy-From, with metadata added on the way.
    r = acct.put("dst/pulled", headers={"X-Copy-From": "c/src", "X-Object-Meta-Extra": "1"})
    assert r.status_code == 201
    h = acct.head("dst/pulled").headers
    assert (h["X-Object-Meta-Color"], h["X-Object-Meta-Extra"]) == ("red", "1")
    assert acct.read("dst/pulled") == data
    # X-Fresh-Metadata drops the source's metadata.
    acct.put_object("dst/fresh", b"", headers={"X-Copy-From": "c/src", "X-Fresh-Metadata": "true",
                                              "X-Object-Meta-Only": "this"})
    h = acct.head("dst/fresh").headers
    assert "X-Object-Meta-Color" not in h and h["X-Object-Meta-Only"] == "this"
    # COPY onto itself changes the metadata and keeps the bytes.
    r = acct.request("COPY", "c/src", headers={"Destination": "c/src", "X-Object-Meta-Color": "blue"})
    assert r.status_code == 201
    assert acct.head("c/src").headers["X-Object-Meta-Color"] == "blue"
    assert acct.read("c/src") == data
    # Names needing quoting, in the Destination header (percent-encoded, as Swift expects).
    r = acct.request("COPY", "c/src", headers={"Destination": "dst/caf%C3%A9%20cr%C3%A8me"})
    assert r.status_code == 201
    assert acct.read("dst/caf\u00e9 cr\u00e8me") == data
    # The source is unchanged by all of this, and the counters add up.
    assert acct.read("c/src") == data
    assert_counters_match_listings(acct)


def test_dlo(acct):
    acct.create_container("segs")
    segs = [payload(PART + i, 100 + i) for i in range(3)]
    for i, s in enumerate(segs):
        acct.put_object(f"segs/movie/{i:03d}", s)
    acct.put_object("segs/other/000", b"not part of it")
    r = acct.put("c/movie", b"", headers={"X-Object-Manifest": "segs/movie/"})
    assert r.status_code == 201
    whole = b"".join(segs)
    h = acct.head("c/movie")
    assert h.headers["X-Object-Manifest"] == "segs/movie/"
    assert h.headers["Content-Length"] == str(len(whole))
    assert h.headers["ETag"] == '"%s"' % md5("".join(md5(s) for s in segs).encode())
    assert acct.read("c/movie") == whole
    r = acct.get("c/movie", headers={"Range": f"bytes={PART - 10}-{PART + 10}"})
    assert r.status_code == 206 and r.content == whole[PART - 10:PART + 11]
    # Dynamic: a segment added later is part of the object at once.
    acct.put_object("segs/movie/003", b"the end")
    assert acct.read("c/movie") == whole + b"the end"
    # The manifest itself, on request.
    r = acct.get("c/movie", params={"multipart-manifest": "get"})
    assert r.status_code == 200 and r.content == b""
    # Deleting the manifest leaves the segments.
    assert acct.delete("c/movie").status_code == 204
    assert len(acct.listing("segs", prefix="movie/")) == 4


def test_slo(acct):
    acct.create_container("slo-segs")
    segs = [payload(PART + 11 * i, 200 + i) for i in range(3)]
    for i, s in enumerate(segs):
        acct.put_object(f"slo-segs/s{i}", s)
    manifest = [
        {"path": "/slo-segs/s0", "etag": md5(segs[0]), "size_bytes": len(segs[0])},
        {"path": "/slo-segs/s1", "etag": None, "size_bytes": None},
        {"path": "/slo-segs/s2", "etag": md5(segs[2]), "size_bytes": len(segs[2]), "range": "10-19"},
    ]
    r = acct.put("c/slo", json.dumps(manifest).encode(), params={"multipart-manifest": "put"},
                 headers={"Content-Type": "video/x-slo", "X-Object-Meta-Kind": "slo"})
    assert r.status_code == 201, r.text
    whole = segs[0] + segs[1] + segs[2][10:20]
    h = acct.head("c/slo")
    assert h.headers.get("X-Static-Large-Object", "").lower() == "true"
    assert h.headers["Content-Length"] == str(len(whole))
    assert h.headers["Content-Type"] == "video/x-slo"
    assert h.headers["X-Object-Meta-Kind"] == "slo"
    g = acct.get("c/slo")
    assert g.content == whole
    r = acct.get("c/slo", headers={"Range": f"bytes={len(whole) - 15}-"})
    assert r.status_code == 206 and r.content == whole[-15:]
    # The listing shows the whole size; the manifest comes back as JSON on request.
    row = [x for x in acct.listing("c", prefix="slo") if x["name"] == "slo"][0]
    assert row["bytes"] == len(whole)
    got = acct.get("c/slo", params={"multipart-manifest": "get"})
    assert got.status_code == 200
    stored = got.json()
    assert [x["name"] for x in stored] == ["/slo-segs/s0", "/slo-segs/s1", "/slo-segs/s2"]
    assert [x["hash"] for x in stored] == [md5(s) for s in segs]
    assert [x["bytes"] for x in stored] == [len(s) for s in segs]
    assert stored[2].get("range") == "10-19"
    # A copy is a plain object with the whole content.
    acct.put_object("c/slo-copy", b"", headers={"X-Copy-From": "c/slo"})
    assert acct.read("c/slo-copy") == whole
    assert acct.head("c/slo-copy").headers.get("X-Static-Large-Object") is None
    # DELETE ?multipart-manifest=delete removes the manifest and its segments.
    r = acct.delete("c/slo", params={"multipart-manifest": "delete"}, headers={"Accept": "application/json"})
    assert r.status_code == 200
    assert r.json()["Number Deleted"] == 4
    assert acct.head("c/slo").status_code == 404
    assert acct.listing("slo-segs") == []
    assert acct.read("c/slo-copy") == whole
    assert_counters_match_listings(acct)


def test_nested_slo(acct):
    """An SLO whose segment is another SLO: read whole and by ranges across the boundaries, its
    manifest marks the sub-manifest, a manifest copy is an SLO too, and
    ?multipart-manifest=delete removes everything beneath it, recursively."""
    acct.create_container("nest-segs")
    segs = [payload(PART + i, 400 + i) for i in range(3)]
    for i, seg in enumerate(segs):
        acct.put_object(f"nest-segs/{i}", seg)
    r = acct.put("c/inner", json.dumps([{"path": "/nest-segs/0"}, {"path": "/nest-segs/1"}]).encode(),
                 params={"multipart-manifest": "put"})
    assert r.status_code == 201
    assert acct.head("c/inner").headers["ETag"] == '"%s"' % md5((md5(segs[0]) + md5(segs[1])).encode())
    r = acct.put("c/outer", json.dumps([{"path": "/c/inner"}, {"path": "/nest-segs/2", "range": "5-9"}]).encode(),
                 params={"multipart-manifest": "put"})
    assert r.status_code == 201
    whole = segs[0] + segs[1] + segs[2][5:10]
    assert acct.read("c/outer") == whole
    assert acct.head("c/outer").headers["Content-Length"] == str(len(whole))
    for start, end in ((PART - 10, PART + 10), (2 * PART - 3, 2 * PART + 3), (len(whole) - 7, len(whole) - 1)):
        r = acct.get("c/outer", headers={"Range": f"bytes={start}-{end}"})
        assert r.status_code == 206 and r.content == whole[start:end + 1], (start, end)
    stored = acct.get("c/outer", params={"multipart-manifest": "get"}).json()
    assert [(x["name"], bool(x.get("sub_slo")), x.get("range"), x["bytes"]) for x in stored] == \
        [("/c/inner", True, None, 2 * PART + 1), ("/nest-segs/2", False, "5-9", PART + 2)]
    # Conditional requests use the SLO's ETag.
    etag = acct.head("c/inner").headers["ETag"]
    assert acct.get("c/inner", headers={"If-None-Match": etag}).status_code == 304
    # COPY ?multipart-manifest=get copies the manifest: a second SLO over the same segments.
    r = acct.request("COPY", "c/inner", params={"multipart-manifest": "get"}, headers={"Destination": "c/inner-copy"})
    assert r.status_code == 201
    assert acct.head("c/inner-copy").headers.get("X-Static-Large-Object", "").lower() == "true"
    assert acct.read("c/inner-copy") == segs[0] + segs[1]
    # Recursive delete: outer, inner and all three segments.
    r = acct.delete("c/outer", params={"multipart-manifest": "delete"}, headers={"Accept": "application/json"})
    assert r.status_code == 200 and r.json()["Number Deleted"] == 5 and r.json()["Errors"] == [], r.text
    assert acct.listing("nest-segs") == []
    assert acct.head("c/inner").status_code == 404
    assert acct.delete("c/inner-copy").status_code == 204
    assert_counters_match_listings(acct)


def test_plain_delete_of_an_slo_keeps_its_segments(acct):
    acct.create_container("slo-keep")
    seg = payload(5000, 300)
    acct.put_object("slo-keep/s", seg)
    r = acct.put("c/slo2", json.dumps([{"path": "/slo-keep/s"}, {"path": "/slo-keep/s"}]).encode(),
                 params={"multipart-manifest": "put"})
    assert r.status_code == 201
    assert acct.read("c/slo2") == seg + seg
    assert acct.delete("c/slo2").status_code == 204
    assert acct.read("slo-keep/s") == seg


def test_expiry_and_the_reaper(acct):
    acct.create_container("exp")
    acct.put_object("exp/keep", b"stays")
    before = acct.container_counters("exp")
    t0 = time.time()
    acct.put_object("exp/after1", b"gone in a second", headers={"X-Delete-After": "1"})
    acct.put_object("exp/after", b"gone soon", headers={"X-Delete-After": "3"})
    delete_at = int(acct.head("exp/after").headers["X-Delete-At"])
    assert int(t0) + 2 <= delete_at <= int(time.time()) + 3
    acct.put_object("exp/at", b"gone soon too", headers={"X-Delete-At": str(int(t0) + 3)})
    assert acct.head("exp/at").headers["X-Delete-At"] == str(int(t0) + 3)
    acct.put_object("exp/posted", b"expired by POST")
    assert acct.post("exp/posted", headers={"X-Delete-After": "3"}).status_code == 202
    acct.put_object("exp/cancelled", b"reprieved", headers={"X-Delete-After": "3"})
    assert acct.post("exp/cancelled", headers={"X-Remove-Delete-At": "x"}).status_code == 202
    assert acct.head("exp/cancelled").headers.get("X-Delete-At") is None
    acct.put_object("exp/overwritten", b"old", headers={"X-Delete-After": "3"})
    acct.put_object("exp/overwritten", b"new, no expiry")
    assert acct.head("exp/overwritten").headers.get("X-Delete-At") is None
    time.sleep(max(0, t0 + 2.2 - time.time()))
    assert acct.get("exp/after1").status_code == 404
    time.sleep(max(0, t0 + 4.2 - time.time()))
    for name in ("after1", "after", "at", "posted"):
        assert acct.get("exp/" + name).status_code == 404, name
        assert acct.head("exp/" + name).status_code == 404, name
    assert acct.read("exp/cancelled") == b"reprieved"
    assert acct.read("exp/overwritten") == b"new, no expiry"
    # The reaper (every second here) drops them from the listing and the counters.
    assert wait_until(lambda: set(acct.names("exp")) == {"keep", "cancelled", "overwritten"}, timeout=8), \
        acct.names("exp")
    assert acct.container_counters("exp") == (before[0] + 2, before[1] + len(b"reprieved") + len(b"new, no expiry"))
    assert_counters_match_listings(acct)


@pytest.mark.parametrize("size,count", [(2 * PART + 333, 30), (100_000, 200), (3000, 300)])
def test_overwrite_is_atomic_for_concurrent_readers(acct, size, count):
    """Readers hammer an object while it is overwritten again and again: every read is one whole
    version (never a mix, never a 404). Small objects make for many overwrites a second; the
    smallest are kept in the metadata row rather than in a blob."""
    versions = [bytes([v % 250 + 1]) * size for v in range(count)]
    name = f"c/atomic-{size}"
    acct.put_object(name, versions[0])
    stop = threading.Event()
    bad = []

    def reader():
        s = requests.Session()
        s.headers["X-Auth-Token"] = acct.token
        while not stop.is_set():
            try:
                r = s.get(acct.url(name), timeout=60)
            except requests.RequestException as e:
                bad.append(repr(e))
                return
            whole = len(r.content) == size and r.content == r.content[:1] * size  # one version, entire
            if r.status_code != 200 or not whole or etag_of(r) != md5(r.content):
                bad.append((r.status_code, len(r.content), r.content[:1], r.content[-1:]))

    readers = [threading.Thread(target=reader) for _ in range(4)]
    for t in readers:
        t.start()
    try:
        for v in versions[1:]:
            acct.put_object(name, v)
    finally:
        stop.set()
        for t in readers:
            t.join()
    assert not bad, f"{len(bad)} bad reads, first ones: {bad[:5]}"
    assert acct.read(name) == versions[-1]
