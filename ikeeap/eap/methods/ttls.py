"""EAP-TTLSv0, server side (RFC 5281), on the TLS engine of :mod:`ikeeap.eap.tls.engine`.

Phase 1 is a TLS handshake (server certificate only; TLS 1.2 by default).  Phase 2 is what
the peer sends first inside the tunnel:

- ``User-Name`` + ``User-Password`` AVPs (PAP): checked by the connection's
  :class:`PasswordVerifier` (local users, LDAP);
- ``EAP-Message`` AVPs starting with an EAP-Response/Identity: an inner
  :class:`EapAuthenticator` runs the configured inner methods (MSCHAPv2, MD5, GTC) with the
  same providers; its Requests travel back in EAP-Message AVPs.  The inner EAP-Success is not
  tunnelled: the outer conversation ends with EAP-Success (as strongSwan and FreeRADIUS do).

Who is logged in is the inner identity (the PAP User-Name, or the inner EAP identity): the
outer one only routes (``tunnelled``; the connection's ``outer_identity`` rule applies).

MSK ‖ EMSK = TLS-PRF(master secret, "ttls keying material", client.random ‖ server.random),
128 octets (RFC 5281 §8), i.e. the RFC 5705 exporter without context.  Mutual: the server
is authenticated by its certificate.

Config (``[methods.ttls]``): ``inner_methods`` (default ``["mschapv2", "md5", "gtc"]``),
``pap`` (bool, default true), ``inner`` (table of per-inner-method configs),
``max_fragment_size`` (default 1024), ``tls_min_version``/``tls_max_version`` ("1.2"),
``certificate``/``private_key`` (default: the IKE server certificate via the
``tls_server`` provider).
"""

from __future__ import annotations

import functools
from typing import Any

from ikeeap.eap.authenticator import EapAuthenticator, EapOutput
from ikeeap.eap.credentials import Providers, refusal_reason
from ikeeap.eap.method import EapContext, EapStep
from ikeeap.eap.methods.ttls_avp import (
    AVP_EAP_MESSAGE, AVP_USER_NAME, AVP_USER_PASSWORD, Avp, AvpError, encode_avp, parse_avps,
)
from ikeeap.eap.packet import EapCode, EapParseError, EapType, parse_eap
from ikeeap.eap.tls.context import files_from_config, server_context
from ikeeap.eap.tls.engine import DEFAULT_MAX_FRAGMENT, TlsEngine
from ikeeap.eap.tls.method import TlsBasedMethod

KEYING_LABEL = b"ttls keying material"
DEFAULT_INNER = ("mschapv2", "md5", "gtc")
MAX_INNER_ROUNDS = 32
_KNOWN_AVPS = {AVP_USER_NAME, AVP_USER_PASSWORD, AVP_EAP_MESSAGE}


@functools.cache
def _builtin_registry() -> Any:
    from ikeeap.eap.registry import MethodRegistry  # the registry imports methods: no cycle

    registry = MethodRegistry()
    registry.load_builtins()
    return registry


