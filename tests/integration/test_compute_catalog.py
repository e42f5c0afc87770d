"""The compute catalogue through Debian's `openstack` CLI and raw Glance/Nova calls: images
(upload checked with qemu-img, list, show, set, share, delete), flavors (admins only, private
ones by access list), keypairs (generated or imported, per user), the project's network, quotas
and limits; one project never sees another's private images or keypairs; bad uploads are
refused in Glance's error format and leave the image without data."""
import base64
import json
import subprocess

import pytest
import requests

from identity_support import FAST_SETTINGS, Keystone, cli_env, osc, read_openrc, start_identity_server


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = start_identity_server(tmp_path_factory, name="compute-catalog")
    yield s
    s.stop()


@pytest.fixture(scope="module")
def admin_env(server):
    return cli_env(read_openrc(server))


def make_member(server, admin_env, name):
    """A project with a member user of the same name; their CLI environment and a token."""
    osc(admin_env, "project", "create", "proj-" + name)
    osc(admin_env, "user", "create", "--project", "proj-" + name, "--password", name + "-password", name)
    osc(admin_env, "role", "add", "--user", name, "--project", "proj-" + name, "member", json_output=False)
    env = cli_env(read_openrc(server), OS_USERNAME=name, OS_PASSWORD=name + "-password", OS_PROJECT_NAME="proj-" + name)
    token = Keystone(server).token(name, name + "-password", project="proj-" + name)
    return env, token


@pytest.fixture(scope="module")
def alice(server, admin_env):
    return make_member(server, admin_env, "alice")


@pytest.fixture(scope="module")
def bob(server, admin_env):
    return make_member(server, admin_env, "bob")


def qemu_img(*args):
    subprocess.run(["qemu-img", *args], check=True, capture_output=True, timeout=60)


def glance(server, token, method, path, **kw):
    headers = dict(kw.pop("headers", {}))
    headers["X-Auth-Token"] = token
    return requests.request(method, server.url + "/image" + path, headers=headers, timeout=60, **kw)


def test_image_upload_is_checked_and_active(server, alice, tmp_path):
    env, token = alice
    disk = tmp_path / "disk.qcow2"
    qemu_img("create", "-f", "qcow2", str(disk), "32M")
    img = osc(env, "image", "create", "--file", str(disk), "--disk-format", "qcow2", "--container-format", "bare",
              "--min-disk", "1", "--property", "os_distro=test", "small")
    shown = osc(env, "image", "show", "small")
    assert shown["status"] == "active"
    assert shown["size"] == disk.stat().st_size
    assert shown["virtual_size"] == 32 * 1024 * 1024
    import hashlib
    data = disk.read_bytes()
    assert shown["checksum"] == hashlib.md5(data).hexdigest()
    raw = glance(server, token, "GET", "/v2/images/" + img["id"]).json()
    assert raw["os_hash_algo"] == "sha512" and raw["os_hash_value"] == hashlib.sha512(data).hexdigest()
    assert raw["os_distro"] == "test" and raw["min_disk"] == 1
    # Download gives the bytes back.
    r = glance(server, token, "GET", f"/v2/images/{img['id']}/file")
    assert r.status_code == 200 and r.content == data
    # A JSON patch changes what may change, and refuses the rest.
    r = glance(server, token, "PATCH", "/v2/images/" + img["id"],
               headers={"Content-Type": "application/openstack-images-v2.1-json-patch"},
               data=json.dumps([{"op": "replace", "path": "/name", "value": "renamed"}, {"op": "add", "path": "/color", "value": "blue"}]))
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "renamed" and r.json()["color"] == "blue"
    r = glance(server, token, "PATCH", "/v2/images/" + img["id"],
               headers={"Content-Type": "application/openstack-images-v2.1-json-patch"},
               data=json.dumps([{"op": "replace", "path": "/size", "value": 1}]))
    assert r.status_code == 403 and "read-only" in r.json()["message"]
    osc(env, "image", "delete", "renamed", json_output=False)
    assert glance(server, token, "GET", "/v2/images/" + img["id"]).status_code == 404


