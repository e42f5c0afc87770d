"""Swift middleware features through `requests`: versioned writes (X-Versions-Location and
X-History-Location, and a missing archive container), bulk delete, archive auto-extraction
(tar, tar.gz, never outside its target), FormPost, TempURL (SHA-1, SHA-256, prefix, methods,
expiry, large objects, private metadata), public read ACLs (.r:*, referrers, .rlistings), CORS
(preflight and actual requests) and /info advertising exactly what works."""
import base64
import hashlib
import hmac
import io
import json
import re
import tarfile
import time
import urllib.parse

import pytest
import requests

from swift_support import (MAX_CONTAINER_NAME, MAX_META_COUNT, MAX_META_NAME, MAX_META_OVERALL,  # noqa: F401
                           MAX_META_VALUE, MAX_OBJECT_NAME, admin, assert_counters_match_listings, formpost_body,
                           formpost_signature, make_member, payload, q, swift_server, tar_of, tempurl_sig)

VERSION_NAME = re.compile(r"^(?P<len>[0-9a-f]{3})(?P<name>.*)/(?P<ts>\d{10}\.\d{5})$", re.S)


@pytest.fixture(scope="module")
def acct(swift_server, admin):
    return make_member(swift_server, admin.token, "proj-features", "featured")


def archived(acct, container, prefix=""):
    rows = acct.listing(container, prefix=prefix)
    for row in rows:
        m = VERSION_NAME.match(row["name"])
        assert m, row["name"]
        assert int(m.group("len"), 16) == len(m.group("name").encode("utf-8")), row["name"]
    return rows


# --- versioned writes -----------------------------------------------------------------------------

def test_versions_location_stack_mode(acct):
    acct.create_container("v-archive")
    acct.create_container("v-docs", headers={"X-Versions-Location": "v-archive"})
    assert acct.head("v-docs").headers.get("X-Versions-Location") == "v-archive"
    for name in ("doc", "r\u00e9sum\u00e9 final.txt"):
        prefix = "%03x%s/" % (len(name.encode()), name)
        v = [f"{name} version {i}".encode() for i in range(1, 4)]
        acct.put_object("v-docs/" + name, v[0])
        assert archived(acct, "v-archive", prefix) == []
        acct.put_object("v-docs/" + name, v[1])
        rows = archived(acct, "v-archive", prefix)
        assert len(rows) == 1 and rows[0]["name"].startswith(prefix)
        assert acct.read("v-archive/" + rows[0]["name"]) == v[0]
        time.sleep(0.02)
        acct.put_object("v-docs/" + name, v[2])
        rows = archived(acct, "v-archive", prefix)
        assert [acct.read("v-archive/" + r["name"]) for r in rows] == [v[0], v[1]]
        assert rows[0]["name"] < rows[1]["name"]
        # POST changes metadata without making a version.
        assert acct.post("v-docs/" + name, headers={"X-Object-Meta-Note": "x"}).status_code == 202
        assert len(archived(acct, "v-archive", prefix)) == 2
        # DELETE pops the versions back, newest first.
        assert acct.delete("v-docs/" + name).status_code == 204
        assert acct.read("v-docs/" + name) == v[1]
        assert len(archived(acct, "v-archive", prefix)) == 1
        assert acct.delete("v-docs/" + name).status_code == 204
        assert acct.read("v-docs/" + name) == v[0]
        assert archived(acct, "v-archive", prefix) == []
        assert acct.delete("v-docs/" + name).status_code == 204
        assert acct.get("v-docs/" + name).status_code == 404
    # Switched off: overwrites no longer keep anything.
    assert acct.post("v-docs", headers={"X-Remove-Versions-Location": "x"}).status_code == 204
    assert "X-Versions-Location" not in acct.head("v-docs").headers
    acct.put_object("v-docs/plain", b"1")
    acct.put_object("v-docs/plain", b"2")
    assert acct.listing("v-archive") == []
    assert_counters_match_listings(acct)


