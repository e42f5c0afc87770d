"""Debian's Nextcloud command-line client (`nextcloudcmd` 3.7.3) against Ciel's box: two clients,
A and B, syncing the same account the way two laptops of one user would.

One scenario, in steps that each check what the user sees on disk and on the server:
  1. A uploads 500 files in nested folders with accented, Japanese and emoji names and spaces,
     plus a 100 MiB file (more than the client's 10 MB chunk size: chunked upload "NG");
  2. B downloads a byte-identical tree;
  3. an edit made on the server (WebDAV PUT) reaches A and B;
  4. a file and a whole folder deleted in A disappear from the server and from B;
  5. a folder renamed in A is renamed in B without downloading anything again, and its files keep
     their ids;
  6. the same file edited differently in A and B: the server keeps A's version (synced first), B
     keeps its own as a "(conflicted copy ...)" next to it; nothing is lost;
  7. syncing again transfers nothing, and both folders match the server.
Along the way: names with URL-special characters (# % & + ; = @ [ ] { } '), an empty folder, a
folder and a file made on the server, and a folder renamed on the server (no download either).
Further tests, each with a user of its own on the same server: a client killed in the middle of a
chunked upload resumes it on its next run; a decomposed (NFD) name settles on the box's NFC
spelling; a version and a folder restored from the trash on the server reach both clients; a
revoked app password stops the client without deleting anything; two clients syncing at the same
moment; an edit made on the server while a client uploads its own is not overwritten (412, then a
conflicted copy on the client); a server restart costs the clients nothing; a full box refuses
what does not fit (507) and keeps the rest.

The server runs with the access log on (DATA/log/access.log: one JSON line per request), which is
how "transferred nothing" and "no download" are checked. Every client run has a timeout: 3.7.3
waits forever for an answer nobody can give when a sync would delete every file, and such a hang
must fail the test, not stall CI. The client skips files modified less than 2 s before a run, so
every local change below gets an mtime in the past.
"""
import hashlib
import json
import os
import pathlib
import random
import re
import shutil
import subprocess
import time
import unicodedata
import urllib.parse
import uuid
import xml.etree.ElementTree as ET

import pytest
import requests

from conftest import CielServer
from identity_support import Keystone, read_openrc

NEXTCLOUDCMD = shutil.which("nextcloudcmd") or "/usr/bin/nextcloudcmd"
USER = "camille"
PASSWORD = "camille-box-password-7"
BIG_SIZE = 100 * 1024 * 1024  # > 10,000,000 bytes: uploaded in chunks (NG)
BIG = "Vidéos/grand film 🎬.bin"
CONFLICT = "Documents/notes de réunion.txt"
EDITED_ON_SERVER = "Documents/été 2024/Überblick/rapport final.txt"
DELETED_FILE = "Musik/Über Straße/chanson 3.txt"
DELETED_FOLDER = "deep/a/b"
RENAMED_FROM = "Photos/日本 旅行"
RENAMED_TO = "Photos/日本 旅行 2025 ✈"
EMPTY_FOLDER = "Archive 2023/vide (empty)"
SERVER_RENAMED_FROM = "Emoji 🎉 fête/🚀 launch day"
SERVER_RENAMED_TO = "Emoji 🎉 fête/🚀 launched #2 & 100% [final]"
SERVER_NEW_FILE = "Depuis le web/ajouté en ligne #1.txt"

FOLDERS = [
    "Documents",
    "Documents/été 2024",
    "Documents/été 2024/Überblick",
    "Photos",
    "Photos/日本 旅行",
    "Photos/日本 旅行/京都 寺",
    "Musik/Über Straße",
    "Emoji 🎉 fête",
    "Emoji 🎉 fête/🚀 launch day",
    "deep/a",
    "deep/a/b/c/d",
    "deep/a/b",
    "deep/x",
    "Archive 2023/old stuff",
    "Spécial #1 & 100% [brouillon]",
]
NAMES = ["note {i}.txt", "café {i}.md", "Grüße {i}.txt", "写真 {i}.jpg", "🎵 track {i}.dat", "plain{i}.bin",
         "two  spaces {i}.csv", "naïve résumé {i}.odt", "100% sûr #{i} & co.txt", "a+b=c; d,e @{i} [v2] {{x}}.txt",
         "l'été ~{i} (copie).txt", "quoi ? {i}.txt", "réunion 10:30 {i}.txt", "back\\slash * {i}.txt"]
SIZES = [0, 1, 17, 100, 1000, 4096, 12_345, 40_000]

DAV = "{DAV:}"
OC = "{http://owncloud.org/ns}"
PROPFIND_BODY = (
    '<?xml version="1.0" encoding="utf-8"?>'
    '<d:propfind xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns"><d:prop>'
    "<d:resourcetype/><d:getcontentlength/><d:getetag/><d:getlastmodified/><oc:id/><oc:fileid/><oc:permissions/>"
    "</d:prop></d:propfind>")
