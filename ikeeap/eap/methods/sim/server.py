"""EAP-SIM server method (RFC 4186): Start rounds, Challenge, fast re-authentication,
Client-Error and Notification.

Providers (``Providers.extra``, see :mod:`.provider`): a :class:`TripletSource` (required),
a :class:`SimIdentityStore` (optional: without it no pseudonyms and no fast
re-authentication) and a :class:`SimPolicy` (else built from the method config dict).

Errors in a peer's response lead to a failure Notification round, then EAP-Failure
(§6.3.2); a Client-Error leads straight to EAP-Failure (§6.3.3).
"""

from __future__ import annotations

import dataclasses
import os
from enum import Enum
from typing import Any

from ikeeap.crypto.sim_keys import SimKeys, derive_keys, derive_reauth_keys, master_key
from ikeeap.eap.credentials import Providers
from ikeeap.eap.method import BaseMethod, EapContext, EapStep
from ikeeap.eap.methods.sim import provider as prov
from ikeeap.eap.methods.sim import requests as req
from ikeeap.eap.methods.sim.attributes import (
    EAP_TYPE_SIM,
    SIM_VERSION,
    Attr,
    SimMessage,
    SimParseError,
    Subtype,
    parse_message,
    read_reserved,
    read_u16,
    read_with_length,
)
from ikeeap.eap.methods.sim.identities import (
    PERMANENT_PREFIX,
    IdentityKind,
    PeerIdentity,
    classify,
    new_pseudonym,
    new_reauth_id,
)
from ikeeap.eap.methods.sim.protection import EAP_RESPONSE, decrypted_attributes, mac_ok

MAX_START_ROUNDS = 3  # §4.2.5
NONCE_SIZE = 16
MAX_NAI = 253  # octets of an identity we hand out (RFC 7542 §2.2; a RADIUS User-Name)
_ID_REQUESTS = {"any": Attr.ANY_ID_REQ, "fullauth": Attr.FULLAUTH_ID_REQ,
                "permanent": Attr.PERMANENT_ID_REQ, "none": None}


class _Phase(Enum):
    START = "start"
    CHALLENGE = "challenge"
    REAUTH = "reauth"
    NOTIFICATION = "notification"
    DONE = "done"


_EXPECTED = {_Phase.START: Subtype.START, _Phase.CHALLENGE: Subtype.CHALLENGE,
             _Phase.REAUTH: Subtype.REAUTHENTICATION, _Phase.NOTIFICATION: Subtype.NOTIFICATION}


