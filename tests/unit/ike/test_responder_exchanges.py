"""The responder's message handling through the loopback: negotiation errors, retransmits,
the message window, timers, NAT-T, INFORMATIONAL, critical payloads and the address pool."""

from __future__ import annotations

import pytest

from ikeeap.ike.events import AuthenticationFailed, IkeSaDeleted
from ikeeap.ike.sa import SaState
from ikeeap.initiator.loopback import Loopback, run_login
from ikeeap.initiator.results import InitiatorEvent, InitiatorState
from ikeeap.wire.codec import parse_header
from ikeeap.wire.constants import AuthMethod, DhId, ExchangeType, NotifyType
from ikeeap.wire.payloads import AuthPayload, NotifyPayload, UnknownPayload


def _exchange(data: bytes) -> int:
    return parse_header(data[4:] if data[:4] == bytes(4) else data).exchange


# ---- negotiation ---------------------------------------------------------------------------


def test_invalid_ke_payload_round_then_login(settings_factory, client):
    settings = settings_factory(ike_proposals=("aes256gcm16-prfsha256-ecp384",))
    result = run_login(settings, client(ike_proposals=("aes256gcm16-prfsha256-ecp256-ecp384",)))
    assert result.established, result.failure_reason
    assert InitiatorEvent("invalid_ke", str(DhId.ECP_384)) in result.initiator.events
    assert result.result.exchanges["IKE_SA_INIT"] == 2
    assert result.result.suite.dh == DhId.ECP_384
    assert NotifyType.INVALID_KE_PAYLOAD in result.result.notifies


def test_no_proposal_chosen_fails_in_ike_sa_init(settings, client):
    loop = Loopback(settings)
    result = loop.login(client(ike_proposals=("aes128-sha1-modp1024",), allow_modp1024=True))
    assert result.state == InitiatorState.FAILED
    assert result.failure_reason == "NO_PROPOSAL_CHOSEN"
    assert loop.responder.sas() == []


def test_no_acceptable_esp_proposal_keeps_ike_sa_without_child(settings_factory, client):
    settings = settings_factory(esp_proposals=("aes256gcm16",))
    result = run_login(settings, client(esp_proposals=("aes128-sha256",)))
    assert result.established
    assert result.result.child is None and result.responder_child is None
    assert result.result.child_error == NotifyType.NO_PROPOSAL_CHOSEN


# ---- retransmits and the message window ----------------------------------------------------


def _requests_and_responses(loop: Loopback) -> list[tuple[bytes, bytes]]:
    """Pairs (request, response) from the transcript, in order."""
    pairs, pending = [], None
    for datagram, inbound in loop.transcript:
        if inbound:
            pending = datagram
        elif pending is not None:
            pairs.append((pending, datagram))
            pending = None
    return pairs


def test_retransmitted_requests_get_identical_cached_responses(settings, client):
    loop = Loopback(settings, record=True)
    result = loop.login(client())
    assert result.established
    pairs = _requests_and_responses(loop)
    assert [_exchange(r.data) for r, _ in pairs][:2] == [
        ExchangeType.IKE_SA_INIT,
        ExchangeType.IKE_AUTH,
    ]
    # The last request is remembered; IKE_SA_INIT is answered as long as the SA lives.
    for request, response in (pairs[0], pairs[-1]):
        again = loop.responder.receive_datagram(
            request.data, request.remote, request.local, loop.now
        )
        assert [d.data for d in again] == [response.data]
    # An older IKE_AUTH request is outside the window: dropped.
    request, _ = pairs[1]
    assert (
        loop.responder.receive_datagram(request.data, request.remote, request.local, loop.now) == []
    )


def test_lost_response_is_retransmitted_and_answered_from_cache(settings, client):
    loop = Loopback(settings)
    dropped = []

    def drop_first_auth_response(datagram, inbound):
        if not inbound and _exchange(datagram.data) == ExchangeType.IKE_AUTH and not dropped:
            dropped.append(datagram)
            return True
        return False

    loop.drop = drop_first_auth_response
    result = loop.login(client())
    assert result.established, result.failure_reason
    assert result.result.retransmits == 1
    assert loop.now == pytest.approx(1.0)


