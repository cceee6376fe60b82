"""``ikeeap serve`` as a process on loopback: the control socket commands from the CLI,
terminate and shutdown sending DELETE, reload (socket and SIGHUP) keeping SAs, a broken
reload changing nothing."""

from __future__ import annotations

import json
import signal
import stat
import subprocess
import sys
import time

import pytest
from opsharness import HOST, USERS, ServerProcess, UdpPeer, free_udp_port, write_config

from ikeeap.initiator.initiator import InitiatorState


@pytest.fixture
def server(tmp_path):
    srv = ServerProcess(tmp_path, write_config(tmp_path))
    yield srv
    srv.stop()


def _login(server, user, password=None, method="mschapv2"):
    peer = UdpPeer(server, user, password or USERS.get(user, "x"), method)
    peer.login()
    return peer


def test_list_sas_status_and_terminate_from_the_cli(server):
    alice = _login(server, "alice")
    bob = _login(server, "bob", method="md5")
    assert alice.ini.state == bob.ini.state == InitiatorState.ESTABLISHED
    assert stat.S_IMODE((server.directory / "ctl.sock").stat().st_mode) == 0o600
    out = server.cli("list-sas", "--json")
    assert out.returncode == 0, out.stderr
    sas = {v["eap_identity"]: v for v in json.loads(out.stdout)}
    a = sas["alice"]
    assert a["id"] == alice.ini.result.spi_r.hex() and a["state"] == "established"
    assert a["peer"] == {"address": "127.0.0.1", "port": alice.sock.getsockname()[1]}
    assert (a["method"], a["backend"], a["connection"]) == ("mschapv2", "local", "rw")
    assert a["virtual_ip"].startswith("10.77.0.") and a["age"] >= 0
    assert a["children"][0]["ts_remote"] == [a["virtual_ip"] + "/32"]
    assert sas["bob"]["method"] == "md5"
    table = server.cli("list-sas").stdout
    assert a["short_id"] in table and "alice" in table and "mschapv2" in table
    status = json.loads(server.cli("status", "--json").stdout)
    assert status["sas"]["established"] == 2 and status["logins"]["success"] == 2

    out = server.cli("terminate", "--user", "alice")
    assert out.returncode == 0 and a["short_id"] in out.stdout
    alice.pump(lambda: alice.ini.state == InitiatorState.CLOSED, timeout=5)
    assert alice.ini.state == InitiatorState.CLOSED  # it got and accepted our DELETE
    remaining = json.loads(server.cli("list-sas", "--json").stdout)
    assert [v["eap_identity"] for v in remaining] == ["bob"]
    assert server.cli("terminate", "--vip", "10.99.99.99").returncode == 1

    assert server.stop() == 0  # clean shutdown: bob is told too
    bob.pump(lambda: bob.ini.state == InitiatorState.CLOSED, timeout=5)
    assert bob.ini.state == InitiatorState.CLOSED
    assert "shutdown: deleting the IKE SA" in server.log()


def test_reload_adds_a_user_keeps_sas_and_a_broken_reload_changes_nothing(server, tmp_path):
    alice = _login(server, "alice")
    first_id = alice.ini.result.spi_r.hex()
    assert _login(server, "carol", "carol-pw").ini.state == InitiatorState.FAILED

    write_config(tmp_path, {**USERS, "carol": "carol-pw"})
    out = server.cli("reload")
    assert out.returncode == 0, out.stderr
    assert "1 IKE SAs kept" in out.stdout
    carol = _login(server, "carol", "carol-pw")
    assert carol.ini.state == InitiatorState.ESTABLISHED
    ids = {v["id"]: v for v in server.ctl("list-sas")}
    assert first_id in ids and ids[first_id]["state"] == "established"
    assert ids[carol.ini.result.spi_r.hex()]["virtual_ip"] != ids[first_id]["virtual_ip"]

    good = (tmp_path / "ikeeap.toml").read_text()
    (tmp_path / "ikeeap.toml").write_text(good.replace('name = "rw"', 'name = "rw"\nbogus = 1')
                                          + 'dave = { password = "dave-pw" }\n')
    out = server.cli("reload")
    assert out.returncode == 2
    assert "connections[0].bogus: unknown key" in out.stderr  # as check-config words it
    assert _login(server, "dave", "dave-pw").ini.state == InitiatorState.FAILED
    assert _login(server, "bob").ini.state == InitiatorState.ESTABLISHED
    assert len(server.ctl("list-sas")) == 3
    assert server.ctl("status")["reloads"] == 1

    write_config(tmp_path, {**USERS, "carol": "carol-pw", "erin": "erin-pw"})
    server.signal(signal.SIGHUP)
    deadline = time.monotonic() + 10
    while server.ctl("status")["reloads"] < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _login(server, "erin", "erin-pw").ini.state == InitiatorState.ESTABLISHED
    assert first_id in {v["id"] for v in server.ctl("list-sas")}


def test_a_second_server_on_the_same_state_refuses_to_start(server):
    """It used to keep running without a control socket; now it exits with one line."""
    second = subprocess.run(
        [sys.executable, "-m", "ikeeap", "serve", "--config", str(server.config),
         "--listen", HOST, "--port", str(free_udp_port()), "--nat-port", str(free_udp_port())],
        capture_output=True, text=True, timeout=30, check=False)
    assert second.returncode == 1, second.stdout + second.stderr
    assert "another ikeeap is running with this state" in second.stderr
    assert "Traceback" not in second.stderr
    assert server.proc.poll() is None  # the first one is untouched
