"""Accounting as a ResponderService event listener: never blocks, never breaks a login.

Accounting-On at start, Start on IkeSaEstablished, Interim-Update every Acct-Interim-Interval
(from the Access-Accept, else ``[radius] interim_interval``), Stop with Acct-Terminate-Cause
on IkeSaDeleted, Stop for every open session and Accounting-Off at shutdown.  Retransmits
and failover are the client core's job.
"""

from __future__ import annotations

import logging
from typing import Any

from twisted.internet import defer

from ..backends.radius import accounting as acct
from ..backends.radius.backend import RadiusBackend
from ..ike.events import IkeSaDeleted, IkeSaEstablished

log = logging.getLogger("ikeeap.radius.accounting")


class AccountingListener:
    def __init__(self, backend: RadiusBackend, reactor: Any) -> None:
        assert backend.account is not None
        self._backend = backend
        self._send_request = backend.account
        self._reactor = reactor
        self._sessions: dict[str, acct.AccountingSession] = {}
        self._interims: dict[str, Any] = {}

    def __call__(self, event: Any) -> None:
        if isinstance(event, IkeSaEstablished):
            self._start(event)
        elif isinstance(event, IkeSaDeleted):
            self._stop(event.sa_id, acct.terminate_cause(event.reason))

    def accounting_on(self) -> defer.Deferred:
        return self._send(acct.nas_record(self._backend.config, acct.STATUS_ACCOUNTING_ON,
                                         self._reactor.seconds()),
                          "Accounting-On")

    def shutdown(self) -> defer.Deferred:
        """Stop every open session, then Accounting-Off (fires when all are answered)."""
        stops = [self._stop(sa_id, acct.CAUSE_NAS_REBOOT) for sa_id in list(self._sessions)]
        off = self._send(acct.nas_record(self._backend.config, acct.STATUS_ACCOUNTING_OFF,
                                         self._reactor.seconds()),
                         "Accounting-Off")
        return defer.DeferredList([*stops, off])

    # -- internals --------------------------------------------------------------------------

    def _start(self, event: IkeSaEstablished) -> None:
        session = acct.session_from_event(event, self._reactor.seconds())
        self._sessions[session.sa_id] = session
        self._send(acct.session_record(self._backend.config, session, acct.STATUS_START,
                                       self._reactor.seconds()),
                   f"Start {session.session_id}")
        interval = session.interim_interval or self._backend.config.interim_interval
        if interval > 0:
            self._interims[session.sa_id] = self._reactor.callLater(
                interval, self._interim, session.sa_id, interval)

    def _interim(self, sa_id: str, interval: float) -> None:
        session = self._sessions.get(sa_id)
        if session is None:
            return
        self._send(acct.session_record(self._backend.config, session, acct.STATUS_INTERIM,
                                       self._reactor.seconds()),
                   f"Interim-Update {session.session_id}")
        self._interims[sa_id] = self._reactor.callLater(interval, self._interim, sa_id,
                                                        interval)

    def _stop(self, sa_id: str, cause: int) -> defer.Deferred:
        timer = self._interims.pop(sa_id, None)
        if timer is not None and timer.active():
            timer.cancel()
        session = self._sessions.pop(sa_id, None)
        if session is None:
            return defer.succeed(None)  # never established: nothing was started
        return self._send(acct.session_record(self._backend.config, session, acct.STATUS_STOP,
                                              self._reactor.seconds(), cause=cause), f"Stop {session.session_id}")

    def _send(self, build: acct.Builder, what: str) -> defer.Deferred:
        d = defer.maybeDeferred(self._send_request, build, None)

        def done(completion: Any) -> None:
            if getattr(completion, "reply", None) is None:
                log.warning("accounting %s not answered: %s", what,
                            getattr(completion, "reason", "?"))
            else:
                log.info("accounting %s acknowledged", what)

        d.addCallback(done)
        d.addErrback(lambda f: log.warning("accounting %s failed: %s", what,
                                           f.getErrorMessage()))
        return d
