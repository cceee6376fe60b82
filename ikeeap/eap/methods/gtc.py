"""EAP-GTC, server side (RFC 3748 §5.6; draft-sheffer-ikev2-gtc): the password in clear
inside the IKE SA, checked by a :class:`PasswordVerifier` (local store, LDAP, ...).

The Response Type-Data is the password (UTF-8, no terminator), which is what strongSwan's
eap-gtc client sends.  Some clients send ``user\\0password``, optionally prefixed with
``RESPONSE=`` (the EAP-FAST/Cisco form); that is accepted only when ``user`` equals the EAP
identity.  A password containing NUL is therefore never accepted.  No MSK, not mutual.
"""

from __future__ import annotations

from typing import Any

from ikeeap.eap.credentials import Providers, refusal_reason
from ikeeap.eap.method import BaseMethod, EapContext, EapStep
from ikeeap.eap.methods._common import split_type
from ikeeap.eap.packet import EapType

DEFAULT_PROMPT = "Password: "
_PREFIX = b"RESPONSE="


def parse_gtc_response(body: bytes, identity: bytes) -> str | None:
    """The password from a GTC Response Type-Data, or None when unusable."""
    if b"\x00" in body:
        user, _, password = body.partition(b"\x00")
        user = user.removeprefix(_PREFIX)
        if user != identity:
            return None
        body = password
    if not body or b"\x00" in body:
        return None
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return None


class GtcMethod(BaseMethod):
    """One Request with a prompt, one Response with the password.

    Config: ``prompt`` (str, default ``"Password: "``).
    """

    name = "gtc"
    eap_type = EapType.GTC

    def __init__(
        self, config: dict[str, Any] | None = None, providers: Providers | None = None
    ) -> None:
        super().__init__(config, providers)
        self._prompt = str(self.config.get("prompt", DEFAULT_PROMPT)).encode("utf-8")
        self._started = False

    async def start(self, ctx: EapContext) -> EapStep:
        self._started = True
        return EapStep.continue_(bytes([EapType.GTC]) + self._prompt)

    async def process(self, ctx: EapContext, response: bytes) -> EapStep:
        body = split_type(response, EapType.GTC)
        if not self._started or body is None:
            return EapStep.failure("unexpected EAP-GTC response")
        self._started = False
        password = parse_gtc_response(body, ctx.identity)
        user = ctx.user
        if password is None or user is None:
            return EapStep.failure("malformed EAP-GTC response")
        verifier = self._providers(ctx).verifier
        if verifier is None:
            return EapStep.failure("EAP-GTC: no password verifier configured")
        verdict = await verifier.verify(user, password)
        if verdict:
            return EapStep.success()
        return EapStep.failure(f"EAP-GTC: {refusal_reason(verdict, 'password refused')}")
