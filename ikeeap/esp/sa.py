"""ESP SAs in tunnel mode (RFC 4303): one direction each, sans-I/O.

``OutboundSa.seal(inner_ip_packet) -> ESP packet | Drop`` and ``InboundSa.open(esp_packet) ->
inner IP packet | Drop``. The ESP packet runs from the SPI to the ICV: for UDP encapsulation
(RFC 3948) the adapter adds or strips the UDP header, for IP protocol 50 the outer IP header.

Per packet the SA counts bytes (of inner packets) and packets, counts every drop by its reason,
checks the byte and packet lifetimes, and appends RekeyDue / HardExpired to ``events`` (a list
the adapter drains; several SAs may share one). Time lifetimes are checked by ``poll(now)``,
which the adapter calls at ``next_deadline()``. The adapter can tell an SA in use by its
``packets`` counter moving (liveness: DPD only when IKE and ESP are both idle).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from ..crypto.esp_transforms import EspTransform
from .events import ChildRef, Drop, HardExpired, RekeyDue
from .replay import REPLAYED, ReplayWindow
from .selectors import SelectorCheck

__all__ = ["InboundSa", "Lifetime", "OutboundSa", "SaCounters"]

NEXT_IPV4 = 4
NEXT_IPV6 = 41
NEXT_DUMMY = 59  # "no next header": a TFC dummy packet (RFC 4303 §2.6)
_PAD = bytes(range(1, 256))  # RFC 4303 §2.4: the monotonic padding 1, 2, 3, ...
_I = struct.Struct("!I")
_II = struct.Struct("!II")
_NEVER = 1 << 64  # larger than any counter
SEQ_MAX_32 = 0xFFFFFFFF
SEQ_MAX_64 = 0xFFFFFFFFFFFFFFFF


@dataclass(frozen=True, slots=True)
class Lifetime:
    """Soft and hard limits by time (seconds from creation), inner bytes and packets; None =
    no limit. Soft raises RekeyDue once, hard raises HardExpired and stops the SA."""

    soft_seconds: float | None = None
    hard_seconds: float | None = None
    soft_bytes: int | None = None
    hard_bytes: int | None = None
    soft_packets: int | None = None
    hard_packets: int | None = None

    def __post_init__(self) -> None:
        for kind in ("seconds", "bytes", "packets"):
            soft, hard = getattr(self, f"soft_{kind}"), getattr(self, f"hard_{kind}")
            if (soft is not None and soft < 0) or (hard is not None and hard < 0):
                raise ValueError(f"negative {kind} lifetime")
            if soft is not None and hard is not None and soft > hard:
                raise ValueError(f"soft {kind} lifetime above the hard one")


@dataclass(frozen=True, slots=True)
class SaCounters:
    """A snapshot of one SA's counters (for list-sas, metrics, RADIUS accounting)."""

    spi: bytes
    direction: str
    bytes: int
    packets: int
    drops: dict[str, int]  # only reasons that occurred


def _trailers(align: int, next_header: int) -> tuple[bytes, ...]:
    """The trailer (Padding ‖ Pad Length ‖ Next Header) for each payload length mod align."""
    out = []
    for rest in range(align):
        pad = (-(rest + 2)) % align
        out.append(_PAD[:pad] + bytes((pad, next_header)))
    return tuple(out)


