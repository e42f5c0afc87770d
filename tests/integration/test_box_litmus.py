"""Debian's litmus (the WebDAV server test suite) against the box: every test of the basic,
copymove, props, locks and http suites must pass. A warning is tolerated; a FAIL, a SKIPPED test or
a suite that stops early is a failure, reported with litmus's own output and the end of its
debug.log."""
import re
import subprocess

import pytest

from box_support import make_box_user, start_box_server

LITMUS = "/usr/bin/litmus"

# The number of tests each suite of litmus 0.13 runs (init and finish included).
SUITES = {"basic": 16, "copymove": 13, "props": 30, "locks": 41, "http": 4}

TEST_START = re.compile(r"(?:^|[\r\n ])\s*(\d+)\. ([A-Za-z0-9_]+)")
# Anything but "pass" is a failure: FAIL, SKIPPED, OOPS (an unexpected result), XFAIL, FAILED (a crash).
RESULT = re.compile(r"\b(pass|FAIL(?:ED)?|SKIPPED|OOPS|XFAIL)\b")
SUMMARY = re.compile(r"<- summary for `(\w+)': of (\d+) tests run: (\d+) passed, (\d+) failed")


def parse_results(output):
    """{test number: (name, "pass" | "FAIL" | "SKIPPED", the text litmus printed for it)}.

    litmus prints "N. name....." before a test and again with the result after it (with a carriage
    return between, and WARNING lines in between when there are warnings); the result of a test
    is the first result word after its last announcement."""
    starts = list(TEST_START.finditer(output))
    results = {}
    for i, m in enumerate(starts):
        end = starts[i + 1].start() if i + 1 < len(starts) else len(output)
        segment = output[m.end():end]
        r = RESULT.search(segment)
        if r:
            results[int(m.group(1))] = (m.group(2), r.group(1), segment.strip())
    return results


@pytest.fixture
def server(tmp_path_factory):
    """A server of its own for each suite, so that one suite's trouble cannot fail the next."""
    s = start_box_server(tmp_path_factory, name="litmus")
    yield s
    s.stop()


@pytest.fixture
def admin_dav(server):
    # A user of its own with a fixed password: the admin's random one may start with '-', which
    # litmus would take for an option.
    return make_box_user(server, "litmus-user", password="litmus-password-1")


@pytest.fixture
def litmus_url(admin_dav):
    r = admin_dav.mkcol("litmus")
    assert r.status_code == 201, (r.status_code, r.text[:300])
    return admin_dav.url("litmus") + "/"


@pytest.mark.parametrize("suite", list(SUITES))
def test_litmus_suite_passes_completely(suite, server, litmus_url, admin_dav, tmp_path):
    env = {"PATH": "/usr/bin:/bin", "TESTS": suite, "HOME": str(tmp_path), "LANG": "C.UTF-8"}
    proc = subprocess.run([LITMUS, litmus_url, admin_dav.user, admin_dav.password], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=180)
    output = proc.stdout + proc.stderr
    debug = tmp_path / "debug.log"
    report = (f"litmus {suite} exited {proc.returncode}\n{output}\n--- end of debug.log ---\n"
              + (debug.read_text(errors="replace")[-6000:] if debug.exists() else "(none)"))
    assert server.proc.poll() is None, (f"ciel serve died during litmus {suite} (exit {server.proc.returncode}):\n"
                                        f"{server.stderr()[-3000:]}\n{report}")
    results = parse_results(output)
    bad = {n: (name, res, text[:300]) for n, (name, res, text) in results.items() if res != "pass"}
    assert not bad, f"litmus {suite}: tests not passed: {bad}\n{report}"
    assert sorted(results) == list(range(SUITES[suite])), f"litmus {suite} stopped early\n{report}"
    summary = SUMMARY.search(output)
    assert summary, report
    assert summary.groups() == (suite, str(SUITES[suite]), str(SUITES[suite]), "0"), report
    assert "skipped" not in output.lower(), report
    assert proc.returncode == 0, report
