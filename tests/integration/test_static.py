"""The console's static files: served from the web root, cached in memory per I/O thread, and
re-read as soon as a file changes on disk."""
import os
import time

import requests


def _server(start_ciel, tmp_path):
    web = tmp_path / "web"
    (web / "assets").mkdir(parents=True)
    (web / "index.html").write_text("<!doctype html><title>Ciel</title>")
    return web, start_ciel({"web.root": str(web)})


def test_edited_file_is_served_fresh(start_ciel, tmp_path):
    web, ciel = _server(start_ciel, tmp_path)
    f = web / "assets" / "app.js"
    f.write_bytes(b"console.log(1);")
    with requests.Session() as s:  # keep-alive: the same I/O thread, so its cache is exercised
        for _ in range(3):
            assert s.get(ciel.url + "/assets/app.js", timeout=5).content == b"console.log(1);"
        f.write_bytes(b"console.log(2); // changed")
        os.utime(f, (time.time() + 5, time.time() + 5))
        r = s.get(ciel.url + "/assets/app.js", timeout=5)
        assert r.content == b"console.log(2); // changed"
        assert r.headers["Content-Type"].startswith("text/javascript")
        f.unlink()
        assert s.get(ciel.url + "/assets/app.js", timeout=5).status_code == 404


def test_ranges_and_revalidation(start_ciel, tmp_path):
    web, ciel = _server(start_ciel, tmp_path)
    data = bytes(range(256)) * 40
    (web / "assets" / "blob.bin").write_bytes(data)
    with requests.Session() as s:
        full = s.get(ciel.url + "/assets/blob.bin", timeout=5)
        assert full.content == data
        etag = full.headers["ETag"]
        part = s.get(ciel.url + "/assets/blob.bin", headers={"Range": "bytes=100-199"}, timeout=5)
        assert part.status_code == 206
        assert part.content == data[100:200]
        assert part.headers["Content-Range"] == f"bytes 100-199/{len(data)}"
        bad = s.get(ciel.url + "/assets/blob.bin", headers={"Range": f"bytes={len(data)}-"}, timeout=5)
        assert bad.status_code == 416
        again = s.get(ciel.url + "/assets/blob.bin", headers={"If-None-Match": etag}, timeout=5)
        assert again.status_code == 304
        assert again.content == b""


def test_large_file_streams_from_disk(start_ciel, tmp_path):
    web, ciel = _server(start_ciel, tmp_path)
    data = os.urandom(3 * 1024 * 1024)
    (web / "assets" / "big.bin").write_bytes(data)
    r = requests.get(ciel.url + "/assets/big.bin", timeout=10)
    assert r.status_code == 200
    assert r.content == data
    assert requests.get(ciel.url + "/", timeout=5).text.startswith("<!doctype html>")
