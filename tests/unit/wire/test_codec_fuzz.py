"""Property tests: the codec raises only ParseError, whatever the input."""

from __future__ import annotations

import struct

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ikeeap.wire.codec import (
    encode_message,
    encode_payloads,
    parse_message,
    parse_payloads,
    sk_offset,
)
from ikeeap.wire.errors import ParseError
from ikeeap.wire.payloads import (
    AuthPayload,
    CertReqPayload,
    CfgAttribute,
    CpPayload,
    DeletePayload,
    EapPayload,
    EncryptedFragmentPayload,
    EncryptedPayload,
    IdPayload,
    IkeHeader,
    KePayload,
    NoncePayload,
    NotifyPayload,
    Proposal,
    SaPayload,
    TrafficSelector,
    Transform,
    TsPayload,
    UnknownPayload,
    VendorPayload,
)

HEADER = IkeHeader(b"\x01" * 8, b"\x02" * 8, 0, 34, 0x08, 0)

_SA = SaPayload(
    (
        Proposal(
            1,
            1,
            b"",
            (
                Transform(1, 12, 256),
                Transform(2, 5),
                Transform(3, 12),
                Transform(4, 14),
                Transform(7, 1, None, ((0x8011, b"\x00\x01"), (5, b"abc"))),
            ),
        ),
        Proposal(2, 3, b"\x01\x02\x03\x04", (Transform(1, 20, 128), Transform(5, 0))),
    )
)

SAMPLE_CHAINS = [
    [
        _SA,
        KePayload(14, bytes(64)),
        NoncePayload(bytes(32)),
        NotifyPayload(16388, bytes(20)),
        NotifyPayload(16430),
        VendorPayload(b"vid"),
        CertReqPayload(4, bytes(20)),
    ],
    [
        IdPayload(True, 3, b"user@example.org"),
        NotifyPayload(16393, b"", 3, b"\x00\x00\x00\x01"),
        CpPayload(1, (CfgAttribute(1), CfgAttribute(3, b"\x08\x08\x08\x08"))),
        _SA,
        TsPayload(
            True,
            (
                TrafficSelector(7, 0, 0, 65535, bytes(4), b"\xff" * 4),
                TrafficSelector(8, 17, 1, 2, bytes(16), b"\xff" * 16),
            ),
        ),
        TsPayload(
            False, (TrafficSelector(7, 6, 80, 80, b"\x0a\x00\x00\x01", b"\x0a\x00\x00\x02"),)
        ),
        EncryptedPayload(35, bytes(48)),
    ],
    [
        AuthPayload(2, bytes(32)),
        EapPayload(b"\x02\x05\x00\x06\x01x"),
        DeletePayload(3, (b"\x00\x00\x00\x01", b"\x00\x00\x00\x02")),
        DeletePayload(1),
        UnknownPayload(99, True, b"zz"),
        EncryptedFragmentPayload(41, 2, 3, bytes(40)),
    ],
]
SAMPLE_MESSAGES = [encode_message(HEADER, chain) for chain in SAMPLE_CHAINS]
SAMPLE_BODIES = [encode_payloads(chain) for chain in SAMPLE_CHAINS]

FUZZ = settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _parse_all(data: bytes) -> None:
    """Every entry point must either succeed or raise ParseError."""
    try:
        header, payloads = parse_message(data)
    except ParseError:
        pass
    else:
        # Whatever parses must re-encode and parse back to the same objects.
        again = encode_message(header, payloads)
        assert parse_message(again)[1] == payloads
    try:
        sk_offset(data)
    except ParseError:
        pass


def _parse_chain(first: int, data: bytes) -> None:
    try:
        payloads = parse_payloads(first, data)
    except ParseError:
        return
    assert parse_payloads(*encode_payloads(payloads)) == payloads


def _fix_header_length(data: bytearray) -> bytes:
    if len(data) >= 28:
        struct.pack_into(">I", data, 24, len(data))
    return bytes(data)


def _header_for(body_len: int, first: int) -> bytes:
    return struct.pack(
        ">8s8sBBBBII", b"\x01" * 8, b"\x02" * 8, first, 0x20, 34, 8, 0, 28 + body_len
    )


@FUZZ
@given(st.binary(max_size=400), st.integers(0, 255))
def test_random_bytes(data: bytes, first: int) -> None:
    _parse_all(data)
    # Also behind a valid header so the chain walker and payload parsers get exercised.
    _parse_all(_header_for(len(data), first) + data)


@FUZZ
@given(st.integers(0, 255), st.binary(max_size=300))
def test_random_chains(first: int, data: bytes) -> None:
    _parse_chain(first, data)


@FUZZ
@given(st.sampled_from(SAMPLE_MESSAGES), st.data())
def test_bit_flips(msg: bytes, data: st.DataObject) -> None:
    buf = bytearray(msg)
    flips = data.draw(st.lists(st.integers(0, len(buf) * 8 - 1), min_size=1, max_size=4))
    for bit in flips:
        buf[bit // 8] ^= 1 << (bit % 8)
    _parse_all(bytes(buf))
    fix = data.draw(st.booleans())
    if fix:
        _parse_all(_fix_header_length(buf))


@FUZZ
@given(st.sampled_from(SAMPLE_MESSAGES), st.data())
def test_truncations_and_extensions(msg: bytes, data: st.DataObject) -> None:
    cut = data.draw(st.integers(0, len(msg)))
    extra = data.draw(st.binary(max_size=8))
    mutated = bytearray(msg[:cut] + extra)
    _parse_all(bytes(mutated))
    _parse_all(_fix_header_length(mutated))


@FUZZ
@given(st.sampled_from(SAMPLE_MESSAGES), st.data())
def test_length_field_changes(msg: bytes, data: st.DataObject) -> None:
    """Overwrite a 16-bit field (payload/proposal/transform/selector/attr length) anywhere."""
    buf = bytearray(msg)
    pos = data.draw(st.integers(28, len(buf) - 2))
    value = data.draw(st.one_of(st.integers(0, 0xFFFF), st.integers(0, 64)))
    struct.pack_into(">H", buf, pos, value)
    _parse_all(bytes(buf))


@FUZZ
@given(st.sampled_from(SAMPLE_BODIES), st.data())
def test_chain_byte_overwrites(sample: tuple[int, bytes], data: st.DataObject) -> None:
    first, body = sample
    buf = bytearray(body)
    for _ in range(data.draw(st.integers(1, 3))):
        pos = data.draw(st.integers(0, len(buf) - 1))
        buf[pos] = data.draw(st.integers(0, 255))
    _parse_chain(first, bytes(buf))
    _parse_chain(data.draw(st.integers(0, 255)), bytes(buf))


@FUZZ
@given(st.sampled_from(SAMPLE_BODIES), st.data())
def test_chain_splices(sample: tuple[int, bytes], data: st.DataObject) -> None:
    first, body = sample
    a = data.draw(st.integers(0, len(body)))
    b = data.draw(st.integers(a, len(body)))
    insert = data.draw(st.binary(max_size=12))
    _parse_chain(first, body[:a] + insert + body[b:])


def test_samples_parse() -> None:
    for msg, chain in zip(SAMPLE_MESSAGES, SAMPLE_CHAINS):
        assert parse_message(msg)[1] == chain
