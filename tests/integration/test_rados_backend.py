"""`ciel serve` with its object and box bytes in Ceph RADOS (store.blob_backend = rados): what
real clients upload (aws s3 cp, swift upload, WebDAV) comes back byte-identical, ranges across
stripes included; the bytes are RADOS objects, not files; `ciel scrub` verifies them; and a
cluster that cannot be reached stops the server at start with a clear error.

The cluster is the one scripts/test.sh exports as CIEL_TEST_RADOS_CONF, or a private one started
here with scripts/ceph-test-cluster.sh (about 15 s). Stripes are 1 MiB, so a few MiB cross several."""
import hashlib
import os
import subprocess
import tempfile

import pytest
import requests

from box_support import make_box_user, payload
from conftest import BINARY, ROOT, CielServer
from identity_support import cli_env, osc, read_openrc
from s3_support import S3_SETTINGS, S3User, admin_token, make_user
from swift_support import admin_account, swift, swift_env
from test_compute_servers import console, create_wait, kill_vms, wait_for

CEPH_SCRIPT = ROOT / "scripts" / "ceph-test-cluster.sh"
STRIPE = 1 << 20


@pytest.fixture(scope="module")
def cluster():
    """(ceph.conf, user, pool) of a running test cluster."""
    conf = os.environ.get("CIEL_TEST_RADOS_CONF")
    if conf:
        yield conf, os.environ.get("CIEL_TEST_RADOS_USER", "admin"), os.environ.get("CIEL_TEST_RADOS_POOL", "ciel")
        return
    d = tempfile.mkdtemp(prefix="ciel-ceph.", dir="/tmp")
    r = subprocess.run(["bash", str(CEPH_SCRIPT), "start", d], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    env = dict(item.split("=", 1) for item in r.stdout.strip().split()[1:])
    yield env["CIEL_TEST_RADOS_CONF"], env["CIEL_TEST_RADOS_USER"], env["CIEL_TEST_RADOS_POOL"]
    subprocess.run(["bash", str(CEPH_SCRIPT), "stop", d], capture_output=True, timeout=120)
    subprocess.run(["rm", "-rf", d], timeout=60)


def rados_settings(cluster, pool=None):
    conf, user, default_pool = cluster
    return {"store.blob_backend": "rados", "store.rados.conf": conf, "store.rados.user": user,
            "store.rados.pool": pool or default_pool, "store.rados.stripe_size": "1MiB"}


@pytest.fixture(scope="module")
def pool(cluster):
    """A pool of this module's own, so listings see only this server's blobs."""
    conf, _, _ = cluster
    name = "ciel-it-" + os.urandom(4).hex()
    admin = ["ceph", "-c", conf, "--connect-timeout", "20"]
    # The test cluster's client.ciel may use every pool (scripts/ceph-test-cluster.sh).
    for args in (["osd", "pool", "create", name, "8", "8", "replicated"],
                 ["osd", "pool", "set", name, "size", "1", "--yes-i-really-mean-it"],
                 ["osd", "pool", "application", "enable", name, "rados"]):
        r = subprocess.run(admin + args, capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, (args, r.stderr)
    return name


@pytest.fixture(scope="module")
def server(tmp_path_factory, cluster, pool):
    s = CielServer(tmp_path_factory.mktemp("rados") / "data",
                   dict(S3_SETTINGS, **rados_settings(cluster, pool), **{"compute.ssh_ports": "21200-21299"})).start()
    yield s
    s.stop()
    kill_vms(s.data_dir)


def rados_ls(cluster, pool, namespace):
    conf, user, _ = cluster
    r = subprocess.run(["rados", "-c", conf, "--id", user, "-p", pool, "-N", namespace, "ls"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return sorted(r.stdout.split())


def test_aws_s3_cp_round_trip_byte_identical(server, tmp_path):
    alice = make_user(server, tmp_path, admin_token(server), "rados-s3", "rados-alice")
    alice.aws("s3", "mb", "s3://photos")
    for size in (0, 1000, 3 * STRIPE + 17, 20 * STRIPE + 5):  # the last goes up in parts
        data = payload(size, seed=size)
        src = tmp_path / f"up-{size}"
        src.write_bytes(data)
        alice.aws("s3", "cp", str(src), f"s3://photos/f-{size}")
        out = tmp_path / f"down-{size}"
        alice.aws("s3", "cp", f"s3://photos/f-{size}", str(out))
        assert hashlib.sha256(out.read_bytes()).hexdigest() == hashlib.sha256(data).hexdigest(), size
    # Ranges inside and across stripes.
    data = payload(3 * STRIPE + 17, seed=3 * STRIPE + 17)
    client = alice.client()
    for first, last in ((0, 0), (STRIPE - 5, STRIPE + 5), (100, 3 * STRIPE + 16), (3 * STRIPE, 3 * STRIPE + 16)):
        got = client.get_object(Bucket="photos", Key=f"f-{3 * STRIPE + 17}", Range=f"bytes={first}-{last}")["Body"].read()
        assert got == data[first:last + 1], (first, last)


def test_swift_upload_download_and_blobs_live_in_rados(server, cluster, pool, tmp_path):
    env = swift_env(server)
    data = payload(5 * STRIPE + 3, seed=7)
    src = tmp_path / "big.bin"
    src.write_bytes(data)
    swift(env, "upload", "--object-name", "big.bin", "docs", str(src))
    swift(env, "download", "docs", "big.bin", "-o", str(tmp_path / "back.bin"))
    assert (tmp_path / "back.bin").read_bytes() == data
    acct = admin_account(server)
    r = acct.get("docs/big.bin", headers={"Range": f"bytes={STRIPE - 1}-{4 * STRIPE}"})
    assert r.status_code == 206 and r.content == data[STRIPE - 1:4 * STRIPE + 1]
    # The object's bytes are a head and five tails in namespace `objects`; no blob files.
    names = rados_ls(cluster, pool, "objects")
    heads = [n for n in names if "." not in n]
    assert any(f"{h}.5" in names and f"{h}.6" not in names for h in heads), names
    blob_dir = server.data_dir / "blobs"
    assert not blob_dir.exists() or not any(p.is_file() for p in blob_dir.rglob("*"))
    # Deleting the object removes its stripes (every other object keeps its own).
    before = len(names)
    swift(env, "delete", "docs", "big.bin")
    assert len(rados_ls(cluster, pool, "objects")) == before - 6


def test_box_file_round_trips_over_webdav(server, cluster, pool):
    dav = make_box_user(server, "rados-bob")
    data = payload(2 * STRIPE + 999, seed=11)
    assert dav.put("report.bin", data=data).status_code in (201, 204)
    r = dav.get("report.bin")
    assert r.status_code == 200 and r.content == data
    r = dav.get("report.bin", headers={"Range": f"bytes={STRIPE - 10}-{2 * STRIPE + 10}"})
    assert r.status_code == 206 and r.content == data[STRIPE - 10:2 * STRIPE + 11]
    assert any("." not in n for n in rados_ls(cluster, pool, "box"))


def test_images_live_in_rados_and_servers_boot_from_them(server, cluster, pool, guest_image):
    """An uploaded image is a blob in the namespace `images` (qemu-img checks a staged copy),
    and the compute agent copies it into its own cache to boot a server from it."""
    admin = cli_env(read_openrc(server))
    img = osc(admin, "image", "create", "--file", str(guest_image), "--disk-format", "qcow2", "--container-format", "bare",
              "rados-guest")
    assert osc(admin, "image", "show", img["id"])["status"] == "active"
    assert rados_ls(cluster, pool, "images")
    assert not (server.data_dir / "images").exists() or not any(p.is_file() for p in (server.data_dir / "images").rglob("*"))
    osc(admin, "flavor", "create", "--vcpus", "1", "--ram", "256", "--disk", "1", "rados.small")
    made = create_wait(admin, "--image", "rados-guest", "--flavor", "rados.small", "--network", "private", "rados-vm")
    assert made["status"] == "ACTIVE"
    cached = server.data_dir / "compute" / "images" / f"{img['id']}.qcow2"
    assert cached.read_bytes() == guest_image.read_bytes()
    wait_for(lambda: "ciel-guest-ready " + made["id"] in console(admin, "rados-vm"), 180, "the guest's ready marker")
    osc(admin, "server", "delete", "--wait", "rados-vm", json_output=False, timeout=300)
    assert osc(admin, "server", "list") == []


def test_scrub_reads_the_rados_blobs(server, cluster, pool):
    r = subprocess.run([str(BINARY), "scrub", "--data-dir", str(server.data_dir), "--quiet"]
                       + sum((["--set", f"{k}={v}"] for k, v in rados_settings(cluster, pool).items()), []),
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "0 corrupt" in r.stdout and " 0 blobs" not in r.stdout.split("box")[0], r.stdout


def test_unreachable_cluster_stops_the_server_at_start(tmp_path):
    conf = tmp_path / "ceph.conf"
    conf.write_text(f"[global]\nmon_host = v2:127.0.0.1:9\nkeyring = {tmp_path}/keyring\n")
    (tmp_path / "keyring").write_text("[client.ciel]\n\tkey = AQBxpFZlAAAAABAAgU0sG1vQpoKJ0v3k4Ml6Fw==\n")
    s = CielServer(tmp_path / "data", {"store.blob_backend": "rados", "store.rados.conf": str(conf),
                                       "store.rados.user": "ciel", "store.rados.connect_timeout": "2s"})
    with pytest.raises(RuntimeError) as failed:
        s.start(timeout=60)
    assert s.proc.returncode == 1
    assert "cannot connect to the Ceph cluster" in str(failed.value)
    bad = CielServer(tmp_path / "data2", {"store.blob_backend": "cassandra"})
    with pytest.raises(RuntimeError) as failed:
        bad.start(timeout=60)
    assert bad.proc.returncode == 2 and "store.blob_backend" in str(failed.value)
