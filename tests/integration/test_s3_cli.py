"""The S3 API driven by Debian's `aws` CLI (awscli v2): the commands people type."""
import os
import pathlib
import subprocess

import pytest
import requests

from s3_support import S3User, admin_token, make_user, md5, server  # noqa: F401  (the module's server fixture)
from swift_support import make_tree, payload, read_tree


@pytest.fixture(scope="module")
def alice(server, tmp_path_factory):
    return make_user(server, tmp_path_factory.mktemp("alice"), admin_token(server), "cli-alice", "cli-alice")


def test_endpoint_is_in_the_catalog_and_endpoints_json(server, alice):
    assert server.endpoints["s3"].startswith("http://127.0.0.1:")
    r = requests.get(server.url + "/v3/auth/catalog", headers={"X-Auth-Token": alice.swift.token}, timeout=30)
    assert r.status_code == 200, r.text
    urls = [ep["url"] for svc in r.json()["catalog"] if svc["type"] == "s3" for ep in svc["endpoints"]]
    assert server.endpoints["s3"] in urls


def test_mb_ls_and_rb(alice):
    alice.aws("s3", "mb", "s3://cli-empty")
    assert "cli-empty" in alice.aws("s3", "ls").stdout
    again = alice.aws("s3", "mb", "s3://cli-empty", check=False)
    assert again.returncode != 0 and "BucketAlreadyOwnedByYou" in again.stderr
    alice.aws("s3", "rb", "s3://cli-empty")
    assert "cli-empty" not in alice.aws("s3", "ls").stdout


def test_cp_tree_sync_both_ways_and_rm_recursive(alice, tmp_path):
    files = {"a.txt": b"alpha\n", "dir/b.bin": payload(70_000, 1), "dir/sub/c.bin": payload(1_500_000, 2),
             "unicode/\u00e9t\u00e9 \u65e5\u672c.txt": b"summer", "empty": b""}
    src = make_tree(tmp_path / "src", files)
    alice.aws("s3", "mb", "s3://cli-tree")
    alice.aws("s3", "cp", "--recursive", str(src), "s3://cli-tree/up/")
    listed = alice.aws("s3", "ls", "--recursive", "s3://cli-tree/up/").stdout
    for name in files:
        assert "up/" + name in listed
    down = tmp_path / "down"
    alice.aws("s3", "cp", "--recursive", "s3://cli-tree/up/", str(down))
    assert read_tree(down) == files

    # sync up: only the changed and new files travel; --delete removes the one gone locally.
    (src / "a.txt").write_bytes(b"alpha, changed\n")
    (src / "new.txt").write_bytes(b"new")
    (src / "empty").unlink()
    out = alice.aws("s3", "sync", "--delete", str(src), "s3://cli-tree/up/").stdout
    assert "a.txt" in out and "new.txt" in out and "delete: s3://cli-tree/up/empty" in out
    assert "dir/b.bin" not in out
    # sync down into the old copy brings it level.
    alice.aws("s3", "sync", "--delete", "s3://cli-tree/up/", str(down))
    assert read_tree(down) == read_tree(src)
    # a second sync has nothing to do.
    assert alice.aws("s3", "sync", str(src), "s3://cli-tree/up/").stdout.strip() == ""

    alice.aws("s3", "rm", "--recursive", "s3://cli-tree/up/")
    assert alice.aws("s3", "ls", "--recursive", "s3://cli-tree/").stdout.strip() == ""
    alice.aws("s3", "rb", "s3://cli-tree")


def test_large_file_goes_up_in_parts_and_comes_back_identical(alice, tmp_path):
    big = tmp_path / "big.bin"
    size = 200 * 1024 * 1024
    with open(big, "wb") as f:
        block = os.urandom(1024 * 1024)
        for i in range(200):
            f.write(block[i:] + block[:i])
    digest = subprocess.run(["md5sum", str(big)], capture_output=True, text=True).stdout.split()[0]
    alice.aws("s3", "mb", "s3://cli-big")
    alice.aws("s3", "cp", str(big), "s3://cli-big/big.bin")
    head = alice.aws("s3api", "head-object", "--bucket", "cli-big", "--key", "big.bin").stdout
    import json
    h = json.loads(head)
    assert h["ContentLength"] == size
    # The CLI uploads 8 MiB parts: 25 of them, and the ETag says so.
    assert h["ETag"].strip('"').endswith("-25")
    back = tmp_path / "back.bin"
    alice.aws("s3", "cp", "s3://cli-big/big.bin", str(back))
    assert subprocess.run(["md5sum", str(back)], capture_output=True, text=True).stdout.split()[0] == digest
    part = json.loads(alice.aws("s3api", "head-object", "--bucket", "cli-big", "--key", "big.bin", "--part-number", "2").stdout)
    assert part["ContentLength"] == 8 * 1024 * 1024 and part["PartsCount"] == 25
    alice.aws("s3", "rm", "s3://cli-big/big.bin")
    alice.aws("s3", "rb", "s3://cli-big")


def test_presigned_url_works_with_curl_and_expires(alice, tmp_path):
    alice.aws("s3", "mb", "s3://cli-presign")
    f = tmp_path / "doc.txt"
    f.write_bytes(b"shared by link")
    alice.aws("s3", "cp", str(f), "s3://cli-presign/doc.txt")
    url = alice.aws("s3", "presign", "s3://cli-presign/doc.txt", "--expires-in", "300").stdout.strip()
    got = subprocess.run(["curl", "-s", "-f", url], capture_output=True, timeout=60)
    assert got.returncode == 0 and got.stdout == b"shared by link"
    # A tampered URL is refused.
    bad = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", url.replace("doc.txt", "doc2.txt")],
                         capture_output=True, text=True, timeout=60)
    assert bad.stdout == "403"
    # Without the signature, the object is private.
    plain = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", url.split("?")[0]],
                           capture_output=True, text=True, timeout=60)
    assert plain.stdout == "403"


def test_s3api_versioning_round_trip(alice, tmp_path):
    import json
    alice.aws("s3", "mb", "s3://cli-versions")
    alice.aws("s3api", "put-bucket-versioning", "--bucket", "cli-versions", "--versioning-configuration", "Status=Enabled")
    st = json.loads(alice.aws("s3api", "get-bucket-versioning", "--bucket", "cli-versions").stdout)
    assert st["Status"] == "Enabled"
    f = tmp_path / "v.txt"
    ids = []
    for text in (b"one", b"two"):
        f.write_bytes(text)
        out = json.loads(alice.aws("s3api", "put-object", "--bucket", "cli-versions", "--key", "v.txt", "--body", str(f)).stdout)
        ids.append(out["VersionId"])
    versions = json.loads(alice.aws("s3api", "list-object-versions", "--bucket", "cli-versions").stdout)["Versions"]
    assert [v["VersionId"] for v in versions] == [ids[1], ids[0]]
    out = tmp_path / "old.txt"
    alice.aws("s3api", "get-object", "--bucket", "cli-versions", "--key", "v.txt", "--version-id", ids[0], str(out))
    assert out.read_bytes() == b"one"
