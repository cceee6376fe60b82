"""EAP-TTLS server (RFC 5281) against an in-memory pyOpenSSL TLS client: phase 2 with PAP
and with inner EAP-MD5/GTC, MSK = RFC 5281 §8 keying material as the client derives it,
fragmentation both ways, and malformed input ending in a clean failure."""

from __future__ import annotations

import asyncio
import hashlib
import struct

import pytest
from OpenSSL import SSL

from ikeeap.crypto.certs import generate_ca, generate_server_cert, save_pem
from ikeeap.eap.authenticator import EapAuthenticator
from ikeeap.eap.credentials import LocalUserStore, Providers
from ikeeap.eap.method import EapContext, StepKind
from ikeeap.eap.methods.ttls import TtlsMethod
from ikeeap.eap.methods.ttls_avp import (
    AVP_EAP_MESSAGE, AVP_USER_NAME, AVP_USER_PASSWORD, Avp, encode_avps, parse_avps,
)
from ikeeap.eap.packet import EapCode, EapPacket, EapType, parse_eap
from ikeeap.eap.tls.context import TlsServerFiles
from ikeeap.eap.tls.engine import FLAG_LENGTH, FLAG_MORE, FLAG_START

USERS = {"alice": {"password": "alice-pw"}}


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory) -> TlsServerFiles:
    d = tmp_path_factory.mktemp("ttls-pki")
    ca = generate_ca("ttls test CA", "ecdsa")
    server = generate_server_cert(ca, "radius.example.test", "ecdsa")
    save_pem(ca, d / "ca.pem", d / "ca.key")
    save_pem(server, d / "server.pem", d / "server.key")
    return TlsServerFiles(d / "server.pem", d / "server.key", d / "ca.pem")


class TtlsClient:
    """Peer side: TLS client in memory BIOs plus EAP-TTLS framing (fragments of ``frag``)."""

    def __init__(self, frag: int = 4000) -> None:
        ctx = SSL.Context(SSL.TLS_CLIENT_METHOD)
        ctx.set_max_proto_version(SSL.TLS1_2_VERSION)
        self.tls = SSL.Connection(ctx, None)
        self.tls.set_connect_state()
        self.frag = frag
        self.incoming = b""
        self.outgoing = b""
        self.app: list[bytes] = []
        self.handshake_done = False
        self._continuing = False  # in the middle of sending a fragmented message

    def _drain(self) -> bytes:
        out = b""
        while True:
            try:
                out += self.tls.bio_read(65536)
            except SSL.WantReadError:
                return out

    def _frame(self) -> bytes:
        chunk, self.outgoing = self.outgoing[: self.frag], self.outgoing[self.frag:]
        flags = FLAG_MORE if self.outgoing else 0
        head = b""
        if not self._continuing:
            flags |= FLAG_LENGTH
            head = struct.pack("!I", len(chunk) + len(self.outgoing))
        self._continuing = bool(self.outgoing)
        return bytes([EapType.TTLS, flags]) + head + chunk

    def send_app(self, data: bytes) -> bytes:
        """Encrypt ``data`` now and return the first fragment of it."""
        self.tls.sendall(data)
        self.outgoing += self._drain()
        return self._frame()

    def respond(self, request: bytes, app_data: bytes | None = None) -> bytes:
        """Type-Data of our response to one request Type-Data."""
        flags, body = request[1], request[2:]
        if flags & FLAG_START:
            self._pump()
            return self._frame()
        if self.outgoing:  # our fragments: the server ACKed one
            return self._frame()
        if flags & FLAG_LENGTH:
            body = body[4:]
        self.incoming += body
        if flags & FLAG_MORE:
            return bytes([EapType.TTLS, 0])  # ACK
        self.tls.bio_write(self.incoming)
        self.incoming = b""
        self._pump()
        if app_data is not None and self.handshake_done:  # phase 2 right after Finished
            self.tls.sendall(app_data)
            self.outgoing += self._drain()
        if not self.outgoing:
            return bytes([EapType.TTLS, 0])
        return self._frame()

    def _pump(self) -> None:
        try:
            self.tls.do_handshake()
            self.handshake_done = True
            while True:
                self.app.append(self.tls.recv(65536))
        except (SSL.WantReadError, SSL.ZeroReturnError):
            pass
        self.outgoing += self._drain()


def _method(tls_files, store=None, **config) -> TtlsMethod:
    providers = Providers.from_store(store or LocalUserStore.from_config(USERS))
    providers = Providers(providers.passwords, providers.verifier, {"tls_server": tls_files})
    return TtlsMethod(config, providers)


async def _handshake(method, client, ctx):
    step = await method.start(ctx)
    while True:
        reply = client.respond(step.data)
        if client.handshake_done and not client.outgoing and reply == bytes(
                [EapType.TTLS, 0]) and not client.incoming:
            return step, reply
        step = await method.process(ctx, reply)
        assert step.kind is StepKind.CONTINUE, step


def _pap(user: str, password: str) -> bytes:
    padded = password.encode() + b"\0" * (-len(password) % 16)
    return encode_avps([Avp(AVP_USER_NAME, user.encode(), True),
                        Avp(AVP_USER_PASSWORD, padded, True)])


@pytest.mark.parametrize("frag", [4000, 100])
@pytest.mark.parametrize("server_frag", [1024, 128])
def test_pap_success_and_msk_matches_client(tls_files, frag, server_frag):
    async def go():
        method = _method(tls_files, max_fragment_size=server_frag)
        client = TtlsClient(frag)
        ctx = EapContext(identity=b"anonymous")
        await _handshake(method, client, ctx)
        tunnelled = client.send_app(_pap("alice", "alice-pw"))
        while client.outgoing or tunnelled[1] & FLAG_MORE:
            step = await method.process(ctx, tunnelled)
            tunnelled = client.respond(step.data)
        final = await method.process(ctx, tunnelled)
        return method, client, final

    method, client, final = asyncio.run(go())
    assert final.kind is StepKind.SUCCESS, final
    keys = client.tls.export_keying_material(b"ttls keying material", 128)
    assert method.msk() == keys[:64] and method.emsk() == keys[64:]
    assert method.is_mutual() is True


