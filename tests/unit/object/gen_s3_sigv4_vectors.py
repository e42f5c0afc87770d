#!/usr/bin/python3
# Prints the botocore golden vectors of tests/unit/object/s3_sigv4_test.cc as C++ initialisers.
# Signatures come from Debian's python3-botocore (S3SigV4Auth, S3SigV4QueryAuth, HmacV1Auth,
# HmacV1QueryAuth) with the clock pinned, so the vectors are an independent check of sigv4.cc.
# usage: /usr/bin/python3 tests/unit/object/gen_s3_sigv4_vectors.py
import datetime as real_datetime
import types
from urllib.parse import quote

import botocore.auth
from botocore.auth import HmacV1Auth, HmacV1QueryAuth, S3SigV4Auth, S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


class PinnedDatetime(real_datetime.datetime):
    @classmethod
    def utcnow(cls):
        return real_datetime.datetime(2024, 2, 29, 23, 59, 58)


botocore.auth.datetime = types.SimpleNamespace(datetime=PinnedDatetime)

CREDS = Credentials("AKIDCIELEXAMPLE", "ciel/secret+key=with~odd chars")
HOST = "s3.ciel.test:8443"
V2_DATE = "Thu, 29 Feb 2024 23:59:58 GMT"
V2_EXPIRES = "1709251198"


# Each signer keeps what it signed: the canonical request (V4) or the string to sign (V2).
class RecordingS3SigV4(S3SigV4Auth):
    def canonical_request(self, request):
        self.signed = super().canonical_request(request)
        return self.signed


class PinnedHmacV1(HmacV1Auth):
    def _get_date(self):
        return V2_DATE

    def canonical_string(self, *args, **kwargs):
        self.signed = super().canonical_string(*args, **kwargs)
        return self.signed


class PinnedHmacV1Query(HmacV1QueryAuth):
    def _get_date(self):
        return V2_EXPIRES

    def canonical_string(self, *args, **kwargs):
        self.signed = super().canonical_string(*args, **kwargs)
        return self.signed


def c_string(s):
    out = '"'
    for b in s.encode("utf-8"):
        c = chr(b)
        if c == '"' or c == "\\":
            out += "\\" + c
        elif c == "\n":
            out += "\\n"
        elif 0x20 <= b < 0x7F:
            out += c
        else:
            out += "\\%03o" % b
    return out + '"'


def enc(s):
    return quote(s, safe="-_.~")


def target(path, query):
    raw_path = quote(path, safe="/~")
    if query is None:
        return raw_path
    return raw_path + "?" + query


def request(method, path, query, headers, body=b""):
    url = "http://" + HOST + target(path, query)
    req = AWSRequest(method=method, url=url, headers=dict(headers), data=body)
    # Lists of pairs allow a header given twice.
    req.headers = botocore.awsrequest.HTTPHeaders()
    for k, v in headers:
        req.headers[k] = v
    req.headers["Host"] = HOST
    req.context["payload_signing_enabled"] = True
    return req


def header_list(req, drop=()):
    return "{" + ", ".join("{%s, %s}" % (c_string(k), c_string(v)) for k, v in req.headers.items() if k not in drop) + "}"


# The Authorization header goes in its own field; a V2 presigned request sends no Date (the
# signer puts Expires there).
def emit(name, method, tgt, req, authorization, signed, drop=("Authorization",)):
    print("    {%s, %s, %s,\n     %s,\n     %s,\n     %s}," % (
        c_string(name), c_string(method), c_string(tgt), header_list(req, drop), c_string(authorization), c_string(signed)))


def v4_header(name, method, path, query, headers, body=b""):
    req = request(method, path, query, headers, body)
    signer = RecordingS3SigV4(CREDS, "s3", "eu-ciel-1")
    signer.add_auth(req)
    emit(name, method, target(path, query), req, req.headers["Authorization"], signer.signed)


