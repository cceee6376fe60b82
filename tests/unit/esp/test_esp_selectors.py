"""Traffic selectors as the data plane checks them (RFC 4301 §5.2, RFC 7296 §3.13.1)."""

from __future__ import annotations

import struct

import pytest

from ikeeap.esp import Selector, SelectorCheck, parse_selector
from ikeeap.esp.selectors import packet_flow
from ikeeap.ike.child import describe
from ikeeap.wire.constants import TsType
from ikeeap.wire.payloads import TrafficSelector


@pytest.mark.parametrize(("text", "expected"), [
    ("10.0.0.1/32", Selector(4, 0x0A000001, 0x0A000001)),
    ("10.0.0.0/24", Selector(4, 0x0A000000, 0x0A0000FF)),
    ("0.0.0.0/0", Selector(4, 0, 0xFFFFFFFF)),
    ("10.0.0.1-10.0.0.9", Selector(4, 0x0A000001, 0x0A000009)),
    ("10.0.0.0/8[6/80-443]", Selector(4, 0x0A000000, 0x0AFFFFFF, 6, 80, 443)),
    ("::/0", Selector(6, 0, (1 << 128) - 1)),
    ("2001:db8::/32[17/53-53]", Selector(6, 0x20010DB8 << 96, (0x20010DB8 << 96) | ((1 << 96) - 1),
                                         17, 53, 53)),
])
def test_parse_selector(text, expected):
    assert parse_selector(text) == expected
    assert str(expected) == text


@pytest.mark.parametrize("text", ["10.0.0.9-10.0.0.1", "10.0.0.1-::1", "10.0.0.0/8[6/90-80]",
                                  "10.0.0.0/8[300/0-1]", "nonsense"])
def test_bad_selectors(text):
    with pytest.raises(ValueError):
        parse_selector(text)


@pytest.mark.parametrize("ts", [
    TrafficSelector(TsType.IPV4_ADDR_RANGE, 0, 0, 65535, bytes([10, 0, 0, 1]), bytes([10, 0, 0, 1])),
    TrafficSelector(TsType.IPV4_ADDR_RANGE, 6, 80, 80, bytes([10, 0, 0, 0]),
                    bytes([10, 0, 0, 200])),
    TrafficSelector(TsType.IPV6_ADDR_RANGE, 17, 0, 65535, bytes(16), b"\xff" * 16),
])
def test_describe_strings_and_wire_selectors_agree(ts):
    """What ikeeap.ike.child.describe writes into ChildSaEstablished parses back."""
    assert parse_selector(describe(ts)) == Selector.from_wire(ts)


def test_ipv4_ports_and_fragments(ipv4):
    check = SelectorCheck(["10.10.0.5/32"], ["192.0.2.0/24[6/443-443]"])
    assert check.inbound(ipv4(protocol=6, ports=(5555, 443)))
    assert not check.inbound(ipv4(protocol=6, ports=(5555, 80)))
    assert not check.inbound(ipv4(protocol=17, ports=(5555, 443)))
    fragment = bytearray(ipv4(protocol=6, ports=(5555, 443)))
    struct.pack_into("!H", fragment, 6, 100)  # a non-initial fragment: no ports to see
    assert not check.inbound(bytes(fragment))
    assert SelectorCheck(["10.10.0.5/32"], ["192.0.2.0/24[6/0-65535]"]).inbound(bytes(fragment))


def test_icmp_type_and_code_stand_for_the_ports(ipv4):
    echo = ipv4(protocol=1, ports=(0x0800, 0))  # type 8 code 0
    assert SelectorCheck(["10.10.0.5/32"], ["0.0.0.0/0[1/2048-2048]"]).inbound(echo)
    assert not SelectorCheck(["10.10.0.5/32"], ["0.0.0.0/0[1/0-255]"]).inbound(echo)


def test_ipv6_with_extension_headers(ipv6):
    check = SelectorCheck(["2001:db8::/64"], ["::/0[17/53-53]"])
    assert check.inbound(ipv6())
    hop_by_hop = bytes([17, 0]) + bytes(6)  # next header UDP, 8 octets
    assert check.inbound(ipv6(first_header=0, extensions=hop_by_hop))
    first_fragment = bytes([17, 0, 0, 1]) + bytes(4)  # offset 0, M flag
    assert check.inbound(ipv6(first_header=44, extensions=first_fragment))
    later_fragment = bytes([17, 0, 0, 8]) + bytes(4)  # offset 1 (×8)
    assert not check.inbound(ipv6(first_header=44, extensions=later_fragment))
    assert not check.inbound(ipv6(src="2001:db8:1::5"))


def test_outbound_direction_swaps_the_sides(ipv4):
    check = SelectorCheck(["10.10.0.5/32"], ["0.0.0.0/0"])
    to_client = ipv4(src="192.0.2.7", dst="10.10.0.5")
    assert check.outbound(to_client) and not check.inbound(to_client)
    assert check.inbound(ipv4()) and not check.outbound(ipv4())


def test_fast_and_general_paths_agree(ipv4):
    """The one-range IPv4 shortcut answers as the general matcher does."""
    fast = SelectorCheck(["10.10.0.0/30"], ["192.0.2.0/24"])
    general = SelectorCheck(["10.10.0.0/30", "10.99.0.0/32[0/0-65535]"], ["192.0.2.0/24"])
    for src in ("10.10.0.0", "10.10.0.3", "10.10.0.4", "9.255.255.255"):
        for dst in ("192.0.2.0", "192.0.2.255", "192.0.3.0"):
            packet = ipv4(src=src, dst=dst)
            assert fast.inbound(packet) == general.inbound(packet)
            back = ipv4(src=dst, dst=src)
            assert fast.outbound(back) == general.outbound(back)


def test_not_an_ip_packet():
    check = SelectorCheck(["0.0.0.0/0"], ["0.0.0.0/0"])
    assert not check.inbound(b"\x45" + bytes(10))
    assert packet_flow(b"\x70" + bytes(40)) is None
    assert packet_flow(b"\x4f" + bytes(30)) is None  # IHL beyond the packet
