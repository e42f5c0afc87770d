"""The test guest image (tools/build-test-image) works the way compute's tests and benchmarks
rely on: built only from Debian packages, it boots under QEMU TCG from a qcow2 overlay, reads an
OpenStack config drive (keys, hostname, user_data), prints its ready marker, lets the key in over
the forwarded SSH port, survives a QMP reset without running user_data again, and powers off on
QMP system_powerdown. tools/test-image/smoke.sh does each step and fails loudly on any."""
import os
import subprocess

from conftest import ROOT


def test_test_image_boots_reads_its_config_drive_and_takes_ssh(tmp_path):
    proc = subprocess.run(["bash", str(ROOT / "tools" / "test-image" / "smoke.sh")], cwd=tmp_path, capture_output=True, text=True,
                          timeout=600, env=dict(os.environ, TMPDIR=str(tmp_path)))  # HOME kept: the package cache
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-6000:]
    for step in ("marker 'ciel-guest-ready", "ssh after", "user_data not run again", "powered off (system_powerdown)"):
        assert step in out, (step, out[-3000:])
