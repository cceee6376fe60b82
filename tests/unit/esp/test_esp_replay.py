"""The anti-replay window (RFC 4303 §3.4.3) and ESN inference (RFC 4303 Appendix A2)."""

from __future__ import annotations

import struct

import pytest

from ikeeap.esp import Drop, ReplayWindow
from ikeeap.esp.replay import OLD, REPLAYED


def _receive(w: ReplayWindow, seq_lo: int) -> int:
    seq = w.check(seq_lo)
    if seq > 0:
        w.accept(seq)
    return seq


def test_sequence_number_zero_is_never_valid():
    assert ReplayWindow(64).check(0) == REPLAYED


def test_window_bitmap_semantics():
    w = ReplayWindow(64)
    assert [_receive(w, s) for s in (1, 3, 2, 3)] == [1, 3, 2, REPLAYED]
    assert _receive(w, 200) == 200
    assert w.check(137) == 137 and w.check(136) == OLD  # 63 and 64 behind
    assert _receive(w, 150) == 150 and w.check(150) == REPLAYED


@pytest.mark.parametrize("size", [32, 64, 128, 1024, 4096])
def test_window_sizes(size):
    w = ReplayWindow(size)
    _receive(w, size + 10)
    assert w.check(11) == 11 and w.check(10) == OLD
    _receive(w, 11)
    assert w.check(11) == REPLAYED


@pytest.mark.parametrize("size", [0, 31, 4097])
def test_window_size_limits(size):
    with pytest.raises(ValueError):
        ReplayWindow(size)


def test_a_jump_beyond_the_window_clears_it():
    w = ReplayWindow(64)
    for s in range(1, 65):
        _receive(w, s)
    _receive(w, 1000)
    assert w.bits == 1 and w.check(999) == 999


def test_esn_inference_case_a_same_subspace():
    w = ReplayWindow(64, esn=True)
    w.top = (5 << 32) | 1000
    assert w.infer(1000 - 63) == (5 << 32) | 937  # in the window
    assert w.infer(5000) == (5 << 32) | 5000  # ahead
    assert w.infer(10) == (6 << 32) | 10  # behind the window: the next subspace


def test_esn_inference_case_b_window_spans_subspaces():
    w = ReplayWindow(64, esn=True)
    w.top = (5 << 32) | 10
    assert w.infer(0xFFFFFFF0) == (4 << 32) | 0xFFFFFFF0  # in the window, previous subspace
    assert w.infer(3) == (5 << 32) | 3
    assert w.infer(100) == (5 << 32) | 100


def test_esn_before_the_first_subspace_is_old():
    w = ReplayWindow(64, esn=True)
    _receive(w, 10)
    assert w.check(0xFFFFFFF0) == OLD


def test_esn_crossing_the_32_bit_boundary():
    w = ReplayWindow(64, esn=True)
    w.top = 0xFFFFFFF0
    for lo in (0xFFFFFFF1, 0xFFFFFFFF, 0, 1, 2):
        assert _receive(w, lo) > 0
    assert w.top == (1 << 32) | 2
    assert w.check(0xFFFFFFFF) == REPLAYED and w.check(0xFFFFFFFE) == 0xFFFFFFFE


def test_without_esn_the_low_half_is_all():
    w = ReplayWindow(64)
    w.top = 0xFFFFFFF0
    assert w.check(1) == OLD


def test_esn_sas_across_the_boundary(make_pair, ipv4):
    """Sender and receiver around 2^32: the high half is not sent but is in the ICV."""
    responder, initiator = make_pair(12, 128, 12, esn=1)
    initiator.outbound.seq = 0xFFFFFFFD
    responder.inbound.window.top = 0xFFFFFFFC
    packets = [initiator.outbound.seal(ipv4()) for _ in range(5)]
    assert [struct.unpack_from("!I", p, 4)[0] for p in packets] == [
        0xFFFFFFFE, 0xFFFFFFFF, 0, 1, 2]
    assert all(responder.inbound.open(p) == ipv4() for p in packets)
    assert responder.inbound.window.top == (1 << 32) | 2


def test_esn_mismatch_fails_the_icv(make_pair, ipv4):
    """A receiver that infers the wrong high half (here: it thinks it is 2^32 further) drops
    the packet on the ICV, for HMAC and AEAD alike."""
    for transform in ((12, 128, 12), (20, 256, 0)):
        responder, initiator = make_pair(*transform, esn=1)
        esp = initiator.outbound.seal(ipv4())
        responder.inbound.window.top = (1 << 32) | 0x80000000  # infers high half 1 for seq 1
        assert responder.inbound.open(esp) is Drop.ICV
