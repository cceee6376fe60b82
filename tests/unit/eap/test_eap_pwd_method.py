"""EAP-pwd server method (RFC 5931) against the in-package peer: keys, mutuality, every group,
hashed storage, the validations behind CVE-2019-9494/9498/9499, and malformed input."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from cryptography.hazmat.primitives.asymmetric import ec

from ikeeap.crypto.ecc_prime import CURVES, P256
from ikeeap.eap.credentials import Providers
from ikeeap.eap.method import EapContext, StepKind
from ikeeap.eap.methods.pwd import PwdMethod
from ikeeap.eap.methods.pwd import protocol as pwd
from ikeeap.eap.methods.pwd.passwords import PwdSecret
from ikeeap.eap.peer.methods import PeerError
from ikeeap.eap.peer.pwd import PwdPeer
from ikeeap.eap.registry import MethodRegistry

PWD = bytes([52])


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def _ctx(providers: Providers, identity: bytes = b"alice") -> EapContext:
    return EapContext(identity=identity, peer="test", providers=providers)


def _exchange(method: PwdMethod, peer: PwdPeer, ctx: EapContext, rounds: int = 3) -> Any:
    """start() and up to ``rounds`` request/response rounds; the last server step."""

    async def go() -> Any:
        step = await method.start(ctx)
        for _ in range(rounds):
            if step.kind is not StepKind.CONTINUE:
                return step
            step = await method.process(ctx, PWD + peer.process(step.data[1:], 0))
        return step

    return run(go())


@pytest.mark.parametrize("group", [19, 20, 21])
def test_login_in_every_group_gives_both_sides_the_same_64_octet_msk(providers, group):
    method, peer = PwdMethod({"group": group}, providers), PwdPeer(b"alice", "secret")
    step = _exchange(method, peer, _ctx(providers))
    assert step.kind is StepKind.SUCCESS
    assert method.is_mutual() and peer.done
    assert method.msk() == peer.msk() and len(method.msk()) == 64
    assert len(method.emsk()) == 64 and method.emsk() != method.msk()


def test_user_stored_as_nt_hash_logs_in_with_prep_rfc2759(providers):
    method, peer = PwdMethod({}, providers), PwdPeer(b"bob", "clientPass")
    first = run(method.start(_ctx(providers, b"bob")))
    assert first.data[1:3] == bytes([1, 0]) and first.data[10] == 1  # RFC 5931 §3.2.1
    step = _exchange(PwdMethod({}, providers), peer, _ctx(providers, b"bob"))
    assert step.kind is StepKind.SUCCESS


def test_wrong_password_is_caught_by_the_peer_and_a_forged_confirm_by_the_server(providers):
    with pytest.raises(PeerError, match="Confirm_S does not verify"):
        _exchange(PwdMethod({}, providers), PwdPeer(b"alice", "wrong"), _ctx(providers))
    method, peer = PwdMethod({}, providers), PwdPeer(b"alice", "wrong")
    ctx = _ctx(providers)
    step = _exchange(method, peer, ctx, rounds=2)  # Confirm request sent
    assert step.kind is StepKind.CONTINUE and step.data[1] == 3
    final = run(method.process(ctx, PWD + bytes([3]) + os.urandom(32)))
    assert final.kind is StepKind.FAILURE and method.msk() is None and not method.is_mutual()


def test_unknown_user_fails_at_confirm_like_a_wrong_password(providers):
    with pytest.raises(PeerError, match="Confirm_S"):
        _exchange(PwdMethod({}, providers), PwdPeer(b"mallory", "x"),
                  _ctx(providers, b"mallory"))


def test_peer_id_must_equal_the_eap_identity(providers):
    step = _exchange(PwdMethod({}, providers), PwdPeer(b"bob", "secret"), _ctx(providers))
    assert step.kind is StepKind.FAILURE and "Peer_ID differs" in step.reason


def _id_response(method: PwdMethod, ctx: EapContext, mutate: Any) -> Any:
    async def go() -> Any:
        request = await method.start(ctx)
        answer = bytearray(PwdPeer(b"alice", "secret").process(request.data[1:], 0))
        mutate(answer)
        return await method.process(ctx, PWD + bytes(answer))

    return run(go())


@pytest.mark.parametrize(("offset", "reason"), [
    (2, "ciphersuite"),  # group low octet
    (3, "ciphersuite"),  # Random Function
    (4, "ciphersuite"),  # PRF
    (6, "token"),        # anti-clogging token
    (9, "Prep"),
])
def test_id_response_must_echo_suite_token_and_prep(providers, offset, reason):
    def flip(answer: bytearray) -> None:
        answer[offset] ^= 0x01

    step = _id_response(PwdMethod({}, providers), _ctx(providers), flip)
    assert step.kind is StepKind.FAILURE and reason in step.reason


def _commit_step(providers: Providers, payload_for: Any) -> Any:
    """Run to the server's Commit, then answer with payload_for(server_scalar, element)."""
    method, peer, ctx = PwdMethod({}, providers), PwdPeer(b"alice", "secret"), _ctx(providers)

    async def go() -> Any:
        step = await method.start(ctx)
        step = await method.process(ctx, PWD + peer.process(step.data[1:], 0))
        scalar, element = pwd.parse_commit(P256, step.data[2:])
        return await method.process(ctx, PWD + bytes([2]) + payload_for(scalar, element))

    return run(go())


