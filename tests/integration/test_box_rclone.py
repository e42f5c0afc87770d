"""Debian's rclone (webdav backend, vendor nextcloud) against the box: sync a tree with nested
folders, Unicode, spaces and URL-special characters in names and a file of a few MiB up, `rclone
check` finds no difference (hashes compared through oc:checksums), local edits and deletions sync
again, and a sync back down into an empty directory is byte-identical, modification times kept.
The server's state is checked through a separate WebDAV client."""
import datetime
import hashlib
import json
import os
import re

import pytest

from box_support import (box_server, make_box_user, make_local_tree, payload, read_local_tree, run,  # noqa: F401
                         tool_env, tree)

RCLONE = "/usr/bin/rclone"

TREE = {
    "readme.md": b"# rclone over the Ciel box\n",
    "docs/a.txt": b"a" * 1000,
    "docs/deep/b.bin": payload(150_000, 40),
    "docs/deep/deeper/c.bin": payload(1, 41),
    "empty.dat": b"",
    "Fotos/été 2024/Ça va.jpg": payload(33_333, 42),
    "with space/file name with spaces.txt": b"spaces everywhere\n",
    "日本語/ファイル.txt": "こんにちは\n".encode(),
    "odd/100% done & more+plus=#1.txt": b"special characters\n",
    "big/large.bin": payload(3 * 1024 * 1024 + 12345, 43),
}


@pytest.fixture(scope="module")
def user(box_server):
    return make_box_user(box_server, "rclone-user")


class Rclone:
    """Debian's rclone with a private config file holding one webdav remote called `box`."""

    def __init__(self, home, dav):
        self.home = home
        home.mkdir(parents=True, exist_ok=True)
        self.config = home / "rclone.conf"
        self.config.write_text("")
        obscured = self.run_raw("obscure", dav.password)
        assert obscured.returncode == 0, obscured.stderr
        lines = ["[box]", "type = webdav", f"url = {dav.url('')}", "vendor = nextcloud", f"user = {dav.user}",
                 f"pass = {obscured.stdout.strip()}"]
        self.config.write_text("\n".join(lines) + "\n")
        os.chmod(self.config, 0o600)

    def run_raw(self, *args, timeout=300):
        # One try only: retries would hide a server error behind a later success.
        argv = [RCLONE, "--config", str(self.config), "--retries", "1", "--low-level-retries", "1", *args]
        return run(argv, tool_env(self.home), timeout=timeout)

    def __call__(self, *args, check=True, timeout=300):
        proc = self.run_raw(*args, timeout=timeout)
        if check:
            assert proc.returncode == 0, (f"rclone {' '.join(args)} failed ({proc.returncode}):\n"
                                          f"stdout: {proc.stdout[-2000:]}\nstderr: {proc.stderr[-4000:]}")
        return proc


@pytest.fixture(scope="module")
def rclone(user, tmp_path_factory):
    return Rclone(tmp_path_factory.mktemp("rclone-home"), user)


def server_files(dav, folder):
    """{relative path: (size, sha256)} of the files under `folder`, as the server serves them."""
    return {k[len(folder) + 1:]: v for k, v in tree(dav, folder).items() if v != "dir"}


def local_files(root):
    return {k: (len(v), hashlib.sha256(v).hexdigest()) for k, v in read_local_tree(root).items()}


def assert_check_clean(rclone, local, remote):
    r = rclone("check", str(local), remote, check=False)
    assert r.returncode == 0 and "0 differences found" in r.stderr, r.stderr[-4000:]
    # With vendor nextcloud rclone compares SHA-1/MD5 from oc:checksums, not only sizes.
    assert "hashes could not be checked" not in r.stderr, r.stderr[-4000:]


