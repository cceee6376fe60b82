"""Run an EAP method through ``ikeeap radius-front`` against wpa_supplicant's ``eapol_test``.

A real, independent EAP peer for methods it implements (MD5, GTC, MSCHAPV2, TTLS, PWD, SIM,
...).  This wraps the interop helpers of the source checkout (``tests/interop/eapol.py``:
``RadiusFront``, ``eapol_test``), so it needs that checkout and the ``eapoltest`` package;
without the binary the test is skipped (failed with ``IKEEAP_REQUIRE_INTEROP=1``)::

    def test_over_radius(tmp_path):
        result = eapol_login("totp-gtc", {"eap": "GTC", "identity": "alice",
                                          "password": "pw" + code}, tmp_path,
                             plugins_dir="plugins", config={...}, users={"alice": "pw"})
        assert result.success, result.output
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any


def _eapol() -> Any:
    try:
        from tests.interop import eapol
    except ImportError as exc:  # an installed ikeeap without its source tree
        raise RuntimeError("eapol_login needs the ikeeap source checkout "
                           "(tests/interop/eapol.py) on sys.path") from exc
    return eapol


def toml_value(value: Any) -> str:
    """TOML for str/int/float/bool, lists and (inline) tables; strings JSON-escaped."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{json.dumps(str(k))} = {toml_value(v)}"
                               for k, v in value.items()) + " }"
    return json.dumps(str(value))


def method_tables(method: str, config: Mapping[str, Any] | None,
                  plugins_dir: str | Path | None) -> str:
    """``[plugins]`` and ``[methods."<method>"]`` TOML for a front/serve config."""
    text = ""
    if plugins_dir is not None:
        text += f"[plugins]\ndirs = {toml_value([str(Path(plugins_dir).resolve())])}\n"
    if config:
        text += f"[methods.{json.dumps(method)}]\n"
        text += "".join(f"{key} = {toml_value(value)}\n" for key, value in config.items())
    return text


def eapol_login(method: str, network: Mapping[str, Any] | str, workdir: Path, *,
                plugins_dir: str | Path | None = None, config: Mapping[str, Any] | None = None,
                users: Mapping[str, str] | None = None, no_mppe: bool = False,
                timeout: float = 15.0) -> Any:
    """One eapol_test run against a radius-front hosting only ``method``; returns the
    helper's ``EapolResult`` (``success``, ``mppe_ok``, ``output``)."""
    eapol = _eapol()
    eapol.require_eapol_test()
    cfg = eapol.front_config(workdir, eap_methods=[method], users=dict(users or {}),
                             extra=method_tables(method, config, plugins_dir))
    with eapol.RadiusFront(cfg, workdir) as front:
        return eapol.eapol_test(front, network, workdir, no_mppe=no_mppe, timeout=timeout)
