"""RADIUS accounting records (RFC 2866), sans-I/O: what to send for which IKE SA event.

The server layer (``ikeeap.server.radius_accounting``) owns timers and sending; this module
only turns sessions into Accounting-Request builders.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pyrad import packet as rp

from . import codec
from .config import RadiusConfig

STATUS_START, STATUS_STOP, STATUS_INTERIM = 1, 2, 3
STATUS_ACCOUNTING_ON, STATUS_ACCOUNTING_OFF = 7, 8
CAUSE_USER_REQUEST, CAUSE_LOST_CARRIER, CAUSE_SESSION_TIMEOUT = 1, 2, 5
CAUSE_ADMIN_RESET, CAUSE_NAS_REQUEST, CAUSE_NAS_REBOOT = 6, 10, 11
ACCT_AUTHENTIC_RADIUS = 1


@dataclass
class AccountingSession:
    """One established IKE SA as accounting sees it."""

    sa_id: str
    session_id: str
    user: str
    calling_station: str
    virtual_ip: str | None
    started: float
    classes: tuple[bytes, ...] = ()
    interim_interval: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


def session_from_event(event: Any, now: float) -> AccountingSession:
    """An AccountingSession from an IkeSaEstablished event (Acct-Session-Id and Class
    come from the RADIUS Authorization when the login went through RADIUS)."""
    authz = getattr(event, "authorization", None)
    return AccountingSession(
        sa_id=event.sa_id,
        session_id=getattr(authz, "acct_session_id", None) or event.sa_id[:16],
        user=event.eap_identity or event.identity,
        calling_station=f"{event.remote[0]}:{event.remote[1]}",
        virtual_ip=event.virtual_ip, started=now,
        classes=tuple(getattr(authz, "radius_class", ()) or ()),
        interim_interval=float(getattr(authz, "interim_interval", None) or 0))


def terminate_cause(reason: str) -> int:
    """Acct-Terminate-Cause for an IkeSaDeleted reason."""
    text = reason.lower()
    if "peer" in text:
        return CAUSE_USER_REQUEST
    if "timeout" in text:
        return CAUSE_LOST_CARRIER
    if "shutdown" in text or "reboot" in text:
        return CAUSE_NAS_REBOOT
    return CAUSE_NAS_REQUEST


Builder = Callable[[bytes, int], rp.Packet]


def _nas(config: RadiusConfig) -> list[tuple[str, object]]:
    return [("NAS-Identifier", config.nas_identifier),
            ("NAS-IP-Address", config.nas_ip_address)]


def session_record(config: RadiusConfig, session: AccountingSession, status: int,
                   now: float | None = None, cause: int | None = None) -> Builder:
    """Start / Interim-Update / Stop for one session."""
    now = time.time() if now is None else now
    attributes: list[tuple[str, object]] = [
        ("Acct-Status-Type", status), ("Acct-Session-Id", session.session_id),
        ("User-Name", session.user), *_nas(config),
        ("NAS-Port-Type", 5), ("Service-Type", 2), ("Acct-Authentic", ACCT_AUTHENTIC_RADIUS),
        ("Calling-Station-Id", session.calling_station),
        ("Called-Station-Id", config.called_station_id),
        ("Framed-IP-Address", session.virtual_ip), ("Event-Timestamp", int(now))]
    if status != STATUS_START:
        attributes.append(("Acct-Session-Time", max(0, int(now - session.started))))
    if cause is not None:
        attributes.append(("Acct-Terminate-Cause", cause))

    def build(secret: bytes, identifier: int) -> rp.Packet:
        pkt = codec.accounting_request(secret, identifier, attributes)
        if session.classes:
            pkt[codec.ATTR_CLASS] = list(session.classes)  # echoed as received (RFC 2865 §5.25)
        return pkt
    return build


def nas_record(config: RadiusConfig, status: int, now: float | None = None) -> Builder:
    """Accounting-On / Accounting-Off for the whole NAS."""
    attributes = [("Acct-Status-Type", status), *_nas(config),
                  ("Acct-Session-Id", "0"), ("Event-Timestamp", int(time.time() if now is None
                                                                   else now))]
    return lambda secret, identifier: codec.accounting_request(secret, identifier, attributes)
