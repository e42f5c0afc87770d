#!/usr/bin/env python3
"""The timed side of bench/compute/run.sh: Ciel's Nova API beside plain QEMU boots.

Usage: measure.py BASE_URL DATA_DIR IMAGE ACCEL WORKDIR
Environment: RUNS (10), PARALLEL (8), BOOT_TIMEOUT (300 s).

Set-up (untimed, through the API): an identity token for admin/admin with the password from
DATA_DIR/openrc, the image uploaded (Glance v2), a flavor of 1 vCPU / 256 MiB / 1 GiB, a keypair.
Then, alternating Ciel and plain QEMU (the order reversed every other round):
  1. control-plane overhead, on every sequential create: the 202 of POST /servers received ->
     a process with "-name ciel-<id>" in its command line (/proc, processes newer than the POST),
     polled every 0.5 ms; also the time until QEMU has written DATA_DIR/compute/vms/<id>/qemu.pid;
  2. POST /servers sent -> "ciel-guest-ready <id>" in DATA_DIR/compute/vms/<id>/serial.log,
     RUNS sequential servers, each deleted after (untimed, until the server reads 404); beside it
     plain qemu-system-x86_64 with Ciel's flags, process start -> the marker in its serial file;
  3. PARALLEL POSTs at once (threads) -> all PARALLEL markers, beside PARALLEL plain QEMUs started
     at once -> all markers.
Prints RESULT lines on stdout and writes WORKDIR/summary.json for run.sh's table.
"""
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid as uuidlib

import requests

BASE, DATA, IMAGE, ACCEL, WORK = sys.argv[1:6]
RUNS = int(os.environ.get("RUNS", "10"))
PARALLEL = int(os.environ.get("PARALLEL", "8"))
BOOT_TIMEOUT = float(os.environ.get("BOOT_TIMEOUT", "300"))
NOVA = BASE + "/compute/v2.1"
VMS = os.path.join(DATA, "compute", "vms")
RAM_MIB, VCPUS, DISK_GIB = 256, 1, 1
PLAIN_PIDS = os.path.join(WORK, "plain.pids")


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def openrc():
    env = {}
    with open(os.path.join(DATA, "openrc")) as f:
        for line in f:
            line = line.strip()
            if line.startswith("export "):
                k, _, v = line[7:].partition("=")
                env[k] = v.strip("'\"")
    return env


rc = openrc()
auth = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
    "name": rc.get("OS_USERNAME", "admin"), "domain": {"name": rc.get("OS_USER_DOMAIN_NAME", "Default")},
    "password": rc["OS_PASSWORD"]}}},
    "scope": {"project": {"name": rc.get("OS_PROJECT_NAME", "admin"),
                          "domain": {"name": rc.get("OS_PROJECT_DOMAIN_NAME", "Default")}}}}}
r = requests.post(BASE + "/v3/auth/tokens", json=auth, timeout=30)
assert r.status_code == 201, (r.status_code, r.text[:500])
TOKEN = r.headers["X-Subject-Token"]
H = {"X-Auth-Token": TOKEN}
S = requests.Session()
S.headers.update(H)


def check(resp, *codes):
    if resp.status_code not in codes:
        raise SystemExit(f"measure: {resp.request.method} {resp.request.url} answered {resp.status_code}: {resp.text[:500]}")
    return resp


# --- set-up --------------------------------------------------------------------------------------
img = check(S.post(BASE + "/image/v2/images", json={"name": "bench-guest", "disk_format": "qcow2",
                                                    "container_format": "bare"}, timeout=30), 201).json()
with open(IMAGE, "rb") as f:
    check(S.put(BASE + f"/image/v2/images/{img['id']}/file", data=f,
                headers={"Content-Type": "application/octet-stream"}, timeout=120), 204)
IMAGE_ID = img["id"]
flv = check(S.post(NOVA + "/flavors", json={"flavor": {"name": "bench.v1", "ram": RAM_MIB, "vcpus": VCPUS,
                                                         "disk": DISK_GIB}}, timeout=30), 200).json()["flavor"]
FLAVOR_ID = flv["id"]
key_path = os.path.join(WORK, "key")
subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "bench@ciel", "-f", key_path], check=True)
PUBKEY = open(key_path + ".pub").read().strip()
check(S.post(NOVA + "/os-keypairs", json={"keypair": {"name": "bench", "public_key": PUBKEY}}, timeout=30), 200, 201)
log(f"measure: image {IMAGE_ID}, flavor {FLAVOR_ID}, keypair bench")


def wait_marker(path, marker, deadline, pid=None):
    """Time (monotonic) at which marker appears in path; polled every 20 ms."""
    m = marker.encode()
    while True:
        try:
            with open(path, "rb") as f:
                if m in f.read():
                    return time.monotonic()
        except FileNotFoundError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"measure: no '{marker}' in {path} within {BOOT_TIMEOUT} s")
        if pid is not None and pid.poll() is not None:
            raise SystemExit(f"measure: QEMU exited ({pid.returncode}) before '{marker}' in {path}")
        time.sleep(0.02)


