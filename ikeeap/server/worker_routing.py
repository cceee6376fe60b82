"""How ``serve --workers N`` shares one address: every datagram of an IKE SA reaches the
worker that owns it (the process side is :mod:`ikeeap.server.workers`).

- Ownership: worker *w* draws every SPIr it creates (IKE_SA_INIT and IKE SA rekeys) so that
  ``SPIr[0] % N == w`` (:func:`owned_random`; the other 7 octets stay random).
- IKE_SA_INIT (SPIr zero) is handled by whichever worker the kernel picks; SO_REUSEPORT
  hashes the 4-tuple, so retransmits and COOKIE/INVALID_KE retries from the same source
  reach that same worker.
- Every other datagram (requests, responses to our liveness checks, and IKE after the
  switch to port 4500, whose 4-tuple hashes elsewhere) is routed by :func:`owner_of`; a
  worker that is not the owner forwards it over a local AF_UNIX datagram channel, and the
  owner answers from its own socket bound to the same address and port.
- Virtual-IP pools are split so workers never hand out the same address.
"""

from __future__ import annotations

import logging
import os
import socket
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from twisted.internet.interfaces import IReadDescriptor
from zope.interface import implementer  # type: ignore[import-untyped]

from ..ike.pool import AddressPool
from ..ike.settings import ResponderSettings
from .udp import IkeDatagramProtocol

log = logging.getLogger("ikeeap.workers")
Address = tuple[str, int]
_MARKER = b"\0\0\0\0"
_FRAME = struct.Struct("!H")


# ---- routing (pure) ---------------------------------------------------------------------

def owner_of(data: bytes, on_nat_port: bool, workers: int) -> int | None:
    """The worker owning this datagram's IKE SA; None when any worker may take it (a new
    IKE_SA_INIT, a NAT keepalive, or something too short to be IKE)."""
    offset = 4 if on_nat_port else 0
    if on_nat_port and data[:4] != _MARKER:
        return None
    spi_r = data[offset + 8:offset + 16]
    if len(spi_r) < 8 or spi_r == bytes(8):
        return None
    return spi_r[0] % workers


def owned_random(worker: int, workers: int,
                 random: Callable[[int], bytes] = os.urandom) -> Callable[[int], bytes]:
    """The Responder's random source for worker ``worker``: 8-octet draws are SPIs and get a
    first octet that names the owner; other sizes (nonces, cookie secrets) are untouched."""
    def draw(n: int) -> bytes:
        data = random(n)
        if n != 8:
            return data
        first = data[0] - data[0] % workers + worker
        if first > 255:
            first -= workers
        return bytes([first]) + data[1:]
    return draw


def split_pools(settings: ResponderSettings, worker: int, workers: int) -> None:
    """Give worker ``worker`` its own slice of every address pool."""
    extra_bits = (workers - 1).bit_length()
    for name, pool in list(settings.pools.items()):
        prefix = min(pool.network.max_prefixlen, pool.network.prefixlen + extra_bits)
        subnets = list(pool.network.subnets(new_prefix=prefix))
        settings.pools[name] = AddressPool(subnets[worker % len(subnets)], pool.reserved)


def encode_frame(data: bytes, local: Address, remote: Address) -> bytes:
    head = f"{local[0]} {local[1]} {remote[0]} {remote[1]}".encode()
    return _FRAME.pack(len(head)) + head + data


def decode_frame(frame: bytes) -> tuple[bytes, Address, Address]:
    (n,) = _FRAME.unpack_from(frame)
    lh, lp, rh, rp = frame[2:2 + n].decode().split(" ")
    return frame[2 + n:], (lh, int(lp)), (rh, int(rp))


# ---- one worker (Twisted) ---------------------------------------------------------------

class Router:
    """Takes each datagram first: handles owned ones, forwards the rest to their owner."""

    def __init__(self, index: int, count: int, service: Any, outboxes: list[socket.socket],
                 nat_port: int) -> None:
        self.index, self.count = index, count
        self.service = service
        self._outboxes = outboxes  # outboxes[w] delivers into worker w's inbox
        self._nat_port = nat_port
        self.forwarded = self.received_forwarded = 0

    def deliver(self, data: bytes, local: Address, remote: Address) -> None:
        owner = owner_of(data, local[1] == self._nat_port, self.count)
        if owner is None or owner == self.index:
            self.service._on_datagram(data, local, remote)
            return
        self.forwarded += 1
        try:
            self._outboxes[owner].send(encode_frame(data, local, remote))
        except OSError:  # channel full: dropped like any UDP datagram, the peer retransmits
            pass

    def from_worker(self, frame: bytes) -> None:
        self.received_forwarded += 1
        data, local, remote = decode_frame(frame)
        self.service._on_datagram(data, local, remote)

    def listen(self, reactor: Any, host: str, port: int) -> Address:
        """A SO_REUSEPORT socket on (host, port), registered with the service."""
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
        sock.setblocking(False)
        bound = (host, sock.getsockname()[1])
        proto = IkeDatagramProtocol(bound, self.deliver)
        listening = reactor.adoptDatagramPort(sock.fileno(), family, proto)
        sock.close()  # Twisted holds its own duplicate of the descriptor
        # ResponderService has no public "adopt a socket" yet: register like listen() does.
        self.service._protocols[bound] = proto
        self.service._ports.append(listening)
        return bound


def inbox_reader(sock: socket.socket, handle: Callable[[bytes], None]) -> Any:
    @implementer(IReadDescriptor)
    class Inbox:
        def fileno(self) -> int:
            return sock.fileno()

        def doRead(self) -> None:
            for _ in range(256):
                try:
                    frame = sock.recv(70000)
                except (BlockingIOError, InterruptedError):
                    return
                handle(frame)

        def connectionLost(self, reason: Any) -> None:
            pass

        def logPrefix(self) -> str:
            return "ikeeap-worker-inbox"

    return Inbox()


@dataclass(frozen=True)
class WorkerSlot:
    """Worker ``index`` of ``count``: its end of each channel between the workers."""

    index: int
    count: int
    inboxes: tuple[socket.socket, ...]   # inboxes[w]: what worker w reads
    outboxes: tuple[socket.socket, ...]  # outboxes[w]: writes into worker w's inbox

    def control_suffix(self) -> str:
        return f".w{self.index}"

