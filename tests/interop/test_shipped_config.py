"""The configuration as shipped in conf/ works for a real strongSwan client (README promise)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from .charon import wait_udp_bound

REPO = Path(__file__).resolve().parents[2]


def test_strongswan_logs_in_as_demo_user_on_shipped_config(spawn, topology, charon_initiator,
                                                           tmp_path):
    shutil.copytree(REPO / "conf", tmp_path / "conf")
    shutil.copytree(REPO / "plugins", tmp_path / "plugins")
    config = tmp_path / "conf" / "ikeeap.toml"
    proc = spawn(topology.responder_ns,
                 [sys.executable, "-m", "ikeeap", "serve", "--config", config,
                  "--listen", topology.responder_addr], name="ikeeap")
    wait_udp_bound(topology.responder_ns, 4500, topology.responder_addr, proc=proc)
    log = Path(proc.log_path).read_text()
    assert "demo user       : demo / demo-password" in log
    ini = charon_initiator(topology, local_auth="eap-mschapv2", eap_id="demo",
                           eap_secret="demo-password", remote_id="vpn.example.org",
                           cacerts=[tmp_path / "state" / "ca.pem"])
    ini.initiate(timeout=15)
    sas = ini.established_sas()
    assert len(sas) == 1 and sas[0]["vips"][0].startswith("10.99.0.")
    assert ini.child_sa_negotiated()
