"""One namespace, two APIs: what S3 writes Swift reads byte for byte, and the reverse."""
import pytest

from s3_support import admin_token, make_user, md5, server  # noqa: F401  (the module's server fixture)
from swift_support import payload, swift, swift_env


@pytest.fixture(scope="module")
def user(server, tmp_path_factory):
    return make_user(server, tmp_path_factory.mktemp("x"), admin_token(server), "cross-project", "cross-user")


def test_s3_writes_swift_reads(user):
    s3 = user.client()
    s3.create_bucket(Bucket="cross-one")
    data = payload(300_000, 7)
    s3.put_object(Bucket="cross-one", Key="dir/photo.jpg", Body=data, ContentType="image/jpeg",
                  Metadata={"camera": "x100", "place": "Lyon"}, CacheControl="max-age=60",
                  ContentDisposition='attachment; filename="p.jpg"', ContentEncoding="identity")
    r = user.swift.get("cross-one/dir/photo.jpg")
    assert r.status_code == 200 and r.content == data
    assert r.headers["Content-Type"] == "image/jpeg"
    assert r.headers["ETag"] == md5(data)
    assert r.headers["X-Object-Meta-Camera"] == "x100" and r.headers["X-Object-Meta-Place"] == "Lyon"
    assert r.headers["Cache-Control"] == "max-age=60"
    assert r.headers["Content-Disposition"] == 'attachment; filename="p.jpg"'
    assert r.headers["Content-Encoding"] == "identity"
    assert "cross-one" in user.swift.names()


def test_swift_writes_s3_reads(user):
    user.swift.create_container("cross-two")
    data = payload(50_000, 8)
    user.swift.put_object("cross-two/notes.txt", data,
                          headers={"Content-Type": "text/plain", "X-Object-Meta-Author": "bob", "Content-Language": "fr"})
    s3 = user.client()
    got = s3.get_object(Bucket="cross-two", Key="notes.txt")
    assert got["Body"].read() == data
    assert got["ContentType"] == "text/plain"
    assert got["Metadata"] == {"author": "bob"}
    assert got["ETag"] == '"' + md5(data) + '"'
    assert got["ContentLanguage"] == "fr"
    names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert "cross-two" in names and "cross-one" in names
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="cross-two")["Contents"]]
    assert keys == ["notes.txt"]


def test_multipart_object_reads_through_swift(user, tmp_path):
    s3 = user.client()
    s3.create_bucket(Bucket="cross-mp")
    up = s3.create_multipart_upload(Bucket="cross-mp", Key="big", Metadata={"k": "v"})
    parts = [payload(5 * 1024 * 1024, 1), payload(5 * 1024 * 1024, 2), payload(1234, 3)]
    etags = []
    for i, p in enumerate(parts, 1):
        etags.append(s3.upload_part(Bucket="cross-mp", Key="big", UploadId=up["UploadId"], PartNumber=i, Body=p)["ETag"])
    s3.complete_multipart_upload(Bucket="cross-mp", Key="big", UploadId=up["UploadId"],
                                 MultipartUpload={"Parts": [{"PartNumber": i + 1, "ETag": e} for i, e in enumerate(etags)]})
    r = user.swift.get("cross-mp/big")
    assert r.status_code == 200 and r.content == b"".join(parts)
    assert r.headers["X-Object-Meta-K"] == "v"
    counters = user.swift.container_counters("cross-mp")
    assert counters == (1, sum(len(p) for p in parts))
    # Shown as the large object it is, with S3's ETag quoted (not the MD5 of the bytes), so the
    # swift CLI downloads it without an "md5sum != etag" error, and deletes it whole.
    assert r.headers["X-Static-Large-Object"] == "True"
    assert r.headers["ETag"].startswith('"') and r.headers["ETag"].endswith('-3"')
    env = swift_env(user.server, user="cross-user", password=user.swift.password, project="cross-project")
    out = tmp_path / "big"
    swift(env, "download", "cross-mp", "big", "-o", str(out))
    assert out.read_bytes() == b"".join(parts)
    swift(env, "delete", "cross-mp", "big")
    assert user.swift.container_counters("cross-mp") == (0, 0)
    assert s3.list_objects_v2(Bucket="cross-mp")["KeyCount"] == 0


def test_deletes_are_seen_by_both(user):
    s3 = user.client()
    s3.create_bucket(Bucket="cross-del")
    s3.put_object(Bucket="cross-del", Key="a", Body=b"1")
    assert user.swift.delete("cross-del/a").status_code == 204
    assert s3.list_objects_v2(Bucket="cross-del")["KeyCount"] == 0
    user.swift.put_object("cross-del/b", b"2")
    s3.delete_object(Bucket="cross-del", Key="b")
    assert user.swift.get("cross-del/b").status_code == 404
    s3.delete_bucket(Bucket="cross-del")
    assert user.swift.head("cross-del").status_code == 404
