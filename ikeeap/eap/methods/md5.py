"""EAP-MD5-Challenge, server side (RFC 3748 §5.4).  No MSK, not mutual."""

from __future__ import annotations

import hashlib
import hmac
import os
from typing import Any

from ikeeap.eap.credentials import Providers
from ikeeap.eap.method import BaseMethod, EapContext, EapStep
from ikeeap.eap.methods._common import lookup_credential, split_type
from ikeeap.eap.packet import EapType

CHALLENGE_LENGTH = 16


def md5_response(identifier: int, secret: bytes, challenge: bytes) -> bytes:
    """MD5(Identifier ‖ secret ‖ challenge), as in CHAP (RFC 1994 §4.1)."""
    return hashlib.md5(bytes([identifier]) + secret + challenge).digest()


class Md5Method(BaseMethod):
    """Random 16-octet challenge; the peer proves the cleartext password.

    Config: ``name`` (str, optional server name appended to the request).
    """

    name = "md5"
    eap_type = EapType.MD5

    def __init__(
        self, config: dict[str, Any] | None = None, providers: Providers | None = None
    ) -> None:
        super().__init__(config, providers)
        self._challenge: bytes | None = None
        self._name = str(self.config.get("name", "")).encode("utf-8")

    async def start(self, ctx: EapContext) -> EapStep:
        self._challenge = os.urandom(CHALLENGE_LENGTH)
        data = bytes([EapType.MD5, CHALLENGE_LENGTH]) + self._challenge + self._name
        return EapStep.continue_(data)

    async def process(self, ctx: EapContext, response: bytes) -> EapStep:
        body = split_type(response, EapType.MD5)
        if self._challenge is None:
            return EapStep.failure("EAP-MD5 response before challenge")
        if body is None or len(body) < 1 or body[0] != 16 or len(body) < 1 + body[0]:
            return EapStep.failure("malformed EAP-MD5 response")
        value = body[1 : 1 + body[0]]
        cred = await lookup_credential(ctx, self._providers(ctx))
        secret = cred.password if cred is not None else None
        if secret is None:
            # Same work as a wrong password: no hint that the user is unknown.
            hmac.compare_digest(value, md5_response(ctx.identifier, b"", self._challenge))
            ctx.info("EAP-MD5: no cleartext password for this identity")
            return EapStep.failure("EAP-MD5 authentication failed")
        expected = md5_response(ctx.identifier, secret.encode("utf-8"), self._challenge)
        self._challenge = None  # one answer per challenge
        if hmac.compare_digest(value, expected):
            return EapStep.success()
        return EapStep.failure("EAP-MD5 authentication failed")
