"""A plugin that raises, hangs or returns garbage fails only its own login (the peer gets
AUTHENTICATION_FAILED); the same responder then logs the next user in."""

from __future__ import annotations

import asyncio
import time
from typing import Any, ClassVar

import pytest
from twisted.internet import defer, task

from ikeeap.eap.method import BaseMethod, EapStep
from ikeeap.eap.packet import EapType
from ikeeap.eap.registry import MethodRegistry
from ikeeap.initiator.config import InitiatorConfig
from ikeeap.initiator.loopback import Loopback
from ikeeap.initiator.results import InitiatorState
from ikeeap.initiator.testing import make_settings
from ikeeap.server.testkit import FakeUdpReactor, ServiceLoopback
from ikeeap.testkit import MethodKit
from ikeeap.wire.constants import NotifyType

GTC = bytes([EapType.GTC])


class Misbehaving(BaseMethod):
    """GTC that checks the password for "alice" and misbehaves for "mallory" as told by
    the ``mode`` config key (one of the MODES below)."""

    name = "misbehaving"
    eap_type = EapType.GTC
    aborted: ClassVar[list[str]] = []

    def _bad(self, ctx: Any) -> bool:
        self.user = ctx.user
        return ctx.user == "mallory"

    async def start(self, ctx: Any) -> Any:
        if self._bad(ctx):
            return await START_MODES.get(self.config["mode"], _normal_start)()
        return await _normal_start()

    async def process(self, ctx: Any, response: bytes) -> Any:
        if self._bad(ctx) and self.config["mode"] in PROCESS_MODES:
            return await PROCESS_MODES[self.config["mode"]]()
        verifier = self._providers(ctx).verifier
        ok = await verifier.verify(ctx.user or "", response[1:].decode("utf-8", "replace"))
        return EapStep.success() if ok else EapStep.failure("wrong password")

    def msk(self) -> Any:
        garbage = self.config["mode"] == "msk_garbage" and self.user == "mallory"
        return "not-bytes" if garbage else None

    def abort(self) -> None:
        Misbehaving.aborted.append(self.config["mode"])
        if self.config["mode"] == "abort_raises":
            raise RuntimeError("abort exploded")


async def _normal_start() -> EapStep:
    return EapStep.continue_(GTC + b"Password: ")


async def _raise() -> Any:
    raise RuntimeError("plugin bug")


async def _hang() -> Any:
    await asyncio.Event().wait()


def _value(v: Any):
    async def give() -> Any:
        return v
    return give


def _not_awaitable() -> Any:
    class Sync:
        def __await__(self):
            return EapStep.success()
    async def give() -> Any:
        return await Sync()
    return give


START_MODES = {
    "start_raises": _raise,
    "start_returns_none": _value(None),
    "start_returns_bytes": _value(b"\x06hello"),
    "start_wrong_type": _value(EapStep.continue_(b"\x04hello")),
    "start_empty": _value(EapStep.continue_(b"")),
    "start_oversized": _value(EapStep.continue_(GTC + b"x" * 70000)),
    "start_succeeds": _value(EapStep.success()),
    "start_hangs": _hang,
}
PROCESS_MODES = {
    "process_raises": _raise,
    "process_returns_int": _value(42),
    "process_not_awaitable": _not_awaitable(),
    "process_hangs": _hang,
    "msk_garbage": _value(EapStep.success()),
    "abort_raises": _raise,
}
MODES = sorted(set(START_MODES) | set(PROCESS_MODES))


def _kit(mode: str, step_timeout: float = 5.0) -> MethodKit:
    return MethodKit(Misbehaving, config={"mode": mode},
                     users={"alice": "alice-pw", "mallory": "mallory-pw"},
                     step_timeout=step_timeout)


@pytest.mark.parametrize("mode", MODES)
def test_misbehaving_method_fails_only_its_own_login(mode: str) -> None:
    kit = _kit(mode, step_timeout=0.2)
    started = time.monotonic()
    bad = kit.login("mallory", "mallory-pw", eap_methods=("gtc",))
    assert bad.refused and not bad.established
    assert bad.failure is not None
    assert time.monotonic() - started < 5
    good = kit.login("alice", "alice-pw", eap_methods=("gtc",))
    assert good.established and good.method == "misbehaving"


