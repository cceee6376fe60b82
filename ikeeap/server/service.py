"""Drives the sans-I/O Responder from the Twisted reactor: sockets, timers, EAP steps."""

from __future__ import annotations

import logging
from typing import Any, Callable

from twisted.internet import defer

from ..ike.events import (
    AuthenticationFailed, ChildSaEstablished, Datagram, EapStepPending, IkeSaDeleted,
    IkeSaEstablished,
)
from ..ike.responder import Responder
from .udp import Address, IkeDatagramProtocol

log = logging.getLogger("ikeeap.server")


class ResponderService:
    """Owns the sockets and feeds every datagram, timer and finished EAP step to the core."""

    def __init__(self, responder: Responder, reactor: Any,
                 listeners: list[Callable[[Any], None]] | None = None):
        self.responder = responder
        self.reactor = reactor
        # Called with every core event (accounting, metrics); a failing listener is logged.
        self.listeners = list(listeners or [])
        self._protocols: dict[Address, IkeDatagramProtocol] = {}
        self._ports: list[Any] = []
        self._timer: Any = None
        self._timer_at: float | None = None

    def listen(self, host: str, port: int) -> Address:
        """Bind one UDP socket; returns the bound (address, port) (port 0 picks one)."""
        proto = IkeDatagramProtocol((host, port), self._on_datagram)
        listening = self.reactor.listenUDP(port, proto, interface=host)
        bound = (host, listening.getHost().port)
        proto.local = bound
        self._protocols[bound] = proto
        self._ports.append(listening)
        return bound

    def stop(self) -> defer.Deferred:
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        return defer.gatherResults([defer.maybeDeferred(p.stopListening) for p in self._ports])

    # ---- core plumbing -----------------------------------------------------------------

    def _on_datagram(self, data: bytes, local: Address, remote: Address) -> None:
        self._send(self.responder.receive_datagram(data, local, remote, self.reactor.seconds()))
        self._after_core_call()

    def _send(self, datagrams: list[Datagram]) -> None:
        for d in datagrams:
            proto = self._protocols.get(d.local)
            if proto is not None:
                proto.send(d.data, d.remote)

    def _after_core_call(self) -> None:
        while (event := self.responder.next_event()) is not None:
            self._handle_event(event)
        self._rearm_timer()

    def _rearm_timer(self) -> None:
        when = self.responder.get_timer()
        if when == self._timer_at and self._timer is not None and self._timer.active():
            return
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer, self._timer_at = None, when
        if when is not None and when != float("inf"):
            delay = max(0.0, when - self.reactor.seconds())
            self._timer = self.reactor.callLater(delay, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self._send(self.responder.handle_timer(self.reactor.seconds()))
        self._after_core_call()

    def _handle_event(self, event: Any) -> None:
        if isinstance(event, EapStepPending):
            self._run_eap_step(event)
            return
        for listener in self.listeners:
            try:
                listener(event)
            except Exception:  # noqa: BLE001 - an observer must never break the responder
                log.exception("event listener %r failed", listener)
        self._log_event(event)

    def _log_event(self, event: Any) -> None:
        if isinstance(event, IkeSaEstablished):
            log.info("IKE SA %s up: %s from %s:%d (%s)", event.sa_id[:8], event.identity,
                     *event.remote, event.method)
        elif isinstance(event, AuthenticationFailed):
            log.info("login failed: %s from %s:%d: %s", event.identity, *event.remote,
                     event.reason)
        elif isinstance(event, (ChildSaEstablished, IkeSaDeleted)):
            log.debug("%s", type(event).__name__)

    def _run_eap_step(self, event: EapStepPending) -> None:
        d = defer.ensureDeferred(_as_coroutine(event.step))
        d.addTimeout(event.timeout, self.reactor)

        def finished(output: Any) -> None:
            self._send(self.responder.eap_done(event.sa_id, output, self.reactor.seconds()))
            self._after_core_call()

        def failed(failure: Any) -> None:
            log.warning("EAP step of SA %s failed: %s", event.sa_id[:8],
                        failure.getErrorMessage() or failure.type.__name__)
            finished(None)

        d.addCallbacks(finished, failed)
        d.addErrback(lambda f: log.error("handling an EAP result failed: %s", f.getTraceback()))


async def _as_coroutine(awaitable: Any) -> Any:
    return await awaitable

