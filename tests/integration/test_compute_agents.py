"""Compute on several hosts: one `ciel serve` that only schedules (compute.local_agent = false)
and two `ciel agent` processes on this machine, each with its own state directory and room for
exactly one small server, all over one PostgreSQL metadata store (the scale-out store), driven
with Debian's `openstack` CLI. The first server lands on the first host, the second on the other
one once the first is full, a third gets Nova's "No valid host" fault; the console of a server
comes from its agent through the queue; a kill -9 of an agent turns its server UNKNOWN once the
heartbeat timeout has passed, and a restarted agent shows it ACTIVE again; deleting a server frees
its host's capacity for the next one.

The PostgreSQL server is the one scripts/test.sh exports as CIEL_TEST_POSTGRES_URL, or a private
one started here with scripts/pg-test-server.sh."""
import concurrent.futures
import os
import shutil
import signal
import subprocess
import time

import pytest
import requests

from conftest import BINARY, CielServer
from identity_support import FAST_SETTINGS, Keystone, cli_env, osc, read_openrc
from test_compute_servers import console, create_wait, kill_vms, wait_for
from test_swift_postgres import pg_base  # noqa: F401 (fixture)

TIMEOUT_S = 4  # compute.agent_timeout of this test




def new_database(base):
    name = "ciel_agents_" + os.urandom(6).hex()
    r = subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", base, "-c", f"CREATE DATABASE {name}"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return base.rsplit("/", 1)[0] + "/" + name


class Agent:
    """A `ciel agent` process with its own data (and so state) directory."""

    def __init__(self, data_dir, settings):
        self.data_dir = data_dir
        self.settings = settings
        self.proc = None
        self.out = data_dir.parent / (data_dir.name + ".stdout")
        self.err = data_dir.parent / (data_dir.name + ".stderr")

    def start(self, timeout=30):
        cmd = [str(BINARY), "agent", "--data-dir", str(self.data_dir)]
        for k, v in self.settings.items():
            cmd += ["--set", f"{k}={v}"]
        start = self.out.stat().st_size if self.out.exists() else 0
        self.proc = subprocess.Popen(cmd, stdout=open(self.out, "ab"), stderr=open(self.err, "ab"), stdin=subprocess.DEVNULL)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"ciel agent exited with {self.proc.returncode}: {self.err.read_text()[-2000:]}")
            if "ready" in self.out.read_text(errors="replace")[start:]:
                return self
            time.sleep(0.05)
        raise RuntimeError("ciel agent did not become ready: " + self.err.read_text()[-2000:])

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, pg_base, guest_image):
    base = tmp_path_factory.mktemp("compute-agents")
    db = new_database(pg_base)
    api = CielServer(base / "api", dict(FAST_SETTINGS, **{
        "store.metadata": db, "compute.local_agent": "false", "compute.agent_timeout": f"{TIMEOUT_S}s",
        "compute.ssh_ports": "21100-21199", "compute.shutdown_timeout": "10s"})).start()
    agents = {}
    try:
        for name in ("host-a", "host-b"):
            agents[name] = Agent(base / name, {
                "store.metadata": db, "store.image_blob_root": str(api.data_dir / "images"), "agent.name": name,
                # Room for one 256 MiB server each.
                "agent.vcpus": "4", "agent.ram": "384MiB", "agent.heartbeat": "500ms", "agent.poll": "200ms",
                "compute.shutdown_timeout": "10s"}).start()
        admin = cli_env(read_openrc(api))
        osc(admin, "image", "create", "--file", str(guest_image), "--disk-format", "qcow2", "--container-format", "bare",
            "--public", "guest")
        osc(admin, "flavor", "create", "--vcpus", "1", "--ram", "256", "--disk", "1", "v1.agent")
        yield {"api": api, "agents": agents, "admin": admin, "db": db, "base": base}
    finally:
        for a in agents.values():
            a.stop()
        api.stop()
        for name in ("host-a", "host-b"):
            kill_vms(base / name)


def show(env, name):
    return osc(env, "server", "show", name)


