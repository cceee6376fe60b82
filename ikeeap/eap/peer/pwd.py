"""Peer side of EAP-pwd (RFC 5931) for the test initiator: verifies the server's Commit and
Confirm_S before answering, so a finished exchange authenticated the server too.

``tamper_commit`` (tests only) rewrites our Commit payload before it is sent, to play a
hostile peer (invalid scalar, element off the curve, reflection, ...).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Any

from ikeeap.crypto.ecc_prime import Point, PrimeCurve, curve_for_group
from ikeeap.crypto.mschap import hash_nt_password_hash, nt_password_hash
from ikeeap.eap.methods.pwd import protocol as pwd
from ikeeap.eap.methods.pwd.packets import EXCH_COMMIT, EXCH_CONFIRM, EXCH_ID, IdPayload, parse
from ikeeap.eap.packet import EapType
from ikeeap.eap.peer.methods import PeerError

# (our Commit payload, our Commit, the server's (scalar, element)) -> payload to send
CommitTamper = Callable[[bytes, pwd.Commit, tuple[int, Any]], bytes]


class PwdPeer:
    eap_type: int = EapType.PWD
    mutual = True

    def __init__(self, identity: bytes, password: str,
                 tamper_commit: CommitTamper | None = None) -> None:
        self._identity = identity
        self._password = password
        self._tamper = tamper_commit
        self._curve: PrimeCurve | None = None
        self._suite: pwd.Ciphersuite | None = None
        self._pwe: Point = None
        self._own: pwd.Commit | None = None
        self._server: tuple[int, object] | None = None
        self._k = b""
        self._msk: bytes | None = None
        self.done = False

    def process(self, type_data: bytes, identifier: int) -> bytes:
        parsed = parse(type_data)
        if isinstance(parsed, str):
            raise PeerError(parsed)
        exch, payload = parsed
        if exch == EXCH_ID and self._suite is None:
            return self._on_id(payload)
        if exch == EXCH_COMMIT and self._pwe is not None and self._own is None:
            return self._on_commit(payload)
        if exch == EXCH_CONFIRM and self._server is not None and not self.done:
            return self._on_confirm(payload)
        raise PeerError(f"unexpected EAP-pwd exchange {exch}")

    def msk(self) -> bytes | None:
        return self._msk

    def _password_octets(self, prep: int) -> bytes:
        if prep == pwd.PREP_NONE:
            return self._password.encode("utf-8")
        if prep == pwd.PREP_RFC2759:
            return hash_nt_password_hash(nt_password_hash(self._password))
        raise PeerError(f"EAP-pwd Prep {prep} not supported")

    def _on_id(self, payload: bytes) -> bytes:
        request = IdPayload.decode(payload)
        if request is None:
            raise PeerError("malformed EAP-pwd-ID request")
        suite = request.suite
        self._curve = curve_for_group(suite.group)
        if self._curve is None or suite != pwd.Ciphersuite(suite.group):
            raise PeerError(f"EAP-pwd ciphersuite {suite} not supported")
        self._suite = suite
        password = self._password_octets(request.prep)
        self._pwe = pwd.derive_pwe(self._curve, password, self._identity, request.identity,
                                   request.token)
        if self._pwe is None:
            raise PeerError("no EAP-pwd password element found")
        answer = IdPayload(suite, request.token, request.prep, self._identity)
        return bytes([EXCH_ID]) + answer.encode()

    def _on_commit(self, payload: bytes) -> bytes:
        curve = self._curve
        assert curve is not None
        parsed = pwd.parse_commit(curve, payload)
        if isinstance(parsed, str):
            raise PeerError(f"server Commit: {parsed}")
        self._own = pwd.new_commit(curve, self._pwe)
        reason = pwd.check_peer_commit(self._own, *parsed)
        k = pwd.shared_key(curve, self._pwe, self._own, *parsed) if not reason else None
        if k is None:
            raise PeerError(f"server Commit: {reason or 'shared point is the identity'}")
        self._k, self._server = k, parsed
        ours = self._own.encode(curve)
        if self._tamper is not None:
            ours = self._tamper(ours, self._own, parsed)
        return bytes([EXCH_COMMIT]) + ours

    def _on_confirm(self, payload: bytes) -> bytes:
        curve, suite, own, server = self._curve, self._suite, self._own, self._server
        assert curve is not None and suite is not None and own is not None
        assert server is not None
        expected = pwd.confirm(curve, self._k, server, own, suite)  # type: ignore[arg-type]
        if not hmac.compare_digest(expected, payload):
            raise PeerError("EAP-pwd Confirm_S does not verify (wrong password?)")
        confirm_p = pwd.confirm(curve, self._k, own, server, suite)  # type: ignore[arg-type]
        self._msk, _ = pwd.derive_keys(curve, suite, self._k, confirm_p, payload, own.scalar,
                                       server[0])  # type: ignore[arg-type]
        self.done = True
        return bytes([EXCH_CONFIRM]) + confirm_p
