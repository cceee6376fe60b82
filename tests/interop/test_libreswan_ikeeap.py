"""libreswan's pluto (4.10, Debian 12) as a real IKEv2 initiator against ``ikeeap serve``.

pluto can only authenticate with a PSK here (its EAP code is responder-only, ikeeap has no
certificate-authenticated client connections), so every login uses the test config's ``psk``
connection (remote_id ``*.psk.test``).  The kernel has no ESP, see libreswan.py for how the
Child SAs are judged and why most tests use a childless IKE SA.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .charon import Topology
from .ikeeap_server import PSK, SERVER_ID, IkeeapConfig, ServedIkeeap
from .libreswan import (
    Pluto,
    child_sa_outcome,
    libreswan_unavailable_reason,
    nat_topology,
    psk_conn,
)

CLIENT_ID = "dev1.psk.test"


def _secret(client_id: str = CLIENT_ID, psk: str = PSK) -> str:
    return f'@{client_id} @{SERVER_ID} : PSK "{psk}"'


@pytest.fixture(scope="session")
def libreswan_env(interop_env) -> None:
    reason = libreswan_unavailable_reason()
    if reason:
        if os.environ.get("IKEEAP_REQUIRE_INTEROP") == "1":
            pytest.fail(f"IKEEAP_REQUIRE_INTEROP=1 but {reason}")
        pytest.skip(reason)


def _failed(request: pytest.FixtureRequest) -> bool:
    rep = getattr(request.node, "rep_call", None)
    return rep is None or rep.failed


@pytest.fixture
def pluto(libreswan_env, tmp_path, request):
    """``pluto(topology, conns=None, **kw)`` -> started :class:`Pluto` in the topology's
    initiator namespace; conns default to one ``psk`` connection to the responder."""
    made: list[Pluto] = []

    def make(topology: Topology, conns: dict | None = None, **kw) -> Pluto:
        if conns is None:
            conns = {"psk": psk_conn(left=topology.initiator_addr,
                                     right=topology.responder_addr,
                                     leftid=CLIENT_ID, rightid=SERVER_ID)}
        kw.setdefault("secrets", [_secret()])
        p = Pluto(f"pluto{len(made) + 1}", topology.initiator_ns,
                  tmp_path / f"pluto-{len(made) + 1}", conns=conns, **kw)
        made.append(p)
        return p.start()

    yield make
    for p in reversed(made):
        p.stop()
        if _failed(request):
            print(f"\n===== pluto {p.name} log {p.log_path} =====\n{p.log_tail(200)}")


def _serve(spawn, topology: Topology, tmp_path: Path, listen: str | None = None,
           **config) -> ServedIkeeap:
    directory = tmp_path / "ikeeap"
    directory.mkdir()
    path = IkeeapConfig(listen or topology.responder_addr, **config).write(directory)
    return ServedIkeeap(spawn, topology, directory, path)


def _sas(topology: Topology, server: ServedIkeeap) -> list[dict]:
    out = subprocess.run(["ip", "netns", "exec", str(topology.responder_ns), sys.executable,
                          "-m", "ikeeap", "list-sas", "--json", "--config",
                          str(server.config_path)], capture_output=True, text=True,
                         timeout=30, check=True)
    return json.loads(out.stdout)


# --------------------------------------------------------------------------------------------


def test_psk_login(spawn, topology, tmp_path, pluto):
    server = _serve(spawn, topology, tmp_path)
    ini = pluto(topology, childless=True)
    out = ini.initiate("psk")
    assert "established IKE SA; authenticated peer using authby=secret and ID_FQDN " \
        f"'@{SERVER_ID}'" in out, out
    (state,) = ini.wait_ike_sas(1, "psk")
    assert state.port == 500
    (sa,) = _sas(topology, server)
    assert sa["state"] == "established"
    assert sa["ike_identity"] == CLIENT_ID and sa["connection"] == "psk"
    assert sa["method"] == "psk" and sa["nat"] is False
    assert sa["peer"] == {"address": topology.initiator_addr, "port": 500}
    assert "login ok user=dev1.psk.test" in server.log()


def test_wrong_psk_and_foreign_identity_are_refused(spawn, topology, tmp_path, pluto):
    server = _serve(spawn, topology, tmp_path)
    conns = {
        "wrong-psk": psk_conn(left=topology.initiator_addr, right=topology.responder_addr,
                              leftid="dev2.psk.test", rightid=SERVER_ID),
        "foreign-id": psk_conn(left=topology.initiator_addr, right=topology.responder_addr,
                               leftid="dev3.other.test", rightid=SERVER_ID),
    }
    ini = pluto(topology, conns, childless=True, revival=False,
                secrets=[_secret("dev2.psk.test", "not-the-" + PSK), _secret("dev3.other.test")])
    for name in conns:
        out = ini.initiate(name)
        assert "AUTHENTICATION_FAILED" in out, out
    assert ini.ike_sas() == []
    assert _sas(topology, server) == []
    log = server.log()
    assert "login ok" not in log
    assert "dev2.psk.test" in log and "dev3.other.test" in log


# IKE and ESP suites: pluto offers exactly one of each, so an answer it accepts is that one.
SUITES = {
    # name: (pluto ike=, pluto esp=, what pluto logs, ikeeap list-sas suite)
    "aes-cbc-sha256": ("aes256-sha2_256-modp2048", "aes256-sha2_256",
                       "cipher=AES_CBC_256 integ=HMAC_SHA2_256_128 prf=HMAC_SHA2_256 "
                       "group=MODP2048", "encr=12/256 prf=5 integ=12 dh=14"),
    "aes-gcm": ("aes_gcm128-sha2_384-ecp384", "aes_gcm256",
                "cipher=AES_GCM_16_128 integ=n/a prf=HMAC_SHA2_384 group=DH20",
                "encr=20/128 prf=6 integ=0 dh=20"),
    "chacha20-poly1305": ("chacha20_poly1305-sha2_256-curve25519", "chacha20_poly1305",
                          "cipher=CHACHA20_POLY1305_256 integ=n/a prf=HMAC_SHA2_256 "
                          "group=DH31", "encr=28/0 prf=5 integ=0 dh=31"),
}


@pytest.mark.parametrize("suite", sorted(SUITES))
def test_suite_ike_and_child_sa(spawn, topology, tmp_path, pluto, suite):
    """IKE_AUTH with a Child SA: pluto accepts ikeeap's IKE and ESP choice and derives the
    keys; only the kernel then refuses the ESP SA (no ESP here), which pluto 4.10 answers by
    dropping the IKE SA (see libreswan.py)."""
    ike, esp, logged, listed = SUITES[suite]
    server = _serve(spawn, topology, tmp_path)
    conn = psk_conn(left=topology.initiator_addr, right=topology.responder_addr,
                    leftid=CLIENT_ID, rightid=SERVER_ID, ike=ike, esp=esp)
    ini = pluto(topology, {"psk": conn}, revival=False)
    out = ini.initiate("psk")
    assert f"sent IKE_AUTH request {{{logged}}}" in out, out
    assert "initiator established IKE SA; authenticated peer using authby=secret" in out, out
    (sa,) = _sas(topology, server)
    assert sa["suite"] == listed
    (child,) = sa["children"]
    # pluto's outbound ESP SA is ikeeap's inbound SPI: it got as far as installing it
    assert child_sa_outcome(ini.log_text(), child["spi_in"]) is not None, ini.log_tail()
    assert child["ts_remote"] == [f"{topology.initiator_addr}/32"], child
    assert child["ts_local"] == [f"{topology.responder_addr}/32"], child


def test_create_child_sa_on_a_childless_ike_sa(spawn, topology, tmp_path, pluto):
    """A second ``--initiate`` on the established (childless) IKE SA: CREATE_CHILD_SA for a new
    Child SA with PFS (pluto's default), which pluto accepts up to the kernel install."""
    server = _serve(spawn, topology, tmp_path)
    ini = pluto(topology, childless=True, revival=False)
    ini.initiate("psk")
    ini.wait_ike_sas(1)
    out = ini.initiate("psk")
    assert "sent CREATE_CHILD_SA request for new IPsec SA" in out, out
    assert "added with PFS" in server.log()
    (sa,) = _sas(topology, server)
    (child,) = sa["children"]
    assert child_sa_outcome(ini.log_text(), child["spi_in"]) is not None, ini.log_tail()


def test_ike_sa_rekeys_started_by_libreswan(spawn, topology, tmp_path, pluto):
    server = _serve(spawn, topology, tmp_path)
    ini = pluto(topology, childless=True)
    ini.initiate("psk")
    (first,) = ini.wait_ike_sas(1)
    (before,) = _sas(topology, server)
    ids = [before["id"]]
    serial = first.serial
    for _ in range(2):  # the second rekey runs on the keys of the first
        out = ini.whack("--name", "psk", "--rekey-ike").stdout
        assert f"initiator rekeyed IKE SA #{serial}" in out, out
        (now,) = ini.wait_ike_sas(1, predicate=lambda sas, s=serial: sas[0].serial > s)
        serial = now.serial
        (sa,) = _sas(topology, server)  # the old one is deleted (pluto sends the Delete)
        assert sa["id"] not in ids and sa["state"] == "established"
        assert sa["ike_identity"] == CLIENT_ID and sa["connection"] == "psk"
        ids.append(sa["id"])
    assert server.log().count("IKE SA rekeyed to") == 2
    assert "retransmission" not in ini.log_text()


def test_liveness_checks_started_by_libreswan(spawn, topology, tmp_path, pluto):
    """pluto 4.10 schedules liveness checks per Child SA; on the childless IKE SA its
    ``initiate-v2-liveness`` impairment starts the same empty INFORMATIONAL exchange."""
    server = _serve(spawn, topology, tmp_path)
    ini = pluto(topology, childless=True, debug="base")
    ini.initiate("psk")
    (state,) = ini.wait_ike_sas(1)
    for n in (2, 3, 4):  # message IDs 0 and 1 were IKE_SA_INIT and IKE_AUTH
        ini.whack("--impair", f"initiate-v2-liveness:{state.serial}")
        ini.wait_log(rf"Message ID: IKE #{state.serial} updating initiator received message "
                     rf"response {n} ", timeout=5)
    assert "retransmission" not in ini.log_text()
    (after,) = ini.wait_ike_sas(1)
    assert after.serial == state.serial
    (sa,) = _sas(topology, server)
    assert sa["state"] == "established"


def test_liveness_checks_started_by_ikeeap(spawn, topology, tmp_path, pluto):
    """ikeeap's [hardening] dpd_interval: pluto answers every check; once it is gone (SIGKILL,
    no Delete) ikeeap gives up after dpd_timeout and deletes the IKE SA."""
    server = _serve(spawn, topology, tmp_path,
                    extra_tables={"hardening": {"dpd_interval": 1, "dpd_timeout": 2}})
    ini = pluto(topology, childless=True)
    ini.initiate("psk")
    ini.wait_ike_sas(1)
    _wait(lambda: "liveness check 2 sent" in server.log(), 10, server.log)
    (sa,) = _sas(topology, server)  # 3 checks, each answered within dpd_timeout
    assert sa["state"] == "established"
    assert "peer is dead" not in server.log()
    ini.proc.kill()
    _wait(lambda: "peer is dead" in server.log(), 10, server.log)
    assert _sas(topology, server) == []


def _wait(predicate, timeout: float, what) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout}s:\n{what()[-3000:]}")
        time.sleep(0.1)


