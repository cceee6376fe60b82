"""EAP-pwd computations shared by the server method and the test peer (RFC 5931, ECC groups).

- ``h``: the random function H = HMAC-SHA256 keyed with 32 zero octets (§2.4).
- ``kdf``: the counter-mode KDF of §2.5 (lengths in bits, as hostapd and FreeRADIUS use).
- ``derive_pwe``: hunting-and-pecking (§2.8.3) always running ``HUNT_ITERATIONS`` rounds,
  selecting the first hit with arithmetic masks and testing residuosity on a blinded value,
  so the number and order of operations do not depend on the password (CVE-2019-9494).
- ``new_commit`` / ``check_peer_commit`` / ``shared_key``: the Commit exchange with the
  validation the CVE-2019-9498/9499 fixes added: scalar in (1, r), element on the curve,
  not a reflection of ours, shared point not the identity (§2.8.5.2).
- ``confirm`` and ``derive_keys``: Confirm_S/Confirm_P, MK, Session-ID, MSK ‖ EMSK (§2.9).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from ikeeap.crypto.ecc_prime import Point, PrimeCurve

EAP_TYPE_PWD = 52
RANDOM_FUNCTION_HMAC_SHA256 = 1
PRF_HMAC_SHA256 = 1
PREP_NONE = 0
PREP_RFC2759 = 1
PREP_SASLPREP = 2
HUNT_ITERATIONS = 40  # at least this many rounds, found or not (hostapd uses 40 as well)
HUNT_LABEL = b"EAP-pwd Hunting And Pecking"
CONFIRM_LENGTH = 32
MSK_LENGTH = 64
EMSK_LENGTH = 64
_ZERO_KEY = bytes(32)


def h(*parts: bytes) -> bytes:
    return hmac.new(_ZERO_KEY, b"".join(parts), hashlib.sha256).digest()


def kdf(key: bytes, label: bytes, bits: int) -> bytes:
    """KDF(key, label, length) of RFC 5931 §2.5; trailing bits beyond ``bits`` cleared."""
    length = bits.to_bytes(2, "big")
    out, block, counter = b"", b"", 0
    while len(out) * 8 < bits:
        counter += 1
        block = hmac.new(key, block + counter.to_bytes(2, "big") + label + length,
                         hashlib.sha256).digest()
        out += block
    out = out[: (bits + 7) // 8]
    if bits % 8:
        out = out[:-1] + bytes([out[-1] & (0xFF << (8 - bits % 8)) & 0xFF])
    return out


@dataclass(frozen=True)
class Ciphersuite:
    """Group Description ‖ Random Function ‖ PRF (§3.2.1), 4 octets in Confirm and Method-ID."""

    group: int
    random_function: int = RANDOM_FUNCTION_HMAC_SHA256
    prf: int = PRF_HMAC_SHA256

    def encode(self) -> bytes:
        return self.group.to_bytes(2, "big") + bytes([self.random_function, self.prf])


def _select(mask: int, new: int, old: int) -> int:
    """``new`` when mask is -1 (all ones), ``old`` when 0, without a branch."""
    return old ^ ((old ^ new) & mask)


def derive_pwe(curve: PrimeCurve, password: bytes, peer_id: bytes, server_id: bytes,
               token: bytes, iterations: int = HUNT_ITERATIONS) -> Point:
    """The Password Element of RFC 5931 §2.8.3.1, or None if none was found (2^-40)."""
    shift = -curve.prime_bits % 8  # P-521: the KDF output's last 7 bits are not used
    found, x, odd = 0, 0, 0
    for counter in range(1, iterations + 1):
        seed = h(token, peer_id, server_id, password, bytes([counter]))
        value = int.from_bytes(kdf(seed, HUNT_LABEL, curve.prime_bits), "big") >> shift
        in_range = int(value < curve.p)
        square = int(curve.is_square_blinded(curve.y_squared(value % curve.p)))
        take = -(square & in_range & (1 - found))  # -1 only for the first hit
        x = _select(take, value, x)
        odd = _select(take, seed[-1] & 1, odd)
        found |= square & in_range
    if not found:
        return None
    y = curve.sqrt(curve.y_squared(x))
    assert y is not None  # x was checked to be a residue
    flip = -((y & 1) ^ odd)  # LSB(y) must equal LSB(pwd-seed)
    return (x, _select(flip, curve.p - y, y))


@dataclass(frozen=True)
class Commit:
    """One side's Commit: the private ``rand`` stays here; scalar/element are sent."""

    rand: int
    scalar: int
    element: Point

    def encode(self, curve: PrimeCurve) -> bytes:
        """Element ‖ Scalar (§3.2.2), fixed lengths (§3.3)."""
        return curve.encode_point(self.element) + self.scalar.to_bytes(curve.order_len, "big")


