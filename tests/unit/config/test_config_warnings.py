"""check-config's warnings: what a config allows but an administrator did not mean."""

from __future__ import annotations

from pathlib import Path

from ikeeap.cli import main
from ikeeap.config import load_config
from ikeeap.config_warnings import config_warnings

REPO = Path(__file__).resolve().parents[3]


def test_shipped_examples_warn_of_the_dns_in_the_pool_and_placeholder_secrets():
    ikeeap = config_warnings(load_config(REPO / "conf" / "ikeeap.toml"))
    assert [w.split(": warning: ")[0].rsplit(":", 1)[1] for w in ikeeap] == ["connections[0].pool"]
    radius = "\n".join(config_warnings(load_config(REPO / "conf" / "radius.example.toml")))
    assert "radius.servers[0].secret: warning: the example placeholder secret" in radius
    ldap = "\n".join(config_warnings(load_config(REPO / "conf" / "ldap.example.toml")))
    assert "ldap.bind_password: warning: the example placeholder password" in ldap


def test_ldap_without_tls_is_a_warning(tmp_path):
    text = (REPO / "conf" / "ldap.example.toml").read_text().replace(
        'tls = "starttls"', 'tls = "none"')
    path = tmp_path / "ldap.toml"
    path.write_text(text.replace('"ldap.secret"', str(REPO / "conf" / "ldap.secret").join('""')))
    assert any("ldap.tls: warning" in w for w in config_warnings(load_config(path)))


def test_check_config_prints_the_warnings(capsys):
    assert main(["check-config", "--config", str(REPO / "conf" / "ikeeap.toml")]) == 0
    out = capsys.readouterr().out
    assert "connections[0].pool: warning: 10.99.0.0/24 contains the DNS server 10.99.0.1" in out
