"""The S3 API through boto3 (Debian's python3-boto3): every operation the API offers, with the
answers botocore parses, including versioning, multipart edge cases and presigned URLs."""
import datetime
import hashlib
import base64
import time

import botocore.exceptions
import pytest
import requests

from s3_support import S3User, admin_token, error_code, make_user, md5, server  # noqa: F401  (the module's server fixture)
from swift_support import payload

MiB = 1024 * 1024


@pytest.fixture(scope="module")
def token(server):
    return admin_token(server)


@pytest.fixture(scope="module")
def alice(server, token, tmp_path_factory):
    return make_user(server, tmp_path_factory.mktemp("alice"), token, "b3-alice", "b3-alice")


@pytest.fixture(scope="module")
def bob(server, token, tmp_path_factory):
    return make_user(server, tmp_path_factory.mktemp("bob"), token, "b3-bob", "b3-bob")


@pytest.fixture(scope="module")
def s3(alice):
    return alice.client()


def code_of(excinfo):
    return excinfo.value.response["Error"]["Code"]


def status_of(excinfo):
    return excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"]


def bucket(s3, name):
    s3.create_bucket(Bucket=name)
    return name


# --- buckets -------------------------------------------------------------------------------------

def test_bucket_lifecycle_and_errors(s3, bob):
    s3.create_bucket(Bucket="b3-basic", CreateBucketConfiguration={"LocationConstraint": "us-east-1"})
    created = {b["Name"]: b["CreationDate"] for b in s3.list_buckets()["Buckets"]}["b3-basic"]
    assert abs((datetime.datetime.now(datetime.timezone.utc) - created).total_seconds()) < 60
    # Changing a bucket's settings does not change when it was created.
    time.sleep(1.1)
    s3.put_bucket_tagging(Bucket="b3-basic", Tagging={"TagSet": [{"Key": "k", "Value": "v"}]})
    assert {b["Name"]: b["CreationDate"] for b in s3.list_buckets()["Buckets"]}["b3-basic"] == created
    s3.head_bucket(Bucket="b3-basic")
    assert s3.get_bucket_location(Bucket="b3-basic").get("LocationConstraint") == "us-east-1"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.create_bucket(Bucket="b3-basic")
    assert code_of(e) == "BucketAlreadyOwnedByYou" and status_of(e) == 409
    with pytest.raises(botocore.exceptions.ClientError) as e:
        bob.client().create_bucket(Bucket="b3-basic")
    assert code_of(e) == "BucketAlreadyExists"
    for bad in ("Upper", "ab", "a" * 64, "-dash", "bad_underscore", "192.168.1.1", "two..dots"):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            s3.create_bucket(Bucket=bad)
        assert code_of(e) == "InvalidBucketName", bad
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.create_bucket(Bucket="b3-elsewhere", CreateBucketConfiguration={"LocationConstraint": "eu-west-3"})
    assert status_of(e) == 400
    s3.put_object(Bucket="b3-basic", Key="k", Body=b"x")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.delete_bucket(Bucket="b3-basic")
    assert code_of(e) == "BucketNotEmpty" and status_of(e) == 409
    s3.delete_object(Bucket="b3-basic", Key="k")
    s3.delete_bucket(Bucket="b3-basic")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.head_bucket(Bucket="b3-basic")
    assert status_of(e) == 404
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.list_objects_v2(Bucket="b3-basic")
    assert code_of(e) == "NoSuchBucket"


