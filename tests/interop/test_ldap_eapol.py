"""wpa_supplicant's eapol_test as a real EAP-TTLS/PAP and EAP-GTC peer against slapd users,
through ``ikeeap radius-front`` (RFC 3579) with ``password_backend = "ldap"``.

slapd listens on 127.0.0.1 (StartTLS, validated); eapol_test checks the TTLS MSK against the
MS-MPPE keys ("MPPE keys OK").
"""

from __future__ import annotations

import subprocess

import pytest

from .eapol import RadiusFront, eapol_test, require_eapol_test
from .ldap_ikeeap import ldap_table
from .ikeeap_server import _table
from .slapd import DEFAULT_USERS, Slapd, slapd_unavailable_reason

SLAPD_PORT = 38993  # root namespace loopback: an unusual port


@pytest.fixture(scope="module")
def ldap_front(tmp_path_factory, test_pki):
    require_eapol_test()
    reason = slapd_unavailable_reason()
    if reason:
        pytest.skip(reason)
    workdir = tmp_path_factory.mktemp("ldap-front")
    procs: list[subprocess.Popen] = []

    def spawn(ns, argv, name="proc"):
        log_path = workdir / f"{name}.log"
        proc = subprocess.Popen([str(a) for a in argv], stdout=open(log_path, "wb"),  # noqa: SIM115
                                stderr=subprocess.STDOUT, start_new_session=True)
        proc.log_path = log_path  # type: ignore[attr-defined]
        procs.append(proc)
        return proc

    cert = test_pki.issue("ldap-front.example.test", sans=["127.0.0.1"], filename="slapd-front")
    tls = test_pki.issue("radius.example.test", sans=["radius.example.test"],
                         filename="ttls-front")
    slapd = Slapd(workdir / "slapd", port=SLAPD_PORT, tls_cert=cert,
                  ca_path=test_pki.ca_cert_path)
    front = None
    try:
        slapd.start(spawn, None)
        config = workdir / "front.toml"
        config.write_text("\n".join([
            _table("server", {"identity": "vpn.example.test",
                              "state_dir": str(workdir / "state")}),
            _table("certificates", {"ca_cert": str(test_pki.ca_cert_path),
                                    "server_cert": str(tls.cert), "server_key": str(tls.key),
                                    "generate": False}),
            _table("connections", {"name": "front", "eap_methods": ["ttls", "gtc"],
                                   "password_backend": "ldap"}, array=True),
            _table("ldap", ldap_table(slapd, workdir)),
        ]))
        front = RadiusFront(config, workdir)
        yield front
    finally:
        if front is not None:
            front.stop()
        for proc in procs:
            proc.terminate()
            proc.wait(5)


def _ttls_pap(ca, user: str, password: str) -> dict:
    return {"eap": "TTLS", "identity": user, "anonymous_identity": "anonymous",
            "password": password, "phase2": "auth=PAP", "ca_cert": str(ca)}


def test_ttls_pap_ldap_user_mppe_keys_ok(ldap_front, tmp_path, test_pki):
    result = eapol_test(ldap_front, _ttls_pap(test_pki.ca_cert_path, "alice",
                                              DEFAULT_USERS["alice"][0]), tmp_path)
    assert result.success, result.output
    assert result.mppe_ok is True, result.output
    assert "EAP-TTLS/PAP: 'alice' authenticated" in ldap_front.log()


def test_ttls_inner_gtc_ldap_user(ldap_front, tmp_path, test_pki):
    network = {**_ttls_pap(test_pki.ca_cert_path, "dave", DEFAULT_USERS["dave"][0]),
               "phase2": "autheap=GTC"}
    result = eapol_test(ldap_front, network, tmp_path)
    assert result.success, result.output
    assert result.mppe_ok is True, result.output


def test_gtc_ldap_user(ldap_front, tmp_path):
    network = {"eap": "GTC", "identity": "alice", "password": DEFAULT_USERS["alice"][0]}
    result = eapol_test(ldap_front, network, tmp_path, no_mppe=True)
    assert result.success, result.output


@pytest.mark.parametrize("user, password", [
    ("alice", "not-alice-pw"),
    ("bob", DEFAULT_USERS["bob"][0]),  # outside cn=vpn-users
    ("*", DEFAULT_USERS["alice"][0]),
    ("alice)(uid=*", DEFAULT_USERS["alice"][0]),
])
def test_ttls_pap_refusals(ldap_front, tmp_path, test_pki, user, password):
    result = eapol_test(ldap_front, _ttls_pap(test_pki.ca_cert_path, user, password), tmp_path)
    assert not result.success, result.output
    assert f"EAP-TTLS/PAP authentication of {user!r} failed" in ldap_front.log()
