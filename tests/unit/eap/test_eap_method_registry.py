"""MethodRegistry: built-ins, entry points, plugins directory, duplicate and import errors."""

from __future__ import annotations

import textwrap
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest
from eap_test_helpers import Converse

from ikeeap.eap.authenticator import EapAuthenticator
from ikeeap.eap.credentials import Providers
from ikeeap.eap.method import EapContext, EapMethod
from ikeeap.eap.methods.md5 import Md5Method
from ikeeap.eap.packet import EapType
from ikeeap.eap.peer import EapPeer
from ikeeap.eap.registry import ENTRY_POINT_GROUP, MethodRegistry, RegistryError

PLUGIN_WITH_MAPPING = """
from ikeeap.eap.method import BaseMethod, EapStep

class Echo(BaseMethod):
    name = "echo-class-name-unused"
    eap_type = 200
    async def start(self, ctx):
        return EapStep.continue_(bytes([200]) + self.config.get("greeting", "hi").encode())
    async def process(self, ctx, response):
        return EapStep.success()

EAP_METHODS = {"echo": Echo}
"""

PLUGIN_WITH_CLASSES = """
from ikeeap.eap.method import BaseMethod, EapStep
from ikeeap.eap.methods.md5 import Md5Method  # imported, so not registered from here

class Otp(BaseMethod):
    name = "otp"
    eap_type = 5
    async def start(self, ctx):
        return EapStep.continue_(b"\\x05otp")
    async def process(self, ctx, response):
        return EapStep.failure("no")

class Helper:  # no name/start/process: ignored
    pass
"""


def _write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(text))
    return path


def _ep(name: str, value: str) -> EntryPoint:
    return EntryPoint(name=name, value=value, group=ENTRY_POINT_GROUP)


def test_builtins_are_registered_without_installation() -> None:
    reg = MethodRegistry.discover()
    assert {"md5", "gtc", "mschapv2"} <= set(reg.names())
    assert reg.get("md5") is Md5Method and reg.origin("md5").startswith("builtin")


def test_entry_point_naming_the_builtin_object_is_not_a_duplicate() -> None:
    reg = MethodRegistry.discover(entry_points=False)
    reg.load_entry_points([_ep("md5", "ikeeap.eap.methods.md5:Md5Method")])
    assert reg.get("md5") is Md5Method


def test_entry_point_registers_a_new_method() -> None:
    reg = MethodRegistry()
    reg.load_entry_points([_ep("gtc2", "ikeeap.eap.methods.gtc:GtcMethod")])
    assert reg.names() == ["gtc2"] and "entry point gtc2" in reg.origin("gtc2")


def test_entry_point_duplicate_name_names_both_origins() -> None:
    reg = MethodRegistry.discover(entry_points=False)
    with pytest.raises(RegistryError) as err:
        reg.load_entry_points([_ep("md5", "ikeeap.eap.methods.gtc:GtcMethod")])
    text = str(err.value)
    assert "'md5'" in text and "builtin ikeeap.eap.methods.md5" in text
    assert "entry point md5 = ikeeap.eap.methods.gtc:GtcMethod" in text


def test_entry_point_import_error_names_the_entry_point() -> None:
    reg = MethodRegistry()
    with pytest.raises(RegistryError, match="entry point broken = no_such_module_xyz:Thing"):
        reg.load_entry_points([_ep("broken", "no_such_module_xyz:Thing")])


def test_plugins_dir_mapping_and_classes(tmp_path: Path) -> None:
    _write(tmp_path, "echo_plugin.py", PLUGIN_WITH_MAPPING)
    _write(tmp_path, "otp_plugin.py", PLUGIN_WITH_CLASSES)
    _write(tmp_path, "_private.py", "raise RuntimeError('never imported')")
    _write(tmp_path, "notes.txt", "not python")
    reg = MethodRegistry.discover(plugins_dir=tmp_path, entry_points=False)
    assert {"echo", "otp", "md5"} <= set(reg.names())
    assert "echo-class-name-unused" not in reg.names()
    assert reg.origin("echo") == f"plugin {tmp_path / 'echo_plugin.py'}"
    method = reg.create("echo", {"greeting": "yo"}, Providers())
    assert isinstance(method, EapMethod)


def test_plugin_duplicate_of_builtin_names_both(tmp_path: Path) -> None:
    plugin = _write(
        tmp_path,
        "mymd5.py",
        "from ikeeap.eap.methods.gtc import GtcMethod\nEAP_METHODS = {'md5': GtcMethod}\n",
    )
    with pytest.raises(RegistryError) as err:
        MethodRegistry.discover(plugins_dir=tmp_path, entry_points=False)
    assert "builtin ikeeap.eap.methods.md5" in str(err.value) and str(plugin) in str(err.value)


def test_two_plugins_with_the_same_name(tmp_path: Path) -> None:
    _write(tmp_path, "a_otp.py", PLUGIN_WITH_CLASSES)
    _write(tmp_path, "b_otp.py", PLUGIN_WITH_CLASSES)
    with pytest.raises(RegistryError, match="a_otp.py.*b_otp.py"):
        MethodRegistry.discover(plugins_dir=tmp_path, entry_points=False, builtins=False)


@pytest.mark.parametrize(
    "source",
    ["import no_such_dependency_xyz\n", "def broken(:\n", "raise RuntimeError('at import')\n"],
)
def test_plugin_import_error_names_the_plugin(tmp_path: Path, source: str) -> None:
    plugin = _write(tmp_path, "bad_plugin.py", source)
    with pytest.raises(RegistryError, match="import failed") as err:
        MethodRegistry.discover(plugins_dir=tmp_path, entry_points=False)
    assert str(plugin) in str(err.value)


def test_plugin_with_bad_eap_methods_value(tmp_path: Path) -> None:
    _write(tmp_path, "odd.py", "EAP_METHODS = ['md5']\n")
    with pytest.raises(RegistryError, match="odd.py.*mapping"):
        MethodRegistry.discover(plugins_dir=tmp_path, entry_points=False)


def test_missing_plugins_dir_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match="does not exist"):
        MethodRegistry.discover(plugins_dir=tmp_path / "nope", entry_points=False)


def test_unknown_method_name() -> None:
    with pytest.raises(RegistryError, match="unknown EAP method 'no-such-method'"):
        MethodRegistry.discover(entry_points=False).get("no-such-method")  # ("tls" exists now)


def test_every_installed_entry_point_is_registered_as_its_own_factory() -> None:
    """Whatever is installed loads without colliding with the built-ins, and each entry
    point's name serves exactly the object the entry point names."""
    from importlib import metadata

    from ikeeap.eap.registry import ENTRY_POINT_GROUP

    registry = MethodRegistry.discover()
    eps = list(metadata.entry_points(group=ENTRY_POINT_GROUP))
    assert {"mschapv2", "ttls", "radius"} <= {ep.name for ep in eps}  # ikeeap's own, at least
    for ep in eps:
        assert registry.get(ep.name) is ep.load(), ep


def test_factory_for_plugs_into_the_authenticator(providers: Providers, converse: Converse) -> None:
    reg = MethodRegistry.discover(entry_points=False)
    pair = reg.factory_for("mschapv2", {"server_name": "vpn"}, providers)
    assert pair[0] == EapType.MSCHAPV2
    auth = EapAuthenticator([pair], EapContext(providers=providers))
    out, _ = converse(auth, EapPeer("alice", "secret", [EapType.MSCHAPV2]))
    assert out.success