def test_list_objects_v1_and_v2(s3):
    b = bucket(s3, "b3-list")
    keys = ["a/1", "a/2", "a/b/3", "b/4", "c", "d/5", "d/6", "e+f g", "\u00e9t\u00e9/7"]
    for k in keys:
        s3.put_object(Bucket=b, Key=k, Body=k.encode())
    got = s3.list_objects_v2(Bucket=b)
    assert [o["Key"] for o in got["Contents"]] == sorted(keys, key=lambda k: k.encode())
    assert got["KeyCount"] == len(keys) and not got["IsTruncated"]
    assert got["Contents"][0]["ETag"] == '"' + md5(b"a/1") + '"' and got["Contents"][0]["Size"] == 3
    d = s3.list_objects_v2(Bucket=b, Delimiter="/")
    assert [p["Prefix"] for p in d["CommonPrefixes"]] == ["a/", "b/", "d/", "\u00e9t\u00e9/"]
    assert [o["Key"] for o in d["Contents"]] == ["c", "e+f g"]
    p = s3.list_objects_v2(Bucket=b, Prefix="a/", Delimiter="/")
    assert [o["Key"] for o in p["Contents"]] == ["a/1", "a/2"] and [c["Prefix"] for c in p["CommonPrefixes"]] == ["a/b/"]
    # Paging with continuation tokens and start-after.
    seen, token = [], None
    while True:
        kw = {"ContinuationToken": token} if token else {}
        page = s3.list_objects_v2(Bucket=b, MaxKeys=2, **kw)
        seen += [o["Key"] for o in page.get("Contents", [])]
        if not page["IsTruncated"]:
            break
        token = page["NextContinuationToken"]
    assert seen == sorted(keys, key=lambda k: k.encode())
    after = s3.list_objects_v2(Bucket=b, StartAfter="d/5")
    assert [o["Key"] for o in after["Contents"]][0] == "d/6"
    owner = s3.list_objects_v2(Bucket=b, FetchOwner=True, MaxKeys=1)["Contents"][0]
    assert owner["Owner"]["ID"]
    # v1 with marker and delimiter paging (NextMarker).
    v1 = s3.list_objects(Bucket=b, Delimiter="/", MaxKeys=3)
    assert v1["IsTruncated"] and v1["NextMarker"] == "c"
    rest = s3.list_objects(Bucket=b, Delimiter="/", Marker=v1["NextMarker"])
    assert [c["Prefix"] for c in rest["CommonPrefixes"]] == ["d/", "\u00e9t\u00e9/"]
    # botocore asks for encoding-type=url by itself and decodes (the keys above came back whole);
    # asked for explicitly, the keys stay percent-encoded for the caller.
    enc = s3.list_objects_v2(Bucket=b, Prefix="e", EncodingType="url")
    assert [o["Key"] for o in enc["Contents"]] == ["e%2Bf%20g"]
    assert s3.list_objects_v2(Bucket=b, MaxKeys=0)["KeyCount"] == 0


# --- objects -------------------------------------------------------------------------------------

def test_put_get_head_with_metadata_and_headers(s3):
    b = bucket(s3, "b3-objects")
    data = payload(100_000, 3)
    put = s3.put_object(Bucket=b, Key="doc.bin", Body=data, ContentType="application/x-thing", Metadata={"Color": "blue"},
                        CacheControl="no-cache", ContentDisposition="inline", ContentEncoding="gzip", ContentLanguage="fr",
                        ContentMD5=base64.b64encode(hashlib.md5(data).digest()).decode())
    assert put["ETag"] == '"' + md5(data) + '"'
    got = s3.get_object(Bucket=b, Key="doc.bin")
    assert got["Body"].read() == data
    assert got["ContentType"] == "application/x-thing" and got["Metadata"] == {"color": "blue"}
    assert got["CacheControl"] == "no-cache" and got["ContentDisposition"] == "inline"
    assert got["ContentEncoding"] == "gzip" and got["ContentLanguage"] == "fr"
    head = s3.head_object(Bucket=b, Key="doc.bin")
    assert head["ContentLength"] == len(data) and head["ETag"] == put["ETag"]
    assert s3.get_object(Bucket=b, Key="doc.bin", Range="bytes=10-19")["Body"].read() == data[10:20]
    assert s3.get_object(Bucket=b, Key="doc.bin", Range="bytes=-5")["Body"].read() == data[-5:]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object(Bucket=b, Key="doc.bin", Range="bytes=200000-")
    assert code_of(e) == "InvalidRange" and status_of(e) == 416
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object(Bucket=b, Key="missing")
    assert code_of(e) == "NoSuchKey"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.put_object(Bucket=b, Key="bad-md5", Body=b"abc", ContentMD5=base64.b64encode(hashlib.md5(b"abd").digest()).decode())
    assert code_of(e) == "BadDigest"
    with pytest.raises(botocore.exceptions.ClientError):
        s3.head_object(Bucket=b, Key="bad-md5")
    # An empty object.
    s3.put_object(Bucket=b, Key="empty", Body=b"")
    assert s3.get_object(Bucket=b, Key="empty")["Body"].read() == b""