# --- Ciel ----------------------------------------------------------------------------------------
def ciel_post(name):
    t0 = time.monotonic()
    resp = check(requests.post(NOVA + "/servers", headers=H, timeout=60, json={"server": {
        "name": name, "imageRef": IMAGE_ID, "flavorRef": FLAVOR_ID, "key_name": "bench"}}), 202)
    return t0, time.monotonic(), resp.json()["server"]["id"]


def ciel_delete(sid):
    check(S.delete(NOVA + f"/servers/{sid}", timeout=60), 204)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if S.get(NOVA + f"/servers/{sid}", timeout=30).status_code == 404:
            return
        time.sleep(0.2)
    raise SystemExit(f"measure: server {sid} still there 120 s after DELETE")


def last_pid():
    return max(int(n) for n in os.listdir("/proc") if n.isdigit())


def ciel_one(i):
    pid_floor = last_pid()
    sent, accepted, sid = ciel_post(f"bench-seq-{i}")
    pidfile = os.path.join(VMS, sid, "qemu.pid")
    deadline = accepted + 30
    # the QEMU process exists once a process runs with "-name ciel-<id>" (what pgrep -f sees);
    # only processes newer than the POST are read
    needle = ("\0ciel-" + sid + "\0").encode()
    spawned = None
    while spawned is None:
        for name in os.listdir("/proc"):
            if name.isdigit() and int(name) > pid_floor:
                try:
                    with open(f"/proc/{name}/cmdline", "rb") as f:
                        if needle in f.read():
                            spawned = time.monotonic()
                            break
                except OSError:
                    pass
        if spawned is None and os.path.exists(pidfile):  # missed the exec: QEMU already wrote its pid file
            spawned = time.monotonic()
        if time.monotonic() > deadline:
            raise SystemExit(f"measure: no QEMU for {sid} 30 s after the 202")
        time.sleep(0.0005)
    while not os.path.exists(pidfile):
        if time.monotonic() > deadline:
            raise SystemExit(f"measure: no {pidfile} 30 s after the 202")
        time.sleep(0.0005)
    pidfile_at = time.monotonic()
    ready = wait_marker(os.path.join(VMS, sid, "serial.log"), "ciel-guest-ready " + sid, sent + BOOT_TIMEOUT)
    ciel_delete(sid)
    return {"api_ms": (accepted - sent) * 1000, "overhead_ms": (spawned - accepted) * 1000,
            "post_to_qemu_ms": (spawned - sent) * 1000, "pidfile_ms": (pidfile_at - accepted) * 1000,
            "boot_s": ready - sent}


def ciel_many(n):
    out = [None] * n

    def go(k):
        out[k] = ciel_post(f"bench-par-{k}")
    threads = [threading.Thread(target=go, args=(k,)) for k in range(n)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if any(o is None for o in out):
        raise SystemExit("measure: a parallel POST failed")
    ready = [wait_marker(os.path.join(VMS, sid, "serial.log"), "ciel-guest-ready " + sid, t0 + BOOT_TIMEOUT)
             for _, _, sid in out]
    total = max(ready) - t0
    for _, _, sid in out:
        ciel_delete(sid)
    return total


# --- plain QEMU ----------------------------------------------------------------------------------
def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def plain_prepare(tag):
    """A VM directory like Ciel's: qcow2 overlay grown to the flavor's disk, config drive (untimed)."""
    d = os.path.join(WORK, f"plain-{tag}")
    os.makedirs(d)
    uid = str(uuidlib.uuid4())
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", os.path.abspath(IMAGE),
                    os.path.join(d, "disk.qcow2"), str(DISK_GIB << 30)], check=True)
    latest = os.path.join(d, "config-2.d", "openstack", "latest")
    os.makedirs(latest)
    with open(os.path.join(latest, "meta_data.json"), "w") as f:
        json.dump({"uuid": uid, "name": f"plain-{tag}", "hostname": f"plain-{tag}", "launch_index": 0,
                   "availability_zone": "nova", "public_keys": {"bench": PUBKEY},
                   "keys": [{"name": "bench", "type": "ssh", "data": PUBKEY}]}, f)
    with open(os.path.join(latest, "network_data.json"), "w") as f:
        json.dump({"links": [{"id": "tap0", "type": "ethernet", "ethernet_mac_address": "fa:16:3e:00:00:01",
                              "mtu": 1500}],
                   "networks": [{"id": "network0", "type": "ipv4_dhcp", "link": "tap0", "network_id": "n0"}],
                   "services": []}, f)
    subprocess.run(["xorriso", "-as", "mkisofs", "-quiet", "-o", os.path.join(d, "config-2.iso"), "-V", "config-2",
                    "-J", "-R", os.path.join(d, "config-2.d")], check=True, stderr=subprocess.DEVNULL)
    return d, uid


