"""The real strongSwan initiator logs in to ``ikeeap serve`` (started from the CLI).

Each test runs ikeeap in the responder namespace of a fresh namespace pair and charon in the
initiator namespace. The kernel has no ESP, so "Child SA established" means charon accepted
our SA, traffic selectors and keys and then failed only at the SAD install (see charon.py).
"""

from __future__ import annotations

import ipaddress

import pytest

from .ikeeap_server import POOL, PSK, SERVER_ID, USERS, IkeeapServer


def _login(charon_initiator, topology, server: IkeeapServer, **kw):
    kw.setdefault("local_auth", "eap-mschapv2")
    kw.setdefault("eap_id", "alice")
    kw.setdefault("eap_secret", USERS["alice"])
    ini = charon_initiator(topology, cacerts=[server.ca_path], remote_id=SERVER_ID, **kw)
    ini.initiate(timeout=15)
    return ini


def _assert_up(ini) -> dict:
    sas = ini.established_sas()
    assert len(sas) == 1, ini.list_sas()
    assert ini.child_sa_negotiated(), "Child SA was not negotiated"
    return sas[0]


@pytest.mark.parametrize("method", ["mschapv2", "md5", "gtc"])
def test_eap_method_establishes_ike_and_child_sa(ikeeap, charon_initiator, topology, method):
    server = ikeeap()
    ini = _login(charon_initiator, topology, server, local_auth=f"eap-{method}")
    sa = _assert_up(ini)
    assert sa["remote-id"] == SERVER_ID
    vip = ipaddress.ip_address(sa["vips"][0])
    assert vip in ipaddress.ip_network(POOL)
    assert f"IKE SA established: alice via {method}" in server.log()


@pytest.mark.parametrize("proposal, encr, dh", [
    ("aes128-sha256-modp2048", "AES_CBC", "MODP_2048"),
    ("aes256gcm16-prfsha384-ecp384", "AES_GCM_16", "ECP_384"),
    ("chacha20poly1305-prfsha256-curve25519", "CHACHA20_POLY1305", "CURVE_25519"),
])
def test_proposal_sets(ikeeap, charon_initiator, topology, proposal, encr, dh):
    server = ikeeap()
    ini = _login(charon_initiator, topology, server, ike_proposals=[proposal],
                 esp_proposals=["aes128gcm16" if "gcm" in proposal else "aes128-sha256"])
    sa = _assert_up(ini)
    assert sa["encr-alg"] == encr
    assert sa["dh-group"] == dh


@pytest.mark.parametrize("signature_authentication", [True, False])
def test_ecdsa_server_certificate(ikeeap, charon_initiator, topology,
                                  signature_authentication):
    """ECDSA with RFC 7427 signatures, and with the classic ECDSA method (9) when the client
    announces no SIGNATURE_HASH_ALGORITHMS."""
    server = ikeeap(key_type="ecdsa")
    extra = {"charon": {"signature_authentication": "yes" if signature_authentication
                        else "no"}}
    ini = _login(charon_initiator, topology, server, strongswan_extra=extra)
    _assert_up(ini)


def test_rsa_classic_signature(ikeeap, charon_initiator, topology):
    server = ikeeap(key_type="rsa")
    ini = _login(charon_initiator, topology, server,
                 strongswan_extra={"charon": {"signature_authentication": "no"}})
    _assert_up(ini)


@pytest.mark.parametrize("method", ["mschapv2", "md5", "gtc"])
def test_wrong_password_is_refused(ikeeap, charon_initiator, topology, method):
    server = ikeeap()
    ini = _login(charon_initiator, topology, server, local_auth=f"eap-{method}",
                 eap_secret="not-the-password")
    assert ini.established_sas() == []
    assert "authentication failed" in server.log()


def test_unknown_user_is_refused(ikeeap, charon_initiator, topology):
    server = ikeeap()
    ini = _login(charon_initiator, topology, server, eap_id="mallory", eap_secret="x")
    assert ini.established_sas() == []
    assert "authentication failed" in server.log()


def test_psk_login(ikeeap, charon_initiator, topology):
    server = ikeeap()
    ini = charon_initiator(topology, local_auth="psk", remote_auth="psk", eap_id=None,
                           local_id="laptop.psk.test", remote_id=SERVER_ID, psk=PSK)
    ini.initiate(timeout=15)
    _assert_up(ini)
    assert "via psk" in server.log()


def test_nat_t_switch_to_port_4500(ikeeap, charon_initiator, topology):
    """``encap = yes`` fakes a NAT: charon sends IKE_AUTH on UDP 4500 with the non-ESP marker."""
    server = ikeeap()
    ini = _login(charon_initiator, topology, server, encap=True)
    sa = _assert_up(ini)
    assert sa["remote-port"] == "4500"