def test_conditional_get_and_response_overrides(s3):
    b = bucket(s3, "b3-cond")
    put = s3.put_object(Bucket=b, Key="k", Body=b"hello")
    etag = put["ETag"]
    assert s3.get_object(Bucket=b, Key="k", IfMatch=etag)["Body"].read() == b"hello"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object(Bucket=b, Key="k", IfMatch='"nope"')
    assert status_of(e) == 412 and code_of(e) == "PreconditionFailed"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object(Bucket=b, Key="k", IfNoneMatch=etag)
    assert status_of(e) == 304
    future = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)
    past = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=1)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object(Bucket=b, Key="k", IfModifiedSince=future)
    assert status_of(e) == 304
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object(Bucket=b, Key="k", IfUnmodifiedSince=past)
    assert status_of(e) == 412
    got = s3.get_object(Bucket=b, Key="k", ResponseContentType="text/x-override", ResponseContentDisposition="attachment; filename=x",
                        ResponseCacheControl="max-age=1")
    assert got["ContentType"] == "text/x-override" and got["ContentDisposition"] == "attachment; filename=x"
    assert got["CacheControl"] == "max-age=1"


def test_delete_objects_quiet_and_verbose(s3):
    b = bucket(s3, "b3-multidelete")
    for i in range(5):
        s3.put_object(Bucket=b, Key=f"k{i}", Body=b"x")
    out = s3.delete_objects(Bucket=b, Delete={"Objects": [{"Key": "k0"}, {"Key": "k1"}, {"Key": "never-there"}]})
    assert sorted(d["Key"] for d in out["Deleted"]) == ["k0", "k1", "never-there"]
    out = s3.delete_objects(Bucket=b, Delete={"Objects": [{"Key": "k2"}, {"Key": "k3"}], "Quiet": True})
    assert "Deleted" not in out and "Errors" not in out
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=b)["Contents"]] == ["k4"]


def test_copy_object_directives_and_conditions(s3):
    b = bucket(s3, "b3-copy")
    data = payload(40_000, 4)
    put = s3.put_object(Bucket=b, Key="src", Body=data, ContentType="text/a", Metadata={"m": "1"}, Tagging="t=1")
    c = s3.copy_object(Bucket=b, Key="dst", CopySource={"Bucket": b, "Key": "src"})
    assert c["CopyObjectResult"]["ETag"] == put["ETag"]
    got = s3.get_object(Bucket=b, Key="dst")
    assert got["Body"].read() == data and got["Metadata"] == {"m": "1"} and got["ContentType"] == "text/a"
    assert s3.get_object_tagging(Bucket=b, Key="dst")["TagSet"] == [{"Key": "t", "Value": "1"}]
    s3.copy_object(Bucket=b, Key="dst2", CopySource=f"{b}/src", MetadataDirective="REPLACE", Metadata={"n": "2"},
                   ContentType="text/b", TaggingDirective="REPLACE", Tagging="u=2")
    got = s3.head_object(Bucket=b, Key="dst2")
    assert got["Metadata"] == {"n": "2"} and got["ContentType"] == "text/b"
    assert s3.get_object_tagging(Bucket=b, Key="dst2")["TagSet"] == [{"Key": "u", "Value": "2"}]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.copy_object(Bucket=b, Key="dst3", CopySource=f"{b}/src", CopySourceIfMatch='"other"')
    assert status_of(e) == 412
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.copy_object(Bucket=b, Key="src", CopySource=f"{b}/src")
    assert code_of(e) == "InvalidRequest"
    # To itself with REPLACE: a metadata update.
    s3.copy_object(Bucket=b, Key="src", CopySource=f"{b}/src", MetadataDirective="REPLACE", Metadata={"m": "new"})
    assert s3.head_object(Bucket=b, Key="src")["Metadata"] == {"m": "new"}
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.copy_object(Bucket=b, Key="x", CopySource=f"{b}/absent")
    assert code_of(e) == "NoSuchKey"


