"""The blocking half of the LDAP password check (ldap3, synchronous strategy).

:meth:`LdapDirectory.check_password` runs on a worker thread (never the reactor's):

1. refuse an empty password before any bind (an empty simple bind is an anonymous
   *success* on most servers, RFC 4513 §5.1.2);
2. bind as the service account (or anonymously) and search ``base_dn`` with the filter
   template, the user name escaped (RFC 4515) so ``*`` or ``alice)(uid=*`` match nothing;
3. require exactly one entry, then bind as that DN with the user's password on a second
   connection;
4. with ``group_dn``: require the DN among the group's members.

Servers are tried in order; a server that cannot be reached, refuses TLS or is busy is
skipped (failover), while a definite answer (no such user, wrong password) is final.  The
whole check honours ``timeout``: later servers get only the time that is left.
"""

from __future__ import annotations

import logging
import math
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

import ldap3
from ldap3.core.exceptions import LDAPException
from ldap3.utils.conv import escape_filter_chars

from .config import LdapConfig, LdapServerAddress

log = logging.getLogger("ikeeap.backends.ldap")

MAX_USER_LENGTH = 256
MAX_PASSWORD_LENGTH = 1024
RESULT_INVALID_CREDENTIALS = 49
_TRANSIENT_RESULTS = {51, 52, 80}  # busy, unavailable, other: try the next server

# (server address, bind DN or None, password or None, connect timeout, receive timeout)
ConnectionFactory = Callable[[LdapServerAddress, str | None, str | None, float, float],
                             ldap3.Connection]


class CheckResult(Enum):
    ACCEPT = "accept"
    REJECT = "reject"
    UNAVAILABLE = "unavailable"  # no server gave an answer in time


@dataclass(frozen=True)
class LdapVerdict:
    result: CheckResult
    reason: str = ""  # why not ACCEPT: for the log and the audit line


class _ServerUnusable(Exception):
    """This server cannot answer now (network, TLS, busy, service bind refused)."""


def make_tls(config: LdapConfig) -> ldap3.Tls:
    """Validation on unless explicitly disabled; ldap3's own default is CERT_NONE."""
    return ldap3.Tls(
        validate=ssl.CERT_REQUIRED if config.tls_verify else ssl.CERT_NONE,
        ca_certs_file=str(config.ca_file) if config.ca_file else None,
        version=ssl.PROTOCOL_TLS_CLIENT,
    )


def default_connection_factory(config: LdapConfig) -> ConnectionFactory:
    tls = make_tls(config) if config.tls != "none" else None

    def connect(address: LdapServerAddress, user: str | None, password: str | None,
                connect_timeout: float, receive_timeout: float) -> ldap3.Connection:
        server = ldap3.Server(address.host, port=address.port, use_ssl=address.use_ssl,
                              tls=tls, connect_timeout=connect_timeout, get_info=ldap3.NONE)
        return ldap3.Connection(server, user=user, password=password,
                                receive_timeout=receive_timeout, read_only=True,
                                auto_referrals=False, raise_exceptions=False)

    return connect


