"""What the ikeeap command says: every command in --help, defaults shown, a missing config
named as such, no 'Broken pipe' when piped into head."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from ikeeap.cli import main

COMMANDS = ("serve", "check-config", "plugins", "status", "list-sas", "terminate", "reload",
            "radius-front", "bench")


def test_help_names_every_command_without_rst_quotes(capsys):
    try:
        main(["--help"])
    except SystemExit:
        pass
    out = capsys.readouterr().out
    assert all(c in out for c in COMMANDS) and "``" not in out


def test_defaults_are_shown(capsys):
    for argv in (["check-config", "--help"], ["radius-front", "--help"]):
        try:
            main(argv)
        except SystemExit:
            pass
    out = capsys.readouterr().out
    assert "default: conf/ikeeap.toml, relative to the current directory" in " ".join(out.split())
    assert "(default: 127.0.0.1)" in out and "(default: 1812)" in out


def test_a_missing_config_is_not_called_a_control_socket_problem(capsys, tmp_path):
    assert main(["status", "--config", str(tmp_path / "none.toml")]) == 1
    err = capsys.readouterr().err
    assert "cannot read the configuration" in err and "control socket" not in err


LONG_OUTPUT = """
import sys
import ikeeap.cli as cli
def long_listing(args):  # more than a pipe holds, like list-sas of a busy server
    for i in range(200000):
        print("sa", i)
    return 0
cli.cmd_plugins = long_listing
sys.exit(cli.main(["plugins"]))
"""


def test_piping_into_head_prints_no_broken_pipe():
    out = subprocess.run(f"{sys.executable} -c '{LONG_OUTPUT}' | head -1", shell=True,
                         capture_output=True, text=True, timeout=60, check=False)
    assert out.stdout == "sa 0\n"
    assert "Broken pipe" not in out.stderr and "Traceback" not in out.stderr, out.stderr


def _front_args(*argv: str):
    from ikeeap.cli import build_parser
    return build_parser().parse_args(["radius-front", *argv])


def test_radius_front_secret_from_file_env_or_warned_argv(tmp_path, monkeypatch, capsys):
    from ikeeap.cli import front_secret
    monkeypatch.delenv("IKEEAP_RADIUS_FRONT_SECRET", raising=False)
    secret_file = tmp_path / "secret"
    secret_file.write_text("from-file\n")
    assert front_secret(_front_args("--secret-file", str(secret_file))) == b"from-file"
    monkeypatch.setenv("IKEEAP_RADIUS_FRONT_SECRET", "from-env")
    assert front_secret(_front_args()) == b"from-env"
    assert capsys.readouterr().err == ""
    assert front_secret(_front_args("--secret", "on-argv")) == b"on-argv"
    assert "visible to every user" in capsys.readouterr().err
    monkeypatch.delenv("IKEEAP_RADIUS_FRONT_SECRET")
    assert "no RADIUS secret" in front_secret(_front_args())
    (tmp_path / "empty").write_text("")
    assert "is empty" in front_secret(_front_args("--secret-file", str(tmp_path / "empty")))


def test_radius_front_refuses_a_pass_through_connection(tmp_path, capsys, monkeypatch):
    shutil.copytree(Path(__file__).parents[3] / "conf", tmp_path / "conf")
    config = tmp_path / "conf/radius.example.toml"  # the shipped pass-through example
    monkeypatch.setenv("IKEEAP_RADIUS_FRONT_SECRET", "x")
    assert main(["radius-front", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert "relays EAP to a RADIUS server" in err and "local methods only" in err
