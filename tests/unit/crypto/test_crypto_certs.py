"""Certificate generation and PEM/DER helpers (ikeeap.crypto.certs)."""

import hashlib
import stat

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from ikeeap.crypto import certs
from ikeeap.crypto.key_files import write_private_file


@pytest.fixture(scope="module", params=["rsa", "ecdsa"])
def chain(request):
    ca = certs.generate_ca("ikeeap test CA", request.param)
    ee = certs.generate_server_cert(ca, "vpn.example.org", request.param)
    return ca, ee


def test_chain(chain):
    ca, ee = chain
    assert certs.verify_issued_by(ee.cert, ca.cert)
    assert certs.verify_issued_by(ca.cert, ca.cert)
    assert not certs.verify_issued_by(ca.cert, ee.cert)
    other = certs.generate_ca("other CA", "ecdsa")
    assert not certs.verify_issued_by(ee.cert, other.cert)
    bc = ca.cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    assert bc.ca
    assert not ee.cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca


def test_server_extensions(chain):
    _, ee = chain
    assert certs.subject_alt_names(ee.cert) == ["vpn.example.org"]
    eku = ee.cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.SERVER_AUTH in eku
    assert certs.ID_KP_IPSEC_IKE in eku
    ku = ee.cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert ku.digital_signature
    assert certs.key_matches_cert(ee.key, ee.cert)
    assert not certs.key_matches_cert(ee.key, chain[0].cert)


def test_identity_kinds():
    ca = certs.generate_ca("CA", "ecdsa")
    ip = certs.generate_server_cert(ca, "192.0.2.1", client_auth=True)
    assert certs.subject_alt_names(ip.cert) == ["192.0.2.1"]
    san = ip.cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.IPAddress)
    eku = ip.cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.CLIENT_AUTH in eku
    mail = certs.generate_server_cert(ca, "user@example.org")
    assert certs.subject_alt_names(mail.cert) == ["user@example.org"]
    assert certs.subject_alt_names(ca.cert) == []


def test_key_types():
    assert certs.public_key_type(certs.generate_key("ecdsa", curve="P-384")) == "ecdsa"
    with pytest.raises(ValueError):
        certs.generate_key("dsa")


def test_pem_round_trip(tmp_path, chain):
    ca, ee = chain
    cert_path, key_path = tmp_path / "ee.pem", tmp_path / "ee.key"
    certs.save_pem(ee, cert_path, key_path)
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    loaded = certs.load_certificate(cert_path)
    assert certs.cert_der(loaded) == ee.der
    key = certs.load_private_key(key_path)
    assert certs.key_matches_cert(key, loaded)
    assert certs.public_key_type(loaded) == certs.public_key_type(key)
    assert certs.public_key_type(key.public_key()) == certs.public_key_type(ca.key)
    der_path = tmp_path / "ee.der"
    der_path.write_bytes(ee.der)
    assert certs.load_certificate(der_path) == loaded
    enc = tmp_path / "enc.key"
    write_private_file(enc, certs.key_pem(ee.key, b"pw"))
    assert certs.key_matches_cert(certs.load_private_key(enc, b"pw"), loaded)
    with pytest.raises((TypeError, ValueError)):
        certs.load_private_key(enc)
    with pytest.raises(ValueError):
        certs.load_certificate_bytes(b"garbage")


def test_certreq_hash_and_subject(chain):
    ca, _ = chain
    h = certs.certreq_hash(ca.cert)
    assert len(h) == 20
    # The hash input is the SubjectPublicKeyInfo exactly as it sits inside the certificate.
    der = certs.cert_der(ca.cert)
    spki = _find_spki(der)
    assert hashlib.sha1(spki).digest() == h
    assert certs.subject_der(ca.cert) in der


def _tlv(data: bytes, pos: int) -> tuple[int, int]:
    """(start of content, end of element) of the DER element at ``pos``."""
    n = data[pos + 1]
    if n < 0x80:
        return pos + 2, pos + 2 + n
    k = n & 0x7F
    length = int.from_bytes(data[pos + 2 : pos + 2 + k], "big")
    return pos + 2 + k, pos + 2 + k + length


def _find_spki(cert: bytes) -> bytes:
    """Walk Certificate → TBSCertificate → [version, serial, sig, issuer, validity, subject,
    subjectPublicKeyInfo] with a minimal DER reader independent of cryptography."""
    tbs_start, _ = _tlv(cert, 0)
    pos, _ = _tlv(cert, tbs_start)
    for _ in range(6):  # skip version [0], serial, signature, issuer, validity, subject
        _, pos = _tlv(cert, pos)
    _, end = _tlv(cert, pos)
    return cert[pos:end]
