"""``ikeeap serve --workers N``: N processes share UDP 500/4500 with SO_REUSEPORT (how a
datagram finds its worker: :mod:`ikeeap.server.worker_routing`).

Each worker is a full :class:`ServeApp` (the same start-up, logging, RADIUS, audit, reload
as one process) on its slice of the pools; the parent checks the configuration once before
forking, then answers the configured control socket and metrics endpoint for all workers
(:mod:`ikeeap.server.worker_fanout`) and forwards SIGHUP as one checked reload. When a worker
dies the parent stops the others: its IKE SAs would be unreachable.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
import traceback
from pathlib import Path
from typing import Any

from twisted.internet import defer, task

from ..bootstrap import Checked, ServeOptions
from ..config import ConfigError
from ..control import protocol as cp
from ..ike.sa import SaState
from ..ops_config import control_socket_path
from ..runtime import ensure_certificates
from .app import ServeApp, refuse_a_second_server
from .control import listen_control
from .metrics_http import listen_metrics
from .worker_fanout import MergedMetricsResource, WorkerFanout
from .worker_routing import WorkerSlot

log = logging.getLogger("ikeeap.workers")

CHILD_STOP_GRACE = 10.0  # seconds the workers get for their DELETEs and Accounting-Stop


def serve_workers(options: ServeOptions, checked: Checked, count: int) -> int:
    """Fork ``count`` workers, then run the parent until a signal or a dead worker."""
    config = checked.config
    refuse_a_second_server(config)
    if config.certificates is not None:  # once, before forking: workers would race on it
        ensure_certificates(config.certificates, config.server.identity)
    pairs = [socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM) for _ in range(count)]
    for a, b in pairs:
        a.setblocking(False)
        b.setblocking(False)
        a.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    inboxes, outboxes = tuple(a for a, _ in pairs), tuple(b for _, b in pairs)
    pids = [_fork_worker(WorkerSlot(i, count, inboxes, outboxes), options, checked)
            for i in range(count)]
    port = options.port or config.server.port
    nat_port = options.nat_port or config.server.nat_port
    print(f"ikeeap: {count} workers {pids} sharing UDP {port}/{nat_port} (SO_REUSEPORT)",
          flush=True)
    from twisted.internet import reactor  # after forking: each worker has its own

    parent = WorkerParent(options, checked, reactor, pids)
    parent.start()
    reactor.run()
    return parent.exit_status


class WorkerParent:
    """The parent's reactor: fan-out control socket, summed metrics, signals, reaping."""

    def __init__(self, options: ServeOptions, checked: Checked, reactor: Any,
                 pids: list[int]) -> None:
        self.options, self.config, self.reactor = options, checked.config, reactor
        self.pids = list(pids)
        self.exit_status = 0
        self._stopping = False

    def worker_sockets(self) -> list[Path]:
        path = control_socket_path(self.config)
        return [path.with_name(f"{path.name}.w{i}") for i in range(len(self.pids))]

    def start(self) -> None:
        wanted = self.config.sections.get("metrics")
        fanout = WorkerFanout(self.options.config_path, self.worker_sockets(), self.reactor)
        if wanted is not None:
            listening = listen_metrics(self.reactor, MergedMetricsResource(fanout),
                                       wanted.listen, wanted.port)
            fanout.metrics_address = f"{wanted.listen}:{listening.getHost().port}"
        control = self.config.sections.get("control")
        if control is None or control.enabled:
            path = control_socket_path(self.config)
            mode = control.mode if control is not None else 0o600
            try:
                listen_control(self.reactor, path, mode, None, fanout)
            except Exception as exc:  # noqa: BLE001 - serving VPN users matters more
                log.error("control socket %s not available: %s", path, exc)
        self._fanout = fanout
        signal.signal(signal.SIGHUP, lambda *_: self.reactor.callFromThread(self._reload))
        self.reactor.addSystemEventTrigger("before", "shutdown", self._stop_workers)
        reaper = task.LoopingCall(self._reap)
        reaper.clock = self.reactor
        reaper.start(0.2, now=False)

    def _reload(self) -> None:
        d = self._fanout(None, cp.Request("reload"))
        d.addCallback(lambda r: log.info("reload: %d workers reloaded, %d IKE SAs kept",
                                         len(self.pids), r["kept_sas"]))
        d.addErrback(lambda f: log.error("reload refused, configuration unchanged:\n  %s",
                                         "\n  ".join(getattr(f.value, "problems", None)
                                                     or [f.getErrorMessage()])))

    def _reap(self) -> None:
        for pid in list(self.pids):
            try:
                done, code = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done, code = pid, 0
            if not done:
                continue
            self.pids.remove(pid)
            if code and not self._stopping:
                log.error("worker %d exited (status %d): stopping the others", pid, code)
                self.exit_status = 1
            if not self._stopping:  # a worker gone on its own: stop the rest
                self._stopping = True
                self.reactor.stop()

    def _stop_workers(self) -> Any:
        """SIGTERM to every worker; shutdown waits until they are gone (or the grace ends)."""
        self._stopping = True
        for pid in self.pids:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = self.reactor.seconds() + CHILD_STOP_GRACE

        def gone() -> Any:
            self._reap()
            if not self.pids:
                return None
            if self.reactor.seconds() > deadline:
                for pid in self.pids:
                    os.kill(pid, signal.SIGKILL)
                return None
            return task.deferLater(self.reactor, 0.1, gone)

        return defer.maybeDeferred(gone)


def _worker_main(slot: WorkerSlot, options: ServeOptions, checked: Checked) -> None:
    from twisted.internet import reactor  # after fork: one reactor per worker

    app = ServeApp(options, reactor, worker=slot, checked=checked)
    app.start()

    def report() -> None:
        log.warning("worker %d: %d IKE SAs established, %d datagrams forwarded to other "
                    "workers, %d received from them", slot.index,
                    app.responder.count(SaState.ESTABLISHED), app.router.forwarded,
                    app.router.received_forwarded)

    reactor.addSystemEventTrigger("before", "shutdown", report)
    reactor.addSystemEventTrigger("before", "shutdown", app.stop)
    reactor.run()


def _fork_worker(slot: WorkerSlot, options: ServeOptions, checked: Checked) -> int:
    pid = os.fork()
    if pid:
        return pid
    code = 1
    try:
        signal.signal(signal.SIGHUP, signal.SIG_IGN)  # the parent reloads us, checked once
        _worker_main(slot, options, checked)
        code = 0
    except ConfigError as exc:
        print("\n".join(exc.problems), file=sys.stderr)
    except BaseException:  # noqa: BLE001 - a child must never return into the parent's code
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
