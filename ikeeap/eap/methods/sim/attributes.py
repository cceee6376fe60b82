"""EAP-SIM message and attribute codec (RFC 4186 §8.1, §10).

A message is Type (18) ‖ Subtype ‖ Reserved(2) ‖ attributes; each attribute is
Type ‖ Length (in 4-octet units, header included) ‖ value.  ``parse_message`` never raises
anything but :class:`SimParseError`: duplicate attributes, non-skippable unknown types
(< 128), bad lengths.  Unknown skippable attributes (>= 128) are dropped.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import IntEnum

EAP_TYPE_SIM = 18
EAP_TYPE_AKA = 23
SIM_VERSION = 1
_HEADER = 4  # Type, Subtype, Reserved(2)


class SimParseError(ValueError):
    """A malformed EAP-SIM message or attribute."""


class Subtype(IntEnum):
    START = 10
    CHALLENGE = 11
    NOTIFICATION = 12
    REAUTHENTICATION = 13
    CLIENT_ERROR = 14


class Attr(IntEnum):
    RAND = 1
    PADDING = 6
    NONCE_MT = 7
    PERMANENT_ID_REQ = 10
    MAC = 11
    NOTIFICATION = 12
    ANY_ID_REQ = 13
    IDENTITY = 14
    VERSION_LIST = 15
    SELECTED_VERSION = 16
    FULLAUTH_ID_REQ = 17
    COUNTER = 19
    COUNTER_TOO_SMALL = 20
    NONCE_S = 21
    CLIENT_ERROR_CODE = 22
    IV = 129
    ENCR_DATA = 130
    NEXT_PSEUDONYM = 132
    NEXT_REAUTH_ID = 133
    RESULT_IND = 135


_KNOWN_TYPES = frozenset(int(a) for a in Attr)
ID_REQUESTS = (Attr.ANY_ID_REQ, Attr.FULLAUTH_ID_REQ, Attr.PERMANENT_ID_REQ)


class Notification(IntEnum):
    """AT_NOTIFICATION codes (§10.18): S bit 0x8000 = success, P bit 0x4000 = pre-auth."""

    GENERAL_FAILURE_AFTER_AUTH = 0
    TEMPORARILY_DENIED = 1026
    NOT_SUBSCRIBED = 1031
    GENERAL_FAILURE = 16384
    SUCCESS = 32768


NOTIFICATION_S_BIT = 0x8000
NOTIFICATION_P_BIT = 0x4000


class ClientError(IntEnum):
    UNABLE_TO_PROCESS = 0
    UNSUPPORTED_VERSION = 1
    INSUFFICIENT_CHALLENGES = 2
    RANDS_NOT_FRESH = 3


@dataclass(frozen=True)
class SimAttribute:
    """One attribute: ``value`` is everything after Type and Length; ``offset`` its position
    in the message (counted from the Type octet of the EAP-SIM data)."""

    type: int
    value: bytes
    offset: int = 0


@dataclass(frozen=True)
class SimMessage:
    subtype: int
    attributes: tuple[SimAttribute, ...]

    def get(self, attr_type: int) -> SimAttribute | None:
        return next((a for a in self.attributes if a.type == attr_type), None)

    def has(self, attr_type: int) -> bool:
        return self.get(attr_type) is not None

    def types(self) -> set[int]:
        return {a.type for a in self.attributes}


# -- parsing ----------------------------------------------------------------------------


def parse_attributes(data: bytes, base: int = 0) -> tuple[SimAttribute, ...]:
    """The attribute list in ``data``; ``base`` is added to each offset."""
    attrs: list[SimAttribute] = []
    seen: set[int] = set()
    pos = 0
    while pos < len(data):
        if len(data) - pos < 4:
            raise SimParseError("truncated attribute header")
        attr_type, units = data[pos], data[pos + 1]
        end = pos + 4 * units
        if units == 0 or end > len(data):
            raise SimParseError(f"attribute {attr_type}: bad length {units}")
        if attr_type in seen:
            raise SimParseError(f"duplicate attribute {attr_type}")
        seen.add(attr_type)
        if attr_type in _KNOWN_TYPES:
            attrs.append(SimAttribute(attr_type, data[pos + 2 : end], base + pos))
        elif attr_type < 128:
            raise SimParseError(f"unknown non-skippable attribute {attr_type}")
        pos = end
    return tuple(attrs)


def parse_message(data: bytes, eap_type: int = EAP_TYPE_SIM) -> SimMessage:
    """Type ‖ Subtype ‖ Reserved ‖ attributes -> SimMessage."""
    if len(data) < _HEADER or data[0] != eap_type:
        raise SimParseError("not an EAP-SIM message")
    return SimMessage(data[1], parse_attributes(data[_HEADER:], _HEADER))


# -- attribute values -------------------------------------------------------------------


def read_reserved(attr: SimAttribute | None, size: int | None = None) -> bytes | None:
    """The data after the 2 reserved octets (NONCE_MT, RAND, IV, MAC, NONCE_S, ENCR_DATA)."""
    if attr is None or len(attr.value) < 2:
        return None
    data = attr.value[2:]
    if size is not None and len(data) != size:
        return None
    return data


def read_u16(attr: SimAttribute | None) -> int | None:
    """A 16-bit field attribute (SELECTED_VERSION, COUNTER, NOTIFICATION, CLIENT_ERROR)."""
    if attr is None or len(attr.value) != 2:
        return None
    return int(struct.unpack("!H", attr.value)[0])


def read_with_length(attr: SimAttribute | None) -> bytes | None:
    """Actual-length-prefixed data (VERSION_LIST, IDENTITY, NEXT_PSEUDONYM, NEXT_REAUTH_ID)."""
    if attr is None or len(attr.value) < 2:
        return None
    (length,) = struct.unpack("!H", attr.value[:2])
    if length > len(attr.value) - 2 or len(attr.value) - 2 - length >= 4:
        return None
    return attr.value[2 : 2 + length]


def read_versions(attr: SimAttribute | None) -> list[int] | None:
    data = read_with_length(attr)
    if data is None or not data or len(data) % 2:
        return None
    return [v for (v,) in struct.iter_unpack("!H", data)]


# -- encoding ---------------------------------------------------------------------------


def attr_raw(attr_type: int, value: bytes) -> bytes:
    """Type ‖ Length ‖ value; ``value`` + 2 must be a multiple of 4."""
    if (len(value) + 2) % 4:
        raise ValueError(f"attribute {attr_type}: value length {len(value)} not 4n+2")
    return bytes([attr_type, (len(value) + 2) // 4]) + value


def attr_reserved(attr_type: int, data: bytes) -> bytes:
    return attr_raw(attr_type, b"\x00\x00" + data)


def attr_u16(attr_type: int, value: int) -> bytes:
    return attr_raw(attr_type, struct.pack("!H", value))


def attr_flag(attr_type: int) -> bytes:
    return attr_raw(attr_type, b"\x00\x00")


def attr_with_length(attr_type: int, data: bytes) -> bytes:
    padding = (-(len(data) + 4)) % 4
    return attr_raw(attr_type, struct.pack("!H", len(data)) + data + bytes(padding))


def attr_versions(versions: Sequence[int]) -> bytes:
    return attr_with_length(Attr.VERSION_LIST, b"".join(struct.pack("!H", v) for v in versions))


def attr_padding_to_block(plaintext_len: int, block: int = 16) -> bytes:
    """AT_PADDING making ``plaintext_len`` a multiple of ``block`` (empty if already)."""
    missing = (-plaintext_len) % block
    return attr_raw(Attr.PADDING, bytes(missing - 2)) if missing else b""


def encode_message(subtype: int, attributes: Iterable[bytes],
                   eap_type: int = EAP_TYPE_SIM) -> bytes:
    """Type ‖ Subtype ‖ Reserved ‖ attributes (already encoded)."""
    return bytes([eap_type, subtype, 0, 0]) + b"".join(attributes)


def mac_placeholder() -> bytes:
    """AT_MAC with a zero value, to be filled after the MAC is computed."""
    return attr_reserved(Attr.MAC, bytes(16))


def mac_value_offset(message: bytes, eap_type: int = EAP_TYPE_SIM) -> int:
    """Offset of the 16-octet AT_MAC value in an encoded message (raises SimParseError)."""
    mac = parse_message(message, eap_type).get(Attr.MAC)
    if mac is None or len(mac.value) != 18:
        raise SimParseError("no AT_MAC")
    return mac.offset + 4
