"""Routing between ``serve --workers`` processes (pure parts): who owns a datagram, SPIs
naming their worker, frames between workers, pool slices."""

from __future__ import annotations

import ipaddress

from ikeeap.ike.pool import AddressPool
from ikeeap.initiator.testing import make_settings
from ikeeap.server.worker_routing import (
    decode_frame,
    encode_frame,
    owned_random,
    owner_of,
    split_pools,
)


def _ike(spi_r: bytes) -> bytes:
    return b"\x11" * 8 + spi_r + bytes(12)


def test_spis_drawn_by_a_worker_name_it_and_other_draws_are_untouched():
    for workers in (2, 3, 4):
        for w in range(workers):
            draw = owned_random(w, workers)
            spis = [draw(8) for _ in range(200)]
            assert all(owner_of(_ike(s), False, workers) == w for s in spis)
            assert len(set(spis)) == 200
    fixed = owned_random(1, 2, random=lambda n: b"\xff" * n)
    assert fixed(8)[0] == 0xFF and fixed(32) == b"\xff" * 32  # 255 % 2 == 1 already


def test_routing_new_ike_sa_init_is_anyones_and_nat_t_is_read_after_the_marker():
    assert owner_of(_ike(bytes(8)), False, 2) is None  # IKE_SA_INIT: SPIr zero
    assert owner_of(_ike(b"\x03" + bytes(7)), False, 2) == 1
    assert owner_of(b"\0\0\0\0" + _ike(b"\x04" + bytes(7)), True, 2) == 0
    assert owner_of(b"\xff", True, 2) is None  # NAT keepalive
    assert owner_of(b"\x01\x02\x03\x04" + bytes(40), True, 2) is None  # ESP: not ours
    assert owner_of(b"short", False, 2) is None


def test_forwarded_frames_keep_addresses_and_data():
    frame = encode_frame(b"\0\0\0\0payload", ("198.51.100.1", 4500), ("2001:db8::2", 40001))
    assert decode_frame(frame) == (b"\0\0\0\0payload", ("198.51.100.1", 4500),
                                   ("2001:db8::2", 40001))


def test_each_worker_gets_a_disjoint_slice_of_the_pool():
    slices = []
    for w in range(2):
        settings = make_settings(pool="10.10.0.0/24")
        split_pools(settings, w, 2)
        slices.append(settings.pools["eap"].network)
    assert slices == [ipaddress.ip_network("10.10.0.0/25"), ipaddress.ip_network("10.10.0.128/25")]
    assert isinstance(make_settings().pools["eap"], AddressPool)
