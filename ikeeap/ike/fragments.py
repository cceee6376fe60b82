"""IKE fragmentation (RFC 7383): reassembling SKF requests and fragmenting large responses.

Each fragment is protected on its own (its header and SKF header are the authenticated
prefix), so a forged fragment is dropped before it takes any memory. Reassembly is bounded by
fragment count, octets per message (fewer before the SA is authenticated: anyone can complete
IKE_SA_INIT), octets over all SAs (``ReassemblyBudget``) and time; one message per SA is
collected at a time, since the window is one request.
"""

from __future__ import annotations

import hashlib
import logging
import struct
from dataclasses import dataclass, field

from ..crypto.sk import HEADER_LEN, IntegrityError, pack_header
from ..wire.codec import encode_payloads
from ..wire.constants import HeaderFlag, PayloadType
from ..wire.payloads import EncryptedFragmentPayload, IkeHeader, Payload
from .hardening import Hardening
from .sa import IkeSa, SaState

log = logging.getLogger("ikeeap.ike")

SKF_HEADER_LEN = 8  # generic payload header + fragment number + total fragments
UDP_HEADER_LEN = 8
_SKF_HEADER = struct.Struct("!BBHHH")


@dataclass
class Reassembly:
    message_id: int
    total: int
    started: float
    first_payload: int = 0
    first_digest: bytes = b""  # of fragment 1's datagram: what a retransmission repeats
    parts: dict[int, bytes] = field(default_factory=dict)
    size: int = 0


class ReassemblyBudget:
    """Octets held in partial messages by all SAs of one responder, against one limit."""

    def __init__(self, limit: int):
        self.limit = limit
        self.in_use = 0

    def take(self, octets: int) -> bool:
        if self.in_use + octets > self.limit:
            return False
        self.in_use += octets
        return True

    def drop(self, sa: IkeSa) -> None:
        """Forget the SA's partial message and give its octets back."""
        if sa.reassembly is not None:
            self.in_use -= sa.reassembly.size
            sa.reassembly = None


@dataclass(frozen=True)
class Reassembled:
    first_payload: int
    inner: bytes
    first_digest: bytes  # request_digest() of fragment 1


def request_digest(datagram: bytes) -> bytes:
    """What identifies a request for retransmission checks: only the same octets are the same
    request (a different one with the last message ID is not answered from the cache)."""
    return hashlib.blake2b(datagram, digest_size=16).digest()


def receive_fragment(sa: IkeSa, limits: Hardening, budget: ReassemblyBudget, data: bytes,
                     offset: int, skf: EncryptedFragmentPayload, message_id: int,
                     now: float) -> Reassembled | None:
    """Store one fragment; the whole inner message once it is complete.

    Raises IntegrityError for a fragment that fails its ICV or breaks a limit (the caller
    drops and logs it); returns None while fragments are missing.
    """
    if skf.total_fragments > limits.max_fragments:
        raise IntegrityError(f"{skf.total_fragments} fragments (max_fragments "
                             f"{limits.max_fragments})")
    current: Reassembly | None = sa.reassembly
    if current is not None and (current.message_id != message_id
                                or now - current.started > limits.reassembly_timeout):
        budget.drop(sa)  # a stale collection: start over
        current = None
    if current is not None and skf.total_fragments < current.total:
        raise IntegrityError("fragment of an older, larger fragmentation")  # §2.6.2
    if current is not None and skf.total_fragments == current.total \
            and skf.fragment_number in current.parts:
        return None  # a duplicate (a larger total is a new fragmentation: below)
    plaintext = sa.decrypter.open_after(data, offset + SKF_HEADER_LEN)
    if current is None or skf.total_fragments > current.total:
        budget.drop(sa)
        current = Reassembly(message_id, skf.total_fragments, now)  # §2.6.2: restart
    sa.reassembly = current
    limit = (limits.max_reassembly_size if sa.state == SaState.ESTABLISHED
             else min(limits.max_reassembly_size, limits.max_unauthenticated_reassembly))
    if current.size + len(plaintext) > limit:
        budget.drop(sa)
        raise IntegrityError(f"reassembled message over {limit} octets"
                             + ("" if sa.state == SaState.ESTABLISHED else " before IKE_AUTH"))
    if not budget.take(len(plaintext)):
        budget.drop(sa)
        log.warning("reassembly budget of %d octets (all SAs) used up: a fragment of %s "
                    "dropped", budget.limit, sa.log_prefix())
        raise IntegrityError(f"reassembly_budget of {budget.limit} octets used up")
    current.parts[skf.fragment_number] = plaintext
    current.size += len(plaintext)
    if skf.fragment_number == 1:
        current.first_payload = skf.first_payload
        current.first_digest = request_digest(data)
    if len(current.parts) < current.total:
        return None
    budget.drop(sa)
    inner = b"".join(current.parts[n] for n in range(1, current.total + 1))
    return Reassembled(current.first_payload, inner, current.first_digest)


def seal_response_fragments(sa: IkeSa, limits: Hardening, exchange: int, message_id: int,
                            payloads: list[Payload], marker_len: int,
                            allowed: bool = True) -> list[bytes]:
    """The response as one SK message, or as SKF fragments when it would exceed
    ``fragment_size`` (an IP datagram size) and both sides support fragmentation."""
    whole = sa.seal_response(exchange, message_id, payloads)
    budget = limits.fragment_size - _ip_header_len(sa) - UDP_HEADER_LEN - marker_len
    if not (sa.fragmentation and allowed and limits.fragment_size) or len(whole) <= budget:
        return [whole]
    first, inner = encode_payloads(payloads)
    chunk = _chunk_size(sa, budget - HEADER_LEN - SKF_HEADER_LEN)
    chunks = [inner[i:i + chunk] for i in range(0, len(inner), chunk)]
    header = IkeHeader(sa.spi_i, sa.spi_r, 0, exchange, HeaderFlag.RESPONSE, message_id)
    out = []
    for number, piece in enumerate(chunks, 1):
        skf_len = SKF_HEADER_LEN + sa.encrypter.sealed_length(len(piece))
        prefix = pack_header(header, HEADER_LEN + skf_len, PayloadType.SKF) + _SKF_HEADER.pack(
            first if number == 1 else 0, 0, skf_len, number, len(chunks))
        out.append(sa.encrypter.seal_after(prefix, piece))
    log.debug("%s response %d sent as %d fragments", sa.log_prefix(), message_id, len(out))
    return out


def _chunk_size(sa: IkeSa, sealed_budget: int) -> int:
    """The largest plaintext whose IV ‖ ciphertext ‖ ICV fits ``sealed_budget`` octets."""
    size = max(1, sealed_budget)
    while size > 1 and sa.encrypter.sealed_length(size) > sealed_budget:
        size -= 1
    return size


def _ip_header_len(sa: IkeSa) -> int:
    return 40 if ":" in sa.remote[0] else 20

