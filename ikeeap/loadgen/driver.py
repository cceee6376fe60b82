"""The load generator's sans-I/O core: starts logins at a rate, up to a concurrency,
feeds datagrams and timers to many :class:`~ikeeap.initiator.Initiator` objects and
records what happened in :class:`RunStats`.  No sockets, no clock (``now`` passed in);
``ikeeap.loadgen.udp`` runs it over real UDP, tests run it against an in-memory responder.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..ike.events import Address, Datagram
from ..initiator.config import InitiatorConfig
from ..initiator.initiator import Initiator
from ..initiator.results import InitiatorState
from ..wire.constants import ExchangeType
from .stats import RunStats

_MARKER = b"\0\0\0\0"  # non-ESP marker in front of IKE on port 4500 (RFC 3948)
_EXCHANGE_NAMES = {int(e): e.name for e in ExchangeType}


@dataclass(frozen=True)
class LoadPlan:
    """How many logins, how fast, and what to do with established SAs.

    ``rate`` 0 starts a login whenever fewer than ``concurrency`` are in flight.
    ``keep``: leave established SAs up on the responder (no Delete; the generator forgets
    them, so the responder must not run liveness checks); else each is deleted at once.
    """

    total: int = 100
    concurrency: int = 50
    rate: float = 0.0
    duration: float = 60.0
    keep: bool = False

    def __post_init__(self) -> None:
        if self.total < 0 or self.concurrency < 1 or self.rate < 0 or self.duration <= 0:
            raise ValueError("total >= 0, concurrency >= 1, rate >= 0, duration > 0 needed")


class _Login:
    """One initiator plus the times the statistics need."""

    __slots__ = ("deleting", "exchanges", "ini", "last_progress", "retransmits", "started")

    def __init__(self, ini: Initiator, now: float) -> None:
        self.ini = ini
        self.started = now
        self.last_progress = now
        self.exchanges = 0
        self.retransmits = 0
        self.deleting = False


class LoadDriver:
    """Drive ``plan.total`` logins; ``configs`` are used round robin (one per user),
    ``locals`` are the source addresses (one per socket) used round robin too."""

    def __init__(self, plan: LoadPlan, configs: Sequence[InitiatorConfig],
                 locals: Sequence[Address], remote: Address, now: float,
                 initiator_factory: Callable[..., Initiator] = Initiator) -> None:
        if not configs or not locals:
            raise ValueError("at least one initiator config and one local address needed")
        self.plan = plan
        self.stats = RunStats(started_at=now)
        self._configs = configs
        self._locals = locals
        self._remote = remote
        self._factory = initiator_factory
        self._by_spi: dict[bytes, _Login] = {}
        self._timers: list[tuple[float, int, _Login]] = []
        self._seq = itertools.count()
        self._in_flight = 0  # started, neither established nor failed
        self._deleting = 0
        self._next_index = 0

    # ---- inputs -------------------------------------------------------------------------

    def poll(self, now: float) -> list[Datagram]:
        """Start the logins now due and fire due retransmit timers."""
        out: list[Datagram] = []
        if now < self.deadline:
            while self._may_start(now):
                out += self._start(now)
        while self._timers and self._timers[0][0] <= now:
            deadline, _, login = heapq.heappop(self._timers)
            if login.ini.get_timer() != deadline:
                continue  # stale entry: the initiator moved on
            sent = login.ini.handle_timer(now)
            self._count_retransmits(login)
            out += sent
            self._after(login, now)
        return out

    def receive(self, data: bytes, now: float) -> list[Datagram]:
        """One datagram from the responder (marker-prefixed ones from port 4500 too)."""
        spi = data[4:12] if data[:4] == _MARKER else data[:8]
        login = self._by_spi.get(spi)
        if login is None:
            return []
        out = login.ini.receive_datagram(data, now)
        done = sum(login.ini.result.exchanges.values())
        if done > login.exchanges and not login.deleting:
            login.exchanges = done
            offset = 4 if data[:4] == _MARKER else 0
            name = _EXCHANGE_NAMES.get(data[offset + 18], str(data[offset + 18]))
            self.stats.exchange_done(name, now - login.last_progress)
            login.last_progress = now
        return out + self._after(login, now)

    # ---- state --------------------------------------------------------------------------

    @property
    def deadline(self) -> float:
        return self.stats.started_at + self.plan.duration

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def done(self, now: float) -> bool:
        """All logins finished (and deletes answered), or the duration is over."""
        if now >= self.deadline:
            return True
        return (self.stats.started >= self.plan.total and self._in_flight == 0
                and self._deleting == 0)

    def next_wakeup(self) -> float | None:
        """When ``poll`` has work next (a login to start or a timer), if ever."""
        times = [self._timers[0][0]] if self._timers else []
        if self.stats.started < self.plan.total and self._in_flight < self.plan.concurrency:
            times.append(self._next_start_time())
        return min(times) if times else None

    def finish(self, now: float) -> None:
        """Count logins still in flight at the end as failures (timed out)."""
        for login in list(self._by_spi.values()):
            if not login.deleting and not login.ini.finished:
                self._in_flight -= 1
                self.stats.login_failed("unfinished when the run ended")
        self._by_spi.clear()
        self._timers.clear()

    # ---- internals ----------------------------------------------------------------------

    def _next_start_time(self) -> float:
        if self.plan.rate <= 0:
            return self.stats.started_at
        return self.stats.started_at + self.stats.started / self.plan.rate

    def _may_start(self, now: float) -> bool:
        return (self.stats.started < self.plan.total
                and self._in_flight < self.plan.concurrency
                and self._next_start_time() <= now)

    def _start(self, now: float) -> list[Datagram]:
        n = self._next_index
        self._next_index += 1
        config = self._configs[n % len(self._configs)]
        local = self._locals[n % len(self._locals)]
        ini = self._factory(config, local, self._remote)
        login = _Login(ini, now)
        out = ini.start(now)
        self._by_spi[ini.result.spi_i] = login
        self._in_flight += 1
        self.stats.login_started()
        self._arm(login)
        return out

    def _arm(self, login: _Login) -> None:
        deadline = login.ini.get_timer()
        if deadline is not None:
            heapq.heappush(self._timers, (deadline, next(self._seq), login))

    def _count_retransmits(self, login: _Login) -> None:
        now_total = login.ini.result.retransmits
        self.stats.retransmits += now_total - login.retransmits
        login.retransmits = now_total

    def _after(self, login: _Login, now: float) -> list[Datagram]:
        """Account for a state change after the initiator handled something."""
        ini = login.ini
        if login.deleting:
            if ini.finished:
                self._forget(login)
                self._deleting -= 1
            else:
                self._arm(login)
            return []
        if ini.state == InitiatorState.ESTABLISHED:
            self._in_flight -= 1
            self.stats.login_done(now - login.started)
            if self.plan.keep:
                self._forget(login)  # the responder keeps it; we need nothing more
                return []
            login.deleting = True
            self._deleting += 1
            out = ini.delete(now)
            self._arm(login)
            return out
        if ini.state in (InitiatorState.FAILED, InitiatorState.CLOSED):
            self._in_flight -= 1
            self.stats.login_failed(ini.failure_reason or ini.state.value)
            self._forget(login)
            return []
        self._arm(login)
        return []

    def _forget(self, login: _Login) -> None:
        self._by_spi.pop(login.ini.result.spi_i, None)
