"""Debian's `swift` CLI (python3-swiftclient) against Ciel's Swift API: the generated openrc
works as is, trees go up and come back byte-identical, segmented uploads (SLO and DLO), stat,
listings, ACLs for a user of another project, TempURLs fetched (and uploaded to) anonymously with
curl, copy, stdin uploads, --skip-identical, re-uploads that replace segments, capabilities,
auth, delete --all and the v1 auth (-A/-U/-K)."""
import json
import re
import subprocess
import urllib.parse

import requests

from swift_support import (admin, alice, bob, make_member, make_tree, md5, parse_stat, payload,  # noqa: F401
                           read_tree, swift, swift_env, swift_server, bare_env)

TREE = {
    "top.txt": b"hello from the top\n",
    "empty": b"",
    "nested/a.bin": payload(70_000, 1),
    "nested/deeper/b.json": b'{"k": [1, 2, 3]}\n',
    "nested/deeper/deepest/c with spaces.dat": payload(4097, 2),
    "nested/Été à Paris €.txt": "caf\u00e9 cr\u00e8me\n".encode("utf-8"),
    "\u65e5\u672c\u8a9e/\u30d5\u30a1\u30a4\u30eb.bin": payload(1234, 3),
}


def alice_env(server):
    return swift_env(server, "alice", "alice-password", "proj-alice")


def bob_env(server, alice_account):
    """Bob's own credentials, aimed at Alice's account."""
    return swift_env(server, "bob", "bob-password", "proj-bob", OS_STORAGE_URL=alice_account.storage_url)


def test_openrc_admin_uploads_and_downloads_a_tree(swift_server, admin, tmp_path):
    env = swift_env(swift_server)
    src = make_tree(tmp_path / "src" / "tree", TREE)
    (src / "empty-dir" / "deeper").mkdir(parents=True)
    swift(env, "upload", "cli-tree", "tree", cwd=src.parent)
    listed = swift(env, "list", "cli-tree").stdout.splitlines()
    # Empty directories go up as zero-byte "application/directory" markers.
    assert listed == sorted(["tree/" + k for k in TREE] + ["tree/empty-dir/deeper"]), listed
    marker = [r for r in admin.listing("cli-tree") if r["name"] == "tree/empty-dir/deeper"][0]
    assert marker["content_type"] == "application/directory" and marker["bytes"] == 0
    # The server holds the right bytes (ETag = MD5 of the content).
    for rel, data in TREE.items():
        r = admin.head("cli-tree/tree/" + rel)
        assert r.status_code == 200 and r.headers["ETag"].strip('"') == md5(data), rel
        assert int(r.headers["Content-Length"]) == len(data)
    out = tmp_path / "out"
    swift(env, "download", "cli-tree", "--output-dir", str(out))
    assert read_tree(out / "tree") == TREE
    assert (out / "tree" / "empty-dir" / "deeper").is_dir()
    # A single object to stdout.
    r = swift(env, "download", "cli-tree", "tree/nested/deeper/b.json", "-o", "-")
    assert r.stdout.encode() == TREE["nested/deeper/b.json"]


def test_segmented_upload_as_slo_downloads_byte_identical(swift_server, admin, tmp_path):
    env = swift_env(swift_server)
    data = payload(3 * 1024 * 1024 + 12345, 10)
    (tmp_path / "big-slo.bin").write_bytes(data)
    swift(env, "upload", "--use-slo", "--segment-size", "1048576", "cli-slo", "big-slo.bin", cwd=tmp_path)
    h = admin.head("cli-slo/big-slo.bin")
    assert h.status_code == 200
    assert h.headers.get("X-Static-Large-Object", "").lower() == "true"
    assert int(h.headers["Content-Length"]) == len(data)
    segments = admin.listing("cli-slo_segments")
    assert len(segments) == 4 and sum(s["bytes"] for s in segments) == len(data)
    swift(env, "download", "cli-slo", "big-slo.bin", "-o", str(tmp_path / "back.bin"))
    assert (tmp_path / "back.bin").read_bytes() == data
    assert admin.read("cli-slo/big-slo.bin") == data
    # The manifest as stored: four segments, in order.
    manifest = admin.get("cli-slo/big-slo.bin", params={"multipart-manifest": "get"}).json()
    assert [m["bytes"] for m in manifest] == [1048576, 1048576, 1048576, 12345]
    # Deleting with the CLI removes the segments too.
    swift(env, "delete", "cli-slo", "big-slo.bin")
    assert admin.head("cli-slo/big-slo.bin").status_code == 404
    assert admin.listing("cli-slo_segments") == []


