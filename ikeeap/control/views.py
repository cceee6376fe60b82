"""What the control channel shows about the responder: plain dicts built from the core.

Nothing here reads keys: an SA view names peers, identities, method, addresses and SPIs,
never a nonce, a key or an MSK.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..ike.sa import IkeSa, SaState

# EAP methods whose credentials come from a fixed place rather than password_backend.
_FIXED_BACKENDS = {"radius": "radius", "sim": "sim"}
_VERIFIER_METHODS = ("gtc", "ttls")  # cleartext-password methods that use password_backend


def backend_of(connection: Any, method: str) -> str:
    """Where a login's credentials were checked: local, ldap, radius, sim or psk."""
    if connection is None:
        return ""
    if getattr(connection, "auth", "eap") == "psk" or method == "psk":
        return "psk"
    if method in _FIXED_BACKENDS:
        return _FIXED_BACKENDS[method]
    if method in _VERIFIER_METHODS:
        return getattr(connection, "password_backend", "local")
    return "local"


def sa_view(sa: IkeSa, now: float, reauth_time: float = 0.0,
            selectors: dict[bytes, tuple[tuple[str, ...], tuple[str, ...]]] | None = None,
            established_at: float | None = None) -> dict[str, Any]:
    auth = sa.auth
    conn = auth.connection if auth is not None else None
    method = auth.method_name if auth is not None else ""
    up = established_at if established_at is not None else sa.created
    return {
        "id": sa.id,
        "short_id": sa.id[:8],
        "state": sa.state.value,
        "peer": {"address": sa.remote[0], "port": sa.remote[1]},
        "local": {"address": sa.local[0], "port": sa.local[1]},
        "ike_identity": sa.peer_id_text or (auth.peer_id_text if auth else None),
        "eap_identity": auth.eap_identity if auth is not None else None,
        "outer_identity": auth.outer_identity if auth is not None else None,
        "connection": getattr(conn, "name", None),
        "method": method or None,
        "backend": backend_of(conn, method) or None,
        "virtual_ip": str(sa.virtual_ip) if sa.virtual_ip is not None else None,
        "age": round(now - sa.created, 1),
        "nat": sa.nat_detected,
        # The responder never starts a rekey (the initiator does); reauth is ours.
        "rekey_due": None,
        "reauth_due": (round(up + reauth_time - now, 1)
                       if reauth_time > 0 and sa.state == SaState.ESTABLISHED else None),
        "suite": _suite(sa),
        "children": [_child_view(c, (selectors or {}).get(c.spi_in)) for c in sa.children],
    }


def _suite(sa: IkeSa) -> str:
    s = sa.suite
    return f"encr={s.encr}/{s.encr_key_bits} prf={s.prf} integ={s.integ} dh={s.dh}"


def _child_view(child: Any, ts: tuple[tuple[str, ...], tuple[str, ...]] | None) -> dict:
    return {"spi_in": child.spi_in.hex(), "spi_out": child.spi_out.hex(),
            "ts_local": list(ts[1]) if ts else [], "ts_remote": list(ts[0]) if ts else []}


def select(views: Iterable[dict[str, Any]], sa_id: str | None = None, user: str | None = None,
           virtual_ip: str | None = None) -> list[dict[str, Any]]:
    """SAs matching every given selector: an id (or a unique-enough prefix of it), a user
    (EAP or IKE identity) or a virtual IP."""
    out = []
    for v in views:
        if sa_id and not v["id"].startswith(sa_id.lower()):
            continue
        if user and user not in (v["eap_identity"], v["ike_identity"]):
            continue
        if virtual_ip and v["virtual_ip"] != virtual_ip:
            continue
        out.append(v)
    return out
