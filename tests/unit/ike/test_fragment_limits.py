"""What reassembly may hold (RFC 7383 as a DoS surface): less before IKE_AUTH is done, a
budget over all SAs, and every octet of it given back when a collection ends or its SA goes."""

from __future__ import annotations

import logging

from ikeeap.ike.hardening import Hardening
from ikeeap.ike.responder import Responder
from ikeeap.initiator.loopback import Loopback
from ikeeap.wire.constants import ExchangeType
from ikeeap.wire.payloads import NotifyPayload

from test_fragments import FRAG_SUPPORTED, FragmentingPeer, _first_auth_fragments, _login


def test_before_ike_auth_a_message_may_not_reach_max_reassembly_size(settings_factory, client,
                                                                    caplog):
    caplog.set_level(logging.INFO, "ikeeap.ike")
    settings = settings_factory(hardening=Hardening(max_unauthenticated_reassembly=100))
    _, result = _login(settings, client)
    assert not result.established
    assert "reassembled message over 100 octets before IKE_AUTH" in caplog.text


def test_after_ike_auth_max_reassembly_size_applies(settings_factory, client):
    hardening = Hardening(max_unauthenticated_reassembly=3000)
    peer = FragmentingPeer(Responder(settings_factory(hardening=hardening)))
    loop = Loopback(peer)
    result = loop.login(client(sa_init_extra=FRAG_SUPPORTED))
    assert result.established
    ini = result.initiator
    big = NotifyPayload(40000, b"x" * 5000)  # a private-use status notify: ignored, answered
    loop.to_responder(ini.send_request(ExchangeType.INFORMATIONAL, [big], loop.now))
    loop.pump()
    assert ini.last_response == []  # an empty INFORMATIONAL response: 5 KB were reassembled
    assert peer.responder.reassembly.in_use == 0


def test_reassembly_budget_over_all_sas(settings_factory, client, caplog):
    caplog.set_level(logging.INFO, "ikeeap.ike")
    peer, result = _login(settings_factory(hardening=Hardening(reassembly_budget=40)), client)
    assert not result.established
    assert "reassembly budget of 40 octets (all SAs) used up" in caplog.text
    assert peer.responder.reassembly.in_use == 0


def test_budget_is_given_back_when_a_half_collected_sa_times_out(settings_factory, client):
    responder, frags, d = _first_auth_fragments(settings_factory, client)
    assert responder.receive_datagram(frags[0], d.remote, d.local, 0.0) == []
    held = responder.reassembly.in_use
    assert held > 0
    responder.handle_timer(10_000.0)  # past half_open and auth timeouts: the SA is gone
    assert responder.sas() == [] and responder.reassembly.in_use == 0


def test_budget_is_given_back_when_a_stale_collection_restarts(settings_factory, client):
    responder, frags, d = _first_auth_fragments(settings_factory, client, reassembly_timeout=1.0)
    responder.receive_datagram(frags[0], d.remote, d.local, 0.0)
    one = responder.reassembly.in_use
    responder.receive_datagram(frags[1], d.remote, d.local, 5.0)  # stale: starts over
    assert responder.reassembly.in_use < 2 * one
    assert responder.sas()[0].reassembly.parts.keys() == {2}
