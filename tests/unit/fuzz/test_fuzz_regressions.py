"""Bugs the fuzz targets found, each pinned by a plain unit test."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from twisted.internet.testing import StringTransport

from fuzz_escapes import reported_escapes
from fuzz_methods import IMSI, TLS_USER, lab, login
from fuzz_x509 import EXTENSION_VALUES, fuzzed_client_certificate, signed_by_ca
from ikeeap.backends.radius.backend import RadiusBackend
from ikeeap.backends.radius.client import Completion, RadiusClientCore
from ikeeap.backends.radius.config import RadiusConfig, RadiusServerConfig
from ikeeap.backends.radius.method import RadiusMethod
from ikeeap.control import protocol as cp
from ikeeap.crypto.auth import verify_auth_signature
from ikeeap.crypto.certs import cert_der, load_certificate_bytes
from ikeeap.eap.credentials import Providers
from ikeeap.eap.method import EapContext, StepKind
from ikeeap.eap.methods.tls_identity import certificate_names, identity_problem
from ikeeap.eap.peer import PeerError
from ikeeap.eap.peer.sim import EapSimPeer, SimPeerState
from ikeeap.eap.peer.tls import TlsPeer
from ikeeap.eap.tls.engine import FLAG_LENGTH, FLAG_START
from ikeeap.initiator.ike_auth import _chain_trusted
from ikeeap.initiator.loopback import drive
from ikeeap.server.control import ControlProtocol
from ikeeap.wire.constants import AuthMethod


@pytest.mark.parametrize("identity, sent", [
    ("a" * 253, True),
    ("a" * 254, False),
    ("\u00e9" * 126 + "a", True),  # 253 octets of UTF-8
    ("\u00e9" * 127, False),  # 127 characters, 254 octets: pyrad counts only characters
    (b"\xff" * 85, False),  # not UTF-8: each octet becomes U+FFFD, 3 octets
])
def test_radius_refuses_an_identity_too_long_for_user_name(identity, sent):
    """A peer's EAP identity longer than a User-Name (253 octets) used to reach pyrad, which
    raised while the request was built ("cannot build a RADIUS request", at ERROR, for
    every such peer); now the method refuses it before any request."""
    server = RadiusServerConfig("127.0.0.1", 1812, b"secret")
    core, sent_datagrams = RadiusClientCore([server]), []

    async def authenticate(build, index):  # the production client core, no server
        tx_id = core.request(build, 0.0, index)
        sent_datagrams.extend(core.datagrams_to_send())
        return Completion(tx_id, None, None, "no answer")

    providers = Providers(extra={"radius": RadiusBackend(RadiusConfig(servers=(server,)),
                                                         authenticate)})
    raw = identity if isinstance(identity, bytes) else identity.encode()
    ctx = EapContext(identity=raw, peer="198.51.100.9:500", identifier=2)
    with reported_escapes() as escapes:
        step = drive(RadiusMethod({}, providers).start(ctx))
    assert not escapes
    assert bool(sent_datagrams) is sent
    assert step.kind is StepKind.FAILURE
    assert ("too long" in step.reason) is not sent


def test_tls_peer_refuses_an_empty_request_with_peer_error():
    """A server's empty EAP-TLS request that is not an ACK of our fragment used to reach
    pyOpenSSL's bio_write(b""), whose WantReadError escaped every caller (the initiator
    catches PeerError); found by mutating a TTLS peer's response into a "fragment"."""
    lab_ = lab()
    peer = TlsPeer(None, None, lab_.ca_pem, fragment_size=16384)
    hello = peer.process(bytes([FLAG_START]), 1)
    assert hello[0] == FLAG_LENGTH and len(hello) > 6  # the whole ClientHello
    with pytest.raises(PeerError, match="without TLS data"):
        peer.process(bytes([0]), 2)


@pytest.mark.parametrize("realm_length, reauth", [(200, True), (232, False), (1000, False)])
def test_sim_login_with_a_long_realm_hands_out_no_unencodable_reauth_id(realm_length, reauth):
    """The re-authentication identity carries the peer's realm; with a realm of ~1000
    octets it no longer fitted in AT_NEXT_REAUTH_ID and encoding the Challenge raised
    ("EAP method sim raised ValueError"); found by mutating a genuine Identity response.
    Now no re-authentication identity is handed out (longer than 253 octets), the login
    still succeeds."""
    lab_ = lab()
    identity = f"1{IMSI}@" + "r" * realm_length
    conv = lab_.conversation("sim", "full")
    conv.peer = EapSimPeer(identity, lab_.sim_source.gsm_auth(IMSI), SimPeerState())
    with reported_escapes() as escapes:
        out = login(conv)
    assert not escapes
    assert out.success, out.reason
    state = conv.peer.state
    assert state.pseudonym and bool(state.reauth_id) is reauth
    if reauth:
        assert len(state.reauth_id.encode()) <= 253


