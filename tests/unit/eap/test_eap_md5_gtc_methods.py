"""EAP-MD5 and EAP-GTC server methods against the peer implementation."""

import hashlib

import pytest
from eap_test_helpers import Converse, run, start_process

from ikeeap.eap.authenticator import EapAuthenticator
from ikeeap.eap.credentials import Providers
from ikeeap.eap.method import EapContext, StepKind
from ikeeap.eap.methods.gtc import GtcMethod, parse_gtc_response
from ikeeap.eap.methods.md5 import Md5Method
from ikeeap.eap.packet import EapType
from ikeeap.eap.peer import EapPeer
from ikeeap.eap.peer.methods import GtcPeer, Md5Peer


def _auth(method_cls: type, providers: Providers) -> EapAuthenticator:
    ctx = EapContext(peer="198.51.100.7", providers=providers)
    return EapAuthenticator([(method_cls.eap_type, lambda: method_cls({}, providers))], ctx)


@pytest.mark.parametrize("method_cls", [Md5Method, GtcMethod])
def test_correct_password_succeeds_without_msk(
    method_cls: type, providers: Providers, converse: Converse
) -> None:
    peer = EapPeer("alice", "secret", [method_cls.eap_type])
    out, _ = converse(_auth(method_cls, providers), peer)
    assert out.success and peer.succeeded
    assert out.msk is None and not out.mutual and out.identity == b"alice"


@pytest.mark.parametrize("method_cls", [Md5Method, GtcMethod])
@pytest.mark.parametrize(("user", "password"), [("alice", "wrong"), ("mallory", "secret")])
def test_wrong_password_or_unknown_user_fails(
    method_cls: type, providers: Providers, converse: Converse, user: str, password: str
) -> None:
    peer = EapPeer(user, password, [method_cls.eap_type])
    out, _ = converse(_auth(method_cls, providers), peer)
    assert out.finished and not out.success and peer.failed


def test_md5_user_with_only_nt_hash_fails(providers: Providers, converse: Converse) -> None:
    out, _ = converse(_auth(Md5Method, providers), EapPeer("bob", "clientPass", [EapType.MD5]))
    assert not out.success


def test_md5_response_hashes_identifier_secret_challenge(providers: Providers) -> None:
    """RFC 3748 §5.4 / RFC 1994: MD5(Identifier ‖ secret ‖ challenge)."""
    ctx = EapContext(identity=b"alice", providers=providers, identifier=0x2A)
    method = Md5Method({}, providers)
    step = run(method.start(ctx))
    assert step.data[:2] == bytes([EapType.MD5, 16]) and len(step.data) == 18
    good = bytes([4, 16]) + hashlib.md5(b"\x2a" + b"secret" + step.data[2:]).digest()
    assert run(method.process(ctx, good)).kind is StepKind.SUCCESS


def test_md5_wrong_identifier_in_hash_fails(providers: Providers) -> None:
    ctx = EapContext(identity=b"alice", providers=providers, identifier=0x2A)
    method = Md5Method({}, providers)
    step = run(method.start(ctx))
    bad = bytes([4, 16]) + hashlib.md5(b"\x2b" + b"secret" + step.data[2:]).digest()
    assert run(method.process(ctx, bad)).kind is StepKind.FAILURE


@pytest.mark.parametrize(
    "response",
    [
        b"",
        bytes([EapType.GTC]) + b"x",
        bytes([EapType.MD5]),
        bytes([EapType.MD5, 16]) + b"short",
        bytes([EapType.MD5, 15]) + b"x" * 15,
        bytes([EapType.MD5, 0]),
    ],
)
def test_md5_malformed_responses_fail_without_raising(
    providers: Providers, response: bytes
) -> None:
    ctx = EapContext(identity=b"alice", providers=providers)
    steps = start_process(Md5Method({}, providers), ctx, [response])
    assert steps[-1].kind is StepKind.FAILURE


def test_md5_challenge_answered_only_once(providers: Providers) -> None:
    ctx = EapContext(identity=b"alice", providers=providers, identifier=3)
    method = Md5Method({}, providers)
    step = start_process(method, ctx, [])[0]
    answer = bytes([EapType.MD5]) + Md5Peer("secret").process(step.data[1:], 3)
    assert run(method.process(ctx, answer)).kind is StepKind.SUCCESS
    assert run(method.process(ctx, answer)).kind is StepKind.FAILURE


def test_gtc_prompt_is_configurable_and_defaults_to_password(providers: Providers) -> None:
    ctx = EapContext(identity=b"alice", providers=providers)
    assert start_process(GtcMethod({}, providers), ctx, [])[0].data == b"\x06Password: "
    step = start_process(GtcMethod({"prompt": "PIN:"}, providers), ctx, [])[0]
    assert step.data == b"\x06PIN:"


def test_gtc_accepts_user_nul_password_form(providers: Providers, converse: Converse) -> None:
    peer = EapPeer("alice", "secret", [EapType.GTC], gtc_username=True)
    out, _ = converse(_auth(GtcMethod, providers), peer)
    assert out.success


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"secret", "secret"),
        (b"alice\x00secret", "secret"),
        (b"RESPONSE=alice\x00secret", "secret"),
        (b"bob\x00secret", None),  # user part must be the EAP identity
        (b"alice\x00", None),
        (b"alice\x00se\x00cret", None),
        (b"", None),
        (b"\xff\xfe", None),
    ],
)
def test_gtc_response_parsing(body: bytes, expected: str | None) -> None:
    assert parse_gtc_response(body, b"alice") == expected


@pytest.mark.parametrize(
    "response", [b"", bytes([EapType.MD5]) + b"secret", bytes([EapType.GTC]), b"\x06\xff"]
)
def test_gtc_malformed_responses_fail_without_raising(
    providers: Providers, response: bytes
) -> None:
    ctx = EapContext(identity=b"alice", providers=providers)
    steps = start_process(GtcMethod({}, providers), ctx, [response])
    assert steps[-1].kind is StepKind.FAILURE


def test_gtc_without_verifier_fails(providers: Providers) -> None:
    ctx = EapContext(identity=b"alice", providers=Providers())
    answer = bytes([EapType.GTC]) + GtcPeer("secret").process(b"", 1)
    steps = start_process(GtcMethod({}, None), ctx, [answer])
    assert steps[-1].kind is StepKind.FAILURE and "verifier" in steps[-1].reason


def test_gtc_uses_the_password_verifier_not_the_lookup() -> None:
    calls: list[tuple[str, str]] = []

    class Verifier:
        async def verify(self, user: str, password: str) -> bool:
            calls.append((user, password))
            return password == "from-ldap"

    prov = Providers(verifier=Verifier())
    ctx = EapContext(identity=b"erin", providers=prov)
    answer = bytes([EapType.GTC]) + b"from-ldap"
    assert start_process(GtcMethod({}, None), ctx, [answer])[-1].kind is StepKind.SUCCESS
    assert calls == [("erin", "from-ldap")]
