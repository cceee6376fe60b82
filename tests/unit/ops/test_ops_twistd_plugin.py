"""``twistd -n ikeeap`` runs the same server (control socket answers) and stops cleanly;
``python -m ikeeap`` is the CLI."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from opsharness import free_udp_port, write_config

from ikeeap.control.client import call

ROOT = Path(__file__).resolve().parents[3]


def test_python_dash_m_ikeeap_is_the_cli():
    out = subprocess.run([sys.executable, "-m", "ikeeap", "--help"], capture_output=True,
                         text=True, timeout=30, check=False)
    assert out.returncode == 0
    for command in ("serve", "status", "list-sas", "terminate", "reload"):
        assert command in out.stdout


def _twistd() -> str:
    """twistd of the interpreter running the tests (.venv/bin), which need not be on PATH."""
    beside = Path(sys.executable).with_name("twistd")
    found = str(beside) if os.access(beside, os.X_OK) else shutil.which("twistd")
    assert found, f"twistd neither beside {sys.executable} nor on PATH: is Twisted installed?"
    return found


def test_twistd_plugin_serves_and_stops(tmp_path):
    config = write_config(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}  # an installed package finds it anyway
    argv = [_twistd(), "-n", "--pidfile=", "ikeeap", "--config", str(config),
            "--listen", "127.0.0.1", "--port", str(free_udp_port()),
            "--nat-port", str(free_udp_port())]
    log = open(tmp_path / "twistd.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env,
                            cwd=tmp_path)
    try:
        status = None
        for _ in range(150):
            try:
                status = call(str(tmp_path / "ctl.sock"), "status", timeout=2)
                break
            except OSError:
                assert proc.poll() is None, (tmp_path / "twistd.log").read_text()
                time.sleep(0.1)
        assert status is not None and status["sas"]["established"] == 0
        assert any(x.startswith("127.0.0.1:") for x in status["listening"])
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(15)
        log.close()
    text = (tmp_path / "twistd.log").read_text()
    # twistd re-raises the signal it stopped on after a clean shutdown
    assert code in (0, -signal.SIGTERM) and "Server Shut Down" in text, text