class LdapDirectory:
    """Synchronous password checks against the configured directory servers."""

    def __init__(self, config: LdapConfig, connect: ConnectionFactory | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self._connect = connect or default_connection_factory(config)
        self._clock = clock

    def check_password(self, user: str, password: str) -> CheckResult:
        """ACCEPT only for exactly one matching entry, a successful bind and the group."""
        return self.check(user, password).result

    def check(self, user: str, password: str) -> LdapVerdict:
        """:meth:`check_password` with the reason of a refusal."""
        if not password or not user:
            log.info("LDAP: empty user name or password refused before any bind")
            return LdapVerdict(CheckResult.REJECT, "empty user name or password")
        if len(user) > MAX_USER_LENGTH or len(password) > MAX_PASSWORD_LENGTH:
            log.info("LDAP: over-long user name or password refused")
            return LdapVerdict(CheckResult.REJECT, "over-long user name or password")
        deadline = self._clock() + self.config.timeout
        problems: list[str] = []
        for address in self.config.servers:
            if deadline - self._clock() <= 0:
                problems.append(f"no time left for {address.url}")
                break
            try:
                return self._check_on(address, user, password, deadline)
            except _ServerUnusable as exc:
                problems.append(f"{address.url}: {exc}")
            except (LDAPException, OSError) as exc:
                problems.append(f"{address.url}: {type(exc).__name__}: {exc}")
            log.warning("LDAP server %s", problems[-1])
        why = "; ".join(problems) or "no server configured"
        log.warning("LDAP: no directory server could check %r (%s)", user, why)
        return LdapVerdict(CheckResult.UNAVAILABLE, f"directory unavailable ({why})")

    def probe(self, address: LdapServerAddress) -> str:
        """"" when ``address`` accepts a connection with the configured TLS and the service
        account's bind (check-config --probe), else what went wrong."""
        try:
            _unbind(self._open(address, self.config.bind_dn, self.config.bind_password,
                               self._clock() + self.config.timeout))
        except _ServerUnusable as exc:
            return str(exc)
        except (LDAPException, OSError) as exc:
            return f"{type(exc).__name__}: {exc}"
        return ""

    # -- one server ---------------------------------------------------------------------

    def _check_on(self, address: LdapServerAddress, user: str, password: str,
                  deadline: float) -> LdapVerdict:
        cfg = self.config
        service = self._open(address, cfg.bind_dn, cfg.bind_password, deadline)
        try:
            dn, found = self._find_user(service, user)
            if dn is None:
                return LdapVerdict(CheckResult.REJECT, f"{found} entries match {user!r} "
                                   "(exactly one required)" if found else
                                   f"unknown user {user!r} (ldap)")
            if not self._bind_as(address, dn, password, deadline):
                log.info("LDAP: wrong password for %r", user)
                return LdapVerdict(CheckResult.REJECT, f"wrong password for {user!r} (ldap)")
            if cfg.group_dn and not self._is_member(service, dn):
                log.info("LDAP: %r is not a member of %s", user, cfg.group_dn)
                return LdapVerdict(CheckResult.REJECT, f"{user!r} is not a member of "
                                   f"{cfg.group_dn}")
            return LdapVerdict(CheckResult.ACCEPT)
        finally:
            _unbind(service)

    def _open(self, address: LdapServerAddress, dn: str | None, password: str | None,
              deadline: float) -> ldap3.Connection:
        """An open, TLS-protected (unless tls = none) and bound connection."""
        remaining = max(0.1, deadline - self._clock())
        # ldap3 packs the receive timeout into SO_RCVTIMEO as whole seconds.
        receive_timeout = max(1, math.ceil(min(self.config.response_timeout, remaining)))
        conn = self._connect(address, dn, password,
                             min(self.config.connect_timeout, remaining), receive_timeout)
        conn.open()
        if self.config.tls == "starttls" and not address.use_ssl and not conn.start_tls():
            detail = (conn.result or {}).get("description") or conn.result
            _unbind(conn)
            raise _ServerUnusable(f"StartTLS refused: {detail}")
        if not conn.bind():
            code = (conn.result or {}).get("result")
            _unbind(conn)
            what = "service account" if dn == self.config.bind_dn else "bind"
            raise _ServerUnusable(f"{what} bind failed (result {code})")
        return conn

    def _find_user(self, service: ldap3.Connection, user: str) -> tuple[str | None, int]:
        """(the DN of the one entry that matches, how many matched)."""
        ldap_filter = self.config.filter.format(user=escape_filter_chars(user))
        ok = service.search(self.config.base_dn, ldap_filter, search_scope=ldap3.SUBTREE,
                            attributes=[], size_limit=2)
        code = (service.result or {}).get("result", 0)
        if not ok and code in _TRANSIENT_RESULTS:
            raise _ServerUnusable(f"search failed (result {code})")
        entries = [e for e in service.response or [] if e.get("type") == "searchResEntry"]
        if len(entries) != 1:
            log.info("LDAP: %d entries match %r (exactly one required)", len(entries), user)
            return None, len(entries)
        return str(entries[0]["dn"]), 1

    def _bind_as(self, address: LdapServerAddress, dn: str, password: str,
                 deadline: float) -> bool:
        try:
            conn = self._open(address, dn, password, deadline)
        except _ServerUnusable:
            return False
        _unbind(conn)
        return True

    def _is_member(self, service: ldap3.Connection, dn: str) -> bool:
        cfg = self.config
        ldap_filter = f"({cfg.group_member_attribute}={escape_filter_chars(dn)})"
        service.search(cfg.group_dn, ldap_filter, search_scope=ldap3.BASE, attributes=[])
        return any(e.get("type") == "searchResEntry" for e in service.response or [])


def _unbind(conn: ldap3.Connection) -> None:
    try:
        conn.unbind()
    except (LDAPException, OSError):  # closing a dead connection must not mask the answer
        pass
