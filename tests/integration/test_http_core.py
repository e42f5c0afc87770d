"""The HTTP core against a real `ciel serve`: keep-alive, 100-continue, every bad-input case
(400, 431, 413, 404, 405, 414, 501), slowloris and stalled bodies, path traversal refused before
any filesystem access, request ids on every response and access-log line, /metrics, chunked
transfer both ways, Range and conditional requests on static files.

Raw sockets are used wherever a client library would normalise or refuse the request."""
import hashlib
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import time

import pytest
import requests

from conftest import CielServer
from rawhttp import Reader, assert_error, connect, exchange, wait_closed

HEADER_TIMEOUT = 2
IDLE_TIMEOUT = 4
BODY_TIMEOUT = 3
APP_JS = bytes((i * 7 + 13) % 251 for i in range(10_000))


@pytest.fixture(scope="module")
def core(tmp_path_factory):
    base = tmp_path_factory.mktemp("core")
    web = base / "web"
    (web / "assets").mkdir(parents=True)
    (web / "index.html").write_text("<!doctype html><title>Ciel</title>\n")
    (web / "assets" / "app.js").write_bytes(APP_JS)
    (base / "secret.txt").write_text("TOP SECRET\n")
    server = CielServer(base / "data", {
        "server.diagnostics": "true",
        "server.header_timeout": f"{HEADER_TIMEOUT}s",
        "server.idle_timeout": f"{IDLE_TIMEOUT}s",
        "server.body_timeout": f"{BODY_TIMEOUT}s",
        "web.root": str(web),
    }).start()
    server.base = base
    yield server
    assert server.stop() == 0


def admin_token(core):
    env = {}
    for line in (core.data_dir / "openrc").read_text().splitlines():
        if line.startswith("export "):
            key, _, value = line[len("export "):].partition("=")
            env[key] = value.strip("'\"")
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": env["OS_USERNAME"], "domain": {"name": env["OS_USER_DOMAIN_NAME"]}, "password": env["OS_PASSWORD"]}}},
        "scope": {"project": {"name": env["OS_PROJECT_NAME"], "domain": {"name": env["OS_PROJECT_DOMAIN_NAME"]}}}}}
    r = requests.post(core.url + "/v3/auth/tokens", json=body, timeout=30)
    assert r.status_code == 201, r.text
    return r.headers["X-Subject-Token"]


def get(core, path, **kw):
    return requests.get(core.url + path, timeout=10, **kw)


# --- endpoints.json -----------------------------------------------------------------------------

def test_endpoints_json_lists_every_public_endpoint(core):
    path = core.data_dir / "endpoints.json"
    endpoints = json.loads(path.read_text())
    assert set(endpoints) >= {"health", "metrics", "console"}
    token = None
    # S3 has a listener of its own (bucket names sit at the root of its URLs); without a
    # signature, listing the buckets is S3's AccessDenied.
    s3 = endpoints.pop("s3")
    assert s3.startswith("http://127.0.0.1:") and not s3.startswith(f"http://127.0.0.1:{core.port}")
    r = requests.get(s3 + "/", timeout=5)
    assert r.status_code == 403 and b"<Code>AccessDenied</Code>" in r.content
    for url in endpoints.values():
        assert url.startswith(f"http://127.0.0.1:{core.port}/")
        r = requests.get(url, timeout=5)
        if r.status_code == 401:
            # An API that needs a token (the object store): the admin's credentials open it.
            token = token or admin_token(core)
            r = requests.get(url, headers={"X-Auth-Token": token}, timeout=5)
            assert r.status_code in (200, 204), (url, r.status_code)
        elif url.endswith("/image"):
            # Glance answers its version list with 300 Multiple Choices, as clients expect.
            assert r.status_code == 300 and "versions" in r.json(), url
        else:
            assert r.status_code == 200, url
    assert oct(path.stat().st_mode & 0o777) == "0o644"
    assert not (core.data_dir / "endpoints.json.tmp").exists()


# --- keep-alive ---------------------------------------------------------------------------------

