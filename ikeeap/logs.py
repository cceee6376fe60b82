"""Logging set-up: per-subsystem levels, the SA id and peer on SA lines, text or JSON.

SA lines of the core already start with ``[<8 hex of SPIr> <ip>:<port>]``; code that runs
for an SA elsewhere (EAP steps, backends, event listeners) sets :data:`sa_context` and the
filter prefixes its lines the same way.  JSON output carries ``sa`` and ``peer`` as fields.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
from typing import Any, TextIO

from .ops_config import LoggingConfig

# "[1a2b3c4d 198.51.100.2:500]" of the SA whose work is running, or None.
sa_context: contextvars.ContextVar[str | None] = contextvars.ContextVar("ikeeap_sa",
                                                                        default=None)

SUBSYSTEM_LOGGERS = {
    "ike": ("ikeeap.ike", "ikeeap.dos"),
    "eap": ("ikeeap.eap", "ikeeap.sim"),
    "radius": ("ikeeap.radius",),
    "ldap": ("ikeeap.backends.ldap",),
    "config": ("ikeeap.config",),
    "server": ("ikeeap.server", "ikeeap.control", "ikeeap.metrics"),
    "audit": ("ikeeap.audit",),
}
TEXT_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
_PREFIX = re.compile(r"^\[([0-9a-f]{8}) ([^\]\s]+):(\d+)\]\s*")
_PEER_ONLY = re.compile(r"^\[[^\]\s]+:\d+\]\s*")  # "[ip:port]" of EapContext.info
_MARK = "_ikeeap_handler"


def sa_label(sa_id: str, remote: tuple[str, int] | None) -> str:
    peer = f" {remote[0]}:{remote[1]}" if remote else ""
    return f"[{sa_id[:8]}{peer}]"


class SaContextFilter(logging.Filter):
    """Prefix lines logged while :data:`sa_context` is set and that carry no SA prefix."""

    def filter(self, record: logging.LogRecord) -> bool:
        label = sa_context.get()
        if not label:
            return True
        message = record.getMessage()
        if not _PREFIX.match(message):  # the SA prefix replaces a bare peer prefix
            record.msg, record.args = f"{label} {_PEER_ONLY.sub('', message, count=1)}", None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, sa, peer, audit fields."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        body: dict[str, Any] = {"time": self.formatTime(record), "level": record.levelname,
                                "logger": record.name}
        m = _PREFIX.match(message)
        if m:
            body["sa"], body["peer"] = m.group(1), f"{m.group(2)}:{m.group(3)}"
            message = message[m.end():]
        body["message"] = message
        audit = getattr(record, "audit", None)
        if isinstance(audit, dict):
            body.update({k: v for k, v in audit.items() if k not in body})
        if record.exc_info:
            body["exception"] = self.formatException(record.exc_info)
        return json.dumps(body, default=str)


def configure_logging(base_level: str, config: LoggingConfig | None = None,
                      stream: TextIO | None = None) -> logging.Handler:
    """(Re)install ikeeap's handler on the root logger; called at start and on reload."""
    config = config or LoggingConfig()
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _MARK, False)]:
        root.removeHandler(old)
    handler = logging.StreamHandler(stream or sys.stderr)
    setattr(handler, _MARK, True)
    handler.addFilter(SaContextFilter())
    handler.setFormatter(JsonFormatter() if config.format == "json"
                         else logging.Formatter(TEXT_FORMAT))
    root.addHandler(handler)
    default = _level(config.level or base_level)
    root.setLevel(default)
    for subsystem, names in SUBSYSTEM_LOGGERS.items():
        level = config.subsystems.get(subsystem)
        for name in names:
            logging.getLogger(name).setLevel(_level(level) if level else logging.NOTSET)
    return handler


def _level(name: str) -> int:
    return getattr(logging, name.upper(), logging.INFO)
