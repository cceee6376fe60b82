"""The responder's message window and SA states (RFC 7296 §2.1-2.3): a CLOSED SA answers
only retransmissions of its last request while it lingers, never a new request."""

from __future__ import annotations

import pytest

from ikeeap.crypto.sk import SkCipher
from ikeeap.ike.events import ChildSaEstablished, IkeSaDeleted, IkeSaEstablished
from ikeeap.ike.sa import SaState
from ikeeap.initiator import ike_auth as initiator_auth
from ikeeap.initiator.loopback import Loopback, drive
from ikeeap.wire.codec import parse_payloads, sk_offset
from ikeeap.wire.constants import ExchangeType, NotifyType
from ikeeap.wire.payloads import AuthPayload, NotifyPayload


def _events(responder) -> list:
    out = []
    while (event := responder.next_event()) is not None:
        out.append(event)
    return out


def test_terminated_sa_does_not_answer_a_new_informational(settings, client):
    loop = Loopback(settings)
    ini = loop.login(client()).initiator
    responder = loop.responder
    (sa,) = responder.sas()
    delete = responder.terminate(sa.id, loop.now)  # our DELETE, not delivered yet
    assert delete and sa.state == SaState.CLOSED
    _events(responder)
    for payloads in ([], [AuthPayload(2, b"")]):  # a liveness check, anything else
        request = ini.sa.seal(ExchangeType.INFORMATIONAL, ini._next_mid, payloads)
        assert responder.receive_datagram(request, loop.server, ini.local, loop.now) == []
    assert _events(responder) == []
    assert sa.state == SaState.CLOSED and responder.get_sa(sa.id) is sa


def test_sa_closed_by_a_failed_login_answers_only_its_last_request_again(
        settings, client, psk, monkeypatch):
    real = initiator_auth._psk_auth
    monkeypatch.setattr(initiator_auth, "_psk_auth",
                        lambda config, sa: AuthPayload(2, real(config, sa).data[:-1]))
    loop = Loopback(settings, record=True)
    result = loop.login(client(psk=psk))
    assert result.auth_failure is not None
    responder = loop.responder
    sa = responder.get_sa(result.result.spi_r.hex())
    assert sa.state == SaState.CLOSED
    (request, _), (response, _) = loop.transcript[-2:]
    assert _events(responder) == []
    # its last request again (the AUTHENTICATION_FAILED answer was lost): the same answer
    again = responder.receive_datagram(request.data, request.remote, request.local, loop.now)
    assert [d.data for d in again] == [response.data]
    # a new request, next in the window: nothing, the SA is over
    ini = result.initiator
    for exchange in (ExchangeType.INFORMATIONAL, ExchangeType.IKE_AUTH,
                     ExchangeType.CREATE_CHILD_SA):
        message = ini.sa.seal(exchange, ini._next_mid, [])
        assert responder.receive_datagram(message, loop.server, ini.local, loop.now) == []
    assert _events(responder) == []
    loop.advance(60)  # the linger time is over: gone
    assert responder.get_sa(sa.id) is None
    assert responder.receive_datagram(request.data, request.remote, request.local,
                                      loop.now) == []


def test_terminate_reports_once_and_a_second_terminate_does_nothing(settings, client):
    loop = Loopback(settings)
    loop.login(client())
    responder = loop.responder
    (sa,) = responder.sas()
    _events(responder)
    assert responder.terminate(sa.id, loop.now)
    assert [type(e) for e in _events(responder)] == [IkeSaDeleted]
    assert responder.terminate(sa.id, loop.now) == []
    assert _events(responder) == [] and responder.terminate("zz", loop.now) == []


# ---- what reaches an SA at all ---------------------------------------------------------------


def _after_sa_init(settings, config):
    """A loopback after IKE_SA_INIT, the initiator, and its first IKE_AUTH request (held, a
    Datagram)."""
    loop = Loopback(settings)
    held = []
    loop.drop = lambda d, inbound: (inbound and d.data[18] == ExchangeType.IKE_AUTH
                                    and not held.append(d))
    loop.login(config, max_time=0.1)
    loop.drop = None
    return loop, loop.initiators[0], held[0]


