"""Audit lines and secrets in the logs of real logins; JSON logs; the metrics endpoint."""

from __future__ import annotations

import json

import pytest
from opsharness import USERS, ServerProcess, UdpPeer, metrics_text, write_config

from ikeeap.initiator.initiator import InitiatorState


def _secrets(peer: UdpPeer) -> list[str]:
    """What must never be logged: passwords, and the MSK / Child SA keys of this login."""
    out = []
    res = peer.ini.result
    for blob in (res.msk, getattr(res.child, "keymat", None) if res.child else None):
        if blob:
            out += [blob.hex(), blob.hex().upper(), blob[:16].hex()]
    return out


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_no_secret_in_any_log_line_of_failed_and_successful_logins(tmp_path, log_format):
    extra = f'[logging]\nlevel = "debug"\nformat = "{log_format}"\n'
    server = ServerProcess(tmp_path, write_config(tmp_path, extra=extra))
    try:
        ok = UdpPeer(server, "alice", USERS["alice"])
        ok.login()
        bad = UdpPeer(server, "bob", "wrong-password-Qq7", method="md5")
        bad.login()
        bad2 = UdpPeer(server, "alice", "also-wrong-Ww3", method="mschapv2")
        bad2.login()
    finally:
        server.stop()
    assert ok.ini.state == InitiatorState.ESTABLISHED
    assert bad.ini.state == bad2.ini.state == InitiatorState.FAILED
    log = server.log()
    lines = [x for x in log.splitlines() if x.strip()]
    assert len(lines) > 15  # debug logging really ran
    for secret in [*USERS.values(), "wrong-password-Qq7", "also-wrong-Ww3", *_secrets(ok)]:
        assert secret not in log, f"secret found in the {log_format} log"
    if log_format == "json":
        records = [json.loads(x) for x in lines if x.startswith("{")]
        audit = [r for r in records if r["logger"] == "ikeeap.audit"]
        assert [(r["result"], r["user"]) for r in audit] == [
            ("ok", "alice"), ("failed", "bob"), ("failed", "alice")]
        assert audit[1]["method"] == "md5" and audit[1]["reason"]
        assert all(r["sa"] and r["peer"].startswith("127.0.0.1:") for r in audit)
        ike = [r for r in records if r["logger"] == "ikeeap.ike"]
        assert ike and all("sa" in r and "peer" in r for r in ike)  # every SA line
    else:
        audit = [x for x in lines if " ikeeap.audit: " in x]
        assert len(audit) == 3
        assert "login ok user=alice" in audit[0] and "backend=local" in audit[0]
        assert "login failed user=bob" in audit[1] and "method=md5" in audit[1]
        assert "reason=" in audit[2] and "from=127.0.0.1:" in audit[2]


def test_per_subsystem_levels(tmp_path):
    extra = '[logging]\nlevel = "warning"\nike = "debug"\n'
    server = ServerProcess(tmp_path, write_config(tmp_path, extra=extra))
    try:
        UdpPeer(server, "alice", USERS["alice"]).login()
    finally:
        server.stop()
    log = server.log()
    assert "DEBUG   ikeeap.ike:" in log and "IKE_SA_INIT answered" in log
    assert "ikeeap.control:" not in log and "INFO    ikeeap.server" not in log


def test_metrics_endpoint_reflects_logins_and_failures(tmp_path):
    server = ServerProcess(tmp_path, write_config(tmp_path, extra="[metrics]\nport = 0\n"))
    try:
        for user, pw, method in [("alice", USERS["alice"], "mschapv2"),
                                 ("bob", USERS["bob"], "md5"), ("bob", "nope", "md5")]:
            UdpPeer(server, user, pw, method).login()
        text = metrics_text(server.ctl("status")["metrics"])
    finally:
        server.stop()
    assert 'ikeeap_logins_total{backend="local",method="mschapv2",result="success"} 1.0' in text
    assert 'ikeeap_logins_total{backend="local",method="md5",result="success"} 1.0' in text
    assert 'ikeeap_logins_total{backend="local",method="md5",result="failure"} 1.0' in text
    assert 'ikeeap_login_failures_total{backend="local",method="md5",reason="eap_failure"}' \
        in text
    assert 'ikeeap_ike_sas{state="established"} 2.0' in text
    assert 'ikeeap_exchange_seconds_count{exchange="IKE_SA_INIT"} 3.0' in text
    assert "ikeeap_eap_step_seconds_bucket" in text and "ikeeap_login_seconds_count" in text
    assert "ikeeap_cookie_challenges_total 0.0" in text
    assert "ikeeap_false_retransmits_total 0.0" in text and "ikeeap_reassembly_octets 0.0" in text
