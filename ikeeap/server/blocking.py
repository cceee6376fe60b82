"""Dedicated, bounded thread pools for backends' blocking calls (LDAP binds, ...).

Backends never import Twisted: they receive ``run_blocking(fn, *args) -> Deferred`` (an
awaitable) made here.  Each backend gets its own pool so a slow directory cannot starve
other backends, and at most ``threads + max_pending`` calls are outstanding: beyond that a
call fails at once (:class:`PoolBusy`) instead of queueing logins behind a dead server.
"""

from __future__ import annotations

import contextvars
import logging
from typing import Any, Callable

from twisted.internet import defer
from twisted.internet.threads import deferToThreadPool
from twisted.python.threadpool import ThreadPool

log = logging.getLogger("ikeeap.server")


class PoolBusy(Exception):
    """Too many blocking calls are outstanding for this pool."""


class BlockingPool:
    """One backend's ThreadPool, started at once and stopped when the reactor shuts down."""

    def __init__(self, reactor: Any, name: str, threads: int, max_pending: int = 64) -> None:
        self.name = name
        self.threads = threads
        self.max_pending = max_pending
        self.outstanding = 0
        self._reactor = reactor
        self._pool = ThreadPool(minthreads=0, maxthreads=threads, name=f"ikeeap-{name}")
        self._pool.start()
        self._trigger = reactor.addSystemEventTrigger("during", "shutdown", self.stop)

    def run(self, fn: Callable[..., Any], *args: Any) -> defer.Deferred:
        """``fn(*args)`` on a pool thread; must be called from the reactor thread."""
        if self.outstanding >= self.threads + self.max_pending:
            log.warning("%s thread pool full (%d outstanding): call refused", self.name,
                        self.outstanding)
            return defer.fail(PoolBusy(f"{self.name} thread pool full"))
        self.outstanding += 1
        # the caller's context (the SA whose login this is) goes along: backend lines logged
        # in the thread carry the SA prefix too
        d = deferToThreadPool(self._reactor, self._pool, contextvars.copy_context().run, fn,
                              *args)

        def finished(result: Any) -> Any:
            self.outstanding -= 1
            return result

        d.addBoth(finished)
        return d

    def stop(self) -> None:
        if self._pool.started:
            self._pool.stop()


class BlockingPools:
    """``pools(name, threads, max_pending)`` -> a ``run_blocking`` callable (what
    ``ikeeap.runtime.build_settings`` expects as ``blocking_pools``)."""

    def __init__(self, reactor: Any) -> None:
        self._reactor = reactor
        self.pools: dict[str, BlockingPool] = {}

    def __call__(self, name: str, threads: int, max_pending: int = 64
                 ) -> Callable[..., defer.Deferred]:
        pool = self.pools.get(name)
        if pool is None:
            pool = self.pools[name] = BlockingPool(self._reactor, name, threads, max_pending)
        return pool.run

    def stop(self) -> None:
        for pool in self.pools.values():
            pool.stop()
