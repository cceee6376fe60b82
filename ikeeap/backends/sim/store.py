"""Pseudonyms and fast re-authentication identities in sqlite (stdlib ``sqlite3``), with
expiry, so that a restart of the responder keeps the identities its clients hold.

The file holds each subscriber's MK (needed for fast re-authentication): it is created
mode 0600 under the state directory.  Calls are blocking; the server layer injects
``run_blocking`` (a thread pool) so the reactor never waits on the disk.  Satisfies
:class:`ikeeap.eap.methods.sim.provider.SimIdentityStore`.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from ikeeap.eap.methods.sim.provider import ReauthState

log = logging.getLogger("ikeeap.sim")
T = TypeVar("T")
RunBlocking = Callable[..., Awaitable[Any]]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS pseudonyms (
    pseudonym TEXT PRIMARY KEY, imsi TEXT NOT NULL, expires REAL NOT NULL);
CREATE TABLE IF NOT EXISTS reauth (
    reauth_id TEXT PRIMARY KEY, imsi TEXT NOT NULL, mk BLOB NOT NULL,
    counter INTEGER NOT NULL, expires REAL NOT NULL);
"""


async def run_inline(fn: Callable[..., T], *args: Any) -> T:
    """Default ``run_blocking`` for tests and tools: call directly."""
    return fn(*args)


class SqliteIdentityStore:
    """``path`` is a file (created 0600) or ``":memory:"``; lifetimes in seconds."""

    def __init__(self, path: str | Path, pseudonym_lifetime: float = 30 * 86400,
                 reauth_lifetime: float = 86400, run_blocking: RunBlocking = run_inline,
                 clock: Callable[[], float] = time.time) -> None:
        self.path = str(path)
        self.pseudonym_lifetime = pseudonym_lifetime
        self.reauth_lifetime = reauth_lifetime
        self._run = run_blocking
        self._clock = clock
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None  # opened on first use (check-config: never)

    @property
    def _db(self) -> sqlite3.Connection:
        """The one connection shared by pool threads (callers hold ``_lock``)."""
        if self._conn is None:
            if self.path != ":memory:":
                _create_private(Path(self.path))
            self._conn = sqlite3.connect(self.path, check_same_thread=False,
                                         isolation_level=None)
            self._conn.executescript(_SCHEMA)
        return self._conn

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    # -- the SimIdentityStore interface -------------------------------------------------

    def save_pseudonym(self, pseudonym: str, imsi: str) -> Awaitable[None]:
        return self._run(self._save_pseudonym, pseudonym, imsi)

    def lookup_pseudonym(self, pseudonym: str) -> Awaitable[str | None]:
        return self._run(self._lookup_pseudonym, pseudonym)

    def save_reauth(self, reauth_id: str, state: ReauthState) -> Awaitable[None]:
        return self._run(self._save_reauth, reauth_id, state)

    def take_reauth(self, reauth_id: str) -> Awaitable[ReauthState | None]:
        return self._run(self._take_reauth, reauth_id)

    # -- blocking implementations -------------------------------------------------------

    def _write(self, sql: str, *params: Any) -> None:
        with self._lock:
            self._db.execute(sql, params)

    def _save_pseudonym(self, pseudonym: str, imsi: str) -> None:
        now = self._clock()
        self.purge_expired(now)
        self._write("INSERT OR REPLACE INTO pseudonyms VALUES (?, ?, ?)",
                    pseudonym, imsi, now + self.pseudonym_lifetime)

    def _lookup_pseudonym(self, pseudonym: str) -> str | None:
        with self._lock:
            row = self._db.execute(
                "SELECT imsi FROM pseudonyms WHERE pseudonym = ? AND expires > ?",
                (pseudonym, self._clock())).fetchone()
        return None if row is None else str(row[0])

    def _save_reauth(self, reauth_id: str, state: ReauthState) -> None:
        now = self._clock()
        self.purge_expired(now)
        self._write("INSERT OR REPLACE INTO reauth VALUES (?, ?, ?, ?, ?)", reauth_id,
                    state.imsi, state.mk, state.counter, now + self.reauth_lifetime)

    def _take_reauth(self, reauth_id: str) -> ReauthState | None:
        """Fetch and delete: a re-authentication identity is good for one use (§5.4)."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                row = self._db.execute(
                    "SELECT imsi, mk, counter, expires FROM reauth WHERE reauth_id = ?",
                    (reauth_id,)).fetchone()
                self._db.execute("DELETE FROM reauth WHERE reauth_id = ?", (reauth_id,))
            finally:
                self._db.execute("COMMIT")
        if row is None or row[3] <= self._clock():
            return None
        return ReauthState(str(row[0]), bytes(row[1]), int(row[2]))

    def purge_expired(self, now: float | None = None) -> None:
        now = self._clock() if now is None else now
        with self._lock:
            self._db.execute("DELETE FROM pseudonyms WHERE expires <= ?", (now,))
            self._db.execute("DELETE FROM reauth WHERE expires <= ?", (now,))

    def counts(self) -> tuple[int, int]:
        """(pseudonyms, re-authentication identities) stored, for tests and metrics."""
        with self._lock:
            p = self._db.execute("SELECT COUNT(*) FROM pseudonyms").fetchone()[0]
            r = self._db.execute("SELECT COUNT(*) FROM reauth").fetchone()[0]
        return int(p), int(r)


def _create_private(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_CREAT | os.O_RDWR | os.O_NOFOLLOW, 0o600)
    try:
        os.fchmod(fd, 0o600)  # an existing file keeps no wider mode
    finally:
        os.close(fd)
