"""Every built-in EAP method built for real, each with an in-package peer that logs in to it.

The fuzz targets run a method's genuine conversation and mutate one of the peer's answers,
so the parsers behind the first round see realistic input (TLS records after a real
ClientHello, TTLS AVPs inside a real tunnel, EAP-SIM attributes under a valid AT_MAC ...).

- md5, gtc, mschapv2, pwd: the local user store; :class:`ikeeap.eap.peer.EapPeer`.
- tls: a test CA, a server certificate and a client certificate on disk;
  :class:`ikeeap.eap.peer.tls.TlsPeer` (TLS 1.2, and 1.3 as the second variant).
- ttls: the same server certificate; :class:`TtlsPeer` below (TlsPeer's TLS client plus the
  phase 2 AVPs: PAP, or inner EAP answered by an EapPeer).
- radius: :class:`InProcessRadius`, the real sans-I/O client core talking to an in-process
  :class:`ikeeap.backends.radius.front.RadiusFront` that hosts ikeeap's own EAP method;
  ``reply_hook`` lets a target mutate the server's replies before the client checks them.
- sim: GSM-Milenage test SIMs and an in-memory sqlite identity store;
  :class:`ikeeap.eap.peer.sim.EapSimPeer` (a full authentication, and a fast
  re-authentication after one as the second variant).

Nothing here is cached across conversations except the PKI files: each conversation gets
fresh backends, so a fuzz case cannot leak state into the next one.
"""

from __future__ import annotations

import functools
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ikeeap.backends.radius import codec
from ikeeap.backends.radius.backend import RadiusBackend
from ikeeap.backends.radius.client import Completion, PacketBuilder, RadiusClientCore
from ikeeap.backends.radius.config import RadiusConfig, RadiusServerConfig
from ikeeap.backends.radius.front import RadiusFront
from ikeeap.backends.sim import MilenageSubscriber, MilenageTripletSource, SqliteIdentityStore
from ikeeap.crypto.certs import cert_pem, generate_ca, generate_server_cert, key_pem
from ikeeap.crypto.key_files import write_private_file
from ikeeap.eap.authenticator import EapAuthenticator, EapOutput
from ikeeap.eap.credentials import LocalUserStore, Providers
from ikeeap.eap.method import EapContext
from ikeeap.eap.methods.sim import IDENTITIES, POLICY, TRIPLETS, SimPolicy
from ikeeap.eap.methods.ttls_avp import (
    AVP_EAP_MESSAGE,
    AVP_USER_NAME,
    AVP_USER_PASSWORD,
    Avp,
    AvpError,
    encode_avps,
    parse_avps,
)
from ikeeap.eap.packet import EapCode, EapPacket, EapType, parse_eap
from ikeeap.eap.peer import EapPeer, PeerError
from ikeeap.eap.peer.sim import EapSimPeer, SimPeerState
from ikeeap.eap.peer.tls import TlsPeer
from ikeeap.eap.registry import MethodRegistry
from ikeeap.eap.tls.context import TlsServerFiles
from ikeeap.eap.tls.engine import FLAG_MORE, drain_bio
from ikeeap.initiator.loopback import drive
from ikeeap.testkit.peer import KitPeer

USER, PASSWORD = "alice", "secret"
TLS_USER = "alice@example.test"  # the rfc822Name of the client certificate
OUTER = "anonymous@example.test"  # TTLS's outer identity
PEER_ADDRESS = "198.51.100.9:500"
RADIUS_SECRET = b"fuzz-radius-secret"
RADIUS_SERVER = RadiusServerConfig("127.0.0.1", 1812, RADIUS_SECRET, timeout=1.0, retries=0)
RADIUS_CLIENT_ADDRESS = ("127.0.0.1", 40000)
IMSI = "001010000000001"
SIM_IDENTITY = f"1{IMSI}@wlan.mnc001.mcc001.3gppnetwork.org"
SIM_KI = bytes.fromhex("465b5ce8b199b49faa5f0a2ee238a6bc")  # 3GPP TS 35.208 test set 1
SIM_OPC = bytes.fromhex("cd63cb71954a9f4e48a5994e37a02baf")
ACK = b"\x00"  # TLS-framed Type-Data of an empty response (flags 0)

