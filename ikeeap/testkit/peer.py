"""A generic EAP peer for the method-author kit: hosts the peer side of a new method.

The author writes only the method's own conversation (the same shape as the built-in peer
methods in :mod:`ikeeap.eap.peer.methods`)::

    class EchoPeer:
        eap_type = 200
        def __init__(self, identity: bytes, password: str) -> None:
            self.done = False
        def process(self, type_data: bytes, identifier: int) -> bytes:
            self.done = True                 # our side of the method completed
            return type_data                 # Type-Data of the Response
        def msk(self) -> bytes | None:
            return None

:class:`KitPeer` answers Identity and Notification, Naks types it has no method for,
and accepts EAP-Success only after the method said ``done``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from ikeeap.eap.packet import EapCode, EapPacket, EapParseError, EapType, parse_eap
from ikeeap.eap.peer.methods import PeerError


class PeerMethod(Protocol):
    """Peer side of one EAP method (see :mod:`ikeeap.eap.peer.methods`)."""

    eap_type: int
    done: bool  # set once the method's own exchange completed on the peer side

    def process(self, type_data: bytes, identifier: int) -> bytes: ...
    def msk(self) -> bytes | None: ...


# (EAP identity, password) -> a fresh peer method for one login
PeerMethodFactory = Callable[[bytes, str], PeerMethod]


class KitPeer:
    """The EAP peer the in-memory initiator uses when ``InitiatorConfig.eap_peer`` is set."""

    def __init__(self, identity: bytes, password: str,
                 method_factories: Sequence[PeerMethodFactory]) -> None:
        self.identity = identity
        self._methods = {}
        for make in method_factories:
            method = make(identity, password)
            self._methods[int(method.eap_type)] = method
        self.method: PeerMethod | None = None
        self.succeeded = False
        self.failed = False

    def respond(self, packet: bytes) -> bytes | None:
        """The Response to a Request, None after Success/Failure; PeerError otherwise."""
        try:
            eap = parse_eap(packet)
        except EapParseError as exc:
            raise PeerError(f"malformed EAP packet: {exc}") from exc
        if eap.code == EapCode.SUCCESS:
            if self.method is None or not self.method.done:
                raise PeerError("EAP-Success before the method completed")
            self.succeeded = True
            return None
        if eap.code == EapCode.FAILURE:
            self.failed = True
            return None
        if eap.code != EapCode.REQUEST or eap.type is None:
            raise PeerError("expected an EAP Request")
        return EapPacket(EapCode.RESPONSE, eap.identifier, *self._answer(eap)).encode()

    def msk(self) -> bytes | None:
        if not self.succeeded or self.method is None:
            return None
        return self.method.msk()

    def _answer(self, eap: EapPacket) -> tuple[int, bytes]:
        eap_type = int(eap.type or 0)
        if eap_type == EapType.IDENTITY:
            return eap_type, self.identity
        if eap_type == EapType.NOTIFICATION:
            return eap_type, b""
        method = self._methods.get(eap_type)
        if method is None:
            if self.method is not None:
                raise PeerError(f"server switched to type {eap_type} mid-method")
            return EapType.NAK, bytes(sorted(self._methods)) or b"\x00"
        self.method = method
        return eap_type, method.process(eap.data, eap.identifier)


def peer_with(*method_factories: PeerMethodFactory) -> Callable[[bytes, str], KitPeer]:
    """The ``InitiatorConfig.eap_peer`` value for a peer offering these methods."""

    def make(identity: bytes, password: str) -> KitPeer:
        return KitPeer(identity, password, method_factories)

    return make
