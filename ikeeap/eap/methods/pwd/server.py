"""EAP-pwd, server side (RFC 5931) over the NIST prime curves (groups 19, 20, 21).

Mutual and key-generating, so it qualifies for RFC 5998 EAP-only IKE_AUTH: a password
login without any server certificate and without offline dictionary attacks.

Config (``[methods.pwd]``): ``group`` (19, 20 or 21; default 19), ``server_id`` (the
Server_ID sent in the ID request; default ``"ikeeap"``).  The password comes from the
credential providers via :mod:`.passwords` (cleartext, or NT hash with Prep RFC2759).

The Peer_ID of the ID exchange must equal the EAP identity: the identity the IKE layer
reports and authorises is then the one whose password was proven.  An unknown user runs
the same computations with a random password and fails at Confirm, like a wrong password.

The elliptic-curve work (hunting-and-pecking, Commit, shared secret; tens of ms per login in
pure Python) runs through the extra provider ``pwd_executor``: an awaitable-returning
``run(fn, *args)`` (the server layer injects a thread pool, see
:func:`ikeeap.backends.providers.backend_providers`) so the event loop keeps serving other
peers.  Without one (tests, tools) it runs inline.
"""

from __future__ import annotations

import hmac
import os
import secrets
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from ikeeap.crypto.ecc_prime import PrimeCurve, curve_for_group
from ikeeap.eap.credentials import Providers
from ikeeap.eap.method import BaseMethod, EapContext, EapStep
from ikeeap.eap.methods._common import split_type
from ikeeap.eap.packet import EapType

from . import protocol as pwd
from .packets import EXCH_COMMIT, EXCH_CONFIRM, EXCH_ID, TOKEN_LENGTH, IdPayload, build, parse
from .passwords import PwdSecret, secret_source

DEFAULT_GROUP = 19
DEFAULT_SERVER_ID = "ikeeap"
EXECUTOR = "pwd_executor"  # Providers.extra name of the runner for the EC computations

T = TypeVar("T")
RunBlocking = Callable[..., Awaitable[Any]]


async def run_inline(fn: Callable[..., T], *args: Any) -> T:
    """The executor when no provider gives one: call directly (the step stays synchronous)."""
    return fn(*args)


def element_and_commit(curve: PrimeCurve, password: bytes, peer_id: bytes, server_id: bytes,
                       token: bytes) -> tuple[Any, pwd.Commit | None]:
    """(PWE, our Commit), or (None, None) when no password element was found."""
    pwe = pwd.derive_pwe(curve, password, peer_id, server_id, token)
    return pwe, (pwd.new_commit(curve, pwe) if pwe is not None else None)


def key_and_confirm(curve: PrimeCurve, pwe: Any, own: pwd.Commit, peer: tuple[int, Any],
                    suite: pwd.Ciphersuite) -> tuple[bytes | None, bytes]:
    """(k, Confirm_S), or (None, b"") when the shared point is the identity."""
    k = pwd.shared_key(curve, pwe, own, *peer)
    return k, (pwd.confirm(curve, k, own, peer, suite) if k is not None else b"")


def configured_curve(config: dict[str, Any]) -> PrimeCurve:
    """The curve for ``config["group"]``; ValueError names the bad value."""
    group = config.get("group", DEFAULT_GROUP)
    curve = curve_for_group(group) if isinstance(group, int) else None
    if curve is None:
        raise ValueError(f"EAP-pwd group must be 19, 20 or 21, not {group!r}")
    return curve


