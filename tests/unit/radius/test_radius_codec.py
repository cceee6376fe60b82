"""The shared RADIUS codec: EAP-Message split/join, Message-Authenticator, MPPE keys."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os

import pytest
from pyrad import packet as rp

from ikeeap.backends.radius import codec

SECRET = b"codec-secret"


def _request(eap: bytes | None = b"\x02\x01\x00\x05\x01") -> rp.AuthPacket:
    return codec.access_request(SECRET, 7, [("User-Name", "alice"),
                                            ("NAS-Port-Type", "Virtual")], eap=eap)


@pytest.mark.parametrize("size, parts", [(4, 1), (253, 1), (254, 2), (506, 2), (507, 3)])
def test_eap_message_split_at_253_octets_and_joined_back(size, parts):
    eap = os.urandom(size)
    pieces = codec.split_eap_message(eap)
    assert len(pieces) == parts and all(len(p) <= 253 for p in pieces)
    raw = codec.encode_request(_request(eap))
    decoded = codec.decode(raw, SECRET)
    assert codec.join_eap_message(decoded) == eap


def test_request_message_authenticator_verifies_and_detects_tampering():
    raw = codec.encode_request(_request())
    assert codec.verify_message_authenticator(raw, SECRET)
    assert not codec.verify_message_authenticator(raw, b"other-secret")
    tampered = bytearray(raw)
    tampered[-1] ^= 1
    assert not codec.verify_message_authenticator(bytes(tampered), SECRET)


def _second_message_authenticator(raw: bytes, vector: bytes | None = None) -> bytes:
    """``raw`` (whose first attribute 80 is at the front) with another attribute 80 appended
    and the first one recomputed over the result, as a forger would: the HMAC of the first
    verifies, so only the "exactly one" rule (RFC 3579 §3.2) refuses the packet."""
    pos = raw.index(b"\x50\x12", 20)
    doubled = bytearray(raw + b"\x50\x12" + os.urandom(16))
    doubled[2:4] = len(doubled).to_bytes(2, "big")
    doubled[pos + 2:pos + 18] = bytes(16)
    signed = bytes(doubled) if vector is None else bytes(doubled[:4]) + vector + bytes(
        doubled[20:])
    doubled[pos + 2:pos + 18] = hmac.new(SECRET, signed, hashlib.md5).digest()
    return bytes(doubled)


def test_missing_or_duplicated_message_authenticator_is_invalid():
    pkt = rp.AuthPacket(code=codec.ACCESS_REQUEST, id=1, secret=SECRET,
                        authenticator=os.urandom(16), dict=codec.dictionary())
    pkt.AddAttribute("User-Name", "alice")
    assert not codec.verify_message_authenticator(bytes(pkt.RequestPacket()), SECRET)
    raw = codec.encode_request(_request())
    assert codec.verify_message_authenticator(raw, SECRET)
    doubled = _second_message_authenticator(raw)  # the first one's HMAC verifies
    assert not codec.verify_message_authenticator(doubled, SECRET)
    assert codec.message_authenticator(doubled, SECRET) is None


@pytest.mark.parametrize("junk", [b"", b"\x01", os.urandom(19), b"\x01\x01\x00\x16" + bytes(16)
                                  + b"\x50\x01", b"\x02" * 30])
def test_garbage_never_raises(junk):
    assert not codec.verify_message_authenticator(junk, SECRET)
    codec.decode(junk, SECRET)  # None or a packet, never an exception


def test_mppe_key_round_trip_and_salt_high_bit():
    authenticator, key = os.urandom(16), os.urandom(32)
    value = codec.mppe_encrypt(SECRET, authenticator, key)
    assert value[0] & 0x80 and (len(value) - 2) % 16 == 0
    assert codec.mppe_decrypt(SECRET, authenticator, value) == key
    assert codec.mppe_decrypt(SECRET, os.urandom(16), value) != key
    assert codec.mppe_decrypt(SECRET, authenticator, value[:-1]) is None


def test_mppe_keys_readable_by_pyrad_encrypt_2():
    """Our encryption matches pyrad's RFC 2548 decryption of encrypt=2 attributes."""
    request = _request()
    raw_request = codec.encode_request(request)
    reply = codec.decode(raw_request, SECRET).CreateReply()
    msk = os.urandom(64)
    codec.add_mppe_keys(reply, SECRET, request.authenticator, msk)
    raw_reply = bytes(reply.ReplyPacket())
    decoded = request.CreateReply(packet=raw_reply)
    decoded.request_authenticator = request.authenticator
    assert decoded["MS-MPPE-Recv-Key"] == [msk[:32]]
    assert decoded["MS-MPPE-Send-Key"] == [msk[32:]]
    verified = codec.reply_verifies(request, raw_reply)
    assert codec.msk_from_mppe(verified, SECRET, request.authenticator) == msk


