"""AUTH payload computations (ikeeap.crypto.auth): shared-key AUTH, signed octets, and
signatures for methods 1, 9/10/11 (RFC 4754) and 14 (RFC 7427) checked by the verifier."""

import datetime
import hashlib
import hmac

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.x509.oid import NameOID

from ikeeap.crypto import certs
from ikeeap.crypto.auth import (
    SUPPORTED_HASH_ALGORITHMS,
    Signer,
    shared_key_auth,
    signature_hash_algorithm,
    signed_octets,
    verify_auth_signature,
    verify_shared_key_auth,
)

OCTETS = b"message 2" * 50 + b"Ni" * 16 + b"x" * 32


@pytest.fixture(scope="module")
def ca():
    return certs.generate_ca("Test CA", "ecdsa")


@pytest.fixture(scope="module")
def ees(ca):
    """End-entity certificates for each supported key type."""
    return {
        "rsa": certs.generate_server_cert(ca, "vpn.example.org", "rsa"),
        "p256": certs.generate_server_cert(ca, "vpn.example.org", "ecdsa"),
        "p384": certs.generate_server_cert(ca, "vpn.example.org", "ecdsa", curve="P-384"),
        "p521": certs.generate_server_cert(ca, "vpn.example.org", "ecdsa", curve="P-521"),
    }


def test_signed_octets():
    sk_p, id_body = b"k" * 32, b"\x02\x00\x00\x00vpn.example.org"
    mac = hmac.new(sk_p, id_body, hashlib.sha256).digest()
    assert signed_octets(b"MSG", b"NONCE", 5, sk_p, id_body) == b"MSGNONCE" + mac


def test_shared_key_auth():
    key, prf_key = b"secret psk", hmac.new(b"secret psk", b"Key Pad for IKEv2", "sha1").digest()
    expect = hmac.new(prf_key, OCTETS, "sha1").digest()
    assert shared_key_auth(2, key, OCTETS) == expect
    assert verify_shared_key_auth(2, key, OCTETS, expect)
    assert not verify_shared_key_auth(2, key, OCTETS, expect[:-1] + b"\0")
    assert not verify_shared_key_auth(2, b"other", OCTETS, expect)
    assert len(shared_key_auth(7, b"\0" * 64, OCTETS)) == 64  # e.g. an EAP MSK


CLASSIC = {"rsa": 1, "p256": 9, "p384": 10, "p521": 11}
PREFERRED_HASH = {"rsa": 2, "p256": 2, "p384": 3, "p521": 4}


@pytest.mark.parametrize("kind", list(CLASSIC))
def test_choose_method(ees, kind):
    s = Signer(ees[kind].key)
    assert s.choose_method(None) == CLASSIC[kind]
    assert s.choose_method(set()) == CLASSIC[kind]
    assert s.choose_method({1, 5}) == CLASSIC[kind]  # SHA-1 / Identity only
    assert s.choose_method({2, 3, 4}) == 14
    assert s.choose_hash({2, 3, 4}) == PREFERRED_HASH[kind]
    assert s.choose_hash({4}) == 4
    assert s.key_type == ("rsa" if kind == "rsa" else "ecdsa")


@pytest.mark.parametrize("kind", list(CLASSIC))
def test_classic_signatures(ees, kind):
    ee = ees[kind]
    s, method = Signer(ee.key), CLASSIC[kind]
    data = s.sign(method, OCTETS)
    if kind != "rsa":
        assert len(data) == 2 * {9: 32, 10: 48, 11: 66}[method]  # raw r ‖ s
    else:
        assert len(data) == 256
    assert verify_auth_signature(ee.der, method, OCTETS, data)
    assert not verify_auth_signature(ee.der, method, OCTETS + b"!", data)
    assert not verify_auth_signature(ee.der, 14, OCTETS, data)
    other = ees["p256" if kind != "p256" else "p384"]
    assert not verify_auth_signature(other.der, method, OCTETS, data)


@pytest.mark.parametrize("kind", list(CLASSIC))
@pytest.mark.parametrize("hash_alg", SUPPORTED_HASH_ALGORITHMS)
def test_rfc7427_signatures(ees, kind, hash_alg):
    ee = ees[kind]
    s = Signer(ee.key)
    data = s.sign(14, OCTETS, hash_alg)
    n = data[0]
    algid = data[1 : 1 + n]
    # The AlgorithmIdentifier is the same DER a certificate carries for that algorithm.
    assert algid[0] == 0x30 and algid[1] == n - 2
    assert verify_auth_signature(ee.der, 14, OCTETS, data)
    assert signature_hash_algorithm(data) == hash_alg
    assert not verify_auth_signature(ee.der, 14, OCTETS[:-1], data)
    assert not verify_auth_signature(ee.der, CLASSIC[kind], OCTETS, data)
    method, auth = s.authenticate(OCTETS, {hash_alg})
    assert method == 14 and verify_auth_signature(ee.der, method, OCTETS, auth)
    assert auth[: 1 + n] == data[: 1 + n]


