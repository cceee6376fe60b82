"""The responder's message window and SA states (RFC 7296 §2.1-2.3): a CLOSED SA answers
only retransmissions of its last request while it lingers, never a new request."""

from __future__ import annotations

from ikeeap.ike.events import IkeSaDeleted
from ikeeap.ike.sa import SaState
from ikeeap.initiator import ike_auth as initiator_auth
from ikeeap.initiator.loopback import Loopback
from ikeeap.wire.constants import ExchangeType
from ikeeap.wire.payloads import AuthPayload


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