def test_sync_up_check_change_and_sync_back_down(rclone, user, tmp_path):
    src = make_local_tree(tmp_path / "src", TREE)
    rclone("sync", str(src), "box:rc-sync")
    assert server_files(user, "rc-sync") == local_files(src)
    assert_check_clean(rclone, src, "box:rc-sync")

    # Local changes: one file edited (same size and different size), one removed, one added, one
    # folder renamed; sync again and check.
    (src / "docs/a.txt").write_bytes(b"b" * 999)
    (src / "docs/deep/b.bin").write_bytes(payload(150_000, 44))
    # rclone tells an edit by size or modification time (1 s precision over WebDAV): the same-size
    # edit is dated an hour later, as an edit made later would be.
    later = (src / "docs/deep/b.bin").stat().st_mtime + 3600
    os.utime(src / "docs/deep/b.bin", (later, later))
    (src / "docs/deep/deeper/c.bin").unlink()
    (src / "new file ✓.txt").write_bytes(b"new file\n")
    os.rename(src / "with space", src / "renamed folder")
    rclone("sync", str(src), "box:rc-sync")
    assert server_files(user, "rc-sync") == local_files(src)
    assert_check_clean(rclone, src, "box:rc-sync")
    assert user.get("rc-sync/docs/deep/deeper/c.bin").status_code == 404
    assert user.get("rc-sync/with space/file name with spaces.txt").status_code == 404

    # Down again into an empty directory: byte-identical to the source.
    down = tmp_path / "down"
    rclone("sync", "box:rc-sync", str(down))
    assert read_local_tree(down) == read_local_tree(src)
    assert_check_clean(rclone, down, "box:rc-sync")


def rfc3339(text):
    m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$", text)
    assert m, text
    zone = "+00:00" if m.group(3) == "Z" else m.group(3)
    return datetime.datetime.fromisoformat(m.group(1) + zone).timestamp() + float(m.group(2) or 0)


def test_modification_times_survive_the_round_trip(rclone, user, tmp_path):
    src = make_local_tree(tmp_path / "src", {"old.txt": b"old", "dir/older.bin": payload(5000, 45)})
    os.utime(src / "old.txt", (1_600_000_000, 1_600_000_000))
    os.utime(src / "dir/older.bin", (1_500_000_000, 1_500_000_000))
    rclone("sync", str(src), "box:rc-mtime")
    entries = {e["Path"]: e for e in json.loads(rclone("lsjson", "-R", "--files-only", "box:rc-mtime").stdout)}
    assert set(entries) == {"old.txt", "dir/older.bin"}, entries
    assert abs(rfc3339(entries["old.txt"]["ModTime"]) - 1_600_000_000) < 1, entries["old.txt"]
    assert abs(rfc3339(entries["dir/older.bin"]["ModTime"]) - 1_500_000_000) < 1, entries["dir/older.bin"]
    down = tmp_path / "down"
    rclone("sync", "box:rc-mtime", str(down))
    assert abs((down / "old.txt").stat().st_mtime - 1_600_000_000) < 1
    assert abs((down / "dir/older.bin").stat().st_mtime - 1_500_000_000) < 1
    # Unchanged files are not transferred again.
    r = rclone("sync", "-v", str(src), "box:rc-mtime")
    assert "Copied" not in r.stderr, r.stderr


def test_copyto_moveto_delete_and_purge(rclone, user, tmp_path):
    src = make_local_tree(tmp_path / "src", {"one.txt": b"one\n", "sub/two.txt": b"two\n"})
    rclone("copy", str(src), "box:rc-ops")
    rclone("copyto", "box:rc-ops/one.txt", "box:rc-ops/copies/one (copy).txt")
    rclone("moveto", "box:rc-ops/sub/two.txt", "box:rc-ops/moved/two.txt")
    assert user.read("rc-ops/copies/one (copy).txt") == b"one\n"
    assert user.read("rc-ops/moved/two.txt") == b"two\n"
    assert user.get("rc-ops/sub/two.txt").status_code == 404
    rclone("deletefile", "box:rc-ops/one.txt")
    assert user.get("rc-ops/one.txt").status_code == 404
    rclone("purge", "box:rc-ops")
    assert not user.exists("rc-ops")
