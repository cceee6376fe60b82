"""Reassembly rules of RFC 7383 at the responder, observed on its state: the timeout, the
max_fragments boundary, and §2.6.2 (a fragmentation with more fragments restarts the
collection; a fragment of an older one, with fewer and larger fragments, is dropped)."""

from __future__ import annotations

import pytest

from ikeeap.ike.events import EapStepPending
from ikeeap.ike.hardening import Hardening
from ikeeap.ike.responder import Responder
from ikeeap.initiator.loopback import Loopback, drive

from test_fragments import FRAG_SUPPORTED, FragmentingPeer, _first_auth_fragments


def _sender(responder, d):
    return lambda data, now: responder.receive_datagram(data, d.remote, d.local, now)


def _request_handled(responder) -> bool:
    """The reassembled IKE_AUTH reached the EAP layer (its step is not run here)."""
    event = responder.next_event()
    if isinstance(event, EapStepPending):
        event.step.close()
        return True
    return False


def _collected(sa) -> set[int]:
    return set(sa.reassembly.parts) if sa.reassembly is not None else set()


def test_reassembly_is_dropped_after_the_timeout_and_a_late_fragment_does_not_complete_it(
        settings_factory, client):
    responder, frags, d = _first_auth_fragments(settings_factory, client,
                                                reassembly_timeout=2.0)
    send, (sa,) = _sender(responder, d), responder.sas()
    assert len(frags) == 3
    assert send(frags[0], 0.0) == [] and send(frags[1], 1.0) == []
    assert _collected(sa) == {1, 2}
    assert send(frags[2], 2.5) == []  # the collection began at 0.0: over 2 s old
    assert responder.next_event() is None  # 1, 2 (expired) and 3 did not make a message
    assert _collected(sa) == {3} and sa.reassembly.started == 2.5
    assert send(frags[0], 3.0) == [] and responder.next_event() is None
    assert send(frags[1], 4.0) == []  # 3, 1, 2 within 2 s of the new start: complete
    assert _request_handled(responder)
    assert sa.reassembly is None


class _CountingPeer(FragmentingPeer):
    def split(self, data: bytes) -> list[bytes]:
        out = super().split(data)
        self.counts.append(len(out))
        return out


@pytest.mark.parametrize(("pieces", "established"), [(4, True), (5, False)])
def test_max_fragments_is_the_largest_total_accepted(settings_factory, client, pieces,
                                                     established):
    settings = settings_factory(hardening=Hardening(max_fragments=4))
    peer = _CountingPeer(Responder(settings), pieces=pieces)
    peer.counts = []
    result = Loopback(peer).login(client(sa_init_extra=FRAG_SUPPORTED))
    assert pieces in peer.counts  # at least one request really came in ``pieces`` fragments
    assert result.established is established
    if not established:
        assert result.responder_sa is None


def test_more_fragments_restart_the_collection_and_an_older_fragment_is_dropped(
        settings_factory, client):
    """RFC 7383 §2.6.2: an initiator that retransmits with smaller fragments (more of them)
    makes the responder start over; a late fragment of the earlier, larger fragmentation is
    then discarded, not mixed into the new collection."""
    responder, three, d = _first_auth_fragments(settings_factory, client)
    four = FragmentingPeer(responder, pieces=4).split(d.data)
    assert len(three) == 3 and len(four) == 4
    send, (sa,) = _sender(responder, d), responder.sas()
    assert send(three[0], 0.0) == []
    assert sa.reassembly.total == 3 and _collected(sa) == {1}
    assert send(four[2], 0.1) == []  # fragment 3 of 4: Total Fragments 4 > 3, start over
    assert sa.reassembly.total == 4 and _collected(sa) == {3}
    for older in three[1:]:  # Total Fragments 3 < 4: older, dropped
        assert send(older, 0.2) == []
        assert sa.reassembly.total == 4 and _collected(sa) == {3}
    assert responder.next_event() is None
    for n in (0, 1, 3):
        assert send(four[n], 0.3) == []
    assert _request_handled(responder)  # the 4 fragments, and only them


def test_first_fragment_of_a_new_fragmentation_is_not_taken_for_a_duplicate(
        settings_factory, client):
    """The usual order of §2.6.2: after fragments 1 and 2 of 3, the initiator retransmits as
    4 fragments, which arrive in order; they are one complete message (fragment 1 of 4 was
    dropped as a duplicate of fragment 1 of 3 until fa1e96d)."""
    responder, three, d = _first_auth_fragments(settings_factory, client)
    four = FragmentingPeer(responder, pieces=4).split(d.data)
    send, (sa,) = _sender(responder, d), responder.sas()
    assert send(three[0], 0.0) == [] and send(three[1], 0.1) == []
    assert send(four[0], 0.2) == []
    assert sa.reassembly.total == 4 and _collected(sa) == {1}
    for fragment in four[1:]:
        send(fragment, 0.3)
    assert _request_handled(responder)


def test_a_retransmitted_fragmented_request_is_answered_once_from_fragment_1(
        settings_factory, client):
    """RFC 7383 §2.6.1: the cached response goes back when fragment 1 comes again, not for
    each fragment; those later fragments are expected and not counted as false
    retransmissions, a different fragment 1 with that message ID is."""
    responder, frags, d = _first_auth_fragments(settings_factory, client)
    send = _sender(responder, d)
    for fragment in frags:
        assert send(fragment, 0.0) == []
    event = responder.next_event()
    answer = responder.eap_done(event.sa_id, drive(event.step), 0.1)
    assert answer and responder.false_retransmits == 0
    for fragment in frags[1:]:
        assert send(fragment, 0.2) == []
    assert responder.false_retransmits == 0
    assert [a.data for a in send(frags[0], 0.3)] == [a.data for a in answer]
    forged = frags[0][:-1] + bytes([frags[0][-1] ^ 1])
    assert send(forged, 0.4) == [] and responder.false_retransmits == 1


def test_a_duplicate_fragment_is_stored_once(settings_factory, client):
    responder, frags, d = _first_auth_fragments(settings_factory, client)
    send, (sa,) = _sender(responder, d), responder.sas()
    assert send(frags[0], 0.0) == []
    size, held = sa.reassembly.size, responder.reassembly.in_use
    assert send(frags[0], 0.1) == []  # the same fragment again (a retransmission)
    assert sa.reassembly.size == size and responder.reassembly.in_use == held
    assert _collected(sa) == {1}
