"""Run a :class:`LoadDriver` against a sans-I/O Responder in this process: no sockets,
a fake clock that jumps to the next timer when nothing is queued.  Used by the functional
tests and by the memory benchmark (100,000 SAs without the network)."""

from __future__ import annotations

from collections import deque
from typing import Any

from ..ike.events import Datagram, EapStepPending
from ..initiator.loopback import drive
from .driver import LoadDriver


def _eap_and_events(responder: Any, now: float) -> list[Datagram]:
    """Run pending EAP steps synchronously (built-in methods never wait); drop the rest."""
    out: list[Datagram] = []
    while (event := responder.next_event()) is not None:
        if isinstance(event, EapStepPending):
            try:
                output = drive(event.step)
            except Exception:  # noqa: BLE001 - reported to the core like a timeout
                output = None
            out += responder.eap_done(event.sa_id, output, now)
    return out


def pump(driver: LoadDriver, responder: Any, now: float = 0.0, tick: float = 0.001,
         max_steps: int = 50_000_000) -> float:
    """Drive until ``driver.done``; each delivery costs ``tick`` fake seconds.  Returns the
    fake time at the end."""
    to_responder: deque[Datagram] = deque()
    to_driver: deque[Datagram] = deque()
    steps = 0
    while not driver.done(now) and steps < max_steps:
        steps += 1
        to_responder.extend(driver.poll(now))
        if not to_responder and not to_driver:
            wake = driver.next_wakeup()
            timer = responder.get_timer()
            candidates = [t for t in (wake, timer) if t is not None and t > now]
            now = min(candidates) if candidates else now + tick
            to_driver.extend(responder.handle_timer(now))
            continue
        while to_responder:
            d = to_responder.popleft()
            to_driver.extend(responder.receive_datagram(d.data, d.remote, d.local, now))
            to_driver.extend(_eap_and_events(responder, now))
        while to_driver:
            d = to_driver.popleft()
            to_responder.extend(driver.receive(d.data, now))
        now += tick
    driver.finish(now)
    return now
