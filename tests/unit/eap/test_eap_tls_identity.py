"""EAP-TLS certificate-to-identity rules (ikeeap.eap.methods.tls_identity): SAN rfc822Name /
dNSName matching with DNS case rules, subject CN, "none", and certificates without SANs."""

from __future__ import annotations

import datetime
import ipaddress

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ikeeap.eap.methods.tls_identity import certificate_names, identity_problem

_KEY = ec.generate_private_key(ec.SECP256R1())


def _cert(cn: str, sans: list[x509.GeneralName] | None) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
               .public_key(_KEY.public_key()).serial_number(1)
               .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1)))
    if sans is not None:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return builder.sign(_KEY, hashes.SHA256())


MULTI = _cert("Carol", [x509.DNSName("host1.example.test"), x509.RFC822Name("carol@Example.TEST"),
                        x509.IPAddress(ipaddress.ip_address("192.0.2.7"))])
NO_SAN = _cert("carol@example.test", None)


@pytest.mark.parametrize(("identity", "ok"), [
    (b"carol@example.test", True),      # rfc822Name, domain case-insensitive
    (b"Carol@example.test", False),     # the local part is exact
    (b"HOST1.example.test", True),      # dNSName, case-insensitive
    (b"host2.example.test", False),
    (b"192.0.2.7", False),              # iPAddress SANs are not identities here
    (b"Carol", False),                  # the CN is not consulted by "san"
    (b"carol@host1.example.test", False),
])
def test_san_rule(identity, ok):
    assert (identity_problem(MULTI, identity, "san") is None) is ok


def test_san_rule_without_san_extension_matches_nothing():
    assert "no subjectAltName" in identity_problem(NO_SAN, b"carol@example.test", "san")


def test_cn_rule_is_exact():
    assert identity_problem(MULTI, b"Carol", "cn") is None
    assert identity_problem(MULTI, b"carol", "cn") is not None
    assert identity_problem(NO_SAN, b"carol@example.test", "cn") is None


def test_none_rule_accepts_any_identity():
    assert identity_problem(NO_SAN, b"\xff\xfe", "none") is None


@pytest.mark.parametrize(("identity", "reason"), [
    (b"\xff\xfe", "not UTF-8"), (b"", "empty EAP identity")])
def test_unusable_identities_are_refused(identity, reason):
    assert reason in identity_problem(MULTI, identity, "san")


def test_unknown_rule_is_a_refusal_not_an_exception():
    assert "unknown identity_check" in identity_problem(MULTI, b"Carol", "regex")


def test_certificate_names_for_logs():
    text = certificate_names(MULTI)
    assert "CN=Carol" in text and "carol@Example.TEST" in text and "host1.example.test" in text


@pytest.mark.parametrize(("san", "identity"), [
    (x509.RFC822Name("example.test"), b"example.test"),  # a whole-domain rfc822Name
    (x509.RFC822Name("example.test"), b"@example.test"),
    (x509.RFC822Name("@example.test"), b"example.test"),
    (x509.DNSName("dave@example.test"), b"dave@example.test"),  # not a DNS name
])
def test_san_values_only_match_identities_of_their_own_kind(san, identity):
    """An rfc822Name matches a user@domain identity only, a dNSName a name without '@'."""
    assert identity_problem(_cert("x", [san]), identity, "san") is not None


def test_certificate_names_without_san():
    assert certificate_names(NO_SAN).endswith("SAN -")
