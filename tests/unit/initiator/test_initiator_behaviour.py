"""The sans-I/O initiator on its own and against odd responders: retransmit timers, COOKIE,
INVALID_KE_PAYLOAD limits, stray datagrams, NAT detection and responder-initiated requests."""

from __future__ import annotations

import struct

import pytest

from ikeeap.ike.events import Datagram
from ikeeap.ike.proposals import ProposalError
from ikeeap.ike.responder import Responder
from ikeeap.initiator.config import InitiatorConfig, ike_sa_payload
from ikeeap.initiator.initiator import Initiator
from ikeeap.initiator.loopback import Loopback, run_login
from ikeeap.initiator.results import InitiatorEvent, InitiatorState
from ikeeap.initiator.testing import make_pki, make_settings
from ikeeap.wire.codec import encode_message, parse_message
from ikeeap.wire.constants import (
    DhId,
    ExchangeType,
    HeaderFlag,
    NotifyType,
    ProtocolId,
    TransformType,
)
from ikeeap.wire.payloads import DeletePayload, IkeHeader, NotifyPayload

LOCAL, SERVER = ("198.51.100.7", 500), ("192.0.2.1", 500)


@pytest.fixture(scope="module")
def pki():
    return make_pki("ecdsa")


@pytest.fixture
def settings(pki):
    return make_settings(users={"alice": "secret"}, pki=pki)


def _config(pki, **kwargs) -> InitiatorConfig:
    kwargs.setdefault("identity", "alice")
    kwargs.setdefault("password", "secret")
    return InitiatorConfig(ca_certificate=pki.ca.der, **kwargs)


def _error_response(request: bytes, *notifies: NotifyPayload) -> bytes:
    header, _ = parse_message(request)
    reply = IkeHeader(header.spi_i, bytes(8), 0, ExchangeType.IKE_SA_INIT, HeaderFlag.RESPONSE, 0)
    return encode_message(reply, list(notifies))


# ---- configuration -------------------------------------------------------------------------


def test_config_rejects_unknown_eap_method_and_bad_proposal():
    with pytest.raises(ValueError, match="EAP methods"):
        InitiatorConfig(eap_methods=("ttls",))
    with pytest.raises(ProposalError):
        InitiatorConfig(ike_proposals=("aes128-nosuchhash-modp2048",))


def test_ike_sa_payload_offers_every_algorithm_of_each_proposal():
    config = InitiatorConfig(
        ike_proposals=(
            "aes128-aes256-sha256-modp2048-ecp256",
            "chacha20poly1305-prfsha256-curve25519",
        )
    )
    sa = ike_sa_payload(config.ike_specs())
    assert [p.number for p in sa.proposals] == [1, 2]
    first = [(t.type, t.id, t.key_length) for t in sa.proposals[0].transforms]
    assert (TransformType.ENCR, 12, 128) in first and (TransformType.ENCR, 12, 256) in first
    assert (TransformType.DH, DhId.ECP_256, None) in first
    assert all(p.protocol == ProtocolId.IKE and p.spi == b"" for p in sa.proposals)
    assert config.first_dh_group() == DhId.MODP_2048


# ---- timers --------------------------------------------------------------------------------


def test_retransmits_back_off_exponentially_then_fail(pki):
    ini = Initiator(_config(pki, retransmit_timeout=0.5, retransmit_tries=3), LOCAL, SERVER)
    first = ini.start(10.0)
    deadlines = []
    while ini.state != InitiatorState.FAILED:
        deadline = ini.get_timer()
        deadlines.append(deadline)
        assert ini.handle_timer(deadline - 0.01) == []
        again = ini.handle_timer(deadline)
        if again:
            assert again[0].data == first[0].data  # the same octets every time
    assert deadlines == [10.5, 11.5, 13.5, 17.5]
    assert ini.get_timer() is None
    assert ini.result.retransmits == 3
    assert "timeout" in ini.failure_reason


def test_stray_datagrams_are_ignored(pki):
    ini = Initiator(_config(pki), LOCAL, SERVER)
    (request,) = ini.start(0.0)
    header, _ = parse_message(request.data)
    wrong_spi = IkeHeader(
        b"\x01" * 8, bytes(8), 0, ExchangeType.IKE_SA_INIT, HeaderFlag.RESPONSE, 0
    )
    not_response = IkeHeader(header.spi_i, bytes(8), 0, ExchangeType.IKE_SA_INIT, 0, 0)
    wrong_mid = IkeHeader(
        header.spi_i, bytes(8), 0, ExchangeType.IKE_SA_INIT, HeaderFlag.RESPONSE, 1
    )
    for data in (
        b"",
        b"\x00" * 27,
        b"garbage" * 10,
        request.data[:-1],
        encode_message(wrong_spi, [NotifyPayload(NotifyType.NO_PROPOSAL_CHOSEN)]),
        encode_message(not_response, [NotifyPayload(NotifyType.NO_PROPOSAL_CHOSEN)]),
        encode_message(wrong_mid, [NotifyPayload(NotifyType.NO_PROPOSAL_CHOSEN)]),
    ):
        assert ini.receive_datagram(data, 0.1) == []
    assert ini.state == InitiatorState.INIT and ini.get_timer() == 1.0


