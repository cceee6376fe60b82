"""The guard in scripts/install-test-deps.sh: each missing package is named, none is forgotten."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from . import system_deps
from .charon import BASE_PLUGINS

REPO = Path(__file__).resolve().parents[2]


def _apt_packages() -> set[str]:
    text = (REPO / "scripts" / "install-test-deps.sh").read_text()
    block = re.search(r"^APT_PACKAGES=\((.*?)^\)", text, re.S | re.M).group(1)
    return {line.split("#")[0].strip() for line in block.splitlines()} - {""}


def _fake_root(tmp_path: Path, without_package: str | None = None) -> Path:
    for part in system_deps.PARTS:
        if part.package != without_package:
            path = tmp_path / part.paths[0].lstrip("/")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch()
    return tmp_path


def test_every_package_of_the_table_is_installed_by_the_script():
    assert system_deps.packages() <= _apt_packages()


def test_every_plugin_charon_loads_is_in_the_table():
    assert set(BASE_PLUGINS) | {"kernel-netlink", "kernel-libipsec"} \
        <= set(system_deps.CHARON_PLUGINS)


def test_complete_root_passes(tmp_path, capsys):
    assert system_deps.main(["system_deps", str(_fake_root(tmp_path))]) == 0
    assert "all" in capsys.readouterr().out


@pytest.mark.parametrize("package", sorted(system_deps.packages()))
def test_removing_a_package_fails_with_a_sentence_naming_it(tmp_path, capsys, package):
    assert system_deps.main(["system_deps", str(_fake_root(tmp_path, package))]) == 1
    lines = capsys.readouterr().err.splitlines()
    assert lines and all(line.startswith("missing ") and line.endswith(f"(package {package})")
                         for line in lines)


def test_charon_fixture_names_a_missing_plugin(tmp_path):
    root = _fake_root(tmp_path, "libcharon-extauth-plugins")
    assert system_deps.missing_charon_plugins(list(BASE_PLUGINS), root) == [
        "missing charon plugin eap-mschapv2 (package libcharon-extauth-plugins)"]