def test_placement_full_hosts_agent_loss_and_freed_capacity(cluster):
    admin, agents = cluster["admin"], cluster["agents"]

    # First server: both hosts are empty and equal, the first by name takes it.
    a = create_wait(admin, "--image", "guest", "--flavor", "v1.agent", "--network", "private", "vm-a")
    assert a["status"] == "ACTIVE"
    assert show(admin, "vm-a")["OS-EXT-SRV-ATTR:host"] == "host-a"
    assert (agents["host-a"].data_dir / "compute" / "vms" / a["id"]).is_dir()
    # Its console comes from host-a's agent, through the queue.
    wait_for(lambda: "ciel-guest-ready " + a["id"] in console(admin, "vm-a"), 180, "vm-a's ready marker")

    # Second: host-a is full, host-b takes it.
    b = create_wait(admin, "--image", "guest", "--flavor", "v1.agent", "--network", "private", "vm-b")
    assert b["status"] == "ACTIVE"
    assert show(admin, "vm-b")["OS-EXT-SRV-ATTR:host"] == "host-b"
    assert (agents["host-b"].data_dir / "compute" / "vms" / b["id"]).is_dir()
    assert not (agents["host-a"].data_dir / "compute" / "vms" / b["id"]).exists()
    wait_for(lambda: "ciel-guest-ready " + b["id"] in console(admin, "vm-b"), 180, "vm-b's ready marker")

    # Third: no host has room. The server exists, in ERROR with Nova's fault.
    r = osc(admin, "server", "create", "--image", "guest", "--flavor", "v1.agent", "--network", "private", "vm-c")
    assert r["status"] == "BUILD" or r["status"] == "ERROR"
    c = show(admin, "vm-c")
    assert c["status"] == "ERROR"
    assert "No valid host was found. There are not enough hosts available." in str(c["fault"])
    assert "500" in str(c["fault"])
    assert not c["OS-EXT-SRV-ATTR:host"]

    # host-b's agent dies (kill -9): its VM keeps running, and once the heartbeat timeout has
    # passed the server shows UNKNOWN; host-a's is untouched.
    qemu_b = int((agents["host-b"].data_dir / "compute" / "vms" / b["id"] / "qemu.pid").read_text())
    agents["host-b"].kill()
    os.kill(qemu_b, 0)
    wait_for(lambda: show(admin, "vm-b")["status"] == "UNKNOWN", TIMEOUT_S + 30, "vm-b UNKNOWN")
    assert show(admin, "vm-a")["status"] == "ACTIVE"
    # Its host cannot be reached: an action is Nova's 409, and the server is left as it was.
    r = osc(admin, "server", "stop", "vm-b", check=False, json_output=False)
    assert r.returncode != 0 and "409" in r.stderr
    # Nothing is placed on a dead host: with host-b down there is still no room.
    r = osc(admin, "server", "create", "--image", "guest", "--flavor", "v1.agent", "--network", "private", "vm-d")
    assert show(admin, "vm-d")["status"] == "ERROR"
    osc(admin, "server", "delete", "vm-d", json_output=False)

    # The agent comes back, reconciles, and the server shows its real state again.
    agents["host-b"].start()
    wait_for(lambda: show(admin, "vm-b")["status"] == "ACTIVE", 30, "vm-b ACTIVE again")
    os.kill(qemu_b, 0)
    assert "ciel-guest-ready " + b["id"] in console(admin, "vm-b")

    # Deleting frees capacity: vm-a goes, and the next server takes its place on host-a.
    osc(admin, "server", "delete", "vm-c", json_output=False)
    osc(admin, "server", "delete", "--wait", "vm-a", json_output=False, timeout=300)
    assert not (agents["host-a"].data_dir / "compute" / "vms" / a["id"]).exists()
    e = create_wait(admin, "--image", "guest", "--flavor", "v1.agent", "--network", "private", "vm-e")
    assert e["status"] == "ACTIVE"
    assert show(admin, "vm-e")["OS-EXT-SRV-ATTR:host"] == "host-a"
    names = sorted(x["Name"] for x in osc(admin, "server", "list"))
    assert names == ["vm-b", "vm-e"]
    for n in ("vm-b", "vm-e"):
        osc(admin, "server", "delete", "--wait", n, json_output=False, timeout=300)
    assert osc(admin, "server", "list") == []