def _point(element: Any) -> bytes:
    return P256.encode_point(element)


def _scalar(value: int) -> bytes:
    return value.to_bytes(32, "big")


@pytest.mark.parametrize(("payload_for", "reason"), [
    (lambda s, e: _point(P256.g) + _scalar(0), "scalar outside"),
    (lambda s, e: _point(P256.g) + _scalar(1), "scalar outside"),
    (lambda s, e: _point(P256.g) + _scalar(P256.order), "scalar outside"),
    (lambda s, e: bytes(64) + _scalar(5), "not a point"),
    (lambda s, e: _point((P256.g[0], P256.g[1] ^ 1)) + _scalar(5), "not a point"),
    (lambda s, e: _point(e) + _scalar(s), "reflects ours"),
    (lambda s, e: _point(e) + _scalar(5), "reflects ours"),
    (lambda s, e: _point(P256.g) + _scalar(s), "reflects ours"),
    (lambda s, e: _point(P256.g) + _scalar(5)[:-1], "octets"),
    (lambda s, e: _point(P256.g) + _scalar(P256.order - 1)[:-1], "octets"),
], ids=["s0", "s1", "sr", "identity", "off_curve", "reflect", "reflect_elem", "reflect_scalar",
        "short", "short_high"])
def test_invalid_or_reflected_peer_commit_is_refused(providers, payload_for, reason):
    step = _commit_step(providers, payload_for)
    assert step.kind is StepKind.FAILURE and reason in step.reason


def test_peer_commit_that_makes_the_shared_point_the_identity_is_refused(providers):
    """A peer that knows the password can choose Element = -(Scalar * PWE): then
    rand * (Scalar * PWE + Element) is the point at infinity and k does not exist (§2.8.5.2:
    the server MUST fail).  The scalar and element are each valid on their own."""
    method, peer, ctx = PwdMethod({}, providers), PwdPeer(b"alice", "secret"), _ctx(providers)

    async def go() -> Any:
        request = await method.start(ctx)
        id_payload = request.data[2:]  # Type, PWD-Exch, then suite(4) token(4) prep(1) id
        token, server_id = id_payload[4:8], id_payload[9:]
        step = await method.process(ctx, PWD + peer.process(request.data[1:], 0))
        own_scalar, _ = pwd.parse_commit(P256, step.data[2:])
        pwe = pwd.derive_pwe(P256, b"secret", b"alice", server_id, token)
        scalar = 5 if own_scalar != 5 else 6
        element = P256.negate(P256.multiply(scalar, pwe))
        assert P256.add(P256.multiply(scalar, pwe), element) is None  # the identity
        return await method.process(ctx, PWD + bytes([2]) + _point(element) + _scalar(scalar))

    step = run(go())
    assert step.kind is StepKind.FAILURE and "shared point is the identity" in step.reason
    assert method.msk() is None and not method.is_mutual()


def test_hunting_and_pecking_always_runs_forty_rounds(monkeypatch):
    calls: list[int] = []
    real_h = pwd.h

    def counting_h(*parts: bytes) -> bytes:
        calls.append(parts[-1][0])
        return real_h(*parts)

    monkeypatch.setattr(pwd, "h", counting_h)
    for password in (b"a", b"b", b"secret"):
        calls.clear()
        assert pwd.derive_pwe(P256, password, b"peer", b"server", b"\0\0\0\1") is not None
        assert calls == list(range(1, 41))  # 40 rounds, as hostapd


