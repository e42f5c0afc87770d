"""Helpers for the Swift (object storage) integration tests.

- a server with cheap password hashing and a one-second expiry reaper (`start_swift_server`);
- Keystone tokens and the storage URL a token's catalog names (`account_for`, `make_member`);
- `Account`: raw Swift calls through `requests` for one user on one account;
- `swift(env, *args)`: Debian's `swift` CLI (python3-swiftclient), `swift_env(...)` its environment;
- `Rclone`: Debian's `rclone` with a private config file (never the user's own);
- small helpers: random payloads, md5, listings, counters, the FormPost body.
"""
import hashlib
import hmac
import http.client
import io
import os
import pathlib
import random
import subprocess
import tarfile
import time
import urllib.parse

import pytest
import requests

from conftest import CielServer
from identity_support import FAST_SETTINGS, Keystone, read_openrc

# An object may carry 90 metadata headers besides the usual ones; Python's http.client refuses
# responses with more than 100 header lines unless told otherwise.
http.client._MAXHEADERS = 1000

# The reaper runs every second so that expiry tests finish quickly.
SWIFT_SETTINGS = dict(FAST_SETTINGS, **{"object.reaper_interval": "1s"})

# Swift's constraints, as /info must report them and as the API enforces them.
MAX_CONTAINER_NAME = 256
MAX_OBJECT_NAME = 1024
MAX_META_NAME = 128
MAX_META_VALUE = 256
MAX_META_COUNT = 90
MAX_META_OVERALL = 4096


def postgres_database():
    """With CIEL_SWIFT_TESTS_ON_POSTGRES=1 and CIEL_TEST_POSTGRES_URL (scripts/pg-test-server.sh)
    in the environment, a fresh PostgreSQL database for one server's metadata; otherwise None
    (SQLite in the data directory, the default)."""
    base = os.environ.get("CIEL_TEST_POSTGRES_URL")
    if os.environ.get("CIEL_SWIFT_TESTS_ON_POSTGRES") != "1" or not base:
        return None
    name = "ciel_swift_" + os.urandom(6).hex()
    subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", base, "-c", f"CREATE DATABASE {name}"], check=True,
                   capture_output=True, timeout=60)
    return base.rsplit("/", 1)[0] + "/" + name


def start_swift_server(tmp_path_factory, settings=None, name="swift"):
    s = dict(SWIFT_SETTINGS)
    pg = postgres_database()
    if pg:
        s["store.metadata"] = pg
    s.update(settings or {})
    d = tmp_path_factory.mktemp(name) / "data"
    return CielServer(d, s).start()


def restart(server, settings=None):
    """A new `ciel serve` on the same data directory (after stop() or kill())."""
    s = dict(server.settings)
    s.update(settings or {})
    s.pop("server.listen", None)
    return CielServer(server.data_dir, s).start()


def q(name):
    """Percent-encodes a container or object name for a URL path ('/' kept)."""
    if isinstance(name, str):
        name = name.encode("utf-8")
    return urllib.parse.quote(name, safe="/")


def payload(size, seed=None):
    """`size` pseudo-random bytes (deterministic for a given seed)."""
    rnd = random.Random(seed if seed is not None else size)
    return rnd.randbytes(size)


def md5(data):
    return hashlib.md5(data).hexdigest()


def object_store_url(token_body):
    """The public object-store URL of a Keystone v3 token body (dict with "token")."""
    for svc in token_body["token"].get("catalog", []):
        if svc["type"] == "object-store":
            for ep in svc["endpoints"]:
                if ep["interface"] == "public":
                    return ep["url"]
    raise AssertionError("no public object-store endpoint in the token's catalog")