def test_segmented_upload_as_dlo_downloads_byte_identical(swift_server, admin, tmp_path):
    env = swift_env(swift_server)
    data = payload(2 * 1024 * 1024 + 999, 11)
    (tmp_path / "big-dlo.bin").write_bytes(data)
    swift(env, "upload", "--segment-size", "1048576", "cli-dlo", "big-dlo.bin", cwd=tmp_path)
    h = admin.head("cli-dlo/big-dlo.bin")
    assert h.status_code == 200
    manifest = h.headers.get("X-Object-Manifest", "")
    assert manifest.startswith("cli-dlo_segments/big-dlo.bin/"), manifest
    assert int(h.headers["Content-Length"]) == len(data)
    stat = parse_stat(swift(env, "stat", "cli-dlo", "big-dlo.bin").stdout)
    assert stat["Manifest"] == manifest
    assert len(admin.listing("cli-dlo_segments")) == 3
    swift(env, "download", "cli-dlo", "big-dlo.bin", "-o", str(tmp_path / "back.bin"))
    assert (tmp_path / "back.bin").read_bytes() == data
    swift(env, "delete", "cli-dlo", "big-dlo.bin")
    assert admin.head("cli-dlo/big-dlo.bin").status_code == 404
    assert admin.listing("cli-dlo_segments") == []


def test_reupload_of_a_segmented_object_replaces_its_segments(swift_server, admin, tmp_path):
    """swift upload over an existing SLO or DLO deletes the old segments once the new manifest is
    in place (it reads the old manifest to find them)."""
    env = swift_env(swift_server)
    f = tmp_path / "re.bin"
    for flags, container in ((["--use-slo"], "cli-reslo"), ([], "cli-redlo")):
        first = payload(2_500_000, 50)
        f.write_bytes(first)
        swift(env, "upload", *flags, "--segment-size", "1000000", container, "re.bin", cwd=tmp_path)
        old_segments = set(admin.names(container + "_segments"))
        assert len(old_segments) == 3
        second = payload(1_700_000, 51)
        f.write_bytes(second)
        swift(env, "upload", *flags, "--segment-size", "1000000", container, "re.bin", cwd=tmp_path)
        new_segments = set(admin.names(container + "_segments"))
        assert len(new_segments) == 2 and not (new_segments & old_segments), (old_segments, new_segments)
        assert admin.read(f"{container}/re.bin") == second
        swift(env, "download", container, "re.bin", "-o", str(tmp_path / "back.bin"))
        assert (tmp_path / "back.bin").read_bytes() == second


