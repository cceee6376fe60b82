"""IKE_SA_INIT, initiator side (RFC 7296 §1.2, §2.6, §2.7, §2.23)."""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass

from ..crypto.dh import DhExchange, InvalidKeyExchange, new_dh
from ..crypto.transforms import IkeSuite, UnsupportedTransform
from ..ike.nat import nat_hash
from ..wire.codec import encode_message
from ..wire.constants import (
    ExchangeType,
    HeaderFlag,
    IntegId,
    NotifyType,
    ProtocolId,
    TransformType,
)
from ..wire.payloads import (
    IkeHeader,
    KePayload,
    NoncePayload,
    NotifyPayload,
    Payload,
    SaPayload,
)
from .config import InitiatorConfig, accepted_transforms, ike_sa_payload
from .session import InitiatorSa

Address = tuple[str, int]
ZERO_SPI = bytes(8)


@dataclass
class InitAttempt:
    """What stays across IKE_SA_INIT retries: our SPI and nonce; KE group and cookie change."""

    spi_i: bytes
    ni: bytes
    dh: DhExchange
    offer: SaPayload
    cookie: bytes | None = None
    retries: int = 0


@dataclass
class InitOutcome:
    """``sa`` on success; ``retry`` to send a new request; else failed with ``reason``."""

    sa: InitiatorSa | None = None
    retry: bool = False
    reason: str = ""
    notify: int | None = None
    event: tuple[str, str] | None = None
    nat_detected: bool = False
    peer_hash_algorithms: frozenset[int] = frozenset()


def new_attempt(config: InitiatorConfig, random: Callable[[int], bytes]) -> InitAttempt:
    spi = random(8)
    while spi == ZERO_SPI:
        spi = random(8)
    return InitAttempt(
        spi,
        random(config.nonce_size),
        new_dh(config.first_dh_group()),
        ike_sa_payload(config.ike_specs()),
    )


def build_request(
    config: InitiatorConfig, attempt: InitAttempt, local: Address, remote: Address
) -> bytes:
    payloads: list[Payload] = []
    if attempt.cookie is not None:
        payloads.append(NotifyPayload(NotifyType.COOKIE, attempt.cookie))  # first (§2.6)
    source = nat_hash(attempt.spi_i, ZERO_SPI, local)
    if config.fake_nat:
        source = bytes(b ^ 0xFF for b in source)
    payloads += [
        attempt.offer,
        KePayload(attempt.dh.group, attempt.dh.public),
        NoncePayload(attempt.ni),
        NotifyPayload(NotifyType.NAT_DETECTION_SOURCE_IP, source),
        NotifyPayload(
            NotifyType.NAT_DETECTION_DESTINATION_IP, nat_hash(attempt.spi_i, ZERO_SPI, remote)
        ),
    ]
    if config.signature_hash_algorithms:
        hashes = config.signature_hash_algorithms
        algs = struct.pack(f"!{len(hashes)}H", *hashes)
        payloads.append(NotifyPayload(NotifyType.SIGNATURE_HASH_ALGORITHMS, algs))
    payloads += config.sa_init_extra
    header = IkeHeader(
        attempt.spi_i, ZERO_SPI, 0, ExchangeType.IKE_SA_INIT, HeaderFlag.INITIATOR, 0
    )
    return encode_message(header, payloads)


def notify_name(notify_type: int) -> str:
    try:
        return NotifyType(notify_type).name
    except ValueError:
        return f"NOTIFY_{notify_type}"


def _offered_groups(offer: SaPayload) -> set[int]:
    return {t.id for p in offer.proposals for t in p.transforms if t.type == TransformType.DH}


def _retry_outcome(
    config: InitiatorConfig, attempt: InitAttempt, notifies: dict[int, bytes]
) -> InitOutcome | None:
    """COOKIE or INVALID_KE_PAYLOAD: adjust the attempt for another request."""
    if NotifyType.COOKIE in notifies:
        kind, detail = "cookie", notifies[NotifyType.COOKIE].hex()
        attempt.cookie = notifies[NotifyType.COOKIE]
    elif NotifyType.INVALID_KE_PAYLOAD in notifies:
        data = notifies[NotifyType.INVALID_KE_PAYLOAD]
        group = struct.unpack("!H", data[:2])[0] if len(data) >= 2 else 0
        if group not in _offered_groups(attempt.offer) or group == attempt.dh.group:
            return InitOutcome(
                reason=f"INVALID_KE_PAYLOAD asks for group {group}",
                notify=NotifyType.INVALID_KE_PAYLOAD,
            )
        kind, detail = "invalid_ke", str(group)
        attempt.dh = new_dh(group)
    else:
        return None
    attempt.retries += 1
    if attempt.retries > config.max_init_retries:
        return InitOutcome(reason=f"too many IKE_SA_INIT retries ({kind})")
    return InitOutcome(retry=True, event=(kind, detail))


def _suite(attempt: InitAttempt, reply: SaPayload) -> IkeSuite | None:
    found = accepted_transforms(attempt.offer, reply, ProtocolId.IKE)
    if found is None:
        return None
    t = found[1]
    encr, prf, dh = t.get(TransformType.ENCR), t.get(TransformType.PRF), t.get(TransformType.DH)
    integ = t.get(TransformType.INTEG)
    if encr is None or prf is None or dh is None:
        return None
    try:
        return IkeSuite(
            encr.id, encr.key_length or 0, prf.id, integ.id if integ else IntegId.NONE, dh.id
        )
    except UnsupportedTransform:
        return None


def process_response(
    config: InitiatorConfig,
    attempt: InitAttempt,
    request: bytes,
    response: bytes,
    header: IkeHeader,
    payloads: list[Payload],
    local: Address,
) -> InitOutcome:
    notifies = {p.notify_type: p.data for p in payloads if isinstance(p, NotifyPayload)}
    retry = _retry_outcome(config, attempt, notifies)
    if retry is not None:
        return retry
    errors = [n for n in notifies if n < 16384]
    if errors:
        return InitOutcome(reason=notify_name(errors[0]), notify=errors[0])
    sa_payload = next((p for p in payloads if isinstance(p, SaPayload)), None)
    ke = next((p for p in payloads if isinstance(p, KePayload)), None)
    nonce = next((p for p in payloads if isinstance(p, NoncePayload)), None)
    if sa_payload is None or ke is None or nonce is None or header.spi_r == ZERO_SPI:
        return InitOutcome(reason="IKE_SA_INIT response lacks SA, KE or Nonce")
    suite = _suite(attempt, sa_payload)
    if suite is None or suite.dh != ke.group or ke.group != attempt.dh.group:
        return InitOutcome(reason="responder chose a proposal we did not offer")
    try:
        shared = attempt.dh.compute(ke.data)
    except InvalidKeyExchange as exc:
        return InitOutcome(reason=f"invalid KE data from the responder: {exc}")
    sa = InitiatorSa.create(
        suite, shared, attempt.ni, nonce.data, attempt.spi_i, header.spi_r, request, response
    )
    behind_nat = notifies.get(NotifyType.NAT_DETECTION_DESTINATION_IP) not in (
        None,
        nat_hash(attempt.spi_i, header.spi_r, local),
    )
    algs = notifies.get(NotifyType.SIGNATURE_HASH_ALGORITHMS, b"")
    peer_algs = frozenset(struct.unpack(f"!{len(algs) // 2}H", algs[: len(algs) // 2 * 2]))
    return InitOutcome(sa=sa, nat_detected=behind_nat, peer_hash_algorithms=peer_algs)
