"""RADIUS codec shared by the pass-through client and the test front (RFC 2865/2866/2869/3579).

Packets are ``pyrad.packet`` objects over the dictionary shipped in this package.  The
security-relevant pieces are done here on raw octets, so they are easy to read and test:

- EAP-Message split at 253 octets and joined again (RFC 3579 §3.1);
- Message-Authenticator computed and verified in constant time (RFC 3579 §3.2, RFC 2869
  §5.14): exactly one, 18 octets long, else the packet is invalid;
- MS-MPPE-Send/Recv-Key salt encryption (RFC 2548 §2.4.2–2.4.3).

No function here raises on bad input from the network: decoders return None.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import ipaddress
import logging
import os
import struct
from collections.abc import Iterable, Sequence
from importlib import resources

from pyrad import packet as rp
from pyrad.dictionary import Dictionary

log = logging.getLogger("ikeeap.radius")

ACCESS_REQUEST = rp.AccessRequest
ACCESS_ACCEPT = rp.AccessAccept
ACCESS_REJECT = rp.AccessReject
ACCOUNTING_REQUEST = rp.AccountingRequest
ACCOUNTING_RESPONSE = rp.AccountingResponse
ACCESS_CHALLENGE = rp.AccessChallenge
STATUS_SERVER = rp.StatusServer

ATTR_USER_NAME = 1
ATTR_FRAMED_IP_ADDRESS = 8
ATTR_STATE = 24
ATTR_CLASS = 25
ATTR_SESSION_TIMEOUT = 27
ATTR_VENDOR_SPECIFIC = 26
ATTR_EAP_MESSAGE = 79
ATTR_MESSAGE_AUTHENTICATOR = 80
ATTR_ACCT_INTERIM_INTERVAL = 85
VENDOR_MICROSOFT = 311
MS_MPPE_SEND_KEY = (VENDOR_MICROSOFT, 16)
MS_MPPE_RECV_KEY = (VENDOR_MICROSOFT, 17)
MS_PRIMARY_DNS = (VENDOR_MICROSOFT, 28)
MS_SECONDARY_DNS = (VENDOR_MICROSOFT, 29)

MAX_ATTRIBUTE_VALUE = 253
MAX_PACKET = 4096  # RFC 2865 §3
_HEADER = 20
_MA_LENGTH = 18


@functools.lru_cache(maxsize=1)
def dictionary() -> Dictionary:
    """The pyrad dictionary shipped in this package (pyrad itself ships none usable)."""
    ref = resources.files(__package__).joinpath("dictionary.ikeeap")
    with resources.as_file(ref) as path:
        return Dictionary(str(path))


# -- EAP-Message --------------------------------------------------------------------------


def split_eap_message(eap: bytes) -> list[bytes]:
    """An EAP packet as EAP-Message values of at most 253 octets each (RFC 3579 §3.1)."""
    return [eap[i:i + MAX_ATTRIBUTE_VALUE] for i in range(0, len(eap), MAX_ATTRIBUTE_VALUE)]


def join_eap_message(pkt: rp.Packet) -> bytes | None:
    """The EAP packet carried in ``pkt`` (all EAP-Message values in order), or None."""
    values = raw_values(pkt, ATTR_EAP_MESSAGE)
    return b"".join(values) if values else None


def set_eap_message(pkt: rp.Packet, eap: bytes) -> None:
    pkt[ATTR_EAP_MESSAGE] = split_eap_message(eap)


def raw_values(pkt: rp.Packet, key: int | tuple[int, int]) -> list[bytes]:
    """Raw octets of every instance of an attribute (the pyrad dict keeps them by code)."""
    try:
        values = dict.get(pkt, key, [])
    except TypeError:
        return []
    return [v for v in values if isinstance(v, bytes)]


def first_value(pkt: rp.Packet, key: int | tuple[int, int]) -> bytes | None:
    values = raw_values(pkt, key)
    return values[0] if values else None


# -- Message-Authenticator ------------------------------------------------------------------


def _attributes(raw: bytes) -> list[tuple[int, int, int]] | None:
    """(type, offset, length) of each attribute of a raw packet, or None if malformed."""
    out, pos = [], _HEADER
    while pos < len(raw):
        if pos + 2 > len(raw):
            return None
        kind, length = raw[pos], raw[pos + 1]
        if length < 2 or pos + length > len(raw):
            return None
        out.append((kind, pos, length))
        pos += length
    return out


def message_authenticator(raw: bytes, secret: bytes, vector: bytes | None = None) -> bytes | None:
    """HMAC-MD5 over the packet with the Message-Authenticator zeroed (RFC 3579 §3.2).

    ``vector`` replaces the Authenticator field: the Request Authenticator when the packet
    is a reply.  None when the packet does not have exactly one well-formed attribute 80.
    """
    if len(raw) < _HEADER:
        return None
    attrs = _attributes(raw)
    if attrs is None:
        return None
    found = [(pos, length) for kind, pos, length in attrs if kind == ATTR_MESSAGE_AUTHENTICATOR]
    if len(found) != 1 or found[0][1] != _MA_LENGTH:
        return None
    pos = found[0][0]
    zeroed = raw[:pos + 2] + bytes(16) + raw[pos + _MA_LENGTH:]
    if vector is not None:
        zeroed = zeroed[:4] + vector + zeroed[_HEADER:]
    return hmac.new(secret, zeroed, hashlib.md5).digest()


def verify_message_authenticator(raw: bytes, secret: bytes,
                                 vector: bytes | None = None) -> bool:
    """True only if ``raw`` carries exactly one Message-Authenticator and it is valid."""
    expected = message_authenticator(raw, secret, vector)
    if expected is None:
        return False
    attrs = _attributes(raw) or []
    pos = next(p for k, p, _ in attrs if k == ATTR_MESSAGE_AUTHENTICATOR)
    return hmac.compare_digest(expected, raw[pos + 2:pos + _MA_LENGTH])


# -- MS-MPPE keys (RFC 2548 §2.4.2) --------------------------------------------------------


def _mppe_xor(secret: bytes, vector: bytes, salt: bytes, data: bytes, encrypt: bool) -> bytes:
    out, last = bytearray(), vector + salt
    for i in range(0, len(data), 16):
        block = data[i:i + 16]
        pad = hashlib.md5(secret + last).digest()
        result = bytes(a ^ b for a, b in zip(block, pad))
        out += result
        last = result if encrypt else block  # chain on the ciphertext either way
    return bytes(out)


def mppe_encrypt(secret: bytes, request_authenticator: bytes, key: bytes,
                 salt: bytes | None = None) -> bytes:
    """Salt ‖ encrypted(len ‖ key ‖ padding) for an MS-MPPE-Send/Recv-Key attribute."""
    if len(key) > 239:
        raise ValueError("MPPE key too long")
    if salt is None:
        salt = bytes([0x80 | os.urandom(1)[0]]) + os.urandom(1)  # high bit set (§2.4.2)
    plain = bytes([len(key)]) + key
    plain += bytes(-len(plain) % 16)
    return salt + _mppe_xor(secret, request_authenticator, salt, plain, encrypt=True)


def mppe_decrypt(secret: bytes, request_authenticator: bytes, value: bytes) -> bytes | None:
    """The key from an MS-MPPE-Send/Recv-Key value, or None if it is malformed."""
    if len(value) < 18 or (len(value) - 2) % 16 or not value[0] & 0x80:
        return None
    plain = _mppe_xor(secret, request_authenticator, value[:2], value[2:], encrypt=False)
    length = plain[0]
    if length > len(plain) - 1:
        return None
    return plain[1:1 + length]


def msk_from_mppe(reply: rp.Packet, secret: bytes, request_authenticator: bytes) -> bytes | None:
    """MSK = MS-MPPE-Recv-Key ‖ MS-MPPE-Send-Key (RFC 3079 / RFC 5216 convention), or None."""
    recv, send = first_value(reply, MS_MPPE_RECV_KEY), first_value(reply, MS_MPPE_SEND_KEY)
    if recv is None or send is None:
        return None
    recv_key = mppe_decrypt(secret, request_authenticator, recv)
    send_key = mppe_decrypt(secret, request_authenticator, send)
    if not recv_key or not send_key:
        return None
    return recv_key + send_key


def add_mppe_keys(reply: rp.Packet, secret: bytes, request_authenticator: bytes,
                  msk: bytes) -> None:
    """MS-MPPE-Recv-Key = MSK[0:32], MS-MPPE-Send-Key = MSK[32:64] (what eapol_test checks)."""
    recv, send = msk[:32], msk[32:64]
    reply[MS_MPPE_RECV_KEY] = [mppe_encrypt(secret, request_authenticator, recv)]
    reply[MS_MPPE_SEND_KEY] = [mppe_encrypt(secret, request_authenticator, send)]


# -- packets ------------------------------------------------------------------------------


def decode(raw: bytes, secret: bytes) -> rp.Packet | None:
    """A received packet (any code), or None if it cannot be decoded."""
    if len(raw) < _HEADER or len(raw) > MAX_PACKET:
        return None
    try:
        code = raw[0]
        cls = rp.AcctPacket if code in (ACCOUNTING_REQUEST, ACCOUNTING_RESPONSE) else rp.AuthPacket
        return cls(packet=raw, secret=secret, dict=dictionary())
    except Exception as exc:  # noqa: BLE001 - pyrad raises several kinds on bad input
        log.debug("undecodable RADIUS packet: %s", type(exc).__name__)
        return None


def access_request(secret: bytes, identifier: int, attributes: Sequence[tuple[str, object]],
                   eap: bytes | None = None, state: bytes | None = None) -> rp.AuthPacket:
    """An Access-Request with a Message-Authenticator (required on every request we send)."""
    pkt = rp.AuthPacket(code=ACCESS_REQUEST, id=identifier, secret=secret,
                        authenticator=os.urandom(16), dict=dictionary())
    pkt.add_message_authenticator()
    add_named(pkt, attributes)
    if eap is not None:
        set_eap_message(pkt, eap)
    if state is not None:
        pkt[ATTR_STATE] = [state]
    return pkt


def status_server(secret: bytes, identifier: int,
                  attributes: Sequence[tuple[str, object]] = ()) -> rp.AuthPacket:
    """A Status-Server (RFC 5997 §3): random authenticator, Message-Authenticator."""
    pkt = rp.AuthPacket(code=STATUS_SERVER, id=identifier, secret=secret,
                        authenticator=os.urandom(16), dict=dictionary())
    pkt.add_message_authenticator()
    add_named(pkt, attributes)
    return pkt


def accounting_request(secret: bytes, identifier: int,
                       attributes: Sequence[tuple[str, object]]) -> rp.AcctPacket:
    """An Accounting-Request (RFC 2866); its authenticator is computed when encoded."""
    pkt = rp.AcctPacket(code=ACCOUNTING_REQUEST, id=identifier, secret=secret,
                        dict=dictionary())
    add_named(pkt, attributes)
    return pkt


def encode_request(pkt: rp.Packet) -> bytes:
    return bytes(pkt.RequestPacket())


def add_named(pkt: rp.Packet, attributes: Iterable[tuple[str, object]]) -> None:
    for name, value in attributes:
        if value is not None and value != "":
            pkt.AddAttribute(name, value)


def reply_verifies(request: rp.Packet, raw_reply: bytes) -> rp.Packet | None:
    """The decoded reply if it belongs to ``request`` and is authentic, else None."""
    return check_reply(request, raw_reply)[0]


def check_reply(request: rp.Packet, raw_reply: bytes) -> tuple[rp.Packet | None, str]:
    """(the decoded reply, "") if it belongs to ``request`` and is authentic, else (None,
    which check failed).

    The Response Authenticator always; a valid Message-Authenticator on EVERY reply to an
    Access-Request (BlastRADIUS, CVE-2024-3596).  A reply to Status-Server grants nothing and
    carries no EAP, so RFC 5997 allows it 0-1 Message-Authenticator: one present must verify
    (stock FreeRADIUS 3.2 answers Status-Server without one).
    """
    reply = decode(raw_reply, request.secret)
    if reply is None:
        return None, "malformed packet"
    raw = raw_reply[:struct.unpack("!H", raw_reply[2:4])[0]]  # padding after Length ignored
    if reply.id != request.id:
        return None, "identifier does not match the request"
    if not _response_authenticator_ok(raw, request.secret, request.authenticator):
        return None, "bad Response Authenticator"
    attrs = _attributes(raw) or []
    has_ma = any(kind == ATTR_MESSAGE_AUTHENTICATOR for kind, _, _ in attrs)
    if not has_ma and request.code == ACCESS_REQUEST:
        return None, "missing Message-Authenticator"
    if has_ma and not verify_message_authenticator(raw, request.secret, request.authenticator):
        return None, "bad Message-Authenticator"
    try:  # pyrad's own checks as well (e.g. a Proxy-State we did not send)
        ok = request.VerifyReply(reply, raw_reply, enforce_ma=request.code == ACCESS_REQUEST)
    except Exception:  # noqa: BLE001 - malformed attributes inside pyrad
        ok = False
    if not ok:
        return None, "refused by pyrad's reply checks"
    reply.request_authenticator = request.authenticator
    return reply, ""


def _response_authenticator_ok(raw: bytes, secret: bytes, request_authenticator: bytes) -> bool:
    """RFC 2865 §3: MD5(Code+ID+Length+RequestAuth+Attributes+Secret)."""
    expected = hashlib.md5(raw[:4] + request_authenticator + raw[_HEADER:] + secret).digest()
    return hmac.compare_digest(expected, raw[4:_HEADER])


def decode_ipv4(value: bytes | None) -> ipaddress.IPv4Address | None:
    if value is None or len(value) != 4:
        return None
    return ipaddress.IPv4Address(value)


def decode_u32(value: bytes | None) -> int | None:
    if value is None or len(value) != 4:
        return None
    return int(struct.unpack("!I", value)[0])
