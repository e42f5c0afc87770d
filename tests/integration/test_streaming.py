"""Bodies stream end to end: 2 GiB up (Content-Length and chunked) and 2 GiB down (with a length
and chunked) through /_ciel/diag, verified by SHA-256 and byte count, while the server's
resident memory stays under 100 MiB."""
import hashlib
import http.client
import json
import socket
import threading
import time

import pytest

from conftest import CielServer
from rawhttp import connect

GIB = 1 << 30
TOTAL = 2 * GIB
RSS_LIMIT = 100 * (1 << 20)
# The diag source's pattern: byte i is 'a' + i % 26. BLOCK is a whole number of periods, so the
# same block can be sent (or expected) again and again.
BLOCK = bytes(ord("a") + i % 26 for i in range(26 * 40_330))  # ~1 MiB


def pattern_digest(n):
    h = hashlib.sha256()
    view = memoryview(BLOCK)
    while n > 0:
        k = min(n, len(BLOCK))
        h.update(view[:k])
        n -= k
    return h.hexdigest()


@pytest.fixture(scope="module")
def expected_digest():
    return pattern_digest(TOTAL)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = CielServer(tmp_path_factory.mktemp("stream") / "data", {"server.diagnostics": "true"}).start()
    yield s
    assert s.stop() == 0


class RssSampler:
    """Samples VmRSS of a process every 20 ms in a background thread."""

    def __init__(self, server):
        self.server = server
        self.samples = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            try:
                self.samples.append(self.server.rss_bytes())
            except OSError:
                return
            self._stop.wait(0.02)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def check(self):
        assert len(self.samples) > 20, "too few RSS samples to mean anything"
        peak = max(self.samples)
        assert peak < RSS_LIMIT, f"server RSS peaked at {peak / (1 << 20):.1f} MiB"
        return peak


def send_pattern(sock, n, chunked):
    view = memoryview(BLOCK)
    while n > 0:
        k = min(n, len(BLOCK))
        if chunked:
            sock.sendall(b"%x\r\n" % k)
            sock.sendall(view[:k])
            sock.sendall(b"\r\n")
        else:
            sock.sendall(view[:k])
        n -= k
    if chunked:
        sock.sendall(b"0\r\n\r\n")


def read_response(sock):
    res = http.client.HTTPResponse(sock)
    res.begin()
    return res


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_upload_2gib(server, expected_digest, chunked):
    with RssSampler(server) as rss, connect(server.port, timeout=60) as s:
        start = time.monotonic()
        framing = b"Transfer-Encoding: chunked" if chunked else b"Content-Length: %d" % TOTAL
        s.sendall(b"PUT /_ciel/diag/sink HTTP/1.1\r\nHost: x\r\n" + framing + b"\r\n\r\n")
        send_pattern(s, TOTAL, chunked)
        res = read_response(s)
        body = res.read()
        took = time.monotonic() - start
    assert res.status == 200, body
    assert json.loads(body) == {"bytes": TOTAL, "sha256": expected_digest}
    peak = rss.check()
    print(f"upload 2 GiB ({'chunked' if chunked else 'length'}): {took:.1f}s, server RSS peak {peak >> 20} MiB")


@pytest.mark.parametrize("with_length", [True, False], ids=["content-length", "chunked"])
def test_download_2gib(server, expected_digest, with_length):
    with RssSampler(server) as rss:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        start = time.monotonic()
        conn.request("GET", f"/_ciel/diag/source?bytes={TOTAL}" + ("&length=1" if with_length else ""))
        res = conn.getresponse()
        assert res.status == 200
        if with_length:
            assert res.getheader("Content-Length") == str(TOTAL)
        else:
            assert res.getheader("Transfer-Encoding") == "chunked"
        h = hashlib.sha256()
        n = 0
        buf = bytearray(1 << 20)
        while True:
            k = res.readinto(buf)
            if not k:
                break
            h.update(memoryview(buf)[:k])
            n += k
        conn.close()
        took = time.monotonic() - start
    assert n == TOTAL
    assert h.hexdigest() == expected_digest
    peak = rss.check()
    print(f"download 2 GiB ({'length' if with_length else 'chunked'}): {took:.1f}s, server RSS peak {peak >> 20} MiB")


def test_slow_reader_does_not_grow_server_memory(server):
    """A client that stops reading must not make the server buffer the response."""
    with RssSampler(server) as rss, connect(server.port, timeout=30) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        s.sendall(b"GET /_ciel/diag/source?bytes=%d&length=1 HTTP/1.1\r\nHost: x\r\n\r\n" % GIB)
        s.recv(1024)
        time.sleep(2)  # the server's writes block; its memory must stay flat
        got = 0
        while got < 64 << 20:
            chunk = s.recv(1 << 20)
            assert chunk
            got += len(chunk)
    rss.check()
