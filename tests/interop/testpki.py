"""Throw-away X.509 material for interop tests (a CA, server and client certificates).

Only ``cryptography`` is used, no subprocesses, so this module is usable from tests and bench/.
Keys are written unencrypted as PKCS#8 PEM, which both strongSwan (``swanctl/private``) and
FreeRADIUS read.
"""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["CertFiles", "TestPki"]


@dataclass(frozen=True)
class CertFiles:
    """Paths of one PEM certificate and its PEM (PKCS#8) private key."""

    cert: Path
    key: Path
    subject: str  # e.g. "CN=vpn.example.test"


def _new_key(kind: str):
    if kind == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if kind == "ecdsa":
        return ec.generate_private_key(ec.SECP256R1())
    raise ValueError(f"unknown key type {kind!r}")


def _write_key(key, path: Path) -> None:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)


def _san(names: list[str]) -> list[x509.GeneralName]:
    out: list[x509.GeneralName] = []
    for n in names:
        try:
            out.append(x509.IPAddress(ipaddress.ip_address(n)))
        except ValueError:
            if "@" in n:
                out.append(x509.RFC822Name(n))
            else:
                out.append(x509.DNSName(n))
    return out


class TestPki:
    """A CA in ``directory`` that issues end-entity certificates on demand.

    >>> pki = TestPki(tmp_path)                                   # writes ca.pem / ca.key
    >>> srv = pki.issue("vpn.example.test", sans=["vpn.example.test", "192.0.2.1"])
    >>> srv.cert, srv.key                                          # PEM paths
    """

    __test__ = False  # not a pytest test class

    def __init__(self, directory: Path | str, *, ca_cn: str = "ikeeap Test CA",
                 key_type: str = "rsa") -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._key_type = key_type
        self._ca_key = _new_key(key_type)
        now = datetime.datetime.now(datetime.UTC)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, ca_cn)])
        self._ca_name = name
        self._ca_cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self._ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True, content_commitment=False, key_encipherment=False,
                    data_encipherment=False, key_agreement=False, key_cert_sign=True,
                    crl_sign=True, encipher_only=False, decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(self._ca_key.public_key()),
                critical=False,
            )
            .sign(self._ca_key, hashes.SHA256())
        )
        self.ca_cert_path = self.directory / "ca.pem"
        self.ca_key_path = self.directory / "ca.key"
        self.ca_cert_path.write_bytes(self._ca_cert.public_bytes(serialization.Encoding.PEM))
        _write_key(self._ca_key, self.ca_key_path)
        self.ca_subject = f"CN={ca_cn}"

    def issue(self, cn: str, *, sans: list[str] | None = None, server: bool = True,
              client: bool = True, key_type: str | None = None,
              filename: str | None = None, days: int = 365) -> CertFiles:
        """Issue an end-entity certificate; SANs default to ``[cn]``.

        SAN entries that parse as IP addresses become iPAddress, ones containing '@' become
        rfc822Name, the rest dNSName. Both serverAuth and clientAuth EKUs by default.
        """
        key = _new_key(key_type or self._key_type)
        now = datetime.datetime.now(datetime.UTC)
        ekus = []
        if server:
            ekus.append(ExtendedKeyUsageOID.SERVER_AUTH)
        if client:
            ekus.append(ExtendedKeyUsageOID.CLIENT_AUTH)
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
            .issuer_name(self._ca_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.SubjectAlternativeName(_san(sans or [cn])), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self._ca_key.public_key()),
                critical=False,
            )
        )
        if ekus:
            builder = builder.add_extension(x509.ExtendedKeyUsage(ekus), critical=False)
        cert = builder.sign(self._ca_key, hashes.SHA256())
        stem = filename or cn.replace("/", "_").replace("@", "_at_")
        cert_path = self.directory / f"{stem}.pem"
        key_path = self.directory / f"{stem}.key"
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        _write_key(key, key_path)
        return CertFiles(cert=cert_path, key=key_path, subject=f"CN={cn}")