def test_history_location_keeps_a_delete_marker(acct):
    acct.create_container("h-archive")
    acct.create_container("h-docs", headers={"X-History-Location": "h-archive"})
    assert acct.head("h-docs").headers.get("X-History-Location") == "h-archive"
    acct.put_object("h-docs/page", b"first")
    time.sleep(0.02)
    acct.put_object("h-docs/page", b"second")
    time.sleep(0.02)
    assert acct.delete("h-docs/page").status_code == 204
    assert acct.get("h-docs/page").status_code == 404
    assert "page" not in acct.names("h-docs")
    rows = archived(acct, "h-archive", "004page/")
    assert len(rows) == 3
    assert acct.read("h-archive/" + rows[0]["name"]) == b"first"
    assert acct.read("h-archive/" + rows[1]["name"]) == b"second"
    marker = rows[2]
    assert marker["content_type"] == "application/x-deleted;swift_versions_deleted=1"
    assert marker["bytes"] == 0
    # Restoring is a COPY from the archive.
    r = acct.request("COPY", "h-archive/" + q(rows[1]["name"]), headers={"Destination": "h-docs/page"})
    assert r.status_code == 201
    assert acct.read("h-docs/page") == b"second"


def test_versioning_without_its_archive_container_refuses_to_lose_data(acct):
    """If the archive container does not exist, an overwrite (stack mode) or a delete (history
    mode) would lose the current version: Swift refuses with 412 and keeps it."""
    acct.create_container("v-orphan", headers={"X-Versions-Location": "no-such-archive"})
    acct.put_object("v-orphan/doc", b"version 1")
    assert acct.put("v-orphan/doc", b"version 2").status_code == 412
    assert acct.read("v-orphan/doc") == b"version 1"
    acct.create_container("h-orphan", headers={"X-History-Location": "no-such-history"})
    acct.put_object("h-orphan/doc", b"kept")
    assert acct.delete("h-orphan/doc").status_code == 412
    assert acct.read("h-orphan/doc") == b"kept"
    assert "no-such-archive" not in acct.names() and "no-such-history" not in acct.names()


def test_copy_onto_a_versioned_object_archives_the_previous_version(acct):
    acct.create_container("vc-archive")
    acct.create_container("vc", headers={"X-Versions-Location": "vc-archive"})
    acct.put_object("vc/o", b"1")
    acct.put_object("vc/src", b"2")
    assert acct.request("COPY", "vc/src", headers={"Destination": "vc/o"}).status_code == 201
    assert acct.read("vc/o") == b"2"
    assert [acct.read("vc-archive/" + n) for n in acct.names("vc-archive", prefix="001o/")] == [b"1"]


def test_both_versioning_headers_is_400(acct):
    acct.create_container("x-archive")
    r = acct.put("both", headers={"X-Versions-Location": "x-archive", "X-History-Location": "x-archive"})
    assert r.status_code == 400
    assert acct.head("both").status_code == 404


# --- bulk operations ------------------------------------------------------------------------------

def test_bulk_delete(acct):
    acct.create_container("bulk")
    names = ["one", "two", "dir/three", "caf\u00e9 & cr\u00e8me", "a+b=c?"]
    for n in names:
        acct.put_object("bulk/" + n, n.encode())
    acct.put_object("bulk/survivor", b"stays")
    acct.create_container("bulk-empty")
    acct.create_container("bulk-full")
    acct.put_object("bulk-full/x", b"x")
    body = "\n".join(["/bulk/" + q(n) for n in names] + ["/bulk/not-there", "/bulk-empty", "/bulk-full"]) + "\n"
    r = acct.post("", params={"bulk-delete": ""}, data=body.encode(),
                  headers={"Content-Type": "text/plain", "Accept": "application/json"})
    assert r.status_code == 200, (r.status_code, r.text)
    result = r.json()
    assert result["Number Deleted"] == len(names) + 1  # the objects and the empty container
    assert result["Number Not Found"] == 1
    assert [e[0] for e in result["Errors"]] == ["/bulk-full"] and result["Errors"][0][1].startswith("409")
    assert acct.names("bulk") == ["survivor"]
    assert acct.head("bulk-empty").status_code == 404
    assert acct.names("bulk-full") == ["x"]
    # The DELETE form (what rclone sends) does the same.
    r = acct.request("DELETE", "", params={"bulk-delete": "1"}, data=b"/bulk/survivor\n/bulk-full/x\n/bulk-full\n",
                     headers={"Content-Type": "text/plain", "Accept": "application/json"})
    assert r.status_code == 200, (r.status_code, r.text)
    assert r.json()["Number Deleted"] == 3 and r.json()["Errors"] == []
    assert acct.names("bulk") == [] and acct.head("bulk-full").status_code == 404
    assert acct.head().status_code == 204  # the account itself is still there
    assert_counters_match_listings(acct)


