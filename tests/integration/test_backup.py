"""`ciel backup` and `ciel restore` on the embedded default (SQLite + local blobs).

One server gets users, a project, an S3 credential, Swift objects (one segmented by the `swift`
CLI), an S3 multipart object (boto3) and box files (WebDAV). It is backed up while it serves and
while a client keeps uploading and deleting objects; then stopped, restored into a new directory
and started there. What a user would notice is checked on the restored server: every byte, the
S3 keys, the password, a token issued before the backup, and no object listed without its bytes.
Then what must be refused: a non-empty target, a damaged backup, a newer schema, a scale-out
configuration (a server running on PostgreSQL, and RADOS settings).
"""
import json
import os
import pathlib
import shutil
import subprocess
import threading
import time

import pytest
import requests

from box_support import Dav
from conftest import BINARY, CielServer
from identity_support import FAST_SETTINGS, Keystone, read_openrc
from s3_support import S3User, admin_token, make_user, start_s3_server
from swift_support import Account, account_for, admin_account, payload, start_swift_server, swift, swift_env
from test_swift_postgres import new_database, pg_base  # noqa: F401 - pg_base is a fixture

MiB = 1024 * 1024


def ciel(*args, timeout=300):
    return subprocess.run([str(BINARY), *map(str, args)], capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


class UploadLoop(threading.Thread):
    """Keeps writing objects (above the inline size, so each has a blob) into one container and
    deleting older ones, until stopped: the backup runs against a server that is changing."""

    def __init__(self, acct, container):
        super().__init__(daemon=True)
        self.acct, self.container = acct, container
        self.stop_event = threading.Event()
        self.acked = {}  # name -> bytes, for PUTs that returned 201
        self.deleted = set()
        self.error = None

    def run(self):
        n = 0
        try:
            while not self.stop_event.is_set():
                name = f"obj-{n:05d}"
                data = payload(40 * 1024, seed=n)
                r = self.acct.put(f"{self.container}/{name}", data=data)
                if r.status_code == 201:
                    self.acked[name] = data
                if n >= 3 and n % 2 == 1:
                    old = f"obj-{n - 3:05d}"
                    if self.acct.delete(f"{self.container}/{old}").status_code in (204, 404):
                        self.deleted.add(old)
                n += 1
        except Exception as e:  # noqa: BLE001 - reported by the test
            self.error = e

    def stop(self):
        self.stop_event.set()
        self.join(timeout=60)


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("backup")
    src = start_s3_server(tmp_path_factory, name="backup-src")
    try:
        token = admin_token(src)
        alice = make_user(src, tmp, token, "proj-alice", "alice")
        pw = alice.swift.password
        files = {}

        # Swift: objects of several sizes, and a large one the swift CLI splits into segments.
        alice.swift.create_container("photos")
        for name, size in {"empty": 0, "small.txt": 100, "one-mib": MiB + 3, "five-mib.bin": 5 * MiB}.items():
            data = payload(size, seed=size)
            alice.swift.put_object(f"photos/{name}", data)
            files[("photos", name)] = data
        big = payload(3 * MiB + 17, seed=7)
        (tmp / "big.bin").write_bytes(big)
        env = swift_env(src, "alice", pw, "proj-alice")
        swift(env, "upload", "--segment-size", str(MiB), "--object-name", "big.bin", "videos", str(tmp / "big.bin"))
        files[("videos", "big.bin")] = big

        # S3: a multipart object (two 5 MiB parts and a small last one) and a plain one.
        s3 = alice.client()
        s3.create_bucket(Bucket="archive")
        parts_data = [payload(5 * MiB, seed=51), payload(5 * MiB, seed=52), payload(300 * 1024, seed=53)]
        up = s3.create_multipart_upload(Bucket="archive", Key="multi.bin")
        parts = []
        for i, part in enumerate(parts_data, start=1):
            r = s3.upload_part(Bucket="archive", Key="multi.bin", UploadId=up["UploadId"], PartNumber=i, Body=part)
            parts.append({"PartNumber": i, "ETag": r["ETag"]})
        s3.complete_multipart_upload(Bucket="archive", Key="multi.bin", UploadId=up["UploadId"], MultipartUpload={"Parts": parts})
        files[("archive", "multi.bin")] = b"".join(parts_data)
        s3.put_object(Bucket="archive", Key="notes.txt", Body=b"hello from s3\n")
        files[("archive", "notes.txt")] = b"hello from s3\n"

        # The box: a folder and files of several sizes over WebDAV.
        dav = Dav(src, "alice", pw)
        assert dav.mkcol("Documents").status_code == 201
        box_files = {"Documents/report.pdf": payload(2 * MiB + 5, seed=81), "Documents/todo.txt": b"buy bread\n",
                     "photo.jpg": payload(200 * 1024, seed=82)}
        for path, data in box_files.items():
            assert dav.put(path, data=data).status_code in (201, 204)

        # A token issued before the backup, to present to the restored server.
        old_token = Keystone(src).token("alice", pw, project="proj-alice")

        # The backup, while a client keeps writing and deleting.
        alice.swift.create_container("loop")
        loop = UploadLoop(account_for(src, "alice", pw, "proj-alice"), "loop")
        loop.start()
        time.sleep(1.0)
        before_backup = dict(loop.acked)
        deleted_before = set(loop.deleted)
        backup_dir = tmp / "backup"
        started = time.time()
        r = ciel("backup", "--data-dir", src.data_dir, "--to", backup_dir)
        backup_seconds = time.time() - started
        time.sleep(0.5)
        loop.stop()
        assert loop.error is None, loop.error
        assert r.returncode == 0, r.stdout + r.stderr
        src.stop()

        restored_dir = tmp / "restored" / "data"
        rr = ciel("restore", "--from", backup_dir, "--data-dir", restored_dir)
        assert rr.returncode == 0, rr.stdout + rr.stderr
    except BaseException:
        src.stop()
        raise
    restored = CielServer(restored_dir, dict(src.settings, **{"server.listen": "127.0.0.1:0"})).start()
    yield dict(src=src, restored=restored, tmp=tmp, backup_dir=backup_dir, backup_out=r, restore_out=rr, files=files,
               box_files=box_files, alice=alice, password=pw, old_token=old_token, loop=loop,
               before_backup=before_backup, deleted_before=deleted_before, backup_seconds=backup_seconds)
    restored.stop()


def test_backup_reports_what_it_wrote(scenario):
    out = scenario["backup_out"].stdout
    assert "backup of" in out and "files" in out
    manifest = json.loads((scenario["backup_dir"] / "manifest.json").read_text())
    assert manifest["format"] == "ciel-backup"
    assert set(manifest["schema"]) >= {"identity", "object", "box", "compute"}
    listed = {f["path"]: f for f in manifest["files"]}
    assert "meta.db" in listed and "keys/credential.key" in listed
    for path, f in listed.items():
        assert (scenario["backup_dir"] / path).stat().st_size == f["size"], path
    # The master key and the token keys stay private in the backup too.
    for key in (scenario["backup_dir"] / "keys").rglob("*"):
        if key.is_file():
            assert key.stat().st_mode & 0o777 == 0o600, key


def test_restored_objects_are_byte_identical(scenario):
    restored, pw = scenario["restored"], scenario["password"]
    acct = account_for(restored, "alice", pw, "proj-alice")
    for (container, name), data in scenario["files"].items():
        got = acct.read(f"{container}/{name}")
        assert len(got) == len(data) and got == data, (container, name)
    # The same bytes through the swift CLI, which follows the segmented object's manifest.
    env = swift_env(restored, "alice", pw, "proj-alice")
    out = scenario["tmp"] / "big-restored.bin"
    swift(env, "download", "videos", "big.bin", "-o", str(out))
    assert out.read_bytes() == scenario["files"][("videos", "big.bin")]


def test_s3_credential_still_works(scenario):
    # The secret is stored encrypted under the master key: only a restored key makes it usable.
    restored, alice = scenario["restored"], scenario["alice"]
    user = S3User(restored, scenario["tmp"] / "alice-restored", "alice", scenario["password"], "proj-alice",
                  access=alice.access, secret=alice.secret)
    s3 = user.client()
    body = s3.get_object(Bucket="archive", Key="multi.bin")["Body"].read()
    assert body == scenario["files"][("archive", "multi.bin")]
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="archive")["Contents"]] == ["multi.bin", "notes.txt"]


