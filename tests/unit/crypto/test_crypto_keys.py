"""IKE SA / Child SA key derivation (ikeeap.crypto.keys), checked against an independent
implementation of the RFC 7296 §2.13/§2.14/§2.17/§2.18 definitions written with hmac.new."""

import hashlib
import hmac

import pytest

from ikeeap.crypto.keys import (
    derive_child_keymat,
    derive_ike_keys,
    derive_rekeyed_ike_keys,
    split_child_keymat,
)
from ikeeap.crypto.prf import prf_plus
from ikeeap.crypto.transforms import IkeSuite

NI, NR = bytes(range(32)), bytes(range(100, 132))
SPI_I, SPI_R = bytes.fromhex("0102030405060708"), bytes.fromhex("1112131415161718")
GIR = bytes(range(200, 256)) * 2


def ref_prf(hash_fn, key, data):
    return hmac.new(key, data, hash_fn).digest()


def ref_prf_plus(hash_fn, key, seed, length):
    out, t, n = b"", b"", 1
    while len(out) < length:
        t = ref_prf(hash_fn, key, t + seed + bytes([n]))
        out, n = out + t, n + 1
    return out[:length]


SUITES = [
    (IkeSuite(12, 128, 2, 2, 2), hashlib.sha1, 20, 20, 16),
    (IkeSuite(12, 256, 5, 12, 19), hashlib.sha256, 32, 32, 32),
    (IkeSuite(12, 192, 6, 13, 20), hashlib.sha384, 48, 48, 24),
    (IkeSuite(20, 128, 7, 0, 31), hashlib.sha512, 64, 0, 20),
    (IkeSuite(20, 256, 5, 0, 14), hashlib.sha256, 32, 0, 36),
    (IkeSuite(28, 256, 6, 0, 21), hashlib.sha384, 48, 0, 36),
]


@pytest.mark.parametrize("case", SUITES, ids=lambda c: str(c[0]) if isinstance(c, tuple) else "")
def test_derive_ike_keys(case):
    suite, h, p, a, e = case
    keys = derive_ike_keys(suite, NI, NR, GIR, SPI_I, SPI_R)
    skeyseed = ref_prf(h, NI + NR, GIR)
    km = ref_prf_plus(h, skeyseed, NI + NR + SPI_I + SPI_R, 3 * p + 2 * a + 2 * e)
    expect, i = [], 0
    for n in (p, a, a, e, e, p, p):
        expect.append(km[i : i + n])
        i += n
    got = [keys.sk_d, keys.sk_ai, keys.sk_ar, keys.sk_ei, keys.sk_er, keys.sk_pi, keys.sk_pr]
    assert got == expect


def test_rekeyed_ike_keys():
    old = derive_ike_keys(SUITES[1][0], NI, NR, GIR, SPI_I, SPI_R)
    new_suite = SUITES[3][0]
    ni2, nr2, g2 = b"\x01" * 16, b"\x02" * 16, b"\x03" * 32
    keys = derive_rekeyed_ike_keys(new_suite, 5, old.sk_d, g2, ni2, nr2, b"A" * 8, b"B" * 8)
    skeyseed = ref_prf(hashlib.sha256, old.sk_d, g2 + ni2 + nr2)
    km = ref_prf_plus(hashlib.sha512, skeyseed, ni2 + nr2 + b"A" * 8 + b"B" * 8, 64)
    assert keys.sk_d == km


def test_child_keymat_and_split():
    sk_d = bytes(range(32))
    km = derive_child_keymat(5, sk_d, NI, NR, 2 * (16 + 32))
    assert km == ref_prf_plus(hashlib.sha256, sk_d, NI + NR, 96)
    pfs = derive_child_keymat(5, sk_d, NI, NR, 40, shared=GIR)
    assert pfs == ref_prf_plus(hashlib.sha256, sk_d, GIR + NI + NR, 40)
    keys = split_child_keymat(km, 16, 32)
    assert (keys.encr_i, keys.integ_i, keys.encr_r, keys.integ_r) == (
        km[:16], km[16:48], km[48:64], km[64:96],
    )  # fmt: skip
    aead = split_child_keymat(km[:72], 36, 0)
    assert (aead.encr_i, aead.integ_i, aead.encr_r) == (km[:36], b"", km[36:72])
    with pytest.raises(ValueError):
        split_child_keymat(km[:10], 16, 32)


def test_prf_plus_limits():
    assert prf_plus(2, b"k", b"s", 0) == b""
    assert len(prf_plus(2, b"k", b"s", 255 * 20)) == 255 * 20
    with pytest.raises(ValueError):
        prf_plus(2, b"k", b"s", 255 * 20 + 1)
