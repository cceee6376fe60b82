"""Diffie-Hellman key exchange for the KE payload (RFC 7296 §2.14, §3.4).

MODP groups 2 (RFC 2409 §6.2), 14 and 15 (RFC 3526); ECP groups 19/20/21 (RFC 5903: KE data
is x ‖ y, the shared secret is x alone); Curve25519 group 31 (RFC 8031 / RFC 7748).
"""

from __future__ import annotations

import hmac
import warnings
from typing import Protocol

from cryptography.utils import CryptographyDeprecationWarning

from cryptography.hazmat.primitives.asymmetric import dh, ec, x25519
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_der_public_key,
)

from ..wire.constants import DhId
from .transforms import SUPPORTED_DH, UnsupportedTransform

# MODP groups 2/14/15 are what most IKE clients still offer; cryptography marks FFDH as
# deprecated. Silence just that notice; replacing the backend is tracked in the README.
warnings.filterwarnings("ignore", message="Diffie-Hellman over finite fields",
                        category=CryptographyDeprecationWarning)

__all__ = ["SUPPORTED_DH", "DhExchange", "InvalidKeyExchange", "new_dh", "public_length"]


class InvalidKeyExchange(ValueError):
    """The peer's KE data is malformed or not a valid public value for the group."""


class DhExchange(Protocol):
    group: int
    public: bytes

    def compute(self, peer_public: bytes) -> bytes:
        """The shared secret g^ir; raises InvalidKeyExchange for a bad peer value."""
        ...


def _prime(*lines: str) -> int:
    return int("".join(lines), 16)


_MODP_1024 = _prime(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74",
    "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437",
    "4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED",
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE65381FFFFFFFFFFFFFFFF",
)
_MODP_2048_HEAD = (
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74",
    "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437",
    "4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED",
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05",
    "98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB",
    "9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B",
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF695581718",
)
_MODP_2048 = _prime(
    *_MODP_2048_HEAD, "3995497CEA956AE515D2261898FA051015728E5A8AACAA68FFFFFFFFFFFFFFFF"
)
_MODP_3072 = _prime(
    *_MODP_2048_HEAD,
    "3995497CEA956AE515D2261898FA051015728E5A8AAAC42DAD33170D04507A33",
    "A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7",
    "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864",
    "D87602733EC86A64521F2B18177B200CBBE117577A615D6C770988C0BAD946E2",
    "08E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF",
)

MODP_PRIMES: dict[int, int] = {
    DhId.MODP_1024: _MODP_1024,
    DhId.MODP_2048: _MODP_2048,
    DhId.MODP_3072: _MODP_3072,
}
# OpenSSL picks a short private exponent for the RFC 3526 groups it knows by name.
_MODP_PARAMS: dict[int, dh.DHParameters] = {
    g: dh.DHParameterNumbers(p, 2).parameters() for g, p in MODP_PRIMES.items()
}


def _der(tag: int, content: bytes) -> bytes:
    n = len(content)
    if n < 0x80:
        return bytes((tag, n)) + content
    ln = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(ln))) + ln + content


def _der_element_end(der: bytes, pos: int) -> int:
    n = der[pos + 1]
    if n < 0x80:
        return pos + 2 + n
    k = n & 0x7F
    return pos + 2 + k + int.from_bytes(der[pos + 2 : pos + 2 + k], "big")


_MODP_ALGID: dict[int, bytes] = {}


