"""Helpers for the box (WebDAV) integration tests.

- a server with cheap password hashing (`start_box_server`, the `box_server` module fixture);
- the admin's password from the generated openrc, users created through Keystone (`make_box_user`);
- `Dav`: one user's WebDAV calls through `requests` with HTTP Basic auth on every request, relative
  to their root `{base}/remote.php/dav/files/{user}/`, with multistatus parsed by xml.etree;
- `Dav.raw`: a request sent byte for byte (paths that requests would normalise);
- `tree`: every file and folder a user can see, for "nothing changed" assertions;
- `ocs` and `share`: the OCS Share API as a user's client calls it, to make public links.
"""
import base64
import hashlib
import os
import pathlib
import random
import subprocess
import urllib.parse
import xml.etree.ElementTree as ET

import pytest
import requests

from conftest import CielServer
from identity_support import FAST_SETTINGS, Keystone, read_openrc
from rawhttp import Reader, connect

BOX_SETTINGS = dict(FAST_SETTINGS)

DAV = "DAV:"
OC = "http://owncloud.org/ns"
NC = "http://nextcloud.org/ns"


def d(name):
    """The Clark name of a DAV: element, as xml.etree spells it."""
    return "{DAV:}" + name


def start_box_server(tmp_path_factory, settings=None, name="box"):
    s = dict(BOX_SETTINGS)
    s.update(settings or {})
    data = tmp_path_factory.mktemp(name) / "data"
    return CielServer(data, s).start()


def admin_password(server):
    return read_openrc(server)["OS_PASSWORD"]


def admin_token(server):
    return Keystone(server).token("admin", admin_password(server), project="admin")


def make_box_user(server, name, password=None, token=None):
    """Creates identity user `name` (default domain) with the member role on a project of their own;
    returns their Dav client."""
    ks = Keystone(server)
    token = token or admin_token(server)
    password = password or name + "-password"
    r = ks.post("/projects", token, json={"project": {"name": "proj-" + name, "domain_id": "default"}})
    assert r.status_code == 201, r.text
    pid = r.json()["project"]["id"]
    r = ks.post("/users", token, json={"user": {"name": name, "domain_id": "default", "password": password}})
    assert r.status_code == 201, r.text
    uid = r.json()["user"]["id"]
    r = ks.put(f"/projects/{pid}/users/{uid}/roles/{ks.role_id(token, 'member')}", token)
    assert r.status_code == 204, r.text
    return Dav(server, name, password)


def payload(size, seed=None):
    rnd = random.Random(seed if seed is not None else size)
    return rnd.randbytes(size)


def q(path):
    """Percent-encodes a path inside the box ('/' kept)."""
    return urllib.parse.quote(path.encode("utf-8") if isinstance(path, str) else path, safe="/")


# --- multistatus ----------------------------------------------------------------------------------

class Entry:
    """One <d:response> of a multistatus: its href (decoded path), the properties found (200 propstat)
    as {clark name: element}, and the status of every property by name."""

    def __init__(self, href, props, statuses, status):
        self.href = href
        self.props = props
        self.statuses = statuses
        self.status = status

    def text(self, name, default=None):
        el = self.props.get(name)
        return default if el is None else (el.text or "")

    @property
    def is_collection(self):
        rt = self.props.get(d("resourcetype"))
        return rt is not None and rt.find(d("collection")) is not None

    @property
    def size(self):
        v = self.text(d("getcontentlength"))
        return None if v is None or v == "" else int(v)

    @property
    def etag(self):
        return self.text(d("getetag"))

    def __repr__(self):
        return f"Entry({self.href!r}, collection={self.is_collection}, size={self.size})"


def status_code(text):
    """200 from "HTTP/1.1 200 OK"."""
    parts = (text or "").split()
    return int(parts[1]) if len(parts) >= 2 and parts[1].isdigit() else None


def parse_multistatus(body):
    """The <d:response> elements of a 207 body as a list of Entry."""
    root = ET.fromstring(body)
    assert root.tag == d("multistatus"), root.tag
    out = []
    for resp in root.findall(d("response")):
        href_el = resp.find(d("href"))
        assert href_el is not None and href_el.text, ET.tostring(resp)
        href = urllib.parse.unquote(urllib.parse.urlsplit(href_el.text.strip()).path)
        props, statuses = {}, {}
        for ps in resp.findall(d("propstat")):
            code = status_code(ps.findtext(d("status")))
            prop = ps.find(d("prop"))
            for el in (list(prop) if prop is not None else []):
                statuses[el.tag] = code
                if code == 200:
                    props[el.tag] = el
        out.append(Entry(href, props, statuses, status_code(resp.findtext(d("status")))))
    return out


def propfind_body(*names):
    """A PROPFIND body asking for the named properties (Clark names), or allprop without names."""
    if not names:
        return b'<?xml version="1.0" encoding="utf-8"?><d:propfind xmlns:d="DAV:"><d:allprop/></d:propfind>'
    parts = []
    nss = {}
    for n in names:
        ns, _, local = n[1:].partition("}")
        prefix = nss.setdefault(ns, f"n{len(nss)}")
        parts.append(f"<{prefix}:{local}/>")
    decl = " ".join(f'xmlns:{p}="{ns}"' for ns, p in nss.items())
    return (f'<?xml version="1.0" encoding="utf-8"?><d:propfind xmlns:d="DAV:" {decl}><d:prop>'
            + "".join(parts) + "</d:prop></d:propfind>").encode()


