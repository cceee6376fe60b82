"""Hardening against real strongSwan and real UDP: a spoofed-source flood with a login in
the middle (cookies), RFC 7383 fragments both ways."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ikeeap.initiator.config import InitiatorConfig
from ikeeap.initiator.initiator import Initiator

from .ikeeap_server import SERVER_ID, USERS, IkeeapServer

FLOOD = 50_000
FLOOD_RATE = 4_000  # per second: 12.5 s of flood
HALF_OPEN_TIMEOUT = 3
_SENDER = Path(__file__).resolve().parent / "flood_sender.py"


def _rss_kib(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+)", status).group(1))


def _udp_in(ns) -> tuple[int, int]:
    """(InDatagrams, RcvbufErrors) of the namespace."""
    out = subprocess.run(["ip", "netns", "exec", str(ns), "cat", "/proc/net/snmp"],
                         capture_output=True, text=True, check=True).stdout
    names, values = [line.split() for line in out.splitlines() if line.startswith("Udp:")][:2]
    row = dict(zip(names[1:], map(int, values[1:])))
    return row["InDatagrams"], row["RcvbufErrors"]


def _login(charon_initiator, topology, server, **kw):
    ini = charon_initiator(topology, cacerts=[server.ca_path], remote_id=SERVER_ID,
                           local_auth="eap-mschapv2", eap_id="alice",
                           eap_secret=USERS["alice"], **kw)
    ini.initiate(timeout=20)
    return ini


def test_spoofed_flood_with_login_in_the_middle(spawn, topology, charon_initiator, tmp_path):
    server = IkeeapServer(spawn, topology, tmp_path / "ikeeap",
                          extra_server={"half_open_timeout": HALF_OPEN_TIMEOUT,
                                        "log_level": "info"},
                          extra_tables={"hardening": {"cookie_threshold": 20}})
    # Answers to the spoofed 10/8 sources go to the initiator namespace, which drops them.
    subprocess.run(["ip", "netns", "exec", str(topology.responder_ns), "ip", "route", "add",
                    "10.0.0.0/8", "via", topology.initiator_addr], check=True)
    template = tmp_path / "sa_init.bin"
    template.write_bytes(Initiator(InitiatorConfig(identity="flood", password="x"),
                                   (topology.initiator_addr, 500),
                                   (topology.responder_addr, 500)).start(0.0)[0].data)
    rss_before, (udp_before, drops_before) = _rss_kib(server.proc.pid), \
        _udp_in(topology.responder_ns)
    sender = spawn(topology.initiator_ns, [sys.executable, _SENDER, topology.responder_addr,
                                           template, FLOOD, FLOOD_RATE], name="flood")
    time.sleep(2)
    ini = _login(charon_initiator, topology, server)
    assert sender.poll() is None, "the flood ended before the login was done"
    assert len(ini.established_sas()) == 1 and ini.child_sa_negotiated()
    assert re.search(r"IKE_SA_INIT response 0 \[ N\(COOKIE\) \]", ini.log_text())
    assert sender.wait(timeout=60) == 0
    time.sleep(0.5)
    rss_after = _rss_kib(server.proc.pid)
    udp_after, drops_after = _udp_in(topology.responder_ns)
    print(f"\nflood: RSS {rss_before} -> {rss_after} KiB; UDP datagrams received "
          f"{udp_after - udp_before}, dropped for a full buffer {drops_after - drops_before}")
    assert udp_after - udp_before >= FLOOD * 0.8
    assert rss_after - rss_before < 30_000
    log = server.log()
    assert "cookies required: 20 half-open SAs" in log
    time.sleep(HALF_OPEN_TIMEOUT + 1)  # the flood's half-open SAs time out
    ini.terminate()
    ini.initiate(timeout=20)  # a later login needs no cookie: state is back to normal
    assert len(ini.established_sas()) == 1
    assert "cookies no longer required: 0 half-open SAs" in server.log()


@pytest.mark.parametrize("switch_off", [False, True])
def test_fragmentation_force_both_ways(spawn, topology, charon_initiator, tmp_path,
                                       switch_off):
    """charon with ``fragmentation = force`` and 200-octet fragments; ikeeap fragments its
    certificate-carrying IKE_AUTH response at 600 octets unless the connection says no."""
    server = IkeeapServer(spawn, topology, tmp_path / "ikeeap",
                          extra_tables={"hardening": {"fragment_size": 600}},
                          extra_connection={"fragmentation": not switch_off})
    ini = _login(charon_initiator, topology, server, fragmentation="force",
                 strongswan_extra={"charon": {"fragment_size": 200}})
    assert len(ini.established_sas()) == 1 and ini.child_sa_negotiated()
    log = ini.log_text()
    assert re.search(r"splitting IKE message .* into \d+ fragments", log)  # we reassembled
    reassembled = "reassembled fragmented IKE message" in log
    assert reassembled is not switch_off


@pytest.mark.parametrize("pfs", [False, True])
def test_strongswan_rekeys_ike_and_child_sa(spawn, topology, charon_initiator, tmp_path, pfs):
    """Short lifetimes make charon rekey the Child SA (with/without PFS) and the IKE SA."""
    server = IkeeapServer(spawn, topology, tmp_path / "ikeeap")
    ini = _login(charon_initiator, topology, server, kernel="libipsec",
                 esp_proposals=["aes128-sha256-modp2048" if pfs else "aes128-sha256"],
                 conn_extra={"rekey_time": "6s", "over_time": "30s", "rand_time": "0s"},
                 child_extra={"rekey_time": "3s", "life_time": "30s", "rand_time": "0s"})
    assert len(ini.established_sas()) == 1
    assert ini.wait_for_log(r"rekeyed between", timeout=15)
    assert ini.wait_for_log(r"closing CHILD_SA .* with SPIs", timeout=5)
    time.sleep(1)
    (sa,) = ini.established_sas()
    log = server.log()
    assert "IKE SA rekeyed to" in log
    assert re.search(r"CHILD SA \w+/\w+ rekeys \w+" + (" with PFS" if pfs else "$"), log,
                     re.MULTILINE)
    assert "peer deleted the IKE SA" in log  # the old one, after the rekey
    assert sa["state"] == "ESTABLISHED"


def test_dead_initiator_is_cleaned_up_by_liveness_checks(spawn, topology, charon_initiator,
                                                         tmp_path):
    server = IkeeapServer(spawn, topology, tmp_path / "ikeeap",
                          extra_tables={"hardening": {"dpd_interval": 1, "dpd_timeout": 2}})
    ini = _login(charon_initiator, topology, server)
    assert len(ini.established_sas()) == 1
    assert ini.wait_for_log(r"parsed INFORMATIONAL request 1 \[ \]", timeout=10)  # answered checks
    assert "peer is dead" not in server.log()
    ini.proc.kill()  # no Delete: the responder must find out by itself
    deadline = time.monotonic() + 10
    while "peer is dead" not in server.log() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert re.search(r"no answer to liveness checks for \d+ s: peer is dead", server.log())