def _modp_public_key(group: int, y: int) -> dh.DHPublicKey:
    """Load a peer value via SubjectPublicKeyInfo DER: DHPublicNumbers.public_key() re-checks
    the group parameters (a primality test, ~45 ms for group 2); loading DER does not."""
    algid = _MODP_ALGID.get(group)
    if algid is None:
        sample = _MODP_PARAMS[group].generate_private_key().public_key()
        spki = sample.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
        first = 2 + (spki[1] & 0x7F if spki[1] & 0x80 else 0)
        algid = _MODP_ALGID[group] = spki[first : _der_element_end(spki, first)]
    y_int = _der(0x02, y.to_bytes(y.bit_length() // 8 + 1, "big"))
    key = load_der_public_key(_der(0x30, algid + _der(0x03, b"\0" + y_int)))
    if not isinstance(key, dh.DHPublicKey):
        raise InvalidKeyExchange("not a DH public key")
    return key


_CURVES: dict[int, tuple[ec.EllipticCurve, int]] = {
    DhId.ECP_256: (ec.SECP256R1(), 32),
    DhId.ECP_384: (ec.SECP384R1(), 48),
    DhId.ECP_521: (ec.SECP521R1(), 66),
}


def public_length(group: int) -> int:
    """The exact length of KE data for ``group``."""
    if group in MODP_PRIMES:
        return (MODP_PRIMES[group].bit_length() + 7) // 8
    if group in _CURVES:
        return 2 * _CURVES[group][1]
    if group == DhId.CURVE25519:
        return 32
    raise UnsupportedTransform(f"DH group {group}")


class _ModpExchange:
    __slots__ = ("_key", "_len", "_p", "group", "public")

    def __init__(self, group: int, private: bytes | None) -> None:
        params = _MODP_PARAMS[group]
        self.group = group
        self._p = MODP_PRIMES[group]
        self._len = public_length(group)
        if private is None:
            self._key = params.generate_private_key()
        else:
            x = int.from_bytes(private, "big")
            pub = dh.DHPublicNumbers(pow(2, x, self._p), params.parameter_numbers())
            self._key = dh.DHPrivateNumbers(x, pub).private_key()
        y = self._key.public_key().public_numbers().y
        self.public = y.to_bytes(self._len, "big")

    def compute(self, peer_public: bytes) -> bytes:
        if len(peer_public) != self._len:
            raise InvalidKeyExchange(f"MODP KE data of {len(peer_public)} octets")
        y = int.from_bytes(peer_public, "big")
        if not 1 < y < self._p - 1:
            raise InvalidKeyExchange("MODP public value out of range")
        try:
            shared = self._key.exchange(_modp_public_key(self.group, y))
        except ValueError as exc:
            raise InvalidKeyExchange(str(exc)) from None
        # RFC 7296 §2.14: g^ir is zero-padded to the length of the modulus.
        return shared.rjust(self._len, b"\0")


class _EcpExchange:
    __slots__ = ("_curve", "_key", "_len", "group", "public")

    def __init__(self, group: int, private: bytes | None) -> None:
        self.group = group
        self._curve, coord = _CURVES[group]
        self._len = 2 * coord
        if private is None:
            self._key = ec.generate_private_key(self._curve)
        else:
            self._key = ec.derive_private_key(int.from_bytes(private, "big"), self._curve)
        point = self._key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
        self.public = point[1:]

    def compute(self, peer_public: bytes) -> bytes:
        if len(peer_public) != self._len:
            raise InvalidKeyExchange(f"ECP KE data of {len(peer_public)} octets")
        try:
            peer = ec.EllipticCurvePublicKey.from_encoded_point(self._curve, b"\x04" + peer_public)
            return self._key.exchange(ec.ECDH(), peer)
        except ValueError as exc:  # not on the curve
            raise InvalidKeyExchange(str(exc)) from None


class _X25519Exchange:
    __slots__ = ("_key", "group", "public")

    def __init__(self, group: int, private: bytes | None) -> None:
        self.group = group
        if private is None:
            self._key = x25519.X25519PrivateKey.generate()
        else:
            self._key = x25519.X25519PrivateKey.from_private_bytes(private)
        self.public = self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    def compute(self, peer_public: bytes) -> bytes:
        if len(peer_public) != 32:
            raise InvalidKeyExchange(f"Curve25519 KE data of {len(peer_public)} octets")
        try:
            shared = self._key.exchange(x25519.X25519PublicKey.from_public_bytes(peer_public))
        except ValueError as exc:  # OpenSSL refuses an all-zero result
            raise InvalidKeyExchange(str(exc)) from None
        # RFC 8031 §2.1 / RFC 7748 §6.1: reject the all-zero value (small-order peer point).
        if hmac.compare_digest(shared, bytes(32)):
            raise InvalidKeyExchange("Curve25519 shared secret is all zero")
        return shared


def new_dh(group: int, private: bytes | None = None) -> DhExchange:
    """A fresh key pair for ``group``; ``private`` (big-endian scalar / raw X25519 key) is for
    known-answer tests only."""
    if group in MODP_PRIMES:
        return _ModpExchange(group, private)
    if group in _CURVES:
        return _EcpExchange(group, private)
    if group == DhId.CURVE25519:
        return _X25519Exchange(group, private)
    raise UnsupportedTransform(f"DH group {group}")
