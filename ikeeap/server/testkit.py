"""The real Twisted ResponderService on a fake clock and fake UDP: logins for methods whose
Deferreds need the reactor, and for the service's own EAP step timeout.

    clock_loop = ServiceLoopback(settings)          # settings from ikeeap.testkit / testing
    ini = clock_loop.start(InitiatorConfig(...))
    clock_loop.run(ini)                             # advances the clock until ini finishes
    assert ini.established

The service runs every EAP step exactly as under ``ikeeap serve``: as a Deferred with
``eap_step_timeout`` on the (fake) reactor.  Methods may schedule work on ``clock_loop.clock``
(pass it in through a provider), e.g. ``task.deferLater(clock, 2, ...)``.
"""

from __future__ import annotations

import itertools
from collections import deque
from typing import Any

from twisted.internet import task

from ..ike.responder import Responder
from ..ike.settings import ResponderSettings
from ..initiator.config import InitiatorConfig
from ..initiator.initiator import Initiator
from .service import ResponderService

Address = tuple[str, int]
SERVER_ADDRESS = "192.0.2.1"


class _FakeTransport:
    def __init__(self, local: Address, outbox: deque[tuple[bytes, Address, Address]]) -> None:
        self._local, self._outbox = local, outbox

    def write(self, data: bytes, remote: Address) -> None:
        self._outbox.append((data, self._local, remote))


class _FakePort:
    def __init__(self, port: int) -> None:
        self._port = port

    def getHost(self) -> Any:
        return type("Host", (), {"port": self._port})()

    def stopListening(self) -> None:
        return None


class FakeUdpReactor(task.Clock):
    """A task.Clock that also "binds" UDP ports; what the service sends lands in ``sent``."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: deque[tuple[bytes, Address, Address]] = deque()  # (data, local, remote)
        self.protocols: dict[Address, Any] = {}

    def listenUDP(self, port: int, protocol: Any, interface: str = "") -> _FakePort:
        protocol.makeConnection(_FakeTransport((interface, port), self.sent))
        self.protocols[(interface, port)] = protocol
        return _FakePort(port)


class ServiceLoopback:
    """Initiators <-> a ResponderService on :class:`FakeUdpReactor`."""

    def __init__(self, settings: ResponderSettings, server: str = SERVER_ADDRESS,
                 reactor: FakeUdpReactor | None = None) -> None:
        self.clock = reactor or FakeUdpReactor()  # made first when methods need it too
        self.service = ResponderService(Responder(settings), self.clock)
        self.events: list[Any] = []
        self.service.listeners.append(self.events.append)
        self.server = server
        self.service.listen(server, 500)
        self.service.listen(server, settings.nat_port)
        self._initiators: dict[Address, Initiator] = {}
        self._hosts = itertools.count(2)

    def start(self, config: InitiatorConfig) -> Initiator:
        local = (f"198.51.100.{next(self._hosts)}", 500)
        ini = Initiator(config, local, (self.server, 500))
        self._initiators[local] = ini
        self._deliver(ini, ini.start(self.clock.seconds()))
        return ini

    def run(self, ini: Initiator, max_time: float = 600.0) -> None:
        """Deliver datagrams and advance the clock to the next timer until ``ini`` is done."""
        end = self.clock.seconds() + max_time
        self._pump()
        while not ini.finished:
            calls: list[Any] = list(self.clock.getDelayedCalls())
            deadlines = [c.getTime() for c in calls]
            deadlines += [t for i in self._initiators.values() if (t := i.get_timer()) is not None]
            if not deadlines or min(deadlines) > end:
                break
            self.clock.advance(max(0.0, min(deadlines) - self.clock.seconds()))
            for other in self._initiators.values():
                self._deliver(other, other.handle_timer(self.clock.seconds()))
            self._pump()

    def _deliver(self, ini: Initiator, datagrams: list[Any]) -> None:
        self._initiators.setdefault(ini.local, ini)  # after a float to port 4500
        for d in datagrams:
            protocol = self.clock.protocols.get(d.remote)
            if protocol is not None:
                protocol.datagramReceived(d.data, d.local)

    def _pump(self) -> None:
        while self.clock.sent:
            data, _, remote = self.clock.sent.popleft()
            ini = self._initiators.get(remote)
            if ini is not None:
                self._deliver(ini, ini.receive_datagram(data, self.clock.seconds()))