def test_uploads_from_stdin(swift_server, admin):
    """`swift upload <c> - --object-name` streams stdin (chunked); with --use-slo and a segment
    size it cuts the stream into SLO segments as it goes."""
    env = swift_env(swift_server)
    admin.create_container("cli-stdin")
    small = payload(300_000, 52)
    r = subprocess.run(["/usr/bin/swift", "upload", "cli-stdin", "-", "--object-name", "small.bin"], input=small,
                       env=env, capture_output=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert admin.read("cli-stdin/small.bin") == small
    big = payload(2_600_000, 53)
    r = subprocess.run(["/usr/bin/swift", "upload", "--use-slo", "--segment-size", "1000000", "cli-stdin", "-",
                        "--object-name", "streamed.bin"], input=big, env=env, capture_output=True, timeout=120)
    assert r.returncode == 0, r.stderr
    h = admin.head("cli-stdin/streamed.bin")
    assert h.headers.get("X-Static-Large-Object", "").lower() == "true"
    assert admin.read("cli-stdin/streamed.bin") == big
    r = subprocess.run(["/usr/bin/swift", "download", "cli-stdin", "streamed.bin", "-o", "-"], env=env,
                       capture_output=True, timeout=120)
    assert r.returncode == 0 and r.stdout == big


def test_capabilities_and_auth(swift_server, admin):
    env = swift_env(swift_server)
    caps = json.loads(swift(env, "capabilities", "--json").stdout)
    assert caps == requests.get(swift_server.url + "/info", timeout=30).json()
    out = swift(env, "auth").stdout
    exports = dict(re.findall(r"^export (\w+)=(.*)$", out, re.M))
    assert exports["OS_STORAGE_URL"].strip("'\"") == admin.storage_url
    token = exports["OS_AUTH_TOKEN"].strip("'\"")
    assert requests.head(admin.storage_url, headers={"X-Auth-Token": token}, timeout=30).status_code == 204


def test_skip_identical_uploads_nothing_twice(swift_server, admin, tmp_path):
    """`swift upload --skip-identical` compares local files with the ETags (and, for SLO and
    DLO, the segments' ETags): a second run over an unchanged tree writes nothing."""
    env = swift_env(swift_server)
    files = {"small.txt": b"small\n", "mid.bin": payload(400_000, 54), "big.bin": payload(2_200_000, 55)}
    make_tree(tmp_path / "t", files)
    for flags, container in ((["--use-slo", "--segment-size", "1000000"], "cli-skip-slo"),
                             (["--segment-size", "1000000"], "cli-skip-dlo")):
        swift(env, "upload", *flags, container, "small.txt", "mid.bin", "big.bin", cwd=tmp_path / "t")
        stamps = {n: admin.head(f"{container}/{n}").headers["X-Timestamp"] for n in files}
        segments = {r["name"]: r["hash"] for r in admin.listing(container + "_segments")}
        r = swift(env, "upload", "--skip-identical", *flags, container, "small.txt", "mid.bin", "big.bin",
                  cwd=tmp_path / "t")
        assert {n: admin.head(f"{container}/{n}").headers["X-Timestamp"] for n in files} == stamps, r.stdout
        assert {r["name"]: r["hash"] for r in admin.listing(container + "_segments")} == segments
        # A changed file is uploaded again.
        (tmp_path / "t" / "mid.bin").write_bytes(payload(400_000, 56))
        swift(env, "upload", "--skip-identical", *flags, container, "mid.bin", cwd=tmp_path / "t")
        assert admin.head(f"{container}/mid.bin").headers["X-Timestamp"] != stamps["mid.bin"]
        assert admin.read(f"{container}/mid.bin") == payload(400_000, 56)
        (tmp_path / "t" / "mid.bin").write_bytes(files["mid.bin"])


def test_stat_account_container_object(swift_server, admin, tmp_path):
    acct = make_member(swift_server, admin.token, "proj-stat", "stat-user")
    env = swift_env(swift_server, "stat-user", "stat-user-password", "proj-stat")
    (tmp_path / "one.txt").write_bytes(b"12345")
    (tmp_path / "two.txt").write_bytes(b"abcdefghij")
    swift(env, "upload", "-m", "Color:blue", "stats", "one.txt", "two.txt", cwd=tmp_path)
    swift(env, "post", "-m", "Owner:ops", "stats")
    a = parse_stat(swift(env, "stat").stdout)
    assert a["Account"] == "AUTH_" + acct.project_id
    assert (a["Containers"], a["Objects"], a["Bytes"]) == ("1", "2", "15")
    c = parse_stat(swift(env, "stat", "stats").stdout)
    assert (c["Container"], c["Objects"], c["Bytes"]) == ("stats", "2", "15")
    assert c["Meta Owner"] == "ops"
    assert c["Read ACL"] == "" and c["Write ACL"] == ""
    o = parse_stat(swift(env, "stat", "stats", "two.txt").stdout)
    assert o["Object"] == "two.txt"
    assert o["Content Length"] == "10"
    assert o["Content Type"].startswith("text/plain")
    assert o["ETag"] == md5(b"abcdefghij")
    assert o["Meta Color"] == "blue"
    assert "Last Modified" in o
    # A missing object: non-zero exit, and a "not found" message.
    r = swift(env, "stat", "stats", "nope.txt", check=False)
    assert r.returncode != 0 and "not found" in r.stderr.lower()


def test_list_with_prefix_and_delimiter(swift_server, admin, tmp_path):
    env = swift_env(swift_server)
    admin.create_container("cli-list")
    for name in ("a/1", "a/2", "a/b/3", "b/4", "c"):
        admin.put_object("cli-list/" + name, name.encode())
    assert swift(env, "list", "cli-list").stdout.splitlines() == ["a/1", "a/2", "a/b/3", "b/4", "c"]
    assert swift(env, "list", "cli-list", "--delimiter", "/").stdout.splitlines() == ["a/", "b/", "c"]
    assert swift(env, "list", "cli-list", "--prefix", "a/", "--delimiter", "/").stdout.splitlines() == \
        ["a/1", "a/2", "a/b/"]
    assert swift(env, "list", "cli-list", "--prefix", "a/b").stdout.splitlines() == ["a/b/3"]
    assert "cli-list" in swift(env, "list").stdout.splitlines()
    assert swift(env, "list", "--prefix", "cli-li").stdout.splitlines() == ["cli-list"]
    totals = swift(env, "list", "cli-list", "-l", "--totals", "--prefix", "a/").stdout.splitlines()
    assert totals[-1].split()[0] == str(len(b"a/1a/2a/b/3"))


def test_post_read_and_write_acls_for_another_projects_user(swift_server, alice, bob, tmp_path):
    a_env = alice_env(swift_server)
    b_env = bob_env(swift_server, alice)
    (tmp_path / "mine.txt").write_bytes(b"alice's data\n")
    swift(a_env, "upload", "shared", "mine.txt", cwd=tmp_path)
    (tmp_path / "bobs.txt").write_bytes(b"bob was here\n")

    # Before any ACL: Bob can neither list, read nor write.
    r = swift(b_env, "list", "shared", check=False)
    assert r.returncode != 0 and "403" in r.stderr, r.stderr
    r = swift(b_env, "download", "shared", "mine.txt", "-o", "-", check=False)
    assert r.returncode != 0 and "mine.txt" not in r.stdout
    r = swift(b_env, "upload", "shared", "bobs.txt", cwd=tmp_path, check=False)
    assert r.returncode != 0
    assert alice.head("shared/bobs.txt").status_code == 404

    # Read ACL for Bob (project:user ids): list and download, still no upload.
    swift(a_env, "post", "-r", f"{bob.project_id}:{bob.user_id}", "shared")
    assert parse_stat(swift(a_env, "stat", "shared").stdout)["Read ACL"] == f"{bob.project_id}:{bob.user_id}"
    assert swift(b_env, "list", "shared").stdout.splitlines() == ["mine.txt"]
    assert swift(b_env, "download", "shared", "mine.txt", "-o", "-").stdout == "alice's data\n"
    r = swift(b_env, "upload", "shared", "bobs.txt", cwd=tmp_path, check=False)
    assert r.returncode != 0
    assert alice.head("shared/bobs.txt").status_code == 404

    # Write ACL too: the upload lands in Alice's container.
    swift(a_env, "post", "-w", f"{bob.project_id}:{bob.user_id}", "shared")
    swift(b_env, "upload", "shared", "bobs.txt", cwd=tmp_path)
    assert alice.read("shared/bobs.txt") == b"bob was here\n"
    # Bob still cannot touch Alice's other containers or her account.
    alice.create_container("private")
    r = swift(b_env, "list", "private", check=False)
    assert r.returncode != 0
    r = swift(b_env, "list", check=False)
    assert r.returncode != 0

    # Removing the ACLs takes the access away again.
    swift(a_env, "post", "-r", "", "-w", "", "shared")
    r = swift(b_env, "list", "shared", check=False)
    assert r.returncode != 0 and "403" in r.stderr


def test_tempurl_then_anonymous_curl(swift_server, alice, tmp_path):
    a_env = alice_env(swift_server)
    data = payload(300_000, 20)
    (tmp_path / "report.pdf").write_bytes(data)
    swift(a_env, "upload", "tmp-c", "report.pdf", cwd=tmp_path)
    swift(a_env, "post", "-m", "Temp-URL-Key:s3cr3t-k3y")
    assert alice.head().headers.get("X-Account-Meta-Temp-Url-Key") == "s3cr3t-k3y"
    path = f"{alice.account_path}/tmp-c/report.pdf"

    def curl(url, out):
        r = subprocess.run(["curl", "-sS", "-o", str(out), "-w", "%{http_code}", url],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        return int(r.stdout)

    # Without a signature the object is not public.
    assert curl(swift_server.url + path, tmp_path / "anon") == 401
    # swift tempurl (SHA-256 by default in this client), then curl with no credentials.
    temp = swift(a_env, "tempurl", "GET", "60", path, "s3cr3t-k3y").stdout.strip()
    assert temp.startswith(path + "?temp_url_sig="), temp
    assert curl(swift_server.url + temp, tmp_path / "got") == 200
    assert (tmp_path / "got").read_bytes() == data
    # SHA-1 as well.
    temp1 = swift(a_env, "tempurl", "--digest", "sha1", "GET", "60", path, "s3cr3t-k3y").stdout.strip()
    assert curl(swift_server.url + temp1, tmp_path / "got1") == 200
    assert (tmp_path / "got1").read_bytes() == data
    # A tampered signature, another object, or another method: 401.
    sig = urllib.parse.parse_qs(urllib.parse.urlsplit(temp).query)["temp_url_sig"][0]
    bad = temp.replace(sig, ("0" if sig[0] != "0" else "1") + sig[1:])
    assert curl(swift_server.url + bad, tmp_path / "bad") == 401
    alice.put_object("tmp-c/other.pdf", b"other")
    assert curl(swift_server.url + temp.replace("/report.pdf?", "/other.pdf?"), tmp_path / "bad2") == 401
    r = requests.put(swift_server.url + temp, data=b"overwrite", timeout=30)
    assert r.status_code == 401
    assert alice.read("tmp-c/report.pdf") == data
    # Expired.
    old = swift(a_env, "tempurl", "--absolute", "GET", "1000000000", path, "s3cr3t-k3y").stdout.strip()
    assert curl(swift_server.url + old, tmp_path / "old") == 401
    # An ISO 8601 expiry, as --iso8601 writes it.
    iso = swift(a_env, "tempurl", "--iso8601", "GET", "60", path, "s3cr3t-k3y").stdout.strip()
    assert re.search(r"temp_url_expires=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", iso), iso
    assert curl(swift_server.url + iso, tmp_path / "iso") == 200
    assert (tmp_path / "iso").read_bytes() == data
    # A prefix-based URL opens every object under the prefix, and nothing else.
    alice.put_object("tmp-c/shared/one.txt", b"one")
    alice.put_object("tmp-c/shared/two.txt", b"two")
    pre = swift(a_env, "tempurl", "--prefix-based", "GET", "60", f"{alice.account_path}/tmp-c/shared/",
                "s3cr3t-k3y").stdout.strip()
    query = pre.split("?", 1)[1]
    for name, body in (("one.txt", b"one"), ("two.txt", b"two")):
        assert curl(f"{swift_server.url}{alice.account_path}/tmp-c/shared/{name}?{query}", tmp_path / name) == 200
        assert (tmp_path / name).read_bytes() == body
    assert curl(f"{swift_server.url}{path}?{query}", tmp_path / "outside") == 401
    # Upload through a PUT temp URL with curl -T (which sends Expect: 100-continue).
    up = swift(a_env, "tempurl", "PUT", "60", f"{alice.account_path}/tmp-c/uploaded.bin", "s3cr3t-k3y").stdout.strip()
    big = payload(2_000_000, 21)
    (tmp_path / "up.bin").write_bytes(big)
    r = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-T", str(tmp_path / "up.bin"),
                        swift_server.url + up], capture_output=True, text=True, timeout=60)
    assert r.stdout == "201", (r.stdout, r.stderr)
    assert alice.read("tmp-c/uploaded.bin") == big


