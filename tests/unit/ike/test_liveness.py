"""Responder-sent liveness checks, dead-peer cleanup and the re-authentication lifetime."""

from __future__ import annotations

import dataclasses

from ikeeap.eap.authorization import Authorization
from ikeeap.ike.events import IkeSaDeleted
from ikeeap.ike.hardening import Hardening
from ikeeap.initiator.loopback import Loopback
from ikeeap.wire.codec import parse_header_only
from ikeeap.wire.constants import ExchangeType


def _established(settings_factory, client, **limits):
    settings = settings_factory(hardening=Hardening(**limits))
    loop = Loopback(settings, record=True)
    result = loop.login(client())
    assert result.established
    return loop, result.initiator, settings


def test_live_peer_answers_checks_and_keeps_its_sa(settings_factory, client):
    loop, _, _ = _established(settings_factory, client, dpd_interval=10, dpd_timeout=5)
    loop.transcript.clear()
    loop.advance(35)  # three idle intervals: three checks, each answered by the initiator
    assert len(loop.responder.sas()) == 1
    assert not any(isinstance(e, IkeSaDeleted) for e in loop.events)
    headers = [(parse_header_only(d.data), inbound) for d, inbound in loop.transcript]
    checks = [h.message_id for h, inbound in headers if not inbound and not h.is_response]
    answers = [h.message_id for h, inbound in headers if inbound and h.is_response]
    assert checks == answers == [0, 1, 2]
    assert all(h.exchange == ExchangeType.INFORMATIONAL for h, _ in headers)


def test_dead_peer_is_removed_after_dpd_timeout(settings_factory, client):
    loop, _, settings = _established(settings_factory, client, dpd_interval=10,
                                       dpd_timeout=5)
    pool = settings.pools["eap"]
    assert pool.leased == 1
    retransmits = []
    loop.drop = lambda d, inbound: not inbound and retransmits.append(d) is None  # peer gone
    loop.advance(14)
    assert len(loop.responder.sas()) == 1  # checking: sent at 10, still inside the timeout
    loop.advance(2)
    assert loop.responder.sas() == []
    deleted = [e for e in loop.events if isinstance(e, IkeSaDeleted)]
    assert deleted and "no answer to liveness checks" in deleted[0].reason
    assert len({d.data for d in retransmits}) == 1 and len(retransmits) >= 3  # same request
    assert pool.leased == 0  # the virtual IP went back to the pool


def test_reauth_time_deletes_the_sa(settings_factory, client):
    loop, ini, _ = _established(settings_factory, client, reauth_time=60)
    loop.advance(59)
    assert len(loop.responder.sas()) == 1
    loop.advance(2)
    assert loop.responder.sas() == []
    assert any(isinstance(e, IkeSaDeleted) and e.reason == "reauth_time reached"
               for e in loop.events)
    assert ini.result.deleted  # the initiator got our Delete


def test_no_checks_when_disabled(settings_factory, client):
    loop, _, _ = _established(settings_factory, client)
    sent = loop.sent
    assert loop.responder.get_timer() is None
    loop.advance(3600)
    assert loop.sent == sent and len(loop.responder.sas()) == 1



def test_backend_session_timeout_limits_the_sa(settings_factory, client):
    """A backend's Session-Timeout (Authorization.session_timeout, e.g. from a RADIUS
    Access-Accept) ends the SA for re-authentication even with no liveness checks or
    reauth_time configured."""
    settings = settings_factory()
    make = settings.eap_factory

    def with_session_timeout(*args):
        authenticator = make(*args)
        receive = authenticator.receive

        async def receive_with_authorization(packet):
            out = await receive(packet)
            if out.finished and out.success:
                out = dataclasses.replace(out, authorization=Authorization(session_timeout=30))
            return out

        authenticator.receive = receive_with_authorization
        return authenticator

    settings.eap_factory = with_session_timeout
    loop = Loopback(settings, record=True)
    result = loop.login(client())
    assert result.established
    loop.advance(29)
    assert len(loop.responder.sas()) == 1
    loop.advance(2)
    assert loop.responder.sas() == []
    assert any(isinstance(e, IkeSaDeleted) and e.reason == "reauth_time reached"
               for e in loop.events)
    assert result.initiator.result.deleted  # the initiator got our Delete