def test_box_files_restored(scenario):
    dav = Dav(scenario["restored"], "alice", scenario["password"])
    for path, data in scenario["box_files"].items():
        r = dav.get(path)
        assert r.status_code == 200, (path, r.status_code)
        assert r.content == data, path
    assert set(dav.children("Documents")) == {"report.pdf", "todo.txt"}


def test_users_log_in_and_old_tokens_validate(scenario):
    restored = scenario["restored"]
    ks = Keystone(restored)
    assert ks.auth("alice", scenario["password"], "proj-alice").status_code == 201
    assert ks.auth("alice", "not the password", "proj-alice").status_code == 401
    admin_pw = read_openrc(restored)["OS_PASSWORD"]
    assert ks.auth("admin", admin_pw, "admin").status_code == 201
    # The token key ring came back: a token from before the backup opens on the new server.
    old = scenario["old_token"]
    r = ks.get("/auth/tokens", old, headers={"X-Subject-Token": old})
    assert r.status_code == 200, r.text
    assert r.json()["token"]["user"]["name"] == "alice"
    acct = account_for(restored, "alice", scenario["password"], "proj-alice")
    with_old = Account(restored, old, acct.storage_url)
    assert with_old.get("photos/small.txt").status_code == 200


def test_objects_written_during_the_backup_are_whole_or_absent(scenario):
    restored, loop = scenario["restored"], scenario["loop"]
    acct = account_for(restored, "alice", scenario["password"], "proj-alice")
    listed = set(acct.names("loop"))
    # Written and not deleted before the backup began: it is in the backup.
    for name in scenario["before_backup"]:
        if name not in loop.deleted:
            assert name in listed, name
    # Whatever the snapshot listed reads back whole: no object without its bytes.
    for name in listed:
        r = acct.get(f"loop/{name}")
        assert r.status_code == 200, (name, r.status_code)
        assert r.content == loop.acked[name], name
    count, used = acct.container_counters("loop")
    assert count == len(listed) and used == sum(len(loop.acked[n]) for n in listed)