def test_object_tagging(s3):
    b = bucket(s3, "b3-tags")
    s3.put_object(Bucket=b, Key="k", Body=b"x", Tagging="a=1&b=two%20words")
    tags = s3.get_object_tagging(Bucket=b, Key="k")["TagSet"]
    assert sorted((t["Key"], t["Value"]) for t in tags) == [("a", "1"), ("b", "two words")]
    s3.put_object_tagging(Bucket=b, Key="k", Tagging={"TagSet": [{"Key": "z", "Value": "26"}]})
    assert s3.get_object_tagging(Bucket=b, Key="k")["TagSet"] == [{"Key": "z", "Value": "26"}]
    assert s3.head_object(Bucket=b, Key="k")["ResponseMetadata"]["HTTPHeaders"]["x-amz-tagging-count"] == "1"
    s3.delete_object_tagging(Bucket=b, Key="k")
    assert s3.get_object_tagging(Bucket=b, Key="k")["TagSet"] == []
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.put_object_tagging(Bucket=b, Key="k", Tagging={"TagSet": [{"Key": f"k{i}", "Value": "v"} for i in range(11)]})
    assert code_of(e) == "InvalidTag"


# --- multipart -----------------------------------------------------------------------------------

def test_multipart_upload_complete_list_and_part_number(s3):
    b = bucket(s3, "b3-mp")
    up = s3.create_multipart_upload(Bucket=b, Key="big", ContentType="video/x", Metadata={"a": "b"})
    uid = up["UploadId"]
    parts = [payload(5 * MiB, 11), payload(5 * MiB, 12), payload(100, 13)]
    etags = [s3.upload_part(Bucket=b, Key="big", UploadId=uid, PartNumber=i + 1, Body=p)["ETag"] for i, p in enumerate(parts)]
    listed = s3.list_parts(Bucket=b, Key="big", UploadId=uid)
    assert [(p["PartNumber"], p["Size"], p["ETag"]) for p in listed["Parts"]] == [(i + 1, len(p), e) for i, (p, e) in enumerate(zip(parts, etags))]
    page = s3.list_parts(Bucket=b, Key="big", UploadId=uid, MaxParts=2)
    assert page["IsTruncated"] and [p["PartNumber"] for p in page["Parts"]] == [1, 2]
    page2 = s3.list_parts(Bucket=b, Key="big", UploadId=uid, PartNumberMarker=page["NextPartNumberMarker"])
    assert [p["PartNumber"] for p in page2["Parts"]] == [3]
    uploads = s3.list_multipart_uploads(Bucket=b)["Uploads"]
    assert [(u["Key"], u["UploadId"]) for u in uploads] == [("big", uid)]
    done = s3.complete_multipart_upload(Bucket=b, Key="big", UploadId=uid,
                                        MultipartUpload={"Parts": [{"PartNumber": i + 1, "ETag": e} for i, e in enumerate(etags)]})
    expected = hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest() + "-3"
    assert done["ETag"] == '"' + expected + '"'
    got = s3.get_object(Bucket=b, Key="big")
    assert got["Body"].read() == b"".join(parts) and got["ContentType"] == "video/x" and got["Metadata"] == {"a": "b"}
    p2 = s3.get_object(Bucket=b, Key="big", PartNumber=2)
    assert p2["Body"].read() == parts[1] and p2["PartsCount"] == 3
    assert s3.list_multipart_uploads(Bucket=b).get("Uploads", []) == []
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.upload_part(Bucket=b, Key="big", UploadId=uid, PartNumber=1, Body=b"late")
    assert code_of(e) == "NoSuchUpload"


