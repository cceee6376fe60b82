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
from pathlib import Path

import pytest

from .charon import Topology
from .ikeeap_server import PSK, SERVER_ID, IkeeapConfig, ServedIkeeap
from .libreswan import (
    Pluto,
    libreswan_unavailable_reason,
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