# The conversations each method is fuzzed in (the first is its plain login).
VARIANTS: dict[str, tuple[str, ...]] = {
    "md5": ("plain",), "gtc": ("plain",), "mschapv2": ("plain",), "pwd": ("plain",),
    "tls": ("tls1.2", "tls1.3"),
    "ttls": ("inner-eap", "pap"),
    "radius": ("mschapv2", "md5"),
    "sim": ("full", "reauth"),
}


def builtin_names() -> set[str]:
    """The built-in methods the registry knows (no entry points, no plugins)."""
    return set(MethodRegistry.discover(entry_points=False).names())


class TtlsPeer(TlsPeer):
    """EAP-TTLSv0 peer: TlsPeer's TLS client (server certificate checked against ``ca``),
    then phase 2 in the tunnel: PAP AVPs, or inner EAP (an EapPeer) in EAP-Message AVPs."""

    eap_type = EapType.TTLS

    def __init__(self, ca: bytes, user: str, password: str, pap: bool) -> None:
        super().__init__(None, None, ca, max_version="1.2")
        self._user, self._password, self._pap = user, password, pap
        self._inner = EapPeer(user, password)
        self._phase2_started = False
        self._seen = 0  # octets of self.app_data already answered

    def process(self, type_data: bytes, identifier: int) -> bytes:
        reply = super().process(type_data, identifier)
        if reply != ACK or type_data[:1] and type_data[0] & FLAG_MORE or self.error:
            return reply  # an ACK of a fragment, or our own records
        if not self._handshake_done:
            return reply
        tunnelled = self._phase2()
        if tunnelled is None:
            return reply
        self.tls.sendall(tunnelled)
        self._outgoing += drain_bio(self.tls)
        return self._frame()

    def _phase2(self) -> bytes | None:
        if not self._phase2_started:
            self._phase2_started = True
            if self._pap:
                padded = self._password.encode() + bytes(-len(self._password) % 16)
                return encode_avps([Avp(AVP_USER_NAME, self._user.encode(), True),
                                    Avp(AVP_USER_PASSWORD, padded, True)])
            identity = EapPacket(EapCode.RESPONSE, 0, EapType.IDENTITY, self._user.encode())
            return encode_avps([Avp(AVP_EAP_MESSAGE, identity.encode(), True)])
        fresh, self._seen = self.app_data[self._seen:], len(self.app_data)
        if not fresh:
            return None
        try:
            request = b"".join(a.data for a in parse_avps(fresh) if a.code == AVP_EAP_MESSAGE)
        except AvpError:
            return None
        answer = self._inner.respond(request) if request else None
        return None if answer is None else encode_avps([Avp(AVP_EAP_MESSAGE, answer, True)])


class InProcessRadius:
    """The RADIUS backend of the ``radius`` method: the production client core
    (ids, verification of every reply) against an in-process front hosting ``inner``.

    ``reply_hook(reply, request_authenticator)`` may replace each reply octet string before
    the client core sees it (None: the reply is lost)."""

    def __init__(self, lab: FuzzLab, inner: str,
                 reply_hook: Callable[[bytes, bytes], bytes | None] | None = None) -> None:
        self.core = RadiusClientCore([RADIUS_SERVER])
        self.front = RadiusFront(RADIUS_SECRET, self._front_authenticator,
                                 random=self._next_state)
        self._states = 0
        self.reply_hook = reply_hook
        self.requests: list[bytes] = []  # what the client core sent, in order
        self.replies: list[bytes] = []  # the front's genuine replies, in order
        self.now = 0.0
        self._lab, self._inner = lab, inner

    def _next_state(self, size: int) -> bytes:
        """Reproducible State values (a fresh front hands out the same ones again), so a
        corpus Access-Request can continue a conversation of a fresh front."""
        self._states += 1
        return f"fuzz-state-{self._states:05d}".encode().ljust(size, b".")[:size]

    def backend(self) -> RadiusBackend:
        return RadiusBackend(RadiusConfig(servers=(RADIUS_SERVER,)), self.authenticate)

    def _front_authenticator(self, first_identifier: int, remote: Any) -> EapAuthenticator:
        providers = self._lab.password_providers()
        registry = self._lab.registry
        ctx = EapContext(peer=f"{remote[0]}:{remote[1]}", providers=providers)
        return EapAuthenticator([registry.factory_for(self._inner, {}, providers)], ctx,
                                first_identifier=first_identifier)

    async def authenticate(self, build: PacketBuilder, server: int | None) -> Completion:
        tx_id = self.core.request(build, self.now, server)
        for raw, address in self.core.datagrams_to_send():
            self.requests.append(raw)
            reply = await self.front.handle(raw, RADIUS_CLIENT_ADDRESS, self.now)
            if reply is None:
                continue
            self.replies.append(reply)
            if self.reply_hook is not None:
                authenticator = raw[4:20]
                reply = self.reply_hook(reply, authenticator)
            if reply is not None:
                self.core.receive(reply, address, self.now)
        done = self.core.completions()
        if not done:  # the reply was refused (or lost): let the attempt time out
            self.now += RADIUS_SERVER.bound + 1
            self.core.handle_timer(self.now)
            done = self.core.completions()
        found = [c for c in done if c.tx_id == tx_id]
        assert len(found) == 1, f"RADIUS transaction {tx_id} did not complete: {done}"
        return found[0]


