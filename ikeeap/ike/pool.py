"""Virtual IPv4 address pool for CP INTERNAL_IP4_ADDRESS.

Rules (what users of a VPN gateway expect):

- never handed out: the network and broadcast addresses, and every ``reserved`` address
  (the connection's DNS servers, the gateway's own address on the data plane);
- concurrent SAs always get distinct addresses, even for one identity (two devices of one
  user must not share an address once traffic flows);
- an identity that reconnects after its SA is gone gets its previous address back while
  nobody else took it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable


class AddressPool:
    def __init__(self, network: ipaddress.IPv4Network,
                 reserved: Iterable[ipaddress.IPv4Address] = ()):
        self.network = network
        self.reserved = frozenset(a for a in reserved if a in network)
        self._fresh = iter(network.hosts())  # hosts() skips network and broadcast
        self._last: dict[str, ipaddress.IPv4Address] = {}  # identity -> its previous address
        self._owner: dict[ipaddress.IPv4Address, str] = {}  # the reverse of _last
        self._returned: list[ipaddress.IPv4Address] = []  # released, remembered by nobody
        self._leased: set[ipaddress.IPv4Address] = set()

    def acquire(self, identity: str) -> ipaddress.IPv4Address | None:
        """A free address for ``identity``, its previous one if free; None if exhausted."""
        addr = self._last.get(identity)
        if addr is None or addr in self._leased:
            addr = self._next_free()
            if addr is None:
                return None
            self._remember(identity, addr)
        self._leased.add(addr)
        return addr

    def release(self, addr: ipaddress.IPv4Address) -> None:
        self._leased.discard(addr)
        if addr not in self._owner and addr in self.network:
            self._returned.append(addr)

    def reserve(self, identity: str, addr: ipaddress.IPv4Address) -> bool:
        """Lease ``addr`` to ``identity`` (a config reload carrying an established SA's
        address over to the new pool); False if this pool cannot hand it out."""
        if addr not in self.network or addr in self.reserved or addr in self._leased:
            return False
        if identity not in self._last:
            self._remember(identity, addr)
        self._leased.add(addr)
        return True

    def _remember(self, identity: str, addr: ipaddress.IPv4Address) -> None:
        """``addr`` is now the address ``identity`` gets back on its next login."""
        previous = self._last.get(identity)
        if previous is not None:
            del self._owner[previous]
            if previous not in self._leased:
                self._returned.append(previous)
        former_owner = self._owner.get(addr)
        if former_owner is not None:
            del self._last[former_owner]
        self._last[identity], self._owner[addr] = addr, identity

    def _next_free(self) -> ipaddress.IPv4Address | None:
        for addr in self._fresh:
            if addr not in self._leased and addr not in self.reserved:
                return addr
        while self._returned:
            addr = self._returned.pop()
            if addr not in self._leased and addr not in self._owner:
                return addr
        # Every address has an owner: take one nobody leases, forgetting its owner.
        return next((a for a in self._owner if a not in self._leased), None)

    @property
    def leased(self) -> int:
        return len(self._leased)


def addresses_in(texts: Iterable[str]) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses among configured strings (e.g. a connection's DNS servers)."""
    found = []
    for text in texts:
        try:
            found.append(ipaddress.IPv4Address(text))
        except ValueError:
            continue  # IPv6 DNS servers or names: nothing to keep out of an IPv4 pool
    return found