def test_retransmit_during_pending_eap_step_is_absorbed(settings, client):
    loop = Loopback(settings)
    loop.hold_eap = True
    ini = loop.add(client())
    loop.start(ini)
    loop.pump()
    assert len(loop.held_steps) == 1  # EAP start, run after the first IKE_AUTH
    again = ini.handle_timer(ini.get_timer())
    assert again and ini.result.retransmits == 1
    for d in again:
        assert loop.responder.receive_datagram(d.data, d.remote, d.local, loop.now) == []
    assert loop.responder.next_event() is None  # no second EAP step
    loop.hold_eap = False
    loop.complete_eap()
    loop.run()
    assert ini.established, ini.failure_reason


def test_out_of_window_message_ids_are_dropped(settings, client):
    loop = Loopback(settings)
    result = loop.login(client())
    ini = result.initiator
    sa = ini.sa
    server = loop.server
    for mid in (ini._next_mid + 1, ini._next_mid + 5, 0xFFFFFFFF):
        message = sa.seal(ExchangeType.INFORMATIONAL, mid, [])
        assert loop.responder.receive_datagram(message, server, ini.local, loop.now) == []
    loop.to_responder(ini.liveness(loop.now))  # the window did not move
    loop.pump()
    assert ini.result.liveness_answered == 1


def test_tampered_request_is_dropped(settings, client):
    loop = Loopback(settings)
    ini = loop.login(client()).initiator
    message = bytearray(ini.sa.seal(ExchangeType.INFORMATIONAL, ini._next_mid, []))
    message[-1] ^= 1
    assert loop.responder.receive_datagram(bytes(message), loop.server, ini.local, loop.now) == []


# ---- timers --------------------------------------------------------------------------------


def test_half_open_sa_expires_via_handle_timer(settings, client):
    loop = Loopback(settings)
    ini = loop.add(client())
    loop.drop = lambda d, inbound: inbound and _exchange(d.data) == ExchangeType.IKE_AUTH
    loop.start(ini)
    loop.pump()
    responder = loop.responder
    assert responder.count(SaState.HALF_OPEN) == 1
    assert responder.get_timer() == settings.half_open_timeout
    responder.handle_timer(settings.half_open_timeout - 0.1)
    assert responder.count(SaState.HALF_OPEN) == 1
    responder.handle_timer(settings.half_open_timeout)
    assert responder.sas() == [] and responder.get_timer() is None
    assert isinstance(responder.next_event(), IkeSaDeleted)


def test_initiator_gives_up_when_responder_is_silent(settings, client):
    loop = Loopback(settings)
    loop.drop = lambda d, inbound: not inbound
    result = loop.login(client(retransmit_tries=3))
    assert result.state == InitiatorState.FAILED
    assert "timeout" in result.failure_reason
    assert result.result.retransmits == 3
    assert loop.now == pytest.approx(1 + 2 + 4 + 8)


def test_authentication_timeout_while_eap_step_pending(settings, client):
    loop = Loopback(settings)
    loop.hold_eap = True
    ini = loop.add(client(retransmit_tries=0))
    loop.start(ini)
    loop.pump()
    step = loop.held_steps[0]
    loop.advance(settings.auth_timeout + 1)
    assert loop.responder.sas() == []
    failed = [e for e in loop.events if isinstance(e, AuthenticationFailed)]
    assert [e.reason for e in failed] == ["authentication timed out"]  # audited as a failure
    assert loop.responder.eap_done(step.sa_id, None, loop.now) == []
    step.step.close()  # type: ignore[attr-defined]


# ---- NAT-T ---------------------------------------------------------------------------------