class Account:
    """One user's view of one Swift account: `requests` calls relative to the storage URL.

    Paths are given unquoted ("container/obj name"); they are percent-encoded here."""

    def __init__(self, server, token, storage_url, *, project_id=None, user_id=None, project=None,
                 user=None, password=None):
        self.server = server
        self.token = token
        self.storage_url = storage_url.rstrip("/")
        self.project_id = project_id
        self.user_id = user_id
        self.project = project
        self.user = user
        self.password = password

    @property
    def account_path(self):
        """/v1/AUTH_<project_id>: the path part of the storage URL."""
        return urllib.parse.urlsplit(self.storage_url).path

    def url(self, path=""):
        return self.storage_url + ("/" + q(path) if path else "")

    def request(self, method, path="", token=..., headers=None, timeout=60, **kw):
        h = {}
        tok = self.token if token is ... else token
        if tok:
            h["X-Auth-Token"] = tok
        h.update(headers or {})
        return requests.request(method, self.url(path), headers=h, timeout=timeout, **kw)

    def get(self, path="", **kw):
        return self.request("GET", path, **kw)

    def head(self, path="", **kw):
        return self.request("HEAD", path, **kw)

    def put(self, path, data=b"", **kw):
        return self.request("PUT", path, data=data, **kw)

    def post(self, path="", **kw):
        return self.request("POST", path, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    # --- checked helpers ------------------------------------------------------------------------

    def create_container(self, name, headers=None):
        r = self.put(name, headers=headers)
        assert r.status_code in (201, 202), (r.status_code, r.text)
        return r

    def put_object(self, path, data, headers=None):
        r = self.put(path, data=data, headers=headers)
        assert r.status_code == 201, (path, r.status_code, r.text)
        return r

    def read(self, path, **kw):
        r = self.get(path, **kw)
        assert r.status_code == 200, (path, r.status_code, r.text[:300])
        return r.content

    def listing(self, container=None, **params):
        """The JSON listing of the account (container=None) or of a container, as a list."""
        params = dict(params, format="json")
        r = self.get(container or "", params=params)
        assert r.status_code == 200, (r.status_code, r.text[:300])
        return r.json()

    def names(self, container=None, **params):
        return [row.get("name", row.get("subdir")) for row in self.listing(container, **params)]

    def account_counters(self):
        r = self.head()
        assert r.status_code in (200, 204), (r.status_code, r.text)
        return (int(r.headers["X-Account-Container-Count"]), int(r.headers["X-Account-Object-Count"]),
                int(r.headers["X-Account-Bytes-Used"]))

    def container_counters(self, container):
        r = self.head(container)
        assert r.status_code in (200, 204), (r.status_code, r.text)
        return int(r.headers["X-Container-Object-Count"]), int(r.headers["X-Container-Bytes-Used"])

    def empty_container(self, container):
        for row in self.listing(container):
            self.delete(f"{container}/{row['name']}")


def account_for(server, user, password, project):
    """Logs `user` in on `project` (default domain) and returns their Account on that project."""
    r = Keystone(server).auth(user, password, project)
    assert r.status_code == 201, r.text
    body = r.json()
    url = object_store_url(body)
    return Account(server, r.headers["X-Subject-Token"], url, project_id=body["token"]["project"]["id"],
                   user_id=body["token"]["user"]["id"], project=project, user=user, password=password)


def admin_account(server):
    return account_for(server, "admin", read_openrc(server)["OS_PASSWORD"], "admin")


def make_member(server, admin_token, project, user, password=None, role="member"):
    """Creates a project and a user holding `role` on it (default domain); returns their Account."""
    ks = Keystone(server)
    password = password or user + "-password"
    r = ks.post("/projects", admin_token, json={"project": {"name": project, "domain_id": "default"}})
    assert r.status_code == 201, r.text
    pid = r.json()["project"]["id"]
    r = ks.post("/users", admin_token, json={"user": {"name": user, "domain_id": "default", "password": password}})
    assert r.status_code == 201, r.text
    uid = r.json()["user"]["id"]
    r = ks.put(f"/projects/{pid}/users/{uid}/roles/{ks.role_id(admin_token, role)}", admin_token)
    assert r.status_code == 204, r.text
    acct = account_for(server, user, password, project)
    assert acct.project_id == pid and acct.user_id == uid
    return acct


# --- Debian's swift CLI ---------------------------------------------------------------------------

def swift_env(server, user=None, password=None, project=None, **overrides):
    """Environment for `swift` with Keystone v3: the generated openrc (admin), optionally another
    user/project, and nothing from the caller's OS_*/ST_* variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "ST_", "SWIFT"))}
    env.update(read_openrc(server))
    if user:
        env.update(OS_USERNAME=user, OS_PASSWORD=password, OS_PROJECT_NAME=project)
    env["OS_AUTH_VERSION"] = "3"
    for k, v in overrides.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    return env


def bare_env():
    """An environment with no OpenStack or Swift credentials at all (for -A/-U/-K runs)."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "ST_", "SWIFT"))}


def swift(env, *args, check=True, timeout=180, cwd=None):
    """Runs Debian's `swift` CLI; returns the CompletedProcess (text mode)."""
    proc = subprocess.run(["/usr/bin/swift", *args], env=env, capture_output=True, text=True,
                          timeout=timeout, cwd=cwd)
    if check:
        assert proc.returncode == 0, (f"swift {' '.join(args)} failed ({proc.returncode}):\n"
                                      f"stdout: {proc.stdout[-2000:]}\nstderr: {proc.stderr[-2000:]}")
    return proc


def parse_stat(text):
    """`swift stat` output ("  Key: value" lines) as a dict."""
    out = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            out[key.strip()] = value.strip()
    return out


# --- rclone ---------------------------------------------------------------------------------------

class Rclone:
    """Debian's rclone with a private config file holding one swift remote called `ciel`."""

    def __init__(self, home, server, user, password, project, extra=None):
        self.home = pathlib.Path(home)
        self.home.mkdir(parents=True, exist_ok=True)
        self.config = self.home / "rclone.conf"
        rc = read_openrc(server)
        lines = ["[ciel]", "type = swift", f"auth = {server.url}/v3", f"user = {user}", f"key = {password}",
                 f"tenant = {project}", "domain = Default", "tenant_domain = Default", "auth_version = 3",
                 f"region = {rc.get('OS_REGION_NAME', 'RegionOne')}", "endpoint_type = public"]
        for k, v in (extra or {}).items():
            lines.append(f"{k} = {v}")
        self.config.write_text("\n".join(lines) + "\n")
        os.chmod(self.config, 0o600)

    def env(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("RCLONE_", "OS_", "ST_"))}
        env.update(HOME=str(self.home), XDG_CONFIG_HOME=str(self.home / "config"),
                   XDG_CACHE_HOME=str(self.home / "cache"), RCLONE_CONFIG=str(self.config))
        return env

    def __call__(self, *args, check=True, timeout=300, env=None, input_bytes=None, binary=False):
        # One try only: retries would hide a server error behind a later success.
        argv = ["/usr/bin/rclone", "--config", str(self.config), "--retries", "1", "--low-level-retries", "1", *args]
        proc = subprocess.run(argv, env=env or self.env(), capture_output=True, timeout=timeout, input=input_bytes)
        if not binary:
            proc = subprocess.CompletedProcess(proc.args, proc.returncode, proc.stdout.decode(errors="replace"),
                                               proc.stderr.decode(errors="replace"))
        else:
            proc.stderr = proc.stderr.decode(errors="replace")
        if check:
            assert proc.returncode == 0, (f"rclone {' '.join(args)} failed ({proc.returncode}):\n"
                                          f"stdout: {proc.stdout[-2000:]}\nstderr: {proc.stderr[-3000:]}")
        return proc


