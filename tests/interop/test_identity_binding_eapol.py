"""Who logs in through EAP-TTLS, with wpa_supplicant's eapol_test as the real peer (outer
identity = ``anonymous_identity``, inner PAP user = ``identity``) against ``ikeeap
radius-front``: the inner user is authorised, another user's outer identity is refused."""

from __future__ import annotations

import pytest

from .eapol import RadiusFront, eapol_test, front_config, require_eapol_test

USERS = {"alice": "alice-ttls-pw", "bob": "bob-ttls-pw"}


def _front(tmp_path_factory, test_pki, name: str, extra_connection_lines: str = ""
           ) -> RadiusFront:
    require_eapol_test()
    workdir = tmp_path_factory.mktemp(name)
    tls = test_pki.issue("radius.example.test", sans=["radius.example.test"],
                         filename=f"ttls-{name}")
    config = front_config(workdir, eap_methods=["ttls"], users=USERS, methods={
        "ttls": {"certificate": str(tls.cert), "private_key": str(tls.key)}})
    if extra_connection_lines:  # the connection table is the one before [users]
        text = config.read_text().replace("[users]", extra_connection_lines + "\n[users]", 1)
        config.write_text(text)
    return RadiusFront(config, workdir)


@pytest.fixture(scope="module")
def front(tmp_path_factory, test_pki):
    server = _front(tmp_path_factory, test_pki, "identity-default")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def strict_front(tmp_path_factory, test_pki):
    server = _front(tmp_path_factory, test_pki, "identity-strict",
                    'outer_identity = "must-match"')
    yield server
    server.stop()


def _ttls(ca, outer: str, inner: str = "alice") -> dict:
    return {"eap": "TTLS", "identity": inner, "anonymous_identity": outer,
            "password": USERS[inner], "phase2": "auth=PAP", "ca_cert": str(ca)}


@pytest.mark.parametrize("outer", ["anonymous", "anonymous@example.test", "@example.test",
                                   "alice"])
def test_inner_user_logs_in_under_an_anonymous_or_own_outer_identity(front, tmp_path, test_pki,
                                                                   outer):
    result = eapol_test(front, _ttls(test_pki.ca_cert_path, outer), tmp_path)
    assert result.success, result.output
    assert result.mppe_ok is True, result.output
    assert "EAP ttls for 'alice' succeeded" in front.log()


def test_alices_password_under_bobs_outer_identity_is_refused(front, tmp_path, test_pki):
    """Before the fix this logged in "bob" with alice's inner credentials."""
    result = eapol_test(front, _ttls(test_pki.ca_cert_path, "bob"), tmp_path, timeout=5)
    assert not result.success, result.output
    assert "outer identity 'bob' is neither 'alice' nor anonymous" in front.log()
    assert "EAP ttls for 'bob' succeeded" not in front.log()


def test_must_match_refuses_an_anonymous_outer_identity(strict_front, tmp_path, test_pki):
    result = eapol_test(strict_front, _ttls(test_pki.ca_cert_path, "anonymous"), tmp_path, timeout=5)
    assert not result.success, result.output
    assert "outer identity 'anonymous' does not match 'alice'" in strict_front.log()
    result = eapol_test(strict_front, _ttls(test_pki.ca_cert_path, "alice"), tmp_path)
    assert result.success, result.output