def plain_argv(d, tag):
    # Ciel's driver flags (src/compute/driver/qemu.cc, qemu_argv), with the serial console to a
    # file instead of Ciel's pipe to its log pump.
    return ["qemu-system-x86_64", "-name", f"plain-{tag}", "-M", "pc", "-accel", ACCEL,
            "-m", str(RAM_MIB), "-smp", str(VCPUS), "-nodefaults", "-no-user-config", "-display", "none",
            "-serial", "file:serial.log", "-qmp", "unix:qmp.sock,server=on,wait=off", "-pidfile", "qemu.pid",
            "-drive", "file=disk.qcow2,if=virtio,format=qcow2,discard=unmap,cache=writeback",
            "-drive", "file=config-2.iso,if=virtio,format=raw,readonly=on,media=disk",
            "-netdev", f"user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:{free_port()}-:22",
            "-device", "virtio-net-pci,netdev=n0,mac=fa:16:3e:00:00:01", "-device", "virtio-rng-pci"]


def plain_start(d, tag):
    p = subprocess.Popen(plain_argv(d, tag), cwd=d, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=open(os.path.join(d, "qemu.err"), "w"))
    with open(PLAIN_PIDS, "a") as f:
        f.write(f"{p.pid}\n")
    return p


def plain_stop(p):
    p.kill()
    p.wait()


def plain_one(i):
    d, uid = plain_prepare(f"seq-{i}")
    t0 = time.monotonic()
    p = plain_start(d, f"seq-{i}")
    try:
        ready = wait_marker(os.path.join(d, "serial.log"), "ciel-guest-ready " + uid, t0 + BOOT_TIMEOUT, p)
    finally:
        plain_stop(p)
    subprocess.run(["rm", "-rf", d])
    return ready - t0


def plain_many(n):
    prepared = [plain_prepare(f"par-{k}") for k in range(n)]
    t0 = time.monotonic()
    procs = [plain_start(d, f"par-{k}") for k, (d, _) in enumerate(prepared)]
    try:
        ready = [wait_marker(os.path.join(d, "serial.log"), "ciel-guest-ready " + uid, t0 + BOOT_TIMEOUT, p)
                 for (d, uid), p in zip(prepared, procs)]
    finally:
        for p in procs:
            plain_stop(p)
    for d, _ in prepared:
        subprocess.run(["rm", "-rf", d])
    return max(ready) - t0


# --- the rounds ----------------------------------------------------------------------------------
def res(name, **kv):
    print("RESULT name=" + name + "".join(f" {k}={v}" for k, v in kv.items()), flush=True)


ciel_runs, plain_runs = [], []
for i in range(RUNS):
    order = ("ciel", "plain") if i % 2 == 0 else ("plain", "ciel")
    for side in order:
        if side == "ciel":
            m = ciel_one(i)
            ciel_runs.append(m)
            res("compute.create_overhead.ciel", ms=f"{m['overhead_ms']:.1f}", post_202_ms=f"{m['api_ms']:.1f}",
                post_to_qemu_ms=f"{m['post_to_qemu_ms']:.1f}",
                pidfile_ms=f"{m['pidfile_ms']:.1f}", round=i, accel=ACCEL)
            res("compute.boot_one.ciel", s=f"{m['boot_s']:.3f}", round=i, accel=ACCEL)
        else:
            s = plain_one(i)
            plain_runs.append(s)
            res("compute.boot_one.plain", s=f"{s:.3f}", round=i, accel=ACCEL)

par = {}
for side in (("plain", "ciel") if RUNS % 2 else ("ciel", "plain")):
    t = ciel_many(PARALLEL) if side == "ciel" else plain_many(PARALLEL)
    par[side] = t
    res(f"compute.boot_parallel.{side}", s=f"{t:.3f}", vms=PARALLEL, accel=ACCEL)

med = statistics.median
summary = {
    "accel": ACCEL, "runs": RUNS, "parallel": PARALLEL,
    "overhead_ms_p50": med(m["overhead_ms"] for m in ciel_runs),
    "overhead_ms_max": max(m["overhead_ms"] for m in ciel_runs),
    "post_202_ms_p50": med(m["api_ms"] for m in ciel_runs),
    "post_to_qemu_ms_p50": med(m["post_to_qemu_ms"] for m in ciel_runs),
    "pidfile_ms_p50": med(m["pidfile_ms"] for m in ciel_runs),
    "boot_ciel_s_p50": med(m["boot_s"] for m in ciel_runs),
    "boot_plain_s_p50": med(plain_runs),
    "par_ciel_s": par["ciel"], "par_plain_s": par["plain"],
}
with open(os.path.join(WORK, "summary.json"), "w") as f:
    json.dump(summary, f)
res("compute.create_overhead.p50.ciel", ms=f"{summary['overhead_ms_p50']:.1f}",
    max_ms=f"{summary['overhead_ms_max']:.1f}", pidfile_ms=f"{summary['pidfile_ms_p50']:.1f}", post_202_ms=f"{summary['post_202_ms_p50']:.1f}", n=RUNS)
res("compute.boot_one.p50.ciel", s=f"{summary['boot_ciel_s_p50']:.3f}", n=RUNS)
res("compute.boot_one.p50.plain", s=f"{summary['boot_plain_s_p50']:.3f}", n=RUNS)
