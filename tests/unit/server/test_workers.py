"""``ikeeap serve --workers 2`` for real over loopback: users log in across both workers
(NAT-T included), and the parent answers status, list-sas, terminate, reload and one metrics
endpoint for both."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from ikeeap.control.client import ControlError, call
from ikeeap.initiator.config import InitiatorConfig
from ikeeap.loadgen.driver import LoadPlan
from ikeeap.loadgen.udp import Target, UdpLoadRunner

ROOT = Path(__file__).resolve().parents[3]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _config(tmp: Path, extra: str = "") -> Path:
    path = tmp / "ikeeap.toml"
    path.write_text("\n".join([
        "[server]", 'listen = ["127.0.0.1"]', 'identity = "vpn.example.org"',
        f'state_dir = "{tmp / "state"}"', 'log_level = "warning"',
        "[certificates]", 'key_type = "ecdsa"',
        "[[connections]]", 'name = "rw-eap"', 'auth = "eap"', 'eap_methods = ["mschapv2"]',
        'pool = "10.20.0.0/24"',
        "[hardening]", "cookie_threshold_per_ip = 100000", "max_half_open_per_ip = 100000",
        "block_threshold = 0",
        "[users]", 'alice = { password = "alice-pw" }', 'bob = { password = "bob-pw" }',
        extra, ""]))
    return path


class Workers:
    """``ikeeap serve --workers 2`` on free loopback ports, stopped with SIGTERM."""

    def __init__(self, tmp: Path, extra: str = "") -> None:
        self.tmp, self.config = tmp, _config(tmp, extra)
        self.port, self.nat_port = _free_port(), _free_port()
        self.log_path = tmp / "serve.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "ikeeap", "serve", "--config", str(self.config),
             "--port", str(self.port), "--nat-port", str(self.nat_port), "--workers", "2"],
            stdout=self._log, stderr=subprocess.STDOUT, cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)})
        deadline = time.monotonic() + 20
        sockets = [tmp / "state" / f"control.sock.w{i}" for i in range(2)]
        while not all(s.is_socket() for s in sockets):  # both workers bound and answering
            assert self.proc.poll() is None and time.monotonic() < deadline, self.log()
            time.sleep(0.1)

    def login(self, total: int, users: tuple[tuple[str, str], ...]) -> None:
        configs = [InitiatorConfig(identity=u, password=p, nat_t=True, retransmit_timeout=0.5)
                   for u, p in users]
        target = Target("127.0.0.1", self.port, self.nat_port, "127.0.0.1", sockets=16)
        runner = UdpLoadRunner(target, LoadPlan(total=total, concurrency=8, duration=30,
                                                keep=True), configs, progress=None)
        try:
            summary = runner.run()
        finally:
            runner.close()
        assert summary.established == total and summary.failed == 0, summary.lines()

    def ctl(self, cmd: str, **args):
        return call(str(self.tmp / "state" / "control.sock"), cmd, **args)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(20)
        self._log.close()


USERS = (("alice", "alice-pw"), ("bob", "bob-pw"))


def test_two_workers_log_users_in_and_sas_floated_to_the_nat_port_complete(tmp_path):
    server = Workers(tmp_path)
    try:
        server.login(40, USERS)
    finally:
        server.stop()
    text = server.log()
    counts = {int(w): (int(n), int(fwd), int(got)) for w, n, fwd, got in re.findall(
        r"worker (\d): (\d+) IKE SAs established, (\d+) datagrams forwarded to other "
        r"workers, (\d+) received", text)}
    assert sorted(counts) == [0, 1], text
    assert sum(n for n, _, _ in counts.values()) == 40
    assert all(n > 0 for n, _, _ in counts.values())  # logins spread over both workers
    assert sum(fwd for _, fwd, _ in counts.values()) > 0  # 4500 hashed to the other one


def test_the_parent_answers_for_both_workers(tmp_path):
    server = Workers(tmp_path, extra="[metrics]\nport = 0\n")
    try:
        server.login(8, USERS)
        status = server.ctl("status")
        assert status["workers"] == 2 and status["sas"]["established"] == 8, status
        assert status["logins"]["success"] == 8
        sas = server.ctl("list-sas")
        assert len(sas) == 8 and {row["worker"] for row in sas} <= {0, 1}
        metrics = urllib.request.urlopen(f"http://{status['metrics']}/metrics",
                                         timeout=10).read().decode()
        assert 'ikeeap_ike_sas{state="established"} 8.0' in metrics
        assert re.search(r'ikeeap_logins_total\{[^}]*result="success"[^}]*\} 8\.0', metrics)
        # The CLI, as an administrator types it, through the parent's socket.
        cli = subprocess.run([sys.executable, "-m", "ikeeap", "list-sas", "--json", "--config",
                              str(server.config), "--user", "alice"], capture_output=True,
                             text=True, cwd=ROOT, timeout=30)
        alices = json.loads(cli.stdout)
        assert cli.returncode == 0 and len(alices) == 4
        gone = server.ctl("terminate", user="alice")["terminated"]
        assert sorted(gone) == sorted(row["id"] for row in alices)
        assert len(server.ctl("list-sas")) == 4
        reloaded = server.ctl("reload")
        assert reloaded["kept_sas"] == 4
        server.config.write_text(server.config.read_text() + "\n[bogus_section]\n")
        try:
            server.ctl("reload")
            raise AssertionError("a broken file was reloaded")
        except ControlError as exc:
            assert any("bogus_section" in p for p in exc.problems), exc.problems
        assert server.ctl("status")["sas"]["established"] == 4  # nothing changed
    finally:
        server.stop()
