"""S3 on the durability rule and on PostgreSQL: `kill -9` during S3 uploads leaves every
acknowledged object and multipart part intact and nothing half-written visible; the versioning,
multipart and listing scenarios run again with the metadata in PostgreSQL."""
import hashlib
import os
import threading
import time

import botocore.exceptions
import pytest
import requests

import test_s3_boto3 as boto3_tests
from conftest import CielServer
from s3_support import S3_SETTINGS, S3User, admin_token, make_user
from swift_support import payload, restart
from test_swift_crash import SlowBody, scrub
from test_swift_postgres import new_database, pg_base  # noqa: F401  (the fixture)

MiB = 1024 * 1024


def test_kill_9_during_s3_uploads(tmp_path_factory):
    server = CielServer(tmp_path_factory.mktemp("s3-crash") / "data", dict(S3_SETTINGS, **{"object.part_size": "1MiB"})).start()
    try:
        u = make_user(server, tmp_path_factory.mktemp("crash-user"), admin_token(server), "crash-project", "crash-user")
        s3 = u.client()
        s3.create_bucket(Bucket="durable")
        # Acknowledged before the crash: a plain object, a completed multipart object, and the
        # parts of an upload still open.
        plain = payload(3 * MiB + 17, 1)
        s3.put_object(Bucket="durable", Key="plain", Body=plain)
        parts = [payload(5 * MiB, 2), payload(123_456, 3)]
        uid = s3.create_multipart_upload(Bucket="durable", Key="assembled")["UploadId"]
        etags = [s3.upload_part(Bucket="durable", Key="assembled", UploadId=uid, PartNumber=i + 1, Body=p)["ETag"]
                 for i, p in enumerate(parts)]
        s3.complete_multipart_upload(Bucket="durable", Key="assembled", UploadId=uid,
                                     MultipartUpload={"Parts": [{"PartNumber": i + 1, "ETag": e} for i, e in enumerate(etags)]})
        open_uid = s3.create_multipart_upload(Bucket="durable", Key="open")["UploadId"]
        open_part = payload(5 * MiB, 4)
        open_etag = s3.upload_part(Bucket="durable", Key="open", UploadId=open_uid, PartNumber=1, Body=open_part)["ETag"]
        # In flight when the server dies: a slow PutObject over the plain object's name and a slow part.
        slow = payload(4 * MiB, 5)
        put_url = s3.generate_presigned_url("put_object", Params={"Bucket": "durable", "Key": "plain"}, ExpiresIn=600)
        part_url = s3.generate_presigned_url("upload_part", Params={"Bucket": "durable", "Key": "open", "UploadId": open_uid,
                                                                    "PartNumber": 2}, ExpiresIn=600)
        threads = [threading.Thread(target=lambda url=url: _quietly(requests.put, url, data=SlowBody(slow, 20),
                                                                    headers={"Content-Length": str(len(slow))}, timeout=60))
                   for url in (put_url, part_url)]
        for t in threads:
            t.start()
        time.sleep(2)
        server.kill()
        for t in threads:
            t.join()
        scrub(server, allow_unreferenced=True)
        server2 = restart(server)
        try:
            u2 = S3User(server2, tmp_path_factory.mktemp("crash-user2"), u.swift.user, u.swift.password, u.swift.project,
                        u.access, u.secret)
            c = u2.client()
            assert c.get_object(Bucket="durable", Key="plain")["Body"].read() == plain
            assert c.get_object(Bucket="durable", Key="assembled")["Body"].read() == b"".join(parts)
            listed = c.list_parts(Bucket="durable", Key="open", UploadId=open_uid)["Parts"]
            assert [(p["PartNumber"], p["ETag"]) for p in listed] == [(1, open_etag)]
            last = c.upload_part(Bucket="durable", Key="open", UploadId=open_uid, PartNumber=2, Body=b"tail")["ETag"]
            c.complete_multipart_upload(Bucket="durable", Key="open", UploadId=open_uid,
                                        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": open_etag},
                                                                   {"PartNumber": 2, "ETag": last}]})
            assert c.get_object(Bucket="durable", Key="open")["Body"].read() == open_part + b"tail"
            assert sorted(o["Key"] for o in c.list_objects_v2(Bucket="durable")["Contents"]) == ["assembled", "open", "plain"]
            server2.stop()
            scrub(server2, allow_unreferenced=False)
        finally:
            server2.kill()
    finally:
        server.kill()


def _quietly(fn, *args, **kw):
    try:
        fn(*args, **kw)
    except requests.RequestException:
        pass  # the server died under it: that is the point


@pytest.fixture(scope="module")
def pg_user(tmp_path_factory, pg_base):  # noqa: F811
    s = dict(S3_SETTINGS, **{"store.metadata": new_database(pg_base)})
    server = CielServer(tmp_path_factory.mktemp("s3-pg") / "data", s).start()
    token = admin_token(server)
    alice = make_user(server, tmp_path_factory.mktemp("pg-alice"), token, "pg-s3-alice", "pg-s3-alice")
    bob = make_user(server, tmp_path_factory.mktemp("pg-bob"), token, "pg-s3-bob", "pg-s3-bob")
    yield alice, bob
    server.stop()


def test_postgres_listings_multipart_and_versioning(pg_user):
    alice, bob = pg_user
    s3 = alice.client()
    boto3_tests.test_list_objects_v1_and_v2(s3)
    boto3_tests.test_multipart_upload_complete_list_and_part_number(s3)
    boto3_tests.test_multipart_edge_cases(s3)
    boto3_tests.test_versioning_versions_delete_markers_and_restore(s3)
    boto3_tests.test_bucket_policy_grants(s3, alice, bob)


def test_postgres_concurrent_versioned_writes_keep_every_version(pg_user):
    alice, _ = pg_user
    s3 = alice.client()
    s3.create_bucket(Bucket="pg-race")
    s3.put_bucket_versioning(Bucket="pg-race", VersioningConfiguration={"Status": "Enabled"})
    ids, errors = [], []

    def writer(i):
        try:
            c = alice.client()
            for j in range(5):
                ids.append(c.put_object(Bucket="pg-race", Key="hot", Body=f"{i}-{j}".encode())["VersionId"])
                if j == 2:
                    c.delete_object(Bucket="pg-race", Key="hot")
        except botocore.exceptions.ClientError as e:
            errors.append(e)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    listed = s3.list_object_versions(Bucket="pg-race")
    versions, markers = listed["Versions"], listed.get("DeleteMarkers", [])
    assert sorted(v["VersionId"] for v in versions) == sorted(ids)
    assert len(markers) == 8
    assert sum(1 for v in versions + markers if v["IsLatest"]) == 1
