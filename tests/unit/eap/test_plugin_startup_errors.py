"""Every plugin start-up error stops `ikeeap check-config` / `ikeeap serve` with exit 2 and a
message naming the plugin and the problem; `ikeeap plugins` lists what was found."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

from ikeeap import cli
from ikeeap.eap.credentials import Providers
from ikeeap.eap.plugin_checks import check_methods, describe
from ikeeap.eap.registry import ENTRY_POINT_GROUP, MethodRegistry, RegistryError

REPO = Path(__file__).resolve().parents[3]

GOOD_PLUGIN = """
from ikeeap.eap.method import BaseMethod, EapStep

class Knock(BaseMethod):
    name = "knock"
    eap_type = 200
    requires = {requires!r}

    def __init__(self, config=None, providers=None):
        super().__init__(config, providers)
        if "word" in self.config and not isinstance(self.config["word"], str):
            raise ValueError("word must be a string")

    async def start(self, ctx):
        return EapStep.continue_(bytes([200]) + b"knock")

    async def process(self, ctx, response):
        return EapStep.success()
"""


def _plugin(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(textwrap.dedent(text))
    return path


def _config(tmp_path: Path, methods: list[str], extra: str = "", plugins: Path | None = None
            ) -> Path:
    plugins = plugins or tmp_path / "plugins"
    plugins.mkdir(exist_ok=True)
    text = textwrap.dedent(f"""
        [plugins]
        dirs = ["{plugins}"]
        [server]
        listen = ["127.0.0.1"]
        port = 0
        nat_port = 0
        state_dir = "{tmp_path / 'state'}"
        [certificates]
        key_type = "ecdsa"
        [[connections]]
        name = "rw"
        eap_methods = {methods!r}
        [users]
        alice = {{ password = "pw" }}
    """).replace("'", '"') + extra
    path = tmp_path / "ikeeap.toml"
    path.write_text(text)
    return path


def _check(config: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = cli.main(["check-config", "--config", str(config)])
    out = capsys.readouterr()
    return code, out.out + out.err


def test_plugin_method_in_a_connection_passes_check_config(tmp_path, capsys):
    """Plugins come from the config's own [plugins] dirs, so a connection may name one."""
    _plugin(tmp_path / "plugins", "knock.py", GOOD_PLUGIN.format(requires=()))
    code, out = _check(_config(tmp_path, ["knock"]), capsys)
    assert code == 0 and "OK" in out


def test_duplicate_of_a_builtin_names_both(tmp_path, capsys):
    plugin = _plugin(tmp_path / "plugins", "my_md5.py",
                     "from ikeeap.eap.methods.gtc import GtcMethod\nEAP_METHODS = {'md5': GtcMethod}\n")
    code, out = _check(_config(tmp_path, ["md5"]), capsys)
    assert code == 2
    assert "'md5' defined twice" in out and "builtin ikeeap.eap.methods.md5" in out
    assert str(plugin) in out


def test_two_plugins_with_one_name(tmp_path, capsys):
    first = _plugin(tmp_path / "plugins", "a_knock.py", GOOD_PLUGIN.format(requires=()))
    second = _plugin(tmp_path / "plugins", "b_knock.py", GOOD_PLUGIN.format(requires=()))
    code, out = _check(_config(tmp_path, ["knock"]), capsys)
    assert code == 2 and "'knock' defined twice" in out
    assert str(first) in out and str(second) in out


def test_entry_point_duplicating_a_plugin(tmp_path, capsys, monkeypatch):
    """An installed package and a plugins/ file claiming one name: both are named."""
    _plugin(tmp_path / "plugins", "knock.py", GOOD_PLUGIN.format(requires=()))
    ep = EntryPoint("knock", "ikeeap.eap.methods.gtc:GtcMethod", ENTRY_POINT_GROUP)
    monkeypatch.setattr("ikeeap.eap.registry.metadata.entry_points", lambda group: [ep])
    code, out = _check(_config(tmp_path, ["knock"]), capsys)
    assert code == 2 and "'knock' defined twice" in out
    assert "entry point knock = ikeeap.eap.methods.gtc:GtcMethod" in out
    assert "knock.py" in out


