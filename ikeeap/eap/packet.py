"""EAP packet codec (RFC 3748 §4).

``parse_eap`` raises only :class:`EapParseError`, whatever the input.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum

from ikeeap.wire.errors import ParseError

HEADER_LENGTH = 4


class EapParseError(ParseError):
    """Input octets are not a well-formed EAP packet."""


class EapCode(IntEnum):
    REQUEST = 1
    RESPONSE = 2
    SUCCESS = 3
    FAILURE = 4


class EapType(IntEnum):
    IDENTITY = 1
    NOTIFICATION = 2
    NAK = 3
    MD5 = 4
    OTP = 5
    GTC = 6
    TLS = 13
    SIM = 18
    TTLS = 21
    AKA = 23
    PEAP = 25
    MSCHAPV2 = 26
    PWD = 52
    EXPANDED = 254


def _known_type(value: int) -> int:
    try:
        return EapType(value)
    except ValueError:
        return value


@dataclass(frozen=True)
class EapPacket:
    """One EAP packet.  ``type`` is None exactly for Success and Failure."""

    code: int
    identifier: int
    type: int | None = None
    data: bytes = b""

    @property
    def type_data(self) -> bytes:
        """Type ‖ Type-Data (what an :class:`EapMethod` sends and receives)."""
        if self.type is None:
            return b""
        return bytes([self.type]) + self.data

    @classmethod
    def from_type_data(cls, code: int, identifier: int, type_data: bytes) -> EapPacket:
        """Build a Request or Response from Type ‖ Type-Data."""
        if not type_data:
            raise ValueError("Type ‖ Type-Data must not be empty")
        return cls(code, identifier, _known_type(type_data[0]), bytes(type_data[1:]))

    def encode(self) -> bytes:
        """Serialize; raises ValueError when the fields cannot form a packet."""
        if not 0 <= self.identifier <= 255:
            raise ValueError("EAP identifier out of range")
        if self.code in (EapCode.SUCCESS, EapCode.FAILURE):
            if self.type is not None or self.data:
                raise ValueError("EAP Success/Failure carry no type or data")
            return struct.pack("!BBH", self.code, self.identifier, HEADER_LENGTH)
        if self.code not in (EapCode.REQUEST, EapCode.RESPONSE):
            raise ValueError(f"unsupported EAP code {self.code}")
        if self.type is None or not 1 <= self.type <= 255:
            raise ValueError("EAP Request/Response needs a type 1..255")
        length = HEADER_LENGTH + 1 + len(self.data)
        if length > 0xFFFF:
            raise ValueError("EAP packet too long")
        return struct.pack("!BBHB", self.code, self.identifier, length, self.type) + self.data


def parse_eap(data: bytes) -> EapPacket:
    """Decode one EAP packet; the Length field must cover exactly ``data``."""
    try:
        raw = bytes(data)
    except (TypeError, ValueError) as exc:
        raise EapParseError("EAP packet is not bytes") from exc
    if len(raw) < HEADER_LENGTH:
        raise EapParseError("EAP packet shorter than its header")
    code, identifier, length = struct.unpack_from("!BBH", raw)
    if length != len(raw):
        raise EapParseError(f"EAP length field {length} != packet size {len(raw)}")
    if code in (EapCode.SUCCESS, EapCode.FAILURE):
        if length != HEADER_LENGTH:
            raise EapParseError("EAP Success/Failure with data")
        return EapPacket(EapCode(code), identifier)
    if code not in (EapCode.REQUEST, EapCode.RESPONSE):
        raise EapParseError(f"unknown EAP code {code}")
    if length < HEADER_LENGTH + 1:
        raise EapParseError("EAP Request/Response without a type")
    eap_type = raw[4]
    if eap_type == 0:
        raise EapParseError("EAP type 0 is reserved")
    if eap_type == EapType.EXPANDED and length < HEADER_LENGTH + 8:
        raise EapParseError("EAP expanded type header truncated")
    return EapPacket(EapCode(code), identifier, _known_type(eap_type), raw[5:])
