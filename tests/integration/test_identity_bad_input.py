"""Bad input gets Keystone's status codes and error JSON: 400 for malformed JSON, wrong types,
missing fields and unknown auth methods; 409 for duplicate names; 413 for oversized bodies."""
import socket

import pytest
import requests

from identity_support import admin, assert_keystone_error, Keystone, ks, server  # noqa: F401 (fixtures)


JSON = {"Content-Type": "application/json"}


@pytest.mark.parametrize("body", [b"{bad json", b"", b"[1, 2]", b"\"text\"", b"{\"project\": ", b"\xff\xfe"])
def test_malformed_json_is_400(ks, admin, body):
    assert_keystone_error(ks.post("/projects", admin, data=body, headers=JSON), 400)


@pytest.mark.parametrize("body", [b"{bad json", b"[]", b"null"])
def test_malformed_auth_json_is_400(ks, body):
    assert_keystone_error(ks.post("/auth/tokens", data=body, headers=JSON), 400)


@pytest.mark.parametrize("body", [
    {"project": "proj"},
    {"project": {"name": 5}},
    {"project": {"name": "x", "enabled": "yes"}},
    {"project": {"name": "x", "tags": "a,b"}},
    {"project": {"name": "x", "description": 3}},
    {"project": {"name": ["x"]}},
])
def test_wrong_types_are_400(ks, admin, body):
    err = assert_keystone_error(ks.post("/projects", admin, json=body), 400)
    assert "project" in err["message"] or "name" in err["message"] or "Invalid input" in err["message"]


@pytest.mark.parametrize("path,body", [
    ("/projects", {}),
    ("/projects", {"project": {}}),
    ("/projects", {"project": {"name": ""}}),
    ("/users", {"user": {}}),
    ("/users", {"user": {"name": "short-pass", "password": "abc"}}),
    ("/users", {"user": {"name": 7}}),
    ("/groups", {"group": {"description": "no name"}}),
    ("/roles", {"role": {}}),
    ("/domains", {"domain": {"enabled": True}}),
    ("/endpoints", {"endpoint": {"interface": "public"}}),
])
def test_missing_or_invalid_fields_are_400(ks, admin, path, body):
    assert_keystone_error(ks.post(path, admin, json=body), 400)


@pytest.mark.parametrize("body", [
    {},
    {"auth": {}},
    {"auth": {"identity": {}}},
    {"auth": {"identity": {"methods": "password"}}},
    {"auth": {"identity": {"methods": []}}},
    {"auth": {"identity": {"methods": ["password"]}}},
    {"auth": {"identity": {"methods": ["password"], "password": {}}}},
    {"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "admin"}}}}},
    {"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "admin", "domain": {"id": "default"}}}}}},
    {"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "admin", "domain": {"id": "default"},
                                                                          "password": 12345678}}}}},
    {"auth": {"identity": {"methods": ["token"], "token": {}}}},
    {"auth": {"identity": {"methods": ["application_credential"], "application_credential": {"id": "x"}}}},
    {"auth": {"identity": {"methods": ["password"], "password": {"user": {"id": "x", "password": "y"}}},
              "scope": {"project": {"name": "admin"}}}},
    {"auth": {"identity": {"methods": ["password"], "password": {"user": {"id": "x", "password": "y"}}}, "scope": 5}},
])
def test_bad_auth_requests_are_400(ks, body):
    assert_keystone_error(ks.post("/auth/tokens", json=body), 400)


@pytest.mark.parametrize("method", ["totp", "kerberos", "oauth1", "mapped", ""])
def test_unknown_auth_methods_are_400(ks, method):
    body = {"auth": {"identity": {"methods": [method], method or "x": {}}}}
    err = assert_keystone_error(ks.post("/auth/tokens", json=body), 400)
    assert "method" in err["message"]


def test_oversized_body_is_413(ks, admin):
    big = {"project": {"name": "big", "description": "x" * 200_000}}
    err = assert_keystone_error(ks.post("/projects", admin, json=big), 413)
    assert err["title"] == "Request Entity Too Large"
    assert_keystone_error(ks.post("/auth/tokens", json={"auth": {"pad": "y" * 300_000}}), 413)


