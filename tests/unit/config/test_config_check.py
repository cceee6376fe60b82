"""check-config reports every problem in one pass, each as file:key: (plugins included)."""

from __future__ import annotations

from ikeeap.cli import main
from ikeeap.config_check import collect_problems

BROKEN = """
[server]
identity = "vpn.example.org"
state_dir = "{state}"
[certificates]
server_cert = "/nonexistent/server.pem"
generate = false
[[connections]]
name = "x"
eap_methods = ["nosuch", "tls"]
[methods.tls]
identity_check = "bogus"
[users]
alice = {{ password = "pw" }}
"""


def test_every_problem_in_one_pass_with_its_key(tmp_path, capsys):
    """It used to stop at the first kind of problem (certificate or unknown method)."""
    path = tmp_path / "broken.toml"
    path.write_text(BROKEN.format(state=tmp_path / "state"))
    _config, _registry, problems = collect_problems(path)
    keys = [p.split(": ", 1)[0].rsplit(":", 1)[1] for p in problems]
    assert "connections[0].eap_methods" in keys
    assert "certificates.server_cert" in keys
    assert "methods.tls" in keys  # a method's own check, with the file:key: prefix
    assert all(p.startswith(f"{path}:") for p in problems)
    assert main(["check-config", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count(str(path)) == len(problems)
