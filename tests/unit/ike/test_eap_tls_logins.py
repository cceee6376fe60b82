"""EAP-TLS over IKEv2 through the in-memory loopback (the project's initiator with the
in-package EAP-TLS peer): a login with the responder's IKE certificate, an RFC 5998
EAP-only login with no IKE certificate at all (TLS 1.2 and 1.3), and a refused stranger."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ikeeap.crypto.certs import CertKey, cert_pem, generate_ca, generate_server_cert, key_pem
from ikeeap.eap.packet import EapType
from ikeeap.eap.peer.tls import TlsPeer
from ikeeap.initiator.config import InitiatorConfig
from ikeeap.initiator.loopback import run_login
from ikeeap.initiator.results import InitiatorState
from ikeeap.testkit.peer import peer_with
from ikeeap.crypto.key_files import write_private_file

ALICE = "alice@example.test"


@pytest.fixture(scope="module")
def tls_pki(tmp_path_factory) -> dict[str, Any]:
    d: Path = tmp_path_factory.mktemp("ike-eap-tls")
    ca = generate_ca("IKE EAP-TLS CA", "ecdsa")
    server = generate_server_cert(ca, "vpn.example.org", "ecdsa")
    (d / "ca.pem").write_bytes(cert_pem(ca.cert))
    (d / "srv.pem").write_bytes(cert_pem(server.cert))
    write_private_file(d / "srv.key", key_pem(server.key))
    alice = generate_server_cert(ca, ALICE, "ecdsa", client_auth=True)
    return {"ca": ca, "alice": alice, "config": {
        "ca_file": str(d / "ca.pem"), "certificate": str(d / "srv.pem"),
        "private_key": str(d / "srv.key")}}


def _client(tls_pki: dict[str, Any], cred: CertKey, **kwargs: Any) -> InitiatorConfig:
    ca = cert_pem(tls_pki["ca"].cert)
    peer = peer_with(lambda _id, _pw: TlsPeer(cert_pem(cred.cert), key_pem(cred.key), ca))
    kwargs.setdefault("remote_identity", "vpn.example.org")
    return InitiatorConfig(identity=ALICE, eap_peer=peer, **kwargs)


def test_eap_tls_login_with_the_responders_ike_certificate(settings_factory, tls_pki, pki):
    settings = settings_factory(eap_methods=("tls",), method_config={"tls": tls_pki["config"]})
    result = run_login(settings, _client(tls_pki, tls_pki["alice"], ca_certificate=pki.ca.der))
    assert result.state == InitiatorState.ESTABLISHED, result.failure_reason
    assert result.keymat_match and result.result.server_cert_trusted
    assert result.result.eap_method == EapType.TLS and len(result.result.msk) == 64
    assert result.responder_sa.method == "tls"


@pytest.mark.parametrize("version", ["1.2", "1.3"])
def test_eap_only_tls_login_without_any_ike_certificate(settings_factory, tls_pki, version):
    settings = settings_factory(
        eap_methods=("tls",), eap_only="require", server_certificate=False,
        method_config={"tls": {**tls_pki["config"], "tls_max_version": version}})
    assert settings.signer is None and not settings.cert_chain
    result = run_login(settings, _client(tls_pki, tls_pki["alice"], eap_only=True))
    assert result.state == InitiatorState.ESTABLISHED, result.failure_reason
    res = result.result
    assert res.eap_only and res.server_cert is None and res.responder_auth_method is None
    assert result.keymat_match and res.msk is not None
    assert result.responder_sa.eap_identity == ALICE


def test_eap_only_tls_login_with_a_stranger_certificate_fails(settings_factory, tls_pki):
    settings = settings_factory(eap_methods=("tls",), eap_only="require",
                                server_certificate=False,
                                method_config={"tls": tls_pki["config"]})
    stranger = generate_server_cert(generate_ca("Other CA", "ecdsa"), ALICE, "ecdsa",
                                    client_auth=True)
    result = run_login(settings, _client(tls_pki, stranger, eap_only=True))
    assert result.state == InitiatorState.FAILED and not result.established
    assert result.auth_failure is not None
    assert "certificate verify failed" in result.auth_failure.reason