def _reference_pwe(curve: Any, password: bytes, peer: bytes, server: bytes, token: bytes) -> Any:
    """RFC 5931 Figure 3 as written (early exit), to check the masked selection."""
    for counter in range(1, 256):
        seed = pwd.h(token, peer, server, password, bytes([counter]))
        value = int.from_bytes(pwd.kdf(seed, pwd.HUNT_LABEL, curve.prime_bits), "big")
        value >>= -curve.prime_bits % 8
        y = curve.sqrt(curve.y_squared(value)) if value < curve.p else None
        if y is not None:
            return (value, y if (y & 1) == (seed[-1] & 1) else curve.p - y)
    return None


@settings(max_examples=15, deadline=None)
@given(st.binary(min_size=1, max_size=12), st.sampled_from([19, 20, 21]))
def test_constant_time_pwe_equals_the_rfc_reference_loop(password, group):
    curve = CURVES[group]
    args = (password, b"alice", b"ikeeap", b"tokn")
    assert pwd.derive_pwe(curve, *args) == _reference_pwe(curve, *args)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # providers are read-only
@given(st.binary(max_size=120), st.integers(0, 2))
def test_garbage_at_any_stage_fails_cleanly_and_never_raises(providers, garbage, stage):
    method, peer, ctx = PwdMethod({}, providers), PwdPeer(b"alice", "secret"), _ctx(providers)

    async def go() -> Any:
        step = await method.start(ctx)
        for _ in range(stage):
            if step.kind is not StepKind.CONTINUE:
                return step
            step = await method.process(ctx, PWD + peer.process(step.data[1:], 0))
        return await method.process(ctx, PWD + garbage)

    step = run(go())
    assert step.kind in (StepKind.FAILURE, StepKind.CONTINUE)
    assert method.msk() is None


@pytest.mark.parametrize("garbage", [b"", b"\x00", b"\x03" + bytes(32), b"\x01" + bytes(20)])
def test_input_after_success_is_refused_and_keeps_the_keys(providers, garbage):
    method, ctx = PwdMethod({}, providers), _ctx(providers)
    assert _exchange(method, PwdPeer(b"alice", "secret"), ctx).kind is StepKind.SUCCESS
    msk = method.msk()
    assert run(method.process(ctx, PWD + garbage)).kind is StepKind.FAILURE
    assert method.msk() == msk


def test_fragmented_messages_and_other_types_are_refused(providers):
    method, ctx = PwdMethod({}, providers), _ctx(providers)
    run(method.start(ctx))
    assert "fragmented" in run(method.process(ctx, PWD + bytes([0xC1, 0, 50]))).reason
    method2 = PwdMethod({}, providers)
    run(method2.start(ctx))
    assert run(method2.process(ctx, bytes([4, 16]) + bytes(16))).kind is StepKind.FAILURE


def test_bad_group_config_is_an_error_and_registry_knows_pwd_as_mutual(providers):
    with pytest.raises(ValueError, match="19, 20 or 21"):
        PwdMethod({"group": 14}, providers)
    registry = MethodRegistry.discover(entry_points=False)
    method = registry.create("pwd", {}, providers)
    assert method.eap_type == 52 and method.mutual and method.generates_msk


def test_custom_pwd_secret_source_is_the_storage_extension_point(providers):
    class Source:
        async def pwd_secret(self, user: str) -> PwdSecret | None:
            return PwdSecret(pwd.PREP_NONE, b"from-the-vault") if user == "zed" else None

    custom = Providers(extra={"pwd_secrets": Source()})
    step = _exchange(PwdMethod({}, custom), PwdPeer(b"zed", "from-the-vault"),
                     _ctx(custom, b"zed"))
    assert step.kind is StepKind.SUCCESS


