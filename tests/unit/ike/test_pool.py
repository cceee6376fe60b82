"""The virtual-IP pool: reserved addresses are never handed out, concurrent SAs of one
identity get distinct addresses, a reconnect gets its address back."""

from __future__ import annotations

import ipaddress

from ikeeap.ike.pool import AddressPool, addresses_in

NET = ipaddress.IPv4Network("10.99.0.0/29")  # hosts .1 - .6


def _pool(*reserved: str) -> AddressPool:
    return AddressPool(NET, addresses_in(reserved))


def test_dns_address_is_never_handed_out():
    """The shipped conf has pool 10.99.0.0/24 with dns 10.99.0.1: the first client got .1."""
    pool = _pool("10.99.0.1")
    handed = [pool.acquire(f"user{i}") for i in range(6)]
    assert ipaddress.IPv4Address("10.99.0.1") not in handed
    assert handed[:5] == [ipaddress.IPv4Address(f"10.99.0.{i}") for i in range(2, 7)]
    assert handed[5] is None  # .0, .1 and .7 are not addresses to give


def test_concurrent_sas_of_one_identity_get_distinct_addresses():
    pool = _pool()
    first, second = pool.acquire("demo"), pool.acquire("demo")
    assert first is not None and second is not None and first != second


def test_a_reconnect_gets_its_previous_address_back():
    pool = _pool()
    first = pool.acquire("demo")
    pool.acquire("other")
    pool.release(first)
    assert pool.acquire("demo") == first


def test_released_addresses_are_reused_when_the_pool_is_exhausted():
    pool = _pool()
    leases = [pool.acquire("demo") for _ in range(6)]
    assert pool.acquire("demo") is None
    for addr in leases:
        pool.release(addr)
    again = {pool.acquire(f"u{i}") for i in range(6)}
    assert again == set(leases) and pool.acquire("late") is None


def test_reserve_refuses_reserved_or_leased_addresses():
    pool = _pool("10.99.0.2")
    taken = pool.acquire("a")
    assert not pool.reserve("b", taken)
    assert not pool.reserve("b", ipaddress.IPv4Address("10.99.0.2"))
    assert pool.reserve("b", ipaddress.IPv4Address("10.99.0.5"))


def test_addresses_in_keeps_ipv4_only():
    assert addresses_in(["10.0.0.1", "2001:db8::1", "dns.example"]) == [
        ipaddress.IPv4Address("10.0.0.1")]


def test_two_live_logins_of_one_user_get_distinct_virtual_ips(settings_factory, client):
    """Two devices of demo at once (each SA still up): the second must not share the first's
    address, and neither gets the DNS server's."""
    from ikeeap.initiator.loopback import run_login

    settings = settings_factory(pool="10.10.0.0/24", dns=("10.10.0.1",))
    first = run_login(settings, client(identity="alice"))
    second = run_login(settings, client(identity="alice"))
    vips = [first.responder_sa.virtual_ip, second.responder_sa.virtual_ip]
    assert None not in vips and vips[0] != vips[1] and "10.10.0.1" not in vips
