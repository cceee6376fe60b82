"""Operations tables of the config file: ``[control]``, ``[logging]``, ``[metrics]``.

    [control]
    socket = "/run/ikeeap/control.sock"   # default: control.sock in server.state_dir
    mode = "0600"                         # file mode of the socket (who may control us)
    enabled = true

    [logging]
    level = "info"           # default for every subsystem (else server.log_level)
    format = "text"          # or "json": one object per line, for log shippers
    ike = "debug"            # per subsystem: ike, eap, radius, ldap, config, server, audit

    [metrics]                # opt-in Prometheus endpoint: http://listen:port/metrics
    listen = "127.0.0.1"
    port = 9477
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # config.py imports this module
    from .config import ConfigReader

LEVELS = ("debug", "info", "warning", "error")
SUBSYSTEMS = ("ike", "eap", "radius", "ldap", "config", "server", "audit")
CONTROL_SOCKET_NAME = "control.sock"


@dataclass(frozen=True)
class ControlConfig:
    socket: Path | None = None  # None: CONTROL_SOCKET_NAME in server.state_dir
    mode: int = 0o600
    enabled: bool = True


@dataclass(frozen=True)
class LoggingConfig:
    level: str | None = None  # None: server.log_level
    format: str = "text"
    subsystems: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class MetricsConfig:
    listen: str = "127.0.0.1"
    port: int = 9477


def parse_control_section(r: ConfigReader, table: dict) -> ControlConfig:
    p = "control."
    r.unknown_keys(table, p, {"socket", "mode", "enabled"})
    sock = r.get(table, p, "socket", str, None)
    path = None
    if sock:
        path = Path(sock) if Path(sock).is_absolute() else (r.path.parent / sock).resolve()
        if len(str(path).encode()) > 107:
            r.problem(f"{p}socket", "path too long for a UNIX socket (107 octets at most)")
    mode_text = r.get(table, p, "mode", str, "0600")
    try:
        mode = int(mode_text, 8)
        if not 0 <= mode <= 0o777:
            raise ValueError
    except ValueError:
        r.problem(f"{p}mode", "must be an octal file mode such as \"0660\"")
        mode = 0o600
    return ControlConfig(path, mode, r.get(table, p, "enabled", bool, True))


def parse_logging_section(r: ConfigReader, table: dict) -> LoggingConfig:
    p = "logging."
    r.unknown_keys(table, p, {"level", "format", *SUBSYSTEMS})
    levels = {}
    for key in ("level", *SUBSYSTEMS):
        value = r.get(table, p, key, str, None)
        if value is not None and value not in LEVELS:
            r.problem(p + key, f"must be one of {', '.join(LEVELS)}")
        elif value is not None:
            levels[key] = value
    fmt = r.get(table, p, "format", str, "text")
    if fmt not in ("text", "json"):
        r.problem(f"{p}format", "must be text or json")
    level = levels.pop("level", None)
    return LoggingConfig(level, fmt, levels)


def parse_metrics_section(r: ConfigReader, table: dict) -> MetricsConfig:
    p = "metrics."
    r.unknown_keys(table, p, {"listen", "port"})
    listen = r.get(table, p, "listen", str, "127.0.0.1")
    try:
        ipaddress.ip_address(listen)
    except ValueError:
        r.problem(f"{p}listen", f"{listen!r} is not an IP address")
    port = r.get(table, p, "port", int, 9477)
    if not 0 <= port <= 65535:
        r.problem(f"{p}port", "must be 0..65535")
    return MetricsConfig(listen, port)


def control_socket_path(config: object) -> Path:
    """Where the control socket of this config lives (also what the CLI connects to)."""
    control = getattr(config, "sections", {}).get("control") or ControlConfig()
    if control.socket is not None:
        return control.socket
    return Path(config.server.state_dir) / CONTROL_SOCKET_NAME  # type: ignore[attr-defined]


def control_socket_for_file(path: str | Path) -> Path:
    """The control socket named by a config file, read leniently: the CLI must still find
    a running server when the file on disk is broken (e.g. to be told so by reload)."""
    import tomllib

    path = Path(path).resolve()
    doc = tomllib.loads(path.read_text())
    sock = (doc.get("control") or {}).get("socket")
    if isinstance(sock, str) and sock:
        return Path(sock) if Path(sock).is_absolute() else (path.parent / sock).resolve()
    state = (doc.get("server") or {}).get("state_dir", "state")
    state_dir = Path(state) if Path(str(state)).is_absolute() else path.parent / str(state)
    return state_dir.resolve() / CONTROL_SOCKET_NAME
