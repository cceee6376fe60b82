"""EAP-MSCHAPv2, server side (draft-kamath-pppext-eap-mschapv2, RFC 2759, RFC 3079).

Conversation::

    Request  Challenge (OpCode 1)  ->  Response (OpCode 2, NT-Response)
    Request  Success   (OpCode 3, "S=<auth> M=...")  ->  Response OpCode 3   => SUCCESS
    Request  Failure   (OpCode 4, "E=691 R=1 C=... V=3 M=...")  -> retry (if allowed)

On a wrong password the default is an immediate EAP-Failure, as strongSwan's server does:
charon (the peer) never answers a Failure Request.  Config:

- ``server_name`` (str, default ``"ikeeap"``; never empty): Name in the Challenge.
- ``success_message`` (str, default ``"Welcome"``): the ``M=`` text of the Success Request.
- ``retries`` (int, default 0): wrong answers answered with a retryable Failure Request.
- ``failure_request`` (bool, default False): end with a Failure Request (R=0) and wait
  for the peer's Failure Response instead of failing at once.

The MSK (64 octets) is server MasterReceiveKey ‖ MasterSendKey ‖ 32 zeros, as strongSwan
and hostapd.  Not mutual in the RFC 5998 sense: ``is_mutual()`` is False.
"""

from __future__ import annotations

import hmac
import os
import secrets
import struct
from enum import Enum
from typing import Any

from ikeeap.crypto import mschap
from ikeeap.eap.credentials import Providers
from ikeeap.eap.method import BaseMethod, EapContext, EapStep
from ikeeap.eap.methods._common import lookup_credential, split_type
from ikeeap.eap.packet import EapType

OP_CHALLENGE = 1
OP_RESPONSE = 2
OP_SUCCESS = 3
OP_FAILURE = 4
OP_CHANGE_PASSWORD = 7
CHALLENGE_LENGTH = 16
RESPONSE_VALUE_SIZE = 49
_MS_HEADER = 4  # OpCode, MS-CHAPv2-ID, MS-Length
_RESPONSE_MIN = _MS_HEADER + 1 + RESPONSE_VALUE_SIZE
ERROR_AUTHENTICATION_FAILURE = 691


def ms_packet(opcode: int, ms_id: int, body: bytes) -> bytes:
    """Type ‖ OpCode ‖ MS-CHAPv2-ID ‖ MS-Length ‖ body (MS-Length = EAP Length - 5)."""
    return struct.pack("!BBBH", EapType.MSCHAPV2, opcode, ms_id, _MS_HEADER + len(body)) + body


class _State(Enum):
    IDLE = 0
    EXPECT_RESPONSE = 1
    EXPECT_SUCCESS_ACK = 2
    EXPECT_FAILURE_ACK = 3
    DONE = 4


