"""The updown hook: a site script run on each Child SA up and down with strongSwan's
variables (``dataplane.updown.updown_environments``), so sites add firewall, NAT or routing.

- Never on the reactor thread: each run is ``subprocess`` on a ``BlockingPool`` thread, with
  a timeout after which the script's whole process group is killed.
- A failing script (exit status not 0, killed, not executable) is logged with its exit status
  and stderr; it changes nothing else (the Child SA stays up, as with charon).
- Up and down of one Child SA slot (its reqid) run strictly in order: a down never overtakes
  its up, whatever the pool's thread count.
- Like charon, a rekey runs nothing: "up" runs when a reqid gets its first live Child SA,
  "down" when its last one goes (a rekeyed Child SA shares its reqid, ``dataplane.ReqIds``).
- Nothing secret reaches the script: argv is the script's path alone, the environment is
  PATH plus the PLUTO_* variables (ikeeap's own environment, which may hold secrets such as
  $IKEEAP_RADIUS_FRONT_SECRET, is not passed on), stdin is /dev/null.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import time
from dataclasses import dataclass, replace
from typing import Any

from twisted.internet import defer

from ..dataplane.interface import (
    ChildCounters, ChildSaDown, ChildSaRekey, ChildSaUp, DataPlane,
)
from ..dataplane.updown import DEFAULT_PATH, updown_environments
from .blocking import BlockingPool

log = logging.getLogger("ikeeap.dataplane")

STDERR_LOGGED = 2000  # octets of a failing script's stderr put in the log


@dataclass(frozen=True, slots=True)
class ScriptResult:
    verb: str
    returncode: int | None  # None: killed by the timeout or never started
    stdout: str
    stderr: str
    seconds: float
    timed_out: bool = False
    error: str | None = None  # could not start (not found, not executable)

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out and self.error is None


def run_script(path: str, env: dict[str, str], timeout: float) -> ScriptResult:
    """Blocking: run ``path`` with exactly ``env``; kill its process group after ``timeout``."""
    verb = env.get("PLUTO_VERB", "?")
    started = time.monotonic()
    try:
        proc = subprocess.Popen([path], env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd="/",
                                close_fds=True, start_new_session=True)
    except OSError as exc:
        return ScriptResult(verb, None, "", "", time.monotonic() - started,
                            error=f"{exc.strerror or exc} ({path})")
    timed_out = False
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        out, err = proc.communicate()
    return ScriptResult(verb, None if timed_out else proc.returncode,
                        out.decode("utf-8", "replace"), err.decode("utf-8", "replace"),
                        time.monotonic() - started, timed_out)


class UpdownHook:
    """Runs ``script`` for Child SA ups and downs (the calls mirror ``DataPlane``'s)."""

    def __init__(self, reactor: Any, script: str, timeout: float = 10.0,
                 pool: BlockingPool | None = None, interface: str | None = None,
                 path: str = DEFAULT_PATH) -> None:
        self.script = script
        self.timeout = timeout
        self.interface = interface
        self.path = path
        self._pool = pool or BlockingPool(reactor, "updown", threads=2, max_pending=100_000)
        self._children: dict[bytes, ChildSaUp] = {}  # spi_in -> the Child SA
        self._live: dict[int, set[bytes]] = {}  # reqid -> spi_in of its live Child SAs
        self._tails: dict[int, defer.Deferred] = {}  # reqid -> the last queued run

    def child_up(self, child: ChildSaUp) -> defer.Deferred:
        self._children[child.spi_in] = child
        users = self._live.setdefault(child.reqid, set())
        first = not users
        users.add(child.spi_in)
        return self._queue(child, True) if first else defer.succeed(None)

    def child_down(self, down: ChildSaDown) -> defer.Deferred:
        child = self._children.pop(down.spi_in, None)
        if child is None:
            return defer.succeed(None)
        users = self._live.get(child.reqid, set())
        users.discard(down.spi_in)
        if users:
            return defer.succeed(None)  # a rekeyed Child SA of the same reqid lives on
        self._live.pop(child.reqid, None)
        return self._queue(child, False)

    def ike_rekeyed(self, old_sa_id: str, new_sa_id: str) -> None:
        for spi, child in list(self._children.items()):
            if child.sa_id == old_sa_id:
                self._children[spi] = _with_sa_id(child, new_sa_id)

    def ike_gone(self, sa_id: str) -> defer.Deferred:
        runs = [self.child_down(ChildSaDown(c.sa_id, c.spi_in, c.spi_out, "IKE SA gone"))
                for c in list(self._children.values()) if c.sa_id == sa_id]
        return defer.gatherResults(runs) if runs else defer.succeed([])

    def _queue(self, child: ChildSaUp, up: bool) -> defer.Deferred:
        envs = updown_environments(child, up, self.interface, self.path)
        reqid = child.reqid
        done: defer.Deferred = defer.Deferred()
        tail = self._tails.get(reqid)

        def start(_: Any = None) -> defer.Deferred:
            d = self._pool.run(self._run_all, envs)
            d.addCallback(self._log, child)
            d.addErrback(lambda f: log.error("updown for reqid %d failed to run: %s", reqid,
                                             f.getErrorMessage()))
            return d

        step = tail.addBoth(start) if tail is not None else start()
        link: defer.Deferred = defer.Deferred()
        self._tails[reqid] = link

        def finished(result: Any) -> None:
            if self._tails.get(reqid) is link and reqid not in self._live:
                del self._tails[reqid]  # nothing queued after this down
            link.callback(None)
            done.callback(result)
        step.addBoth(finished)
        return done

    def _run_all(self, envs: list[dict[str, str]]) -> list[ScriptResult]:
        return [run_script(self.script, env, self.timeout) for env in envs]

    def _log(self, results: list[ScriptResult], child: ChildSaUp) -> list[ScriptResult]:
        for r in results:
            what = f"updown {self.script} {r.verb} (reqid {child.reqid}, Child SA " \
                   f"{child.spi_in.hex()})"
            for line in r.stdout.splitlines():
                log.info("updown: %s", line)
            if r.ok:
                log.info("%s: exit status 0 in %.2f s", what, r.seconds)
                continue
            stderr = r.stderr.strip()[-STDERR_LOGGED:]
            if r.error is not None:
                log.warning("%s could not start: %s", what, r.error)
            elif r.timed_out:
                log.warning("%s killed after %s s (timeout)%s", what, _num(self.timeout),
                            f"; stderr: {stderr}" if stderr else "")
            else:
                log.warning("%s failed with exit status %s%s", what, r.returncode,
                            f"; stderr: {stderr}" if stderr else "")
        return results


def _num(value: float) -> str:
    return f"{value:g}"


def _with_sa_id(child: ChildSaUp, sa_id: str) -> ChildSaUp:
    return replace(child, sa_id=sa_id)


class WithUpdown:
    """A ``DataPlane`` that also runs the updown hook: the inner data plane installs first,
    then the script runs (and on the way down the script runs, then the inner removes)."""

    def __init__(self, inner: DataPlane, hook: UpdownHook) -> None:
        self.inner = inner
        self.hook = hook
        self.name = inner.name

    def child_up(self, child: ChildSaUp) -> None:
        self.inner.child_up(child)
        self.hook.child_up(child)

    def child_rekeyed(self, rekey: ChildSaRekey) -> None:
        self.inner.child_rekeyed(rekey)

    def child_down(self, down: ChildSaDown) -> None:
        self.hook.child_down(down)
        self.inner.child_down(down)

    def ike_rekeyed(self, old_sa_id: str, new_sa_id: str) -> None:
        self.inner.ike_rekeyed(old_sa_id, new_sa_id)
        self.hook.ike_rekeyed(old_sa_id, new_sa_id)

    def ike_gone(self, sa_id: str) -> None:
        self.hook.ike_gone(sa_id)
        self.inner.ike_gone(sa_id)

    def counters(self, sa_id: str) -> ChildCounters:
        return self.inner.counters(sa_id)

    def close(self) -> None:
        self.inner.close()
