"""Two `ciel serve` nodes over one PostgreSQL database and one Ceph pool, as behind a load
balancer: what one node writes the other serves (objects, box files, tokens), identity changes
and revocations reach the other node at once as PostgreSQL notices (within the identity refresh
interval should a notice be lost), counters stay exact when both nodes write
into one container at once, kill -9 of a node loses no acknowledged upload, and the background
duties (object expiry) move to the surviving node once the dead one's lease lapses.

Each node has a data directory of its own; they share only `store.metadata`, the RADOS pool and
the master key file (`identity.master_key_file`), as docs/operations.md lays out. PostgreSQL and
Ceph are the ones scripts/test.sh exports, or private ones (see test_swift_postgres.py and
test_rados_backend.py)."""
import hashlib
import os
import subprocess
import threading
import time

import pytest
import requests

from box_support import Dav, make_box_user, payload
from conftest import CielServer
from identity_support import Keystone, read_openrc
from s3_support import S3_SETTINGS, admin_token, make_user
from swift_support import Account, make_member, swift, swift_env, wait_until
from test_rados_backend import cluster, pool, rados_settings  # noqa: F401 (fixtures)
from test_swift_postgres import new_database, pg_base  # noqa: F401 (fixture)

REFRESH = 10.0  # identity.refresh_interval of both nodes (the default), seconds: the polling backstop
NOTICE = 3.0    # identity changes travel as PostgreSQL notices: well under REFRESH, even on a busy machine


def node_settings(database, cluster, pool, extra=None):
    s = dict(S3_SETTINGS, **rados_settings(cluster, pool))
    s.update({"store.metadata": database, "identity.refresh_interval": f"{int(REFRESH * 1000)}ms",
              "object.reaper_interval": "1s"})
    s.update(extra or {})
    return s


@pytest.fixture(scope="module")
def database(pg_base):
    return new_database(pg_base)


@pytest.fixture(scope="module")
def node_a(tmp_path_factory, database, cluster, pool):
    s = CielServer(tmp_path_factory.mktemp("node-a") / "data", node_settings(database, cluster, pool)).start(timeout=60)
    yield s
    s.stop()


@pytest.fixture(scope="module")
def node_b(tmp_path_factory, database, cluster, pool, node_a):
    """The second node: its own data directory, node A's master key."""
    key = node_a.data_dir / "keys" / "credential.key"
    s = CielServer(tmp_path_factory.mktemp("node-b") / "data",
                   node_settings(database, cluster, pool, {"identity.master_key_file": str(key)})).start(timeout=60)
    yield s
    s.stop()


def admin_password(node_a):
    return read_openrc(node_a)["OS_PASSWORD"]


def login(node, user, password, project):
    r = Keystone(node).auth(user, password, project)
    return r


def account_on(node, user, password, project):
    """The user's Swift account through `node` itself. (The catalog names one address for the
    whole deployment, the load balancer's; these nodes have none, so the test picks the node.)"""
    r = login(node, user, password, project)
    assert r.status_code == 201, r.text
    body = r.json()
    return Account(node, r.headers["X-Subject-Token"], f"{node.url}/v1/AUTH_{body['token']['project']['id']}",
                   project_id=body["token"]["project"]["id"], user_id=body["token"]["user"]["id"], project=project,
                   user=user, password=password)


def known_on(node, user, password, project):
    """Waits (within the refresh interval and some slack) until `node` knows a user another node
    just created; returns their Account through that node."""
    assert wait_until(lambda: login(node, user, password, project).status_code == 201, timeout=NOTICE), \
        f"{user} unknown to {node.url}"
    return account_on(node, user, password, project)