class RecordingExecutor:
    """A ``pwd_executor`` that runs each call on a worker thread and records what it ran."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    async def __call__(self, fn: Any, *args: Any) -> Any:
        self.calls.append(fn.__name__)
        return await asyncio.to_thread(fn, *args)


def _with_executor(providers: Providers) -> tuple[Providers, RecordingExecutor]:
    executor = RecordingExecutor()
    return Providers(passwords=providers.passwords, verifier=providers.verifier,
                     extra={**providers.extra, "pwd_executor": executor}), executor


HEAVY = ["element_and_commit", "key_and_confirm"]


def test_injected_executor_runs_the_curve_maths_and_the_login_still_succeeds(providers):
    injected, executor = _with_executor(providers)
    method, peer = PwdMethod({}, injected), PwdPeer(b"alice", "secret")
    step = _exchange(method, peer, _ctx(injected))
    assert step.kind is StepKind.SUCCESS and method.is_mutual()
    assert method.msk() == peer.msk() and len(method.msk()) == 64
    assert executor.calls == HEAVY


def test_injected_executor_keeps_failures_and_validation_identical(providers):
    injected, executor = _with_executor(providers)
    with pytest.raises(PeerError, match="Confirm_S does not verify"):
        _exchange(PwdMethod({}, injected), PwdPeer(b"alice", "wrong"), _ctx(injected))
    assert executor.calls == HEAVY
    method, ctx = PwdMethod({}, injected), _ctx(injected)
    step = _exchange(method, PwdPeer(b"alice", "wrong"), ctx, rounds=2)
    final = run(method.process(ctx, PWD + bytes([3]) + os.urandom(32)))
    assert final.kind is StepKind.FAILURE and method.msk() is None
    executor.calls.clear()
    step = _commit_step(injected, lambda s, e: _point(e) + _scalar(s))
    assert step.kind is StepKind.FAILURE and "reflects ours" in step.reason
    assert executor.calls == ["element_and_commit"]  # refused before any shared secret work


def test_abort_while_the_executor_computes_leaves_no_state(providers):
    injected, _ = _with_executor(providers)
    method, ctx = PwdMethod({}, injected), _ctx(injected)

    async def go() -> Any:
        request = await method.start(ctx)
        answer = PwdPeer(b"alice", "secret").process(request.data[1:], 0)
        pending = asyncio.ensure_future(method.process(ctx, PWD + answer))
        await asyncio.sleep(0)  # the hunt is now on the worker thread
        method.abort()
        return await pending

    step = run(go())
    assert step.kind is StepKind.FAILURE and "aborted" in step.reason
    assert method._pwe is None and method._own is None


def test_backend_providers_give_pwd_a_pool_only_when_pwd_is_used(tmp_path):
    from ikeeap.backends.providers import backend_providers
    from ikeeap.config import load_config

    def config(methods: str) -> Any:
        path = tmp_path / "ikeeap.toml"
        path.write_text('[server]\nidentity = "vpn.example.test"\nstate_dir = "state"\n'
                        '[certificates]\n'
                        f'[[connections]]\nname = "rw"\neap_methods = {methods}\n')
        return load_config(path)

    asked: list[tuple[str, int, int]] = []

    def pools(name: str, threads: int, max_pending: int) -> Any:
        asked.append((name, threads, max_pending))
        return f"run-{name}"

    assert backend_providers(config('["pwd"]'), pools)["pwd_executor"] == "run-pwd"
    assert [name for name, _, _ in asked] == ["pwd"]
    assert "pwd_executor" not in backend_providers(config('["mschapv2"]'), pools)
    assert "pwd_executor" not in backend_providers(config('["pwd"]'), None)  # runs inline


@pytest.mark.parametrize("scalar", [2, P256.order - 1])
def test_peer_commit_with_the_extreme_valid_scalars_is_answered(providers, scalar):
    """1 < Scalar < r (§2.8.5.2): 2 and r-1 are valid; the server goes on to Confirm."""
    step = _commit_step(providers, lambda s, e: _point(P256.g) + _scalar(scalar))
    assert step.kind is StepKind.CONTINUE and step.data[1] == 3


def test_ciphersuite_octets_and_the_shared_secret_follow_rfc_5931():
    """Checked against values computed here (the in-package peer shares protocol.py): the
    Ciphersuite is group ‖ random function 1 ‖ PRF 1 (§3.2.1), k is the x-coordinate of
    rand * (Scalar * PWE + Element) (§2.8.4.1), cross-checked with cryptography's ECDH."""
    assert pwd.Ciphersuite(19).encode() == bytes([0, 19, 1, 1])
    pwe = pwd.derive_pwe(P256, b"secret", b"alice", b"ikeeap", b"\0\0\0\1")
    own = pwd.new_commit(P256, pwe)
    peer = pwd.new_commit(P256, pwe)
    k = pwd.shared_key(P256, pwe, own, peer.scalar, peer.element)
    q = P256.add(P256.multiply(peer.scalar, pwe), peer.element)
    public = ec.EllipticCurvePublicNumbers(q[0], q[1], ec.SECP256R1()).public_key()
    private = ec.derive_private_key(own.rand, ec.SECP256R1())
    assert k == private.exchange(ec.ECDH(), public)


