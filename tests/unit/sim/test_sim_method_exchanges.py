"""EAP-SIM server method against ikeeap's SIM peer: full authentication, pseudonyms, fast
re-authentication, counter too small, result indications and every failure path."""

from __future__ import annotations

import dataclasses
import random
from typing import Any

import pytest

from ikeeap.eap.credentials import Providers
from ikeeap.eap.method import EapContext, StepKind
from ikeeap.eap.methods.sim import TRIPLETS, SimMethod, SimPolicy, Triplet
from ikeeap.eap.methods.sim import attributes as a
from ikeeap.eap.packet import EapCode, parse_eap
from ikeeap.eap.peer.methods import PeerError
from ikeeap.eap.peer.sim import EapSimPeer
from ikeeap.initiator.loopback import drive

IMSI = "001010000000001"
PERMANENT = f"1{IMSI}@wlan.mnc001.mcc001.3gppnetwork.org"


def _sim_subtypes(requests: list[bytes]) -> list[int]:
    return [parse_eap(p).data[0] for p in requests if parse_eap(p).type == 18]


def test_full_authentication_keys_match_and_method_is_mutual(lab: Any) -> None:
    out, peer, requests = lab.login()
    assert out.success and out.mutual and out.method_name == "sim"
    assert out.msk is not None and len(out.msk) == 64 and len(out.emsk or b"") == 64
    assert peer.succeeded and peer.msk() == out.msk
    # trust_eap_identity: the permanent EAP identity skips the identity request
    assert _sim_subtypes(requests) == [a.Subtype.START, a.Subtype.CHALLENGE]
    assert lab.peer_state.pseudonym and lab.peer_state.reauth_id
    assert lab.store.counts() == (1, 1)


def test_wrong_sres_is_refused_with_notification_then_failure(lab: Any) -> None:
    card = lab.card()
    wrong = EapSimPeer(PERMANENT, lambda rand: (b"\x00\x00\x00\x00", card(rand)[1]))
    out, peer, requests = lab.login(wrong)
    assert not out.success and out.msk is None and peer.failed
    assert "AT_MAC" in out.reason
    assert _sim_subtypes(requests)[-1] == a.Subtype.NOTIFICATION
    assert peer.method.notification == a.Notification.GENERAL_FAILURE
    assert lab.store.counts() == (0, 0)  # nothing handed out is kept


def test_wrong_kc_makes_the_peer_refuse_the_server(lab: Any) -> None:
    card = lab.card()
    wrong = EapSimPeer(PERMANENT, lambda rand: (card(rand)[0], bytes(8)))
    out, peer, _ = lab.login(wrong)
    assert not out.success and "Client-Error" in out.reason
    assert peer.method.client_error == a.ClientError.UNABLE_TO_PROCESS


def test_fast_reauthentication_twice_then_full_again_at_reauth_max(lab: Any) -> None:
    lab.policy = SimPolicy(reauth_max=2)
    first, _, _ = lab.login()
    second, peer2, req2 = lab.login()
    assert peer2.identity.startswith(b"5") and second.success and second.mutual
    assert _sim_subtypes(req2) == [a.Subtype.REAUTHENTICATION]
    assert second.msk == peer2.msk() and second.msk != first.msk
    assert lab.peer_state.counter == 1
    third, peer3, _ = lab.login()
    assert third.success and third.msk == peer3.msk() and lab.peer_state.counter == 2
    assert lab.peer_state.reauth_id is None  # counter 2 == reauth_max: no next identity
    fourth, peer4, req4 = lab.login()  # pseudonym now: full authentication
    assert peer4.identity.startswith(b"3") and fourth.success
    assert a.Subtype.CHALLENGE in _sim_subtypes(req4)


def test_reauth_identity_is_one_time(lab: Any) -> None:
    lab.login()
    saved = dataclasses.replace(lab.peer_state)
    lab.login()  # consumes the re-auth identity
    replay = EapSimPeer(PERMANENT, lab.card(), saved)
    out, _, requests = lab.login(replay)
    assert out.success and a.Subtype.CHALLENGE in _sim_subtypes(requests)


def test_reauth_through_any_id_request_when_eap_identity_not_trusted(lab: Any) -> None:
    lab.policy = SimPolicy(trust_eap_identity=False)
    lab.login()
    out, peer, requests = lab.login()
    assert out.success and out.msk == peer.msk()
    assert _sim_subtypes(requests) == [a.Subtype.START, a.Subtype.REAUTHENTICATION]
    first_start = a.parse_message(parse_eap(requests[1]).type_data)
    assert first_start.has(a.Attr.ANY_ID_REQ)


def test_pseudonym_login_without_the_permanent_identity(lab: Any) -> None:
    lab.policy = SimPolicy(fast_reauth=False)
    lab.login()
    out, peer, requests = lab.login()
    assert peer.identity.startswith(b"3") and b"@wlan." in peer.identity
    assert out.success and out.msk == peer.msk()
    assert all(IMSI.encode() not in p for p in requests)


