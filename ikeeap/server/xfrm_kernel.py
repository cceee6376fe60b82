"""Kernel XFRM data plane: the NETLINK_XFRM sockets around the sans-I/O ``KernelPlan``.

- Requests (SAs, policies, counter reads) go out on one blocking netlink socket used only by
  a one-thread ``BlockingPool`` ("xfrm"): the reactor never waits for the kernel, and the
  single thread keeps requests in order (a Child SA's delete never overtakes its install).
  ``KernelPlan`` is only touched on the reactor thread; the pool thread does I/O alone.
- Kernel expire events (XFRM_MSG_EXPIRE, multicast group XFRMNLGRP_EXPIRE) arrive on a second,
  non-blocking socket the reactor reads; they become ``ChildSaExpiring`` notices (soft:
  rekey, hard: delete) for the responder, as do failed installs (``ChildSaFailed``).
- ``probe_kernel()`` asks the kernel what it can carry (``dataplane.probe``);
  ``kernel_choice(mode)`` turns that into the mode to run and its one log sentence, raising
  ``DataPlaneUnavailable`` for ``mode = "kernel"`` on a kernel without XFRM or ESP.
"""

from __future__ import annotations

import errno
import logging
import socket
from typing import Any, Callable

from ..dataplane.interface import (
    ChildCounters, ChildSaDown, ChildSaFailed, ChildSaRekey, ChildSaUp, Notify,
)
from ..dataplane.kernel import KernelPlan, Request
from ..dataplane.netlink import (
    NETLINK_CAP_ACK, NETLINK_EXT_ACK, NLM_F_MULTI, NLMSG_DONE, NLMSG_ERROR, SOL_NETLINK,
    NetlinkMessage, NetlinkParseError, parse_error, parse_messages,
)
from ..dataplane.probe import run_probe, socket_failed
from ..dataplane.settings import KernelProbe, ModeChoice, choose_mode
from ..dataplane.xfrm import (
    NETLINK_XFRM, XFRM_MSG_EXPIRE, XFRM_MSG_NEWSA, XFRMNLGRP_EXPIRE, SaState, parse_expire,
    parse_sa,
)
from .blocking import BlockingPool

log = logging.getLogger("ikeeap.dataplane")

RECV_SIZE = 65536


class XfrmSocket:
    """A blocking NETLINK_XFRM socket: ``transact(request)`` sends one request and returns
    the kernel's answer (its ACK or error, its reply, or a dump up to NLMSG_DONE)."""

    def __init__(self, groups: int = 0, timeout: float = 5.0) -> None:
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_XFRM)
        try:
            for option in (NETLINK_EXT_ACK, NETLINK_CAP_ACK):
                try:
                    self.sock.setsockopt(SOL_NETLINK, option, 1)
                except OSError:  # older kernels: plain errors without the kernel's sentence
                    pass
            self.sock.bind((0, groups))
            self.sock.settimeout(timeout)
        except BaseException:
            self.sock.close()
            raise

    def fileno(self) -> int:
        return self.sock.fileno()

    def transact(self, request: bytes) -> list[NetlinkMessage]:
        seq = int.from_bytes(request[8:12], "little")
        self.sock.send(request)
        out: list[NetlinkMessage] = []
        while True:
            for m in parse_messages(self.sock.recv(RECV_SIZE)):
                if m.seq != seq:
                    continue  # a late answer to an earlier request that timed out
                out.append(m)
                if m.type in (NLMSG_ERROR, NLMSG_DONE) or not m.flags & NLM_F_MULTI:
                    return out

    def close(self) -> None:
        self.sock.close()


def probe_kernel(factory: Callable[[], Any] = XfrmSocket) -> KernelProbe:
    """Blocking (milliseconds): run it at start-up or on a pool thread."""
    try:
        sock = factory()
    except OSError as exc:
        return socket_failed(exc)
    try:
        return run_probe(sock.transact)
    finally:
        sock.close()


def kernel_choice(mode: str, probe: Callable[[], KernelProbe] = probe_kernel) -> ModeChoice:
    """The mode to run and its log sentence; probes the kernel only for auto/kernel."""
    return choose_mode(mode, probe() if mode in ("auto", "kernel") else None)


Outcome = tuple[Request, "SaState | None", "str | None"]  # request, state read, error


def _apply(sock: Any, requests: list[Request]) -> list[Outcome]:
    """On the pool thread: send each request, note what came back (never raises)."""
    out: list[Outcome] = []
    for req in requests:
        try:
            replies = sock.transact(req.data)
        except (OSError, NetlinkParseError) as exc:
            out.append((req, None, str(exc)))
            continue
        state, problem = None, None
        for m in replies:
            if m.type == NLMSG_ERROR:
                err = parse_error(m)
                if not err.ack and err.errno not in req.ignore:
                    problem = err.describe()
            elif m.type == XFRM_MSG_NEWSA:
                try:
                    state = parse_sa(m)
                except NetlinkParseError as exc:
                    problem = str(exc)
        out.append((req, state, problem))
    return out


