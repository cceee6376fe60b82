"""XFRM netlink messages (linux/xfrm.h), sans-I/O: bytes to send, parsed replies and events.

Why our own codec and not pyroute2: pyroute2 (the well-kept Python netlink library) covers
rtnetlink, generic netlink, nftables, ipset and the like, and for IPsec only the XFRM
*interface* link kind (IFLA_XFRM_LINK/IF_ID in ifinfmsg); it has no NETLINK_XFRM family, so no
xfrm_usersa_info / xfrm_userpolicy_info, no XFRMA_ENCAP, XFRMA_ALG_AEAD or REPLAY_ESN, and no
XFRM_MSG_EXPIRE. What we need is eight fixed structs and a dozen attributes; a codec of ~300
lines that is tested octet by octet against the uapi layouts is smaller than wrapping a large
library that does its own socket I/O (ours stays sans-I/O like the IKE core, and the socket
lives in ikeeap/server/xfrm_kernel.py).

Byte order: the structs are native (x86_64 little-endian here) except the fields the header
declares __be16/__be32: SPIs and selector/encap ports, which are network order. Sizes are
those of a 64-bit kernel with 64-bit userspace (no compat layer): xfrm_usersa_info 224,
xfrm_userpolicy_info 168, xfrm_user_tmpl 64, xfrm_selector 56, xfrm_usersa_id 24,
xfrm_userpolicy_id 64, xfrm_encap_tmpl 24, xfrm_user_expire 232.
"""

from __future__ import annotations

import ipaddress
import socket
import struct
from dataclasses import dataclass, field

from ..wire.constants import EncrId, IntegId
from .netlink import (
    NLM_F_ACK, NLM_F_REQUEST, NetlinkMessage, NetlinkParseError, attr, message, parse_attrs,
)

NETLINK_XFRM = 6
AF_INET = socket.AF_INET  # 2
AF_INET6 = socket.AF_INET6  # 10 on Linux
IPPROTO_ESP = 50
UDP_ENCAP_ESPINUDP = 2  # linux/udp.h: RFC 3948 (non-ESP marker on port 4500)
XFRM_INF = 0xFFFFFFFFFFFFFFFF

# message types (enum from XFRM_MSG_BASE = 0x10)
XFRM_MSG_NEWSA = 0x10
XFRM_MSG_DELSA = 0x11
XFRM_MSG_GETSA = 0x12
XFRM_MSG_NEWPOLICY = 0x13
XFRM_MSG_DELPOLICY = 0x14
XFRM_MSG_GETPOLICY = 0x15
XFRM_MSG_ALLOCSPI = 0x16
XFRM_MSG_ACQUIRE = 0x17
XFRM_MSG_EXPIRE = 0x18
XFRM_MSG_UPDPOLICY = 0x19
XFRM_MSG_UPDSA = 0x1A
XFRM_MSG_POLEXPIRE = 0x1B

# attributes (enum xfrm_attr_type_t)
XFRMA_ALG_AUTH = 1
XFRMA_ALG_CRYPT = 2
XFRMA_ENCAP = 4
XFRMA_TMPL = 5
XFRMA_SA = 6
XFRMA_POLICY = 7
XFRMA_LTIME_VAL = 9
XFRMA_SRCADDR = 13
XFRMA_ALG_AEAD = 18
XFRMA_ALG_AUTH_TRUNC = 20
XFRMA_MARK = 21
XFRMA_REPLAY_ESN_VAL = 23
XFRMA_SA_EXTRA_FLAGS = 24
XFRMA_IF_ID = 31

XFRM_MODE_TRANSPORT = 0
XFRM_MODE_TUNNEL = 1
XFRM_POLICY_IN = 0
XFRM_POLICY_OUT = 1
XFRM_POLICY_FWD = 2
XFRM_POLICY_ALLOW = 0
XFRM_SHARE_ANY = 0
XFRM_STATE_ESN = 128
XFRMNLGRP_EXPIRE = 2  # multicast group of XFRM_MSG_EXPIRE (bit 1 << (2 - 1) in nl_groups)

