"""Config loading: the shipped example works, and every problem is reported as file:key."""

from __future__ import annotations

from pathlib import Path

import pytest

from ikeeap.cli import main
from ikeeap.config import ConfigError, load_config

REPO = Path(__file__).resolve().parents[3]


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "ikeeap.toml"
    path.write_text(text)
    return path


MINIMAL = """
[certificates]
[[connections]]
name = "rw"
eap_methods = ["md5"]
[users]
alice = { password = "pw" }
"""


def test_shipped_config_is_valid():
    config = load_config(REPO / "conf" / "ikeeap.toml", known_methods={"mschapv2", "md5", "gtc"})
    assert [c.name for c in config.connections] == ["rw-eap", "psk-devices"]
    assert config.connections[1].psk  # read from psk_file
    assert "demo" in config.users and "nt_hash" in config.users["bob"]
    assert config.server.state_dir.is_absolute()


def test_minimal_config_gets_defaults(tmp_path):
    config = load_config(_write(tmp_path, MINIMAL))
    assert config.server.port == 500 and config.server.nat_port == 4500
    assert config.ike_proposals and config.esp_proposals
    assert config.certificates.ca_cert == config.server.state_dir / "ca.pem"


def test_all_problems_are_reported_with_file_and_key(tmp_path):
    path = _write(tmp_path, """
[server]
port = "five hundred"
listen = ["not-an-ip"]
colour = "blue"
[proposals]
ike = ["aes128-sha256-modp1024", "aes128-nosuchalg-modp2048"]
[[connections]]
name = "p"
auth = "psk"
[[connections]]
name = "e"
auth = "kerberos"
pool = "10.0.0.0/33"
eap_methods = ["md5", "nosuch"]
[users]
eve = { colour = "x" }
""")
    with pytest.raises(ConfigError) as info:
        load_config(path, known_methods={"md5"})
    problems = info.value.problems
    expected_keys = [
        "server.port", "server.listen", "server.colour", "proposals.ike[0]", "proposals.ike[1]",
        "connections[0].psk", "connections[1].auth", "connections[1].pool",
        "connections[1].eap_methods", "users.eve",
    ]
    for key in expected_keys:
        assert any(p.startswith(f"{path}:{key}: ") for p in problems), (key, problems)


def test_secret_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("IKEEAP_TEST_PSK", "from-env")
    path = _write(tmp_path, '[[connections]]\nname = "p"\nauth = "psk"\n'
                            'psk_env = "IKEEAP_TEST_PSK"\n')
    assert load_config(path).connections[0].psk == "from-env"


def test_missing_environment_secret_is_a_problem(tmp_path, monkeypatch):
    monkeypatch.delenv("IKEEAP_NO_SUCH_VAR", raising=False)
    path = _write(tmp_path, '[[connections]]\nname = "p"\nauth = "psk"\n'
                            'psk_env = "IKEEAP_NO_SUCH_VAR"\n')
    with pytest.raises(ConfigError, match="psk_env: environment variable"):
        load_config(path)


def test_toml_syntax_error_names_the_file(tmp_path):
    path = _write(tmp_path, "[server\n")
    with pytest.raises(ConfigError, match=str(path)):
        load_config(path)


def test_check_config_command(tmp_path, capsys):
    good = _write(tmp_path, MINIMAL)
    assert main(["check-config", "--config", str(good)]) == 0
    assert "OK" in capsys.readouterr().out
    bad = tmp_path / "bad.toml"
    bad.write_text('[server]\nport = 70000\n[[connections]]\nname = "x"\nauth = "psk"\npsk = "k"\n')
    assert main(["check-config", "--config", str(bad)]) == 2
    assert f"{bad}:server.port: must be 0..65535" in capsys.readouterr().err


def test_identity_rules_of_a_connection(tmp_path):
    text = MINIMAL.replace('eap_methods = ["md5"]', 'eap_methods = ["md5"]\n'
                           'eap_id = ["*@admins.example.org", "group:vpn"]\n'
                           'outer_identity = "must-match"')
    conn = load_config(_write(tmp_path, text)).connections[0]
    assert conn.eap_id == ("*@admins.example.org", "group:vpn")
    assert conn.outer_identity == "must-match"
    default = load_config(_write(tmp_path, MINIMAL)).connections[0]
    assert (default.eap_id, default.outer_identity) == ((), "anonymous-or-match")


def test_bad_identity_rules_are_problems(tmp_path):
    text = MINIMAL.replace('eap_methods = ["md5"]', 'eap_methods = ["md5"]\n'
                           'eap_id = [3]\nouter_identity = "whatever"')
    with pytest.raises(ConfigError) as err:
        load_config(_write(tmp_path, text))
    assert "connections[0].eap_id" in str(err.value)
    assert "connections[0].outer_identity: must be one of" in str(err.value)
