"""Virtual IPv4 address pool for CP INTERNAL_IP4_ADDRESS; an identity keeps its address."""

from __future__ import annotations

import ipaddress


class AddressPool:
    def __init__(self, network: ipaddress.IPv4Network):
        self.network = network
        self._free = iter(network.hosts())
        self._released: list[ipaddress.IPv4Address] = []
        self._by_identity: dict[str, ipaddress.IPv4Address] = {}
        self._leased: dict[ipaddress.IPv4Address, int] = {}

    def acquire(self, identity: str) -> ipaddress.IPv4Address | None:
        """An address for ``identity`` (the same one it had, if still known); None if exhausted."""
        addr = self._by_identity.get(identity)
        if addr is None:
            addr = self._next_free()
            if addr is None:
                return None
            self._by_identity[identity] = addr
        self._leased[addr] = self._leased.get(addr, 0) + 1
        return addr

    def release(self, addr: ipaddress.IPv4Address) -> None:
        count = self._leased.get(addr, 0) - 1
        if count > 0:
            self._leased[addr] = count
            return
        self._leased.pop(addr, None)

    def reserve(self, identity: str, addr: ipaddress.IPv4Address) -> bool:
        """Lease ``addr`` to ``identity`` (a config reload carrying an established SA's
        address over to the new pool); False if it is outside this pool."""
        if addr not in self.network:
            return False
        self._by_identity.setdefault(identity, addr)
        self._leased[addr] = self._leased.get(addr, 0) + 1
        return True

    def _next_free(self) -> ipaddress.IPv4Address | None:
        for addr in self._free:
            if addr not in self._leased:  # reserved by reserve()
                return addr
        # Reuse an address nobody leases, forgetting its earlier owner.
        for identity, addr in list(self._by_identity.items()):
            if addr not in self._leased:
                del self._by_identity[identity]
                return addr
        return None

    @property
    def leased(self) -> int:
        return len(self._leased)
