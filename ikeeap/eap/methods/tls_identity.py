"""Does an EAP-TLS client certificate name the EAP identity?  (RFC 5216 §5.2, RFC 9190 §5.2)

The TLS handshake proves possession of a certificate issued by the configured CA; this
check binds that certificate to the identity the login is authorised as (the EAP identity,
which the IKE layer reports and the pool/accounting use).  Rules:

- ``"san"``: a subjectAltName rfc822Name or dNSName equals the identity.  dNSNames and the
  domain part of rfc822Names compare case-insensitively (they are DNS names); the local part
  of an rfc822Name compares exactly (RFC 5321 §2.4).  No wildcards.
- ``"cn"``: a subject commonName equals the identity exactly.
- ``"none"``: any certificate from the CA is accepted for any identity.
"""

from __future__ import annotations

from typing import Any

from cryptography import x509
from cryptography.x509.oid import NameOID

IDENTITY_RULES = ("san", "cn", "none")


def identity_problem(cert: Any, identity: bytes, rule: str) -> str | None:
    """None if ``cert`` (cryptography x509) names ``identity`` under ``rule``, else why not.

    Never raises: a certificate whose extensions do not parse simply matches nothing."""
    if rule == "none":
        return None
    try:
        name = identity.decode("utf-8")
    except UnicodeDecodeError:
        return "EAP identity is not UTF-8"
    if not name:
        return "empty EAP identity"
    if rule == "san":
        emails, dns_names = _san_values(cert)
        if any(_email_matches(e, name) for e in emails) or (
                "@" not in name and name.lower() in (d.lower() for d in dns_names)):
            return None
        return f"no subjectAltName rfc822Name/dNSName of the certificate equals {name!r}"
    if rule == "cn":
        if name in _common_names(cert):
            return None
        return f"certificate subject CN does not equal {name!r}"
    return f"unknown identity_check rule {rule!r}"


def certificate_names(cert: Any) -> str:
    """Subject and SANs for logs (public data, no secrets)."""
    try:
        subject = cert.subject.rfc4514_string()
    except (ValueError, AttributeError):
        subject = "?"
    emails, dns_names = _san_values(cert)
    sans = ",".join([*emails, *dns_names]) or "-"
    return f"subject {subject!r}, SAN {sans}"


def _san_values(cert: Any) -> tuple[list[str], list[str]]:
    """(rfc822Names, dNSNames) of the subjectAltName extension."""
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        return ext.get_values_for_type(x509.RFC822Name), ext.get_values_for_type(x509.DNSName)
    except (x509.ExtensionNotFound, x509.DuplicateExtension, x509.UnsupportedGeneralNameType,
            ValueError, AttributeError):  # the two cryptography errors are no ValueErrors
        return [], []


def _common_names(cert: Any) -> list[str]:
    try:
        return [str(a.value) for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    except (ValueError, AttributeError):
        return []


def _email_matches(value: str, identity: str) -> bool:
    """rfc822Name vs identity: exact local part, case-insensitive (DNS) domain."""
    local, at, domain = value.rpartition("@")
    id_local, id_at, id_domain = identity.rpartition("@")
    return bool(at and id_at) and local == id_local and domain.lower() == id_domain.lower()
