"""Twisted UDP adapter for the sans-I/O RADIUS front (``ikeeap radius-front``)."""

from __future__ import annotations

import logging
import sys
from typing import Any

from twisted.internet import defer
from twisted.internet.error import CannotListenError
from twisted.internet.protocol import DatagramProtocol

from ..backends.radius.front import RadiusFront
from ..bootstrap import Checked
from ..eap.authenticator import EapAuthenticator
from ..eap.method import EapContext
from ..runtime import EapFactory, build_providers
from .blocking import BlockingPools

log = logging.getLogger("ikeeap.radius.front")


class RadiusFrontProtocol(DatagramProtocol):
    """Hands each datagram to the front; EAP steps run as Deferreds, never blocking."""

    def __init__(self, front: RadiusFront, reactor: Any) -> None:
        self.front = front
        self.reactor = reactor

    def datagramReceived(self, data: bytes, addr: Any) -> None:
        remote = (addr[0], addr[1])
        d = defer.ensureDeferred(self.front.handle(data, remote, self.reactor.seconds()))
        d.addCallback(self._send, remote)
        d.addErrback(lambda f: log.error("RADIUS front failed: %s", f.getTraceback()))

    def _send(self, reply: bytes | None, remote: tuple[str, int]) -> None:
        if reply is None or self.transport is None:
            return
        try:
            self.transport.write(reply, remote)
        except OSError as exc:
            log.warning("send to %s:%d failed: %s", remote[0], remote[1], exc)


PASS_THROUGH = "radius"  # the method name of the RADIUS pass-through backend


def run_radius_front(checked: Checked, listen: str, port: int, secret: bytes,
                     connection: str | None = None, reactor: Any = None) -> int:
    """``ikeeap radius-front``: EAP methods and providers built exactly like ``serve``."""
    config, registry = checked.config, checked.registry
    if reactor is None:
        from twisted.internet import reactor as global_reactor  # only when run for real
        reactor = global_reactor
    eap_connections = [c for c in config.connections if c.auth == "eap"]
    chosen = next((c for c in eap_connections if connection in (None, c.name)), None)
    if chosen is None:
        print(f"radius-front: no EAP connection {connection or ''!r} in {config.path}")
        return 2
    if PASS_THROUGH in chosen.eap_methods:
        # The pass-through needs serve's RADIUS client and its accounting; a RADIUS front
        # relaying to RADIUS would only be a proxy with one more secret in between.
        print(f"radius-front: connection {chosen.name!r} relays EAP to a RADIUS server "
              f"(eap_methods {list(chosen.eap_methods)}): radius-front hosts local methods "
              "only; point the RADIUS client at the [radius] servers themselves, or choose "
              "another connection with --connection", file=sys.stderr)
        return 2
    factory = EapFactory(config, registry,
                         build_providers(config, blocking_pools=BlockingPools(reactor)))

    def make_authenticator(first_identifier: int, remote: tuple[str, int]) -> EapAuthenticator:
        context = EapContext(peer=f"{remote[0]}:{remote[1]}", providers=factory.providers)
        return factory.authenticator_for(chosen.name, context, identity_round=True,
                                         first_identifier=first_identifier,
                                         outer_identity=chosen.outer_identity)

    front = RadiusFront(secret, make_authenticator)
    try:
        bound = reactor.listenUDP(port, RadiusFrontProtocol(front, reactor), interface=listen)
    except CannotListenError as exc:
        print(f"radius-front: {exc}")
        return 1
    print(f"ikeeap radius-front listening on {listen}:{bound.getHost().port}/udp "
          f"(connection {chosen.name!r}: {', '.join(chosen.eap_methods)})", flush=True)
    reactor.run()
    return 0
