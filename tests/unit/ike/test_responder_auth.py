"""The responder's AUTH checks (RFC 7296 §2.15, §2.16, §3.8): a PSK or MSK-keyed AUTH is
accepted only when it is exactly the expected value under the shared-key method, and the AUTH
payload has the §3.8 layout (method, 3 reserved octets, data).

The layout is checked on octets built and read by hand here: the in-package initiator shares
ikeeap.wire.codec with the responder, so a codec that wrote and read 2 reserved octets would
still let it log in."""

from __future__ import annotations

import dataclasses
import struct

import pytest

from ikeeap.crypto.auth import shared_key_auth, signed_octets
from ikeeap.crypto.sk import SkCipher
from ikeeap.ike.responder import Responder
from ikeeap.initiator import ike_auth as initiator_auth
from ikeeap.initiator.loopback import Loopback
from ikeeap.initiator.results import InitiatorState
from ikeeap.wire.codec import parse_header_only  # the header only: no payload codec
from ikeeap.wire.constants import AuthMethod, ExchangeType, NotifyType
from ikeeap.wire.payloads import AuthPayload, EapPayload, IdPayload

from test_responder_window import _after_sa_init, _answer_payloads, _events, _inner

IKE_HEADER = 28
GENERIC = 4
SK, AUTH, IDI, IDR, TSI, TSR, NOTIFY = 46, 39, 35, 36, 44, 45, 41


def _truncated(a: AuthPayload) -> AuthPayload:
    return AuthPayload(a.method, a.data[:-1])


