"""Applying a changed configuration to a running responder without dropping its SAs.

Everything new is built first (config validated like check-config, credentials, EAP
methods, backends); only when all of it succeeded is it swapped in.  Established SAs keep
their keys, connection and virtual IP (carried over into the new pools).
"""

from __future__ import annotations

from typing import Any

from ..config import Config
from ..ike.settings import ResponderSettings

# What a reload cannot change in place: (what, how to read it from a Config).
RESTART_ONLY = (
    ("server.listen", lambda c: c.server.listen),
    ("server.port", lambda c: c.server.port),
    ("server.nat_port", lambda c: c.server.nat_port),
    ("[control]", lambda c: c.sections.get("control")),
    ("[metrics]", lambda c: c.sections.get("metrics")),
)


def restart_notes(old: Config, new: Config) -> list[str]:
    return [f"{what} changed: takes effect after a restart"
            for what, read in RESTART_ONLY if read(old) != read(new)]


def carry_over(old: ResponderSettings, new: ResponderSettings, sas: list[Any]) -> list[str]:
    """Lease the virtual IPs of live SAs in the new pools; notes for those that cannot be."""
    new.nat_port = old.nat_port  # a --nat-port given on the command line still holds
    notes = []
    for sa in sas:
        if sa.virtual_ip is None or sa.pool_name is None:
            continue
        pool = new.pools.get(sa.pool_name)
        who = (sa.auth.eap_identity or sa.auth.peer_id_text) if sa.auth else sa.id
        if pool is None or not pool.reserve(who, sa.virtual_ip):
            notes.append(f"SA {sa.id[:8]} keeps {sa.virtual_ip}, which is outside the new "
                         f"pool of {sa.pool_name}")
    return notes


def apply_settings(responder: Any, new: ResponderSettings) -> None:
    responder.settings = new
    responder.dos.limits = new.hardening
    responder.liveness.limits = new.hardening
