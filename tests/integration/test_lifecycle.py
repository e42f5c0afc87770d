"""`ciel serve` as an operator meets it: --help, settings from TOML / environment / flags and
their errors, SIGTERM drain, `ciel version`, TLS, and `ciel scrub`."""
import hashlib
import json
import os
import pathlib
import re
import signal
import socket
import ssl
import subprocess
import time
import warnings

import pytest
import requests

from conftest import BINARY, CielServer
from rawhttp import Reader, connect

SRC = pathlib.Path(__file__).resolve().parents[2] / "src"


def run_ciel(*args, env=None, timeout=30):
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("CIEL_")}
    full_env.update(env or {})
    return subprocess.run([str(BINARY), *args], capture_output=True, text=True, timeout=timeout, env=full_env)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- ciel version, help ---------------------------------------------------------------------------

def test_version():
    r = run_ciel("version")
    assert r.returncode == 0
    assert re.fullmatch(r"ciel \d+\.\d+\.\d+\S*\n", r.stdout), r.stdout
    assert run_ciel("--version").stdout == r.stdout


def test_unknown_command_is_exit_2():
    r = run_ciel("frobnicate")
    assert r.returncode == 2
    assert "unknown command frobnicate" in r.stderr


def declared_settings():
    """Every setting any module declares: (key, default), read from the sources."""
    found = {}
    pattern = re.compile(r'declare\(\{"([a-z0-9_.]+)",\s*Kind::\w+,\s*"([^"]*)"')
    for path in SRC.rglob("*.cc"):
        for key, default in pattern.findall(path.read_text()):
            found.setdefault(key, default)
    return found


def test_serve_help_documents_every_setting_with_its_default():
    r = run_ciel("serve", "--help")
    assert r.returncode == 0, r.stderr
    settings = declared_settings()
    assert len(settings) >= 15
    for key, default in settings.items():
        env = "CIEL_" + key.upper().replace(".", "_")
        m = re.search(r"^  %s \((\w+), default \"(.*)\"\)\n      (.+)\n      environment: (\S+)$" % re.escape(key),
                      r.stdout, re.M)
        assert m, f"{key} is not documented in ciel serve --help"
        assert m.group(2) == default, key
        assert m.group(3).strip(), f"{key} has no description"
        assert m.group(4) == env
    for flag in ("--data-dir", "--config", "--listen", "--set"):
        assert flag in r.stdout


# --- bad settings ---------------------------------------------------------------------------------

