"""IKE SA and Child SA key derivation (RFC 7296 §2.14, §2.17, §2.18)."""

from __future__ import annotations

from dataclasses import dataclass

from .prf import prf, prf_plus
from .transforms import IkeSuite


@dataclass(frozen=True, slots=True)
class IkeSaKeys:
    sk_d: bytes
    sk_ai: bytes
    sk_ar: bytes
    sk_ei: bytes
    sk_er: bytes
    sk_pi: bytes
    sk_pr: bytes


@dataclass(frozen=True, slots=True)
class ChildSaKeys:
    """ESP keys: ``*_i`` protect initiator→responder traffic, ``*_r`` the reverse."""

    encr_i: bytes
    integ_i: bytes
    encr_r: bytes
    integ_r: bytes


def _split_ike_keys(suite: IkeSuite, skeyseed: bytes, seed: bytes) -> IkeSaKeys:
    p = suite.prf_spec.out_len
    a = suite.integ_key_len
    e = suite.encr_keymat_len
    km = prf_plus(suite.prf, skeyseed, seed, 3 * p + 2 * a + 2 * e)
    i = 0
    out = []
    for n in (p, a, a, e, e, p, p):
        out.append(km[i : i + n])
        i += n
    return IkeSaKeys(*out)


def compute_skeyseed(prf_id: int, ni: bytes, nr: bytes, shared: bytes) -> bytes:
    """SKEYSEED = prf(Ni | Nr, g^ir)."""
    return prf(prf_id, ni + nr, shared)


def derive_ike_keys(
    suite: IkeSuite, ni: bytes, nr: bytes, shared: bytes, spi_i: bytes, spi_r: bytes
) -> IkeSaKeys:
    """{SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr} = prf+(SKEYSEED, Ni|Nr|SPIi|SPIr).

    SK_e* include the 4-octet salt for AEAD ciphers; SK_a* are empty for AEAD.
    """
    skeyseed = compute_skeyseed(suite.prf, ni, nr, shared)
    return _split_ike_keys(suite, skeyseed, ni + nr + spi_i + spi_r)


def derive_rekeyed_ike_keys(
    suite: IkeSuite,
    old_prf_id: int,
    old_sk_d: bytes,
    shared: bytes,
    ni: bytes,
    nr: bytes,
    spi_i: bytes,
    spi_r: bytes,
) -> IkeSaKeys:
    """Keys of a new IKE SA from CREATE_CHILD_SA rekeying (§2.18):
    SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr), using the old SA's PRF."""
    skeyseed = prf(old_prf_id, old_sk_d, shared + ni + nr)
    return _split_ike_keys(suite, skeyseed, ni + nr + spi_i + spi_r)


def derive_child_keymat(
    prf_id: int, sk_d: bytes, ni: bytes, nr: bytes, length: int, shared: bytes = b""
) -> bytes:
    """KEYMAT = prf+(SK_d, [g^ir (new) |] Ni | Nr) (§2.17)."""
    return prf_plus(prf_id, sk_d, shared + ni + nr, length)


def split_child_keymat(keymat: bytes, encr_len: int, integ_len: int) -> ChildSaKeys:
    """Initiator→responder encryption then integrity key, then the responder→initiator pair."""
    e, a = encr_len, integ_len
    if len(keymat) < 2 * (e + a):
        raise ValueError("KEYMAT too short")
    return ChildSaKeys(
        keymat[:e], keymat[e : e + a], keymat[e + a : 2 * e + a], keymat[2 * e + a : 2 * (e + a)]
    )
