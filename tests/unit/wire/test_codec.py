"""Unit tests for ikeeap.wire.codec."""

from __future__ import annotations

import struct

import pytest

from ikeeap.wire.codec import (
    encode_header,
    encode_message,
    encode_payloads,
    parse_header,
    parse_header_only,
    parse_message,
    parse_payloads,
    sk_offset,
)
from ikeeap.wire.constants import (
    AuthMethod,
    CfgAttr,
    CfgType,
    DhId,
    EncrId,
    ExchangeType,
    IdType,
    IntegId,
    NotifyType,
    PayloadType,
    PrfId,
    ProtocolId,
    TransformType,
    TsType,
)
from ikeeap.wire.errors import ParseError
from ikeeap.wire.payloads import (
    AuthPayload,
    CertPayload,
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

SPI_I = bytes.fromhex("0102030405060708")
SPI_R = bytes(8)


def _ike_sa() -> SaPayload:
    return SaPayload(
        (
            Proposal(
                1,
                ProtocolId.IKE,
                b"",
                (
                    Transform(TransformType.ENCR, EncrId.AES_CBC, 256),
                    Transform(TransformType.ENCR, EncrId.AES_GCM_16, 128),
                    Transform(TransformType.PRF, PrfId.HMAC_SHA2_256),
                    Transform(TransformType.INTEG, IntegId.HMAC_SHA2_256_128),
                    Transform(TransformType.DH, DhId.MODP_2048),
                ),
            ),
            Proposal(
                2,
                ProtocolId.IKE,
                b"",
                (
                    Transform(TransformType.ENCR, EncrId.CHACHA20_POLY1305),
                    Transform(TransformType.PRF, PrfId.HMAC_SHA2_512),
                    Transform(TransformType.DH, DhId.CURVE25519),
                ),
            ),
        )
    )


ALL_PAYLOADS = [
    _ike_sa(),
    SaPayload(
        (
            Proposal(
                1,
                ProtocolId.ESP,
                b"\xaa\xbb\xcc\xdd",
                (
                    Transform(TransformType.ENCR, EncrId.AES_CBC, 128),
                    Transform(TransformType.INTEG, IntegId.HMAC_SHA1_96),
                    Transform(TransformType.ESN, 0),
                    Transform(99, 1234, None, ((0x8000 | 77, b"\x00\x05"), (300, b"variable"))),
                ),
            ),
        )
    ),
    KePayload(DhId.CURVE25519, bytes(range(32))),
    KePayload(DhId.NONE, b""),
    IdPayload(True, IdType.RFC822_ADDR, b"alice@example.com"),
    IdPayload(False, IdType.FQDN, b"vpn.example.com"),
    IdPayload(True, IdType.IPV4_ADDR, b"\x0a\x00\x00\x01"),
    CertPayload(4, b"\x30\x82" + bytes(100)),
    CertReqPayload(4, bytes(range(40))),
    CertReqPayload(4, b""),
    AuthPayload(AuthMethod.SHARED_KEY, bytes(32)),
    AuthPayload(AuthMethod.DIGITAL_SIGNATURE, b"\x0f" + bytes(20)),
    NoncePayload(bytes(range(32))),
    NotifyPayload(NotifyType.IKEV2_FRAGMENTATION_SUPPORTED),
    NotifyPayload(NotifyType.NAT_DETECTION_SOURCE_IP, bytes(20)),
    NotifyPayload(NotifyType.REKEY_SA, b"", ProtocolId.ESP, b"\x01\x02\x03\x04"),
    NotifyPayload(NotifyType.INVALID_KE_PAYLOAD, b"\x00\x0e"),
    NotifyPayload(40000, b"private"),
    DeletePayload(ProtocolId.IKE),
    DeletePayload(ProtocolId.ESP, (b"\x00\x00\x00\x01", b"\x00\x00\x00\x02")),
    VendorPayload(b"strongSwan"),
    TsPayload(
        True,
        (
            TrafficSelector(TsType.IPV4_ADDR_RANGE, 0, 0, 65535, bytes(4), b"\xff" * 4),
            TrafficSelector(TsType.IPV6_ADDR_RANGE, 17, 500, 4500, bytes(16), b"\xff" * 16),
        ),
    ),
    TsPayload(
        False,
        (
            TrafficSelector(
                TsType.IPV4_ADDR_RANGE, 6, 80, 80, b"\x0a\x00\x00\x00", b"\x0a\x00\x00\xff"
            ),
        ),
    ),
    TsPayload(True, ()),
    CpPayload(
        CfgType.CFG_REQUEST,
        (
            CfgAttribute(CfgAttr.INTERNAL_IP4_ADDRESS),
            CfgAttribute(CfgAttr.INTERNAL_IP4_DNS),
            CfgAttribute(CfgAttr.INTERNAL_IP6_ADDRESS),
        ),
    ),
    CpPayload(
        CfgType.CFG_REPLY,
        (
            CfgAttribute(CfgAttr.INTERNAL_IP4_ADDRESS, b"\x0a\x01\x00\x02"),
            CfgAttribute(CfgAttr.APPLICATION_VERSION, b"ikeeap 0.1"),
            CfgAttribute(0x7FFF, b"x"),
        ),
    ),
    CpPayload(CfgType.CFG_ACK, ()),
    EapPayload(b"\x01\x01\x00\x05\x01"),
    UnknownPayload(200, True, b"critical stuff"),
    UnknownPayload(201, False, b""),
]

TERMINAL_PAYLOADS = [
    EncryptedPayload(PayloadType.IDi, bytes(16) + b"ciphertext" + bytes(16)),
    EncryptedPayload(PayloadType.NONE, b""),
    EncryptedFragmentPayload(PayloadType.EAP, 1, 3, b"frag-one"),
    EncryptedFragmentPayload(0, 3, 3, b"frag-three"),
]


@pytest.mark.parametrize("payload", ALL_PAYLOADS + TERMINAL_PAYLOADS, ids=repr)
def test_single_payload_round_trip(payload: object) -> None:
    first, octets = encode_payloads([payload])
    assert first == payload.ptype
    assert parse_payloads(first, octets) == [payload]
    # encode(parse(x)) == x for canonical encodings.
    assert encode_payloads(parse_payloads(first, octets)) == (first, octets)


def test_whole_chain_round_trip() -> None:
    chain = ALL_PAYLOADS + [TERMINAL_PAYLOADS[0]]
    first, octets = encode_payloads(chain)
    assert first == PayloadType.SA
    assert parse_payloads(first, octets) == chain


def test_message_round_trip_fills_header() -> None:
    header = IkeHeader(SPI_I, SPI_R, 0, ExchangeType.IKE_SA_INIT, 0x08, 0)
    msg = encode_message(header, ALL_PAYLOADS)
    parsed_header, payloads = parse_message(msg)
    assert payloads == ALL_PAYLOADS
    assert parsed_header.length == len(msg)
    assert parsed_header.next_payload == PayloadType.SA
    assert parsed_header.spi_i == SPI_I and parsed_header.spi_r == SPI_R
    assert parsed_header.is_initiator and not parsed_header.is_response
    assert encode_message(parsed_header, payloads) == msg


def test_empty_message() -> None:
    header = IkeHeader(SPI_I, SPI_R, 99, ExchangeType.INFORMATIONAL, 0x20, 7)
    msg = encode_message(header, [])
    assert len(msg) == 28
    h, payloads = parse_message(msg)
    assert payloads == [] and h.next_payload == 0 and h.message_id == 7 and h.is_response
    assert encode_payloads([]) == (0, b"")
    assert parse_payloads(0, b"") == []


def test_parse_accepts_bytearray_and_memoryview() -> None:
    msg = encode_message(IkeHeader(SPI_I, SPI_R, 0, 37, 0, 1), [NoncePayload(b"n" * 16)])
    assert parse_message(bytearray(msg)) == parse_message(msg)
    assert parse_message(memoryview(msg)) == parse_message(msg)


# ------------------------------------------------------------------ hand-built IKE_SA_INIT


def _gen(next_payload: int, body: bytes, critical: bool = False) -> bytes:
    return struct.pack(">BBH", next_payload, 0x80 if critical else 0, 4 + len(body)) + body


def _transform(last: bool, ttype: int, tid: int, key_len: int | None = None) -> bytes:
    attrs = struct.pack(">HH", 0x800E, key_len) if key_len is not None else b""
    return struct.pack(">BBHBBH", 0 if last else 3, 0, 8 + len(attrs), ttype, 0, tid) + attrs


def _hand_built_sa_init() -> bytes:
    transforms = b"".join(
        [
            _transform(False, 1, 12, 256),  # ENCR_AES_CBC-256
            _transform(False, 2, 5),  # PRF_HMAC_SHA2_256
            _transform(False, 3, 12),  # AUTH_HMAC_SHA2_256_128
            _transform(True, 4, 14),  # MODP-2048
        ]
    )
    proposal = struct.pack(">BBHBBBB", 0, 0, 8 + len(transforms), 1, 1, 0, 4) + transforms
    ke_data = bytes((i * 7) & 0xFF for i in range(256))
    nonce = bytes(range(100, 132))
    nat_src = bytes(range(20))
    nat_dst = bytes(range(20, 40))
    hashes = struct.pack(">HHH", 2, 3, 4)
    payloads = b"".join(
        [
            _gen(34, proposal),  # SA -> KE
            _gen(40, struct.pack(">HH", 14, 0) + ke_data),  # KE -> Nonce
            _gen(41, nonce),  # Nonce -> Notify
            _gen(41, struct.pack(">BBH", 0, 0, 16388) + nat_src),
            _gen(41, struct.pack(">BBH", 0, 0, 16389) + nat_dst),
            _gen(41, struct.pack(">BBH", 0, 0, 16430)),
            _gen(43, struct.pack(">BBH", 0, 0, 16431) + hashes),  # -> Vendor
            _gen(0, b"\x88\x2f\xe5\x6d\x6f\xd2\x0d\xbc\x22\x86\x61\x2e\x40\x30\x3f\xbe"),
        ]
    )
    header = struct.pack(">8s8sBBBBII", SPI_I, SPI_R, 33, 0x20, 34, 0x08, 0, 28 + len(payloads))
    return header + payloads


def test_hand_built_ike_sa_init() -> None:
    msg = _hand_built_sa_init()
    header, payloads = parse_message(msg)
    assert header == IkeHeader(SPI_I, SPI_R, 33, 34, 0x08, 0, len(msg), 0x20)
    assert [p.ptype for p in payloads] == [33, 34, 40, 41, 41, 41, 41, 43]
    sa = payloads[0]
    assert isinstance(sa, SaPayload)
    (prop,) = sa.proposals
    assert (prop.number, prop.protocol, prop.spi) == (1, 1, b"")
    assert prop.transforms == (
        Transform(1, 12, 256),
        Transform(2, 5),
        Transform(3, 12),
        Transform(4, 14),
    )
    ke = payloads[1]
    assert isinstance(ke, KePayload) and ke.group == 14 and len(ke.data) == 256
    assert payloads[2] == NoncePayload(bytes(range(100, 132)))
    assert payloads[3] == NotifyPayload(16388, bytes(range(20)))
    assert payloads[5] == NotifyPayload(16430)
    assert payloads[6] == NotifyPayload(16431, b"\x00\x02\x00\x03\x00\x04")
    assert isinstance(payloads[7], VendorPayload)
    # Field types stay plain ints / bytes.
    assert type(header.exchange) is int and type(ke.group) is int
    assert encode_message(header, payloads) == msg


def test_header_fields_and_encode_header() -> None:
    msg = _hand_built_sa_init()
    header = parse_header(msg)
    assert encode_header(header, len(msg)) == msg[:28]
    assert parse_header_only(msg[:28]) == header
    assert parse_header_only(msg + b"junk") == header


def test_parse_header_only_version_opt_out() -> None:
    msg = bytearray(_hand_built_sa_init())
    msg[17] = 0x30
    with pytest.raises(ParseError):
        parse_header_only(bytes(msg))
    assert parse_header_only(bytes(msg), check_version=False).version == 0x30


def test_minor_version_ignored() -> None:
    msg = bytearray(_hand_built_sa_init())
    msg[17] = 0x21
    assert parse_header(bytes(msg)).version == 0x21


def test_encode_header_rejects_bad_spi() -> None:
    with pytest.raises(ValueError):
        encode_header(IkeHeader(b"short", SPI_R, 0, 34, 0, 0), 28)


# ------------------------------------------------------------------ SK / sk_offset


def _sk_message(encrypted: EncryptedPayload | EncryptedFragmentPayload) -> bytes:
    header = IkeHeader(SPI_I, b"\x11" * 8, 0, ExchangeType.IKE_AUTH, 0x08, 1)
    return encode_message(header, [NotifyPayload(16430), encrypted])


def test_sk_offset_and_parse() -> None:
    sk = EncryptedPayload(PayloadType.IDi, b"iv" * 8 + b"ct" * 20 + b"icv" * 4)
    msg = _sk_message(sk)
    off = sk_offset(msg)
    assert off == 28 + 8  # after the 8-octet Notify payload
    assert msg[off] == PayloadType.IDi  # SK's next-payload field = first inner payload
    assert msg[off + 4 :] == sk.data
    header, payloads = parse_message(msg)
    assert header.next_payload == PayloadType.NOTIFY and payloads[-1] == sk


def test_skf_offset_and_parse() -> None:
    skf = EncryptedFragmentPayload(PayloadType.IDi, 1, 2, b"data")
    msg = _sk_message(skf)
    assert sk_offset(msg) == 36
    assert parse_message(msg)[1][-1] == skf


def test_sk_offset_without_sk() -> None:
    msg = encode_message(IkeHeader(SPI_I, SPI_R, 0, 37, 0, 1), [NoncePayload(b"x")])
    with pytest.raises(ParseError):
        sk_offset(msg)


def test_encode_rejects_sk_not_last() -> None:
    with pytest.raises(ValueError):
        encode_payloads([EncryptedPayload(0, b"x"), NoncePayload(b"n")])


def test_unknown_critical_bit_kept() -> None:
    body = b"abc"
    octets = _gen(0, body, critical=True)
    assert parse_payloads(222, octets) == [UnknownPayload(222, True, body)]
    assert parse_payloads(222, _gen(0, body)) == [UnknownPayload(222, False, body)]


def test_critical_bit_on_known_payload_ignored() -> None:
    octets = _gen(0, b"nonce", critical=True)
    assert parse_payloads(PayloadType.NONCE, octets) == [NoncePayload(b"nonce")]


def test_key_length_tlv_or_duplicate_goes_to_other_attrs() -> None:
    tlv = struct.pack(">BBHBBHHH", 0, 0, 14, 1, 0, 12, 14, 2) + b"\x01\x00"
    dup = struct.pack(">BBHBBHHHHH", 0, 0, 16, 1, 0, 12, 0x800E, 128, 0x800E, 256)
    for tbytes, expect in [
        (tlv, Transform(1, 12, None, ((14, b"\x01\x00"),))),
        (dup, Transform(1, 12, 128, ((0x800E, b"\x01\x00"),))),
    ]:
        prop = struct.pack(">BBHBBBB", 0, 0, 8 + len(tbytes), 1, 1, 0, 1) + tbytes
        (sa,) = parse_payloads(33, _gen(0, prop))
        assert sa.proposals[0].transforms == (expect,)


# ------------------------------------------------------------------ malformed input


def _msg(
    payload_octets: bytes, first: int, length: int | None = None, version: int = 0x20
) -> bytes:
    total = 28 + len(payload_octets) if length is None else length
    return (
        struct.pack(">8s8sBBBBII", SPI_I, SPI_R, first, version, 34, 8, 0, total) + payload_octets
    )


def _prop(
    body: bytes, last: int = 0, ntrans: int = 1, spi: bytes = b"", length: int | None = None
) -> bytes:
    plen = 8 + len(spi) + len(body) if length is None else length
    return struct.pack(">BBHBBBB", last, 0, plen, 1, 1, len(spi), ntrans) + spi + body


GOOD_T = _transform(True, 1, 12, 128)
SEL4 = struct.pack(">BBHHH", 7, 0, 16, 0, 65535) + bytes(8)

MALFORMED_MESSAGES = {
    "empty": b"",
    "short header": _msg(b"", 0)[:27],
    "major version 1": _msg(b"", 0, version=0x10),
    "major version 3": _msg(b"", 0, version=0x30),
    "length field too small": _msg(b"", 0, length=27),
    "length field larger than data": _msg(b"", 0, length=29),
    "length field smaller than data": _msg(_gen(0, b"n"), 40, length=28),
    "trailing bytes after chain": _msg(_gen(0, b"nonce") + b"\x00", 40),
    "truncated generic header": _msg(b"\x00\x00\x00", 40),
    "payload length < 4": _msg(b"\x00\x00\x00\x03", 40),
    "payload length past end": _msg(b"\x00\x00\x00\x09abcd", 40),
    "chain continues past end": _msg(_gen(40, b"nonce"), 40),
    "SK not last": _msg(_gen(40, b"ct") + _gen(0, b"n"), 46),
    "SKF not last": _msg(_gen(40, b"\x00\x01\x00\x01ct") + _gen(0, b"n"), 53),
    "SKF truncated": _msg(_gen(0, b"\x00\x01"), 53),
    "SKF number zero": _msg(_gen(0, b"\x00\x00\x00\x01"), 53),
    "SKF number > total": _msg(_gen(0, b"\x00\x03\x00\x02"), 53),
    "KE truncated": _msg(_gen(0, b"\x00\x0e\x00"), 34),
    "IDi truncated": _msg(_gen(0, b"\x02\x00"), 35),
    "IDr truncated": _msg(_gen(0, b""), 36),
    "CERT empty": _msg(_gen(0, b""), 37),
    "CERTREQ empty": _msg(_gen(0, b""), 38),
    "AUTH truncated": _msg(_gen(0, b"\x02\x00\x00"), 39),
    "Notify truncated": _msg(_gen(0, b"\x00\x00\x40"), 41),
    "Notify spi overrun": _msg(_gen(0, b"\x03\x04\x40\x00\x01\x02"), 41),
    "Delete truncated": _msg(_gen(0, b"\x01\x00\x00"), 42),
    "Delete spi count mismatch": _msg(_gen(0, b"\x03\x04\x00\x02" + bytes(4)), 42),
    "Delete trailing": _msg(_gen(0, b"\x01\x00\x00\x00\x00"), 42),
    "TS truncated": _msg(_gen(0, b"\x01\x00"), 44),
    "TS count too high": _msg(_gen(0, b"\x02\x00\x00\x00" + SEL4), 44),
    "TS count too low": _msg(_gen(0, b"\x00\x00\x00\x00" + SEL4), 45),
    "TS bad selector length": _msg(
        _gen(0, b"\x01\x00\x00\x00" + struct.pack(">BBHHH", 7, 0, 40, 0, 65535) + bytes(32)), 44
    ),
    "TS v6 with v4 length": _msg(
        _gen(0, b"\x01\x00\x00\x00" + struct.pack(">BBHHH", 8, 0, 16, 0, 65535) + bytes(8)), 44
    ),
    "TS unknown type": _msg(
        _gen(0, b"\x01\x00\x00\x00" + struct.pack(">BBHHH", 9, 0, 16, 0, 65535) + bytes(8)), 44
    ),
    "TS selector truncated": _msg(_gen(0, b"\x01\x00\x00\x00" + SEL4[:12]), 44),
    "CP truncated": _msg(_gen(0, b"\x01\x00"), 47),
    "CP attr truncated": _msg(_gen(0, b"\x01\x00\x00\x00\x00\x01\x00"), 47),
    "CP attr overrun": _msg(_gen(0, b"\x01\x00\x00\x00\x00\x01\x00\x04\x0a"), 47),
    "SA empty": _msg(_gen(0, b""), 33),
    "SA proposal truncated": _msg(_gen(0, _prop(GOOD_T)[:7]), 33),
    "SA proposal length too small": _msg(_gen(0, _prop(b"", ntrans=0, spi=b"ab", length=9)), 33),
    "SA proposal length past payload": _msg(_gen(0, _prop(GOOD_T, length=100)), 33),
    "SA last proposal flagged more": _msg(_gen(0, _prop(GOOD_T, last=2)), 33),
    "SA bad proposal last value": _msg(_gen(0, _prop(GOOD_T, last=1)), 33),
    "SA bytes after last proposal": _msg(_gen(0, _prop(GOOD_T) + _prop(GOOD_T)), 33),
    "SA no transforms": _msg(_gen(0, _prop(b"", ntrans=0)), 33),
    "SA too few transforms declared": _msg(_gen(0, _prop(GOOD_T + GOOD_T, ntrans=1)), 33),
    "SA too many transforms declared": _msg(_gen(0, _prop(GOOD_T, ntrans=2)), 33),
    "SA transform flagged more but last": _msg(_gen(0, _prop(_transform(False, 1, 12, 128))), 33),
    "SA transform flagged last but more": _msg(_gen(0, _prop(GOOD_T + GOOD_T, ntrans=2)), 33),
    "SA transform length < 8": _msg(_gen(0, _prop(struct.pack(">BBHBBH", 0, 0, 7, 1, 0, 12))), 33),
    "SA transform attr truncated": _msg(
        _gen(0, _prop(struct.pack(">BBHBBHH", 0, 0, 10, 1, 0, 12, 0x800E))), 33
    ),
    "SA transform TLV attr overrun": _msg(
        _gen(0, _prop(struct.pack(">BBHBBHHH", 0, 0, 12, 1, 0, 12, 5, 9))), 33
    ),
}


@pytest.mark.parametrize("data", MALFORMED_MESSAGES.values(), ids=MALFORMED_MESSAGES.keys())
def test_malformed_message_raises_parse_error(data: bytes) -> None:
    with pytest.raises(ParseError):
        parse_message(data)


@pytest.mark.parametrize("data", MALFORMED_MESSAGES.values(), ids=MALFORMED_MESSAGES.keys())
def test_malformed_message_sk_offset_raises_parse_error(data: bytes) -> None:
    with pytest.raises(ParseError):
        sk_offset(data)


def test_sk_offset_rejects_bad_chain_before_sk() -> None:
    with pytest.raises(ParseError):
        sk_offset(_msg(b"\x00\x00\x00\x02", 40))
    with pytest.raises(ParseError):
        sk_offset(_msg(_gen(46, b"abc") + b"\x00", 40))


def test_parse_payloads_rejects_trailing() -> None:
    with pytest.raises(ParseError):
        parse_payloads(PayloadType.NONCE, _gen(0, b"n") + b"\x00")
    with pytest.raises(ParseError):
        parse_payloads(0, b"\x00")
