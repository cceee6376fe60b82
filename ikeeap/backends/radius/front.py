"""A small RADIUS *server* hosting ikeeap's own EAP server methods (sans-I/O).

Lets a real EAP peer that speaks EAP over RADIUS (wpa_supplicant's ``eapol_test``) test
every ikeeap method: Access-Request in, Access-Challenge / Accept / Reject out (RFC 3579).

- One :class:`EapAuthenticator` per State; a conversation starts with the peer's
  EAP-Response/Identity in an Access-Request without State.
- Message-Authenticator required on every request and added to every reply.
- On success the MSK goes into MS-MPPE-Recv-Key (MSK[0:32]) and MS-MPPE-Send-Key
  (MSK[32:64]), which is what eapol_test compares ("MPPE keys OK").
- Retransmitted requests (same source, identifier and authenticator) get the cached reply;
  while a step is still running they are dropped.  Idle conversations expire.

``handle`` is a coroutine only because EAP methods are; it does no I/O and takes ``now``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ikeeap.eap.authenticator import EapAuthenticator, EapOutput
from ikeeap.eap.packet import EapCode, EapPacket

from . import codec

log = logging.getLogger("ikeeap.radius.front")

Address = tuple[str, int]
AuthenticatorFactory = Callable[[int, Address], EapAuthenticator]
_PENDING = b""


@dataclass
class _Conversation:
    authenticator: EapAuthenticator
    expires: float


class RadiusFront:
    """EAP over RADIUS, server side.  ``make_authenticator(first_identifier, remote)``
    returns a fresh authenticator whose Identity request uses ``first_identifier``."""

    def __init__(self, secret: bytes, make_authenticator: AuthenticatorFactory, *,
                 state_lifetime: float = 60.0, max_conversations: int = 4096,
                 duplicate_window: float = 30.0,
                 random: Callable[[int], bytes] = os.urandom) -> None:
        self._secret = secret
        self._make_authenticator = make_authenticator
        self._state_lifetime = state_lifetime
        self._max_conversations = max_conversations
        self._duplicate_window = duplicate_window
        self._random = random
        self._conversations: dict[bytes, _Conversation] = {}
        self._replies: dict[tuple[Address, int, bytes], tuple[float, bytes]] = {}

    @property
    def conversations(self) -> int:
        return len(self._conversations)

    async def handle(self, raw: bytes, remote: Address, now: float) -> bytes | None:
        """The reply to one datagram, or None to send nothing."""
        self._expire(now)
        request = codec.decode(raw, self._secret)
        if request is None:
            log.info("%s: undecodable RADIUS packet dropped", _fmt(remote))
            return None
        if request.code not in (codec.ACCESS_REQUEST, codec.STATUS_SERVER):
            log.info("%s: RADIUS code %d dropped", _fmt(remote), request.code)
            return None
        if not codec.verify_message_authenticator(request.raw_packet, self._secret):
            log.info("%s: missing or bad Message-Authenticator, dropped", _fmt(remote))
            return None
        key = (remote, request.id, request.authenticator)
        cached = self._replies.get(key)
        if cached is not None:
            return cached[1] or None  # a retransmit: same answer, or still working on it
        self._replies[key] = (now, _PENDING)
        try:
            reply = await self._answer(request, remote, now)
        except Exception:
            log.exception("%s: handling an Access-Request failed", _fmt(remote))
            reply = None
        if reply is None:
            self._replies.pop(key, None)
        else:
            self._replies[key] = (now, reply)
        return reply

    async def _answer(self, request: Any, remote: Address, now: float) -> bytes | None:
        if request.code == codec.STATUS_SERVER:
            return self._reply(request, codec.ACCESS_ACCEPT)  # RFC 5997 §3: alive
        eap = codec.join_eap_message(request)
        if eap is None or len(eap) < 4:
            log.info("%s: Access-Request without EAP-Message", _fmt(remote))
            return self._reply(request, codec.ACCESS_REJECT)
        state = codec.first_value(request, codec.ATTR_STATE)
        if state is None:
            return await self._begin(request, eap, remote, now)
        conversation = self._conversations.get(state)
        if conversation is None:
            log.info("%s: unknown or expired State", _fmt(remote))
            return self._reply(request, codec.ACCESS_REJECT, eap_failure=eap[1])
        output = await conversation.authenticator.receive(eap)
        conversation.expires = now + self._state_lifetime
        return self._after_step(request, state, output)

    async def _begin(self, request: Any, eap: bytes, remote: Address, now: float
                     ) -> bytes | None:
        if len(self._conversations) >= self._max_conversations:
            log.warning("%s: too many conversations, request dropped", _fmt(remote))
            return None
        authenticator = self._make_authenticator(eap[1], remote)
        await authenticator.start()  # its Identity request is the one the peer answers
        output = await authenticator.receive(eap)
        state = self._random(16)
        self._conversations[state] = _Conversation(authenticator, now + self._state_lifetime)
        return self._after_step(request, state, output)

    def _after_step(self, request: Any, state: bytes, output: EapOutput) -> bytes | None:
        if output.ignored:
            log.info("EAP packet ignored: %s", output.reason)
            return None
        if not output.finished:
            return self._reply(request, codec.ACCESS_CHALLENGE, output.packet, state)
        conversation = self._conversations.pop(state, None)
        if conversation is not None:
            conversation.authenticator.abort()
        # the Accept's User-Name names who proved it (the inner identity of a tunnel)
        user = (output.authorized_identity or output.identity or b"").decode("utf-8", "replace")
        if not output.success:
            log.info("EAP %s for %r failed: %s", output.method_name, user, output.reason)
            return self._reply(request, codec.ACCESS_REJECT, output.packet)
        log.info("EAP %s for %r succeeded%s", output.method_name, user,
                 " with an MSK" if output.msk else "")
        return self._reply(request, codec.ACCESS_ACCEPT, output.packet, msk=output.msk,
                           user=user)

    def _reply(self, request: Any, code: int, eap: bytes | None = None,
               state: bytes | None = None, msk: bytes | None = None, user: str = "",
               eap_failure: int | None = None) -> bytes:
        reply = request.CreateReply()
        reply.code = code
        if eap is None and eap_failure is not None:
            eap = EapPacket(EapCode.FAILURE, eap_failure).encode()
        if eap:
            codec.set_eap_message(reply, eap)
        if state is not None:
            reply[codec.ATTR_STATE] = [state]
        if user:
            reply.AddAttribute("User-Name", user)
        if msk:
            codec.add_mppe_keys(reply, self._secret, request.authenticator, msk)
        return bytes(reply.ReplyPacket())

    def _expire(self, now: float) -> None:
        for state in [s for s, c in self._conversations.items() if c.expires <= now]:
            self._conversations.pop(state).authenticator.abort()
        horizon = now - self._duplicate_window
        for key in [k for k, (t, _) in self._replies.items() if t <= horizon]:
            del self._replies[key]


def _fmt(remote: Address) -> str:
    return f"{remote[0]}:{remote[1]}"
