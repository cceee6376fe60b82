"""Elliptic-curve arithmetic over the NIST prime fields (P-256, P-384, P-521), pure integers.

Why not ``cryptography``: EAP-pwd (RFC 5931) needs point addition, point inversion and
square roots on the curve, which the library does not expose (it only offers ECDH and
signatures).  Points are affine ``(x, y)`` tuples; ``None`` is the point at infinity.
Scalar multiplication is a Montgomery ladder over a fixed number of bits, so its sequence
of operations does not depend on the scalar (CPython big integers are not constant-time;
this removes the structural leak, not every timing difference).

IKE group numbers are used as keys (19 = P-256, 20 = P-384, 21 = P-521, RFC 5903), as the
EAP-pwd ciphersuite does (RFC 5931 §3.2.1).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

Point = tuple[int, int] | None  # None: the point at infinity (the group identity)
_Jacobian = tuple[int, int, int]  # (X, Y, Z) with x = X/Z^2, y = Y/Z^3; Z = 0 is infinity


@dataclass(frozen=True)
class PrimeCurve:
    """y^2 = x^3 + a*x + b over GF(p), generator ``g`` of prime order ``order``, cofactor 1."""

    group: int
    name: str
    p: int
    a: int
    b: int
    g: tuple[int, int]
    order: int

    @property
    def prime_bits(self) -> int:
        return self.p.bit_length()

    @property
    def prime_len(self) -> int:
        return (self.prime_bits + 7) // 8

    @property
    def order_len(self) -> int:
        return (self.order.bit_length() + 7) // 8

    def y_squared(self, x: int) -> int:
        return (pow(x, 3, self.p) + self.a * x + self.b) % self.p

    def is_on_curve(self, point: Point) -> bool:
        """A finite point with both coordinates in [0, p) satisfying the curve equation."""
        if point is None:
            return False
        x, y = point
        if not (0 <= x < self.p and 0 <= y < self.p):
            return False
        return (y * y - self.y_squared(x)) % self.p == 0

    def negate(self, point: Point) -> Point:
        if point is None:
            return None
        x, y = point
        return (x, (-y) % self.p)

    def add(self, p1: Point, p2: Point) -> Point:
        return self._affine(self._add(self._jacobian(p1), self._jacobian(p2)))

    def multiply(self, k: int, point: Point) -> Point:
        """k * point by a Montgomery ladder over ``order`` bits (k is reduced mod order)."""
        if point is None:
            return None
        k %= self.order
        r0: _Jacobian = (1, 1, 0)
        r1 = self._jacobian(point)
        for i in reversed(range(self.order.bit_length())):
            # Every bit costs one addition and one doubling, whatever its value.
            if (k >> i) & 1:
                r0, r1 = self._add(r0, r1), self._double(r1)
            else:
                r1, r0 = self._add(r0, r1), self._double(r0)
        return self._affine(r0)

    def sqrt(self, value: int) -> int | None:
        """A square root mod p (p ≡ 3 mod 4 for all three curves), or None."""
        root = pow(value, (self.p + 1) // 4, self.p)
        return root if root * root % self.p == value % self.p else None

    def is_square_blinded(self, value: int) -> bool:
        """Quadratic residuosity of ``value`` without exponentiating the secret itself:
        multiplying by a random square keeps the answer and randomises the operand."""
        blind = secrets.randbelow(self.p - 1) + 1
        masked = value * blind * blind % self.p
        return pow(masked, (self.p - 1) // 2, self.p) == 1

    def encode_point(self, point: Point) -> bytes:
        """x ‖ y, each left-padded to the prime's length (RFC 5931 §3.3.2, RFC 5903)."""
        if point is None:
            raise ValueError("the point at infinity has no encoding")
        n = self.prime_len
        return point[0].to_bytes(n, "big") + point[1].to_bytes(n, "big")

    def decode_point(self, data: bytes) -> Point:
        """The point encoded in ``data``, or None when it is not a valid curve point."""
        n = self.prime_len
        if len(data) != 2 * n:
            return None
        point = (int.from_bytes(data[:n], "big"), int.from_bytes(data[n:], "big"))
        return point if self.is_on_curve(point) else None

    # -- Jacobian coordinates: no inversion per step ------------------------------------

    @staticmethod
    def _jacobian(point: Point) -> _Jacobian:
        return (1, 1, 0) if point is None else (point[0], point[1], 1)

    def _affine(self, jp: _Jacobian) -> Point:
        x, y, z = jp
        if z % self.p == 0:
            return None
        zinv = pow(z, -1, self.p)
        zinv2 = zinv * zinv % self.p
        return (x * zinv2 % self.p, y * zinv2 * zinv % self.p)

    def _double(self, jp: _Jacobian) -> _Jacobian:
        x, y, z = jp
        p = self.p
        if z == 0 or y == 0:
            return (1, 1, 0)
        yy = y * y % p
        s = 4 * x * yy % p
        zz = z * z % p
        m = (3 * x * x + self.a * zz * zz) % p
        x3 = (m * m - 2 * s) % p
        y3 = (m * (s - x3) - 8 * yy * yy) % p
        return (x3, y3, 2 * y * z % p)

    def _add(self, j1: _Jacobian, j2: _Jacobian) -> _Jacobian:
        x1, y1, z1 = j1
        x2, y2, z2 = j2
        if z1 == 0:
            return j2
        if z2 == 0:
            return j1
        p = self.p
        z1z1, z2z2 = z1 * z1 % p, z2 * z2 % p
        u1, u2 = x1 * z2z2 % p, x2 * z1z1 % p
        s1, s2 = y1 * z2 * z2z2 % p, y2 * z1 * z1z1 % p
        h, r = (u2 - u1) % p, (s2 - s1) % p
        if h == 0:
            return self._double(j1) if r == 0 else (1, 1, 0)
        hh = h * h % p
        hhh = h * hh % p
        v = u1 * hh % p
        x3 = (r * r - hhh - 2 * v) % p
        y3 = (r * (v - x3) - s1 * hhh) % p
        return (x3, y3, h * z1 * z2 % p)


