"""EAP steps that finish without waiting run at once; waiting ones resume in a Deferred."""

from __future__ import annotations

import pytest
from twisted.internet import defer

from ikeeap.server.fastpath import start_step


async def _immediate() -> str:
    return "done"


async def _waits(d: defer.Deferred) -> str:
    value = await d
    return f"got {value}"


def test_a_step_that_needs_no_waiting_finishes_synchronously():
    assert start_step(_immediate()) == (True, "done", None)


def test_a_waiting_step_continues_where_it_stopped_in_a_deferred():
    d: defer.Deferred = defer.Deferred()
    ready, value, rest = start_step(_waits(d))
    assert not ready and value is None and rest is not None
    result = defer.ensureDeferred(rest)
    seen: list[str] = []
    result.addCallback(seen.append)
    assert seen == []
    d.callback(42)
    assert seen == ["got 42"]


def test_a_waiting_step_can_be_cancelled_by_its_timeout():
    d: defer.Deferred = defer.Deferred()
    _, _, rest = start_step(_waits(d))
    result = defer.ensureDeferred(rest)
    failures: list = []
    result.addErrback(failures.append)
    result.cancel()
    assert failures and failures[0].check(defer.CancelledError)


def test_an_error_before_the_first_wait_propagates():
    async def broken() -> None:
        raise ValueError("bad")

    with pytest.raises(ValueError):
        start_step(broken())