def test_an_object_put_with_aws_on_a_downloads_with_swift_on_b(node_a, node_b, tmp_path):
    alice = make_user(node_a, tmp_path / "alice", admin_token(node_a), "scale-s3", "scale-alice")
    alice.aws("s3", "mb", "s3://shared")
    small, big = payload(70_000, seed=1), payload(9 * (1 << 20) + 123, seed=2)  # the big one goes up in parts
    for name, data in (("small.bin", small), ("big.bin", big)):
        src = tmp_path / name
        src.write_bytes(data)
        alice.aws("s3", "cp", str(src), f"s3://shared/{name}")
    on_b = known_on(node_b, "scale-alice", alice.swift.password, "scale-s3")
    env = swift_env(node_a, user="scale-alice", password=alice.swift.password, project="scale-s3",
                    OS_AUTH_URL=node_b.url + "/v3", OS_STORAGE_URL=on_b.storage_url)
    out = tmp_path / "down"
    out.mkdir()
    swift(env, "download", "shared", "small.bin", "big.bin", "-D", str(out))
    for name, data in (("small.bin", small), ("big.bin", big)):
        got = (out / name).read_bytes()
        assert hashlib.sha256(got).hexdigest() == hashlib.sha256(data).hexdigest(), name
    # The big one is two blobs (aws sends 8 MiB parts): a range across their boundary, through B.
    boundary = 8 << 20
    r = requests.get(f"{on_b.storage_url}/shared/big.bin",
                     headers={"X-Auth-Token": on_b.token, "Range": f"bytes={boundary - 10}-{boundary + 9}"}, timeout=30)
    assert r.status_code == 206, r.text
    assert r.content == big[boundary - 10:boundary + 10]
    # And the other way: what B writes, A lists.
    swift(env, "upload", "--object-name", "from-b.txt", "shared", str(out / "small.bin"))
    listed = [o["Key"] for o in alice.client().list_objects_v2(Bucket="shared")["Contents"]]
    assert listed == ["big.bin", "from-b.txt", "small.bin"]


def test_a_box_file_put_over_webdav_on_a_is_listed_and_read_on_b(node_a, node_b):
    dav_a = make_box_user(node_a, "scale-bob")
    data = payload(300_000, seed=3)
    assert dav_a.mkcol("reports").status_code == 201
    assert dav_a.put("reports/q3.pdf", data=data).status_code in (201, 204)
    known_on(node_b, "scale-bob", "scale-bob-password", "proj-scale-bob")
    dav_b = Dav(node_b, "scale-bob", "scale-bob-password")
    children = dav_b.children("reports")
    assert list(children) == ["q3.pdf"]
    assert dav_b.get("reports/q3.pdf").content == data
    # The folder's etag moved on both nodes alike: a sync client may talk to either.
    assert dav_a.children("")["reports"].etag == dav_b.children("")["reports"].etag
    # A sync client's app password made on A works on B; deleted on A, B refuses it within the
    # refresh interval (B had it in its cache of checked credentials).
    r = requests.post(node_a.url + "/box/v1/app-passwords", json={"name": "laptop"},
                      auth=("scale-bob", "scale-bob-password"), timeout=30)
    assert r.status_code == 201, r.text
    app = Dav(node_b, "scale-bob", r.json()["password"])
    assert app.propfind("reports").status_code == 207
    listing = requests.get(node_a.url + "/box/v1/app-passwords", auth=("scale-bob", "scale-bob-password"), timeout=30)
    (app_id,) = [a["id"] for a in listing.json()["app_passwords"] if a["name"] == "laptop"]
    assert requests.delete(f"{node_a.url}/box/v1/app-passwords/{app_id}", auth=("scale-bob", "scale-bob-password"),
                           timeout=30).status_code == 204
    assert wait_until(lambda: app.propfind("reports").status_code == 401, timeout=REFRESH + 5, interval=0.1)