# ---- IKE_SA_INIT retries -------------------------------------------------------------------


def test_cookie_is_echoed_first_with_same_spi_and_nonce(pki):
    ini = Initiator(_config(pki), LOCAL, SERVER)
    (first,) = ini.start(0.0)
    cookie = b"\xc0" * 20
    (second,) = ini.receive_datagram(
        _error_response(first.data, NotifyPayload(NotifyType.COOKIE, cookie)), 0.1
    )
    h1, p1 = parse_message(first.data)
    h2, p2 = parse_message(second.data)
    assert h2.spi_i == h1.spi_i and h2.message_id == 0
    assert p2[0] == NotifyPayload(NotifyType.COOKIE, cookie)
    assert p2[1:] == p1
    assert InitiatorEvent("cookie", cookie.hex()) in ini.events


class CookieResponder:
    """Wraps a Responder: IKE_SA_INIT without the right COOKIE gets a COOKIE answer."""

    COOKIE = b"\x5a" * 16

    def __init__(self, responder: Responder):
        self._responder = responder
        self.demanded = 0

    def __getattr__(self, name):
        return getattr(self._responder, name)

    def receive_datagram(self, data, local, remote, now):
        header, payloads = parse_message(data)
        cookie = NotifyPayload(NotifyType.COOKIE, self.COOKIE)
        if header.exchange == ExchangeType.IKE_SA_INIT and payloads[0] != cookie:
            self.demanded += 1
            return [Datagram(_error_response(data, cookie), local, remote)]
        return self._responder.receive_datagram(data, local, remote, now)


def test_login_through_a_cookie_demanding_responder(pki, settings):
    responder = CookieResponder(Responder(settings))
    result = run_login(responder, _config(pki))
    assert result.established, result.failure_reason
    assert responder.demanded == 1
    assert result.result.exchanges["IKE_SA_INIT"] == 2


def test_invalid_ke_for_a_group_not_offered_fails(pki):
    ini = Initiator(_config(pki), LOCAL, SERVER)
    (first,) = ini.start(0.0)
    ask = NotifyPayload(NotifyType.INVALID_KE_PAYLOAD, struct.pack("!H", DhId.MODP_3072))
    assert ini.receive_datagram(_error_response(first.data, ask), 0.1) == []
    assert ini.state == InitiatorState.FAILED
    assert ini.failure_notify == NotifyType.INVALID_KE_PAYLOAD


def test_endless_cookie_demands_give_up(pki):
    ini = Initiator(_config(pki, max_init_retries=2), LOCAL, SERVER)
    out = ini.start(0.0)
    for n in range(3):
        cookie = NotifyPayload(NotifyType.COOKIE, bytes([n]) * 8)
        out = ini.receive_datagram(_error_response(out[0].data, cookie), 0.1)
    assert out == [] and ini.state == InitiatorState.FAILED
    assert "too many" in ini.failure_reason


# ---- NAT -----------------------------------------------------------------------------------


def test_nat_detected_from_responder_hashes_floats_to_4500(pki, settings):
    loop = Loopback(settings, record=True)
    result = loop.login(_config(pki), behind_nat=True)
    assert result.established, result.failure_reason
    assert result.result.nat_detected
    assert InitiatorEvent("nat_t", "192.0.2.1:4500") in result.initiator.events
    remote = result.responder_sa.remote
    assert remote[0] == "203.0.113.1" and remote[1] != 4500  # the NAT's port for our 4500
    assert all(d.data[:4] == bytes(4) for d, _ in loop.transcript[2:])


def test_no_nat_no_float(pki, settings):
    result = run_login(settings, _config(pki))
    assert not result.result.nat_detected
    assert result.initiator.remote == SERVER


# ---- requests from the responder -----------------------------------------------------------


def _responder_request(loop: Loopback, mid: int, payloads) -> bytes:
    (sa,) = loop.responder.sas()
    from ikeeap.wire.codec import encode_payloads

    first, inner = encode_payloads(payloads)
    header = IkeHeader(sa.spi_i, sa.spi_r, 0, ExchangeType.INFORMATIONAL, 0, mid)
    return sa.encrypter.seal(header, first, inner)


def test_responder_liveness_and_delete_requests_are_answered(pki, settings):
    loop = Loopback(settings)
    ini = loop.login(_config(pki)).initiator
    ping = _responder_request(loop, 0, [])
    (answer,) = ini.receive_datagram(ping, loop.now)
    header, _ = parse_message(answer.data)
    assert header.flags == HeaderFlag.INITIATOR | HeaderFlag.RESPONSE
    assert ini.receive_datagram(ping, loop.now)[0].data == answer.data  # cached
    assert ini.state == InitiatorState.ESTABLISHED
    delete = _responder_request(loop, 1, [DeletePayload(ProtocolId.IKE)])
    assert ini.receive_datagram(delete, loop.now)
    assert ini.state == InitiatorState.CLOSED and ini.result.deleted
    assert ini.finished


def test_liveness_before_establishment_is_refused(pki):
    ini = Initiator(_config(pki), LOCAL, SERVER)
    ini.start(0.0)
    with pytest.raises(RuntimeError):
        ini.liveness(0.0)
