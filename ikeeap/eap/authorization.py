"""What a backend decided about a session besides "yes": carried from the EAP method through
``EapOutput.authorization`` to the IKE layer (CP reply) and its events (accounting)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass


@dataclass(frozen=True)
class Authorization:
    """Session parameters from the AAA server (e.g. a RADIUS Access-Accept).

    ``virtual_ip`` replaces the pool address in the CP reply; ``dns`` is added to the
    connection's DNS servers; ``session_timeout`` (seconds) bounds the session before
    re-authentication; ``radius_class`` values go back in accounting; ``acct_session_id``
    is the Acct-Session-Id the Access-Requests carried, so accounting uses the same one.
    """

    virtual_ip: ipaddress.IPv4Address | None = None
    dns: tuple[ipaddress.IPv4Address, ...] = ()
    session_timeout: int | None = None
    radius_class: tuple[bytes, ...] = ()
    acct_session_id: str | None = None
    interim_interval: int | None = None
    server: str | None = None
