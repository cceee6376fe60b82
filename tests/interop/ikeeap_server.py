"""Run ``ikeeap serve`` from the CLI for interop tests, on a generated config."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ikeeap.testkit.radius import toml_value

from .charon import Topology, wait_udp_bound

SERVER_ID = "vpn.example.test"
USERS = {
    "alice": "alice-secret-1",
    "carol": "carol-secret-2",
}
PSK = "interop-psk-0123456789"
POOL = "203.0.113.0/24"


def _table(name: str, values: dict[str, Any], array: bool = False) -> str:
    head = f"[[{name}]]" if array else f"[{name}]"
    return "\n".join([head] + [f"{k} = {toml_value(v)}" for k, v in values.items()]) + "\n"


@dataclass
class IkeeapConfig:
    """A test configuration; ``write`` turns it into ikeeap.toml in ``directory``."""

    listen: str
    key_type: str = "rsa"
    eap_methods: tuple[str, ...] = ("mschapv2", "md5", "gtc")
    ike_proposals: tuple[str, ...] | None = None
    extra_server: dict[str, Any] | None = None
    extra_tables: dict[str, dict[str, Any]] | None = None  # e.g. {"hardening": {...}}
    extra_connection: dict[str, Any] | None = None  # merged into the rw-eap connection
    certificates: bool = True  # False: no [certificates] (rw-eap must be eap_only="require")

    def write(self, directory: Path) -> Path:
        server = {"listen": [self.listen], "identity": SERVER_ID,
                  "state_dir": str(directory / "state"), "log_level": "debug",
                  **(self.extra_server or {})}
        parts = [
            _table("server", server),
            _table("certificates", {"key_type": self.key_type}) if self.certificates else "",
            _table("connections", {"name": "rw-eap", "auth": "eap",
                                   "eap_methods": list(self.eap_methods), "pool": POOL,
                                   "dns": ["203.0.113.1"], **(self.extra_connection or {})},
                   array=True),
            _table("connections", {"name": "psk", "auth": "psk", "remote_id": "*.psk.test",
                                   "psk": PSK}, array=True),
            "[users]\n" + "".join(f'{u} = {{ password = "{p}" }}\n' for u, p in USERS.items()),
        ]
        if self.ike_proposals:
            parts.insert(2, _table("proposals", {"ike": list(self.ike_proposals)}))
        parts += [_table(name, values) for name, values in (self.extra_tables or {}).items()]
        path = directory / "ikeeap.toml"
        path.write_text("\n".join(parts))
        return path


class ServedIkeeap:
    """``ikeeap serve --config config_path`` in the topology's responder namespace, started
    and waited for until it listens on UDP 500 and 4500."""

    def __init__(self, spawn: Any, topology: Topology, directory: Path,
                 config_path: Path) -> None:
        self.directory = directory
        self.config_path = config_path
        self.proc = spawn(topology.responder_ns,
                          [sys.executable, "-m", "ikeeap", "serve", "--config", config_path],
                          name="ikeeap")
        wait_udp_bound(topology.responder_ns, 500, topology.responder_addr, proc=self.proc)
        wait_udp_bound(topology.responder_ns, 4500, topology.responder_addr, proc=self.proc)

    @property
    def ca_path(self) -> Path:
        return self.directory / "state" / "ca.pem"

    def log(self) -> str:
        return Path(self.proc.log_path).read_text(errors="replace")


class IkeeapServer(ServedIkeeap):
    """``ikeeap serve`` in the topology's responder namespace, on an :class:`IkeeapConfig`."""

    def __init__(self, spawn, topology: Topology, directory: Path, **config: Any):
        directory.mkdir(parents=True, exist_ok=True)
        config_path = IkeeapConfig(topology.responder_addr, **config).write(directory)
        super().__init__(spawn, topology, directory, config_path)