@pytest.mark.parametrize("kind", ["not-an-image", "backing-file", "raw-declared-qcow2"])
def test_bad_uploads_are_refused_and_keep_no_data(server, alice, tmp_path, kind):
    env, token = alice
    path = tmp_path / "upload"
    fmt = "qcow2"
    if kind == "not-an-image":
        path.write_bytes(b"#!/bin/sh\necho this is not a disk image\n" * 100)
    elif kind == "backing-file":
        base = tmp_path / "base.qcow2"
        qemu_img("create", "-f", "qcow2", str(base), "16M")
        qemu_img("create", "-f", "qcow2", "-b", "/etc/passwd", "-F", "raw", str(path))
    else:
        qemu_img("create", "-f", "raw", str(path), "1M")
    r = glance(server, token, "POST", "/v2/images", json={"name": "bad-" + kind, "disk_format": fmt, "container_format": "bare"})
    assert r.status_code == 201
    image_id = r.json()["id"]
    r = glance(server, token, "PUT", f"/v2/images/{image_id}/file", data=path.read_bytes(),
               headers={"Content-Type": "application/octet-stream"})
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["code"].startswith("400") and body["message"]
    after = glance(server, token, "GET", "/v2/images/" + image_id).json()
    assert after["status"] == "queued" and after["size"] is None and after["checksum"] is None
    assert glance(server, token, "GET", f"/v2/images/{image_id}/file").status_code == 204


def test_private_images_stay_in_their_project_until_shared(server, alice, bob, tmp_path):
    aenv, atoken = alice
    benv, btoken = bob
    disk = tmp_path / "d.qcow2"
    qemu_img("create", "-f", "qcow2", str(disk), "8M")
    img = osc(aenv, "image", "create", "--file", str(disk), "--disk-format", "qcow2", "--private", "alice-private")
    shared = osc(aenv, "image", "create", "--file", str(disk), "--disk-format", "qcow2", "--shared", "alice-shared")
    names = {i["Name"] for i in osc(benv, "image", "list")}
    assert "alice-private" not in names and "alice-shared" not in names
    assert glance(server, btoken, "GET", "/v2/images/" + img["id"]).status_code == 404
    assert glance(server, btoken, "GET", f"/v2/images/{img['id']}/file").status_code == 404
    assert glance(server, btoken, "DELETE", "/v2/images/" + img["id"]).status_code == 404
    # Sharing: alice adds bob's project, bob accepts, then sees it.
    bob_project = Keystone(server).get("/auth/tokens", btoken, headers={"X-Subject-Token": btoken}).json()["token"]["project"]["id"]
    r = glance(server, atoken, "POST", f"/v2/images/{shared['id']}/members", json={"member": bob_project})
    assert r.status_code == 200 and r.json()["status"] == "pending"
    assert "alice-shared" not in {i["Name"] for i in osc(benv, "image", "list")}
    r = glance(server, btoken, "PUT", f"/v2/images/{shared['id']}/members/{bob_project}", json={"status": "accepted"})
    assert r.status_code == 200
    assert "alice-shared" in {i["Name"] for i in osc(benv, "image", "list")}
    # Bob may use it, not change it.
    r = glance(server, btoken, "DELETE", "/v2/images/" + shared["id"])
    assert r.status_code == 403
    # Only admins publish.
    r = glance(server, atoken, "PATCH", "/v2/images/" + img["id"], headers={"Content-Type": "application/openstack-images-v2.1-json-patch"},
               data=json.dumps([{"op": "replace", "path": "/visibility", "value": "public"}]))
    assert r.status_code == 403


