"""RFC 5998 EAP-only with the real strongSwan initiator (it always sends
N(EAP_ONLY_AUTHENTICATION); see ../shared/interop.md).

- ikeeap configured *without* an IKE certificate (no [certificates] table) logs charon in with
  EAP-TTLS (inner MD5): charon's ``remote { auth = eap-ttls }`` accepts a first IKE_AUTH
  response without CERT/AUTH because TTLS is mutual and keyed; both AUTHs use the MSK.
- A connection that offers only a non-mutual method (MD5) refuses charon's EAP-only request
  up front: EAP-Failure + AUTHENTICATION_FAILED, no SA.
"""

from __future__ import annotations

from .ikeeap_server import SERVER_ID, USERS


def test_charon_eap_only_ttls_login_to_ikeeap_without_ike_certificate(
        ikeeap, charon_initiator, topology, test_pki, server_cert):
    server = ikeeap(
        certificates=False, eap_methods=("ttls",),
        extra_connection={"eap_only": "require"},
        extra_tables={"methods.ttls": {"certificate": str(server_cert.cert),
                                       "private_key": str(server_cert.key),
                                       "inner_methods": ["md5"]}})
    assert not (server.directory / "state" / "ca.pem").exists()  # no IKE PKI generated
    ini = charon_initiator(topology, local_auth="eap-ttls", eap_id="alice",
                           eap_secret=USERS["alice"], remote_auth="eap-ttls",
                           remote_id=SERVER_ID, cacerts=[test_pki.ca_cert_path])
    ini.initiate(timeout=15)
    sas = ini.established_sas()
    assert len(sas) == 1, ini.list_sas()
    assert sas[0]["remote-id"] == SERVER_ID
    assert ini.child_sa_negotiated(), "Child SA was not negotiated"
    first_response = _first_auth_response(ini.log_text())
    assert "IDr EAP/REQ" in first_response, first_response  # RFC 5998: IDr + EAP only
    assert "CERT" not in first_response and " AUTH " not in first_response, first_response
    assert "IKE SA established: alice via ttls" in server.log()


def test_charon_eap_only_refused_when_connection_offers_only_md5(
        ikeeap, charon_initiator, topology):
    server = ikeeap(eap_methods=("md5",), extra_connection={"eap_only": "allow"})
    ini = charon_initiator(topology, local_auth="eap-md5", eap_id="alice",
                           eap_secret=USERS["alice"], remote_auth="eap",
                           remote_id=SERVER_ID, cacerts=[server.ca_path])
    ini.initiate(timeout=15)
    assert ini.established_sas() == []
    assert "received AUTHENTICATION_FAILED notify error" in ini.log_text()
    assert "no mutual, key-generating EAP method allowed (RFC 5998)" in server.log()
    assert "IKE SA established" not in server.log()


def _first_auth_response(log: str) -> str:
    """charon's line listing the payloads of ikeeap's first IKE_AUTH response."""
    for line in log.splitlines():
        if "parsed IKE_AUTH response 1" in line:
            return line
    return ""
