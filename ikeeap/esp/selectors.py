"""Traffic selectors of a Child SA as the data plane checks them (RFC 4301 §5.2, RFC 7296 §2.9).

A decrypted inbound packet must come from the peer's selectors (TSi for the responder) and go
to ours (TSr); an outbound packet the other way round. ``Selector`` is an address range with an
optional protocol and port range; it is built from the strings `ikeeap.ike.child.describe`
writes into ChildSaEstablished (``10.0.0.1/32``, ``10.0.0.1-10.0.0.9``, ``0.0.0.0/0[6/80-80]``)
or from a wire TrafficSelector.

Ports are those of TCP, UDP, UDP-Lite, SCTP and DCCP; for ICMP, ICMPv6 and the Mobility Header
the 16-bit value type << 8 | code stands for both ports (RFC 7296 §3.13.1). A packet whose
ports cannot be read (a non-initial fragment, a truncated header) matches only selectors that
allow every port.
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

__all__ = ["Selector", "SelectorCheck", "packet_flow", "parse_selector"]

_PORT_PROTOCOLS = frozenset({6, 17, 33, 132, 136})  # TCP, UDP, DCCP, SCTP, UDP-Lite
_TYPE_CODE_PROTOCOLS = frozenset({1, 58, 135})  # ICMP, ICMPv6, Mobility Header
_IPV6_EXTENSIONS = frozenset({0, 43, 60})  # hop-by-hop, routing, destination options
_H = struct.Struct("!H")
_HH = struct.Struct("!HH")
_II = struct.Struct("!II")


class _WireSelector(Protocol):
    ts_type: int
    ip_protocol: int
    start_port: int
    end_port: int
    start_addr: bytes
    end_addr: bytes


@dataclass(frozen=True, slots=True)
class Selector:
    """Addresses ``start``..``end`` (as integers) of IP ``version``; protocol 0 = any."""

    version: int
    start: int
    end: int
    protocol: int = 0
    start_port: int = 0
    end_port: int = 65535

    @property
    def any_port(self) -> bool:
        return self.start_port == 0 and self.end_port == 65535

    @classmethod
    def from_wire(cls, ts: _WireSelector) -> Selector:
        """From a TS payload's TrafficSelector (ikeeap.wire.payloads)."""
        version = 4 if len(ts.start_addr) == 4 else 6
        return cls(version, int.from_bytes(ts.start_addr, "big"),
                   int.from_bytes(ts.end_addr, "big"), ts.ip_protocol, ts.start_port,
                   ts.end_port)

    def __str__(self) -> str:
        start, end = _address(self.version, self.start), _address(self.version, self.end)
        nets = list(ipaddress.summarize_address_range(start, end))
        text = str(nets[0]) if len(nets) == 1 else f"{start}-{end}"
        if self.protocol or not self.any_port:
            text += f"[{self.protocol}/{self.start_port}-{self.end_port}]"
        return text


def _address(version: int, value: int) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    return ipaddress.IPv4Address(value) if version == 4 else ipaddress.IPv6Address(value)


def parse_selector(text: str) -> Selector:
    """``net``, ``addr``, ``start-end``, each optionally followed by ``[proto/lo-hi]``."""
    text = text.strip()
    protocol, start_port, end_port = 0, 0, 65535
    if text.endswith("]") and "[" in text:
        text, _, rest = text[:-1].partition("[")
        proto_text, _, ports = rest.partition("/")
        protocol = int(proto_text)
        if ports:
            lo, _, hi = ports.partition("-")
            start_port, end_port = int(lo), int(hi or lo)
        if not (0 <= protocol <= 255 and 0 <= start_port <= end_port <= 65535):
            raise ValueError(f"bad protocol or ports in selector {text!r}")
    if "-" in text:
        lo_text, _, hi_text = text.partition("-")
        lo, hi = ipaddress.ip_address(lo_text.strip()), ipaddress.ip_address(hi_text.strip())
        if lo.version != hi.version or int(lo) > int(hi):
            raise ValueError(f"bad address range {text!r}")
        return Selector(lo.version, int(lo), int(hi), protocol, start_port, end_port)
    net = ipaddress.ip_network(text, strict=False)
    return Selector(net.version, int(net.network_address), int(net.broadcast_address),
                    protocol, start_port, end_port)


