"""Discovery of EAP method factories.

Sources, in order:

1. built-ins (``ikeeap.eap.methods``), registered directly so that a checkout that is not
   pip-installed works;
2. the entry-point group ``ikeeap.eap_methods`` (an entry point that names the same
   object as a built-in — ikeeap's own setup.cfg does — is not a duplicate);
3. ``*.py`` modules in a plugins directory (names starting with ``_`` are skipped).  A
   module exposes ``EAP_METHODS = {"name": Factory, ...}``; without it, every class
   defined in the module with a string ``name`` and ``start``/``process`` methods is
   registered under that name.

A factory is called as ``Factory(config: dict, providers) -> EapMethod``.  The same name
from two origins raises :class:`RegistryError` naming both; a plugin or entry point that
fails to import raises :class:`RegistryError` naming it.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from types import ModuleType
from typing import Any, cast

from ikeeap.eap.credentials import Providers
from ikeeap.eap.method import EapMethod

ENTRY_POINT_GROUP = "ikeeap.eap_methods"
PLUGIN_MODULE_PREFIX = "ikeeap_plugins."
BUILTINS: Mapping[str, str] = {
    "md5": "ikeeap.eap.methods.md5:Md5Method",
    "gtc": "ikeeap.eap.methods.gtc:GtcMethod",
    "mschapv2": "ikeeap.eap.methods.mschapv2:MsChapV2Method",
    "ttls": "ikeeap.eap.methods.ttls:TtlsMethod",
    "tls": "ikeeap.eap.methods.tls:TlsMethod",
    "pwd": "ikeeap.eap.methods.pwd:PwdMethod",
    "sim": "ikeeap.eap.methods.sim:SimMethod",
    "radius": "ikeeap.backends.radius.method:RadiusMethod",
}

Factory = Callable[[dict[str, Any], Providers], EapMethod]


class RegistryError(Exception):
    """A method could not be registered; the message names the origin(s)."""


@dataclass(frozen=True)
class Registration:
    name: str
    factory: Factory
    origin: str  # "builtin ...", "entry point ...", "plugin /path/x.py"


class MethodRegistry:
    """Name -> factory, with the origin of each registration."""

    def __init__(self) -> None:
        self._entries: dict[str, Registration] = {}

    @classmethod
    def discover(
        cls,
        plugins_dir: str | Path | None = None,
        entry_points: bool = True,
        builtins: bool = True,
    ) -> MethodRegistry:
        """Registry with built-ins, installed entry points and a plugins directory."""
        registry = cls()
        if builtins:
            registry.load_builtins()
        if entry_points:
            registry.load_entry_points()
        if plugins_dir is not None:
            registry.load_plugins_dir(plugins_dir)
        return registry

    # -- registration -------------------------------------------------------------------

    def register(self, name: str, factory: Factory, origin: str) -> None:
        """Add one factory; a name already present raises RegistryError."""
        if not isinstance(name, str) or not name:
            raise RegistryError(f"{origin}: method name must be a non-empty string")
        if not callable(factory):
            raise RegistryError(f"{origin}: factory for {name!r} is not callable")
        existing = self._entries.get(name)
        if existing is not None:
            if existing.factory is factory:
                return
            raise RegistryError(
                f"EAP method {name!r} defined twice: by {existing.origin} and by {origin}"
            )
        self._entries[name] = Registration(name, factory, origin)

    def load_builtins(self) -> None:
        for name, target in BUILTINS.items():
            self.register(name, _resolve(target, f"builtin {target}"), f"builtin {target}")

    def load_entry_points(self, eps: Iterable[metadata.EntryPoint] | None = None) -> None:
        """Register the ``ikeeap.eap_methods`` entry points (or the given ones)."""
        if eps is None:
            eps = metadata.entry_points(group=ENTRY_POINT_GROUP)
        for ep in eps:
            dist = getattr(getattr(ep, "dist", None), "name", None) or "?"
            origin = f"entry point {ep.name} = {ep.value} ({dist})"
            try:
                factory = ep.load()
            except Exception as exc:  # any import failure names the plugin
                raise RegistryError(f"{origin}: failed to load: {exc!r}") from exc
            self.register(ep.name, factory, origin)

    def load_plugins_dir(self, directory: str | Path) -> None:
        """Import every ``*.py`` in ``directory`` and register what it exposes."""
        path = Path(directory)
        if not path.is_dir():
            raise RegistryError(f"plugins directory {path} does not exist")
        for file in sorted(path.glob("*.py")):
            if file.name.startswith("_"):
                continue
            origin = f"plugin {file}"
            module = _import_file(file, origin)
            for name, factory in _exposed_methods(module, origin).items():
                self.register(name, factory, origin)

    # -- lookup -------------------------------------------------------------------------

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def names(self) -> list[str]:
        return sorted(self._entries)

    def get(self, name: str) -> Factory:
        try:
            return self._entries[name].factory
        except KeyError:
            raise RegistryError(f"unknown EAP method {name!r}") from None

    def origin(self, name: str) -> str:
        return self._entries[name].origin

    def create(
        self, name: str, config: dict[str, Any] | None = None, providers: Providers | None = None
    ) -> EapMethod:
        """Instantiate a method: ``Factory(config, providers)``."""
        return self.get(name)(dict(config or {}), providers or Providers())

    def factory_for(
        self, name: str, config: dict[str, Any] | None = None, providers: Providers | None = None
    ) -> tuple[int | None, Callable[[], EapMethod]]:
        """An ``(eap_type, zero-argument factory)`` pair for :class:`EapAuthenticator`."""
        factory = self.get(name)
        eap_type = getattr(factory, "eap_type", None)
        if eap_type is None:  # a plain function: ask an instance
            eap_type = getattr(self.create(name, config, providers), "eap_type", None)
        return eap_type, lambda: self.create(name, config, providers)


def _resolve(target: str, origin: str) -> Factory:
    module_name, _, attr = target.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
        for part in attr.split("."):
            obj = getattr(obj, part)
    except Exception as exc:
        raise RegistryError(f"{origin}: failed to load: {exc!r}") from exc
    return obj  # type: ignore[no-any-return]


def _import_file(file: Path, origin: str) -> ModuleType:
    module_name = PLUGIN_MODULE_PREFIX + file.stem
    try:
        spec = importlib.util.spec_from_file_location(module_name, file)
        if spec is None or spec.loader is None:
            raise ImportError("no loader")
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
    except Exception as exc:  # syntax errors, missing imports, ...
        sys.modules.pop(module_name, None)
        raise RegistryError(f"{origin}: import failed: {exc!r}") from exc
    return module


def _exposed_methods(module: ModuleType, origin: str) -> dict[str, Factory]:
    declared = getattr(module, "EAP_METHODS", None)
    if declared is not None:
        if not isinstance(declared, Mapping):
            raise RegistryError(f"{origin}: EAP_METHODS must be a mapping name -> factory")
        return dict(declared)
    found: dict[str, Factory] = {}
    for _, cls in inspect.getmembers(module, inspect.isclass):
        if cls.__module__ != module.__name__:
            continue
        name = getattr(cls, "name", None)
        if (
            isinstance(name, str)
            and callable(getattr(cls, "start", None))
            and callable(getattr(cls, "process", None))
        ):
            if name in found:
                raise RegistryError(f"{origin}: two classes named {name!r}")
            found[name] = cast(Factory, cls)
    return found
