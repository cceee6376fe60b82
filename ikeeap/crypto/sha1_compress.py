"""The raw SHA-1 compression function (FIPS 180-2 §6.1.2), in pure Python.

EAP-SIM/AKA key derivation (RFC 4186 §7, App. B) uses the FIPS 186-2 generator whose
function G is SHA-1's compression applied to a zero-padded block, with no length padding.
No library exposes the bare compression step, so it lives here (small and slow, but it
runs a handful of times per authentication).
"""

from __future__ import annotations

import struct

SHA1_INITIAL_STATE: tuple[int, int, int, int, int] = (
    0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0,
)
BLOCK_SIZE = 64
_MASK = 0xFFFFFFFF
State = tuple[int, int, int, int, int]


def _rotl(value: int, bits: int) -> int:
    return ((value << bits) | (value >> (32 - bits))) & _MASK


def _schedule(block: bytes) -> list[int]:
    w = list(struct.unpack(">16I", block))
    for t in range(16, 80):
        w.append(_rotl(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1))
    return w


def sha1_compress(state: State, block: bytes) -> State:
    """One SHA-1 compression of a 64-octet ``block`` into the five-word ``state``."""
    if len(block) != BLOCK_SIZE:
        raise ValueError("SHA-1 compresses 64-octet blocks")
    a, b, c, d, e = state
    for t, word in enumerate(_schedule(block)):
        if t < 20:
            f, k = (b & c) | (~b & d), 0x5A827999
        elif t < 40:
            f, k = b ^ c ^ d, 0x6ED9EBA1
        elif t < 60:
            f, k = (b & c) | (b & d) | (c & d), 0x8F1BBCDC
        else:
            f, k = b ^ c ^ d, 0xCA62C1D6
        temp = (_rotl(a, 5) + (f & _MASK) + e + k + word) & _MASK
        a, b, c, d, e = temp, a, _rotl(b, 30), c, d
    h0, h1, h2, h3, h4 = state
    return (
        (h0 + a) & _MASK, (h1 + b) & _MASK, (h2 + c) & _MASK, (h3 + d) & _MASK, (h4 + e) & _MASK,
    )


def state_bytes(state: State) -> bytes:
    """H0 ‖ H1 ‖ H2 ‖ H3 ‖ H4 as 20 big-endian octets."""
    return struct.pack(">5I", *state)