@dataclass
class Conversation:
    """One login attempt: a fresh authenticator and the peer that answers it."""

    name: str
    variant: str
    authenticator: EapAuthenticator
    peer: Any  # respond(packet) -> bytes | None, raises PeerError
    radius: InProcessRadius | None = None


class FuzzLab:
    """The PKI files, users and SIM subscriber shared by every conversation."""

    def __init__(self) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="ikeeap-fuzz-")
        d = Path(self._tmp.name)
        self.registry = MethodRegistry.discover(entry_points=False)
        self.ca = generate_ca("ikeeap fuzz CA", "ecdsa")
        self.server = generate_server_cert(self.ca, "radius.example.test", "ecdsa")
        self.client = generate_server_cert(self.ca, TLS_USER, "ecdsa", client_auth=True,
                                           common_name="Alice")
        self.ca_pem = cert_pem(self.ca.cert)
        (d / "ca.pem").write_bytes(self.ca_pem)
        (d / "server.pem").write_bytes(cert_pem(self.server.cert))
        write_private_file(d / "server.key", key_pem(self.server.key))
        self.tls_files = TlsServerFiles(d / "server.pem", d / "server.key")
        self.ca_file = d / "ca.pem"
        self.store = LocalUserStore.from_config({USER: {"password": PASSWORD}})
        self.sim_source = MilenageTripletSource({IMSI: MilenageSubscriber(SIM_KI, SIM_OPC)})

    def password_providers(self, **extra: Any) -> Providers:
        return Providers(self.store, self.store, {"tls_server": self.tls_files, **extra})

    def method_config(self, name: str, variant: str) -> dict[str, Any]:
        if name == "tls":
            return {"ca_file": str(self.ca_file),
                    "tls_max_version": "1.3" if variant == "tls1.3" else "1.2"}
        return {}

    def conversation(self, name: str, variant: str | None = None,
                     reply_hook: Callable[[bytes, bytes], bytes | None] | None = None,
                     sim_state: tuple[SqliteIdentityStore, SimPeerState] | None = None,
                     ) -> Conversation:
        """A fresh authenticator offering only ``name`` (built through the registry, as
        ``ikeeap serve`` builds it) and its peer, both at the start of the login."""
        variant = variant or VARIANTS[name][0]
        if variant not in VARIANTS[name]:
            raise ValueError(f"no variant {variant!r} of {name}")
        radius = None
        extra: dict[str, Any] = {}
        if name == "radius":
            radius = InProcessRadius(self, variant, reply_hook)
            extra["radius"] = radius.backend()
        if name == "sim":
            if sim_state is None:
                fresh = (SqliteIdentityStore(":memory:"), SimPeerState())
                sim_state = self.reauth_ready() if variant == "reauth" else fresh
            store, _ = sim_state
            extra.update({TRIPLETS: self.sim_source, IDENTITIES: store, POLICY: SimPolicy()})
        providers = self.password_providers(**extra)
        factory = self.registry.factory_for(name, self.method_config(name, variant), providers)
        ctx = EapContext(peer=PEER_ADDRESS, providers=providers)
        authenticator = EapAuthenticator([factory], ctx)
        return Conversation(name, variant, authenticator, self._peer(name, variant, sim_state),
                            radius)

    def _peer(self, name: str, variant: str, sim_state: Any) -> Any:
        if name in ("md5", "gtc", "mschapv2", "pwd"):
            return EapPeer(USER, PASSWORD, allowed_types=(_EAP_TYPES[name],))
        if name == "radius":
            return EapPeer(USER, PASSWORD, allowed_types=(_EAP_TYPES[variant],))
        if name == "tls":
            pem, key = cert_pem(self.client.cert), key_pem(self.client.key)
            return KitPeer(TLS_USER.encode(), "", [lambda _i, _p: TlsPeer(pem, key, self.ca_pem)])
        if name == "ttls":
            pap = variant == "pap"
            return KitPeer(OUTER.encode(), "",
                           [lambda _i, _p: TtlsPeer(self.ca_pem, USER, PASSWORD, pap)])
        if name == "sim":
            state = sim_state[1]
            return EapSimPeer(SIM_IDENTITY, self.sim_source.gsm_auth(IMSI), state)
        raise KeyError(f"no peer for EAP method {name!r}: add one to fuzz_methods")

    def reauth_ready(self) -> tuple[SqliteIdentityStore, SimPeerState]:
        """A SIM store and peer state after one full authentication (fast re-auth next)."""
        store, state = SqliteIdentityStore(":memory:"), SimPeerState()
        first = self.conversation("sim", "full", sim_state=(store, state))
        result = login(first)
        assert result.success, result.reason
        assert state.reauth_id, "the full authentication handed out no re-auth identity"
        return store, state


