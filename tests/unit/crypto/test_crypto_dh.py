"""Key exchange behaviour and peer-value validation (ikeeap.crypto.dh)."""

import random

import pytest

from ikeeap.crypto.dh import MODP_PRIMES, InvalidKeyExchange, new_dh, public_length
from ikeeap.crypto.transforms import SUPPORTED_DH, UnsupportedTransform

LENGTHS = {2: 128, 14: 256, 15: 384, 19: 64, 20: 96, 21: 132, 31: 32}


@pytest.mark.parametrize("group", sorted(SUPPORTED_DH))
def test_agreement(group):
    a, b = new_dh(group), new_dh(group)
    assert a.group == group
    assert len(a.public) == public_length(group) == LENGTHS[group]
    shared = a.compute(b.public)
    assert shared == b.compute(a.public)
    assert len(shared) == {19: 32, 20: 48, 21: 66}.get(group, LENGTHS[group])
    assert a.public != b.public


def _probable_prime(n: int, rounds: int = 4) -> bool:
    d, s = n - 1, 0
    while d % 2 == 0:
        d, s = d // 2, s + 1
    rng = random.Random(n)
    for _ in range(rounds):
        x = pow(rng.randrange(2, n - 2), d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


@pytest.mark.parametrize("group", sorted(MODP_PRIMES))
def test_modp_primes_are_safe_primes(group):
    """RFC 2409/3526 primes: 64 one-bits at both ends, p and (p-1)/2 prime."""
    p = MODP_PRIMES[group]
    bits = p.bit_length()
    assert bits == {2: 1024, 14: 2048, 15: 3072}[group]
    assert p >> (bits - 64) == 2**64 - 1 and p & (2**64 - 1) == 2**64 - 1
    assert _probable_prime(p) and _probable_prime((p - 1) // 2)


@pytest.mark.parametrize("group", sorted(MODP_PRIMES))
def test_modp_rejects_bad_publics(group):
    p, n = MODP_PRIMES[group], public_length(group)
    dh = new_dh(group)
    for y in (0, 1, p - 1, p, p + 1, 2 ** (8 * n) - 1):
        with pytest.raises(InvalidKeyExchange):
            dh.compute(y.to_bytes(n, "big"))
    other = new_dh(group).public
    for data in (other[1:], b"\0" + other, b""):
        with pytest.raises(InvalidKeyExchange):
            dh.compute(data)


def test_modp_shared_secret_is_padded():
    """g^ir keeps the modulus length when its top octet is zero (RFC 7296 §2.14)."""
    p, xa = MODP_PRIMES[2], 0x1234567
    xb = next(x for x in range(2, 1 << 20) if pow(2, xa * x, p) < 1 << (8 * 127))
    a, b = new_dh(2, xa.to_bytes(4, "big")), new_dh(2, xb.to_bytes(4, "big"))
    shared = a.compute(b.public)
    assert len(shared) == 128 and shared[0] == 0
    assert shared == b.compute(a.public) == pow(2, xa * xb, p).to_bytes(128, "big")


@pytest.mark.parametrize("group", [19, 20, 21])
def test_ecp_rejects_bad_points(group):
    n = public_length(group)
    dh = new_dh(group)
    good = new_dh(group).public
    off_curve = good[:-1] + bytes([good[-1] ^ 1])
    for data in (off_curve, bytes(n), b"\x04" + good, good[:-1], good + b"\0", b"\xaa" * n):
        with pytest.raises(InvalidKeyExchange):
            dh.compute(data)


def test_x25519_rejects_small_order_and_bad_length():
    dh = new_dh(31)
    # u = 0 and u = 1 are small-order points: the shared secret would be all zero.
    for u in (bytes(32), (1).to_bytes(32, "little")):
        with pytest.raises(InvalidKeyExchange):
            dh.compute(u)
    for data in (b"", bytes(31), new_dh(31).public + b"\0"):
        with pytest.raises(InvalidKeyExchange):
            dh.compute(data)


def test_unsupported_group():
    with pytest.raises(UnsupportedTransform):
        new_dh(5)
    with pytest.raises(UnsupportedTransform):
        public_length(1)
