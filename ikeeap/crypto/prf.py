"""prf and prf+ (RFC 7296 §2.13) over HMAC, using the stdlib's OpenSSL-backed hmac.digest."""

from __future__ import annotations

import hmac

from .transforms import prf_spec


def prf(prf_id: int, key: bytes, data: bytes) -> bytes:
    """prf(key, data): HMAC with the PRF transform's hash (any key length is accepted)."""
    return hmac.digest(key, data, prf_spec(prf_id).hash_name)


def prf_plus(prf_id: int, key: bytes, seed: bytes, length: int) -> bytes:
    """prf+(K, S) = T1 | T2 | ... truncated to ``length`` octets.

    T1 = prf(K, S | 0x01), Tn = prf(K, Tn-1 | S | n); at most 255 blocks.
    """
    spec = prf_spec(prf_id)
    name = spec.hash_name
    blocks = -(-length // spec.out_len)
    if blocks > 255:
        raise ValueError(f"prf+ cannot produce {length} octets with PRF {prf_id}")
    out = bytearray()
    t = b""
    for n in range(1, blocks + 1):
        t = hmac.digest(key, t + seed + bytes((n,)), name)
        out += t
    del out[length:]
    return bytes(out)
