"""What the ikeeap command says: every command in --help, defaults shown, a missing config
named as such, no 'Broken pipe' when piped into head."""

from __future__ import annotations

import subprocess
import sys

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
