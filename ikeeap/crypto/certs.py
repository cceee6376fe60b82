"""X.509 helpers: a test/self-hosted CA, server certificates, PEM I/O and CERTREQ hashes.

Other packages get certificates and keys as opaque objects from here and hand them back to
``ikeeap.crypto`` functions; they never import cryptography themselves.
"""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

from .key_files import check_private_file, write_private_file

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey
Certificate = x509.Certificate

ID_KP_IPSEC_IKE = ObjectIdentifier("1.3.6.1.5.5.7.3.17")  # RFC 4945 §5.1.3.12
IKE_INTERMEDIATE = ObjectIdentifier("1.3.6.1.5.5.8.2.2")  # required by Windows clients

_CURVES = {"P-256": ec.SECP256R1, "P-384": ec.SECP384R1, "P-521": ec.SECP521R1}


@dataclass(frozen=True)
class CertKey:
    """A certificate with its private key."""

    cert: Certificate
    key: PrivateKey

    @property
    def der(self) -> bytes:
        return cert_der(self.cert)


def generate_key(
    key_type: str = "ecdsa", *, rsa_bits: int = 2048, curve: str = "P-256"
) -> PrivateKey:
    """A new private key: ``key_type`` 'rsa' or 'ecdsa' (curve 'P-256', 'P-384', 'P-521')."""
    if key_type == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=rsa_bits)
    if key_type == "ecdsa" and curve in _CURVES:
        return ec.generate_private_key(_CURVES[curve]())
    raise ValueError(f"unknown key type {key_type!r} / curve {curve!r}")


def _sign_hash(key: PrivateKey) -> hashes.HashAlgorithm:
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.key_size > 256:
        return hashes.SHA384() if key.curve.key_size <= 384 else hashes.SHA512()
    return hashes.SHA256()


def _builder(
    subject: x509.Name, issuer: x509.Name, pub: PublicKey, days: int
) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(pub)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(pub), critical=False)
    )


def generate_ca(
    common_name: str,
    key_type: str = "ecdsa",
    *,
    days: int = 3650,
    rsa_bits: int = 2048,
    curve: str = "P-256",
) -> CertKey:
    """A self-signed CA certificate and key."""
    key = generate_key(key_type, rsa_bits=rsa_bits, curve=curve)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    usage = x509.KeyUsage(
        digital_signature=True, content_commitment=False, key_encipherment=False,
        data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
        encipher_only=False, decipher_only=False,
    )  # fmt: skip
    cert = (
        _builder(name, name, key.public_key(), days)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .sign(key, _sign_hash(key))
    )
    return CertKey(cert, key)


def _general_name(identity: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(identity))
    except ValueError:
        pass
    if "@" in identity:
        return x509.RFC822Name(identity)
    return x509.DNSName(identity)