def test_multipart_edge_cases(s3):
    b = bucket(s3, "b3-mp-edges")
    uid = s3.create_multipart_upload(Bucket=b, Key="k")["UploadId"]
    small = s3.upload_part(Bucket=b, Key="k", UploadId=uid, PartNumber=1, Body=b"too small")["ETag"]
    last = s3.upload_part(Bucket=b, Key="k", UploadId=uid, PartNumber=2, Body=b"last")["ETag"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.complete_multipart_upload(Bucket=b, Key="k", UploadId=uid,
                                     MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": small}, {"PartNumber": 2, "ETag": last}]})
    assert code_of(e) == "EntityTooSmall"
    big = s3.upload_part(Bucket=b, Key="k", UploadId=uid, PartNumber=1, Body=payload(5 * MiB, 5))["ETag"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.complete_multipart_upload(Bucket=b, Key="k", UploadId=uid,
                                     MultipartUpload={"Parts": [{"PartNumber": 2, "ETag": last}, {"PartNumber": 1, "ETag": big}]})
    assert code_of(e) == "InvalidPartOrder"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.complete_multipart_upload(Bucket=b, Key="k", UploadId=uid,
                                     MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": small}, {"PartNumber": 2, "ETag": last}]})
    assert code_of(e) == "InvalidPart"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.complete_multipart_upload(Bucket=b, Key="k", UploadId=uid,
                                     MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": big}, {"PartNumber": 3, "ETag": last}]})
    assert code_of(e) == "InvalidPart"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.upload_part(Bucket=b, Key="k", UploadId=uid, PartNumber=10001, Body=b"x")
    assert code_of(e) == "InvalidArgument"
    # Nothing became visible through all that.
    assert s3.list_objects_v2(Bucket=b)["KeyCount"] == 0
    s3.abort_multipart_upload(Bucket=b, Key="k", UploadId=uid)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.list_parts(Bucket=b, Key="k", UploadId=uid)
    assert code_of(e) == "NoSuchUpload"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.abort_multipart_upload(Bucket=b, Key="k", UploadId="0" * 32)
    assert code_of(e) == "NoSuchUpload"


def test_upload_part_copy_with_range(s3):
    b = bucket(s3, "b3-partcopy")
    src = payload(12 * MiB, 21)
    s3.put_object(Bucket=b, Key="src", Body=src)
    uid = s3.create_multipart_upload(Bucket=b, Key="dst")["UploadId"]
    p1 = s3.upload_part_copy(Bucket=b, Key="dst", UploadId=uid, PartNumber=1, CopySource=f"{b}/src",
                             CopySourceRange=f"bytes=0-{5 * MiB - 1}")["CopyPartResult"]["ETag"]
    p2 = s3.upload_part_copy(Bucket=b, Key="dst", UploadId=uid, PartNumber=2, CopySource={"Bucket": b, "Key": "src"},
                             CopySourceRange=f"bytes={10 * MiB}-{12 * MiB - 1}")["CopyPartResult"]["ETag"]
    s3.complete_multipart_upload(Bucket=b, Key="dst", UploadId=uid,
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": p1}, {"PartNumber": 2, "ETag": p2}]})
    assert s3.get_object(Bucket=b, Key="dst")["Body"].read() == src[:5 * MiB] + src[10 * MiB:]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.upload_part_copy(Bucket=b, Key="dst", UploadId=uid, PartNumber=1, CopySource=f"{b}/src", CopySourceRange="bytes=5-1")
    assert status_of(e) in (400, 404)


# --- versioning ----------------------------------------------------------------------------------

def test_versioning_versions_delete_markers_and_restore(s3):
    b = bucket(s3, "b3-ver")
    assert "Status" not in s3.get_bucket_versioning(Bucket=b)
    s3.put_object(Bucket=b, Key="k", Body=b"before")  # a null version from before versioning
    s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
    assert s3.get_bucket_versioning(Bucket=b)["Status"] == "Enabled"
    v1 = s3.put_object(Bucket=b, Key="k", Body=b"one")["VersionId"]
    v2 = s3.put_object(Bucket=b, Key="k", Body=b"two")["VersionId"]
    assert v1 != v2 and "null" not in (v1, v2)
    assert s3.get_object(Bucket=b, Key="k")["Body"].read() == b"two"
    assert s3.get_object(Bucket=b, Key="k", VersionId=v1)["Body"].read() == b"one"
    assert s3.get_object(Bucket=b, Key="k", VersionId="null")["Body"].read() == b"before"
    listed = s3.list_object_versions(Bucket=b)
    assert [(v["VersionId"], v["IsLatest"]) for v in listed["Versions"]] == [(v2, True), (v1, False), ("null", False)]
    # A delete writes a marker; the key disappears but its versions stay.
    d = s3.delete_object(Bucket=b, Key="k")
    assert d["DeleteMarker"] is True
    marker = d["VersionId"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object(Bucket=b, Key="k")
    assert code_of(e) == "NoSuchKey"
    assert s3.list_objects_v2(Bucket=b)["KeyCount"] == 0
    listed = s3.list_object_versions(Bucket=b)
    assert [m["VersionId"] for m in listed["DeleteMarkers"]] == [marker] and listed["DeleteMarkers"][0]["IsLatest"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.delete_bucket(Bucket=b)
    assert code_of(e) == "BucketNotEmpty"
    # Removing the marker brings the object back.
    s3.delete_object(Bucket=b, Key="k", VersionId=marker)
    assert s3.get_object(Bucket=b, Key="k")["Body"].read() == b"two"
    # Unknown and malformed version ids.
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object(Bucket=b, Key="k", VersionId="0" * 32)
    assert code_of(e) == "NoSuchVersion"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object(Bucket=b, Key="k", VersionId="not-a-version")
    assert code_of(e) in ("InvalidArgument", "NoSuchVersion") and status_of(e) in (400, 404)
    # Suspended: new writes replace the null version.
    s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Suspended"})
    s3.put_object(Bucket=b, Key="k", Body=b"suspended")
    ids = [v["VersionId"] for v in s3.list_object_versions(Bucket=b)["Versions"]]
    assert ids.count("null") == 1 and v1 in ids and v2 in ids
    assert s3.get_object(Bucket=b, Key="k", VersionId="null")["Body"].read() == b"suspended"
    # Permanently deleting every version empties the bucket.
    for v in s3.list_object_versions(Bucket=b)["Versions"]:
        s3.delete_object(Bucket=b, Key="k", VersionId=v["VersionId"])
    s3.delete_bucket(Bucket=b)


# --- bucket settings -----------------------------------------------------------------------------

def test_cors_configuration_and_preflight(s3, alice):
    b = bucket(s3, "b3-cors")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_bucket_cors(Bucket=b)
    assert code_of(e) == "NoSuchCORSConfiguration"
    rules = [{"AllowedOrigins": ["https://app.example"], "AllowedMethods": ["GET", "PUT"], "AllowedHeaders": ["*"],
              "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 600}]
    s3.put_bucket_cors(Bucket=b, CORSConfiguration={"CORSRules": rules})
    got = s3.get_bucket_cors(Bucket=b)["CORSRules"]
    assert got[0]["AllowedOrigins"] == ["https://app.example"] and got[0]["MaxAgeSeconds"] == 600
    url = f"{alice.endpoint}/{b}/obj"
    ok = requests.options(url, headers={"Origin": "https://app.example", "Access-Control-Request-Method": "PUT",
                                        "Access-Control-Request-Headers": "content-type"}, timeout=30)
    assert ok.status_code == 200 and ok.headers["Access-Control-Allow-Origin"] == "https://app.example"
    assert "PUT" in ok.headers["Access-Control-Allow-Methods"] and ok.headers["Access-Control-Max-Age"] == "600"
    no = requests.options(url, headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}, timeout=30)
    assert no.status_code == 403
    s3.delete_bucket_cors(Bucket=b)
    with pytest.raises(botocore.exceptions.ClientError):
        s3.get_bucket_cors(Bucket=b)


def test_canned_acls_and_anonymous_access(s3, alice, bob):
    b = bucket(s3, "b3-acl")
    s3.put_object(Bucket=b, Key="pub.txt", Body=b"public")
    url = f"{alice.endpoint}/{b}/pub.txt"
    assert requests.get(url, timeout=30).status_code == 403
    s3.put_bucket_acl(Bucket=b, ACL="public-read")
    r = requests.get(url, timeout=30)
    assert r.status_code == 200 and r.content == b"public"
    grants = s3.get_bucket_acl(Bucket=b)["Grants"]
    assert any(g["Grantee"].get("URI", "").endswith("AllUsers") and g["Permission"] == "READ" for g in grants)
    assert requests.put(f"{alice.endpoint}/{b}/anon.txt", data=b"x", timeout=30).status_code == 403
    s3.put_bucket_acl(Bucket=b, ACL="authenticated-read")
    assert requests.get(url, timeout=30).status_code == 403
    assert bob.client().get_object(Bucket=b, Key="pub.txt")["Body"].read() == b"public"
    s3.put_bucket_acl(Bucket=b, ACL="private")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        bob.client().get_object(Bucket=b, Key="pub.txt")
    assert code_of(e) == "AccessDenied"


def test_bucket_policy_grants(s3, alice, bob):
    import json
    b = bucket(s3, "b3-policy")
    s3.put_object(Bucket=b, Key="shared.txt", Body=b"for bob")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        bob.client().get_object(Bucket=b, Key="shared.txt")
    assert code_of(e) == "AccessDenied"
    policy = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": [f"arn:aws:iam::{bob.project_id}:root"]},
        "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": [f"arn:aws:s3:::{b}", f"arn:aws:s3:::{b}/*"]}]}
    s3.put_bucket_policy(Bucket=b, Policy=json.dumps(policy))
    assert json.loads(s3.get_bucket_policy(Bucket=b)["Policy"]) == policy
    assert bob.client().get_object(Bucket=b, Key="shared.txt")["Body"].read() == b"for bob"
    assert [o["Key"] for o in bob.client().list_objects_v2(Bucket=b)["Contents"]] == ["shared.txt"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        bob.client().put_object(Bucket=b, Key="from-bob", Body=b"x")
    assert code_of(e) == "AccessDenied"
    assert requests.get(f"{alice.endpoint}/{b}/shared.txt", timeout=30).status_code == 403
    public = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                                                     "Resource": f"arn:aws:s3:::{b}/*"}]}
    s3.put_bucket_policy(Bucket=b, Policy=json.dumps(public))
    assert requests.get(f"{alice.endpoint}/{b}/shared.txt", timeout=30).content == b"for bob"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.put_bucket_policy(Bucket=b, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{b}/*"}]}))
    assert code_of(e) == "MalformedPolicy"
    s3.delete_bucket_policy(Bucket=b)
    assert requests.get(f"{alice.endpoint}/{b}/shared.txt", timeout=30).status_code == 403
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_bucket_policy(Bucket=b)
    assert code_of(e) == "NoSuchBucketPolicy"


def test_bucket_tagging(s3):
    b = bucket(s3, "b3-btags")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_bucket_tagging(Bucket=b)
    assert code_of(e) == "NoSuchTagSet"
    s3.put_bucket_tagging(Bucket=b, Tagging={"TagSet": [{"Key": "team", "Value": "infra"}]})
    assert s3.get_bucket_tagging(Bucket=b)["TagSet"] == [{"Key": "team", "Value": "infra"}]
    s3.delete_bucket_tagging(Bucket=b)
    with pytest.raises(botocore.exceptions.ClientError):
        s3.get_bucket_tagging(Bucket=b)


def test_lifecycle_rules_expire_objects(s3):
    b = bucket(s3, "b3-lifecycle")
    rules = [{"ID": "tmp", "Status": "Enabled", "Filter": {"Prefix": "tmp/"}, "Expiration": {"Days": 1}},
             {"ID": "uploads", "Status": "Enabled", "Filter": {"Prefix": ""}, "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7}}]
    s3.put_bucket_lifecycle_configuration(Bucket=b, LifecycleConfiguration={"Rules": rules})
    got = s3.get_bucket_lifecycle_configuration(Bucket=b)["Rules"]
    assert [r["ID"] for r in got] == ["tmp", "uploads"] and got[0]["Expiration"]["Days"] == 1
    s3.delete_bucket_lifecycle(Bucket=b)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_bucket_lifecycle_configuration(Bucket=b)
    assert code_of(e) == "NoSuchLifecycleConfiguration"


# --- presigned URLs ------------------------------------------------------------------------------

def test_presigned_get_and_put(s3, alice):
    b = bucket(s3, "b3-presign")
    put_url = s3.generate_presigned_url("put_object", Params={"Bucket": b, "Key": "up.bin"}, ExpiresIn=300)
    data = payload(20_000, 9)
    assert requests.put(put_url, data=data, timeout=30).status_code == 200
    get_url = s3.generate_presigned_url("get_object", Params={"Bucket": b, "Key": "up.bin"}, ExpiresIn=300)
    r = requests.get(get_url, timeout=30)
    assert r.status_code == 200 and r.content == data
    expired = s3.generate_presigned_url("get_object", Params={"Bucket": b, "Key": "up.bin"}, ExpiresIn=1)
    time.sleep(2.5)
    r = requests.get(expired, timeout=30)
    assert r.status_code == 403 and error_code(r) == "AccessDenied" and b"expired" in r.content
    # SigV2 presigned (s3cmd and old SDKs).
    v2 = alice.client(signature="s3").generate_presigned_url("get_object", Params={"Bucket": b, "Key": "up.bin"}, ExpiresIn=300)
    assert "Signature=" in v2 and requests.get(v2, timeout=30).content == data


def test_virtual_host_addressing(start_ciel, tmp_path):
    from s3_support import S3_SETTINGS
    server = start_ciel(dict(S3_SETTINGS, **{"s3.domain": "s3.ciel.test"}))
    u = make_user(server, tmp_path, admin_token(server), "vh-project", "vh-user")
    c = u.client()
    c.create_bucket(Bucket="vhost")
    c.put_object(Bucket="vhost", Key="dir/k.txt", Body=b"virtual")
    port = server.endpoints["s3"].rsplit(":", 1)[1]
    # The name does not resolve here: sign for host vhost.s3.ciel.test, send to 127.0.0.1 with that Host.
    import botocore.auth, botocore.awsrequest, botocore.credentials
    req = botocore.awsrequest.AWSRequest(method="GET", url=f"http://vhost.s3.ciel.test:{port}/dir/k.txt",
                                         headers={"x-amz-content-sha256": hashlib.sha256(b"").hexdigest()})
    botocore.auth.S3SigV4Auth(botocore.credentials.Credentials(u.access, u.secret), "s3", "us-east-1").add_auth(req)
    headers = dict(req.headers)
    headers["Host"] = f"vhost.s3.ciel.test:{port}"
    r = requests.get(f"http://127.0.0.1:{port}/dir/k.txt", headers=headers, timeout=30)
    assert r.status_code == 200 and r.content == b"virtual"
