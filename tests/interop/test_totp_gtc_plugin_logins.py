"""The example plugin plugins/totp_gtc.py end to end: strongSwan's eap-gtc client logs in to
`ikeeap serve` with secret = password + the current TOTP code (RFC 6238) and cannot reuse
that code; eapol_test does the same through `ikeeap radius-front` (the kit's eapol_login)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
import time
from pathlib import Path

import pytest

from ikeeap.testkit import eapol_login
from ikeeap.testkit.radius import method_tables

from .ikeeap_server import SERVER_ID, USERS, IkeeapConfig, ServedIkeeap

PLUGINS = Path(__file__).resolve().parents[2] / "plugins"
SEED = b"interop-totp-seed-20"
TOTP_CONFIG = {"secrets": {"alice": base64.b32encode(SEED).decode()}}


def current_code(at: float | None = None) -> str:
    """RFC 6238 with SHA-1, 6 digits, 30 s steps: written out here, independent of the plugin."""
    counter = int((time.time() if at is None else at) // 30)
    mac = hmac.new(SEED, struct.pack(">Q", counter), hashlib.sha1).digest()
    value = int.from_bytes(mac[mac[-1] & 15:(mac[-1] & 15) + 4], "big") & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


@pytest.fixture
def totp_server(spawn, topology, tmp_path):
    directory = tmp_path / "ikeeap"
    directory.mkdir()
    config = IkeeapConfig(topology.responder_addr, eap_methods=("totp-gtc",)).write(directory)
    with config.open("a") as out:
        out.write("\n" + method_tables("totp-gtc", TOTP_CONFIG, PLUGINS))
    return directory, ServedIkeeap(spawn, topology, directory, config).proc


def test_strongswan_eap_gtc_logs_in_with_password_and_code_then_replay_fails(
        totp_server, charon_initiator, topology):
    directory, proc = totp_server
    log = Path(proc.log_path)
    ini = charon_initiator(topology, local_auth="eap-gtc", eap_id="alice",
                           eap_secret=USERS["alice"] + current_code(),
                           cacerts=[directory / "state" / "ca.pem"], remote_id=SERVER_ID)
    ini.initiate(timeout=15)
    assert len(ini.established_sas()) == 1, ini.list_sas()
    assert ini.child_sa_negotiated()
    assert "IKE SA established: alice via totp-gtc" in log.read_text()

    ini.terminate()
    ini.initiate(timeout=10)  # the same secret again: the code is spent
    assert ini.established_sas() == []
    assert "TOTP code already used (replay)" in log.read_text()


def test_strongswan_with_password_only_is_refused(totp_server, charon_initiator, topology):
    directory, proc = totp_server
    ini = charon_initiator(topology, local_auth="eap-gtc", eap_id="alice",
                           eap_secret=USERS["alice"],
                           cacerts=[directory / "state" / "ca.pem"], remote_id=SERVER_ID)
    ini.initiate(timeout=10)
    assert ini.established_sas() == []
    assert "totp-gtc authentication failed" in Path(proc.log_path).read_text()


def test_eapol_test_gtc_through_the_radius_front(tmp_path):
    """Another real peer (wpa_supplicant) via the kit's eapol_login; then a wrong code."""
    network = {"eap": "GTC", "identity": "alice", "password": "pw" + current_code()}
    result = eapol_login("totp-gtc", network, tmp_path / "ok", plugins_dir=PLUGINS,
                         config=TOTP_CONFIG, users={"alice": "pw"}, no_mppe=True)
    assert result.success, result.output
    wrong = dict(network, password="pw000000" if current_code() != "000000" else "pw111111")
    result = eapol_login("totp-gtc", wrong, tmp_path / "bad", plugins_dir=PLUGINS,
                         config=TOTP_CONFIG, users={"alice": "pw"}, no_mppe=True, timeout=5)
    assert not result.success
