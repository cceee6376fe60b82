"""Sans-I/O RADIUS client core: request ids, retransmits, failover, health (RFC 2865, 5080, 5997).

No sockets and no clock: the adapter passes ``now``, sends :meth:`datagrams_to_send`,
feeds replies to :meth:`receive`, and arms a timer from :meth:`get_timer`.

- Servers are tried in preference order, skipping those marked dead.  A transaction
  may move to the next server only while it is not pinned (a conversation pins its server
  once a State exists: the State only means something to the server that issued it).
- Each server has its own timeout and retry count; a retransmission resends the same
  octets (same id and authenticator, RFC 5080 §2.2.1).
- Every reply is verified (Response Authenticator, and a valid Message-Authenticator on
  every reply to Access-Request, BlastRADIUS; on a Status-Server reply one is optional,
  RFC 5997); anything else is dropped with the failed check in the log line, and the
  transaction keeps waiting.
- A server whose attempts all time out is marked dead for ``dead_time``; with
  Status-Server probes it comes back as soon as a probe is answered, and a probe that
  times out marks it dead.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import secrets
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pyrad import packet as rp

from . import codec
from .config import RadiusServerConfig

log = logging.getLogger("ikeeap.radius")

Address = tuple[str, int]
# (secret, identifier) -> a request packet; rebuilt when a transaction changes server
PacketBuilder = Callable[[bytes, int], rp.Packet]


@dataclass(frozen=True)
class Completion:
    """A transaction ended: ``reply`` is the verified reply, or None after every attempt on
    every eligible server timed out (``reason`` says why)."""

    tx_id: int
    reply: rp.Packet | None
    server: int | None
    reason: str = ""


@dataclass
class _ServerState:
    config: RadiusServerConfig
    alive: bool = True
    dead_until: float = 0.0
    ids_in_use: set[int] = field(default_factory=set)


@dataclass
class _Transaction:
    tx_id: int
    build: PacketBuilder
    pinned: bool
    server: int
    identifier: int = -1
    request: rp.Packet | None = None
    raw: bytes = b""
    attempts: int = 0
    deadline: float = 0.0
    tried: list[int] = field(default_factory=list)
    probe: bool = False
    refused_reply: str = ""  # the check the last dropped reply failed: it did answer


class RadiusClientCore:
    def __init__(self, servers: Sequence[RadiusServerConfig], dead_time: float = 30.0,
                 status_server_interval: float = 0.0) -> None:
        self._servers = [_ServerState(s) for s in servers]
        self._dead_time = dead_time
        self._probe_interval = status_server_interval
        self._next_probe = [0.0 if status_server_interval else float("inf")] * len(servers)
        self._tx: dict[int, _Transaction] = {}
        self._by_wire: dict[tuple[int, int], int] = {}  # (server, id) -> tx_id
        self._out: deque[tuple[bytes, Address]] = deque()
        self._done: deque[Completion] = deque()
        self._timers: list[tuple[float, int]] = []
        self._tx_ids = itertools.count(1)

    # -- adapter API ------------------------------------------------------------------------

    def request(self, build: PacketBuilder, now: float, server: int | None = None) -> int:
        """Start a transaction; ``server`` pins it (no failover).  Returns its id."""
        tx_id = next(self._tx_ids)
        index = server if server is not None else self._first_usable(now, ())
        tx = _Transaction(tx_id, build, pinned=server is not None, server=index or 0)
        self._tx[tx_id] = tx
        if index is None:
            self._finish(tx, None, "all RADIUS servers are marked dead")
        else:
            self._send_to(tx, index, now)
        return tx_id

    def cancel(self, tx_id: int) -> None:
        tx = self._tx.pop(tx_id, None)
        if tx is not None:
            self._release_id(tx)

    def receive(self, data: bytes, source: Address, now: float) -> None:
        if len(data) < 20:
            return
        index = self._server_at(source)
        tx_id = self._by_wire.get((index, data[1])) if index is not None else None
        tx = self._tx.get(tx_id) if tx_id is not None else None
        if tx is None or tx.request is None:
            log.debug("RADIUS reply from %s:%d matches no request", *source)
            return
        reply, problem = codec.check_reply(tx.request, data)
        if reply is None:
            tx.refused_reply = problem
            log.warning("RADIUS reply from %s to %s dropped: %s",
                        self._servers[tx.server].config.label,
                        "Status-Server" if tx.probe else "Access-Request", problem)
            return
        self._mark_alive(tx.server)
        self._finish(tx, reply, "")

    def datagrams_to_send(self) -> list[tuple[bytes, Address]]:
        out = list(self._out)
        self._out.clear()
        return out

    def completions(self) -> list[Completion]:
        done = list(self._done)
        self._done.clear()
        return done

    def get_timer(self) -> float | None:
        while self._timers:
            when, tx_id = self._timers[0]
            tx = self._tx.get(tx_id)
            if tx is not None and tx.deadline == when:
                break
            heapq.heappop(self._timers)
        candidates = [self._timers[0][0]] if self._timers else []
        candidates += [t for t in self._next_probe if t != float("inf")]
        return min(candidates) if candidates else None

    def handle_timer(self, now: float) -> None:
        while self._timers and self._timers[0][0] <= now:
            when, tx_id = heapq.heappop(self._timers)
            tx = self._tx.get(tx_id)
            if tx is not None and tx.deadline == when:
                self._on_timeout(tx, now)
        self._send_probes(now)

    def is_alive(self, index: int) -> bool:
        return self._servers[index].alive

    def server_label(self, index: int) -> str:
        return self._servers[index].config.label

    # -- internals --------------------------------------------------------------------------

    def _first_usable(self, now: float, skip: Sequence[int]) -> int | None:
        for index, server in enumerate(self._servers):
            if index in skip:
                continue
            if not server.alive and not self._probe_interval and now >= server.dead_until:
                server.alive = True  # no probes: try it again after dead_time
            if server.alive:
                return index
        return None

    def _server_at(self, source: Address) -> int | None:
        for index, server in enumerate(self._servers):
            if (server.config.address, server.config.port) == source:
                return index
        return None

    def _send_to(self, tx: _Transaction, index: int, now: float) -> None:
        self._release_id(tx)
        server = self._servers[index]
        free = [i for i in range(256) if i not in server.ids_in_use]
        if not free:
            self._finish(tx, None, f"no free RADIUS identifier for {server.config.label}")
            return
        tx.server, tx.identifier, tx.attempts = index, secrets.choice(free), 0
        tx.tried.append(index)
        server.ids_in_use.add(tx.identifier)
        self._by_wire[(index, tx.identifier)] = tx.tx_id
        try:
            tx.request = tx.build(server.config.secret, tx.identifier)
            tx.raw = codec.encode_request(tx.request)
        except Exception as exc:  # noqa: BLE001 - e.g. an attribute value out of range
            log.error("cannot build a RADIUS request: %s", exc)
            self._finish(tx, None, "cannot build the RADIUS request")
            return
        self._transmit(tx, now)

    def _transmit(self, tx: _Transaction, now: float) -> None:
        cfg = self._servers[tx.server].config
        tx.attempts += 1
        tx.deadline = now + cfg.timeout
        heapq.heappush(self._timers, (tx.deadline, tx.tx_id))
        self._out.append((tx.raw, (cfg.address, cfg.port)))

    def _on_timeout(self, tx: _Transaction, now: float) -> None:
        cfg = self._servers[tx.server].config
        if tx.attempts <= cfg.retries:
            log.debug("RADIUS retransmit %d to %s", tx.attempts, cfg.label)
            self._transmit(tx, now)
            return
        self._mark_dead(tx.server, now, f"every reply dropped: {tx.refused_reply}"
                        if tx.refused_reply else "no answer")
        following = None if tx.pinned else self._first_usable(now, tx.tried)
        if following is None:
            self._finish(tx, None, f"RADIUS server {cfg.label} did not answer"
                         + ("" if tx.pinned else " and no other server is left"))
            return
        log.info("RADIUS failover: %s -> %s", cfg.label, self._servers[following].config.label)
        self._send_to(tx, following, now)

    def _mark_dead(self, index: int, now: float, why: str) -> None:
        server = self._servers[index]
        if server.alive:
            log.warning("RADIUS server %s marked dead (%s)", server.config.label, why)
        server.alive, server.dead_until = False, now + self._dead_time

    def _mark_alive(self, index: int) -> None:
        server = self._servers[index]
        if not server.alive:
            log.info("RADIUS server %s is alive again", server.config.label)
        server.alive = True

    def _send_probes(self, now: float) -> None:
        for index, due in enumerate(self._next_probe):
            if due > now:
                continue
            self._next_probe[index] = now + self._probe_interval
            build = _status_server_builder()
            tx_id = self.request(build, now, server=index)
            if tx_id in self._tx:
                self._tx[tx_id].probe = True

    def _finish(self, tx: _Transaction, reply: Any, reason: str) -> None:
        self._tx.pop(tx.tx_id, None)
        self._release_id(tx)
        if tx.probe:
            return  # health is already recorded by receive / _mark_dead
        self._done.append(Completion(tx.tx_id, reply, tx.server if reply is not None else None,
                                     reason))

    def _release_id(self, tx: _Transaction) -> None:
        if tx.identifier < 0:
            return
        self._servers[tx.server].ids_in_use.discard(tx.identifier)
        self._by_wire.pop((tx.server, tx.identifier), None)
        tx.identifier = -1


def _status_server_builder() -> PacketBuilder:
    return lambda secret, identifier: codec.status_server(secret, identifier)