class _Sa:
    __slots__ = ("spi", "child", "direction", "transform", "esn", "lifetime", "created",
                 "events", "bytes", "packets", "drops", "expired", "_soft_fired",
                 "_alarm_bytes", "_alarm_packets")

    def __init__(self, spi: bytes, transform: EspTransform, direction: str, *, esn: bool,
                 child: ChildRef | None, lifetime: Lifetime, now: float,
                 events: list | None) -> None:
        if len(spi) != 4:
            raise ValueError("an ESP SPI is 4 octets")
        self.spi = bytes(spi)
        self.child = child or ChildRef("", self.spi, self.spi)
        self.direction = direction
        self.transform = transform
        self.esn = bool(esn)
        self.lifetime = lifetime
        self.created = now
        self.events: list = [] if events is None else events
        self.bytes = 0
        self.packets = 0
        self.drops: dict[Drop, int] = dict.fromkeys(Drop, 0)
        self.expired = False
        self._soft_fired = False
        self._set_alarms()

    # -- lifetimes ---------------------------------------------------------------------------

    def _set_alarms(self) -> None:
        lt = self.lifetime
        b = [lt.hard_bytes] + ([] if self._soft_fired else [lt.soft_bytes])
        p = [lt.hard_packets] + ([] if self._soft_fired else [lt.soft_packets])
        self._alarm_bytes = min((x for x in b if x is not None), default=_NEVER)
        self._alarm_packets = min((x for x in p if x is not None), default=_NEVER)
        if self.expired:
            self._alarm_bytes = self._alarm_packets = _NEVER

    def _soft(self, reason: str) -> None:
        if not self._soft_fired and not self.expired:
            self._soft_fired = True
            self.events.append(RekeyDue(self.child, self.direction, reason))

    def _hard(self, reason: str) -> None:
        if not self.expired:
            self._soft_fired = True
            self.expired = True
            self.events.append(HardExpired(self.child, self.direction, reason))

    def _counted(self) -> None:
        """A byte or packet alarm went off: which limits are crossed now."""
        lt = self.lifetime
        if lt.hard_bytes is not None and self.bytes >= lt.hard_bytes:
            self._hard("bytes")
        elif lt.hard_packets is not None and self.packets >= lt.hard_packets:
            self._hard("packets")
        elif lt.soft_bytes is not None and self.bytes >= lt.soft_bytes:
            self._soft("bytes")
        elif lt.soft_packets is not None and self.packets >= lt.soft_packets:
            self._soft("packets")
        self._set_alarms()

    def poll(self, now: float) -> None:
        """Check the time lifetimes (call at next_deadline())."""
        lt, age = self.lifetime, now - self.created
        if lt.hard_seconds is not None and age >= lt.hard_seconds:
            self._hard("time")
            self._set_alarms()
        elif lt.soft_seconds is not None and age >= lt.soft_seconds:
            self._soft("time")
            self._set_alarms()

    def next_deadline(self) -> float | None:
        """When poll() next has something to check, or None."""
        if self.expired:
            return None
        lt = self.lifetime
        if not self._soft_fired and lt.soft_seconds is not None:
            return self.created + lt.soft_seconds
        if lt.hard_seconds is not None:
            return self.created + lt.hard_seconds
        return None

    # -- counters ----------------------------------------------------------------------------

    def _drop(self, reason: Drop) -> Drop:
        self.drops[reason] += 1
        return reason

    def counters(self) -> SaCounters:
        return SaCounters(self.spi, self.direction, self.bytes, self.packets,
                          {r.value: n for r, n in self.drops.items() if n})


class OutboundSa(_Sa):
    """Protects inner IP packets for the peer (RFC 4303 §3.1 tunnel mode, §3.3).

    The sequence number never wraps (§3.3.3): at ``seq_soft_limit`` RekeyDue("sequence") is
    raised, after the last number the SA stops with HardExpired("sequence"). With
    ``selectors`` every packet must also match the Child SA's selectors outbound.
    """

    __slots__ = ("seq", "selectors", "_spi_int", "_seq_max", "_seq_alarm", "_seq_soft",
                 "_t4", "_t6", "_align")

    def __init__(self, spi: bytes, transform: EspTransform, *, esn: bool = False,
                 child: ChildRef | None = None, lifetime: Lifetime = Lifetime(),
                 now: float = 0.0, events: list | None = None,
                 selectors: SelectorCheck | None = None,
                 seq_soft_limit: int | None = None) -> None:
        super().__init__(spi, transform, "out", esn=esn, child=child, lifetime=lifetime,
                         now=now, events=events)
        self.seq = 0  # the last sequence number used; the first packet carries 1
        self.selectors = selectors
        self._spi_int = _I.unpack(self.spi)[0]
        self._seq_max = SEQ_MAX_64 if self.esn else SEQ_MAX_32
        if seq_soft_limit is None:  # leave 2^24 packets for the rekey (minutes at 100k pps)
            seq_soft_limit = self._seq_max - (1 << 24)
        if not 0 < seq_soft_limit <= self._seq_max:
            raise ValueError("seq_soft_limit outside the sequence number space")
        self._seq_soft = self._seq_alarm = seq_soft_limit
        self._align = transform.align
        self._t4 = _trailers(transform.align, NEXT_IPV4)
        self._t6 = _trailers(transform.align, NEXT_IPV6)

    def seal(self, packet: bytes, next_header: int | None = None) -> bytes | Drop:
        """The ESP packet for an inner IPv4/IPv6 packet, or the Drop reason.

        ``next_header`` overrides the one taken from the IP version (59 sends a TFC dummy
        packet whose payload is ``packet``; tests use it for wrong values)."""
        if self.expired:
            return self._drop(Drop.EXPIRED)
        n = len(packet)
        if next_header is None:
            version = packet[0] >> 4 if n else 0
            if version == 4:
                trailer = self._t4[n % self._align]
            elif version == 6:
                trailer = self._t6[n % self._align]
            else:
                return self._drop(Drop.MALFORMED)
            if self.selectors is not None and not self.selectors.outbound(packet):
                return self._drop(Drop.SELECTOR)
        else:
            trailer = _trailers(self._align, next_header)[n % self._align]
        seq = self.seq + 1
        if seq >= self._seq_alarm:
            if seq > self._seq_max:
                self._hard("sequence")
                self._set_alarms()
                return self._drop(Drop.SEQUENCE)
            self._seq_alarm = self._seq_max + 1
            self._soft("sequence")
        self.seq = seq
        out = self.transform.seal(_II.pack(self._spi_int, seq & SEQ_MAX_32),
                                  _I.pack(seq >> 32) if self.esn else b"", packet + trailer)
        self.packets += 1
        self.bytes += n
        if self.bytes >= self._alarm_bytes or self.packets >= self._alarm_packets:
            self._counted()
        return out


