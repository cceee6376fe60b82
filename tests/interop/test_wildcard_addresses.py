"""ikeeap on wildcard sockets (listen = 0.0.0.0 / ::) against real strongSwan on a plain link:
NAT detection hashes the address the client wrote to, so nobody thinks there is a NAT and
the client stays on port 500 (it used to float to 4500: "remote host is behind NAT")."""

from __future__ import annotations

import json
import subprocess
import sys

from .ikeeap_server import SERVER_ID, USERS, IkeeapConfig, ServedIkeeap


def _serve(spawn, topology, tmp_path, listen: str) -> ServedIkeeap:
    directory = tmp_path / "ikeeap"
    directory.mkdir()
    path = IkeeapConfig(listen).write(directory)
    return ServedIkeeap(spawn, topology, directory, path)


def _login(charon_initiator, topology, server, **kw):
    ini = charon_initiator(topology, local_auth="eap-mschapv2", eap_id="alice",
                           eap_secret=USERS["alice"], cacerts=[server.ca_path],
                           remote_id=SERVER_ID, **kw)
    ini.initiate(timeout=15)
    assert len(ini.established_sas()) == 1, ini.list_sas()
    return ini


def _sas(topology, server) -> list[dict]:
    out = subprocess.run(["ip", "netns", "exec", str(topology.responder_ns), sys.executable,
                          "-m", "ikeeap", "list-sas", "--json", "--config",
                          str(server.config_path)], capture_output=True, text=True,
                         timeout=30, check=True)
    return json.loads(out.stdout)


def test_ipv4_wildcard_sees_no_nat(spawn, topology, tmp_path, charon_initiator):
    server = _serve(spawn, topology, tmp_path, "0.0.0.0")
    ini = _login(charon_initiator, topology, server)
    log = ini.log_text()
    assert "behind NAT" not in log, log
    (sa,) = _sas(topology, server)
    assert sa["nat"] is False
    assert sa["local"] == {"address": topology.responder_addr, "port": 500}  # not 0.0.0.0


def test_ipv6_wildcard_login_sees_no_nat(spawn, topology_factory, tmp_path, charon_initiator):
    topology = topology_factory(ipv6=True)
    server = _serve(spawn, topology, tmp_path, "::")
    ini = _login(charon_initiator, topology, server, local_addr=topology.initiator_addr6,
                 peer_addr=topology.responder_addr6)
    assert "behind NAT" not in ini.log_text()
    (sa,) = _sas(topology, server)
    assert sa["nat"] is False and sa["local"]["address"] == topology.responder_addr6
    assert sa["peer"]["address"] == topology.initiator_addr6
