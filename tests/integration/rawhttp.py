"""Helpers for tests that must speak HTTP byte by byte: clients such as requests normalise
paths, refuse malformed requests and hide connection reuse, so these tests use raw sockets."""
import json
import socket
import time


class RawResponse:
    def __init__(self, status, reason, headers, body, raw):
        self.status = status
        self.reason = reason
        self.headers = headers  # lower-cased name -> value (last wins)
        self.body = body
        self.raw = raw

    def header(self, name, default=None):
        return self.headers.get(name.lower(), default)

    def json(self):
        return json.loads(self.body)


def connect(port, timeout=10):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


class Reader:
    """Reads HTTP/1.1 responses off one socket (keep-alive aware)."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def _fill(self):
        chunk = self.sock.recv(1 << 16)
        if not chunk:
            raise EOFError("connection closed by the server")
        self.buf += chunk

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _exactly(self, n):
        while len(self.buf) < n:
            self._fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def head(self):
        start = len(self.buf)
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.split(b"\r\n")
        version, status, reason = (lines[0].decode("latin-1").split(" ", 2) + [""])[:3]
        assert version == "HTTP/1.1", lines[0]
        headers = {}
        for line in lines[1:]:
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        return int(status), reason, headers, head

    def response(self, head_request=False):
        """Reads one final response (skipping interim 1xx ones)."""
        while True:
            status, reason, headers, raw = self.head()
            if 100 <= status < 200:
                continue
            break
        body = b""
        if head_request or status in (204, 304):
            pass
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            while True:
                size = int(self._line().split(b";")[0], 16)
                if size == 0:
                    while self._line() != b"":
                        pass
                    break
                body += self._exactly(size)
                assert self._exactly(2) == b"\r\n"
        elif "content-length" in headers:
            body = self._exactly(int(headers["content-length"]))
        else:
            while True:
                try:
                    self._fill()
                except EOFError:
                    break
            body, self.buf = self.buf, b""
        return RawResponse(status, reason, headers, body, raw)


def exchange(port, data, timeout=10):
    """Sends `data` on a new connection and reads one response."""
    with connect(port, timeout) as s:
        s.sendall(data)
        return Reader(s).response()


def wait_closed(sock, timeout):
    """Returns the seconds until the peer closed `sock` (EOF or reset), or None if it stayed open.
    Anything the server sends meanwhile is discarded."""
    start = time.monotonic()
    sock.settimeout(0.2)
    while time.monotonic() - start < timeout:
        try:
            data = sock.recv(65536)
        except socket.timeout:
            continue
        except (ConnectionResetError, BrokenPipeError):
            return time.monotonic() - start
        if not data:
            return time.monotonic() - start
    return None


def assert_error(res, status, message_part=None):
    """Every error Ciel sends carries the request id (header and body) and a short message.
    `res` is a RawResponse or a requests.Response."""
    if isinstance(res, RawResponse):
        got, rid, body = res.status, res.header("X-Request-Id"), res.body
    else:
        got, rid, body = res.status_code, res.headers.get("X-Request-Id"), res.content
    assert got == status, (got, body[:300])
    assert rid and rid.startswith("req-"), rid
    err = json.loads(body)["error"]
    assert err["code"] == status
    assert err["request_id"] == rid
    assert 0 < len(err["message"]) <= 80, err["message"]
    if message_part:
        assert message_part in err["message"], err["message"]
    return err
