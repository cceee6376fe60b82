"""Multi-process serving: SPI ownership, routing of datagrams to their owner, pool split,
and a real ``ikeeap serve --workers 2`` logging users in over loopback with NAT-T."""

from __future__ import annotations

import ipaddress
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from ikeeap.ike.pool import AddressPool
from ikeeap.initiator.config import InitiatorConfig
from ikeeap.initiator.testing import make_settings
from ikeeap.loadgen.driver import LoadPlan
from ikeeap.loadgen.udp import Target, UdpLoadRunner
from ikeeap.server.workers import (
    decode_frame,
    encode_frame,
    owned_random,
    owner_of,
    split_pools,
)

ROOT = Path(__file__).resolve().parents[3]


def _ike(spi_r: bytes) -> bytes:
    return b"\x11" * 8 + spi_r + bytes(12)


def test_spis_drawn_by_a_worker_name_it_and_other_draws_are_untouched():
    for workers in (2, 3, 4):
        for w in range(workers):
            draw = owned_random(w, workers)
            spis = [draw(8) for _ in range(200)]
            assert all(owner_of(_ike(s), False, workers) == w for s in spis)
            assert len(set(spis)) == 200
    fixed = owned_random(1, 2, random=lambda n: b"\xff" * n)
    assert fixed(8)[0] == 0xFF and fixed(32) == b"\xff" * 32  # 255 % 2 == 1 already


def test_routing_new_ike_sa_init_is_anyones_and_nat_t_is_read_after_the_marker():
    assert owner_of(_ike(bytes(8)), False, 2) is None  # IKE_SA_INIT: SPIr zero
    assert owner_of(_ike(b"\x03" + bytes(7)), False, 2) == 1
    assert owner_of(b"\0\0\0\0" + _ike(b"\x04" + bytes(7)), True, 2) == 0
    assert owner_of(b"\xff", True, 2) is None  # NAT keepalive
    assert owner_of(b"\x01\x02\x03\x04" + bytes(40), True, 2) is None  # ESP: not ours
    assert owner_of(b"short", False, 2) is None


def test_forwarded_frames_keep_addresses_and_data():
    frame = encode_frame(b"\0\0\0\0payload", ("198.51.100.1", 4500), ("2001:db8::2", 40001))
    assert decode_frame(frame) == (b"\0\0\0\0payload", ("198.51.100.1", 4500),
                                   ("2001:db8::2", 40001))


def test_each_worker_gets_a_disjoint_slice_of_the_pool():
    slices = []
    for w in range(2):
        settings = make_settings(pool="10.10.0.0/24")
        split_pools(settings, w, 2)
        slices.append(settings.pools["eap"].network)
    assert slices == [ipaddress.ip_network("10.10.0.0/25"), ipaddress.ip_network("10.10.0.128/25")]
    assert isinstance(make_settings().pools["eap"], AddressPool)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _config(tmp: Path) -> Path:
    path = tmp / "ikeeap.toml"
    path.write_text("\n".join([
        "[server]", 'listen = ["127.0.0.1"]', 'identity = "vpn.example.org"',
        f'state_dir = "{tmp / "state"}"', 'log_level = "warning"',
        "[certificates]", 'key_type = "ecdsa"',
        "[[connections]]", 'name = "rw-eap"', 'auth = "eap"', 'eap_methods = ["mschapv2"]',
        'pool = "10.20.0.0/24"',
        "[hardening]", "cookie_threshold_per_ip = 100000", "max_half_open_per_ip = 100000",
        "block_threshold = 0",
        "[users]", 'alice = { password = "alice-pw" }', 'bob = { password = "bob-pw" }', ""]))
    return path


def test_two_workers_log_users_in_and_sas_floated_to_the_nat_port_complete(tmp_path):
    port, nat_port = _free_port(), _free_port()
    log = open(tmp_path / "serve.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "ikeeap", "serve", "--config", str(_config(tmp_path)),
         "--port", str(port), "--nat-port", str(nat_port), "--workers", "2"],
        stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        deadline = time.monotonic() + 20
        while b"sharing UDP" not in (tmp_path / "serve.log").read_bytes():
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.1)
        time.sleep(1.0)  # both workers bound
        configs = [InitiatorConfig(identity=u, password=p, nat_t=True, retransmit_timeout=0.5)
                   for u, p in (("alice", "alice-pw"), ("bob", "bob-pw"))]
        target = Target("127.0.0.1", port, nat_port, "127.0.0.1", sockets=16)
        runner = UdpLoadRunner(target, LoadPlan(total=40, concurrency=8, duration=30, keep=True),
                               configs, progress=None)
        try:
            summary = runner.run()
        finally:
            runner.close()
        assert summary.established == 40 and summary.failed == 0, summary.lines()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(15)
        log.close()
    text = (tmp_path / "serve.log").read_text()
    counts = {int(w): (int(n), int(fwd), int(got)) for w, n, fwd, got in re.findall(
        r"worker (\d): (\d+) IKE SAs established, (\d+) datagrams forwarded to other "
        r"workers, (\d+) received", text)}
    assert sorted(counts) == [0, 1], text
    assert sum(n for n, _, _ in counts.values()) == 40
    assert all(n > 0 for n, _, _ in counts.values())  # logins spread over both workers
    assert sum(fwd for _, fwd, _ in counts.values()) > 0  # 4500 hashed to the other one
