"""Which EAP methods may serve RFC 5998 EAP-only logins: mutual and key-generating ones.

A connection with ``eap_only = "require"`` has no server certificate to fall back on, so
every method it offers must authenticate the server and produce an MSK (RFC 5998 §4).
This is checked when the configuration is loaded, from the methods' static capabilities
(``mutual`` and ``generates_msk``); the authenticator and the IKE layer check the outcome
again at run time (``is_mutual()`` and the MSK after success).
"""

from __future__ import annotations

import logging
from typing import Any

from ikeeap.eap.registry import MethodRegistry, RegistryError

log = logging.getLogger("ikeeap.config")


def method_qualifies(registry: MethodRegistry, name: str,
                     config: dict[str, Any] | None = None) -> bool:
    """True if method ``name`` declares itself mutual and key-generating."""
    try:
        factory: Any = registry.get(name)
        mutual = getattr(factory, "mutual", None)
        keyed = getattr(factory, "generates_msk", None)
        if not isinstance(mutual, bool) or not isinstance(keyed, bool):
            instance = registry.create(name, config)  # a factory function: ask an instance
            mutual, keyed = instance.mutual, instance.generates_msk
            instance.abort()
    except (RegistryError, AttributeError, TypeError, ValueError) as exc:
        log.info("cannot tell whether EAP method %r is mutual: %s", name, exc)
        return False
    return bool(mutual) and bool(keyed)


def eap_only_problems(config: Any, registry: MethodRegistry) -> list[str]:
    """``file:key: message`` for each non-mutual method of an eap_only="require" connection."""
    problems = []
    for i, conn in enumerate(config.connections):
        if getattr(conn, "eap_only", "never") != "require":
            continue
        for name in conn.eap_methods:
            if name in registry and not method_qualifies(registry, name, config.methods.get(name)):
                problems.append(
                    f"{config.path}:connections[{i}].eap_methods: {name!r} is not a mutual,"
                    " key-generating method; eap_only = \"require\" cannot use it (RFC 5998)")
    return problems
