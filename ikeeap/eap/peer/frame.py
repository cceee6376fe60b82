"""The frame every whole-packet EAP peer shares: parse, Success/Failure, Request check.

A subclass sets ``method`` (the peer method in use, or None before one started) and
answers Requests in :meth:`PeerFrame._answer`; :meth:`PeerFrame.respond` does the rest.
"""

from __future__ import annotations

from ikeeap.eap.packet import EapCode, EapPacket, EapParseError, parse_eap
from ikeeap.eap.peer.methods import EapPeerMethod, PeerError


class PeerFrame:
    """``respond(packet)``: the Response to a Request, None after Success/Failure.

    Raises :class:`PeerError` for a malformed packet, anything but a typed Request, or an
    EAP-Success before the method said ``done``.
    """

    method: EapPeerMethod | None = None
    succeeded: bool = False
    failed: bool = False
    early_success = "EAP-Success before the method completed"

    def respond(self, packet: bytes) -> bytes | None:
        try:
            eap = parse_eap(packet)
        except EapParseError as exc:
            raise PeerError(f"malformed EAP packet: {exc}") from exc
        if eap.code == EapCode.SUCCESS:
            if self.method is None or not self.method.done:
                raise PeerError(self.early_success)
            self.succeeded = True
            return None
        if eap.code == EapCode.FAILURE:
            self.failed = True
            return None
        if eap.code != EapCode.REQUEST or eap.type is None:
            raise PeerError("expected an EAP Request")
        eap_type, data = self._answer(eap)
        return EapPacket(EapCode.RESPONSE, eap.identifier, eap_type, data).encode()

    def msk(self) -> bytes | None:
        """The method's MSK after EAP-Success (None before, or for a method without one)."""
        if not self.succeeded or self.method is None:
            return None
        return self.method.msk()

    def _answer(self, eap: EapPacket) -> tuple[int, bytes]:
        """(Type, Type-Data) of the Response to the typed Request ``eap``."""
        raise NotImplementedError
