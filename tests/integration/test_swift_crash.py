"""Durability: `kill -9` of `ciel serve` in the middle of 50 parallel uploads (some new objects,
some overwrites, some with Content-Length and some chunked, all larger than the part size).
After a restart on the same data directory every acknowledged upload reads back intact, nothing
half-written is visible, overwrites are atomic, the usage counters match the listing, and
`ciel scrub` finds nothing wrong. Then the same for a stream of mixed small writes (PUT, POST,
DELETE, container PUT): each object ends in its last acknowledged state or in the state of the
request that was in flight."""
import random
import re
import subprocess
import threading
import time

import requests

from conftest import BINARY
from swift_support import admin_account, assert_counters_match_listings, md5, payload, restart, start_swift_server

CHUNK = 64 * 1024
IDLE = object()  # no request in flight


class SlowBody:
    """An upload body sent in 64 KiB chunks over `duration` seconds. As is, requests sends it
    with a Content-Length; wrapped in chunked(), with Transfer-Encoding: chunked."""

    def __init__(self, data, duration):
        self.data = data
        self.delay = duration / max(1, len(data) // CHUNK)

    def __iter__(self):
        for i in range(0, len(self.data), CHUNK):
            yield self.data[i:i + CHUNK]
            time.sleep(self.delay)

    def __len__(self):
        return len(self.data)


def chunked(body):
    yield from body  # a plain generator: requests sends it chunked


def scrub(server, allow_unreferenced):
    """`ciel scrub`: every blob matches its checksum, every object's blobs exist, the counters
    agree with the objects. Blobs no object names (left by writes the crash interrupted) are
    allowed right after the crash; the restarted server collects them."""
    argv = [str(BINARY), "scrub", "--data-dir", str(server.data_dir), "--quiet"]
    if "store.metadata" in server.settings:  # the metadata is in PostgreSQL, not the data directory
        argv += ["--set", "store.metadata=" + server.settings["store.metadata"]]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    out = r.stdout
    assert r.returncode == 0, (r.returncode, out[-3000:], r.stderr[-3000:])
    for bad in ("CORRUPT", "NO-CHECKSUM", "MISSING", "COUNTER"):
        assert not re.search(rf"^{bad} ", out, re.M), out[-3000:]
    m = re.search(r"^scrub: (\d+) blobs, (\d+) bytes checked, (\d+) corrupt, (\d+) without checksum$", out, re.M)
    assert m and m.group(3) == "0" and m.group(4) == "0", out
    m = re.search(r"^objects: (\d+) versions, (\d+) blobs, (\d+) missing, (\d+) unreferenced, (\d+) counter mismatches$",
                  out, re.M)
    assert m, out
    assert m.group(3) == "0" and m.group(5) == "0", m.group(0)
    if not allow_unreferenced:
        assert m.group(4) == "0", m.group(0)
    return out


def test_kill_9_during_50_parallel_uploads(tmp_path_factory):
    server = start_swift_server(tmp_path_factory, {"object.part_size": "1MiB"}, name="crash")
    try:
        _crash_and_check(server)
    finally:
        server.kill()


def _crash_and_check(server):
    acct = admin_account(server)
    acct.create_container("crash")
    acct.create_container("bystander")
    acct.put_object("bystander/kept.bin", payload(50_000, 999))
    rnd = random.Random(1234)

    # 50 uploads: 40 new names, 10 overwrites of objects written (and acknowledged) beforehand.
    specs = []
    for i in range(50):
        name = f"obj-{i:02d}.bin" if i >= 10 else f"over-{i:02d}.bin"
        size = rnd.randint(1 * 1024 * 1024, 4 * 1024 * 1024)
        # Twenty quick uploads, thirty slow ones that are sure to be in flight at the kill.
        duration = rnd.uniform(0.2, 1.5) if i % 5 < 2 else rnd.uniform(10, 20)
        specs.append({"name": name, "data": payload(size, 5000 + i), "duration": duration, "with_length": i % 2 == 0})
    old = {}
    for s in specs[:10]:
        old[s["name"]] = payload(len(s["data"]) // 2 + 17, 7000 + len(old))
        acct.put_object("crash/" + s["name"], old[s["name"]])

    results = {}
    lock = threading.Lock()
    start = threading.Event()

    def upload(spec):
        body = SlowBody(spec["data"], spec["duration"])
        data = body if spec["with_length"] else chunked(body)
        start.wait()
        try:
            r = requests.put(acct.url("crash/" + spec["name"]), data=data, timeout=120,
                             headers={"X-Auth-Token": acct.token, "Content-Type": "application/octet-stream"})
            outcome = r.status_code
        except requests.RequestException as e:
            outcome = e
        with lock:
            results[spec["name"]] = outcome

    threads = [threading.Thread(target=upload, args=(s,), daemon=True) for s in specs]
    for t in threads:
        t.start()
    start.set()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with lock:
            done = sum(1 for v in results.values() if v == 201)
        if done >= 10:
            break
        time.sleep(0.05)
    server.kill()  # SIGKILL, no drain
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)

    acked = {n for n, v in results.items() if v == 201}
    failed_status = {n: v for n, v in results.items() if isinstance(v, int) and v != 201}
    assert not failed_status, f"uploads answered with an error before the kill: {failed_status}"
    assert len(acked) >= 10, f"only {len(acked)} uploads were acknowledged before the kill"
    in_flight = [n for n, v in results.items() if not isinstance(v, int)]
    assert len(in_flight) >= 5, "the kill came too late: nothing was in flight"

    # The raw state left by the crash is consistent.
    scrub(server, allow_unreferenced=True)

    again = restart(server)
    try:
        acct = admin_account(again)
        by_name = {s["name"]: s["data"] for s in specs}
        listing = {row["name"]: row for row in acct.listing("crash")}
        assert set(listing) <= set(by_name), sorted(set(listing) - set(by_name))
        for name, data in by_name.items():
            r = acct.get("crash/" + name)
            if name in acked:
                assert r.status_code == 200, (name, r.status_code)
                assert r.content == data, f"{name}: acknowledged upload did not survive intact"
            elif name in old:
                # An interrupted overwrite leaves the old version or the new one, never a mix.
                assert r.status_code == 200, (name, r.status_code)
                assert r.content in (old[name], data), f"{name}: neither the old nor the new content"
            else:
                # Never acknowledged: absent, or (if the server finished it as the client died) complete.
                assert r.status_code in (200, 404), (name, r.status_code)
                if r.status_code == 200:
                    assert r.content == data, f"{name}: a partial object is visible"
            if r.status_code == 200:
                assert name in listing, f"{name} readable but not listed"
                assert listing[name]["bytes"] == len(r.content), name
                assert listing[name]["hash"] == md5(r.content), name
                assert r.headers["ETag"].strip('"') == md5(r.content), name
            else:
                assert name not in listing, f"{name} listed but not readable"
        assert acct.read("bystander/kept.bin") == payload(50_000, 999)
        assert_counters_match_listings(acct)

        # The restarted server takes new writes and keeps counting exactly.
        acct.put_object("crash/after-restart.bin", payload(3 * 1024 * 1024 + 5, 4242))
        for name in list(listing)[:3]:
            assert acct.delete("crash/" + name).status_code == 204
        assert acct.read("crash/after-restart.bin") == payload(3 * 1024 * 1024 + 5, 4242)
        assert_counters_match_listings(acct)
    finally:
        again.stop()
    scrub(server, allow_unreferenced=False)


MIXED_SETTINGS = {"object.part_size": "1MiB"}


def test_kill_9_during_mixed_writes_keeps_every_acknowledged_state(tmp_path_factory):
    """Eight clients PUT, POST and DELETE their own objects (and create containers) as fast as
    they can; the server is killed mid-stream. After the restart each object is in the state its
    last acknowledged request left it in, or in the state of the one request that was in flight
    (if the server finished it): never older, never a mix."""
    mixed_writes_then_kill_9(start_swift_server(tmp_path_factory, MIXED_SETTINGS, name="crash-mixed"))


def mixed_writes_then_kill_9(server):
    try:
        acct = admin_account(server)
        acct.create_container("mixed")
        # object -> (acknowledged state, state of the request in flight or IDLE);
        # a state is (md5, X-Object-Meta-Gen) or None for "no object".
        history = {}
        acked_ops = []
        containers = {}  # container -> True if acknowledged, None if in flight
        lock = threading.Lock()
        stop = threading.Event()

        def client(t):
            rnd = random.Random(t)
            s = requests.Session()
            s.headers["X-Auth-Token"] = acct.token
            state = {f"t{t}-o{k}": None for k in range(5)}
            with lock:
                for name in state:
                    history[name] = (None, IDLE)
            step = 0
            while not stop.is_set():
                step += 1
                name = rnd.choice(sorted(state))
                url = acct.url("mixed/" + name)
                op = rnd.random()
                if op < 0.5:
                    # Sizes that take each storage path: kept in the metadata row (up to 16 KiB by
                    # default), one blob, and (one in eight) several parts.
                    kind = rnd.random()
                    size = (rnd.randrange(1 << 20, 3 << 20) if kind < 0.125 else
                            rnd.randrange(0, 16 * 1024) if kind < 0.5 else rnd.randrange(16 * 1024, 200_000))
                    body = payload(size, t * 100_000 + step)
                    new = (md5(body), str(step))
                    call = lambda: s.put(url, data=body, headers={"X-Object-Meta-Gen": str(step)}, timeout=30)  # noqa: E731
                    ok = (201,)
                elif op < 0.75:
                    if state[name] is None:
                        continue
                    new = (state[name][0], str(step))
                    call = lambda: s.post(url, headers={"X-Object-Meta-Gen": str(step)}, timeout=30)  # noqa: E731
                    ok = (202,)
                elif op < 0.95:
                    if state[name] is None:
                        continue
                    new = None
                    call = lambda: s.delete(url, timeout=30)  # noqa: E731
                    ok = (204,)
                else:
                    cname = f"t{t}-c{step}"
                    with lock:
                        containers[cname] = None
                    try:
                        r = s.put(acct.url(cname), timeout=30)
                    except requests.RequestException:
                        return
                    assert r.status_code == 201, r.status_code
                    with lock:
                        containers[cname] = True
                    continue
                with lock:
                    history[name] = (state[name], new)
                try:
                    r = call()
                except requests.RequestException:
                    return  # the server is gone; this request stays "in flight"
                assert r.status_code in ok, (name, r.status_code, r.text[:200])
                state[name] = new
                with lock:
                    history[name] = (new, IDLE)
                    acked_ops.append(name)

        errors = []

        def run(t):
            try:
                client(t)
            except AssertionError as e:
                errors.append(repr(e))

        threads = [threading.Thread(target=run, args=(t,), daemon=True) for t in range(8)]
        for t in threads:
            t.start()
        time.sleep(2.5)
        server.kill()
        stop.set()
        for t in threads:
            t.join(timeout=60)
        assert not errors, errors[:3]
        assert len(history) == 40
        assert len(acked_ops) >= 50, f"only {len(acked_ops)} writes were acknowledged before the kill"
        assert any(f is not IDLE for _, f in history.values()), "nothing was in flight at the kill"

        scrub(server, allow_unreferenced=True)
        again = restart(server)
        try:
            acct = admin_account(again)
            listing = {row["name"]: row for row in acct.listing("mixed")}
            for name, (confirmed, in_flight) in history.items():
                r = acct.get("mixed/" + name)
                assert r.status_code in (200, 404), (name, r.status_code)
                actual = (md5(r.content), r.headers.get("X-Object-Meta-Gen")) if r.status_code == 200 else None
                allowed = [confirmed] if in_flight is IDLE else [confirmed, in_flight]
                assert actual in allowed, f"{name}: found {actual}, acknowledged {confirmed}, in flight {in_flight}"
                if actual is None:
                    assert name not in listing
                else:
                    assert listing[name]["hash"] == actual[0] and listing[name]["bytes"] == len(r.content)
            assert set(listing) <= set(history)
            names = set(acct.names())
            for cname, acked in containers.items():
                if acked:
                    assert cname in names, f"acknowledged container {cname} is gone"
            assert_counters_match_listings(acct)
        finally:
            again.stop()
        scrub(server, allow_unreferenced=False)
    finally:
        server.kill()


def test_objects_that_expire_while_the_server_is_down(tmp_path_factory):
    """An object whose X-Delete-At passes while `ciel serve` is stopped is gone when it comes
    back (404 at once), and the reaper removes it from the listing and the counters."""
    server = start_swift_server(tmp_path_factory, name="expiry-restart")
    try:
        acct = admin_account(server)
        acct.create_container("exp")
        acct.put_object("exp/short", b"short-lived", headers={"X-Delete-After": "2"})
        acct.put_object("exp/long", b"long-lived", headers={"X-Delete-After": "3600"})
        acct.put_object("exp/plain", b"plain")
        server.kill()
        time.sleep(3)
        again = restart(server)
        try:
            acct = admin_account(again)
            assert acct.get("exp/short").status_code == 404
            assert acct.read("exp/long") == b"long-lived" and acct.read("exp/plain") == b"plain"
            deadline = time.monotonic() + 8
            while "short" in acct.names("exp") and time.monotonic() < deadline:
                time.sleep(0.2)
            assert acct.names("exp") == ["long", "plain"]
            assert_counters_match_listings(acct)
        finally:
            again.stop()
    finally:
        server.kill()
