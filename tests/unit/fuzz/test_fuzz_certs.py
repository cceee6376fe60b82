"""Fuzzing what parses certificates a peer presents and the identities in them.

- ikeeap.crypto.certs.load_certificate_bytes: a Certificate or ValueError (its contract);
- ikeeap.eap.methods.tls_identity (EAP-TLS binds the client certificate to the EAP
  identity): identity_problem and certificate_names "never raise"; identity_problem
  accepts a name only if the certificate carries it (no false accept);
- ikeeap.crypto.auth.verify_auth_signature, ikeeap.crypto.certs.verify_issued_by and the
  initiator's chain check (the responder's CERT payloads): True or False, never raise.

Inputs: the DER corpus (tests/fuzz/corpus/cert-*) mutated as bytes, and certificates whose
TBS part is mutated and then signed again by the test CA, so that the signature checks pass
and the extension parsers behind them see the fuzzed content; and certificates built with
fuzzed extensions (any of the usual X.509 extensions, repeated, critical or not, with
mutated values) under the test CA.  Those also go through a real EAP-TLS login as the
client certificate: OpenSSL refuses what it cannot verify, what it accepts reaches the
identity check.
"""

from __future__ import annotations

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given
from hypothesis import strategies as st

from fuzz_budget import fuzz_budget
from fuzz_escapes import reported_escapes
from fuzz_methods import TLS_USER, check_output, fuzzed_login, lab
from fuzz_mutations import apply_mutations, corpus_seeds, mutated, mutation_operations
from fuzz_x509 import EXTENSION_VALUES, first_element, fuzzed_client_certificate, signed_by_ca
from ikeeap.crypto.auth import verify_auth_signature
from ikeeap.crypto.certs import (
    cert_der,
    cert_pem,
    key_pem,
    load_certificate_bytes,
    verify_issued_by,
)
from ikeeap.eap.methods.tls_identity import IDENTITY_RULES, certificate_names, identity_problem
from ikeeap.eap.peer.tls import TlsPeer
from ikeeap.initiator.ike_auth import _chain_trusted
from ikeeap.testkit.peer import KitPeer
from ikeeap.wire.constants import AuthMethod

# A mutated serial number of zero is only deprecated by cryptography: not our concern here.
pytestmark = pytest.mark.filterwarnings("ignore:Parsed a serial number")

CERT_SEEDS = corpus_seeds("cert")
IDENTITIES = [TLS_USER.encode(), b"ALICE@Example.Test", b"alice", b"radius.example.test",
              b"bob@example.test", b"vpn.example.org", b"192.0.2.1", b"", b"\xff\xfe", b"Alice"]
AUTH_METHODS = [AuthMethod.RSA_SIG, AuthMethod.ECDSA_256, AuthMethod.ECDSA_384,
                AuthMethod.ECDSA_521, AuthMethod.DIGITAL_SIGNATURE]


# -- the checks --------------------------------------------------------------------------------

def _names_in(cert: x509.Certificate) -> set[str]:
    """Every string in the certificate's SAN and subject CN, lowercased (the oracle)."""
    names: set[str] = set()
    try:
        for ext in cert.extensions:
            if isinstance(ext.value, x509.SubjectAlternativeName):
                names |= {str(getattr(n, "value", "")).lower() for n in ext.value}
    except Exception:  # noqa: BLE001, S110 - unparsable extensions carry no names
        pass
    try:
        names |= {str(a.value).lower() for a in cert.subject}
    except Exception:  # noqa: BLE001, S110
        pass
    return names


def check_parsed(der: bytes) -> None:
    """Everything that may look at a certificate a peer sent; raises AssertionError only."""
    try:
        cert = load_certificate_bytes(der)
    except ValueError:
        cert = None
    ca = lab().ca.cert
    for method in AUTH_METHODS:
        assert verify_auth_signature(der, method, b"octets", b"\x01" * 64) is False
    assert isinstance(_chain_trusted([der], ca), bool)
    assert isinstance(_chain_trusted([der, cert_der(ca)], ca), bool)
    if cert is None:
        return
    assert isinstance(verify_issued_by(cert, ca), bool)
    assert isinstance(certificate_names(cert), str)
    known = _names_in(cert)
    for identity in IDENTITIES:
        for rule in IDENTITY_RULES:
            problem = identity_problem(cert, identity, rule)
            assert problem is None or isinstance(problem, str)
            if problem is None and rule != "none":  # no false accept
                assert identity.decode().lower() in known, (identity, rule, known)


@fuzz_budget(2)
@given(der=mutated(CERT_SEEDS))
def test_fuzzed_der_certificates(der):
    with reported_escapes() as escapes:
        check_parsed(der)
    assert not escapes


@fuzz_budget(2)
@given(seed=st.sampled_from(CERT_SEEDS), operations=mutation_operations())
def test_fuzzed_tbs_signed_again_by_the_ca(seed, operations):
    """The signature verifies, so what a chain check accepts reaches the name checks."""
    der = signed_by_ca(apply_mutations(first_element(seed), operations))
    with reported_escapes() as escapes:
        check_parsed(der)
    assert not escapes


# -- certificates with fuzzed extensions ------------------------------------------------------

@st.composite
def extension_lists(draw) -> list[tuple[int, bool, bytes]]:
    """(2.5.29.<n>, critical, DER value) triples: usual extensions, some repeated, values
    mutated, always with a subjectAltName somewhere among them."""
    def one(n: int):
        value = EXTENSION_VALUES[n].public_bytes()
        if draw(st.booleans()):
            value = apply_mutations(value, draw(mutation_operations(3)))
        return n, draw(st.booleans()) and n != 17, value
    chosen = draw(st.lists(st.sampled_from(sorted(EXTENSION_VALUES)), min_size=1, max_size=6))
    return [one(n) for n in [17, *chosen]]


_KEY = ec.generate_private_key(ec.SECP256R1())  # one client key: key generation is slow
CNS = st.one_of(st.sampled_from(["Alice", TLS_USER, "vpn.example.org"]),
                st.text(min_size=1, max_size=20))


@fuzz_budget(2)
@given(extensions=extension_lists(), cn=CNS)
def test_fuzzed_extensions_under_the_ca(extensions, cn):
    der = fuzzed_client_certificate(_KEY, cn, extensions)
    with reported_escapes() as escapes:
        check_parsed(der)
    assert not escapes


@fuzz_budget(0.5)
@given(extensions=extension_lists(), cn=CNS,
       identity=st.sampled_from([TLS_USER, "vpn.example.org", "Alice"]))
def test_fuzzed_client_certificates_in_an_eap_tls_login(extensions, cn, identity):
    """EAP-TLS with a CA-signed client certificate carrying fuzzed extensions: OpenSSL
    refuses what it cannot verify; a certificate it accepts reaches the identity check; the
    login ends cleanly either way, and succeeds only for a certificate naming the identity."""
    der = fuzzed_client_certificate(_KEY, cn, extensions)
    pem, key = cert_pem(x509.load_der_x509_certificate(der)), key_pem(_KEY)
    conv = lab().conversation("tls", "tls1.2")
    conv.peer = KitPeer(identity.encode(), "", [lambda _i, _p: TlsPeer(pem, key, lab().ca_pem)])
    with reported_escapes() as escapes:
        outputs = fuzzed_login(conv, -1, lambda genuine: genuine, [])
    assert not escapes
    for out in outputs:
        check_output(out)
    if outputs[-1].success:
        assert identity.lower() in _names_in(x509.load_der_x509_certificate(der))
