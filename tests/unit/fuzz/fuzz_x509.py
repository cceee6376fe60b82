"""X.509 helpers for the certificate fuzz targets: DER framing, re-signing a (mutated)
TBSCertificate with the lab CA, and client certificates carrying arbitrary extensions
(repeated ones too: cryptography's builder refuses those, so they are added under
placeholder OIDs of the same size and renamed in the TBS octets before signing)."""

from __future__ import annotations

import datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

from fuzz_methods import TLS_USER, lab

ECDSA_SHA256 = bytes.fromhex("300a06082a8648ce3d040302")  # AlgorithmIdentifier


def _der_length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    octets = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(octets)]) + octets


def _tlv(tag: int, content: bytes) -> bytes:
    return bytes([tag]) + _der_length(len(content)) + content


def first_element(der: bytes) -> bytes:
    """The first element inside the outer SEQUENCE (a certificate's TBSCertificate)."""
    def header(pos: int) -> tuple[int, int]:
        first = der[pos + 1]
        if first < 0x80:
            return pos + 2, first
        count = first & 0x7F
        return pos + 2 + count, int.from_bytes(der[pos + 2:pos + 2 + count], "big")
    inner, _ = header(0)
    start, length = header(inner)
    return der[inner:start + length]


def signed_by_ca(tbs: bytes) -> bytes:
    """A certificate with TBS octets ``tbs``, signed by the lab CA (whatever ``tbs`` says)."""
    signature = lab().ca.key.sign(tbs, ec.ECDSA(hashes.SHA256()))
    return _tlv(0x30, tbs + ECDSA_SHA256 + _tlv(0x03, b"\x00" + signature))


EXTENSION_VALUES = {  # 2.5.29.<n>: a genuine value to mutate
    14: x509.SubjectKeyIdentifier(b"\x01" * 20),
    15: x509.KeyUsage(True, False, False, False, False, False, False, False, False),
    17: x509.SubjectAlternativeName([x509.RFC822Name(TLS_USER), x509.DNSName("vpn.example.org"),
                                     x509.UniformResourceIdentifier("https://example.test/")]),
    18: x509.IssuerAlternativeName([x509.DNSName("ca.example.test")]),
    19: x509.BasicConstraints(ca=False, path_length=None),
    37: x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]),
}
PLACEHOLDER = 100  # 2.5.29.100+i: same DER size as 2.5.29.<n < 128>, patched afterwards


def fuzzed_client_certificate(key: ec.EllipticCurvePrivateKey, cn: str,
                              extensions: list[tuple[int, bool, bytes]]) -> bytes:
    """DER of a certificate for ``key`` named ``cn``, signed by the lab CA, with the
    extensions (2.5.29.<n>, critical, DER value) in that order, repeats included."""
    now = datetime.datetime.now(datetime.UTC)
    builder = (x509.CertificateBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
               .issuer_name(lab().ca.cert.subject).public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5))
               .not_valid_after(now + datetime.timedelta(days=1)))
    for i, (_n, critical, value) in enumerate(extensions):
        oid = ObjectIdentifier(f"2.5.29.{PLACEHOLDER + i}")
        builder = builder.add_extension(x509.UnrecognizedExtension(oid, value), critical)
    tbs = builder.sign(lab().ca.key, hashes.SHA256()).tbs_certificate_bytes
    for i, (n, _critical, _value) in enumerate(extensions):
        placeholder = bytes([0x06, 0x03, 0x55, 0x1D, PLACEHOLDER + i])
        tbs = tbs.replace(placeholder, bytes([0x06, 0x03, 0x55, 0x1D, n]), 1)
    return signed_by_ca(tbs)