class InboundSa(_Sa):
    """Verifies and decapsulates ESP packets from the peer (RFC 4303 §3.4, tunnel mode).

    Order: length/alignment → replay check → ICV → window update → padding → next header →
    inner packet length (TFC padding after the inner packet is removed, §2.7) → selectors.
    """

    __slots__ = ("window", "selectors")

    def __init__(self, spi: bytes, transform: EspTransform, *, esn: bool = False,
                 child: ChildRef | None = None, lifetime: Lifetime = Lifetime(),
                 now: float = 0.0, events: list | None = None,
                 selectors: SelectorCheck | None = None, replay_window: int = 64) -> None:
        super().__init__(spi, transform, "in", esn=esn, child=child, lifetime=lifetime,
                         now=now, events=events)
        self.window = ReplayWindow(replay_window, self.esn)
        self.selectors = selectors

    def unprotect(self, packet: bytes | bytearray | memoryview
                  ) -> tuple[int, bytes | memoryview, int] | Drop:
        """RFC 4303 §3.4 up to the trailer: (next header, plaintext, payload length) or the
        Drop reason. The payload is ``plaintext[:payload length]``."""
        if self.expired:
            return self._drop(Drop.EXPIRED)
        t = self.transform
        n = len(packet)
        if n < t.min_len or (n - t.overhead) % t.align:
            return self._drop(Drop.MALFORMED)
        window = self.window
        seq = window.check(_I.unpack_from(packet, 4)[0])
        if seq < 0:
            return self._drop(Drop.REPLAY if seq == REPLAYED else Drop.OLD)
        plain = t.open(packet, _I.pack(seq >> 32) if self.esn else b"")
        if plain is None:
            return self._drop(Drop.ICV)
        window.accept(seq)
        m = len(plain)
        pad = plain[m - 2]
        end = m - 2 - pad
        if end < 0 or plain[end:m - 2] != _PAD[:pad]:
            return self._drop(Drop.PADDING)
        return plain[m - 1], plain, end

    def open(self, packet: bytes | bytearray | memoryview) -> bytes | Drop:
        """The inner IP packet of an ESP packet for this SA, or the Drop reason."""
        result = self.unprotect(packet)
        if type(result) is not tuple:
            return result  # type: ignore[return-value]
        next_header, plain, end = result
        if next_header == NEXT_IPV4:
            if end < 20 or plain[0] >> 4 != 4:
                return self._drop(Drop.MALFORMED)
            length = (plain[2] << 8) | plain[3]
            if length < 20 or length > end:
                return self._drop(Drop.MALFORMED)
        elif next_header == NEXT_IPV6:
            if end < 40 or plain[0] >> 4 != 6:
                return self._drop(Drop.MALFORMED)
            length = 40 + ((plain[4] << 8) | plain[5])
            if length > end:
                return self._drop(Drop.MALFORMED)
        elif next_header == NEXT_DUMMY:
            return self._drop(Drop.DUMMY)
        else:
            return self._drop(Drop.NEXT_HEADER)
        inner = bytes(plain[:length])
        if self.selectors is not None and not self.selectors.inbound(inner):
            return self._drop(Drop.SELECTOR)
        self.packets += 1
        self.bytes += length
        if self.bytes >= self._alarm_bytes or self.packets >= self._alarm_packets:
            self._counted()
        return inner