def _p(text: str) -> int:
    return int(text.replace(" ", ""), 16)


P256 = PrimeCurve(
    19, "P-256",
    p=_p("ffffffff 00000001 00000000 00000000 00000000 ffffffff ffffffff ffffffff"),
    a=-3,
    b=_p("5ac635d8 aa3a93e7 b3ebbd55 769886bc 651d06b0 cc53b0f6 3bce3c3e 27d2604b"),
    g=(_p("6b17d1f2 e12c4247 f8bce6e5 63a440f2 77037d81 2deb33a0 f4a13945 d898c296"),
       _p("4fe342e2 fe1a7f9b 8ee7eb4a 7c0f9e16 2bce3357 6b315ece cbb64068 37bf51f5")),
    order=_p("ffffffff 00000000 ffffffff ffffffff bce6faad a7179e84 f3b9cac2 fc632551"),
)
P384 = PrimeCurve(
    20, "P-384",
    p=2**384 - 2**128 - 2**96 + 2**32 - 1,
    a=-3,
    b=_p("b3312fa7 e23ee7e4 988e056b e3f82d19 181d9c6e fe814112 0314088f 5013875a"
         "c656398d 8a2ed19d 2a85c8ed d3ec2aef"),
    g=(_p("aa87ca22 be8b0537 8eb1c71e f320ad74 6e1d3b62 8ba79b98 59f741e0 82542a38"
          "5502f25d bf55296c 3a545e38 72760ab7"),
       _p("3617de4a 96262c6f 5d9e98bf 9292dc29 f8f41dbd 289a147c e9da3113 b5f0b8c0"
          "0a60b1ce 1d7e819d 7a431d7c 90ea0e5f")),
    order=_p("ffffffff ffffffff ffffffff ffffffff ffffffff ffffffff c7634d81 f4372ddf"
             "581a0db2 48b0a77a ecec196a ccc52973"),
)
P521 = PrimeCurve(
    21, "P-521",
    p=2**521 - 1,
    a=-3,
    b=_p("0051 953eb961 8e1c9a1f 929a21a0 b68540ee a2da725b 99b315f3 b8b48991 8ef109e1"
         "56193951 ec7e937b 1652c0bd 3bb1bf07 3573df88 3d2c34f1 ef451fd4 6b503f00"),
    g=(_p("00c6 858e06b7 0404e9cd 9e3ecb66 2395b442 9c648139 053fb521 f828af60 6b4d3dba"
          "a14b5e77 efe75928 fe1dc127 a2ffa8de 3348b3c1 856a429b f97e7e31 c2e5bd66"),
       _p("0118 39296a78 9a3bc004 5c8a5fb4 2c7d1bd9 98f54449 579b4468 17afbd17 273e662c"
          "97ee7299 5ef42640 c550b901 3fad0761 353c7086 a272c240 88be9476 9fd16650")),
    order=_p("01" + "f" * 64 + "fa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409"),
)

CURVES: dict[int, PrimeCurve] = {c.group: c for c in (P256, P384, P521)}


def curve_for_group(group: int) -> PrimeCurve | None:
    return CURVES.get(group)