class PwdMethod(BaseMethod):
    name = "pwd"
    eap_type = EapType.PWD
    generates_msk = True
    mutual = True

    def __init__(self, config: dict[str, Any] | None = None,
                 providers: Providers | None = None) -> None:
        super().__init__(config, providers)
        self._curve = configured_curve(self.config)
        self._suite = pwd.Ciphersuite(self._curve.group)
        self._server_id = str(self.config.get("server_id", DEFAULT_SERVER_ID)).encode("utf-8")
        self._expect = 0
        self._token = b""
        self._secret: PwdSecret | None = None
        self._known_user = False
        self._pwe: Any = None
        self._own: pwd.Commit | None = None
        self._peer: tuple[int, Any] | None = None
        self._k = b""
        self._msk: bytes | None = None
        self._emsk: bytes | None = None
        self._run: RunBlocking = run_inline

    async def start(self, ctx: EapContext) -> EapStep:
        self._token = secrets.token_bytes(TOKEN_LENGTH)
        providers = self._providers(ctx)
        self._run = providers.get(EXECUTOR) or run_inline
        source = secret_source(providers)
        secret = await source.pwd_secret(ctx.user) if ctx.user else None
        self._known_user = secret is not None
        # Unknown users get a random password: same work, failure at Confirm.
        self._secret = secret or PwdSecret(pwd.PREP_NONE, os.urandom(16))
        request = IdPayload(self._suite, self._token, self._secret.prep, self._server_id)
        self._expect = EXCH_ID
        return EapStep.continue_(build(EXCH_ID, request.encode()))

    async def process(self, ctx: EapContext, response: bytes) -> EapStep:
        body = split_type(response, EapType.PWD)
        parsed = parse(body) if body is not None else "not an EAP-pwd response"
        if isinstance(parsed, str):
            return self._refuse(ctx, parsed)
        exch, payload = parsed
        if not self._expect or exch != self._expect:  # 0: nothing in progress (done/aborted)
            return self._refuse(ctx, f"PWD-Exch {exch} where {self._expect} was expected")
        if exch == EXCH_ID:
            return await self._on_id(ctx, payload)
        if exch == EXCH_COMMIT:
            return await self._on_commit(ctx, payload)
        return self._on_confirm(ctx, payload)

    def msk(self) -> bytes | None:
        return self._msk

    def emsk(self) -> bytes | None:
        return self._emsk

    def is_mutual(self) -> bool:
        return self._msk is not None  # the peer verified Confirm_S before answering

    def abort(self) -> None:
        self._expect = 0
        self._secret = self._pwe = self._own = self._peer = None
        self._k = b""

    # -- exchanges ------------------------------------------------------------------

    async def _on_id(self, ctx: EapContext, payload: bytes) -> EapStep:
        answer = IdPayload.decode(payload)
        secret = self._secret
        if answer is None or secret is None:
            return self._refuse(ctx, "malformed EAP-pwd-ID response")
        if answer.suite != self._suite or answer.prep != secret.prep:
            return self._refuse(ctx, "peer changed the ciphersuite or Prep")
        if not hmac.compare_digest(answer.token, self._token):
            return self._refuse(ctx, "anti-clogging token does not match")
        if ctx.identity and answer.identity != ctx.identity:
            return self._refuse(ctx, "EAP-pwd Peer_ID differs from the EAP identity")
        pwe, own = await self._run(element_and_commit, self._curve, secret.password,
                                   answer.identity, self._server_id, self._token)
        if self._expect != EXCH_ID:  # aborted while the computation ran
            return self._refuse(ctx, "aborted during the password element computation")
        if pwe is None or own is None:
            return self._refuse(ctx, "no password element found")
        self._pwe, self._own = pwe, own
        self._expect = EXCH_COMMIT
        return EapStep.continue_(build(EXCH_COMMIT, self._own.encode(self._curve)))

    async def _on_commit(self, ctx: EapContext, payload: bytes) -> EapStep:
        own = self._own
        assert own is not None
        parsed = pwd.parse_commit(self._curve, payload)
        if isinstance(parsed, str):
            return self._refuse(ctx, parsed)
        scalar, element = parsed
        reason = pwd.check_peer_commit(own, scalar, element)
        if reason:
            return self._refuse(ctx, reason)
        k, confirm_s = await self._run(key_and_confirm, self._curve, self._pwe, own, parsed,
                                       self._suite)
        if self._expect != EXCH_COMMIT:  # aborted while the computation ran
            return self._refuse(ctx, "aborted during the shared secret computation")
        if k is None:
            return self._refuse(ctx, "shared point is the identity")
        self._k, self._peer = k, parsed
        self._expect = EXCH_CONFIRM
        return EapStep.continue_(build(EXCH_CONFIRM, confirm_s))

    def _on_confirm(self, ctx: EapContext, payload: bytes) -> EapStep:
        own, peer = self._own, self._peer
        assert own is not None and peer is not None
        if len(payload) != pwd.CONFIRM_LENGTH:
            return self._refuse(ctx, "Confirm of the wrong length")
        expected = pwd.confirm(self._curve, self._k, peer, own, self._suite)
        confirm_s = pwd.confirm(self._curve, self._k, own, peer, self._suite)
        if not hmac.compare_digest(expected, payload) or not self._known_user:
            ctx.info("EAP-pwd: Confirm_P does not verify (wrong password or unknown user)")
            self.abort()
            return EapStep.failure("EAP-pwd authentication failed")
        self._msk, self._emsk = pwd.derive_keys(self._curve, self._suite, self._k, payload,
                                                confirm_s, peer[0], own.scalar)
        self.abort()
        return EapStep.success()

    def _refuse(self, ctx: EapContext, reason: str) -> EapStep:
        ctx.info("EAP-pwd refused: %s", reason)
        self.abort()
        return EapStep.failure(f"EAP-pwd: {reason}")
