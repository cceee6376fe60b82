"""What a configuration allows but an administrator most likely did not mean.

Warnings never stop ``serve`` (the shipped examples must start as they are); ``check-config``
prints them and ``serve`` logs them at start.  Each is ``file:key: warning: ...``.
"""

from __future__ import annotations

from typing import Any

from .config import Config
from .ike.pool import addresses_in

PLACEHOLDER_PREFIX = "change-me"  # what the shipped example secrets start with


def config_warnings(config: Config) -> list[str]:
    found = _pool_overlaps(config) + _placeholder_secrets(config) + _ldap_plaintext(config)
    return [f"{config.path}:{key}: warning: {text}" for key, text in found]


def _pool_overlaps(config: Config) -> list[tuple[str, str]]:
    found = []
    for i, conn in enumerate(config.connections):
        if conn.pool is None:
            continue
        inside = [str(a) for a in addresses_in(conn.dns) if a in conn.pool]
        if inside:
            found.append((f"connections[{i}].pool",
                          f"{conn.pool} contains the DNS server {', '.join(inside)}, which the "
                          "pool will not hand out"))
    return found


def _placeholder_secrets(config: Config) -> list[tuple[str, str]]:
    found = []
    for i, conn in enumerate(config.connections):
        if _placeholder(conn.psk):
            found.append((f"connections[{i}].psk", "the example placeholder PSK is in use"))
    radius: Any = config.sections.get("radius")
    for table in ("servers", "accounting_servers"):
        for i, server in enumerate(getattr(radius, table, ())):
            if _placeholder(server.secret):
                found.append((f"radius.{table}[{i}].secret",
                              "the example placeholder secret is in use"))
    ldap: Any = config.sections.get("ldap")
    if _placeholder(getattr(ldap, "bind_password", None)):
        found.append(("ldap.bind_password", "the example placeholder password is in use"))
    return found


def _ldap_plaintext(config: Config) -> list[tuple[str, str]]:
    ldap: Any = config.sections.get("ldap")
    if ldap is not None and ldap.tls == "none" and not all(
            getattr(s, "use_ssl", False) for s in ldap.servers):
        return [("ldap.tls", 'tls = "none" sends user passwords to the directory in clear')]
    return []


def _placeholder(secret: str | bytes | None) -> bool:
    if isinstance(secret, bytes):
        secret = secret.decode("utf-8", "replace")
    return bool(secret) and secret.startswith(PLACEHOLDER_PREFIX)