def test_oversized_chunked_body_is_413(server, admin):
    host, port = server.url.split("//")[1].split(":")
    chunk = b"x" * 65536
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(b"POST /v3/projects HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"X-Auth-Token: " + admin.encode() + b"\r\nTransfer-Encoding: chunked\r\n\r\n")
        try:
            for _ in range(4):
                s.sendall(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
            s.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # the server may answer and close before the rest is sent
        data = b""
        while b"\r\n\r\n" not in data:
            got = s.recv(65536)
            if not got:
                break
            data += got
    assert data.startswith(b"HTTP/1.1 413"), data[:200]


@pytest.mark.parametrize("kind,body", [
    ("project", {"name": "dup-project", "domain_id": "default"}),
    ("user", {"name": "dup-user", "domain_id": "default", "password": "dup-user-pass"}),
    ("group", {"name": "dup-group", "domain_id": "default"}),
    ("role", {"name": "dup-role"}),
    ("domain", {"name": "dup-domain"}),
])
def test_duplicate_names_are_409(ks, admin, kind, body):
    first = ks.post("/" + kind + "s", admin, json={kind: body})
    assert first.status_code == 201, first.text
    err = assert_keystone_error(ks.post("/" + kind + "s", admin, json={kind: body}), 409)
    assert err["title"] == "Conflict"
    # Renaming something else onto the taken name conflicts too.
    if kind in ("project", "group", "role", "domain", "user"):
        other = dict(body, name=body["name"] + "-2")
        created = ks.post("/" + kind + "s", admin, json={kind: other}).json()[kind]
        assert_keystone_error(ks.patch(f"/{kind}s/{created['id']}", admin, json={kind: {"name": body["name"]}}), 409)


def test_duplicate_names_are_fine_across_domains(ks, admin):
    d = ks.post("/domains", admin, json={"domain": {"name": "elsewhere"}}).json()["domain"]
    assert ks.post("/projects", admin, json={"project": {"name": "same-name"}}).status_code == 201
    assert ks.post("/projects", admin, json={"project": {"name": "same-name", "domain_id": d["id"]}}).status_code == 201


def test_missing_token_is_401_with_www_authenticate(server, ks):
    err = assert_keystone_error(ks.get("/projects"), 401)
    r = ks.get("/users")
    assert r.headers["WWW-Authenticate"].startswith("Keystone uri=")
    assert err["message"]


def test_unknown_paths_and_names_are_404(ks, admin):
    assert_keystone_error(ks.get("/no-such-collection", admin), 404)
    # Name lookups by path are 404, then clients search by ?name=.
    for collection in ("projects", "users", "groups", "roles", "domains", "regions", "services", "endpoints"):
        assert_keystone_error(ks.get(f"/{collection}/admin", admin), 404)
    assert ks.get("/projects", admin, params={"name": "admin"}).json()["projects"][0]["name"] == "admin"


def test_wrong_method_is_405(ks, admin):
    assert_keystone_error(ks.call("PUT", "/projects", admin, json={}), 405)


def test_wrong_password_and_unknown_user_look_alike(ks):
    a = ks.auth("admin", "definitely-wrong", project="admin")
    b = ks.auth("nobody-here", "definitely-wrong", project="admin")
    assert_keystone_error(a, 401)
    assert_keystone_error(b, 401)
    assert a.json()["error"]["message"] == b.json()["error"]["message"]


def test_builtin_things_are_protected(ks, admin):
    admin_project = ks.get("/projects", admin, params={"name": "admin"}).json()["projects"][0]
    assert_keystone_error(ks.patch("/projects/" + admin_project["id"], admin, json={"project": {"name": "renamed"}}), 403)
    assert_keystone_error(ks.delete("/projects/" + admin_project["id"], admin), 403)
    assert_keystone_error(ks.delete("/roles/" + ks.role_id(admin, "member"), admin), 403)
    assert_keystone_error(ks.delete("/domains/default", admin), 403)
    assert_keystone_error(ks.patch("/domains/default", admin, json={"domain": {"enabled": False}}), 403)
    # An enabled domain must be disabled before it can be deleted.
    d = ks.post("/domains", admin, json={"domain": {"name": "short-lived"}}).json()["domain"]
    assert_keystone_error(ks.delete("/domains/" + d["id"], admin), 403)
    assert ks.patch("/domains/" + d["id"], admin, json={"domain": {"enabled": False}}).status_code == 200
    assert ks.delete("/domains/" + d["id"], admin).status_code == 204
    # Everything still works for the admin.
    assert ks.get("/projects/" + admin_project["id"], admin).status_code == 200
