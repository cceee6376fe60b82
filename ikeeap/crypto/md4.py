"""A small pure-Python MD4 (RFC 1320).

OpenSSL 3 no longer offers MD4 through ``hashlib`` and ``cryptography`` has none, yet
MSCHAPv2 (RFC 2759) needs it for the NT password hash.  Speed does not matter here: the
inputs are a password and a 16-octet hash.
"""

from __future__ import annotations

import struct

_MASK = 0xFFFFFFFF
_INIT = (0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476)
_ROUND2 = 0x5A827999
_ROUND3 = 0x6ED9EBA1
# Word order and rotations of rounds 2 and 3 (RFC 1320 §3.4).
_R2_ORDER = (0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15)
_R3_ORDER = (0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15)
_R1_SHIFT = (3, 7, 11, 19)
_R2_SHIFT = (3, 5, 9, 13)
_R3_SHIFT = (3, 9, 11, 15)


def _rotl(x: int, n: int) -> int:
    x &= _MASK
    return ((x << n) | (x >> (32 - n))) & _MASK


def _f(x: int, y: int, z: int) -> int:
    return (x & y) | (~x & z)


def _g(x: int, y: int, z: int) -> int:
    return (x & y) | (x & z) | (y & z)


def _h(x: int, y: int, z: int) -> int:
    return x ^ y ^ z


def _compress(state: tuple[int, int, int, int], block: bytes) -> tuple[int, int, int, int]:
    """Process one 64-octet block (RFC 1320 §3.4)."""
    x = struct.unpack("<16I", block)
    a, b, c, d = state
    for i in range(16):
        a = _rotl(a + _f(b, c, d) + x[i], _R1_SHIFT[i % 4])
        a, b, c, d = d, a, b, c
    for i in range(16):
        a = _rotl(a + _g(b, c, d) + x[_R2_ORDER[i]] + _ROUND2, _R2_SHIFT[i % 4])
        a, b, c, d = d, a, b, c
    for i in range(16):
        a = _rotl(a + _h(b, c, d) + x[_R3_ORDER[i]] + _ROUND3, _R3_SHIFT[i % 4])
        a, b, c, d = d, a, b, c
    return (
        (state[0] + a) & _MASK,
        (state[1] + b) & _MASK,
        (state[2] + c) & _MASK,
        (state[3] + d) & _MASK,
    )


def md4(data: bytes) -> bytes:
    """Return the 16-octet MD4 digest of ``data``."""
    bit_len = (len(data) * 8) & 0xFFFFFFFFFFFFFFFF
    padded = bytes(data) + b"\x80"
    padded += b"\x00" * ((56 - len(padded)) % 64)
    padded += struct.pack("<Q", bit_len)
    state = _INIT
    for off in range(0, len(padded), 64):
        state = _compress(state, padded[off : off + 64])
    return struct.pack("<4I", *state)