class SimMethod(BaseMethod):
    """Server side of EAP-SIM; mutual and key-generating."""

    name = "sim"
    eap_type = EAP_TYPE_SIM
    generates_msk = True
    mutual = True
    versions = (SIM_VERSION,)
    requires = (prov.TRIPLETS,)  # checked at start-up (ikeeap.eap.plugin_checks)

    def __init__(self, config: dict[str, Any] | None = None,
                 providers: Providers | None = None, random: Any = os.urandom) -> None:
        super().__init__(config, providers)
        self._random = random
        self._phase = _Phase.START
        self._req_id = 0
        self._start_rounds = 0
        self._id_request: int | None = None
        self._mk_identity = b""
        self._imsi: str | None = None
        self._mk = b""
        self._keys: SimKeys | None = None
        self._sres = b""
        self._nonce_s = b""
        self._counter: int | None = None
        self._reauth_identity = b""
        self._next_pseudonym: str | None = None
        self._next_reauth: str | None = None
        self._pending: tuple[bytes, bytes] | None = None
        self._keys_out: tuple[bytes, bytes] | None = None
        self._notify_success = False
        self._fail_reason = ""

    # -- EapMethod ----------------------------------------------------------------------

    async def start(self, ctx: EapContext) -> EapStep:
        self._req_id = ctx.identifier
        self._mk_identity = ctx.identity
        if self._source(ctx) is None:
            return self._fail("EAP-SIM: no triplet source configured")
        policy = self._policy(ctx)
        if policy.trust_eap_identity and ctx.identity:
            step = await self._use_eap_identity(ctx, classify(ctx.identity))
            if step is not None:
                return step
        return self._start_request(_ID_REQUESTS[policy.identity_request])

    async def process(self, ctx: EapContext, response: bytes) -> EapStep:
        self._req_id = (ctx.identifier + 1) % 256
        try:
            msg = parse_message(response)
        except SimParseError as exc:
            return self._error(ctx, f"malformed EAP-SIM response: {exc}")
        if msg.subtype == Subtype.CLIENT_ERROR:
            return self._fail(f"EAP-SIM peer Client-Error {read_u16(msg.get(Attr.CLIENT_ERROR_CODE))}")
        expected = _EXPECTED.get(self._phase)
        if msg.subtype != expected:
            return self._error(ctx, f"EAP-SIM subtype {msg.subtype} in phase {self._phase.value}")
        if self._phase is _Phase.START:
            return await self._on_start(ctx, msg)
        if self._phase is _Phase.CHALLENGE:
            return await self._on_challenge(ctx, msg, response)
        if self._phase is _Phase.REAUTH:
            return await self._on_reauth(ctx, msg, response)
        return self._on_notification()

    def msk(self) -> bytes | None:
        return self._keys_out[0] if self._keys_out else None

    def emsk(self) -> bytes | None:
        return self._keys_out[1] if self._keys_out else None

    def is_mutual(self) -> bool:
        return self._keys_out is not None  # the peer checked AT_MAC before answering

    def authenticated_identity(self) -> bytes | None:
        """The permanent identity (``1<IMSI>[@realm]``) behind a pseudonym or re-auth identity,
        so pools, accounting and audit see one subscriber rather than a name that changes."""
        if self._keys_out is None or self._imsi is None:
            return None
        realm = classify(self._mk_identity).realm
        return (PERMANENT_PREFIX + self._imsi + (f"@{realm}" if realm else "")).encode()

    def abort(self) -> None:
        self._phase = _Phase.DONE
        self._pending = None
        self._keys = None

    # -- providers ----------------------------------------------------------------------

    def _source(self, ctx: EapContext) -> prov.TripletSource | None:
        return self._providers(ctx).get(prov.TRIPLETS)  # type: ignore[no-any-return]

    def _store(self, ctx: EapContext) -> prov.SimIdentityStore | None:
        return self._providers(ctx).get(prov.IDENTITIES)  # type: ignore[no-any-return]

    def _policy(self, ctx: EapContext) -> prov.SimPolicy:
        policy = self._providers(ctx).get(prov.POLICY)
        if isinstance(policy, prov.SimPolicy):
            return policy
        names = {f.name for f in dataclasses.fields(prov.SimPolicy)}
        return prov.SimPolicy(**{k: v for k, v in self.config.items() if k in names})

    # -- identities ---------------------------------------------------------------------

    async def _use_eap_identity(self, ctx: EapContext, who: PeerIdentity) -> EapStep | None:
        """Skip the identity request when the EAP-Response/Identity is one we know."""
        if who.kind is IdentityKind.REAUTH:
            state = await self._take_reauth(ctx, who)
            return None if state is None else self._reauth_request(ctx, who, state)
        imsi = await self._full_auth_imsi(ctx, who)
        if imsi is None:
            return None
        self._imsi = imsi
        return self._start_request(None)

    async def _full_auth_imsi(self, ctx: EapContext, who: PeerIdentity) -> str | None:
        if who.kind is IdentityKind.PERMANENT:
            return who.username
        store = self._store(ctx)
        if who.kind is IdentityKind.PSEUDONYM and store is not None:
            try:
                return await store.lookup_pseudonym(who.username)
            except Exception as exc:  # noqa: BLE001 - a broken store must not end the login
                ctx.warning("EAP-SIM identity store failed: %s", type(exc).__name__)
        return None

    async def _take_reauth(self, ctx: EapContext, who: PeerIdentity) -> prov.ReauthState | None:
        store, policy = self._store(ctx), self._policy(ctx)
        if store is None or not policy.fast_reauth:
            return None
        try:
            state = await store.take_reauth(who.username)
        except Exception as exc:  # noqa: BLE001 - the store only costs the fast path
            ctx.warning("EAP-SIM identity store failed: %s", type(exc).__name__)
            return None
        if state is None or state.counter >= policy.reauth_max:
            return None
        return state

    async def _resolve_identity(self, ctx: EapContext, msg: SimMessage,
                                raw: bytes) -> EapStep | None:
        """AT_IDENTITY handling of §4.2.7; None means: go on with full authentication."""
        who, asked = classify(raw), self._id_request
        self._mk_identity = raw
        if who.kind is IdentityKind.REAUTH and asked == Attr.ANY_ID_REQ:
            if not msg.has(Attr.NONCE_MT):  # the peer asks for fast re-authentication
                state = await self._take_reauth(ctx, who)
                if state is not None:
                    return self._reauth_request(ctx, who, state)
            return self._start_again(ctx, Attr.FULLAUTH_ID_REQ)
        if who.kind is IdentityKind.PERMANENT or (
            who.kind is IdentityKind.PSEUDONYM and asked != Attr.PERMANENT_ID_REQ
        ):
            self._imsi = await self._full_auth_imsi(ctx, who)
            if self._imsi is not None:
                return None
            return self._start_again(ctx, Attr.PERMANENT_ID_REQ)
        if asked == Attr.PERMANENT_ID_REQ:
            return self._error(ctx, "EAP-SIM: no valid permanent identity")
        nxt = Attr.FULLAUTH_ID_REQ if asked == Attr.ANY_ID_REQ else Attr.PERMANENT_ID_REQ
        return self._start_again(ctx, nxt)

    # -- Start --------------------------------------------------------------------------

    def _start_request(self, id_request: int | None) -> EapStep:
        self._phase = _Phase.START
        self._start_rounds += 1
        self._id_request = id_request
        return EapStep.continue_(req.start_request(self.versions, id_request), self._req_id)

    def _start_again(self, ctx: EapContext, id_request: int) -> EapStep:
        if self._start_rounds >= MAX_START_ROUNDS:
            return self._error(ctx, "EAP-SIM: identity not resolved in three Start rounds")
        ctx.debug("EAP-SIM: identity not usable, asking again (attribute %d)", id_request)
        return self._start_request(id_request)

    async def _on_start(self, ctx: EapContext, msg: SimMessage) -> EapStep:
        identity_attr = msg.get(Attr.IDENTITY)
        if self._id_request is None and identity_attr is not None:
            return self._error(ctx, "EAP-SIM: AT_IDENTITY that was not requested")
        if self._id_request is not None:
            raw = read_with_length(identity_attr)
            if not raw:
                return self._error(ctx, "EAP-SIM: requested AT_IDENTITY missing")
            step = await self._resolve_identity(ctx, msg, raw)
            if step is not None:
                return step
        return await self._challenge(ctx, msg)

    # -- Challenge ----------------------------------------------------------------------

    async def _challenge(self, ctx: EapContext, msg: SimMessage) -> EapStep:
        nonce_mt = read_reserved(msg.get(Attr.NONCE_MT), NONCE_SIZE)
        selected = read_u16(msg.get(Attr.SELECTED_VERSION))
        if nonce_mt is None or selected is None:
            return self._error(ctx, "EAP-SIM: Start response without NONCE_MT/SELECTED_VERSION")
        if selected not in self.versions:
            return self._error(ctx, f"EAP-SIM: peer selected unsupported version {selected}")
        if self._imsi is None:
            return self._error(ctx, "EAP-SIM: no subscriber identity")
        triplets = await self._fetch_triplets(ctx, self._imsi)
        if triplets is None:
            return self._error(ctx, "EAP-SIM: no triplets for the subscriber")
        self._mk = master_key(self._mk_identity, [t.kc for t in triplets], nonce_mt,
                              self.versions, selected)
        self._keys = keys = derive_keys(self._mk)
        self._sres = b"".join(t.sres for t in triplets)
        nested = self._next_identities(ctx, pseudonym=True)
        policy = self._policy(ctx)
        self._phase = _Phase.CHALLENGE
        data = req.challenge_request(self._req_id, keys.k_encr, keys.k_aut,
                                     [t.rand for t in triplets], nonce_mt, nested,
                                     policy.result_ind, self._random)
        return EapStep.continue_(data, self._req_id)

    async def _fetch_triplets(self, ctx: EapContext, imsi: str) -> list[prov.Triplet] | None:
        source, count = self._source(ctx), self._policy(ctx).rand_count
        if source is None:
            return None
        try:
            triplets = await source.get_triplets(imsi, count)
        except Exception as exc:  # noqa: BLE001 - a backend failure fails the login only
            ctx.warning("EAP-SIM triplet source failed: %s", type(exc).__name__)
            return None
        if not triplets or len(triplets) != count:
            return None
        if len({t.rand for t in triplets}) != len(triplets):
            ctx.warning("EAP-SIM: triplet source returned duplicate RANDs; refused")
            return None
        return list(triplets)

    def _next_identities(self, ctx: EapContext, pseudonym: bool,
                         counter: int = 0) -> list[bytes]:
        """Fresh pseudonym / re-auth identity for AT_ENCR_DATA, as the policy allows."""
        policy, store = self._policy(ctx), self._store(ctx)
        realm = classify(self._mk_identity).realm
        self._next_pseudonym = self._next_reauth = None
        if store is not None and pseudonym and policy.pseudonyms:
            self._next_pseudonym = new_pseudonym()
        if store is not None and policy.fast_reauth and counter < policy.reauth_max:
            reauth_id = new_reauth_id(realm)
            if len(reauth_id.encode()) <= MAX_NAI:  # the realm is the peer's: it may not fit
                self._next_reauth = reauth_id
            else:
                ctx.debug("EAP-SIM: realm too long for a re-authentication identity")
        return req.identity_attributes(self._next_pseudonym, self._next_reauth)

    async def _on_challenge(self, ctx: EapContext, msg: SimMessage, raw: bytes) -> EapStep:
        assert self._keys is not None and self._imsi is not None
        if not mac_ok(self._keys.k_aut, EAP_RESPONSE, ctx.identifier, raw, self._sres):
            ctx.warning("EAP-SIM: invalid AT_MAC in Challenge response (wrong SRES?)")
            return self._error(ctx, "EAP-SIM: invalid AT_MAC in Challenge response")
        self._pending = (self._keys.msk, self._keys.emsk)
        await self._remember(ctx, prov.ReauthState(self._imsi, self._mk, 0))
        return self._finish(ctx, msg, counter=None)

    # -- fast re-authentication ---------------------------------------------------------

    def _reauth_request(self, ctx: EapContext, who: PeerIdentity,
                        state: prov.ReauthState) -> EapStep:
        self._imsi, self._mk = state.imsi, state.mk
        self._mk_identity = self._reauth_identity = who.raw
        self._keys = keys = derive_keys(state.mk)
        self._counter = state.counter + 1
        self._nonce_s = self._random(NONCE_SIZE)
        self._next_identities(ctx, pseudonym=False, counter=self._counter)
        self._phase = _Phase.REAUTH
        data = req.reauth_request(self._req_id, keys.k_encr, keys.k_aut, self._counter,
                                  self._nonce_s, self._next_reauth,
                                  self._policy(ctx).result_ind, self._random)
        return EapStep.continue_(data, self._req_id)

    async def _on_reauth(self, ctx: EapContext, msg: SimMessage, raw: bytes) -> EapStep:
        assert self._keys is not None and self._imsi is not None and self._counter is not None
        if not mac_ok(self._keys.k_aut, EAP_RESPONSE, ctx.identifier, raw, self._nonce_s):
            return self._error(ctx, "EAP-SIM: invalid AT_MAC in Re-authentication response")
        nested = decrypted_attributes(self._keys.k_encr, msg)
        inner = SimMessage(msg.subtype, nested or ())
        if nested is None or read_u16(inner.get(Attr.COUNTER)) != self._counter:
            return self._error(ctx, "EAP-SIM: bad AT_COUNTER in Re-authentication response")
        if inner.has(Attr.COUNTER_TOO_SMALL):
            ctx.info("EAP-SIM: peer reports counter too small; full authentication")
            self._start_rounds = 0
            return self._start_request(None)  # §5.5: identity known, no id request
        self._pending = derive_reauth_keys(self._reauth_identity, self._counter,
                                           self._nonce_s, self._mk)
        await self._remember(ctx, prov.ReauthState(self._imsi, self._mk, self._counter))
        return self._finish(ctx, msg, counter=self._counter)

    # -- endings ------------------------------------------------------------------------

    async def _remember(self, ctx: EapContext, state: prov.ReauthState) -> None:
        """Store the identities just handed out; a store failure only costs them."""
        store = self._store(ctx)
        if store is None:
            return
        try:
            if self._next_pseudonym:
                await store.save_pseudonym(self._next_pseudonym, state.imsi)
            if self._next_reauth:
                await store.save_reauth(classify(self._next_reauth.encode()).username, state)
        except Exception as exc:  # noqa: BLE001 - identities lost, login still valid
            ctx.warning("EAP-SIM identity store failed: %s", type(exc).__name__)

    def _finish(self, ctx: EapContext, msg: SimMessage, counter: int | None) -> EapStep:
        if self._policy(ctx).result_ind and msg.has(Attr.RESULT_IND):
            assert self._keys is not None
            self._phase, self._notify_success = _Phase.NOTIFICATION, True
            data = req.success_notification(self._req_id, self._keys.k_encr, self._keys.k_aut,
                                            counter, self._random)
            return EapStep.continue_(data, self._req_id)
        return self._succeed()

    def _on_notification(self) -> EapStep:
        # §6.2: after a Success notification the response's contents are ignored.
        return self._succeed() if self._notify_success else self._fail(self._fail_reason)

    def _succeed(self) -> EapStep:
        self._phase = _Phase.DONE
        self._keys_out, self._pending = self._pending, None
        return EapStep.success()

    def _error(self, ctx: EapContext, reason: str) -> EapStep:
        """§6.3.2: a failure Notification round, then EAP-Failure."""
        if self._phase in (_Phase.NOTIFICATION, _Phase.DONE):
            return self._fail(reason)
        ctx.info("%s", reason)
        self._phase, self._notify_success, self._fail_reason = _Phase.NOTIFICATION, False, reason
        self._pending = None
        return EapStep.continue_(req.failure_notification(), self._req_id)

    def _fail(self, reason: str) -> EapStep:
        self._phase = _Phase.DONE
        self._pending = None
        return EapStep.failure(reason)
