"""S3 helpers for the benchmarks (bench/lib/s3.sh, bench/objstore/run.sh): SigV4 presigned URLs made in bulk, a full ListObjectsV2
listing timed, and an EC2 credential from a Keystone v3 API. Standard library only (botocore is
used by `check` alone, to compare the presigner with botocore's).

Presigned URLs are SigV4 query signatures as botocore's generate_presigned_url makes them: path
style (http://HOST:PORT/bucket/key), X-Amz-SignedHeaders=host, payload UNSIGNED-PAYLOAD. The
signing key is derived once, so a URL costs one SHA-256 and one HMAC (a few microseconds).

Environment of every command but `ec2`: S3_ENDPOINT (http://HOST:PORT), S3_ACCESS_KEY,
S3_SECRET_KEY, S3_REGION (default us-east-1), S3_EXPIRES (seconds, default 3600).

  s3tool.py url METHOD /BUCKET[/KEY] [NAME=VALUE...]   one presigned URL (query parameters added)
  s3tool.py paths METHOD /BUCKET/PREFIX COUNT OUT [PARTS]
                                                       the path and query (what follows HOST:PORT) of
                                                       the presigned URLs for PREFIX0 .. PREFIX<COUNT-1>,
                                                       one a line, into OUT; with PARTS, into OUT.1 ..
                                                       OUT.PARTS, consecutive slices (one per wrk thread)
  s3tool.py curlcfg PUT /BUCKET/PREFIX COUNT FILE      a curl -K config uploading FILE to each of them
  s3tool.py list /BUCKET EXPECTED REQUESTS [MAX_KEYS]  REQUESTS full listings, ListObjectsV2 pages of
                                                       MAX_KEYS (default 1000) on one keep-alive
                                                       connection; prints each listing's ms on one line
  s3tool.py check                                      exit 1 unless url == botocore's presigned URL
  s3tool.py ec2 V3_URL USER PASSWORD PROJECT           create an EC2 credential: prints ACCESS SECRET
"""
import datetime
import hashlib
import hmac
import http.client
import json
import os
import re
import sys
import time
import urllib.parse
import urllib.request

ALGORITHM = "AWS4-HMAC-SHA256"


def quote(s, safe="-_.~"):
    return urllib.parse.quote(s, safe=safe)


class Presigner:
    def __init__(self, endpoint, access, secret, region="us-east-1", expires=3600, now=None):
        u = urllib.parse.urlsplit(endpoint)
        self.base = f"{u.scheme}://{u.netloc}"
        self.host = u.netloc  # host:port as the client sends it in Host
        self.expires = int(expires)
        now = now or datetime.datetime.now(datetime.timezone.utc)
        self.amz_date = now.strftime("%Y%m%dT%H%M%SZ")
        day = now.strftime("%Y%m%d")
        self.scope = f"{day}/{region}/s3/aws4_request"
        k = hmac.digest(("AWS4" + secret).encode(), day.encode(), "sha256")
        for part in (region, "s3", "aws4_request"):
            k = hmac.digest(k, part.encode(), "sha256")
        self.key = k
        self.fixed = {
            "X-Amz-Algorithm": ALGORITHM,
            "X-Amz-Credential": f"{access}/{self.scope}",
            "X-Amz-Date": self.amz_date,
            "X-Amz-Expires": str(self.expires),
            "X-Amz-SignedHeaders": "host",
        }
        self.headers_part = f"host:{self.host}\n\nhost\nUNSIGNED-PAYLOAD"
        self.sts_head = f"{ALGORITHM}\n{self.amz_date}\n{self.scope}\n"
        self._fixed_query = self.query(self.fixed)

    @staticmethod
    def query(params):
        # canonical query: names and values URI-encoded, sorted by encoded name then value
        return "&".join(f"{n}={v}" for n, v in sorted((quote(n), quote(v)) for n, v in params.items()))

    def url(self, method, path, params=None):
        """path is unencoded ('/bucket/key'); each segment is encoded once, '/' kept."""
        uri = quote(path, safe="/-_.~")
        if params:
            p = dict(self.fixed)
            p.update(params)
            q = self.query(p)
        else:
            q = self._fixed_query
        creq = f"{method}\n{uri}\n{q}\n{self.headers_part}"
        sts = self.sts_head + hashlib.sha256(creq.encode()).hexdigest()
        sig = hmac.digest(self.key, sts.encode(), "sha256").hex()
        return f"{self.base}{uri}?{q}&X-Amz-Signature={sig}"


def presigner_from_env():
    e = os.environ
    return Presigner(e["S3_ENDPOINT"], e["S3_ACCESS_KEY"], e["S3_SECRET_KEY"], e.get("S3_REGION", "us-east-1"),
                     e.get("S3_EXPIRES", "3600"))


def cmd_url(args):
    method, path, *extra = args
    params = dict(a.split("=", 1) for a in extra)
    print(presigner_from_env().url(method, path, params or None))


def cmd_paths(args):
    method, prefix, count, out = args[0], args[1], int(args[2]), args[3]
    parts = int(args[4]) if len(args) > 4 else 0
    p = presigner_from_env()
    skip = len(p.base)
    files = [out] if parts == 0 else [f"{out}.{k}" for k in range(1, parts + 1)]
    n = len(files)
    for k, name in enumerate(files):
        lo, hi = count * k // n, count * (k + 1) // n
        with open(name, "w") as f:
            for c in range(lo, hi, 10000):
                f.write("".join(p.url(method, f"{prefix}{i}")[skip:] + "\n" for i in range(c, min(c + 10000, hi))))


