"""Diameter-style AVPs carried in the EAP-TTLS tunnel (RFC 5281 §10).

    AVP Code (4) | Flags V M r r r r r r (1) | AVP Length (3, header + data, no padding)
    [Vendor-ID (4) when V] | Data | padding to a multiple of 4 octets

:func:`parse_avps` raises only :class:`AvpError`.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

AVP_USER_NAME = 1
AVP_USER_PASSWORD = 2
AVP_REPLY_MESSAGE = 18
AVP_EAP_MESSAGE = 79
FLAG_VENDOR = 0x80
FLAG_MANDATORY = 0x40
_HEADER = 8
_MAX_LENGTH = 0xFFFFFF


class AvpError(ValueError):
    """Malformed AVP octets."""


@dataclass(frozen=True)
class Avp:
    code: int
    data: bytes = field(repr=False)  # may hold a password: kept out of repr
    mandatory: bool = False
    vendor_id: int | None = None


def encode_avp(avp: Avp) -> bytes:
    flags = (FLAG_MANDATORY if avp.mandatory else 0) | (FLAG_VENDOR if avp.vendor_id else 0)
    vendor = struct.pack("!I", avp.vendor_id) if avp.vendor_id else b""
    length = _HEADER + len(vendor) + len(avp.data)
    if length > _MAX_LENGTH:
        raise ValueError("AVP too long")
    header = struct.pack("!IB", avp.code, flags) + length.to_bytes(3, "big")
    return header + vendor + avp.data + b"\x00" * (-length % 4)


def encode_avps(avps: list[Avp]) -> bytes:
    return b"".join(encode_avp(a) for a in avps)


def parse_avps(data: bytes) -> list[Avp]:
    avps: list[Avp] = []
    offset = 0
    while offset < len(data):
        if len(data) - offset < _HEADER:
            raise AvpError("truncated AVP header")
        code, flags = struct.unpack_from("!IB", data, offset)
        length = int.from_bytes(data[offset + 5 : offset + 8], "big")
        header = _HEADER + (4 if flags & FLAG_VENDOR else 0)
        if length < header or offset + length > len(data):
            raise AvpError(f"AVP {code}: bad length {length}")
        vendor = None
        if flags & FLAG_VENDOR:
            (vendor,) = struct.unpack_from("!I", data, offset + _HEADER)
        value = bytes(data[offset + header : offset + length])
        avps.append(Avp(code, value, bool(flags & FLAG_MANDATORY), vendor))
        offset += length + (-length % 4)
    return avps
