"""The [radius] table: validation with file:key errors, secrets from file/env, never in repr."""

from __future__ import annotations

from pathlib import Path

import pytest

from ikeeap.config import ConfigError, load_config

REPO = Path(__file__).resolve().parents[3]
BASE = """
[server]
identity = "vpn.test"
[certificates]
[[connections]]
name = "rw"
eap_methods = ["radius"]
"""


def _load(tmp_path: Path, radius: str):
    path = tmp_path / "c.toml"
    path.write_text(BASE + radius)
    return load_config(path)


def test_shipped_example_is_valid_and_secret_is_not_in_repr():
    config = load_config(REPO / "conf" / "radius.example.toml")
    radius = config.sections["radius"]
    assert [s.label for s in radius.servers] == ["192.0.2.21:1812", "192.0.2.22:1812"]
    assert radius.accounting_servers[0].port == 1813
    secret = (REPO / "conf" / "radius.secret").read_text().strip()
    assert radius.servers[0].secret == secret.encode()
    assert secret not in repr(config)


def test_secret_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("TEST_RADIUS_SECRET", "from-env")
    config = _load(tmp_path, '[radius]\n[[radius.servers]]\naddress = "10.0.0.1"\n'
                             'secret_env = "TEST_RADIUS_SECRET"\n')
    server = config.sections["radius"].servers[0]
    assert server.secret == b"from-env" and server.port == 1812 and server.bound == 9.0


def test_every_problem_is_reported_with_its_key(tmp_path):
    with pytest.raises(ConfigError) as err:
        _load(tmp_path, '[radius]\nstatus_server_interval = -1\nbogus = 1\n'
                        '[[radius.servers]]\naddress = "not-an-ip"\nport = 70000\n'
                        'retries = 99\n')
    text = "\n".join(err.value.problems)
    for key in ("radius.servers[0].address", "radius.servers[0].port",
                "radius.servers[0].secret", "radius.servers[0].retries",
                "radius.status_server_interval", "radius.bogus"):
        assert key in text, text


def test_radius_table_needs_a_server(tmp_path):
    with pytest.raises(ConfigError, match="radius.servers"):
        _load(tmp_path, "[radius]\n")