class MsChapV2Method(BaseMethod):
    """Server side of EAP-MSCHAPv2; needs a PasswordLookup (password or NT hash)."""

    name = "mschapv2"
    eap_type = EapType.MSCHAPV2
    generates_msk = True

    def __init__(
        self, config: dict[str, Any] | None = None, providers: Providers | None = None
    ) -> None:
        super().__init__(config, providers)
        # strongSwan's peer rejects a Challenge whose Name is empty.
        self._server_name = str(self.config.get("server_name") or "ikeeap").encode("utf-8")
        self._success_message = str(self.config.get("success_message", "Welcome"))
        self._retries_left = int(self.config.get("retries", 0))
        self._failure_request = bool(self.config.get("failure_request", False))
        self._state = _State.IDLE
        self._challenge = b""
        self._ms_id = 0
        self._pending_msk: bytes | None = None
        self._msk: bytes | None = None

    async def start(self, ctx: EapContext) -> EapStep:
        self._challenge = os.urandom(CHALLENGE_LENGTH)
        self._ms_id = secrets.randbelow(256)
        self._state = _State.EXPECT_RESPONSE
        body = bytes([CHALLENGE_LENGTH]) + self._challenge + self._server_name
        return EapStep.continue_(ms_packet(OP_CHALLENGE, self._ms_id, body))

    async def process(self, ctx: EapContext, response: bytes) -> EapStep:
        body = split_type(response, EapType.MSCHAPV2)
        if body is None or not body:
            return self._fail("malformed EAP-MSCHAPv2 response")
        opcode = body[0]
        if opcode == OP_FAILURE:
            if self._state is _State.EXPECT_FAILURE_ACK:
                return self._fail("EAP-MSCHAPv2 authentication failed")
            return self._fail("EAP-MSCHAPv2: peer sent Failure")
        if self._state is _State.EXPECT_RESPONSE and opcode == OP_RESPONSE:
            return await self._on_response(ctx, body)
        if self._state is _State.EXPECT_SUCCESS_ACK and opcode == OP_SUCCESS:
            self._state = _State.DONE
            self._msk, self._pending_msk = self._pending_msk, None
            return EapStep.success()
        return self._fail(f"unexpected EAP-MSCHAPv2 OpCode {opcode}")

    def msk(self) -> bytes | None:
        return self._msk

    def abort(self) -> None:
        self._state = _State.DONE
        self._pending_msk = None

    def _fail(self, reason: str) -> EapStep:
        self._state = _State.DONE
        self._pending_msk = None
        return EapStep.failure(reason)

    async def _on_response(self, ctx: EapContext, body: bytes) -> EapStep:
        if len(body) < _RESPONSE_MIN or body[_MS_HEADER] != RESPONSE_VALUE_SIZE:
            return self._fail("malformed EAP-MSCHAPv2 Response")
        value = body[_MS_HEADER + 1 : _RESPONSE_MIN]
        peer_challenge, nt_response = value[:16], value[24:48]
        name = body[_RESPONSE_MIN:]
        username = mschap.strip_domain(name)
        if not ctx.identity or username != mschap.strip_domain(ctx.identity):
            return self._fail("EAP-MSCHAPv2: Name does not match the EAP identity")
        cred = await lookup_credential(ctx, self._providers(ctx))
        nt_hash = cred.get_nt_hash() if cred is not None else None
        expected = mschap.generate_nt_response(
            self._challenge, peer_challenge, username, nt_hash or b"\x00" * 16
        )
        if nt_hash is None or not hmac.compare_digest(expected, nt_response):
            return self._wrong_answer(ctx)
        auth = mschap.generate_authenticator_response(
            nt_hash, nt_response, peer_challenge, self._challenge, username
        )
        self._pending_msk = mschap.eap_mschapv2_msk(nt_hash, nt_response)
        self._state = _State.EXPECT_SUCCESS_ACK
        message = f"{auth} M={self._success_message}".encode()
        return EapStep.continue_(ms_packet(OP_SUCCESS, body[1], message))

    def _wrong_answer(self, ctx: EapContext) -> EapStep:
        ctx.info("EAP-MSCHAPv2 verification failed")
        if self._retries_left > 0:
            self._retries_left -= 1
            self._challenge = os.urandom(CHALLENGE_LENGTH)
            return EapStep.continue_(self._failure_request_packet(retry=True))
        if self._failure_request:
            self._state = _State.EXPECT_FAILURE_ACK
            return EapStep.continue_(self._failure_request_packet(retry=False))
        return self._fail("EAP-MSCHAPv2 authentication failed")

    def _failure_request_packet(self, retry: bool) -> bytes:
        text = (
            f"E={ERROR_AUTHENTICATION_FAILURE} R={int(retry)} "
            f"C={self._challenge.hex().upper()} V=3 M=Authentication failed"
        )
        ms_id = self._ms_id
        self._ms_id = (self._ms_id + 1) % 256
        return ms_packet(OP_FAILURE, ms_id, text.encode("ascii"))
