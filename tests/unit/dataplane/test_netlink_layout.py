"""The netlink codec against linux/netlink.h, figures written out from the header:

struct nlmsghdr { __u32 nlmsg_len; __u16 nlmsg_type; __u16 nlmsg_flags; __u32 nlmsg_seq;
__u32 nlmsg_pid; } = 16 octets (offsets 0, 4, 6, 8, 12); NLMSG_ALIGNTO 4.
struct nlattr { __u16 nla_len; __u16 nla_type; } = 4 octets; NLA_ALIGNTO 4.
struct nlmsgerr { int error; struct nlmsghdr msg; } = 20 octets, then the request's payload
(unless NLM_F_CAPPED 0x100), then TLVs when NLM_F_ACK_TLVS 0x200: NLMSGERR_ATTR_MSG = 1.
NLMSG_ERROR 0x2, NLMSG_DONE 0x3; NLM_F_REQUEST 1, NLM_F_ACK 4, NLM_F_DUMP 0x300;
NETLINK_XFRM 6, NETLINK_EXT_ACK 11, SOL_NETLINK 270.
"""

from __future__ import annotations

import errno
import struct
import sys

import pytest

from ikeeap.dataplane import netlink as nl

pytestmark = pytest.mark.skipif(sys.byteorder != "little", reason="figures are little-endian")


def test_constants_from_the_header():
    assert (nl.NLMSG_NOOP, nl.NLMSG_ERROR, nl.NLMSG_DONE, nl.NLMSG_OVERRUN) == (1, 2, 3, 4)
    assert (nl.NLM_F_REQUEST, nl.NLM_F_MULTI, nl.NLM_F_ACK) == (1, 2, 4)
    assert (nl.NLM_F_ROOT, nl.NLM_F_MATCH, nl.NLM_F_DUMP) == (0x100, 0x200, 0x300)
    assert (nl.NLM_F_REPLACE, nl.NLM_F_EXCL, nl.NLM_F_CREATE) == (0x100, 0x200, 0x400)
    assert (nl.NLM_F_CAPPED, nl.NLM_F_ACK_TLVS) == (0x100, 0x200)
    assert (nl.NLMSGERR_ATTR_MSG, nl.NLMSGERR_ATTR_OFFS) == (1, 2)
    assert (nl.SOL_NETLINK, nl.NETLINK_ADD_MEMBERSHIP, nl.NETLINK_CAP_ACK,
            nl.NETLINK_EXT_ACK) == (270, 1, 10, 11)
    assert (nl.NLMSG_HDRLEN, nl.NLA_HDRLEN) == (16, 4)


def test_message_header_fields_at_their_offsets():
    m = nl.message(0x10, nl.NLM_F_REQUEST | nl.NLM_F_ACK, 0x01020304, b"abcde", pid=77)
    assert len(m) == 24  # 16 + 5, padded to 4
    assert m[0:4] == (21).to_bytes(4, "little")  # nlmsg_len counts header + payload
    assert m[4:6] == b"\x10\x00"  # nlmsg_type @4
    assert m[6:8] == b"\x05\x00"  # nlmsg_flags @6
    assert m[8:12] == bytes.fromhex("04030201")  # nlmsg_seq @8
    assert m[12:16] == (77).to_bytes(4, "little")  # nlmsg_pid @12
    assert m[16:21] == b"abcde" and m[21:] == b"\0\0\0"


def test_attribute_length_excludes_padding():
    a = nl.attr(31, b"\x01\x02\x03\x04\x05")
    assert a == b"\x09\x00\x1f\x00\x01\x02\x03\x04\x05\x00\x00\x00"
    assert nl.attr(9, b"") == b"\x04\x00\x09\x00"
    with pytest.raises(ValueError):
        nl.attr(1, b"\0" * 65532)


def test_parse_several_messages_and_attributes():
    data = nl.message(0x10, 0, 1, nl.attr(1, b"xy") + nl.attr(2, b"\0" * 4)) + \
        nl.message(nl.NLMSG_DONE, nl.NLM_F_MULTI, 2, b"\0\0\0\0")
    first, done = nl.parse_messages(data)
    assert (first.type, first.seq, done.type, done.flags) == (0x10, 1, 3, 2)
    assert nl.parse_attrs(first.payload) == {1: b"xy", 2: b"\0\0\0\0"}
    # the NLA_F_NESTED (0x8000) and NLA_F_NET_BYTEORDER (0x4000) bits are not the type
    assert nl.parse_attrs(struct.pack("<HH", 5, 0x8000 | 3) + b"z\0\0\0") == {3: b"z"}


@pytest.mark.parametrize("data", [
    b"\x10\x00\x00", struct.pack("<IHHII", 15, 0, 0, 0, 0),
    struct.pack("<IHHII", 40, 0, 0, 0, 0) + b"\0" * 8,
])
def test_malformed_messages(data):
    with pytest.raises(nl.NetlinkParseError):
        nl.parse_messages(data)


def test_malformed_attributes():
    with pytest.raises(nl.NetlinkParseError):
        nl.parse_attrs(struct.pack("<HH", 3, 1))
    with pytest.raises(nl.NetlinkParseError):
        nl.parse_attrs(struct.pack("<HH", 12, 1) + b"ab")


def _error(err: int, request: bytes, flags: int = 0, tlvs: bytes = b"") -> nl.NetlinkMessage:
    body = struct.pack("<i", err) + request + tlvs
    return nl.parse_messages(nl.message(nl.NLMSG_ERROR, flags, 9, body))[0]


def test_ack_and_error_with_the_request_echoed():
    request = nl.message(0x10, 5, 42, b"\0" * 224)
    ack = nl.parse_error(_error(0, request[:16], nl.NLM_F_CAPPED))
    assert ack.ack and (ack.seq, ack.request_type, ack.message) == (42, 0x10, None)
    assert ack.describe() == "ok"
    err = nl.parse_error(_error(-errno.EPROTONOSUPPORT, request))
    assert (err.errno, err.seq, err.ack) == (errno.EPROTONOSUPPORT, 42, False)
    assert err.describe() == "Protocol not supported (EPROTONOSUPPORT)"


def test_extended_ack_message_after_the_whole_request_or_capped():
    request = nl.message(0x10, 5, 42, b"\0" * 224)
    text = nl.attr(nl.NLMSGERR_ATTR_MSG, b"Requested type not found\0")
    whole = nl.parse_error(_error(-errno.EPROTONOSUPPORT, request, nl.NLM_F_ACK_TLVS, text))
    assert whole.message == "Requested type not found"
    assert whole.describe() == ('Protocol not supported (EPROTONOSUPPORT; kernel: "Requested '
                                'type not found")')
    capped = nl.parse_error(_error(-errno.ENOSYS, request[:16],
                                   nl.NLM_F_ACK_TLVS | nl.NLM_F_CAPPED,
                                   nl.attr(1, b"Requested AEAD algorithm not found\0")))
    assert capped.message == "Requested AEAD algorithm not found"


def test_error_payload_too_short_or_wrong_type():
    with pytest.raises(nl.NetlinkParseError):
        nl.parse_error(nl.NetlinkMessage(nl.NLMSG_ERROR, 0, 1, 0, b"\0" * 19))
    with pytest.raises(nl.NetlinkParseError):
        nl.parse_error(nl.NetlinkMessage(nl.NLMSG_DONE, 0, 1, 0, b"\0" * 20))