def test_a_token_from_a_works_on_b_and_its_revocation_reaches_b(node_a, node_b):
    ks_a, ks_b = Keystone(node_a), Keystone(node_b)
    admin = ks_a.auth("admin", admin_password(node_a), "admin").headers["X-Subject-Token"]
    r = ks_a.auth("admin", admin_password(node_a), "admin")
    token = r.headers["X-Subject-Token"]
    acct_b = Account(node_b, token, node_b.url + "/v1/AUTH_" + r.json()["token"]["project"]["id"])
    assert acct_b.get("").status_code in (200, 204)  # B accepts A's token for Swift
    check = requests.get(node_b.url + "/v3/auth/tokens", headers={"X-Auth-Token": admin, "X-Subject-Token": token}, timeout=30)
    assert check.status_code == 200 and check.json()["token"]["user"]["name"] == "admin"
    revoked = requests.delete(node_a.url + "/v3/auth/tokens", headers={"X-Auth-Token": admin, "X-Subject-Token": token},
                              timeout=30)
    assert revoked.status_code == 204
    at = time.monotonic()
    assert acct_b_refused(acct_b, timeout=NOTICE)
    delay = time.monotonic() - at
    print(f"revocation on A refused by B after {delay:.3f} s (identity.refresh_interval {REFRESH:.0f} s)")
    # Refused for good, with Swift's answer, not by chance.
    assert acct_b.get("").status_code == 401
    assert requests.get(node_b.url + "/v3/auth/tokens", headers={"X-Auth-Token": admin, "X-Subject-Token": token},
                        timeout=30).status_code == 404


def acct_b_refused(acct, timeout):
    return wait_until(lambda: acct.get("").status_code == 401, timeout=timeout, interval=0.05)


