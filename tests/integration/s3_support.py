"""Helpers for the S3 integration tests.

- `start_s3_server`: a `ciel serve` with cheap password hashing and a one-second reaper;
- `S3User`: a project member with an EC2 credential (identity's S3 keys), and the clients that
  use it: boto3 (`client()`), Debian's `aws` CLI (`aws()`), `s3cmd` (`s3cmd()`) and `rclone`
  (`rclone()`), each with a private configuration (never the caller's own);
- raw signed requests through botocore's signer (`signed()`), for the cases no client sends.
"""
import hashlib
import hmac
import os
import pathlib
import subprocess
import time
import urllib.parse

import boto3
import botocore.config
import pytest
import requests

from identity_support import FAST_SETTINGS, Keystone, read_openrc
from swift_support import account_for, start_swift_server

S3_SETTINGS = dict(FAST_SETTINGS, **{"object.reaper_interval": "1s", "object.min_part_size": "5MiB"})
REGION = "us-east-1"
AWS = "/usr/bin/aws"
S3CMD = "/usr/bin/s3cmd"
RCLONE = "/usr/bin/rclone"


def start_s3_server(tmp_path_factory, settings=None, name="s3"):
    return start_swift_server(tmp_path_factory, dict(S3_SETTINGS, **(settings or {})), name=name)


# A module-scoped server shared by the tests of one file (import it into a test module to use it
# there: each module gets its own server).
@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = start_s3_server(tmp_path_factory)
    yield s
    s.stop()


def admin_token(server):
    return Keystone(server).token("admin", read_openrc(server)["OS_PASSWORD"], project="admin")


def ec2_credential(server, token, user_id, project_id):
    ks = Keystone(server)
    r = ks.post(f"/users/{user_id}/credentials/OS-EC2", token, json={"tenant_id": project_id})
    assert r.status_code == 201, r.text
    c = r.json()["credential"]
    return c["access"], c["secret"]


def md5(data):
    return hashlib.md5(data).hexdigest()