def test_unknown_pseudonym_leads_to_permanent_identity_request(lab: Any) -> None:
    lab.peer_state.pseudonym = "3NotOneOfOurs"
    out, peer, requests = lab.login()
    assert out.success and out.msk == peer.msk()
    starts = [a.parse_message(parse_eap(p).type_data) for p in requests
              if parse_eap(p).type == 18 and parse_eap(p).data[0] == a.Subtype.START]
    assert starts[-1].has(a.Attr.PERMANENT_ID_REQ)


def test_counter_too_small_falls_back_to_full_authentication(lab: Any) -> None:
    lab.login()
    lab.peer_state.counter = 5  # the peer saw a higher counter than the server sends
    out, peer, requests = lab.login()
    assert out.success and out.msk == peer.msk()
    assert _sim_subtypes(requests) == [a.Subtype.REAUTHENTICATION, a.Subtype.START,
                                       a.Subtype.CHALLENGE]
    start = a.parse_message(parse_eap(requests[2]).type_data)
    assert not any(start.has(t) for t in a.ID_REQUESTS)  # §5.5: identity already known


def test_protected_success_indication_round(lab: Any) -> None:
    lab.policy = SimPolicy(result_ind=True)
    peer = EapSimPeer(PERMANENT, lab.card(), lab.peer_state, result_ind=True)
    out, peer, requests = lab.login(peer)
    assert _sim_subtypes(requests)[-1] == a.Subtype.NOTIFICATION
    assert out.success and out.msk == peer.msk()
    assert peer.method.notification == a.Notification.SUCCESS
    again = EapSimPeer(PERMANENT, lab.card(), lab.peer_state, result_ind=True)
    out2, again, _ = lab.login(again)  # re-auth + encrypted counter in the notification
    assert out2.success and out2.msk == again.msk()


@pytest.mark.parametrize("policy,attr", [("any", a.Attr.ANY_ID_REQ),
                                         ("fullauth", a.Attr.FULLAUTH_ID_REQ),
                                         ("permanent", a.Attr.PERMANENT_ID_REQ)])
def test_identity_request_policy(lab: Any, policy: str, attr: int) -> None:
    lab.policy = SimPolicy(identity_request=policy, trust_eap_identity=False)
    out, peer, requests = lab.login()
    assert out.success and out.msk == peer.msk()
    assert a.parse_message(parse_eap(requests[1]).type_data).has(attr)


def test_two_rands_policy(lab: Any) -> None:
    lab.policy = SimPolicy(rand_count=2)
    out, _, requests = lab.login()
    challenge = a.parse_message(parse_eap(requests[-1]).type_data)
    assert out.success and len(a.read_reserved(challenge.get(a.Attr.RAND))) == 32


def test_duplicate_rands_from_the_source_are_refused(lab: Any) -> None:
    class Repeating:
        async def get_triplets(self, imsi: str, count: int) -> list[Triplet]:
            return [Triplet(bytes(16), bytes(4), bytes(8))] * count

    out, _, requests = lab.login(providers=lab.providers(**{TRIPLETS: Repeating()}))
    assert not out.success and "triplets" in out.reason
    assert _sim_subtypes(requests)[-1] == a.Subtype.NOTIFICATION


def test_unknown_subscriber_fails_cleanly(lab: Any) -> None:
    peer = EapSimPeer("1999990000000001@example", lab.card())
    out, _, _ = lab.login(peer)
    assert not out.success and out.msk is None


def test_no_triplet_source_is_a_failure_not_an_exception() -> None:
    method = SimMethod({}, Providers())
    step = drive(method.start(EapContext(identity=PERMANENT.encode())))
    assert step.kind is StepKind.FAILURE


def test_without_store_no_pseudonym_and_no_reauth(lab: Any) -> None:
    providers = Providers(extra={TRIPLETS: lab.source})
    out, peer, _ = lab.login(providers=providers)
    assert out.success and out.msk == peer.msk()
    assert lab.peer_state.pseudonym is None and lab.peer_state.reauth_id is None


def test_garbage_responses_never_raise(lab: Any) -> None:
    rng = random.Random(4186)
    providers = lab.providers()
    for _ in range(300):
        method = SimMethod({}, providers)
        ctx = EapContext(identity=PERMANENT.encode(), identifier=rng.randrange(256))
        drive(method.start(ctx))
        for _ in range(3):
            body = bytes([18]) + bytes(rng.randrange(256) for _ in range(rng.randrange(40)))
            step = drive(method.process(ctx, body))
            assert step.kind in (StepKind.CONTINUE, StepKind.FAILURE)
            if step.kind is StepKind.FAILURE:
                break
        assert method.msk() is None


def test_eap_success_only_after_the_peer_finished(lab: Any) -> None:
    _, peer, _ = lab.login()
    fresh = EapSimPeer(PERMANENT, lab.card())
    with pytest.raises(PeerError):
        fresh.respond(bytes([EapCode.SUCCESS, 1, 0, 4]))
    assert peer.succeeded
