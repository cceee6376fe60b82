"""RFC 5998 EAP-only IKE_AUTH, responder side: when to use it and what it must accept.

The initiator asks with N(EAP_ONLY_AUTHENTICATION) in its first IKE_AUTH request.  A
connection with ``eap_only = "allow"`` or ``"require"`` then answers with IDr and the first
EAP request only (no CERT, no AUTH); the EAP method must be mutual and produce an MSK,
which keys both final AUTH payloads (§3).  ``"require"`` refuses initiators that do not ask.
"""

from __future__ import annotations

from ..config import ConnectionConfig
from ..eap.authenticator import EapAuthenticator, EapOutput
from ..eap.packet import EapCode, EapPacket
from ..wire.constants import NotifyType
from ..wire.payloads import NotifyPayload, Payload


def requested(payloads: list[Payload]) -> bool:
    return any(isinstance(p, NotifyPayload)
               and p.notify_type == NotifyType.EAP_ONLY_AUTHENTICATION for p in payloads)


def decide(connection: ConnectionConfig, asked: bool) -> tuple[bool, str]:
    """(use EAP-only, refusal reason or "") for this connection and request."""
    mode = connection.eap_only
    if mode == "require" and not asked:
        return False, "connection requires EAP-only (RFC 5998); the initiator did not ask"
    return asked and mode in ("allow", "require"), ""


def restrict_methods(authenticator: EapAuthenticator) -> None:
    """Offer only mutual, key-generating methods (the outcome is still checked by
    :func:`outcome_problem`)."""
    authenticator.require_mutual_methods()


def outcome_problem(output: EapOutput) -> str:
    """Why a successful EAP outcome does not qualify for EAP-only, or ""."""
    if not output.mutual:
        return f"EAP-only needs a mutual method; {output.method_name or '?'} is not"
    if not output.msk:
        return f"EAP-only needs an MSK; {output.method_name or '?'} produced none"
    return ""


def failure_for(success_packet: bytes | None) -> bytes:
    """The EAP-Failure replacing a refused EAP-Success (same identifier)."""
    identifier = success_packet[1] if success_packet and len(success_packet) > 1 else 0
    return EapPacket(EapCode.FAILURE, identifier).encode()
