"""IKEv2 message codec (RFC 7296 §3, RFC 7383 §2.5).

Parsing functions raise only :class:`ParseError`, whatever the input octets. Numeric
fields stay plain ints so unknown values round-trip. Encoding functions raise
``ValueError`` for objects that cannot be represented (e.g. a payload over 65535 octets).

Each ``pull_*`` function decodes one payload body ``buf[off:end]`` (after the 4-octet
generic header); each ``push_*`` function returns the body octets of one payload.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence

from .errors import ParseError
from .payloads import (
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
    Payload,
    Proposal,
    SaPayload,
    TrafficSelector,
    Transform,
    TsPayload,
    UnknownPayload,
    VendorPayload,
)

HEADER_LEN = 28
CRITICAL = 0x80
ATTR_TV = 0x8000
ATTR_KEY_LENGTH_TV = 0x8000 | 14

_SA, _KE, _IDI, _IDR, _CERT, _CERTREQ, _AUTH, _NONCE = 33, 34, 35, 36, 37, 38, 39, 40
_NOTIFY, _DELETE, _VENDOR, _TSI, _TSR, _SK, _CP, _EAP, _SKF = 41, 42, 43, 44, 45, 46, 47, 48, 53

_HEADER = struct.Struct(">8s8sBBBBII")
_GENERIC = struct.Struct(">BBH")
_PROPOSAL = struct.Struct(">BBHBBBB")  # last/more, reserved, length, num, protocol, spi size, #
_TRANSFORM = struct.Struct(">BBHBBH")  # last/more, reserved, length, type, reserved, id
_U16_PAIR = struct.Struct(">HH")  # attributes, KE group, SKF numbers
_ONE_BYTE_3_RESERVED = struct.Struct(">B3x")  # ID, AUTH, TS count, CP type
_NOTIFY_HDR = struct.Struct(">BBH")  # protocol, spi size, notify type / num spis
_SELECTOR = struct.Struct(">BBHHH")  # ts type, ip protocol, length, start port, end port

_TS_ADDR_LEN = {7: 4, 8: 16}  # TS_IPV4_ADDR_RANGE, TS_IPV6_ADDR_RANGE

PullFn = Callable[[bytes, int, int], Payload]

# --------------------------------------------------------------------------- header


def parse_header_only(data: bytes, *, check_version: bool = True) -> IkeHeader:
    """Decode the first 28 octets without comparing the length field to ``len(data)``.

    With ``check_version=False`` any major version is accepted, so a caller can still
    read the SPIs to answer INVALID_MAJOR_VERSION (RFC 7296 §1.5).
    """
    if len(data) < HEADER_LEN:
        raise ParseError("message shorter than the IKE header")
    spi_i, spi_r, nxt, version, exchange, flags, msg_id, length = _HEADER.unpack_from(data, 0)
    if check_version and version >> 4 != 2:
        raise ParseError(f"unsupported IKE major version {version >> 4}")
    return IkeHeader(spi_i, spi_r, nxt, exchange, flags, msg_id, length, version)


def parse_header(data: bytes) -> IkeHeader:
    """Decode the IKE header; the length field must equal ``len(data)``."""
    header = parse_header_only(data)
    if header.length < HEADER_LEN or header.length != len(data):
        raise ParseError(f"header length {header.length} does not match {len(data)} octets")
    return header


def encode_header(header: IkeHeader, length: int) -> bytes:
    """The 28 header octets with ``length`` in the length field."""
    return _pack_header(header, header.next_payload, length)


def _pack_header(header: IkeHeader, next_payload: int, length: int) -> bytes:
    if len(header.spi_i) != 8 or len(header.spi_r) != 8:
        raise ValueError("IKE SPIs must be 8 octets")
    return _HEADER.pack(
        header.spi_i,
        header.spi_r,
        next_payload,
        header.version,
        header.exchange,
        header.flags,
        header.message_id,
        length,
    )


# --------------------------------------------------------------------------- chain


def parse_message(data: bytes) -> tuple[IkeHeader, list[Payload]]:
    """Header plus payload chain; an SK/SKF payload must be the last one."""
    buf = data if type(data) is bytes else bytes(data)
    header = parse_header(buf)
    return header, _guarded_chain(buf, header.next_payload, HEADER_LEN)


def parse_outer_chain(data: bytes, first_type: int) -> list[Payload]:
    """The payloads of a whole message whose header is already parsed and length-checked
    (saves decoding the header again on the request path)."""
    buf = data if type(data) is bytes else bytes(data)
    return _guarded_chain(buf, first_type, HEADER_LEN)


def parse_payloads(first_type: int, data: bytes) -> list[Payload]:
    """A payload chain starting with ``first_type`` and filling all of ``data``."""
    buf = data if type(data) is bytes else bytes(data)
    return _guarded_chain(buf, first_type, 0)


def _guarded_chain(buf: bytes, first_type: int, off: int) -> list[Payload]:
    try:
        return _parse_chain(buf, first_type, off, len(buf))
    except ParseError:
        raise
    except (struct.error, IndexError, ValueError, OverflowError, TypeError) as exc:
        # Defensive: every path is length-checked, but never leak another exception.
        raise ParseError(f"malformed payload: {exc}") from exc


def _parse_chain(buf: bytes, ptype: int, off: int, end: int) -> list[Payload]:
    out: list[Payload] = []
    pull = _PULL.get
    while ptype:
        if end - off < 4:
            raise ParseError(f"truncated generic header for payload type {ptype}")
        nxt, flags, plen = _GENERIC.unpack_from(buf, off)
        pend = off + plen
        if plen < 4 or pend > end:
            raise ParseError(f"bad length {plen} for payload type {ptype}")
        if ptype == _SK or ptype == _SKF:
            if pend != end:
                raise ParseError("SK/SKF payload is not the last payload")
            out.append(_pull_encrypted(buf, off + 4, pend, ptype, nxt))
            return out
        fn = pull(ptype)
        if fn is None:
            out.append(UnknownPayload(ptype, bool(flags & CRITICAL), buf[off + 4 : pend]))
        else:
            out.append(fn(buf, off + 4, pend))
        ptype = nxt
        off = pend
    if off != end:
        raise ParseError(f"{end - off} trailing octets after the last payload")
    return out


def sk_offset(data: bytes) -> int:
    """Offset of the SK or SKF generic payload header in a whole message."""
    header = parse_header(data)
    ptype, off, end = header.next_payload, HEADER_LEN, len(data)
    while ptype:
        if end - off < 4:
            raise ParseError("truncated generic payload header")
        nxt, _flags, plen = _GENERIC.unpack_from(data, off)
        if plen < 4 or off + plen > end:
            raise ParseError(f"bad length {plen} for payload type {ptype}")
        if ptype == _SK or ptype == _SKF:
            if off + plen != end:
                raise ParseError("SK/SKF payload is not the last payload")
            if ptype == _SKF:
                _check_skf(data, off + 4, end)
            return off
        ptype = nxt
        off += plen
    raise ParseError("no SK or SKF payload in message")


def encode_payloads(payloads: Sequence[Payload]) -> tuple[int, bytes]:
    """(first payload type, octets) with next-payload fields chained."""
    if not payloads:
        return 0, b""
    chunks: list[bytes] = []
    last = len(payloads) - 1
    for i, p in enumerate(payloads):
        cls = type(p)
        if cls is EncryptedPayload or cls is EncryptedFragmentPayload:
            if i != last:
                raise ValueError("SK/SKF must be the last payload")
            nxt = p.first_payload  # type: ignore[union-attr]
        else:
            nxt = payloads[i + 1].ptype if i < last else 0
        body = _PUSH[cls](p)
        plen = 4 + len(body)
        if plen > 0xFFFF:
            raise ValueError(f"payload {cls.__name__} is {plen} octets, over 65535")
        critical = CRITICAL if cls is UnknownPayload and p.critical else 0  # type: ignore
        chunks.append(_GENERIC.pack(nxt, critical, plen))
        chunks.append(body)
    return int(payloads[0].ptype), b"".join(chunks)


def encode_message(header: IkeHeader, payloads: Sequence[Payload]) -> bytes:
    """Header and payloads; header next_payload and length are filled in."""
    first, body = encode_payloads(payloads)
    return _pack_header(header, first, HEADER_LEN + len(body)) + body


# --------------------------------------------------------------------------- SA


def pull_sa(buf: bytes, off: int, end: int) -> SaPayload:
    proposals: list[Proposal] = []
    while True:
        if end - off < 8:
            raise ParseError("truncated proposal substructure")
        last, _r, plen, num, proto, spi_size, ntrans = _PROPOSAL.unpack_from(buf, off)
        pend = off + plen
        if plen < 8 + spi_size or pend > end:
            raise ParseError(f"bad proposal length {plen}")
        spi = buf[off + 8 : off + 8 + spi_size]
        transforms = _pull_transforms(buf, off + 8 + spi_size, pend, ntrans)
        proposals.append(Proposal(num, proto, spi, transforms))
        off = pend
        if last == 0:
            if off != end:
                raise ParseError("octets after the last proposal")
            return SaPayload(tuple(proposals))
        if last != 2 or off == end:
            raise ParseError(f"bad proposal last/more value {last}")


def _pull_transforms(buf: bytes, off: int, end: int, count: int) -> tuple[Transform, ...]:
    if count == 0:
        raise ParseError("proposal without transforms")
    out: list[Transform] = []
    for i in range(count):
        if end - off < 8:
            raise ParseError("truncated transform substructure")
        last, _r, tlen, ttype, _r2, tid = _TRANSFORM.unpack_from(buf, off)
        tend = off + tlen
        if tlen < 8 or tend > end:
            raise ParseError(f"bad transform length {tlen}")
        if last != (0 if i == count - 1 else 3):
            raise ParseError(f"bad transform last/more value {last}")
        out.append(_pull_transform_attrs(buf, off + 8, tend, ttype, tid))
        off = tend
    if off != end:
        raise ParseError("transform count does not match proposal length")
    return tuple(out)


def _pull_transform_attrs(buf: bytes, off: int, end: int, ttype: int, tid: int) -> Transform:
    if off == end:
        return Transform(ttype, tid)
    key_length: int | None = None
    other: list[tuple[int, bytes]] = []
    while off < end:
        if end - off < 4:
            raise ParseError("truncated transform attribute")
        word, val = _U16_PAIR.unpack_from(buf, off)
        if word & ATTR_TV:
            if word == ATTR_KEY_LENGTH_TV and key_length is None:
                key_length = val
            else:
                other.append((word, buf[off + 2 : off + 4]))
            off += 4
        else:
            if off + 4 + val > end:
                raise ParseError("transform attribute overruns the transform")
            other.append((word, buf[off + 4 : off + 4 + val]))
            off += 4 + val
    return Transform(ttype, tid, key_length, tuple(other))


def push_sa(p: SaPayload) -> bytes:
    chunks: list[bytes] = []
    last = len(p.proposals) - 1
    for i, prop in enumerate(p.proposals):
        body = b"".join(_push_transforms(prop.transforms))
        plen = 8 + len(prop.spi) + len(body)
        chunks.append(
            _PROPOSAL.pack(
                0 if i == last else 2,
                0,
                plen,
                prop.number,
                prop.protocol,
                len(prop.spi),
                len(prop.transforms),
            )
        )
        chunks.append(prop.spi)
        chunks.append(body)
    return b"".join(chunks)


def _push_transforms(transforms: Sequence[Transform]) -> list[bytes]:
    out: list[bytes] = []
    last = len(transforms) - 1
    for i, t in enumerate(transforms):
        attrs = b""
        if t.key_length is not None:
            attrs = _U16_PAIR.pack(ATTR_KEY_LENGTH_TV, t.key_length)
        for word, value in t.other_attrs:
            attrs += _push_attr(word, value)
        out.append(_TRANSFORM.pack(0 if i == last else 3, 0, 8 + len(attrs), t.type, 0, t.id))
        out.append(attrs)
    return out


def _push_attr(word: int, value: bytes) -> bytes:
    if word & ATTR_TV:
        if len(value) != 2:
            raise ValueError("TV-format attribute value must be 2 octets")
        return word.to_bytes(2, "big") + value
    return _U16_PAIR.pack(word, len(value)) + value


# --------------------------------------------------------------------------- simple bodies


def pull_ke(buf: bytes, off: int, end: int) -> KePayload:
    if end - off < 4:
        raise ParseError("truncated KE payload")
    group, _reserved = _U16_PAIR.unpack_from(buf, off)
    return KePayload(group, buf[off + 4 : end])


def push_ke(p: KePayload) -> bytes:
    return _U16_PAIR.pack(p.group, 0) + p.data


def _pull_id(buf: bytes, off: int, end: int, initiator: bool) -> IdPayload:
    if end - off < 4:
        raise ParseError("truncated ID payload")
    return IdPayload(initiator, buf[off], buf[off + 4 : end])


def pull_idi(buf: bytes, off: int, end: int) -> IdPayload:
    return _pull_id(buf, off, end, True)


def pull_idr(buf: bytes, off: int, end: int) -> IdPayload:
    return _pull_id(buf, off, end, False)


def push_id(p: IdPayload) -> bytes:
    return _ONE_BYTE_3_RESERVED.pack(p.id_type) + p.data


def pull_cert(buf: bytes, off: int, end: int) -> CertPayload:
    if end - off < 1:
        raise ParseError("truncated CERT payload")
    return CertPayload(buf[off], buf[off + 1 : end])


def pull_certreq(buf: bytes, off: int, end: int) -> CertReqPayload:
    if end - off < 1:
        raise ParseError("truncated CERTREQ payload")
    return CertReqPayload(buf[off], buf[off + 1 : end])


def push_cert(p: CertPayload | CertReqPayload) -> bytes:
    return bytes((p.encoding,)) + p.data


def pull_auth(buf: bytes, off: int, end: int) -> AuthPayload:
    if end - off < 4:
        raise ParseError("truncated AUTH payload")
    return AuthPayload(buf[off], buf[off + 4 : end])


def push_auth(p: AuthPayload) -> bytes:
    return _ONE_BYTE_3_RESERVED.pack(p.method) + p.data


def pull_nonce(buf: bytes, off: int, end: int) -> NoncePayload:
    return NoncePayload(buf[off:end])


def pull_vendor(buf: bytes, off: int, end: int) -> VendorPayload:
    return VendorPayload(buf[off:end])


def pull_eap(buf: bytes, off: int, end: int) -> EapPayload:
    return EapPayload(buf[off:end])


def push_data(p: NoncePayload | VendorPayload | EapPayload | UnknownPayload) -> bytes:
    return p.data


def pull_notify(buf: bytes, off: int, end: int) -> NotifyPayload:
    if end - off < 4:
        raise ParseError("truncated NOTIFY payload")
    proto, spi_size, ntype = _NOTIFY_HDR.unpack_from(buf, off)
    if end - off < 4 + spi_size:
        raise ParseError("NOTIFY SPI overruns the payload")
    spi_end = off + 4 + spi_size
    return NotifyPayload(ntype, buf[spi_end:end], proto, buf[off + 4 : spi_end])


def push_notify(p: NotifyPayload) -> bytes:
    return _NOTIFY_HDR.pack(p.protocol, len(p.spi), p.notify_type) + p.spi + p.data


def pull_delete(buf: bytes, off: int, end: int) -> DeletePayload:
    if end - off < 4:
        raise ParseError("truncated DELETE payload")
    proto, spi_size, count = _NOTIFY_HDR.unpack_from(buf, off)
    off += 4
    if spi_size * count != end - off:
        raise ParseError("DELETE SPI count and size do not match the payload length")
    if spi_size == 0:
        return DeletePayload(proto)
    spis = tuple(buf[o : o + spi_size] for o in range(off, end, spi_size))
    return DeletePayload(proto, spis)


def push_delete(p: DeletePayload) -> bytes:
    size = len(p.spis[0]) if p.spis else 0
    if any(len(s) != size for s in p.spis):
        raise ValueError("DELETE SPIs must all have the same size")
    return _NOTIFY_HDR.pack(p.protocol, size, len(p.spis)) + b"".join(p.spis)


# --------------------------------------------------------------------------- TS, CP


def _pull_ts(buf: bytes, off: int, end: int, initiator: bool) -> TsPayload:
    if end - off < 4:
        raise ParseError("truncated TS payload")
    count = buf[off]
    off += 4
    selectors: list[TrafficSelector] = []
    for _ in range(count):
        if end - off < 8:
            raise ParseError("truncated traffic selector")
        ts_type, proto, slen, sport, eport = _SELECTOR.unpack_from(buf, off)
        alen = _TS_ADDR_LEN.get(ts_type)
        if alen is None:
            raise ParseError(f"unsupported traffic selector type {ts_type}")
        if slen != 8 + 2 * alen or off + slen > end:
            raise ParseError(f"bad traffic selector length {slen}")
        a = off + 8
        selectors.append(
            TrafficSelector(
                ts_type,
                proto,
                sport,
                eport,
                buf[a : a + alen],
                buf[a + alen : a + 2 * alen],
            )
        )
        off += slen
    if off != end:
        raise ParseError("TS count does not match the payload length")
    return TsPayload(initiator, tuple(selectors))


def pull_tsi(buf: bytes, off: int, end: int) -> TsPayload:
    return _pull_ts(buf, off, end, True)


def pull_tsr(buf: bytes, off: int, end: int) -> TsPayload:
    return _pull_ts(buf, off, end, False)


def push_ts(p: TsPayload) -> bytes:
    if len(p.selectors) > 255:
        raise ValueError("at most 255 traffic selectors")
    chunks = [_ONE_BYTE_3_RESERVED.pack(len(p.selectors))]
    for ts in p.selectors:
        alen = len(ts.start_addr)
        if alen != len(ts.end_addr):
            raise ValueError("traffic selector start and end addresses differ in size")
        chunks.append(
            _SELECTOR.pack(
                ts.ts_type,
                ts.ip_protocol,
                8 + 2 * alen,
                ts.start_port,
                ts.end_port,
            )
        )
        chunks.append(ts.start_addr)
        chunks.append(ts.end_addr)
    return b"".join(chunks)


def pull_cp(buf: bytes, off: int, end: int) -> CpPayload:
    if end - off < 4:
        raise ParseError("truncated CP payload")
    cfg_type = buf[off]
    off += 4
    attrs: list[CfgAttribute] = []
    while off < end:
        if end - off < 4:
            raise ParseError("truncated configuration attribute")
        word, alen = _U16_PAIR.unpack_from(buf, off)
        if off + 4 + alen > end:
            raise ParseError("configuration attribute overruns the payload")
        attrs.append(CfgAttribute(word & 0x7FFF, buf[off + 4 : off + 4 + alen]))
        off += 4 + alen
    return CpPayload(cfg_type, tuple(attrs))


def push_cp(p: CpPayload) -> bytes:
    chunks = [_ONE_BYTE_3_RESERVED.pack(p.cfg_type)]
    for a in p.attributes:
        chunks.append(_U16_PAIR.pack(a.attr_type & 0x7FFF, len(a.value)))
        chunks.append(a.value)
    return b"".join(chunks)


# --------------------------------------------------------------------------- SK, SKF


def _pull_encrypted(
    buf: bytes, off: int, end: int, ptype: int, first: int
) -> EncryptedPayload | EncryptedFragmentPayload:
    if ptype == _SK:
        return EncryptedPayload(first, buf[off:end])
    number, total = _check_skf(buf, off, end)
    return EncryptedFragmentPayload(first, number, total, buf[off + 4 : end])


def _check_skf(buf: bytes, off: int, end: int) -> tuple[int, int]:
    """(fragment number, total fragments); RFC 7383 §2.6.1 bounds checked."""
    if end - off < 4:
        raise ParseError("truncated SKF payload")
    number, total = _U16_PAIR.unpack_from(buf, off)
    if number == 0 or number > total:
        raise ParseError(f"bad SKF fragment number {number}/{total}")
    return number, total


def push_sk(p: EncryptedPayload) -> bytes:
    return p.data


def push_skf(p: EncryptedFragmentPayload) -> bytes:
    return _U16_PAIR.pack(p.fragment_number, p.total_fragments) + p.data


# --------------------------------------------------------------------------- dispatch

_PULL: dict[int, PullFn] = {
    _SA: pull_sa,
    _KE: pull_ke,
    _IDI: pull_idi,
    _IDR: pull_idr,
    _CERT: pull_cert,
    _CERTREQ: pull_certreq,
    _AUTH: pull_auth,
    _NONCE: pull_nonce,
    _NOTIFY: pull_notify,
    _DELETE: pull_delete,
    _VENDOR: pull_vendor,
    _TSI: pull_tsi,
    _TSR: pull_tsr,
    _CP: pull_cp,
    _EAP: pull_eap,
}

_PUSH: dict[type, Callable[..., bytes]] = {
    SaPayload: push_sa,
    KePayload: push_ke,
    IdPayload: push_id,
    CertPayload: push_cert,
    CertReqPayload: push_cert,
    AuthPayload: push_auth,
    NoncePayload: push_data,
    NotifyPayload: push_notify,
    DeletePayload: push_delete,
    VendorPayload: push_data,
    TsPayload: push_ts,
    CpPayload: push_cp,
    EapPayload: push_data,
    EncryptedPayload: push_sk,
    EncryptedFragmentPayload: push_skf,
    UnknownPayload: push_data,
}