def blob_files(root):
    return {p.name for p in pathlib.Path(root).rglob("*") if p.is_file() and "tmp" not in p.relative_to(root).parts}


def test_object_deleted_between_snapshot_and_copy_is_in_the_backup(tmp_path_factory):
    # The snapshot names the object; the server then deletes it and its blob before the blobs are
    # copied. The backup must still hold the object as the snapshot has it.
    src = start_swift_server(tmp_path_factory, name="backup-pin")
    acct = admin_account(src)
    acct.create_container("c")
    doomed, kept = payload(3 * MiB, seed=91), payload(100 * 1024, seed=92)
    acct.put_object("c/doomed", doomed)
    acct.put_object("c/kept", kept)
    tmp = tmp_path_factory.mktemp("backup-pin-run")
    pause = tmp / "pause"
    env = dict(os.environ, CIEL_BACKUP_PAUSE_FOR_TEST=str(pause))
    try:
        out, err, code = backup_with_a_deletion_after_the_snapshot(src, acct, tmp, pause, env)
    finally:
        src.stop()
    assert code == 0, out + err
    assert "taking a new one" not in out  # the pinned copy was enough: no second snapshot

    restored_dir = tmp / "restored"
    r = ciel("restore", "--from", tmp / "out", "--data-dir", restored_dir)
    assert r.returncode == 0, r.stderr
    restored = CielServer(restored_dir, dict(src.settings, **{"server.listen": "127.0.0.1:0"})).start()
    try:
        again = admin_account(restored)
        assert sorted(again.names("c")) == ["doomed", "kept"]
        assert again.read("c/doomed") == doomed
        assert again.read("c/kept") == kept
    finally:
        restored.stop()


