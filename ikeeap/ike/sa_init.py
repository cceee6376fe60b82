"""IKE_SA_INIT, responder side (RFC 7296 §1.2, §2.6–2.7, §2.10, §2.23)."""

from __future__ import annotations

import logging
import struct
from dataclasses import dataclass

from ..crypto.auth import SUPPORTED_HASH_ALGORITHMS
from ..crypto.dh import InvalidKeyExchange, new_dh
from ..crypto.transforms import IkeSuite
from ..wire.codec import encode_message
from ..wire.constants import (
    CertEncoding, ExchangeType, HeaderFlag, NotifyType, ProtocolId,
)
from ..wire.payloads import (
    CertReqPayload, IkeHeader, KePayload, NoncePayload, NotifyPayload, Payload, SaPayload,
    UnknownPayload,
)
from .events import Address
from .nat import nat_hash
from .proposals import Chosen, choose_ike
from .sa import IkeSa
from .settings import ResponderSettings

log = logging.getLogger("ikeeap.ike")

NONCE_SIZE = 32
_OUR_HASH_ALGORITHMS = struct.pack(f"!{len(SUPPORTED_HASH_ALGORITHMS)}H",
                                   *SUPPORTED_HASH_ALGORITHMS)


@dataclass
class InitResult:
    response: bytes
    sa: IkeSa | None = None


def _notify_response(header: IkeHeader, notify: NotifyPayload) -> bytes:
    """An unencrypted error answer; the responder SPI stays zero (RFC 7296 §2.6, §2.7)."""
    reply = IkeHeader(header.spi_i, bytes(8), 0, ExchangeType.IKE_SA_INIT,
                      HeaderFlag.RESPONSE, 0)
    return encode_message(reply, [notify])


def _collect(payloads: list[Payload]) -> dict:
    found: dict = {"notifies": {}}
    for p in payloads:
        if isinstance(p, NotifyPayload):
            found["notifies"][p.notify_type] = p.data
        elif isinstance(p, UnknownPayload):
            if p.critical:
                found.setdefault("critical", p.type)
        else:
            found.setdefault(type(p), p)
    return found


def _peer_hash_algorithms(data: bytes | None) -> frozenset[int]:
    if not data or len(data) % 2:
        return frozenset()
    return frozenset(struct.unpack(f"!{len(data) // 2}H", data))


def _nat_detected(notifies: dict, spi_i: bytes, local: Address, remote: Address) -> bool:
    """True if either side's address changed on the way (RFC 7296 §2.23): ESP needs UDP then.

    The initiator hashed with a zero responder SPI; a peer that sent no hashes is taken at its
    word that there is no NAT.
    """
    source = notifies.get(NotifyType.NAT_DETECTION_SOURCE_IP)
    destination = notifies.get(NotifyType.NAT_DETECTION_DESTINATION_IP)
    zero = bytes(8)
    peer_moved = source is not None and source != nat_hash(spi_i, zero, remote)
    we_moved = destination is not None and destination != nat_hash(spi_i, zero, local)
    return peer_moved or we_moved


def _refusal(header: IkeHeader, found: dict, settings: ResponderSettings,
             remote: Address) -> bytes | Chosen:
    """The chosen proposal, or the error answer that refuses this request."""
    if "critical" in found:
        crit = NotifyPayload(NotifyType.UNSUPPORTED_CRITICAL_PAYLOAD, bytes([found["critical"]]))
        return _notify_response(header, crit)
    sa_payload, ke, nonce = found.get(SaPayload), found.get(KePayload), found.get(NoncePayload)
    if sa_payload is None or ke is None or nonce is None or not 16 <= len(nonce.data) <= 256:
        return _notify_response(header, NotifyPayload(NotifyType.INVALID_SYNTAX))
    chosen = choose_ike(settings.ike_proposals, sa_payload.proposals, ke.group)
    if chosen is None:
        log.info("%s:%d IKE_SA_INIT: no acceptable proposal", *remote)
        return _notify_response(header, NotifyPayload(NotifyType.NO_PROPOSAL_CHOSEN))
    if ke.group != chosen.dh:
        log.info("%s:%d IKE_SA_INIT: KE group %d, asking for %d", *remote, ke.group, chosen.dh)
        return _notify_response(
            header, NotifyPayload(NotifyType.INVALID_KE_PAYLOAD, struct.pack("!H", chosen.dh)))
    return chosen


def _response_payloads(settings: ResponderSettings, spi_i: bytes, spi_r: bytes, chosen: Chosen,
                       dh_public: bytes, nr: bytes, notifies: dict, local: Address,
                       remote: Address) -> list[Payload]:
    out: list[Payload] = [
        SaPayload((chosen.payload(ProtocolId.IKE, b""),)),
        KePayload(chosen.dh, dh_public),
        NoncePayload(nr),
        NotifyPayload(NotifyType.NAT_DETECTION_SOURCE_IP, nat_hash(spi_i, spi_r, local)),
        NotifyPayload(NotifyType.NAT_DETECTION_DESTINATION_IP, nat_hash(spi_i, spi_r, remote)),
    ]
    if settings.certreq:
        out.append(CertReqPayload(CertEncoding.X509_SIGNATURE, settings.certreq))
    if NotifyType.IKEV2_FRAGMENTATION_SUPPORTED in notifies:
        out.append(NotifyPayload(NotifyType.IKEV2_FRAGMENTATION_SUPPORTED))
    out.append(NotifyPayload(NotifyType.SIGNATURE_HASH_ALGORITHMS, _OUR_HASH_ALGORITHMS))
    return out


def handle_sa_init(settings: ResponderSettings, header: IkeHeader, payloads: list[Payload],
                   message: bytes, local: Address, remote: Address, now: float,
                   random) -> InitResult:
    found = _collect(payloads)
    chosen = _refusal(header, found, settings, remote)
    if isinstance(chosen, bytes):
        return InitResult(chosen)
    dh = new_dh(chosen.dh)
    try:
        shared = dh.compute(found[KePayload].data)
    except InvalidKeyExchange:
        log.info("%s:%d IKE_SA_INIT: invalid KE data", *remote)
        return InitResult(_notify_response(header, NotifyPayload(NotifyType.INVALID_SYNTAX)))
    spi_r, nr = random(8), random(NONCE_SIZE)
    notifies = found["notifies"]
    out = _response_payloads(settings, header.spi_i, spi_r, chosen, dh.public, nr, notifies,
                             local, remote)
    reply = IkeHeader(header.spi_i, spi_r, 0, ExchangeType.IKE_SA_INIT, HeaderFlag.RESPONSE, 0)
    response = encode_message(reply, out)
    suite = IkeSuite(chosen.encr, chosen.encr_key_bits, chosen.prf, chosen.integ, chosen.dh)
    sa = IkeSa.create(
        suite, shared, found[NoncePayload].data, nr, header.spi_i, spi_r, remote=remote,
        local=local, created=now, deadline=now + settings.half_open_timeout,
        init_request=message, init_response=response,
        peer_hash_algorithms=_peer_hash_algorithms(
            notifies.get(NotifyType.SIGNATURE_HASH_ALGORITHMS)),
        nat_detected=_nat_detected(notifies, header.spi_i, local, remote),
    )
    sa.last_response_id, sa.last_response = 0, [response]
    sa.fragmentation = NotifyType.IKEV2_FRAGMENTATION_SUPPORTED in notifies
    return InitResult(response, sa)
