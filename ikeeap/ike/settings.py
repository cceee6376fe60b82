"""What the sans-I/O responder needs at run time: config plus loaded credentials.

Files are read by the caller (cli/server); the core only sees objects.
"""

from __future__ import annotations

import fnmatch
import ipaddress
from dataclasses import dataclass, field
from typing import Callable

from ..config import ConnectionConfig
from ..crypto.auth import Signer
from ..eap.authenticator import EapAuthenticator
from ..wire.constants import IdType
from ..wire.payloads import IdPayload
from .hardening import Hardening
from .pool import AddressPool, addresses_in
from .proposals import EspProposalSpec, IkeProposalSpec

# (connection, IKE identity of the peer, peer address) -> an EapAuthenticator
EapFactory = Callable[[ConnectionConfig, str, tuple[str, int]], EapAuthenticator]


@dataclass
class ResponderSettings:
    identity: IdPayload
    ike_proposals: tuple[IkeProposalSpec, ...]
    esp_proposals: tuple[EspProposalSpec, ...]
    connections: tuple[ConnectionConfig, ...]
    eap_factory: EapFactory | None = None
    signer: Signer | None = None
    cert_chain: tuple[bytes, ...] = ()  # DER, server certificate first
    certreq: bytes = b""  # SHA-1 hashes of trusted CA keys, for CERTREQ
    nat_port: int = 4500
    half_open_timeout: float = 30.0
    auth_timeout: float = 120.0
    eap_step_timeout: float = 60.0
    pools: dict[str, AddressPool] = field(default_factory=dict)
    hardening: Hardening = field(default_factory=Hardening)  # DoS, fragment, liveness limits

    def __post_init__(self) -> None:
        for conn in self.connections:
            if conn.pool is not None and conn.name not in self.pools:
                self.pools[conn.name] = AddressPool(conn.pool, addresses_in(conn.dns))

    def find_connection(self, auth: str, peer_id: str) -> ConnectionConfig | None:
        for conn in self.connections:
            if conn.auth == auth and id_matches(conn.remote_id, peer_id):
                return conn
        return None


def id_matches(pattern: str, identity: str) -> bool:
    return pattern in ("%any", "*", "") or fnmatch.fnmatchcase(identity, pattern)


def make_identity(text: str, initiator: bool = False) -> IdPayload:
    """An ID payload from its text: an IP address, user@domain (RFC 822) or an FQDN."""
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        kind = IdType.RFC822_ADDR if "@" in text else IdType.FQDN
        return IdPayload(initiator, kind, text.encode())
    kind = IdType.IPV4_ADDR if ip.version == 4 else IdType.IPV6_ADDR
    return IdPayload(initiator, kind, ip.packed)


def identity_text(payload: IdPayload) -> str:
    """A printable form of an ID payload, used for matching and logs."""
    if payload.id_type in (IdType.IPV4_ADDR, IdType.IPV6_ADDR):
        try:
            return str(ipaddress.ip_address(payload.data))
        except ValueError:
            return payload.data.hex()
    if payload.id_type in (IdType.FQDN, IdType.RFC822_ADDR, IdType.KEY_ID):
        return payload.data.decode("utf-8", "replace")
    return f"{payload.id_type}:{payload.data.hex()}"