def packet_flow(packet: bytes | memoryview) -> tuple[int, int, int, int, int, int] | None:
    """(version, source, destination, protocol, source port, destination port) of an IP
    packet; ports are -1 when unreadable. None when the header is not a whole IP header."""
    n = len(packet)
    if n < 20:
        return None
    version = packet[0] >> 4
    if version == 4:
        ihl = (packet[0] & 15) * 4
        if ihl < 20 or n < ihl:
            return None
        protocol = packet[9]
        src = int.from_bytes(packet[12:16], "big")
        dst = int.from_bytes(packet[16:20], "big")
        offset = ihl if (_H.unpack_from(packet, 6)[0] & 0x1FFF) == 0 else -1
    elif version == 6:
        if n < 40:
            return None
        src = int.from_bytes(packet[8:24], "big")
        dst = int.from_bytes(packet[24:40], "big")
        protocol, offset = packet[6], 40
        while protocol in _IPV6_EXTENSIONS or protocol == 44:
            if offset + 8 > n:
                return (6, src, dst, protocol, -1, -1)
            if protocol == 44:  # fragment header: ports only in the first fragment
                first = (_H.unpack_from(packet, offset + 2)[0] & 0xFFF8) == 0
                protocol, offset = packet[offset], (offset + 8 if first else -1)
                if offset < 0:
                    break
            else:
                protocol, offset = packet[offset], offset + (packet[offset + 1] + 1) * 8
    else:
        return None
    if offset >= 0 and offset + 4 <= n:
        if protocol in _PORT_PROTOCOLS:
            sport, dport = _HH.unpack_from(packet, offset)
            return (version, src, dst, protocol, sport, dport)
        if protocol in _TYPE_CODE_PROTOCOLS:
            type_code = _H.unpack_from(packet, offset)[0]
            return (version, src, dst, protocol, type_code, type_code)
    return (version, src, dst, protocol, -1, -1)


def _matches(selectors: Sequence[Selector], version: int, addr: int, protocol: int,
             port: int) -> bool:
    for s in selectors:
        if s.version != version or not s.start <= addr <= s.end:
            continue
        if s.protocol and s.protocol != protocol:
            continue
        if s.any_port or s.start_port <= port <= s.end_port:  # port -1 matches any-port only
            return True
    return False


class SelectorCheck:
    """The selectors of one Child SA: ``remote`` (the peer's side, packet sources inbound) and
    ``local`` (our side). For the responder remote = TSi, local = TSr."""

    __slots__ = ("remote", "local", "_fast_in", "_fast_out")

    def __init__(self, remote: Iterable[Selector | str], local: Iterable[Selector | str]
                 ) -> None:
        self.remote = tuple(s if isinstance(s, Selector) else parse_selector(s) for s in remote)
        self.local = tuple(s if isinstance(s, Selector) else parse_selector(s) for s in local)
        # The usual remote-access case: one IPv4 range each way, any protocol and port.
        self._fast_in = self._fast_out = None
        if len(self.remote) == 1 and len(self.local) == 1:
            r, lo = self.remote[0], self.local[0]
            if (r.version == lo.version == 4 and not r.protocol and not lo.protocol
                    and r.any_port and lo.any_port):
                self._fast_in = (r.start, r.end, lo.start, lo.end)
                self._fast_out = (lo.start, lo.end, r.start, r.end)

    def inbound(self, packet: bytes | memoryview) -> bool:
        """Does a decrypted packet from the peer match (source remote, destination local)?"""
        fast = self._fast_in
        if fast is not None and len(packet) >= 20 and packet[0] >> 4 == 4:
            src, dst = _II.unpack_from(packet, 12)
            return fast[0] <= src <= fast[1] and fast[2] <= dst <= fast[3]
        return self._check(packet, self.remote, self.local)

    def outbound(self, packet: bytes | memoryview) -> bool:
        """Does a packet to the peer match (source local, destination remote)?"""
        fast = self._fast_out
        if fast is not None and len(packet) >= 20 and packet[0] >> 4 == 4:
            src, dst = _II.unpack_from(packet, 12)
            return fast[0] <= src <= fast[1] and fast[2] <= dst <= fast[3]
        return self._check(packet, self.local, self.remote)

    @staticmethod
    def _check(packet: bytes | memoryview, sources: Sequence[Selector],
               destinations: Sequence[Selector]) -> bool:
        flow = packet_flow(packet)
        if flow is None:
            return False
        version, src, dst, protocol, sport, dport = flow
        return (_matches(sources, version, src, protocol, sport)
                and _matches(destinations, version, dst, protocol, dport))

    def single_remote_addresses(self) -> list[bytes]:
        """The peer addresses that are whole selectors on their own (a virtual IP's /32 or
        /128): keys for the outbound lookup by destination."""
        out = []
        for s in self.remote:
            if s.start == s.end:
                out.append(s.start.to_bytes(4 if s.version == 4 else 16, "big"))
        return out