SELECTOR_LEN = 56
LIFETIME_CFG_LEN = 64
LIFETIME_CUR_LEN = 32
USERSA_INFO_LEN = 224
USERSA_ID_LEN = 24
USERPOLICY_INFO_LEN = 168
USERPOLICY_ID_LEN = 64
USER_TMPL_LEN = 64
ENCAP_TMPL_LEN = 24
ALGO_NAME_LEN = 64
USER_EXPIRE_LEN = 232
REPLAY_ESN_LEN = 24  # without the bitmap
XFRMA_REPLAY_ESN_MAX = 4096  # octets of bitmap the kernel accepts: 128 words
MAX_REPLAY_WINDOW = (XFRMA_REPLAY_ESN_MAX // 4 // 8) * 32  # bmp_len <= 128 words: 4096 packets


def family_of(address: str) -> int:
    return AF_INET6 if ipaddress.ip_address(address).version == 6 else AF_INET


def xfrm_address(address: str | None) -> bytes:
    """xfrm_address_t: 16 octets, an IPv4 address in the first four (a4), zeros after."""
    if not address:
        return b"\0" * 16
    return ipaddress.ip_address(address).packed.ljust(16, b"\0")


def _address_text(raw: bytes, family: int) -> str:
    return str(ipaddress.ip_address(raw[:4] if family == AF_INET else raw[:16]))


@dataclass(frozen=True, slots=True)
class Selector:
    """struct xfrm_selector: what traffic a policy (or SA) applies to."""

    family: int
    daddr: str | None = None
    prefixlen_d: int = 0
    saddr: str | None = None
    prefixlen_s: int = 0
    proto: int = 0
    dport: int = 0
    dport_mask: int = 0
    sport: int = 0
    sport_mask: int = 0
    ifindex: int = 0
    user: int = 0

    def encode(self) -> bytes:
        b = bytearray(SELECTOR_LEN)
        b[0:16] = xfrm_address(self.daddr)
        b[16:32] = xfrm_address(self.saddr)
        struct.pack_into("!HHHH", b, 32, self.dport, self.dport_mask, self.sport,
                         self.sport_mask)
        struct.pack_into("=HBBB", b, 40, self.family, self.prefixlen_d, self.prefixlen_s,
                         self.proto)
        struct.pack_into("=iI", b, 48, self.ifindex, self.user)
        return bytes(b)

    @classmethod
    def decode(cls, data: bytes) -> Selector:
        dport, dmask, sport, smask = struct.unpack_from("!HHHH", data, 32)
        family, plen_d, plen_s, proto = struct.unpack_from("=HBBB", data, 40)
        ifindex, user = struct.unpack_from("=iI", data, 48)
        daddr = saddr = None
        if family in (AF_INET, AF_INET6):
            daddr, saddr = _address_text(data[0:16], family), _address_text(data[16:32], family)
        return cls(family, daddr, plen_d, saddr, plen_s, proto, dport, dmask, sport, smask,
                   ifindex, user)


def lifetime_cfg(soft_bytes: int = 0, hard_bytes: int = 0, soft_packets: int = 0,
                 hard_packets: int = 0, soft_seconds: int = 0, hard_seconds: int = 0) -> bytes:
    """struct xfrm_lifetime_cfg. Byte and packet limits of 0 mean none (XFRM_INF: the kernel
    compares curlft >= limit, so 0 would expire at once); seconds of 0 mean none as they are."""
    def lim(n: int) -> int:
        return n if n else XFRM_INF
    return struct.pack("=8Q", lim(soft_bytes), lim(hard_bytes), lim(soft_packets),
                       lim(hard_packets), soft_seconds, hard_seconds, 0, 0)


@dataclass(frozen=True, slots=True)
class LifetimeCur:
    """struct xfrm_lifetime_cur: what went through an SA, and when it was added/last used."""

    bytes: int
    packets: int
    add_time: int
    use_time: int

    @classmethod
    def decode(cls, data: bytes) -> LifetimeCur:
        return cls(*struct.unpack_from("=4Q", data, 0))


@dataclass(frozen=True, slots=True)
class Algorithms:
    """The kernel's names for one ESP transform set (net/xfrm/xfrm_algo.c)."""

    aead: str | None = None
    icv_bits: int = 0
    crypt: str | None = None
    auth: str | None = None
    trunc_bits: int = 0

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(n for n in (self.aead, self.crypt, self.auth) if n)


_AEAD = {EncrId.AES_GCM_8: ("rfc4106(gcm(aes))", 64),
         EncrId.AES_GCM_12: ("rfc4106(gcm(aes))", 96),
         EncrId.AES_GCM_16: ("rfc4106(gcm(aes))", 128),
         EncrId.CHACHA20_POLY1305: ("rfc7539esp(chacha20,poly1305)", 128)}
_AUTH = {IntegId.HMAC_SHA1_96: ("hmac(sha1)", 96),
         IntegId.HMAC_SHA2_256_128: ("hmac(sha256)", 128),
         IntegId.HMAC_SHA2_384_192: ("hmac(sha384)", 192),
         IntegId.HMAC_SHA2_512_256: ("hmac(sha512)", 256)}


class UnsupportedAlgorithm(ValueError):
    """An IKEv2 ESP transform the XFRM mapping does not know."""


def kernel_algorithms(encr: int, integ: int) -> Algorithms:
    if encr in _AEAD:
        name, icv = _AEAD[EncrId(encr)]
        return Algorithms(aead=name, icv_bits=icv)
    if encr == EncrId.AES_CBC and integ in _AUTH:
        auth, trunc = _AUTH[IntegId(integ)]
        return Algorithms(crypt="cbc(aes)", auth=auth, trunc_bits=trunc)
    raise UnsupportedAlgorithm(f"no XFRM algorithm for ENCR {encr} with INTEG {integ}")


def _name(name: str) -> bytes:
    raw = name.encode()
    if len(raw) >= ALGO_NAME_LEN:
        raise ValueError(f"algorithm name {name!r} longer than 63 octets")
    return raw.ljust(ALGO_NAME_LEN, b"\0")


def algo(name: str, key: bytes) -> bytes:
    """struct xfrm_algo: char alg_name[64], unsigned int alg_key_len (bits) @64, key @68."""
    return _name(name) + struct.pack("=I", len(key) * 8) + key


def algo_auth(name: str, key: bytes, trunc_bits: int) -> bytes:
    """struct xfrm_algo_auth: name[64], alg_key_len @64, alg_trunc_len @68 (bits), key @72."""
    return _name(name) + struct.pack("=II", len(key) * 8, trunc_bits) + key


def algo_aead(name: str, key: bytes, icv_bits: int) -> bytes:
    """struct xfrm_algo_aead: name[64], alg_key_len @64 (key and salt), alg_icv_len @68, key @72."""
    return _name(name) + struct.pack("=II", len(key) * 8, icv_bits) + key


def encap_tmpl(sport: int, dport: int, encap_type: int = UDP_ENCAP_ESPINUDP,
               original: str | None = None) -> bytes:
    """struct xfrm_encap_tmpl: u16 encap_type @0, __be16 sport @2, __be16 dport @4, 2 pad,
    xfrm_address_t encap_oa @8."""
    return struct.pack("=H", encap_type) + struct.pack("!HH", sport, dport) + b"\0\0" \
        + xfrm_address(original)


def replay_esn(window: int, oseq: int = 0, seq: int = 0, oseq_hi: int = 0,
               seq_hi: int = 0) -> bytes:
    """struct xfrm_replay_state_esn: bmp_len (32-bit words) @0, oseq @4, seq @8, oseq_hi @12,
    seq_hi @16, replay_window @20, then bmp_len zero words."""
    words = (window + 31) // 32
    return struct.pack("=6I", words, oseq, seq, oseq_hi, seq_hi, window) + b"\0" * (4 * words)


@dataclass(frozen=True, slots=True)
class SaSpec:
    """One direction of a Child SA as the kernel holds it (tunnel mode ESP)."""

    src: str
    dst: str
    spi: bytes
    reqid: int
    algorithms: Algorithms
    encr_key: bytes = field(repr=False)
    integ_key: bytes = field(repr=False, default=b"")
    replay_window: int = 64
    esn: bool = False
    encap: tuple[int, int] | None = None  # (sport, dport) of ESP-in-UDP
    if_id: int = 0
    soft_seconds: int = 0
    hard_seconds: int = 0
    soft_bytes: int = 0
    hard_bytes: int = 0
    soft_packets: int = 0
    hard_packets: int = 0

    @property
    def family(self) -> int:
        return family_of(self.dst)

    @property
    def esn_replay_attr(self) -> bool:
        """ESN, and windows above 32 packets, need XFRMA_REPLAY_ESN_VAL (as strongSwan does)."""
        return self.esn or self.replay_window > 32

    def __post_init__(self) -> None:
        if not 0 <= self.replay_window <= MAX_REPLAY_WINDOW:
            raise ValueError(f"replay window {self.replay_window}: the kernel holds 0 to "
                             f"{MAX_REPLAY_WINDOW}")


def usersa_info(sa: SaSpec) -> bytes:
    """struct xfrm_usersa_info (224): sel @0, id (daddr @56, __be32 spi @72, proto @76),
    saddr @80, lft @96, curlft @160, stats @192, seq @204, reqid @208, family @212 (u16),
    mode @214, replay_window @215, flags @216 (u8 each), 7 octets of padding."""
    if len(sa.spi) != 4:
        raise ValueError("an ESP SPI has 4 octets")
    b = bytearray(USERSA_INFO_LEN)
    b[0:SELECTOR_LEN] = Selector(sa.family).encode()
    b[56:72] = xfrm_address(sa.dst)
    b[72:76] = sa.spi
    b[76] = IPPROTO_ESP
    b[80:96] = xfrm_address(sa.src)
    b[96:160] = lifetime_cfg(sa.soft_bytes, sa.hard_bytes, sa.soft_packets, sa.hard_packets,
                             sa.soft_seconds, sa.hard_seconds)
    # with XFRMA_REPLAY_ESN_VAL the legacy u8 window must be 0 (the kernel refuses otherwise:
    # "ESN not compatible with legacy replay_window")
    struct.pack_into("=IIHBBB", b, 204, 0, sa.reqid, sa.family, XFRM_MODE_TUNNEL,
                     0 if sa.esn_replay_attr else sa.replay_window,
                     XFRM_STATE_ESN if sa.esn else 0)
    return bytes(b)


def newsa(seq: int, sa: SaSpec, update: bool = False) -> bytes:
    """XFRM_MSG_NEWSA (or UPDSA) with the algorithms, encapsulation, replay state, if_id."""
    attrs = b""
    alg = sa.algorithms
    if alg.aead:
        attrs += attr(XFRMA_ALG_AEAD, algo_aead(alg.aead, sa.encr_key, alg.icv_bits))
    else:
        assert alg.crypt and alg.auth
        attrs += attr(XFRMA_ALG_CRYPT, algo(alg.crypt, sa.encr_key))
        attrs += attr(XFRMA_ALG_AUTH_TRUNC, algo_auth(alg.auth, sa.integ_key, alg.trunc_bits))
    if sa.encap is not None:
        attrs += attr(XFRMA_ENCAP, encap_tmpl(*sa.encap))
    if sa.esn_replay_attr:
        attrs += attr(XFRMA_REPLAY_ESN_VAL, replay_esn(sa.replay_window))
    if sa.if_id:
        attrs += attr(XFRMA_IF_ID, struct.pack("=I", sa.if_id))
    mtype = XFRM_MSG_UPDSA if update else XFRM_MSG_NEWSA
    return message(mtype, NLM_F_REQUEST | NLM_F_ACK, seq, usersa_info(sa) + attrs)


def usersa_id(dst: str, spi: bytes, proto: int = IPPROTO_ESP) -> bytes:
    """struct xfrm_usersa_id (24): daddr @0, __be32 spi @16, family @20 (u16), proto @22."""
    return xfrm_address(dst) + spi + struct.pack("=HBx", family_of(dst), proto)


def delsa(seq: int, dst: str, spi: bytes, if_id: int = 0) -> bytes:
    payload = usersa_id(dst, spi)
    if if_id:
        payload += attr(XFRMA_IF_ID, struct.pack("=I", if_id))
    return message(XFRM_MSG_DELSA, NLM_F_REQUEST | NLM_F_ACK, seq, payload)


def getsa(seq: int, dst: str, spi: bytes) -> bytes:
    """The reply is an XFRM_MSG_NEWSA carrying the state (counters in its curlft)."""
    return message(XFRM_MSG_GETSA, NLM_F_REQUEST, seq, usersa_id(dst, spi))


@dataclass(frozen=True, slots=True)
class PolicySpec:
    """A tunnel-mode policy: traffic matching ``selector`` in direction ``dir`` uses the ESP
    SA of ``reqid`` between ``tmpl_src`` and ``tmpl_dst``."""

    selector: Selector
    dir: int
    tmpl_src: str
    tmpl_dst: str
    reqid: int
    priority: int = 0
    if_id: int = 0


def user_tmpl(src: str, dst: str, reqid: int) -> bytes:
    """struct xfrm_user_tmpl (64): id (daddr @0, spi @16, proto @20), family @24 (u16),
    saddr @28, reqid @44, mode @48, share @49, optional @50, aalgos @52, ealgos @56,
    calgos @60 (all algorithms: ~0)."""
    b = bytearray(USER_TMPL_LEN)
    b[0:16] = xfrm_address(dst)
    b[20] = IPPROTO_ESP
    struct.pack_into("=H", b, 24, family_of(dst))
    b[28:44] = xfrm_address(src)
    struct.pack_into("=IBBB", b, 44, reqid, XFRM_MODE_TUNNEL, XFRM_SHARE_ANY, 0)
    struct.pack_into("=III", b, 52, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF)
    return bytes(b)


def userpolicy_info(p: PolicySpec) -> bytes:
    """struct xfrm_userpolicy_info (168): sel @0, lft @56, curlft @120, priority @152,
    index @156, dir @160, action @161, flags @162, share @163, 4 octets of padding."""
    b = bytearray(USERPOLICY_INFO_LEN)
    b[0:56] = p.selector.encode()
    b[56:120] = lifetime_cfg()
    struct.pack_into("=IIBBBB", b, 152, p.priority, 0, p.dir, XFRM_POLICY_ALLOW, 0,
                     XFRM_SHARE_ANY)
    return bytes(b)


def newpolicy(seq: int, p: PolicySpec, update: bool = True) -> bytes:
    """XFRM_MSG_UPDPOLICY (install or replace; NEWPOLICY with ``update=False``)."""
    payload = userpolicy_info(p) + attr(XFRMA_TMPL, user_tmpl(p.tmpl_src, p.tmpl_dst, p.reqid))
    if p.if_id:
        payload += attr(XFRMA_IF_ID, struct.pack("=I", p.if_id))
    return message(XFRM_MSG_UPDPOLICY if update else XFRM_MSG_NEWPOLICY,
                   NLM_F_REQUEST | NLM_F_ACK, seq, payload)


def userpolicy_id(selector: Selector, dir: int, index: int = 0) -> bytes:
    """struct xfrm_userpolicy_id (64): sel @0, index @56 (u32), dir @60 (u8), 3 padding."""
    return selector.encode() + struct.pack("=IB3x", index, dir)


def delpolicy(seq: int, selector: Selector, dir: int, if_id: int = 0) -> bytes:
    payload = userpolicy_id(selector, dir)
    if if_id:
        payload += attr(XFRMA_IF_ID, struct.pack("=I", if_id))
    return message(XFRM_MSG_DELPOLICY, NLM_F_REQUEST | NLM_F_ACK, seq, payload)


# ---- what the kernel sends ---------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class SaState:
    """An xfrm_usersa_info read back (GETSA reply, dump entry, EXPIRE's state)."""

    selector: Selector
    dst: str
    spi: bytes
    proto: int
    src: str
    lifetime: LifetimeCur
    replay_window_stats: int
    replay_drops: int
    integrity_failed: int
    reqid: int
    family: int
    mode: int
    flags: int
    attrs: dict[int, bytes] = field(default_factory=dict, compare=False, repr=False)

    @property
    def counters(self) -> LifetimeCur:
        """XFRMA_LTIME_VAL where present (AEVENT replies), else the state's curlft."""
        raw = self.attrs.get(XFRMA_LTIME_VAL)
        return LifetimeCur.decode(raw) if raw and len(raw) >= LIFETIME_CUR_LEN else self.lifetime


def parse_usersa_info(data: bytes, attrs: bytes = b"") -> SaState:
    if len(data) < USERSA_INFO_LEN:
        raise NetlinkParseError(f"xfrm_usersa_info of {len(data)} octets, 224 needed")
    family = struct.unpack_from("=H", data, 212)[0]
    if family not in (AF_INET, AF_INET6):
        raise NetlinkParseError(f"xfrm_usersa_info of address family {family}")
    replay_window, replay, integrity = struct.unpack_from("=III", data, 192)
    reqid = struct.unpack_from("=I", data, 208)[0]
    mode, _window, flags = data[214], data[215], data[216]
    return SaState(Selector.decode(data[0:56]), _address_text(data[56:72], family),
                   bytes(data[72:76]), data[76], _address_text(data[80:96], family),
                   LifetimeCur.decode(data[160:192]), replay_window, replay, integrity, reqid,
                   family, mode, flags, parse_attrs(attrs))


def parse_sa(msg: NetlinkMessage) -> SaState:
    """An XFRM_MSG_NEWSA / UPDSA / DELSA notification or GETSA reply."""
    if msg.type not in (XFRM_MSG_NEWSA, XFRM_MSG_UPDSA, XFRM_MSG_DELSA):
        raise NetlinkParseError(f"message type {msg.type} carries no xfrm_usersa_info")
    return parse_usersa_info(msg.payload[:USERSA_INFO_LEN], msg.payload[USERSA_INFO_LEN:])


@dataclass(frozen=True, slots=True)
class Expire:
    """XFRM_MSG_EXPIRE: an SA reached its soft (rekey) or hard (gone) limit."""

    state: SaState
    hard: bool


def parse_expire(msg: NetlinkMessage) -> Expire:
    """struct xfrm_user_expire (232): xfrm_usersa_info state @0, __u8 hard @224."""
    if msg.type != XFRM_MSG_EXPIRE:
        raise NetlinkParseError(f"message type {msg.type} is no XFRM_MSG_EXPIRE")
    if len(msg.payload) < USER_EXPIRE_LEN - 7:  # the trailing padding may be cut
        raise NetlinkParseError(f"xfrm_user_expire of {len(msg.payload)} octets")
    return Expire(parse_usersa_info(msg.payload[:USERSA_INFO_LEN],
                                    msg.payload[USER_EXPIRE_LEN:]),
                  bool(msg.payload[USERSA_INFO_LEN]))
