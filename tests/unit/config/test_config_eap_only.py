"""The per-connection RFC 5998 mode: eap_only = never/allow/require, its validation, and a
certificate-less configuration for EAP-only connections with mutual methods."""

from __future__ import annotations

from pathlib import Path

import pytest

from ikeeap.cli import main
from ikeeap.config import ConfigError, load_config
from ikeeap.eap.mutual import eap_only_problems
from ikeeap.eap.registry import MethodRegistry
from ikeeap.initiator.config import InitiatorConfig
from ikeeap.initiator.loopback import run_login
from ikeeap.runtime import build_settings


def _write(tmp_path: Path, connection: str, certificates: bool = False) -> Path:
    path = tmp_path / "ikeeap.toml"
    path.write_text(("[certificates]\n" if certificates else "")
                    + "[[connections]]\nname = \"rw\"\n" + connection
                    + "\n[users]\nalice = { password = \"pw\" }\n")
    return path


def test_default_is_never_and_require_needs_no_certificate(tmp_path):
    config = load_config(_write(tmp_path, 'eap_methods = ["pwd"]\neap_only = "require"'))
    assert config.certificates is None and config.connections[0].eap_only == "require"
    settings = build_settings(config, MethodRegistry.discover(entry_points=False))
    assert settings.signer is None and settings.cert_chain == ()
    client = InitiatorConfig(identity="alice", password="pw", eap_methods=("pwd",),
                             eap_only=True)
    login = run_login(settings, client)  # the runtime-built responder, no certificate at all
    assert login.established and login.result.eap_only, login.failure_reason
    plain = load_config(_write(tmp_path, 'eap_methods = ["pwd"]', certificates=True))
    assert plain.connections[0].eap_only == "never"


@pytest.mark.parametrize(("connection", "key", "message"), [
    ('eap_only = "sometimes"', "connections[0].eap_only", "must be one of never, allow, require"),
    ('eap_only = true', "connections[0].eap_only", "expected str"),
    ('auth = "psk"\npsk = "k"\neap_only = "allow"', "connections[0].eap_only",
     "only an EAP connection"),
    ('eap_methods = ["pwd"]\neap_only = "allow"', "certificates", "need a server certificate"),
])
def test_bad_eap_only_settings_are_reported_by_key(tmp_path, connection, key, message):
    with pytest.raises(ConfigError) as err:
        load_config(_write(tmp_path, connection))
    assert any(f":{key}: " in p and message in p for p in err.value.problems), err.value.problems


def test_require_with_a_non_mutual_method_is_refused_at_load(tmp_path, capsys):
    path = _write(tmp_path, 'eap_methods = ["pwd", "md5"]\neap_only = "require"')
    problems = eap_only_problems(load_config(path), MethodRegistry.discover(entry_points=False))
    assert len(problems) == 1 and "connections[0].eap_methods: 'md5'" in problems[0]
    assert main(["check-config", "--config", str(path)]) == 2
    assert "'md5' is not a mutual, key-generating method" in capsys.readouterr().err
    good = _write(tmp_path, 'eap_methods = ["pwd"]\neap_only = "require"')
    assert main(["check-config", "--config", str(good)]) == 0