def test_copy(swift_server, admin, tmp_path):
    env = swift_env(swift_server)
    data = payload(100_000, 30)
    admin.create_container("cli-copy")
    admin.put_object("cli-copy/src.bin", data, headers={"X-Object-Meta-Origin": "first"})
    swift(env, "copy", "-d", "/cli-copy-dst/renamed.bin", "cli-copy", "src.bin")
    assert admin.read("cli-copy-dst/renamed.bin") == data
    assert admin.head("cli-copy-dst/renamed.bin").headers.get("X-Object-Meta-Origin") == "first"
    swift(env, "copy", "-d", "/cli-copy-dst", "-m", "Extra:yes", "cli-copy", "src.bin")
    h = admin.head("cli-copy-dst/src.bin")
    assert h.status_code == 200 and h.headers.get("X-Object-Meta-Extra") == "yes"
    assert admin.read("cli-copy-dst/src.bin") == data
    # The source is untouched.
    assert admin.read("cli-copy/src.bin") == data


def test_delete_all_empties_the_account(swift_server, admin, tmp_path):
    acct = make_member(swift_server, admin.token, "proj-delall", "delall")
    env = swift_env(swift_server, "delall", "delall-password", "proj-delall")
    files = {f"d{i // 10}/f{i}.txt": f"file {i}\n".encode() for i in range(45)}
    make_tree(tmp_path / "t", files)
    swift(env, "upload", "one", "d0", "d1", cwd=tmp_path / "t")
    swift(env, "upload", "two", "d2", "d3", "d4", cwd=tmp_path / "t")
    (tmp_path / "big.bin").write_bytes(payload(2_500_000, 31))
    swift(env, "upload", "--use-slo", "--segment-size", "1000000", "three", "big.bin", cwd=tmp_path)
    assert acct.account_counters()[0] == 4  # one, two, three, three_segments
    swift(env, "delete", "--all")
    assert acct.listing() == []
    assert acct.account_counters() == (0, 0, 0)
    assert swift(env, "list").stdout == ""


