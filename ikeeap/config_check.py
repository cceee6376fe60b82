"""Every problem of a configuration in one pass, each as ``file:key: what is wrong``.

What ``check-config`` reports and ``serve`` refuses to start with: the file itself
(:func:`ikeeap.config.read_config`), the plugins it names, the RFC 5998 method rule and every
method's start-up check (providers present, ``[methods.<name>]`` accepted).  Nothing here
contacts a server (``check-config --probe`` does: :mod:`ikeeap.probe`).
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from .config import Config, read_config
from .eap.registry import MethodRegistry, RegistryError

_METHOD = re.compile(r"EAP method '([^']+)'|\[methods\.([^\]]+)\]")


def collect_problems(path: str | Path) -> tuple[Config | None, MethodRegistry | None, list[str]]:
    from .backends.providers import connection_providers
    from .eap.mutual import eap_only_problems
    from .eap.plugin_checks import check_config_methods
    from .runtime import build_providers

    resolved = Path(path).resolve()
    registry, problems = _registry(resolved)
    config, found = read_config(resolved, set(registry.names()) if registry else None)
    problems += found
    if config is None or registry is None:
        return config, registry, problems
    problems += _certificate_problems(config)
    problems += eap_only_problems(config, registry)
    try:
        check_config_methods(registry, config, build_providers(config), connection_providers)
    except RegistryError as exc:
        used = {m for c in config.connections for m in c.eap_methods}
        problems += [_with_key(resolved, line) for line in str(exc).splitlines()
                     if not _unknown_and_reported(line, used)]
    except Exception as exc:  # noqa: BLE001 - e.g. a users table the store rejects
        problems.append(f"{resolved}:users: {exc}")
    return config, registry, list(dict.fromkeys(problems))


def _registry(path: Path) -> tuple[MethodRegistry | None, list[str]]:
    """Built-ins, entry points and the plugin dirs the file names (read before the rest, so
    that method names can be checked against plugins too)."""
    registry = MethodRegistry.discover()
    try:
        doc = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError):
        return registry, []  # read_config reports it
    dirs = doc.get("plugins", {}).get("dirs", []) if isinstance(doc.get("plugins"), dict) else []
    problems = []
    for directory in dirs if isinstance(dirs, list) else []:
        try:
            registry.load_plugins_dir((path.parent / str(directory)).resolve())
        except RegistryError as exc:
            problems += [f"{path}:plugins.dirs: {line}" for line in str(exc).splitlines()]
    return registry, problems


def _certificate_problems(config: Config) -> list[str]:
    """The server's certificate files: present (unless generated on first start), readable."""
    from .crypto.certs import load_certificate, load_private_key

    certs = config.certificates
    if certs is None:
        return []
    problems = []
    for key, file, load in (("ca_cert", certs.ca_cert, load_certificate),
                            ("server_cert", certs.server_cert, load_certificate),
                            ("server_key", certs.server_key, load_private_key)):
        if not file.exists():
            if not certs.generate:
                problems.append(f"{config.path}:certificates.{key}: {file} does not exist "
                                "(and generate = false)")
            continue
        try:
            load(file)
        except (OSError, ValueError, TypeError) as exc:
            problems.append(f"{config.path}:certificates.{key}: cannot load {file}: {exc}")
    return problems


def _unknown_and_reported(line: str, used: set[str]) -> bool:
    """read_config already named an unknown method that a connection uses."""
    m = _METHOD.search(line)
    return "configures an unknown EAP method" in line and bool(m) and \
        (m.group(1) or m.group(2)) in used


def _with_key(path: Path, line: str) -> str:
    m = _METHOD.search(line)
    key = f"methods.{m.group(1) or m.group(2)}" if m else "plugins"
    return f"{path}:{key}: {line}"
