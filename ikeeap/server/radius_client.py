"""Twisted UDP transport for the sans-I/O RADIUS client core: one socket, one timer.

``RadiusTransport.request(build, server=None)`` returns a Deferred firing with a
:class:`~ikeeap.backends.radius.client.Completion`; nothing here ever blocks the reactor.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from twisted.internet import defer
from twisted.internet.protocol import DatagramProtocol

from ..backends.radius.backend import PROVIDER_NAME, RadiusBackend
from ..backends.radius.client import Completion, PacketBuilder, RadiusClientCore
from ..backends.radius.config import RadiusConfig

log = logging.getLogger("ikeeap.radius")


class RadiusTransport(DatagramProtocol):
    def __init__(self, core: RadiusClientCore, reactor: Any, bind: str = "") -> None:
        self.core = core
        self.reactor = reactor
        self._waiting: dict[int, defer.Deferred] = {}
        self._timer: Any = None
        self._port = reactor.listenUDP(0, self, interface=bind)

    def request(self, build: PacketBuilder, server: int | None = None) -> defer.Deferred:
        d: defer.Deferred = defer.Deferred(canceller=lambda _: None)
        tx_id = self.core.request(build, self.reactor.seconds(), server)
        self._waiting[tx_id] = d
        d.addBoth(self._forget, tx_id)
        self._pump()
        return d

    def start_probes(self) -> None:
        """Arm the timer so Status-Server probes run from now on."""
        self._pump()

    def stop(self) -> defer.Deferred:
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        return defer.maybeDeferred(self._port.stopListening)

    def datagramReceived(self, data: bytes, addr: Any) -> None:
        self.core.receive(data, (addr[0], addr[1]), self.reactor.seconds())
        self._pump()

    # -- internals --------------------------------------------------------------------------

    def _forget(self, result: Any, tx_id: int) -> Any:
        if self._waiting.pop(tx_id, None) is not None:
            self.core.cancel(tx_id)  # cancelled or timed out by the caller
        return result

    def _pump(self) -> None:
        for data, remote in self.core.datagrams_to_send():
            try:
                self.transport.write(data, remote)
            except OSError as exc:  # unreachable: the retransmit timer handles it
                log.debug("RADIUS send to %s:%d failed: %s", remote[0], remote[1], exc)
        for done in self.core.completions():
            self._deliver(done)
        self._rearm()

    def _deliver(self, done: Completion) -> None:
        d = self._waiting.pop(done.tx_id, None)
        if d is not None and not d.called:
            d.callback(done)

    def _rearm(self) -> None:
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None
        when = self.core.get_timer()
        if when is not None:
            delay = max(0.0, when - self.reactor.seconds())
            self._timer = self.reactor.callLater(delay, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self.core.handle_timer(self.reactor.seconds())
        self._pump()


@dataclass
class RadiusRuntime:
    """What ``serve`` needs from the RADIUS backend: providers and event listeners."""

    providers: dict[str, Any] = field(default_factory=dict)
    listeners: list[Callable[[Any], None]] = field(default_factory=list)
    transports: list[RadiusTransport] = field(default_factory=list)

    accounting: Any = None

    def stop(self) -> defer.Deferred:
        """Accounting Stop/Off first (bounded by the retransmit limits), then the sockets."""
        first = self.accounting.shutdown() if self.accounting is not None else defer.succeed(0)
        first.addBoth(lambda _: defer.gatherResults([t.stop() for t in self.transports]))
        return first


def start_radius(config: Any, reactor: Any) -> RadiusRuntime:
    """Build the RADIUS backend from ``config.sections["radius"]`` (nothing without it)."""
    radius: RadiusConfig | None = config.sections.get("radius")
    runtime = RadiusRuntime()
    if radius is None:
        return runtime
    auth = RadiusTransport(RadiusClientCore(radius.servers, radius.dead_time,
                                            radius.status_server_interval), reactor)
    auth.start_probes()
    runtime.transports.append(auth)
    account = None
    if radius.accounting_servers:
        acct = RadiusTransport(RadiusClientCore(radius.accounting_servers, radius.dead_time),
                               reactor)
        runtime.transports.append(acct)
        account = acct.request
    backend = RadiusBackend(radius, auth.request, account)
    runtime.providers[PROVIDER_NAME] = backend
    if account is not None:
        from .radius_accounting import AccountingListener
        listener = AccountingListener(backend, reactor)
        runtime.listeners.append(listener)
        runtime.accounting = listener
        listener.accounting_on()
    return runtime
