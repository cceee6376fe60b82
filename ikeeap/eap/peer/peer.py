"""A small EAP peer: answers whole Request packets for the test initiator."""

from __future__ import annotations

from collections.abc import Sequence

from ikeeap.eap.packet import EapCode, EapPacket, EapParseError, EapType, parse_eap
from ikeeap.eap.peer.methods import EapPeerMethod, GtcPeer, Md5Peer, MsChapV2Peer, PeerError
from ikeeap.eap.peer.pwd import CommitTamper, PwdPeer

SUPPORTED = (EapType.MSCHAPV2, EapType.MD5, EapType.GTC, EapType.PWD)


class EapPeer:
    """Identity, Nak (for types not in ``allowed_types``), MD5, GTC and MSCHAPv2.

    ``respond(packet)`` returns the Response to send, or None after Success/Failure; it
    raises :class:`PeerError` for anything it cannot answer.
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
        self.method: EapPeerMethod | None = None
        self.succeeded = False
        self.failed = False

    def respond(self, packet: bytes) -> bytes | None:
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
        return self._answer(eap).encode()

    def msk(self) -> bytes | None:
        """The method's MSK after EAP-Success (None for MD5/GTC)."""
        if not self.succeeded or self.method is None:
            return None
        return self.method.msk()

    def _answer(self, eap: EapPacket) -> EapPacket:
        eap_type = eap.type
        if eap_type == EapType.IDENTITY:
            return self._reply(eap, EapType.IDENTITY, self.identity)
        if eap_type == EapType.NOTIFICATION:
            return self._reply(eap, EapType.NOTIFICATION, b"")
        if self.method is not None and self.method.eap_type == eap_type:
            return self._reply(eap, eap_type, self.method.process(eap.data, eap.identifier))
        if self.method is not None:
            raise PeerError(f"server switched to type {eap_type} mid-method")
        if eap_type not in self.allowed_types:
            nak = bytes(self.allowed_types) or b"\x00"
            return self._reply(eap, EapType.NAK, nak)
        self.method = self._new_method(EapType(eap_type))
        return self._reply(eap, eap_type, self.method.process(eap.data, eap.identifier))

    def _new_method(self, eap_type: EapType) -> EapPeerMethod:
        if eap_type == EapType.MD5:
            return Md5Peer(self._password)
        if eap_type == EapType.PWD:
            return PwdPeer(self.identity, self._password, self._pwd_tamper)
        if eap_type == EapType.GTC:
            return GtcPeer(self._password, self.identity if self._gtc_username else None)
        return MsChapV2Peer(self.identity, self._password)

    @staticmethod
    def _reply(eap: EapPacket, eap_type: int, data: bytes) -> EapPacket:
        return EapPacket(EapCode.RESPONSE, eap.identifier, eap_type, data)
