"""IKEv2 payloads as frozen dataclasses (RFC 7296 §3.2–3.16).

Each class carries its payload type as ``ptype``; the codec in ``codec.py`` maps
between these objects and bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Union

from .constants import PayloadType


@dataclass(frozen=True, slots=True)
class IkeHeader:
    spi_i: bytes
    spi_r: bytes
    next_payload: int
    exchange: int
    flags: int
    message_id: int
    length: int = 0
    version: int = 0x20

    @property
    def is_response(self) -> bool:
        return bool(self.flags & 0x20)

    @property
    def is_initiator(self) -> bool:
        return bool(self.flags & 0x08)


@dataclass(frozen=True, slots=True)
class Transform:
    type: int
    id: int
    key_length: int | None = None
    # Attributes other than one TV-format Key Length, as (attribute type word with the
    # AF bit 0x8000 kept, value). RFC 7296 §3.3.6: a transform carrying an attribute we
    # do not understand MUST be treated as unacceptable (other transforms still count).
    other_attrs: tuple[tuple[int, bytes], ...] = ()


@dataclass(frozen=True, slots=True)
class Proposal:
    number: int
    protocol: int
    spi: bytes
    transforms: tuple[Transform, ...]


@dataclass(frozen=True, slots=True)
class SaPayload:
    proposals: tuple[Proposal, ...]
    ptype: ClassVar[int] = PayloadType.SA


@dataclass(frozen=True, slots=True)
class KePayload:
    group: int
    data: bytes
    ptype: ClassVar[int] = PayloadType.KE


@dataclass(frozen=True, slots=True)
class IdPayload:
    """IDi or IDr: ``initiator`` selects which."""

    initiator: bool
    id_type: int
    data: bytes

    @property
    def ptype(self) -> int:
        return PayloadType.IDi if self.initiator else PayloadType.IDr

    @property
    def body(self) -> bytes:
        """The octets that enter the AUTH computation (RFC 7296 §2.15: ID type, reserved, data)."""
        return bytes((self.id_type, 0, 0, 0)) + self.data


@dataclass(frozen=True, slots=True)
class CertPayload:
    encoding: int
    data: bytes
    ptype: ClassVar[int] = PayloadType.CERT


@dataclass(frozen=True, slots=True)
class CertReqPayload:
    encoding: int
    data: bytes  # concatenated SHA-1 hashes of trusted CA public keys
    ptype: ClassVar[int] = PayloadType.CERTREQ


@dataclass(frozen=True, slots=True)
class AuthPayload:
    method: int
    data: bytes
    ptype: ClassVar[int] = PayloadType.AUTH


@dataclass(frozen=True, slots=True)
class NoncePayload:
    data: bytes
    ptype: ClassVar[int] = PayloadType.NONCE


@dataclass(frozen=True, slots=True)
class NotifyPayload:
    notify_type: int
    data: bytes = b""
    protocol: int = 0
    spi: bytes = b""
    ptype: ClassVar[int] = PayloadType.NOTIFY


@dataclass(frozen=True, slots=True)
class DeletePayload:
    protocol: int
    spis: tuple[bytes, ...] = ()
    ptype: ClassVar[int] = PayloadType.DELETE


@dataclass(frozen=True, slots=True)
class VendorPayload:
    data: bytes
    ptype: ClassVar[int] = PayloadType.VENDOR


@dataclass(frozen=True, slots=True)
class TrafficSelector:
    ts_type: int
    ip_protocol: int
    start_port: int
    end_port: int
    start_addr: bytes
    end_addr: bytes


@dataclass(frozen=True, slots=True)
class TsPayload:
    """TSi or TSr: ``initiator`` selects which."""

    initiator: bool
    selectors: tuple[TrafficSelector, ...]

    @property
    def ptype(self) -> int:
        return PayloadType.TSi if self.initiator else PayloadType.TSr


@dataclass(frozen=True, slots=True)
class CfgAttribute:
    attr_type: int
    value: bytes = b""


@dataclass(frozen=True, slots=True)
class CpPayload:
    cfg_type: int
    attributes: tuple[CfgAttribute, ...]
    ptype: ClassVar[int] = PayloadType.CP


@dataclass(frozen=True, slots=True)
class EapPayload:
    data: bytes  # one whole EAP packet (RFC 3748 §4)
    ptype: ClassVar[int] = PayloadType.EAP


@dataclass(frozen=True, slots=True)
class EncryptedPayload:
    """SK: ``data`` is IV ‖ ciphertext ‖ ICV, still protected."""

    first_payload: int
    data: bytes
    ptype: ClassVar[int] = PayloadType.SK


@dataclass(frozen=True, slots=True)
class EncryptedFragmentPayload:
    """SKF (RFC 7383 §2.5)."""

    first_payload: int
    fragment_number: int
    total_fragments: int
    data: bytes
    ptype: ClassVar[int] = PayloadType.SKF


@dataclass(frozen=True, slots=True)
class UnknownPayload:
    """A payload type we do not implement; kept so the critical bit can be honoured."""

    type: int
    critical: bool
    data: bytes

    @property
    def ptype(self) -> int:
        return self.type


Payload = Union[
    SaPayload, KePayload, IdPayload, CertPayload, CertReqPayload, AuthPayload, NoncePayload,
    NotifyPayload, DeletePayload, VendorPayload, TsPayload, CpPayload, EapPayload,
    EncryptedPayload, EncryptedFragmentPayload, UnknownPayload,
]