def backup_with_a_deletion_after_the_snapshot(src, acct, tmp, pause, env):
    """Runs ciel backup, deletes c/doomed while it waits after its snapshot; (stdout, stderr, status)."""
    proc = subprocess.Popen([str(BINARY), "backup", "--data-dir", str(src.data_dir), "--to", str(tmp / "out")],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 60
        while not pathlib.Path(str(pause) + ".paused").exists():
            assert proc.poll() is None, proc.communicate()
            assert time.time() < deadline, "the backup never paused after its snapshot"
            time.sleep(0.05)
        before = blob_files(src.data_dir / "blobs")
        assert acct.delete("c/doomed").status_code == 204
        assert len(blob_files(src.data_dir / "blobs")) < len(before), "deleting the object did not remove its blob"
        pause.touch()
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return out, err, proc.returncode


def test_scrub_finds_nothing_wrong_in_the_restored_directory(scenario, tmp_path):
    # On a copy (scrub wants the server stopped to be exact; the restored one is running).
    copy = tmp_path / "copy"
    r = ciel("restore", "--from", scenario["backup_dir"], "--data-dir", copy)
    assert r.returncode == 0, r.stderr
    s = ciel("scrub", "--data-dir", copy, "-q")
    assert s.returncode == 0, s.stdout + s.stderr
    assert "0 corrupt" in s.stdout and "0 missing" in s.stdout


def test_restore_refuses_a_non_empty_directory(scenario, tmp_path):
    target = tmp_path / "busy"
    target.mkdir()
    (target / "something").write_text("keep me")
    r = ciel("restore", "--from", scenario["backup_dir"], "--data-dir", target)
    assert r.returncode == 2
    assert "not empty" in r.stderr
    assert [p.name for p in target.iterdir()] == ["something"]
    assert (target / "something").read_text() == "keep me"


def test_backup_refuses_a_non_empty_target(scenario, tmp_path):
    r = ciel("backup", "--data-dir", scenario["src"].data_dir, "--to", scenario["backup_dir"])
    assert r.returncode == 2
    assert "not empty" in r.stderr


def largest_blob(backup_dir):
    blobs = [p for p in (backup_dir / "blobs").rglob("*") if p.is_file() and not p.name.endswith(".sum")]
    return max(blobs, key=lambda p: p.stat().st_size)


def test_restore_refuses_a_truncated_blob(scenario, tmp_path):
    damaged = tmp_path / "damaged"
    shutil.copytree(scenario["backup_dir"], damaged)
    blob = largest_blob(damaged)
    size = blob.stat().st_size
    with open(blob, "r+b") as f:
        f.truncate(size // 2)
    target = tmp_path / "target"
    r = ciel("restore", "--from", damaged, "--data-dir", target)
    assert r.returncode == 1
    assert "damaged" in r.stderr and blob.name in r.stderr
    assert str(size) in r.stderr
    assert not target.exists() or not any(target.iterdir())


def test_restore_refuses_a_corrupted_blob(scenario, tmp_path):
    # Same size, one byte changed: only the checksum can tell, and nothing is left behind.
    damaged = tmp_path / "damaged"
    shutil.copytree(scenario["backup_dir"], damaged)
    blob = largest_blob(damaged)
    with open(blob, "r+b") as f:
        f.seek(1000)
        b = f.read(1)
        f.seek(1000)
        f.write(bytes([b[0] ^ 0xFF]))
    target = tmp_path / "target"
    r = ciel("restore", "--from", damaged, "--data-dir", target)
    assert r.returncode == 1
    assert "damaged" in r.stderr and "checksum" in r.stderr and blob.name in r.stderr
    assert not target.exists() or not any(target.iterdir())


def test_restore_refuses_a_newer_schema(scenario, tmp_path):
    newer = tmp_path / "newer"
    shutil.copytree(scenario["backup_dir"], newer)
    manifest = json.loads((newer / "manifest.json").read_text())
    manifest["schema"]["object"] = 9999
    (newer / "manifest.json").write_text(json.dumps(manifest))
    target = tmp_path / "target"
    r = ciel("restore", "--from", newer, "--data-dir", target)
    assert r.returncode == 1
    assert "newer" in r.stderr and "object" in r.stderr
    assert not target.exists()


def test_restore_refuses_a_directory_without_manifest(tmp_path):
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "meta.db").write_bytes(b"x")
    r = ciel("restore", "--from", tmp_path / "half", "--data-dir", tmp_path / "target")
    assert r.returncode == 1
    assert "not a Ciel backup" in r.stderr


def test_offline_backup_of_the_stopped_server(scenario, tmp_path):
    # The source server was stopped after the online backup: the same command works without it.
    # A VM's directory (disk overlay, config drive): its disk is left out, and both commands say so.
    vm = scenario["src"].data_dir / "compute" / "vms" / "0b5e0c2a-vm-under-test"
    vm.mkdir(parents=True)
    (vm / "disk.qcow2").write_bytes(b"QFI\xfb" + bytes(1000))
    out = tmp_path / "offline"
    r = ciel("backup", "--data-dir", scenario["src"].data_dir, "--to", out, "-q")
    shutil.rmtree(vm)
    assert r.returncode == 0, r.stderr
    assert "not included: the disk of server 0b5e0c2a-vm-under-test" in r.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["skipped"] == ["compute/vms/0b5e0c2a-vm-under-test"]
    assert not any(f["path"].startswith("compute/") for f in manifest["files"])
    restored = tmp_path / "restored"
    rr = ciel("restore", "--from", out, "--data-dir", restored)
    assert rr.returncode == 0, rr.stderr
    assert "not in the backup: the disks of 1 servers" in rr.stdout
    server = CielServer(restored, dict(scenario["src"].settings, **{"server.listen": "127.0.0.1:0"})).start()
    try:
        acct = account_for(server, "alice", scenario["password"], "proj-alice")
        assert acct.read("photos/five-mib.bin") == scenario["files"][("photos", "five-mib.bin")]
    finally:
        server.stop()


def test_backup_refuses_a_postgresql_server(tmp_path_factory, pg_base):
    # A running server whose ciel.toml (in its data directory, as an operator would have it) puts
    # the metadata in PostgreSQL: the data is not in the directory, so ciel backup says what to use.
    data = tmp_path_factory.mktemp("backup-pg") / "data"
    data.mkdir()
    (data / "ciel.toml").write_text(f'[store]\nmetadata = "{new_database(pg_base)}"\n')
    server = CielServer(data, dict(FAST_SETTINGS)).start()
    try:
        assert not (data / "meta.db").exists()
        out = tmp_path_factory.mktemp("backup-pg-out") / "out"
        r = ciel("backup", "--data-dir", data, "--to", out)
        assert r.returncode == 2
        assert "PostgreSQL" in r.stderr and "docs/operations.md" in r.stderr
        assert not out.exists()
        assert requests.get(server.url + "/healthz", timeout=10).status_code == 200
    finally:
        server.stop()


def test_backup_refuses_a_rados_configuration(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    r = ciel("backup", "--data-dir", data, "--set", "store.blob_backend=rados", "--to", tmp_path / "out")
    assert r.returncode == 2
    assert "RADOS" in r.stderr and "docs/operations.md" in r.stderr