def test_extract_archive_into_a_container(acct):
    files = {"a.txt": b"alpha\n", "dir/b.bin": payload(70_000, 80), "dir/sub/\u00e9t\u00e9.txt": b"summer\n"}
    acct.create_container("ex")
    r = acct.put("ex", data=tar_of(files), params={"extract-archive": "tar"}, headers={"Accept": "application/json"})
    assert r.status_code in (200, 201), (r.status_code, r.text)
    result = r.json()
    assert result["Number Files Created"] == 3 and result["Errors"] == []
    assert result.get("Response Status", "201 Created").startswith("201")
    for name, data in files.items():
        assert acct.read("ex/" + name) == data
    # tar.gz into a pseudo-directory.
    r = acct.put("ex/unpacked", data=tar_of(files, "gz"), params={"extract-archive": "tar.gz"},
                 headers={"Accept": "application/json"})
    assert r.status_code in (200, 201) and r.json()["Number Files Created"] == 3
    for name, data in files.items():
        assert acct.read("ex/unpacked/" + name) == data
    assert_counters_match_listings(acct)


def test_extract_archive_at_the_account_creates_containers(acct):
    files = {"arch-c1/x.txt": b"x", "arch-c2/deep/y.txt": b"y", "top-level-file.txt": b"ignored"}
    r = acct.put("", data=tar_of(files, "gz"), params={"extract-archive": "tar.gz"},
                 headers={"Accept": "application/json"})
    assert r.status_code in (200, 201), r.text
    assert r.json()["Number Files Created"] == 2
    assert acct.read("arch-c1/x.txt") == b"x"
    assert acct.read("arch-c2/deep/y.txt") == b"y"
    assert "top-level-file.txt" not in acct.names()


