"""The ``[radius]`` configuration table (registered in ``config.SECTION_PARSERS``).

```toml
[radius]
nas_identifier = "ikeeap"            # NAS-Identifier
nas_ip_address = "192.0.2.10"        # NAS-IP-Address (optional)
called_station_id = "vpn.example"    # Called-Station-Id (default: the responder address)
status_server_interval = 10          # seconds between Status-Server probes (0: off)
dead_time = 30                       # a failed server is skipped this long (no probes)
interim_interval = 0                 # accounting Interim-Update (0: only if the server says)

[[radius.servers]]                   # in preference order
address = "10.0.0.5"
port = 1812
secret_env = "RADIUS_SECRET"         # or secret = "..." or secret_file = "radius.secret"
timeout = 3.0                        # per attempt
retries = 2                          # retransmissions after the first attempt

[[radius.accounting_servers]]        # optional; same keys, port defaults to 1813
```
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

SERVER_KEYS = {"address", "port", "secret", "secret_file", "secret_env", "timeout", "retries",
               "name"}
TOP_KEYS = {"servers", "accounting_servers", "nas_identifier", "nas_ip_address",
            "called_station_id", "status_server_interval", "dead_time", "interim_interval"}


@dataclass(frozen=True)
class RadiusServerConfig:
    address: str
    port: int
    secret: bytes = field(repr=False)
    timeout: float = 3.0
    retries: int = 2
    name: str = ""

    @property
    def label(self) -> str:
        return self.name or f"{self.address}:{self.port}"

    @property
    def bound(self) -> float:
        """Worst-case time before this server is given up: every attempt timing out."""
        return self.timeout * (self.retries + 1)


@dataclass(frozen=True)
class RadiusConfig:
    servers: tuple[RadiusServerConfig, ...]
    accounting_servers: tuple[RadiusServerConfig, ...] = ()
    nas_identifier: str = "ikeeap"
    nas_ip_address: str | None = None
    called_station_id: str | None = None
    status_server_interval: float = 0.0
    dead_time: float = 30.0
    interim_interval: float = 0.0


def _server(r: Any, prefix: str, table: Any, default_port: int) -> RadiusServerConfig | None:
    if not isinstance(table, dict):
        r.problem(prefix.rstrip("."), "expected a table")
        return None
    r.unknown_keys(table, prefix, SERVER_KEYS)
    address = r.get(table, prefix, "address", str, "")
    try:
        ipaddress.ip_address(address)
    except ValueError:
        r.problem(f"{prefix}address", f"{address!r} is not an IP address")
    port = r.get(table, prefix, "port", int, default_port)
    if not 1 <= port <= 65535:
        r.problem(f"{prefix}port", "must be 1..65535")
    secret = r.secret(table, prefix, "secret")
    if not secret:
        r.problem(f"{prefix}secret", "a RADIUS server needs secret, secret_file or secret_env")
    timeout = r.get(table, prefix, "timeout", float, 3.0)
    retries = r.get(table, prefix, "retries", int, 2)
    if timeout <= 0:
        r.problem(f"{prefix}timeout", "must be > 0")
    if not 0 <= retries <= 10:
        r.problem(f"{prefix}retries", "must be 0..10")
    return RadiusServerConfig(address, port, (secret or "").encode(), timeout, retries,
                              r.get(table, prefix, "name", str, ""))


def _servers(r: Any, table: dict, key: str, default_port: int) -> tuple[RadiusServerConfig, ...]:
    entries = r.get(table, "radius.", key, list, [])
    parsed = (_server(r, f"radius.{key}[{i}].", e, default_port) for i, e in enumerate(entries))
    return tuple(s for s in parsed if s is not None)


def parse_radius(r: Any, table: dict) -> RadiusConfig:
    """Read ``[radius]``; problems go to the ConfigReader ``r`` as ``file:key: message``."""
    p = "radius."
    r.unknown_keys(table, p, TOP_KEYS)
    servers = _servers(r, table, "servers", 1812)
    if not servers:
        r.problem(f"{p}servers", "at least one [[radius.servers]] entry is needed")
    nas_ip = r.get(table, p, "nas_ip_address", str, None)
    if nas_ip is not None:
        try:
            ipaddress.IPv4Address(nas_ip)
        except ValueError:
            r.problem(f"{p}nas_ip_address", f"{nas_ip!r} is not an IPv4 address")
    floats = {k: r.get(table, p, k, float, d) for k, d in
              (("status_server_interval", 0.0), ("dead_time", 30.0), ("interim_interval", 0.0))}
    for key, value in floats.items():
        if value < 0:
            r.problem(p + key, "must be >= 0")
    return RadiusConfig(
        servers=servers, accounting_servers=_servers(r, table, "accounting_servers", 1813),
        nas_identifier=r.get(table, p, "nas_identifier", str, "ikeeap"),
        nas_ip_address=nas_ip,
        called_station_id=r.get(table, p, "called_station_id", str, None), **floats)
