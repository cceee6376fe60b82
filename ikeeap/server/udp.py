"""Twisted UDP transport for the responder: one protocol per bound (address, port)."""

from __future__ import annotations

import logging
from typing import Callable

from twisted.internet.protocol import DatagramProtocol

log = logging.getLogger("ikeeap.server")

Address = tuple[str, int]


class IkeDatagramProtocol(DatagramProtocol):
    """Only parses addresses and hands bytes on; all protocol work happens in the core."""

    def __init__(self, local: Address, deliver: Callable[[bytes, Address, Address], None]):
        self.local = local
        self._deliver = deliver

    def datagramReceived(self, data: bytes, addr: Address) -> None:  # noqa: N802 (Twisted API)
        self._deliver(data, self.local, (addr[0], addr[1]))

    def send(self, data: bytes, remote: Address) -> None:
        if self.transport is None:
            return
        try:
            self.transport.write(data, remote)
        except OSError as exc:  # e.g. unreachable network: log, the peer retransmits
            log.warning("send to %s:%d failed: %s", remote[0], remote[1], exc)