def _rfc5931_kdf(key: bytes, label: bytes, bits: int) -> bytes:
    """§2.5 as written: K(i) = HMAC(key, K(i-1) | i | label | length), whole octets."""
    out, block, i = b"", b"", 1
    while len(out) * 8 < bits:
        block = hmac.new(key, block + i.to_bytes(2, "big") + label + bits.to_bytes(2, "big"),
                         hashlib.sha256).digest()
        out, i = out + block, i + 1
    return out[: (bits + 7) // 8]


def test_kdf_clears_the_bits_beyond_its_length_and_hunting_can_find_nothing():
    """521 bits (P-521's hunting): 65 octets and the top bit of the 66th; derive_pwe keeps
    that bit, so it must be the KDF's and not zero."""
    label = next(b"label%d" % n for n in range(64)
                 if _rfc5931_kdf(b"k" * 32, b"label%d" % n, 521)[65] & 0x80)
    out, reference = pwd.kdf(b"k" * 32, label, 521), _rfc5931_kdf(b"k" * 32, label, 521)
    assert len(out) == 66 and out[:65] == reference[:65] and out[65] == 0x80
    assert pwd.kdf(b"k" * 32, label, 512) == _rfc5931_kdf(b"k" * 32, label, 512)
    assert pwd.derive_pwe(P256, b"pw", b"peer", b"server", b"\0\0\0\1", iterations=0) is None


def test_malformed_id_response_is_refused(providers):
    def truncate(answer: bytearray) -> None:
        del answer[9:]  # PWD-Exch and 8 octets: no Prep

    step = _id_response(PwdMethod({}, providers), _ctx(providers), truncate)
    assert step.kind is StepKind.FAILURE and "malformed EAP-pwd-ID response" in step.reason


def test_no_password_element_fails_the_login(providers, monkeypatch):
    from ikeeap.eap.methods.pwd import server

    monkeypatch.setattr(server, "element_and_commit", lambda *args: (None, None))  # 2^-40
    step = _exchange(PwdMethod({}, providers), PwdPeer(b"alice", "secret"), _ctx(providers),
                     rounds=1)
    assert step.kind is StepKind.FAILURE and "no password element" in step.reason


def test_abort_while_the_shared_secret_is_computed_leaves_no_state(providers):
    injected, _ = _with_executor(providers)
    method, ctx = PwdMethod({}, injected), _ctx(injected)
    peer = PwdPeer(b"alice", "secret")

    async def go() -> Any:
        request = await method.start(ctx)
        commit = await method.process(ctx, PWD + peer.process(request.data[1:], 0))
        pending = asyncio.ensure_future(method.process(ctx, PWD + peer.process(
            commit.data[1:], 0)))
        await asyncio.sleep(0)  # the shared secret is now on the worker thread
        method.abort()
        return await pending

    step = run(go())
    assert step.kind is StepKind.FAILURE and "aborted" in step.reason
    assert method._peer is None and method.msk() is None


# ---- framing (packets.py) and password sources (passwords.py) ------------------------------


def test_l_bit_total_length_is_checked_and_stripped():
    from ikeeap.eap.methods.pwd.packets import parse

    assert parse(bytes([0x80 | 2]) + (5).to_bytes(2, "big") + b"hello") == (2, b"hello")
    assert parse(bytes([2]) + b"hello") == (2, b"hello")
    for bad in (bytes([0x82]) + (4).to_bytes(2, "big") + b"hello",  # Total-Length too small
                bytes([0x82]) + (6).to_bytes(2, "big") + b"hello",  # too large
                bytes([0x82, 0]),  # no room for Total-Length
                bytes([0x82])):
        assert isinstance(parse(bad), str) and "Total-Length" in parse(bad)
    assert parse(bytes([0x82]) + (0).to_bytes(2, "big")) == (2, b"")


def test_id_payload_needs_suite_token_and_prep():
    from ikeeap.eap.methods.pwd.packets import IdPayload

    body = bytes([0, 19, 1, 1]) + b"TOKN" + bytes([0])
    assert IdPayload.decode(body[:-1]) is None
    decoded = IdPayload.decode(body + b"alice")
    assert decoded.suite == pwd.Ciphersuite(19) and decoded.token == b"TOKN"
    assert decoded.prep == 0 and decoded.identity == b"alice"
    assert IdPayload.decode(body).identity == b""
    assert IdPayload.decode(bytes([0, 19, 2, 1]) + b"TOKN\x00").suite.random_function == 2


def test_pwd_secret_never_shows_the_password_and_no_store_means_no_user():
    from ikeeap.eap.methods.pwd.passwords import LocalPwdSecrets

    assert "hunter2" not in repr(PwdSecret(0, b"hunter2"))
    assert run(LocalPwdSecrets(Providers()).pwd_secret("alice")) is None