_EAP_TYPES = {"md5": EapType.MD5, "gtc": EapType.GTC, "mschapv2": EapType.MSCHAPV2,
              "pwd": EapType.PWD}


def login(conv: Conversation, max_rounds: int = 100,
          transcript: list[tuple[bytes, bytes]] | None = None) -> EapOutput:
    """The unmutated conversation, to its end (each (Request, Response) appended to
    ``transcript``)."""
    out = drive(conv.authenticator.start())
    for _ in range(max_rounds):
        if out.finished:
            conv.peer.respond(out.packet)
            return out
        response = conv.peer.respond(out.packet)
        if transcript is not None:
            transcript.append((out.packet, response))
        out = drive(conv.authenticator.receive(response))
    raise AssertionError(f"{conv.name}/{conv.variant}: no end after {max_rounds} rounds")


_LAB: FuzzLab | None = None


def lab() -> FuzzLab:
    """The one lab of this test run (built on first use: a few key generations)."""
    global _LAB
    if _LAB is None:
        _LAB = FuzzLab()
    return _LAB


def check_output(out: Any) -> None:
    """An authenticator answer as the IKE layer needs it: a Request while the conversation
    goes on, Success or Failure at its end, keys only as bytes."""
    assert isinstance(out, EapOutput), out
    if out.packet is None:
        assert out.ignored, out
        return
    packet = parse_eap(out.packet)
    if out.finished:
        assert packet.code == (EapCode.SUCCESS if out.success else EapCode.FAILURE), out
    else:
        assert packet.code == EapCode.REQUEST and packet.type is not None, out
    for key in (out.msk, out.emsk):
        assert key is None or isinstance(key, bytes)


@functools.cache
def clean_rounds(name: str, variant: str) -> int:
    """How many responses the unmutated login of ``name``/``variant`` takes."""
    conv = lab().conversation(name, variant)
    out, rounds = drive(conv.authenticator.start()), 0
    while not out.finished:
        out = drive(conv.authenticator.receive(conv.peer.respond(out.packet)))
        rounds += 1
    assert out.success, f"{name}/{variant}: the genuine login failed: {out.reason}"
    return rounds


def fuzzed_login(conv: Conversation, at: int, mutate: Callable[[bytes], bytes],
                 noise: list[bytes], max_rounds: int = 200) -> list[EapOutput]:
    """The genuine conversation with the peer's ``at``-th response replaced by
    ``mutate(response)``; then the peer goes on answering (a mutated response the
    authenticator ignored is followed by the genuine one, like a retransmission).  When the
    peer gives up (PeerError), the ``noise`` responses follow.  Returns every output."""
    auth = conv.authenticator
    outputs = [drive(auth.start())]
    peer: Any = conv.peer
    rounds = 0
    while not outputs[-1].finished and rounds < max_rounds:
        rounds += 1
        request = outputs[-1].packet or auth.last_request
        genuine = None
        if peer is not None:
            try:
                genuine = peer.respond(request)
            except PeerError:
                peer = None
        if genuine is None:
            if not noise:
                break
            outputs.append(drive(auth.receive(noise.pop(0))))
            continue
        if rounds - 1 == at:
            outputs.append(drive(auth.receive(mutate(genuine))))
            if not outputs[-1].ignored:
                continue
        outputs.append(drive(auth.receive(genuine)))
    auth.abort()
    return outputs
