"""INFORMATIONAL requests: liveness checks, deletes and notifies (RFC 7296 §1.4, §1.5)."""

from __future__ import annotations

import logging

from ..wire.constants import NotifyType, ProtocolId
from ..wire.payloads import DeletePayload, NotifyPayload, Payload, UnknownPayload
from .events import IkeSaDeleted
from .sa import IkeSa, Outcome

log = logging.getLogger("ikeeap.ike")


def handle_informational(sa: IkeSa, payloads: list[Payload]) -> Outcome:
    critical = [p for p in payloads if isinstance(p, UnknownPayload) and p.critical]
    if critical:
        return Outcome([NotifyPayload(NotifyType.UNSUPPORTED_CRITICAL_PAYLOAD,
                                      bytes([critical[0].type]))])
    answer: list[Payload] = []
    for p in payloads:
        if isinstance(p, DeletePayload) and p.protocol == ProtocolId.IKE:
            log.info("%s peer deleted the IKE SA", sa.log_prefix())
            return Outcome([], close=True, events=[IkeSaDeleted(sa.id, "deleted by peer")])
        if isinstance(p, DeletePayload) and p.protocol in (ProtocolId.ESP, ProtocolId.AH):
            answer += _delete_children(sa, p)
        if isinstance(p, NotifyPayload) and p.notify_type == NotifyType.AUTHENTICATION_FAILED:
            log.info("%s peer refused our authentication", sa.log_prefix())
            return Outcome([], close=True, events=[IkeSaDeleted(sa.id, "peer refused AUTH")])
    return Outcome(answer)


def _delete_children(sa: IkeSa, delete: DeletePayload) -> list[Payload]:
    """Remove the Child SAs the peer deleted and name our inbound SPIs of them back."""
    ours = []
    for spi in delete.spis:
        for child in list(sa.children):
            if child.spi_out == spi:
                sa.children.remove(child)
                ours.append(child.spi_in)
                log.info("%s CHILD SA %s deleted by peer", sa.log_prefix(), child.spi_in.hex())
    return [DeletePayload(delete.protocol, tuple(ours))] if ours else []