def test_raising_method_is_reported_with_its_name_and_aborted() -> None:
    Misbehaving.aborted.clear()
    bad = _kit("process_raises").login("mallory", "mallory-pw", eap_methods=("gtc",))
    assert bad.failure == "EAP misbehaving failed: method misbehaving raised RuntimeError"
    assert Misbehaving.aborted == ["process_raises"]  # its state was released once


def test_garbage_msk_is_refused_before_it_reaches_the_auth_computation() -> None:
    bad = _kit("msk_garbage").login("mallory", "mallory-pw", eap_methods=("gtc",))
    assert bad.refused and "exported a key that is not bytes" in (bad.failure or "")


def test_hanging_step_times_out_like_the_server() -> None:
    bad = _kit("process_hangs", step_timeout=0.3).login("mallory", "mallory-pw",
                                                        eap_methods=("gtc",))
    assert bad.refused and bad.failure == "EAP step failed or timed out"


def test_plain_loopback_fails_a_step_that_suspends() -> None:
    """The in-memory Loopback's default driver cannot wait: a suspended step counts as
    failed (reported like a timeout), never as a hang of the pump."""
    registry = MethodRegistry()
    registry.register("misbehaving", Misbehaving, "test")
    settings = make_settings({"mallory": "pw", "alice": "pw"}, ("misbehaving",),
                             registry=registry,
                             method_config={"misbehaving": {"mode": "start_hangs"}})
    loop = Loopback(settings)
    result = loop.login(InitiatorConfig(identity="mallory", password="pw",
                                        eap_methods=("gtc",)))
    assert result.initiator.failure_notify == NotifyType.AUTHENTICATION_FAILED
    assert result.auth_failure is not None
    assert loop.login(InitiatorConfig(identity="alice", password="pw",
                                      eap_methods=("gtc",))).established


# ---- the Twisted service: Deferreds, eap_step_timeout on the reactor ----------------------


class DeferredMethod(BaseMethod):
    """GTC whose steps are Deferreds on an injected clock: "slowpoke" never gets an answer
    (the Deferred never fires), everyone else is answered after ``delay`` seconds."""

    name = "deferred"
    eap_type = EapType.GTC
    requires = ("clock",)
    cancelled: ClassVar[list[str]] = []

    def start(self, ctx: Any) -> defer.Deferred:
        clock = self._providers(ctx).get("clock")
        return task.deferLater(clock, 1.0, lambda: EapStep.continue_(GTC + b"Password: "))

    def process(self, ctx: Any, response: bytes) -> defer.Deferred:
        if ctx.user == "slowpoke":
            d: defer.Deferred = defer.Deferred(lambda _: DeferredMethod.cancelled.append("x"))
            return d
        clock = self._providers(ctx).get("clock")
        return task.deferLater(clock, 2.0, lambda: EapStep.success())


def _service(step_timeout: float = 10.0) -> ServiceLoopback:
    reactor = FakeUdpReactor()  # the service's reactor is the method's injected clock
    kit = MethodKit(DeferredMethod, users={"alice": "pw", "slowpoke": "pw"},
                    extra_providers={"clock": reactor}, step_timeout=step_timeout)
    return ServiceLoopback(kit.settings, reactor=reactor)


def test_service_runs_deferred_steps_on_the_reactor() -> None:
    service = _service()
    ini = service.start(InitiatorConfig(identity="alice", password="pw", eap_methods=("gtc",)))
    service.run(ini)
    assert ini.state == InitiatorState.ESTABLISHED
    assert service.clock.seconds() >= 3.0  # both deferLater delays really elapsed


def test_service_step_timeout_fails_only_the_hanging_login() -> None:
    service = _service(step_timeout=10.0)
    DeferredMethod.cancelled.clear()
    hung = service.start(InitiatorConfig(identity="slowpoke", password="pw",
                                         eap_methods=("gtc",), retransmit_tries=8))
    service.run(hung)
    assert hung.state == InitiatorState.FAILED
    assert hung.failure_notify == NotifyType.AUTHENTICATION_FAILED
    assert DeferredMethod.cancelled == ["x"]  # the timeout cancelled the plugin's Deferred
    assert 10.0 <= service.clock.seconds() < 20.0
    ini = service.start(InitiatorConfig(identity="alice", password="pw", eap_methods=("gtc",)))
    service.run(ini)
    assert ini.state == InitiatorState.ESTABLISHED
