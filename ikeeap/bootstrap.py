"""The composition root's first step: one checked load of the configuration.

``serve`` (one process or ``--workers N``), ``twistd ikeeap``, ``radius-front``,
``check-config`` and ``plugins`` all start here, so a file is validated the same way
everywhere (the problems ``check-config`` prints are the ones ``serve`` refuses with), and
what each command then builds (:class:`ikeeap.server.app.ServeApp` for the responder) starts
from the same typed pair.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .config import Config, ConfigError
from .config_check import collect_problems
from .eap.registry import MethodRegistry


@dataclass(frozen=True)
class Checked:
    """A configuration that passed every check, and the method registry it was checked with
    (built-ins, entry points and the plugin directories it names)."""

    config: Config
    registry: MethodRegistry


@dataclass(frozen=True)
class ServeOptions:
    """What the command line (or twistd's options) may override in ``[server]``."""

    config_path: str
    listen: tuple[str, ...] | None = None
    port: int | None = None
    nat_port: int | None = None
    log_level: str | None = None


def load_checked(path: str | Path) -> Checked:
    """The checked config; ConfigError listing every problem found in one pass."""
    config, registry, problems = collect_problems(path)
    if problems or config is None or registry is None:
        raise ConfigError(problems)
    return Checked(config, registry)
