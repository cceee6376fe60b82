"""The LDAP :class:`~ikeeap.eap.credentials.PasswordVerifier` (awaitable, reactor-safe).

The blocking ldap3 work (:class:`LdapDirectory`) is handed to ``run_blocking(fn, *args)``,
an awaitable-returning callable injected by the server layer: there it runs on a dedicated,
bounded Twisted thread pool (``ikeeap.server.blocking``); unit tests inject a plain
executor.  This module never imports Twisted.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from .config import LdapConfig
from ikeeap.eap.credentials import Verdict

from .directory import CheckResult, ConnectionFactory, LdapDirectory

log = logging.getLogger("ikeeap.backends.ldap")

RunBlocking = Callable[..., Awaitable[Any]]


class LdapPasswordVerifier:
    """``await verify(user, password)`` -> True only for a directory-confirmed password."""

    def __init__(self, config: LdapConfig, run_blocking: RunBlocking,
                 connect: ConnectionFactory | None = None) -> None:
        self.config = config
        self._run_blocking = run_blocking
        self._directory = LdapDirectory(config, connect)

    async def verify(self, user: str, password: str) -> Verdict:
        if not user or not password:  # refused before anything reaches a thread or a bind
            log.info("LDAP: empty user name or password refused")
            return Verdict(False, "empty user name or password")
        try:
            verdict = await self._run_blocking(self._directory.check, user, password)
        except Exception as exc:  # pool full, cancelled, bug: a clean refusal, never a raise
            why = str(exc) or type(exc).__name__
            log.warning("LDAP check for %r did not complete: %s", user, why)
            return Verdict(False, f"LDAP check did not complete: {why}")
        if verdict.result is CheckResult.ACCEPT:
            return Verdict(True)
        return Verdict(False, verdict.reason)