def _inner(responder, request: bytes) -> list:
    """The payloads of one of the initiator's requests, opened with the responder's keys."""
    sa = responder.get_sa(request[8:16].hex())
    offset = sk_offset(request)
    plain = SkCipher(sa.suite, sa.keys.sk_ei, sa.keys.sk_ai).open(request, offset)
    return parse_payloads(request[offset], plain)


def _answer_payloads(ini, datagrams) -> list:
    (d,) = datagrams
    return ini.sa.open(d.data)


def test_requests_for_an_unknown_sa_are_dropped(settings, client):
    loop = Loopback(settings)
    ini = loop.login(client()).initiator
    responder = loop.responder
    good = ini.sa.seal(ExchangeType.INFORMATIONAL, ini._next_mid, [])
    for bad in (good[:8] + bytes(8 - 1) + b"\x01" + good[16:],  # another SPIr
                bytes(8 - 1) + b"\x02" + good[8:]):  # the right SPIr, another SPIi
        assert responder.receive_datagram(bad, loop.server, ini.local, loop.now) == []
        response = bad[:19] + bytes([bad[19] | 0x20]) + bad[20:]  # flagged as a response
        assert responder.receive_datagram(response, loop.server, ini.local, loop.now) == []
    assert _events(responder) == []
    loop.to_responder(ini.liveness(loop.now))  # the SA is untouched
    loop.pump()
    assert ini.result.liveness_answered == 1


def test_esp_on_the_nat_port_is_never_taken_for_ike(settings, client):
    """On port 4500 only datagrams behind the 4-octet non-ESP marker are IKE (RFC 3948 §2.2);
    an ESP packet (an SPI first) whose payload happens to look like IKE is the kernel's."""
    loop = Loopback(settings)
    request = loop.add(client()).start(0.0)[0].data
    nat = (loop.server[0], settings.nat_port)
    responder = loop.responder
    for datagram in (b"\x00\x00\x01\x00" + request, b"\xff", b"\x00\x00\x00"):
        assert responder.receive_datagram(datagram, nat, ("198.51.100.9", 4500), 0.0) == []
    assert responder.sas() == []
    assert responder.receive_datagram(bytes(4) + request, nat, ("198.51.100.9", 4500), 0.0)


def _header_edit(request: bytes, **fields) -> bytes:
    data = bytearray(request)
    if "spi_r" in fields:
        data[8:16] = fields["spi_r"]
    if "exchange" in fields:
        data[18] = fields["exchange"]
    if "flags" in fields:
        data[19] = fields["flags"]
    if "message_id" in fields:
        data[20:24] = fields["message_id"].to_bytes(4, "big")
    return bytes(data)


@pytest.mark.parametrize("fields", [
    {"spi_r": b"\x00" * 7 + b"\x01"},  # names a responder SPI we never gave
    {"exchange": ExchangeType.IKE_AUTH}, {"exchange": ExchangeType.INFORMATIONAL},
    {"exchange": ExchangeType.CREATE_CHILD_SA},
    {"message_id": 1},
    {"flags": 0},  # not from the original initiator
], ids=["spi_r", "as_ike_auth", "as_informational", "as_create_child_sa", "message_id_1",
        "no_initiator_flag"])
def test_ike_sa_init_only_as_the_protocol_has_it_creates_an_sa(settings, client, fields):
    loop = Loopback(settings)
    request = loop.add(client()).start(0.0)[0].data
    responder = loop.responder
    bad = _header_edit(request, **fields)
    assert responder.receive_datagram(bad, loop.server, ("198.51.100.9", 500), 0.0) == []
    assert responder.sas() == [] and _events(responder) == []
    assert responder.receive_datagram(request, loop.server, ("198.51.100.9", 500), 0.0)
    assert len(responder.sas()) == 1


