"""ESP SAs in tunnel mode: round trips for every transform, and every drop with its reason."""

from __future__ import annotations

import struct

import pytest

from ikeeap.esp import Drop, EspChild, OutboundSa

VIP = "10.10.0.5"  # the client's virtual IP in the make_pair fixture
# (encr, key bits, integ) for every ESP transform the core provides
TRANSFORMS = [
    (20, 128, 0), (20, 256, 0), (28, 256, 0),
    (12, 128, 2), (12, 128, 12), (12, 256, 13), (12, 256, 14),
]


def _craft(out: OutboundSa, plaintext: bytes, seq: int | None = None) -> bytes:
    """An ESP packet with a hand-made plaintext (payload ‖ trailer) under out's keys."""
    if seq is None:
        out.seq += 1
        seq = out.seq
    header = struct.pack("!4sI", out.spi, seq & 0xFFFFFFFF)
    return out.transform.seal(header, struct.pack("!I", seq >> 32) if out.esn else b"",
                              plaintext)


def _pad_to(align: int, data: bytes, next_header: int, padding: bytes | None = None) -> bytes:
    pad = (-(len(data) + 2)) % align
    if padding is None:
        padding = bytes(range(1, pad + 1))
    return data + padding + bytes((len(padding), next_header))


@pytest.mark.parametrize("transform", TRANSFORMS, ids=lambda t: "-".join(map(str, t)))
@pytest.mark.parametrize("esn", [0, 1])
def test_round_trip_both_directions(make_pair, ipv4, transform, esn):
    responder, initiator = make_pair(*transform, esn=esn)
    for size in (0, 1, 2, 3, 13, 100, 1380):
        up = ipv4(size=size)
        esp = initiator.outbound.seal(up)
        assert isinstance(esp, bytes) and esp[:4] == responder.inbound.spi
        assert responder.inbound.open(esp) == up
        down = ipv4(src="192.0.2.7", dst=VIP, size=size)
        assert initiator.inbound.open(responder.outbound.seal(down)) == down
    assert responder.inbound.packets == responder.outbound.packets == 7
    assert responder.inbound.bytes == responder.outbound.bytes == sum(
        20 + max(s, 4) for s in (0, 1, 2, 3, 13, 100, 1380))
    assert responder.inbound.counters().drops == {}


@pytest.mark.parametrize("transform", TRANSFORMS, ids=lambda t: "-".join(map(str, t)))
def test_padding_aligns_the_trailer(make_pair, ipv4, transform):
    """RFC 4303 §2.4: ciphertext aligned to 4 octets (AEAD) or the block size (CBC), with the
    fewest padding octets 1, 2, 3, ..."""
    responder, initiator = make_pair(*transform)
    t = initiator.outbound.transform
    for size in range(20, 40):
        esp = initiator.outbound.seal(ipv4(size=size))
        body = len(esp) - t.overhead
        assert body % t.align == 0 and body - (20 + size) - 2 < t.align


def test_ipv6_inner_packets(make_pair, ipv6):
    responder, initiator = make_pair(ts_i=("2001:db8::5/128",), ts_r=("::/0",))
    packet = ipv6()
    assert responder.inbound.open(initiator.outbound.seal(packet)) == packet
    next_header, _plain, end = responder.inbound.unprotect(initiator.outbound.seal(packet))
    assert (next_header, end) == (41, len(packet))


def test_replayed_packet_is_dropped_and_counted(make_pair, ipv4):
    responder, initiator = make_pair()
    esp = initiator.outbound.seal(ipv4())
    assert isinstance(responder.inbound.open(esp), bytes)
    assert responder.inbound.open(esp) is Drop.REPLAY
    assert responder.inbound.counters().drops == {"replay": 1}
    assert responder.inbound.packets == 1


def test_reordering_inside_the_window_passes_outside_is_dropped(make_pair, ipv4):
    responder, initiator = make_pair()
    packets = [initiator.outbound.seal(ipv4()) for _ in range(70)]
    assert isinstance(responder.inbound.open(packets[69]), bytes)  # seq 70
    assert isinstance(responder.inbound.open(packets[9]), bytes)  # seq 10: 60 behind
    assert isinstance(responder.inbound.open(packets[6]), bytes)  # seq 7: the window's end
    assert responder.inbound.open(packets[5]) is Drop.OLD  # seq 6: 64 behind
    assert responder.inbound.open(packets[0]) is Drop.OLD
    assert responder.inbound.open(packets[9]) is Drop.REPLAY
    assert responder.inbound.counters().drops == {"old": 2, "replay": 1}