class TtlsMethod(TlsBasedMethod):
    name = "ttls"
    eap_type = EapType.TTLS
    label = "EAP-TTLS"
    tunnelled = True

    def __init__(self, config: dict[str, Any] | None = None,
                 providers: Providers | None = None) -> None:
        super().__init__(config, providers)
        self._inner_names = tuple(self.config.get("inner_methods", DEFAULT_INNER))
        self._pap = bool(self.config.get("pap", True))
        self._inner: EapAuthenticator | None = None
        self._inner_rounds = 0
        self._inner_identity: bytes | None = None

    def _new_engine(self, ctx: EapContext) -> TlsEngine:
        files = files_from_config(self.config, self._providers(ctx).get("tls_server"))
        context = server_context(files, str(self.config.get("tls_min_version", "1.2")),
                                 str(self.config.get("tls_max_version", "1.2")))
        return TlsEngine(EapType.TTLS, context, version=0, max_fragment_size=int(
            self.config.get("max_fragment_size", DEFAULT_MAX_FRAGMENT)))

    async def process(self, ctx: EapContext, response: bytes) -> EapStep:
        if self._engine is None or self._keys is not None:
            return EapStep.failure("EAP-TTLS response out of sequence")
        step = self._engine.receive(response)
        if step.failure:
            return self._tls_failure(ctx, step)
        if step.reply:
            return EapStep.continue_(step.reply)
        if not step.handshake_complete:
            return EapStep.failure("EAP-TTLS: TLS handshake stalled")
        if not step.app_data:
            return EapStep.failure("EAP-TTLS: no phase 2 data from the peer")
        return await self._phase2(ctx, step.app_data)

    def authenticated_identity(self) -> bytes | None:
        return self._inner_identity if self._keys is not None else None

    def abort(self) -> None:
        if self._inner is not None:
            self._inner.abort()
        super().abort()

    # -- phase 2 ------------------------------------------------------------------------

    async def _phase2(self, ctx: EapContext, data: bytes) -> EapStep:
        try:
            avps = parse_avps(data)
        except AvpError as exc:
            return EapStep.failure(f"EAP-TTLS: malformed AVPs ({exc})")
        unknown = [a.code for a in avps
                   if a.mandatory and (a.vendor_id is not None or a.code not in _KNOWN_AVPS)]
        if unknown:  # RFC 5281 §10.1: an unsupported mandatory AVP fails phase 2
            return EapStep.failure(f"EAP-TTLS: unsupported mandatory AVPs {unknown}")
        eap = b"".join(a.data for a in avps if a.code == AVP_EAP_MESSAGE and not a.vendor_id)
        if eap:
            return await self._inner_eap(ctx, eap)
        values = {a.code: a.data for a in avps if a.vendor_id is None}
        if self._inner is None and AVP_USER_PASSWORD in values and AVP_USER_NAME in values:
            return await self._pap_check(ctx, values[AVP_USER_NAME], values[AVP_USER_PASSWORD])
        return EapStep.failure("EAP-TTLS: no supported phase 2 authentication")

    async def _pap_check(self, ctx: EapContext, user_octets: bytes, pw_octets: bytes) -> EapStep:
        if not self._pap:
            return EapStep.failure("EAP-TTLS: PAP is disabled")
        try:  # User-Password is NUL-padded to a multiple of 16 octets (RFC 5281 §11.2.5)
            user = user_octets.decode("utf-8")
            password = pw_octets.rstrip(b"\x00").decode("utf-8")
        except UnicodeDecodeError:
            return EapStep.failure("EAP-TTLS/PAP: user name or password not UTF-8")
        verifier = self._providers(ctx).verifier
        if verifier is None or not user or not password or "\x00" in password:
            return EapStep.failure("EAP-TTLS/PAP: cannot verify")
        verdict = await verifier.verify(user, password)
        if not verdict:
            return EapStep.failure(f"EAP-TTLS/PAP authentication of {user!r} failed: "
                                   f"{refusal_reason(verdict, 'password refused')}")
        ctx.info("EAP-TTLS/PAP: %r authenticated", user)
        return self._succeed(user_octets)

    async def _inner_eap(self, ctx: EapContext, packet: bytes) -> EapStep:
        self._inner_rounds += 1
        if self._inner_rounds > MAX_INNER_ROUNDS:
            return EapStep.failure("EAP-TTLS: too many inner EAP rounds")
        if self._inner is None:
            started = self._start_inner(ctx, packet)
            if isinstance(started, EapStep):
                return started
            output = await started.start()
        else:
            output = await self._inner.receive(packet)
        return self._inner_output(ctx, output)

    def _start_inner(self, ctx: EapContext, packet: bytes) -> EapAuthenticator | EapStep:
        try:
            eap = parse_eap(packet)
        except EapParseError as exc:
            return EapStep.failure(f"EAP-TTLS: malformed inner EAP ({exc})")
        if eap.code != EapCode.RESPONSE or eap.type != EapType.IDENTITY or not eap.data:
            return EapStep.failure("EAP-TTLS: inner EAP must start with an Identity response")
        providers = self._providers(ctx)
        inner_config = dict(self.config.get("inner", {}))
        try:
            factories = [_builtin_registry().factory_for(n, inner_config.get(n), providers)
                         for n in self._inner_names if n != self.name]
        except Exception as exc:  # unknown inner method name: a config problem, logged
            ctx.warning("EAP-TTLS inner methods: %s", exc)
            return EapStep.failure("EAP-TTLS: inner methods misconfigured")
        inner_ctx = EapContext(identity=eap.data, peer=f"{ctx.peer} (ttls)",
                               providers=providers, log=ctx.log)
        self._inner = EapAuthenticator(factories, inner_ctx, identity_round=False,
                                       first_identifier=(eap.identifier + 1) % 256)
        return self._inner

    def _inner_output(self, ctx: EapContext, output: EapOutput) -> EapStep:
        if output.ignored or output.packet is None:
            return EapStep.failure(f"EAP-TTLS: inner EAP packet refused ({output.reason})")
        if output.finished:
            if not output.success:
                return EapStep.failure(f"EAP-TTLS inner {output.method_name}: {output.reason}")
            inner = output.authorized_identity or output.identity or b""
            ctx.info("EAP-TTLS inner EAP-%s: %r authenticated", output.method_name,
                     inner.decode("utf-8", "replace"))
            return self._succeed(inner)
        return self._tunnel(encode_avp(Avp(AVP_EAP_MESSAGE, output.packet, mandatory=True)))

    def _tunnel(self, data: bytes) -> EapStep:
        assert self._engine is not None
        reply = self._engine.send_application(data)
        if reply is None:
            return EapStep.failure("EAP-TTLS: could not send in the tunnel")
        return EapStep.continue_(reply)

    def _succeed(self, inner_identity: bytes) -> EapStep:
        assert self._engine is not None
        self._inner_identity = inner_identity
        try:
            self._keys = self._engine.export_key(KEYING_LABEL, 128)
        except RuntimeError as exc:
            return EapStep.failure(f"EAP-TTLS: {exc}")
        return EapStep.success()