def test_keep_alive_serves_many_requests_on_one_connection(core):
    conn = http.client.HTTPConnection("127.0.0.1", core.port, timeout=10)
    conn.request("GET", "/healthz")
    first = conn.getresponse()
    assert first.status == 200 and first.read() == b'{"status": "ok"}'
    sock, local = conn.sock, conn.sock.getsockname()
    ids = {first.getheader("X-Request-Id")}
    for path in ["/healthz", "/metrics", "/nope", "/assets/app.js", "/healthz"]:
        conn.request("GET", path)
        res = conn.getresponse()
        res.read()
        assert res.status in (200, 404)
        assert (res.getheader("Connection") or "").lower() != "close"
        ids.add(res.getheader("X-Request-Id"))
        assert conn.sock is sock and conn.sock.getsockname() == local, "http.client reconnected"
    assert len(ids) == 6, "every response has its own request id"
    conn.close()


def test_pipelined_requests_are_answered_in_order(core):
    with connect(core.port) as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                  b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n"
                  b"HEAD /assets/app.js HTTP/1.1\r\nHost: x\r\n\r\n"
                  b"GET /_ciel/diag/source?bytes=5 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        r = Reader(s)
        a, b, c, d = r.response(), r.response(), r.response(head_request=True), r.response()
        assert (a.status, b.status, c.status, d.status) == (200, 404, 200, 200)
        assert c.header("Content-Length") == str(len(APP_JS)) and c.body == b""
        assert d.body == b"abcde" and d.header("Connection") == "close"
        assert wait_closed(s, 5) is not None


def test_http10_closes_after_the_response(core):
    with connect(core.port) as s:
        s.sendall(b"GET /healthz HTTP/1.0\r\n\r\n")
        res = Reader(s).response()
        assert res.status == 200 and res.header("Connection", "").lower() == "close"
        assert wait_closed(s, 5) is not None


def test_idle_keep_alive_connection_is_closed_after_idle_timeout(core):
    with connect(core.port) as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert Reader(s).response().status == 200
        closed_after = wait_closed(s, IDLE_TIMEOUT + 5)
        assert closed_after is not None, "idle connection stayed open"
        assert closed_after >= IDLE_TIMEOUT - 1


# --- 100-continue ------------------------------------------------------------------------------

def test_100_continue_arrives_before_the_body_is_sent(core):
    body = b"hello, continue"
    with connect(core.port) as s:
        s.sendall(b"PUT /_ciel/diag/sink HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n"
                  b"Expect: 100-continue\r\n\r\n" % len(body))
        s.settimeout(5)
        interim = b""
        while b"\r\n\r\n" not in interim:
            chunk = s.recv(4096)
            assert chunk, "closed before 100 Continue"
            interim += chunk
        assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
        s.sendall(body)
        res = Reader(s).response()
        assert res.status == 200
        assert res.json() == {"bytes": len(body), "sha256": hashlib.sha256(body).hexdigest()}


def test_100_continue_is_not_sent_for_a_refused_request(core):
    for path, status in [("/_ciel/diag/small", 413), ("/nope", 404), ("/healthz", 405)]:
        with connect(core.port) as s:
            s.sendall(b"PUT %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\nExpect: 100-continue\r\n\r\n"
                      % (path.encode(), 50 * 1024 * 1024))
            s.settimeout(5)
            res = Reader(s).response()
            assert b"100 Continue" not in res.raw
            assert_error(res, status)
            assert res.header("Connection") == "close"
            assert wait_closed(s, 5) is not None


def test_requests_library_upload_with_expect_header(core):
    body = os.urandom(200_000)
    r = requests.put(core.url + "/_ciel/diag/sink", data=body, headers={"Expect": "100-continue"}, timeout=10)
    assert r.status_code == 200
    assert r.json()["sha256"] == hashlib.sha256(body).hexdigest()


# --- bad input ----------------------------------------------------------------------------------

@pytest.mark.parametrize("request_bytes", [
    b"GARBAGE\r\n\r\n",
    b"GET\r\n\r\n",
    b"GET / HTTP/1.1 extra\r\nHost: x\r\n\r\n",
    b"GET  / HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET / HTTP/9.9\r\nHost: x\r\n\r\n",
    b"GET / FTP/1.1\r\nHost: x\r\n\r\n",
    b"G\x00T / HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /\x7f HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET / HTTP/1.1\nHost: x\n\n",
], ids=["garbage", "no-target", "extra-token", "double-space", "bad-version", "bad-protocol", "nul-in-method",
        "ctl-in-target", "bare-lf"])
def test_malformed_request_line_is_400(core, request_bytes):
    res = exchange(core.port, request_bytes)
    assert_error(res, 400)
    assert res.header("Connection") == "close"


