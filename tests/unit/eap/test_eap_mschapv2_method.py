"""EAP-MSCHAPv2 server method: wire format, RFC 2759 known answer, peer interop, failures."""

import struct

import pytest
from eap_test_helpers import Converse, run, start_process

from ikeeap.crypto import mschap
from ikeeap.eap.authenticator import EapAuthenticator
from ikeeap.eap.credentials import LocalUserStore, Providers
from ikeeap.eap.method import EapContext, StepKind
from ikeeap.eap.methods import mschapv2 as server_mod
from ikeeap.eap.methods.mschapv2 import MsChapV2Method
from ikeeap.eap.packet import EapType
from ikeeap.eap.peer import EapPeer, MsChapV2Peer, PeerError

AUTH_CHALLENGE = bytes.fromhex("5B5D7C7D7B3F2F3E3C2C602132262628")
PEER_CHALLENGE = bytes.fromhex("21402324255E262A28295F2B3A337C7E")
NT_RESPONSE = bytes.fromhex("82309ECD8D708B5EA08FAA3981CD83544233114A3D85D6DF")


def _auth(providers: Providers, config: dict | None = None) -> EapAuthenticator:
    ctx = EapContext(peer="test", providers=providers)
    factory = lambda: MsChapV2Method(config or {}, providers)
    return EapAuthenticator([(EapType.MSCHAPV2, factory)], ctx)


def _response(ms_id: int, value: bytes, name: bytes, value_size: int = 49) -> bytes:
    body = bytes([value_size]) + value + name
    return bytes([26]) + struct.pack("!BBH", 2, ms_id, 4 + len(body)) + body


@pytest.mark.parametrize(("user", "password"), [("alice", "secret"), ("bob", "clientPass")])
def test_success_with_password_or_nt_hash_and_msks_agree(
    providers: Providers, converse: Converse, user: str, password: str
) -> None:
    peer = EapPeer(user, password, [EapType.MSCHAPV2])
    out, _ = converse(_auth(providers), peer)
    assert out.success and peer.succeeded and out.method_name == "mschapv2"
    assert out.msk is not None and len(out.msk) == 64 and out.msk[32:] == b"\x00" * 32
    assert out.msk == peer.msk()
    assert out.mutual is False and out.emsk is None


def test_domain_prefix_is_dropped_from_challenge_hash(
    providers: Providers, converse: Converse
) -> None:
    peer = EapPeer("DOM\\carol", "pw", [EapType.MSCHAPV2])
    out, _ = converse(_auth(providers), peer)
    assert out.success and out.msk == peer.msk()


