"""UDP encapsulation of ESP (RFC 3948): what arrived on the NAT-T port (4500).

- IKE: the non-ESP marker (4 zero octets, where an SPI would be) followed by an IKE message
  (RFC 3948 §2.2; an SPI of 0 is never assigned, RFC 4303 §2.1);
- NAT-keepalive: exactly one octet 0xFF (RFC 3948 §2.3), dropped by the receiver;
- ESP: anything else that can hold SPI ‖ Sequence Number (8 octets) with a non-zero SPI.
"""

from __future__ import annotations

import enum

__all__ = ["NON_ESP_MARKER", "NAT_KEEPALIVE", "NattKind", "classify", "demux",
           "encapsulate_ike"]

NON_ESP_MARKER = b"\x00\x00\x00\x00"
NAT_KEEPALIVE = b"\xff"


class NattKind(enum.Enum):
    IKE = "ike"
    KEEPALIVE = "keepalive"
    ESP = "esp"
    INVALID = "invalid"  # too short for anything, or a marker without an IKE header


def classify(datagram: bytes | bytearray | memoryview) -> NattKind:
    """The kind of one UDP payload received on the NAT-T port."""
    n = len(datagram)
    if n == 1:
        return NattKind.KEEPALIVE if datagram[0] == 0xFF else NattKind.INVALID
    if n < 8:
        return NattKind.INVALID
    if datagram[:4] == NON_ESP_MARKER:
        return NattKind.IKE if n >= 4 + 28 else NattKind.INVALID
    return NattKind.ESP


def demux(datagram: bytes | bytearray | memoryview
          ) -> tuple[NattKind, bytes | bytearray | memoryview]:
    """(kind, content): the IKE message without the marker, the ESP packet as received (from
    the SPI on), or the datagram itself for a keepalive or an invalid datagram."""
    kind = classify(datagram)
    if kind is NattKind.IKE:
        return kind, datagram[4:]
    return kind, datagram


def encapsulate_ike(message: bytes) -> bytes:
    """An IKE message as sent on port 4500 (with the non-ESP marker)."""
    return NON_ESP_MARKER + message
