"""EapAuthenticator: Identity round, identifiers, Nak, Success/Failure, plugin misbehaviour."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from eap_test_helpers import Converse, run

from ikeeap.eap.authenticator import EapAuthenticator, EapOutput
from ikeeap.eap.credentials import Providers
from ikeeap.eap.method import BaseMethod, EapContext, EapStep
from ikeeap.eap.methods.gtc import GtcMethod
from ikeeap.eap.methods.md5 import Md5Method
from ikeeap.eap.methods.mschapv2 import MsChapV2Method
from ikeeap.eap.packet import EapCode, EapPacket, EapType, parse_eap
from ikeeap.eap.peer import EapPeer

MD5, GTC, MSCHAPV2 = EapType.MD5, EapType.GTC, EapType.MSCHAPV2


def _builtin(providers: Providers, *classes: type) -> list[tuple[int, Any]]:
    return [(cls.eap_type, lambda cls=cls: cls({}, providers)) for cls in classes]


def _auth(providers: Providers, *classes: type, **kw: Any) -> EapAuthenticator:
    ctx = EapContext(peer="test", providers=providers, identity=kw.pop("identity", b""))
    return EapAuthenticator(_builtin(providers, *classes), ctx, **kw)


def _resp(identifier: int, eap_type: int, data: bytes = b"") -> bytes:
    return EapPacket(EapCode.RESPONSE, identifier, eap_type, data).encode()


class Scripted(BaseMethod):
    """A test method: sends type 99 requests, succeeds after ``rounds`` responses."""

    name = "scripted"
    eap_type: int | None = 99

    def __init__(self, rounds: int = 1, mutual: bool = True, **fail: Any) -> None:
        super().__init__()
        self.rounds, self._mutual, self.fail = rounds, mutual, fail
        self.seen: list[tuple[int, bytes]] = []
        self.aborted = False

    async def start(self, ctx: EapContext) -> EapStep:
        if "start" in self.fail:
            raise self.fail["start"]
        return self.fail.get("start_step") or EapStep.continue_(b"\x63hello")

    async def process(self, ctx: EapContext, response: bytes) -> EapStep:
        self.seen.append((ctx.identifier, response))
        if "process" in self.fail:
            raise self.fail["process"]
        if len(self.seen) >= self.rounds:
            return EapStep.success()
        return EapStep.continue_(b"\x63more")

    def msk(self) -> bytes | None:
        if "msk" in self.fail:
            raise self.fail["msk"]
        return b"k" * 64

    def is_mutual(self) -> bool:
        return self._mutual

    def abort(self) -> None:
        self.aborted = True


def _with(method: BaseMethod, identity: bytes = b"u", **kw: Any) -> EapAuthenticator:
    typ = method.eap_type
    return EapAuthenticator([(typ, lambda: method)], EapContext(identity=identity), **kw)


# -- Identity round and identifiers ---------------------------------------------------------


def test_identity_round_first_then_method(providers: Providers, converse: Converse) -> None:
    auth = _auth(providers, Md5Method, first_identifier=10)
    out = run(auth.start())
    assert parse_eap(out.packet) == EapPacket(EapCode.REQUEST, 10, EapType.IDENTITY, b"")
    out = run(auth.receive(_resp(10, EapType.IDENTITY, b"alice")))
    req = parse_eap(out.packet)
    assert req.type == MD5 and req.identifier == 11 and out.identity == b"alice"
    assert auth.identity == b"alice" and auth.last_request == out.packet


def test_identity_round_can_be_skipped_with_a_known_identity(providers: Providers) -> None:
    auth = _auth(providers, Md5Method, identity=b"alice", identity_round=False)
    assert parse_eap(run(auth.start()).packet).type == MD5
    with pytest.raises(ValueError):
        _auth(providers, Md5Method, identity_round=False)


def test_identifiers_wrap_and_success_echoes_last_response_id(providers: Providers) -> None:
    peer = EapPeer("alice", "secret", [MSCHAPV2])
    auth = _auth(providers, MsChapV2Method, first_identifier=254)

    async def go() -> list[int]:
        ids, out = [], await auth.start()
        while not out.finished:
            ids.append(parse_eap(out.packet).identifier)
            out = await auth.receive(peer.respond(out.packet))
        ids.append(parse_eap(out.packet).identifier)
        return ids

    # Identity 254, Challenge 255, Success-Request 0, EAP-Success echoes 0
    assert run(go()) == [254, 255, 0, 0]


def test_identifier_mismatch_is_ignored_then_conversation_continues(providers: Providers) -> None:
    auth = _auth(providers, GtcMethod, first_identifier=5)
    run(auth.start())
    req = run(auth.receive(_resp(5, EapType.IDENTITY, b"alice")))
    out = run(auth.receive(_resp(5, GTC, b"secret")))  # stale identifier
    assert out.ignored and out.packet is None and not out.finished
    assert auth.last_request == req.packet
    out = run(auth.receive(_resp(6, GTC, b"secret")))
    assert out.finished and out.success


@pytest.mark.parametrize(
    "packet",
    [
        b"garbage",
        EapPacket(EapCode.REQUEST, 5, EapType.IDENTITY).encode(),
        EapPacket(EapCode.SUCCESS, 5).encode(),
    ],
)
def test_malformed_or_non_response_packets_are_ignored(providers: Providers, packet: bytes) -> None:
    auth = _auth(providers, GtcMethod, first_identifier=5)
    run(auth.start())
    out = run(auth.receive(packet))
    assert out.ignored and out.packet is None and not out.finished


def test_receive_before_start_and_after_finish_is_ignored(providers: Providers) -> None:
    auth = _auth(providers, GtcMethod, first_identifier=1)
    assert run(auth.receive(_resp(1, EapType.IDENTITY, b"x"))).ignored
    run(auth.start())
    run(auth.receive(_resp(1, EapType.IDENTITY, b"alice")))
    assert run(auth.receive(_resp(2, GTC, b"secret"))).success
    late = run(auth.receive(_resp(2, GTC, b"secret")))
    assert late.ignored and late.finished and late.packet is None


def test_wrong_response_type_fails(providers: Providers) -> None:
    auth = _auth(providers, GtcMethod, first_identifier=1)
    run(auth.start())
    run(auth.receive(_resp(1, EapType.IDENTITY, b"alice")))
    out = run(auth.receive(_resp(2, MD5, bytes([16]) + b"x" * 16)))
    assert out.finished and not out.success and parse_eap(out.packet).code == EapCode.FAILURE


def test_nak_to_identity_fails(providers: Providers) -> None:
    auth = _auth(providers, GtcMethod, first_identifier=1)
    run(auth.start())
    assert not run(auth.receive(_resp(1, EapType.NAK, bytes([GTC])))).success


# -- Nak -----------------------------------------------------------------------------------


def test_nak_switches_to_another_allowed_method(providers: Providers, converse: Converse) -> None:
    peer = EapPeer("alice", "secret", [MSCHAPV2])
    out, sent = converse(_auth(providers, Md5Method, MsChapV2Method), peer)
    assert out.success and out.method_name == "mschapv2" and out.msk == peer.msk()
    assert [parse_eap(p).type for p in sent[:3]] == [EapType.IDENTITY, MD5, MSCHAPV2]


def test_nak_choice_follows_server_order(providers: Providers) -> None:
    auth = _auth(providers, Md5Method, GtcMethod, MsChapV2Method, first_identifier=1)
    run(auth.start())
    run(auth.receive(_resp(1, EapType.IDENTITY, b"alice")))
    out = run(auth.receive(_resp(2, EapType.NAK, bytes([MSCHAPV2, GTC]))))
    assert parse_eap(out.packet).type == GTC


@pytest.mark.parametrize("desired", [bytes([0]), bytes([EapType.TLS]), bytes([MD5]), b""])
def test_nak_with_nothing_acceptable_fails(providers: Providers, desired: bytes) -> None:
    auth = _auth(providers, Md5Method, GtcMethod, first_identifier=1)
    run(auth.start())
    run(auth.receive(_resp(1, EapType.IDENTITY, b"alice")))
    out = run(auth.receive(_resp(2, EapType.NAK, desired)))  # MD5 itself was already tried
    assert out.finished and not out.success and "Nak" in out.reason


def test_nak_after_method_started_fails(providers: Providers) -> None:
    auth = _auth(providers, MsChapV2Method, GtcMethod)
    peer = EapPeer("alice", "secret", [MSCHAPV2])
    out = run(auth.start())
    out = run(auth.receive(peer.respond(out.packet)))
    out = run(auth.receive(peer.respond(out.packet)))  # now at Success-Request
    ident = parse_eap(out.packet).identifier
    out = run(auth.receive(_resp(ident, EapType.NAK, bytes([GTC]))))
    assert out.finished and not out.success


def test_pass_through_method_receives_naks_and_sets_identifiers() -> None:
    class Relay(Scripted):
        name, eap_type = "relay", None

        async def start(self, ctx: EapContext) -> EapStep:
            return EapStep.continue_(b"\x04\x10" + b"c" * 16, identifier=77)

    relay = Relay(rounds=1)
    auth = EapAuthenticator(
        [(None, lambda: relay)], EapContext(identity=b"u"), identity_round=False
    )
    assert parse_eap(run(auth.start()).packet).identifier == 77
    out = run(auth.receive(_resp(77, EapType.NAK, bytes([GTC]))))
    assert relay.seen == [(77, bytes([EapType.NAK, GTC]))] and out.success


def test_nak_can_fall_through_to_a_pass_through_method(providers: Providers) -> None:
    relay = Scripted()
    relay.eap_type = None
    factories = [*_builtin(providers, Md5Method), (None, lambda: relay)]
    auth = EapAuthenticator(
        factories,
        EapContext(identity=b"u", providers=providers),
        identity_round=False,
        first_identifier=1,
    )
    run(auth.start())
    out = run(auth.receive(_resp(1, EapType.NAK, bytes([EapType.TLS]))))
    assert parse_eap(out.packet).data == b"hello" and out.method_name == "scripted"


# -- Success, keys, mutual -----------------------------------------------------------------


def test_success_carries_msk_and_mutual() -> None:
    auth = _with(Scripted(rounds=2), first_identifier=0, identity_round=False)
    run(auth.start())
    assert not run(auth.receive(_resp(0, 99, b"a"))).finished
    out = run(auth.receive(_resp(1, 99, b"b")))
    assert out.success and out.msk == b"k" * 64 and out.mutual and out.identity == b"u"
    assert parse_eap(out.packet) == EapPacket(EapCode.SUCCESS, 1)


def test_require_mutual_rejects_non_mutual_method(providers: Providers, converse: Converse) -> None:
    peer = EapPeer("alice", "secret", [MSCHAPV2])
    out, _ = converse(_auth(providers, MsChapV2Method, require_mutual=True), peer)
    assert not out.success and "mutual" in out.reason and out.msk is None


def test_method_context_gets_identity_and_response_identifier() -> None:
    method = Scripted()
    auth = _with(method, identity=b"zoe", first_identifier=40, identity_round=False)
    run(auth.start())
    run(auth.receive(_resp(40, 99, b"x")))
    assert method.seen == [(40, b"\x63x")]


def test_method_per_identity_policy_callable(providers: Providers) -> None:
    seen: list[bytes] = []

    def policy(identity: bytes) -> list[tuple[int, Any]]:
        seen.append(identity)
        return _builtin(providers, GtcMethod)

    auth = EapAuthenticator(policy, EapContext(providers=providers), first_identifier=1)
    run(auth.start())
    out = run(auth.receive(_resp(1, EapType.IDENTITY, b"alice")))
    assert seen == [b"alice"] and parse_eap(out.packet).type == GTC


def test_empty_method_list_fails() -> None:
    auth = EapAuthenticator([], EapContext(identity=b"u"), identity_round=False)
    out = run(auth.start())
    assert out.finished and not out.success


# -- misbehaving methods -------------------------------------------------------------------


@pytest.mark.parametrize("where", ["start", "process", "msk"])
def test_method_exception_becomes_failure(where: str) -> None:
    method = Scripted(**{where: RuntimeError("boom")})
    auth = _with(method, first_identifier=0, identity_round=False)
    out = run(auth.start())
    if where != "start":
        out = run(auth.receive(_resp(0, 99, b"x")))
    assert out.finished and not out.success and "RuntimeError" in out.reason
    assert parse_eap(out.packet).code == EapCode.FAILURE and method.aborted


@pytest.mark.parametrize(
    ("step", "fragment"),
    [
        ("not a step", "returned str"),
        (EapStep.success(), "without a response"),
        (EapStep.continue_(b""), "empty request"),
        (EapStep.continue_(b"\x05wrong type"), "sent type 5"),
        (EapStep.failure("nope"), "nope"),
    ],
)
def test_bad_first_steps_become_failure(step: Any, fragment: str) -> None:
    auth = _with(Scripted(start_step=step), identity_round=False)
    out = run(auth.start())
    assert out.finished and not out.success and fragment in out.reason


def test_factory_exception_becomes_failure() -> None:
    def broken() -> Any:
        raise ImportError("missing backend")

    auth = EapAuthenticator([(99, broken)], EapContext(identity=b"u"), identity_round=False)
    out = run(auth.start())
    assert out.finished and "ImportError" in out.reason


def test_abort_calls_method_abort() -> None:
    method = Scripted()
    auth = _with(method, identity_round=False)
    run(auth.start())
    auth.abort()
    assert method.aborted and auth.finished


def test_response_during_pending_step_is_ignored() -> None:
    gate = asyncio.Event()

    class Slow(Scripted):
        async def process(self, ctx: EapContext, response: bytes) -> EapStep:
            await gate.wait()
            return await super().process(ctx, response)

    auth = _with(Slow(), first_identifier=0, identity_round=False)

    async def go() -> tuple[EapOutput, EapOutput]:
        await auth.start()
        first = asyncio.ensure_future(auth.receive(_resp(0, 99, b"x")))
        await asyncio.sleep(0)
        second = await auth.receive(_resp(0, 99, b"x"))
        gate.set()
        return await first, second

    first, second = run(go())
    assert first.success and second.ignored
