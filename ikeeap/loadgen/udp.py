"""Runs a :class:`LoadDriver` over real UDP with plain non-blocking sockets (no Twisted:
the generator is not a server, and a bare selector loop is the cheapest way to push many
datagrams from one process)."""

from __future__ import annotations

import selectors
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..ike.events import Address, Datagram
from ..initiator.config import InitiatorConfig
from .driver import LoadDriver, LoadPlan
from .stats import Summary

RECV_BATCH = 256  # datagrams drained per readable socket before looking at timers again
NAT_PORT = 4500  # where the sans-I/O initiator floats to; remapped to Target.nat_port


@dataclass(frozen=True)
class Target:
    host: str = "127.0.0.1"
    port: int = 500
    nat_port: int = 4500
    bind: str = "127.0.0.1"  # source address of the generator's sockets
    sockets: int = 8  # source ports; SO_REUSEPORT workers are picked by the 4-tuple hash


class UdpLoadRunner:
    """Owns the sockets; ``run()`` returns the final summary."""

    def __init__(self, target: Target, plan: LoadPlan, configs: Sequence[InitiatorConfig],
                 progress: Callable[[str], None] | None = print,
                 progress_interval: float = 1.0, clock: Callable[[], float] = time.monotonic
                 ) -> None:
        self.target = target
        self._clock = clock
        self._progress = progress
        self._interval = progress_interval
        self._selector = selectors.DefaultSelector()
        self._socks: dict[Address, socket.socket] = {}
        for _ in range(max(1, target.sockets)):
            sock = socket.socket(socket.AF_INET6 if ":" in target.bind else socket.AF_INET,
                                 socket.SOCK_DGRAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
            sock.bind((target.bind, 0))
            sock.setblocking(False)
            local = sock.getsockname()[:2]
            self._socks[local] = sock
            self._selector.register(sock, selectors.EVENT_READ)
        self.driver = LoadDriver(plan, configs, list(self._socks), (target.host, target.port),
                                 clock())
        self.send_errors = 0

    def close(self) -> None:
        self._selector.close()
        for sock in self._socks.values():
            sock.close()

    def run(self) -> Summary:
        driver, clock = self.driver, self._clock
        next_report = clock() + self._interval
        try:
            while not driver.done(now := clock()):
                self._send(driver.poll(now))
                wake = driver.next_wakeup()
                timeout = min(next_report, driver.deadline) - now
                if wake is not None:
                    timeout = min(timeout, wake - now)
                for key, _ in self._selector.select(max(0.0, timeout)):
                    self._drain(key.fileobj)  # type: ignore[arg-type]
                if self._progress is not None and clock() >= next_report:
                    next_report += self._interval
                    self._progress(driver.stats.summary(clock()).progress_line())
        finally:
            driver.finish(clock())
        return driver.stats.summary(clock())

    def _drain(self, sock: socket.socket) -> None:
        driver, clock = self.driver, self._clock
        for _ in range(RECV_BATCH):
            try:
                data = sock.recv(65535)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:  # e.g. ICMP port unreachable reported on the socket
                continue
            self._send(driver.receive(data, clock()))

    def _send(self, datagrams: list[Datagram]) -> None:
        for d in datagrams:
            sock = self._socks.get(d.local)
            if sock is None:
                continue
            host, port = d.remote
            if port == NAT_PORT:
                port = self.target.nat_port
            try:
                sock.sendto(d.data, (host, port))
            except OSError:  # full buffer or unreachable: the initiator retransmits
                self.send_errors += 1
