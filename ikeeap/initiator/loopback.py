"""An in-memory pump between Initiators and one sans-I/O Responder: no sockets, a fake clock.

    result = run_login(settings, InitiatorConfig(identity="alice", password="secret"))
    assert result.established and result.keymat_match

:class:`Loopback` is the longer form: several initiators, dropped or held datagrams, held
EAP steps, and explicit clock advances.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from ..ike.events import (
    Address,
    AuthenticationFailed,
    ChildSaEstablished,
    Datagram,
    EapStepPending,
    Event,
    IkeSaEstablished,
)
from ..ike.responder import Responder
from ..ike.settings import ResponderSettings
from .config import InitiatorConfig
from .initiator import Initiator
from .results import InitiatorResult, InitiatorState

SERVER = ("192.0.2.1", 500)
# (datagram, True when it travels to the responder) -> True to drop it
DropFilter = Callable[[Datagram, bool], bool]


@dataclass
class LoginResult:
    """One login as both sides saw it."""

    initiator: Initiator
    responder_events: list[Event]
    elapsed: float  # fake seconds from start to the end of the run
    datagrams: int  # delivered both ways during this login

    @property
    def state(self) -> InitiatorState:
        return self.initiator.state

    @property
    def result(self) -> InitiatorResult:
        return self.initiator.result

    @property
    def failure_reason(self) -> str | None:
        return self.initiator.failure_reason

    def _event(self, kind: type) -> Any:
        return next((e for e in self.responder_events if isinstance(e, kind)), None)

    @property
    def responder_sa(self) -> IkeSaEstablished | None:
        return self._event(IkeSaEstablished)

    @property
    def responder_child(self) -> ChildSaEstablished | None:
        return self._event(ChildSaEstablished)

    @property
    def auth_failure(self) -> AuthenticationFailed | None:
        return self._event(AuthenticationFailed)

    @property
    def established(self) -> bool:
        """Both sides consider the IKE SA established."""
        return self.initiator.established and self.responder_sa is not None

    @property
    def keymat_match(self) -> bool:
        """Both sides derived the same Child SA (SPIs crossed, same transforms and KEYMAT)."""
        mine, theirs = self.result.child, self.responder_child
        return (
            mine is not None
            and theirs is not None
            and (
                mine.spi_in,
                mine.spi_out,
                mine.encr,
                mine.encr_key_bits,
                mine.integ,
                mine.esn,
                mine.keymat,
            )
            == (
                theirs.spi_out,
                theirs.spi_in,
                theirs.encr,
                theirs.encr_key_bits,
                theirs.integ,
                theirs.esn,
                theirs.keymat,
            )
        )


def drive(step: Awaitable[Any]) -> Any:
    """Run an awaitable that completes without suspending (built-in EAP methods do)."""
    it = step.__await__()
    try:
        it.send(None)
    except StopIteration as stop:
        return stop.value
    it.close()  # type: ignore[attr-defined]
    raise RuntimeError("EAP step suspended: use Loopback(eap_driver='asyncio')")


class Loopback:
    """Delivers datagrams both ways, runs EAP steps, and advances a fake clock."""

    def __init__(
        self,
        responder: Responder | ResponderSettings,
        server: Address = SERVER,
        now: float = 0.0,
        eap_driver: str = "step",
        record: bool = False,
    ) -> None:
        # Anything with the Responder API will do (e.g. a wrapper that demands cookies).
        self.responder: Any = (
            Responder(responder) if isinstance(responder, ResponderSettings) else responder
        )
        self.server = server
        self.now = now
        self.events: list[Event] = []
        self.initiators: list[Initiator] = []
        self.drop: DropFilter | None = None
        self.hold_eap = False  # keep EapStepPending events in held_steps instead of running
        self.held_steps: list[EapStepPending] = []
        self.sent = 0
        # (datagram, True when it went to the responder), when ``record`` is set
        self.transcript: list[tuple[Datagram, bool]] | None = [] if record else None
        self._queue: deque[tuple[Datagram, bool]] = deque()
        self._by_address: dict[Address, Initiator] = {}
        self._natted: set[Initiator] = set()
        self._nat_out: dict[Address, Address] = {}  # private -> public
        self._nat_in: dict[Address, Address] = {}  # public -> private
        self._nat_ports = itertools.count(40000)
        self._hosts = itertools.count(2)
        self._loop: asyncio.AbstractEventLoop | None = None
        if eap_driver == "asyncio":
            self._loop = asyncio.new_event_loop()
        elif eap_driver != "step":
            raise ValueError("eap_driver is 'step' or 'asyncio'")

    def close(self) -> None:
        if self._loop is not None:
            self._loop.close()
            self._loop = None

    # ---- initiators ---------------------------------------------------------------------

    def add(
        self,
        config: InitiatorConfig,
        local: Address | None = None,
        random: Callable[[int], bytes] | None = None,
        behind_nat: bool = False,
    ) -> Initiator:
        """A new initiator at ``local`` (default: the next 198.51.100.x:500); not started.
        ``behind_nat``: its datagrams reach the responder from 203.0.113.1 and a new port
        for each of its addresses, as through a NAPT."""
        if local is None:
            n = next(self._hosts)
            local = (f"198.51.{100 + n // 250}.{n % 250 + 1}", 500)
        kwargs = {} if random is None else {"random": random}
        ini = Initiator(config, local, self.server, **kwargs)
        self.initiators.append(ini)
        self._by_address[local] = ini
        if behind_nat:
            self._natted.add(ini)
        return ini

    def start(self, ini: Initiator) -> None:
        self.to_responder(ini.start(self.now))

    def to_responder(self, datagrams: list[Datagram]) -> None:
        self._queue.extend((d, True) for d in datagrams)

    def to_initiators(self, datagrams: list[Datagram]) -> None:
        self._queue.extend((d, False) for d in datagrams)

    # ---- pumping ------------------------------------------------------------------------

    def pump(self, max_datagrams: int = 100_000) -> None:
        """Deliver queued datagrams (and whatever they cause) until the queue is empty."""
        while self._queue and max_datagrams > 0:
            max_datagrams -= 1
            datagram, inbound = self._queue.popleft()
            if self.drop is not None and self.drop(datagram, inbound):
                continue
            self.sent += 1
            if self.transcript is not None:
                self.transcript.append((datagram, inbound))
            if inbound:
                self._deliver_to_responder(datagram)
            else:
                self._deliver_to_initiator(datagram)

    def _deliver_to_responder(self, d: Datagram) -> None:
        if d.local not in self._by_address:
            owner = next((i for i in self.initiators if i.local == d.local), None)
            if owner is not None:  # an initiator that floated to port 4500 (NAT-T)
                self._by_address[d.local] = owner
        source = self._translate_out(d.local)
        out = self.responder.receive_datagram(d.data, d.remote, source, self.now)
        self.to_initiators(out)
        self.process_events()

    def _translate_out(self, private: Address) -> Address:
        ini = self._by_address.get(private)
        if ini is None or ini not in self._natted:
            return private
        public = self._nat_out.get(private)
        if public is None:
            public = ("203.0.113.1", next(self._nat_ports))
            self._nat_out[private], self._nat_in[public] = public, private
        return public

    def _deliver_to_initiator(self, d: Datagram) -> None:
        ini = self._by_address.get(self._nat_in.get(d.remote, d.remote))
        if ini is not None:
            self.to_responder(ini.receive_datagram(d.data, self.now))

    def process_events(self) -> None:
        while (event := self.responder.next_event()) is not None:
            if isinstance(event, EapStepPending):
                if self.hold_eap:
                    self.held_steps.append(event)
                else:
                    self.complete_eap(event)
            else:
                self.events.append(event)

    def complete_eap(self, event: EapStepPending | None = None) -> None:
        """Run one EAP step (the oldest held one by default) and hand its result back."""
        if event is None:
            event = self.held_steps.pop(0)
        try:
            output = self._run(event.step)
        except Exception:  # noqa: BLE001 - a failing step is reported as None, like a timeout
            output = None
        self.to_initiators(self.responder.eap_done(event.sa_id, output, self.now))
        self.process_events()

    def _run(self, step: Awaitable[Any]) -> Any:
        if self._loop is None:
            return drive(step)

        async def wrapper() -> Any:
            return await step

        return self._loop.run_until_complete(wrapper())

    # ---- the clock ----------------------------------------------------------------------

    def next_deadline(self) -> float | None:
        deadlines = [t for t in (i.get_timer() for i in self.initiators) if t is not None]
        responder = self.responder.get_timer()
        if responder is not None:
            deadlines.append(responder)
        return min(deadlines) if deadlines else None

    def fire_timers(self) -> None:
        """Run every timer due at ``now`` on both sides."""
        self.to_initiators(self.responder.handle_timer(self.now))
        self.process_events()
        for ini in self.initiators:
            self.to_responder(ini.handle_timer(self.now))

    def advance(self, seconds: float) -> None:
        """Move the clock forward, firing timers in order and pumping after each."""
        end = self.now + seconds
        self.pump()
        while (deadline := self.next_deadline()) is not None and deadline <= end:
            self.now = max(self.now, deadline)
            self.fire_timers()
            self.pump()
        self.now = end

    def run(self, max_time: float = 600.0, initiators: list[Initiator] | None = None) -> None:
        """Pump and advance to the next timer until ``initiators`` (default: all) are done,
        ``max_time`` of fake time has passed, an EAP step is held, or nothing is left."""
        end = self.now + max_time
        watched = self.initiators if initiators is None else initiators
        self.pump()
        while not all(i.finished for i in watched) and not self.held_steps:
            deadline = self.next_deadline()
            if deadline is None or deadline > end:
                break
            self.now = max(self.now, deadline)
            self.fire_timers()
            self.pump()

    # ---- results ------------------------------------------------------------------------

    def result(self, ini: Initiator, started: float = 0.0, sent_before: int = 0) -> LoginResult:
        """What both sides did for ``ini`` (responder events matched by SPI)."""
        spi_r = ini.result.spi_r.hex()
        events = [e for e in self.events if spi_r and getattr(e, "sa_id", None) == spi_r]
        return LoginResult(ini, events, self.now - started, self.sent - sent_before)

    def login(
        self, config: InitiatorConfig, max_time: float = 600.0, **add_args: Any
    ) -> LoginResult:
        """Start one initiator (``add_args`` as for :meth:`add`) and run until it is
        established, failed or gave up."""
        started, sent_before = self.now, self.sent
        ini = self.add(config, **add_args)
        self.start(ini)
        self.run(max_time, [ini])
        return self.result(ini, started, sent_before)


def run_login(
    settings: ResponderSettings | Responder, config: InitiatorConfig, **loopback_args: Any
) -> LoginResult:
    """One login against a fresh loopback: ``run_login(settings, config).established``."""
    loop = Loopback(settings, **loopback_args)
    try:
        return loop.login(config)
    finally:
        loop.close()