def test_concurrent_creates_on_two_api_nodes_never_overfill_a_host(cluster):
    """Two API nodes over the same database, creations racing on both: each host (room for
    three 128 MiB servers) gets exactly what fits, the rest is ERROR "No valid host"."""
    api, admin, base = cluster["api"], cluster["admin"], cluster["base"]
    # A second scheduling node: the same database and the same token keys as the first.
    shutil.copytree(api.data_dir / "keys", base / "api2" / "keys")
    api2 = CielServer(base / "api2", dict(api.settings, **{"server.listen": "127.0.0.1:0"})).start()
    try:
        osc(admin, "flavor", "create", "--vcpus", "1", "--ram", "128", "--disk", "1", "v1.tiny")
        openrc = read_openrc(api)
        token = Keystone(api).token(openrc["OS_USERNAME"], openrc["OS_PASSWORD"], project=openrc["OS_PROJECT_NAME"])
        image = osc(admin, "image", "show", "guest")["id"]
        flavor = osc(admin, "flavor", "show", "v1.tiny")["id"]

        def create(i):
            node = (api, api2)[i % 2]
            r = requests.post(node.url + "/compute/v2.1/servers", headers={"X-Auth-Token": token}, timeout=60,
                              json={"server": {"name": f"race-{i}", "imageRef": image, "flavorRef": flavor}})
            assert r.status_code == 202, r.text
            return r.json()["server"]["id"]

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            ids = list(pool.map(create, range(8)))
        docs = [requests.get(api2.url + "/compute/v2.1/servers/" + i, headers={"X-Auth-Token": token}, timeout=30).json()["server"]
                for i in ids]
        placed = [d["OS-EXT-SRV-ATTR:host"] for d in docs if d["status"] != "ERROR"]
        failed = [d for d in docs if d["status"] == "ERROR"]
        assert sorted(placed) == ["host-a"] * 3 + ["host-b"] * 3, docs
        assert len(failed) == 2
        for d in failed:
            assert d["fault"]["message"] == "No valid host was found. There are not enough hosts available."
            assert d["fault"]["code"] == 500
            assert d["OS-EXT-SRV-ATTR:host"] is None
        on_b = [d["id"] for d in docs if d["OS-EXT-SRV-ATTR:host"] == "host-b"]
        agents = cluster["agents"]
        vms_b = agents["host-b"].data_dir / "compute" / "vms"
        # Each server's boot is done (ACTIVE) before host-b's agent dies.
        wait_for(lambda: all(requests.get(api.url + "/compute/v2.1/servers/" + i, headers={"X-Auth-Token": token},
                                          timeout=30).json()["server"]["status"] == "ACTIVE" for i in on_b), 120, "host-b's servers ACTIVE")
        qemu_b = [int((vms_b / i / "qemu.pid").read_text()) for i in on_b]
        agents["host-b"].kill()
        wait_for(lambda: requests.get(api.url + "/compute/v2.1/servers/" + on_b[0], headers={"X-Auth-Token": token},
                                      timeout=30).json()["server"]["status"] == "UNKNOWN", TIMEOUT_S + 30, "UNKNOWN")
        # Deleting a server of a dead host removes the record at once (Nova's local delete)...
        for i in ids:
            r = requests.delete(api.url + "/compute/v2.1/servers/" + i, headers={"X-Auth-Token": token}, timeout=30)
            assert r.status_code == 204
        for i in on_b:
            r = requests.get(api2.url + "/compute/v2.1/servers/" + i, headers={"X-Auth-Token": token}, timeout=30)
            assert r.status_code == 404
        wait_for(lambda: requests.get(api.url + "/compute/v2.1/servers", headers={"X-Auth-Token": token},
                                      timeout=30).json()["servers"] == [], 180, "every server deleted")
        # ...and the agent, once back, removes the VMs of the servers deleted meanwhile.
        assert all((vms_b / i).is_dir() for i in on_b)
        agents["host-b"].start()
        assert not any((vms_b / i).exists() for i in on_b)
        for pid in qemu_b:
            wait_for(lambda: not os.path.exists(f"/proc/{pid}") or "zombie" in open(f"/proc/{pid}/status").read().lower(),
                     30, f"QEMU {pid} gone")
    finally:
        api2.stop()
