"""Transform tables: IKEv2 transform ids (RFC 7296 §3.3.2) mapped to primitive parameters.

The same ENCR/INTEG tables size both the IKE SA keys (SK_e*, SK_a*) and the ESP keymat of a
Child SA (RFC 7296 §2.17): AES-GCM (RFC 4106/5282) and ChaCha20-Poly1305 (RFC 7634) draw a
4-octet salt after the key in both cases.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..wire.constants import DhId, EncrId, IntegId, PrfId


class UnsupportedTransform(ValueError):
    """A transform id (or key length) this implementation does not provide."""


@dataclass(frozen=True, slots=True)
class EncrSpec:
    """An encryption transform with a fixed key length."""

    id: int
    key_bits: int
    key_len: int  # cipher key octets
    salt_len: int  # implicit nonce part drawn from keymat after the key (AEAD only)
    iv_len: int  # explicit IV carried in every SK payload / ESP packet
    block_len: int  # plaintext alignment (1 for the AEAD stream-like modes)
    icv_len: int  # AEAD tag octets (0 for CBC, which needs an INTEG transform)
    aead: bool
    ike: bool  # usable for the IKE SA's SK payload (not only ESP)

    @property
    def keymat_len(self) -> int:
        """Octets of keying material this transform consumes (key ‖ salt)."""
        return self.key_len + self.salt_len


@dataclass(frozen=True, slots=True)
class PrfSpec:
    id: int
    hash_name: str  # hashlib / hmac.digest name
    out_len: int  # output length, also the preferred key length (SK_d, SK_pi, SK_pr)


@dataclass(frozen=True, slots=True)
class IntegSpec:
    id: int
    hash_name: str
    key_len: int
    icv_len: int  # truncated output length


def _aes_cbc(bits: int) -> EncrSpec:
    return EncrSpec(EncrId.AES_CBC, bits, bits // 8, 0, 16, 16, 0, False, True)


def _aes_gcm(eid: int, bits: int, icv: int) -> EncrSpec:
    return EncrSpec(eid, bits, bits // 8, 4, 8, 1, icv, True, icv == 16)


_ENCR: dict[tuple[int, int], EncrSpec] = {}
for _bits in (128, 192, 256):
    _ENCR[(EncrId.AES_CBC, _bits)] = _aes_cbc(_bits)
    _ENCR[(EncrId.AES_GCM_8, _bits)] = _aes_gcm(EncrId.AES_GCM_8, _bits, 8)
    _ENCR[(EncrId.AES_GCM_12, _bits)] = _aes_gcm(EncrId.AES_GCM_12, _bits, 12)
    _ENCR[(EncrId.AES_GCM_16, _bits)] = _aes_gcm(EncrId.AES_GCM_16, _bits, 16)
# RFC 7634 §2: fixed 256-bit key, no Key Length attribute.
_CHACHA = EncrSpec(EncrId.CHACHA20_POLY1305, 256, 32, 4, 8, 1, 16, True, True)
_ENCR[(EncrId.CHACHA20_POLY1305, 256)] = _CHACHA

_PRF: dict[int, PrfSpec] = {
    PrfId.HMAC_SHA1: PrfSpec(PrfId.HMAC_SHA1, "sha1", 20),
    PrfId.HMAC_SHA2_256: PrfSpec(PrfId.HMAC_SHA2_256, "sha256", 32),
    PrfId.HMAC_SHA2_384: PrfSpec(PrfId.HMAC_SHA2_384, "sha384", 48),
    PrfId.HMAC_SHA2_512: PrfSpec(PrfId.HMAC_SHA2_512, "sha512", 64),
}

# RFC 4868 §2.1: key length = hash output length; ICV = half of it (SHA-1: 96 bits, RFC 2404).
_INTEG: dict[int, IntegSpec] = {
    IntegId.HMAC_SHA1_96: IntegSpec(IntegId.HMAC_SHA1_96, "sha1", 20, 12),
    IntegId.HMAC_SHA2_256_128: IntegSpec(IntegId.HMAC_SHA2_256_128, "sha256", 32, 16),
    IntegId.HMAC_SHA2_384_192: IntegSpec(IntegId.HMAC_SHA2_384_192, "sha384", 48, 24),
    IntegId.HMAC_SHA2_512_256: IntegSpec(IntegId.HMAC_SHA2_512_256, "sha512", 64, 32),
}

SUPPORTED_DH: frozenset[int] = frozenset(
    {
        DhId.MODP_1024,
        DhId.MODP_2048,
        DhId.MODP_3072,
        DhId.ECP_256,
        DhId.ECP_384,
        DhId.ECP_521,
        DhId.CURVE25519,
    }
)
SUPPORTED_PRF: frozenset[int] = frozenset(_PRF)
SUPPORTED_INTEG: frozenset[int] = frozenset(_INTEG)
# Encryption transforms usable in an IKE SA, as (id, key bits).
SUPPORTED_IKE_ENCR: frozenset[tuple[int, int]] = frozenset(k for k, v in _ENCR.items() if v.ike)
# Encryption transforms whose ESP keymat size we know, as (id, key bits).
SUPPORTED_ESP_ENCR: frozenset[tuple[int, int]] = frozenset(_ENCR)


def encr_spec(encr_id: int, key_bits: int | None) -> EncrSpec:
    """Look up an ENCR transform; ``key_bits`` None/0 is accepted only for ChaCha20-Poly1305."""
    if encr_id == EncrId.CHACHA20_POLY1305 and not key_bits:
        return _CHACHA
    spec = _ENCR.get((encr_id, key_bits or 0))
    if spec is None:
        raise UnsupportedTransform(f"ENCR {encr_id} with {key_bits}-bit key")
    return spec


def prf_spec(prf_id: int) -> PrfSpec:
    spec = _PRF.get(prf_id)
    if spec is None:
        raise UnsupportedTransform(f"PRF {prf_id}")
    return spec


def integ_spec(integ_id: int) -> IntegSpec:
    spec = _INTEG.get(integ_id)
    if spec is None:
        raise UnsupportedTransform(f"INTEG {integ_id}")
    return spec


def is_aead(encr_id: int) -> bool:
    """True for combined-mode ciphers, which must be proposed without an INTEG transform."""
    return encr_id in (
        EncrId.AES_GCM_8,
        EncrId.AES_GCM_12,
        EncrId.AES_GCM_16,
        EncrId.CHACHA20_POLY1305,
    )


@dataclass(frozen=True, slots=True)
class IkeSuite:
    """The transforms negotiated for an IKE SA; validated on construction.

    ``integ`` is 0 (IntegId.NONE) for AEAD ciphers. ``encr_key_bits`` is 256 (or 0) for
    ChaCha20-Poly1305.
    """

    encr: int
    encr_key_bits: int
    prf: int
    integ: int
    dh: int

    def __post_init__(self) -> None:
        spec = encr_spec(self.encr, self.encr_key_bits)
        if not spec.ike:
            raise UnsupportedTransform(f"ENCR {self.encr} not supported for IKE")
        prf_spec(self.prf)
        if spec.aead:
            if self.integ != IntegId.NONE:
                raise UnsupportedTransform("AEAD cipher combined with an INTEG transform")
        else:
            integ_spec(self.integ)
        if self.dh not in SUPPORTED_DH:
            raise UnsupportedTransform(f"DH group {self.dh}")

    @property
    def encr_spec(self) -> EncrSpec:
        return encr_spec(self.encr, self.encr_key_bits)

    @property
    def prf_spec(self) -> PrfSpec:
        return _PRF[self.prf]

    @property
    def integ_spec(self) -> IntegSpec | None:
        return None if self.integ == IntegId.NONE else _INTEG[self.integ]

    @property
    def aead(self) -> bool:
        return self.encr_spec.aead

    @property
    def encr_keymat_len(self) -> int:
        """Length of SK_ei / SK_er (key plus salt for AEAD)."""
        return self.encr_spec.keymat_len

    @property
    def integ_key_len(self) -> int:
        """Length of SK_ai / SK_ar (0 for AEAD)."""
        integ = self.integ_spec
        return 0 if integ is None else integ.key_len


def esp_key_lengths(encr_id: int, key_bits: int | None, integ_id: int) -> tuple[int, int]:
    """(encryption keymat octets incl. salt, integrity key octets) for one ESP direction."""
    spec = encr_spec(encr_id, key_bits)
    if spec.aead:
        if integ_id != IntegId.NONE:
            raise UnsupportedTransform("AEAD cipher combined with an INTEG transform")
        return spec.keymat_len, 0
    return spec.keymat_len, integ_spec(integ_id).key_len


def child_keymat_length(encr_id: int, key_bits: int | None, integ_id: int) -> int:
    """Total KEYMAT to draw for an ESP Child SA: both directions (RFC 7296 §2.17)."""
    e, a = esp_key_lengths(encr_id, key_bits, integ_id)
    return 2 * (e + a)
