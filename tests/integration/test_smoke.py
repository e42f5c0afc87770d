"""The server starts, says it is ready, writes endpoints.json and answers /healthz."""
import json

import requests


def test_ready_and_endpoints_file(ciel):
    endpoints = json.loads((ciel.data_dir / "endpoints.json").read_text())
    assert endpoints["health"].startswith("http://127.0.0.1:")
    r = requests.get(endpoints["health"], timeout=5)
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}
    assert r.headers["X-Request-Id"]
    assert "ready on" in ciel.stdout()
