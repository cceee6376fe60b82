"""strongSwan logs in through ikeeap, whose EAP is terminated in a real FreeRADIUS 3.2.

FreeRADIUS runs from a private copy of /etc/freeradius/3.0 on 127.0.0.1 of the responder
namespace, next to ``ikeeap serve`` (method "radius", RFC 3579 pass-through).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .charon import wait_udp_bound
from .freeradius import FreeRadius, freeradius_unavailable_reason
from .ikeeap_server import SERVER_ID, IkeeapConfig, ServedIkeeap

SECRET = "radius-interop-secret"
USERS = {"alice": "alice-radius-pw", "bob": "bob-radius-pw"}
FRAMED_IP = "10.99.0.7"
DNS = "10.99.0.53"
AUTH_PORT = 18812  # inside the responder namespace only


@pytest.fixture(scope="module")
def radius_cert(test_pki):
    return test_pki.issue("radius.example.test", sans=["radius.example.test"],
                          filename="radius")


@pytest.fixture
def freeradius(spawn, topology, tmp_path, radius_cert, test_pki):
    reason = freeradius_unavailable_reason()
    if reason:
        if os.environ.get("IKEEAP_REQUIRE_INTEROP") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    server = FreeRadius(tmp_path / "raddb", users=USERS, secret=SECRET, server_cert=radius_cert,
                        ca_cert=test_pki.ca_cert_path, auth_port=AUTH_PORT, reply_attributes={
                            "alice": [f"Framed-IP-Address = {FRAMED_IP}",
                                      f"MS-Primary-DNS-Server = {DNS}",
                                      "Session-Timeout = 3600", 'Class = "cls-alice"']})
    server.start(spawn, topology.responder_ns)
    return server


def radius_toml(servers: list[tuple[str, int]], timeout: float = 2.0, retries: int = 1,
                accounting: bool = True, extra: str = "") -> str:
    text = ['[radius]', 'nas_identifier = "ikeeap-interop"', extra]
    for host, port in servers:
        text += ["[[radius.servers]]", f'address = "{host}"', f"port = {port}",
                 f'secret = "{SECRET}"', f"timeout = {timeout}", f"retries = {retries}"]
    if accounting:
        text += ["[[radius.accounting_servers]]", 'address = "127.0.0.1"',
                 f"port = {AUTH_PORT + 1}", f'secret = "{SECRET}"', "timeout = 1.0"]
    return "\n".join(text) + "\n"


class RadiusIkeeap(ServedIkeeap):
    """``ikeeap serve`` with eap_methods = ["radius"] in the responder namespace."""

    def __init__(self, spawn, topology, directory: Path, radius: str) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        path = IkeeapConfig(topology.responder_addr, eap_methods=("radius",)).write(directory)
        path.write_text(path.read_text() + "\n" + radius)
        super().__init__(spawn, topology, directory, path)


def _login(charon_initiator, topology, server, method="eap-mschapv2", user="alice",
           password=None, timeout=15, **kw):
    ini = charon_initiator(topology, cacerts=kw.pop("cacerts", [server.ca_path]),
                           remote_id=SERVER_ID, local_auth=method, eap_id=user,
                           eap_secret=password or USERS.get(user, "x"), **kw)
    ini.initiate(timeout=timeout)
    return ini


@pytest.mark.parametrize("method", ["eap-mschapv2", "eap-md5"])
def test_login_through_freeradius_with_authorization_and_accounting(
        spawn, topology, tmp_path, freeradius, charon_initiator, method):
    """IKE SA up (AUTH keyed from the MPPE keys for MSCHAPv2), Framed-IP-Address and the MS
    DNS VSA reach the client, Accounting Start/Stop with the Class reach FreeRADIUS."""
    server = RadiusIkeeap(spawn, topology, tmp_path / "ikeeap",
                          radius_toml([("127.0.0.1", AUTH_PORT)]))
    ini = _login(charon_initiator, topology, server, method)
    sas = ini.established_sas()
    assert len(sas) == 1, ini.list_sas()
    assert ini.child_sa_negotiated()
    assert sas[0]["vips"] == [FRAMED_IP]
    # the connection's DNS server plus MS-Primary-DNS-Server from the Access-Accept
    assert "CPRP(ADDR DNS DNS)" in ini.log_text()
    assert f"IKE SA established: alice via radius, virtual IP {FRAMED_IP}" in server.log()
    start = freeradius.wait_accounting(lambda r: any(x.get("Acct-Status-Type") == "Start"
                                                     for x in r))
    started = [r for r in start if r.get("Acct-Status-Type") == "Start"]
    assert started and started[0]["User-Name"] == "alice"
    assert started[0]["Class"] == "0x" + b"cls-alice".hex()
    ini.terminate()
    records = freeradius.wait_accounting(lambda r: any(x.get("Acct-Status-Type") == "Stop"
                                                       for x in r))
    stop = [r for r in records if r.get("Acct-Status-Type") == "Stop"]
    assert stop and stop[0]["Acct-Session-Id"] == started[0]["Acct-Session-Id"]
    assert stop[0]["Acct-Terminate-Cause"] == "User-Request"
    server.proc.terminate()  # shutdown sends Accounting-Off before the sockets close
    server.proc.wait(10)
    records = freeradius.accounting_records()
    assert [r["Acct-Status-Type"] for r in records if "Accounting" in r["Acct-Status-Type"]
            ] == ["Accounting-On", "Accounting-Off"]


def test_wrong_password_is_rejected_by_freeradius(spawn, topology, tmp_path, freeradius,
                                                  charon_initiator):
    server = RadiusIkeeap(spawn, topology, tmp_path / "ikeeap",
                          radius_toml([("127.0.0.1", AUTH_PORT)], accounting=False))
    ini = _login(charon_initiator, topology, server, password="wrong-password")
    assert ini.established_sas() == []
    assert "RADIUS Access-Reject" in server.log()


def test_failover_to_second_server(spawn, topology, tmp_path, freeradius, charon_initiator):
    """Nothing answers on the first server: after its attempts the second one serves."""
    server = RadiusIkeeap(spawn, topology, tmp_path / "ikeeap", radius_toml(
        [("127.0.0.1", AUTH_PORT + 7), ("127.0.0.1", AUTH_PORT)], timeout=0.5, retries=1,
        accounting=False))
    ini = _login(charon_initiator, topology, server)
    assert len(ini.established_sas()) == 1, server.log()
    assert "RADIUS failover: 127.0.0.1:18819 -> 127.0.0.1:18812" in server.log()


def test_all_servers_dead_fails_within_the_bound(spawn, topology, tmp_path, charon_initiator):
    """Two dead servers x 0.5 s x 2 attempts: AUTHENTICATION_FAILED after ~2 s, no SA."""
    server = RadiusIkeeap(spawn, topology, tmp_path / "ikeeap", radius_toml(
        [("127.0.0.1", AUTH_PORT + 7), ("127.0.0.1", AUTH_PORT + 9)], timeout=0.5, retries=1,
        accounting=False))
    began = time.monotonic()
    ini = _login(charon_initiator, topology, server, timeout=20)
    elapsed = time.monotonic() - began
    assert ini.established_sas() == []
    assert "AUTHENTICATION_FAILED" in ini.log_text()
    assert elapsed < 8, elapsed
    assert "no other server is left" in server.log()


def test_eap_ttls_terminated_in_freeradius(spawn, topology, tmp_path, freeradius,
                                           charon_initiator, test_pki):
    """charon's TTLS tunnels inner EAP-MD5; the TTLS keys come back as MS-MPPE keys."""
    server = RadiusIkeeap(spawn, topology, tmp_path / "ikeeap",
                          radius_toml([("127.0.0.1", AUTH_PORT)], accounting=False))
    ini = _login(charon_initiator, topology, server, "eap-ttls", user="bob",
                 cacerts=[server.ca_path, _radius_ca(test_pki, tmp_path)], aaa_id="radius.example.test")
    assert len(ini.established_sas()) == 1, ini.list_sas()
    assert "IKE SA established: bob via radius" in server.log()