class KernelDataPlane:
    """``DataPlane`` on the kernel's XFRM. ``counters`` answers what was last read: call
    ``refresh()`` (a Deferred) before reporting, e.g. on the accounting interval; deletes
    read the counters once more before the SAs go."""

    name = "kernel"

    def __init__(self, reactor: Any, notify: Notify, *,
                 socket_factory: Callable[..., Any] = XfrmSocket,
                 pool: BlockingPool | None = None, listen_expires: bool = True) -> None:
        self.reactor = reactor
        self.notify = notify
        self.plan = KernelPlan()
        self._sock = socket_factory()
        self._pool = pool or BlockingPool(reactor, "xfrm", threads=1, max_pending=100_000)
        self._reader: _ExpireReader | None = None
        if listen_expires:
            self._reader = _ExpireReader(socket_factory(1 << (XFRMNLGRP_EXPIRE - 1)), self)
            reactor.addReader(self._reader)

    # ---- DataPlane -----------------------------------------------------------------------

    def child_up(self, child: ChildSaUp) -> None:
        try:
            requests = self.plan.up(child)
        except ValueError as exc:  # an algorithm or selector the kernel mapping lacks
            log.warning("Child SA %s not installed: %s", child.spi_in.hex(), exc)
            self.notify(ChildSaFailed(child.sa_id, child.spi_in, str(exc)))
            return

        def done(outcomes: list[Outcome]) -> None:
            problems = [f"{req.what}: {err}" for req, _, err in outcomes if err]
            if problems:
                log.warning("Child SA %s: the kernel refused %s", child.spi_in.hex(),
                            "; ".join(problems))
                self.notify(ChildSaFailed(child.sa_id, child.spi_in, "; ".join(problems)))
            else:
                log.info("Child SA %s/%s installed in the kernel (reqid %d)",
                         child.spi_in.hex(), child.spi_out.hex(), child.reqid)
        self._run(requests, done)

    def child_rekeyed(self, rekey: ChildSaRekey) -> None:
        # the new SAs came as child_up (same reqid: the kernel prefers the newer SA); the
        # old ones stay until the peer deletes them (child_down)
        log.debug("Child SA %s rekeyed to %s", rekey.old_spi_in.hex(), rekey.new_spi_in.hex())

    def child_down(self, down: ChildSaDown) -> None:
        spi_out = self.plan.spi_out_of(down.spi_in) or down.spi_out
        self._run(self.plan.down(down.spi_in),
                  lambda outcomes: self._retired(outcomes, [(down.spi_in, spi_out)]))

    def ike_rekeyed(self, old_sa_id: str, new_sa_id: str) -> None:
        self.plan.ike_rekeyed(old_sa_id, new_sa_id)

    def ike_gone(self, sa_id: str) -> None:
        requests, pairs = self.plan.ike_gone(sa_id)
        if requests:
            self._run(requests, lambda outcomes: self._retired(outcomes, pairs))

    def counters(self, sa_id: str) -> ChildCounters:
        return self.plan.counters(sa_id)

    def refresh(self, sa_id: str | None = None) -> Any:
        """Read the counters of every live SA (of one IKE SA); a Deferred firing when done."""
        return self._run(self.plan.read_requests(sa_id), lambda outcomes: None)

    def close(self) -> None:
        """Remove every SA and policy (blocking: shutdown only) and the sockets."""
        if self._reader is not None:
            self.reactor.removeReader(self._reader)
            self._reader.sock.close()
            self._reader = None
        for sa_id in self.plan.live_sa_ids():
            requests, _ = self.plan.ike_gone(sa_id)
            for req, _state, err in _apply(self._sock, requests):
                if err:
                    log.warning("at shutdown: %s: %s", req.what, err)
        self._sock.close()

    # ---- helpers -------------------------------------------------------------------------

    def _run(self, requests: list[Request], done: Callable[[list[Outcome]], None]) -> Any:
        d = self._pool.run(_apply, self._sock, requests)

        def absorbed(outcomes: list[Outcome]) -> None:
            for _req, state, _err in outcomes:
                if state is not None:
                    self.plan.absorb(state)
            done(outcomes)
        d.addCallback(absorbed)
        d.addErrback(lambda f: log.error("XFRM requests failed: %s", f.getErrorMessage()))
        return d

    def _retired(self, outcomes: list[Outcome], pairs: list[tuple[bytes, bytes]]) -> None:
        for req, _state, err in outcomes:
            if err:
                log.warning("%s: %s", req.what, err)
        for spi_in, spi_out in pairs:
            self.plan.retire_counters(spi_in, spi_out)

    def _expired(self, message: NetlinkMessage) -> None:
        try:
            notice = self.plan.expire(parse_expire(message))
        except NetlinkParseError as exc:
            log.warning("unreadable XFRM expire: %s", exc)
            return
        if notice is not None:
            log.info("Child SA %s: %s", notice.spi_in.hex(), notice.reason)
            self.notify(notice)


class _ExpireReader:
    """IReadDescriptor for the expire socket (non-blocking, read by the reactor)."""

    def __init__(self, sock: Any, plane: KernelDataPlane) -> None:
        self.sock = sock
        self.plane = plane
        sock.sock.setblocking(False)

    def fileno(self) -> int:
        return self.sock.fileno()

    def logPrefix(self) -> str:  # noqa: N802 (Twisted API)
        return "xfrm-expire"

    def connectionLost(self, reason: Any) -> None:  # noqa: N802
        pass

    def doRead(self) -> None:  # noqa: N802
        while True:
            try:
                data = self.sock.sock.recv(RECV_SIZE)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                if exc.errno == errno.ENOBUFS:  # we were too slow: some events are lost
                    log.warning("XFRM expire events lost (ENOBUFS)")
                    continue
                log.warning("reading XFRM expires failed: %s", exc)
                return
            try:
                messages = parse_messages(data)
            except NetlinkParseError as exc:
                log.warning("unreadable XFRM message: %s", exc)
                continue
            for m in messages:
                if m.type == XFRM_MSG_EXPIRE:
                    self.plane._expired(m)
