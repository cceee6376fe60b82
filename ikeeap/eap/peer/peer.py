"""A small EAP peer: answers whole Request packets for the test initiator."""

from __future__ import annotations

from collections.abc import Sequence

from ikeeap.eap.packet import EapPacket, EapType
from ikeeap.eap.peer.frame import PeerFrame
from ikeeap.eap.peer.methods import EapPeerMethod, GtcPeer, Md5Peer, MsChapV2Peer, PeerError
from ikeeap.eap.peer.pwd import CommitTamper, PwdPeer

SUPPORTED = (EapType.MSCHAPV2, EapType.MD5, EapType.GTC, EapType.PWD)


class EapPeer(PeerFrame):
    """Identity, Nak (for types not in ``allowed_types``), MD5, GTC and MSCHAPv2.

    ``respond(packet)`` (see :class:`PeerFrame`) returns the Response to send, or None after
    Success/Failure; it raises :class:`PeerError` for anything it cannot answer.
    """

    def __init__(
        self,
        identity: bytes | str,
        password: str,
        allowed_types: Sequence[int] = SUPPORTED,
        gtc_username: bool = False,
        pwd_tamper_commit: CommitTamper | None = None,  # tests: play a hostile EAP-pwd peer
    ) -> None:
        self.identity = identity.encode("utf-8") if isinstance(identity, str) else identity
        self._password = password
        unknown = [t for t in allowed_types if t not in SUPPORTED]
        if unknown:
            raise ValueError(f"peer cannot do EAP types {unknown}")
        self.allowed_types = [EapType(t) for t in allowed_types]
        self._gtc_username = gtc_username
        self._pwd_tamper = pwd_tamper_commit

    def _answer(self, eap: EapPacket) -> tuple[int, bytes]:
        eap_type = eap.type
        if eap_type == EapType.IDENTITY:
            return EapType.IDENTITY, self.identity
        if eap_type == EapType.NOTIFICATION:
            return EapType.NOTIFICATION, b""
        if self.method is not None and self.method.eap_type == eap_type:
            return eap_type, self.method.process(eap.data, eap.identifier)
        if self.method is not None:
            raise PeerError(f"server switched to type {eap_type} mid-method")
        if eap_type not in self.allowed_types:
            return EapType.NAK, bytes(self.allowed_types) or b"\x00"
        self.method = self._new_method(EapType(eap_type))
        return eap_type, self.method.process(eap.data, eap.identifier)

    def _new_method(self, eap_type: EapType) -> EapPeerMethod:
        if eap_type == EapType.MD5:
            return Md5Peer(self._password)
        if eap_type == EapType.PWD:
            return PwdPeer(self.identity, self._password, self._pwd_tamper)
        if eap_type == EapType.GTC:
            return GtcPeer(self._password, self.identity if self._gtc_username else None)
        return MsChapV2Peer(self.identity, self._password)

