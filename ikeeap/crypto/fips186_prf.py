"""The FIPS 186-2 change-notice-1 pseudo-random generator used by EAP-SIM and EAP-AKA.

RFC 4186 §7 and Appendix B: b = 160, XSEED_j = 0, and the "mod q" of step 3.3 omitted.
G(t, c) is SHA-1's compression of c zero-padded to 512 bits, starting from t = the SHA-1
initial value (FIPS 186-2 Appendix 3.3).
"""

from __future__ import annotations

from ikeeap.crypto.sha1_compress import SHA1_INITIAL_STATE, sha1_compress, state_bytes

XKEY_SIZE = 20
_MODULUS = 1 << 160


def fips186_g(value: bytes) -> bytes:
    """G(t, c) with t = the SHA-1 IV: 20 octets in, 20 out."""
    block = value + bytes(64 - len(value))
    return state_bytes(sha1_compress(SHA1_INITIAL_STATE, block))


def fips186_2_prf(xkey: bytes, length: int) -> bytes:
    """``length`` octets of x_0 ‖ x_1 ‖ ... seeded with the 160-bit ``xkey``."""
    if len(xkey) != XKEY_SIZE:
        raise ValueError("the FIPS 186-2 PRF takes a 20-octet XKEY")
    key = int.from_bytes(xkey, "big")
    out = bytearray()
    while len(out) < length:
        for _ in range(2):  # x_j = w_0 ‖ w_1
            w = fips186_g(key.to_bytes(XKEY_SIZE, "big"))  # XVAL = XKEY (XSEED = 0)
            key = (1 + key + int.from_bytes(w, "big")) % _MODULUS
            out += w
    return bytes(out[:length])
