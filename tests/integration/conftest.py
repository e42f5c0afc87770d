"""Integration harness: starts a real `ciel serve` (the Release build in build/ciel) on free
loopback ports with a private data dir, waits for it to be ready, and stops it afterwards.

Fixtures:
  ciel         one server per test module (shared by its tests)
  fresh_ciel   one server per test (for tests that stop or damage the server)
  start_ciel   a factory: start_ciel(settings={...}, extra_args=[...]) -> CielServer
  guest_image  the test guest image (tools/build-test-image), built once per session
"""
import json
import os
import pathlib
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BINARY = pathlib.Path(os.environ.get("CIEL_BINARY", ROOT / "build" / "ciel"))


class CielServer:
    def __init__(self, data_dir, settings=None, extra_args=None, env=None):
        self.data_dir = pathlib.Path(data_dir)
        self.settings = {"server.listen": "127.0.0.1:0"}
        self.settings.update(settings or {})
        self.extra_args = list(extra_args or [])
        self.env = dict(os.environ)
        self.env.update(env or {})
        self.proc = None
        self.endpoints = {}
        self.stdout_path = self.data_dir.parent / (self.data_dir.name + ".stdout")
        self.stderr_path = self.data_dir.parent / (self.data_dir.name + ".stderr")

    def command(self):
        cmd = [str(BINARY), "serve", "--data-dir", str(self.data_dir)]
        for key, value in self.settings.items():
            cmd += ["--set", f"{key}={value}"]
        return cmd + self.extra_args

    def start(self, timeout=30):
        endpoints = self.data_dir / "endpoints.json"
        if endpoints.exists():
            endpoints.unlink()
        self.proc = subprocess.Popen(self.command(), stdout=open(self.stdout_path, "ab"),
                                     stderr=open(self.stderr_path, "ab"), env=self.env,
                                     stdin=subprocess.DEVNULL)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"ciel serve exited with {self.proc.returncode}: {self.stderr()}")
            if endpoints.exists() and "ready on" in self.stdout():
                self.endpoints = json.loads(endpoints.read_text())
                return self
            time.sleep(0.05)
        raise RuntimeError("ciel serve did not become ready: " + self.stderr())

    @property
    def url(self):
        """Base URL of the public listener, without a trailing slash."""
        return self.endpoints["health"].rsplit("/healthz", 1)[0]

    @property
    def port(self):
        return int(self.url.rsplit(":", 1)[1])

    def stdout(self):
        return self.stdout_path.read_text(errors="replace") if self.stdout_path.exists() else ""

    def stderr(self):
        return self.stderr_path.read_text(errors="replace") if self.stderr_path.exists() else ""

    def rss_bytes(self, field="VmRSS"):
        """Resident memory now (VmRSS), or at its peak (VmHWM) since start or reset_peak_rss()."""
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
        return 0

    def reset_peak_rss(self):
        """Brings VmHWM down to the current VmRSS (proc(5): clear_refs, value 5)."""
        with open(f"/proc/{self.proc.pid}/clear_refs", "w") as f:
            f.write("5")

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=30):
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def start_ciel(tmp_path_factory):
    servers = []

    def start(settings=None, extra_args=None, env=None, data_dir=None):
        d = data_dir or (tmp_path_factory.mktemp("ciel") / "data")
        server = CielServer(d, settings, extra_args, env).start()
        servers.append(server)
        return server

    yield start
    for s in servers:
        s.stop(timeout=20)


@pytest.fixture(scope="module")
def ciel(tmp_path_factory):
    d = tmp_path_factory.mktemp("ciel") / "data"
    server = CielServer(d, {"server.diagnostics": "true"}).start()
    yield server
    server.stop()


@pytest.fixture
def fresh_ciel(start_ciel):
    return start_ciel({"server.diagnostics": "true"})


@pytest.fixture(scope="session")
def guest_image(tmp_path_factory):
    out = tmp_path_factory.mktemp("guest") / "guest.qcow2"
    r = subprocess.run(["bash", str(ROOT / "tools" / "build-test-image"), str(out)], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    return out