def test_flavors_admin_only_and_private_by_access_list(server, admin_env, alice, bob):
    aenv, atoken = alice
    benv, _ = bob
    f = osc(admin_env, "flavor", "create", "--vcpus", "1", "--ram", "256", "--disk", "1", "c1.tiny")
    assert f["vcpus"] == 1 and f["ram"] == 256
    assert "c1.tiny" in {x["Name"] for x in osc(aenv, "flavor", "list")}
    r = osc(aenv, "flavor", "create", "--vcpus", "1", "--ram", "64", "--disk", "1", "sneaky", check=False)
    assert r.returncode != 0 and "403" in r.stderr
    osc(admin_env, "flavor", "create", "--vcpus", "2", "--ram", "512", "--disk", "2", "--private", "--project", "proj-alice", "c1.private")
    assert "c1.private" in {x["Name"] for x in osc(aenv, "flavor", "list", "--all")}
    assert "c1.private" not in {x["Name"] for x in osc(benv, "flavor", "list", "--all")}
    osc(admin_env, "flavor", "delete", "c1.tiny", json_output=False)
    assert "c1.tiny" not in {x["Name"] for x in osc(aenv, "flavor", "list")}


def test_keypairs_generated_or_imported_and_per_user(server, alice, bob, tmp_path):
    aenv, _ = alice
    benv, _ = bob
    private = osc(aenv, "keypair", "create", "made-here", json_output=False)
    assert private.startswith("-----BEGIN OPENSSH PRIVATE KEY-----")
    key = tmp_path / "k"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    imported = osc(aenv, "keypair", "create", "--public-key", str(key) + ".pub", "imported")
    fp = subprocess.run(["ssh-keygen", "-l", "-E", "md5", "-f", str(key) + ".pub"], capture_output=True, text=True).stdout.split()[1]
    assert imported["fingerprint"] == fp.removeprefix("MD5:")
    assert {k["Name"] for k in osc(aenv, "keypair", "list")} == {"made-here", "imported"}
    assert osc(benv, "keypair", "list") == []
    r = osc(benv, "keypair", "show", "imported", check=False)
    assert r.returncode != 0
    bad = tmp_path / "bad.pub"
    bad.write_text("ssh-ed25519 AAAAnotbase64!!! x\n")
    r = osc(aenv, "keypair", "create", "--public-key", str(bad), "bad", check=False)
    assert r.returncode != 0 and "400" in r.stderr
    r = osc(aenv, "keypair", "create", "made-here", check=False, json_output=False)
    assert r.returncode != 0 and "409" in r.stderr
    osc(aenv, "keypair", "delete", "imported", json_output=False)
    assert {k["Name"] for k in osc(aenv, "keypair", "list")} == {"made-here"}


def test_network_quota_limits_and_empty_server_list(server, alice, admin_env):
    aenv, atoken = alice
    nets = osc(aenv, "network", "list")
    assert [n["Name"] for n in nets] == ["private"]
    q = osc(aenv, "quota", "show")
    assert q["instances"] == 10 and q["cores"] == 20
    osc(admin_env, "quota", "set", "--instances", "3", "proj-alice", json_output=False)
    assert osc(aenv, "quota", "show")["instances"] == 3
    limits = {row["Name"]: row["Value"] for row in osc(aenv, "limits", "show", "--absolute")}
    assert limits["maxTotalInstances"] == 3 and limits["totalInstancesUsed"] == 0
    assert osc(aenv, "server", "list") == []
    # Microversions: a version past the maximum is 406, in Nova's error format.
    r = requests.get(server.url + "/compute/v2.1/flavors", headers={"X-Auth-Token": atoken, "OpenStack-API-Version": "compute 2.999"}, timeout=10)
    assert r.status_code == 406
    r = requests.get(server.url + "/compute/v2.1/flavors/nope", headers={"X-Auth-Token": atoken}, timeout=10)
    assert r.status_code == 404 and r.json()["itemNotFound"]["code"] == 404
    r = requests.get(server.url + "/compute/v2.1/flavors", timeout=10)
    assert r.status_code == 401