def lock_body(scope="exclusive", owner="ciel-tests"):
    return (f'<?xml version="1.0" encoding="utf-8"?><d:lockinfo xmlns:d="DAV:"><d:lockscope><d:{scope}/>'
            f'</d:lockscope><d:locktype><d:write/></d:locktype><d:owner>{owner}</d:owner></d:lockinfo>').encode()


# --- the client -----------------------------------------------------------------------------------

class Dav:
    """One user's WebDAV view of their box, through `requests` with Basic auth.

    Paths are relative to the user's root, unquoted ("folder/a file.txt"); "" is the root itself."""

    def __init__(self, server, user, password, root=None):
        self.server = server
        self.user = user
        self.password = password
        self.root_path = root or f"/remote.php/dav/files/{q(user)}"

    @property
    def base(self):
        return self.server.url

    def url(self, path=""):
        return self.base + self.root_path + "/" + q(path)

    def href(self, path=""):
        """The decoded absolute path of `path`, as hrefs in a multistatus decode to."""
        return urllib.parse.unquote(self.root_path) + "/" + path

    def request(self, method, path="", headers=None, data=None, url=None, auth=..., timeout=60, **kw):
        return requests.request(method, url or self.url(path), headers=headers or {}, data=data,
                                auth=(self.user, self.password) if auth is ... else auth,
                                allow_redirects=False, timeout=timeout, **kw)

    # --- methods ----------------------------------------------------------------------------------

    def options(self, path="", **kw):
        return self.request("OPTIONS", path, **kw)

    def propfind(self, path="", depth="1", body=None, headers=None, **kw):
        h = {"Content-Type": "application/xml; charset=utf-8"}
        if depth is not None:
            h["Depth"] = str(depth)
        h.update(headers or {})
        return self.request("PROPFIND", path, headers=h, data=propfind_body() if body is None else body, **kw)

    def proppatch(self, path, body, headers=None, **kw):
        h = {"Content-Type": "application/xml; charset=utf-8"}
        h.update(headers or {})
        return self.request("PROPPATCH", path, headers=h, data=body, **kw)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def head(self, path, **kw):
        return self.request("HEAD", path, **kw)

    def put(self, path, data=b"", **kw):
        return self.request("PUT", path, data=data, **kw)

    def mkcol(self, path, **kw):
        return self.request("MKCOL", path, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def _transfer(self, method, src, dst, overwrite=None, depth=None, headers=None, dest_url=None, **kw):
        h = {"Destination": dest_url or self.url(dst)}
        if overwrite is not None:
            h["Overwrite"] = "T" if overwrite else "F"
        if depth is not None:
            h["Depth"] = str(depth)
        h.update(headers or {})
        return self.request(method, src, headers=h, **kw)

    def move(self, src, dst, overwrite=None, **kw):
        return self._transfer("MOVE", src, dst, overwrite, **kw)

    def copy(self, src, dst, overwrite=None, depth=None, **kw):
        return self._transfer("COPY", src, dst, overwrite, depth, **kw)

    def lock(self, path, body=None, timeout="Second-600", depth=None, headers=None, **kw):
        h = {"Content-Type": "application/xml; charset=utf-8", "Timeout": timeout}
        if depth is not None:
            h["Depth"] = str(depth)
        h.update(headers or {})
        return self.request("LOCK", path, headers=h, data=lock_body() if body is None else body, **kw)

    def unlock(self, path, token, **kw):
        return self.request("UNLOCK", path, headers={"Lock-Token": f"<{token}>"}, **kw)

    # --- checked helpers --------------------------------------------------------------------------

    def entries(self, path="", depth="1", *names):
        """The multistatus of a PROPFIND as a list of Entry (asserts 207)."""
        r = self.propfind(path, depth, propfind_body(*names) if names else None)
        assert r.status_code == 207, (path, r.status_code, r.text[:500])
        return parse_multistatus(r.content)

    def children(self, path=""):
        """{name: Entry} of the members of a folder (PROPFIND Depth 1, the folder itself left out)."""
        me = self.href(path).rstrip("/")
        out = {}
        for e in self.entries(path, "1"):
            h = e.href.rstrip("/")
            if h == me:
                continue
            assert h.rsplit("/", 1)[0] == me, (me, e.href)
            out[h.rsplit("/", 1)[1]] = e
        return out

    def exists(self, path):
        r = self.propfind(path, "0")
        assert r.status_code in (207, 404), (path, r.status_code, r.text[:300])
        return r.status_code == 207

    def read(self, path):
        r = self.get(path)
        assert r.status_code == 200, (path, r.status_code, r.text[:300])
        return r.content

    def put_file(self, path, data, **kw):
        r = self.put(path, data, **kw)
        assert r.status_code in (201, 204), (path, r.status_code, r.text[:300])
        return r

    def make_dirs(self, path):
        """MKCOL every missing folder of `path` ("a/b/c")."""
        cur = ""
        for seg in path.strip("/").split("/"):
            cur = f"{cur}/{seg}" if cur else seg
            r = self.mkcol(cur)
            assert r.status_code in (201, 405), (cur, r.status_code, r.text[:300])

    def lock_token(self, path, **kw):
        r = self.lock(path, **kw)
        assert r.status_code in (200, 201), (path, r.status_code, r.text[:300])
        token = r.headers.get("Lock-Token", "").strip().strip("<>")
        assert token, r.headers
        return token

    def raw(self, method, target, headers=None, body=b"", auth=True):
        """Sends `method target HTTP/1.1` with `target` (bytes) exactly as given."""
        port = self.server.port
        lines = [method.encode() + b" " + target + b" HTTP/1.1", b"Host: 127.0.0.1:%d" % port,
                 b"Content-Length: %d" % len(body), b"Connection: close"]
        if auth:
            cred = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
            lines.append(f"Authorization: Basic {cred}".encode())
        for k, v in (headers or {}).items():
            lines.append(f"{k}: {v}".encode())
        with connect(port) as s:
            s.sendall(b"\r\n".join(lines) + b"\r\n\r\n" + body)
            return Reader(s).response(head_request=(method == "HEAD"))


def tree(dav, path=""):
    """Everything `dav`'s user sees under `path`: {relative path: size, or "dir" for a folder}, with
    the content digest of every file, walked with PROPFIND Depth 1 (Depth infinity is refused)."""
    out = {}
    for name, e in sorted(dav.children(path).items()):
        rel = f"{path}/{name}" if path else name
        if e.is_collection:
            out[rel + "/"] = "dir"
            out.update(tree(dav, rel))
        else:
            data = dav.read(rel)
            assert e.size == len(data), (rel, e.size, len(data))
            out[rel] = (len(data), hashlib.sha256(data).hexdigest())
    return out


def dead_props(dav, path, *names):
    """{name: text} of the named properties that PROPFIND finds on `path`."""
    (entry,) = dav.entries(path, "0", *names)
    return {n: entry.text(n) for n in names if n in entry.props}


# --- trees of local files -------------------------------------------------------------------------

def make_local_tree(root, files):
    root = pathlib.Path(root)
    for rel, data in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    return root


def read_local_tree(root):
    root = pathlib.Path(root)
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def tool_env(home, **extra):
    """A process environment for a client tool with a private HOME and none of the caller's
    AWS_*, RCLONE_* or OS_* variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "RCLONE_", "OS_"))}
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(pathlib.Path(home) / "config"),
               XDG_CACHE_HOME=str(pathlib.Path(home) / "cache"), LANG="C.UTF-8", LC_ALL="C.UTF-8")
    env.update(extra)
    return env


def run(argv, env, timeout=300, cwd=None, input_bytes=None):
    proc = subprocess.run(argv, env=env, capture_output=True, timeout=timeout, cwd=cwd, input=input_bytes)
    return subprocess.CompletedProcess(proc.args, proc.returncode, proc.stdout.decode(errors="replace"),
                                       proc.stderr.decode(errors="replace"))


# --- module-scoped fixtures (import them into a test module to use them there) ---------------------

@pytest.fixture(scope="module")
def box_server(tmp_path_factory):
    s = start_box_server(tmp_path_factory)
    yield s
    s.stop()


@pytest.fixture(scope="module")
def admin_dav(box_server):
    """The bootstrap admin's box."""
    return Dav(box_server, "admin", admin_password(box_server))


# --- public links (Nextcloud's OCS Share API) -----------------------------------------------------

SHARES = "/apps/files_sharing/api/v1/shares"


def ocs(server, user, method, path="", fmt="json", version="v2", **kw):
    params = dict(kw.pop("params", {}) or {})
    if fmt == "json":
        params["format"] = "json"
    url = f"{server.url}/ocs/{version}.php{SHARES}{path}"
    auth = kw.pop("auth", (user.user, user.password) if user else None)
    return requests.request(method, url, params=params, auth=auth, headers={"OCS-APIREQUEST": "true"}, timeout=60, **kw)


def start_login_flow(server, agent):
    """Starts Login Flow v2 as a sync client named `agent` would; returns {"poll": {"token", "endpoint"}, "login"}."""
    r = requests.post(server.url + "/index.php/login/v2", headers={"User-Agent": agent}, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


def poll_login_flow(flow):
    return requests.post(flow["poll"]["endpoint"], data={"token": flow["poll"]["token"]}, timeout=30)


def share(server, user, path, **fields):
    """Creates a link (form-encoded, as Nextcloud's clients send it) and returns its JSON data."""
    data = {"path": path, "shareType": "3"}
    data.update({k: str(v) for k, v in fields.items()})
    r = ocs(server, user, "POST", data=data)
    assert r.status_code == 200, r.text
    body = r.json()["ocs"]
    assert body["meta"]["statuscode"] == 200, body
    return body["data"]