@pytest.mark.parametrize("fake_nat", [False, True])
def test_ike_auth_floated_to_port_4500_with_non_esp_marker(settings, client, fake_nat):
    loop = Loopback(settings, record=True)
    result = loop.login(client(nat_t=True, fake_nat=fake_nat))
    assert result.established, result.failure_reason
    later = loop.transcript[2:]
    assert later and all(d.data[:4] == bytes(4) for d, _ in later)
    assert all(d.remote[1] == 4500 for d, inbound in later if inbound)
    assert all(d.local[1] == 4500 for d, inbound in later if not inbound)
    assert result.responder_sa.remote == (result.initiator.local[0], 4500)
    assert result.responder_child.udp_encap is fake_nat  # NAT detection drives ESP-in-UDP


def test_nat_keepalive_and_esp_on_port_4500_are_ignored(settings):
    responder = Loopback(settings).responder
    local, remote = ("192.0.2.1", 4500), ("198.51.100.9", 4500)
    assert responder.receive_datagram(b"\xff", local, remote, 0.0) == []
    assert responder.receive_datagram(b"\x01\x02\x03\x04" + bytes(40), local, remote, 0.0) == []


# ---- INFORMATIONAL -------------------------------------------------------------------------


def test_liveness_check_is_answered(settings, client):
    loop = Loopback(settings)
    ini = loop.login(client()).initiator
    for _ in range(3):
        loop.to_responder(ini.liveness(loop.now))
    loop.pump()  # queued behind each other (window size 1)
    assert ini.result.liveness_answered == 3
    assert ini.result.exchanges["INFORMATIONAL"] == 3


def test_delete_closes_both_sides_and_releases_the_address(settings, client):
    loop = Loopback(settings)
    result = loop.login(client())
    ini = result.initiator
    pool = settings.pools["eap"]
    assert pool.leased == 1
    loop.to_responder(ini.delete(loop.now))
    loop.pump()
    assert ini.state == InitiatorState.CLOSED and ini.result.deleted
    assert loop.responder.sas() == []
    assert any(isinstance(e, IkeSaDeleted) for e in loop.events)
    assert pool.leased == 0


def test_child_sa_delete_names_the_responders_spi(settings, client):
    loop = Loopback(settings)
    result = loop.login(client())
    ini = result.initiator
    loop.to_responder(ini.delete_child(loop.now))
    loop.pump()
    assert ini.result.child is None
    (sa,) = loop.responder.sas()
    assert sa.children == [] and sa.state == SaState.ESTABLISHED


# ---- critical payloads ---------------------------------------------------------------------

CRITICAL = UnknownPayload(200, True, b"\x01\x02")


def test_unknown_critical_payload_in_ike_sa_init(settings, client):
    loop = Loopback(settings)
    result = loop.login(client(sa_init_extra=(CRITICAL,)))
    assert result.failure_reason == "UNSUPPORTED_CRITICAL_PAYLOAD"
    assert loop.responder.sas() == []


def test_unknown_critical_payload_in_ike_auth(settings, client):
    loop = Loopback(settings)
    result = loop.login(client(auth_extra=(CRITICAL,)))
    assert result.failure_reason == "UNSUPPORTED_CRITICAL_PAYLOAD"
    assert loop.responder.sas() == []
    assert [type(e) for e in loop.events] == [IkeSaDeleted]


def test_unknown_critical_payload_in_informational(settings, client):
    loop = Loopback(settings)
    ini = loop.login(client()).initiator
    loop.to_responder(ini.send_request(ExchangeType.INFORMATIONAL, [CRITICAL], loop.now))
    loop.pump()
    notify = ini.last_response[0]
    assert isinstance(notify, NotifyPayload)
    assert notify.notify_type == NotifyType.UNSUPPORTED_CRITICAL_PAYLOAD
    assert notify.data == bytes([200])


def test_unknown_non_critical_payload_is_ignored(settings, client):
    harmless = UnknownPayload(200, False, b"x")
    result = run_login(settings, client(sa_init_extra=(harmless,), auth_extra=(harmless,)))
    assert result.established, result.failure_reason


# ---- configuration payload -----------------------------------------------------------------


