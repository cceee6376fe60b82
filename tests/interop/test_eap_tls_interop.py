"""EAP-TLS server (RFC 5216 / RFC 9190) against real peers.

- wpa_supplicant's eapol_test through the RADIUS front hosting ikeeap's methods: TLS 1.2 and
  TLS 1.3 logins succeed with matching MSK ("MPPE keys OK"); a client certificate from
  another CA and a certificate that does not name the EAP identity are refused.
- strongSwan's charon with ``local_auth = eap-tls`` logs in to ``ikeeap serve`` (a) with the
  server authenticated by its IKE certificate and (b) in RFC 5998 EAP-only mode with ikeeap
  configured without any IKE certificate (the EAP-TLS server certificate authenticates it).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import CLIENT_ID
from .eapol import RadiusFront, eapol_test, front_config, require_eapol_test
from .ikeeap_server import SERVER_ID
from .testpki import CertFiles, TestPki


@pytest.fixture(scope="module")
def eapol_pki(tmp_path_factory) -> tuple[TestPki, CertFiles, CertFiles]:
    """(CA, RADIUS-side server certificate, client certificate for alice@example.test)."""
    pki = TestPki(tmp_path_factory.mktemp("eap-tls-pki"), key_type="ecdsa")
    return pki, pki.issue("radius.example.test"), pki.issue(CLIENT_ID, filename="alice")


def _front(tmp_path: Path, pki: TestPki, server: CertFiles, **tls: object) -> Path:
    table = {"ca_file": str(pki.ca_cert_path), "certificate": str(server.cert),
             "private_key": str(server.key), **tls}
    return front_config(tmp_path, eap_methods=["tls"], methods={"tls": table})


def _network(pki: TestPki, client: CertFiles, identity: str = CLIENT_ID,
             tls13: bool = False) -> dict[str, str]:
    net = {"eap": "TLS", "identity": identity, "ca_cert": str(pki.ca_cert_path),
           "client_cert": str(client.cert), "private_key": str(client.key)}
    if tls13:  # wpa_supplicant 2.10 keeps TLS 1.3 off for EAP-TLS unless asked
        net["phase1"] = "tls_disable_tlsv1_3=0"
    return net


@pytest.mark.parametrize("version", ["1.2", "1.3"])
def test_eapol_test_tls_login_succeeds_with_matching_msk(tmp_path, eapol_pki, version):
    require_eapol_test()
    pki, server, client = eapol_pki
    cfg = _front(tmp_path, pki, server, tls_max_version=version)
    with RadiusFront(cfg, tmp_path) as front:
        res = eapol_test(front, _network(pki, client, tls13=version == "1.3"), tmp_path)
        log = front.log()
    assert res.success, res.output
    assert res.mppe_ok is True, res.output
    assert f"Using TLS version TLSv{version}" in res.output
    if version == "1.3":  # RFC 9190 commitment message seen by the peer
        assert "Application data - hexdump(len=1): 00" in res.output, res.output
    assert "client certificate accepted" in log


def test_eapol_test_tls_refuses_client_certificate_from_another_ca(tmp_path, eapol_pki):
    require_eapol_test()
    pki, server, _ = eapol_pki
    rogue = TestPki(tmp_path / "rogue", ca_cn="Rogue CA", key_type="ecdsa")
    stranger = rogue.issue(CLIENT_ID, filename="rogue-alice")
    with RadiusFront(_front(tmp_path, pki, server), tmp_path) as front:
        res = eapol_test(front, _network(pki, stranger), tmp_path, timeout=5)
        log = front.log()
    assert not res.success
    assert "certificate verify failed" in log, log
    assert "succeeded" not in log


def test_eapol_test_tls_refuses_identity_not_named_by_certificate(tmp_path, eapol_pki):
    require_eapol_test()
    pki, server, client = eapol_pki
    with RadiusFront(_front(tmp_path, pki, server), tmp_path) as front:
        res = eapol_test(front, _network(pki, client, identity="bob@example.test"), tmp_path,
                         timeout=5)
        log = front.log()
    assert not res.success
    assert "does not match the identity" in log, log
    assert "succeeded" not in log


# -- strongSwan initiator ---------------------------------------------------------------------


def test_charon_eap_tls_login_with_ikeeap_ike_certificate(
        ikeeap, charon_initiator, topology, test_pki, client_cert):
    # TLS 1.2: charon 5.9.8 is not RFC 9190 compliant (it crashes on the commitment
    # message and derives another TLS 1.3 MSK), so ikeeap's default cap of 1.2 is used.
    server = ikeeap(eap_methods=("tls",),
                    extra_tables={"methods.tls": {"ca_file": str(test_pki.ca_cert_path)}})
    # The EAP-TLS server certificate defaults to the IKE one (ikeeap's own generated CA).
    ini = charon_initiator(topology, local_auth="eap-tls", eap_id=CLIENT_ID,
                           cert=client_cert.cert, key=client_cert.key, remote_id=SERVER_ID,
                           cacerts=[server.ca_path])
    ini.initiate(timeout=15)
    sas = ini.established_sas()
    assert len(sas) == 1, ini.list_sas()
    assert ini.child_sa_negotiated(), "Child SA was not negotiated"
    assert "negotiated TLS 1.2" in ini.log_text()
    assert f"IKE SA established: {CLIENT_ID} via tls" in server.log()


def test_charon_eap_only_tls_login_to_ikeeap_without_ike_certificate(
        ikeeap, charon_initiator, topology, test_pki, server_cert, client_cert):
    server = ikeeap(certificates=False, eap_methods=("tls",),
                    extra_connection={"eap_only": "require"},
                    extra_tables={"methods.tls": {"ca_file": str(test_pki.ca_cert_path),
                                                  "certificate": str(server_cert.cert),
                                                  "private_key": str(server_cert.key)}})
    assert not (server.directory / "state" / "ca.pem").exists()  # no IKE PKI at all
    ini = charon_initiator(topology, local_auth="eap-tls", eap_id=CLIENT_ID,
                           cert=client_cert.cert, key=client_cert.key, remote_auth="eap-tls",
                           remote_id=SERVER_ID, cacerts=[test_pki.ca_cert_path])
    ini.initiate(timeout=15)
    sas = ini.established_sas()
    assert len(sas) == 1, ini.list_sas()
    assert sas[0]["remote-id"] == SERVER_ID
    assert ini.child_sa_negotiated(), "Child SA was not negotiated"
    first = next((line for line in ini.log_text().splitlines()
                  if "parsed IKE_AUTH response 1" in line), "")
    assert "IDr EAP/REQ" in first and "CERT" not in first and " AUTH " not in first, first
    assert f"IKE SA established: {CLIENT_ID} via tls" in server.log()


def test_charon_eap_tls_client_certificate_from_another_ca_is_refused(
        ikeeap, charon_initiator, topology, test_pki, tmp_path):
    server = ikeeap(eap_methods=("tls",),
                    extra_tables={"methods.tls": {"ca_file": str(test_pki.ca_cert_path)}})
    rogue = TestPki(tmp_path / "rogue", ca_cn="Rogue CA")
    stranger = rogue.issue(CLIENT_ID, filename="rogue-alice")
    ini = charon_initiator(topology, local_auth="eap-tls", eap_id=CLIENT_ID,
                           cert=stranger.cert, key=stranger.key, remote_id=SERVER_ID,
                           cacerts=[server.ca_path])
    ini.initiate(timeout=15)
    assert ini.established_sas() == []
    assert "certificate verify failed" in server.log()
    assert "IKE SA established" not in server.log()
