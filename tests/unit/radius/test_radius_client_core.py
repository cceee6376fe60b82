"""The sans-I/O RADIUS client core: retransmits, failover before a State, health, BlastRADIUS."""

from __future__ import annotations

from ikeeap.backends.radius import codec
from ikeeap.backends.radius.client import RadiusClientCore
from ikeeap.backends.radius.config import RadiusServerConfig

SECRET = b"core-secret"
A = RadiusServerConfig("127.0.0.1", 1812, SECRET, timeout=1.0, retries=1)
B = RadiusServerConfig("127.0.0.2", 1812, SECRET, timeout=2.0, retries=0)


def _build(secret, identifier):
    return codec.access_request(secret, identifier, [("User-Name", "alice")], eap=b"\x02\x00\x00\x04")


def _answer(raw: bytes, code=codec.ACCESS_ACCEPT, ma=True, secret=SECRET) -> bytes:
    request = codec.decode(raw, secret)
    reply = request.CreateReply(message_authenticator=ma)
    reply.code = code
    return bytes(reply.ReplyPacket())


def test_retransmits_same_octets_then_fails_over_to_the_next_server():
    core = RadiusClientCore([A, B])
    tx = core.request(_build, 0.0)
    (first, to_a), = core.datagrams_to_send()
    assert to_a == ("127.0.0.1", 1812)
    core.handle_timer(1.0)
    (again, _), = core.datagrams_to_send()
    assert again == first  # RFC 5080: same id and authenticator
    core.handle_timer(2.0)
    (moved, to_b), = core.datagrams_to_send()
    assert to_b == ("127.0.0.2", 1812) and not core.is_alive(0)
    core.receive(_answer(moved), to_b, 2.1)
    (done,) = core.completions()
    assert done.tx_id == tx and done.server == 1 and done.reply.code == codec.ACCESS_ACCEPT


def test_pinned_transaction_never_fails_over():
    core = RadiusClientCore([A, B])
    core.request(_build, 0.0, server=0)
    core.datagrams_to_send()
    core.handle_timer(1.0)
    core.handle_timer(2.0)
    sent_to = {remote for _, remote in core.datagrams_to_send()}
    assert sent_to == {("127.0.0.1", 1812)}  # the retransmit only, nothing to B
    (done,) = core.completions()
    assert done.reply is None and "did not answer" in done.reason


def test_all_dead_fails_within_the_sum_of_the_bounds():
    core = RadiusClientCore([A, B])
    core.request(_build, 0.0)
    now = 0.0
    while not (done := core.completions()):
        now = core.get_timer()
        core.handle_timer(now)
    assert done[0].reply is None and now == A.bound + B.bound
    # both are dead now: the next login fails at once instead of waiting again
    core.request(_build, now)
    assert core.completions()[0].reason == "all RADIUS servers are marked dead"


def test_replies_without_valid_message_authenticator_are_ignored():
    core = RadiusClientCore([A])
    core.request(_build, 0.0)
    (raw, source), = core.datagrams_to_send()
    core.receive(_answer(raw, ma=False), source, 0.1)  # BlastRADIUS shape
    core.receive(_answer(raw, secret=b"wrong"), source, 0.1)
    core.receive(_answer(raw), ("10.9.9.9", 1812), 0.1)  # not from the server
    assert core.completions() == []
    core.receive(_answer(raw), source, 0.2)
    assert core.completions()[0].reply is not None


def test_status_server_probes_mark_dead_and_alive():
    core = RadiusClientCore([A], dead_time=100, status_server_interval=5)
    core.handle_timer(0.0)
    (probe, source), = core.datagrams_to_send()
    assert probe[0] == codec.STATUS_SERVER
    assert codec.verify_message_authenticator(probe, SECRET)
    core.handle_timer(1.0)
    core.handle_timer(2.0)  # both attempts lost
    assert not core.is_alive(0)
    core.datagrams_to_send()
    core.handle_timer(5.0)
    (probe, source), = [d for d in core.datagrams_to_send() if d[0][0] == codec.STATUS_SERVER]
    core.receive(_answer(probe), source, 5.1)
    assert core.is_alive(0) and core.completions() == []  # probes report no completions


def test_identifiers_are_unique_per_server_while_in_flight():
    core = RadiusClientCore([A])
    for _ in range(256):
        core.request(_build, 0.0)
    ids = {raw[1] for raw, _ in core.datagrams_to_send()}
    assert len(ids) == 256
    core.request(_build, 0.0)
    assert "no free RADIUS identifier" in core.completions()[0].reason


def test_status_server_answered_without_message_authenticator_keeps_the_server_alive():
    """Stock FreeRADIUS 3.2 answers Status-Server with an Accept without
    Message-Authenticator: the server answered, so it stays alive (RFC 5997)."""
    core = RadiusClientCore([A], dead_time=100, status_server_interval=5)
    for now in (0.0, 5.0, 10.0):
        core.handle_timer(now)
        (probe, source), = core.datagrams_to_send()
        core.receive(_answer(probe, ma=False), source, now + 0.1)
        core.handle_timer(now + 1.0)
        core.handle_timer(now + 2.0)
        assert core.is_alive(0) and core.datagrams_to_send() == []


def test_a_server_whose_replies_all_fail_is_not_called_silent(caplog):
    core = RadiusClientCore([A], dead_time=100)
    core.request(_build, 0.0)
    (raw, source), = core.datagrams_to_send()
    core.receive(_answer(raw, ma=False), source, 0.1)
    core.handle_timer(1.0)
    core.handle_timer(2.0)
    assert not core.is_alive(0)
    text = caplog.text
    assert "to Access-Request dropped: missing Message-Authenticator" in text
    assert "marked dead (every reply dropped: missing Message-Authenticator)" in text
    assert "no answer" not in text