@pytest.mark.parametrize("exchange", [ExchangeType.CREATE_CHILD_SA,
                                      ExchangeType.INFORMATIONAL])
def test_ike_auth_payloads_in_another_exchange_do_not_authenticate(settings, client, psk,
                                                                   exchange):
    loop, ini, request = _after_sa_init(settings, client(psk=psk))
    responder = loop.responder
    payloads = _inner(responder, request.data)
    assert any(isinstance(p, AuthPayload) for p in payloads)  # a PSK AUTH that verifies
    disguised = ini.sa.seal(exchange, 1, payloads)
    answer = responder.receive_datagram(disguised, loop.server, ini.local, loop.now)
    events = _events(responder)
    assert not any(isinstance(e, (IkeSaEstablished, ChildSaEstablished)) for e in events)
    assert [p.notify_type for p in _answer_payloads(ini, answer)] == [
        NotifyType.INVALID_SYNTAX]
    assert responder.sas() == [] and settings.pools["psk"].leased == 0


def test_ike_auth_on_an_established_sa_is_refused_and_the_sa_stays(settings, client, psk):
    loop, ini, request = _after_sa_init(settings, client(psk=psk))
    payloads = _inner(loop.responder, request.data)
    loop.to_responder([request])
    loop.pump()
    assert ini.established
    responder = loop.responder
    _events(responder)
    again = ini.sa.seal(ExchangeType.IKE_AUTH, ini._next_mid, payloads)
    answer = responder.receive_datagram(again, loop.server, ini.local, loop.now)
    assert [p.notify_type for p in _answer_payloads(ini, answer)] == [
        NotifyType.INVALID_SYNTAX]
    assert _events(responder) == []
    (sa,) = responder.sas()
    assert sa.state == SaState.ESTABLISHED and settings.pools["psk"].leased == 1


def test_informational_refusing_our_auth_while_authenticating_closes_the_sa(settings, client):
    """RFC 7296 §2.21.2: the initiator tells us it does not accept our certificate/AUTH."""
    loop, ini, request = _after_sa_init(settings, client())
    loop.hold_eap = True
    loop.to_responder([request])
    loop.pump()
    (step,) = loop.held_steps
    loop.complete_eap(step)  # our CERT, AUTH and the first EAP request: not delivered
    responder = loop.responder
    refusal = ini.sa.seal(ExchangeType.INFORMATIONAL, 2,
                          [NotifyPayload(NotifyType.AUTHENTICATION_FAILED)])
    answer = responder.receive_datagram(refusal, loop.server, ini.local, loop.now)
    assert _answer_payloads(ini, answer) == []  # an empty INFORMATIONAL response
    deleted = [e for e in _events(responder) if isinstance(e, IkeSaDeleted)]
    assert [e.reason for e in deleted] == ["peer refused AUTH"]
    assert responder.sas() == []


def test_eap_result_for_a_closed_sa_or_a_second_time_is_not_answered(settings, client):
    loop, ini, request = _after_sa_init(settings, client())
    loop.hold_eap = True
    loop.to_responder([request])
    loop.pump()
    (step,) = loop.held_steps
    responder = loop.responder
    output = drive(step.step)
    assert responder.eap_done(step.sa_id, output, loop.now)  # our first EAP request
    assert responder.eap_done(step.sa_id, output, loop.now) == []  # not pending any more
    # a step still running when the SA is terminated: its result is dropped
    loop2, ini2, request2 = _after_sa_init(settings, client())
    loop2.hold_eap = True
    loop2.to_responder([request2])
    loop2.pump()
    (step2,) = loop2.held_steps
    responder2 = loop2.responder
    output2 = drive(step2.step)
    responder2.terminate(step2.sa_id, loop2.now)
    _events(responder2)
    assert responder2.eap_done(step2.sa_id, output2, loop2.now) == []
    assert _events(responder2) == []