def assert_bad_setting(result, key):
    assert result.returncode == 2, (result.returncode, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("ciel: ")
    assert key in lines[0], lines[0]


@pytest.mark.parametrize("flag,key", [
    ("server.threads=many", "server.threads"),
    ("server.header_timeout=10 seconds", "server.header_timeout"),
    ("server.max_header_bytes=lots", "server.max_header_bytes"),
    ("server.diagnostics=perhaps", "server.diagnostics"),
    ("server.lisen=127.0.0.1:0", "server.lisen"),
    ("server.drain_timeout=99999999999999999d", "server.drain_timeout"),
    ("log.level=loud", "log.level"),
    ("server.listen=nowhere", "server.listen"),
    ("server.listen=127.0.0.1:99999", "server.listen"),
    ("server.listen=127.0.0.1:80x", "server.listen"),
    ("server.listen=localhost:0", "server.listen"),
    ("server.listen=127.0.0.1:", "server.listen"),
    ("server.blocking_threads=0", "server.blocking_threads"),
    ("server.threads=\n1", "server.threads"),
])
def test_bad_flag_is_one_line_exit_2(tmp_path, flag, key):
    assert_bad_setting(run_ciel("serve", "--data-dir", str(tmp_path / "d"), "--set", flag), key)


def test_bad_listen_flag(tmp_path):
    assert_bad_setting(run_ciel("serve", "--data-dir", str(tmp_path / "d"), "--listen", "127.0.0.1:http"), "server.listen")


def test_set_without_equals(tmp_path):
    assert_bad_setting(run_ciel("serve", "--data-dir", str(tmp_path / "d"), "--set", "server.threads"), "server.threads")


def test_unknown_cli_option_is_exit_2(tmp_path):
    r = run_ciel("serve", "--data-dir", str(tmp_path / "d"), "--bogus")
    assert r.returncode == 2
    assert "bogus" in r.stderr


@pytest.mark.parametrize("var,value,key", [
    ("CIEL_SERVER_THREADS", "x", "server.threads"),
    ("CIEL_SERVER_IDLE_TIMEOUT", "forever", "server.idle_timeout"),
    ("CIEL_LOG_ACCESS", "sometimes", "log.access"),
    ("CIEL_SERVER_LISTEN", "127.0.0.1", "server.listen"),
])
def test_bad_environment_variable_is_one_line_exit_2(tmp_path, var, value, key):
    r = run_ciel("serve", "--data-dir", str(tmp_path / "d"), env={var: value})
    assert_bad_setting(r, key)
    if key != "server.listen":
        assert var in r.stderr


@pytest.mark.parametrize("toml,key", [
    ('[server]\nthreads = "two"\n', "server.threads"),
    ("[server]\nthreads = 1.5\n", "server.threads"),
    ('[server]\nlisen = "127.0.0.1:0"\n', "server.lisen"),
    ("[server]\nlisten = [1, 2]\n", "server.listen"),
    ('[nope]\nkey = 1\n', "nope.key"),
    ("[server\nthreads = 1\n", "line 1"),
    ('server.header_timeout = "1 minute"\n', "server.header_timeout"),
])
def test_bad_toml_file_is_one_line_exit_2(tmp_path, toml, key):
    cfg = tmp_path / "ciel.toml"
    cfg.write_text(toml)
    r = run_ciel("serve", "--data-dir", str(tmp_path / "d"), "--config", str(cfg))
    assert_bad_setting(r, key)
    # DATA_DIR/ciel.toml is read when no --config is given.
    data = tmp_path / "d2"
    data.mkdir()
    (data / "ciel.toml").write_text(toml)
    assert_bad_setting(run_ciel("serve", "--data-dir", str(data)), key)


def test_missing_config_file_is_exit_2(tmp_path):
    r = run_ciel("serve", "--data-dir", str(tmp_path / "d"), "--config", str(tmp_path / "absent.toml"))
    assert_bad_setting(r, "absent.toml")


def test_tls_settings_errors_name_the_key(tmp_path):
    r = run_ciel("serve", "--data-dir", str(tmp_path / "d"), "--set", "server.listen=127.0.0.1:0",
                 "--set", f"server.tls_cert={tmp_path}/missing.pem", "--set", f"server.tls_key={tmp_path}/missing.key")
    assert_bad_setting(r, "server.tls_cert")
    cert, key = make_cert(tmp_path)
    r = run_ciel("serve", "--data-dir", str(tmp_path / "d"), "--set", "server.listen=127.0.0.1:0",
                 "--set", f"server.tls_cert={cert}")
    assert_bad_setting(r, "server.tls_key")
    bogus = tmp_path / "bogus.pem"
    bogus.write_text("-----BEGIN CERTIFICATE-----\nnot really\n-----END CERTIFICATE-----\n")
    r = run_ciel("serve", "--data-dir", str(tmp_path / "d"), "--set", "server.listen=127.0.0.1:0",
                 "--set", f"server.tls_cert={bogus}", "--set", f"server.tls_key={key}")
    assert_bad_setting(r, "server.tls_cert")


def test_settings_layer_file_then_environment_then_flags(tmp_path):
    p_file, p_env, p_flag = free_port(), free_port(), free_port()
    data = tmp_path / "data"
    data.mkdir()
    (data / "ciel.toml").write_text(f'[server]\nlisten = "127.0.0.1:{p_file}"\n[log]\nlevel = "warn"\n')

    def start(env=None, listen=None):
        # The S3 listener would take the public port + 1, which another process may hold.
        server = CielServer(data, {"s3.listen": "127.0.0.1:0"}, env=env)
        del server.settings["server.listen"]
        if listen:
            server.settings["server.listen"] = listen
        server.env = {k: v for k, v in server.env.items() if not k.startswith("CIEL_")}
        server.env.update(env or {})
        server.start()
        try:
            return server.port
        finally:
            assert server.stop() == 0

    assert start() == p_file
    assert start(env={"CIEL_SERVER_LISTEN": f"127.0.0.1:{p_env}"}) == p_env
    assert start(env={"CIEL_SERVER_LISTEN": f"127.0.0.1:{p_env}"}, listen=f"127.0.0.1:{p_flag}") == p_flag


# --- SIGTERM drain --------------------------------------------------------------------------------

def test_sigterm_lets_the_in_flight_download_finish_then_exits_0(start_ciel):
    server = start_ciel({"server.diagnostics": "true"})
    size = 256 << 20
    idle = connect(server.port)
    idle.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    assert Reader(idle).response().status == 200
    s = connect(server.port, timeout=30)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    s.sendall(b"GET /_ciel/diag/source?bytes=%d&length=1 HTTP/1.1\r\nHost: x\r\n\r\n" % size)
    reader = Reader(s)
    status, _, headers, _ = reader.head()
    assert status == 200 and int(headers["content-length"]) == size
    got = len(reader.buf)
    h = hashlib.sha256(reader.buf)

    server.signal(signal.SIGTERM)
    time.sleep(0.5)
    # New connections are refused while the download drains; the idle keep-alive one is closed.
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", server.port), timeout=2).close()
    idle.settimeout(2)
    assert idle.recv(100) == b""
    idle.close()
    assert server.proc.poll() is None, "exited before the in-flight response was done"

    # Read the rest slowly for a while, then at full speed.
    deadline = time.monotonic() + 1.5
    while time.monotonic() < deadline:
        chunk = s.recv(16 * 1024)
        h.update(chunk)
        got += len(chunk)
        time.sleep(0.01)
    while True:
        chunk = s.recv(1 << 20)
        if not chunk:
            break
        h.update(chunk)
        got += len(chunk)
    s.close()
    assert got == size
    block = bytes(ord("a") + i % 26 for i in range(26 * 4096))
    want = hashlib.sha256()
    left = size
    while left:
        k = min(left, len(block))
        want.update(block[:k])
        left -= k
    assert h.hexdigest() == want.hexdigest()
    assert server.proc.wait(timeout=10) == 0
    assert "draining" in server.stderr()


def test_sigterm_gives_up_on_a_stalled_client_at_the_drain_deadline(start_ciel):
    server = start_ciel({"server.diagnostics": "true", "server.drain_timeout": "2s"})
    s = connect(server.port, timeout=30)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024)
    s.sendall(b"GET /_ciel/diag/source?bytes=%d HTTP/1.1\r\nHost: x\r\n\r\n" % (1 << 30))
    assert s.recv(100).startswith(b"HTTP/1.1 200")
    start = time.monotonic()
    server.signal(signal.SIGTERM)
    rc = server.proc.wait(timeout=15)  # the client never reads another byte
    took = time.monotonic() - start
    s.close()
    assert rc == 0
    assert 1.5 <= took <= 6, took
    assert "drain deadline reached" in server.stderr()