def test_virtual_ips_assigned_from_pool(settings, client):
    loop = Loopback(settings)
    alice = loop.login(client(identity="alice"))
    bob = loop.login(client(identity="bob"))
    vips = {alice.result.virtual_ip, bob.result.virtual_ip}
    assert vips == {"10.10.0.2", "10.10.0.3"}  # 10.10.0.1 is the DNS server
    assert alice.result.dns == ["10.10.0.1"]
    assert alice.result.child.ts_i == (f"{alice.result.virtual_ip}/32",)
    assert alice.responder_child.ts_i == alice.result.child.ts_i


def test_no_cp_request_no_virtual_ip(settings, client):
    result = run_login(settings, client(request_virtual_ip=False, ts_i=("198.51.100.0/24",)))
    assert result.established
    assert result.result.virtual_ip is None and result.responder_sa.virtual_ip is None
    assert result.result.child.ts_i == ("198.51.100.0/24",)


def test_exhausted_pool_refuses_the_child_sa(settings_factory, client):
    users = {"alice": "a", "bob": "b", "carol": "c"}
    settings = settings_factory(pool="10.20.0.0/30", users=users)  # two hosts
    loop = Loopback(settings)
    for user in ("alice", "bob"):
        assert loop.login(client(identity=user, password=users[user])).result.virtual_ip
    third = loop.login(client(identity="carol", password="c"))
    assert third.established
    assert third.result.virtual_ip is None
    assert third.result.child is None and third.responder_child is None
    assert third.result.child_error == NotifyType.INTERNAL_ADDRESS_FAILURE


# ---- the initiator refusing the responder ---------------------------------------------------


def test_initiator_refusing_server_certificate_tells_the_responder(settings, client):
    from ikeeap.initiator.testing import make_pki

    other = make_pki("ecdsa", identity="other.example.org")
    loop = Loopback(settings)
    result = loop.login(client(ca_certificate=other.ca.der))
    assert result.state == InitiatorState.FAILED
    assert loop.responder.sas() == []  # the INFORMATIONAL AUTHENTICATION_FAILED closed it
    assert any(isinstance(e, IkeSaDeleted) for e in loop.events)


def test_initiator_refusing_psk_responder_tells_the_responder(settings, client, psk):
    loop = Loopback(settings)
    result = loop.login(client(psk=psk, remote_identity="other.example.org"))
    assert result.state == InitiatorState.FAILED
    assert loop.responder.sas() == []
    assert settings.pools["psk"].leased == 0
    assert any(isinstance(e, IkeSaDeleted) for e in loop.events)


def test_auth_before_eap_finished_is_refused_and_reported(settings, client):
    loop = Loopback(settings)
    ini = loop.add(client())
    loop.drop = lambda d, inbound: inbound and parse_header(d.data).message_id == 2
    loop.start(ini)
    loop.pump()  # IKE_SA_INIT, first IKE_AUTH; the EAP Identity response is lost
    auth = AuthPayload(AuthMethod.SHARED_KEY, bytes(32))
    early = ini.sa.seal(ExchangeType.IKE_AUTH, 2, [auth])
    (answer,) = loop.responder.receive_datagram(early, loop.server, ini.local, loop.now)
    loop.process_events()
    assert loop.responder.sas() == []
    assert isinstance(loop.events[-1], IkeSaDeleted)
    assert ini.receive_datagram(answer.data, loop.now) == []  # mid 2 is outstanding
    assert ini.failure_reason == "INVALID_SYNTAX"


def test_only_a_byte_identical_retransmission_is_answered_from_the_cache(settings, client):
    loop = Loopback(settings, record=True)
    assert loop.login(client()).established
    request, response = _requests_and_responses(loop)[-1]
    responder = loop.responder
    bad_icv = request.data[:-1] + bytes([request.data[-1] ^ 1])
    assert responder.receive_datagram(bad_icv, request.remote, request.local, loop.now) == []
    assert responder.false_retransmits == 1
    again = responder.receive_datagram(request.data, request.remote, request.local, loop.now)
    assert [d.data for d in again] == [response.data]
