"""The [hardening] table and the per-connection fragmentation switch."""

from __future__ import annotations

import pytest

from ikeeap.config import ConfigError, load_config
from ikeeap.ike.hardening import Hardening
from ikeeap.runtime import build_settings

BASE = """
[[connections]]
name = "p"
auth = "psk"
psk = "a long enough pre-shared key"
fragmentation = false
"""


def test_hardening_table_reaches_the_responder_settings(tmp_path):
    path = tmp_path / "ikeeap.toml"
    path.write_text(BASE + "[hardening]\ncookie_threshold = 7\nfragment_size = 600\n"
                    "dpd_interval = 2.5\n")
    config = load_config(path)
    settings = build_settings(config)
    assert settings.hardening == Hardening(cookie_threshold=7, fragment_size=600,
                                           dpd_interval=2.5)
    assert config.connections[0].fragmentation is False


def test_defaults_without_the_table(tmp_path):
    path = tmp_path / "ikeeap.toml"
    path.write_text(BASE)
    assert build_settings(load_config(path)).hardening == Hardening()


def test_bad_hardening_values_are_reported(tmp_path):
    path = tmp_path / "ikeeap.toml"
    path.write_text(BASE + "[hardening]\ncookie_threshold = -1\nfragment_size = 100\n"
                    "max_fragments = 'x'\nbogus = 1\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    text = "\n".join(err.value.problems)
    assert "hardening.cookie_threshold: must not be negative" in text
    assert "hardening.fragment_size: must be at least 256" in text
    assert "hardening.max_fragments: expected int" in text
    assert "hardening.bogus: unknown key" in text
