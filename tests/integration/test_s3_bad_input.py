"""Hostile and malformed S3 requests: each gets S3's error (status and Code) and writes nothing."""
import hashlib
import http.client
import urllib.parse

import botocore.exceptions
import pytest
import requests

from s3_support import admin_token, error_code, make_user, sigv4_authorization, server  # noqa: F401  (the module's server fixture)
from swift_support import payload


@pytest.fixture(scope="module")
def user(server, tmp_path_factory):
    u = make_user(server, tmp_path_factory.mktemp("bad"), admin_token(server), "bad-project", "bad-user")
    u.client().create_bucket(Bucket="bad-input")
    return u


@pytest.fixture(scope="module")
def other(server, tmp_path_factory):
    return make_user(server, tmp_path_factory.mktemp("other"), admin_token(server), "other-project", "other-user")


def keys(user):
    return [o["Key"] for o in user.client().list_objects_v2(Bucket="bad-input").get("Contents", [])]


def test_wrong_secret_is_signature_does_not_match(user):
    r = user.signed("PUT", "/bad-input/k", data=b"x", secret="wrong" * 8)
    assert r.status_code == 403 and error_code(r) == "SignatureDoesNotMatch"
    assert "k" not in keys(user)


def test_unknown_access_key(user):
    r = user.signed("GET", "/bad-input", access="AKIANOTAREALKEY00000", secret="x" * 40)
    assert r.status_code == 403 and error_code(r) == "InvalidAccessKeyId"


def test_wrong_region(user):
    r = user.signed("GET", "/bad-input", region="eu-west-1")
    assert r.status_code == 400 and error_code(r) == "AuthorizationHeaderMalformed"
    assert b"us-east-1" in r.content


def test_tampered_body_with_signed_payload_hash(user):
    # Signed for one body, another is sent: the payload hash no longer matches.
    body = b"the real body"
    r = user.signed("PUT", "/bad-input/tampered", data=body, payload_hash=hashlib.sha256(b"another body!").hexdigest())
    assert r.status_code == 400 and error_code(r) == "XAmzContentSHA256Mismatch"
    assert "tampered" not in keys(user)


def test_request_too_skewed(user):
    r = user.signed("GET", "/bad-input", amz_date="20200101T000000Z")
    assert r.status_code == 403 and error_code(r) == "RequestTimeTooSkewed"
    assert user.signed("GET", "/bad-input").status_code == 200


def test_malformed_xml_bodies(user):
    for params, body in [({"delete": ""}, b"<Delete><Object><Key>a</Key></Object>"),
                         ({"versioning": ""}, b"<VersioningConfiguration><Status>Maybe</Status></VersioningConfiguration>"),
                         ({"tagging": ""}, b"not xml at all"),
                         ({"cors": ""}, b"<CORSConfiguration></CORSConfiguration>"),
                         ({"lifecycle": ""}, b"<!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]><LifecycleConfiguration>&e;</LifecycleConfiguration>")]:
        method = "POST" if "delete" in params else "PUT"
        h = {"Content-MD5": __import__("base64").b64encode(hashlib.md5(body).digest()).decode()}
        r = user.signed(method, "/bad-input", data=body, params=params, headers=h)
        assert r.status_code == 400, (params, r.status_code, r.text)
        assert error_code(r) in ("MalformedXML", "InvalidArgument", "InvalidTag", "IllegalVersioningConfigurationException"), r.text
    s3 = user.client()
    assert "Status" not in s3.get_bucket_versioning(Bucket="bad-input")


def test_invalid_bucket_names(user):
    for name in ("UPPER", "a", "x" * 70, "under_score", "10.0.0.1"):
        r = user.signed("PUT", f"/{name}")
        assert r.status_code == 400 and error_code(r) == "InvalidBucketName", name


def test_expired_and_tampered_presigned_urls(user):
    s3 = user.client()
    s3.put_object(Bucket="bad-input", Key="p", Body=b"secret")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "bad-input", "Key": "p"}, ExpiresIn=60)
    assert requests.get(url, timeout=30).status_code == 200
    assert requests.get(url.replace("X-Amz-Expires=60", "X-Amz-Expires=6000"), timeout=30).status_code == 403
    put_url = s3.generate_presigned_url("put_object", Params={"Bucket": "bad-input", "Key": "p"}, ExpiresIn=60)
    # A presigned PUT does not allow a DELETE.
    assert requests.delete(put_url, timeout=30).status_code == 403
    assert s3.get_object(Bucket="bad-input", Key="p")["Body"].read() == b"secret"


def test_single_put_above_5_gib_is_refused_before_reading(user):
    # 5 GiB + 1 byte is announced, never sent: the refusal comes from the headers alone.
    r = user.signed("PUT", "/bad-input/huge", data=b"", headers={"Content-Length": str(5 * 1024 ** 3 + 1)},
                    payload_hash="UNSIGNED-PAYLOAD")
    assert r.status_code == 400 and error_code(r) == "EntityTooLarge", r.text
    assert "huge" not in keys(user)
    # The same for one part of a multipart upload.
    s3 = user.client()
    uid = s3.create_multipart_upload(Bucket="bad-input", Key="huge-part")["UploadId"]
    r = user.signed("PUT", "/bad-input/huge-part", data=b"", params={"partNumber": "1", "uploadId": uid},
                    headers={"Content-Length": str(5 * 1024 ** 3 + 1)}, payload_hash="UNSIGNED-PAYLOAD")
    assert r.status_code == 400 and error_code(r) == "EntityTooLarge", r.text
    assert s3.list_parts(Bucket="bad-input", Key="huge-part", UploadId=uid).get("Parts", []) == []
    s3.abort_multipart_upload(Bucket="bad-input", Key="huge-part", UploadId=uid)