def test_entry_point_that_fails_to_import(tmp_path, capsys, monkeypatch):
    ep = EntryPoint("broken", "no_such_package_xyz.methods:Broken", ENTRY_POINT_GROUP)
    monkeypatch.setattr("ikeeap.eap.registry.metadata.entry_points", lambda group: [ep])
    code, out = _check(_config(tmp_path, ["md5"]), capsys)
    assert code == 2 and "entry point broken = no_such_package_xyz.methods:Broken" in out
    assert "No module named 'no_such_package_xyz'" in out


@pytest.mark.parametrize("source, detail", [
    ("import no_such_dependency_xyz\n", "no_such_dependency_xyz"),
    ("def broken(:\n", "SyntaxError"),
    ("raise RuntimeError('boom at import')\n", "boom at import"),
])
def test_plugin_import_error_names_file_and_cause(tmp_path, capsys, source, detail):
    plugin = _plugin(tmp_path / "plugins", "bad.py", source)
    code, out = _check(_config(tmp_path, ["md5"]), capsys)
    assert code == 2 and f"plugin {plugin}: import failed" in out and detail in out


def test_missing_provider_names_plugin_and_provider(tmp_path, capsys):
    plugin = _plugin(tmp_path / "plugins", "knock.py",
                     GOOD_PLUGIN.format(requires=("password_lookup", "sim_triplets")))
    code, out = _check(_config(tmp_path, ["knock"]), capsys)
    assert code == 2
    assert f"EAP method 'knock' (plugin {plugin}) needs provider(s) sim_triplets" in out
    assert "password_lookup" not in out.split("needs provider(s)")[1].split("that")[0]


def test_malformed_requires_is_reported(tmp_path, capsys):
    _plugin(tmp_path / "plugins", "knock.py", GOOD_PLUGIN.format(requires="password_lookup"))
    code, out = _check(_config(tmp_path, ["knock"]), capsys)
    assert code == 2 and "'requires' must be a tuple of provider names" in out


def test_rejected_method_config_names_the_table(tmp_path, capsys):
    _plugin(tmp_path / "plugins", "knock.py", GOOD_PLUGIN.format(requires=()))
    config = _config(tmp_path, ["knock"], extra="[methods.knock]\nword = 7\n")
    code, out = _check(config, capsys)
    assert code == 2
    assert "EAP method 'knock'" in out and "rejected its configuration [methods.knock]" in out
    assert "word must be a string" in out


def test_methods_table_for_an_unknown_method(tmp_path, capsys):
    code, out = _check(_config(tmp_path, ["md5"], extra="[methods.md55]\nx = 1\n"), capsys)
    assert code == 2 and "[methods.md55] configures an unknown EAP method 'md55'" in out


@pytest.mark.parametrize("eap_type, message", [
    (1, "eap_type 1 is owned by the authenticator"),
    (300, "eap_type must be an int"),
    ("'x'", "eap_type must be an int"),
])
def test_unusable_eap_type(tmp_path, capsys, eap_type, message):
    source = GOOD_PLUGIN.format(requires=()).replace("eap_type = 200", f"eap_type = {eap_type}")
    _plugin(tmp_path / "plugins", "knock.py", source)
    code, out = _check(_config(tmp_path, ["knock"]), capsys)
    assert code == 2 and message in out


def test_every_problem_is_reported_at_once(tmp_path):
    registry = MethodRegistry.discover(entry_points=False)
    with pytest.raises(RegistryError) as err:
        check_methods(registry, ["gtc", "nope", "also-nope"], {}, Providers())
    assert "'nope'" in str(err.value) and "'also-nope'" in str(err.value)


