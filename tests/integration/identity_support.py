"""Helpers for the identity integration tests: a server with a modest argon2 cost (Debian's
`openstack` authenticates again on every command), the generated openrc as an environment,
the real `openstack` CLI with JSON output, and raw Keystone calls through `requests`."""
import json
import os
import subprocess

import pytest
import requests

from conftest import CielServer

# Cheap hashing for tests only; the defaults stay a sane production cost.
FAST_SETTINGS = {
    "identity.argon2_memory_kib": "1024",
    "identity.argon2_iterations": "1",
}


def start_identity_server(tmp_path_factory, settings=None, name="ciel"):
    s = dict(FAST_SETTINGS)
    s.update(settings or {})
    d = tmp_path_factory.mktemp(name) / "data"
    return CielServer(d, s).start()


def read_openrc(server):
    env = {}
    for line in (server.data_dir / "openrc").read_text().splitlines():
        line = line.strip()
        if not line.startswith("export "):
            continue
        key, _, value = line[len("export "):].partition("=")
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        env[key] = value
    return env


def cli_env(openrc, **overrides):
    """The process environment for `openstack`: no OS_* from the caller, then openrc, then overrides."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    env.update(openrc)
    for k, v in overrides.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    return env


class CliError(Exception):
    def __init__(self, args, proc):
        super().__init__(f"openstack {' '.join(args)} failed ({proc.returncode}): {proc.stderr.strip()}")
        self.returncode = proc.returncode
        self.stderr = proc.stderr


def osc(env, *args, json_output=True, check=True, timeout=120):
    """Runs Debian's `openstack` CLI. Returns parsed JSON (with -f json) or stdout."""
    argv = ["openstack", *args]
    if json_output:
        argv += ["-f", "json"]
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise CliError(args, proc)
    if not check:
        return proc
    if json_output:
        return json.loads(proc.stdout) if proc.stdout.strip() else None
    return proc.stdout


class Keystone:
    """Raw Keystone v3 calls."""

    def __init__(self, server):
        self.url = server.url + "/v3"

    def auth(self, user, password, project=None, domain_scope=None, user_domain="Default", project_domain="Default"):
        body = {"auth": {"identity": {"methods": ["password"],
                                      "password": {"user": {"name": user, "domain": {"name": user_domain},
                                                            "password": password}}}}}
        if project:
            body["auth"]["scope"] = {"project": {"name": project, "domain": {"name": project_domain}}}
        elif domain_scope:
            body["auth"]["scope"] = {"domain": {"name": domain_scope}}
        return requests.post(self.url + "/auth/tokens", json=body, timeout=30)

    def token(self, user, password, project=None, domain_scope=None, **kw):
        r = self.auth(user, password, project, domain_scope, **kw)
        assert r.status_code == 201, r.text
        return r.headers["X-Subject-Token"]

    def call(self, method, path, token=None, **kw):
        headers = dict(kw.pop("headers", {}) or {})
        if token:
            headers["X-Auth-Token"] = token
        return requests.request(method, self.url + path, headers=headers, timeout=30, **kw)

    def get(self, path, token=None, **kw):
        return self.call("GET", path, token, **kw)

    def post(self, path, token=None, **kw):
        return self.call("POST", path, token, **kw)

    def put(self, path, token=None, **kw):
        return self.call("PUT", path, token, **kw)

    def patch(self, path, token=None, **kw):
        return self.call("PATCH", path, token, **kw)

    def delete(self, path, token=None, **kw):
        return self.call("DELETE", path, token, **kw)

    def role_id(self, token, name):
        r = self.get("/roles", token, params={"name": name})
        assert r.status_code == 200, r.text
        return r.json()["roles"][0]["id"]


def assert_keystone_error(response, status):
    """The status and Keystone's error body: {"error": {"code", "title", "message"}}."""
    assert response.status_code == status, f"{response.status_code} {response.text}"
    assert response.headers["Content-Type"].startswith("application/json")
    err = response.json()["error"]
    assert err["code"] == status
    assert isinstance(err["title"], str) and err["title"]
    assert isinstance(err["message"], str) and err["message"]
    return err


# Module-scoped fixtures shared by the identity test files (import them into a test module to
# use them there: each module gets its own server).
@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = start_identity_server(tmp_path_factory)
    yield s
    s.stop()


@pytest.fixture(scope="module")
def ks(server):
    return Keystone(server)


@pytest.fixture(scope="module")
def admin(server, ks):
    return ks.token("admin", read_openrc(server)["OS_PASSWORD"], project="admin")
