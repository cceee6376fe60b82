"""Operations against a real strongSwan client: ``ikeeap status/list-sas`` show its SA,
``ikeeap terminate`` makes charon see our DELETE, ``ikeeap reload`` adds a user who then logs
in while the first SA stays up, a broken reload changes nothing, and a shutdown deletes the
remaining SA politely."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from .ikeeap_server import SERVER_ID, USERS, IkeeapServer

NEW_USER, NEW_PASSWORD = "dave", "dave-added-by-reload-7"


def _ikeeap(server: IkeeapServer, *argv: str) -> subprocess.CompletedProcess:
    # The control socket is a file: reachable from here although ikeeap runs in a netns.
    return subprocess.run([sys.executable, "-m", "ikeeap", *argv, "--config",
                           str(server.config_path)], capture_output=True, text=True,
                          timeout=30, check=False)


def _list(server: IkeeapServer) -> list[dict]:
    out = _ikeeap(server, "list-sas", "--json")
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def _login(ini, user: str, password: str) -> None:
    ini.config.eap_id, ini.config.eap_secret = user, password
    ini.write_config()
    res = ini.swanctl("--load-all", "--noprompt")
    assert res.ok, res
    ini.initiate(timeout=15)


@pytest.fixture
def server(spawn, topology, tmp_path) -> IkeeapServer:
    return IkeeapServer(spawn, topology, tmp_path / "ikeeap")


def test_status_terminate_reload_and_shutdown_with_strongswan(server, charon_initiator,
                                                               topology):
    ini = charon_initiator(topology, cacerts=[server.ca_path], remote_id=SERVER_ID,
                           local_auth="eap-mschapv2", eap_id="alice",
                           eap_secret=USERS["alice"])
    ini.initiate(timeout=15)
    (charon_sa,) = ini.established_sas()

    (sa,) = _list(server)
    assert sa["state"] == "established" and sa["eap_identity"] == "alice"
    assert sa["peer"]["address"] == topology.initiator_addr
    assert sa["peer"]["port"] in (500, 4500)
    assert (sa["method"], sa["backend"], sa["connection"]) == ("mschapv2", "local", "rw-eap")
    assert sa["virtual_ip"] == charon_sa["vips"][0]
    assert sa["id"] in str(charon_sa)  # our SPIr as charon lists it
    status = _ikeeap(server, "status")
    assert status.returncode == 0 and "1 established" in status.stdout

    text = server.config_path.read_text()
    server.config_path.write_text(text.replace(
        "[users]\n", f'[users]\n{NEW_USER} = {{ password = "{NEW_PASSWORD}" }}\n'))
    out = _ikeeap(server, "reload")
    assert out.returncode == 0, out.stderr
    _login(ini, NEW_USER, NEW_PASSWORD)
    assert len(ini.established_sas()) == 2, ini.list_sas()
    listed = {v["eap_identity"]: v for v in _list(server)}
    assert listed["alice"]["id"] == sa["id"] and listed["alice"]["state"] == "established"
    assert listed[NEW_USER]["state"] == "established"

    good = server.config_path.read_text()
    server.config_path.write_text(good.replace("[users]\n", "[users]\nbroken = 7\n"))
    out = _ikeeap(server, "reload")
    assert out.returncode == 2 and "users.broken: needs password or nt_hash" in out.stderr
    assert len(_list(server)) == 2
    assert json.loads(_ikeeap(server, "status", "--json").stdout)["reloads"] == 1

    mark = ini.log_mark()
    out = _ikeeap(server, "terminate", "--user", "alice")
    assert out.returncode == 0 and sa["short_id"] in out.stdout
    assert ini.wait_for_log(r"received DELETE for IKE_SA", timeout=10, start=mark), \
        ini.log_tail()
    remaining = ini.established_sas()
    assert len(remaining) == 1
    assert [v["eap_identity"] for v in _list(server)] == [NEW_USER]

    mark = ini.log_mark()
    server.proc.terminate()
    assert server.proc.wait(15) == 0
    assert ini.wait_for_log(r"received DELETE for IKE_SA", timeout=10, start=mark)
    assert ini.established_sas() == []
    assert "shutdown: deleting the IKE SA" in server.log()