@pytest.fixture
def nat(interop_env, interop_name):
    topo = nat_topology(interop_name)
    yield topo
    topo.close()


def test_nat_traversal_through_a_real_nat(spawn, nat, tmp_path, pluto):
    """libreswan 10.77.0.2 behind an nftables masquerade (198.51.100.2): both sides detect it
    (NAT_DETECTION_*_IP) and float to UDP 4500."""
    server = _serve(spawn, nat, tmp_path)
    ini = pluto(nat, childless=True, debug="base")
    ini.initiate("psk")
    (state,) = ini.wait_ike_sas(1)
    assert state.port == 4500
    log = ini.log_text()
    assert "NAT_TRAVERSAL this end is behind NAT" in log
    assert "NAT_TRAVERSAL that end is NOT behind NAT" in log
    (sa,) = _sas(nat, server)
    assert sa["nat"] is True
    assert sa["peer"] == {"address": nat.nat_public_addr, "port": 4500}
    assert sa["local"] == {"address": nat.responder_addr, "port": 4500}
    # the floated SA works: a liveness check over 4500 is answered
    ini.whack("--impair", f"initiate-v2-liveness:{state.serial}")
    ini.wait_log(rf"Message ID: IKE #{state.serial} updating initiator received message "
                 r"response 2 ", timeout=5)


def test_no_nat_on_a_plain_link_with_wildcard_listen(spawn, topology, tmp_path, pluto):
    """ikeeap on 0.0.0.0 (IP_PKTINFO gives it each datagram's real destination for the NAT
    detection hash): pluto sees no NAT on either end, and nobody floats."""
    server = _serve(spawn, topology, tmp_path, listen="0.0.0.0")
    ini = pluto(topology, childless=True, debug="base")
    ini.initiate("psk")
    (state,) = ini.wait_ike_sas(1)
    assert state.port == 500
    log = ini.log_text()
    assert "NAT_TRAVERSAL this end is NOT behind NAT" in log
    assert "NAT_TRAVERSAL that end is NOT behind NAT" in log
    assert "that end is behind NAT" not in log and "floating" not in log
    (sa,) = _sas(topology, server)
    assert sa["nat"] is False
    assert sa["peer"] == {"address": topology.initiator_addr, "port": 500}
    assert sa["local"] == {"address": topology.responder_addr, "port": 500}