@pytest.mark.parametrize("headers", [
    b"Host: x\r\nBad Header\r\n",
    b"Host: x\r\nNo-Colon\r\n",
    b"Host: x\r\nSp ace: 1\r\n",
    b"Host: x\r\n: empty-name\r\n",
    b"Host: x\r\nX: a\x00b\r\n",
    b"Host: x\r\nContent-Length: abc\r\n",
    b"Host: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n",
    b"Host: x\r\nContent-Length: -1\r\n",
    b"Host: x\r\nTransfer-Encoding: gzip, chunked, identity\r\n",
    b"Host: x\r\nTransfer-Encoding: gzip\r\n",
    b"Host: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n",
    b"X-No-Host: 1\r\n",
    b"Host: a\r\nHost: b\r\n",
    b"Host: evil.example/path\r\n",
], ids=["no-colon", "no-colon-2", "space-in-name", "empty-name", "nul-in-value", "bad-length", "two-lengths",
        "negative-length", "bad-te", "gzip-te", "length-and-chunked", "no-host", "two-hosts", "bad-host"])
def test_malformed_header_is_400(core, headers):
    res = exchange(core.port, b"PUT /_ciel/diag/sink HTTP/1.1\r\n" + headers + b"\r\n")
    assert_error(res, 400)


def test_oversized_header_is_431(core):
    big = b"X-Big: " + b"a" * (70 * 1024) + b"\r\n"
    res = exchange(core.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + big + b"\r\n")
    assert_error(res, 431)
    many = b"".join(b"X-H%d: %s\r\n" % (i, b"b" * 100) for i in range(1000))
    res = exchange(core.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n")
    assert_error(res, 431)
    # Just under the limit is fine.
    ok = b"X-Ok: " + b"c" * (60 * 1024) + b"\r\n"
    res = exchange(core.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + ok + b"\r\n")
    assert res.status == 200


def test_body_over_the_route_limit_is_413_before_it_is_read(core):
    # Content-Length over the limit: answered at once, the body never sent.
    with connect(core.port) as s:
        start = time.monotonic()
        s.sendall(b"PUT /_ciel/diag/small HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % (10 << 30))
        res = Reader(s).response()
        assert_error(res, 413, "too large")
        assert time.monotonic() - start < 2
        assert res.header("Connection") == "close"
        assert wait_closed(s, 5) is not None
    # At the limit it is accepted.
    body = b"x" * (1 << 20)
    r = requests.put(core.url + "/_ciel/diag/small", data=body, timeout=10)
    assert r.status_code == 200 and r.json()["bytes"] == len(body)


def test_chunked_body_over_the_route_limit_is_413(core):
    with connect(core.port) as s:
        s.sendall(b"PUT /_ciel/diag/small HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        chunk = b"%x\r\n%s\r\n" % (64 * 1024, b"y" * 64 * 1024)
        try:
            for _ in range(64):  # 4 MiB offered, 1 MiB allowed
                s.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        res = Reader(s).response()
        assert_error(res, 413)


def test_client_library_sees_413_for_a_large_upload(core):
    # requests sends the whole body without waiting; the server answers 413 and must not reset the
    # connection before the client could read that answer.
    r = requests.put(core.url + "/_ciel/diag/small", data=b"z" * (8 << 20), timeout=20)
    assert_error(r, 413)


def test_unknown_route_is_404(core):
    for path in ["/nope", "/v9/x", "/healthz/extra", "/assets"]:
        assert_error(get(core, path), 404, "no such")
    r = requests.put(core.url + "/nowhere", data=b"abc", timeout=10)
    assert_error(r, 404)


def test_wrong_method_is_405_with_allow(core):
    r = requests.post(core.url + "/healthz", data=b"x", timeout=10)
    assert_error(r, 405)
    assert [m.strip() for m in r.headers["Allow"].split(",")] == ["GET", "HEAD"]
    r = requests.delete(core.url + "/_ciel/diag/sink", timeout=10)
    assert_error(r, 405)
    assert r.headers["Allow"] == "PUT"
    r = requests.get(core.url + "/_ciel/diag/small", timeout=10)
    assert_error(r, 405)


def test_unknown_method_is_501(core):
    res = exchange(core.port, b"BREW /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    assert_error(res, 501)


def test_head_uses_the_get_route_without_a_body(core):
    r = requests.head(core.url + "/healthz", timeout=10)
    assert r.status_code == 200 and r.content == b""
    assert r.headers["Content-Length"] == "16"
    assert r.headers["X-Request-Id"]


# --- paths ------------------------------------------------------------------------------------

TRAVERSALS = [
    b"/assets/../../secret.txt",
    b"/assets/%2e%2e/%2e%2e/secret.txt",
    b"/assets/%2E%2E/%2e%2E/secret.txt",
    b"/assets/.%2e/.%2E/secret.txt",
    b"/assets/%2e./%2e./secret.txt",
    b"/assets/..%2f..%2fsecret.txt",
    b"/assets/..%2F..%2Fsecret.txt",
    b"/assets/x/../../../secret.txt",
    b"/assets/./app.js",
    b"/../secret.txt",
    b"/assets/..",
    b"http://127.0.0.1/assets/../../secret.txt",
]
NUL_PATHS = [b"/assets/app.js%00.png", b"/assets/%00", b"/%00../secret.txt"]


def test_dot_segments_are_refused(core):
    for target in TRAVERSALS:
        res = exchange(core.port, b"GET " + target + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        assert_error(res, 400, "dot segment")
        assert b"SECRET" not in res.body


def test_nul_bytes_and_bad_escapes_are_refused(core):
    for target in NUL_PATHS:
        res = exchange(core.port, b"GET " + target + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        assert_error(res, 400, "NUL")
    for target in [b"/assets/%zz", b"/assets/%4", b"/assets/%c0%af", b"/assets/%ff", b"/a%0d%0aX:%20y"]:
        res = exchange(core.port, b"GET " + target + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        assert_error(res, 400)


def test_overlong_path_is_414(core):
    res = exchange(core.port, b"GET /assets/" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    assert_error(res, 414)
    res = exchange(core.port, b"GET /assets/" + b"%41" * 8200 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    assert_error(res, 414)


def test_static_files_inside_the_root_are_served(core):
    r = get(core, "/assets/app.js")
    assert r.status_code == 200 and r.content == APP_JS
    assert r.headers["Content-Type"].startswith("text/javascript")
    assert get(core, "/").text.startswith("<!doctype html>")
    assert_error(get(core, "/assets/missing.js"), 404)


def _strace_works():
    if shutil.which("strace") is None:
        return False
    probe = subprocess.run(["strace", "-qq", "-e", "trace=none", "true"], capture_output=True)
    return probe.returncode == 0


def test_refused_paths_never_touch_the_filesystem(core, tmp_path):
    """Traces the server's file syscalls while it refuses every bad path: none of them may
    reach open/stat. A control request for a missing asset shows the trace does see lookups."""
    assert _strace_works(), "strace (scripts/packages.txt) is needed and must be able to trace"
    trace = tmp_path / "trace"
    tracer = subprocess.Popen(["strace", "-f", "-qq", "-e", "trace=%file", "-o", str(trace), "-p", str(core.proc.pid)],
                              stderr=subprocess.PIPE)
    try:
        # Wait until the trace shows a lookup of ours.
        deadline = time.time() + 10
        while time.time() < deadline:
            get(core, "/assets/probe-zz1.js")
            if trace.exists() and "probe-zz1" in trace.read_text(errors="replace"):
                break
            time.sleep(0.1)
        else:
            pytest.fail("strace never saw the probe request")
        marker = b"mark-zq7"
        bad = [t.replace(b"secret.txt", marker + b".txt") for t in TRAVERSALS if b"secret" in t]
        bad += [b"/assets/" + marker + b"%00.js", b"/assets/" + marker + b"/%2e%2e/x", b"/assets/" + marker + b"%ff",
                b"/assets/" + marker + b"/" + b"a" * 9000]
        for target in bad:
            res = exchange(core.port, b"GET " + target + b" HTTP/1.1\r\nHost: x\r\n\r\n")
            assert res.status in (400, 414), target
        get(core, "/assets/probe-zz2.js")
        deadline = time.time() + 10
        while time.time() < deadline and "probe-zz2" not in trace.read_text(errors="replace"):
            time.sleep(0.1)
    finally:
        tracer.send_signal(signal.SIGINT)
        tracer.wait(timeout=10)
    text = trace.read_text(errors="replace")
    assert "probe-zz2" in text
    assert marker.decode() not in text, [line for line in text.splitlines() if marker.decode() in line][:5]
    assert "secret.txt" not in text


# --- slow clients ---------------------------------------------------------------------------------

def test_slowloris_head_is_cut_after_header_timeout(core):
    with connect(core.port) as s:
        start = time.monotonic()
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        closed = None
        for i in range(40):  # one header byte every 0.25 s, never the blank line that ends the head
            try:
                s.sendall(b"\r\nX-Slow: " if i % 10 == 9 else b"a")
            except (BrokenPipeError, ConnectionResetError):
                closed = time.monotonic() - start
                break
            time.sleep(0.25)
            s.settimeout(0.01)
            try:
                data = s.recv(1024)
                assert data == b"", data
                closed = time.monotonic() - start
                break
            except TimeoutError:
                pass
            except ConnectionResetError:
                closed = time.monotonic() - start
                break
        assert closed is not None, "a trickling client kept its connection"
        assert HEADER_TIMEOUT - 0.5 <= closed <= HEADER_TIMEOUT + 2, closed


def test_silent_connection_is_closed(core):
    # A client that connects and sends nothing is cut after the idle timeout.
    with connect(core.port) as s:
        closed = wait_closed(s, IDLE_TIMEOUT + 5)
        assert closed is not None and closed >= IDLE_TIMEOUT - 1


def test_stalled_body_is_cut_after_body_timeout(core):
    with connect(core.port) as s:
        s.sendall(b"PUT /_ciel/diag/sink HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n" + b"a" * 10)
        closed = wait_closed(s, BODY_TIMEOUT + 5)
        assert closed is not None, "a stalled upload kept its connection"
        assert closed >= BODY_TIMEOUT - 1
    # The server is still healthy.
    assert get(core, "/healthz").status_code == 200


# --- request ids, access log, metrics ---------------------------------------------------------------

def _access_lines(core):
    path = core.data_dir / "log" / "access.log"
    deadline = time.time() + 5
    while True:
        lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        yield lines
        if time.time() > deadline:
            return
        time.sleep(0.1)


def test_request_ids_on_every_response_and_access_log_line(core):
    ids = {}
    for method, path, body in [("GET", "/healthz", None), ("GET", "/nope", None), ("POST", "/healthz", b"x"),
                               ("PUT", "/_ciel/diag/sink", b"abc"), ("HEAD", "/assets/app.js", None)]:
        r = requests.request(method, core.url + path, data=body, timeout=10)
        ids[r.headers["X-Request-Id"]] = (method, path, r.status_code)
    early = exchange(core.port, b"GET /assets/%2e%2e/x HTTP/1.1\r\nHost: x\r\n\r\n")
    ids[early.header("X-Request-Id")] = ("GET", None, 400)
    garbage = exchange(core.port, b"NONSENSE\r\n\r\n")
    ids[garbage.header("X-Request-Id")] = (None, None, 400)
    assert len(ids) == 7 and all(re.fullmatch(r"req-[0-9a-f]{24}", i) for i in ids)

    for lines in _access_lines(core):
        by_id = {line["request_id"]: line for line in lines}
        if set(ids) <= set(by_id):
            break
    else:
        pytest.fail(f"missing from access.log: {set(ids) - set(by_id)}")
    for line in lines:
        assert re.fullmatch(r"req-[0-9a-f]{24}", line["request_id"]), line
        assert {"ts", "remote", "method", "path", "status", "bytes_in", "bytes_out", "us", "group"} <= set(line)
    for rid, (method, path, status) in ids.items():
        line = by_id[rid]
        assert line["status"] == status
        if method:
            assert line["method"] == method
        if path:
            assert line["path"] == path
        assert line["remote"] == "127.0.0.1"
    sink = next(by_id[r] for r, v in ids.items() if v[1] == "/_ciel/diag/sink")
    assert sink["bytes_in"] == 3 and sink["group"] == "system"


def _metric(text, group, status):
    m = re.search(r'^ciel_http_requests_total\{group="%s",status="%d"\} (\d+)$' % (group, status), text, re.M)
    return int(m.group(1)) if m else 0


def test_metrics_count_requests_by_group_and_status(core):
    before = get(core, "/metrics").text
    for _ in range(3):
        get(core, "/healthz")
    for _ in range(2):
        get(core, "/definitely/missing")
    exchange(core.port, b"GET /%2e%2e HTTP/1.1\r\nHost: x\r\n\r\n")
    r = get(core, "/metrics")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    after = r.text
    # The /metrics request that rendered `before` counts too.
    assert _metric(after, "system", 200) - _metric(before, "system", 200) == 4
    assert _metric(after, "system", 404) - _metric(before, "system", 404) == 2
    assert _metric(after, "other", 400) - _metric(before, "other", 400) == 1
    assert "# TYPE ciel_http_requests_total counter" in after
    assert "# TYPE ciel_http_request_duration_seconds histogram" in after
    # Every sample line is "name{labels} value" or "name value".
    for line in after.splitlines():
        if line and not line.startswith("#"):
            assert re.fullmatch(r'[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? -?[0-9.e+Inf-]+', line), line


# --- chunked both ways, ranges ------------------------------------------------------------------------

def test_chunked_upload_and_download(core):
    pieces = [os.urandom(n) for n in (1, 1000, 65536, 300_000, 7)]

    def gen():
        yield from pieces

    r = requests.put(core.url + "/_ciel/diag/sink", data=gen(), timeout=10)  # a generator goes out chunked
    assert r.status_code == 200
    assert r.json() == {"bytes": sum(map(len, pieces)), "sha256": hashlib.sha256(b"".join(pieces)).hexdigest()}

    with connect(core.port) as s:
        s.sendall(b"GET /_ciel/diag/source?bytes=200000 HTTP/1.1\r\nHost: x\r\n\r\n")
        res = Reader(s).response()
        assert res.header("Transfer-Encoding") == "chunked" and "content-length" not in res.headers
        expected = bytes(ord("a") + i % 26 for i in range(200_000))
        assert res.body == expected
        s.sendall(b"GET /_ciel/diag/source?bytes=0 HTTP/1.1\r\nHost: x\r\n\r\n")
        empty = Reader(s).response()
        assert empty.status == 200 and empty.body == b""


def test_chunked_upload_with_extensions_and_trailers(core):
    with connect(core.port) as s:
        s.sendall(b"PUT /_ciel/diag/sink HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                  b"5;name=value\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: yes\r\n\r\n"
                  b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        r = Reader(s)
        first = r.response()
        assert first.json()["sha256"] == hashlib.sha256(b"hello world").hexdigest()
        assert r.response().status == 200, "keep-alive survives a chunked upload"


def test_bad_chunk_framing_is_400(core):
    res = exchange(core.port, b"PUT /_ciel/diag/sink HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                              b"zz\r\nhello\r\n0\r\n\r\n")
    assert_error(res, 400)


def test_range_requests_on_static_files(core):
    url = core.url + "/assets/app.js"
    size = len(APP_JS)
    r = requests.get(url, headers={"Range": "bytes=0-99"}, timeout=10)
    assert r.status_code == 206 and r.content == APP_JS[:100]
    assert r.headers["Content-Range"] == f"bytes 0-99/{size}"
    assert r.headers["Content-Length"] == "100"
    r = requests.get(url, headers={"Range": "bytes=-10"}, timeout=10)
    assert r.status_code == 206 and r.content == APP_JS[-10:]
    r = requests.get(url, headers={"Range": "bytes=9990-"}, timeout=10)
    assert r.status_code == 206 and r.content == APP_JS[9990:]
    r = requests.get(url, headers={"Range": f"bytes={size}-"}, timeout=10)
    assert_error(r, 416)
    assert r.headers["Content-Range"] == f"bytes */{size}"
    r = requests.get(url, headers={"Range": "bytes=0-1,5-6"}, timeout=10)
    assert r.status_code == 200 and r.content == APP_JS
    r = requests.get(url, headers={"Range": "pages=1-2"}, timeout=10)
    assert r.status_code == 200 and r.content == APP_JS
    assert r.headers["Accept-Ranges"] == "bytes"


def test_conditional_get_on_static_files(core):
    r = get(core, "/assets/app.js")
    etag = r.headers["ETag"]
    assert r.headers["Cache-Control"].startswith("public")
    r2 = get(core, "/assets/app.js", headers={"If-None-Match": etag})
    assert r2.status_code == 304 and r2.content == b""
    assert r2.headers["X-Request-Id"]
    r3 = get(core, "/assets/app.js", headers={"If-None-Match": '"other", ' + etag})
    assert r3.status_code == 304
    r4 = get(core, "/assets/app.js", headers={"If-None-Match": '"other"'})
    assert r4.status_code == 200 and r4.content == APP_JS
