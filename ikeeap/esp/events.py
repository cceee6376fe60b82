"""What the ESP core reports to its adapter: drop reasons, lifetime events, the SA identity."""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = ["ChildRef", "Drop", "HardExpired", "RekeyDue"]


class Drop(str, enum.Enum):
    """Why a packet was not passed on. Counted per SA (``SaCounters.drops``) or per table."""

    MALFORMED = "malformed"  # too short, misaligned, or no whole inner IP packet
    UNKNOWN_SPI = "unknown_spi"  # no inbound SA for the SPI (EspTable)
    REPLAY = "replay"  # already received (RFC 4303 §3.4.3)
    OLD = "old"  # left of the replay window
    ICV = "icv"  # integrity check failed (RFC 4303 §3.4.4)
    PADDING = "padding"  # pad length or padding octets wrong (RFC 4303 §2.4)
    NEXT_HEADER = "next_header"  # neither IPv4 (4) nor IPv6 (41) in tunnel mode
    SELECTOR = "selector"  # inner packet outside the Child SA's traffic selectors
    DUMMY = "dummy"  # a TFC dummy packet (next header 59), discarded silently (§2.6)
    EXPIRED = "expired"  # the SA reached a hard lifetime
    SEQUENCE = "sequence"  # outbound: the sequence number space is used up (§3.3.3)
    NO_ROUTE = "no_route"  # outbound: no Child SA for the destination (EspTable)


@dataclass(frozen=True, slots=True)
class ChildRef:
    """Which Child SA: the IKE SA's id (as in ikeeap.ike.events) and the two SPIs as the
    responder names them (spi_in: ours, the peer sends to it)."""

    sa_id: str
    spi_in: bytes
    spi_out: bytes


@dataclass(frozen=True, slots=True)
class RekeyDue:
    """A soft limit was reached: start a CREATE_CHILD_SA rekey for ``child``.

    ``reason`` is "time", "bytes", "packets" or "sequence"; ``direction`` "in" or "out".
    """

    child: ChildRef
    direction: str
    reason: str


@dataclass(frozen=True, slots=True)
class HardExpired:
    """A hard limit was reached: the SA passes no more traffic; delete the Child SA."""

    child: ChildRef
    direction: str
    reason: str
