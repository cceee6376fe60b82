"""The AUTH payload (RFC 7296 §2.15, §3.8; RFC 4754 ECDSA; RFC 7427 digital signatures)."""

from __future__ import annotations

import hmac
from collections.abc import Collection

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from ..wire.constants import AuthMethod, HashAlgorithm
from .prf import prf

KEY_PAD = b"Key Pad for IKEv2"

# What we announce in SIGNATURE_HASH_ALGORITHMS (RFC 7427 §4), in order of preference.
SUPPORTED_HASH_ALGORITHMS: tuple[int, ...] = (
    HashAlgorithm.SHA2_256,
    HashAlgorithm.SHA2_384,
    HashAlgorithm.SHA2_512,
)

_HASHES: dict[int, type[hashes.HashAlgorithm]] = {
    HashAlgorithm.SHA2_256: hashes.SHA256,
    HashAlgorithm.SHA2_384: hashes.SHA384,
    HashAlgorithm.SHA2_512: hashes.SHA512,
}

# RFC 7427 Appendix A: DER AlgorithmIdentifier values (RSA ones carry NULL parameters).
_ALGORITHM_IDS: dict[tuple[str, int], bytes] = {
    ("rsa", HashAlgorithm.SHA2_256): bytes.fromhex("300d06092a864886f70d01010b0500"),
    ("rsa", HashAlgorithm.SHA2_384): bytes.fromhex("300d06092a864886f70d01010c0500"),
    ("rsa", HashAlgorithm.SHA2_512): bytes.fromhex("300d06092a864886f70d01010d0500"),
    ("ecdsa", HashAlgorithm.SHA2_256): bytes.fromhex("300a06082a8648ce3d040302"),
    ("ecdsa", HashAlgorithm.SHA2_384): bytes.fromhex("300a06082a8648ce3d040303"),
    ("ecdsa", HashAlgorithm.SHA2_512): bytes.fromhex("300a06082a8648ce3d040304"),
}
_ALGORITHM_BY_DER: dict[bytes, tuple[str, int]] = {v: k for k, v in _ALGORITHM_IDS.items()}

# Classic ECDSA methods (RFC 4754): curve name -> (method, hash, octets per r and s).
_ECDSA_CLASSIC: dict[str, tuple[int, int, int]] = {
    "secp256r1": (AuthMethod.ECDSA_256, HashAlgorithm.SHA2_256, 32),
    "secp384r1": (AuthMethod.ECDSA_384, HashAlgorithm.SHA2_384, 48),
    "secp521r1": (AuthMethod.ECDSA_521, HashAlgorithm.SHA2_512, 66),
}
_ECDSA_BY_METHOD = {m: (curve, h, n) for curve, (m, h, n) in _ECDSA_CLASSIC.items()}


def signed_octets(
    message: bytes, peer_nonce: bytes, prf_id: int, sk_p: bytes, id_body: bytes
) -> bytes:
    """RealMessage ‖ peer's Nonce Data ‖ prf(SK_p, ID payload body) (§2.15)."""
    return message + peer_nonce + prf(prf_id, sk_p, id_body)


def shared_key_auth(prf_id: int, key: bytes, octets: bytes) -> bytes:
    """AUTH = prf(prf(key, "Key Pad for IKEv2"), octets); key is a PSK or the EAP MSK."""
    return prf(prf_id, prf(prf_id, key, KEY_PAD), octets)


def verify_shared_key_auth(prf_id: int, key: bytes, octets: bytes, auth_data: bytes) -> bool:
    """Constant-time check of a shared-key (or EAP MSK) AUTH value."""
    return hmac.compare_digest(shared_key_auth(prf_id, key, octets), auth_data)


def _key_kind(key: object) -> str:
    if isinstance(key, (rsa.RSAPrivateKey, rsa.RSAPublicKey)):
        return "rsa"
    if isinstance(key, (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey)):
        if key.curve.name not in _ECDSA_CLASSIC:
            raise ValueError(f"unsupported curve {key.curve.name}")
        return "ecdsa"
    raise ValueError(f"unsupported key type {type(key).__name__}")