def _half(a: AuthPayload) -> AuthPayload:
    return AuthPayload(a.method, a.data[: len(a.data) // 2])


def _empty(a: AuthPayload) -> AuthPayload:
    return AuthPayload(a.method, b"")


def _longer(a: AuthPayload) -> AuthPayload:
    return AuthPayload(a.method, a.data + b"\x00")


def _flipped(a: AuthPayload) -> AuthPayload:
    return AuthPayload(a.method, a.data[:-1] + bytes([a.data[-1] ^ 1]))


def _rsa_method(a: AuthPayload) -> AuthPayload:
    return AuthPayload(AuthMethod.RSA_SIG, a.data)


def _signature_method(a: AuthPayload) -> AuthPayload:
    return AuthPayload(AuthMethod.DIGITAL_SIGNATURE, a.data)


BAD_AUTH = [
    pytest.param(_empty, id="empty"),
    pytest.param(_truncated, id="truncated-by-one"),
    pytest.param(_half, id="first-half"),
    pytest.param(_longer, id="one-octet-longer"),
    pytest.param(_flipped, id="last-bit-flipped"),
    pytest.param(_rsa_method, id="method-rsa"),
    pytest.param(_signature_method, id="method-digital-signature"),
]


def _assert_refused_without_sa(loop: Loopback, result, settings, pool: str) -> None:
    assert result.state == InitiatorState.FAILED
    assert result.initiator.failure_notify == NotifyType.AUTHENTICATION_FAILED
    assert result.auth_failure is not None
    assert result.responder_sa is None and result.responder_child is None
    assert loop.responder.sas() == []
    assert settings.pools[pool].leased == 0


@pytest.mark.parametrize("tamper", BAD_AUTH)
def test_psk_auth_that_is_not_exactly_the_expected_value_is_refused(
        settings, client, psk, monkeypatch, tamper):
    real = initiator_auth._psk_auth
    monkeypatch.setattr(initiator_auth, "_psk_auth",
                        lambda config, sa: tamper(real(config, sa)))
    loop = Loopback(settings)
    result = loop.login(client(psk=psk))
    _assert_refused_without_sa(loop, result, settings, "psk")
    assert "PSK AUTH does not verify" in result.auth_failure.reason


@pytest.mark.parametrize("tamper", BAD_AUTH)
def test_final_eap_auth_that_is_not_exactly_the_expected_value_is_refused(
        settings, client, monkeypatch, tamper):
    real = initiator_auth.final_auth
    monkeypatch.setattr(initiator_auth, "final_auth",
                        lambda config, sa, msk: tamper(real(config, sa, msk)))
    loop = Loopback(settings)
    result = loop.login(client())
    _assert_refused_without_sa(loop, result, settings, "eap")
    assert "final AUTH does not verify" in result.auth_failure.reason


# ---- the AUTH payload on the wire (RFC 7296 §3.8), by hand ---------------------------------


def _walk(first: int, inner: bytes) -> list[tuple[int, bytes]]:
    """(payload type, body) of each payload of a chain, read from the generic headers."""
    out, kind, pos = [], first, 0
    while kind != 0:
        nxt, _critical, length = struct.unpack_from("!BBH", inner, pos)
        out.append((kind, inner[pos + GENERIC:pos + length]))
        kind, pos = nxt, pos + length
    assert pos == len(inner)
    return out


def _chain(payloads: list[tuple[int, bytes]]) -> tuple[int, bytes]:
    out = b""
    for i, (_, body) in enumerate(payloads):
        nxt = payloads[i + 1][0] if i + 1 < len(payloads) else 0
        out += struct.pack("!BBH", nxt, 0, GENERIC + len(body)) + body
    return payloads[0][0], out


class AuthRewriter:
    """In front of the Responder: replaces the AUTH payload body of the initiator's IKE_AUTH
    request with ``new_body(old_body)`` (octets), and keeps the IKE_AUTH responses' payloads,
    both decrypted and re-encrypted without the codec."""

    def __init__(self, responder: Responder, new_body):
        self.responder = responder
        self.new_body = new_body
        self.responses: list[list[tuple[int, bytes]]] = []
        self.sa = None
        self.rewrite = None  # or a function of the whole (type, body) list

    def __getattr__(self, name):
        return getattr(self.responder, name)

    def receive_datagram(self, data, local, remote, now):
        if data[18] != ExchangeType.IKE_AUTH:  # the header's Exchange Type octet
            return self.responder.receive_datagram(data, local, remote, now)
        sa = self.sa = self.responder.get_sa(data[8:16].hex())
        assert data[16] == SK  # the initiator puts everything in one SK payload
        inner = SkCipher(sa.suite, sa.keys.sk_ei, sa.keys.sk_ai).open(data, IKE_HEADER)
        payloads = [(kind, self.new_body(body) if kind == AUTH and self.new_body else body)
                    for kind, body in _walk(data[IKE_HEADER], inner)]
        if self.rewrite is not None:
            payloads = self.rewrite(payloads)
        first, inner = _chain(payloads)
        rewritten = SkCipher(sa.suite, sa.keys.sk_ei, sa.keys.sk_ai).seal(
            parse_header_only(data), first, inner)
        out = self.responder.receive_datagram(rewritten, local, remote, now)
        for d in out:
            plain = SkCipher(sa.suite, sa.keys.sk_er, sa.keys.sk_ar).open(d.data, IKE_HEADER)
            self.responses.append(_walk(d.data[IKE_HEADER], plain))
        return out


def _psk_login_with_auth_body(settings, client, psk, new_body):
    peer = AuthRewriter(Responder(settings), new_body)
    loop = Loopback(peer)
    return peer, loop, loop.login(client(psk=psk))


def test_hand_built_rfc7296_auth_payload_is_accepted_and_answered_in_the_same_layout(
        settings, client, psk):
    seen = []

    def rebuild(body: bytes) -> bytes:
        seen.append(body)
        return bytes([AuthMethod.SHARED_KEY, 0, 0, 0]) + body[4:]  # §3.8: method, RESERVED(3)

    peer, _, result = _psk_login_with_auth_body(settings, client, psk, rebuild)
    assert result.established, result.failure_reason
    assert seen[0][:4] == bytes([AuthMethod.SHARED_KEY, 0, 0, 0])  # the initiator, too
    (response,) = peer.responses
    auth = next(body for kind, body in response if kind == AUTH)
    id_r = next(body for kind, body in response if kind == IDR)
    assert auth[:4] == bytes([AuthMethod.SHARED_KEY, 0, 0, 0])
    sa, prf = peer.sa, peer.sa.suite.prf
    octets = signed_octets(sa.init_response, sa.ni, prf, sa.keys.sk_pr, id_r)
    assert auth[4:] == shared_key_auth(prf, psk.encode(), octets)


def test_auth_payload_with_two_reserved_octets_is_refused(settings, client, psk):
    def two_reserved(body: bytes) -> bytes:
        return bytes([AuthMethod.SHARED_KEY, 0, 0]) + body[4:]

    peer, loop, result = _psk_login_with_auth_body(settings, client, psk, two_reserved)
    assert result.initiator.failure_notify == NotifyType.AUTHENTICATION_FAILED
    assert result.responder_sa is None and loop.responder.sas() == []
    (response,) = peer.responses
    assert response == [(NOTIFY, struct.pack("!BBH", 0, 0, NotifyType.AUTHENTICATION_FAILED))]


# ---- IKE_AUTH rounds out of the protocol's order -------------------------------------------


def _reordered(kinds_first: tuple[int, ...]):
    """A rewrite moving the payloads of ``kinds_first`` to the front, in that order."""
    def rewrite(payloads):
        front = [p for k in kinds_first for p in payloads if p[0] == k]
        return front + [p for p in payloads if p[0] not in kinds_first]
    return rewrite


def test_idi_is_found_by_its_type_not_by_its_place(settings, client, psk):
    """IDr before IDi (and TSr before TSi) in the first IKE_AUTH: the responder still takes the
    initiator's identity from IDi; taking IDr would be another identity (and another AUTH)."""
    peer = AuthRewriter(Responder(settings), None)
    peer.rewrite = _reordered((IDR, TSR, IDI, TSI))
    loop = Loopback(peer)
    result = loop.login(client(psk=psk, remote_identity="vpn.example.org"))
    assert result.established, result.failure_reason
    assert result.responder_sa.identity == "alice" and result.keymat_match


def test_ike_auth_without_idi_is_refused(settings, client, psk):
    loop, ini, request = _after_sa_init(settings, client(psk=psk))
    payloads = [p for p in _inner(loop.responder, request.data)
                if not (isinstance(p, IdPayload) and p.initiator)]
    answer = loop.responder.receive_datagram(ini.sa.seal(ExchangeType.IKE_AUTH, 1, payloads),
                                             loop.server, ini.local, loop.now)
    assert [p.notify_type for p in _answer_payloads(ini, answer)] == [
        NotifyType.INVALID_SYNTAX]
    assert [e.reason for e in _events(loop.responder)] == ["IKE_AUTH without IDi"]
    assert loop.responder.sas() == []


@pytest.mark.parametrize("payloads", [[], [EapPayload(bytes([2, 9, 0, 5, 1]))]],
                         ids=["nothing", "eap-response"])
def test_after_eap_success_only_an_auth_payload_is_in_sequence(settings_factory, client,
                                                               payloads):
    """Messages 7/8 of §2.16: after EAP-Success the initiator sends AUTH; anything else is
    out of sequence and ends the SA (EAP does not start again, nothing is authenticated)."""
    settings = settings_factory(eap_methods=("md5",))
    loop = Loopback(settings)
    held = []
    final_mid = 4  # IDi; Identity response; MD5 response; then AUTH
    loop.drop = lambda d, inbound: (inbound and d.data[18] == ExchangeType.IKE_AUTH
                                    and d.data[20:24] == final_mid.to_bytes(4, "big")
                                    and not held.append(d))
    result = loop.login(client(eap_methods=("md5",)), max_time=0.1)
    assert held and result.responder_sa is None
    ini, responder = result.initiator, loop.responder
    _events(responder)
    other = ini.sa.seal(ExchangeType.IKE_AUTH, final_mid, payloads)
    answer = responder.receive_datagram(other, loop.server, ini.local, loop.now)
    assert [p.notify_type for p in _answer_payloads(ini, answer)] == [
        NotifyType.INVALID_SYNTAX]
    events = _events(responder)
    assert [e.reason for e in events] == ["IKE_AUTH out of sequence"]
    assert responder.sas() == [] and settings.pools["eap"].leased == 0


def test_eap_without_a_server_certificate_or_eap_methods_fails_cleanly(settings_factory,
                                                                        client):
    for settings in (settings_factory(server_certificate=False),
                     dataclasses.replace(settings_factory(), eap_factory=None)):
        loop = Loopback(settings)
        result = loop.login(client())
        assert result.initiator.failure_notify == NotifyType.AUTHENTICATION_FAILED
        assert "needs a server certificate and EAP methods" in result.auth_failure.reason
        assert loop.responder.sas() == []


@dataclasses.dataclass
class _Step:
    packet: bytes | None
    finished: bool = False


class _ScriptedAuthenticator:
    """An EAP authenticator whose steps give the packets of ``script`` (None: no packet)."""

    def __init__(self, script):
        self.script = list(script)

    async def start(self):
        return _Step(self.script.pop(0))

    async def receive(self, data):
        return _Step(self.script.pop(0))

    def abort(self):
        pass


def _scripted(settings, script):
    return dataclasses.replace(settings,
                               eap_factory=lambda conn, peer, remote: _ScriptedAuthenticator(
                                   script))


def test_an_eap_start_without_a_request_fails_the_login(settings, client):
    loop = Loopback(_scripted(settings, [None]))
    result = loop.login(client())
    assert "EAP authenticator produced no request" in result.auth_failure.reason
    assert loop.responder.sas() == []


def test_an_eap_step_without_a_packet_repeats_the_last_request(settings, client):
    request = bytes([1, 7, 0, 5, 1])  # EAP-Request/Identity
    loop = Loopback(_scripted(settings, [request, None]), record=True)
    loop.login(client(), max_time=0.1)
    answers = [d for d, inbound in loop.transcript if not inbound and d.data[18] == 35]
    ini = loop.initiators[0]
    eap = [[p.data for p in ini.sa.open(d.data) if isinstance(p, EapPayload)] for d in answers]
    assert eap[:2] == [[request], [request]]  # the discarded response: the request again


def test_failed_eap_answers_eap_failure_with_authentication_failed(settings_factory, client):
    """The EAP-Failure goes to the initiator in the same response as the notify (§2.16)."""
    settings = settings_factory(eap_methods=("md5",))
    loop = Loopback(settings, record=True)
    result = loop.login(client(password="wrong", eap_methods=("md5",)))
    assert result.auth_failure is not None
    last = next(d for d, inbound in reversed(loop.transcript) if not inbound)
    payloads = result.initiator.sa.open(last.data)
    eap = [p.data for p in payloads if isinstance(p, EapPayload)]
    assert len(eap) == 1 and eap[0][0] == 4  # Code 4: Failure
    assert [p.notify_type for p in payloads if hasattr(p, "notify_type")] == [
        NotifyType.AUTHENTICATION_FAILED]


def test_traffic_selectors_are_taken_from_tsi_and_tsr(settings, client):
    result = Loopback(settings).login(client(ts_r=("10.20.0.0/16",)))
    assert result.established
    assert result.responder_child.ts_r == ("10.20.0.0/16",)  # TSi is 0.0.0.0/0
