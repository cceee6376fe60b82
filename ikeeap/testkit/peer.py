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

from ikeeap.eap.packet import EapPacket, EapType
from ikeeap.eap.peer.frame import PeerFrame
from ikeeap.eap.peer.methods import EapPeerMethod, PeerError

# Peer side of one EAP method: the Protocol the built-in peer methods follow
PeerMethod = EapPeerMethod

# (EAP identity, password) -> a fresh peer method for one login
PeerMethodFactory = Callable[[bytes, str], PeerMethod]


class KitPeer(PeerFrame):
    """The EAP peer the in-memory initiator uses when ``InitiatorConfig.eap_peer`` is set."""

    def __init__(self, identity: bytes, password: str,
                 method_factories: Sequence[PeerMethodFactory]) -> None:
        self.identity = identity
        self._methods = {}
        for make in method_factories:
            method = make(identity, password)
            self._methods[int(method.eap_type)] = method

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
