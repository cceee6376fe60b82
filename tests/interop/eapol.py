"""``ikeeap radius-front`` + wpa_supplicant's ``eapol_test``: a real EAP peer for every
ikeeap EAP server method (see README.md, "RADIUS front + eapol_test").

    from .eapol import RadiusFront, eapol_test, front_config, require_eapol_test

    def test_md5(tmp_path):
        require_eapol_test()
        cfg = front_config(tmp_path, eap_methods=["md5"], users={"alice": "pw"})
        with RadiusFront(cfg, tmp_path) as front:
            res = eapol_test(front, {"eap": "MD5", "identity": "alice", "password": "pw"},
                             tmp_path, no_mppe=True)
        assert res.success, res.output

No pytest fixtures needed, no root: everything is on 127.0.0.1 with a port the kernel picks.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

import pytest

from ikeeap.testkit.radius import toml_value

DEFAULT_SECRET = "eapol-front-secret"
_LISTENING = re.compile(r"listening on ([0-9.]+):(\d+)/udp")
_MPPE = re.compile(r"MPPE keys OK: (\d+)\s+mismatch: (\d+)")
_REPO = Path(__file__).resolve().parents[2]


def require_eapol_test() -> None:
    """Skip without eapol_test (fail instead with IKEEAP_REQUIRE_INTEROP=1, as in CI)."""
    if shutil.which("eapol_test") is None:
        reason = "eapol_test not installed (Debian package eapoltest)"
        if os.environ.get("IKEEAP_REQUIRE_INTEROP") == "1":
            pytest.fail(f"IKEEAP_REQUIRE_INTEROP=1 but {reason}")
        pytest.skip(reason)


def front_config(directory: Path, *, eap_methods: list[str], users: dict[str, str] | None = None,
                 methods: dict[str, dict[str, Any]] | None = None, extra: str = "") -> Path:
    """Write a minimal ikeeap.toml with one EAP connection ("front") and local users.

    ``methods`` becomes ``[methods.<name>]`` tables; ``extra`` is appended verbatim (e.g. an
    ``[ldap]`` table).  Returns the path.
    """
    directory.mkdir(parents=True, exist_ok=True)
    lines = ['[server]', 'identity = "vpn.example.test"',
             f'state_dir = {toml_value(directory / "state")}',
             '[certificates]', '[[connections]]', 'name = "front"',
             f"eap_methods = {toml_value(eap_methods)}", "[users]"]
    lines += [f"{toml_value(u)} = {{ password = {toml_value(p)} }}"
              for u, p in (users or {}).items()]
    for name, table in (methods or {}).items():
        lines.append(f"[methods.{name}]")
        lines += [f"{k} = {toml_value(v)}" for k, v in table.items()]
    path = directory / "front.toml"
    path.write_text("\n".join(lines) + "\n" + extra)
    return path


class RadiusFront:
    """``python -m ikeeap radius-front`` on 127.0.0.1 (kernel-chosen port) as a subprocess."""

    def __init__(self, config: Path, workdir: Path, *, secret: str = DEFAULT_SECRET,
                 connection: str | None = None, env: dict[str, str] | None = None,
                 timeout: float = 15.0) -> None:
        self.secret = secret
        self.host = "127.0.0.1"
        self.log_path = workdir / f"radius-front-{os.getpid()}-{time.monotonic_ns()}.log"
        argv = [sys.executable, "-m", "ikeeap", "radius-front", "--config", str(config),
                "--listen", self.host, "--port", "0", "--log-level", "debug"]
        if connection:
            argv += ["--connection", connection]
        self._log = open(self.log_path, "wb")  # noqa: SIM115 (closed in stop)
        self.proc = subprocess.Popen(argv, stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, cwd=_REPO,
                                     env={**os.environ, **(env or {}),
                                          "IKEEAP_RADIUS_FRONT_SECRET": secret})
        self.port = self._wait_listening(timeout)

    def _wait_listening(self, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = _LISTENING.search(self.log())
            if match:
                return int(match.group(2))
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"radius-front did not start:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass
class EapolResult:
    success: bool           # "SUCCESS" was the verdict
    mppe_ok: bool | None    # "MPPE keys OK: 1  mismatch: 0" (None: no MPPE line, e.g. -n)
    returncode: int
    output: str


def eapol_test(front: RadiusFront | tuple[str, int, str], network: dict[str, Any] | str,
               workdir: Path, *, no_mppe: bool = False, timeout: float = 15.0,
               global_lines: tuple[str, ...] = (), extra_args: tuple[str, ...] = ()
               ) -> EapolResult:
    """Run ``eapol_test -c CONF -a HOST -p PORT -s SECRET`` once and parse its verdict.

    ``network`` is the ``network={...}`` block as a dict (strings are quoted for you; pass
    ``key_mgmt``/``eap`` etc.; key_mgmt defaults to IEEE8021X) or as raw text.
    ``global_lines`` go before the block (e.g. ``external_sim=1``).
    """
    host, port, secret = (front.host, front.port, front.secret) \
        if isinstance(front, RadiusFront) else front
    workdir.mkdir(parents=True, exist_ok=True)
    conf = workdir / f"eapol-{time.monotonic_ns()}.conf"
    conf.write_text("\n".join([*global_lines, _network_block(network)]) + "\n")
    argv = ["eapol_test", "-c", str(conf), "-a", host, "-p", str(port), "-s", secret,
            "-t", str(int(timeout)), *extra_args]
    if no_mppe:
        argv.append("-n")
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout + 10,
                          check=False)
    out = proc.stdout + proc.stderr
    lines = [line.strip() for line in out.splitlines() if line.strip()]
    mppe = _MPPE.search(out)
    return EapolResult(
        success=bool(lines) and lines[-1] == "SUCCESS" and proc.returncode == 0,
        mppe_ok=None if mppe is None else (mppe.group(1) == "1" and mppe.group(2) == "0"),
        returncode=proc.returncode, output=out)


def _network_block(network: dict[str, Any] | str) -> str:
    if isinstance(network, str):
        return network
    fields = {"key_mgmt": "IEEE8021X", **network}
    unquoted = {"key_mgmt", "eap", "eapol_flags", "fragment_size"}
    body = []
    for key, value in fields.items():
        text = str(value) if key in unquoted or isinstance(value, int) else f'"{value}"'
        body.append(f"    {key}={text}")
    return "network={\n" + "\n".join(body) + "\n}"