FILE_REQUEST = re.compile(r"^/remote\.php/(dav/files/[^/]+|webdav|dav/uploads/[^/]+)(/|$)")


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def small_files():
    """{relative path: bytes}: 500 small files spread over FOLDERS (one of them the file both
    clients will edit, one the file edited on the server, one the file A deletes)."""
    files = {}
    i = 0
    while len(files) < 492:
        folder = FOLDERS[i % len(FOLDERS)]
        name = NAMES[(i // len(FOLDERS)) % len(NAMES)].format(i=i)
        rnd = random.Random(i)
        files[f"{folder}/{name}"] = rnd.randbytes(SIZES[rnd.randrange(len(SIZES))])
        i += 1
    files[CONFLICT] = "Ordre du jour : budget, équipe, été.\n".encode() * 20
    files[EDITED_ON_SERVER] = "Rapport v1 — Überblick über das Jahr.\n".encode() * 50
    files[DELETED_FILE] = "la la la\n".encode()
    # Names that differ only by case are two files (on Linux, and in the box).
    files["Documents/Lisez-moi.txt"] = b"minuscules\n"
    files["Documents/LISEZ-MOI.txt"] = b"MAJUSCULES\n"
    files["Documents/lisez-moi.TXT"] = b"autre\n"
    files["Musik/Über Straße/Chanson.mp3"] = b"ID3" + bytes(range(256)) * 3
    files["Musik/Über Straße/chanson.mp3"] = b"ID3" + bytes(range(255, -1, -1)) * 3
    assert len(files) == 500
    return files


def write_big_file(path, size=BIG_SIZE):
    """`size` (a multiple of 4 MiB) random bytes; returns their sha256."""
    h = hashlib.sha256()
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        for _ in range(size // (4 << 20)):
            block = os.urandom(4 << 20)
            h.update(block)
            f.write(block)
    return h.hexdigest()


def file_sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def is_journal(rel):
    """nextcloudcmd's own files at the top of the synced folder: the sync journal (.sync_*.db and
    its -wal/-shm), never uploaded."""
    top = rel.split("/", 1)[0]
    return "/" not in rel and (top.startswith(".sync_") or top.startswith("._sync_") or top.startswith(".owncloudsync"))


def local_tree(root):
    """({relative path: sha256} of every file, {relative path} of every folder) under root,
    without the client's journal."""
    root = pathlib.Path(root)
    files, folders = {}, set()
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        for d in dirnames:
            folders.add(d if rel_dir == "." else f"{rel_dir}/{d}")
        for name in filenames:
            rel = name if rel_dir == "." else f"{rel_dir}/{name}"
            if not is_journal(rel):
                files[rel] = file_sha256(os.path.join(dirpath, name))
    return files, folders


def age_tree(root, seconds=120):
    """Sets every file's mtime `seconds` in the past: nextcloudcmd leaves files younger than 2 s
    for a later run ("Local file changed during sync")."""
    past = time.time() - seconds
    for dirpath, _, filenames in os.walk(root):
        for name in filenames:
            if not is_journal(name):
                os.utime(os.path.join(dirpath, name), (past, past))


def write_file(path, data, age):
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    past = time.time() - age
    os.utime(path, (past, past))


def folders_of(paths):
    out = set()
    for p in paths:
        parts = p.split("/")[:-1]
        for n in range(1, len(parts) + 1):
            out.add("/".join(parts[:n]))
    return out


class Box:
    """One user's box through raw WebDAV calls (HTTP Basic), plus the server's access log."""

    def __init__(self, server, user, password):
        self.server = server
        self.base = server.url
        self.user = user
        self.root_path = f"/remote.php/dav/files/{urllib.parse.quote(user)}/"
        self.root = self.base + self.root_path
        self.session = requests.Session()
        self.session.auth = (user, password)
        self.access_log = server.data_dir / "log" / "access.log"

    def url(self, rel):
        return self.root + urllib.parse.quote(rel.encode("utf-8"), safe="/")

    def propfind(self, rel="", depth=1, folder=True):
        """{relative path: {"dir", "size", "etag", "id", "fileid", "permissions"}} of `rel` and (Depth 1)
        its children; None if the server answers 404. Folders are addressed with a trailing slash,
        files without, as nextcloudcmd does."""
        url = self.url(rel) if rel else self.root
        if rel and folder:
            url += "/"
        r = self.session.request("PROPFIND", url, data=PROPFIND_BODY.encode(), timeout=60,
                                 headers={"Depth": str(depth), "Content-Type": "text/xml; charset=utf-8"})
        if r.status_code == 404:
            return None
        assert r.status_code == 207, f"PROPFIND {rel!r}: {r.status_code} {r.text[:500]}"
        out = {}
        for resp in ET.fromstring(r.content).findall(f"{DAV}response"):
            href = urllib.parse.unquote(urllib.parse.urlsplit(resp.findtext(f"{DAV}href")).path)
            assert href.startswith(urllib.parse.unquote(self.root_path)), href
            path = href[len(urllib.parse.unquote(self.root_path)):].strip("/")
            props = {}
            for propstat in resp.findall(f"{DAV}propstat"):
                if " 200 " not in (propstat.findtext(f"{DAV}status") or ""):
                    continue
                for prop in propstat.find(f"{DAV}prop"):
                    props[prop.tag] = prop
            is_dir = f"{DAV}resourcetype" in props and props[f"{DAV}resourcetype"].find(f"{DAV}collection") is not None
            size = props.get(f"{DAV}getcontentlength")
            out[path] = {
                "dir": is_dir,
                "size": int(size.text) if size is not None and size.text else None,
                "etag": props[f"{DAV}getetag"].text if f"{DAV}getetag" in props else None,
                "id": props[f"{OC}id"].text if f"{OC}id" in props else None,
                "fileid": props[f"{OC}fileid"].text if f"{OC}fileid" in props else None,
                "permissions": props[f"{OC}permissions"].text if f"{OC}permissions" in props else None,
            }
        return out

    def walk(self, rel=""):
        """Every entry below `rel` (not `rel` itself), by Depth 1 PROPFINDs (Depth infinity is refused)."""
        entries = {}
        listing = self.propfind(rel)
        assert listing is not None, f"{rel!r} is missing on the server"
        for path, entry in listing.items():
            if path == rel.strip("/"):
                continue
            entries[path] = entry
            if entry["dir"]:
                entries.update(self.walk(path))
        return entries

    def get(self, rel):
        r = self.session.get(self.url(rel), timeout=120)
        assert r.status_code == 200, f"GET {rel!r}: {r.status_code} {r.text[:300]}"
        return r.content

    def get_sha256(self, rel):
        h = hashlib.sha256()
        with self.session.get(self.url(rel), timeout=300, stream=True) as r:
            assert r.status_code == 200, f"GET {rel!r}: {r.status_code}"
            for block in r.iter_content(1 << 20):
                h.update(block)
        return h.hexdigest()

    def put(self, rel, data):
        return self.session.put(self.url(rel), data=data, timeout=60)

    # The access log is written by a background flusher: a request to a path nobody serves,
    # with a unique name, marks a point in it; reading up to the second mark gives exactly the
    # requests made in between.
    def mark(self):
        token = "ciel-sync-test-mark-" + uuid.uuid4().hex
        requests.get(f"{self.base}/{token}", timeout=30)
        return token

    def requests_between(self, start, end, timeout=15):
        deadline = time.time() + timeout
        while True:
            text = self.access_log.read_text(errors="replace") if self.access_log.exists() else ""
            if end in text:
                break
            assert time.time() < deadline, f"the access log never recorded {end} ({self.access_log})"
            time.sleep(0.1)
        lines = text.splitlines()
        first = next(i for i, line in enumerate(lines) if start in line)
        last = next(i for i, line in enumerate(lines) if end in line)
        return [json.loads(line) for line in lines[first + 1:last]]

    def requests_since(self, start):
        """The requests logged so far after the mark `start` (none if the mark is not flushed yet)."""
        lines = self.access_log.read_text(errors="replace").splitlines() if self.access_log.exists() else []
        for i, line in enumerate(lines):
            if start in line:
                return [json.loads(x) for x in lines[i + 1:] if x.endswith("}")]
        return []


def file_transfers(records):
    """The requests that move file bytes or change the tree (GET, PUT, MOVE, DELETE, MKCOL on
    files or uploads), as "METHOD decoded-path status"."""
    out = []
    for rec in records:
        path = urllib.parse.unquote(rec["path"])
        if rec["method"] in ("GET", "PUT", "MOVE", "DELETE", "MKCOL", "COPY", "POST") and FILE_REQUEST.match(path):
            out.append(f"{rec['method']} {path} {rec['status']}")
    return out


class Client:
    """One nextcloudcmd installation: its own synced folder and its own HOME and XDG dirs, so the
    two clients never share a config or a journal."""

    def __init__(self, name, workdir, box, password, extra_args=()):
        self.name = name
        self.folder = workdir / f"{name}-folder"
        self.home = workdir / f"{name}-home"
        self.logs = workdir / f"{name}-logs"
        for d in (self.folder, self.home, self.logs):
            d.mkdir(parents=True)
        self.box = box
        self.password = password
        self.runs = 0
        self.extra_args = list(extra_args)

    def env(self):
        env = {k: v for k, v in os.environ.items()
               if k.lower() not in ("http_proxy", "https_proxy", "all_proxy", "no_proxy")}
        env.update(HOME=str(self.home), XDG_CONFIG_HOME=str(self.home / ".config"),
                   XDG_DATA_HOME=str(self.home / ".local/share"), XDG_CACHE_HOME=str(self.home / ".cache"),
                   XDG_RUNTIME_DIR=str(self.home / "run"), QT_QPA_PLATFORM="offscreen", LC_ALL="C.UTF-8")
        (self.home / "run").mkdir(mode=0o700, exist_ok=True)
        return env

    def start(self, *extra):
        """Starts one `nextcloudcmd` run in the background (its own process group); returns
        (process, log path)."""
        self.runs += 1
        log = self.logs / f"run-{self.runs}.log"
        argv = [NEXTCLOUDCMD, "--non-interactive", "--trust", "-u", self.box.user, "-p", self.password,
                *self.extra_args, *extra, str(self.folder), self.box.base]
        with open(log, "wb") as out:
            proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    env=self.env(), start_new_session=True)
        return proc, log

    def sync(self, timeout=120, *extra):
        """One `nextcloudcmd` run; fails the test on a non-zero exit or when it does not finish
        within `timeout` seconds. Returns the run's output."""
        proc, log = self.start(*extra)
        try:
            code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait()
            pytest.fail(f"nextcloudcmd ({self.name}, run {self.runs}) did not finish within {timeout} s; "
                        f"last output:\n{tail(log)}")
        assert code == 0, f"nextcloudcmd ({self.name}, run {self.runs}) exited with {code}:\n{tail(log)}"
        return log.read_text(errors="replace")

    def sync_logged(self, timeout=120, *extra):
        """sync(), plus the requests the server saw during it (from the access log). The client
        retries failed requests within a run, so a server error can hide behind a successful
        exit: none is allowed."""
        start = self.box.mark()
        output = self.sync(timeout, *extra)
        end = self.box.mark()
        seen = self.box.requests_between(start, end)
        errors = [f"{r['method']} {urllib.parse.unquote(r['path'])} {r['status']}" for r in seen if r["status"] >= 500]
        assert not errors, f"the server failed requests of {self.name} (run {self.runs}): {errors[:10]}"
        return output, seen


def tail(path, lines=60):
    text = pathlib.Path(path).read_text(errors="replace").splitlines()
    return "\n".join(text[-lines:])


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    d = tmp_path_factory.mktemp("ciel") / "data"
    s = CielServer(d, {"log.access": "true"}).start()
    yield s
    s.stop()


def make_user(server, name, password):
    """An ordinary user: a project of their own with the member role (default domain)."""
    ks = Keystone(server)
    token = ks.token("admin", read_openrc(server)["OS_PASSWORD"], project="admin")
    r = ks.post("/projects", token, json={"project": {"name": name + "-projet", "domain_id": "default"}})
    assert r.status_code == 201, r.text
    pid = r.json()["project"]["id"]
    r = ks.post("/users", token, json={"user": {"name": name, "domain_id": "default", "password": password,
                                                "default_project_id": pid}})
    assert r.status_code == 201, r.text
    uid = r.json()["user"]["id"]
    r = ks.put(f"/projects/{pid}/users/{uid}/roles/{ks.role_id(token, 'member')}", token)
    assert r.status_code == 204, r.text
    return Box(server, name, password)


@pytest.fixture(scope="module")
def box(server):
    return make_user(server, USER, PASSWORD)


def want(expected):
    """(files, folders) a client folder should hold for the {path: sha256} `expected`: the
    folders of those files and the empty folder made in step 1."""
    return expected, folders_of(expected) | {EMPTY_FOLDER}


def test_two_clients_stay_in_sync(box, tmp_path):
    assert os.access(NEXTCLOUDCMD, os.X_OK), "nextcloudcmd is not installed (package nextcloud-desktop-cmd)"
    a = Client("A", tmp_path, box, PASSWORD)
    b = Client("B", tmp_path, box, PASSWORD)

    # The box of a new user exists and is empty.
    assert box.propfind() is not None and box.walk() == {}, "a new user's box should be empty"

    # --- 1. A uploads 500 small files and a 100 MiB one -----------------------------------------
    files = small_files()
    for rel, data in files.items():
        write_file(a.folder / rel, data, age=120)
    expected = {rel: sha256(data) for rel, data in files.items()}
    expected[BIG] = write_big_file(a.folder / BIG)
    (a.folder / EMPTY_FOLDER).mkdir(parents=True)
    age_tree(a.folder)
    assert local_tree(a.folder) == want(expected)

    started = time.time()
    _, seen = a.sync_logged(timeout=240)
    upload_seconds = time.time() - started
    first_upload = seen
    # The big file went up through chunked upload NG: chunks, then one MOVE of .file.
    chunk_puts = [line for line in file_transfers(seen) if line.startswith("PUT /remote.php/dav/uploads/")]
    assemble = [line for line in file_transfers(seen) if line.startswith("MOVE /remote.php/dav/uploads/")]
    assert chunk_puts and all(line.endswith((" 201", " 204")) for line in chunk_puts), chunk_puts
    assert len(assemble) == 1 and assemble[0].endswith((" 201", " 204")), assemble

    on_server = box.walk()
    server_files = {p: e for p, e in on_server.items() if not e["dir"]}
    server_folders = {p for p, e in on_server.items() if e["dir"]}
    assert set(server_files) == set(expected), (
        f"missing on the server: {sorted(set(expected) - set(server_files))[:10]}, "
        f"unexpected: {sorted(set(server_files) - set(expected))[:10]}")
    assert server_folders == want(expected)[1]
    sizes = {rel: len(data) for rel, data in files.items()}
    sizes[BIG] = BIG_SIZE
    wrong = {p: (e["size"], sizes[p]) for p, e in server_files.items() if e["size"] != sizes[p]}
    assert not wrong, f"wrong sizes on the server (got, expected): {dict(list(wrong.items())[:10])}"
    for p, e in on_server.items():
        assert e["etag"] and e["id"] and e["permissions"] is not None, (p, e)
    for rel in list(files)[::25] + [CONFLICT, EDITED_ON_SERVER, DELETED_FILE]:
        assert box.get(rel) == files[rel], f"GET {rel!r} does not return what A uploaded"
    assert box.get_sha256(BIG) == expected[BIG], "the 100 MiB file's bytes differ on the server"

    # --- 2. B downloads the same tree, byte for byte --------------------------------------------
    b.sync_logged(timeout=240)
    b_files, b_folders = local_tree(b.folder)
    assert b_files == expected, (f"B is missing {sorted(set(expected) - set(b_files))[:10]}, "
                                 f"has extra {sorted(set(b_files) - set(expected))[:10]}, "
                                 f"differs on {[p for p in expected if p in b_files and b_files[p] != expected[p]][:10]}")
    assert b_folders == want(expected)[1]
    assert local_tree(a.folder) == want(expected)
    # Modification times travel with the files (X-OC-Mtime up, getlastmodified down).
    moved_mtimes = [rel for rel in expected
                    if abs((b.folder / rel).stat().st_mtime - (a.folder / rel).stat().st_mtime) >= 1]
    assert not moved_mtimes, (f"{len(moved_mtimes)} files have another mtime in B than in A, e.g. "
                              f"{[(r, (a.folder / r).stat().st_mtime, (b.folder / r).stat().st_mtime) for r in moved_mtimes[:3]]}")

    # --- 3. An edit made on the server reaches both clients -------------------------------------
    edited = "Rapport v2 — geändert im Browser.\n".encode() * 70
    r = box.put(EDITED_ON_SERVER, edited)
    assert r.status_code in (200, 204), f"PUT over an existing file: {r.status_code} {r.text[:300]}"
    expected[EDITED_ON_SERVER] = sha256(edited)
    # ... and so does a folder with a file, both made on the server.
    r = box.session.request("MKCOL", box.url(SERVER_NEW_FILE.rsplit("/", 1)[0]), timeout=30)
    assert r.status_code == 201, f"MKCOL: {r.status_code} {r.text[:300]}"
    added = "Ajouté depuis le navigateur.\n".encode()
    r = box.put(SERVER_NEW_FILE, added)
    assert r.status_code == 201, f"PUT of a new file: {r.status_code} {r.text[:300]}"
    expected[SERVER_NEW_FILE] = sha256(added)
    for client in (a, b):
        _, seen = client.sync_logged()
        got = file_transfers(seen)
        assert any(line.startswith("GET ") and EDITED_ON_SERVER in line for line in got), (
            f"{client.name} did not download the edited file; its file requests: {got}")
        assert (client.folder / EDITED_ON_SERVER).read_bytes() == edited, f"{client.name} still has the old report"
        assert (client.folder / SERVER_NEW_FILE).read_bytes() == added, f"{client.name} lacks the file added on the server"
        assert local_tree(client.folder) == want(expected), f"{client.name}'s tree changed beyond the server's changes"
        downloads = [line for line in got if line.startswith("GET ")]
        assert len(downloads) == 2, f"{client.name} downloaded more than the two changed files: {downloads[:10]}"

    # An edit of the big file in A replaces it through another chunked upload (its final MOVE
    # carries an If: with the known etag) and reaches B.
    big_id = box.propfind(BIG, depth=0, folder=False)[BIG]["id"]
    with open(a.folder / BIG, "r+b") as f:
        f.seek(50 * 1024 * 1024)
        f.write(b"Montage final, version 2. " * 40000)
    past = time.time() - 60
    os.utime(a.folder / BIG, (past, past))
    expected[BIG] = file_sha256(a.folder / BIG)
    _, seen = a.sync_logged()
    assemble = [line for line in file_transfers(seen) if line.startswith("MOVE /remote.php/dav/uploads/")]
    assert len(assemble) == 1 and assemble[0].endswith(" 204"), (
        f"replacing the big file: {file_transfers(seen)} (the final MOVE should answer 204)")
    assert box.propfind(BIG, depth=0, folder=False)[BIG]["id"] == big_id, "replacing the file's content gave it a new id"
    _, seen = b.sync_logged()
    assert [line for line in file_transfers(seen)] == [f"GET {urllib.parse.unquote(box.root_path)}{BIG} 200"], (
        file_transfers(seen))
    assert file_sha256(b.folder / BIG) == expected[BIG], "B does not have A's edit of the big file"
    assert local_tree(b.folder) == want(expected)

    # --- 4. Deletions in A reach the server and B -----------------------------------------------
    deleted = [p for p in expected if p == DELETED_FILE or p.startswith(DELETED_FOLDER + "/")]
    assert len(deleted) > 10
    (a.folder / DELETED_FILE).unlink()
    shutil.rmtree(a.folder / DELETED_FOLDER)
    _, seen = a.sync_logged()
    got = file_transfers(seen)
    root = urllib.parse.unquote(box.root_path)
    assert f"DELETE {root}{DELETED_FILE} 204" in got, f"A sent no DELETE for the file; its file requests: {got}"
    assert f"DELETE {root}{DELETED_FOLDER} 204" in got, f"A sent no DELETE for the folder; its file requests: {got}"
    assert DELETED_FILE not in box.propfind(DELETED_FILE.rsplit("/", 1)[0]), "the deleted file is still listed"
    assert DELETED_FOLDER not in box.propfind(DELETED_FOLDER.rsplit("/", 1)[0]), "the deleted folder is still listed"
    assert box.propfind(DELETED_FILE, depth=0, folder=False) is None, "the deleted file still answers PROPFIND"
    assert box.propfind(DELETED_FOLDER, depth=0) is None, "the deleted folder still answers PROPFIND"
    for p in deleted:
        del expected[p]
    b.sync_logged()
    assert not (b.folder / DELETED_FILE).exists(), "B still has the file deleted in A"
    assert not (b.folder / DELETED_FOLDER).exists(), "B still has the folder deleted in A"
    assert (b.folder / "deep/a").is_dir()
    assert local_tree(b.folder) == want(expected)
    assert local_tree(a.folder) == want(expected)

    # --- 5. A folder renamed in A is renamed in B, nothing downloaded again ---------------------
    before = box.walk(RENAMED_FROM)
    moved = sorted(p for p in expected if p.startswith(RENAMED_FROM + "/"))
    assert len(moved) > 50
    folder_id = box.propfind(RENAMED_FROM, depth=0)[RENAMED_FROM]["fileid"]
    assert folder_id and all(e["fileid"] for e in before.values()), "entries without oc:fileid"
    os.rename(a.folder / RENAMED_FROM, a.folder / RENAMED_TO)
    _, seen = a.sync_logged()
    got = file_transfers(seen)
    moves = [line for line in got if line.startswith("MOVE ")]
    assert len(moves) == 1 and moves[0].endswith((" 201", " 204")), f"A's requests for the rename: {got}"
    assert not [line for line in got if line.startswith(("PUT ", "DELETE "))], (
        f"A uploaded or deleted instead of moving: {got}")
    assert RENAMED_FROM not in box.propfind("Photos") and RENAMED_TO in box.propfind("Photos"), (
        f"after the rename the server lists {sorted(box.propfind('Photos'))}")
    assert box.propfind(RENAMED_FROM, depth=0) is None, "the old folder name still answers PROPFIND"
    after = box.walk(RENAMED_TO)
    renamed = {RENAMED_TO + p[len(RENAMED_FROM):]: e for p, e in before.items()}
    assert set(after) == set(renamed)
    changed_ids = [p for p in after if after[p]["fileid"] != renamed[p]["fileid"] or after[p]["id"] != renamed[p]["id"]]
    assert not changed_ids, f"the rename changed file ids of {changed_ids[:5]}"
    assert box.propfind(RENAMED_TO, depth=0)[RENAMED_TO]["fileid"] == folder_id, "the folder got a new id"
    expected = {(RENAMED_TO + p[len(RENAMED_FROM):] if p.startswith(RENAMED_FROM + "/") else p): h
                for p, h in expected.items()}

    _, seen = b.sync_logged()
    got = file_transfers(seen)
    downloads = [line for line in got if line.startswith("GET ")]
    assert not downloads, f"B downloaded {len(downloads)} files again after a rename, e.g. {downloads[:5]}"
    assert not [line for line in got if not line.startswith("GET ")], f"B changed the server during a rename: {got}"
    assert not (b.folder / RENAMED_FROM).exists(), "B still has the old folder name"
    assert local_tree(b.folder) == want(expected)
    assert local_tree(a.folder) == want(expected)

    # A file moved to another folder in A is moved in B, again without a download.
    moved_file = next(p for p in sorted(expected) if p.startswith("Documents/été 2024/Überblick/") and p != EDITED_ON_SERVER)
    moved_to = "Archive 2023/old stuff/déplacé " + moved_file.rsplit("/", 1)[1]
    moved_id = box.propfind(moved_file, depth=0, folder=False)[moved_file]["fileid"]
    os.rename(a.folder / moved_file, a.folder / moved_to)
    expected[moved_to] = expected.pop(moved_file)
    _, seen = a.sync_logged()
    got = file_transfers(seen)
    assert len(got) == 1 and got[0].startswith(f"MOVE {urllib.parse.unquote(box.root_path)}{moved_file} "), got
    assert box.propfind(moved_to, depth=0, folder=False)[moved_to]["fileid"] == moved_id
    _, seen = b.sync_logged()
    assert not file_transfers(seen), f"B transferred files for a move: {file_transfers(seen)}"
    assert local_tree(b.folder) == want(expected)

    # A folder renamed on the server (WebDAV MOVE, as a web interface does) is renamed in A and B,
    # again without downloading its files.
    before = box.walk(SERVER_RENAMED_FROM)
    assert len(before) > 20
    r = box.session.request("MOVE", box.url(SERVER_RENAMED_FROM), timeout=30,
                            headers={"Destination": box.url(SERVER_RENAMED_TO), "Overwrite": "F"})
    assert r.status_code == 201, f"MOVE of a folder on the server: {r.status_code} {r.text[:300]}"
    after = box.walk(SERVER_RENAMED_TO)
    assert {SERVER_RENAMED_TO + p[len(SERVER_RENAMED_FROM):]: e["fileid"] for p, e in before.items()} == {
        p: e["fileid"] for p, e in after.items()}, "the server's MOVE changed names or ids inside the folder"
    expected = {(SERVER_RENAMED_TO + p[len(SERVER_RENAMED_FROM):] if p.startswith(SERVER_RENAMED_FROM + "/") else p): h
                for p, h in expected.items()}
    for client in (a, b):
        _, seen = client.sync_logged()
        got = file_transfers(seen)
        assert not got, f"{client.name} transferred files for a rename made on the server: {got[:10]}"
        assert not (client.folder / SERVER_RENAMED_FROM).exists(), f"{client.name} still has the old folder name"
        assert local_tree(client.folder) == want(expected)

    # A folder copied on the server (WebDAV COPY) arrives as a second folder on both clients; the
    # copies get ids of their own, so no client takes the copy for a move of the original.
    copied_from, copied_to = "Musik/Über Straße", "Musik/Über Straße (copie)"
    r = box.session.request("COPY", box.url(copied_from), timeout=60, headers={"Destination": box.url(copied_to)})
    assert r.status_code == 201, f"COPY of a folder on the server: {r.status_code} {r.text[:300]}"
    originals, copies = box.walk(copied_from), box.walk(copied_to)
    assert len(copies) == len(originals) > 10
    assert not {e["fileid"] for e in originals.values()} & {e["fileid"] for e in copies.values()}, "COPY reused file ids"
    expected.update({copied_to + p[len(copied_from):]: h for p, h in expected.items() if p.startswith(copied_from + "/")})
    for client in (a, b):
        client.sync_logged()
        assert local_tree(client.folder) == want(expected), f"{client.name} does not hold the original and the copy"

    # --- 6. The same file edited in A and in B: a conflict copy in B, nothing lost --------------
    from_a = "Version de A : on garde le budget.\n".encode() * 10
    from_b = "Version de B : on coupe le budget !\n".encode() * 12
    write_file(a.folder / CONFLICT, from_a, age=40)
    write_file(b.folder / CONFLICT, from_b, age=30)
    _, seen = a.sync_logged()
    got = file_transfers(seen)
    assert [line for line in got if line.startswith("PUT ")] and box.get(CONFLICT) == from_a, (
        f"A's edit did not reach the server; its file requests: {got}")
    b.sync_logged()
    folder, name = CONFLICT.rsplit("/", 1)
    stem, ext = name.rsplit(".", 1)
    copy_name = re.compile(re.escape(stem) + r" \(conflicted copy \d{4}-\d\d-\d\d \d{6}\)\." + re.escape(ext) + "$")
    copies = [p for p in os.listdir(b.folder / folder) if copy_name.match(p)]
    assert len(copies) == 1, f"B should have one conflicted copy of {name}; {folder}/ holds {sorted(os.listdir(b.folder / folder))}"
    assert (b.folder / folder / copies[0]).read_bytes() == from_b, "the conflicted copy does not hold B's edit"
    assert (b.folder / CONFLICT).read_bytes() == from_a, "B's file under the original name should hold A's edit"
    assert box.get(CONFLICT) == from_a, "the server lost A's edit"
    conflict_copy = f"{folder}/{copies[0]}"
    expected[CONFLICT] = sha256(from_a)

    # --- 7. Another sync transfers nothing; both folders match the server -----------------------
    for client in (a, b):
        _, seen = client.sync_logged()
        got = file_transfers(seen)
        assert not got, f"{client.name} transferred or changed files on a sync with nothing to do: {got}"
    a_tree = local_tree(a.folder)
    b_files, b_folders = local_tree(b.folder)
    assert a_tree == want(expected)
    assert b_files.pop(conflict_copy) == sha256(from_b)
    assert (b_files, b_folders) == want(expected)
    # The server's tree, byte for byte: the conflicted copy stays on B only (nextcloudcmd does
    # not upload conflict files).
    on_server = box.walk()
    assert {p for p, e in on_server.items() if not e["dir"]} == set(expected)
    assert {p for p, e in on_server.items() if e["dir"]} == want(expected)[1]
    differing = [p for p in expected if (box.get_sha256(p) if p == BIG else sha256(box.get(p))) != expected[p]]
    assert not differing, f"the server's bytes differ from the clients' for {differing[:10]}"
    assert upload_seconds < 120, f"the first upload (500 files + 100 MiB) took {upload_seconds:.0f} s"
    # Trees of small files sync at the pace of one PUT per file and one PROPFIND per folder, so
    # their latency is what the user waits for. nextcloudcmd (Qt) writes a request's headers and
    # its body in two writes without TCP_NODELAY: the body waits until the server ACKs the
    # headers, and a server that leaves that ACK delayed spends ~40 ms per request doing nothing.
    # The access log's "us" shows the server-side time of each request.
    root = urllib.parse.unquote(box.root_path)
    small_puts = sorted(rec["us"] for rec in first_upload if rec["method"] == "PUT"
                        and urllib.parse.unquote(rec["path"]).startswith(root) and rec["bytes_in"] < 100_000)
    propfinds = sorted(rec["us"] for rec in first_upload if rec["method"] == "PROPFIND")
    assert len(small_puts) >= 490 and propfinds
    median_put, median_propfind = small_puts[len(small_puts) // 2] / 1000, propfinds[len(propfinds) // 2] / 1000
    assert median_put < 25 and median_propfind < 25, (
        f"nextcloudcmd's small-file PUTs take {median_put:.1f} ms (median) and its PROPFINDs {median_propfind:.1f} ms "
        f"on the server; ~40 ms is the delayed-ACK stall described above")


def test_an_interrupted_chunked_upload_resumes(server, tmp_path):
    """A laptop closed in the middle of a big upload: the next run carries on where the first
    stopped (the chunk the server already stored is not sent again), nothing half-uploaded is
    ever visible, and the file on the server is exactly the local one, whatever became of the
    chunk that was cut off. nextcloudcmd syncs only one folder of the box here (--path), whose
    name needs percent-encoding."""
    folder_name = "Reprise #2 & 100% été"
    password = "dominique-box-password-3"
    box = make_user(server, "dominique", password)
    r = box.session.request("MKCOL", box.url(folder_name), timeout=30)
    assert r.status_code == 201, f"MKCOL Reprise: {r.status_code} {r.text[:300]}"
    client = Client("R", tmp_path, box, password, extra_args=["--path", "/" + folder_name])
    size = 60 * 1024 * 1024
    digest = write_big_file(client.folder / "film à reprendre.bin", size)
    age_tree(client.folder)
    uploads = f"/remote.php/dav/uploads/{box.user}/"

    # First run, slowed down to ~3 MB/s, killed (-9) once the first 10 MB chunk is stored and
    # while the rest is on its way.
    start = box.mark()
    proc, log = client.start("--uplimit", "3000")
    try:
        deadline = time.time() + 60
        first_chunk = None
        while first_chunk is None:
            assert proc.poll() is None, f"nextcloudcmd ended before its first chunk was stored:\n{tail(log)}"
            assert time.time() < deadline, f"no chunk was stored within 60 s:\n{tail(log)}"
            time.sleep(0.1)
            first_chunk = next((rec for rec in box.requests_since(start) if rec["method"] == "PUT"
                                and rec["path"].startswith(uploads) and rec["status"] in (201, 204)), None)
        time.sleep(2)
        done = [rec for rec in box.requests_since(start) if rec["method"] == "MOVE" and rec["path"].startswith(uploads)]
        assert not done and proc.poll() is None, "the upload finished before it could be interrupted"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, 9)
        proc.wait()
    transfer = first_chunk["path"].rsplit("/", 1)[0]
    assert first_chunk["bytes_in"] == 10_000_000, first_chunk
    listing = box.propfind(folder_name)
    assert listing == {folder_name: listing[folder_name]}, f"a half-uploaded file is visible: {sorted(listing)}"

    # Second run at full speed: same transfer, only what is missing is sent, then assembled.
    _, seen = client.sync_logged()
    chunk_puts = [rec for rec in seen if rec["method"] == "PUT" and rec["path"].startswith(uploads)]
    assert chunk_puts and all(rec["path"].startswith(transfer + "/") for rec in chunk_puts), (
        f"the second run did not continue transfer {transfer}: {[(r['path'], r['status']) for r in chunk_puts]}")
    sent = sum(rec["bytes_in"] for rec in chunk_puts)
    assert sent <= size - 10_000_000, f"the second run sent {sent} bytes again: the stored chunk was not reused"
    assembled = [rec for rec in seen if rec["method"] == "MOVE" and rec["path"] == transfer + "/.file"]
    assert len(assembled) == 1 and assembled[0]["status"] in (201, 204), assembled
    listing = box.propfind(folder_name)
    assert set(listing) == {folder_name, folder_name + "/film à reprendre.bin"}, sorted(listing)
    assert listing[folder_name + "/film à reprendre.bin"]["size"] == size
    assert box.get_sha256(folder_name + "/film à reprendre.bin") == digest, (
        "the resumed upload assembled different bytes (the cut-off chunk spliced in?)")
    # The finished transfer's chunks are gone.
    r = box.session.request("PROPFIND", box.base + urllib.parse.quote(transfer), headers={"Depth": "0"}, timeout=30)
    assert r.status_code == 404, f"PROPFIND of the finished transfer {transfer}: {r.status_code}"
    # And a run after that has nothing to do.
    _, seen = client.sync_logged()
    assert not file_transfers(seen), file_transfers(seen)


def test_a_decomposed_name_settles_on_one_file(server, tmp_path):
    """A file whose name is in Unicode NFD (as archives made on a Mac carry them) while the box
    stores names in NFC: the uploading client is told the new spelling through the file id and
    renames its copy, the other client gets the NFC name, and nobody ends up with two files or
    with a sync that never settles."""
    password = "eloise-box-password-5"
    box = make_user(server, "eloise", password)
    a = Client("A", tmp_path, box, password)
    b = Client("B", tmp_path, box, password)
    nfc = "Café crème brûlée/Noël à Zürich.txt"
    nfd = unicodedata.normalize("NFD", nfc)
    assert nfd != nfc
    write_file(a.folder / nfd, b"joyeux\n", age=60)
    a.sync_logged()
    listing = box.walk()
    assert set(listing) == {nfc.split("/")[0], nfc}, f"the server lists {[ascii(p) for p in listing]}"
    assert box.get(nfc) == b"joyeux\n"
    b.sync_logged()
    assert os.listdir(b.folder / nfc.split("/")[0]) == [nfc.split("/")[1]]
    assert (b.folder / nfc).read_bytes() == b"joyeux\n"
    # A's next runs settle: at most a local rename, never a transfer, and a single file.
    for client in (a, b, a, b):
        _, seen = client.sync_logged()
        assert not file_transfers(seen), f"{client.name}: {file_transfers(seen)}"
    for client in (a, b):
        names = [n for n in os.listdir(client.folder) if not is_journal(n)]
        assert len(names) == 1 and len(os.listdir(client.folder / names[0])) == 1, (
            f"{client.name} holds {[ascii(n) for n in names]} / {[ascii(n) for n in os.listdir(client.folder / names[0])]}")
        assert (client.folder / names[0] / os.listdir(client.folder / names[0])[0]).read_bytes() == b"joyeux\n"
    assert set(box.walk()) == {nfc.split("/")[0], nfc}


def test_restores_from_versions_and_trash_reach_both_clients(server, tmp_path):
    """What a user does in the web interface after a mistake on a laptop: brings back an earlier
    version of a file, and a deleted folder from the trash. Both laptops get the restored content
    on their next sync."""
    password = "fanny-box-password-9"
    box = make_user(server, "fanny", password)
    a = Client("A", tmp_path, box, password)
    b = Client("B", tmp_path, box, password)
    plan_v1 = "Plan v1 : la bonne version.\n".encode() * 30
    plan_v2 = "Plan v2 : écrasé par erreur.\n".encode() * 3
    files = {f"Projet/archives/année {n}/pièce {n}.txt": f"pièce {n}\n".encode() * n for n in range(1, 13)}
    files["Projet/plan.txt"] = plan_v1
    files["Projet/autre.txt"] = b"autre\n"
    for rel, data in files.items():
        write_file(a.folder / rel, data, age=300)
    expected = {rel: sha256(data) for rel, data in files.items()}
    a.sync_logged()
    b.sync_logged()
    assert local_tree(b.folder)[0] == expected

    # An edit in A overwrites the plan; both clients have v2.
    write_file(a.folder / "Projet/plan.txt", plan_v2, age=200)
    a.sync_logged()
    b.sync_logged()
    assert (b.folder / "Projet/plan.txt").read_bytes() == plan_v2
    expected["Projet/plan.txt"] = sha256(plan_v2)

    # The user restores v1 from the versions list.
    fileid = box.propfind("Projet/plan.txt", depth=0, folder=False)["Projet/plan.txt"]["fileid"]
    versions_url = f"{box.base}/remote.php/dav/versions/{urllib.parse.quote(box.user)}/versions/{fileid}/"
    r = box.session.request("PROPFIND", versions_url, headers={"Depth": "1"}, timeout=30)
    assert r.status_code == 207, f"PROPFIND versions: {r.status_code} {r.text[:300]}"
    hrefs = [h.text for h in ET.fromstring(r.content).iter(f"{DAV}href")]
    old = [h for h in hrefs if h.rstrip("/") != urllib.parse.urlsplit(versions_url).path.rstrip("/")]
    contents = {h: box.session.get(box.base + h if h.startswith("/") else h, timeout=30).content for h in old}
    v1 = [h for h, data in contents.items() if data == plan_v1]
    assert len(v1) == 1, f"the versions of plan.txt: { {h: len(d) for h, d in contents.items()} }"
    r = box.session.request("MOVE", box.base + v1[0] if v1[0].startswith("/") else v1[0], timeout=30, headers={
        "Destination": f"{box.base}/remote.php/dav/versions/{urllib.parse.quote(box.user)}/restore/target"})
    assert r.status_code in (201, 204), f"restoring a version: {r.status_code} {r.text[:300]}"
    assert box.get("Projet/plan.txt") == plan_v1
    expected["Projet/plan.txt"] = sha256(plan_v1)
    for client in (a, b):
        client.sync_logged()
        assert (client.folder / "Projet/plan.txt").read_bytes() == plan_v1, (
            f"{client.name} did not get the restored version of plan.txt")
        assert local_tree(client.folder)[0] == expected

    # The archives folder is deleted in the web interface: gone from both clients...
    r = box.session.delete(box.url("Projet/archives"), timeout=30)
    assert r.status_code == 204, f"DELETE of a folder: {r.status_code} {r.text[:300]}"
    kept = {p: h for p, h in expected.items() if not p.startswith("Projet/archives/")}
    for client in (a, b):
        client.sync_logged()
        assert not (client.folder / "Projet/archives").exists(), f"{client.name} still has the deleted folder"
        assert local_tree(client.folder)[0] == kept
    # ... and restored from the trash: back on both, with the same bytes.
    trash = f"{box.base}/remote.php/dav/trashbin/{urllib.parse.quote(box.user)}/trash/"
    r = box.session.request("PROPFIND", trash, headers={"Depth": "1"}, timeout=30)
    assert r.status_code == 207, f"PROPFIND trash: {r.status_code} {r.text[:300]}"
    items = [resp.findtext(f"{DAV}href") for resp in ET.fromstring(r.content).findall(f"{DAV}response")]
    items = [h for h in items if urllib.parse.unquote(h).rstrip("/").rsplit("/", 1)[-1].startswith("archives")]
    assert len(items) == 1, f"the trash lists {items}"
    name = urllib.parse.unquote(items[0]).rstrip("/").rsplit("/", 1)[-1]
    r = box.session.request("MOVE", box.base + items[0] if items[0].startswith("/") else items[0], timeout=30, headers={
        "Destination": f"{box.base}/remote.php/dav/trashbin/{urllib.parse.quote(box.user)}/restore/{urllib.parse.quote(name)}"})
    assert r.status_code in (201, 204), f"restoring from the trash: {r.status_code} {r.text[:300]}"
    for client in (a, b):
        client.sync_logged()
        assert local_tree(client.folder)[0] == expected, f"{client.name} did not get the restored folder back"
    for client in (a, b):
        _, seen = client.sync_logged()
        assert not file_transfers(seen), f"{client.name}: {file_transfers(seen)}"


def test_a_revoked_app_password_stops_the_client_without_touching_files(server, tmp_path):
    """A laptop syncing with an app password; the user revokes it (laptop stolen): the next run
    fails promptly with an error instead of syncing or hanging, and deletes nothing on either
    side."""
    password = "gaspard-box-password-2"
    box = make_user(server, "gaspard", password)
    r = requests.post(box.base + "/box/v1/app-passwords", json={"name": "portable"}, auth=(box.user, password), timeout=30)
    assert r.status_code == 201, f"creating an app password: {r.status_code} {r.text[:300]}"
    app_password = r.json()["password"]
    client = Client("L", tmp_path, box, app_password)
    files = {f"Travail/doc {n}.txt": f"document {n}\n".encode() for n in range(5)}
    for rel, data in files.items():
        write_file(client.folder / rel, data, age=60)
    client.sync_logged()
    assert {p for p, e in box.walk().items() if not e["dir"]} == set(files)

    listing = requests.get(box.base + "/box/v1/app-passwords", auth=(box.user, password), timeout=30)
    assert listing.status_code == 200, listing.text
    ids = [a["id"] for a in listing.json()["app_passwords"] if a["name"] == "portable"]
    assert len(ids) == 1, listing.text
    r = requests.delete(f"{box.base}/box/v1/app-passwords/{ids[0]}", auth=(box.user, password), timeout=30)
    assert r.status_code == 204, r.text

    start = box.mark()
    proc, log = client.start()
    try:
        code = proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        proc.wait()
        pytest.fail(f"nextcloudcmd with a revoked app password did not stop within 60 s:\n{tail(log)}")
    seen = box.requests_between(start, box.mark())
    assert code != 0, f"nextcloudcmd reported success with a revoked app password:\n{tail(log)}"
    # status.php and the capabilities are public; everything about the user's files is refused.
    statuses = {rec["status"] for rec in seen if rec["path"].startswith("/remote.php/")}
    assert statuses == {401}, f"answers to the revoked client: {[(r['method'], r['path'], r['status']) for r in seen]}"
    assert not file_transfers([rec for rec in seen if rec["status"] < 400])
    assert local_tree(client.folder)[0] == {rel: sha256(data) for rel, data in files.items()}
    assert {p for p, e in box.walk().items() if not e["dir"]} == set(files)


def test_two_clients_syncing_at_the_same_time(server, tmp_path):
    """Both laptops are on and sync at the same moment, each with new files and an edit of a
    shared folder: the server takes both runs without errors, and afterwards both hold
    everything."""
    password = "hugo-box-password-4"
    box = make_user(server, "hugo", password)
    a = Client("A", tmp_path, box, password)
    b = Client("B", tmp_path, box, password)
    shared = {f"Commun/base {n}.txt": f"base {n}\n".encode() for n in range(10)}
    for rel, data in shared.items():
        write_file(a.folder / rel, data, age=300)
    a.sync_logged()
    b.sync_logged()
    from_a = {f"Commun/de A/{n // 40}/fichier {n}.txt": random.Random(n).randbytes(n * 37) for n in range(200)}
    from_b = {f"Commun/de B/{n // 40}/fichier {n}.txt": random.Random(-n).randbytes(n * 41) for n in range(200)}
    from_a["Commun/base 1.txt"] = b"A changed base 1\n"
    from_b["Commun/base 2.txt"] = b"B changed base 2\n"
    for client, files in ((a, from_a), (b, from_b)):
        for rel, data in files.items():
            write_file(client.folder / rel, data, age=120)
    expected = {rel: sha256(data) for rel, data in {**shared, **from_a, **from_b}.items()}

    start = box.mark()
    runs = [client.start() for client in (a, b)]
    for client, (proc, log) in zip((a, b), runs):
        try:
            code = proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            for p, _ in runs:
                if p.poll() is None:
                    os.killpg(p.pid, 9)
            pytest.fail(f"nextcloudcmd ({client.name}) did not finish within 120 s:\n{tail(log)}")
        assert code == 0, f"nextcloudcmd ({client.name}) exited with {code}:\n{tail(log)}"
    seen = box.requests_between(start, box.mark())
    errors = [f"{r['method']} {urllib.parse.unquote(r['path'])} {r['status']}" for r in seen if r["status"] >= 500]
    assert not errors, f"the server failed requests of two simultaneous clients: {errors[:10]}"
    assert {p for p, e in box.walk().items() if not e["dir"]} == set(expected)
    for client in (a, b, a):
        client.sync_logged()
    for client in (a, b):
        assert local_tree(client.folder)[0] == expected, f"{client.name} does not hold both clients' files"


@pytest.mark.parametrize("size", [9_000_000, 16 * 1024 * 1024], ids=["one-put", "chunked"])
def test_an_edit_on_the_server_during_an_upload_is_not_lost(server, tmp_path, size):
    """Someone edits a file in the web interface while a laptop is still uploading its own edit of
    it (slowly: --uplimit). The laptop's upload was made against the old version (If-Match on a
    PUT, If: on the final MOVE of a chunked upload), so the server refuses it with 412 instead of
    overwriting the web edit; the client then keeps the web edit under the file's name and its
    own as a conflicted copy. Both edits survive."""
    name = "jules" if size < 10_000_000 else "jules-chunked"
    password = name + "-box-password-8"
    box = make_user(server, name, password)
    client = Client("C", tmp_path, box, password)
    write_file(client.folder / "rapport.bin", random.Random(size).randbytes(size), age=300)
    client.sync_logged()
    local_edit = b"L" * size
    web_edit = "Modifié dans le navigateur pendant l'envoi.\n".encode()
    write_file(client.folder / "rapport.bin", local_edit, age=60)

    start = box.mark()
    proc, log = client.start("--uplimit", "1000" if size < 10_000_000 else "2000")
    try:
        deadline = time.time() + 60
        while True:
            assert proc.poll() is None, f"nextcloudcmd ended before the upload could be overtaken:\n{tail(log)}"
            assert time.time() < deadline, f"the upload did not start within 60 s:\n{tail(log)}"
            seen = box.requests_since(start)
            if size < 10_000_000:
                # Discovery is over; the one PUT of 9 MB at ~1 MB/s is under way.
                if any(r["method"] == "PROPFIND" and r["path"].startswith("/remote.php/") for r in seen):
                    time.sleep(2)
                    break
            elif any(r["method"] == "PUT" and r["path"].startswith("/remote.php/dav/uploads/") and r["status"] == 201
                     for r in seen):
                break  # the first chunk is stored, the rest is on its way
            time.sleep(0.05)
        r = box.put("rapport.bin", web_edit)
        assert r.status_code == 204, f"the web edit: {r.status_code} {r.text[:300]}"
        code = proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, 9)
            proc.wait()
    seen = box.requests_between(start, box.mark())
    got = file_transfers(seen)
    root = urllib.parse.unquote(box.root_path)
    late = [line for line in got if line.startswith((f"PUT {root}rapport.bin ", "MOVE /remote.php/dav/uploads/"))]
    assert len(late) == 2 and late[0] == f"PUT {root}rapport.bin 204" and late[1].endswith(" 412"), (
        f"expected the web edit (204), then the laptop's stale upload refused (412): {got}")
    # The client may recover within the run or report the refused upload; either is fine as
    # long as nothing is lost (checked below).
    assert code in (0, 1), f"nextcloudcmd exited with {code}:\n{tail(log)}"
    client.sync_logged()
    assert box.get("rapport.bin") == web_edit, "the web edit was overwritten by the laptop's stale upload"
    assert (client.folder / "rapport.bin").read_bytes() == web_edit
    copies = [n for n in os.listdir(client.folder) if re.fullmatch(r"rapport \(conflicted copy \d{4}-\d\d-\d\d \d{6}\)\.bin", n)]
    assert len(copies) == 1, sorted(os.listdir(client.folder))
    assert (client.folder / copies[0]).read_bytes() == local_edit, "the laptop's own edit was lost"
    _, seen = client.sync_logged()
    assert not file_transfers(seen), file_transfers(seen)


def test_a_server_restart_changes_nothing_for_the_clients(tmp_path_factory, tmp_path):
    """The server is restarted (an upgrade, a reboot) between two syncs: its etags and ids are
    stored, not made up per process, so the clients' next runs transfer nothing, and syncing
    carries on as before."""
    data = tmp_path_factory.mktemp("ciel-restart") / "data"
    first = CielServer(data, {"log.access": "true"}).start()
    try:
        password = "karim-box-password-6"
        box = make_user(first, "karim", password)
        a = Client("A", tmp_path, box, password)
        b = Client("B", tmp_path, box, password)
        files = {f"Livres/tome {n}/chapitre {n}.txt": f"chapitre {n}\n".encode() * (n * 100) for n in range(1, 30)}
        for rel, data_bytes in files.items():
            write_file(a.folder / rel, data_bytes, age=300)
        expected = {rel: sha256(d) for rel, d in files.items()}
        expected["Livres/scan.bin"] = write_big_file(a.folder / "Livres/scan.bin", 12 * 1024 * 1024)
        age_tree(a.folder)
        a.sync_logged()
        b.sync_logged()
        assert local_tree(b.folder)[0] == expected
        ids = {p: (e["id"], e["etag"]) for p, e in box.walk().items()}
    finally:
        port = first.port
        first.stop()
    second = CielServer(data, {"log.access": "true", "server.listen": f"127.0.0.1:{port}", "s3.listen": "127.0.0.1:0"}).start()
    try:
        assert second.url == box.base
        assert {p: (e["id"], e["etag"]) for p, e in box.walk().items()} == ids, "ids or etags changed with the restart"
        for client in (a, b):
            _, seen = client.sync_logged()
            assert not file_transfers(seen), f"{client.name} transferred files after a restart: {file_transfers(seen)[:10]}"
        write_file(a.folder / "Livres/tome 1/chapitre 1.txt", b"corrige apres la mise a jour\n", age=30)
        expected["Livres/tome 1/chapitre 1.txt"] = sha256(b"corrige apres la mise a jour\n")
        a.sync_logged()
        b.sync_logged()
        assert local_tree(b.folder)[0] == expected
    finally:
        second.stop()


def test_a_full_box_refuses_what_does_not_fit_and_keeps_the_rest(tmp_path_factory, tmp_path):
    """A box with a 20 MiB quota: a 28 MiB file is refused (507) before any chunk is sent and
    the client says so, while the small files beside it are uploaded; nothing partial appears.
    Once the user removes the big file, a 16 MiB one fits; a 5 MB single PUT that would go over
    is refused in turn."""
    server = CielServer(tmp_path_factory.mktemp("ciel-quota") / "data",
                        {"log.access": "true", "box.default_quota": "20MiB"}).start()
    try:
        password = "lea-box-password-1"
        box = make_user(server, "lea", password)
        client = Client("Q", tmp_path, box, password)
        small = {f"petit {n}.txt": f"petit {n}\n".encode() * 100 for n in range(5)}
        for rel, data in small.items():
            write_file(client.folder / rel, data, age=300)
        write_big_file(client.folder / "trop gros.bin", 28 * 1024 * 1024)
        age_tree(client.folder)

        start = box.mark()
        proc, log = client.start()
        code = proc.wait(timeout=120)
        seen = box.requests_between(start, box.mark())
        output = log.read_text(errors="replace")
        assert code != 0, "nextcloudcmd reported success although a file could not be uploaded"
        assert "507" in output or "Insufficient Storage" in output, tail(log)
        got = file_transfers(seen)
        assert not [line for line in got if line.startswith("PUT /remote.php/dav/uploads/")], (
            f"chunks were sent for a file that cannot fit: {got}")
        assert {p for p, e in box.walk().items()} == set(small), sorted(box.walk())

        os.unlink(client.folder / "trop gros.bin")
        digest = write_big_file(client.folder / "moyen.bin", 16 * 1024 * 1024)
        age_tree(client.folder)
        client.sync_logged()
        assert {p for p in box.walk()} == set(small) | {"moyen.bin"}
        assert box.get_sha256("moyen.bin") == digest

        write_file(client.folder / "encore.bin", os.urandom(5_000_000), age=60)
        start = box.mark()
        proc, log = client.start()
        code = proc.wait(timeout=120)
        got = file_transfers(box.requests_between(start, box.mark()))
        assert code != 0, "nextcloudcmd reported success although a file could not be uploaded"
        assert f"PUT {urllib.parse.unquote(box.root_path)}encore.bin 507" in got, got
        assert "encore.bin" not in box.walk()
    finally:
        server.stop()