def test_v1_auth(swift_server, alice, tmp_path):
    auth = swift_server.url + "/auth/v1.0"
    r = requests.get(auth, headers={"X-Auth-User": "proj-alice:alice", "X-Auth-Key": "alice-password"}, timeout=30)
    assert r.status_code == 200, r.text
    assert r.headers["X-Storage-Url"] == alice.storage_url
    assert r.headers["X-Auth-Token"] and r.headers["X-Storage-Token"] == r.headers["X-Auth-Token"]
    assert requests.head(alice.storage_url, headers={"X-Auth-Token": r.headers["X-Auth-Token"]},
                         timeout=30).status_code in (200, 204)
    # Wrong key, unknown user, malformed user: 401, no token.
    for user, key in (("proj-alice:alice", "wrong-password"), ("proj-alice:nobody", "x"), ("alice", "alice-password")):
        r = requests.get(auth, headers={"X-Auth-User": user, "X-Auth-Key": key}, timeout=30)
        assert r.status_code == 401, (user, r.status_code)
        assert "X-Auth-Token" not in r.headers
    # The CLI with -A/-U/-K.
    v1 = ["-A", auth, "-U", "proj-alice:alice", "-K", "alice-password"]
    (tmp_path / "v1.txt").write_bytes(b"via v1 auth\n")
    swift(bare_env(), *v1, "upload", "v1c", "v1.txt", cwd=tmp_path)
    st = parse_stat(swift(bare_env(), *v1, "stat").stdout)
    assert st["Account"] == "AUTH_" + alice.project_id
    assert swift(bare_env(), *v1, "list", "v1c").stdout.splitlines() == ["v1.txt"]
    assert alice.read("v1c/v1.txt") == b"via v1 auth\n"
    r = swift(bare_env(), "-A", auth, "-U", "proj-alice:alice", "-K", "bad", "-R", "0", "stat", check=False)
    assert r.returncode != 0
