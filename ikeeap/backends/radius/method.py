"""EAP pass-through to RADIUS (RFC 3579): the method ``"radius"``, ``eap_type`` None.

Each peer Response goes to the RADIUS server in an Access-Request; the EAP-Message of its
Access-Challenge becomes the next Request (with the server's EAP identifier), whatever EAP
type the server picked.  Access-Accept -> success, MSK = MS-MPPE-Recv-Key ‖ Send-Key, and
the Accept's attributes become an :class:`Authorization`; Access-Reject -> failure.

An Access-Accept counts only with an EAP-Success in it (RFC 3579 §2.6.3): one carrying
EAP-Failure, another code, or no EAP-Message at all is a failure.  Its User-Name, when present,
is who is logged in (the server knows the inner identity of a tunnelled method); the EAP
identity it was sent is then only the outer one (``tunnelled``).

Failover to another server is allowed only for the first Access-Request: once a server has
answered, the conversation (its State) belongs to that server.
"""

from __future__ import annotations

import ipaddress
import secrets
from typing import Any

from pyrad import packet as rp

from ikeeap.eap.authorization import Authorization
from ikeeap.eap.credentials import Providers
from ikeeap.eap.method import BaseMethod, EapContext, EapStep
from ikeeap.eap.packet import EapCode, EapPacket, EapParseError, EapType, parse_eap

from . import codec
from .backend import PROVIDER_NAME, RadiusBackend

# EAP types whose success must come with keys (RFC 5247): TLS, SIM, TTLS, AKA, PEAP,
# MSCHAPv2, FAST, AKA', PWD, EKE, TEAP.
KEY_GENERATING = frozenset({13, 18, 21, 23, 25, 26, 43, 50, 52, 53, 55})
SERVICE_TYPE_FRAMED = 2
NAS_PORT_TYPE_VIRTUAL = 5
_SPECIAL_FRAMED_IPS = ("255.255.255.254", "255.255.255.255")  # "NAS assigns" / "user picks"


