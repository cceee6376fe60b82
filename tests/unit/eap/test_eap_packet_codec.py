"""EAP packet codec (RFC 3748 §4): round trips, and only EapParseError for bad input."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ikeeap.eap.packet import EapCode, EapPacket, EapParseError, EapType, parse_eap
from ikeeap.wire.errors import ParseError


@pytest.mark.parametrize(
    "packet",
    [
        EapPacket(EapCode.REQUEST, 0, EapType.IDENTITY, b""),
        EapPacket(EapCode.RESPONSE, 255, EapType.IDENTITY, b"alice@example.org"),
        EapPacket(EapCode.REQUEST, 7, EapType.MD5, bytes([16]) + b"c" * 16),
        EapPacket(EapCode.RESPONSE, 8, EapType.NAK, bytes([26, 6])),
        EapPacket(EapCode.SUCCESS, 9),
        EapPacket(EapCode.FAILURE, 10),
        EapPacket(EapCode.REQUEST, 1, 200, b"unknown type kept as int"),
    ],
)
def test_encode_parse_round_trip(packet: EapPacket) -> None:
    assert parse_eap(packet.encode()) == packet


def test_known_types_parse_to_enum_members_and_type_data_joins_type() -> None:
    pkt = parse_eap(bytes([2, 5, 0, 7, 26, 3, 0]))
    assert pkt.type is EapType.MSCHAPV2 and pkt.code is EapCode.RESPONSE
    assert pkt.type_data == bytes([26, 3, 0])
    assert EapPacket.from_type_data(EapCode.RESPONSE, 5, pkt.type_data) == pkt


def test_success_encodes_to_four_octets() -> None:
    assert EapPacket(EapCode.SUCCESS, 0x42).encode() == b"\x03\x42\x00\x04"


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x01\x00\x00",  # shorter than the header
        b"\x01\x00\x00\x05",  # length says 5, only 4 octets
        b"\x01\x00\x00\x04",  # Request without type
        b"\x02\x00\x00\x06\x01a\x00",  # length shorter than data
        b"\x03\x00\x00\x05\x00",  # Success with data
        b"\x04\x00\x00\x03",  # length below header size
        b"\x05\x00\x00\x04",  # unknown code
        b"\x00\x00\x00\x04",  # code 0
        b"\x01\x00\x00\x05\x00",  # type 0
        b"\x01\x00\x00\x08\xfe\x00\x00\x00",  # truncated expanded type
    ],
)
def test_malformed_packets_raise_eap_parse_error(data: bytes) -> None:
    with pytest.raises(EapParseError):
        parse_eap(data)


def test_eap_parse_error_is_a_wire_parse_error() -> None:
    assert issubclass(EapParseError, ParseError)


@pytest.mark.parametrize(
    "packet",
    [
        EapPacket(EapCode.SUCCESS, 1, EapType.MD5),
        EapPacket(EapCode.FAILURE, 1, None, b"x"),
        EapPacket(EapCode.REQUEST, 1, None),
        EapPacket(EapCode.REQUEST, 256, EapType.MD5),
        EapPacket(EapCode.RESPONSE, 1, 0),
        EapPacket(9, 1, EapType.MD5),
        EapPacket(EapCode.REQUEST, 1, EapType.MD5, b"x" * 65531),
    ],
)
def test_encode_rejects_impossible_packets(packet: EapPacket) -> None:
    with pytest.raises(ValueError):
        packet.encode()


@given(st.binary(max_size=300))
def test_random_bytes_raise_only_eap_parse_error(data: bytes) -> None:
    try:
        pkt = parse_eap(data)
    except EapParseError:
        return
    assert pkt.encode() == data


@given(
    st.sampled_from([EapCode.REQUEST, EapCode.RESPONSE]),
    st.integers(0, 255),
    st.integers(1, 253),
    st.binary(max_size=200),
)
def test_any_request_or_response_round_trips(code: int, ident: int, typ: int, data: bytes) -> None:
    pkt = EapPacket(code, ident, typ, data)
    assert parse_eap(pkt.encode()) == pkt
