"""BlockingPool: calls run on its own worker threads (never the caller's), results come
back through the reactor, and beyond threads + max_pending a call is refused at once."""

from __future__ import annotations

import queue
import threading

from ikeeap.server.blocking import BlockingPool, BlockingPools, PoolBusy


class QueueReactor:
    """Just what deferToThreadPool and BlockingPool use; callFromThread queues the call."""

    def __init__(self) -> None:
        self.calls: queue.Queue = queue.Queue()

    def callFromThread(self, fn, *args, **kw):  # noqa: N802 (Twisted API)
        self.calls.put((fn, args, kw))

    def addSystemEventTrigger(self, *args):  # noqa: N802
        return None

    def run_one(self) -> None:
        fn, args, kw = self.calls.get(timeout=5)
        fn(*args, **kw)


def test_runs_off_thread_and_bounds_outstanding_calls():
    reactor = QueueReactor()
    pool = BlockingPool(reactor, "ldap-test", threads=1, max_pending=1)
    release = threading.Event()
    seen: list[str] = []

    def blocking(tag: str) -> str:
        seen.append(threading.current_thread().name)
        release.wait(5)
        return tag

    try:
        results: list[object] = []
        first, second = pool.run(blocking, "a"), pool.run(blocking, "b")
        first.addCallback(results.append)
        second.addCallback(results.append)
        refused: list[object] = []
        pool.run(blocking, "c").addErrback(lambda f: refused.append(f.value))
        assert isinstance(refused[0], PoolBusy)
        release.set()
        reactor.run_one()
        reactor.run_one()
        assert sorted(results) == ["a", "b"]
        assert pool.outstanding == 0
        assert threading.main_thread().name not in seen
    finally:
        pool.stop()


def test_pools_factory_gives_one_pool_per_name():
    reactor = QueueReactor()
    pools = BlockingPools(reactor)
    try:
        assert pools("ldap", 2, 4).__self__ is pools("ldap", 2, 4).__self__
        assert pools("other", 1, 0).__self__ is not pools("ldap", 2, 4).__self__
    finally:
        pools.stop()


def test_the_callers_sa_context_reaches_the_thread():
    """Backend lines logged in the thread (LDAP) carry the SA prefix of the login."""
    from ikeeap.logs import sa_context

    reactor = QueueReactor()
    pool = BlockingPool(reactor, "ctx-test", threads=1)
    try:
        token = sa_context.set("[0123abcd 198.51.100.2:500]")
        try:
            d = pool.run(sa_context.get)
        finally:
            sa_context.reset(token)
        results: list[object] = []
        d.addCallback(results.append)
        reactor.run_one()
        assert results == ["[0123abcd 198.51.100.2:500]"]
    finally:
        pool.stop()