def test_a_larger_window_keeps_older_packets(make_pair, ipv4):
    responder, initiator = make_pair(replay_window=1024)
    packets = [initiator.outbound.seal(ipv4()) for _ in range(1000)]
    assert isinstance(responder.inbound.open(packets[-1]), bytes)
    assert isinstance(responder.inbound.open(packets[0]), bytes)


@pytest.mark.parametrize("transform", TRANSFORMS, ids=lambda t: "-".join(map(str, t)))
@pytest.mark.parametrize("where", [-1, 20, 9, 4])  # ICV, ciphertext, IV, sequence number
def test_tampered_packet_fails_the_icv(make_pair, ipv4, transform, where):
    responder, initiator = make_pair(*transform)
    esp = bytearray(initiator.outbound.seal(ipv4()))
    esp[where] ^= 0x40
    assert responder.inbound.open(bytes(esp)) is Drop.ICV
    assert responder.inbound.counters().drops == {"icv": 1}


def test_a_failed_icv_does_not_move_the_window(make_pair, ipv4):
    """§3.4.3: the window is updated only after the ICV verified."""
    responder, initiator = make_pair()
    genuine = initiator.outbound.seal(ipv4())
    forged = bytearray(genuine)
    forged[-3] ^= 1
    assert responder.inbound.open(bytes(forged)) is Drop.ICV
    assert responder.inbound.window.top == 0
    assert isinstance(responder.inbound.open(genuine), bytes)


@pytest.mark.parametrize("transform", TRANSFORMS, ids=lambda t: "-".join(map(str, t)))
def test_bad_padding_octets_are_dropped(make_pair, ipv4, transform):
    responder, initiator = make_pair(*transform)
    align = initiator.outbound.transform.align
    inner = ipv4(size=21)  # 41 octets: 1 (AEAD) or 5 (CBC) padding octets
    pad = (-(len(inner) + 2)) % align
    wrong = bytes(range(1, pad + 1))[:-1] + b"\x00"  # last padding octet 0 instead of pad
    assert responder.inbound.open(_craft(initiator.outbound, _pad_to(align, inner, 4, wrong))
                                  ) is Drop.PADDING
    right = _craft(initiator.outbound, _pad_to(align, inner, 4))
    assert responder.inbound.open(right) == inner
    assert responder.inbound.counters().drops == {"padding": 1}


def test_pad_length_beyond_the_plaintext_is_dropped(make_pair):
    responder, initiator = make_pair()
    assert responder.inbound.open(_craft(initiator.outbound, b"\x45\x00\xff\x04")) is Drop.PADDING


def test_extra_padding_up_to_255_octets_is_accepted(make_pair, ipv4):
    """A sender may pad more than needed (RFC 4303 §2.4), still monotonic."""
    responder, initiator = make_pair()
    inner = ipv4(size=22)  # 42 octets + 2 = 44: aligned without padding
    padded = inner + bytes(range(1, 253)) + bytes((252, 4))
    assert responder.inbound.open(_craft(initiator.outbound, padded)) == inner


@pytest.mark.parametrize("next_header", [0, 1, 6, 17, 50, 255])
def test_wrong_next_header_is_dropped(make_pair, ipv4, next_header):
    responder, initiator = make_pair()
    esp = initiator.outbound.seal(ipv4(), next_header=next_header)
    assert responder.inbound.open(esp) is Drop.NEXT_HEADER
    assert responder.inbound.counters().drops == {"next_header": 1}


def test_next_header_must_match_the_ip_version(make_pair, ipv4, ipv6):
    responder, initiator = make_pair()
    assert responder.inbound.open(initiator.outbound.seal(ipv6(), next_header=4)
                                  ) is Drop.MALFORMED
    assert responder.inbound.open(initiator.outbound.seal(ipv4(), next_header=41)
                                  ) is Drop.MALFORMED


def test_tfc_dummy_packets_are_discarded_silently(make_pair):
    """Next header 59 (RFC 4303 §2.6): authenticated, counted as dummy, never passed on, and
    its sequence number is used up."""
    responder, initiator = make_pair()
    esp = initiator.outbound.seal(b"\x00" * 30, next_header=59)
    assert responder.inbound.open(esp) is Drop.DUMMY
    assert responder.inbound.packets == 0 and responder.inbound.bytes == 0
    assert responder.inbound.counters().drops == {"dummy": 1}
    assert responder.inbound.open(esp) is Drop.REPLAY