def new_commit(curve: PrimeCurve, pwe: Point) -> Commit:
    """1 < rand, mask < r with (rand + mask) mod r > 1; Element = inv(mask * PWE)."""
    while True:
        rand = secrets.randbelow(curve.order - 2) + 2
        mask = secrets.randbelow(curve.order - 2) + 2
        scalar = (rand + mask) % curve.order
        if scalar > 1:
            return Commit(rand, scalar, curve.negate(curve.multiply(mask, pwe)))


def parse_commit(curve: PrimeCurve, payload: bytes) -> tuple[int, Point] | str:
    """(scalar, element) from a Commit payload, or why it is invalid (§2.8.5.2)."""
    element_len = 2 * curve.prime_len
    if len(payload) != element_len + curve.order_len:
        return f"Commit of {len(payload)} octets, expected {element_len + curve.order_len}"
    scalar = int.from_bytes(payload[element_len:], "big")
    if not 1 < scalar < curve.order:
        return "peer scalar outside (1, r)"
    element = curve.decode_point(payload[:element_len])
    if element is None:
        return "peer element is not a point on the curve"
    return scalar, element


def check_peer_commit(own: Commit, scalar: int, element: Point) -> str | None:
    """Refuse a reflected Commit: either value equal to ours (CVE-2019-9498/9499 fixes)."""
    if scalar == own.scalar or element == own.element:
        return "peer Commit reflects ours"
    return None


def shared_key(curve: PrimeCurve, pwe: Point, own: Commit, scalar: int,
               element: Point) -> bytes | None:
    """k = F(rand * (scalar * PWE + element)) as prime-length octets; None for the identity."""
    point = curve.multiply(own.rand, curve.add(curve.multiply(scalar, pwe), element))
    if point is None:
        return None
    return point[0].to_bytes(curve.prime_len, "big")


def confirm(curve: PrimeCurve, k: bytes, first: Commit | tuple[int, Point],
            second: Commit | tuple[int, Point], suite: Ciphersuite) -> bytes:
    """H(k ‖ Element_1 ‖ Scalar_1 ‖ Element_2 ‖ Scalar_2 ‖ Ciphersuite) (§2.8.4.1).

    Confirm_S takes (server, peer); Confirm_P takes (peer, server)."""
    parts = [k]
    for side in (first, second):
        scalar, element = (side.scalar, side.element) if isinstance(side, Commit) else side
        parts += [curve.encode_point(element), scalar.to_bytes(curve.order_len, "big")]
    return h(*parts, suite.encode())


def derive_keys(curve: PrimeCurve, suite: Ciphersuite, k: bytes, confirm_p: bytes,
                confirm_s: bytes, scalar_p: int, scalar_s: int) -> tuple[bytes, bytes]:
    """(MSK, EMSK): MK = H(k ‖ Confirm_P ‖ Confirm_S); MSK ‖ EMSK = KDF(MK, Session-ID, 1024)."""
    mk = h(k, confirm_p, confirm_s)
    method_id = h(suite.encode(), scalar_p.to_bytes(curve.order_len, "big"),
                  scalar_s.to_bytes(curve.order_len, "big"))
    keys = kdf(mk, bytes([EAP_TYPE_PWD]) + method_id, (MSK_LENGTH + EMSK_LENGTH) * 8)
    return keys[:MSK_LENGTH], keys[MSK_LENGTH:]
