"""Operators' view of identity: bootstrap and openrc, `ciel admin`, the audit log (API and CLI),
back-off, token validation by services, S3 signature checks, key rotation, version discovery."""
import base64
import datetime
import hashlib
import hmac
import json
import os
import sqlite3
import stat
import subprocess
import time

import pytest
import requests

from conftest import BINARY
from identity_support import admin, assert_keystone_error, FAST_SETTINGS, Keystone, ks, read_openrc, server, start_identity_server  # noqa: F401 (fixtures)


def ciel_admin(server, *args):
    cmd = [str(BINARY), "admin", "--data-dir", str(server.data_dir)]
    for k, v in FAST_SETTINGS.items():
        cmd += ["--set", f"{k}={v}"]
    proc = subprocess.run(cmd + list(args), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_bootstrap_writes_a_private_openrc_and_says_where(server):
    path = server.data_dir / "openrc"
    assert f"admin credentials in {path}" in server.stdout()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    rc = read_openrc(server)
    assert rc["OS_AUTH_URL"] == server.url + "/v3"
    assert rc["OS_USERNAME"] == "admin" and rc["OS_PROJECT_NAME"] == "admin"
    assert rc["OS_USER_DOMAIN_NAME"] == "Default" and rc["OS_PROJECT_DOMAIN_NAME"] == "Default"
    assert rc["OS_IDENTITY_API_VERSION"] == "3" and rc["OS_REGION_NAME"] == "RegionOne"
    assert rc["OS_INTERFACE"] == "public"
    assert len(rc["OS_PASSWORD"]) >= 16
    assert json.loads((server.data_dir / "endpoints.json").read_text())["identity"] == server.url + "/v3"


def test_restart_keeps_identity_and_refreshes_the_urls(tmp_path_factory):
    s = start_identity_server(tmp_path_factory, name="restart")
    try:
        password = read_openrc(s)["OS_PASSWORD"]
        old_url = s.url
        tok = Keystone(s).token("admin", password, project="admin")
        s.stop()
        s.start()
        rc = read_openrc(s)
        assert rc["OS_PASSWORD"] == password  # not a new admin
        assert rc["OS_AUTH_URL"] == s.url + "/v3"
        ks = Keystone(s)
        assert ks.get("/projects", tok).status_code == 200  # tokens survive a restart
        catalog = ks.get("/auth/catalog", tok).json()["catalog"]
        urls = [e["url"] for c in catalog if c["type"] == "identity" for e in c["endpoints"]]
        assert urls and all(u == s.url + "/v3" for u in urls)
        if s.url != old_url:
            assert all(old_url not in u for u in urls)
    finally:
        s.stop()


def test_version_documents(server):
    r = requests.get(server.url + "/v3", timeout=10)
    assert r.status_code == 200
    v = r.json()["version"]
    assert v["id"].startswith("v3") and v["status"] == "stable"
    assert {"rel": "self", "href": server.url + "/v3/"} in v["links"]
    r = requests.get(server.url + "/", headers={"Accept": "application/json"}, timeout=10)
    assert r.status_code == 300
    assert r.json()["versions"]["values"][0]["id"].startswith("v3")


def test_validate_check_and_nocatalog(ks, admin):
    r = ks.get("/auth/tokens", admin, headers={"X-Subject-Token": admin})
    assert r.status_code == 200 and r.headers["X-Subject-Token"] == admin
    body = r.json()["token"]
    assert body["catalog"] and body["audit_ids"] and body["expires_at"].endswith("Z")
    assert body["user"]["domain"] == {"id": "default", "name": "Default"}
    r = ks.get("/auth/tokens?nocatalog", admin, headers={"X-Subject-Token": admin})
    assert "catalog" not in r.json()["token"]
    assert ks.call("HEAD", "/auth/tokens", admin, headers={"X-Subject-Token": admin}).status_code == 200
    assert_keystone_error(ks.get("/auth/tokens", admin, headers={"X-Subject-Token": "garbage-token"}), 404)


def test_unscoped_domain_scoped_and_rescoped_tokens(ks, server):
    password = read_openrc(server)["OS_PASSWORD"]
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "admin", "domain": {"id": "default"},
                                                                                 "password": password}}},
                     "scope": "unscoped"}}
    r = ks.post("/auth/tokens", json=body)
    assert r.status_code == 201
    t = r.json()["token"]
    assert "project" not in t and "roles" not in t and "catalog" not in t
    unscoped = r.headers["X-Subject-Token"]
    # /v3/auth/projects lists what the unscoped token may be rescoped to.
    names = [p["name"] for p in ks.get("/auth/projects", unscoped).json()["projects"]]
    assert names == ["admin"]
    # Rescope with the token method; expiry is kept.
    body = {"auth": {"identity": {"methods": ["token"], "token": {"id": unscoped}},
                     "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}}
    r = ks.post("/auth/tokens", json=body)
    assert r.status_code == 201, r.text
    scoped = r.json()["token"]
    assert scoped["project"]["name"] == "admin" and "token" in scoped["methods"]
    assert scoped["expires_at"] == t["expires_at"]
    assert len(scoped["audit_ids"]) == 2
    # Revoking the original token revokes the rescoped one (same audit chain).
    assert ks.delete("/auth/tokens", unscoped, headers={"X-Subject-Token": unscoped}).status_code == 204
    assert_keystone_error(ks.get("/auth/projects", r.headers["X-Subject-Token"]), 401)


def test_service_role_may_validate_other_users_tokens(ks, admin):
    svc = ks.post("/users", admin, json={"user": {"name": "svc-swift", "password": "svc-swift-pass"}}).json()["user"]
    proj = ks.post("/projects", admin, json={"project": {"name": "service"}}).json()["project"]
    ks.put(f"/projects/{proj['id']}/users/{svc['id']}/roles/{ks.role_id(admin, 'service')}", admin)
    svc_tok = ks.token("svc-swift", "svc-swift-pass", project="service")
    r = ks.get("/auth/tokens", svc_tok, headers={"X-Subject-Token": admin})
    assert r.status_code == 200
    assert r.json()["token"]["user"]["name"] == "admin"


def test_audit_log_through_the_api(ks, admin, server):
    failed = ks.auth("admin", "not-the-password", project="admin")
    assert failed.status_code == 401
    created = ks.post("/projects", admin, json={"project": {"name": "audited-proj"}})
    assert created.status_code == 201
    pid = created.json()["project"]["id"]
    r = ks.get("/ciel/audit", admin, params={"limit": 1000})
    assert r.status_code == 200
    records = r.json()["records"]
    fails = [x for x in records if x["action"] == "auth.password" and x["outcome"] == "failure"
             and x["request_id"] == failed.headers["X-Request-Id"]]
    assert len(fails) == 1 and fails[0]["source"] == "127.0.0.1"
    # Even a request with an unknown method is recorded as a failed authentication.
    weird = ks.post("/auth/tokens", json={"auth": {"identity": {"methods": ["kerberos"], "kerberos": {}}}})
    assert weird.status_code == 400
    records = ks.get("/ciel/audit", admin, params={"limit": 1000}).json()["records"]
    assert any(x["outcome"] == "failure" and x["request_id"] == weird.headers["X-Request-Id"] and "kerberos" in x["detail"]
               for x in records)
    creates = [x for x in records if x["action"] == "project.create" and x["target"] == "project:" + pid]
    assert len(creates) == 1
    rec = creates[0]
    assert rec["outcome"] == "success" and rec["request_id"] == created.headers["X-Request-Id"]
    admin_id = ks.get("/auth/tokens", admin, headers={"X-Subject-Token": admin}).json()["token"]["user"]["id"]
    assert rec["principal"] == admin_id
    assert rec["time"].endswith("Z")
    assert any(x["action"] == "auth.password" and x["outcome"] == "success" for x in records)
    # Paging and filters.
    page = ks.get("/ciel/audit", admin, params={"after": rec["seq"] - 1, "limit": 1}).json()
    assert [x["seq"] for x in page["records"]] == [rec["seq"]] and page["next_after"] == rec["seq"]
    only = ks.get("/ciel/audit", admin, params={"action": "project."}).json()["records"]
    assert only and all(x["action"].startswith("project.") for x in only)
    # Denied mutations are recorded too, and only cloud admins may read the log.
    user = ks.post("/users", admin, json={"user": {"name": "nosy", "password": "nosy-password"}}).json()["user"]
    ks.put(f"/projects/{pid}/users/{user['id']}/roles/{ks.role_id(admin, 'member')}", admin)
    nosy = ks.token("nosy", "nosy-password", project="audited-proj")
    assert_keystone_error(ks.get("/ciel/audit", nosy), 403)
    denied = ks.post("/projects", nosy, json={"project": {"name": "nope"}})
    assert denied.status_code == 403
    records = ks.get("/ciel/audit", admin, params={"limit": 1000}).json()["records"]
    assert any(x["outcome"] == "denied" and x["principal"] == user["id"] and x["request_id"] == denied.headers["X-Request-Id"]
               for x in records)


def test_ciel_admin_offline_commands_and_audit(tmp_path_factory):
    s = start_identity_server(tmp_path_factory, name="offline")
    try:
        assert Keystone(s).auth("admin", "wrong-password!", project="admin").status_code == 401
        s.stop()
        pid = ciel_admin(s, "project", "create", "ops-proj", "--description", "made offline").strip()
        uid = ciel_admin(s, "user", "create", "ops-user", "--password", "ops-user-pass", "--project", "ops-proj").strip()
        assert len(pid) == 32 and len(uid) == 32
        ciel_admin(s, "role", "add", "member", "--user", "ops-user", "--project", "ops-proj")
        s.start()
        ks = Keystone(s)
        r = ks.auth("ops-user", "ops-user-pass", project="ops-proj")
        assert r.status_code == 201, r.text
        t = r.json()["token"]
        assert t["project"]["id"] == pid and t["user"]["id"] == uid
        s.stop()
        lines = [json.loads(x) for x in ciel_admin(s, "audit", "--json", "--limit", "1000").splitlines()]
        actions = [(x["action"], x["outcome"]) for x in lines]
        assert ("auth.password", "failure") in actions
        assert ("project.create", "success") in actions and ("user.create", "success") in actions
        assert ("assignment.grant", "success") in actions
        assert any(x["action"] == "auth.password" and x["outcome"] == "success" and x["principal"] == uid for x in lines)
        text = ciel_admin(s, "audit", "--action", "user.")
        assert "user.create" in text and "project.create" not in text
        # Mistakes are reported, not hidden.
        proc = subprocess.run([str(BINARY), "admin", "--data-dir", str(s.data_dir), "role", "add", "member", "--user",
                               "nobody", "--project", "ops-proj"], capture_output=True, text=True, timeout=60)
        assert proc.returncode == 1 and "nobody" in proc.stderr
        s.start()
    finally:
        s.stop()


def test_running_server_picks_up_ciel_admin_changes(tmp_path_factory):
    s = start_identity_server(tmp_path_factory, {"identity.refresh_interval": "1s"}, name="live")
    try:
        ciel_admin(s, "project", "create", "live-proj")
        ciel_admin(s, "user", "create", "live-user", "--password", "live-user-pass")
        ciel_admin(s, "role", "add", "reader", "--user", "live-user", "--project", "live-proj")
        ks = Keystone(s)
        admin = ks.token("admin", read_openrc(s)["OS_PASSWORD"], project="admin")
        # Wait (without failed logins, which would trigger back-off) until the grant is visible.
        deadline = time.time() + 10
        while time.time() < deadline:
            users = ks.get("/users", admin, params={"name": "live-user"}).json()["users"]
            if users and ks.get("/role_assignments", admin, params={"user.id": users[0]["id"]}).json()["role_assignments"]:
                break
            time.sleep(0.2)
        r = ks.auth("live-user", "live-user-pass", project="live-proj")
        assert r.status_code == 201, r.text
        assert [x["name"] for x in r.json()["token"]["roles"]] == ["reader"]
    finally:
        s.stop()


def test_key_rotation_keeps_old_tokens_valid(tmp_path_factory):
    s = start_identity_server(tmp_path_factory, name="rotate")
    try:
        password = read_openrc(s)["OS_PASSWORD"]
        old = Keystone(s).token("admin", password, project="admin")
        s.stop()
        assert ciel_admin(s, "rotate-keys").strip() == "rotated"
        # The ring is in the metadata store, each key sealed (never in the clear), none in files.
        with sqlite3.connect(s.data_dir / "meta.db") as db:
            rows = db.execute("SELECT idx, sealed FROM identity_token_keys ORDER BY idx").fetchall()
        assert [r[0] for r in rows] == [1, 2]
        assert all(len(r[1]) > 64 for r in rows)
        assert not (s.data_dir / "keys" / "token").exists() or not any((s.data_dir / "keys" / "token").iterdir())
        s.start()
        ks = Keystone(s)
        assert ks.get("/projects", old).status_code == 200
        new = ks.token("admin", password, project="admin")
        assert ks.get("/projects", new).status_code == 200
    finally:
        s.stop()


def test_backoff_after_repeated_failures(tmp_path_factory):
    s = start_identity_server(tmp_path_factory, {"identity.backoff_user_threshold": "3", "identity.backoff_base": "2s"},
                              name="backoff")
    try:
        ks = Keystone(s)
        password = read_openrc(s)["OS_PASSWORD"]
        for i in range(3):
            assert_keystone_error(ks.auth("admin", f"wrong-{i}-password", project="admin"), 401)
            assert_keystone_error(ks.auth("ghost", f"wrong-{i}-password", project="admin"), 401)
        # Locked for a while: even the right password is refused, the same way as for a ghost.
        locked = ks.auth("admin", password, project="admin")
        ghost = ks.auth("ghost", "whatever-password", project="admin")
        assert_keystone_error(locked, 401)
        assert_keystone_error(ghost, 401)
        assert locked.json()["error"]["message"] == ghost.json()["error"]["message"]
        time.sleep(2.3)
        assert ks.auth("admin", password, project="admin").status_code == 201
    finally:
        s.stop()


def sigv4_string_to_sign(secret_unused, date, region="RegionOne"):
    amz_date = date.strftime("%Y%m%dT%H%M%SZ")
    scope = f"{date.strftime('%Y%m%d')}/{region}/s3/aws4_request"
    canonical = "GET\n/bucket\n\nhost:localhost\nx-amz-date:" + amz_date + "\n\nhost;x-amz-date\nUNSIGNED-PAYLOAD"
    return "AWS4-HMAC-SHA256\n" + amz_date + "\n" + scope + "\n" + hashlib.sha256(canonical.encode()).hexdigest()


def sigv4_signature(secret, sts):
    scope = sts.split("\n")[2].split("/")
    key = ("AWS4" + secret).encode()
    for part in scope:
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()


def test_s3tokens_checks_signatures_for_services_only(ks, admin):
    proj = ks.post("/projects", admin, json={"project": {"name": "s3-owner"}}).json()["project"]
    user = ks.post("/users", admin, json={"user": {"name": "s3-owner", "password": "s3-owner-pass"}}).json()["user"]
    ks.put(f"/projects/{proj['id']}/users/{user['id']}/roles/{ks.role_id(admin, 'member')}", admin)
    tok = ks.token("s3-owner", "s3-owner-pass", project="s3-owner")
    cred = ks.post(f"/users/{user['id']}/credentials/OS-EC2", tok, json={"tenant_id": proj["id"]}).json()["credential"]
    sts = sigv4_string_to_sign(cred["secret"], datetime.datetime.utcnow())
    body = {"credentials": {"access": cred["access"], "token": base64.urlsafe_b64encode(sts.encode()).decode(),
                            "signature": sigv4_signature(cred["secret"], sts)}}
    assert_keystone_error(ks.post("/s3tokens", json=body), 401)
    assert_keystone_error(ks.post("/s3tokens", tok, json=body), 403)
    r = ks.post("/s3tokens", admin, json=body)
    assert r.status_code == 200, r.text
    t = r.json()["token"]
    assert t["user"]["id"] == user["id"] and t["project"]["id"] == proj["id"]
    assert {x["name"] for x in t["roles"]} == {"member", "reader"}
    bad = json.loads(json.dumps(body))
    bad["credentials"]["signature"] = "0" * 64
    assert_keystone_error(ks.post("/s3tokens", admin, json=bad), 401)
    unknown = json.loads(json.dumps(body))
    unknown["credentials"]["access"] = "f" * 32
    assert_keystone_error(ks.post("/s3tokens", admin, json=unknown), 401)
    # SigV2 (HMAC-SHA1 over the string to sign) works too.
    sts2 = "GET\n\n\nThu, 01 Jan 2026 00:00:00 GMT\n/bucket"
    sig2 = base64.b64encode(hmac.new(cred["secret"].encode(), sts2.encode(), hashlib.sha1).digest()).decode()
    body2 = {"credentials": {"access": cred["access"], "token": base64.urlsafe_b64encode(sts2.encode()).decode(),
                             "signature": sig2}}
    assert ks.post("/s3tokens", admin, json=body2).status_code == 200