def test_eap_tls_terminated_in_freeradius(spawn, topology, tmp_path, freeradius,
                                          charon_initiator, test_pki, client_cert):
    """Client certificate checked by FreeRADIUS (CA = the test CA); MSK from the TLS keys."""
    server = RadiusIkeeap(spawn, topology, tmp_path / "ikeeap",
                          radius_toml([("127.0.0.1", AUTH_PORT)], accounting=False))
    ini = _login(charon_initiator, topology, server, "eap-tls", user="alice@example.test",
                 cacerts=[server.ca_path, _radius_ca(test_pki, tmp_path)], aaa_id="radius.example.test",
                 cert=client_cert.cert, key=client_cert.key, local_id="alice@example.test")
    assert len(ini.established_sas()) == 1, ini.list_sas()
    assert "IKE SA established: alice@example.test via radius" in server.log()


def _radius_ca(test_pki, tmp_path: Path) -> Path:
    """The CA of the RADIUS server certificate under a name that does not collide with the
    ikeeap CA's ca.pem in charon's x509ca directory."""
    path = tmp_path / "radius-ca.pem"
    path.write_bytes(Path(test_pki.ca_cert_path).read_bytes())
    return path


@pytest.mark.parametrize("mode", ["missing", "forged"])
def test_reply_without_valid_message_authenticator_is_ignored(spawn, topology, tmp_path,
                                                              charon_initiator, mode):
    """BlastRADIUS: an Accept with a correct Response Authenticator but a missing or forged
    Message-Authenticator must not log anyone in (EAP-MD5 has no key to catch it later)."""
    hostile = spawn(topology.responder_ns, [sys.executable, "-m", "tests.interop.hostile_radius",
                                            "--port", AUTH_PORT, "--secret", SECRET,
                                            "--mode", mode], name="hostile",
                    cwd=Path(__file__).resolve().parents[2])
    wait_udp_bound(topology.responder_ns, AUTH_PORT, "127.0.0.1", proc=hostile)
    server = RadiusIkeeap(spawn, topology, tmp_path / "ikeeap", radius_toml(
        [("127.0.0.1", AUTH_PORT)], timeout=0.5, retries=1, accounting=False))
    ini = _login(charon_initiator, topology, server, "eap-md5", timeout=15)
    assert ini.established_sas() == []
    assert "answered" in Path(hostile.log_path).read_text()  # it did send its forgeries
    dropped = "missing Message-Authenticator" if mode == "missing" else "bad Message-Authenticator"
    assert f"to Access-Request dropped: {dropped}" in server.log()
    assert "IKE SA established" not in server.log()


