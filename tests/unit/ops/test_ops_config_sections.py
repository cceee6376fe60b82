"""The [control], [logging] and [metrics] tables: defaults and file:key errors."""

import pytest

from ikeeap.config import ConfigError, load_config
from ikeeap.ops_config import control_socket_for_file, control_socket_path

BASE = """
[server]
state_dir = "st"
[[connections]]
name = "p"
auth = "psk"
psk = "x"
"""


def _write(tmp_path, extra):
    path = tmp_path / "c.toml"
    path.write_text(BASE + extra)
    return path


def test_defaults_put_the_socket_in_state_dir(tmp_path):
    path = _write(tmp_path, "")
    config = load_config(path)
    assert control_socket_path(config) == (tmp_path / "st" / "control.sock").resolve()
    assert control_socket_for_file(path) == control_socket_path(config)
    assert "metrics" not in config.sections  # metrics are opt-in


def test_tables_are_read(tmp_path):
    config = load_config(_write(tmp_path, '[control]\nsocket = "run/c.sock"\nmode = "0660"\n'
                                '[logging]\nformat = "json"\nike = "debug"\n'
                                '[metrics]\nport = 9100\n'))
    control = config.sections["control"]
    assert control.socket == (tmp_path / "run" / "c.sock").resolve() and control.mode == 0o660
    assert config.sections["logging"].format == "json"
    assert config.sections["logging"].subsystems == {"ike": "debug"}
    assert config.sections["metrics"].port == 9100


def test_every_bad_value_is_named(tmp_path):
    with pytest.raises(ConfigError) as err:
        load_config(_write(tmp_path, '[control]\nmode = "rw"\n[logging]\nformat = "xml"\n'
                                     'eap = "loud"\nfoo = 1\n[metrics]\nlisten = "here"\n'))
    text = "\n".join(err.value.problems)
    for key in ("control.mode", "logging.format", "logging.eap", "logging.foo",
                "metrics.listen"):
        assert f"c.toml:{key}:" in text