def cmd_curlcfg(args):
    method, prefix, count, path = args[0], args[1], int(args[2]), args[3]
    p = presigner_from_env()
    for i in range(count):
        sys.stdout.write(f'url = "{p.url(method, prefix + str(i))}"\nupload-file = "{path}"\noutput = "/dev/null"\n')


TOKEN_RE = re.compile(rb"<NextContinuationToken>([^<]*)</NextContinuationToken>")
KEY_RE = re.compile(rb"<Key>")


def unescape_xml(b):
    return (b.decode().replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&apos;", "'")
            .replace("&amp;", "&"))


def full_listing(p, conn, bucket, max_keys):
    """One full ListObjectsV2 listing; returns (keys, pages)."""
    token = None
    keys = pages = 0
    while True:
        params = {"list-type": "2", "max-keys": str(max_keys)}
        if token is not None:
            params["continuation-token"] = token
        url = p.url("GET", bucket, params)
        conn.request("GET", url[len(p.base):])
        r = conn.getresponse()
        body = r.read()
        if r.status != 200:
            sys.exit(f"list: GET {url} answered {r.status}: {body[:500]!r}")
        pages += 1
        keys += len(KEY_RE.findall(body))
        m = TOKEN_RE.search(body)
        if m is None or b"<IsTruncated>true</IsTruncated>" not in body:
            return keys, pages
        token = unescape_xml(m.group(1))


def cmd_list(args):
    bucket, expected, requests = args[0], int(args[1]), int(args[2])
    max_keys = int(args[3]) if len(args) > 3 else 1000
    p = presigner_from_env()
    u = urllib.parse.urlsplit(p.base)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=120)
    times = []
    for _ in range(requests):
        start = time.perf_counter()
        keys, pages = full_listing(p, conn, bucket, max_keys)
        times.append((time.perf_counter() - start) * 1000)
        if keys != expected:
            sys.exit(f"list: {bucket} listed {keys} keys in {pages} pages, expected {expected}")
    conn.close()
    print(" ".join(f"{t:.3f}" for t in times), pages)


def cmd_check(_args):
    """The presigner against botocore's, same clock: URL for URL, including parameters."""
    import botocore.auth
    import botocore.awsrequest
    import botocore.credentials
    from unittest import mock

    now = datetime.datetime(2026, 11, 29, 12, 34, 56, tzinfo=datetime.timezone.utc)
    endpoint, region = "http://127.0.0.1:8080", "us-east-1"
    cases = [("PUT", "/bench-s3-put/0123abcd-r1-c16-42", {}), ("GET", "/bench-s3-get/get-7", {}),
             ("HEAD", "/bench-s3-big/big", {}),
             ("GET", "/bench-s3-list", {"list-type": "2", "max-keys": "1000", "continuation-token": "obj-1/+=x"})]
    bad = 0
    for access, secret in (("bench:bench", "bench"), ("0123456789abcdef0123456789abcdef", "s/e+c=r")):
        mine = Presigner(endpoint, access, secret, region, 3600, now)
        creds = botocore.credentials.Credentials(access, secret)
        for method, path, params in cases:
            url = endpoint + quote(path, safe="/-_.~")
            if params:
                url += "?" + urllib.parse.urlencode(params, quote_via=urllib.parse.quote)
            req = botocore.awsrequest.AWSRequest(method=method, url=url)
            with mock.patch("botocore.auth.datetime") as dt:  # botocore's clock, old and new
                dt.datetime.utcnow.return_value = now.replace(tzinfo=None)
                with mock.patch.object(botocore.auth, "get_current_datetime", create=True,
                                       return_value=now.replace(tzinfo=None)):
                    botocore.auth.S3SigV4QueryAuth(creds, "s3", region, expires=3600).add_auth(req)
            theirs = req.prepare().url
            sig = lambda u: urllib.parse.parse_qs(urllib.parse.urlsplit(u).query)["X-Amz-Signature"][0]
            ours = mine.url(method, path, params or None)
            if sig(ours) != sig(theirs):
                bad += 1
                print(f"check: {method} {path}: signatures differ\n  ours:     {ours}\n  botocore: {theirs}",
                      file=sys.stderr)
    if bad:
        sys.exit(1)
    # speed: the benchmark presigns up to a few hundred thousand URLs between measurements
    p = Presigner(endpoint, "bench:bench", "bench", region)
    t = time.perf_counter()
    for i in range(20000):
        p.url("PUT", f"/bench-s3-put/x-{i}")
    print(f"check: presigned URLs equal botocore's; {(time.perf_counter() - t) / 20000 * 1e6:.1f} us a URL")


def cmd_ec2(args):
    """A project-scoped password token, then POST /v3/users/{id}/credentials/OS-EC2."""
    v3, user, password, project = args
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": user, "domain": {"id": "default"}, "password": password}}},
        "scope": {"project": {"name": project, "domain": {"id": "default"}}}}}
    req = urllib.request.Request(v3 + "/auth/tokens", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=30) as r:
        token = r.headers["X-Subject-Token"]
        t = json.load(r)["token"]
    req = urllib.request.Request(f"{v3}/users/{t['user']['id']}/credentials/OS-EC2",
                                 data=json.dumps({"tenant_id": t["project"]["id"]}).encode(),
                                 headers={"Content-Type": "application/json", "X-Auth-Token": token}, method="POST")
    with urllib.request.urlopen(req, timeout=30) as r:
        c = json.load(r)["credential"]
    print(c["access"], c["secret"])


COMMANDS = {"url": cmd_url, "paths": cmd_paths, "curlcfg": cmd_curlcfg, "list": cmd_list, "check": cmd_check,
            "ec2": cmd_ec2}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(__doc__)
    COMMANDS[sys.argv[1]](sys.argv[2:])
