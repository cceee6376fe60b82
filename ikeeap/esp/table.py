"""The SA database of the userspace data plane: inbound SAs by SPI, outbound SAs by the
destination address of the inner packet (a client's virtual IP, from its TSi).

After a rekey both Child SAs are in the table: the new one takes over the outbound route,
the old one keeps receiving until it is removed (RFC 7296 §2.8: the old SPIs stay valid until
deleted). Drops that belong to no SA (unknown SPI, no route) are counted here.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

from .child import EspChild
from .events import Drop, HardExpired, RekeyDue
from .sa import InboundSa, OutboundSa

__all__ = ["EspTable"]

_I = struct.Struct("!I")


class EspTable:
    """SPI → inbound SA and destination → outbound SA, plus the shared event list."""

    __slots__ = ("events", "drops", "_inbound", "_routes", "_ranged", "_children")

    def __init__(self) -> None:
        self.events: list[RekeyDue | HardExpired] = []
        self.drops: dict[Drop, int] = {Drop.UNKNOWN_SPI: 0, Drop.MALFORMED: 0,
                                       Drop.NO_ROUTE: 0}
        self._inbound: dict[int, InboundSa] = {}
        self._routes: dict[bytes, EspChild] = {}  # packed single address → child
        self._ranged: list[EspChild] = []  # children whose TSi is wider than one address
        self._children: dict[int, EspChild] = {}  # inbound SPI → child

    # -- membership --------------------------------------------------------------------------

    def add(self, child: EspChild) -> None:
        """Install a Child SA; it becomes the outbound route for its peer addresses. Its SAs
        report into this table's ``events`` from now on."""
        spi = _I.unpack(child.inbound.spi)[0]
        if spi in self._inbound:
            raise ValueError(f"inbound SPI {child.inbound.spi.hex()} already installed")
        child.inbound.events = child.outbound.events = self.events
        self._inbound[spi] = child.inbound
        self._children[spi] = child
        addresses = child.selectors.single_remote_addresses()
        for addr in addresses:
            self._routes[addr] = child
        if len(addresses) < len(child.selectors.remote):
            self._ranged.insert(0, child)  # newest first

    def remove(self, child: EspChild) -> None:
        """Uninstall a Child SA (deleted, expired, or its IKE SA gone); an outbound route
        that a newer Child SA took over stays with the newer one."""
        spi = _I.unpack(child.inbound.spi)[0]
        if self._children.get(spi) is not child:
            return
        del self._inbound[spi], self._children[spi]
        for addr, owner in list(self._routes.items()):
            if owner is child:
                del self._routes[addr]
                # fall back to an older Child SA for the same address, if one is left
                for other in self._children.values():
                    if addr in other.selectors.single_remote_addresses():
                        self._routes[addr] = other
        self._ranged = [c for c in self._ranged if c is not child]

    def remove_ike_sa(self, sa_id: str) -> list[EspChild]:
        """Uninstall every Child SA of an IKE SA (deleted or expired); returns them."""
        gone = [c for c in self._children.values() if c.ref.sa_id == sa_id]
        for child in gone:
            self.remove(child)
        return gone

    def children(self) -> Iterator[EspChild]:
        return iter(list(self._children.values()))

    def child_by_spi(self, spi_in: bytes) -> EspChild | None:
        return self._children.get(_I.unpack(spi_in)[0]) if len(spi_in) == 4 else None

    def __len__(self) -> int:
        return len(self._children)

    # -- packets -----------------------------------------------------------------------------

    def inbound(self, esp_packet: bytes | bytearray | memoryview) -> InboundSa | None:
        """The SA for an ESP packet's SPI, or None."""
        if len(esp_packet) < 8:
            return None
        return self._inbound.get(_I.unpack_from(esp_packet, 0)[0])

    def open(self, esp_packet: bytes | bytearray | memoryview
             ) -> tuple[InboundSa | None, bytes | Drop]:
        """Decapsulate one ESP packet: (the SA or None, the inner packet or a Drop)."""
        if len(esp_packet) < 8:
            self.drops[Drop.MALFORMED] += 1
            return None, Drop.MALFORMED
        sa = self._inbound.get(_I.unpack_from(esp_packet, 0)[0])
        if sa is None:
            self.drops[Drop.UNKNOWN_SPI] += 1
            return None, Drop.UNKNOWN_SPI
        return sa, sa.open(esp_packet)

    def outbound(self, inner_packet: bytes | bytearray | memoryview) -> OutboundSa | None:
        """The outbound SA for an inner packet by its destination address, or None."""
        n = len(inner_packet)
        if n >= 20 and inner_packet[0] >> 4 == 4:
            child = self._routes.get(bytes(inner_packet[16:20]))
        elif n >= 40 and inner_packet[0] >> 4 == 6:
            child = self._routes.get(bytes(inner_packet[24:40]))
        else:
            return None
        if child is not None:
            return child.outbound
        for child in self._ranged:
            if child.selectors.outbound(inner_packet):
                return child.outbound
        return None

    def seal(self, inner_packet: bytes) -> tuple[OutboundSa | None, bytes | Drop]:
        """Protect one packet from the TUN side: (the SA or None, the ESP packet or a Drop).
        The SA's child tells the adapter where to send it (its IKE SA's peer address)."""
        sa = self.outbound(inner_packet)
        if sa is None:
            self.drops[Drop.NO_ROUTE] += 1
            return None, Drop.NO_ROUTE
        return sa, sa.seal(inner_packet)

    # -- time --------------------------------------------------------------------------------

    def poll(self, now: float) -> list[RekeyDue | HardExpired]:
        """Check time lifetimes of every SA; returns (and clears) all pending events."""
        for child in self._children.values():
            child.poll(now)
        out = list(self.events)
        self.events.clear()
        return out

    def next_deadline(self) -> float | None:
        times = [t for c in self._children.values() if (t := c.next_deadline()) is not None]
        return min(times, default=None)