def test_extract_archive_never_escapes_the_target(acct):
    """Entries with `..` segments are refused one by one (and never land in another container);
    a leading "/" or "./" is dropped, as Swift does; links and directories are not objects."""
    acct.create_container("ex-trav")
    before = set(acct.names())
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in (("ok.txt", b"ok"), ("../escape/evil.txt", b"evil"),
                           ("sub/../../escape2/evil.txt", b"evil2"), ("/abs/path.txt", b"abs"),
                           ("./dot/x.txt", b"dot")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("link-to-ok")
        link.type, link.linkname = tarfile.SYMTYPE, "ok.txt"
        tar.addfile(link)
        hard = tarfile.TarInfo("hard-to-ok")
        hard.type, hard.linkname = tarfile.LNKTYPE, "ok.txt"
        tar.addfile(hard)
        d = tarfile.TarInfo("a-directory")
        d.type = tarfile.DIRTYPE
        tar.addfile(d)
    r = acct.put("ex-trav", data=buf.getvalue(), params={"extract-archive": "tar"},
                 headers={"Accept": "application/json"})
    assert r.status_code in (200, 400), r.status_code
    result = r.json()
    assert result["Number Files Created"] == 3
    assert len(result["Errors"]) == 2 and all(e[1].startswith("400") for e in result["Errors"]), result
    assert sorted(acct.names("ex-trav")) == ["abs/path.txt", "dot/x.txt", "ok.txt"]
    assert set(acct.names()) == before
    assert_counters_match_listings(acct)


def test_bulk_delete_over_the_limit_is_413(swift_server, acct):
    limit = requests.get(swift_server.url + "/info", timeout=30).json()["bulk_delete"]["max_deletes_per_request"]
    acct.create_container("bulk-limit")
    acct.put_object("bulk-limit/keep", b"k")
    body = "".join(f"/bulk-limit/o{i}\n" for i in range(limit)) + "/bulk-limit/keep\n"
    r = acct.post("", params={"bulk-delete": ""}, data=body.encode(),
                  headers={"Content-Type": "text/plain", "Accept": "application/json"})
    if r.status_code == 200:
        assert r.json()["Response Status"].startswith("413"), r.text[:300]
    else:
        assert r.status_code == 413
    assert acct.names("bulk-limit") == ["keep"]


def test_extract_of_a_broken_archive_creates_nothing(acct):
    acct.create_container("ex-bad")
    r = acct.put("ex-bad", data=b"this is not a tar file at all" * 40, params={"extract-archive": "tar"},
                 headers={"Accept": "application/json"})
    if r.status_code == 200:
        assert r.json()["Response Status"].startswith("400"), r.text
    else:
        assert r.status_code == 400
    assert acct.listing("ex-bad") == []


# --- FormPost -------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def keyed(acct):
    assert acct.post(headers={"X-Account-Meta-Temp-URL-Key": "account-key-1"}).status_code == 204
    acct.create_container("forms")
    return acct


def formpost(acct, path, key="account-key-1", redirect="", max_file_size=100_000, max_file_count=5,
             expires=None, files=(), digest="sha1", signature=None):
    expires = expires or int(time.time()) + 300
    sig = signature or formpost_signature(key, path, redirect, max_file_size, max_file_count, expires, digest)
    fields = [("redirect", redirect), ("max_file_size", max_file_size), ("max_file_count", max_file_count),
              ("expires", expires), ("signature", sig)]
    ctype, body = formpost_body(fields, list(files))
    return requests.post(acct.server.url + path, data=body, headers={"Content-Type": ctype},
                         allow_redirects=False, timeout=60)


def test_formpost_body_is_what_a_browser_sends():
    ctype, body = formpost_body([("redirect", ""), ("expires", 5)], [("file1", "a.txt", "text/plain", b"AB")],
                                boundary="XyZ")
    assert ctype == "multipart/form-data; boundary=XyZ"
    assert body == (b'--XyZ\r\nContent-Disposition: form-data; name="redirect"\r\n\r\n\r\n'
                    b'--XyZ\r\nContent-Disposition: form-data; name="expires"\r\n\r\n5\r\n'
                    b'--XyZ\r\nContent-Disposition: form-data; name="file1"; filename="a.txt"\r\n'
                    b'Content-Type: text/plain\r\n\r\nAB\r\n--XyZ--\r\n')
    # The signature is the HMAC of path, redirect, sizes and expiry, one per line.
    assert formpost_signature("k", "/v1/AUTH_a/c/", "", 10, 2, 1700000000) == \
        hmac.new(b"k", b"/v1/AUTH_a/c/\n\n10\n2\n1700000000", hashlib.sha1).hexdigest()


def test_formpost_uploads_without_credentials(keyed):
    path = keyed.account_path + "/forms/up/"
    png = payload(3000, 81)
    r = formpost(keyed, path, files=[("file1", "hello.txt", "text/plain", b"hello form\n"),
                                     ("file2", "pic.png", "image/png", png)])
    assert r.status_code == 201, (r.status_code, r.text)
    assert keyed.read("forms/up/hello.txt") == b"hello form\n"
    assert keyed.read("forms/up/pic.png") == png
    assert keyed.head("forms/up/pic.png").headers["Content-Type"] == "image/png"
    # With a redirect: 303 to it, with the status.
    r = formpost(keyed, path, redirect="https://app.example/done",
                 files=[("file1", "redirected.txt", "text/plain", b"r")])
    assert r.status_code == 303
    assert r.headers["Location"].startswith("https://app.example/done?status=201")
    assert keyed.read("forms/up/redirected.txt") == b"r"
    # SHA-256 signatures work too.
    r = formpost(keyed, path, digest="sha256", files=[("file1", "sha256.txt", "text/plain", b"s")])
    assert r.status_code == 201, r.text
    assert keyed.read("forms/up/sha256.txt") == b"s"


def test_formpost_expiry_fields(keyed):
    """The x_delete_after and x_delete_at form fields set the uploaded objects' expiry, as with
    the X-Delete-After and X-Delete-At headers."""
    path = keyed.account_path + "/forms/expiring/"
    expires = int(time.time()) + 300
    sig = formpost_signature("account-key-1", path, "", 1000, 5, expires)
    at = int(time.time()) + 3600
    for field, value in (("x_delete_after", 600), ("x_delete_at", at)):
        ctype, body = formpost_body([("redirect", ""), ("max_file_size", 1000), ("max_file_count", 5),
                                     ("expires", expires), ("signature", sig), (field, value)],
                                    [("file1", field + ".txt", "text/plain", b"short-lived")])
        r = requests.post(keyed.server.url + path, data=body, headers={"Content-Type": ctype}, timeout=30)
        assert r.status_code == 201, (field, r.status_code, r.text)
        delete_at = keyed.head(f"forms/expiring/{field}.txt").headers.get("X-Delete-At")
        assert delete_at is not None, field
        if field == "x_delete_at":
            assert int(delete_at) == at
        else:
            assert abs(int(delete_at) - (time.time() + 600)) < 30


def test_formpost_refusals_write_nothing(keyed):
    path = keyed.account_path + "/forms/refused/"
    one = [("file1", "f.txt", "text/plain", b"data")]
    assert formpost(keyed, path, key="wrong-key", files=one).status_code == 401
    assert formpost(keyed, path, expires=int(time.time()) - 10, files=one).status_code == 401
    assert formpost(keyed, path, signature="0" * 40, files=one).status_code == 401
    # Signed for another prefix.
    sig = formpost_signature("account-key-1", keyed.account_path + "/forms/elsewhere/", "", 100_000, 5,
                             int(time.time()) + 300)
    assert formpost(keyed, path, signature=sig, files=one).status_code == 401
    # Larger than max_file_size.
    r = formpost(keyed, path, max_file_size=10, files=[("file1", "big.txt", "text/plain", b"x" * 11)])
    assert r.status_code == 400
    assert keyed.listing("forms", prefix="refused/") == []
    # More files than max_file_count: the ones within the count are stored, then 400.
    r = formpost(keyed, path, max_file_count=1, files=[("file1", "one.txt", "text/plain", b"1"),
                                                       ("file2", "two.txt", "text/plain", b"2")])
    assert r.status_code == 400
    assert keyed.names("forms", prefix="refused/") == ["refused/one.txt"]


# --- TempURL --------------------------------------------------------------------------------------

def temp_url(acct, method, obj_path, key="account-key-1", digest="sha256", ttl=60, prefix=None, expires=None):
    expires = expires or int(time.time()) + ttl
    if prefix is not None:
        sig = tempurl_sig(key, method, expires, f"{acct.account_path}/{prefix}", digest, prefix=True)
        extra = "&temp_url_prefix=" + urllib.parse.quote(prefix.split("/", 1)[1])
    else:
        sig = tempurl_sig(key, method, expires, f"{acct.account_path}/{obj_path}", digest)
        extra = ""
    return f"{acct.server.url}{acct.account_path}/{q(obj_path)}?temp_url_sig={sig}&temp_url_expires={expires}{extra}"


def test_tempurl_sha256_and_methods(keyed):
    data = payload(50_000, 82)
    keyed.put_object("forms/report.pdf", data)
    r = requests.get(temp_url(keyed, "GET", "forms/report.pdf"), timeout=30)
    assert r.status_code == 200 and r.content == data
    assert r.headers["Content-Disposition"].startswith("attachment")
    assert 'filename="report.pdf"' in r.headers["Content-Disposition"]
    assert requests.head(temp_url(keyed, "GET", "forms/report.pdf"), timeout=30).status_code == 200
    r = requests.get(temp_url(keyed, "GET", "forms/report.pdf") + "&inline", timeout=30)
    assert r.headers["Content-Disposition"].startswith("inline")
    r = requests.get(temp_url(keyed, "GET", "forms/report.pdf") + "&filename=Q3%20numbers.pdf", timeout=30)
    assert 'filename="Q3 numbers.pdf"' in r.headers["Content-Disposition"]
    # PUT through a PUT signature; not through a GET one.
    r = requests.put(temp_url(keyed, "PUT", "forms/uploaded.bin"), data=b"put via tempurl", timeout=30)
    assert r.status_code == 201
    assert keyed.read("forms/uploaded.bin") == b"put via tempurl"
    r = requests.put(temp_url(keyed, "GET", "forms/report.pdf"), data=b"nope", timeout=30)
    assert r.status_code == 401
    assert keyed.read("forms/report.pdf") == data
    # DELETE is not allowed by a GET signature either.
    assert requests.delete(temp_url(keyed, "GET", "forms/report.pdf"), timeout=30).status_code == 401
    # Expired, wrong key, tampered expiry.
    assert requests.get(temp_url(keyed, "GET", "forms/report.pdf", expires=int(time.time()) - 1),
                        timeout=30).status_code == 401
    assert requests.get(temp_url(keyed, "GET", "forms/report.pdf", key="other"), timeout=30).status_code == 401
    url = temp_url(keyed, "GET", "forms/report.pdf")
    exp = re.search(r"temp_url_expires=(\d+)", url).group(1)
    assert requests.get(url.replace(exp, str(int(exp) + 1)), timeout=30).status_code == 401
    # SHA-1 with the same key; and a second key works alongside the first.
    assert requests.get(temp_url(keyed, "GET", "forms/report.pdf", digest="sha1"), timeout=30).status_code == 200
    assert keyed.post(headers={"X-Account-Meta-Temp-URL-Key-2": "account-key-2"}).status_code == 204
    assert requests.get(temp_url(keyed, "GET", "forms/report.pdf", key="account-key-2"),
                        timeout=30).status_code == 200


def test_tempurl_key_rotation_invalidates_old_urls(keyed):
    keyed.put_object("forms/rot.txt", b"rotating")
    url = temp_url(keyed, "GET", "forms/rot.txt", key="account-key-1")
    assert requests.get(url, timeout=30).status_code == 200
    assert keyed.post(headers={"X-Account-Meta-Temp-URL-Key": "account-key-1b"}).status_code == 204
    try:
        assert requests.get(url, timeout=30).status_code == 401
    finally:
        assert keyed.post(headers={"X-Account-Meta-Temp-URL-Key": "account-key-1"}).status_code == 204
    assert requests.get(url, timeout=30).status_code == 200


def test_tempurl_serves_large_objects(keyed):
    """A temp URL for a DLO (what `swift upload --segment-size` makes by default) or an SLO
    serves the whole object; the segments need no signature of their own."""
    keyed.create_container("tu-segs")
    keyed.put_object("tu-segs/d/1", b"one-")
    keyed.put_object("tu-segs/d/2", b"two")
    keyed.put_object("forms/big-dlo", b"", headers={"X-Object-Manifest": "tu-segs/d/"})
    keyed.put_object("tu-segs/s1", b"A" * 10)
    keyed.put_object("tu-segs/s2", b"B" * 10)
    r = keyed.put("forms/big-slo", json.dumps([{"path": "/tu-segs/s1"}, {"path": "/tu-segs/s2"}]).encode(),
                  params={"multipart-manifest": "put"})
    assert r.status_code == 201
    for name, body in (("forms/big-dlo", b"one-two"), ("forms/big-slo", b"A" * 10 + b"B" * 10)):
        r = requests.get(temp_url(keyed, "GET", name), timeout=30)
        assert r.status_code == 200 and r.content == body, (name, r.status_code)
    # The segments themselves stay closed to anyone without a signature for them.
    assert requests.get(keyed.url("tu-segs/s1"), timeout=30).status_code == 401


def test_tempurl_hides_private_metadata_and_refuses_manifests(keyed):
    """A temp URL shows only X-Object-Meta-Public-* metadata; a PUT through one may not make a
    DLO manifest (which could point at any container of the account)."""
    keyed.put_object("forms/meta.txt", b"m", headers={"X-Object-Meta-Secret": "s", "X-Object-Meta-Public-Tag": "t"})
    r = requests.get(temp_url(keyed, "GET", "forms/meta.txt"), timeout=30)
    assert r.status_code == 200
    assert r.headers.get("X-Object-Meta-Public-Tag") == "t"
    assert "X-Object-Meta-Secret" not in r.headers
    assert "X-Object-Meta-Secret" not in requests.head(temp_url(keyed, "GET", "forms/meta.txt"), timeout=30).headers
    keyed.create_container("private-stuff")
    keyed.put_object("private-stuff/payroll.csv", b"salaries")
    r = requests.put(temp_url(keyed, "PUT", "forms/dropbox.bin"), data=b"",
                     headers={"X-Object-Manifest": "private-stuff/payroll"}, timeout=30)
    assert r.status_code == 400
    assert keyed.head("forms/dropbox.bin").status_code == 404


def test_tempurl_prefix(keyed):
    for n in ("pre/a.txt", "pre/deep/b.txt", "prefixed.txt", "other.txt"):
        keyed.put_object("forms/" + n, n.encode())
    for n in ("pre/a.txt", "pre/deep/b.txt", "prefixed.txt"):
        r = requests.get(temp_url(keyed, "GET", "forms/" + n, prefix="forms/pre"), timeout=30)
        assert r.status_code == 200 and r.content == n.encode(), n
    assert requests.get(temp_url(keyed, "GET", "forms/other.txt", prefix="forms/pre"), timeout=30).status_code == 401
    # A prefix signature for pre/ does not open prefixed.txt.
    assert requests.get(temp_url(keyed, "GET", "forms/prefixed.txt", prefix="forms/pre/"),
                        timeout=30).status_code == 401
    assert requests.get(temp_url(keyed, "GET", "forms/pre/a.txt", prefix="forms/pre/"),
                        timeout=30).status_code == 200


# --- public read ACLs -----------------------------------------------------------------------------

def test_public_read_acls(acct):
    acct.create_container("pub", headers={"X-Container-Read": ".r:*"})
    acct.put_object("pub/index.html", b"<h1>hi</h1>", headers={"Content-Type": "text/html"})
    anon = acct.server.url + acct.account_path
    r = requests.get(anon + "/pub/index.html", timeout=30)
    assert r.status_code == 200 and r.content == b"<h1>hi</h1>"
    assert requests.head(anon + "/pub/index.html", timeout=30).status_code == 200
    # No listing without .rlistings, and never any write.
    assert requests.get(anon + "/pub", timeout=30).status_code == 401
    assert requests.put(anon + "/pub/planted", data=b"x", timeout=30).status_code == 401
    assert requests.delete(anon + "/pub/index.html", timeout=30).status_code == 401
    assert acct.post("pub", headers={"X-Container-Read": ".r:*,.rlistings"}).status_code == 204
    r = requests.get(anon + "/pub", params={"format": "json"}, timeout=30)
    assert r.status_code == 200 and [x["name"] for x in r.json()] == ["index.html"]
    assert requests.get(anon, timeout=30).status_code == 401  # the account stays private
    # Referrer-restricted.
    acct.create_container("ref", headers={"X-Container-Read": ".r:.example.com"})
    acct.put_object("ref/img", b"img")
    assert requests.get(anon + "/ref/img", headers={"Referer": "https://www.example.com/page"},
                        timeout=30).status_code == 200
    assert requests.get(anon + "/ref/img", headers={"Referer": "https://evil.test/"}, timeout=30).status_code == 401
    assert requests.get(anon + "/ref/img", timeout=30).status_code == 401
    assert requests.get(anon + "/vault-does-not-exist/x", timeout=30).status_code == 401


# --- CORS -----------------------------------------------------------------------------------------

def test_cors_preflight_and_actual_requests(acct):
    acct.create_container("cors", headers={
        "X-Container-Meta-Access-Control-Allow-Origin": "https://app.example https://other.example",
        "X-Container-Meta-Access-Control-Max-Age": "600",
        "X-Container-Meta-Access-Control-Expose-Headers": "X-Object-Meta-Color"})
    acct.put_object("cors/o", b"cors body", headers={"X-Object-Meta-Color": "teal"})
    url = acct.url("cors/o")
    r = requests.options(url, headers={"Origin": "https://app.example", "Access-Control-Request-Method": "PUT",
                                       "Access-Control-Request-Headers": "x-auth-token, content-type"}, timeout=30)
    assert r.status_code == 200
    assert r.headers["Access-Control-Allow-Origin"] == "https://app.example"
    assert "PUT" in [m.strip() for m in r.headers["Access-Control-Allow-Methods"].split(",")]
    assert r.headers.get("Access-Control-Max-Age") == "600"
    allowed = {h.strip().lower() for h in r.headers["Access-Control-Allow-Headers"].split(",")}
    assert allowed >= {"x-auth-token", "content-type"}
    # Another listed origin, on the container itself.
    r = requests.options(acct.url("cors"), headers={"Origin": "https://other.example",
                                                     "Access-Control-Request-Method": "GET"}, timeout=30)
    assert r.status_code == 200 and r.headers["Access-Control-Allow-Origin"] == "https://other.example"
    # An origin not listed, or a method Swift does not have (PATCH): 401 and no CORS headers.
    r = requests.options(url, headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
                         timeout=30)
    assert r.status_code == 401 and "Access-Control-Allow-Origin" not in r.headers
    r = requests.options(url, headers={"Origin": "https://app.example", "Access-Control-Request-Method": "PATCH"},
                         timeout=30)
    assert r.status_code == 401 and "Access-Control-Allow-Origin" not in r.headers
    # A container without CORS metadata refuses cross-origin preflights.
    acct.create_container("no-cors")
    r = requests.options(acct.url("no-cors"), headers={"Origin": "https://app.example",
                                                        "Access-Control-Request-Method": "GET"}, timeout=30)
    assert r.status_code == 401
    # OPTIONS without an Origin is a plain capability query.
    r = requests.options(url, timeout=30)
    assert r.status_code == 200
    assert {"GET", "PUT", "DELETE"} <= {m.strip() for m in r.headers["Allow"].split(",")}
    # The actual request carries the CORS response headers.
    r = acct.get("cors/o", headers={"Origin": "https://app.example"})
    assert r.status_code == 200 and r.content == b"cors body"
    assert r.headers["Access-Control-Allow-Origin"] == "https://app.example"
    exposed = {h.strip().lower() for h in r.headers["Access-Control-Expose-Headers"].split(",")}
    assert {"etag", "x-object-meta-color"} <= exposed
    r = acct.get("cors/o", headers={"Origin": "https://evil.example"})
    assert r.status_code == 200 and "Access-Control-Allow-Origin" not in r.headers
    # "*" allows any origin (Swift answers "*"; echoing the origin is as good for a browser).
    acct.post("cors", headers={"X-Container-Meta-Access-Control-Allow-Origin": "*"})
    r = requests.options(url, headers={"Origin": "https://anyone.example", "Access-Control-Request-Method": "GET"},
                         timeout=30)
    assert r.status_code == 200 and r.headers["Access-Control-Allow-Origin"] in ("*", "https://anyone.example")
    r = acct.get("cors/o", headers={"Origin": "https://anyone.example"})
    assert r.headers["Access-Control-Allow-Origin"] in ("*", "https://anyone.example")


# --- /info ----------------------------------------------------------------------------------------

REQUIRED = {"swift", "slo", "tempurl", "formpost", "bulk_delete", "bulk_upload", "versioned_writes",
            "container_quotas"}
# Capabilities that may be listed because the issue's features imply them (DLO is always on in
# Swift; the auth middleware names itself). Anything else listed would be a promise not kept.
OPTIONAL = {"dlo", "keystoneauth", "tempauth", "name_check"}


def test_info_lists_exactly_what_works(swift_server, keyed):
    r = requests.get(swift_server.url + "/info", timeout=30)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/json")
    info = r.json()
    assert REQUIRED <= set(info), sorted(REQUIRED - set(info))
    assert set(info) <= REQUIRED | OPTIONAL, sorted(set(info) - REQUIRED - OPTIONAL)
    core = info["swift"]
    assert core["max_meta_name_length"] == MAX_META_NAME and core["max_meta_value_length"] == MAX_META_VALUE
    assert core["max_meta_count"] == MAX_META_COUNT and core["max_meta_overall_size"] == MAX_META_OVERALL
    assert core["max_object_name_length"] == MAX_OBJECT_NAME
    assert core["max_container_name_length"] == MAX_CONTAINER_NAME
    assert core["container_listing_limit"] == 10000 and core["account_listing_limit"] == 10000
    assert isinstance(core["max_file_size"], int) and core["max_file_size"] >= 5 * 1024 ** 3
    assert isinstance(core.get("version"), str)
    assert isinstance(info["bulk_delete"]["max_deletes_per_request"], int)
    assert isinstance(info["slo"]["max_manifest_segments"], int)
    assert set(info["versioned_writes"].get("allowed_flags", ["x-versions-location", "x-history-location"])) == \
        {"x-versions-location", "x-history-location"}
    methods = set(info["tempurl"]["methods"])
    assert {"GET", "HEAD", "PUT"} <= methods
    digests = set(info["tempurl"].get("allowed_digests", []))
    assert {"sha1", "sha256"} <= digests <= {"sha1", "sha256", "sha512"}
    # Every advertised digest and method really works.
    keyed.put_object("forms/info-check.txt", b"checked")
    for d in digests:
        expires = int(time.time()) + 60
        path = f"{keyed.account_path}/forms/info-check.txt"
        mac = hmac.new(b"account-key-1", f"GET\n{expires}\n{path}".encode(), getattr(hashlib, d))
        sig = mac.hexdigest() if d != "sha512" else "sha512:" + base64.urlsafe_b64encode(mac.digest()).decode().strip("=")
        r = requests.get(f"{swift_server.url}{path}?temp_url_sig={sig}&temp_url_expires={expires}", timeout=30)
        assert r.status_code == 200, d
    for m in methods & {"GET", "HEAD", "PUT", "POST", "DELETE"}:
        if m in ("GET", "HEAD"):
            continue
        keyed.put_object("forms/method-check", b"m")
        url = temp_url(keyed, m, "forms/method-check")
        kwargs = {"data": b"new"} if m == "PUT" else {}
        if m == "POST":
            kwargs["headers"] = {"X-Object-Meta-Via": "tempurl"}
        r = requests.request(m, url, timeout=30, **kwargs)
        assert r.status_code in (201, 202, 204), (m, r.status_code)