class Signer:
    """Signs AUTH octets with an RSA or ECDSA (P-256/384/521) private key."""

    __slots__ = ("_preferred", "key", "key_type")

    def __init__(self, private_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> None:
        self.key = private_key
        self.key_type = _key_kind(private_key)
        if self.key_type == "rsa":
            self._preferred: tuple[int, ...] = SUPPORTED_HASH_ALGORITHMS
        else:  # the hash matching the curve's strength first
            h = _ECDSA_CLASSIC[private_key.curve.name][1]  # type: ignore[union-attr]
            self._preferred = (h,) + tuple(a for a in SUPPORTED_HASH_ALGORITHMS if a != h)

    def choose_hash(self, peer_hash_algs: Collection[int] | None) -> int | None:
        """The RFC 7427 hash to use, or None if the peer announced none we support."""
        if not peer_hash_algs:
            return None
        return next((h for h in self._preferred if h in peer_hash_algs), None)

    def choose_method(self, peer_hash_algs: Collection[int] | None) -> int:
        """14 if the peer sent SIGNATURE_HASH_ALGORITHMS with a SHA-2 hash, else 1 / 9-11."""
        if self.choose_hash(peer_hash_algs) is not None:
            return AuthMethod.DIGITAL_SIGNATURE
        if self.key_type == "rsa":
            return AuthMethod.RSA_SIG
        return _ECDSA_CLASSIC[self.key.curve.name][0]  # type: ignore[union-attr]

    def sign(self, method: int, octets: bytes, hash_alg: int | None = None) -> bytes:
        """AUTH data for ``method``; for 14, ``hash_alg`` defaults to our preferred hash."""
        if method == AuthMethod.DIGITAL_SIGNATURE:
            h = self._preferred[0] if hash_alg is None else hash_alg
            algid = _ALGORITHM_IDS[(self.key_type, h)]
            return bytes((len(algid),)) + algid + self._raw_sign(octets, _HASHES[h]())
        if method == AuthMethod.RSA_SIG and self.key_type == "rsa":
            return self._raw_sign(octets, hashes.SHA1())
        if self.key_type == "ecdsa":
            curve, h, n = _ECDSA_BY_METHOD.get(method, ("", 0, 0))
            if curve == self.key.curve.name:  # type: ignore[union-attr]
                r, s = decode_dss_signature(self._raw_sign(octets, _HASHES[h]()))
                return r.to_bytes(n, "big") + s.to_bytes(n, "big")
        raise ValueError(f"cannot sign AUTH method {method} with a {self.key_type} key")

    def authenticate(
        self, octets: bytes, peer_hash_algs: Collection[int] | None
    ) -> tuple[int, bytes]:
        """Choose the method for this peer and sign: (auth method, AUTH data)."""
        method = self.choose_method(peer_hash_algs)
        return method, self.sign(method, octets, self.choose_hash(peer_hash_algs))

    def _raw_sign(self, data: bytes, algorithm: hashes.HashAlgorithm) -> bytes:
        if isinstance(self.key, rsa.RSAPrivateKey):
            return self.key.sign(data, padding.PKCS1v15(), algorithm)
        return self.key.sign(data, ec.ECDSA(algorithm))


def _verify_raw(
    key: rsa.RSAPublicKey | ec.EllipticCurvePublicKey,
    sig: bytes,
    data: bytes,
    algorithm: hashes.HashAlgorithm,
) -> None:
    if isinstance(key, rsa.RSAPublicKey):
        key.verify(sig, data, padding.PKCS1v15(), algorithm)
    else:
        key.verify(sig, data, ec.ECDSA(algorithm))


def _verify(key: object, method: int, octets: bytes, auth_data: bytes) -> bool:
    kind = _key_kind(key)
    if method == AuthMethod.DIGITAL_SIGNATURE:
        if not auth_data:
            return False
        n = auth_data[0]
        alg = _ALGORITHM_BY_DER.get(auth_data[1 : 1 + n])
        if alg is None or alg[0] != kind:
            return False
        _verify_raw(key, auth_data[1 + n :], octets, _HASHES[alg[1]]())  # type: ignore[arg-type]
        return True
    if method == AuthMethod.RSA_SIG and kind == "rsa":
        _verify_raw(key, auth_data, octets, hashes.SHA1())  # type: ignore[arg-type]
        return True
    if kind == "ecdsa" and method in _ECDSA_BY_METHOD:
        curve, h, n = _ECDSA_BY_METHOD[method]
        if curve != key.curve.name or len(auth_data) != 2 * n:  # type: ignore[attr-defined]
            return False
        r, s = int.from_bytes(auth_data[:n], "big"), int.from_bytes(auth_data[n:], "big")
        _verify_raw(key, encode_dss_signature(r, s), octets, _HASHES[h]())  # type: ignore[arg-type]
        return True
    return False


def verify_auth_signature(cert_der: bytes, method: int, octets: bytes, auth_data: bytes) -> bool:
    """True if ``auth_data`` is a valid signature of ``octets`` by the certificate's key for
    AUTH ``method`` (1, 9, 10, 11 or 14 with SHA-2)."""
    try:
        key = x509.load_der_x509_certificate(cert_der).public_key()
        return _verify(key, method, octets, auth_data)
    except (InvalidSignature, UnsupportedAlgorithm, x509.InvalidVersion, ValueError, TypeError):
        return False  # e.g. an unknown curve or X.509 version in the peer's certificate


def signature_hash_algorithm(auth_data: bytes) -> int | None:
    """The RFC 7427 hash named by the AlgorithmIdentifier of method-14 AUTH data, if known."""
    if not auth_data:
        return None
    alg = _ALGORITHM_BY_DER.get(auth_data[1 : 1 + auth_data[0]])
    return None if alg is None else alg[1]
