"""Peer (client) side of EAP-MD5, EAP-GTC and EAP-MSCHAPv2, for the test initiator.

A peer method maps the Type-Data of a Request (without the Type octet) to the Type-Data of
its Response, or raises :class:`PeerError`.
"""

from __future__ import annotations

import os
import struct
from typing import Protocol

from ikeeap.crypto import mschap
from ikeeap.eap.methods.md5 import md5_response
from ikeeap.eap.methods.mschapv2 import (
    OP_CHALLENGE,
    OP_FAILURE,
    OP_RESPONSE,
    OP_SUCCESS,
    RESPONSE_VALUE_SIZE,
)
from ikeeap.eap.packet import EapType


class PeerError(Exception):
    """The server's request cannot be answered (malformed, bad authenticator, ...)."""


class EapPeerMethod(Protocol):
    eap_type: int
    done: bool  # the method's own exchange completed successfully on the peer side

    def process(self, type_data: bytes, identifier: int) -> bytes: ...
    def msk(self) -> bytes | None: ...


class Md5Peer:
    eap_type: int = EapType.MD5

    def __init__(self, password: str) -> None:
        self._secret = password.encode("utf-8")
        self.done = False

    def process(self, type_data: bytes, identifier: int) -> bytes:
        if not type_data or len(type_data) < 1 + type_data[0] or type_data[0] == 0:
            raise PeerError("malformed EAP-MD5 challenge")
        challenge = type_data[1 : 1 + type_data[0]]
        self.done = True
        return bytes([16]) + md5_response(identifier, self._secret, challenge)

    def msk(self) -> bytes | None:
        return None


class GtcPeer:
    """Answers with the password, or ``user\\0password`` when ``username`` is given."""

    eap_type: int = EapType.GTC

    def __init__(self, password: str, username: bytes | None = None) -> None:
        self._password = password.encode("utf-8")
        self._username = username
        self.done = False

    def process(self, type_data: bytes, identifier: int) -> bytes:
        self.done = True
        if self._username is not None:
            return self._username + b"\x00" + self._password
        return self._password

    def msk(self) -> bytes | None:
        return None


class MsChapV2Peer:
    """Verifies the server's authenticator response before acknowledging Success."""

    eap_type: int = EapType.MSCHAPV2

    def __init__(self, username: bytes, password: str, retries: int = 1) -> None:
        self._username = username
        self._nt_hash = mschap.nt_password_hash(password)
        self._retries = retries
        self._auth_challenge = b""
        self._peer_challenge = b""
        self._nt_response = b""
        self._msk: bytes | None = None
        self.done = False
        self.failed = False

    def process(self, type_data: bytes, identifier: int) -> bytes:
        if len(type_data) < 4:
            raise PeerError("EAP-MSCHAPv2 request too short")
        opcode, ms_id = type_data[0], type_data[1]
        body = type_data[4:]
        if opcode == OP_CHALLENGE:
            if len(body) < 17 or body[0] != 16:
                raise PeerError("malformed EAP-MSCHAPv2 challenge")
            return self._respond(body[1:17], ms_id)
        if opcode == OP_SUCCESS and self._nt_response:
            return self._on_success(body)
        if opcode == OP_FAILURE:
            return self._on_failure(body, ms_id)
        raise PeerError(f"unexpected EAP-MSCHAPv2 OpCode {opcode}")

    def msk(self) -> bytes | None:
        return self._msk

    def _respond(self, challenge: bytes, ms_id: int) -> bytes:
        self._auth_challenge = challenge
        self._peer_challenge = os.urandom(16)
        user = mschap.strip_domain(self._username)
        self._nt_response = mschap.generate_nt_response(
            challenge, self._peer_challenge, user, self._nt_hash
        )
        value = self._peer_challenge + b"\x00" * 8 + self._nt_response + b"\x00"
        body = bytes([RESPONSE_VALUE_SIZE]) + value + self._username
        return struct.pack("!BBH", OP_RESPONSE, ms_id, 4 + len(body)) + body

    def _on_success(self, body: bytes) -> bytes:
        fields = _fields(body)
        received = fields.get("S", "")
        ok = len(received) == 40 and mschap.check_authenticator_response(
            self._nt_hash,
            self._nt_response,
            self._peer_challenge,
            self._auth_challenge,
            mschap.strip_domain(self._username),
            "S=" + received,
        )
        if not ok:
            raise PeerError("EAP-MSCHAPv2 authenticator response does not verify")
        self._msk = mschap.eap_mschapv2_msk(self._nt_hash, self._nt_response)
        self.done = True
        return bytes([OP_SUCCESS])

    def _on_failure(self, body: bytes, ms_id: int) -> bytes:
        fields = _fields(body)
        challenge_hex = fields.get("C", "")
        if fields.get("R") == "1" and self._retries > 0 and len(challenge_hex) == 32:
            self._retries -= 1
            try:
                challenge = bytes.fromhex(challenge_hex)
            except ValueError:
                raise PeerError("bad challenge in EAP-MSCHAPv2 Failure") from None
            return self._respond(challenge, (ms_id + 1) % 256)
        self.failed = True
        return bytes([OP_FAILURE])


def _fields(body: bytes) -> dict[str, str]:
    """``"S=... M=text"`` -> {"S": ..., "M": "text"} (M runs to the end)."""
    text = body.decode("utf-8", "replace")
    head, _, message = text.partition(" M=")
    out = dict(tok.split("=", 1) for tok in head.split() if "=" in tok)
    if message or text.endswith(" M="):
        out["M"] = message
    return out