def test_tfc_padding_after_the_inner_packet_is_removed(make_pair, ipv4):
    """§2.7: the inner IP header's length says where the packet ends."""
    responder, initiator = make_pair()
    inner = ipv4(size=40)
    esp = _craft(initiator.outbound, _pad_to(4, inner + bytes(200), 4))
    assert responder.inbound.open(esp) == inner
    assert responder.inbound.bytes == len(inner)


def test_inner_length_beyond_the_payload_is_malformed(make_pair, ipv4):
    responder, initiator = make_pair()
    inner = bytearray(ipv4(size=40))
    struct.pack_into("!H", inner, 2, 200)
    assert responder.inbound.open(_craft(initiator.outbound, _pad_to(4, bytes(inner), 4))
                                  ) is Drop.MALFORMED


def test_selector_mismatch_is_dropped(make_pair, ipv4):
    """The client may only send from its virtual IP (TSi = VIP/32)."""
    responder, initiator = make_pair()
    spoofed = ipv4(src="10.10.0.6")
    # the initiator's own outbound check would refuse it: bypass with an explicit next header
    assert initiator.outbound.seal(spoofed) is Drop.SELECTOR
    assert responder.inbound.open(initiator.outbound.seal(spoofed, next_header=4)
                                  ) is Drop.SELECTOR
    assert responder.inbound.counters().drops == {"selector": 1}
    assert responder.inbound.packets == 0


def test_selector_with_ports(make_pair, ipv4):
    responder, initiator = make_pair(ts_r=("192.0.2.0/24[17/53-53]",))
    ok, wrong_port = ipv4(ports=(999, 53)), ipv4(ports=(999, 54))
    tcp = ipv4(protocol=6, ports=(999, 53))
    assert responder.inbound.open(initiator.outbound.seal(ok)) == ok
    for bad in (wrong_port, tcp):
        assert responder.inbound.open(initiator.outbound.seal(bad, next_header=4)
                                      ) is Drop.SELECTOR


@pytest.mark.parametrize("transform", TRANSFORMS, ids=lambda t: "-".join(map(str, t)))
def test_truncated_packets_are_malformed_or_fail_the_icv(make_pair, ipv4, transform):
    responder, initiator = make_pair(*transform)
    esp = initiator.outbound.seal(ipv4())
    t = responder.inbound.transform
    for cut in (0, 7, 8, 16, t.min_len - 1):
        assert responder.inbound.open(esp[:cut]) is Drop.MALFORMED
    assert responder.inbound.open(esp[:-1]) is Drop.MALFORMED  # misaligned
    assert responder.inbound.open(esp[:-t.align]) is Drop.ICV  # aligned, but not the sender's
    assert responder.inbound.open(esp) == ipv4()  # the window was not touched


def test_outbound_refuses_non_ip_payloads(make_pair):
    responder, initiator = make_pair()
    assert responder.outbound.seal(b"") is Drop.MALFORMED
    assert responder.outbound.seal(b"\x20" * 40) is Drop.MALFORMED
    assert responder.outbound.counters().drops == {"malformed": 2}
    assert responder.outbound.seq == 0  # no sequence number spent


def test_aead_ivs_never_repeat(make_pair, ipv4):
    responder, initiator = make_pair(20, 256, 0)
    ivs = {initiator.outbound.seal(ipv4())[8:16] for _ in range(500)}
    assert len(ivs) == 500


def test_cbc_ivs_are_random(make_pair, ipv4):
    responder, initiator = make_pair(12, 128, 12)
    same = ipv4()
    esps = [initiator.outbound.seal(same) for _ in range(200)]
    assert len({e[8:24] for e in esps}) == 200
    assert all(responder.inbound.open(e) == same for e in esps)


def test_sequence_numbers_count_from_one(make_pair, ipv4):
    responder, initiator = make_pair()
    seqs = [struct.unpack_from("!I", initiator.outbound.seal(ipv4()), 4)[0] for _ in range(3)]
    assert seqs == [1, 2, 3]


def test_counters_snapshot(make_pair, ipv4):
    responder, initiator = make_pair()
    esp = initiator.outbound.seal(ipv4(size=80))
    responder.inbound.open(esp)
    responder.inbound.open(esp)
    snap_in, snap_out = responder.counters()
    assert (snap_in.spi, snap_in.direction, snap_in.bytes, snap_in.packets, snap_in.drops) == (
        responder.inbound.spi, "in", 100, 1, {"replay": 1})
    assert (snap_out.direction, snap_out.packets) == ("out", 0)
    assert isinstance(responder, EspChild)
