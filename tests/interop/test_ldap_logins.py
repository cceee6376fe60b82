"""strongSwan logs in through ikeeap with EAP-GTC and EAP-TTLS against a real OpenLDAP slapd.

slapd runs on the loopback of the responder namespace (StartTLS, certificate validated
against the test CA); the first configured LDAP server is a closed port, so every
successful login also proves failover.  ikeeap's LDAP calls run on its dedicated thread pool.
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time

import pytest

from .ikeeap_server import SERVER_ID
from .ldap_ikeeap import LOCAL_USERS, LdapIkeeap
from .slapd import DEFAULT_USERS, Slapd, slapd_unavailable_reason


@pytest.fixture
def slapd(spawn, topology, tmp_path, test_pki):
    reason = slapd_unavailable_reason()
    if reason:
        pytest.skip(reason)
    cert = test_pki.issue("ldap.example.test", sans=["127.0.0.1"], filename="slapd")
    directory = Slapd(tmp_path / "slapd", tls_cert=cert, ca_path=test_pki.ca_cert_path)
    directory.start(spawn, topology.responder_ns)
    yield directory
    directory.resume()  # a paused slapd must be able to take SIGTERM at teardown


@pytest.fixture
def ikeeap(spawn, topology, tmp_path, slapd):
    def start(**config) -> LdapIkeeap:
        return LdapIkeeap(spawn, topology, tmp_path / "ikeeap", slapd, **config)
    return start


def _login(charon_initiator, topology, server, user, password, auth="eap-gtc", **kw):
    ini = charon_initiator(topology, local_auth=auth, eap_id=user, eap_secret=password,
                           cacerts=[server.ca_path], remote_id=SERVER_ID, **kw)
    ini.initiate(timeout=15)
    return ini


def _assert_up(ini) -> None:
    assert len(ini.established_sas()) == 1, ini.list_sas()
    assert ini.child_sa_negotiated(), "Child SA was not negotiated"


@pytest.mark.parametrize("auth, method", [("eap-gtc", "gtc"), ("eap-ttls", "ttls")])
def test_ldap_user_logs_in(ikeeap, charon_initiator, topology, auth, method):
    server = ikeeap()
    ini = _login(charon_initiator, topology, server, "alice", DEFAULT_USERS["alice"][0], auth)
    _assert_up(ini)
    log = server.log()
    assert f"IKE SA established: alice via {method}" in log
    assert "ldap://127.0.0.1:38988" in log  # the closed first server was tried: failover
    if method == "ttls":
        assert "EAP-TTLS inner EAP-gtc: 'alice' authenticated" in log
        assert "EAP method 'ttls' established" in ini.log_text() or \
            "EAP method EAP_TTLS succeeded" in ini.log_text()


def test_ttls_inner_md5_against_local_users(ikeeap, charon_initiator, topology):
    """TTLS tunnelling charon's default inner method (MD5) on a connection that uses the
    local users table: the same TTLS code path with a different provider."""
    server = ikeeap(ttls={"inner_methods": ["md5", "gtc"]})
    ini = _login(charon_initiator, topology, server, "carol", LOCAL_USERS["carol"],
                 "eap-ttls", local_id="carol@local.test")
    _assert_up(ini)
    assert "EAP-TTLS inner EAP-md5: 'carol' authenticated" in server.log()


@pytest.mark.parametrize("user, password, why", [
    ("alice", "wrong-password", "wrong password for 'alice' (ldap)"),
    ("mallory", "whatever-pw", "unknown user 'mallory' (ldap)"),
    ("bob", DEFAULT_USERS["bob"][0], "'bob' is not a member of cn=vpn-users"),
    # charon turns a bare "*" identity into %any; "al*" is the same wildcard injection
    ("al*", "alice-ldap-pw", "unknown user 'al*' (ldap)"),
    ("alice)(uid=*", "alice-ldap-pw", "unknown user 'alice)(uid=*' (ldap)"),
])
def test_refused_logins(ikeeap, charon_initiator, topology, user, password, why):
    """The audit line says why the directory refused (it used to say only "failed")."""
    server = ikeeap()
    ini = _login(charon_initiator, topology, server, user, password)
    assert ini.established_sas() == []
    lines = server.log().splitlines()
    audit = [line for line in lines if " login failed " in line]
    assert audit and why in audit[-1], server.log()
    backend = [line for line in lines if "ikeeap.backends.ldap:" in line]
    assert backend and all(re.search(r"ldap: \[[0-9a-f]{8} [0-9.]+:\d+\] LDAP", line)
                           for line in backend), backend  # the SA prefix, once


def test_directory_down_fails_fast(ikeeap, charon_initiator, topology):
    server = ikeeap(ldap={"servers": ["ldap://127.0.0.1:38987"]})
    started = time.monotonic()
    ini = _login(charon_initiator, topology, server, "alice", DEFAULT_USERS["alice"][0])
    assert ini.established_sas() == []
    assert time.monotonic() - started < 10
    assert "received AUTHENTICATION_FAILED notify" in ini.log_text()
    audit = [line for line in server.log().splitlines() if " login failed " in line]
    assert audit and "directory unavailable (ldap://127.0.0.1:38987: " in audit[-1]


def test_slow_directory_fails_within_bound_while_others_log_in(
        ikeeap, charon_initiator, topology, slapd):
    """slapd stopped (SIGSTOP: TCP accepted, nothing answered): the LDAP login ends with
    AUTHENTICATION_FAILED after the configured bound, and meanwhile a second strongSwan
    (other ports, same namespace) logs in against local users: the reactor never blocked."""
    server = ikeeap(ldap={"servers": [slapd.url], "response_timeout": 2, "timeout": 3})
    patient = {"retransmit_timeout": 5.0, "retransmit_tries": 2}
    slow = charon_initiator(topology, local_auth="eap-gtc", eap_id="alice",
                            eap_secret=DEFAULT_USERS["alice"][0], cacerts=[server.ca_path],
                            remote_id=SERVER_ID, **patient)
    other = charon_initiator(topology, local_auth="eap-md5", eap_id="carol",
                             eap_secret=LOCAL_USERS["carol"], local_id="carol@local.test",
                             cacerts=[server.ca_path], remote_id=SERVER_ID, local_port=5500,
                             strongswan_extra={"charon": {"port": 5500, "port_nat_t": 5501}})
    slapd.pause()
    timings: dict[str, float] = {}

    def slow_login() -> None:
        t0 = time.monotonic()
        slow.initiate(timeout=20)
        timings["slow"] = time.monotonic() - t0

    thread = threading.Thread(target=slow_login)
    thread.start()
    time.sleep(1.0)  # the GTC check is now stuck on the stopped directory
    t0 = time.monotonic()
    other.initiate(timeout=15)
    timings["other"] = time.monotonic() - t0
    thread.join(30)
    slapd.resume()
    _assert_up(other)
    print("timings", timings)
    assert timings["other"] < 2.0, timings  # answered while the directory hung
    assert slow.established_sas() == []
    assert "received AUTHENTICATION_FAILED notify" in slow.log_text()
    assert 1.5 < timings["slow"] < 8.0, timings  # response_timeout 2 s, timeout 3 s
    assert "LDAP server ldap://127.0.0.1:38989: LDAPSocketReceiveError" in server.log()


def test_check_config_probe_binds_to_slapd_over_starttls(ikeeap, topology):
    """--probe: the closed first server FAILED with its error, slapd OK (StartTLS, service
    bind); the exit code says that one server failed."""
    server = ikeeap()
    out = subprocess.run(["ip", "netns", "exec", str(topology.responder_ns), sys.executable,
                          "-m", "ikeeap", "check-config", "--probe", "--config",
                          str(server.config_path)],
                         capture_output=True, text=True, timeout=60, check=False)
    lines = [line for line in out.stdout.splitlines() if line.startswith("probe ldap")]
    assert len(lines) == 2, out.stdout + out.stderr
    assert ": FAILED (" in lines[0] and lines[1].endswith(
        ": OK (TLS starttls, service bind accepted)"), lines
    assert out.returncode == 3
