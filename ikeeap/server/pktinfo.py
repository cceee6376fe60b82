"""UDP on a wildcard address (0.0.0.0, ::) that knows where each datagram was sent to.

NAT detection (RFC 7296 §2.23) hashes the address the peer wrote to, and the answer must
leave from that address (a multi-homed host would otherwise answer from another one).
Twisted's UDP port reads with recvfrom, which loses the destination; this port reads with
recvmsg and IP_PKTINFO / IPV6_RECVPKTINFO and answers with sendmsg carrying the source in the
same ancillary data, as strongSwan does.  Linux only (the constants are Linux's).
"""

from __future__ import annotations

import errno
import ipaddress
import logging
import socket
import struct
from collections.abc import Callable

from twisted.internet.abstract import FileDescriptor

log = logging.getLogger("ikeeap.server")

Address = tuple[str, int]
IP_PKTINFO = getattr(socket, "IP_PKTINFO", 8)  # Python 3.11 lacks the name; Linux value
_IN_PKTINFO = struct.Struct("=I4s4s")  # ifindex, spec_dst (source to use), addr (destination)
_IN6_PKTINFO = struct.Struct("=16sI")  # addr, ifindex
_MAX_DATAGRAM = 65535
_READS_PER_WAKEUP = 64  # fairness: other sockets get their turn under a flood


def is_wildcard(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return False


class PktinfoUdpPort(FileDescriptor):
    """A bound UDP socket on the reactor; ``deliver(data, local, remote)`` gets the real
    destination as ``local``; :meth:`send` answers from a given local address."""

    def __init__(self, reactor: object, host: str, port: int,
                 deliver: Callable[[bytes, Address, Address], None]) -> None:
        super().__init__(reactor)
        self.v6 = ipaddress.ip_address(host).version == 6
        self.sock = socket.socket(socket.AF_INET6 if self.v6 else socket.AF_INET,
                                  socket.SOCK_DGRAM)
        try:
            if self.v6:  # "::" and "0.0.0.0" may then both be bound on one port
                self.sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                self.sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVPKTINFO, 1)
            else:
                self.sock.setsockopt(socket.IPPROTO_IP, IP_PKTINFO, 1)
            self.sock.setblocking(False)
            self.sock.bind((host, port))
        except OSError:
            self.sock.close()
            raise
        self.port = self.sock.getsockname()[1]
        self._deliver = deliver
        self._cmsg_space = socket.CMSG_SPACE(_IN6_PKTINFO.size if self.v6 else _IN_PKTINFO.size)
        self.startReading()

    def fileno(self) -> int:
        return self.sock.fileno()

    def logPrefix(self) -> str:  # noqa: N802 (Twisted API)
        return "PktinfoUdpPort"

    def doRead(self) -> None:  # noqa: N802 (Twisted API)
        for _ in range(_READS_PER_WAKEUP):
            try:
                data, ancdata, _flags, source = self.sock.recvmsg(_MAX_DATAGRAM,
                                                                   self._cmsg_space)
            except BlockingIOError:
                return
            except OSError as exc:  # ICMP errors surface here on Linux: not fatal
                if exc.errno not in (errno.ECONNREFUSED, errno.EHOSTUNREACH,
                                     errno.ENETUNREACH):
                    log.warning("receive on port %d failed: %s", self.port, exc)
                continue
            destination = self._destination(ancdata)
            if destination is None:
                log.debug("datagram without destination address dropped")
                continue
            self._deliver(data, (destination, self.port), (source[0], source[1]))

    def send(self, data: bytes, local: Address, remote: Address) -> None:
        """Send from ``local``'s address (the one the peer wrote to)."""
        try:
            self.sock.sendmsg([data], [self._source(local[0])], 0, remote)
        except OSError as exc:  # full buffer, unreachable: the peer retransmits
            log.warning("send to %s:%d failed: %s", remote[0], remote[1], exc)

    def stopListening(self) -> None:  # noqa: N802 (the name Twisted's ports have)
        self.stopReading()
        self.sock.close()

    def _destination(self, ancdata: list[tuple[int, int, bytes]]) -> str | None:
        for level, kind, value in ancdata:
            if not self.v6 and level == socket.IPPROTO_IP and kind == IP_PKTINFO \
                    and len(value) >= _IN_PKTINFO.size:
                return socket.inet_ntop(socket.AF_INET, _IN_PKTINFO.unpack_from(value)[2])
            if self.v6 and level == socket.IPPROTO_IPV6 and kind == socket.IPV6_PKTINFO \
                    and len(value) >= _IN6_PKTINFO.size:
                return socket.inet_ntop(socket.AF_INET6, _IN6_PKTINFO.unpack_from(value)[0])
        return None

    def _source(self, address: str) -> tuple[int, int, bytes]:
        if self.v6:
            return (socket.IPPROTO_IPV6, socket.IPV6_PKTINFO,
                    _IN6_PKTINFO.pack(socket.inet_pton(socket.AF_INET6, address), 0))
        return (socket.IPPROTO_IP, IP_PKTINFO,
                _IN_PKTINFO.pack(0, socket.inet_pton(socket.AF_INET, address), bytes(4)))
