"""Pure-integer NIST prime-curve arithmetic (used by EAP-pwd) agrees with OpenSSL and rejects
invalid encodings."""

from __future__ import annotations

import secrets

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from ikeeap.crypto.ecc_prime import CURVES, P256, curve_for_group

OPENSSL = {19: ec.SECP256R1(), 20: ec.SECP384R1(), 21: ec.SECP521R1()}


@pytest.mark.parametrize("group", [19, 20, 21])
def test_scalar_multiplication_matches_openssl_public_keys(group):
    curve = CURVES[group]
    for k in (1, 2, curve.order - 1, secrets.randbelow(curve.order - 1) + 1):
        numbers = ec.derive_private_key(k, OPENSSL[group]).public_key().public_numbers()
        assert curve.multiply(k, curve.g) == (numbers.x, numbers.y)


@pytest.mark.parametrize("group", [19, 20, 21])
def test_group_laws_order_negation_and_addition(group):
    curve = CURVES[group]
    a, b = secrets.randbelow(curve.order), secrets.randbelow(curve.order)
    assert curve.multiply(curve.order, curve.g) is None
    assert curve.add(curve.g, curve.negate(curve.g)) is None
    assert curve.add(curve.multiply(a, curve.g), curve.multiply(b, curve.g)) == \
        curve.multiply(a + b, curve.g)
    assert curve.add(curve.g, curve.g) == curve.multiply(2, curve.g)
    assert curve.add(None, curve.g) == curve.g


@pytest.mark.parametrize("group", [19, 20, 21])
def test_encoding_round_trip_and_sqrt(group):
    curve = CURVES[group]
    point = curve.multiply(secrets.randbelow(curve.order - 1) + 1, curve.g)
    assert curve.decode_point(curve.encode_point(point)) == point
    y = curve.sqrt(curve.y_squared(point[0]))
    assert y in (point[1], curve.p - point[1])
    assert curve.is_square_blinded(curve.y_squared(point[0]))


def test_decode_rejects_off_curve_out_of_range_and_wrong_length():
    x, y = P256.g
    assert P256.decode_point(P256.encode_point((x, y + 1))) is None
    assert P256.decode_point(bytes(64)) is None
    assert P256.decode_point(b"\xff" * 64) is None
    assert P256.decode_point(P256.encode_point(P256.g)[:-1]) is None
    assert not P256.is_on_curve((x + P256.p, y))
    assert not P256.is_on_curve(None)
    with pytest.raises(ValueError):
        P256.encode_point(None)


def test_non_residue_is_detected_and_unknown_group_has_no_curve():
    non_residue = next(v for v in range(2, 100) if P256.sqrt(v) is None)
    assert not P256.is_square_blinded(non_residue)
    assert curve_for_group(14) is None and curve_for_group(19) is P256