def test_counters_stay_exact_when_both_nodes_write_one_container(node_a, node_b):
    admin_a = admin_account_on(node_a)
    made = make_member(node_a, admin_a.token, "scale-count", "scale-carol")
    member = account_on(node_a, "scale-carol", made.password, "scale-count")
    on_b = known_on(node_b, "scale-carol", made.password, "scale-count")
    member.create_container("tally")
    sizes = {}
    errors = []

    def writer(acct, prefix, n):
        for i in range(n):
            body = payload(100 + (i * 37) % 900, seed=hash((prefix, i)) & 0xffff)
            r = acct.put(f"tally/{prefix}-{i:03d}", data=body)
            if r.status_code != 201:
                errors.append((prefix, i, r.status_code))
                continue
            sizes[f"{prefix}-{i:03d}"] = len(body)
            # Overwrites and deletes move the counters both ways.
            if i % 5 == 0:
                body = payload(50, seed=i)
                assert acct.put(f"tally/{prefix}-{i:03d}", data=body).status_code == 201
                sizes[f"{prefix}-{i:03d}"] = len(body)
            if i % 7 == 0:
                assert acct.delete(f"tally/{prefix}-{i:03d}").status_code == 204
                del sizes[f"{prefix}-{i:03d}"]

    threads = [threading.Thread(target=writer, args=(acct, f"{node}{t}", 40))
               for node, acct in (("a", member), ("b", on_b)) for t in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for acct in (member, on_b):
        objects, used = acct.container_counters("tally")
        assert (objects, used) == (len(sizes), sum(sizes.values()))
        assert sorted(acct.names("tally")) == sorted(sizes)


def admin_account_on(node):
    return account_on(node, "admin", admin_password(node), "admin")


def test_orphaned_blobs_in_the_shared_pool_are_swept_by_one_node(node_a, node_b, tmp_path_factory, database, cluster,
                                                                  pool, tmp_path):
    """A blob no object names (what a node that died between writing it and committing its row
    leaves) goes at the next periodic sweep once older than the grace; named blobs stay."""
    conf, user, _ = cluster
    orphan = os.urandom(16).hex()
    (tmp_path / "orphan").write_bytes(b"left by a node that died")
    r = subprocess.run(["rados", "-c", conf, "--id", user, "-p", pool, "-N", "objects", "put", orphan, str(tmp_path / "orphan")],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    acct = admin_account_on(node_a)
    acct.create_container("kept")
    acct.put_object("kept/x", payload(3 << 20, seed=9))
    before = rados_names(cluster, pool)
    assert orphan in before
    sweeper = CielServer(tmp_path_factory.mktemp("node-c") / "data",
                         node_settings(database, cluster, pool, {
                             "identity.master_key_file": str(node_a.data_dir / "keys" / "credential.key"),
                             "store.rados.sweep_grace": "3s", "store.sweep_interval": "1s"})).start(timeout=60)
    try:
        assert wait_until(lambda: orphan not in rados_names(cluster, pool), timeout=30, interval=0.5)
    finally:
        sweeper.stop()
    after = rados_names(cluster, pool)
    assert after == before - {orphan}  # nothing named went
    assert acct.read("kept/x") == payload(3 << 20, seed=9)
    assert "removed 1 orphaned blobs" in sweeper.stderr() + sweeper.stdout()


def rados_names(cluster, pool):
    conf, user, _ = cluster
    r = subprocess.run(["rados", "-c", conf, "--id", user, "-p", pool, "-N", "objects", "ls"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return set(r.stdout.split())


def test_kill_9_of_a_during_uploads_loses_no_acknowledged_object_and_b_takes_over_expiry(node_a, node_b):
    """Last in this file: node A does not come back."""
    admin_a = admin_account_on(node_a)
    made = make_member(node_a, admin_a.token, "scale-kill", "scale-dave")
    member = account_on(node_a, "scale-dave", made.password, "scale-kill")
    on_b = known_on(node_b, "scale-dave", made.password, "scale-kill")
    assert member.storage_url.startswith(node_a.url) and on_b.storage_url.startswith(node_b.url)
    member.create_container("c")
    acked, attempted = {}, {}
    stop = threading.Event()

    def uploader(t):
        i = 0
        s = requests.Session()
        while not stop.is_set():
            name = f"u{t}-{i:05d}"
            body = payload(1_000_000 + (i % 5) * 700_000, seed=t * 100_000 + i)  # several RADOS stripes
            attempted[name] = body
            try:
                r = s.put(member.url(f"c/{name}"), data=body, headers={"X-Auth-Token": member.token}, timeout=30)
            except requests.RequestException:
                return  # the node died under this request: not acknowledged
            if r.status_code == 201:
                acked[name] = hashlib.md5(body).hexdigest()
                assert r.headers["ETag"].strip('"') == acked[name]
            i += 1

    threads = [threading.Thread(target=uploader, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    assert wait_until(lambda: len(acked) >= 20, timeout=120)
    node_a.kill()
    stop.set()
    for t in threads:
        t.join()
    print(f"{len(acked)} uploads acknowledged by A before kill -9, {len(attempted) - len(acked)} cut off")
    assert len(attempted) > len(acked)  # the kill did land during uploads
    for name, digest in acked.items():
        r = on_b.get(f"c/{name}")
        assert r.status_code == 200, name
        assert hashlib.md5(r.content).hexdigest() == digest, name
    # What A did not acknowledge is either absent or whole, never partial.
    for name in set(attempted) - set(acked):
        r = on_b.get(f"c/{name}")
        assert r.status_code == 404 or r.content == attempted[name], name
    names = set(on_b.names("c"))
    assert set(acked) <= names <= set(attempted)
    objects, used = on_b.container_counters("c")
    assert objects == len(names)
    # Node A held the expiry duty (it started first); once its lease lapses, B reaps. An expired
    # object is hidden at once; the counters drop when the reaper removes it.
    assert on_b.put("c/short-lived", data=b"gone soon", headers={"X-Delete-After": "1"}).status_code == 201
    assert on_b.container_counters("c")[0] == objects + 1
    assert wait_until(lambda: on_b.container_counters("c")[0] == objects, timeout=30, interval=0.5), \
        "expired object never reaped after the lease holder died"
