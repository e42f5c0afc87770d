"""Virtual machines through Debian's `openstack` CLI, under QEMU TCG (these machines have no
working KVM), with the test image tools/build-test-image makes from Debian packages: create with
a keypair and user data and --wait reaches ACTIVE, the console shows the guest's marker, SSH with
the key into the forwarded port sees the user data's effect, stop/start/reboot round-trip, a
kill -9 of `ciel serve` and a restart leave the VM running and manageable, and delete --wait frees
the process, the disk and the port. Then isolation and bad input: another project sees nothing,
unknown references and quota overruns are Nova errors that leave no server behind."""
import json
import os
import signal
import subprocess
import time

import pytest
import requests

from conftest import ROOT, CielServer
from identity_support import FAST_SETTINGS, Keystone, cli_env, osc, read_openrc

SSH_OPTS = ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=10",
            "-o", "BatchMode=yes", "-o", "LogLevel=ERROR"]


def kill_vms(data_dir):
    """Test cleanup: VMs outlive ciel serve by design, so stop any a failed test left."""
    vms = data_dir / "compute" / "vms"
    if not vms.exists():
        return
    for pidfile in vms.glob("*/qemu.pid"):
        try:
            os.kill(int(pidfile.read_text().strip()), signal.SIGKILL)
        except (ValueError, ProcessLookupError, FileNotFoundError):
            pass


@pytest.fixture(scope="module")
def image_file(guest_image):
    return guest_image


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data = tmp_path_factory.mktemp("compute-servers") / "data"
    ports = {"compute.ssh_ports": "21022-21099", "compute.shutdown_timeout": "30s"}
    s = CielServer(data, dict(FAST_SETTINGS, **ports)).start()
    holder = {"server": s}
    yield holder
    holder["server"].stop()
    kill_vms(data)


@pytest.fixture(scope="module")
def cloud(server, image_file, tmp_path_factory):
    """Admin env, a member project with image, flavor and keypair."""
    s = server["server"]
    admin = cli_env(read_openrc(s))
    osc(admin, "project", "create", "vmproj")
    osc(admin, "user", "create", "--project", "vmproj", "--password", "vm-password-1", "vmuser")
    osc(admin, "role", "add", "--user", "vmuser", "--project", "vmproj", "member", json_output=False)
    env = cli_env(read_openrc(s), OS_USERNAME="vmuser", OS_PASSWORD="vm-password-1", OS_PROJECT_NAME="vmproj")
    img = osc(env, "image", "create", "--file", str(image_file), "--disk-format", "qcow2", "--container-format", "bare", "guest")
    assert osc(env, "image", "show", img["id"])["status"] == "active"
    osc(admin, "flavor", "create", "--vcpus", "1", "--ram", "256", "--disk", "1", "v1.small")
    keydir = tmp_path_factory.mktemp("keys")
    key = keydir / "id"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    osc(env, "keypair", "create", "--public-key", str(key) + ".pub", "testkey")
    return {"admin": admin, "env": env, "key": key, "dir": keydir}


def create_wait(env, *args, timeout=300):
    """`server create ... --wait -f json`: --wait prints progress lines before the JSON document."""
    out = osc(env, "server", "create", *args, "--wait", "-f", "json", json_output=False, timeout=timeout)
    return json.loads(out[out.index("{"):])


def wait_for(fn, timeout, what):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(1)
    raise AssertionError(f"timed out waiting for {what() if callable(what) else what} (last: {last!r})")


def status(env, name):
    return osc(env, "server", "show", name)["status"]


def console(env, name):
    return osc(env, "console", "log", "show", name, json_output=False)


def ssh(cloud, port, command):
    return subprocess.run(["ssh", *SSH_OPTS, "-i", str(cloud["key"]), "-p", str(port), "root@127.0.0.1", command],
                          capture_output=True, text=True, timeout=60)


def ssh_port(env, name):
    return int(osc(env, "server", "show", name)["properties"]["ciel:ssh"].rsplit(":", 1)[1])


