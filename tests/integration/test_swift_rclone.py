"""Debian's rclone (swift backend, Keystone v3) against Ciel: sync a tree up, check it, list it
as JSON, sync changes, sync back down byte-identical (modification times too), chunked
(segmented) uploads, rcat, server-side copy, about, purge; and the backend configured by flags and
by RCLONE_SWIFT_* variables instead of a config file."""
import datetime
import json
import os
import re

import pytest

from swift_support import Rclone, admin, assert_counters_match_listings, make_member, make_tree, md5, payload, read_tree, swift_server  # noqa: F401

TREE = {
    "readme.md": b"# rclone over Ciel\n",
    "docs/a.txt": b"a" * 1000,
    "docs/deep/b.bin": payload(150_000, 40),
    "docs/deep/deeper/c.bin": payload(1, 41),
    "empty.dat": b"",
    "photos/été/Ça va.jpg": payload(33_333, 42),
    "big/large.bin": payload(2_600_000, 43),
}


@pytest.fixture(scope="module")
def member(swift_server, admin):
    return make_member(swift_server, admin.token, "proj-rclone", "rcloner")


@pytest.fixture(scope="module")
def rclone(swift_server, member, tmp_path_factory):
    # Small chunks so that big/large.bin goes up as segments plus a manifest.
    return Rclone(tmp_path_factory.mktemp("rclone-home"), swift_server, "rcloner", "rcloner-password", "proj-rclone",
                  extra={"chunk_size": "1Mi"})


def rfc3339(text):
    """Seconds since the epoch of an rclone ModTime ("2020-09-13T14:26:40.000000000+02:00")."""
    m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$", text)
    assert m, text
    zone = "+00:00" if m.group(3) == "Z" else m.group(3)
    return datetime.datetime.fromisoformat(m.group(1) + zone).timestamp() + float(m.group(2) or 0)


def lsjson(rclone, remote):
    out = rclone("lsjson", "-R", "--hash", "--files-only", remote).stdout
    return {e["Path"]: e for e in json.loads(out)}


def test_sync_check_lsjson_and_back_down(rclone, member, tmp_path):
    src = make_tree(tmp_path / "src", TREE)
    rclone("sync", str(src), "ciel:rc-sync")
    # Every file is an object of the right size; small ones carry their MD5 as ETag.
    listing = {row["name"]: row for row in member.listing("rc-sync")}
    assert set(listing) == set(TREE), sorted(listing)
    for rel, data in TREE.items():
        assert member.head("rc-sync/" + rel).headers["Content-Length"] == str(len(data)), rel
        assert member.read("rc-sync/" + rel) == data, rel
        if rel != "big/large.bin":
            assert listing[rel]["hash"] == md5(data) and listing[rel]["bytes"] == len(data), rel
    # The big file went up in 1 MiB segments behind a manifest.
    segs = member.listing("rc-sync_segments")
    assert len(segs) == 3 and sum(s["bytes"] for s in segs) == len(TREE["big/large.bin"])

    r = rclone("check", str(src), "ciel:rc-sync")
    assert "0 differences found" in r.stderr, r.stderr

    entries = lsjson(rclone, "ciel:rc-sync")
    assert set(entries) == set(TREE)
    for rel, data in TREE.items():
        assert entries[rel]["Size"] == len(data), rel
        if rel != "big/large.bin":
            assert entries[rel]["Hashes"]["md5"] == md5(data), rel

    # Changes: one file edited, one removed, one added; sync again and check.
    (src / "docs/a.txt").write_bytes(b"b" * 999)
    (src / "docs/deep/deeper/c.bin").unlink()
    (src / "new.txt").write_bytes(b"new file\n")
    rclone("sync", str(src), "ciel:rc-sync")
    r = rclone("check", str(src), "ciel:rc-sync")
    assert "0 differences found" in r.stderr, r.stderr
    assert member.read("rc-sync/docs/a.txt") == b"b" * 999
    assert member.head("rc-sync/docs/deep/deeper/c.bin").status_code == 404
    assert member.read("rc-sync/new.txt") == b"new file\n"

    # Down again into an empty directory: byte-identical to the source.
    down = tmp_path / "down"
    rclone("sync", "ciel:rc-sync", str(down))
    assert read_tree(down) == read_tree(src)
    r = rclone("check", str(down), "ciel:rc-sync")
    assert "0 differences found" in r.stderr


