"""check-config --probe: one verdict per server, from a real UDP exchange on loopback."""

from __future__ import annotations

import socket
import threading

from ikeeap.backends.radius import codec
from ikeeap.backends.radius.config import RadiusServerConfig
from ikeeap.probe import probe_radius

SECRET = b"probe-secret"


def _responder(answer: bool, with_ma: bool = False, secret: bytes = SECRET):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(5)

    def serve() -> None:
        try:
            raw, peer = sock.recvfrom(4096)
        except OSError:
            return
        if answer:  # like stock FreeRADIUS: an Accept, no Message-Authenticator
            reply = codec.decode(raw, secret).CreateReply(message_authenticator=with_ma)
            reply.code = codec.ACCESS_ACCEPT
            sock.sendto(bytes(reply.ReplyPacket()), peer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return sock, thread


def _server(port: int) -> RadiusServerConfig:
    return RadiusServerConfig("127.0.0.1", port, SECRET, timeout=0.3, retries=0)


def test_an_answering_server_is_ok():
    sock, thread = _responder(answer=True)
    with sock:
        result = probe_radius(_server(sock.getsockname()[1]))
        thread.join(5)
    assert result.ok and "Status-Server answered" in result.line()


def test_a_wrong_secret_is_named():
    sock, thread = _responder(answer=True, with_ma=True, secret=b"other")
    with sock:
        result = probe_radius(_server(sock.getsockname()[1]))
        thread.join(5)
    assert not result.ok and "reply dropped: bad Response Authenticator" in result.detail


def test_a_silent_server_fails_with_a_hint():
    sock, thread = _responder(answer=False)
    with sock:
        result = probe_radius(_server(sock.getsockname()[1]))
        thread.join(5)
    assert not result.ok and result.line().startswith("probe radius 127.0.0.1:")
    assert "no answer within 0.3 s x 1" in result.detail
