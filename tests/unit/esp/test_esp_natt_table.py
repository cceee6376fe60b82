"""RFC 3948 demultiplexing on the NAT-T port, and the SA table (SPI in, virtual IP out)."""

from __future__ import annotations

import pytest

from ikeeap.esp import (
    Drop, EspTable, Lifetime, NattKind, RekeyDue, classify, demux, encapsulate_ike,
)

IKE_MESSAGE = bytes(8) + bytes(8) + bytes([33, 0x20, 34, 8]) + bytes(4) + (28).to_bytes(4, "big")


@pytest.mark.parametrize(("datagram", "kind"), [
    (b"\xff", NattKind.KEEPALIVE),
    (b"\x00", NattKind.INVALID),
    (b"", NattKind.INVALID),
    (b"\x00\x00\x00\x00" + IKE_MESSAGE, NattKind.IKE),
    (b"\x00\x00\x00\x00" + bytes(10), NattKind.INVALID),  # a marker without an IKE header
    (b"\x01\x02\x03\x04" + bytes(4), NattKind.ESP),
    (b"\x00\x00\x00\x01" + bytes(40), NattKind.ESP),
    (b"\x01\x02\x03", NattKind.INVALID),
    (b"\xff\xff", NattKind.INVALID),
])
def test_classify(datagram, kind):
    assert classify(datagram) is kind


def test_demux_strips_the_marker():
    assert demux(encapsulate_ike(IKE_MESSAGE)) == (NattKind.IKE, IKE_MESSAGE)
    esp = b"\xc0\xff\xee\x01" + bytes(40)
    assert demux(esp) == (NattKind.ESP, esp)


def test_table_inbound_by_spi_and_unknown_spi(make_pair, ipv4):
    responder, initiator = make_pair()
    table = EspTable()
    table.add(responder)
    esp = initiator.outbound.seal(ipv4())
    sa, inner = table.open(esp)
    assert sa is responder.inbound and inner == ipv4()
    stranger = b"\xde\xad\xbe\xef" + esp[4:]
    assert table.open(stranger) == (None, Drop.UNKNOWN_SPI)
    assert table.open(esp[:5]) == (None, Drop.MALFORMED)
    assert table.drops[Drop.UNKNOWN_SPI] == 1 and table.drops[Drop.MALFORMED] == 1
    with pytest.raises(ValueError):
        table.add(responder)


def test_table_outbound_by_virtual_ip(make_pair, ipv4):
    responder, initiator = make_pair()
    table = EspTable()
    table.add(responder)
    to_client = ipv4(src="192.0.2.7", dst="10.10.0.5")
    sa, esp = table.seal(to_client)
    assert sa is responder.outbound and initiator.inbound.open(esp) == to_client
    assert table.seal(ipv4(src="192.0.2.7", dst="10.10.0.6")) == (None, Drop.NO_ROUTE)
    assert table.drops[Drop.NO_ROUTE] == 1


def test_rekey_moves_the_route_and_keeps_the_old_inbound(make_pair, ipv4):
    old, old_peer = make_pair()
    table = EspTable()
    table.add(old)
    new, new_peer = make_pair(spi_r=b"\x11\x11\x11\x11", spi_i=b"\x22\x22\x22\x22")
    table.add(new)
    to_client = ipv4(src="192.0.2.7", dst="10.10.0.5")
    assert table.outbound(to_client) is new.outbound
    assert table.open(old_peer.outbound.seal(ipv4()))[1] == ipv4()  # old SA still receives
    assert table.open(new_peer.outbound.seal(ipv4()))[1] == ipv4()
    table.remove(old)
    assert table.outbound(to_client) is new.outbound
    assert table.open(old_peer.outbound.seal(ipv4()))[1] is Drop.UNKNOWN_SPI
    table.remove(new)
    assert table.outbound(to_client) is None and len(table) == 0


def test_removing_the_newer_child_falls_back_to_the_older(make_pair, ipv4):
    a, _ = make_pair()
    b, _ = make_pair(spi_r=b"\x33\x33\x33\x33")  # a rekey: same selectors, new SPIs
    table = EspTable()
    table.add(a)
    table.add(b)
    to_client = ipv4(src="192.0.2.7", dst="10.10.0.5")
    assert table.outbound(to_client) is b.outbound
    table.remove(b)
    assert table.outbound(to_client) is a.outbound


def test_ranged_selectors_route_by_match(make_pair, ipv4):
    site, _ = make_pair(ts_i=("10.20.0.0/16",))
    table = EspTable()
    table.add(site)
    assert table.outbound(ipv4(src="192.0.2.7", dst="10.20.3.4")) is site.outbound
    assert table.outbound(ipv4(src="192.0.2.7", dst="10.21.3.4")) is None


def test_table_events_and_ike_sa_removal(make_pair, ipv4):
    responder, initiator = make_pair(now=0.0, lifetime=Lifetime(soft_seconds=10))
    table = EspTable()
    table.add(responder)
    assert table.next_deadline() == 10.0
    assert table.poll(5.0) == []
    assert table.poll(10.0) == [RekeyDue(responder.ref, "in", "time"),
                                RekeyDue(responder.ref, "out", "time")]
    assert table.child_by_spi(responder.inbound.spi) is responder
    assert table.remove_ike_sa("ike-1") == [responder]
    assert len(table) == 0 and table.next_deadline() is None
