"""The ``[ldap]`` configuration table (parsed into a frozen :class:`LdapConfig`).

    [ldap]
    servers = ["ldap://ldap1.example.org", "ldaps://ldap2.example.org"]  # tried in order
    base_dn = "ou=people,dc=example,dc=org"
    filter = "(&(objectClass=inetOrgPerson)(uid={user}))"  # {user} is escaped (RFC 4515)
    bind_dn = "cn=ikeeap,ou=services,dc=example,dc=org"    # service account for the search
    bind_password_file = "ldap.secret"                      # or bind_password / _env
    tls = "starttls"            # starttls | ldaps | none (an ldaps:// URL is always LDAPS)
    ca_file = "ldap-ca.pem"     # CA of the directory's certificate (default: system CAs)
    tls_verify = true           # certificate validation; never turn it off in production
    connect_timeout = 3         # seconds per server
    response_timeout = 5        # seconds per LDAP operation
    timeout = 10                # overall bound for one password check
    group_dn = "cn=vpn-users,ou=groups,dc=example,dc=org"  # optional authorisation rule
    group_member_attribute = "member"                       # member | uniqueMember
    threads = 4                 # size of the dedicated thread pool for blocking LDAP calls
    max_pending = 64            # checks waiting for a thread beyond which logins fail fast

The parser never raises: every problem is reported through the ConfigReader.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:  # config.py imports this module; keep the runtime import one-way
    from ikeeap.config import ConfigReader

TLS_MODES = ("starttls", "ldaps", "none")
DEFAULT_FILTER = "(uid={user})"
_PREFIX = "ldap."
_KEYS = {
    "servers", "base_dn", "filter", "bind_dn", "bind_password", "bind_password_file",
    "bind_password_env", "tls", "ca_file", "tls_verify", "connect_timeout",
    "response_timeout", "timeout", "group_dn", "group_member_attribute", "threads",
    "max_pending",
}


@dataclass(frozen=True)
class LdapServerAddress:
    host: str
    port: int
    use_ssl: bool  # ldaps://

    @property
    def url(self) -> str:
        return f"{'ldaps' if self.use_ssl else 'ldap'}://{self.host}:{self.port}"


@dataclass(frozen=True)
class LdapConfig:
    servers: tuple[LdapServerAddress, ...]
    base_dn: str
    filter: str = DEFAULT_FILTER
    bind_dn: str | None = None
    bind_password: str | None = field(default=None, repr=False)
    tls: str = "starttls"
    ca_file: Path | None = None
    tls_verify: bool = True
    connect_timeout: float = 3.0
    response_timeout: float = 5.0
    timeout: float = 10.0
    group_dn: str | None = None
    group_member_attribute: str = "member"
    threads: int = 4
    max_pending: int = 64


def parse_server_url(url: str, tls: str) -> LdapServerAddress:
    """``ldap://host[:port]`` or ``ldaps://host[:port]``; raises ValueError when malformed."""
    parts = urlsplit(url)
    if parts.scheme not in ("ldap", "ldaps") or not parts.hostname:
        raise ValueError(f"{url!r} is not an ldap:// or ldaps:// URL")
    if parts.path not in ("", "/") or parts.query:
        raise ValueError(f"{url!r}: no path or query allowed (use base_dn and filter)")
    use_ssl = parts.scheme == "ldaps" or tls == "ldaps"
    port = parts.port or (636 if use_ssl else 389)
    return LdapServerAddress(parts.hostname, port, use_ssl)


def parse_ldap_section(r: ConfigReader, table: dict[str, Any]) -> LdapConfig | None:
    """Parse ``[ldap]``; problems go to ``r`` (the result is then None or partial)."""
    r.unknown_keys(table, _PREFIX, _KEYS)
    tls = r.get(table, _PREFIX, "tls", str, "starttls")
    if tls not in TLS_MODES:
        r.problem(f"{_PREFIX}tls", f"must be one of {', '.join(TLS_MODES)}")
    servers = _read_servers(r, table, tls)
    base_dn = r.get(table, _PREFIX, "base_dn", str, "")
    if not base_dn:
        r.problem(f"{_PREFIX}base_dn", "is required")
    filter_template = _read_filter(r, table)
    bind_dn = r.get(table, _PREFIX, "bind_dn", str, None)
    bind_password = r.secret(table, _PREFIX, "bind_password")
    if bind_dn and not bind_password:
        r.problem(f"{_PREFIX}bind_password",
                  "bind_dn needs bind_password, bind_password_file or bind_password_env")
    ca_file = _read_ca_file(r, table)
    timeouts = {key: _positive(r, table, key, default)
                for key, default in (("connect_timeout", 3.0), ("response_timeout", 5.0),
                                     ("timeout", 10.0))}
    threads = r.get(table, _PREFIX, "threads", int, 4)
    max_pending = r.get(table, _PREFIX, "max_pending", int, 64)
    if not 1 <= threads <= 64:
        r.problem(f"{_PREFIX}threads", "must be 1..64")
    if max_pending < 0:
        r.problem(f"{_PREFIX}max_pending", "must be >= 0")
    if not servers or not base_dn:
        return None
    return LdapConfig(
        servers=servers, base_dn=base_dn, filter=filter_template, bind_dn=bind_dn or None,
        bind_password=bind_password, tls=tls, ca_file=ca_file,
        tls_verify=r.get(table, _PREFIX, "tls_verify", bool, True),
        group_dn=r.get(table, _PREFIX, "group_dn", str, None) or None,
        group_member_attribute=r.get(table, _PREFIX, "group_member_attribute", str, "member"),
        threads=threads, max_pending=max_pending, **timeouts,
    )


def _read_servers(r: ConfigReader, table: dict[str, Any], tls: str
                  ) -> tuple[LdapServerAddress, ...]:
    urls = r.get(table, _PREFIX, "servers", list, [])
    if not urls:
        r.problem(f"{_PREFIX}servers", "at least one ldap:// or ldaps:// URL is required")
    servers = []
    for i, url in enumerate(urls):
        try:
            address = parse_server_url(str(url), tls)
        except ValueError as exc:
            r.problem(f"{_PREFIX}servers[{i}]", str(exc))
            continue
        servers.append(address)
    return tuple(servers)


def _read_filter(r: ConfigReader, table: dict[str, Any]) -> str:
    template = r.get(table, _PREFIX, "filter", str, DEFAULT_FILTER)
    if "{user}" not in template:
        r.problem(f"{_PREFIX}filter", "must contain {user}")
        return DEFAULT_FILTER
    try:
        template.format(user="x")
    except (KeyError, IndexError, ValueError) as exc:
        r.problem(f"{_PREFIX}filter", f"bad template ({exc!r}); only {{user}} is substituted")
        return DEFAULT_FILTER
    if not (template.startswith("(") and template.endswith(")")):
        r.problem(f"{_PREFIX}filter", "must be a parenthesised LDAP filter")
    return template


def _read_ca_file(r: ConfigReader, table: dict[str, Any]) -> Path | None:
    name = r.get(table, _PREFIX, "ca_file", str, None)
    if not name:
        return None
    path = Path(name) if Path(name).is_absolute() else r.path.parent / name
    if not path.is_file():
        r.problem(f"{_PREFIX}ca_file", f"{path} does not exist")
    return path


def _positive(r: ConfigReader, table: dict[str, Any], key: str, default: float) -> float:
    value = r.get(table, _PREFIX, key, float, default)
    if value <= 0:
        r.problem(f"{_PREFIX}{key}", "must be > 0")
        return default
    return float(value)
