"""The DataPlane value types: KERNEL keys split by direction, nothing secret in a repr, the
ChildSaUp built from the core's event, NoDataPlane, reqids shared by a rekey."""

from __future__ import annotations

import pytest

from ikeeap.dataplane.interface import (
    ChildCounters, ChildSaUp, DataPlane, Lifetimes, NoDataPlane, ReqIds, child_sa_up,
    split_keymat,
)
from ikeeap.ike.events import ChildSaEstablished
from ikeeap.wire.constants import EncrId, IntegId


def test_keymat_split_initiator_to_responder_first():
    # AES-CBC-128 with HMAC-SHA2-256: 16 + 32 octets per direction (RFC 7296 §2.17)
    keymat = b"a" * 16 + b"b" * 32 + b"c" * 16 + b"d" * 32
    keys = split_keymat(keymat, EncrId.AES_CBC, 128, IntegId.HMAC_SHA2_256_128)
    assert (keys.encr_in, keys.integ_in) == (b"a" * 16, b"b" * 32)  # ours inbound: i -> r
    assert (keys.encr_out, keys.integ_out) == (b"c" * 16, b"d" * 32)
    gcm = split_keymat(b"x" * 20 + b"y" * 20, EncrId.AES_GCM_16, 128, IntegId.NONE)
    assert (gcm.encr_in, gcm.integ_in, gcm.encr_out) == (b"x" * 20, b"", b"y" * 20)
    with pytest.raises(ValueError, match="KEYMAT of 39 octets, the transforms need 40"):
        split_keymat(b"x" * 39, EncrId.AES_GCM_16, 128, IntegId.NONE)
    assert "x" not in repr(gcm)


def _event(**kw):
    base = dict(sa_id="ab" * 8, spi_in=b"\x11\x11\x11\x11", spi_out=b"\x22\x22\x22\x22",
                encr=EncrId.AES_GCM_16, encr_key_bits=128, integ=IntegId.NONE,
                keymat=bytes(range(40)), ts_i=("10.3.0.7/32",), ts_r=("0.0.0.0/0",), esn=1,
                udp_encap=True)
    base.update(kw)
    return ChildSaEstablished(**base)


def test_child_sa_up_from_the_core_event():
    child = child_sa_up(_event(), unique_id=3, reqid=9, local=("192.0.2.1", 4500),
                        remote=("198.51.100.9", 61000), virtual_ip="10.3.0.7",
                        local_id="vpn.example.org", remote_id="laptop", username="demo",
                        lifetimes=Lifetimes(10, 20), replay_window=128)
    assert child == ChildSaUp(
        sa_id="ab" * 8, unique_id=3, reqid=9, spi_in=b"\x11" * 4, spi_out=b"\x22" * 4,
        encr=EncrId.AES_GCM_16, encr_key_bits=128, integ=IntegId.NONE, keymat=bytes(range(40)),
        local=("192.0.2.1", 4500), remote=("198.51.100.9", 61000), ts_local=("0.0.0.0/0",),
        ts_remote=("10.3.0.7/32",), esn=True, udp_encap=True, virtual_ip="10.3.0.7",
        local_id="vpn.example.org", remote_id="laptop", username="demo",
        lifetimes=Lifetimes(10, 20), replay_window=128)
    assert child.keys().encr_in == bytes(range(20))
    assert "keymat" not in repr(child) and not child.ipv6


def test_no_data_plane_satisfies_the_protocol_and_does_nothing():
    plane = NoDataPlane()
    assert isinstance(plane, DataPlane) and plane.name == "none"
    child = child_sa_up(_event(), unique_id=1, reqid=1, local=("192.0.2.1", 500),
                        remote=("198.51.100.9", 500))
    plane.child_up(child)
    plane.ike_rekeyed("a", "b")
    plane.ike_gone(child.sa_id)
    assert plane.counters(child.sa_id) == ChildCounters()
    plane.close()


def test_counters_add_up_with_drops_by_reason():
    a = ChildCounters(1, 2, 3, 4, (("replay", 1),))
    b = ChildCounters(10, 20, 30, 40, (("integrity", 2), ("replay", 5)))
    assert a + b == ChildCounters(11, 22, 33, 44, (("integrity", 2), ("replay", 6)))


def test_reqids_shared_by_a_rekey_and_released_with_the_last_child():
    ids = ReqIds()
    first = ids.acquire("sa1", b"old", ("0.0.0.0/0",), ("10.3.0.7/32",))
    other = ids.acquire("sa2", b"x", ("0.0.0.0/0",), ("10.3.0.8/32",))
    assert (first, other) == (1, 2)
    rekeyed = ids.acquire("sa1", b"new", ("0.0.0.0/0",), ("10.3.0.7/32",))
    assert rekeyed == first
    assert ids.release(first, b"old") is False  # the new Child SA still uses it
    assert ids.release(first, b"new") is True
    assert ids.acquire("sa1", b"again", ("0.0.0.0/0",), ("10.3.0.7/32",)) == 3
    ids.moved("sa2", "sa2b")
    assert ids.acquire("sa2b", b"y", ("0.0.0.0/0",), ("10.3.0.8/32",)) == other
    assert ids.release(99, b"none") is False
