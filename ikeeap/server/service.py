"""Drives the sans-I/O Responder from the Twisted reactor: sockets, timers, EAP steps."""

from __future__ import annotations

import logging
import time
from typing import Any, Callable

from twisted.internet import defer

from ..ike.events import (
    AuthenticationFailed, ChildSaEstablished, Datagram, EapStepPending, IkeSaDeleted,
    IkeSaEstablished,
)
from ..ike.responder import Responder
from ..logs import sa_context, sa_label
from .fastpath import start_step
from .pktinfo import PktinfoUdpPort, is_wildcard
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
        self._wildcards: dict[tuple[bool, int], PktinfoUdpPort] = {}  # (IPv6?, port)
        self._ports: list[Any] = []
        self._timer: Any = None
        self._timer_at: float | None = None
        # Optional observers (metrics): core time per request, duration of each EAP step.
        self.on_exchange: Callable[[bytes, bool, float], None] | None = None
        self.on_eap_step: Callable[[str, float, bool], None] | None = None

    def listen(self, host: str, port: int) -> Address:
        """Bind one UDP socket; returns the bound (address, port) (port 0 picks one).

        On a wildcard address the socket reports each datagram's real destination, which the
        core then sees as ``local`` (NAT detection) and answers from."""
        if is_wildcard(host):
            wildcard = PktinfoUdpPort(self.reactor, host, port, self._on_datagram)
            self._wildcards[(wildcard.v6, wildcard.port)] = wildcard
            self._ports.append(wildcard)
            return (host, wildcard.port)
        proto = IkeDatagramProtocol((host, port), self._on_datagram)
        listening = self.reactor.listenUDP(port, proto, interface=host)
        bound = (host, listening.getHost().port)
        proto.local = bound
        self._protocols[bound] = proto
        self._ports.append(listening)
        return bound

    def terminate(self, sa_ids: list[str], reason: str) -> list[str]:
        """End these SAs (DELETE to established peers); the ids that were ended."""
        now, done = self.reactor.seconds(), []
        for sa_id in sa_ids:
            sa = self.responder.get_sa(sa_id)
            if sa is not None and sa.state.value != "closed":
                self._send(self.responder.terminate(sa_id, now, reason))
                done.append(sa_id)
        self._after_core_call()
        return done

    def stop(self) -> defer.Deferred:
        # Clean shutdown: tell every established peer (INFORMATIONAL DELETE), then close.
        self._send(self.responder.terminate_all(self.reactor.seconds(), "shutdown"))
        self._after_core_call()
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        return defer.gatherResults([defer.maybeDeferred(p.stopListening) for p in self._ports])

    # ---- core plumbing -----------------------------------------------------------------

    def _on_datagram(self, data: bytes, local: Address, remote: Address) -> None:
        observe = self.on_exchange
        if observe is None:  # no metrics: skip the two clock reads per datagram
            self._send(self.responder.receive_datagram(data, local, remote,
                                                       self.reactor.seconds()))
        else:
            started = time.perf_counter()
            self._send(self.responder.receive_datagram(data, local, remote,
                                                       self.reactor.seconds()))
            observe(data, local[1] == self.responder.settings.nat_port,
                    time.perf_counter() - started)
        self._after_core_call()

    def _send(self, datagrams: list[Datagram]) -> None:
        for d in datagrams:
            proto = self._protocols.get(d.local)
            if proto is not None:
                proto.send(d.data, d.remote)
                continue
            wildcard = self._wildcards.get((":" in d.local[0], d.local[1]))
            if wildcard is not None:
                wildcard.send(d.data, d.local, d.remote)

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
        token = sa_context.set(self._label(getattr(event, "sa_id", None)))
        try:
            for listener in self.listeners:
                try:
                    listener(event)
                except Exception:  # noqa: BLE001 - an observer must never break the responder
                    log.exception("event listener %r failed", listener)
            self._log_event(event)
        finally:
            sa_context.reset(token)

    def _label(self, sa_id: str | None) -> str | None:
        """The log prefix of an SA (short id and peer) for lines logged on its behalf."""
        if sa_id is None:
            return None
        sa = self.responder.get_sa(sa_id)
        return sa_label(sa_id, sa.remote if sa is not None else None)

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
        # Lines that EAP methods and backends log for this step name the SA (a coroutine
        # keeps a copy of the context it was started in).
        token = sa_context.set(self._label(event.sa_id))
        try:
            self._run_eap_step_in_context(event)
        finally:
            sa_context.reset(token)

    def _step_timed(self, sa_id: str, started: float, ok: bool) -> None:
        if self.on_eap_step is not None:
            self.on_eap_step(sa_id, time.perf_counter() - started, ok)

    def _run_eap_step_in_context(self, event: EapStepPending) -> None:
        started = time.perf_counter()
        try:  # steps that need not wait finish here, without a Deferred and timeout timer
            ready, output, rest = start_step(event.step)
        except Exception as exc:  # noqa: BLE001 - reported like a failed step
            log.warning("EAP step of SA %s failed: %s", event.sa_id[:8], exc)
            ready, output, rest = True, None, None
        if ready:
            self._step_timed(event.sa_id, started, output is not None)
            self._send(self.responder.eap_done(event.sa_id, output, self.reactor.seconds()))
            self._after_core_call()
            return
        d = defer.ensureDeferred(rest)
        d.addTimeout(event.timeout, self.reactor)

        def finished(output: Any) -> None:
            self._step_timed(event.sa_id, started, output is not None)
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

