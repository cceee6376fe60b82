"""The audit trail: one ``ikeeap.audit`` line per login attempt (a service listener).

    login ok user=alice ike_id=alice from=198.51.100.2:4500 method=mschapv2 backend=local ...
    login failed user=alice ike_id=alice from=... method=mschapv2 backend=local reason="..."

Fields are names, addresses and reasons only — never a password, key or MSK.  JSON logs get
them as fields (``extra={"audit": {...}}``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from .control.views import backend_of
from .ike.events import AuthenticationFailed, IkeSaDeleted, IkeSaEstablished, IkeSaRekeyed
from .logs import sa_label

log = logging.getLogger("ikeeap.audit")

SaLookup = Callable[[str], Any]  # Responder.get_sa


class AuditListener:
    def __init__(self, lookup: SaLookup):
        self._lookup = lookup
        self._done: set[str] = set()  # established SAs: their deletion is no failed login

    def __call__(self, event: Any) -> None:
        if isinstance(event, IkeSaEstablished):
            self._log(event.sa_id, "ok", event.remote, event.identity, event.eap_identity,
                      event.method, None, event.virtual_ip, event.outer_identity)
        elif isinstance(event, AuthenticationFailed):
            self._log(event.sa_id, "failed", event.remote, event.identity, None, None,
                      event.reason, None)
        elif isinstance(event, IkeSaDeleted):
            self._deleted(event)
        elif isinstance(event, IkeSaRekeyed):  # the login lives on under the new SA
            self._done.add(event.new_sa_id)

    def _deleted(self, event: IkeSaDeleted) -> None:
        if event.sa_id in self._done:
            self._done.discard(event.sa_id)  # the SA's attempt was audited; forget it
            return
        sa = self._lookup(event.sa_id)
        if sa is not None and sa.auth is not None:  # IKE_AUTH began but never ended
            self._log(event.sa_id, "failed", sa.remote, None, None, None, event.reason, None)

    def _log(self, sa_id: str, result: str, remote: Any, ike_id: str | None,
             eap_id: str | None, method: str | None, reason: str | None,
             vip: str | None, outer: str | None = None) -> None:
        sa = self._lookup(sa_id)
        auth = getattr(sa, "auth", None)
        if auth is not None:
            eap_id = eap_id or auth.eap_identity
            ike_id = ike_id or auth.peer_id_text
            method = method or auth.method_name or None
            outer = outer or auth.outer_identity
        conn = getattr(auth, "connection", None)
        fields = {
            "event": "login", "result": result, "user": eap_id or ike_id, "outer_id": outer, "ike_id": ike_id,
            "from": f"{remote[0]}:{remote[1]}" if remote else None,
            "method": method, "backend": backend_of(conn, method or "") or None,
            "connection": getattr(conn, "name", None), "virtual_ip": vip, "reason": reason,
        }
        text = " ".join(f"{k}={_quote(v)}" for k, v in fields.items()
                        if v is not None and k not in ("event", "result"))
        level = logging.INFO if result == "ok" else logging.WARNING
        log.log(level, "%s login %s %s", sa_label(sa_id, remote), result, text,
                extra={"audit": fields})
        if result == "ok":
            self._done.add(sa_id)


def _quote(value: Any) -> str:
    text = str(value)
    return f'"{text}"' if (" " in text or not text) else text
