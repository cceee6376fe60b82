"""The generator over real UDP on loopback against an in-process sans-I/O Responder served
by a plain socket thread: logins complete, and IKE_AUTH floats to the NAT-T port."""

from __future__ import annotations

import selectors
import socket
import threading
import time
from typing import Self

import pytest

from ikeeap.ike.hardening import Hardening
from ikeeap.ike.responder import Responder
from ikeeap.initiator.config import InitiatorConfig
from ikeeap.initiator.testing import make_pki, make_settings
from ikeeap.loadgen.driver import LoadPlan
from ikeeap.loadgen.inmemory import _eap_and_events
from ikeeap.loadgen.udp import Target, UdpLoadRunner

USERS = {"user1": "pw1", "user2": "pw2"}


class ThreadedResponder:
    """Responder on two loopback UDP sockets (IKE and NAT-T ports) in one thread."""

    def __init__(self, responder: Responder) -> None:
        self.responder = responder
        self.socks = []
        for _ in range(2):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(("127.0.0.1", 0))
            s.setblocking(False)
            self.socks.append(s)
        self.port, self.nat_port = (s.getsockname()[1] for s in self.socks)
        responder.settings.nat_port = self.nat_port
        self.seen_on_nat_port = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
        for s in self.socks:
            s.close()

    def _serve(self) -> None:
        sel = selectors.DefaultSelector()
        for s in self.socks:
            sel.register(s, selectors.EVENT_READ)
        by_port = {s.getsockname()[1]: s for s in self.socks}
        while not self._stop.is_set():
            for key, _ in sel.select(0.05):
                sock = key.fileobj
                data, remote = sock.recvfrom(65535)  # type: ignore[union-attr]
                local = sock.getsockname()  # type: ignore[union-attr]
                if local[1] == self.nat_port:
                    self.seen_on_nat_port += 1
                now = time.monotonic()
                out = self.responder.receive_datagram(data, local, remote, now)
                out += _eap_and_events(self.responder, now)
                for d in out:
                    by_port[d.local[1]].sendto(d.data, d.remote)
        sel.close()


@pytest.fixture(scope="module")
def pki():
    return make_pki("ecdsa")


def _run(pki, nat_t: bool) -> tuple[object, int]:
    limits = Hardening(cookie_threshold_per_ip=1000, max_half_open_per_ip=1000,
                       block_threshold=0)
    responder = Responder(make_settings(users=USERS, eap_methods=("mschapv2",), pki=pki,
                                        hardening=limits))
    configs = [InitiatorConfig(identity=u, password=p, ca_certificate=pki.ca.der, nat_t=nat_t,
                               remote_identity="vpn.example.org") for u, p in USERS.items()]
    with ThreadedResponder(responder) as server:
        target = Target("127.0.0.1", server.port, server.nat_port, "127.0.0.1", sockets=3)
        lines: list[str] = []
        runner = UdpLoadRunner(target, LoadPlan(total=20, concurrency=5, duration=30),
                               configs, progress=lines.append, progress_interval=0.2)
        try:
            summary = runner.run()
        finally:
            runner.close()
        return summary, server.seen_on_nat_port


def test_logins_over_loopback_udp_complete(pki):
    summary, on_nat_port = _run(pki, nat_t=False)
    assert summary.established == 20 and summary.failed == 0, summary.lines()
    assert summary.login[2] > 0  # p99 measured
    assert on_nat_port == 0


def test_nat_t_logins_float_to_the_nat_port(pki):
    summary, on_nat_port = _run(pki, nat_t=True)
    assert summary.established == 20 and summary.failed == 0, summary.lines()
    assert on_nat_port >= 20 * 5  # every IKE_AUTH round and the Delete went to 4500's stand-in