def test_serve_stops_before_binding_when_a_provider_is_missing(tmp_path):
    """`ikeeap serve` hits the same checks (via runtime.EapFactory) and exits 2."""
    plugin = _plugin(tmp_path / "plugins", "knock.py",
                     GOOD_PLUGIN.format(requires=("sim_triplets",)))
    config = _config(tmp_path, ["knock"])
    proc = subprocess.run([sys.executable, "-m", "ikeeap", "serve", "--config", str(config)],
                          capture_output=True, text=True, timeout=60, cwd=REPO, check=False)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert f"EAP method 'knock' (plugin {plugin}) needs provider(s) sim_triplets" in proc.stderr
    assert "listening" not in proc.stdout


def test_serve_stops_on_a_plugin_import_error(tmp_path):
    plugin = _plugin(tmp_path / "plugins", "bad.py", "import no_such_dependency_xyz\n")
    proc = subprocess.run([sys.executable, "-m", "ikeeap", "serve", "--config",
                           str(_config(tmp_path, ["md5"]))],
                          capture_output=True, text=True, timeout=60, cwd=REPO, check=False)
    assert proc.returncode == 2 and f"plugin {plugin}: import failed" in proc.stderr


def test_plugins_command_lists_type_mutual_msk_and_origin(tmp_path, capsys):
    plugin = _plugin(tmp_path / "plugins", "knock.py",
                     GOOD_PLUGIN.format(requires=("password_lookup",)))
    code = cli.main(["plugins", "--config", str(_config(tmp_path, ["md5"]))])
    lines = capsys.readouterr().out.splitlines()
    assert code == 0 and lines[0].split()[:5] == ["NAME", "TYPE", "MUTUAL", "MSK", "REQUIRES"]
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    assert rows["knock"][:5] == ["knock", "200", "no", "no", "password_lookup"]
    assert rows["knock"][5:] == ["plugin", str(plugin)]
    assert rows["mschapv2"][1:4] == ["26", "no", "yes"] and rows["mschapv2"][5] == "builtin"


def test_shipped_totp_plugin_is_listed_by_the_shipped_config(capsys):
    code = cli.main(["plugins", "--config", str(REPO / "conf" / "ikeeap.toml")])
    rows = {line.split()[0]: line.split() for line in capsys.readouterr().out.splitlines()}
    assert code == 0
    assert rows["totp-gtc"][1:5] == ["6", "no", "no", "password_verifier"]
    assert rows["totp-gtc"][6].endswith("plugins/totp_gtc.py")


def test_describe_reads_class_attributes() -> None:
    registry = MethodRegistry.discover(entry_points=False)
    info = describe(registry, "md5")
    assert (info.eap_type, info.mutual, info.generates_msk) == (4, False, False)


def test_each_connection_is_checked_with_its_own_providers() -> None:
    """A connection whose backend reveals no cleartext (LDAP) cannot host a method that needs
    password_lookup, even though the local store could serve another connection."""
    from dataclasses import replace
    from types import SimpleNamespace

    from ikeeap.config import ConnectionConfig
    from ikeeap.eap.credentials import LocalUserStore
    from ikeeap.eap.plugin_checks import check_config_methods

    config = SimpleNamespace(methods={}, connections=(
        ConnectionConfig("local", eap_methods=("md5",)),
        ConnectionConfig("directory", eap_methods=("echo",)),
    ))
    registry = MethodRegistry.discover(entry_points=False)
    echo = type("Echo", (), {"requires": ("password_lookup",), "eap_type": 200,
                             "__init__": lambda self, c, p: None,
                             **{m: lambda self, *a: None for m in
                                ("start", "process", "msk", "emsk", "is_mutual", "abort")}})
    registry.register("echo", echo, "plugin /x/echo.py")
    providers = Providers.from_store(LocalUserStore({}))

    def per_connection(p: Providers, conn: ConnectionConfig) -> Providers:
        return replace(p, passwords=None) if conn.name == "directory" else p

    check_config_methods(registry, config, providers)  # globally fine
    with pytest.raises(RegistryError) as err:
        check_config_methods(registry, config, providers, per_connection)
    assert str(err.value) == ("EAP method 'echo' (plugin /x/echo.py) needs provider(s) "
                              "password_lookup that nobody configured (configured: "
                              "password_verifier) for connection 'directory'")