def _reply(request: rp.AuthPacket, with_ma: bool = True) -> bytes:
    reply = codec.decode(codec.encode_request(request), SECRET).CreateReply(
        message_authenticator=with_ma)
    reply.code = codec.ACCESS_ACCEPT
    return bytes(reply.ReplyPacket())


def test_reply_needs_response_authenticator_and_message_authenticator():
    request = _request()
    codec.encode_request(request)
    assert codec.reply_verifies(request, _reply(request)) is not None
    assert codec.reply_verifies(request, _reply(request, with_ma=False)) is None  # BlastRADIUS
    other = _request()
    codec.encode_request(other)
    assert codec.reply_verifies(other, _reply(request)) is None  # another request's reply


def test_reply_with_forged_message_authenticator_is_refused():
    request = _request()
    codec.encode_request(request)
    raw = bytearray(_reply(request))
    pos = raw.index(b"\x50\x12")
    raw[pos + 2] ^= 0xFF
    assert codec.reply_verifies(request, bytes(raw)) is None


def _status_reply(request: rp.AuthPacket, with_ma: bool) -> bytes:
    reply = codec.decode(codec.encode_request(request), SECRET).CreateReply(
        message_authenticator=with_ma)
    reply.code = codec.ACCESS_ACCEPT
    return bytes(reply.ReplyPacket())


def test_status_server_reply_may_lack_message_authenticator():
    """RFC 5997: stock FreeRADIUS answers Status-Server with an Accept without one; a valid
    Response Authenticator proves the server alive.  One that is present must verify."""
    probe = codec.status_server(SECRET, 7)
    codec.encode_request(probe)
    assert codec.check_reply(probe, _status_reply(probe, with_ma=False))[1] == ""
    raw = bytearray(_status_reply(probe, with_ma=True))
    raw[raw.index(b"\x50\x12") + 2] ^= 0xFF  # forged, with a fitting Response Authenticator
    raw[4:20] = hashlib.md5(bytes(raw[:4]) + probe.authenticator + bytes(raw[20:])
                            + SECRET).digest()
    assert codec.check_reply(probe, bytes(raw)) == (None, "bad Message-Authenticator")


def test_check_reply_names_the_check_that_failed():
    request = _request()
    codec.encode_request(request)
    assert codec.check_reply(request, _reply(request, with_ma=False)) == (
        None, "missing Message-Authenticator")
    raw = bytearray(_reply(request))
    raw[5] ^= 1  # inside the Response Authenticator
    assert codec.check_reply(request, bytes(raw)) == (None, "bad Response Authenticator")
    assert codec.check_reply(request, b"\x02" * 8) == (None, "malformed packet")


def test_reply_with_a_duplicated_message_authenticator_is_refused():
    request = _request()
    codec.encode_request(request)
    doubled = bytearray(_second_message_authenticator(_reply(request), request.authenticator))
    doubled[4:20] = hashlib.md5(bytes(doubled[:4]) + request.authenticator
                                + bytes(doubled[20:]) + SECRET).digest()
    assert codec.check_reply(request, bytes(doubled)) == (None, "bad Message-Authenticator")


def _resigned(raw: bytes, request: rp.AuthPacket | None = None) -> bytes:
    """``raw`` with its Length set, its (first) Message-Authenticator recomputed and, for a
    reply to ``request``, its Response Authenticator: only its other content can be wrong."""
    data = bytearray(raw)
    data[2:4] = len(data).to_bytes(2, "big")
    vector = request.authenticator if request is not None else None
    pos = bytes(data).find(b"\x50\x12", 20)
    data[pos + 2:pos + 18] = bytes(16)
    signed = bytes(data) if vector is None else bytes(data[:4]) + vector + bytes(data[20:])
    data[pos + 2:pos + 18] = hmac.new(SECRET, signed, hashlib.md5).digest()
    if request is not None:
        data[4:20] = hashlib.md5(bytes(data[:4]) + request.authenticator + bytes(data[20:])
                                 + SECRET).digest()
    return bytes(data)


@pytest.mark.parametrize("tail", [b"\x01", b"\x01\x00", b"\x01\x01\x02", b"\x01\x05ab"],
                         ids=["one-octet", "length-0", "length-1", "overrun"])
def test_malformed_attribute_list_has_no_valid_message_authenticator(tail):
    """Even with an HMAC that covers them, attributes that do not parse exactly (a lone
    octet, a length under 2, one running past the end) make the packet invalid."""
    raw = _resigned(codec.encode_request(_request()) + tail)
    assert codec.message_authenticator(raw, SECRET) is None
    assert not codec.verify_message_authenticator(raw, SECRET)


def test_message_authenticator_of_another_length_is_invalid():
    raw = codec.encode_request(_request())
    pos = raw.index(b"\x50\x12", 20)
    long = bytearray(raw[:pos] + b"\x50\x13" + raw[pos + 2:pos + 18] + b"\x00" + raw[pos + 18:])
    long[2:4] = len(long).to_bytes(2, "big")
    long[pos + 2:pos + 18] = bytes(16)  # an HMAC over the packet with 16 of 17 octets zeroed
    long[pos + 2:pos + 18] = hmac.new(SECRET, bytes(long), hashlib.md5).digest()
    assert codec.message_authenticator(bytes(long), SECRET) is None
    assert not codec.verify_message_authenticator(bytes(long), SECRET)