def v4_presigned(name, method, path, query, headers, expires):
    req = request(method, path, query, headers)
    signer = S3SigV4QueryAuth(CREDS, "s3", "eu-ciel-1", expires=expires)
    signer.add_auth(req)
    tgt = req.url[len("http://" + HOST):]
    emit(name, method, tgt, req, "", "")


def v2(name, method, path, query, headers, presigned=False):
    req = request(method, path, query, headers)
    if presigned:
        signer = PinnedHmacV1Query(CREDS, expires=0)
        signer.add_auth(req)
        emit(name, method, req.url[len("http://" + HOST):], req, "", signer.signed, drop=("Date",))
    else:
        signer = PinnedHmacV1(CREDS)
        signer.add_auth(req)
        emit(name, method, target(path, query), req, req.headers["Authorization"], signer.signed)


print("// SigV4, Authorization header")
v4_header("key with spaces", "PUT", "/bucket/my  key .txt", None, [("Content-Type", "text/plain")], b"hello world")
v4_header("unicode key", "GET", "/bucket/fran\u00e7ais/\u65e5\u672c\u8a9e.txt", None, [])
v4_header("plus equals tilde slash", "GET", "/bucket/a+b=c~d/e!f'(g)*h", None, [])
v4_header("repeated query parameters", "GET", "/bucket", "tag=b&tag=a&tag=a%20b&Zeta=1&alpha=%E2%82%AC", [])
v4_header("empty query values", "GET", "/bucket", "acl&uploads=&prefix=", [])
v4_header("query with slash and space", "GET", "/bucket", "list-type=2&prefix=photos%2F2024%20summer&delimiter=%2F", [])
v4_header("trimmed and repeated headers", "PUT", "/bucket/obj", None,
          [("X-Amz-Meta-Note", "  two   spaces\tand tab  "), ("x-amz-meta-list", "a"), ("X-AMZ-META-LIST", "b"),
           ("Content-MD5", "XrY7u+Ae7tCTyyK7j1rNww==")], b"hello world")
v4_header("date header instead of x-amz-date", "DELETE", "/bucket/old", "versionId=3%2F4", [("Date", "x")])
v4_header("multipart part", "PUT", "/bucket/big", "partNumber=7&uploadId=VXBsb2Fk%2BSUQ%3D", [], b"part")
print("// SigV4, presigned query")
v4_presigned("presigned get", "GET", "/bucket/my key+1.txt", None, [], 3600)
v4_presigned("presigned part upload", "PUT", "/bucket/big", "partNumber=1&uploadId=abc%3D%3D", [], 604800)
v4_presigned("presigned with signed content type", "PUT", "/bucket/\u00e9t\u00e9", None, [("Content-Type", "image/png")], 60)
print("// SigV2")
v2("v2 get", "GET", "/bucket/photos/puppy.jpg", None, [])
v2("v2 put with amz headers", "PUT", "/bucket/db-backup.dat.gz", None,
   [("Content-Type", "application/x-download"), ("Content-MD5", "4gJE4saaMU4BqNR0kLY+lw=="), ("x-amz-acl", "public-read"),
    ("X-Amz-Meta-ReviewedBy", "joe@example.net"), ("X-Amz-Meta-ReviewedBy", "jane@example.net"),
    ("X-Amz-Meta-FileChecksum", "0x02661779"), ("X-Amz-Meta-ChecksumAlgorithm", "crc32")])
v2("v2 sub-resources", "GET", "/bucket/obj", "versionId=v%2B1&acl&prefix=ignored&response-content-type=text%2Fplain%3B%20x", [])
v2("v2 multipart part", "PUT", "/bucket/big", "uploadId=abc&partNumber=2", [])
v2("v2 unicode key", "GET", "/bucket/fran\u00e7ais/pr\u00e9f\u00e8re", None, [])
v2("v2 presigned", "GET", "/bucket/my key.txt", None, [], presigned=True)