def test_sigterm_on_an_idle_server_exits_at_once(start_ciel):
    server = start_ciel()
    start = time.monotonic()
    server.signal(signal.SIGTERM)
    assert server.proc.wait(timeout=10) == 0
    assert time.monotonic() - start < 2


def test_sigint_drains_too(start_ciel):
    server = start_ciel()
    server.signal(signal.SIGINT)
    assert server.proc.wait(timeout=10) == 0


# --- TLS ------------------------------------------------------------------------------------------

def make_cert(directory):
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return cert, key


def test_tls_listener(start_ciel, tmp_path):
    cert, key = make_cert(tmp_path)
    server = start_ciel({"server.diagnostics": "true", "server.tls_cert": str(cert), "server.tls_key": str(key),
                         "server.header_timeout": "2s"})
    assert server.url.startswith("https://127.0.0.1:")
    endpoints = json.loads((server.data_dir / "endpoints.json").read_text())
    assert all(u.startswith("https://") for u in endpoints.values())

    r = requests.get(server.url + "/healthz", verify=str(cert), timeout=10)
    assert r.status_code == 200 and r.json() == {"status": "ok"} and r.headers["X-Request-Id"]
    body = os.urandom(3 << 20)
    r = requests.put(server.url + "/_ciel/diag/sink", data=body, verify=str(cert), timeout=30)
    assert r.json() == {"bytes": len(body), "sha256": hashlib.sha256(body).hexdigest()}
    r = requests.get(server.url + "/_ciel/diag/source?bytes=5000000", verify=str(cert), timeout=30)
    assert len(r.content) == 5_000_000 and r.content[:3] == b"abc"
    r = requests.get(server.url + "/nope", verify=str(cert), timeout=10)
    assert r.status_code == 404 and r.json()["error"]["request_id"] == r.headers["X-Request-Id"]

    # Keep-alive over TLS: one handshake, several requests.
    ctx = ssl.create_default_context(cafile=str(cert))
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
            assert s.version() in ("TLSv1.2", "TLSv1.3")
            reader = Reader(s)
            for _ in range(3):
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                assert reader.response().status == 200

    # Plain HTTP on the TLS port gets nowhere.
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(server.url.replace("https://", "http://") + "/healthz", timeout=5)
    # Neither does a client that does not trust the certificate.
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(server.url + "/healthz", timeout=5)
    # A client that never finishes its handshake is cut after header_timeout.
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as raw:
        raw.sendall(b"\x16\x03\x01\x00\xff\x01")  # the start of a ClientHello, then silence
        start = time.monotonic()
        raw.settimeout(8)
        try:
            assert raw.recv(100) == b""
        except ConnectionResetError:
            pass
        assert 1.5 <= time.monotonic() - start <= 5

    # The server refuses TLS 1.1 (its alert says so) and accepts TLS 1.2. SECLEVEL=0 lets this
    # client offer the old version at all.
    for version, accepted in [(ssl.TLSVersion.TLSv1_1, False), (ssl.TLSVersion.TLSv1_2, True)]:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            ctx.minimum_version = ctx.maximum_version = version
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as raw:
            if accepted:
                with ctx.wrap_socket(raw) as s:
                    assert s.version() == "TLSv1.2"
            else:
                with pytest.raises(ssl.SSLError, match="ALERT_PROTOCOL_VERSION"):
                    ctx.wrap_socket(raw)