def test_parts_under_the_minimum(user):
    s3 = user.client()
    uid = s3.create_multipart_upload(Bucket="bad-input", Key="mp")["UploadId"]
    e1 = s3.upload_part(Bucket="bad-input", Key="mp", UploadId=uid, PartNumber=1, Body=b"a" * 1024)["ETag"]
    e2 = s3.upload_part(Bucket="bad-input", Key="mp", UploadId=uid, PartNumber=2, Body=b"b" * 1024)["ETag"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.complete_multipart_upload(Bucket="bad-input", Key="mp", UploadId=uid,
                                     MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]})
    assert e.value.response["Error"]["Code"] == "EntityTooSmall"
    assert "mp" not in keys(user)


def test_unknown_version_ids(user):
    r = user.signed("GET", "/bad-input/p", params={"versionId": "0123456789abcdef0123456789abcdef"})
    assert r.status_code == 404 and error_code(r) == "NoSuchVersion"
    r = user.signed("GET", "/bad-input/p", params={"versionId": "../../etc"})
    assert r.status_code in (400, 404) and error_code(r) in ("InvalidArgument", "NoSuchVersion")


def test_anonymous_and_other_projects_see_nothing(user, other):
    r = requests.get(f"{user.endpoint}/bad-input", timeout=30)
    assert r.status_code == 403 and error_code(r) == "AccessDenied"
    r = requests.put(f"{user.endpoint}/bad-input/anon", data=b"x", timeout=30)
    assert r.status_code == 403
    o = other.client()
    for call in (lambda: o.list_objects_v2(Bucket="bad-input"), lambda: o.get_object(Bucket="bad-input", Key="p"),
                 lambda: o.put_object(Bucket="bad-input", Key="intruder", Body=b"x"),
                 lambda: o.delete_object(Bucket="bad-input", Key="p"), lambda: o.delete_bucket(Bucket="bad-input"),
                 lambda: o.put_bucket_acl(Bucket="bad-input", ACL="public-read"),
                 lambda: o.get_bucket_versioning(Bucket="bad-input")):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            call()
        assert e.value.response["Error"]["Code"] == "AccessDenied"
    assert "intruder" not in keys(user)
    assert "bad-input" not in [b["Name"] for b in o.list_buckets()["Buckets"]]


def test_aws_chunked_upload_with_a_bad_chunk_signature(user):
    # botocore sends aws-chunked only over TLS: the stream is built here, by AWS's algorithm.
    import hmac
    import time
    data = payload(150_000, 5)
    chunk = 65536
    pieces = [data[i:i + chunk] for i in range(0, len(data), chunk)] + [b""]

    def put(key, tamper_chunk=None, cut=False):
        amz_date = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        length = sum(len(f"{len(p):x};chunk-signature=") + 64 + 2 + len(p) + 2 for p in pieces)
        headers = {"x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", "x-amz-date": amz_date,
                   "x-amz-decoded-content-length": str(len(data)), "Content-Encoding": "aws-chunked"}
        path = urllib.parse.quote(f"/bad-input/{key}")
        auth, key_bytes = sigv4_authorization("PUT", path, "", user.endpoint, headers, user.access, user.secret)
        headers["Authorization"] = auth
        prev = auth.rsplit("Signature=", 1)[1]
        body = b""
        for i, p in enumerate(pieces):
            s2s = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", amz_date, f"{amz_date[:8]}/us-east-1/s3/aws4_request", prev,
                             hashlib.sha256(b"").hexdigest(), hashlib.sha256(p).hexdigest()])
            sig = hmac.new(key_bytes, s2s.encode(), hashlib.sha256).hexdigest()
            if i == tamper_chunk:
                sig = "0" * 64
            body += f"{len(p):x};chunk-signature={sig}\r\n".encode() + p + b"\r\n"
            prev = sig
        assert len(body) == length
        if cut:
            body = body[: len(body) // 2]
        return requests.put(user.endpoint + path, data=body, headers=headers, timeout=60)

    r = put("chunked")
    assert r.status_code == 200, r.text
    assert user.client().get_object(Bucket="bad-input", Key="chunked")["Body"].read() == data
    for tamper in (0, 1, 2):
        r = put(f"tampered-{tamper}", tamper_chunk=tamper)
        assert r.status_code == 403 and error_code(r) == "SignatureDoesNotMatch", r.text
        assert f"tampered-{tamper}" not in keys(user)
    # A stream that stops half way is refused too.
    r = put("truncated", cut=True)
    assert r.status_code == 400, r.text
    assert "truncated" not in keys(user)
