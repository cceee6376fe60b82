"""A small sans-I/O netlink codec (linux/netlink.h): message headers, attributes, errors.

Layouts (native byte order; every figure from the uapi header, checked in
tests/unit/dataplane/test_netlink_layout.py):

- ``struct nlmsghdr`` (16 octets): u32 nlmsg_len @0, u16 nlmsg_type @4, u16 nlmsg_flags @6,
  u32 nlmsg_seq @8, u32 nlmsg_pid @12. Messages are padded to NLMSG_ALIGNTO = 4.
- ``struct nlattr`` (4 octets): u16 nla_len @0 (header included, padding not), u16 nla_type
  @2; the value is padded to NLA_ALIGNTO = 4.
- ``struct nlmsgerr`` (20 octets): int error @0 (0 or -errno), the request's nlmsghdr @4,
  then the request's payload unless NLM_F_CAPPED (0x100) is set in the error message's
  flags, then extended-ACK attributes if NLM_F_ACK_TLVS (0x200) is: NLMSGERR_ATTR_MSG (1,
  a NUL-terminated string), NLMSGERR_ATTR_OFFS (2, u32).
"""

from __future__ import annotations

import errno as errno_names
import os
import struct
from dataclasses import dataclass

NLMSG_ALIGNTO = 4
NLA_ALIGNTO = 4
NLMSG_HDRLEN = 16
NLA_HDRLEN = 4

NLMSG_NOOP = 0x1
NLMSG_ERROR = 0x2
NLMSG_DONE = 0x3
NLMSG_OVERRUN = 0x4

NLM_F_REQUEST = 0x01
NLM_F_MULTI = 0x02
NLM_F_ACK = 0x04
NLM_F_ROOT = 0x100
NLM_F_MATCH = 0x200
NLM_F_DUMP = NLM_F_ROOT | NLM_F_MATCH
NLM_F_REPLACE = 0x100
NLM_F_EXCL = 0x200
NLM_F_CREATE = 0x400
NLM_F_CAPPED = 0x100  # in an NLMSG_ERROR: the request's payload was left out
NLM_F_ACK_TLVS = 0x200  # in an NLMSG_ERROR: extended-ACK attributes follow

NLMSGERR_ATTR_MSG = 1
NLMSGERR_ATTR_OFFS = 2

# socket options (SOL_NETLINK = 270)
SOL_NETLINK = 270
NETLINK_ADD_MEMBERSHIP = 1
NETLINK_CAP_ACK = 10
NETLINK_EXT_ACK = 11

_HDR = struct.Struct("=IHHII")
_ATTR = struct.Struct("=HH")


class NetlinkParseError(ValueError):
    """Octets that are no well-formed netlink message or attribute list."""


def align(n: int, to: int = NLMSG_ALIGNTO) -> int:
    return (n + to - 1) & ~(to - 1)


def pad(data: bytes, to: int = NLMSG_ALIGNTO) -> bytes:
    return data + b"\0" * (align(len(data), to) - len(data))


def attr(nla_type: int, value: bytes) -> bytes:
    """One attribute, padded to 4 octets (nla_len counts header and value, not the padding)."""
    length = NLA_HDRLEN + len(value)
    if length > 0xFFFF:
        raise ValueError(f"attribute {nla_type} of {len(value)} octets is too long")
    return pad(_ATTR.pack(length, nla_type) + value, NLA_ALIGNTO)


def message(nlmsg_type: int, flags: int, seq: int, payload: bytes, pid: int = 0) -> bytes:
    """One netlink message: the header then ``payload`` (already attribute-padded), padded."""
    length = NLMSG_HDRLEN + len(payload)
    return pad(_HDR.pack(length, nlmsg_type, flags, seq, pid) + payload)


@dataclass(frozen=True, slots=True)
class NetlinkMessage:
    type: int
    flags: int
    seq: int
    pid: int
    payload: bytes


def parse_messages(data: bytes) -> list[NetlinkMessage]:
    """Every message in one datagram read from a netlink socket."""
    out: list[NetlinkMessage] = []
    offset = 0
    while offset < len(data):
        if len(data) - offset < NLMSG_HDRLEN:
            raise NetlinkParseError(f"{len(data) - offset} trailing octets, no message header")
        length, mtype, flags, seq, pid = _HDR.unpack_from(data, offset)
        if length < NLMSG_HDRLEN or offset + length > len(data):
            raise NetlinkParseError(f"message length {length} at offset {offset} does not fit "
                                    f"the {len(data)} octets read")
        out.append(NetlinkMessage(mtype, flags, seq, pid,
                                  bytes(data[offset + NLMSG_HDRLEN:offset + length])))
        offset += align(length)
    return out


def parse_attrs(data: bytes) -> dict[int, bytes]:
    """An attribute list → {type: value} (the NLA_F_NESTED/NET_BYTEORDER bits masked off;
    a repeated type keeps its first value)."""
    out: dict[int, bytes] = {}
    offset = 0
    while offset + NLA_HDRLEN <= len(data):
        length, atype = _ATTR.unpack_from(data, offset)
        if length < NLA_HDRLEN or offset + length > len(data):
            raise NetlinkParseError(f"attribute length {length} at offset {offset} does not "
                                    f"fit the {len(data)} octets")
        out.setdefault(atype & 0x3FFF, bytes(data[offset + NLA_HDRLEN:offset + length]))
        offset += align(length, NLA_ALIGNTO)
    return out


@dataclass(frozen=True, slots=True)
class NetlinkError:
    """An NLMSG_ERROR: ``errno`` 0 is an ACK; ``message`` is the kernel's extended-ACK text."""

    errno: int
    seq: int  # the request's sequence number (from the echoed header)
    request_type: int
    message: str | None = None

    @property
    def ack(self) -> bool:
        return self.errno == 0

    def describe(self) -> str:
        """e.g. 'Protocol not supported (EPROTONOSUPPORT; kernel: "Requested type not found")'"""
        if self.errno == 0:
            return "ok"
        name = errno_names.errorcode.get(self.errno, f"errno {self.errno}")
        text = f"{os.strerror(self.errno)} ({name}"
        if self.message:
            text += f'; kernel: "{self.message}"'
        return text + ")"


def parse_error(msg: NetlinkMessage) -> NetlinkError:
    """Decode the payload of an NLMSG_ERROR message."""
    if msg.type != NLMSG_ERROR:
        raise NetlinkParseError(f"message type {msg.type} is no NLMSG_ERROR")
    p = msg.payload
    if len(p) < 4 + NLMSG_HDRLEN:
        raise NetlinkParseError(f"NLMSG_ERROR of {len(p)} octets, at least 20 needed")
    (error,) = struct.unpack_from("=i", p, 0)
    req_len, req_type, _flags, req_seq, _pid = _HDR.unpack_from(p, 4)
    text = None
    if msg.flags & NLM_F_ACK_TLVS:
        offset = 4 + NLMSG_HDRLEN
        if error != 0 and not msg.flags & NLM_F_CAPPED:
            offset = 4 + align(req_len)  # the request came back whole
        if offset <= len(p):
            tlvs = parse_attrs(p[offset:])
            raw = tlvs.get(NLMSGERR_ATTR_MSG)
            if raw is not None:
                text = raw.split(b"\0", 1)[0].decode("utf-8", "replace") or None
    return NetlinkError(-error, req_seq, req_type, text)