def generate_server_cert(
    ca: CertKey,
    identity: str,
    key_type: str = "ecdsa",
    *,
    common_name: str | None = None,
    days: int = 825,
    client_auth: bool = False,
    rsa_bits: int = 2048,
    curve: str = "P-256",
) -> CertKey:
    """An end-entity certificate issued by ``ca`` with ``identity`` (DNS name, IP address or
    e-mail) as subjectAltName and EKU serverAuth, id-kp-ipsecIKE and IKE-intermediate."""
    key = generate_key(key_type, rsa_bits=rsa_bits, curve=curve)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name or identity)])
    usage = x509.KeyUsage(
        digital_signature=True, content_commitment=False, key_encipherment=key_type == "rsa",
        data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
        encipher_only=False, decipher_only=False,
    )  # fmt: skip
    ekus = [ExtendedKeyUsageOID.SERVER_AUTH, ID_KP_IPSEC_IKE, IKE_INTERMEDIATE]
    if client_auth:
        ekus.append(ExtendedKeyUsageOID.CLIENT_AUTH)
    ca_ski = ca.cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    cert = (
        _builder(subject, ca.cert.subject, key.public_key(), days)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(x509.ExtendedKeyUsage(ekus), critical=False)
        .add_extension(x509.SubjectAlternativeName([_general_name(identity)]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False
        )
        .sign(ca.key, _sign_hash(ca.key))
    )
    return CertKey(cert, key)


def cert_der(cert: Certificate) -> bytes:
    """DER encoding (the CERT payload's data for encoding 4)."""
    return cert.public_bytes(serialization.Encoding.DER)


def cert_pem(cert: Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def key_pem(key: PrivateKey, password: bytes | None = None) -> bytes:
    """PKCS#8 PEM, encrypted if ``password`` is given."""
    enc: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, enc)


def save_pem(cert_key: CertKey, cert_path: str | Path, key_path: str | Path | None = None) -> None:
    """Write the certificate (and the key, mode 0600) as PEM files."""
    Path(cert_path).write_bytes(cert_pem(cert_key.cert))
    if key_path is not None:
        write_private_file(key_path, key_pem(cert_key.key))


def load_certificate_bytes(data: bytes) -> Certificate:
    """Parse a PEM or DER certificate; raises ValueError if it is neither."""
    try:
        if b"-----BEGIN" in data:
            return x509.load_pem_x509_certificate(data)
        return x509.load_der_x509_certificate(data)
    except x509.InvalidVersion as exc:  # not a ValueError
        raise ValueError(f"unsupported certificate: {exc}") from None


def load_certificate(path: str | Path) -> Certificate:
    return load_certificate_bytes(Path(path).read_bytes())


def load_private_key(path: str | Path, password: bytes | None = None) -> PrivateKey:
    """Load a PEM (or DER) RSA or EC private key; KeyFileError if others can read it."""
    check_private_file(path)
    return load_private_key_bytes(Path(path).read_bytes(), password)


def load_private_key_bytes(data: bytes, password: bytes | None = None) -> PrivateKey:
    """Parse a PEM (or DER) RSA or EC private key."""
    if b"-----BEGIN" in data:
        key = serialization.load_pem_private_key(data, password)
    else:
        key = serialization.load_der_private_key(data, password)
    if not isinstance(key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)):
        raise ValueError(f"unsupported private key type {type(key).__name__}")  # noqa: TRY004
    return key


def public_key_type(obj: Certificate | PrivateKey | PublicKey) -> str:
    """'rsa' or 'ecdsa' for a certificate, private key or public key."""
    key = (
        obj.public_key()
        if isinstance(obj, (x509.Certificate, rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey))
        else obj
    )
    if isinstance(key, rsa.RSAPublicKey):
        return "rsa"
    if isinstance(key, ec.EllipticCurvePublicKey):
        return "ecdsa"
    raise ValueError(f"unsupported key type {type(key).__name__}")


def key_matches_cert(key: PrivateKey, cert: Certificate) -> bool:
    """True if ``key`` is the private half of the certificate's public key."""
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    der = serialization.Encoding.DER
    return key.public_key().public_bytes(der, spki) == cert.public_key().public_bytes(der, spki)


def certreq_hash(ca_cert: Certificate) -> bytes:
    """SHA-1 of the CA's SubjectPublicKeyInfo DER (a CERTREQ entry, RFC 7296 §3.7)."""
    spki = ca_cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha1(spki).digest()


def subject_der(cert: Certificate) -> bytes:
    """The subject Name DER (ID payload data for ID_DER_ASN1_DN)."""
    return cert.subject.public_bytes()


def subject_alt_names(cert: Certificate) -> list[str]:
    """DNS names, IP addresses and e-mail addresses in the subjectAltName extension."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    names: list[str] = [*san.get_values_for_type(x509.DNSName)]
    names += [str(ip) for ip in san.get_values_for_type(x509.IPAddress)]
    names += san.get_values_for_type(x509.RFC822Name)
    return names


def verify_issued_by(cert: Certificate, issuer: Certificate) -> bool:
    """True if ``cert`` names ``issuer`` and carries a valid signature by its key."""
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True