def test_server_lifecycle_with_ssh_and_restart_of_ciel(server, cloud):
    env = cloud["env"]
    userdata = cloud["dir"] / "user-data.sh"
    userdata.write_text("#!/bin/sh\necho user-data-ran-$(hostname) > /root/user-data.txt\n")
    made = create_wait(env, "--image", "guest", "--flavor", "v1.small", "--key-name", "testkey", "--user-data", str(userdata),
                       "--network", "private", "vm1")
    assert made["status"] == "ACTIVE"
    assert made["key_name"] == "testkey"
    server_id = made["id"]
    wait_for(lambda: "ciel-guest-ready " + server_id in console(env, "vm1"), 180, "the guest's ready marker")
    port = ssh_port(env, "vm1")
    r = wait_for(lambda: (lambda p: p if p.returncode == 0 else None)(ssh(cloud, port, "cat /root/user-data.txt; hostname")), 60, "ssh")
    assert "user-data-ran-vm1" in r.stdout and "vm1" in r.stdout
    # The CLI's list shows it with its image and flavor names.
    rows = osc(env, "server", "list")
    assert [(x["Name"], x["Status"], x["Image"], x["Flavor"]) for x in rows] == [("vm1", "ACTIVE", "guest", "v1.small")]

    osc(env, "server", "stop", "vm1", json_output=False)
    wait_for(lambda: status(env, "vm1") == "SHUTOFF", 90, "SHUTOFF")
    assert osc(env, "server", "show", "vm1")["OS-EXT-STS:power_state"] in ("Shutdown", 4)
    # Starting what runs, or stopping what is stopped, is Nova's 409.
    r = osc(env, "server", "stop", "vm1", check=False, json_output=False)
    assert r.returncode != 0 and "409" in r.stderr
    osc(env, "server", "start", "vm1", json_output=False)
    wait_for(lambda: status(env, "vm1") == "ACTIVE", 90, "ACTIVE after start")
    wait_for(lambda: console(env, "vm1").count("ciel-guest-ready " + server_id) >= 2, 180, "the marker after start")
    osc(env, "server", "reboot", "--hard", "--wait", "vm1", json_output=False, timeout=300)
    assert status(env, "vm1") == "ACTIVE"
    wait_for(lambda: console(env, "vm1").count("ciel-guest-ready " + server_id) >= 3, 180, "the marker after reboot")

    # kill -9 of ciel serve: the VM keeps running, and the restarted server manages it.
    old = server["server"]
    qemu_pid = int((old.data_dir / "compute" / "vms" / server_id / "qemu.pid").read_text())
    old.kill()
    os.kill(qemu_pid, 0)  # still alive
    again = CielServer(old.data_dir, old.settings).start()
    server["server"] = again
    env2 = cli_env(read_openrc(again), OS_USERNAME="vmuser", OS_PASSWORD="vm-password-1", OS_PROJECT_NAME="vmproj")
    cloud["env"] = env2
    cloud["admin"] = cli_env(read_openrc(again))
    assert status(env2, "vm1") == "ACTIVE"
    # (The test image keeps its root file system in memory: what user data wrote before the reboot
    # is gone, and user data runs once per instance, so the check here is the guest answering.)
    attempts = []
    r = wait_for(lambda: (lambda p: p if p.returncode == 0 else attempts.append(p.stderr[-300:]))(ssh(cloud, port, "hostname; uptime")),
                 90, lambda: f"ssh after restart: {attempts[-3:]} console: {console(env2, 'vm1')[-1500:]}")
    assert r.stdout.startswith("vm1")

    osc(env2, "server", "delete", "--wait", "vm1", json_output=False, timeout=300)
    assert osc(env2, "server", "list") == []
    assert not (again.data_dir / "compute" / "vms" / server_id).exists()
    with pytest.raises(ProcessLookupError):
        for _ in range(50):
            os.kill(qemu_pid, 0)
            time.sleep(0.1)
    # The forwarded port is free again.
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", port))
    s.close()


