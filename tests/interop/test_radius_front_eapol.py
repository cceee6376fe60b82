"""wpa_supplicant's eapol_test, a real EAP peer, against ikeeap's own EAP server methods
through ``ikeeap radius-front`` (EAP over RADIUS, RFC 3579)."""

from __future__ import annotations

import pytest

from .eapol import RadiusFront, eapol_test, front_config, require_eapol_test

USERS = {"alice": "alice-front-pw", "bob": "bob-front-pw"}


@pytest.fixture(scope="module")
def front(tmp_path_factory):
    require_eapol_test()
    workdir = tmp_path_factory.mktemp("radius-front")
    config = front_config(workdir, eap_methods=["mschapv2", "md5", "gtc"], users=USERS)
    server = RadiusFront(config, workdir)
    yield server
    server.stop()


def _peer(eap: str, user: str = "alice", password: str | None = None) -> dict:
    return {"eap": eap, "identity": user, "password": password or USERS[user]}


def test_mschapv2_success_and_mppe_keys_match(front, tmp_path):
    """The MSK of ikeeap's MSCHAPv2 reaches the peer as MS-MPPE keys: eapol_test compares."""
    result = eapol_test(front, _peer("MSCHAPV2"), tmp_path)
    assert result.success, result.output
    assert result.mppe_ok is True, result.output
    assert "EAP mschapv2 for 'alice' succeeded with an MSK" in front.log()


@pytest.mark.parametrize("eap", ["MD5", "GTC"])
def test_methods_without_keys_succeed_after_nak(front, tmp_path, eap):
    """MSCHAPv2 is offered first; the peer NAKs to MD5/GTC and the front follows."""
    result = eapol_test(front, _peer(eap, "bob"), tmp_path, no_mppe=True)
    assert result.success, result.output
    assert f"EAP {eap.lower()} for 'bob' succeeded" in front.log()


@pytest.mark.parametrize("eap", ["MSCHAPV2", "MD5", "GTC"])
def test_wrong_password_fails(front, tmp_path, eap):
    result = eapol_test(front, _peer(eap, password="not-the-password"), tmp_path,
                        no_mppe=eap != "MSCHAPV2", timeout=5)
    assert not result.success
    assert "FAILURE" in result.output


def test_unknown_user_fails(front, tmp_path):
    result = eapol_test(front, _peer("MD5", "alice") | {"identity": "mallory"}, tmp_path,
                        no_mppe=True, timeout=5)
    assert not result.success


def test_wrong_radius_secret_gets_no_answer(front, tmp_path):
    """A request signed with another secret fails Message-Authenticator and is dropped."""
    result = eapol_test((front.host, front.port, "not-the-secret"), _peer("MD5"), tmp_path,
                        no_mppe=True, timeout=3)
    assert not result.success
    assert "bad Message-Authenticator" in front.log()