# --- trees of files -------------------------------------------------------------------------------

def make_tree(root, files):
    """Writes {relative path: bytes} under root."""
    root = pathlib.Path(root)
    for rel, data in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    return root


def read_tree(root):
    """{relative path: bytes} of every regular file under root."""
    root = pathlib.Path(root)
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


# --- TempURL and FormPost signatures --------------------------------------------------------------

def tempurl_sig(key, method, expires, path, digest="sha1", prefix=False):
    body = f"{method}\n{expires}\n{'prefix:' if prefix else ''}{path}"
    return hmac.new(key.encode(), body.encode("utf-8"), getattr(hashlib, digest)).hexdigest()


def formpost_signature(key, path, redirect, max_file_size, max_file_count, expires, digest="sha1"):
    body = f"{path}\n{redirect}\n{max_file_size}\n{max_file_count}\n{expires}"
    return hmac.new(key.encode(), body.encode("utf-8"), getattr(hashlib, digest)).hexdigest()


def formpost_body(fields, files, boundary=None):
    """A multipart/form-data body the way a browser sends it: the hidden fields first, then the
    files. `fields` is a list of (name, value); `files` a list of (field name, filename,
    content type, bytes). Returns (content type header, body bytes)."""
    boundary = boundary or "----CielFormBoundary" + hashlib.md5(repr((fields, len(files))).encode()).hexdigest()[:16]
    out = []
    for name, value in fields:
        out.append(f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n".encode())
        out.append(str(value).encode() + b"\r\n")
    for field, filename, ctype, data in files:
        out.append(f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; "
                   f"filename=\"{filename}\"\r\nContent-Type: {ctype}\r\n\r\n".encode())
        out.append(data + b"\r\n")
    out.append(f"--{boundary}--\r\n".encode())
    return f"multipart/form-data; boundary={boundary}", b"".join(out)


def wait_until(predicate, timeout=10.0, interval=0.2):
    """Polls predicate() until it is truthy; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def assert_counters_match_listings(acct):
    """The account's and each container's usage counters equal what the listings show."""
    total_objects = total_bytes = 0
    rows = acct.listing()
    for row in rows:
        objs = acct.listing(row["name"])
        n, b = len(objs), sum(o["bytes"] for o in objs)
        assert acct.container_counters(row["name"]) == (n, b), row["name"]
        assert (row["count"], row["bytes"]) == (n, b), row
        total_objects += n
        total_bytes += b
    assert acct.account_counters() == (len(rows), total_objects, total_bytes)


def tar_of(files, compression=""):
    """A tar archive (compression "" or "gz") of {path: bytes}, as bytes."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:" + compression) as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 1700000000
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


# --- module-scoped fixtures (import them into a test module to use them there) ---------------------

@pytest.fixture(scope="module")
def swift_server(tmp_path_factory):
    s = start_swift_server(tmp_path_factory)
    yield s
    s.stop()


@pytest.fixture(scope="module")
def admin(swift_server):
    """The bootstrap admin's Account (project `admin`)."""
    return admin_account(swift_server)


@pytest.fixture(scope="module")
def alice(swift_server, admin):
    """A member of project `proj-alice`."""
    return make_member(swift_server, admin.token, "proj-alice", "alice")


@pytest.fixture(scope="module")
def bob(swift_server, admin):
    """A member of another project, `proj-bob`."""
    return make_member(swift_server, admin.token, "proj-bob", "bob")
