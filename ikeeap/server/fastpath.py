"""Run an EAP step at once when it can finish without waiting (built-in methods always do).

A Deferred plus a timeout timer per EAP round cost more than the round itself; only steps
that really wait (RADIUS, LDAP) need them.  ``start_step`` advances the awaitable once:
either it is finished, or the caller gets a coroutine that continues exactly where it
stopped (for ``defer.ensureDeferred``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Coroutine, Generator
from typing import Any


async def _as_coroutine(awaitable: Awaitable[Any]) -> Any:
    return await awaitable


class _Continue:
    """Awaitable that resumes ``coro`` after its first suspension at ``first``."""

    def __init__(self, coro: Coroutine[Any, Any, Any], first: Any) -> None:
        self._coro, self._first = coro, first

    def __await__(self) -> Generator[Any, Any, Any]:
        coro, value = self._coro, self._first
        while True:
            try:
                sent = yield value
            except GeneratorExit:
                coro.close()
                raise
            except BaseException as exc:  # noqa: BLE001 - e.g. CancelledError from a timeout
                try:
                    value = coro.throw(exc)
                except StopIteration as stop:
                    return stop.value
                continue
            try:
                value = coro.send(sent)
            except StopIteration as stop:
                return stop.value


async def _resume(coro: Coroutine[Any, Any, Any], first: Any) -> Any:
    return await _Continue(coro, first)


def start_step(step: Awaitable[Any]) -> tuple[bool, Any, Coroutine[Any, Any, Any] | None]:
    """(True, result, None) if ``step`` completed synchronously, else (False, None, rest).
    An exception raised before the first suspension propagates."""
    coro = _as_coroutine(step)
    try:
        first = coro.send(None)
    except StopIteration as stop:
        return True, stop.value, None
    return False, None, _resume(coro, first)
