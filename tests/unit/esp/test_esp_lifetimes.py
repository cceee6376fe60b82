"""Lifetimes by time, bytes and packets; sequence number exhaustion (RFC 4303 §3.3.3)."""

from __future__ import annotations

import pytest

from ikeeap.esp import Drop, HardExpired, Lifetime, RekeyDue


def test_soft_then_hard_packet_limit(make_pair, ipv4):
    responder, initiator = make_pair(lifetime=Lifetime(soft_packets=3, hard_packets=5))
    out = responder.outbound
    results = [out.seal(ipv4(src="192.0.2.7", dst="10.10.0.5")) for _ in range(6)]
    assert [isinstance(r, bytes) for r in results] == [True] * 5 + [False]
    assert results[-1] is Drop.EXPIRED
    assert responder.pop_events() == [RekeyDue(responder.ref, "out", "packets"),
                                      HardExpired(responder.ref, "out", "packets")]
    assert responder.pop_events() == []


def test_byte_limits_count_inner_bytes(make_pair, ipv4):
    responder, initiator = make_pair(lifetime=Lifetime(soft_bytes=250, hard_bytes=1000))
    packet = ipv4(size=80)  # 100 octets
    for _ in range(3):
        assert responder.inbound.open(initiator.outbound.seal(packet)) == packet
    assert responder.pop_events() == [RekeyDue(responder.ref, "in", "bytes")]
    for _ in range(7):
        responder.inbound.open(initiator.outbound.seal(packet))
    assert responder.pop_events() == [HardExpired(responder.ref, "in", "bytes")]
    assert responder.inbound.open(initiator.outbound.seal(packet)) is Drop.EXPIRED
    assert responder.inbound.bytes == 1000
    assert responder.inbound.counters().drops == {"expired": 1}


def test_time_lifetimes(make_pair, ipv4):
    responder, initiator = make_pair(now=100.0,
                                     lifetime=Lifetime(soft_seconds=3000, hard_seconds=3600))
    assert responder.next_deadline() == 3100.0
    responder.poll(3099.0)
    assert responder.pop_events() == []
    responder.poll(3100.0)
    assert responder.pop_events() == [RekeyDue(responder.ref, "in", "time"),
                                      RekeyDue(responder.ref, "out", "time")]
    assert responder.next_deadline() == 3700.0
    responder.poll(3700.0)
    assert [type(e) for e in responder.pop_events()] == [HardExpired, HardExpired]
    assert responder.next_deadline() is None
    assert responder.outbound.seal(ipv4(src="192.0.2.7", dst="10.10.0.5")) is Drop.EXPIRED


def test_soft_fires_once(make_pair, ipv4):
    responder, initiator = make_pair(lifetime=Lifetime(soft_packets=1))
    for _ in range(5):
        responder.inbound.open(initiator.outbound.seal(ipv4()))
    assert responder.pop_events() == [RekeyDue(responder.ref, "in", "packets")]


@pytest.mark.parametrize("kwargs", [dict(soft_bytes=10, hard_bytes=5), dict(hard_packets=-1)])
def test_lifetime_validation(kwargs):
    with pytest.raises(ValueError):
        Lifetime(**kwargs)


def test_sequence_number_never_wraps_without_esn(make_pair, ipv4):
    responder, initiator = make_pair()
    out = responder.outbound
    out.seq = 0xFFFFFFFD
    packet = ipv4(src="192.0.2.7", dst="10.10.0.5")
    assert isinstance(out.seal(packet), bytes) and isinstance(out.seal(packet), bytes)
    assert out.seq == 0xFFFFFFFF
    assert out.seal(packet) is Drop.SEQUENCE
    assert out.seal(packet) is Drop.EXPIRED
    assert out.seq == 0xFFFFFFFF
    events = responder.pop_events()
    assert events == [RekeyDue(responder.ref, "out", "sequence"),
                      HardExpired(responder.ref, "out", "sequence")]


def test_sequence_soft_limit(make_pair, ipv4):
    responder, initiator = make_pair(seq_soft_limit=3)
    packet = ipv4(src="192.0.2.7", dst="10.10.0.5")
    for _ in range(5):
        assert isinstance(responder.outbound.seal(packet), bytes)
    assert responder.pop_events() == [RekeyDue(responder.ref, "out", "sequence")]


def test_esn_uses_64_bits(make_pair, ipv4):
    responder, initiator = make_pair(esn=1)
    out = responder.outbound
    out.seq = 0xFFFFFFFF
    packet = ipv4(src="192.0.2.7", dst="10.10.0.5")
    esp = out.seal(packet)
    assert isinstance(esp, bytes) and esp[4:8] == b"\0\0\0\0"  # only the low half is sent
    initiator.inbound.window.top = 0xFFFFFFF0
    assert initiator.inbound.open(esp) == packet
    assert out.seq == 1 << 32
    out.seq = (1 << 64) - 1
    assert out.seal(packet) is Drop.SEQUENCE
