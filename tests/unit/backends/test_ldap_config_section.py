"""The [ldap] table: defaults, secrets from file/env, every problem reported with its key."""

from __future__ import annotations

import textwrap

import pytest

from ikeeap.config import ConfigError, load_config

BASE = """
[server]
identity = "vpn.example.test"
state_dir = "state"
[certificates]
[[connections]]
name = "rw"
eap_methods = ["gtc", "ttls"]
password_backend = "ldap"
"""


def _load(tmp_path, ldap: str):
    path = tmp_path / "ikeeap.toml"
    path.write_text(BASE + textwrap.dedent(ldap))
    return load_config(path)


def test_full_table_with_password_file(tmp_path):
    (tmp_path / "ldap.secret").write_text("s3cret\n")
    config = _load(tmp_path, """
        [ldap]
        servers = ["ldap://a.example.test", "ldaps://b.example.test:1636"]
        base_dn = "ou=people,dc=example,dc=test"
        bind_dn = "cn=svc,dc=example,dc=test"
        bind_password_file = "ldap.secret"
        tls = "starttls"
        group_dn = "cn=vpn-users,dc=example,dc=test"
    """)
    ldap = config.sections["ldap"]
    assert [s.url for s in ldap.servers] == ["ldap://a.example.test:389",
                                             "ldaps://b.example.test:1636"]
    assert ldap.bind_password == "s3cret"
    assert ldap.tls_verify is True and ldap.filter == "(uid={user})"
    assert "s3cret" not in repr(ldap)
    assert config.connections[0].password_backend == "ldap"


def test_password_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("IKEEAP_TEST_LDAP_PW", "from-env")
    config = _load(tmp_path, """
        [ldap]
        servers = ["ldap://a"]
        base_dn = "dc=x"
        bind_dn = "cn=svc,dc=x"
        bind_password_env = "IKEEAP_TEST_LDAP_PW"
    """)
    assert config.sections["ldap"].bind_password == "from-env"


def test_every_problem_is_reported(tmp_path):
    with pytest.raises(ConfigError) as err:
        _load(tmp_path, """
            [ldap]
            servers = ["http://a", "ldaps://b"]
            filter = "(uid=%s)"
            bind_dn = "cn=svc"
            tls = "maybe"
            response_timeout = 0
            threads = 0
            colour = "blue"
        """)
    text = "\n".join(err.value.problems)
    for key in ("ldap.servers[0]", "ldap.base_dn", "ldap.filter", "ldap.bind_password",
                "ldap.tls", "ldap.response_timeout", "ldap.threads", "ldap.colour",
                "connections[0].password_backend"):
        assert key in text, key


def test_connection_naming_missing_backend(tmp_path):
    path = tmp_path / "ikeeap.toml"
    path.write_text(BASE)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert "needs a [ldap] table" in "\n".join(err.value.problems)


def test_shipped_ldap_example_passes_check_config(capsys):
    from pathlib import Path

    from ikeeap.cli import main

    example = Path(__file__).resolve().parents[3] / "conf" / "ldap.example.toml"
    assert main(["check-config", "--config", str(example)]) == 0
    assert "OK" in capsys.readouterr().out