def test_rfc2759_known_answer_through_the_server(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Server challenge and peer response of RFC 2759 §9.2 yield its S= string."""
    store = LocalUserStore.from_config({"User": {"password": "clientPass"}})
    prov = Providers.from_store(store)
    monkeypatch.setattr(server_mod.os, "urandom", lambda n: AUTH_CHALLENGE[:n])
    method = MsChapV2Method({"success_message": "Hi"}, prov)
    ctx = EapContext(identity=b"User", providers=prov)
    value = PEER_CHALLENGE + b"\x00" * 8 + NT_RESPONSE + b"\x00"
    steps = start_process(method, ctx, [_response(7, value, b"User"), b"\x1a\x03"])
    challenge = steps[0].data
    assert challenge[:2] == b"\x1a\x01"
    assert struct.unpack("!H", challenge[3:5])[0] == len(challenge) - 1  # MS-Length
    assert challenge[5] == 16 and challenge[6:22] == AUTH_CHALLENGE and challenge[22:] == b"ikeeap"
    assert steps[1].kind is StepKind.CONTINUE
    success = steps[1].data
    assert success[:3] == bytes([26, 3, 7])  # OpCode 3, MS-CHAPv2-ID of the Response
    assert struct.unpack("!H", success[3:5])[0] == len(success) - 1
    assert success[5:] == b"S=407A5589115FD0D6209F510FE9C04566932CDA56 M=Hi"
    assert steps[2].kind is StepKind.SUCCESS
    assert method.msk() == mschap.eap_mschapv2_msk(
        mschap.nt_password_hash("clientPass"), NT_RESPONSE
    )


@pytest.mark.parametrize(("user", "password"), [("alice", "wrong"), ("mallory", "x")])
def test_wrong_password_or_unknown_user_fails_at_once_by_default(
    providers: Providers, converse: Converse, user: str, password: str
) -> None:
    peer = EapPeer(user, password, [EapType.MSCHAPV2])
    out, sent = converse(_auth(providers), peer)
    assert not out.success and out.msk is None and peer.failed
    assert len(sent) == 3  # Identity, Challenge, EAP-Failure


def test_failure_request_round_when_configured(providers: Providers, converse: Converse) -> None:
    peer = EapPeer("alice", "wrong", [EapType.MSCHAPV2])
    out, sent = converse(_auth(providers, {"failure_request": True}), peer)
    assert not out.success and out.reason == "EAP-MSCHAPv2 authentication failed"
    failure_request = sent[2]
    assert failure_request[4:6] == b"\x1a\x04" and b"E=691 R=0 C=" in failure_request
    assert b" V=3 M=" in failure_request


def test_retry_after_failure_request_with_new_challenge(providers: Providers) -> None:
    method = MsChapV2Method({"retries": 1}, providers)
    ctx = EapContext(identity=b"alice", providers=providers)
    wrong, right = MsChapV2Peer(b"alice", "wrong"), MsChapV2Peer(b"alice", "secret")

    async def go() -> None:
        step = await method.start(ctx)
        step = await method.process(ctx, b"\x1a" + wrong.process(step.data[1:], 1))
        assert step.kind is StepKind.CONTINUE and b"R=1 C=" in step.data
        step = await method.process(ctx, b"\x1a" + right.process(step.data[1:], 2))
        assert step.kind is StepKind.CONTINUE and step.data[1] == 3
        step = await method.process(ctx, b"\x1a" + right.process(step.data[1:], 3))
        assert step.kind is StepKind.SUCCESS and method.msk() == right.msk()

    run(go())


def test_name_must_match_identity(providers: Providers) -> None:
    method = MsChapV2Method({}, providers)
    ctx = EapContext(identity=b"alice", providers=providers)
    imposter = MsChapV2Peer(b"bob", "clientPass")
    step = run(method.start(ctx))
    step = run(method.process(ctx, b"\x1a" + imposter.process(step.data[1:], 1)))
    assert step.kind is StepKind.FAILURE and "Name" in step.reason


def test_msk_only_after_peer_acknowledges_success(providers: Providers) -> None:
    method = MsChapV2Method({}, providers)
    ctx = EapContext(identity=b"alice", providers=providers)
    peer = MsChapV2Peer(b"alice", "secret")
    step = run(method.start(ctx))
    step = run(method.process(ctx, b"\x1a" + peer.process(step.data[1:], 1)))
    assert method.msk() is None
    ack = peer.process(step.data[1:], 2)
    assert ack == b"\x03"  # peer Success Response is the OpCode alone
    assert run(method.process(ctx, b"\x1a" + ack)).kind is StepKind.SUCCESS
    assert method.msk() == peer.msk() and method.is_mutual() is False


def test_peer_failure_instead_of_ack_fails(providers: Providers) -> None:
    method = MsChapV2Method({}, providers)
    ctx = EapContext(identity=b"alice", providers=providers)
    peer = MsChapV2Peer(b"alice", "secret")
    step = run(method.start(ctx))
    run(method.process(ctx, b"\x1a" + peer.process(step.data[1:], 1)))
    assert run(method.process(ctx, b"\x1a\x04")).kind is StepKind.FAILURE
    assert method.msk() is None


VALUE = PEER_CHALLENGE + b"\x00" * 8 + NT_RESPONSE + b"\x00"


@pytest.mark.parametrize(
    "response",
    [
        b"",
        b"\x1a",
        b"\x04\x02",
        b"\x1a\x03",  # Success ack before any Response
        b"\x1a\x07\x01\x00\x04",  # Change-Password: not supported
        b"\x1a\x02\x01\x00",
        _response(1, VALUE[:-1], b""),
        _response(1, VALUE, b"alice", value_size=48),
        _response(1, VALUE, b"alice")[:-6],
        b"\x1a\x09" + b"\x00" * 60,
    ],
)
def test_malformed_responses_fail_without_raising(providers: Providers, response: bytes) -> None:
    ctx = EapContext(identity=b"alice", providers=providers)
    steps = start_process(MsChapV2Method({}, providers), ctx, [response])
    assert steps[-1].kind is StepKind.FAILURE


def test_peer_rejects_a_forged_authenticator_response(providers: Providers) -> None:
    method = MsChapV2Method({}, providers)
    ctx = EapContext(identity=b"alice", providers=providers)
    peer = MsChapV2Peer(b"alice", "secret")
    step = run(method.start(ctx))
    step = run(method.process(ctx, b"\x1a" + peer.process(step.data[1:], 1)))
    forged = step.data[1:6] + b"S=" + b"0" * 40 + b" M=Welcome"
    with pytest.raises(PeerError):
        peer.process(forged, 2)
    assert peer.msk() is None


# ---- the state machine and the checks on a Response ----------------------------------------


def _challenge(providers: Providers, identity: bytes = b"alice", config: dict | None = None):
    method = MsChapV2Method(config or {}, providers)
    ctx = EapContext(identity=identity, providers=providers)
    return method, ctx, run(method.start(ctx))


def test_after_a_failure_request_neither_a_success_ack_nor_a_new_response_logs_in(
        providers: Providers) -> None:
    """With failure_request the server waits for the peer's Failure Response; a Success
    Response there, or another Response with the right password (a retry the config does not
    allow), must not end in success."""
    for second in ("ack", "retry"):
        method, ctx, step = _challenge(providers, config={"failure_request": True})
        step = run(method.process(ctx, b"\x1a" + MsChapV2Peer(b"alice", "wrong").process(
            step.data[1:], 1)))
        assert step.kind is StepKind.CONTINUE and b"E=691 R=0" in step.data
        if second == "ack":
            answer = b"\x1a\x03"
        else:
            challenge = bytes.fromhex(step.data.split(b"C=")[1][:32].decode())
            answer = b"\x1a" + MsChapV2Peer(b"alice", "secret").process(
                _challenge_request(challenge), 2)  # right password, same challenge
        final = run(method.process(ctx, answer))
        assert final.kind is StepKind.FAILURE and method.msk() is None


def _challenge_request(challenge: bytes, ms_id: int = 7) -> bytes:
    body = bytes([16]) + challenge + b"ikeeap"
    return struct.pack("!BBH", 1, ms_id, 4 + len(body)) + body


def test_a_valid_response_under_another_opcode_or_value_size_is_refused(
        providers: Providers) -> None:
    for edit in ("opcode", "value_size"):
        method, ctx, step = _challenge(providers)
        response = bytearray(b"\x1a" + MsChapV2Peer(b"alice", "secret").process(step.data[1:],
                                                                                1))
        if edit == "opcode":
            response[1] = 7  # Change-Password
        else:
            response[5] = 48
        final = run(method.process(ctx, bytes(response)))
        assert final.kind is StepKind.FAILURE and method.msk() is None


def test_after_the_success_request_only_a_success_response_is_the_ack(
        providers: Providers) -> None:
    method, ctx, step = _challenge(providers)
    peer = MsChapV2Peer(b"alice", "secret")
    response = b"\x1a" + peer.process(step.data[1:], 1)
    success = run(method.process(ctx, response))
    assert success.kind is StepKind.CONTINUE and success.data[1] == 3
    final = run(method.process(ctx, response))  # the Response again instead of the ack
    assert final.kind is StepKind.FAILURE and method.msk() is None


def test_unknown_user_cannot_log_in_with_the_all_zero_hash(providers: Providers) -> None:
    """An unknown user is checked against 16 zero octets (the same work as a known one); a
    response computed from that hash must still fail."""
    method, ctx, step = _challenge(providers, identity=b"mallory")
    challenge, ms_id = step.data[6:22], step.data[2]
    peer_challenge = bytes(range(16))
    nt = mschap.generate_nt_response(challenge, peer_challenge, b"mallory", bytes(16))
    value = peer_challenge + bytes(8) + nt + b"\x00"
    final = run(method.process(ctx, _response(ms_id, value, b"mallory")))
    assert final.kind is StepKind.FAILURE and method.msk() is None


def test_configured_server_name_is_sent_in_the_challenge(providers: Providers) -> None:
    _, _, step = _challenge(providers, config={"server_name": "vpn-1"})
    assert step.data[1] == 1 and step.data[22:] == b"vpn-1"
    _, _, step = _challenge(providers, config={"server_name": ""})
    assert step.data[22:] == b"ikeeap"  # strongSwan refuses an empty Name