class RadiusMethod(BaseMethod):
    name = "radius"
    eap_type = None  # relays any type
    generates_msk = True  # for key-generating inner types; msk() decides after success
    mutual = False
    tunnelled = True  # the Accept's User-Name is the authorised identity

    def __init__(self, config: dict[str, Any] | None = None,
                 providers: Providers | None = None) -> None:
        super().__init__(config, providers)
        self._backend: RadiusBackend | None = None
        self._state: bytes | None = None
        self._server: int | None = None
        self._eap_types: set[int] = set()
        self._msk: bytes | None = None
        self._authorization: Authorization | None = None
        self._user_name: bytes | None = None
        self._session_id = secrets.token_hex(8)
        self._aborted = False

    # -- EapMethod ---------------------------------------------------------------------------

    async def start(self, ctx: EapContext) -> EapStep:
        self._backend = self._find_backend(ctx)
        if self._backend is None:
            ctx.warning("EAP method radius: no [radius] backend configured")
            return EapStep.failure("no RADIUS backend")
        if not ctx.identity:
            return EapStep.failure("RADIUS needs an EAP identity")
        if len(_user_name(ctx).encode("utf-8")) > codec.MAX_ATTRIBUTE_VALUE:
            # The peer chose it: refused like any bad input, not an error building the request
            ctx.info("RADIUS: EAP identity longer than a User-Name (253 octets), refused")
            return EapStep.failure("EAP identity too long for a RADIUS User-Name")
        # The server starts from the peer's Identity Response (answered before this method).
        identity = EapPacket(EapCode.RESPONSE, (ctx.identifier - 1) % 256, EapType.IDENTITY,
                             ctx.identity).encode()
        return await self._round_trip(ctx, identity)

    async def process(self, ctx: EapContext, response: bytes) -> EapStep:
        if self._backend is None or not response:
            return EapStep.failure("RADIUS conversation not started")
        try:
            eap = EapPacket.from_type_data(EapCode.RESPONSE, ctx.identifier, response).encode()
        except ValueError as exc:
            return EapStep.failure(f"cannot relay the response: {exc}")
        return await self._round_trip(ctx, eap)

    def msk(self) -> bytes | None:
        return self._msk

    def authorization(self) -> Authorization | None:
        return self._authorization

    def authenticated_identity(self) -> bytes | None:
        return self._user_name

    def abort(self) -> None:
        self._aborted = True
        self._msk = None

    # -- round trips -------------------------------------------------------------------------

    def _find_backend(self, ctx: EapContext) -> RadiusBackend | None:
        backend = self._providers(ctx).get(PROVIDER_NAME)
        return backend if isinstance(backend, RadiusBackend) else None

    async def _round_trip(self, ctx: EapContext, eap: bytes) -> EapStep:
        assert self._backend is not None
        state, attributes = self._state, self._attributes(ctx)

        def build(secret: bytes, identifier: int) -> rp.Packet:
            return codec.access_request(secret, identifier, attributes, eap=eap, state=state)

        done = await self._backend.authenticate(build, self._server)
        if self._aborted:
            return EapStep.failure("aborted")
        if done.reply is None:
            ctx.warning("RADIUS: %s", done.reason)
            return EapStep.failure(f"RADIUS: {done.reason}")
        self._server = done.server  # the conversation stays with the server that answered
        return self._on_reply(ctx, done.reply)

    def _attributes(self, ctx: EapContext) -> list[tuple[str, object]]:
        assert self._backend is not None
        cfg = self._backend.config
        return [("User-Name", _user_name(ctx)),
                ("NAS-Identifier", cfg.nas_identifier),
                ("NAS-IP-Address", cfg.nas_ip_address),
                ("NAS-Port-Type", NAS_PORT_TYPE_VIRTUAL),
                ("Service-Type", SERVICE_TYPE_FRAMED),
                ("Called-Station-Id", cfg.called_station_id),
                ("Calling-Station-Id", ctx.peer),
                ("Acct-Session-Id", self._session_id)]

    def _on_reply(self, ctx: EapContext, reply: rp.Packet) -> EapStep:
        eap = _parse(codec.join_eap_message(reply))
        identifier = eap.identifier if eap is not None else None
        if reply.code == codec.ACCESS_CHALLENGE:
            if eap is None or eap.code != EapCode.REQUEST or eap.type is None:
                return EapStep.failure("Access-Challenge without an EAP Request")
            self._state = codec.first_value(reply, codec.ATTR_STATE)
            self._eap_types.add(int(eap.type))
            return EapStep.continue_(bytes([eap.type]) + eap.data, identifier=eap.identifier)
        if reply.code == codec.ACCESS_REJECT:
            ctx.info("RADIUS Access-Reject for %r", ctx.user)
            return EapStep.failure("RADIUS Access-Reject", identifier)
        if reply.code != codec.ACCESS_ACCEPT:
            return EapStep.failure(f"unexpected RADIUS code {reply.code}", identifier)
        if eap is None or eap.code != EapCode.SUCCESS:
            what = "no EAP-Message" if eap is None else f"EAP code {int(eap.code)}"
            ctx.warning("RADIUS Access-Accept with %s for %r: refused (RFC 3579 2.6.3)",
                        what, ctx.user)
            return EapStep.failure(f"Access-Accept with {what}", identifier)
        return self._on_accept(ctx, reply, identifier)

    def _on_accept(self, ctx: EapContext, reply: rp.Packet, identifier: int | None) -> EapStep:
        self._user_name = codec.first_value(reply, codec.ATTR_USER_NAME) or None
        self._msk = codec.msk_from_mppe(reply, reply.secret, reply.request_authenticator)
        keyed = sorted(self._eap_types & KEY_GENERATING)
        if self._msk is None and keyed:
            ctx.warning("RADIUS Access-Accept without MS-MPPE keys for key-generating EAP "
                        "type %s: refused (the IKE AUTH could not be bound to it)", keyed)
            return EapStep.failure("Access-Accept without MS-MPPE keys", identifier)
        self._authorization = authorization_from(reply, self._session_id,
                                                 self._backend_label())
        return EapStep.success(identifier)

    def _backend_label(self) -> str | None:
        if self._backend is None or self._server is None:
            return None
        servers = self._backend.config.servers
        return servers[self._server].label if self._server < len(servers) else None


def authorization_from(reply: rp.Packet, session_id: str, server: str | None) -> Authorization:
    """Framed-IP-Address, MS DNS VSAs, Session-Timeout, Class, Acct-Interim-Interval."""
    vip = codec.decode_ipv4(codec.first_value(reply, codec.ATTR_FRAMED_IP_ADDRESS))
    if vip is not None and str(vip) in _SPECIAL_FRAMED_IPS:
        vip = None
    dns = [codec.decode_ipv4(codec.first_value(reply, key))
           for key in (codec.MS_PRIMARY_DNS, codec.MS_SECONDARY_DNS)]
    return Authorization(
        virtual_ip=vip, dns=tuple(d for d in dns if isinstance(d, ipaddress.IPv4Address)),
        session_timeout=codec.decode_u32(codec.first_value(reply, codec.ATTR_SESSION_TIMEOUT)),
        radius_class=tuple(codec.raw_values(reply, codec.ATTR_CLASS)),
        acct_session_id=session_id,
        interim_interval=codec.decode_u32(
            codec.first_value(reply, codec.ATTR_ACCT_INTERIM_INTERVAL)),
        server=server)


def _user_name(ctx: EapContext) -> str:
    return ctx.identity.decode("utf-8", "replace")


def _parse(data: bytes | None) -> EapPacket | None:
    if not data:
        return None
    try:
        return parse_eap(data)
    except EapParseError:
        return None