def test_status_server_probes_keep_the_stock_freeradius_alive(spawn, topology, tmp_path,
                                                              freeradius, charon_initiator):
    """Debian's FreeRADIUS answers Status-Server without Message-Authenticator; with probes
    on, the server must stay alive and logins keep working (it used to be marked dead)."""
    server = RadiusIkeeap(spawn, topology, tmp_path / "ikeeap", radius_toml(
        [("127.0.0.1", AUTH_PORT)], accounting=False, extra="status_server_interval = 1"))
    time.sleep(3.5)  # three probes answered
    ini = _login(charon_initiator, topology, server, "eap-mschapv2")
    assert len(ini.established_sas()) == 1, server.log()
    log = server.log()
    assert "marked dead" not in log and "dropped" not in log, log


def test_check_config_probe_gets_a_verdict_from_freeradius(spawn, topology, tmp_path,
                                                           freeradius):
    """check-config --probe against Debian's FreeRADIUS: OK for it, FAILED for a closed port."""
    directory = tmp_path / "probe"
    directory.mkdir()
    path = IkeeapConfig(topology.responder_addr, eap_methods=("radius",)).write(directory)
    path.write_text(path.read_text() + "\n" + radius_toml(
        [("127.0.0.1", AUTH_PORT), ("127.0.0.1", AUTH_PORT + 50)], timeout=0.5, retries=0,
        accounting=False))
    out = subprocess.run(["ip", "netns", "exec", str(topology.responder_ns), sys.executable,
                          "-m", "ikeeap", "check-config", "--probe", "--config", str(path)],
                         capture_output=True, text=True, timeout=30, check=False)
    assert out.returncode == 3, out.stdout + out.stderr
    assert f"probe radius 127.0.0.1:{AUTH_PORT}: OK (Status-Server answered in" in out.stdout
    assert f"probe radius 127.0.0.1:{AUTH_PORT + 50}: FAILED (no answer" in out.stdout
