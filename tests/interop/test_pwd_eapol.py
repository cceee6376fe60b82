"""EAP-pwd (RFC 5931) server against a real peer: wpa_supplicant's eapol_test through the
RADIUS front hosting ikeeap's methods.  Success with matching MSK (MPPE keys) in groups 19,
20, 21 and with an NT-hash-only user (Prep RFC2759); a wrong password fails."""

from __future__ import annotations

import pytest

from ikeeap.crypto.mschap import nt_password_hash

from .eapol import RadiusFront, eapol_test, front_config, require_eapol_test

PASSWORD = "correct horse battery"


def _network(password: str, identity: str = "alice") -> dict[str, str]:
    return {"eap": "PWD", "identity": identity, "password": password}


@pytest.mark.parametrize("group", [19, 20, 21])
def test_eapol_test_pwd_login_succeeds_with_matching_msk(tmp_path, group):
    require_eapol_test()
    cfg = front_config(tmp_path, eap_methods=["pwd"], users={"alice": PASSWORD},
                       methods={"pwd": {"group": group, "server_id": "ikeeap.test"}})
    with RadiusFront(cfg, tmp_path) as front:
        res = eapol_test(front, _network(PASSWORD), tmp_path)
    assert res.success, res.output
    assert res.mppe_ok is True, res.output
    assert f"EAP-PWD (peer): using group {group}" in res.output


def test_eapol_test_pwd_with_nt_hash_storage_uses_prep_rfc2759(tmp_path):
    require_eapol_test()
    cfg = front_config(tmp_path, eap_methods=["pwd"], users={})
    text = cfg.read_text().replace(
        "[users]\n", f'[users]\nbob = {{ nt_hash = "{nt_password_hash(PASSWORD).hex()}" }}\n')
    cfg.write_text(text)
    with RadiusFront(cfg, tmp_path) as front:
        res = eapol_test(front, _network(PASSWORD, "bob"), tmp_path)
    assert res.success, res.output
    assert "prep=1" in res.output, res.output  # PasswordHashHash, no cleartext on the server
    assert res.mppe_ok is True, res.output


def test_eapol_test_pwd_wrong_password_fails(tmp_path):
    require_eapol_test()
    cfg = front_config(tmp_path, eap_methods=["pwd"], users={"alice": PASSWORD})
    with RadiusFront(cfg, tmp_path) as front:
        res = eapol_test(front, _network("not the password"), tmp_path, timeout=5)
    assert not res.success
    assert res.mppe_ok is not True  # eapol_test reports a mismatch when no keys came
    assert "confirm did not verify" in res.output, res.output