def test_isolation_bad_references_and_quota(server, cloud):
    s = server["server"]
    admin = cloud["admin"]
    env = cloud["env"]
    osc(admin, "project", "create", "otherproj")
    osc(admin, "user", "create", "--project", "otherproj", "--password", "other-password-1", "otheruser")
    osc(admin, "role", "add", "--user", "otheruser", "--project", "otherproj", "member", json_output=False)
    other = cli_env(read_openrc(s), OS_USERNAME="otheruser", OS_PASSWORD="other-password-1", OS_PROJECT_NAME="otherproj")
    osc(admin, "quota", "set", "--instances", "1", "vmproj", json_output=False)
    made = create_wait(env, "--image", "guest", "--flavor", "v1.small", "--key-name", "testkey", "--network", "private", "only-one")
    try:
        # Another project sees nothing of it and cannot touch it.
        assert osc(other, "server", "list") == []
        token = Keystone(s).token("otheruser", "other-password-1", project="otherproj")
        base = s.url + "/compute/v2.1/servers/" + made["id"]
        r = requests.get(base, headers={"X-Auth-Token": token}, timeout=10)
        assert r.status_code == 404 and "itemNotFound" in r.json()
        r = requests.delete(base, headers={"X-Auth-Token": token}, timeout=10)
        assert r.status_code == 404
        r = requests.post(base + "/action", json={"os-stop": None}, headers={"X-Auth-Token": token}, timeout=10)
        assert r.status_code == 404
        # The other project cannot use vmproj's private image or keypair either.
        r = osc(other, "server", "create", "--image", made["image"].split(" ")[-1].strip("()") if "(" in str(made["image"]) else "guest",
                "--flavor", "v1.small", "--network", "private", "nope", check=False)
        assert r.returncode != 0
        # Quota: a second server in vmproj is refused, nothing is left behind.
        r = osc(env, "server", "create", "--image", "guest", "--flavor", "v1.small", "--network", "private", "too-many", check=False)
        assert r.returncode != 0 and "Quota exceeded" in r.stderr and "403" in r.stderr
        ut = Keystone(s).token("vmuser", "vm-password-1", project="vmproj")
        for body, expect in [
            ({"name": "x", "imageRef": "no-such-image", "flavorRef": made["flavor"].split("(")[-1].strip(")") if "(" in str(made["flavor"]) else "x"}, "Image"),
            ({"name": "x", "imageRef": osc(env, "image", "show", "guest")["id"], "flavorRef": "no-such-flavor"}, "Flavor"),
        ]:
            r = requests.post(s.url + "/compute/v2.1/servers", json={"server": body}, headers={"X-Auth-Token": ut}, timeout=10)
            assert r.status_code == 400 and expect in r.json()["badRequest"]["message"], r.text
        img_id = osc(env, "image", "show", "guest")["id"]
        flavor_id = osc(env, "flavor", "show", "v1.small")["id"]
        r = requests.post(s.url + "/compute/v2.1/servers", headers={"X-Auth-Token": ut}, timeout=10,
                          json={"server": {"name": "x", "imageRef": img_id, "flavorRef": flavor_id, "key_name": "no-such-key"}})
        assert r.status_code == 400 and "key_name" in r.json()["badRequest"]["message"]
        # An image asking for more disk than the flavor has.
        r = requests.patch(s.url + "/image/v2/images/" + img_id, headers={"X-Auth-Token": ut, "Content-Type": "application/openstack-images-v2.1-json-patch"},
                           json=[{"op": "replace", "path": "/min_disk", "value": 5}], timeout=10)
        assert r.status_code == 200
        osc(admin, "quota", "set", "--instances", "5", "vmproj", json_output=False)
        r = requests.post(s.url + "/compute/v2.1/servers", headers={"X-Auth-Token": ut}, timeout=10,
                          json={"server": {"name": "small", "imageRef": img_id, "flavorRef": flavor_id}})
        assert r.status_code == 400 and "too small" in r.json()["badRequest"]["message"]
        assert [x["Name"] for x in osc(env, "server", "list")] == ["only-one"]
    finally:
        osc(env, "server", "delete", "--wait", made["id"], json_output=False, timeout=300)


def test_restart_drops_cached_images_that_nothing_uses(server, cloud):
    """A booted image is cached beside the VMs (their disks are overlays on it); once the image is
    deleted and no server uses it, the next start of ciel serve frees that disk space."""
    s = server["server"]
    env = cloud["env"]
    img = osc(env, "image", "show", "guest")
    cached = s.data_dir / "compute" / "images" / f"{img['id']}.qcow2"
    assert cached.exists()  # the servers of the tests above booted from it
    assert osc(env, "server", "list") == []

    s.stop()
    s = server["server"] = CielServer(s.data_dir, s.settings).start()
    assert cached.exists()  # the image still exists: kept
    env = cli_env(read_openrc(s), OS_USERNAME="vmuser", OS_PASSWORD="vm-password-1", OS_PROJECT_NAME="vmproj")
    osc(env, "image", "delete", "guest", json_output=False)

    s.stop()
    s = server["server"] = CielServer(s.data_dir, s.settings).start()
    assert not cached.exists()
    assert list((s.data_dir / "compute" / "images").iterdir()) == []