# --- ciel scrub -----------------------------------------------------------------------------------

def write_blob(root, key, data, sum_data=None):
    d = root / key[:2] / key[2:4]
    d.mkdir(parents=True, exist_ok=True)
    (d / key).write_bytes(data)
    recorded = data if sum_data is None else sum_data
    (d / (key + ".sum")).write_text(f"{len(recorded)} {hashlib.md5(recorded).hexdigest()} "
                                    f"{hashlib.sha256(recorded).hexdigest()}\n")


def test_scrub_reports_corrupt_blobs(tmp_path):
    data = tmp_path / "data"
    blobs = data / "blobs"
    good = [f"{i:02d}aa0000goodblob" for i in range(3)]
    for i, key in enumerate(good):
        write_blob(blobs, key, os.urandom(1000 + i))
    r = run_ciel("scrub", "--data-dir", str(data))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "3 blobs" in r.stdout and "0 corrupt" in r.stdout

    flipped = "abcd0000flipped1"
    content = bytearray(os.urandom(4096))
    write_blob(blobs, flipped, bytes(content))
    content[100] ^= 0xFF
    (blobs / "ab" / "cd" / flipped).write_bytes(bytes(content))
    truncated = "abce0000truncate"
    write_blob(blobs, truncated, b"x" * 10, sum_data=b"x" * 11)
    r = run_ciel("scrub", "--data-dir", str(data), "--quiet")
    assert r.returncode == 1, r.stdout + r.stderr
    corrupt = sorted(re.findall(r"^CORRUPT (\S+)$", r.stdout, re.M))
    assert corrupt == sorted([flipped, truncated])
    assert "5 blobs" in r.stdout and "2 corrupt" in r.stdout
    assert "checking" not in r.stdout


def test_scrub_of_an_empty_store(tmp_path):
    r = run_ciel("scrub", "--data-dir", str(tmp_path / "nothing"))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "0 blobs" in r.stdout