def test_rfc7427_algorithm_ids_match_certificates(ca, ees):
    """Cross-check our DER AlgorithmIdentifier blobs against what cryptography writes into a
    certificate's signatureAlgorithm for the same key type and hash."""
    ec_cert = certs.cert_der(ees["p256"].cert)  # signed by the P-256 CA with SHA-256
    ec_auth = Signer(ca.key).sign(14, b"x", 2)
    assert ec_auth[1 : 1 + ec_auth[0]] in ec_cert
    rsa_ca = certs.generate_ca("RSA CA", "rsa")
    rsa_ee = certs.generate_server_cert(rsa_ca, "rsa.example.org", "ecdsa")
    rsa_auth = Signer(rsa_ca.key).sign(14, b"x", 2)
    assert rsa_auth[1 : 1 + rsa_auth[0]] == bytes.fromhex("300d06092a864886f70d01010b0500")
    assert rsa_auth[1 : 1 + rsa_auth[0]] in certs.cert_der(rsa_ee.cert)


def test_sign_rejects_wrong_method(ees):
    with pytest.raises(ValueError):
        Signer(ees["p256"].key).sign(10, OCTETS)  # ECDSA-384 method with a P-256 key
    with pytest.raises(ValueError):
        Signer(ees["p256"].key).sign(1, OCTETS)
    with pytest.raises(ValueError):
        Signer(ees["rsa"].key).sign(9, OCTETS)
    with pytest.raises(ValueError):
        Signer(ees["rsa"].key).sign(2, OCTETS)


def test_verify_garbage_is_false(ees):
    der = ees["rsa"].der
    for method, data in ((14, b""), (14, b"\x05abc"), (14, b"\xff"), (1, b""), (9, b"x" * 64)):
        assert not verify_auth_signature(der, method, OCTETS, data)
    assert not verify_auth_signature(b"not a cert", 1, OCTETS, b"sig")
    assert signature_hash_algorithm(b"") is None
    assert signature_hash_algorithm(b"\x03abc") is None
    assert not verify_auth_signature(ees["p256"].der, 9, OCTETS, b"\0" * 63)


# ---- what the verifier refuses, on signatures made here with cryptography directly ---------


def _cert_der(key) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "vpn.example.org")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(1)
            .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.DER)


RSA_SHA256_ALGID = bytes.fromhex("300d06092a864886f70d01010b0500")
ECDSA_SHA256_ALGID = bytes.fromhex("300a06082a8648ce3d040302")


def _method14(algid: bytes, signature: bytes) -> bytes:
    return bytes([len(algid)]) + algid + signature


def test_a_curve_we_do_not_support_is_refused_even_with_a_valid_signature():
    key = ec.generate_private_key(ec.SECP224R1())
    signature = key.sign(OCTETS, ec.ECDSA(hashes.SHA256()))
    der = _cert_der(key)
    assert not verify_auth_signature(der, 14, OCTETS, _method14(ECDSA_SHA256_ALGID, signature))
    with pytest.raises(ValueError, match="unsupported curve"):
        Signer(key)


def test_method_14_algorithm_must_match_the_certificate_key(ees):
    ec_key = ec.generate_private_key(ec.SECP256R1())
    ec_sig = ec_key.sign(OCTETS, ec.ECDSA(hashes.SHA256()))
    ec_der = _cert_der(ec_key)
    assert verify_auth_signature(ec_der, 14, OCTETS, _method14(ECDSA_SHA256_ALGID, ec_sig))
    assert not verify_auth_signature(ec_der, 14, OCTETS, _method14(RSA_SHA256_ALGID, ec_sig))
    rsa_key = ees["rsa"].key
    rsa_sig = rsa_key.sign(OCTETS, padding.PKCS1v15(), hashes.SHA256())
    rsa_der = ees["rsa"].der
    assert verify_auth_signature(rsa_der, 14, OCTETS, _method14(RSA_SHA256_ALGID, rsa_sig))
    assert not verify_auth_signature(rsa_der, 14, OCTETS, _method14(ECDSA_SHA256_ALGID, rsa_sig))


def test_classic_methods_must_match_the_certificate_key(ees):
    rsa_sha1 = ees["rsa"].key.sign(OCTETS, padding.PKCS1v15(), hashes.SHA1())
    assert verify_auth_signature(ees["rsa"].der, 1, OCTETS, rsa_sha1)
    for method in (9, 10, 11, 2, 3):  # ECDSA methods, shared key, DSS: not with an RSA key
        assert not verify_auth_signature(ees["rsa"].der, method, OCTETS, rsa_sha1)
    ec_sha1 = ees["p256"].key.sign(OCTETS, ec.ECDSA(hashes.SHA1()))  # DER, as method 1 is
    assert not verify_auth_signature(ees["p256"].der, 1, OCTETS, ec_sha1)


def test_classic_ecdsa_signature_is_exactly_r_and_s_of_the_curve_length(ees):
    signature = Signer(ees["p256"].key).sign(9, OCTETS)
    assert verify_auth_signature(ees["p256"].der, 9, OCTETS, signature)
    r, s = signature[:32], signature[32:]
    for padded in (r + b"\x00" + s, b"\x00" + r + s, signature + b"\x00"):
        assert not verify_auth_signature(ees["p256"].der, 9, OCTETS, padded)