def _server_tbs_with(old: bytes, new: bytes) -> bytes:
    tbs = lab().server.cert.tbs_certificate_bytes
    assert tbs.count(old) == 1
    return tbs.replace(old, new)


def test_a_certificate_with_an_unknown_x509_version_is_a_value_error():
    """cryptography raises InvalidVersion (no ValueError) for a version field other than
    v1-v3: load_certificate_bytes now raises the ValueError it documents, so the
    initiator's chain check refuses such a responder certificate instead of raising, and
    verify_auth_signature says False.  Found by mutating a CA-signed TBSCertificate."""
    der = signed_by_ca(_server_tbs_with(b"\xa0\x03\x02\x01\x02", b"\xa0\x03\x02\x01\x03"))
    with pytest.raises(ValueError, match="version"):
        load_certificate_bytes(der)
    assert _chain_trusted([der], lab().ca.cert) is False
    assert verify_auth_signature(der, AuthMethod.ECDSA_256, b"octets", bytes(64)) is False


def test_verify_auth_signature_with_an_unknown_curve_is_false():
    """A responder certificate naming an unknown curve: public_key() raises
    UnsupportedAlgorithm, which escaped verify_auth_signature (the initiator's IKE_AUTH
    check); now False.  Found by mutating certificate DER."""
    prime256v1 = bytes.fromhex("06082a8648ce3d030107")
    der = cert_der(lab().server.cert).replace(prime256v1, bytes.fromhex("06082b8648ce3d030107"))
    for method in (AuthMethod.ECDSA_256, AuthMethod.DIGITAL_SIGNATURE):
        assert verify_auth_signature(der, method, b"octets", bytes(64)) is False


def test_identity_check_of_a_certificate_with_two_san_extensions_does_not_raise():
    """identity_problem and certificate_names "never raise", but cryptography's
    DuplicateExtension (no ValueError) escaped them.  Over EAP-TLS OpenSSL refuses such a
    certificate first, so this was latent.  Found by certificates with fuzzed extensions."""
    san = EXTENSION_VALUES[17].public_bytes()
    der = fuzzed_client_certificate(ec.generate_private_key(ec.SECP256R1()), "Alice",
                                    [(17, False, san), (17, False, san)])
    cert = load_certificate_bytes(der)
    assert "subjectAltName" in identity_problem(cert, TLS_USER.encode(), "san")
    assert identity_problem(cert, b"Alice", "cn") is None
    assert "SAN -" in certificate_names(cert)


class _Target:
    def list_sas(self):
        return [{"id": "aabbccdd00112233", "eap_identity": "alice", "ike_identity": "alice",
                 "virtual_ip": "10.0.0.1"}]

    def terminate(self, sa_ids, reason):
        return list(sa_ids)


def _control_replies(data: bytes) -> list[dict]:
    protocol, transport = ControlProtocol(_Target()), StringTransport()
    protocol.makeConnection(transport)
    protocol.dataReceived(data)
    return [json.loads(line) for line in transport.value().splitlines()]


@pytest.mark.parametrize("request_", [
    {"cmd": "list-sas", "args": {"id": True}},
    {"cmd": "terminate", "args": {"id": 12345678}},
    {"cmd": "terminate", "args": {"user": ["alice"]}},
])
def test_control_selectors_that_are_not_strings_are_refused(request_):
    """A non-string SA selector used to raise inside dispatch (AttributeError from
    .lower(), TypeError from len()): "internal error" and a logged traceback.  Now refused
    like any bad argument.  Found by fuzzing request arguments."""
    with reported_escapes() as escapes:
        (reply,) = _control_replies(json.dumps(request_).encode() + b"\n")
    assert not escapes
    assert reply["ok"] is False and "must be a string" in reply["error"]


def test_control_request_nested_too_deeply_is_a_protocol_error():
    """json.loads raises RecursionError (no ValueError) for deep nesting: it escaped
    parse_request and ControlProtocol.dataReceived.  Now the line is refused and the
    connection answers the next one.  Found by fuzzing request lines."""
    deep = b'{"cmd": "list-sas", "args": {"user": ' + b"[" * 5000 + b"]" * 5000 + b"}}"
    with pytest.raises(cp.ProtocolError, match="nested too deeply"):
        cp.parse_request(deep)
    replies = _control_replies(deep + b'\n{"cmd": "list-sas"}\n')
    assert [r["ok"] for r in replies] == [False, True]
