"""Start-up checks and descriptions of registered EAP methods (built-ins and plugins).

A method declares what it needs from the credential providers with a class attribute::

    class TotpGtcMethod(BaseMethod):
        requires = ("password_verifier",)

``password_lookup`` and ``password_verifier`` name :attr:`Providers.passwords` and
:attr:`Providers.verifier`; any other name is looked up in :attr:`Providers.extra` (e.g. a
SIM triplet source).  :func:`check_config_methods` runs at start-up (``serve``,
``radius-front`` via :class:`ikeeap.runtime.EapFactory`, and ``check-config``): every
method a connection uses or a ``[methods.<name>]`` table configures must have its providers,
and must accept its configuration (the factory is called once; ``__init__`` raising
``ValueError`` is how a method rejects bad config).  All problems are collected into one
:class:`RegistryError`, each line naming the method and where it came from.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ikeeap.eap.credentials import Providers
from ikeeap.eap.registry import MethodRegistry, RegistryError

# Names a method may list in ``requires`` for the two built-in provider slots.
PROVIDER_SLOTS: Mapping[str, str] = {
    "password_lookup": "passwords",
    "password_verifier": "verifier",
}
# Owned by the authenticator (Identity, Notification, Nak): never a method's type.
RESERVED_EAP_TYPES = frozenset({1, 2, 3})


@dataclass(frozen=True)
class MethodInfo:
    """What ``ikeeap plugins`` shows for one registered method."""

    name: str
    eap_type: int | None  # None: pass-through relaying any type
    mutual: bool
    generates_msk: bool
    origin: str
    requires: tuple[str, ...] = ()

    def row(self) -> str:
        eap_type = "any" if self.eap_type is None else str(self.eap_type)
        needs = ",".join(self.requires) or "-"
        return (f"{self.name:16} {eap_type:>4}  {_yes(self.mutual):6} {_yes(self.generates_msk):4}"
                f" {needs:24} {self.origin}")


HEADER = f"{'NAME':16} {'TYPE':>4}  {'MUTUAL':6} {'MSK':4} {'REQUIRES':24} ORIGIN"


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def available_providers(providers: Providers) -> set[str]:
    """The provider names a method's ``requires`` can be satisfied by."""
    names = {name for name, slot in PROVIDER_SLOTS.items() if getattr(providers, slot) is not None}
    names |= {name for name, value in providers.extra.items() if value is not None}
    return names


def declared_requirements(factory: Any, origin: str) -> tuple[str, ...]:
    """The factory's ``requires`` as a tuple of names; a malformed value is a plugin bug."""
    requires = getattr(factory, "requires", ())
    if isinstance(requires, str) or not isinstance(requires, Iterable):
        raise RegistryError(f"{origin}: 'requires' must be a tuple of provider names")
    names = tuple(requires)
    if not all(isinstance(n, str) and n for n in names):
        raise RegistryError(f"{origin}: 'requires' must be a tuple of provider names")
    return names


def describe(registry: MethodRegistry, name: str) -> MethodInfo:
    """Static capabilities of one method, read from its factory's class attributes."""
    factory = registry.get(name)
    origin = registry.origin(name)
    eap_type = getattr(factory, "eap_type", None)
    return MethodInfo(
        name=name,
        eap_type=int(eap_type) if isinstance(eap_type, int) else None,
        mutual=bool(getattr(factory, "mutual", False)),
        generates_msk=bool(getattr(factory, "generates_msk", False)),
        origin=origin,
        requires=declared_requirements(factory, origin),
    )


def describe_all(registry: MethodRegistry) -> list[MethodInfo]:
    return [describe(registry, name) for name in registry.names()]


def check_config_methods(
    registry: MethodRegistry,
    config: Any,
    providers: Providers,
    per_connection: Callable[[Providers, Any], Providers] | None = None,
) -> None:
    """Every start-up check for the methods ``config`` uses; raises one RegistryError.

    ``per_connection(providers, conn)`` gives the providers a connection's methods really
    get (e.g. ``backends.providers.connection_providers``: an LDAP connection has no
    cleartext lookup), so each connection's methods are checked against those."""
    problems: list[str] = []
    checked: set[str] = set()
    for conn in config.connections:
        if conn.auth != "eap":
            continue
        try:
            conn_providers = per_connection(providers, conn) if per_connection else providers
        except Exception as exc:  # noqa: BLE001 - reported with the rest
            problems.append(f"connection {conn.name!r}: {exc}")
            continue
        problems += _problems(registry, conn.eap_methods, config.methods, conn_providers,
                              f" for connection {conn.name!r}" if per_connection else "")
        checked.update(conn.eap_methods)
    configured_only = [m for m in config.methods if m not in checked]
    problems += _problems(registry, configured_only, config.methods, providers, "")
    if problems:
        raise RegistryError("\n".join(dict.fromkeys(problems)))


def check_methods(
    registry: MethodRegistry,
    names: Iterable[str],
    method_configs: Mapping[str, Any],
    providers: Providers,
) -> None:
    """Providers present, configuration accepted, a usable EAP type: else RegistryError."""
    problems = _problems(registry, names, method_configs, providers, "")
    if problems:
        raise RegistryError("\n".join(problems))


def _problems(registry: MethodRegistry, names: Iterable[str], method_configs: Mapping[str, Any],
              providers: Providers, context: str) -> list[str]:
    available = available_providers(providers)
    problems = []
    for name in names:
        problem = _problem_with(registry, name, method_configs.get(name), providers, available)
        if problem:
            problems.append(problem + context)
    return problems


def _problem_with(
    registry: MethodRegistry,
    name: str,
    method_config: Any,
    providers: Providers,
    available: set[str],
) -> str | None:
    if name not in registry:
        return f"[methods.{name}] configures an unknown EAP method {name!r}"
    origin = registry.origin(name)
    where = f"EAP method {name!r} ({origin})"
    try:
        requires = declared_requirements(registry.get(name), origin)
    except RegistryError as exc:
        return str(exc)
    missing = [r for r in requires if r not in available]
    if missing:
        have = ", ".join(sorted(available)) or "none"
        return f"{where} needs provider(s) {', '.join(missing)} that nobody configured " \
               f"(configured: {have})"
    if method_config is not None and not isinstance(method_config, Mapping):
        return f"{where}: [methods.{name}] must be a table"
    try:  # the factory validates its [methods.<name>] table; a raise rejects it
        method = registry.create(name, dict(method_config or {}), providers)
    except Exception as exc:  # noqa: BLE001 - plugin code: report, never crash
        return f"{where} rejected its configuration [methods.{name}]: {exc}"
    return _interface_problem(where, method)


def _interface_problem(where: str, method: Any) -> str | None:
    for attr in ("start", "process", "msk", "emsk", "is_mutual", "abort"):
        if not callable(getattr(method, attr, None)):
            return f"{where}: the method object has no {attr}() (see docs/plugins.md)"
    eap_type = getattr(method, "eap_type", None)
    if eap_type is None:
        return None
    if not isinstance(eap_type, int) or not 1 <= eap_type <= 255:
        return f"{where}: eap_type must be an int 4..255 or None, not {eap_type!r}"
    if eap_type in RESERVED_EAP_TYPES:
        return f"{where}: eap_type {eap_type} is owned by the authenticator"
    return None
