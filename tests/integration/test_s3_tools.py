"""s3cmd (signature v2 and v4) and rclone (s3 backend, provider Other) against the S3 API."""
import pytest

from s3_support import admin_token, make_user, server  # noqa: F401  (the module's server fixture)
from swift_support import make_tree, payload, read_tree


@pytest.fixture(scope="module")
def user(server, tmp_path_factory):
    return make_user(server, tmp_path_factory.mktemp("tools"), admin_token(server), "tools-project", "tools-user")


FILES = {"top.txt": b"top\n", "sub/one.bin": payload(10_000, 1), "sub/deeper/two.bin": payload(6 * 1024 * 1024 + 5, 2),
         "sp ace/na\u00efve.txt": b"unicode"}


@pytest.mark.parametrize("v2", [True, False], ids=["sigv2", "sigv4"])
def test_s3cmd_put_get_ls_del_sync(user, tmp_path, v2):
    b = "s3cmd-v2" if v2 else "s3cmd-v4"
    user.s3cmd("mb", f"s3://{b}", v2=v2)
    f = tmp_path / "single.txt"
    f.write_bytes(b"single file\n")
    user.s3cmd("put", str(f), f"s3://{b}/single.txt", v2=v2)
    out = tmp_path / "got.txt"
    user.s3cmd("get", f"s3://{b}/single.txt", str(out), v2=v2)
    assert out.read_bytes() == b"single file\n"
    assert f"s3://{b}/single.txt" in user.s3cmd("ls", f"s3://{b}", v2=v2).stdout
    assert f"s3://{b}" in user.s3cmd("ls", v2=v2).stdout
    src = make_tree(tmp_path / "src", FILES)
    user.s3cmd("sync", str(src) + "/", f"s3://{b}/tree/", v2=v2)
    listed = user.s3cmd("ls", "--recursive", f"s3://{b}/tree/", v2=v2).stdout
    for name in FILES:
        assert f"s3://{b}/tree/{name}" in listed
    down = tmp_path / "down"
    down.mkdir()
    user.s3cmd("sync", f"s3://{b}/tree/", str(down) + "/", v2=v2)
    assert read_tree(down) == FILES
    user.s3cmd("del", f"s3://{b}/single.txt", v2=v2)
    assert "single.txt" not in user.s3cmd("ls", f"s3://{b}", v2=v2).stdout
    user.s3cmd("del", "--recursive", "--force", f"s3://{b}/tree/", v2=v2)
    user.s3cmd("rb", f"s3://{b}", v2=v2)


def test_rclone_sync_and_check(user, tmp_path):
    src = make_tree(tmp_path / "src", FILES)
    user.rclone("mkdir", "ciel:rclone-bucket")
    user.rclone("sync", str(src), "ciel:rclone-bucket/tree")
    user.rclone("check", str(src), "ciel:rclone-bucket/tree")
    (src / "top.txt").write_bytes(b"changed\n")
    (src / "sub" / "one.bin").unlink()
    user.rclone("sync", str(src), "ciel:rclone-bucket/tree")
    user.rclone("check", str(src), "ciel:rclone-bucket/tree")
    listed = user.rclone("lsf", "-R", "ciel:rclone-bucket/tree").stdout.split()
    assert "sub/one.bin" not in listed and "top.txt" in listed
    down = tmp_path / "down"
    user.rclone("copy", "ciel:rclone-bucket/tree", str(down))
    assert read_tree(down) == read_tree(src)
    # A corrupted local copy is noticed.
    (down / "top.txt").write_bytes(b"tampered\n")
    assert user.rclone("check", str(down), "ciel:rclone-bucket/tree", check=False).returncode != 0
    user.rclone("purge", "ciel:rclone-bucket")
