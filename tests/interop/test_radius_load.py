"""Under load the reactor keeps answering: 50 logins wait on a RADIUS server that never
answers, and a new IKE_SA_INIT is still answered promptly; IKE_AUTH retransmits of the
waiting logins are absorbed instead of producing new Access-Requests.

ikeeap runs on 127.0.0.1 (unusual ports); the clients are the in-package sans-I/O initiator
over real UDP sockets; the "slow" RADIUS server is a socket in this process that only counts.
"""

from __future__ import annotations

import select
import socket
import sys
import time

from ikeeap.initiator import Initiator, InitiatorConfig
from ikeeap.initiator.results import InitiatorState

from .charon import stop_process, wait_udp_bound
from .ikeeap_server import SERVER_ID, IkeeapConfig
from .test_radius_backend import radius_toml

IKE_PORT, NAT_PORT = 45170, 45171
LOGINS = 50


def _pump(clients: list[tuple[Initiator, socket.socket]], quiet: float) -> None:
    """Feed replies to their initiator until nothing arrives for ``quiet`` seconds."""
    by_fd = {sock.fileno(): (ini, sock) for ini, sock in clients}
    while True:
        ready, _, _ = select.select(list(by_fd), [], [], quiet)
        if not ready:
            return
        for fd in ready:
            ini, sock = by_fd[fd]
            data = sock.recv(65535)
            for d in ini.receive_datagram(data, time.monotonic()):
                sock.sendto(d.data, ("127.0.0.1", IKE_PORT))


def _client(index: int) -> tuple[Initiator, socket.socket]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    config = InitiatorConfig(identity=f"user{index}@load.test", password="pw",
                             eap_methods=("md5",), remote_identity=SERVER_ID,
                             retransmit_timeout=0.5)
    ini = Initiator(config, sock.getsockname(), ("127.0.0.1", IKE_PORT))
    return ini, sock


def _count_requests(radius: socket.socket) -> int:
    count = 0
    while select.select([radius], [], [], 0.2)[0]:
        if radius.recv(4096)[:1] == b"\x01":
            count += 1
    return count


def test_reactor_answers_while_50_logins_wait_on_radius(tmp_path, spawn):
    radius = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    radius.bind(("127.0.0.1", 0))  # never answers: an MFA push nobody approves
    path = IkeeapConfig("127.0.0.1", eap_methods=("radius",)).write(tmp_path)
    path.write_text(path.read_text().replace("[server]", f"[server]\nport = {IKE_PORT}\n"
                                             f"nat_port = {NAT_PORT}\neap_step_timeout = 60")
                    + radius_toml([("127.0.0.1", radius.getsockname()[1])], timeout=30,
                                  retries=0, accounting=False))
    server = spawn(None, [sys.executable, "-m", "ikeeap", "serve", "--config", path,
                          "--log-level", "info"], name="ikeeap-load")
    wait_udp_bound(None, IKE_PORT, "127.0.0.1", proc=server)
    clients = [_client(i) for i in range(LOGINS)]
    for ini, sock in clients:
        for d in ini.start(time.monotonic()):
            sock.sendto(d.data, ("127.0.0.1", IKE_PORT))
    _pump(clients, quiet=1.0)
    assert all(ini.state == InitiatorState.EAP for ini, _ in clients), \
        [ini.state for ini, _ in clients]
    assert _count_requests(radius) == LOGINS  # one Access-Request each, all pending

    fresh, sock = _client(LOGINS)
    began = time.monotonic()
    for d in fresh.start(began):
        sock.sendto(d.data, ("127.0.0.1", IKE_PORT))
    assert select.select([sock], [], [], 2.0)[0], "IKE_SA_INIT not answered"
    elapsed = time.monotonic() - began
    fresh.receive_datagram(sock.recv(65535), time.monotonic())
    assert fresh.state == InitiatorState.AUTH
    assert elapsed < 0.5, f"IKE_SA_INIT took {elapsed:.3f} s under load"

    time.sleep(0.6)  # let every waiting login retransmit its IKE_AUTH
    retransmitted = 0
    for ini, sock in clients:
        for d in ini.handle_timer(time.monotonic()):
            sock.sendto(d.data, ("127.0.0.1", IKE_PORT))
            retransmitted += 1
    assert retransmitted >= LOGINS
    _pump(clients, quiet=0.5)
    assert _count_requests(radius) == 0  # retransmits absorbed, not re-sent to RADIUS
    assert all(ini.state == InitiatorState.EAP for ini, _ in clients)
    print(f"IKE_SA_INIT answered in {elapsed * 1000:.1f} ms with {LOGINS} logins pending")
    stop_process(server)
    radius.close()