def _hand_walk(raw: bytes) -> list[int]:
    types, pos = [], 20
    while pos < len(raw):
        types.append(raw[pos])
        pos += raw[pos + 1]
    return types


def test_request_attributes_carry_the_rfc_type_numbers():
    """EAP-Message 79 and Message-Authenticator 80 (RFC 3579), State 24 (RFC 2865), read from
    the octets by hand: the test front shares the codec, so it would not notice."""
    raw = codec.encode_request(codec.access_request(SECRET, 1, [("User-Name", "alice")],
                                                    eap=b"\x02\x01\x00\x05\x01", state=b"st"))
    types = _hand_walk(raw)
    assert types.count(80) == 1 and types.count(79) == 1 and types.count(24) == 1
    assert types.count(1) == 1  # User-Name
    assert codec.access_request(SECRET, 1, [("User-Name", "alice"),
                                            ("Calling-Station-Id", "")]).get(31) is None


def test_reply_for_another_identifier_is_refused_by_our_own_check():
    request = _request()
    codec.encode_request(request)
    raw = bytearray(_reply(request))
    raw[1] = (raw[1] + 1) % 256
    assert codec.check_reply(request, _resigned(bytes(raw), request)) == (
        None, "identifier does not match the request")


def test_reply_with_a_proxy_state_we_did_not_send_is_refused():
    request = _request()
    codec.encode_request(request)
    raw = _resigned(_reply(request) + b"\x21\x06evil", request)
    assert codec.check_reply(request, raw) == (None, "refused by pyrad's reply checks")


def test_octets_after_the_length_field_are_padding():
    request = _request()
    codec.encode_request(request)
    reply = _reply(request)
    assert codec.check_reply(request, reply + b"\x00\x00")[1] == ""


@pytest.mark.parametrize("size", [1, 15, 16, 32, 239])
def test_mppe_keys_of_every_length_round_trip(size):
    authenticator, key = os.urandom(16), os.urandom(size)
    for salt in (b"\x80\x00", None):
        value = codec.mppe_encrypt(SECRET, authenticator, key, salt)
        assert codec.mppe_decrypt(SECRET, authenticator, value) == key


def test_malformed_mppe_values_decrypt_to_nothing():
    authenticator = os.urandom(16)
    with pytest.raises(ValueError):
        codec.mppe_encrypt(SECRET, authenticator, bytes(240))
    plain = bytes([15]) + bytes(15)
    no_high_bit = b"\x01\x02" + codec._mppe_xor(SECRET, authenticator, b"\x01\x02", plain, True)
    assert codec.mppe_decrypt(SECRET, authenticator, no_high_bit) is None  # RFC 2548 salt
    too_long = bytes([16]) + bytes(15)  # a length octet beyond the decrypted data
    value = b"\x80\x01" + codec._mppe_xor(SECRET, authenticator, b"\x80\x01", too_long, True)
    assert codec.mppe_decrypt(SECRET, authenticator, value) is None
    assert codec.mppe_decrypt(SECRET, authenticator, b"\x80\x01") is None  # a salt only


def test_msk_needs_both_mppe_keys():
    request = _request()
    raw_request = codec.encode_request(request)
    msk = os.urandom(64)
    for missing in (codec.MS_MPPE_RECV_KEY, codec.MS_MPPE_SEND_KEY):
        reply = codec.decode(raw_request, SECRET).CreateReply()
        codec.add_mppe_keys(reply, SECRET, request.authenticator, msk)
        del reply[missing]
        decoded = codec.decode(bytes(reply.ReplyPacket()), SECRET)
        assert codec.msk_from_mppe(decoded, SECRET, request.authenticator) is None
    for broken in (codec.MS_MPPE_RECV_KEY, codec.MS_MPPE_SEND_KEY):
        reply = codec.decode(raw_request, SECRET).CreateReply()
        codec.add_mppe_keys(reply, SECRET, request.authenticator, msk)
        reply[broken] = [b"\x80\x01" + bytes(15)]  # not a multiple of 16 after the salt
        decoded = codec.decode(bytes(reply.ReplyPacket()), SECRET)
        assert codec.msk_from_mppe(decoded, SECRET, request.authenticator) is None


def test_attribute_decoders_want_exactly_four_octets():
    assert codec.decode_ipv4(b"\x0a\x00\x00\x01") == ipaddress.IPv4Address("10.0.0.1")
    assert codec.decode_u32(b"\x00\x00\x0e\x10") == 3600
    for value in (b"\x0a\x00\x00", b"\x0a\x00\x00\x01\x00", b""):
        assert codec.decode_ipv4(value) is None and codec.decode_u32(value) is None
