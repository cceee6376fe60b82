"""A wildcard UDP socket sees each datagram's destination and answers from it: on 0.0.0.0,
a datagram sent to 127.0.0.2 is delivered with local 127.0.0.2 and the answer comes from
127.0.0.2 (NAT detection hashes the real address; RFC 7296 §2.23)."""

from __future__ import annotations

import socket
import time

import pytest

from ikeeap.server.pktinfo import PktinfoUdpPort, is_wildcard


class ReaderReactor:
    """Only what FileDescriptor.startReading/stopReading touch; reads are driven by hand."""

    def __init__(self) -> None:
        self.readers: set = set()

    def addReader(self, reader) -> None:  # noqa: N802 (Twisted API)
        self.readers.add(reader)

    def removeReader(self, reader) -> None:  # noqa: N802
        self.readers.discard(reader)


def _read(port: PktinfoUdpPort, got: list, want: int) -> None:
    deadline = time.monotonic() + 5
    while len(got) < want and time.monotonic() < deadline:
        port.doRead()
        time.sleep(0.01)


@pytest.mark.parametrize("family, wildcard, targets", [
    (socket.AF_INET, "0.0.0.0", ["127.0.0.1", "127.0.0.2"]),
    (socket.AF_INET6, "::", ["::1"]),
])
def test_destination_is_reported_and_answers_leave_from_it(family, wildcard, targets):
    got: list = []
    try:
        port = PktinfoUdpPort(ReaderReactor(), wildcard, 0, lambda *a: got.append(a))
    except OSError as exc:  # a machine without IPv6 on loopback
        pytest.skip(f"cannot bind {wildcard}: {exc}")
    try:
        for target in targets:
            with socket.socket(family, socket.SOCK_DGRAM) as client:
                client.settimeout(5)
                client.sendto(b"hello", (target, port.port))
                _read(port, got, 1)
                data, local, remote = got.pop()
                assert data == b"hello" and local == (target, port.port)
                port.send(b"answer", local, remote)
                answer, source = client.recvfrom(100)
                assert answer == b"answer" and source[0] == target  # not another address
    finally:
        port.stopListening()


def test_v6_wildcard_leaves_ipv4_to_a_v4_socket():
    """IPV6_V6ONLY: "::" and "0.0.0.0" can both be bound on one port."""
    v4 = PktinfoUdpPort(ReaderReactor(), "0.0.0.0", 0, lambda *a: None)
    try:
        v6 = PktinfoUdpPort(ReaderReactor(), "::", v4.port, lambda *a: None)
    except OSError as exc:
        v4.stopListening()
        pytest.skip(f"no IPv6: {exc}")
    v6.stopListening()
    v4.stopListening()


def test_is_wildcard():
    assert is_wildcard("0.0.0.0") and is_wildcard("::")
    assert not is_wildcard("127.0.0.1") and not is_wildcard("vpn.example.org")