def test_modification_times_survive_the_round_trip(rclone, member, tmp_path):
    src = make_tree(tmp_path / "src", {"old.txt": b"old", "dir/older.bin": payload(5000, 45)})
    os.utime(src / "old.txt", (1_600_000_000, 1_600_000_000))
    os.utime(src / "dir/older.bin", (1_500_000_000.5, 1_500_000_000.5))
    rclone("sync", str(src), "ciel:rc-mtime")
    entries = {e["Path"]: e for e in json.loads(rclone("lsjson", "-R", "--files-only", "ciel:rc-mtime").stdout)}
    assert abs(rfc3339(entries["old.txt"]["ModTime"]) - 1_600_000_000) < 1
    down = tmp_path / "down"
    rclone("sync", "ciel:rc-mtime", str(down))
    assert abs((down / "old.txt").stat().st_mtime - 1_600_000_000) < 1
    assert abs((down / "dir/older.bin").stat().st_mtime - 1_500_000_000.5) < 1
    # Unchanged files are not transferred again (rclone compares size and mtime from metadata).
    r = rclone("sync", "-v", str(src), "ciel:rc-mtime")
    assert "Copied" not in r.stderr, r.stderr


def test_rcat_server_side_copy_and_about(rclone, member):
    small = payload(70_000, 46)
    rclone("rcat", "ciel:rc-misc/streamed-small.bin", input_bytes=small)
    assert member.read("rc-misc/streamed-small.bin") == small
    big = payload(2_300_000, 47)  # more than the 1 MiB chunk size: segments from a stream
    rclone("rcat", "ciel:rc-misc/streamed-big.bin", input_bytes=big)
    assert member.read("rc-misc/streamed-big.bin") == big
    assert rclone("cat", "ciel:rc-misc/streamed-big.bin", binary=True).stdout == big
    # Server-side copy (Swift COPY / X-Copy-From), into another container.
    rclone("copyto", "ciel:rc-misc/streamed-small.bin", "ciel:rc-misc2/copied.bin")
    assert member.read("rc-misc2/copied.bin") == small
    # rclone about reads the account's counters.
    about = json.loads(rclone("about", "--json", "ciel:").stdout)
    containers, objects, used = member.account_counters()
    assert about["used"] == used and about["objects"] == objects


def test_check_notices_a_difference(rclone, member, tmp_path):
    src = make_tree(tmp_path / "src", {"x.txt": b"one", "y.txt": b"two"})
    rclone("sync", str(src), "ciel:rc-diff")
    # Changed behind rclone's back, same size: check must see it through the MD5.
    member.put_object("rc-diff/y.txt", b"TWO")
    r = rclone("check", str(src), "ciel:rc-diff", check=False)
    assert r.returncode != 0
    assert "1 differences found" in r.stderr, r.stderr


def test_purge_removes_everything(rclone, member, tmp_path):
    src = make_tree(tmp_path / "src", {"p/q.txt": b"q", "r.bin": payload(1_500_000, 44)})
    rclone("sync", str(src), "ciel:rc-purge")
    assert len(member.listing("rc-purge")) == 2
    rclone("purge", "ciel:rc-purge")
    assert member.head("rc-purge").status_code == 404
    assert "rc-purge" not in member.names()
    # The counters agree with what is left.
    assert_counters_match_listings(member)
    r = rclone("lsjson", "ciel:rc-purge", check=False)
    assert r.returncode != 0  # the container is gone


def test_backend_from_flags_and_environment(swift_server, rclone, member, tmp_path):
    member.create_container("rc-flags")
    member.put_object("rc-flags/hello.txt", b"hello")
    flags = ["--swift-auth", swift_server.url + "/v3", "--swift-user", "rcloner", "--swift-key", "rcloner-password",
             "--swift-tenant", "proj-rclone", "--swift-domain", "Default", "--swift-tenant-domain", "Default",
             "--swift-auth-version", "3"]
    out = json.loads(rclone("lsjson", *flags, ":swift:rc-flags").stdout)
    assert [(e["Path"], e["Size"]) for e in out] == [("hello.txt", 5)]
    env = rclone.env()
    env.update(RCLONE_SWIFT_AUTH=swift_server.url + "/v3", RCLONE_SWIFT_USER="rcloner",
               RCLONE_SWIFT_KEY="rcloner-password", RCLONE_SWIFT_TENANT="proj-rclone", RCLONE_SWIFT_DOMAIN="Default",
               RCLONE_SWIFT_TENANT_DOMAIN="Default", RCLONE_SWIFT_AUTH_VERSION="3")
    rclone("copyto", ":swift:rc-flags/hello.txt", str(tmp_path / "h.txt"), env=env)
    assert (tmp_path / "h.txt").read_bytes() == b"hello"
    # A wrong key is refused.
    bad = [f if f != "rcloner-password" else "wrong" for f in flags]
    r = rclone("lsjson", *bad, ":swift:rc-flags", check=False)
    assert r.returncode != 0