def test_pap_wrong_password_fails(tls_files):
    async def go():
        method, client, ctx = _method(tls_files), TtlsClient(), EapContext()
        await _handshake(method, client, ctx)
        return await method.process(ctx, client.send_app(_pap("alice", "nope")))

    step = asyncio.run(go())
    assert step.kind is StepKind.FAILURE
    assert "authentication of 'alice' failed" in step.reason


@pytest.mark.parametrize("inner, answer, ok", [
    ("md5", "alice-pw", True), ("md5", "wrong", False), ("gtc", "alice-pw", True)])
def test_inner_eap(tls_files, inner, answer, ok):
    async def go():
        method = _method(tls_files, inner_methods=[inner])
        client, ctx = TtlsClient(), EapContext(identity=b"anonymous")
        await _handshake(method, client, ctx)
        identity = EapPacket(EapCode.RESPONSE, 7, EapType.IDENTITY, b"alice").encode()
        data = encode_avps([Avp(AVP_EAP_MESSAGE, identity, True)])
        step = await method.process(ctx, client.send_app(data))
        assert step.kind is StepKind.CONTINUE
        client.respond(step.data)
        request = parse_eap(parse_avps(b"".join(client.app))[0].data)
        assert request.identifier == 8 and request.type == (EapType.MD5 if inner == "md5"
                                                            else EapType.GTC)
        if inner == "md5":
            challenge = request.data[1:17]
            value = hashlib.md5(bytes([8]) + answer.encode() + challenge).digest()
            body = bytes([16]) + value
        else:
            body = answer.encode()
        response = EapPacket(EapCode.RESPONSE, 8, request.type, body).encode()
        reply = client.send_app(encode_avps([Avp(AVP_EAP_MESSAGE, response, True)]))
        return method, await method.process(ctx, reply)

    method, step = asyncio.run(go())
    assert (step.kind is StepKind.SUCCESS) is ok, step
    assert (method.msk() is not None) is ok


@pytest.mark.parametrize("junk", [b"", b"\x15", bytes([21, 0x20]), bytes([21, 0x80, 0, 0]),
                                  bytes([21, 0x80]) + b"\xff\xff\xff\xff" + b"x",
                                  bytes([21, 0]) + b"\x16\x03\x01\x00\x05hello"])
def test_malformed_responses_fail_cleanly(tls_files, junk):
    async def go():
        method, ctx = _method(tls_files), EapContext()
        await method.start(ctx)
        step = await method.process(ctx, junk)
        if step.kind is StepKind.CONTINUE:  # an alert was sent first
            step = await method.process(ctx, bytes([21, 0]))
        return step

    assert asyncio.run(go()).kind is StepKind.FAILURE


def _login(tls_files, outer: bytes, inner: str = "alice", policy: str = "anonymous-or-match"):
    """A TTLS/PAP login through the authenticator: (output, client)."""
    from ikeeap.eap.registry import MethodRegistry

    registry = MethodRegistry.discover(entry_points=False)
    store = LocalUserStore.from_config(USERS)
    providers = Providers(store, store, {"tls_server": tls_files})
    auth = EapAuthenticator([registry.factory_for("ttls", {}, providers)],
                            EapContext(identity=outer), identity_round=False,
                            outer_identity=policy)

    async def go():
        out = await auth.start()
        client = TtlsClient()
        for _ in range(20):
            eap = parse_eap(out.packet)
            if out.finished:
                return out, client
            app = None if client.handshake_done else _pap(inner, "alice-pw")
            reply = client.respond(bytes([eap.type]) + eap.data, app)
            out = await auth.receive(EapPacket(EapCode.RESPONSE, eap.identifier, reply[0],
                                               reply[1:]).encode())
        raise AssertionError("no end")

    return asyncio.run(go())


def test_through_the_authenticator_with_registry_name(tls_files):
    """The registry knows "ttls"; the authenticator reports its MSK and mutual flag."""
    out, client = _login(tls_files, b"anonymous@example.org")
    assert out.success and out.mutual and out.method_name == "ttls"
    assert out.msk == client.tls.export_keying_material(b"ttls keying material", 128)[:64]


@pytest.mark.parametrize("outer", [b"anonymous", b"@example.org", b"Anonymous@example.org",
                                   b"alice"])
def test_the_inner_user_is_who_logs_in(tls_files, outer):
    """Alice's inner credentials under an anonymous (or her own) outer identity: alice."""
    out, _ = _login(tls_files, outer)
    assert out.success, out.reason
    assert out.authorized_identity == b"alice"


def test_another_users_outer_identity_is_refused(tls_files):
    """Alice's inner credentials under the outer identity "bob" must not log in bob
    (nor alice: the default rule allows only anonymous or matching outer identities)."""
    out, _ = _login(tls_files, b"bob")
    assert not out.success and out.finished
    assert "outer identity 'bob' is neither 'alice' nor anonymous" in out.reason


def test_outer_identity_any_logs_in_the_inner_user(tls_files):
    out, _ = _login(tls_files, b"bob", policy="any")
    assert out.success and out.identity == b"bob" and out.authorized_identity == b"alice"


def test_outer_identity_must_match_refuses_anonymous(tls_files):
    out, _ = _login(tls_files, b"anonymous", policy="must-match")
    assert not out.success and "does not match 'alice'" in out.reason