class S3User:
    """A user with an EC2 credential on one project, and every S3 client configured for it."""

    def __init__(self, server, home, user, password, project, access=None, secret=None):
        self.server = server
        self.endpoint = server.endpoints["s3"]
        self.home = pathlib.Path(home)
        self.home.mkdir(parents=True, exist_ok=True)
        self.swift = account_for(server, user, password, project)
        self.project_id = self.swift.project_id
        if access is None:
            access, secret = ec2_credential(server, self.swift.token, self.swift.user_id, self.project_id)
        self.access, self.secret = access, secret

    # --- boto3 -------------------------------------------------------------------------------------
    def client(self, signature="s3v4", addressing="path", **config):
        cfg = botocore.config.Config(signature_version=signature, s3={"addressing_style": addressing},
                                     retries={"max_attempts": 1, "mode": "standard"}, **config)
        return boto3.session.Session().client("s3", endpoint_url=self.endpoint, region_name=REGION,
                                              aws_access_key_id=self.access, aws_secret_access_key=self.secret, config=cfg)

    # --- aws CLI -------------------------------------------------------------------------------------
    def aws_env(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        cfg = self.home / "aws-config"
        cfg.write_text(f"[default]\nregion = {REGION}\ns3 =\n  addressing_style = path\n")
        env.update(AWS_ACCESS_KEY_ID=self.access, AWS_SECRET_ACCESS_KEY=self.secret, AWS_CONFIG_FILE=str(cfg),
                   AWS_SHARED_CREDENTIALS_FILE=str(self.home / "aws-credentials"), AWS_DEFAULT_REGION=REGION,
                   AWS_PAGER="", AWS_MAX_ATTEMPTS="1", HOME=str(self.home))
        return env

    def aws(self, *args, check=True, timeout=300, cwd=None):
        proc = subprocess.run([AWS, "--endpoint-url", self.endpoint, *args], env=self.aws_env(), capture_output=True,
                              text=True, timeout=timeout, cwd=cwd)
        if check:
            assert proc.returncode == 0, (f"aws {' '.join(args)} failed ({proc.returncode}):\n"
                                          f"stdout: {proc.stdout[-2000:]}\nstderr: {proc.stderr[-2000:]}")
        return proc

    # --- s3cmd ---------------------------------------------------------------------------------------
    def s3cmd(self, *args, v2=False, check=True, timeout=300):
        host = urllib.parse.urlsplit(self.endpoint).netloc
        cfg = self.home / ("s3cmd-v2.cfg" if v2 else "s3cmd-v4.cfg")
        cfg.write_text("\n".join([
            "[default]", f"access_key = {self.access}", f"secret_key = {self.secret}", f"host_base = {host}",
            f"host_bucket = {host}", "use_https = False", f"signature_v2 = {'True' if v2 else 'False'}",
            f"bucket_location = {REGION}", "check_ssl_certificate = False", "guess_mime_type = True",
            "multipart_chunk_size_mb = 5", "progress_meter = False", ""]))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "S3CMD"))}
        env["HOME"] = str(self.home)
        proc = subprocess.run([S3CMD, "-c", str(cfg), *args], env=env, capture_output=True, text=True, timeout=timeout)
        if check:
            assert proc.returncode == 0, (f"s3cmd {' '.join(args)} failed ({proc.returncode}):\n"
                                          f"stdout: {proc.stdout[-2000:]}\nstderr: {proc.stderr[-2000:]}")
        return proc

    # --- rclone --------------------------------------------------------------------------------------
    def rclone(self, *args, check=True, timeout=300):
        cfg = self.home / "rclone.conf"
        cfg.write_text("\n".join([
            "[ciel]", "type = s3", "provider = Other", f"access_key_id = {self.access}",
            f"secret_access_key = {self.secret}", f"endpoint = {self.endpoint}", f"region = {REGION}",
            "force_path_style = true", ""]))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("RCLONE_", "AWS_"))}
        env.update(HOME=str(self.home), XDG_CONFIG_HOME=str(self.home / "config"), XDG_CACHE_HOME=str(self.home / "cache"))
        argv = [RCLONE, "--config", str(cfg), "--retries", "1", "--low-level-retries", "1", *args]
        proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout)
        if check:
            assert proc.returncode == 0, (f"rclone {' '.join(args)} failed ({proc.returncode}):\n"
                                          f"stdout: {proc.stdout[-2000:]}\nstderr: {proc.stderr[-3000:]}")
        return proc

    # --- raw signed requests -------------------------------------------------------------------------
    def signed(self, method, path, data=b"", headers=None, params=None, payload_hash=None, region=REGION, secret=None,
               access=None, amz_date=None):
        """Sends one SigV4-signed request (path unquoted: '/bucket/key'), signed here by hand so a
        test can claim any payload hash or date."""
        h = dict(headers or {})
        amz_date = amz_date or time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        h["x-amz-date"] = amz_date
        h["x-amz-content-sha256"] = payload_hash or hashlib.sha256(data).hexdigest()
        query = urllib.parse.urlencode(sorted((params or {}).items()), quote_via=urllib.parse.quote)
        auth, _ = sigv4_authorization(method, urllib.parse.quote(path), query, self.endpoint, h, access or self.access,
                                      secret or self.secret, region)
        h["Authorization"] = auth
        url = self.endpoint + urllib.parse.quote(path) + ("?" + query if query else "")
        return requests.request(method, url, data=data, headers=h, timeout=120)


def signing_key(secret, date, region, service="s3"):
    key = ("AWS4" + secret).encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def sigv4_authorization(method, raw_path, query, endpoint, headers, access, secret, region=REGION):
    """An independent SigV4 signer (AWS's documented algorithm): the Authorization header value
    and the signing key, signing Host and every x-amz-* header in `headers`."""
    host = urllib.parse.urlsplit(endpoint).netloc
    signed = {"host": host}
    for k, v in headers.items():
        if k.lower().startswith("x-amz-") or k.lower() in ("content-md5", "content-type"):
            signed[k.lower()] = " ".join(str(v).strip().split())
    names = sorted(signed)
    amz_date = signed["x-amz-date"]
    canonical_query = "&".join(sorted(query.split("&"))) if query else ""
    canonical = "\n".join([method, raw_path, canonical_query, "".join(f"{n}:{signed[n]}\n" for n in names), ";".join(names),
                           signed["x-amz-content-sha256"]])
    scope = f"{amz_date[:8]}/{region}/s3/aws4_request"
    sts = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = signing_key(secret, amz_date[:8], region)
    sig = hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()
    return f"AWS4-HMAC-SHA256 Credential={access}/{scope}, SignedHeaders={';'.join(names)}, Signature={sig}", key


def error_code(response):
    """The Code of an S3 XML error body."""
    import xml.etree.ElementTree as ET
    root = ET.fromstring(response.content)
    return root.findtext("Code")


def make_user(server, tmp_path, token, project, user):
    """A new project with a member user, and that user's S3User."""
    from swift_support import make_member
    acct = make_member(server, token, project, user)
    return S3User(server, tmp_path / user, user, acct.password, project)
